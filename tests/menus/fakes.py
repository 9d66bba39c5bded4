"""A stand-in for the edge's data ports, giving every screen its longest data."""

from __future__ import annotations

from datetime import date, datetime

from menus.leaders import MemberRef, UndoItem
from menus.messaging import BroadcastLine, MeetingView, Preview
from menus.savings import Account, PinCheck, StatementLine
from tests.menus.fakes_reports import FakePlaces, FakeSafety, FakeWages

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


class FakeMessaging:
    """Broadcasts and meetings at their longest: five-digit counts, 40-letter places, 120-letter names."""

    MEMBERS = 99_999

    def __init__(self, meeting: bool = True, sent_today: int = 0, failing: int = 99_999) -> None:
        self.meeting, self._sent_today, self._failing = meeting, sent_today, failing

    def now(self):
        return datetime(2026, 11, 27, 8, 0)

    def sent_today(self, member_id):
        return self._sent_today, 3

    def preview(self, member_id, audience, text):
        return Preview(2 * self.MEMBERS, self.MEMBERS, 9 if text else 0, 27)

    def last_broadcasts(self, member_id, limit):
        return [BroadcastLine(date(2026, 12, 31), audience, self.MEMBERS, self.MEMBERS, self.MEMBERS, self.MEMBERS)
                for audience in ("all", "women", "leaders")][:limit]

    def failing(self, member_id, limit):
        return self._failing, ["N" * 120] * min(limit, self._failing)

    def next_meeting(self, member_id):
        if not self.meeting:
            return None
        return MeetingView(1, 1, datetime(2026, 12, 4, 14, 30), "P" * 40, self.MEMBERS, self.MEMBERS,
                           3 * self.MEMBERS, "yes")


class FakeData:
    def __init__(self, messaging: FakeMessaging | None = None, **savings) -> None:
        self.savings = FakeSavings(**savings)
        self.places, self.wages, self.safety = FakePlaces(), FakeWages(), FakeSafety()
        self.messaging = messaging or FakeMessaging()
