"""The savings ledger's rules and the figures derived from it, in SQL.

``record_*`` functions check the rules and insert entries in the caller's transaction;
they raise :class:`LedgerRule` with a short reason a treasurer can act on. Figures are
sums over entries grouped by ``effect_kind``: never stored, never edited.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import case, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from .base import utcnow
from .savings import EntryKind, GroupMembership, LedgerEntry, SavingsGroup

__all__ = [
    "LedgerRule",
    "MemberFigures",
    "GroupFigures",
    "member_figures",
    "group_figures",
    "figures_from_sums",
    "record_entry",
    "reverse_entry",
    "share_out_plan",
    "apportion",
    "lock_group",
    "record_share_out",
    "add_months",
    "MAX_SHARES_PER_MEETING",
    "MAX_LOAN_MONTHS",
]

MAX_SHARES_PER_MEETING = 5
MAX_LOAN_MONTHS = 3


class LedgerRule(Exception):
    """A rule refused the entry; ``code`` is stable for screens and tests, the message is for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class MemberFigures:
    shares: int
    savings: int  # shares x share value
    social_fund: int
    loan_outstanding: int  # loans + interest - repayments
    fines: int
    share_out: int  # paid out at the end of the cycle

    @property
    def has_loan(self) -> bool:
        return self.loan_outstanding > 0


@dataclass(frozen=True)
class GroupFigures:
    shares: int
    savings: int
    social_fund: int
    loans_out: int
    fines: int
    interest: int  # service charges added to loans this cycle
    cash: int  # what the box should hold
    share_out: int

    @property
    def loan_fund(self) -> int:
        """What is shared out: the box without the social fund, plus what borrowers owe."""
        return self.cash - self.social_fund + self.loans_out

    @property
    def lendable(self) -> int:
        return self.cash - self.social_fund


_CASH_SIGN = {
    EntryKind.SHARES: 1,
    EntryKind.SOCIAL_FUND: 1,
    EntryKind.REPAYMENT: 1,
    EntryKind.FINE: 1,
    EntryKind.LOAN: -1,
    EntryKind.SHARE_OUT: -1,
}


def _sums(session: Session, where) -> dict[EntryKind, tuple[int, int]]:
    rows = session.execute(
        select(LedgerEntry.effect_kind, func.coalesce(func.sum(LedgerEntry.shares), 0),
               func.coalesce(func.sum(LedgerEntry.amount), 0))
        .where(where)
        .group_by(LedgerEntry.effect_kind)
    )
    return {EntryKind(kind): (int(shares), int(amount)) for kind, shares, amount in rows}


def figures_from_sums(sums: dict[EntryKind, tuple[int, int]], share_value: int) -> tuple[MemberFigures, int]:
    """Member figures from per-kind sums (shares, amount); also returns the cash effect."""

    def amount(kind: EntryKind) -> int:
        return sums.get(kind, (0, 0))[1]

    shares = sums.get(EntryKind.SHARES, (0, 0))[0] + sums.get(EntryKind.SHARE_OUT, (0, 0))[0]
    figures = MemberFigures(
        shares=shares,
        savings=shares * share_value,
        social_fund=amount(EntryKind.SOCIAL_FUND),
        loan_outstanding=amount(EntryKind.LOAN) + amount(EntryKind.INTEREST) - amount(EntryKind.REPAYMENT),
        fines=amount(EntryKind.FINE),
        share_out=amount(EntryKind.SHARE_OUT),
    )
    cash = sum(sign * amount(kind) for kind, sign in _CASH_SIGN.items())
    return figures, cash


def member_figures(session: Session, membership: GroupMembership, group: SavingsGroup) -> MemberFigures:
    figures, _cash = figures_from_sums(_sums(session, LedgerEntry.membership_id == membership.id),
                                       group.share_value)
    return figures


def group_figures(session: Session, group: SavingsGroup) -> GroupFigures:
    sums = _sums(session, LedgerEntry.group_id == group.id)
    m, cash = figures_from_sums(sums, group.share_value)
    return GroupFigures(
        shares=m.shares, savings=m.savings, social_fund=m.social_fund, loans_out=m.loan_outstanding,
        fines=m.fines, interest=sums.get(EntryKind.INTEREST, (0, 0))[1], cash=cash, share_out=m.share_out,
    )


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _insert(session: Session, **values) -> int | None:
    """Insert one entry; with an idempotency key already used, insert nothing and return None."""
    values.setdefault("recorded_at", utcnow())
    values.setdefault("shares", 0)
    if values.get("idempotency_key") is None:
        entry = LedgerEntry(**values)
        session.add(entry)
        session.flush()
        return entry.id
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = (insert(LedgerEntry).values(**values)
            .on_conflict_do_nothing(index_elements=["idempotency_key"]).returning(LedgerEntry.id))
    return session.execute(stmt).scalar_one_or_none()


