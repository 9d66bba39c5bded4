"""``receipts.queue_receipt``: the member's SMS receipt for an entry, queued in the caller's transaction."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from menus.catalog import Catalogs
from menus.receipts import Balances, receipt_text
from models import EntryKind, GroupMembership, LedgerEntry, Member, OutboxMessage, PinState, SavingsGroup
from models.ledger import record_entry
from receipts import queue_receipt
from sms.outbox import enqueue_send


@pytest.fixture
def catalogs(settings):
    return Catalogs.load(settings.locales_dir)


@pytest.fixture
def ids(group_factory):
    _group_id, ids = group_factory()
    return ids


def _record_and_queue(runtime, catalogs, membership_id, kind, *, shares=0, amount=0, key=None, **receipt):
    """Record an entry and queue its receipt in one transaction, as the CLI and the edge do."""
    with runtime.sessions() as db, db.begin():
        gm = db.get(GroupMembership, membership_id)
        group = db.get(SavingsGroup, gm.group_id)
        entry_id, *_interest = record_entry(db, group, gm, kind, meeting_date=date(2026, 9, 1), recorded_by="test",
                                            shares=shares, amount=amount)
        entry = db.get(LedgerEntry, entry_id)
        return queue_receipt(db, catalogs=catalogs, settings=runtime.settings, membership_id=membership_id,
                             kind=entry.kind, shares=entry.shares, amount=entry.amount, idempotency_key=key,
                             **receipt)


def _outbox(runtime, outbox_id) -> OutboxMessage:
    with runtime.sessions() as db:
        return db.get(OutboxMessage, outbox_id)


def _pin(runtime, member_id, discreet):
    with runtime.sessions() as db, db.begin():
        db.add(PinState(member_id=member_id, pin_hash="not-a-real-hash", discreet=discreet))


def test_a_receipt_shows_the_balances_after_the_entry(runtime, catalogs, ids):
    member_id, gm_id = ids["Amina"]
    _pin(runtime, member_id, discreet=False)
    _record_and_queue(runtime, catalogs, gm_id, EntryKind.SHARES, shares=5)
    _record_and_queue(runtime, catalogs, gm_id, EntryKind.SOCIAL_FUND, amount=500)
    outbox_id = _record_and_queue(runtime, catalogs, gm_id, EntryKind.LOAN, amount=6000)
    row = _outbox(runtime, outbox_id)
    stamp = runtime.settings.local_date().strftime("%d/%m")  # the day in Uganda
    # 5 shares of 2,000; a 6,000 loan for a month at 10% owes 6,600.
    assert row.text == f"Minerline {stamp}: loan 6,000 recorded for you. Savings 10,000. Loan 6,600. Social fund 500."
    assert (row.phone, row.purpose, row.member_id) == ("+256700000101", "receipt", member_id)


def test_a_discreet_member_gets_a_receipt_without_amounts(runtime, catalogs, ids):
    member_id, gm_id = ids["Betty"]
    _pin(runtime, member_id, discreet=True)
    text = _outbox(runtime, _record_and_queue(runtime, catalogs, gm_id, EntryKind.SHARES, shares=3)).text
    assert "6,000" not in text and "shares" not in text
    assert text.endswith("your group updated your record. Dial *384*44# to see it.")


def test_a_member_without_a_pin_gets_a_full_receipt(runtime, catalogs, ids):
    _member_id, gm_id = ids["Christine"]
    text = _outbox(runtime, _record_and_queue(runtime, catalogs, gm_id, EntryKind.SHARES, shares=2)).text
    assert "2 shares (4,000) recorded for you. Savings 4,000." in text


def test_a_receipt_is_in_the_members_language(runtime, catalogs, ids):
    member_id, gm_id = ids["Amina"]
    with runtime.sessions() as db, db.begin():
        db.get(Member, member_id).language = "sw"
    text = _outbox(runtime, _record_and_queue(runtime, catalogs, gm_id, EntryKind.SHARES, shares=1)).text
    assert text == receipt_text(catalogs.translator("sw"), kind="shares", shares=1, amount=2000,
                                balances=Balances(2000, 0, 0), day=runtime.settings.local_date(), discreet=False,
                                service_code="*384*44#")


def test_a_correction_says_the_entry_was_corrected(runtime, catalogs, ids):
    _member_id, gm_id = ids["Amina"]
    _record_and_queue(runtime, catalogs, gm_id, EntryKind.SHARES, shares=2)
    with runtime.sessions() as db, db.begin():
        outbox_id = queue_receipt(db, catalogs=catalogs, settings=runtime.settings, membership_id=gm_id,
                                  kind="shares", shares=2, amount=4000, corrected=True)
    assert "your entry 2 shares (4,000) was corrected" in _outbox(runtime, outbox_id).text


def test_a_reversal_kind_is_refused(runtime, catalogs, ids):
    with runtime.sessions() as db, pytest.raises(ValueError, match="the kind it undoes"):
        queue_receipt(db, catalogs=catalogs, settings=runtime.settings, membership_id=ids["Amina"][1],
                      kind=EntryKind.REVERSAL, shares=0, amount=100)


def test_a_repeated_idempotency_key_queues_one_receipt(runtime, catalogs, ids):
    _member_id, gm_id = ids["Amina"]
    assert _record_and_queue(runtime, catalogs, gm_id, EntryKind.SHARES, shares=1, key="receipt:1") is not None
    with runtime.sessions() as db, db.begin():
        again = queue_receipt(db, catalogs=catalogs, settings=runtime.settings, membership_id=gm_id,
                              kind=EntryKind.SHARES, shares=1, amount=2000, idempotency_key="receipt:1")
        assert again is None
        assert db.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_a_rolled_back_entry_leaves_no_receipt(runtime, catalogs, ids):
    _member_id, gm_id = ids["Amina"]
    with pytest.raises(RuntimeError), runtime.sessions() as db, db.begin():
        queue_receipt(db, catalogs=catalogs, settings=runtime.settings, membership_id=gm_id,
                      kind=EntryKind.SHARES, shares=1, amount=2000)
        raise RuntimeError("the entry failed")
    with runtime.sessions() as db:
        assert db.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_the_receipt_arrives_in_the_sms_sandbox_once_enqueued_after_commit(runtime, catalogs, ids, sandbox, work):
    _member_id, gm_id = ids["Betty"]
    outbox_id = _record_and_queue(runtime, catalogs, gm_id, EntryKind.SHARES, shares=4)
    enqueue_send(runtime.queue(), [outbox_id])
    work()
    (message,) = sandbox.messages("+256700000102")
    assert "4 shares (8,000) recorded for you. Savings 8,000. Loan 0. Social fund 0." in message["message"]
