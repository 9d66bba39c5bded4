"""Savings over USSD: PIN lifecycle, the member's figures, and a treasurer recording entries."""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event, insert, select, text

from models import EntryKind, LedgerEntry, PinState, Role

AMINA, GRACE, BETTY = "+256700000101", "+256700000102", "+256700000103"


@pytest.fixture
def group(group_factory):
    return group_factory(names=("Amina", "Grace", "Betty"), roles={"Grace": Role.TREASURER},
                         phones={"Amina": AMINA, "Grace": GRACE, "Betty": BETTY})


@pytest.fixture
def clock(app):
    """Move the hop's clock on without sleeping."""
    state = {"now": datetime(2026, 11, 27, 9, 0, tzinfo=UTC)}
    app.extensions.setdefault("minerline.hop", None)
    from ussd.endpoint import hop_handler

    handler = hop_handler(app)
    handler.now = lambda: state["now"]

    def advance(**delta):
        state["now"] += timedelta(**delta)

    return advance


def fresh(phone, number):
    """Dial, declining the offer to continue an earlier session."""
    p = phone(number)
    if "cut off" in p.dial():
        p.send("2")
    return p


def set_pin(phone, number, pin="2580", discreet="1"):
    p = fresh(phone, number)
    assert "Choose a 4-number PIN" in p.send("1")
    assert "same PIN again" in p.send(pin)
    assert "PIN saved." in p.send(pin)
    menu = p.send(discreet)
    assert "Savings and shares" in menu
    return p


def open_savings(phone, number, pin="2580"):
    p = fresh(phone, number)
    assert "Enter your 4-number PIN" in p.send("1")
    p.send(pin)
    return p


def leader_tools(phone, number, pin="1470"):
    p = fresh(phone, number)
    first = p.send("7")
    if "Choose a 4-number PIN" in first:
        p.send(pin)
        p.send(pin)
        p.send("1")
    else:
        p.send(pin)
    assert "Record savings" in p.screen
    return p


def test_treasurer_records_shares_then_member_reads_new_balance_and_gets_a_receipt(
        phone, group, sandbox, work, clock):
    set_pin(phone, AMINA)
    g = leader_tools(phone, GRACE)
    g.send("1")                      # Record savings
    assert "Amina (#1)" in g.send("1")  # member number 1
    g.send("1")                      # Shares
    confirm = g.send("3")
    assert "3 shares (6,000)" in confirm and "1 Yes, save" in confirm
    assert g.send("1").startswith("END Saved. Amina will get an SMS receipt.")
    work()
    (receipt,) = sandbox.messages(AMINA)
    assert "3 shares (6,000)" in receipt["message"] and "Savings 6,000" in receipt["message"]
    p = open_savings(phone, AMINA)
    assert "Savings: 6,000 UGX" in p.send("1")
    assert "Shares: 3" in p.screen


def test_a_discreet_member_gets_a_receipt_without_amounts(phone, group, sandbox, work):
    set_pin(phone, AMINA, discreet="2")
    g = leader_tools(phone, GRACE)
    for value in ("1", "1", "2"):
        g.send(value)
    g.send("5000")
    g.send("1")
    work()
    (receipt,) = sandbox.messages(AMINA)
    assert "5,000" not in receipt["message"] and "Dial" in receipt["message"]


def test_loan_above_limit_is_refused_on_screen_and_a_loan_within_it_is_confirmed_with_its_charge(phone, group, work):
    g = leader_tools(phone, GRACE)
    for value in ("1", "1", "1", "2"):  # Amina: 2 shares = 4,000 saved
        g.send(value)
    g.send("1")
    g = leader_tools(phone, GRACE)
    for value in ("1", "3", "1", "5"):  # Betty buys 5 shares: cash to lend
        g.send(value)
    g.send("1")
    g = leader_tools(phone, GRACE)
    g.send("1")
    g.send("1")
    g.send("3")                      # Loan
    assert g.send("12,001").startswith("CON Too much. The limit is 12,000.")
    g.send("12000")
    confirm = g.send("2")            # 2 months
    assert "Charge 2,400, repay 14,400" in confirm
    assert g.send("1").startswith("END Saved.")
    g = leader_tools(phone, GRACE)
    for value in ("1", "1", "3"):
        g.send(value)
    assert "still owes 14,400" in g.send("100")


