"""The messaging and meeting screens, without Flask, Redis or a database: every one fits in every
language with the longest data, and each flow ends in the effect it promises."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from gsm7 import gsm7_length, is_gsm7
from menus import LANGUAGES, Caller
from menus.engine import LIMIT, Authenticated
from menus.meetings import CancelMeeting, MoveMeeting, RecordRsvp, ScheduleMeeting, parse_day, parse_time
from menus.messaging import SendBroadcast
from tests.menus.fakes import FakeData, FakeMessaging
from tests.menus.test_every_screen import ENGINE

LEADER = Caller(is_member=True, member_id=7, role="secretary", name="N" * 120)
MEMBER = Caller(is_member=True, member_id=8, role="member", name="N" * 120)
PROBES = ("0", "00", "98", "x", "", "1234", "9999", "P" * 40, "05/12", "14:30", "Hello, “members”")


def at(screen: str, caller: Caller, data: FakeData, lang: str, params: dict | None = None):
    """An engine state on ``screen`` after the PIN, as if reached from Leader tools."""
    engine = ENGINE.with_data(data)
    if screen == "leaders.menu":
        params = {"g": 1, "gm": 1, **(params or {})}  # what the leaders' PIN gate passes on
    state = {"lang": lang, "auth": True, "stack": [{"id": "main", "p": {}, "pg": 0},
                                                    {"id": screen, "p": params or {}, "pg": 0}]}
    return engine, state


def walk(engine, caller, state, depth: int = 6):
    """Every screen reachable from ``state`` with the options shown and the probes."""
    seen: set[str] = set()
    queue = [(engine.render(state, caller), 0)]
    while queue:
        result, level = queue.pop(0)
        yield result
        if result.end or level >= depth:
            continue
        options = set(re.findall(r"^(\d+) ", result.text[4:], flags=re.M)) | set(PROBES)
        for value in sorted(options):
            nxt = engine.step(result.state, value, caller)
            key = repr((nxt.state["stack"][-1], nxt.text))
            if key not in seen:
                seen.add(key)
                queue.append((nxt, level + 1))


DATA = {
    "longest": lambda: FakeData(),
    "no meeting, nothing failing": lambda: FakeData(FakeMessaging(meeting=False, failing=0)),
    "limit reached": lambda: FakeData(FakeMessaging(sent_today=3)),
}


@pytest.mark.parametrize("data", sorted(DATA))
@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("start", ["leaders.menu", "meetings"])
def test_every_messaging_screen_fits_in_160_gsm7_characters(lang: str, data: str, start: str):
    caller = LEADER if start == "leaders.menu" else MEMBER
    engine, state = at(start, caller, DATA[data](), lang)
    screens = set()
    for result in walk(engine, caller, state):
        screens.add(result.screen)
        assert gsm7_length(result.text) <= LIMIT, (gsm7_length(result.text), result.text)
        assert is_gsm7(result.text), result.text
    if start == "leaders.menu" and data == "longest":
        assert {"messages.preview", "messages.sent", "messages.failing", "meetings.confirm",
                "meetings.cancel"} <= screens


def test_a_leader_types_a_message_sees_the_cost_and_sends_it():
    engine, state = at("leaders.menu", LEADER, FakeData(), "en")
    result = engine.render(state, LEADER)
    for value in ("2", "2"):  # Send a message (a secretary records no savings), Women
        result = engine.step(result.state, value, LEADER)
    assert "Type your message" in result.text
    result = engine.step(result.state, "Meeting \u201cFriday\u201d \u2013 bring your cards", LEADER)
    assert "To 99999 members (99999 stopped SMS)" in result.text
    assert "9 SMS each, about 24,299,757 UGX" in result.text
    done = engine.step(result.state, "1", LEADER)
    assert done.text.startswith("END Sending to 99999 members")
    assert done.effects == [SendBroadcast(7, "women", 'Meeting "Friday" - bring your cards')]


def test_the_daily_limit_ends_the_session_before_any_typing():
    engine, state = at("leaders.menu", LEADER, FakeData(FakeMessaging(sent_today=3)), "en")
    result = engine.step(engine.render(state, LEADER).state, "2", LEADER)
    assert result.text.startswith("END Your cooperative has sent 3 messages today")


def test_a_leader_sets_a_meeting_for_a_typed_date_and_time():
    engine, state = at("meetings.manage", LEADER, FakeData(), "en")
    result = engine.render(state, LEADER)
    for value, seen in (("1", "Which day?"), ("05/12", "What time?"), ("2pm", "Type a time like"),
                        ("1430", "Where?"), ("Kitumbi  primary school", "Invite 99999 members")):
        result = engine.step(result.state, value, LEADER)
        assert seen in result.text, result.text
    assert "Sat 05/12 at 14:30 at Kitumbi primary school" in result.text
    done = engine.step(result.state, "1", LEADER)
    assert done.effects == [ScheduleMeeting(7, "2026-12-05", "14:30", "Kitumbi primary school")]


def test_a_time_already_past_today_is_refused():
    engine, state = at("meetings.day", LEADER, FakeData(), "en", {"mode": "new"})
    result = engine.step(engine.render(state, LEADER).state, "1", LEADER)  # today, 27/11, 08:00 now
    assert "That time has passed." in engine.step(result.state, "08:15", LEADER).text
    assert "Where?" in engine.step(result.state, "08:30", LEADER).text


def test_a_leader_moves_and_cancels_the_next_meeting_of_the_version_seen():
    engine, state = at("meetings.manage", LEADER, FakeData(), "en")
    start = engine.render(state, LEADER)
    assert "Coming 99999, not coming 99999, no reply" in start.text
    result = start
    for value in ("2", "3", "16:00", "Church"):
        result = engine.step(result.state, value, LEADER)
    assert "Move the meeting to Sun 29/11 at 16:00 at Church?" in result.text
    assert engine.step(result.state, "1", LEADER).effects == [
        MoveMeeting(7, 1, 1, "2026-11-29", "16:00", "Church")]
    cancel = engine.step(start.state, "3", LEADER)
    assert "Cancel the meeting on Fri 04/12 at 14:30?" in cancel.text
    assert engine.step(cancel.state, "1", LEADER).effects == [CancelMeeting(7, 1, 1)]


def test_a_member_sees_the_next_meeting_and_answers():
    engine, state = at("meetings", MEMBER, FakeData(), "sw")
    result = engine.render(state, MEMBER)
    assert "Ijumaa 04/12 saa 14:30" in result.text and "Ulisema utakuja." in result.text
    done = engine.step(result.state, "2", MEMBER)
    assert done.effects == [RecordRsvp(8, 1, "no")]


def test_someone_who_is_not_a_member_is_told_meetings_are_for_members():
    engine = ENGINE.with_data(FakeData())
    result = engine.start(Caller(language="en"))
    assert "Meetings" in result.text
    assert engine.step(result.state, "5", Caller(language="en")).text.startswith("END Meetings are for members")


@pytest.mark.parametrize(("text", "expected"), [("05/12", "2026-12-05"), ("5.12", "2026-12-05"),
                                                ("0512", "2026-12-05"), ("01/01", "2027-01-01"),
                                                ("27/11/2026", "2026-11-27"), ("31/02", None), ("26/11/2026", None),
                                                ("1234", None), ("x", None)])
def test_days_are_read_the_way_people_write_them(text, expected):
    found = parse_day(text, datetime(2026, 11, 27).date())
    assert (found.isoformat() if found else None) == expected


@pytest.mark.parametrize(("text", "expected"), [("14:00", "14:00"), ("14.30", "14:30"), ("1430", "14:30"),
                                                ("930", "09:30"), ("9", "09:00"), ("24:00", None), ("2pm", None)])
def test_times_are_read_on_the_24_hour_clock(text, expected):
    found = parse_time(text)
    assert (found.strftime("%H:%M") if found else None) == expected


def test_authenticated_is_kept_through_the_leader_flows():
    assert Authenticated  # the fixtures above start after the PIN, as Leader tools does


@pytest.mark.parametrize("typed", ["\u00b2", "\u0663", "\uff11", "1\u00b2:00"])
def test_digits_that_are_not_ascii_are_refused_not_a_crash(typed: str):
    engine, state = at("meetings.day", LEADER, FakeData(), "en", {"mode": "new"})
    assert "Choose or type a day." in engine.step(engine.render(state, LEADER).state, typed, LEADER).text
    assert parse_time(typed) is None
    engine, state = at("messages.audience", LEADER, FakeData(), "en")
    assert "Not valid" in engine.step(engine.render(state, LEADER).state, typed, LEADER).text
