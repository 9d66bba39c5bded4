"""The wage screens through the pure engine: no Flask, Redis or database."""

from __future__ import annotations

import pytest

from menus import LANGUAGES, Caller
from menus.places import DISTRICTS, MAX_SITES
from menus.wages import (
    PAY_FORMS,
    ROLES,
    Earnings,
    Figures,
    RecordWage,
    SendWageSms,
    earnings_text,
    parse_shillings,
)
from tests.formwalk import CATALOGS, ENGINE, assert_fits, longest, pages_fit, probe, run
from tests.menus.fakes import FakeData
from tests.menus.fakes_reports import FakePlaces, FakeWages

MAIN_WAGES = "2"
ANOTHER_PLACE = str(MAX_SITES + 1)
ANOTHER_DISTRICT = str(len(DISTRICTS) + 1)
CALLERS = {
    "non-member": Caller(),
    "member": Caller(is_member=True, member_id=1, role="member", name="N" * 120),
}
YES_NO = (("yes", "Yes"), ("no", "No"))
DAYS = (("today", "Today"), ("yesterday", "Yesterday"))
GENDERS = (("female", "Woman"), ("male", "Man"), ("", "Skip"))


def _engine(**wages):
    data = FakeData()
    data.wages = FakeWages(**wages)
    return ENGINE.with_data(data)


def _caller(kind: str, lang: str) -> Caller:
    return Caller(**{**CALLERS[kind].__dict__, "language": lang})


def _place(kind: str, site: str, district: str | None = None) -> list[str]:
    """Answers that choose a site (a number, or "another place") as this kind of caller does."""
    if kind == "member":
        return [site] if site != ANOTHER_PLACE else [ANOTHER_PLACE, district or "5", ANOTHER_PLACE]
    return [district or "5", site]


def _report_path(lang: str, kind: str, **change: str) -> list[str]:
    answers = {
        "role": str(longest(lang, ROLES)),
        "place": "1",
        "form": str(longest(lang, PAY_FORMS)),
        "amount": "500,000",
        "day": str(longest(lang, DAYS)),
        "full": str(longest(lang, (("yes", "Paid in full"), ("no", "Not paid in full")))),
        "gender": str(longest(lang, GENDERS)),
        **change,
    }
    return [MAIN_WAGES, "1", answers["role"], *_place(kind, answers["place"]), answers["form"], answers["amount"],
            answers["day"], answers["full"], answers["gender"]]


@pytest.mark.parametrize("kind", sorted(CALLERS))
@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_wage_report_screen_fits_with_the_longest_answers(lang, kind):
    engine, caller = _engine(), _caller(kind, lang)
    variations = [{}]
    variations += [{"role": str(n)} for n in range(1, len(ROLES) + 1)]
    variations += [{"form": str(n)} for n in range(1, len(PAY_FORMS) + 1)]
    variations += [{"place": ANOTHER_PLACE}, {"place": str(MAX_SITES)}]
    variations += [{"day": d, "full": f, "gender": g} for d in "12" for f in "12" for g in "123"]
    variations += [{"amount": a} for a in ("500", "1 000", "25,500")]
    for change in variations:
        results = run(engine, caller, _report_path(lang, kind, **change))
        confirm = results[-1]
        assert confirm.screen == "wages.confirm", (change, confirm.text)
        check = probe if not change else pages_fit  # every probe on the longest path; every page on the others
        for result in results[1:]:
            check(engine, caller, result)
        saved = engine.step(confirm.state, "1", caller)
        assert saved.screen == "wages.earn"
        check(engine, caller, saved)
        assert_fits(engine.step(saved.state, "1", caller))


@pytest.mark.parametrize("scope,before", [("site", True), ("district", True), ("district", False), ("none", True)])
@pytest.mark.parametrize("lang", LANGUAGES)
def test_what_others_earn_fits_in_every_language_whatever_it_says(lang, scope, before):
    for kind in CALLERS:
        engine, caller = _engine(scope=scope, before=before), _caller(kind, lang)
        for place in ("1", ANOTHER_PLACE):
            results = run(engine, caller, [MAIN_WAGES, "2", str(longest(lang, ROLES)), *_place(kind, place)])
            assert results[-1].screen == "wages.earn"
            probe(engine, caller, results[-1])


def test_report_carries_every_answer_and_back_from_the_figures_goes_home():
    caller = _caller("non-member", "en")
    engine = _engine()
    confirm = run(engine, caller, [MAIN_WAGES, "1", "2", "3", "1", "2", " 6,500 ", "2", "2", "1"])[-1]
    assert "Crusher, S" in confirm.text and "6,500 UGX, Yesterday" in confirm.text
    assert "Not paid in full" in confirm.text
    saved = engine.step(confirm.state, "1", caller)
    assert saved.effects == [RecordWage(role="crusher", site_id=1, district="Busia", pay_form="sack", amount=6500,
                                        yesterday=True, paid_full=False, gender="female")]
    assert saved.text.startswith("CON Saved. Thank you.")
    assert engine.step(saved.state, "0", caller).screen == "main"


