"""Whatever is typed on any safety screen, the answer is a valid screen and nothing breaks."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz import FUZZ, answers, languages, throw
from tests.ussd_steps import main_menu

REPORT = ["4", "1", "1", "1", "1", "1", "1", "1", "1", "Seen at the pit", "1"]
PATHS = {
    "safety": ["4"],
    "safety.what": REPORT[:2],
    "safety.who": REPORT[:3],
    "safety.district": REPORT[:4],
    "safety.site": REPORT[:5],
    "safety.when": REPORT[:6],
    "safety.ongoing": REPORT[:7],
    "safety.note.ask": REPORT[:8],
    "safety.note": REPORT[:9],
    "safety.review": REPORT[:10],
    "safety.filed": REPORT,
    "safety.call": REPORT + ["1"],
    "safety.call.number": REPORT + ["1", "1"],
    "safety.call.other": REPORT + ["1", "1", "2"],
    "safety.code": ["4", "2"],
    "safety.status": ["4", "2", "{code}"],
    "safety.more": ["4", "2", "{code}", "1"],
    "safety.forget": ["4", "2", "{contact_code}", "2"],
    "safety.help": ["4", "3"],
}


@pytest.fixture
def codes(phone, sites):  # type: ignore[no-untyped-def]
    """Two reports to follow up: one plain, one with contact details to remove."""
    found = {}
    for name, ending in (("code", ["3"]), ("contact_code", ["1", "1", "1"])):
        p = main_menu(phone, "+256700000001" if name == "code" else "+256700000002", "en")
        for value in REPORT:
            p.send(value)
        found[name] = "".join(re.search(r"(\d{4}) (\d{4})", p.screen).groups())
        for value in ending:
            p.send(value)
    return found


@FUZZ
@given(screen=st.sampled_from(sorted(PATHS)), lang=languages, inputs=answers)
def test_any_input_on_any_safety_screen_gets_a_valid_answer(phone, codes, screen, lang, inputs):
    throw(phone, lang, [step.format(**codes) for step in PATHS[screen]], inputs)


def test_the_fuzzing_reaches_every_safety_screen():
    from menus.safety import SCREENS as SAFETY_SCREENS

    assert {s.id for s in SAFETY_SCREENS} == set(PATHS)
