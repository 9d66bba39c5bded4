"""Arbitrary input at every screen of a flow through POST /ussd (hypothesis)."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from menus import LANGUAGES
from tests.ussd_steps import main_menu

FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
_numbers = itertools.count(1)

# What people type: anything at all, and the inputs that mean something somewhere.
answer = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40),
    st.sampled_from(["0", "00", "98", "*", "#", "1*2", "", " ", "\n", "99999999999", "1" * 200, "5,000",
                     "١٢٣", "²", "1²"]),
    st.integers(-10, 10 ** 9).map(str),
)
answers = st.lists(answer, min_size=1, max_size=4)
languages = st.sampled_from(LANGUAGES)


def throw(phone, lang: str, prefix: list[str], inputs: list[str]) -> None:  # type: ignore[no-untyped-def]
    """Reach a screen by ``prefix`` from a fresh number, then type ``inputs``; every answer is
    checked by the Phone (200, CON or END, at most 160 GSM-7 characters)."""
    p = main_menu(phone, f"+2567009{next(_numbers):05d}", lang)
    for value in [*prefix, *inputs]:
        if p.screen.startswith("END "):
            return
        p.send(value)
