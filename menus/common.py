"""Screen kinds shared by the areas: a numbered menu, and an area not built yet."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Sequence

from .catalog import N_
from .engine import Ctx, Finish, Go, Outcome, Screen, Stay, View

__all__ = ["Item", "MenuScreen", "ChoiceScreen", "ComingSoon", "MSG_CHOOSE", "pick"]

MSG_CHOOSE = N_("Choose a number.")


@dataclass(frozen=True)
class Item:
    label: str  # msgid
    target: str  # screen id
    params: dict[str, Any] = field(default_factory=dict)
    visible: Callable[[Ctx], bool] | None = None


def pick(choice: str, count: int) -> int | None:
    """The number typed, when it is one of 1..count (ASCII digits only: '²' is a digit to Python)."""
    if choice.isascii() and choice.isdigit() and 1 <= int(choice) <= count:
        return int(choice)
    return None


class ChoiceScreen(Screen):
    """A question with numbered answers; the chosen answer's value goes into the params under ``key``,
    then ``next`` (by default, on to the screen ``after``)."""

    prompt: str = ""
    key: str = ""
    answers: Sequence[tuple[str, str]] = ()  # (value, label msgid)
    after: str = ""

    def view(self, ctx: Ctx, params: dict[str, Any]) -> View:
        return View(text=ctx.t(self.prompt),
                    options=[(str(n), ctx.t(label)) for n, (_, label) in enumerate(self.answers, start=1)])

    def handle(self, ctx: Ctx, params: dict[str, Any], choice: str) -> Outcome:
        n = pick(choice, len(self.answers))
        if n is None:
            return Stay(MSG_CHOOSE)
        return self.next(ctx, {**params, self.key: self.answers[n - 1][0]})

    def next(self, ctx: Ctx, params: dict[str, Any]) -> Outcome:
        return Go(self.after, params)


class MenuScreen(Screen):
    """A title and numbered items; the numbers are the items' places among those shown."""

    title: ClassVar[str] = ""

    def items(self, ctx: Ctx, params: dict[str, Any]) -> Sequence[Item]:
        raise NotImplementedError

    def _shown(self, ctx: Ctx, params: dict[str, Any]) -> list[Item]:
        return [i for i in self.items(ctx, params) if i.visible is None or i.visible(ctx)]

    def heading(self, ctx: Ctx, params: dict[str, Any]) -> str:
        return ctx.t(self.title)

    def view(self, ctx: Ctx, params: dict[str, Any]) -> View:
        shown = self._shown(ctx, params)
        return View(
            text=self.heading(ctx, params),
            options=[(str(n), ctx.t(item.label)) for n, item in enumerate(shown, start=1)],
        )

    def handle(self, ctx: Ctx, params: dict[str, Any], choice: str) -> Outcome:
        shown = self._shown(ctx, params)
        if choice.isascii() and choice.isdigit() and 1 <= int(choice) <= len(shown):
            item = shown[int(choice) - 1]
            return Go(item.target, item.params)
        return Stay(MSG_CHOOSE)


class ComingSoon(Screen):
    """An area that a later release builds: a short, kind END screen."""

    message: ClassVar[str] = N_("This service is coming soon. Thank you for your patience.")

    def view(self, ctx: Ctx, params: dict[str, Any]) -> View:
        return View(text=ctx.t(self.message), end=True)

    def handle(self, ctx: Ctx, params: dict[str, Any], choice: str) -> Outcome:
        return Finish(self.message)
