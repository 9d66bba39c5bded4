"""The ledger's rules and figures, against examples worked by hand."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from models import EntryKind, GroupMembership, LedgerEntry, SavingsGroup
from models.ledger import (
    LedgerRule,
    group_figures,
    member_figures,
    record_entry,
    record_share_out,
    reverse_entry,
    share_out_plan,
)

START = date(2026, 9, 1)


class Book:
    """Records entries as a treasurer would, one transaction each."""

    def __init__(self, runtime, group_id, ids):
        self.runtime, self.group_id, self.ids = runtime, group_id, ids

    def _load(self, db, name):
        return db.get(SavingsGroup, self.group_id), db.get(GroupMembership, self.ids[name][1])

    def record(self, name, kind, week=1, **kw):
        with self.runtime.sessions() as db, db.begin():
            group, gm = self._load(db, name)
            return record_entry(db, group, gm, kind, meeting_date=START + timedelta(weeks=week - 1),
                                recorded_by="test", **kw)

    def reverse(self, entry_id):
        with self.runtime.sessions() as db, db.begin():
            return reverse_entry(db, db.get(SavingsGroup, self.group_id), entry_id, meeting_date=START,
                                 recorded_by="test")

    def member(self, name):
        with self.runtime.sessions() as db:
            group, gm = self._load(db, name)
            return member_figures(db, gm, group)

    def group(self):
        with self.runtime.sessions() as db:
            return group_figures(db, db.get(SavingsGroup, self.group_id))


@pytest.fixture
def book(runtime, group_factory):
    group_id, ids = group_factory()
    return Book(runtime, group_id, ids)


def test_each_entry_type_moves_the_right_figures(book):
    book.record("Amina", EntryKind.SHARES, shares=5)
    book.record("Amina", EntryKind.SOCIAL_FUND, amount=500)
    book.record("Betty", EntryKind.SHARES, shares=3)
    loan = book.record("Amina", EntryKind.LOAN, amount=12000, months=2)
    assert len(loan) == 2  # the loan and its interest
    book.record("Amina", EntryKind.REPAYMENT, amount=4000)
    book.record("Amina", EntryKind.FINE, amount=200)
    amina = book.member("Amina")
    assert (amina.shares, amina.savings, amina.social_fund, amina.fines) == (5, 10000, 500, 200)
    assert amina.loan_outstanding == 12000 + 2400 - 4000  # 10% a month for 2 months, flat
    g = book.group()
    assert g.savings == 16000 and g.social_fund == 500 and g.loans_out == 10400
    assert g.cash == 16000 + 500 - 12000 + 4000 + 200  # 8,700 in the box
    assert g.interest == 2400


def test_loan_above_the_limit_is_refused_with_the_limit(book):
    book.record("Amina", EntryKind.SHARES, shares=2)  # savings 4,000: limit 12,000
    book.record("Betty", EntryKind.SHARES, shares=5)
    with pytest.raises(LedgerRule) as refused:
        book.record("Amina", EntryKind.LOAN, amount=12001)
    assert refused.value.code == "loan_limit" and "12,000" in str(refused.value)
    assert book.record("Amina", EntryKind.LOAN, amount=12000)


def test_one_loan_at_a_time(book):
    book.record("Amina", EntryKind.SHARES, shares=5)
    book.record("Amina", EntryKind.LOAN, amount=5000)
    with pytest.raises(LedgerRule, match="still has a loan") as refused:
        book.record("Amina", EntryKind.LOAN, amount=1000)
    assert refused.value.code == "loan_outstanding"
    book.record("Amina", EntryKind.REPAYMENT, amount=5500)
    assert book.record("Amina", EntryKind.LOAN, amount=1000)


def test_a_loan_needs_money_in_the_box(book):
    book.record("Amina", EntryKind.SHARES, shares=5)  # 10,000 in the box
    book.record("Betty", EntryKind.SHARES, shares=1)
    book.record("Amina", EntryKind.LOAN, amount=9000)
    with pytest.raises(LedgerRule) as refused:
        book.record("Betty", EntryKind.LOAN, amount=5000)
    assert refused.value.code in ("loan_cash", "loan_limit")


def test_repaying_more_than_is_owed_is_refused(book):
    book.record("Amina", EntryKind.SHARES, shares=5)
    book.record("Amina", EntryKind.LOAN, amount=1000)  # owes 1,100
    with pytest.raises(LedgerRule, match="1,100"):
        book.record("Amina", EntryKind.REPAYMENT, amount=1101)


def test_shares_are_1_to_5_a_meeting(book):
    for bad in (0, 6):
        with pytest.raises(LedgerRule):
            book.record("Amina", EntryKind.SHARES, shares=bad)


def test_a_reversal_undoes_an_entry_and_names_it(book, runtime):
    (entry,) = book.record("Amina", EntryKind.SHARES, shares=3)
    (undo,) = book.reverse(entry)
    assert book.member("Amina").shares == 0
    with runtime.sessions() as db:
        row = db.get(LedgerEntry, undo)
        assert row.kind is EntryKind.REVERSAL and row.reverses_id == entry
        assert db.get(LedgerEntry, entry).amount == 6000  # the original is never changed


def test_reversal_of_a_reversal_is_refused(book):
    (entry,) = book.record("Amina", EntryKind.SHARES, shares=3)
    (undo,) = book.reverse(entry)
    with pytest.raises(LedgerRule) as refused:
        book.reverse(undo)
    assert refused.value.code == "reverse_reversal"
    with pytest.raises(LedgerRule) as twice:
        book.reverse(entry)
    assert twice.value.code == "already_reversed"


def test_undoing_a_loan_undoes_its_interest(book):
    book.record("Amina", EntryKind.SHARES, shares=5)
    loan_id, _interest = book.record("Amina", EntryKind.LOAN, amount=5000, months=3)
    book.reverse(loan_id)
    assert book.member("Amina").loan_outstanding == 0


def test_no_reversal_leaves_a_balance_below_zero(book):
    (shares,) = book.record("Amina", EntryKind.SHARES, shares=5)
    book.record("Amina", EntryKind.LOAN, amount=9000)  # the box is nearly empty
    with pytest.raises(LedgerRule) as refused:
        book.reverse(shares)
    assert refused.value.code == "negative"
    loan = book.record("Betty", EntryKind.SHARES, shares=1)
    assert loan


def test_a_repeated_idempotency_key_records_once(book, runtime):
    assert book.record("Amina", EntryKind.SHARES, shares=2, idempotency_key="ussd:ATUid_1:12")
    assert book.record("Amina", EntryKind.SHARES, shares=2, idempotency_key="ussd:ATUid_1:12") == []
    assert book.member("Amina").shares == 2
    with runtime.sessions() as db:
        assert db.scalar(select(func.count()).select_from(LedgerEntry)) == 1


def test_a_twelve_week_cycle_with_loans_interest_fines_and_share_out(book, runtime):
    """Worked by hand: share value 2,000, interest 10% a month flat, social fund 500 a week.

    Amina buys 2 shares a week, Betty 1, Christine 1 except in week 12 (24, 12 and 11 shares:
    94,000 saved). Betty borrows 10,000 for a month in week 3 (interest 1,000) and repays
    11,000 in week 7. Christine borrows 6,000 for 2 months in week 8 (interest 1,200), is
    fined 500 in week 10 and repays 7,200 in week 12.
    Box: 94,000 + 18,000 social fund + 18,200 repaid + 500 fine - 16,000 lent = 114,700.
    Shared out: 114,700 - 18,000 social fund = 96,700 over 47 shares.
      Amina     24 x 96,700 / 47 = 49,378.72 -> 49,379
      Betty     12 x 96,700 / 47 = 24,689.36 -> 24,689
      Christine 11 x 96,700 / 47 = 22,631.91 -> 22,632   (the 2 shillings left go to the
                                                          largest remainders: Christine, Amina)
    """
    for week in range(1, 13):
        book.record("Amina", EntryKind.SHARES, week, shares=2)
        book.record("Betty", EntryKind.SHARES, week, shares=1)
        if week != 12:
            book.record("Christine", EntryKind.SHARES, week, shares=1)
        for name in ("Amina", "Betty", "Christine"):
            book.record(name, EntryKind.SOCIAL_FUND, week, amount=500)
        if week == 3:
            book.record("Betty", EntryKind.LOAN, week, amount=10000, months=1)
        if week == 7:
            book.record("Betty", EntryKind.REPAYMENT, week, amount=11000)
        if week == 8:
            book.record("Christine", EntryKind.LOAN, week, amount=6000, months=2)
            assert book.member("Christine").loan_outstanding == 7200
        if week == 10:
            book.record("Christine", EntryKind.FINE, week, amount=500)
        if week == 12:
            book.record("Christine", EntryKind.REPAYMENT, week, amount=7200)
    g = book.group()
    assert (g.savings, g.social_fund, g.loans_out, g.interest, g.fines) == (94000, 18000, 0, 2200, 500)
    assert g.cash == 114700
    assert g.loan_fund == 96700
    with runtime.sessions() as db, db.begin():
        group = db.get(SavingsGroup, book.group_id)
        plan = {gm.member.name: payout for gm, _shares, payout in share_out_plan(db, group)}
        assert plan == {"Amina": 49379, "Betty": 24689, "Christine": 22632}
        assert sum(plan.values()) == 96700
        record_share_out(db, group, meeting_date=START + timedelta(weeks=12), recorded_by="test")
    g = book.group()
    assert g.cash == 18000 and g.savings == 0 and g.loan_fund == 0  # only the social fund stays
    assert book.member("Amina").share_out == 49379


def test_share_out_waits_until_loans_are_repaid(book, runtime):
    book.record("Amina", EntryKind.SHARES, shares=5)
    book.record("Amina", EntryKind.LOAN, amount=1000)
    with runtime.sessions() as db:
        with pytest.raises(LedgerRule, match="still owed"):
            share_out_plan(db, db.get(SavingsGroup, book.group_id))
