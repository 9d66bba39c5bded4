"""Writing what the wage screens decided: a pseudonymous report, or figures sent by SMS."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.dialects import postgresql, sqlite

from menus.places import district_label
from menus.wages import RecordWage, SendWageSms, earnings_text
from models import WageReport
from models.wages import place_key
from sms.outbox import queue_message

from .daily_keys import DailyKeys
from .effect_context import EffectContext

__all__ = ["HANDLERS", "sms_text"]


def _record(effect: RecordWage, ctx: EffectContext) -> None:
    """One upsert: a second report by the same person for the same role, place and day replaces the first."""
    data = ctx.data
    day = data.today - timedelta(days=1 if effect.yesterday else 0)
    # Keyed with the work day's key, so one person counts once for that day, and days cannot be linked.
    reporter = DailyKeys.of(data.runtime.redis).digest("wages", day, data.phone)
    values = dict(reporter=reporter, role=effect.role, site_id=effect.site_id, district=effect.district,
                  place=place_key(effect.site_id, effect.district), pay_form=effect.pay_form,
                  amount=effect.amount, paid_full=effect.paid_full, gender=effect.gender, day=day)
    insert = postgresql.insert if data.db.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = insert(WageReport).values(**values)
    data.db.execute(stmt.on_conflict_do_update(
        index_elements=["day", "role", "place", "reporter"],
        set_={k: stmt.excluded[k] for k in ("pay_form", "amount", "paid_full", "gender", "site_id", "district")},
    ))


def sms_text(effect: SendWageSms, ctx: EffectContext) -> str:
    t = ctx.catalogs.translator(effect.lang)
    earnings = ctx.data.wages.earnings(effect.role, effect.site_id, effect.district)
    body = earnings_text(t, effect.role, effect.place, district_label(t, effect.district), earnings,
                         effect.site_id is not None)
    return "Minerline: " + body.replace("\n", " ")


def _send(effect: SendWageSms, ctx: EffectContext) -> None:
    message_id = queue_message(ctx.data.db, phone=ctx.data.phone, text=sms_text(effect, ctx), purpose="wages",
                               member_id=ctx.data.caller.get("m"), idempotency_key=ctx.key())
    if message_id is not None:
        ctx.outbox_ids.append(message_id)


HANDLERS = {
    RecordWage: _record,
    SendWageSms: _send,
}
