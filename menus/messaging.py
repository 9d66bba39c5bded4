"""Broadcasts from Leader tools: choose who, type the text, see recipients, SMS parts and cost, confirm;
and what happened to the last broadcasts, and which members the SMS no longer reach.

The data comes through ``MessagingData`` (``ctx.data.messaging``), which the edge implements; the
broadcast itself is the ``SendBroadcast`` effect, written after the screen is decided.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol, Sequence

from gsm7 import to_gsm7

from .catalog import N_
from .common import pick
from .engine import Ctx, Finish, Go, Home, Outcome, Stay, View
from .leaders import LeaderScreen
from .receipts import money

__all__ = [
    "MessagingData",
    "Preview",
    "BroadcastLine",
    "MeetingView",
    "SendBroadcast",
    "AUDIENCES",
    "SCREENS",
]

NAME_CHARS = 20
FAILING_SHOWN = 30

# Audience value -> its label; the order is the menu's.
AUDIENCES = {"all": N_("All members"), "women": N_("Women"), "leaders": N_("Leaders")}


# --- what the edge provides ---


@dataclass(frozen=True)
class Preview:
    recipients: int  # members in the audience
    opted_out: int  # of them, those who sent STOP: they get nothing
    parts: int  # SMS parts the text takes (0 when no text was given)
    price_per_part: int  # UGX, for the estimate

    @property
    def reached(self) -> int:
        return self.recipients - self.opted_out


@dataclass(frozen=True)
class BroadcastLine:
    day: date
    audience: str
    delivered: int
    failed: int
    pending: int  # sent but not reported delivered yet, still being sent, or of unknown outcome
    skipped: int  # opted out


@dataclass(frozen=True)
class MeetingView:
    id: int
    version: int
    starts_at: datetime  # local time, naive
    place: str
    coming: int
    not_coming: int
    members: int
    my_answer: str | None = None  # "yes", "no" or None: the caller's own reply


class MessagingData(Protocol):
    def sent_today(self, member_id: int) -> tuple[int, int]:
        """Broadcasts the leader's cooperative sent from USSD today, and the daily limit."""

    def preview(self, member_id: int, audience: str, text: str | None) -> Preview:
        """Who in the leader's cooperative a message to ``audience`` reaches, and what ``text`` costs."""

    def last_broadcasts(self, member_id: int, limit: int) -> Sequence[BroadcastLine]: ...

    def failing(self, member_id: int, limit: int) -> tuple[int, Sequence[str]]:
        """How many members of the cooperative the SMS keep failing to reach, and up to ``limit`` names."""

    def next_meeting(self, member_id: int) -> MeetingView | None: ...

    def now(self) -> datetime:
        """Local time, naive: for the days offered and to refuse a time already past."""


# --- effects ---


@dataclass(frozen=True)
class SendBroadcast:
    leader_member_id: int
    audience: str
    text: str


# --- text ---

MSG_LIMIT = N_("Your cooperative has sent {limit} messages today, the most for one day. Try again tomorrow.")
MSG_WHO = N_("Send an SMS to:")
MSG_TYPE = N_("Type your message:")
MSG_EMPTY = N_("Type some words.")
MSG_PREVIEW = N_("To {reached} members ({stopped} stopped SMS).\n{parts} SMS each, about {cost} UGX in all.")
MSG_NOBODY = N_("Nobody would get it: no member in this group takes SMS.")
MSG_SEND = N_("Send")
MSG_CANCEL = N_("Cancel")
MSG_SENT = N_("Sending to {reached} members. See Sent messages for how it went.")
MSG_NONE_SENT = N_("No messages sent yet.")
MSG_LINE = N_("{day} {who}: {delivered} delivered, {failed} failed, {pending} waiting")
MSG_NOT_REACHED = N_("Not reached ({count})")
MSG_FAILING = N_("SMS keep failing for {count} members:")


def _leader(ctx: Ctx) -> int:
    assert ctx.caller.member_id is not None
    return ctx.caller.member_id