def test_undo_an_entry_then_the_correction_cannot_itself_be_undone(phone, group, runtime, sandbox, work):
    g = leader_tools(phone, GRACE)
    for value in ("1", "1", "1", "4"):
        g.send(value)
    g.send("1")
    g = leader_tools(phone, GRACE)
    for value in ("1", "1"):
        g.send(value)
    undo = g.send("6")
    assert "1 " in undo and "4 shares (8,000)" in undo
    g.send("1")
    assert g.send("1").startswith("END Saved.")
    work()
    assert any("corrected" in m["message"] for m in sandbox.messages(AMINA))
    g = leader_tools(phone, GRACE)
    for value in ("1", "1"):
        g.send(value)
    assert "No recent entry to undo." in g.send("6")
    with runtime.sessions() as db:
        kinds = [e.kind for e in db.scalars(select(LedgerEntry).order_by(LedgerEntry.id))]
    assert kinds == [EntryKind.SHARES, EntryKind.REVERSAL]


def test_a_repeated_confirmation_records_once(phone, group, runtime):
    g = leader_tools(phone, GRACE)
    for value in ("1", "1", "1", "2"):
        g.send(value)
    end = g.send("1")
    assert g.repeat() == end
    with runtime.sessions() as db:
        assert len(db.scalars(select(LedgerEntry)).all()) == 1


def test_only_chairs_and_treasurers_record_and_members_have_no_leader_tools(phone, group):
    p = phone(AMINA)
    assert "Leader tools" not in p.dial()
    assert p.send("7").startswith("CON Choose a number.")


def test_wrong_pin_three_times_locks_member_across_sessions_until_reset(phone, group, clock, runner):
    set_pin(phone, AMINA)
    p = fresh(phone, AMINA)
    p.send("1")
    assert "Wrong PIN. 2 tries left." in p.send("1111")
    assert "Wrong PIN. 1 tries left." in p.send("2222")
    assert p.send("3333").startswith("END Too many wrong PINs. Try again in 30 minutes")
    again = fresh(phone, AMINA)
    assert again.send("1").startswith("END Too many wrong PINs")  # the lock outlives the session
    leader = fresh(phone, GRACE)
    assert leader.send("7").startswith("CON ")  # a leader's own tools are not locked by her
    clock(minutes=31)
    later = fresh(phone, AMINA)
    later.send("1")
    assert "Savings and shares" in later.send("2580")


def test_a_right_pin_resets_the_count(phone, group):
    set_pin(phone, AMINA)
    p = fresh(phone, AMINA)
    p.send("1")
    p.send("1111")
    p.send("2222")
    assert "Savings and shares" in p.send("2580")
    q = fresh(phone, AMINA)
    q.send("1")
    assert "2 tries left" in q.send("1111")


def test_leader_tools_are_locked_too(phone, group):
    leader_tools(phone, GRACE)
    p = fresh(phone, GRACE)
    p.send("7")
    p.send("0000")
    p.send("0001")
    assert p.send("0002").startswith("END Too many wrong PINs")
    q = fresh(phone, GRACE)
    assert q.send("7").startswith("END Too many wrong PINs")


def test_leader_resets_a_pin_and_the_member_sets_a_new_one(phone, group, runtime):
    set_pin(phone, AMINA)
    g = leader_tools(phone, GRACE)
    g.send("2")
    assert "Reset the PIN of Amina (#1)" in g.send(AMINA.replace("+256", "0"))
    assert g.send("1").startswith("END PIN reset for Amina.")
    p = fresh(phone, AMINA)
    assert "Choose a 4-number PIN" in p.send("1")


def test_cli_pin_reset_is_not_needed_to_recover_from_a_forgotten_pin_screen(phone, group):
    set_pin(phone, AMINA)
    p = fresh(phone, AMINA)
    p.send("1")
    assert p.send("9").startswith("END Ask your group chair or treasurer to reset your PIN.")


