"""Safety reports and follow-up by code through POST /ussd, with real Redis and a real database."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from menus import LANGUAGES
from menus.safety import (
    CATEGORIES,
    HELP_FOR,
    MSG_ADDED,
    MSG_BYE,
    MSG_CALL_SAVED,
    MSG_FORGOTTEN,
    MSG_HELP_SMS,
    MSG_LIMIT,
    MSG_NO_SUCH_CODE,
    MSG_SMS_QUEUED,
    MSG_TOO_MANY_TRIES,
    STATUS_TEXT,
)
from models import OutboxMessage, SafetyContact, SafetyLimit, SafetyNote, SafetyReport, Sealer
from tests.budget import counting
from tests.helpers import Phone
from tests.ussd_steps import body, leave_with_00_at_each_step, main_menu, t, walk_checking_each_step

NON_MEMBER = "+256772123456"
OTHER_PHONE = "+256701234567"
SAFETY, TELL, FOLLOW, NUMBERS = "4", "1", "2", "3"
SECRET = "test-secret"  # the settings fixture's
# district/site answers: Mubende (Kitumbi | another place), Kassanda (no sites), Busia (Tiira), another district
PLACES = [(["1", "1"], "Kitumbi", "Mubende"), (["1", "3"], None, "Mubende"), (["2"], None, "Kassanda"),
          (["3", "1"], "Tiira", "Busia"), (["8"], None, "Other")]
WHEN = ["today", "week", "earlier"]
ONGOING = ["yes", "no", "unsure"]
CALL_TIMES = ["morning", "afternoon", "evening", "any"]


def _whole(p: Phone) -> str:
    """The screen on show and every further page of it, as one text (no prefixes, paging or hints)."""
    lines = []
    while True:
        lines += [line for line in body(p.screen) if not line.startswith("98 ")]
        if "\n98 " not in p.screen:
            return " ".join(" ".join(lines).split())
        p.send("98")


def _code(text: str) -> str:
    match = re.search(r"\b(\d{4}) (\d{4})\b", text)
    assert match, text
    return match.group(1) + match.group(2)


def _report(phone, lang: str = "en", number: str = NON_MEMBER, cat: str = "4", place: list[str] | None = None,
            note: str | None = "They paid half") -> tuple[Phone, str]:  # type: ignore[no-untyped-def]
    p = main_menu(phone, number, lang)
    note_answers = ["1", note] if note else ["2"]
    for answer in [SAFETY, TELL, cat, "1", *(place or ["1", "1"]), "2", "1", *note_answers, "1"]:
        p.send(answer)
    return p, _code(p.screen)


def _reports(runtime) -> list[SafetyReport]:  # type: ignore[no-untyped-def]
    with runtime.sessions() as db:
        return list(db.scalars(select(SafetyReport)))


def _follow(phone, code: str, lang: str = "en", number: str = NON_MEMBER) -> Phone:  # type: ignore[no-untyped-def]
    p = main_menu(phone, number, lang)
    p.send(SAFETY)
    p.send(FOLLOW)
    p.send(code)
    return p


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_kind_of_report_is_saved_with_its_answers_and_shows_the_right_help(phone, runtime, sites, sandbox,
                                                                                   work, lang):
    sealer = Sealer(SECRET)
    endings = [["3"], ["2"], ["1", "1", "1"], ["1", "4", "2", "0701 234 567"]]
    expected = []
    for i, (category, _label) in enumerate(CATEGORIES):
        place, site, district = PLACES[i % len(PLACES)]
        who, when, ongoing = 1 + i % 2, i % 3, (i + 1) % 3
        note = f"note {i}" if i % 2 else None
        number = f"+2567720000{i:02d}"  # a phone may make 5 reports a day
        p = main_menu(phone, number, lang)
        note_answers = ["1", note] if note else ["2"]
        for answer in [SAFETY, TELL, str(i + 1), str(who), *place, str(when + 1), str(ongoing + 1), *note_answers]:
            assert p.send(answer).startswith("CON ")
        p.send("1")
        filed = _whole(p)
        code = _code(filed)
        for line in HELP_FOR[category]:
            assert " ".join(t(lang, line).split()) in filed, (category, line)
        ending = endings[i % len(endings)]
        for answer in ending:
            p.send(answer)
        final = {"3": MSG_BYE, "2": MSG_SMS_QUEUED, "1": MSG_CALL_SAVED}[ending[0]]
        assert p.screen == "END " + t(lang, final)
        expected.append((code, category, who == 2, site, district, WHEN[when], ONGOING[ongoing], note, ending,
                         number))
    work()
    with runtime.sessions() as db:
        by_hash = {r.code_hash: r for r in db.scalars(select(SafetyReport))}
        contacts = {c.lookup: c for c in db.scalars(select(SafetyContact))}
    assert len(by_hash) == len(CATEGORIES)
    from models.safety import code_hash, contact_lookup

    for code, category, witness, site, district, when, ongoing, note, ending, number in expected:
        row = by_hash[code_hash(SECRET, code)]
        assert (row.category, row.witness, row.district, row.happened, row.ongoing, row.status) == (
            category, witness, district, when, ongoing, "received")
        assert (row.site_id is None) == (site is None) and row.site_id == (sites[site] if site else None)
        assert row.description is None if note is None else sealer.open(row.description, "description") == note
        contact = contacts.get(contact_lookup(SECRET, code))
        if ending[0] == "1":
            request = json.loads(sealer.open(contact.sealed, "contact"))
            called = number if ending[-1] == "1" else OTHER_PHONE
            assert request == {"code": code, "number": called, "when": CALL_TIMES[int(ending[1]) - 1]}
        else:
            assert contact is None
        # the useful numbers went to those who asked, and say nothing about a report
        sent = [m["message"] for m in sandbox.messages(number)]
        assert sent == ([t(lang, MSG_HELP_SMS)] if ending == ["2"] else [])


@pytest.mark.parametrize("lang", LANGUAGES)
def test_bad_input_back_and_home_at_every_step_of_a_report(phone, runtime, sites, lang):
    steps = [(SAFETY, "9"), (TELL, "x"), ("2", "x"), ("1", "x"), ("1", "x"), ("2", "x"), ("1", "x"), ("3", "x"),
             ("1", "x"), ("Seen at the pit", "a"), ("1", "x")]
    screens = walk_checking_each_step(phone, NON_MEMBER, lang, steps)
    assert _code(screens[-1])
    assert len(_reports(runtime)) == 1  # walking back and forth sent it once
    leave_with_00_at_each_step(phone, NON_MEMBER, lang, [a for a, _ in steps[:-1]])
    assert len(_reports(runtime)) == 1  # leaving with 00 sends nothing


@pytest.mark.parametrize("lang", LANGUAGES)
def test_follow_up_shows_status_adds_details_and_handles_contact_back(phone, runtime, sites, lang):
    _p, code = _report(phone, lang)
    steps = [(SAFETY, "9"), (FOLLOW, "9"), (code[:4] + " " + code[4:], "1234"), ("1", "x"), ("Still not paid", "a")]
    screens = walk_checking_each_step(phone, NON_MEMBER, lang, steps)
    assert t(lang, STATUS_TEXT["received"]) in screens[3]
    assert screens[-1] == "END " + t(lang, MSG_ADDED)
    leave_with_00_at_each_step(phone, NON_MEMBER, lang, [a for a, _ in steps[:-1]])
    with runtime.sessions() as db:
        (note,) = db.scalars(select(SafetyNote)).all()
        assert Sealer(SECRET).open(note.body, "note") == "Still not paid"
        assert note.report_id == db.scalar(select(SafetyReport.id))
        db.execute(update(SafetyReport).values(status="following_up"))
        db.commit()
    p = _follow(phone, code, lang)
    assert t(lang, STATUS_TEXT["following_up"]) in p.screen
    for answer in ["2", "2", "1"]:  # ask to be called back, in the afternoon, on this phone
        p.send(answer)
    assert p.screen == "END " + t(lang, MSG_CALL_SAVED)
    p = _follow(phone, code, lang)
    status = p.screen
    assert p.send("2").startswith("CON ")  # remove my contact details?
    assert p.send("2") == status  # no: back to the status
    p.send("2")
    assert p.send("1") == "END " + t(lang, MSG_FORGOTTEN)
    with runtime.sessions() as db:
        assert db.scalar(select(func.count()).select_from(SafetyContact)) == 0
        db.execute(update(SafetyReport).values(status="closed"))
        db.commit()
    assert t(lang, STATUS_TEXT["closed"]) in _follow(phone, code, lang).screen


def test_cancelling_at_the_review_sends_nothing(phone, runtime, sites):
    p = main_menu(phone, NON_MEMBER, "en")
    for answer in [SAFETY, TELL, "1", "1", "2", "1", "1", "2"]:
        p.send(answer)
    assert p.screen.startswith("CON Send this?")
    assert p.send("2").startswith("CON Minerline")
    assert _reports(runtime) == []


def test_wrong_codes_are_limited_per_phone_across_sessions_and_days(phone, runtime, sites, app):
    _p, code = _report(phone)
    wrong = "1" if code[0] != "1" else "2"
    attempts = 0
    for session in range(2):
        p = main_menu(phone, NON_MEMBER, "en")
        p.send(SAFETY)
        p.send(FOLLOW)
        for _ in range(3 if session == 0 else 2):
            assert p.send(wrong * 8).startswith("CON " + t("en", MSG_NO_SUCH_CODE))
            attempts += 1
    assert attempts == 5
    # the sixth try, even with the right code, learns nothing
    assert _follow(phone, code).screen == "END " + t("en", MSG_TOO_MANY_TRIES)
    # another phone is not held back
    assert "Report" in _follow(phone, code, number=OTHER_PHONE).screen
    # the next day the count starts again
    handler = app.extensions["minerline.hop"]
    handler.now = lambda: datetime.now(UTC) + timedelta(days=1)
    assert "Report" in _follow(phone, code).screen
    with runtime.sessions() as db:
        # one row per phone and day, under a daily key: no number
        assert all(len(row.key) == 64 for row in db.scalars(select(SafetyLimit)))


def test_a_phone_can_make_five_reports_a_day_and_is_then_pointed_to_help(phone, runtime, sites):
    for _ in range(5):
        _report(phone)
    p = main_menu(phone, NON_MEMBER, "en")
    for answer in [SAFETY, TELL, "2", "1", "2", "1", "1", "2", "1"]:
        p.send(answer)
    assert p.screen == "END " + t("en", MSG_LIMIT)
    assert len(_reports(runtime)) == 5
    assert _report(phone, number=OTHER_PHONE)[1]


def test_a_dropped_safety_session_is_never_offered_back_nor_named_to_the_gateway(client, phone, sites):
    p = main_menu(phone, NON_MEMBER, "en")
    p.send("3")  # rights: an ordinary screen would be offered back ...
    p = main_menu(phone, NON_MEMBER, "en")
    for answer in [SAFETY, TELL, "7", "1"]:
        p.send(answer)
    # ... but not the safety flow: the next call starts at the main menu
    again = phone(NON_MEMBER).dial()
    assert again.startswith("CON Minerline") and "cut off" not in again
    # the hop label the gateway keeps next to the number never names a safety screen
    form = {"sessionId": "ATUid_label", "serviceCode": "*384*44#", "phoneNumber": NON_MEMBER, "networkCode": "64110"}
    for text in ("", "4", "4*1"):
        resp = client.post("/ussd", data={**form, "text": text})
        label = resp.headers.get("at-ussd-hop-metadata")
        assert (label == "main") if text == "" else (label is None), (text, label)


def test_the_code_is_random_shown_in_two_groups_and_stored_only_as_a_keyed_hash(phone, runtime, sites):
    codes = {_report(phone, note=None)[1] for _ in range(3)}
    assert len(codes) == 3 and all(re.fullmatch(r"\d{8}", c) for c in codes)
    stored = {r.code_hash for r in _reports(runtime)}
    assert not stored & codes and all(len(h) == 64 for h in stored)


def test_useful_numbers_by_sms_are_neutral_and_keep_no_session_id(phone, runtime, sites, sandbox, work):
    p = main_menu(phone, NON_MEMBER, "lg")
    p.send(SAFETY)
    assert "116" in p.send(NUMBERS)
    assert p.send("1") == "END " + t("lg", MSG_SMS_QUEUED)
    work()
    (message,) = sandbox.messages(NON_MEMBER)
    text = message["message"]
    assert text == t("lg", MSG_HELP_SMS)
    for word in ("report", "code", "harass", "violence", "Wellbeing"):
        assert word.lower() not in text.lower()
    with runtime.sessions() as db:
        row = db.scalar(select(OutboxMessage))
        assert row.purpose == "rights" and p.session_id not in (row.idempotency_key or "")


def test_every_safety_hop_stays_within_three_queries_and_two_redis_round_trips(phone, runtime, sites, member):
    m = member(language="en")
    _p, code = _report(phone, number=OTHER_PHONE)
    with counting(runtime) as budget:
        paths = [
            [SAFETY, TELL, "1", "1", "1", "1", "1", "1", "My words", "1", "1", "1", "2", "0772 000 111"],
            [SAFETY, FOLLOW, "11112222", code, "1", "More words"],
            [SAFETY, FOLLOW, code, "2", "1", "1"],  # be called back on this phone
            [SAFETY, FOLLOW, code, "2", "1"],  # then remove the contact details
            [SAFETY, NUMBERS, "1"],
        ]
        for path in paths:
            budget.reset()
            p = phone(m.phone)
            p.dial()
            assert len(budget.statements) <= 3 and budget.trips <= 2, (budget.statements, budget.trips)
            for value in path:
                budget.reset()
                p.send(value)
                assert len(budget.statements) <= 3, (path, value, budget.statements)
                assert budget.trips <= (2 if not p.screen.startswith("END ") else 2 + 10), (path, value, budget.trips)
            assert p.screen.startswith("END ")
