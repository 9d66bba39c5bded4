"""Wage reports and "what others earn" through POST /ussd, with real Redis and a real database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app import create_app
from menus import LANGUAGES
from menus.wages import MSG_HIDDEN, MSG_SAVED
from models import OutboxMessage, WageReport
from models.wages import place_key
from sms.runtime import build_runtime
from tests.budget import counting
from tests.helpers import Phone
from tests.ussd_steps import (
    is_same_screen_with_a_reason,
    leave_with_00_at_each_step,
    main_menu,
    t,
    walk_checking_each_step,
)

NON_MEMBER = "+256700000009"
WAGES = "2"
REPORT, EARN = "1", "2"
# District numbers: 1 Mubende (sites Kitumbi, Lujinji B), 2 Kassanda (no sites), 3 Busia (Tiira), 7 Amudat, 8 another.
JOURNEYS = [
    # role, place answers, pay form, amount typed, day, full, gender -> (site, district, amount)
    ("1", ["1", "1"], "1", "3000", "1", "1", "1", ("Kitumbi", "Mubende", 3000)),
    ("2", ["1", "2"], "2", "4,500", "2", "2", "2", ("Lujinji B", "Mubende", 4500)),
    ("3", ["1", "3"], "3", "10 000", "1", "2", "3", (None, "Mubende", 10000)),
    ("4", ["2"], "1", "500", "2", "1", "1", (None, "Kassanda", 500)),
    ("5", ["3", "1"], "2", "500000", "1", "1", "2", ("Tiira", "Busia", 500000)),
    ("6", ["8"], "3", "2500", "2", "2", "3", (None, "Other", 2500)),
    ("7", ["7"], "1", " 7,000 ", "1", "1", "1", (None, "Amudat", 7000)),
]
ROLES = ["panner", "crusher", "ore_dryer", "digger", "carrier", "trader_helper", "other"]
FORMS = {"1": "day", "2": "sack", "3": "ore_share"}
GENDERS = {"1": "female", "2": "male", "3": None}


def _rows(runtime) -> list[WageReport]:  # type: ignore[no-untyped-def]
    with runtime.sessions() as db:
        return list(db.scalars(select(WageReport).order_by(WageReport.id)))


def _seed(runtime, rows) -> None:  # type: ignore[no-untyped-def]
    """(site_id, district, day, reporter, amount) rows of crushers' pay."""
    with runtime.sessions() as db, db.begin():
        for site_id, district, day, reporter, amount in rows:
            db.add(WageReport(reporter=reporter, role="crusher", site_id=site_id, district=district,
                              place=place_key(site_id, district), pay_form="day", amount=amount, paid_full=True,
                              gender=None, day=day))


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_way_of_reporting_pay_is_saved_as_given_in_every_language(phone, runtime, sites, lang):
    today = runtime.settings.local_date()
    for role, place, form, amount, day, full, gender, _ in JOURNEYS:
        p = main_menu(phone, NON_MEMBER, lang)
        for answer in [WAGES, REPORT, role, *place, form, amount, day, full, gender]:
            assert p.send(answer).startswith("CON ")
        assert p.send("1").startswith("CON " + t(lang, MSG_SAVED))  # then what others earn
    rows = _rows(runtime)
    assert len(rows) == len(JOURNEYS)
    for row, journey in zip(rows, JOURNEYS, strict=True):
        role, _place, form, _amount, day, full, gender, (site, district, amount) = journey
        assert row.role == ROLES[int(role) - 1] and row.pay_form == FORMS[form] and row.amount == amount
        assert row.site_id == (sites[site] if site else None) and row.district == district
        assert row.day == today - timedelta(days=1 if day == "2" else 0)
        assert row.paid_full is (full == "1") and row.gender == GENDERS[gender]
        assert len(row.reporter) == 64 and "700000009" not in row.reporter


