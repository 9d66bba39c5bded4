"""A stand-in for the edge's data ports, giving every screen its longest data."""

from __future__ import annotations

from datetime import date

from menus.leaders import MemberRef, UndoItem
from menus.savings import Account, PinCheck, StatementLine

BIG = 999_999_999  # the largest amount a screen may have to show
PIN = "1234"


class FakeSavings:
    def __init__(self, has_pin: bool = True, locked: bool = False, in_group: bool = True) -> None:
        self.has_pin, self.locked, self.in_group = has_pin, locked, in_group

    def pin_check(self, member_id, pin=None):
        check = PinCheck(self.in_group, self.has_pin, 1, 30 if self.locked else 0, 1, 1)
        return check, pin == PIN

    def pin_digest(self, member_id, pin):
        return f"digest-{pin}"

    def _account(self, loan: int = BIG, social: int = BIG) -> Account:
        return Account(group_id=1, group_name="G" * 120, membership_id=1, number=9999, share_value=BIG,
                       interest_percent=100, loan_multiple=100, social_fund_amount=BIG, shares=BIG, savings=BIG,
                       social_fund=BIG, loan=loan, loan_due=date(2026, 12, 31), fines=BIG, group_shares=BIG,
                       group_savings=BIG, group_loans_out=BIG, group_social_fund=social, group_cash=BIG,
                       group_members=9999)

    def account(self, member_id):
        return self._account()

    def account_by_membership(self, membership_id):
        # no loan, so the loan screens can be walked through to their confirmation
        return self._account(loan=0, social=1)

    def statement(self, membership_id, offset, limit):
        if offset >= 10:
            return []
        kinds = ["shares", "social_fund", "loan", "repayment", "interest", "fine", "share_out"]
        lines = [StatementLine(i, date(2026, 12, 31), kinds[i % len(kinds)], 5, BIG) for i in range(limit - 1)]
        return lines + [StatementLine(99, date(2026, 12, 31), "reversal", -5, -BIG, undoes="social_fund")]

    def find_member(self, group_id, query):
        if query in ("1", "0772123456"):
            return MemberRef(1, 1, 9999, "N" * 120, "en", False)
        return None

    def undoable(self, membership_id, limit):
        return [UndoItem((i,), k, date(2026, 12, 31), 5, 5000, 500)
                for i, k in enumerate(["shares", "social_fund", "loan"][:limit], start=1)]


class FakeData:
    def __init__(self, **savings) -> None:
        self.savings = FakeSavings(**savings)
