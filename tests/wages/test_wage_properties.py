"""Whatever is typed on any wage screen, the answer is a valid screen and nothing breaks."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz import FUZZ, answers, languages, throw

REPORT = ["2", "1", "1", "1", "1", "1", "5000", "1", "1", "1"]
SCREENS = {
    "wages": ["2"],
    "wages.role": REPORT[:2],
    "wages.district": REPORT[:3],
    "wages.site": REPORT[:4],
    "wages.form": REPORT[:5],
    "wages.amount": REPORT[:6],
    "wages.day": REPORT[:7],
    "wages.full": REPORT[:8],
    "wages.gender": REPORT[:9],
    "wages.confirm": REPORT[:10],
    "wages.earn": REPORT + ["1"],
    "wages.earn (view)": ["2", "2", "1", "3", "1"],
}


@FUZZ
@given(screen=st.sampled_from(sorted(SCREENS)), lang=languages, inputs=answers)
def test_any_input_on_any_wage_screen_gets_a_valid_answer(phone, sites, screen, lang, inputs):
    throw(phone, lang, SCREENS[screen], inputs)


def test_the_fuzzing_reaches_every_wage_screen():
    from menus.wages import SCREENS as WAGE_SCREENS

    shown = {s.id for s in WAGE_SCREENS} - {"wages.placed"}  # a router, never shown
    assert shown == {name.split(" ")[0] for name in SCREENS}
