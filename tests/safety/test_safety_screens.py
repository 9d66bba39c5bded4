"""The safety screens through the pure engine: no Flask, Redis or database."""

from __future__ import annotations

import pytest

from menus import LANGUAGES, Caller
from menus.places import MAX_SITES
from menus.safety import (
    CATEGORIES,
    HELP_FOR,
    ONGOING,
    WHEN,
    WHO,
    AddDetails,
    DeleteContact,
    FileReport,
    LookupFailed,
    SaveContact,
    SendHelpSms,
    clean_text,
    format_code,
    parse_code,
    parse_phone,
)
from tests.formwalk import CATALOGS, ENGINE, assert_fits, longest, pages_fit, probe, run
from tests.menus.fakes import FakeData
from tests.menus.fakes_reports import FakeSafety

MAIN_SAFETY = "4"
ANOTHER_PLACE = str(MAX_SITES + 1)
CODE = "98765432"  # the code FakeSafety knows
CALLERS = {
    "non-member": Caller(),
    "member": Caller(is_member=True, member_id=1, role="member", name="N" * 120),
}
NOTE = "w" * 150


def _engine(**safety):
    data = FakeData()
    data.safety = FakeSafety(**safety)
    return ENGINE.with_data(data)


def _caller(kind: str, lang: str) -> Caller:
    return Caller(**{**CALLERS[kind].__dict__, "language": lang})


def _report_path(lang: str, kind: str, **change: str) -> list[str]:
    a = {
        "cat": str(longest(lang, CATEGORIES)),
        "who": str(longest(lang, WHO)),
        "place": "1",
        "when": str(longest(lang, WHEN)),
        "ongoing": str(longest(lang, ONGOING)),
        "note": "1",
        **change,
    }
    place = [a["place"]] if kind == "member" else ["4", a["place"]]
    if kind == "member" and a["place"] == ANOTHER_PLACE:
        place = [ANOTHER_PLACE, "4", ANOTHER_PLACE]
    note = ["1", NOTE] if a["note"] == "1" else ["2"]
    return [MAIN_SAFETY, "1", a["cat"], a["who"], *place, a["when"], a["ongoing"], *note]


@pytest.mark.parametrize("kind", sorted(CALLERS))
@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_safety_report_screen_fits_with_the_longest_answers(lang, kind):
    engine, caller = _engine(), _caller(kind, lang)
    variations = [{}, {"note": "2"}, {"place": ANOTHER_PLACE}]
    variations += [{"cat": str(n)} for n in range(1, len(CATEGORIES) + 1)]
    variations += [{"who": w, "when": w2, "ongoing": o} for w in "12" for w2 in "123" for o in "123"]
    for change in variations:
        results = run(engine, caller, _report_path(lang, kind, **change))
        review = results[-1]
        assert review.screen == "safety.review", (change, review.text)
        assert all(r.sensitive for r in results[1:]), "every screen after the main menu is sensitive"
        check = probe if not change else pages_fit  # every probe on the longest path; every page on the others
        for result in results[1:]:
            check(engine, caller, result)
        filed = engine.step(review.state, "1", caller)
        assert filed.screen == "safety.filed"
        check(engine, caller, filed)
        # the code is on the first page, whole, whatever the language
        assert format_code(CODE) in filed.text
        for ending in (["1", "4", "1"], ["1", "1", "2", "0772123456"], ["2"], ["3"]):
            steps = run_from(engine, caller, filed, ending)
            for step in steps:
                check(engine, caller, step)
            assert steps[-1].end


def run_from(engine, caller, result, inputs):
    out = []
    for value in inputs:
        result = engine.step(result.state, value, caller)
        out.append(result)
    return out


@pytest.mark.parametrize("lang", LANGUAGES)
def test_follow_up_screens_fit_for_every_status_in_every_language(lang):
    caller = _caller("non-member", lang)
    for status in ("received", "following_up", "closed"):
        for contact in (False, True):
            engine = _engine(status=status, has_contact=contact)
            results = run(engine, caller, [MAIN_SAFETY, "2", CODE])
            assert results[-1].screen == "safety.status"
            for result in results[1:]:
                probe(engine, caller, result)
            for path in (["1"], ["1", NOTE], ["2"], ["2", "1"], ["2", "2"]):
                for step in run_from(engine, caller, results[-1], path):
                    probe(engine, caller, step)
    for limited in (dict(blocked=True), dict(limited=True)):
        engine = _engine(**limited)
        assert_fits(run(engine, caller, [MAIN_SAFETY, "2", CODE])[-1])
        assert_fits(run(engine, caller, _report_path(lang, "non-member") + ["1"])[-1])
    for result in run(_engine(), caller, [MAIN_SAFETY, "3", "1"]):
        probe(_engine(), caller, result)


def test_a_report_carries_its_answers_in_one_effect_and_nothing_of_it_stays_behind():
    caller, engine = _caller("non-member", "en"), _engine()
    review = run(engine, caller, [MAIN_SAFETY, "1", "4", "2", "1", "2", "2", "1", "1", "  paid  half\tonly "])[-1]
    assert "Pay withheld or cut" in review.text and "To someone else, S" in review.text
    assert "This week" in review.text and "Still happening: Yes" in review.text
    filed = engine.step(review.state, "1", caller)
    assert filed.effects == [FileReport(code=CODE, category="pay", witness=True, site_id=2, district="Mubende",
                                        happened="week", ongoing="yes", description="paid half only")]
    # the answers are gone from the session: only the code (to call back) and the category (for help) stay
    assert [f["id"] for f in filed.state["stack"]] == ["main", "safety.filed"]
    assert filed.state["stack"][-1]["p"] == {"code": CODE, "cat": "pay"}
    assert engine.step(filed.state, "0", caller).screen == "main"  # back cannot send it twice
    assert "FIDA-Uganda 0800-111-511" in filed.text.replace("\n", " ") or "98" in filed.text


