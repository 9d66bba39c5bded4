"""Helpers for journey tests: what a screen should look like after bad input, Back and Home."""

from __future__ import annotations

from pathlib import Path

from menus import LANGUAGES, Catalogs
from menus.engine import MSG_NAV, MSG_NAV_HOME
from tests.helpers import Phone

CATALOGS = Catalogs.load(Path(__file__).resolve().parents[1] / "locales")
LANG_CHOICE = {"en": "1", "lg": "2", "sw": "3"}
HINTS = {CATALOGS.translator(lang)(m) for lang in LANGUAGES for m in (MSG_NAV, MSG_NAV_HOME)}


def t(lang: str, msgid: str) -> str:
    return CATALOGS.translator(lang)(msgid)


def body(screen: str) -> list[str]:
    """A screen's lines without the prefix and the navigation hint."""
    return [line for line in screen[4:].split("\n") if line not in HINTS]


def is_same_screen_with_a_reason(before: str, after: str) -> bool:
    lines = body(after)
    return after.startswith("CON ") and len(lines) >= 2 and lines[1:] == body(before)


def main_menu(phone, number: str, lang: str) -> Phone:  # type: ignore[no-untyped-def]
    """A phone on the main menu in ``lang``, choosing the language if it is asked."""
    p = phone(number)
    first = p.dial()
    if first.startswith("CON Choose language"):
        p.send(LANG_CHOICE[lang])
    elif first.startswith("CON " + t(lang, "Your last session was cut off.")):
        p.send("2")  # start again
    return p


def walk_checking_each_step(phone, number: str, lang: str,  # type: ignore[no-untyped-def]
                            steps: list[tuple[str, str | None]]) -> list[str]:
    """At every step: a bad answer shows the same screen with a reason, 0 goes back a screen
    and the answer given there brings the caller back, then the right answer goes on.
    Returns the screens shown along the way."""
    p = main_menu(phone, number, lang)
    screens = [p.screen]
    for i, (answer, bad) in enumerate(steps):
        here = p.screen
        if bad is not None:
            assert is_same_screen_with_a_reason(here, p.send(bad)), (answer, bad, here, p.screen)
        if i > 0:
            assert p.send("0") == screens[-2], (steps[: i + 1], "back", p.screen)
            assert p.send(steps[i - 1][0]) == here, (steps[: i + 1], "again", p.screen)
        screens.append(p.send(answer))
    return screens


def leave_with_00_at_each_step(phone, number: str, lang: str, answers: list[str]) -> None:  # type: ignore[no-untyped-def]
    """Home from every screen of a path goes to the main menu, and nothing is kept."""
    home = main_menu(phone, number, lang).screen
    for k in range(len(answers) + 1):
        p = main_menu(phone, number, lang)
        for answer in answers[:k]:
            p.send(answer)
        if p.screen.startswith("END "):
            return
        assert p.send("00") == home, (answers[:k], p.screen)
