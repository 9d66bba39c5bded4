"""Writing what the safety screens decided. Nothing written here holds the phone number, the
session id or a time finer than the day, except the contact-back details the reporter
explicitly gave, sealed, and the neutral SMS of useful numbers the reporter asked for."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta

from sqlalchemy import delete, literal, select
from sqlalchemy.dialects import postgresql, sqlite

from menus.safety import (
    AddDetails,
    DeleteContact,
    FileReport,
    LookupFailed,
    SaveContact,
    SendHelpSms,
    help_sms_text,
)
from models import ReportStatus, SafetyContact, SafetyLimit, SafetyNote, SafetyReport, Sealer
from models.safety import code_hash, contact_lookup, new_row_id
from sms.outbox import queue_message

from .data_safety import limit_key
from .effect_context import EffectContext

__all__ = ["HANDLERS"]


def _insert(ctx: EffectContext):  # type: ignore[no-untyped-def]
    return postgresql.insert if ctx.data.db.get_bind().dialect.name == "postgresql" else sqlite.insert


def _count(ctx: EffectContext, column: str) -> None:
    """Add one to today's count for this phone's daily key (one upsert)."""
    today = ctx.data.today
    counts = {"reports": 0, "failed_lookups": 0, column: 1}
    stmt = _insert(ctx)(SafetyLimit).values(key=limit_key(ctx.data), day=today, **counts)
    ctx.data.db.execute(stmt.on_conflict_do_update(
        index_elements=["key", "day"], set_={column: getattr(SafetyLimit, column) + 1}))


def _file(effect: FileReport, ctx: EffectContext) -> None:
    sealer = Sealer(ctx.secret)
    ctx.data.db.execute(_insert(ctx)(SafetyReport).values(
        id=new_row_id(), code_hash=code_hash(ctx.secret, effect.code), category=effect.category,
        witness=effect.witness, district=effect.district, site_id=effect.site_id, happened=effect.happened,
        ongoing=effect.ongoing, status=ReportStatus.RECEIVED.value, day=ctx.data.today,
        description=sealer.seal(effect.description, "description") if effect.description else None,
    ))
    _count(ctx, "reports")


def _lookup_failed(effect: LookupFailed, ctx: EffectContext) -> None:
    _count(ctx, "failed_lookups")
    # Yesterday's counts are no use once today's key is in force: keep the table to two days.
    ctx.data.db.execute(delete(SafetyLimit).where(SafetyLimit.day < ctx.data.today - timedelta(days=1)))


def _save_contact(effect: SaveContact, ctx: EffectContext) -> None:
    number = effect.number or ctx.data.phone
    sealed = Sealer(ctx.secret).seal(json.dumps({"code": effect.code, "number": number, "when": effect.when}),
                                     "contact")
    stmt = _insert(ctx)(SafetyContact).values(id=new_row_id(), lookup=contact_lookup(ctx.secret, effect.code),
                                              sealed=sealed, day=ctx.data.today)
    ctx.data.db.execute(stmt.on_conflict_do_update(index_elements=["lookup"],
                                                   set_={"sealed": sealed, "day": stmt.excluded.day}))


def _add_details(effect: AddDetails, ctx: EffectContext) -> None:
    body = Sealer(ctx.secret).seal(effect.text, "note")
    found = select(literal(new_row_id()), SafetyReport.id, literal(body), literal(ctx.data.today)) \
        .where(SafetyReport.code_hash == code_hash(ctx.secret, effect.code))
    ctx.data.db.execute(SafetyNote.__table__.insert().from_select(["id", "report_id", "body", "day"], found))


def _delete_contact(effect: DeleteContact, ctx: EffectContext) -> None:
    ctx.data.db.execute(delete(SafetyContact).where(SafetyContact.lookup == contact_lookup(ctx.secret, effect.code)))


def _send_help(effect: SendHelpSms, ctx: EffectContext) -> None:
    # A neutral list of numbers, filed like any information SMS; its idempotency key is a keyed
    # hash, so not even the gateway's session id is kept next to the number.
    key = hmac.new(ctx.secret.encode(), b"sms:" + ctx.key().encode(), hashlib.sha256).hexdigest()
    message_id = queue_message(ctx.data.db, phone=ctx.data.phone, text=help_sms_text(ctx.catalogs.translator(
        effect.lang)), purpose="rights", member_id=ctx.data.caller.get("m"), idempotency_key=key)
    if message_id is not None:
        ctx.outbox_ids.append(message_id)


HANDLERS = {
    FileReport: _file,
    LookupFailed: _lookup_failed,
    SaveContact: _save_contact,
    AddDetails: _add_details,
    DeleteContact: _delete_contact,
    SendHelpSms: _send_help,
}
