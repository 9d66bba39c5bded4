"""The main menu: one entry for every area, Leader tools for leaders."""

from __future__ import annotations

from typing import Any, Sequence

from .catalog import N_
from .common import Item, MenuScreen
from .engine import Ctx

__all__ = ["MainMenu", "SCREENS"]


def _is_leader(ctx: Ctx) -> bool:
    return ctx.caller.is_member and ctx.caller.is_leader


class MainMenu(MenuScreen):
    id = "main"
    title = N_("Minerline")

    def items(self, ctx: Ctx, params: dict[str, Any]) -> Sequence[Item]:
        return (
            Item(N_("My savings"), "savings"),
            Item(N_("Wages"), "wages"),
            Item(N_("My rights"), "rights"),
            # Neutral on purpose: a shared phone's owner should not see "report abuse".
            Item(N_("Wellbeing"), "safety"),
            Item(N_("Meetings"), "meetings"),
            Item(N_("Language"), "lang.change"),
            Item(N_("Leader tools"), "leaders", visible=_is_leader),
        )


SCREENS = [MainMenu()]
