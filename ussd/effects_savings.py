"""Writing what the savings and leader screens decided: PINs, ledger entries, receipts.

Each handler stays within the hop's query budget: a ledger entry is one INSERT (a loan
two: the loan and its interest), and the receipt one INSERT ... SELECT that takes the
member's number from the members table, so the number never passes through the session.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import case, delete, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite

from menus.leaders import RecordEntry, ResetPin, ReverseEntry
from menus.receipts import Balances, receipt_text
from menus.savings import PIN_TRIES, PinFailed, PinOk, SetDiscreet, SetPin
from models import EntryKind, LedgerEntry, Member, OutboxMessage, OutboxStatus, PinState, utcnow
from sms.segments import count_segments

from .data_savings import PIN_HASHER
from .effect_context import EffectContext

__all__ = ["HANDLERS"]

LOCK = timedelta(minutes=30)


def _insert(ctx: EffectContext):  # type: ignore[no-untyped-def]
    return postgresql.insert if ctx.data.db.get_bind().dialect.name == "postgresql" else sqlite.insert


def _set_pin(effect: SetPin, ctx: EffectContext) -> None:
    pin_hash = PIN_HASHER.hash(effect.pin)
    stmt = _insert(ctx)(PinState).values(member_id=effect.member_id, pin_hash=pin_hash, failures=0,
                                         locked_until=None, discreet=False, updated_at=utcnow())
    ctx.data.db.execute(stmt.on_conflict_do_update(
        index_elements=["member_id"], set_={"pin_hash": pin_hash, "failures": 0, "locked_until": None}))


def _set_discreet(effect: SetDiscreet, ctx: EffectContext) -> None:
    ctx.data.db.execute(update(PinState).where(PinState.member_id == effect.member_id)
                        .values(discreet=effect.discreet))


def _pin_ok(effect: PinOk, ctx: EffectContext) -> None:
    ctx.data.db.execute(update(PinState).where(PinState.member_id == effect.member_id)
                        .values(failures=0, locked_until=None))


def _pin_failed(effect: PinFailed, ctx: EffectContext) -> None:
    """One UPDATE, so two sessions guessing at once both count."""
    now = ctx.data.now
    expired = (PinState.locked_until.is_not(None)) & (PinState.locked_until <= now)
    failures = case((expired, 1), else_=PinState.failures + 1)
    ctx.data.db.execute(
        update(PinState).where(PinState.member_id == effect.member_id).values(
            failures=failures,
            locked_until=case((failures >= PIN_TRIES, now + LOCK), (expired, None), else_=PinState.locked_until),
        )
    )


def _reset_pin(effect: ResetPin, ctx: EffectContext) -> None:
    ctx.data.db.execute(delete(PinState).where(PinState.member_id == effect.member_id))


def _queue_receipt(ctx: EffectContext, member_id: int, text: str) -> None:
    """INSERT ... SELECT the member's number: one query, no number in the session."""
    now = utcnow()
    source = select(
        Member.phone, literal(text), literal("receipt"), Member.id, literal(ctx.key(":receipt")),
        literal(OutboxStatus.PENDING.value), literal(count_segments(text).parts), literal(0),
        literal(now), literal(now), literal(now),
    ).where(Member.id == member_id)
    columns = ["phone", "text", "purpose", "member_id", "idempotency_key", "status", "parts", "attempts",
               "next_attempt_at", "created_at", "updated_at"]
    stmt = (_insert(ctx)(OutboxMessage).from_select(columns, source)
            .on_conflict_do_nothing(index_elements=["idempotency_key"]).returning(OutboxMessage.id))
    new_id = ctx.data.db.execute(stmt).scalar_one_or_none()
    if new_id is not None:
        ctx.outbox_ids.append(new_id)