def test_skipping_gender_records_none_and_cancel_saves_nothing():
    caller, engine = _caller("non-member", "en"), _engine()
    path = [MAIN_WAGES, "1", "1", ANOTHER_DISTRICT, ANOTHER_PLACE, "1", "5000", "1", "1", "3"]
    confirm = run(engine, caller, path)[-1]
    saved = engine.step(confirm.state, "1", caller)
    assert saved.effects[0].gender is None and saved.effects[0].district == "Other"
    cancelled = engine.step(confirm.state, "2", caller)
    assert cancelled.screen == "main" and cancelled.effects == []


@pytest.mark.parametrize("typed,reason", [("abc", "Numbers only"), ("5k", "Numbers only"), ("5.000", "Numbers only"),
                                          ("499", "From 500 to 500,000"), ("500001", "From 500 to 500,000"),
                                          ("", "Numbers only"), ("٥٠٠٠", "Numbers only")])
def test_a_bad_amount_asks_again_with_a_reason_and_keeps_the_answers_so_far(typed, reason):
    caller, engine = _caller("non-member", "en"), _engine()
    amount = run(engine, caller, [MAIN_WAGES, "1", "2", "3", "1", "2"])[-1]
    again = engine.step(amount.state, typed, caller)
    assert again.screen == "wages.amount" and again.text.startswith("CON " + reason)
    assert again.state["stack"] == amount.state["stack"]
    assert engine.step(again.state, "5 000", caller).screen == "wages.day"


def test_amounts_tolerate_commas_and_spaces_only():
    assert parse_shillings("5,000") == parse_shillings("5 000") == parse_shillings("5000") == 5000
    assert parse_shillings("5.000") is None and parse_shillings("5000/=") is None and parse_shillings("") is None


def test_what_others_earn_can_be_sent_by_sms_only_when_figures_are_shown():
    caller = _caller("non-member", "en")
    shown = run(_engine(scope="site"), caller, [MAIN_WAGES, "2", "2", "5", "1"])[-1]
    sent = ENGINE.with_data(FakeData()).step(shown.state, "1", caller)
    assert sent.end and sent.effects == [SendWageSms("crusher", 1, "Buhweju", "S" * 22, "en")]
    hidden = run(_engine(scope="none"), caller, [MAIN_WAGES, "2", "2", "5", "1"])[-1]
    assert "Fewer than 5 people" in hidden.text and "SMS" not in hidden.text
    nothing = _engine(scope="none").step(hidden.state, "1", caller)
    assert nothing.screen == "wages.earn" and not nothing.effects


def test_figures_text_says_median_middle_half_people_and_trend():
    t = CATALOGS.translator("en")
    now = Figures(median=6000, low=5000, high=7000, reports=12, people=6)
    up = earnings_text(t, "crusher", "Kitumbi", "Mubende", Earnings("site", now, Figures(5500, 5000, 6000, 9, 5)), True)
    assert "Crusher, Kitumbi, last 30 days" in up and "Middle pay 6,000 UGX a day" in up
    assert "Half got 5,000 to 7,000" in up and "12 reports, at least 6 people" in up and "Up from 5,500" in up
    down = earnings_text(t, "crusher", "Kitumbi", "Mubende", Earnings("district", now, Figures(7000, 1, 1, 5, 5)), True)
    assert down.startswith("Too few reports at Kitumbi. For all of Mubende:") and "Down from 7,000" in down
    same = earnings_text(t, "crusher", "Mubende", "Mubende", Earnings("district", now, now), False)
    assert "Too few" not in same.split("\n")[0] and "The same as in the 30 days before" in same
    assert "Too few reports in the 30 days before" in earnings_text(t, "crusher", "K", "M", Earnings("site", now), True)


def test_members_choose_among_their_cooperatives_sites_and_others_by_district():
    member, other = _caller("member", "en"), _caller("non-member", "en")
    engine = _engine()
    assert run(engine, member, [MAIN_WAGES, "1", "1"])[-1].screen == "wages.site"
    assert run(engine, other, [MAIN_WAGES, "1", "1"])[-1].screen == "wages.district"
    # a member whose cooperative has no sites is asked for the district
    data = FakeData()
    data.places = FakePlaces(sites=0)
    bare = ENGINE.with_data(data)
    assert run(bare, member, [MAIN_WAGES, "1", "1"])[-1].screen == "wages.district"
    # a district without known sites goes straight on, and back skips the empty site list
    form = run(bare, other, [MAIN_WAGES, "1", "1", "3"])[-1]
    assert form.screen == "wages.form"
    assert bare.step(form.state, "0", other).screen == "wages.district"
