"""The savings screens' data, read from the database: one or two queries a screen."""

from __future__ import annotations

import hashlib
import hmac
import math
import re
from datetime import datetime
from typing import Sequence

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import case, func, select
from sqlalchemy.orm import aliased

from menus.leaders import MemberRef, UndoItem
from menus.savings import Account, PinCheck, StatementLine
from models import (
    EntryKind,
    GroupMembership,
    InvalidPhone,
    LedgerEntry,
    Member,
    PinState,
    SavingsGroup,
    normalize_phone,
)
from models.ledger import figures_from_sums

from .data import HopData

__all__ = ["SavingsPort", "PIN_HASHER"]

# OWASP's argon2id settings: about 30 ms a check here, slow enough to make guessing costly.
PIN_HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
_UNDOABLE = (EntryKind.SHARES, EntryKind.SOCIAL_FUND, EntryKind.LOAN, EntryKind.REPAYMENT, EntryKind.FINE)


def _not_reversed(entry):  # type: ignore[no-untyped-def]
    undo = aliased(LedgerEntry)
    return ~select(undo.id).where(undo.reverses_id == entry.id).exists()


class SavingsPort:
    def __init__(self, hop: HopData, secret: str) -> None:
        self.hop = hop
        self._secret = secret.encode()

    @property
    def now(self) -> datetime:
        return self.hop.now

    # --- PIN ---

    def pin_check(self, member_id: int, pin: str | None = None) -> tuple[PinCheck, bool]:
        row = self.hop.db.execute(
            select(PinState.pin_hash, PinState.failures, PinState.locked_until, GroupMembership.id,
                   GroupMembership.group_id)
            .select_from(Member)
            .outerjoin(PinState, PinState.member_id == Member.id)
            .outerjoin(GroupMembership, GroupMembership.member_id == Member.id)
            .where(Member.id == member_id)
        ).first()
        if row is None:
            return PinCheck(False, False, 0, 0), False
        pin_hash, failures, locked_until, membership_id, group_id = row
        locked_minutes = 0
        if locked_until is not None:
            if locked_until > self.now:
                locked_minutes = max(1, math.ceil((locked_until - self.now).total_seconds() / 60))
            else:
                failures = 0  # the lock ran out: three fresh tries
        check = PinCheck(in_group=membership_id is not None, has_pin=pin_hash is not None,
                         failures=failures or 0, locked_minutes=locked_minutes, group_id=group_id,
                         membership_id=membership_id)
        matches = False
        if pin is not None and pin_hash and not locked_minutes:
            try:
                matches = PIN_HASHER.verify(pin_hash, pin)
            except (VerificationError, InvalidHashError):
                matches = False
        return check, matches

    def pin_digest(self, member_id: int, pin: str) -> str:
        return hmac.new(self._secret, f"pin-entry:{member_id}:{pin}".encode(), hashlib.sha256).hexdigest()[:32]

    # --- figures ---

    def _account(self, where) -> Account | None:  # type: ignore[no-untyped-def]
        loan = aliased(LedgerEntry)
        due = (select(func.max(loan.due_date))
               .where(loan.membership_id == GroupMembership.id, loan.kind == EntryKind.LOAN, _not_reversed(loan))
               .scalar_subquery())
        members = (select(func.count(GroupMembership.id))
                   .where(GroupMembership.group_id == SavingsGroup.id).correlate(SavingsGroup)
                   .scalar_subquery())
        head = self.hop.db.execute(
            select(GroupMembership.id, GroupMembership.number, SavingsGroup, due, members)
            .join(SavingsGroup, SavingsGroup.id == GroupMembership.group_id)
            .where(where)
        ).first()
        if head is None:
            return None
        membership_id, number, group, loan_due, member_count = head
        mine = LedgerEntry.membership_id == membership_id
        sums = self.hop.db.execute(
            select(LedgerEntry.effect_kind,
                   func.coalesce(func.sum(case((mine, LedgerEntry.shares), else_=0)), 0),
                   func.coalesce(func.sum(case((mine, LedgerEntry.amount), else_=0)), 0),
                   func.coalesce(func.sum(LedgerEntry.shares), 0),
                   func.coalesce(func.sum(LedgerEntry.amount), 0))
            .where(LedgerEntry.group_id == group.id)
            .group_by(LedgerEntry.effect_kind)
        ).all()
        me, _ = figures_from_sums({EntryKind(k): (int(s), int(a)) for k, s, a, _gs, _ga in sums}, group.share_value)
        all_, cash = figures_from_sums({EntryKind(k): (int(gs), int(ga)) for k, _s, _a, gs, ga in sums},
                                       group.share_value)
        return Account(
            group_id=group.id, group_name=group.name, membership_id=membership_id, number=number,
            share_value=group.share_value, interest_percent=group.interest_percent,
            loan_multiple=group.loan_multiple, social_fund_amount=group.social_fund_amount,
            shares=me.shares, savings=me.savings, social_fund=me.social_fund, loan=me.loan_outstanding,
            loan_due=loan_due if me.loan_outstanding > 0 else None, fines=me.fines,
            group_shares=all_.shares, group_savings=all_.savings, group_loans_out=all_.loan_outstanding,
            group_social_fund=all_.social_fund, group_cash=cash, group_members=member_count,
        )

    def account(self, member_id: int) -> Account | None:
        return self._account(GroupMembership.member_id == member_id)

    def account_by_membership(self, membership_id: int) -> Account | None:
        return self._account(GroupMembership.id == membership_id)

    def statement(self, membership_id: int, offset: int, limit: int) -> Sequence[StatementLine]:
        rows = self.hop.db.execute(
            select(LedgerEntry.id, LedgerEntry.meeting_date, LedgerEntry.kind, LedgerEntry.effect_kind,
                   LedgerEntry.shares, LedgerEntry.amount)
            .where(LedgerEntry.membership_id == membership_id)
            .order_by(LedgerEntry.id.desc())
            .offset(offset)
            .limit(limit)
        )
        return [StatementLine(i, day, kind.value, shares, amount,
                              undoes=effect.value if kind is EntryKind.REVERSAL else None)
                for i, day, kind, effect, shares, amount in rows]

    # --- leaders ---

    def find_member(self, group_id: int, query: str) -> MemberRef | None:
        text = query.strip()
        if re.fullmatch(r"\d{1,4}", text):
            match = GroupMembership.number == int(text)
        else:
            try:
                match = Member.phone == normalize_phone(text)
            except InvalidPhone:
                return None
        row = self.hop.db.execute(
            select(GroupMembership.id, Member.id, GroupMembership.number, Member.name, Member.language,
                   PinState.discreet)
            .join(Member, Member.id == GroupMembership.member_id)
            .outerjoin(PinState, PinState.member_id == Member.id)
            .where(GroupMembership.group_id == group_id, match)
        ).first()
        if row is None:
            return None
        gm, mid, number, name, language, discreet = row
        return MemberRef(gm, mid, number, name, language, bool(discreet))

    def undoable(self, membership_id: int, limit: int) -> Sequence[UndoItem]:
        interest = aliased(LedgerEntry)
        charge = (select(func.coalesce(func.sum(interest.amount), 0))
                  .where(interest.loan_id == LedgerEntry.id, _not_reversed(interest)).scalar_subquery())
        charge_id = (select(func.max(interest.id))
                     .where(interest.loan_id == LedgerEntry.id, _not_reversed(interest)).scalar_subquery())
        rows = self.hop.db.execute(
            select(LedgerEntry.id, LedgerEntry.kind, LedgerEntry.meeting_date, LedgerEntry.shares,
                   LedgerEntry.amount, charge, charge_id)
            .where(LedgerEntry.membership_id == membership_id, LedgerEntry.kind.in_(_UNDOABLE),
                   _not_reversed(LedgerEntry))
            .order_by(LedgerEntry.id.desc())
            .limit(limit)
        )
        items = []
        for entry_id, kind, day, shares, amount, interest_amount, interest_id in rows:
            ids = (entry_id, interest_id) if interest_id else (entry_id,)
            items.append(UndoItem(ids, kind.value, day, shares, amount, int(interest_amount or 0)))
        return items

