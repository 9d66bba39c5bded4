"""The pure engine: no Flask, Redis or database; no fixtures."""

from __future__ import annotations

import uuid
from pathlib import Path

from gsm7 import gsm7_length
from menus import Caller, Catalogs, SendTopicSms, SetLanguage, build_engine
from menus.engine import LIMIT, Engine, Go, Screen, Stay, View, _fill, _paginate

LOCALES = Path(__file__).resolve().parents[2] / "locales"
CATALOGS = Catalogs.load(LOCALES)
ENGINE = build_engine(CATALOGS)
EN = Caller(language="en")


def go(engine: Engine, caller: Caller, *inputs: str):
    result = engine.start(caller)
    for value in inputs:
        assert not result.end, f"session ended before {value!r}: {result.text}"
        result = engine.step(result.state, value, caller)
    return result


def test_first_use_asks_for_language_in_all_three_languages():
    text = ENGINE.start(Caller()).text
    assert text.startswith("CON ")
    assert "1 English" in text and "2 Luganda" in text and "3 Kiswahili" in text
    assert " / " in text  # the prompt is shown in each language


def test_choosing_a_language_shows_main_menu_in_it_and_asks_to_remember_it():
    result = go(ENGINE, Caller(), "3")
    assert result.effects == [SetLanguage("sw")]
    assert result.state["lang"] == "sw"
    assert "Haki zangu" in result.text or "3 " in result.text


def test_main_menu_has_every_area_and_leader_tools_only_for_leaders():
    member = go(ENGINE, Caller(is_member=True, role="member", language="en")).text
    leader = go(ENGINE, Caller(is_member=True, role="treasurer", language="en")).text
    for label in ("My savings", "Wages", "My rights", "Wellbeing", "Meetings", "Language"):
        assert label in member and label in leader
    assert "Leader tools" not in member
    assert "7 Leader tools" in leader
    assert "Leader tools" not in go(ENGINE, Caller(role="chair", language="en")).text  # not a member


def test_safety_entry_is_neutrally_labelled_in_every_language():
    for lang in ("en", "lg", "sw"):
        text = go(ENGINE, Caller(language=lang)).text.lower()
        for word in ("abuse", "violence", "report", "harass", "vurugu", "ripoti", "obukambwe"):
            assert word not in text


def test_bad_input_shows_same_screen_with_a_reason():
    before = go(ENGINE, EN, "3").text
    after = go(ENGINE, EN, "3", "9")
    assert after.text.startswith("CON Choose a number.")
    assert before[4:] .split("\n")[0] in after.text
    assert after.state["stack"][-1]["id"] == "rights"


def test_back_goes_one_screen_and_home_goes_to_main_menu():
    assert go(ENGINE, EN, "3", "1", "0").state["stack"][-1]["id"] == "rights"
    assert go(ENGINE, EN, "3", "1", "2", "00").state["stack"] == [{"id": "main", "p": {}, "pg": 0}]
    # 0 on the main menu stays there
    assert go(ENGINE, EN, "0").state["stack"][-1]["id"] == "main"


def test_long_topic_pages_with_98_and_0_goes_back_a_page():
    first = go(ENGINE, EN, "3", "1", "1")
    assert "98 More" in first.text
    second = ENGINE.step(first.state, "98", EN)
    assert second.state["stack"][-1]["pg"] == 1
    assert second.text != first.text
    assert ENGINE.step(second.state, "0", EN).text == first.text


def test_send_by_sms_ends_with_short_screen_and_an_effect():
    result = go(ENGINE, EN, "3", "5", "1", "1")
    assert result.end
    assert result.effects == [SendTopicSms("help.gbv", "en")]
    assert gsm7_length(result.text) <= LIMIT


def test_star_typed_by_user_is_just_bad_input_here():
    result = go(ENGINE, EN, "3", "1*2")
    assert result.text.startswith("CON Choose a number.")


def test_98_where_there_is_no_more_is_bad_input():
    assert go(ENGINE, EN, "98").text.startswith("CON Choose a number.")


def test_resume_offer_restores_screens_and_start_again_goes_home():
    dropped = go(ENGINE, EN, "3", "2", "1").state
    offer = ENGINE.start(EN, saved={"lang": "en", "stack": dropped["stack"]})
    assert offer.state["stack"][-1]["id"] == "resume"
    resumed = ENGINE.step(offer.state, "1", EN)
    assert resumed.state["stack"] == dropped["stack"]
    assert resumed.state["auth"] is False  # a PIN screen would ask again
    assert ENGINE.step(offer.state, "2", EN).state["stack"][-1]["id"] == "main"


def test_resume_is_never_offered_into_the_safety_flow():
    saved = {"lang": "en", "stack": [{"id": "main", "p": {}, "pg": 0}, {"id": "safety", "p": {}, "pg": 0}]}
    assert ENGINE.start(EN, saved=saved).state["stack"][-1]["id"] == "main"


def test_meetings_for_someone_who_is_not_a_member_ends_kindly():
    result = go(ENGINE, EN, "5")
    assert result.end and "Meetings are for members of a cooperative." in result.text


def test_savings_for_someone_who_is_not_a_member_ends_kindly():
    result = go(ENGINE, EN, "1")
    assert result.end and "Ask your group leader" in result.text


def test_fill_never_splits_an_option_line():
    lines = [("word " * 30, True), ("1 Send me this by SMS", False)]
    page, rest = _fill(lines, 150)
    assert rest == [("1 Send me this by SMS", False)]


def test_pages_cover_the_whole_text_in_order():
    text = " ".join(f"w{i}" for i in range(400))
    pages = ENGINE._pages(View(text=text, options=[("1", "Send")]), CATALOGS.translator("en"))
    joined = " ".join(p.replace("\n", " ") for p in pages)
    assert joined == text + " 1 Send"


class _Text(Screen):
    def __init__(self, id: str, text: str, protected: bool = False, sensitive: bool = False,
                 to: str | None = None) -> None:
        self.id, self.text, self.protected, self.sensitive, self.to = id, text, protected, sensitive, to

    def view(self, ctx, params):  # type: ignore[no-untyped-def]
        return View(text=self.text, options=[("1", "On")] if self.to else ())

    def handle(self, ctx, params, choice):  # type: ignore[no-untyped-def]
        return Go(self.to) if self.to and choice == "1" else Stay()


def test_pages_of_the_safety_flow_and_of_pin_screens_are_not_kept():
    def kept_after(*inputs: str) -> int:
        before = _paginate.cache_info().currsize
        go(engine, EN, *inputs)
        return _paginate.cache_info().currsize - before

    _paginate.cache_clear()
    engine = Engine([_Text("main", "Home " + uuid.uuid4().hex, to="balance"), _Text("lang.first", "Language?"),
                     _Text("resume", "Go on?"), _Text("balance", "Balance " + uuid.uuid4().hex * 9, protected=True,
                                                      to="report"),
                     _Text("report", "What happened " + uuid.uuid4().hex, sensitive=True)], CATALOGS)
    assert kept_after() == 1  # the home screen: the same text for everyone
    assert kept_after("1", "98") == 0  # behind the PIN, and paged
    assert kept_after("1", "1") == 0  # in the safety flow