class ChooseAudience(LeaderScreen):
    id = "messages.audience"

    def enter(self, ctx: Ctx, params: dict[str, Any]) -> Outcome | None:
        sent, limit = ctx.data.messaging.sent_today(_leader(ctx))
        return Finish(MSG_LIMIT, {"limit": limit}) if sent >= limit else None

    def view(self, ctx: Ctx, params: dict[str, Any]) -> View:
        return View(text=ctx.t(MSG_WHO),
                    options=[(str(n), ctx.t(label)) for n, label in enumerate(AUDIENCES.values(), start=1)])

    def handle(self, ctx: Ctx, params: dict[str, Any], choice: str) -> Outcome:
        keys = list(AUDIENCES)
        n = pick(choice, len(keys))
        if n is None:
            return Stay()
        return Go("messages.text", {"a": keys[n - 1]})


class MessageText(LeaderScreen):
    id = "messages.text"

    def view(self, ctx: Ctx, params: dict[str, Any]) -> View:
        return View(text=ctx.t(MSG_TYPE))

    def handle(self, ctx: Ctx, params: dict[str, Any], choice: str) -> Outcome:
        text = to_gsm7(choice).strip()  # what will go: curly quotes and the like made plain
        if not text:
            return Stay(MSG_EMPTY)
        p = ctx.data.messaging.preview(_leader(ctx), params["a"], text)
        return Go("messages.preview", {"a": params["a"], "x": text, "n": p.recipients, "o": p.opted_out,
                                       "p": p.parts, "c": p.reached * p.parts * p.price_per_part})


class MessagePreview(LeaderScreen):
    """Everything the leader needs before paying for it; the figures were worked out on the hop before."""

    id = "messages.preview"

    def view(self, ctx: Ctx, params: dict[str, Any]) -> View:
        reached = params["n"] - params["o"]
        if reached <= 0:
            return View(text=ctx.t(MSG_NOBODY))
        text = ctx.t(MSG_PREVIEW).format(reached=reached, stopped=params["o"], parts=params["p"],
                                         cost=money(params["c"]))
        return View(text=text, options=[("1", ctx.t(MSG_SEND)), ("2", ctx.t(MSG_CANCEL))])

    def handle(self, ctx: Ctx, params: dict[str, Any], choice: str) -> Outcome:
        reached = params["n"] - params["o"]
        if choice == "2" and reached > 0:
            return Home()
        if choice != "1" or reached <= 0:
            return Stay()
        return Finish(MSG_SENT, {"reached": reached},
                      effects=(SendBroadcast(_leader(ctx), params["a"], params["x"]),))


class SentMessages(LeaderScreen):
    id = "messages.sent"

    def view(self, ctx: Ctx, params: dict[str, Any]) -> View:
        lines = ctx.data.messaging.last_broadcasts(_leader(ctx), 3)
        count, _names = ctx.data.messaging.failing(_leader(ctx), 0)
        # First, not after three long lines on a later page: members out of reach need the leader most.
        rows = [f"9 {ctx.t(MSG_NOT_REACHED).format(count=count)}"] if count else []
        rows += [ctx.t(MSG_LINE).format(day=line.day.strftime("%d/%m"), who=ctx.t(AUDIENCES[line.audience]),
                                        delivered=line.delivered, failed=line.failed, pending=line.pending)
                 for line in lines] or [ctx.t(MSG_NONE_SENT)]
        return View(text="\n".join(rows))

    def handle(self, ctx: Ctx, params: dict[str, Any], choice: str) -> Outcome:
        if choice == "9":
            return Go("messages.failing")
        return Stay()


class FailingMembers(LeaderScreen):
    """Members whose last messages all failed (a wrong or lost number, a phone off for weeks)."""

    id = "messages.failing"

    def view(self, ctx: Ctx, params: dict[str, Any]) -> View:
        count, names = ctx.data.messaging.failing(_leader(ctx), FAILING_SHOWN)
        body = "\n".join(name[:NAME_CHARS] for name in names)
        return View(text=ctx.t(MSG_FAILING).format(count=count) + ("\n" + body if body else ""))


SCREENS = [ChooseAudience(), MessageText(), MessagePreview(), SentMessages(), FailingMembers()]
