"""Meetings on a fake clock (no sleeps): the invitation at once, reminders 24 hours and 2 hours before,
a move and a cancellation with their notices, and every message sent exactly once."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from sms.meetings import run_due_reminders
from sms.runtime import runtime_scope
from tests.budget import counting
from tests.messaging.conftest import AMINA, GRACE, JOYCE, PETER, SARAH, fresh, leader_tools

KAMPALA = ZoneInfo("Africa/Kampala")
EVERYONE = (SARAH, AMINA, JOYCE, PETER)


@pytest.fixture
def tick(runtime, send_due, clock):  # type: ignore[no-untyped-def]
    """Move the clock to ``moment``, run the periodic reminder job and send what is due, as the worker
    would at that time."""

    def run(moment: datetime) -> dict[str, int]:
        clock.set(moment)
        with runtime_scope(runtime):
            written = run_due_reminders(now=moment)
        send_due(moment)
        return written

    return run


def _texts(sandbox, number: str) -> list[str]:
    return [m["message"] for m in sandbox.messages(number)]


def _kinds(sandbox) -> Counter[str]:
    """How many of each kind of meeting SMS each number got, e.g. ('+2567...', 'reminder') -> 1."""
    words = {"meets on": "invite", "reminder": "reminder", "moved": "moved", "cancelled": "cancelled",
             "kina mkutano": "invite", "kikumbusho": "reminder", "umehamishiwa": "moved", "umeghairiwa": "cancelled",
             "kirina olukiiko": "invite", "okujjukiza": "reminder", "lutwaliddwa": "moved", "lusaziddwamu": "cancelled"}
    seen: Counter[str] = Counter()
    for message in sandbox.messages():
        kind = next(k for w, k in words.items() if w in message["message"])
        seen[(message["to"], kind)] += 1
    return seen


def _schedule(phone, day_option: str, at: str, place: str):  # type: ignore[no-untyped-def]
    p = leader_tools(phone)
    assert "No meeting is planned." in p.send("5")
    assert "Which day?" in p.send("1")
    p.send(day_option)
    p.send(at)
    confirm = p.send(place)
    assert "Invite 4 members by SMS?" in confirm, confirm
    assert p.send("1").startswith("END Meeting set.")


def _start(clock, days: int, hour: int, minute: int = 0) -> datetime:
    local = clock.now.astimezone(KAMPALA) + timedelta(days=days)
    return local.replace(hour=hour, minute=minute, second=0, microsecond=0).astimezone(ZoneInfo("UTC"))


def test_invitation_then_both_reminders_each_exactly_once(phone, coop, sandbox, clock, tick):
    clock.set(clock.now.astimezone(KAMPALA).replace(hour=9, minute=0).astimezone(ZoneInfo("UTC")))
    _schedule(phone, "4", "10:00", "Kitumbi school")  # in three days at 10:00
    starts = _start(clock, 3, 10)
    tick(clock.now)
    day = starts.astimezone(KAMPALA).strftime("%d/%m")
    assert _texts(sandbox, PETER) == [f"Minerline: your cooperative meets on {day} at 10:00 at Kitumbi school. "
                                      "Reply 1 if you will come, 2 if you cannot."]
    assert _texts(sandbox, AMINA)[0].startswith(f"Minerline: chama chako kina mkutano {day} saa 10:00")
    assert _texts(sandbox, JOYCE)[0].startswith("Minerline: ekibiina kyo kirina olukiiko")
    assert _texts(sandbox, GRACE) == []
    for moment in (clock.now + timedelta(hours=1), starts - timedelta(hours=24, minutes=1)):
        assert tick(moment) == {"reminders": 0}
    assert tick(starts - timedelta(hours=24)) == {"reminders": 4}
    for moment in (starts - timedelta(hours=23), starts - timedelta(hours=2, seconds=1)):
        assert tick(moment) == {"reminders": 0}
    assert tick(starts - timedelta(hours=2)) == {"reminders": 4}
    for moment in (starts - timedelta(hours=1), starts + timedelta(hours=1), starts + timedelta(days=2)):
        assert tick(moment) == {"reminders": 0}
    kinds = _kinds(sandbox)
    for number in EVERYONE:
        assert kinds[(number, "invite")] == 1 and kinds[(number, "reminder")] == 2, kinds
    assert sum(kinds.values()) == 12
    assert _texts(sandbox, PETER)[1] == (f"Minerline reminder: meeting on {day} at 10:00 at Kitumbi school. "
                                         "Reply 1 if you will come, 2 if you cannot.")


def test_no_reminder_for_an_offset_already_passed_when_the_meeting_was_set(phone, coop, sandbox, clock, tick):
    clock.set(clock.now.astimezone(KAMPALA).replace(hour=8, minute=0).astimezone(ZoneInfo("UTC")))
    _schedule(phone, "1", "13:00", "Church")  # today, five hours ahead: the 24-hour reminder has passed
    starts = _start(clock, 0, 13)
    tick(clock.now)
    assert tick(starts - timedelta(hours=3)) == {"reminders": 0}
    assert tick(starts - timedelta(hours=2)) == {"reminders": 4}
    assert tick(starts - timedelta(minutes=30)) == {"reminders": 0}
    kinds = _kinds(sandbox)
    assert all(kinds[(n, "reminder")] == 1 and kinds[(n, "invite")] == 1 for n in EVERYONE), kinds


def test_when_the_worker_was_down_only_the_nearest_reminder_goes(phone, coop, sandbox, clock, tick):
    clock.set(clock.now.astimezone(KAMPALA).replace(hour=9, minute=0).astimezone(ZoneInfo("UTC")))
    _schedule(phone, "3", "10:00", "Market")
    starts = _start(clock, 2, 10)
    tick(clock.now)
    assert tick(starts - timedelta(hours=1)) == {"reminders": 4}  # both were due; one reminder, not two
    assert tick(starts - timedelta(minutes=30)) == {"reminders": 0}
    assert all(_kinds(sandbox)[(n, "reminder")] == 1 for n in EVERYONE)


def test_a_moved_meeting_sends_a_notice_and_its_reminders_follow_the_new_time(phone, coop, sandbox, clock, tick,
                                                                               outbox):
    clock.set(clock.now.astimezone(KAMPALA).replace(hour=9, minute=0).astimezone(ZoneInfo("UTC")))
    _schedule(phone, "4", "10:00", "Kitumbi school")
    old = _start(clock, 3, 10)
    tick(clock.now)
    tick(old - timedelta(hours=24))  # the first reminder went
    clock.set(old - timedelta(hours=20))
    p = leader_tools(phone)
    manage = p.send("5")
    assert "Coming 0, not coming 0, no reply 5" in manage
    p.send("2")
    p.send("7")  # six days from now
    p.send("15:30")
    assert "Move the meeting to" in p.send("Church hall") and "4 members get an SMS" in p.screen
    assert p.send("1").startswith("END Meeting changed.")
    new = _start(clock, 6, 15, 30)
    tick(clock.now)
    day = new.astimezone(KAMPALA).strftime("%d/%m")
    assert _texts(sandbox, PETER)[-1] == (f"Minerline: the meeting is moved to {day} at 15:30 at Church hall. "
                                          "Reply 1 if you will come, 2 if you cannot.")
    for moment in (old - timedelta(hours=2), old, new - timedelta(hours=24), new - timedelta(hours=2), new):
        tick(moment)
    kinds = _kinds(sandbox)
    for number in EVERYONE:
        # invitation, 24h (old time), moved notice, 24h and 2h (new time); never the old 2h reminder
        assert (kinds[(number, "invite")], kinds[(number, "moved")], kinds[(number, "reminder")]) == (1, 1, 3)
    last = [r.text for r in outbox("reminder") if r.phone == PETER][-1]
    assert last.startswith(f"Minerline reminder: meeting on {day}")


def test_a_cancelled_meeting_sends_one_notice_and_no_reminder_after_it(phone, coop, sandbox, clock, tick, outbox):
    clock.set(clock.now.astimezone(KAMPALA).replace(hour=9, minute=0).astimezone(ZoneInfo("UTC")))
    _schedule(phone, "3", "10:00", "Market")
    starts = _start(clock, 2, 10)
    tick(clock.now)
    p = leader_tools(phone)
    p.send("5")
    confirm = p.send("3")
    assert "Cancel the meeting on" in confirm and "4 members get an SMS" in confirm
    assert p.send("1").startswith("END Meeting cancelled.")
    again = p.repeat()  # the gateway repeats the confirming hop
    assert again.startswith("END Meeting cancelled.")
    for moment in (clock.now, starts - timedelta(hours=24), starts - timedelta(hours=2), starts):
        assert tick(moment) == {"reminders": 0}
    kinds = _kinds(sandbox)
    assert all((kinds[(n, "invite")], kinds[(n, "cancelled")], kinds[(n, "reminder")]) == (1, 1, 0) for n in EVERYONE)
    assert "No meeting is planned" in fresh(phone, PETER).send("5")


def test_a_reminder_waiting_for_a_retry_is_skipped_when_the_meeting_is_cancelled(phone, coop, sandbox, clock,
                                                                                  tick, outbox):
    clock.set(clock.now.astimezone(KAMPALA).replace(hour=9, minute=0).astimezone(ZoneInfo("UTC")))
    _schedule(phone, "3", "10:00", "Market")
    starts = _start(clock, 2, 10)
    tick(clock.now)
    sandbox.behave(fail_rate=1.0)
    assert tick(starts - timedelta(hours=24)) == {"reminders": 4}  # written, but the gateway answered 500
    sandbox.behave(fail_rate=0.0)
    assert {r.status.value for r in outbox("reminder") if r.phone != GRACE} == {"pending"}
    clock.set(starts - timedelta(hours=23))
    p = leader_tools(phone)
    p.send("5")
    p.send("3")
    p.send("1")
    tick(starts - timedelta(hours=22))
    assert {(r.status.value, r.last_error) for r in outbox("reminder") if r.phone != GRACE} == {
        ("skipped", "meeting changed")}
    assert all(_kinds(sandbox)[(n, "reminder")] == 0 for n in EVERYONE)


def test_members_see_the_next_meeting_and_answer_from_the_phone(phone, coop, sandbox, clock, tick):
    clock.set(clock.now.astimezone(KAMPALA).replace(hour=9, minute=0).astimezone(ZoneInfo("UTC")))
    _schedule(phone, "2", "10:00", "Market")
    p = fresh(phone, PETER)
    screen = p.send("5")
    assert "Next meeting:" in screen and "at 10:00" in screen and "Place: Market" in screen
    assert p.send("1").startswith("END Thank you.")
    assert "You said you are coming." in fresh(phone, PETER).send("5")
    leader = leader_tools(phone)
    assert "Coming 1, not coming 0, no reply 4" in leader.send("5")


def test_every_hop_of_setting_moving_and_cancelling_stays_within_the_budget(phone, coop, clock, runtime):
    clock.set(clock.now.astimezone(KAMPALA).replace(hour=9, minute=0).astimezone(ZoneInfo("UTC")))
    for values in (("5", "1", "3", "10:00", "Market", "1"), ("5", "2", "4", "11:00", "Church", "1"), ("5", "3", "1")):
        p = leader_tools(phone)
        with counting(runtime) as budget:
            for value in values:
                budget.reset()
                p.send(value)
                assert len(budget.statements) <= 3, (values, value, budget.statements)
                assert budget.trips <= (2 if p.screen.startswith("CON ") else 2 + 10), (value, budget.trips)
        assert p.screen.startswith("END Meeting"), p.screen
