"""A leader broadcasts from the phone: preview, confirm, one SMS per member, the daily limit, the report."""

from __future__ import annotations

from sqlalchemy import func, select

from models import Broadcast, OutboxStatus
from tests.budget import counting
from tests.messaging.conftest import AMINA, GRACE, JOYCE, PETER, SARAH, leader_tools


def _compose(phone, audience: str, text: str):  # type: ignore[no-untyped-def]
    p = leader_tools(phone)
    assert "Send an SMS to:" in p.send("3")
    assert "Type your message" in p.send(audience)
    return p, p.send(text)


def test_leader_sends_a_broadcast_that_reaches_each_member_once_and_skips_the_one_who_stopped(
        phone, coop, sandbox, work, outbox, runtime):
    p, preview = _compose(phone, "1", "Buyer visits Friday \u2013 bring your gold. Don\u2019t be late")
    assert "To 4 members (1 stopped SMS)" in preview
    assert "1 SMS each, about 108 UGX in all" in preview
    assert p.send("1").startswith("END Sending to 4 members.")
    work()
    for number in (SARAH, AMINA, JOYCE, PETER):
        (message,) = sandbox.messages(number)
        assert message["message"] == "Buyer visits Friday - bring your gold. Don't be late"  # GSM-7, one part
    assert sandbox.accepted_count(GRACE) == 0
    rows = outbox("broadcast")
    assert sorted(r.status.value for r in rows) == ["accepted"] * 4 + ["skipped"]
    (skipped,) = [r for r in rows if r.status is OutboxStatus.SKIPPED]
    assert skipped.phone == GRACE and skipped.last_error == "opted out"


def test_women_and_leaders_audiences(phone, coop, sandbox, work):
    p, preview = _compose(phone, "2", "Women only")
    assert "To 3 members (1 stopped SMS)" in preview
    p.send("1")
    p, preview = _compose(phone, "3", "Leaders only")
    assert "To 2 members (0 stopped SMS)" in preview
    p.send("1")
    work()
    assert [m["message"] for m in sandbox.messages(PETER)] == []
    assert [m["message"] for m in sandbox.messages(AMINA)] == ["Women only"]
    assert [m["message"] for m in sandbox.messages(JOYCE)] == ["Women only", "Leaders only"]


def test_a_long_text_with_a_character_that_has_no_gsm7_form_shows_its_parts_and_cost(phone, coop):
    _, preview = _compose(phone, "1", "Mkutano \u2605 " + "x" * 70)
    assert "2 SMS each, about 216 UGX in all" in preview  # UCS-2: 67 a part


def test_the_confirming_hop_stays_within_three_queries(phone, coop, runtime):
    p, _ = _compose(phone, "1", "Within budget")
    with counting(runtime) as budget:
        assert p.send("1").startswith("END ")
    assert len(budget.statements) <= 3, budget.statements


def test_a_repeated_confirmation_makes_one_broadcast(phone, coop, runtime, sandbox, work):
    p, _ = _compose(phone, "1", "Once")
    answer = p.send("1")
    assert p.repeat() == answer  # the gateway sends the same sessionId and text again
    work()
    with runtime.sessions() as db:
        assert db.scalar(select(func.count(Broadcast.id))) == 1
    assert sandbox.accepted_count(AMINA) == 1


def test_the_daily_limit_binds_leaders_on_the_phone(phone, coop, runtime, work):
    for n in range(runtime.settings.broadcast_daily_limit):
        p, _ = _compose(phone, "3", f"Message {n}")
        p.send("1")
    p = leader_tools(phone)
    assert p.send("3").startswith("END Your cooperative has sent 3 messages today")


def test_the_leader_sees_how_the_last_broadcasts_went(phone, coop, sandbox, work, client):
    p, _ = _compose(phone, "1", "First")
    p.send("1")
    work()
    (message,) = sandbox.messages(AMINA)
    client.post("/sms/delivery", data={"id": message["id"], "status": "Success", "phoneNumber": AMINA})
    first = sandbox.messages(JOYCE)[0]
    client.post("/sms/delivery", data={"id": first["id"], "status": "Failed", "phoneNumber": JOYCE,
                                       "failureReason": "AbsentSubscriber"})
    p = leader_tools(phone)
    report = p.send("4")
    assert "1 delivered, 1 failed, 2 waiting" in report, report


def test_members_who_are_not_leaders_have_no_leader_tools(phone, coop):
    menu = phone(PETER).dial()
    assert "Meetings" in menu and "Leader tools" not in menu


def test_every_hop_of_the_broadcast_flow_stays_within_the_budget(phone, coop, runtime):
    p = leader_tools(phone)
    with counting(runtime) as budget:
        for value in ("3", "1", "A message within budget", "1"):
            budget.reset()
            p.send(value)
            assert len(budget.statements) <= 3, (value, budget.statements)
            # the enqueue on the hop that sends is not counted
            assert budget.trips <= (2 if p.screen.startswith("CON ") else 2 + 10), (value, budget.trips)