def loan_interest(group: SavingsGroup, amount: int, months: int) -> int:
    """Flat service charge for the whole loan, added when it is disbursed (rounded up to a shilling)."""
    return -(-amount * group.interest_percent * months // 100)


def record_entry(
    session: Session,
    group: SavingsGroup,
    membership: GroupMembership,
    kind: EntryKind,
    *,
    meeting_date: date,
    recorded_by: str,
    recorded_by_member_id: int | None = None,
    shares: int = 0,
    amount: int = 0,
    months: int = 1,
    idempotency_key: str | None = None,
    opening: bool = False,
    note: str | None = None,
) -> list[int]:
    """Check the rules and record an entry (a loan also records its interest). Returns new entry ids.

    ``opening`` is for balances brought over from a passbook: any number of shares.
    A repeated ``idempotency_key`` records nothing and returns [].
    """
    if membership.group_id != group.id:
        raise LedgerRule("not_in_group", "That member is not in this group.")
    lock_group(session, group)
    base = dict(group_id=group.id, membership_id=membership.id, meeting_date=meeting_date,
                recorded_by=recorded_by, recorded_by_member_id=recorded_by_member_id, note=note)
    if kind is EntryKind.SHARES:
        if shares < 1 or (not opening and shares > MAX_SHARES_PER_MEETING):
            raise LedgerRule("shares_range", f"Shares must be 1 to {MAX_SHARES_PER_MEETING} a meeting.")
        new = _insert(session, **base, kind=kind, effect_kind=kind, shares=shares,
                      amount=shares * group.share_value, idempotency_key=idempotency_key)
        return [new] if new else []
    if amount <= 0:
        raise LedgerRule("amount", "The amount must be more than 0.")
    figures = member_figures(session, membership, group)
    if kind is EntryKind.LOAN:
        if figures.has_loan:
            raise LedgerRule("loan_outstanding", "This member still has a loan to repay.")
        limit = group.loan_multiple * figures.savings
        if amount > limit and not opening:
            raise LedgerRule("loan_limit", f"Above the limit of {limit:,} ({group.loan_multiple}x savings).")
        if not opening:
            lendable = group_figures(session, group).lendable
            if amount > lendable:
                raise LedgerRule("loan_cash", f"The box has only {max(lendable, 0):,} to lend.")
        if not 1 <= months <= MAX_LOAN_MONTHS:
            raise LedgerRule("loan_months", f"A loan is for 1 to {MAX_LOAN_MONTHS} months.")
        loan_id = _insert(session, **base, kind=kind, effect_kind=kind, amount=amount,
                          due_date=add_months(meeting_date, months), idempotency_key=idempotency_key)
        if loan_id is None:
            return []
        ids = [loan_id]
        interest = 0 if opening else loan_interest(group, amount, months)
        if interest:
            ids.append(_insert(session, **base, kind=EntryKind.INTEREST, effect_kind=EntryKind.INTEREST,
                               amount=interest, loan_id=loan_id,
                               idempotency_key=f"{idempotency_key}:interest" if idempotency_key else None))
        return [i for i in ids if i]
    if kind is EntryKind.REPAYMENT and amount > figures.loan_outstanding:
        raise LedgerRule("repay_more", f"Only {figures.loan_outstanding:,} is owed.")
    if kind in (EntryKind.REVERSAL, EntryKind.SHARE_OUT):
        raise LedgerRule("kind", "Use reverse_entry or record_share_out for that.")
    new = _insert(session, **base, kind=kind, effect_kind=kind, amount=amount, idempotency_key=idempotency_key)
    return [new] if new else []


def reverse_entry(
    session: Session,
    group: SavingsGroup,
    entry_id: int,
    *,
    meeting_date: date,
    recorded_by: str,
    recorded_by_member_id: int | None = None,
    idempotency_key: str | None = None,
) -> list[int]:
    """Undo an entry with entries of the opposite sign that name it. A loan's interest goes with it.

    Refused for a reversal, an entry already reversed, a share-out, or when any balance
    would go below zero.
    """
    lock_group(session, group)
    entry = session.get(LedgerEntry, entry_id)
    if entry is None or entry.group_id != group.id:
        raise LedgerRule("no_entry", "No such entry in this group.")
    if entry.kind is EntryKind.REVERSAL:
        raise LedgerRule("reverse_reversal", "A correction cannot be undone. Record the entry again.")
    if entry.kind is EntryKind.SHARE_OUT:
        raise LedgerRule("reverse_share_out", "A share-out cannot be undone here.")
    targets = [entry]
    if entry.kind is EntryKind.LOAN:
        targets += list(session.scalars(select(LedgerEntry).where(LedgerEntry.loan_id == entry.id)))
    reversed_ids = set(session.scalars(
        select(LedgerEntry.reverses_id).where(LedgerEntry.reverses_id.in_([t.id for t in targets]))))
    if entry.id in reversed_ids:
        raise LedgerRule("already_reversed", "That entry was already undone.")
    targets = [t for t in targets if t.id not in reversed_ids]
    membership = session.get(GroupMembership, entry.membership_id)
    assert membership is not None
    member = member_figures(session, membership, group)
    totals = group_figures(session, group)
    d_shares = sum(t.shares for t in targets if t.effect_kind is EntryKind.SHARES)
    d_loan = sum(t.amount if t.effect_kind in (EntryKind.LOAN, EntryKind.INTEREST) else
                 -t.amount if t.effect_kind is EntryKind.REPAYMENT else 0 for t in targets)
    d_social = sum(t.amount for t in targets if t.effect_kind is EntryKind.SOCIAL_FUND)
    d_cash = sum(_CASH_SIGN.get(t.effect_kind, 0) * t.amount for t in targets)
    if (member.shares - d_shares < 0 or member.loan_outstanding - d_loan < 0
            or member.social_fund - d_social < 0 or totals.cash - d_cash < 0):
        raise LedgerRule("negative", "Undoing this would leave a balance below zero.")
    ids = []
    for n, target in enumerate(targets):
        new = _insert(
            session, group_id=group.id, membership_id=target.membership_id, kind=EntryKind.REVERSAL,
            effect_kind=target.effect_kind, shares=-target.shares, amount=-target.amount, reverses_id=target.id,
            meeting_date=meeting_date, recorded_by=recorded_by, recorded_by_member_id=recorded_by_member_id,
            idempotency_key=f"{idempotency_key}:{n}" if idempotency_key else None,
        )
        if new:
            ids.append(new)
    return ids


def apportion(fund: int, shares: list[int]) -> list[int]:
    """Whole shillings in proportion to ``shares`` that add up to ``fund`` exactly.

    Each gets the rounded-down amount; the shillings left go one each to the largest
    remainders (ties: the earlier one, i.e. the lower member number).
    """
    total = sum(shares)
    if total <= 0:
        return [0 for _ in shares]
    base = [fund * s // total for s in shares]
    left = fund - sum(base)
    order = sorted(range(len(shares)), key=lambda i: (-(fund * shares[i] % total), i))
    extra = set(order[:left])
    return [pay + (1 if i in extra else 0) for i, pay in enumerate(base)]


def lock_group(session: Session, group: SavingsGroup) -> None:
    """Serialise writers on one group (PostgreSQL row lock; SQLite writes one at a time anyway),
    so two entries checked at the same moment cannot both pass a rule that only one may."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(SavingsGroup.id).where(SavingsGroup.id == group.id).with_for_update())


def share_out_plan(session: Session, group: SavingsGroup) -> list[tuple[GroupMembership, int, int]]:
    """Each member's (membership, shares, payout): the loan fund in proportion to shares.

    Payouts are whole shillings that add up to the fund exactly: each gets the rounded-down
    share, and the shillings left go one each to the largest remainders (ties: lower number).
    Refused while a loan is outstanding, since that money is not in the box.
    """
    totals = group_figures(session, group)
    if totals.loans_out > 0:
        raise LedgerRule("loans_out", f"{totals.loans_out:,} is still owed on loans. Collect it first.")
    fund = totals.loan_fund
    rows = session.execute(
        select(GroupMembership, func.coalesce(func.sum(
            case((LedgerEntry.effect_kind.in_([EntryKind.SHARES, EntryKind.SHARE_OUT]), LedgerEntry.shares),
                 else_=0)), 0))
        .outerjoin(LedgerEntry, LedgerEntry.membership_id == GroupMembership.id)
        .where(GroupMembership.group_id == group.id)
        .group_by(GroupMembership.id)
        .order_by(GroupMembership.number)
    ).all()
    shares = [int(s) for _m, s in rows]
    return [(m, s, pay) for (m, _s), s, pay in zip(rows, shares, apportion(fund, shares), strict=True)]


def record_share_out(session: Session, group: SavingsGroup, *, meeting_date: date, recorded_by: str,
                     now: datetime | None = None) -> list[tuple[GroupMembership, int, int]]:
    """Record every member's payout in the caller's transaction (shares go back to zero)."""
    lock_group(session, group)
    plan = share_out_plan(session, group)
    for membership, shares, payout in plan:
        if shares == 0 and payout == 0:
            continue
        new = _insert(session, group_id=group.id, membership_id=membership.id, kind=EntryKind.SHARE_OUT,
                effect_kind=EntryKind.SHARE_OUT, shares=-shares, amount=payout, meeting_date=meeting_date,
                recorded_by=recorded_by, recorded_at=now or utcnow(),
                idempotency_key=f"share-out:{group.id}:{meeting_date.isoformat()}:{membership.id}")
        if new is None:
            raise LedgerRule("shared_out_today", "This group was already shared out today.")
    return plan