def _receipt(ctx: EffectContext, receipt, kind: str, shares: int, amount: int, corrected: bool) -> str:  # type: ignore[no-untyped-def]
    t = ctx.catalogs.translator(receipt.language or "en")
    return receipt_text(t, kind=kind, shares=shares, amount=amount,
                        balances=Balances(receipt.savings, receipt.loan, receipt.social_fund),
                        day=ctx.data.today, discreet=receipt.discreet,
                        service_code=ctx.data.runtime.settings.service_code, corrected=corrected)


def _entry_values(ctx: EffectContext, group_id: int, membership_id: int, recorded_by: int) -> dict:
    return dict(group_id=group_id, membership_id=membership_id, meeting_date=ctx.data.today,
                recorded_by="ussd", recorded_by_member_id=recorded_by, recorded_at=utcnow())


def _record_entry(effect: RecordEntry, ctx: EffectContext) -> None:
    kind = EntryKind(effect.kind)
    values = _entry_values(ctx, effect.group_id, effect.membership_id, effect.recorded_by_member_id)
    stmt = (_insert(ctx)(LedgerEntry).values(
        **values, kind=kind, effect_kind=kind, shares=effect.shares, amount=effect.amount,
        due_date=date.fromisoformat(effect.due) if effect.due else None, idempotency_key=ctx.key())
        .on_conflict_do_nothing(index_elements=["idempotency_key"]).returning(LedgerEntry.id))
    entry_id = ctx.data.db.execute(stmt).scalar_one_or_none()
    if entry_id is None:
        return  # a repeated confirmation: recorded once already, receipt already queued
    if kind is EntryKind.LOAN and effect.interest:
        ctx.data.db.execute(_insert(ctx)(LedgerEntry).values(
            **values, kind=EntryKind.INTEREST, effect_kind=EntryKind.INTEREST, shares=0, amount=effect.interest,
            loan_id=entry_id, idempotency_key=ctx.key(":interest")))
    _queue_receipt(ctx, effect.member_id, _receipt(ctx, effect.receipt, effect.kind, effect.shares,
                                                   effect.amount, corrected=False))


def _reverse_entry(effect: ReverseEntry, ctx: EffectContext) -> None:
    values = _entry_values(ctx, effect.group_id, effect.membership_id, effect.recorded_by_member_id)
    recorded = 0
    for n, entry_id in enumerate(effect.entry_ids):
        source = select(
            LedgerEntry.group_id, LedgerEntry.membership_id, literal(EntryKind.REVERSAL.value),
            LedgerEntry.effect_kind, -LedgerEntry.shares, -LedgerEntry.amount, LedgerEntry.id,
            literal(values["meeting_date"]), literal("ussd"), literal(values["recorded_by_member_id"]),
            literal(values["recorded_at"]), literal(ctx.key(f":{n}")),
        ).where(LedgerEntry.id == entry_id, LedgerEntry.group_id == effect.group_id,
                LedgerEntry.membership_id == effect.membership_id, LedgerEntry.kind != EntryKind.REVERSAL)
        columns = ["group_id", "membership_id", "kind", "effect_kind", "shares", "amount", "reverses_id",
                   "meeting_date", "recorded_by", "recorded_by_member_id", "recorded_at", "idempotency_key"]
        # reverses_id is unique: an entry is undone at most once, however the requests race.
        stmt = (_insert(ctx)(LedgerEntry).from_select(columns, source).on_conflict_do_nothing()
                .returning(LedgerEntry.id))
        if ctx.data.db.execute(stmt).scalar_one_or_none() is not None:
            recorded += 1
    if recorded:
        _queue_receipt(ctx, effect.member_id, _receipt(ctx, effect.receipt, effect.kind, effect.shares,
                                                       effect.amount, corrected=True))


HANDLERS = {
    SetPin: _set_pin,
    SetDiscreet: _set_discreet,
    PinOk: _pin_ok,
    PinFailed: _pin_failed,
    ResetPin: _reset_pin,
    RecordEntry: _record_entry,
    ReverseEntry: _reverse_entry,
}
