"""The offer to continue a dropped session."""

from __future__ import annotations

from typing import Any

from .catalog import N_
from .common import MSG_CHOOSE
from .engine import Ctx, Home, Outcome, ResumeSaved, Screen, Stay, View

__all__ = ["ResumeOffer", "SCREENS"]


class ResumeOffer(Screen):
    id = "resume"

    def view(self, ctx: Ctx, params: dict[str, Any]) -> View:
        return View(
            text=ctx.t(N_("Your last session was cut off.")),
            options=[("1", ctx.t(N_("Continue"))), ("2", ctx.t(N_("Start again")))],
        )

    def handle(self, ctx: Ctx, params: dict[str, Any], choice: str) -> Outcome:
        if choice == "1":
            return ResumeSaved()
        if choice == "2":
            return Home()
        return Stay(MSG_CHOOSE)


SCREENS = [ResumeOffer()]