@pytest.mark.parametrize("lang", LANGUAGES)
def test_members_pick_their_cooperatives_site_or_another_place(phone, runtime, sites, member, lang):
    m = member(language=lang)
    p = main_menu(phone, m.phone, lang)
    for answer in [WAGES, REPORT, "2", "2", "1", "6000", "1", "1", "3", "1"]:  # Lujinji B
        p.send(answer)
    p = main_menu(phone, m.phone, lang)
    for answer in [WAGES, REPORT, "2", "3", "3", "1", "1", "6000", "1", "1", "3", "1"]:  # another place: Busia, Tiira
        p.send(answer)
    assert [(r.site_id, r.district) for r in _rows(runtime)] == [(sites["Lujinji B"], "Mubende"),
                                                                (sites["Tiira"], "Busia")]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_bad_input_back_and_home_at_every_step_of_a_report(phone, runtime, sites, lang):
    steps = [(WAGES, "9"), (REPORT, "9"), ("2", "9"), ("1", "9"), ("2", "9"), ("2", "9"), ("5000", "abc"),
             ("1", "9"), ("2", "9"), ("3", "9"), ("1", "9")]
    screens = walk_checking_each_step(phone, NON_MEMBER, lang, steps)
    assert screens[-1].startswith("CON " + t(lang, MSG_SAVED))
    assert len(_rows(runtime)) == 1  # the walk back and forth saved once
    leave_with_00_at_each_step(phone, NON_MEMBER, lang, [a for a, _ in steps[:-1]])
    assert len(_rows(runtime)) == 1


@pytest.mark.parametrize("lang", LANGUAGES)
def test_bad_input_and_home_at_every_step_of_what_others_earn(phone, sites, lang):
    steps = [(WAGES, "9"), (EARN, "9"), ("3", "9"), ("3", "9"), ("1", "9")]
    screens = walk_checking_each_step(phone, NON_MEMBER, lang, steps)
    assert t(lang, MSG_HIDDEN) in screens[-1]
    p = main_menu(phone, NON_MEMBER, lang)
    for answer, _ in steps:
        p.send(answer)
    assert is_same_screen_with_a_reason(screens[-1], p.send("1"))  # nothing to send while figures are hidden
    leave_with_00_at_each_step(phone, NON_MEMBER, lang, [a for a, _ in steps])


def test_amounts_out_of_range_or_not_numbers_ask_again_without_losing_the_answers(phone, sites):
    p = main_menu(phone, NON_MEMBER, "en")
    for answer in [WAGES, REPORT, "2", "1", "1", "1"]:
        p.send(answer)
    amount = p.screen
    for typed, reason in (("abc", "Numbers only"), ("5.000", "Numbers only"), ("499", "From 500"),
                          ("600,000", "From 500"), ("5000/=", "Numbers only")):
        assert p.send(typed).startswith("CON " + reason)
        assert is_same_screen_with_a_reason(amount, p.screen)
    assert p.send("5 000").startswith("CON For which day?")


def test_one_person_counts_once_per_role_site_and_day_and_days_cannot_be_linked(phone, runtime, sites):
    def report(amount: str, day: str = "1", role: str = "2") -> None:
        p = main_menu(phone, NON_MEMBER, "en")
        for answer in [WAGES, REPORT, role, "1", "1", "1", amount, day, "1", "3", "1"]:
            p.send(answer)

    report("5000")
    report("6000")  # the same day again: replaces the first
    rows = _rows(runtime)
    assert [(r.amount, r.role) for r in rows] == [(6000, "crusher")]
    report("4000", day="2")  # yesterday: a day of its own
    report("3000", role="1")  # another role today: counts too
    rows = _rows(runtime)
    assert sorted(r.amount for r in rows) == [3000, 4000, 6000]
    by_day = {r.day: r.reporter for r in rows}
    assert len(by_day) == 2 and len(set(by_day.values())) == 2  # a different key each day
    today_rows = [r for r in rows if r.day == max(by_day)]
    assert len({r.reporter for r in today_rows}) == 1  # one person today, whatever the role


def test_what_others_earn_is_hidden_below_5_people_and_shown_from_5(phone, runtime, sites):
    today = runtime.settings.local_date()
    kitumbi = sites["Kitumbi"]
    _seed(runtime, [(kitumbi, "Mubende", today, f"p{n}", 5000 + 1000 * n) for n in range(4)])
    p = main_menu(phone, NON_MEMBER, "en")
    for answer in [WAGES, EARN, "2", "1"]:
        p.send(answer)
    hidden = p.send("1")
    assert "Fewer than 5 people" in hidden and "UGX" not in hidden and "SMS" not in hidden
    _seed(runtime, [(kitumbi, "Mubende", today, "p4", 9000)])
    p = main_menu(phone, NON_MEMBER, "en")
    for answer in [WAGES, EARN, "2", "1"]:
        p.send(answer)
    shown = p.send("1")
    assert "Crusher, Kitumbi, last 30 days" in shown
    assert "Middle pay 7,000 UGX a day" in shown and "Half got 6,000 to 8,000" in shown
    assert "5 reports, at least 5 people" in shown


