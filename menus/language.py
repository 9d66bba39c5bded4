"""Choosing a language: on first use, and from the main menu."""

from __future__ import annotations

from typing import Any

from .catalog import LANGUAGES, N_, Catalogs
from .common import MSG_CHOOSE, pick
from .engine import Ctx, Home, Outcome, Screen, SetLanguage, Stay, View

__all__ = ["FirstLanguage", "ChangeLanguage", "screens", "LANGUAGE_NAMES"]

# Each language by its own name, so anyone can find theirs.
LANGUAGE_NAMES = {"en": "English", "lg": "Luganda", "sw": "Kiswahili"}
MSG_CHOOSE_LANGUAGE = N_("Choose language")


def _options() -> list[tuple[str, str]]:
    return [(str(n), LANGUAGE_NAMES[lang]) for n, lang in enumerate(LANGUAGES, start=1)]


def _pick(choice: str) -> str | None:
    n = pick(choice, len(LANGUAGES))
    if n is not None:
        return LANGUAGES[n - 1]
    return None


class FirstLanguage(Screen):
    """Before a language is known: the prompt in all three languages."""

    id = "lang.first"

    def __init__(self, catalogs: Catalogs) -> None:
        self.prompts = list(dict.fromkeys(catalogs.translator(lang)(MSG_CHOOSE_LANGUAGE) for lang in LANGUAGES))

    def view(self, ctx: Ctx, params: dict[str, Any]) -> View:
        return View(text=" / ".join(self.prompts), options=_options())

    def handle(self, ctx: Ctx, params: dict[str, Any], choice: str) -> Outcome:
        lang = _pick(choice)
        if lang is None:
            return Stay(MSG_CHOOSE)
        return Home(effects=(SetLanguage(lang),), lang=lang)


class ChangeLanguage(Screen):
    id = "lang.change"

    def view(self, ctx: Ctx, params: dict[str, Any]) -> View:
        return View(text=ctx.t(MSG_CHOOSE_LANGUAGE), options=_options())

    def handle(self, ctx: Ctx, params: dict[str, Any], choice: str) -> Outcome:
        lang = _pick(choice)
        if lang is None:
            return Stay(MSG_CHOOSE)
        return Home(effects=(SetLanguage(lang),), lang=lang)




def screens(catalogs: Catalogs) -> list[Screen]:
    return [FirstLanguage(catalogs), ChangeLanguage()]
