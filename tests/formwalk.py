"""Walking the long forms (wages, safety) through the pure engine with their longest data.

A form's screens show at most one answer per line, so the longest screen a form can show is
the one with the longest answer to every question: ``longest`` finds that answer in a
language, and the tests walk that path plus every single change from it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable

from gsm7 import gsm7_length, is_gsm7
from menus import Caller, Catalogs, build_engine
from menus.engine import LIMIT, Engine, Result

ROOT = Path(__file__).resolve().parents[1]
CATALOGS = Catalogs.load(ROOT / "locales")
ENGINE = build_engine(CATALOGS)
# Inputs tried on every screen: navigation, paging, and answers that no screen takes.
PROBES = ("0", "00", "98", "x", "", "1*2", "99", "abc def", "é€[]", "1" * 200, "-5", "12.5", "²", "٣")


def fits(result: Result) -> bool:
    return (result.text.startswith(("CON ", "END ")) and gsm7_length(result.text) <= LIMIT
            and is_gsm7(result.text))


def assert_fits(result: Result, where: object = "") -> None:
    assert result.text.startswith(("CON ", "END ")), (where, result.text)
    assert gsm7_length(result.text) <= LIMIT, (where, gsm7_length(result.text), result.text)
    assert is_gsm7(result.text), (where, result.text)


def run(engine: Engine, caller: Caller, inputs: Iterable[str]) -> list[Result]:
    """Every screen on the way, starting with the first (the main menu for a caller with a language)."""
    results = [engine.start(caller)]
    for value in inputs:
        assert not results[-1].end, (list(inputs), results[-1].text)
        results.append(engine.step(results[-1].state, value, caller))
    return results


def all_pages(engine: Engine, caller: Caller, result: Result) -> list[Result]:
    """The screen and each further page of it (98)."""
    pages = [result]
    while not pages[-1].end and re.search(r"^98 ", pages[-1].text[4:], flags=re.M):
        pages.append(engine.step(pages[-1].state, "98", caller))
        assert len(pages) < 20, "paging never ends"
    return pages


def pages_fit(engine: Engine, caller: Caller, result: Result) -> None:
    for page in all_pages(engine, caller, result):
        assert_fits(page, page.screen)


def probe(engine: Engine, caller: Caller, result: Result) -> None:
    """Every probe on every page of a screen gives a screen that fits."""
    for page in all_pages(engine, caller, result):
        assert_fits(page, page.screen)
        if page.end:
            continue
        for value in PROBES:
            assert_fits(engine.step(page.state, value, caller), (page.screen, value))


def options(result: Result) -> list[str]:
    return re.findall(r"^(\d+) ", result.text[4:], flags=re.M)


def longest(lang: str, labels: Iterable[tuple[str, str]]) -> int:
    """The 1-based number of the answer with the longest label in ``lang``."""
    t = CATALOGS.translator(lang)
    sized = [(gsm7_length(t(label)), n) for n, (_, label) in enumerate(labels, start=1)]
    return max(sized)[1]