def test_five_reports_by_fewer_than_5_different_people_stay_hidden(phone, runtime, sites):
    # Hashes change daily: the same 2 people reporting on 5 days might be anyone, so nothing is shown.
    today = runtime.settings.local_date()
    _seed(runtime, [(sites["Kitumbi"], "Mubende", today - timedelta(days=d), f"d{d}p{n}", 5000)
                    for d in range(5) for n in range(2)])
    p = main_menu(phone, NON_MEMBER, "en")
    for answer in [WAGES, EARN, "2", "1", "1"]:
        p.send(answer)
    assert "Fewer than 5 people" in p.screen


def test_a_site_with_too_few_shows_its_district_with_the_trend(phone, runtime, sites):
    today = runtime.settings.local_date()
    recent = [(sites["Kitumbi"], "Mubende", today, f"k{n}", 6000) for n in range(2)]
    recent += [(sites["Lujinji B"], "Mubende", today, f"l{n}", 8000) for n in range(3)]
    recent += [(sites["Tiira"], "Busia", today, f"t{n}", 1000) for n in range(5)]  # another district: not counted
    before = [(sites["Lujinji B"], "Mubende", today - timedelta(days=40), f"b{n}", 5000) for n in range(5)]
    too_old = [(sites["Lujinji B"], "Mubende", today - timedelta(days=61), f"o{n}", 1) for n in range(5)]
    _seed(runtime, recent + before + too_old)
    p = main_menu(phone, NON_MEMBER, "en")
    for answer in [WAGES, EARN, "2", "1", "1"]:
        p.send(answer)
    text = p.screen.replace("\n", " ")
    while "\n98 " in p.screen:
        text += " " + p.send("98").replace("\n", " ")
    assert "Too few reports at Kitumbi. For all of Mubende:" in text
    assert "Middle pay 8,000 UGX a day" in text and "Up from 5,000 in the 30 days before" in text


def test_what_others_earn_arrives_by_sms_when_asked(phone, runtime, sites, sandbox, work):
    today = runtime.settings.local_date()
    _seed(runtime, [(sites["Tiira"], "Busia", today, f"p{n}", 4000) for n in range(6)])
    p = main_menu(phone, NON_MEMBER, "sw")
    for answer in [WAGES, EARN, "2", "3", "1"]:
        p.send(answer)
    assert "4,000" in p.screen
    assert p.send("1").startswith("END ")
    assert p.repeat() == p.screen
    work()
    (sms,) = sandbox.messages(NON_MEMBER)
    assert sms["message"].startswith("Minerline: ") and "4,000" in sms["message"] and "Tiira" in sms["message"]
    with runtime.sessions() as db:
        assert db.scalar(select(func.count()).select_from(OutboxMessage)) == 1
        assert db.scalar(select(OutboxMessage.purpose)) == "wages"


def test_every_wage_hop_stays_within_three_queries_and_two_redis_round_trips(phone, runtime, sites, member):
    m = member(language="en")
    today = runtime.settings.local_date()
    _seed(runtime, [(sites["Kitumbi"], "Mubende", today, f"p{n}", 4000) for n in range(6)])
    with counting(runtime) as budget:
        p = phone(m.phone)
        p.dial()  # the first hop of the day also fetches the daily keys, in the same round trip
        assert len(budget.statements) <= 3 and budget.trips <= 2, (budget.statements, budget.trips)
        for value in [WAGES, REPORT, "2", "1", "1", "5000", "1", "1", "3", "1", "1"]:
            budget.reset()
            p.send(value)
            assert len(budget.statements) <= 3, (value, budget.statements)
            # the enqueue on the hop that sends the SMS is not counted
            assert budget.trips <= (2 if not p.screen.startswith("END ") else 2 + 10), (value, budget.trips)
    assert p.screen.startswith("END ")


def test_reports_for_yesterday_use_yesterdays_key_from_any_process(runtime, phone, sites):
    # Two web processes: the second must hash with the key the first made, which lives only in Redis.
    p = main_menu(phone, NON_MEMBER, "en")
    for answer in [WAGES, REPORT, "2", "1", "1", "1", "5000", "2", "1", "3", "1"]:
        p.send(answer)
    other_runtime = build_runtime(runtime.settings)
    try:
        other = create_app(runtime.settings, runtime=other_runtime).test_client()
        q = main_menu(lambda number: Phone(other, number), NON_MEMBER, "en")
        for answer in [WAGES, REPORT, "2", "1", "1", "1", "7000", "2", "1", "3", "1"]:
            q.send(answer)
    finally:
        other_runtime.close()
    assert [r.amount for r in _rows(runtime)] == [7000]  # the same person, the same day: replaced
    assert runtime.redis.keys("ml:daily:wages:*")  # and the key is in Redis, nowhere else