def test_mismatched_pins_ask_again(phone, group):
    p = fresh(phone, AMINA)
    p.send("1")
    p.send("1234")
    assert p.send("4321").startswith("CON The PINs were not the same.\nChoose a 4-number PIN")
    assert p.send("12a4").startswith("CON Enter 4 numbers.")


def test_no_balance_without_the_pin_even_when_resuming_a_dropped_session(phone, group, runtime):
    set_pin(phone, AMINA)
    p = open_savings(phone, AMINA)
    assert "Savings: 0 UGX" in p.send("1")  # then the call drops
    again = phone(AMINA)
    assert "cut off" in again.dial()
    assert again.send("1").startswith("CON Enter your 4-number PIN")
    assert "Savings and shares" in again.send("2580")


def test_a_non_member_or_member_outside_a_group_is_told_kindly(phone, member):
    p = phone("+256700000199")
    p.dial()
    p.send("1")
    assert p.send("1").startswith("END Savings is for members of a savings group")
    m = member(phone="+256700000198")
    q = phone(m.phone)
    q.dial()
    assert q.send("1").startswith("END Savings is for members of a savings group")


def test_pin_is_never_stored_logged_or_kept_in_redis_in_clear(phone, group, runtime, caplog):
    caplog.set_level(logging.DEBUG)
    pin = "8461"
    set_pin(phone, AMINA, pin=pin)
    p = open_savings(phone, AMINA, pin=pin)
    p.send("1")
    # The PIN as a value of its own (hex ids and hashes may contain the same digits by chance).
    alone = re.compile(rb"(?<![0-9A-Za-z])" + pin.encode() + rb"(?![0-9A-Za-z])")
    for key in runtime.redis.keys("*"):
        assert not alone.search(key)
        if runtime.redis.type(key) == b"string":
            assert not alone.search(runtime.redis.get(key))
    with runtime.sessions() as db:
        stored = db.scalar(select(PinState.pin_hash))
        assert stored.startswith("$argon2id$") and pin not in stored
        for table in ("member_pins", "members", "outbox", "ledger_entries"):
            for row in db.execute(text(f"SELECT * FROM {table}")):
                assert not alone.search(" ".join(str(v) for v in row).encode())
    assert all(not alone.search(r.getMessage().encode()) for r in caplog.records)


def test_statement_pages_and_balances_of_a_member_with_500_entries_stay_within_3_queries(
        phone, group, runtime, group_factory):
    group_id, ids = group
    membership_id = ids["Amina"][1]
    rows = [dict(group_id=group_id, membership_id=membership_id, kind=EntryKind.SHARES,
                 effect_kind=EntryKind.SHARES, shares=1, amount=2000, meeting_date=date(2026, 9, 1),
                 recorded_by="test", recorded_at=datetime(2026, 9, 1, tzinfo=UTC)) for _ in range(500)]
    with runtime.sessions() as db, db.begin():
        db.execute(insert(LedgerEntry), rows)
    set_pin(phone, AMINA)
    statements: list[str] = []
    event.listen(runtime.engine, "before_cursor_execute", lambda c, cur, stmt, *a: statements.append(stmt))
    p = phone(AMINA)
    hops = [("", None)]
    statements.clear()
    p.dial()
    assert len(statements) <= 3
    for value, expect in (("1", "Enter your 4-number PIN"), ("2580", "Savings and shares"),
                          ("1", "Savings: 1,000,000 UGX"), ("0", None), ("2", "no loan"), ("0", None),
                          ("4", "about 1,000,000"), ("0", None), ("5", "shares"), ("98", None), ("98", None),
                          ("00", None), ("1", None), ("2580", None), ("6", "Savings 1,000,000")):
        statements.clear()
        screen = p.send(value)
        assert len(statements) <= 3, (value, len(statements), statements)
        if expect:
            assert expect in screen, screen
        hops.append((value, len(statements)))
    assert len(hops) > 10