def test_help_numbers_after_a_report_fit_what_happened_and_are_only_verified_ones():
    verified = {"116", "112", "0800-111-511"}
    t = CATALOGS.translator("en")
    for category, _label in CATEGORIES:
        lines = " ".join(t(line) for line in HELP_FOR[category])
        numbers = {word.strip(".,():") for word in lines.split() if any(ch.isdigit() for ch in word)}
        assert numbers and numbers <= verified, (category, numbers)
    assert "116" in " ".join(t(x) for x in HELP_FOR["child"])
    assert "0800-111-511" in " ".join(t(x) for x in HELP_FOR["pay"])
    assert "112" in " ".join(t(x) for x in HELP_FOR["pit"])


def test_calling_back_this_phone_keeps_no_number_in_the_session():
    caller, engine = _caller("non-member", "en"), _engine()
    filed = engine.step(run(engine, caller, _report_path("en", "non-member"))[-1].state, "1", caller)
    which = run_from(engine, caller, filed, ["1", "3"])[-1]
    assert which.screen == "safety.call.number"
    this_phone = engine.step(which.state, "1", caller)
    assert this_phone.end and this_phone.effects == [SaveContact(CODE, "evening", None)]
    other = run_from(engine, caller, which, ["2", "0701 234 567"])[-1]
    assert other.end and other.effects == [SaveContact(CODE, "evening", "+256701234567")]
    bad = run_from(engine, caller, which, ["2", "12345"])[-1]
    assert bad.text.startswith("CON Not a phone number.") and bad.screen == "safety.call.other"


def test_follow_up_by_code_shows_status_adds_details_and_removes_contact():
    caller = _caller("non-member", "en")
    engine = _engine(status="following_up", has_contact=True)
    status = run(engine, caller, [MAIN_SAFETY, "2", "9876 5432"])[-1]
    assert "Report 9876 5432:" in status.text and "It is being followed up." in status.text
    assert "2 Remove my contact details" in status.text
    added = run_from(engine, caller, status, ["1", "The owner still has not paid"])[-1]
    assert added.end and added.effects == [AddDetails(CODE, "The owner still has not paid")]
    gone = run_from(engine, caller, status, ["2", "1"])[-1]
    assert gone.end and gone.effects == [DeleteContact(CODE)]
    kept = run_from(engine, caller, status, ["2", "2"])[-1]
    assert kept.screen == "safety.status" and not kept.effects
    no_contact = run(_engine(), caller, [MAIN_SAFETY, "2", CODE])[-1]
    assert "2 Ask to be called back" in no_contact.text
    assert engine.step(no_contact.state, "2", caller).screen == "safety.call"


def test_a_wrong_code_is_counted_and_a_blocked_phone_learns_nothing_about_the_code():
    caller = _caller("non-member", "en")
    wrong = run(_engine(), caller, [MAIN_SAFETY, "2", "11112222"])[-1]
    assert wrong.text.startswith("CON No report has that code.") and wrong.effects == [LookupFailed()]
    malformed = run(_engine(), caller, [MAIN_SAFETY, "2", "1234"])[-1]
    assert malformed.text.startswith("CON Type the 8 numbers.") and malformed.effects == []
    blocked = run(_engine(blocked=True), caller, [MAIN_SAFETY, "2", CODE])[-1]
    assert blocked.end and "Too many tries today" in blocked.text and blocked.effects == []


def test_too_many_reports_today_still_shows_where_to_get_help():
    caller = _caller("non-member", "en")
    review = run(_engine(limited=True), caller, _report_path("en", "non-member"))[-1]
    refused = _engine(limited=True).step(review.state, "1", caller)
    assert refused.end and "116" in refused.text and "112" in refused.text and refused.effects == []


def test_useful_numbers_by_sms_only_when_asked():
    caller = _caller("non-member", "sw")
    numbers = run(_engine(), caller, [MAIN_SAFETY, "3"])[-1]
    assert "116" in numbers.text and numbers.effects == []
    sent = _engine().step(numbers.state, "1", caller)
    assert sent.end and sent.effects == [SendHelpSms("sw")]


def test_safety_is_never_offered_on_resume_and_leaving_with_00_goes_home():
    caller, engine = _caller("non-member", "en"), _engine()
    results = run(engine, caller, _report_path("en", "non-member"))
    for result in results[1:]:
        assert result.sensitive
        assert ENGINE.start(caller, saved={"lang": "en", "stack": result.state["stack"]}).screen == "main"
        assert engine.step(result.state, "00", caller).screen == "main"


def test_codes_and_numbers_are_read_as_typed():
    assert parse_code("1234 5678") == parse_code("12345678") == "12345678"
    assert parse_code("1234567") is None and parse_code("1234567a") is None and parse_code("١٢٣٤٥٦٧٨") is None
    assert parse_phone("0772 123 456") == parse_phone("+256772123456") == parse_phone("772123456") == "+256772123456"
    assert parse_phone("256772123456") == "+256772123456"
    assert parse_phone("0412123456") is None and parse_phone("12") is None
    assert format_code("01234567") == "0123 4567"
    assert clean_text(" a\x00b\n c ") == "ab c"
