"""Savings: the PIN, then the member's own figures and the group's totals.

Nothing here shows a balance unless the PIN was given in this session (``ctx.authed``).
The PIN itself never goes into the session state: the first of the two entries when
setting it is kept only as a keyed digest (``SavingsData.pin_digest``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol, Sequence

from .catalog import N_
from .common import Item, MenuScreen
from .engine import Authenticated, Ctx, Finish, Go, Outcome, Screen, Stay, View
from .receipts import entry_label, money

__all__ = [
    "SavingsData",
    "Account",
    "PinCheck",
    "StatementLine",
    "SetPin",
    "PinFailed",
    "PinOk",
    "SetDiscreet",
    "SCREENS",
    "PinGate",
    "PIN_TRIES",
    "parse_amount",
]

PIN_TRIES = 3
LOCK_MINUTES = 30
STATEMENT_PAGE = 5


# --- what the edge provides ---


@dataclass(frozen=True)
class PinCheck:
    in_group: bool  # a member of a savings group
    has_pin: bool
    failures: int
    locked_minutes: int  # 0 when not locked
    group_id: int | None = None
    membership_id: int | None = None


@dataclass(frozen=True)
class Account:
    group_id: int
    group_name: str
    membership_id: int
    number: int
    share_value: int
    interest_percent: int
    loan_multiple: int
    social_fund_amount: int
    shares: int
    savings: int
    social_fund: int
    loan: int
    loan_due: date | None
    fines: int
    # the group's
    group_shares: int
    group_savings: int
    group_loans_out: int
    group_social_fund: int
    group_cash: int
    group_members: int

    @property
    def loan_fund(self) -> int:
        return self.group_cash - self.group_social_fund + self.group_loans_out

    @property
    def projected_share_out(self) -> int:
        if self.group_shares <= 0:
            return 0
        return self.loan_fund * self.shares // self.group_shares


@dataclass(frozen=True)
class StatementLine:
    entry_id: int
    day: date
    kind: str  # an EntryKind value; "reversal" lines carry the kind they undo in ``undoes``
    shares: int
    amount: int
    undoes: str | None = None


class SavingsData(Protocol):
    def pin_check(self, member_id: int, pin: str | None = None) -> tuple[PinCheck, bool]:
        """The member's PIN state, and whether ``pin`` matches (False when not given)."""

    def pin_digest(self, member_id: int, pin: str) -> str:
        """A keyed digest of a PIN, to compare two entries without keeping the PIN."""

    def account(self, member_id: int) -> Account | None: ...

    def account_by_membership(self, membership_id: int) -> Account | None: ...

    def statement(self, membership_id: int, offset: int, limit: int) -> Sequence[StatementLine]: ...

    def find_member(self, group_id: int, query: str) -> Any:
        """A ``menus.leaders.MemberRef`` for a member number or phone number in the group, or None."""

    def undoable(self, membership_id: int, limit: int) -> Sequence[Any]:
        """The latest ``menus.leaders.UndoItem`` entries that may still be undone, newest first."""


# --- effects ---


@dataclass(frozen=True)
class SetPin:
    member_id: int
    pin: str  # hashed by the edge at once; never stored in the session


@dataclass(frozen=True)
class PinFailed:
    member_id: int


@dataclass(frozen=True)
class PinOk:
    member_id: int


@dataclass(frozen=True)
class SetDiscreet:
    member_id: int
    discreet: bool


# --- text ---

MSG_NOT_IN_GROUP = N_("Savings is for members of a savings group. Ask your group leader to add you.")
MSG_LOCKED = N_("Too many wrong PINs. Try again in {minutes} minutes, or ask a leader to reset it.")
MSG_ENTER_PIN = N_("Enter your 4-number PIN:")
MSG_FORGOT = N_("Forgot PIN")
MSG_FORGOT_END = N_("Ask your group chair or treasurer to reset your PIN. Then dial again to set a new one.")
MSG_PIN_FORMAT = N_("Enter 4 numbers.")
MSG_WRONG_PIN = N_("Wrong PIN. {left} tries left.")
MSG_NEW_PIN = N_("Choose a 4-number PIN to keep your savings private:")
MSG_AGAIN = N_("Enter the same PIN again:")
MSG_MISMATCH = N_("The PINs were not the same.")
MSG_DISCREET = N_("SMS receipts for your savings:")
MSG_SHOW = N_("Show amounts")
MSG_HIDE = N_("Hide amounts (shared phone)")
MSG_SAVED_PIN = N_("PIN saved.")


def is_pin(text: str) -> bool:
    return bool(re.fullmatch(r"\d{4}", text))


def parse_amount(text: str) -> int | None:
    """Whole shillings: digits, with commas, dots or spaces between thousands tolerated."""
    cleaned = re.sub(r"[,.\s]", "", text.strip())
    if not (cleaned.isascii() and cleaned.isdigit()) or len(cleaned) > 9:
        return None
    return int(cleaned)


class PinGate(Screen):
    """Not shown: sends the caller to the PIN (or to setting one), or on when already given.

    Subclasses set ``id`` (the main-menu target), ``target`` (the protected screen) and may
    refuse callers in ``admit``.
    """

    target: str = ""

    def admit(self, ctx: Ctx) -> Outcome | None:
        return None

    def view(self, ctx: Ctx, params: dict[str, Any]) -> View:  # pragma: no cover - never shown
        return View(text="")

    def enter(self, ctx: Ctx, params: dict[str, Any]) -> Outcome | None:
        if not ctx.caller.is_member or ctx.caller.member_id is None:
            return Finish(MSG_NOT_IN_GROUP)
        refused = self.admit(ctx)
        if refused is not None:
            return refused
        check, _ = ctx.data.savings.pin_check(ctx.caller.member_id)
        if not check.in_group:
            return Finish(MSG_NOT_IN_GROUP)
        keep = {"g": check.group_id, "gm": check.membership_id}
        if ctx.authed:
            return Go(self.target, keep)
        if check.locked_minutes:
            return Finish(MSG_LOCKED, {"minutes": check.locked_minutes})
        if not check.has_pin:
            return Go("savings.pin.new", {"next": self.target, **keep})
        return Go("savings.pin", {"next": self.target, **keep})


class SavingsGate(PinGate):
    id = "savings"
    target = "savings.menu"


class EnterPin(Screen):
    id = "savings.pin"

    def view(self, ctx: Ctx, params: dict[str, Any]) -> View:
        return View(text=ctx.t(MSG_ENTER_PIN), options=[("9", ctx.t(MSG_FORGOT))])

    def handle(self, ctx: Ctx, params: dict[str, Any], choice: str) -> Outcome:
        member_id = ctx.caller.member_id
        assert member_id is not None
        if choice == "9":
            return Finish(MSG_FORGOT_END)
        if not is_pin(choice):
            return Stay(MSG_PIN_FORMAT)
        check, matches = ctx.data.savings.pin_check(member_id, choice)
        if check.locked_minutes:
            return Finish(MSG_LOCKED, {"minutes": check.locked_minutes})
        if matches:
            effects: tuple = (Authenticated(),) + ((PinOk(member_id),) if check.failures else ())
            keep = {k: params[k] for k in ("g", "gm") if k in params}
            return Go(params["next"], keep, effects=effects, pop=1)
        left = PIN_TRIES - (check.failures + 1)
        if left <= 0:
            return Finish(MSG_LOCKED, {"minutes": LOCK_MINUTES}, effects=(PinFailed(member_id),))
        return Stay(MSG_WRONG_PIN, {"left": left}, effects=(PinFailed(member_id),))


class NewPin(Screen):
    id = "savings.pin.new"

    def view(self, ctx: Ctx, params: dict[str, Any]) -> View:
        return View(text=ctx.t(MSG_NEW_PIN))

    def handle(self, ctx: Ctx, params: dict[str, Any], choice: str) -> Outcome:
        if not is_pin(choice):
            return Stay(MSG_PIN_FORMAT)
        assert ctx.caller.member_id is not None
        digest = ctx.data.savings.pin_digest(ctx.caller.member_id, choice)
        return Go("savings.pin.again", {**params, "d": digest})


class PinAgain(Screen):
    id = "savings.pin.again"

    def view(self, ctx: Ctx, params: dict[str, Any]) -> View:
        return View(text=ctx.t(MSG_AGAIN))

    def handle(self, ctx: Ctx, params: dict[str, Any], choice: str) -> Outcome:
        member_id = ctx.caller.member_id
        assert member_id is not None
        if not is_pin(choice):
            return Stay(MSG_PIN_FORMAT)
        keep = {k: v for k, v in params.items() if k != "d"}
        if ctx.data.savings.pin_digest(member_id, choice) != params["d"]:
            return Go("savings.pin.new", keep, pop=2, notice=MSG_MISMATCH)
        return Go("savings.discreet", keep, pop=2, effects=(SetPin(member_id, choice), Authenticated()),
                  notice=MSG_SAVED_PIN)


class Discreet(Screen):
    id = "savings.discreet"

    def view(self, ctx: Ctx, params: dict[str, Any]) -> View:
        return View(text=ctx.t(MSG_DISCREET), options=[("1", ctx.t(MSG_SHOW)), ("2", ctx.t(MSG_HIDE))])

    def handle(self, ctx: Ctx, params: dict[str, Any], choice: str) -> Outcome:
        if choice not in ("1", "2"):
            return Stay()
        assert ctx.caller.member_id is not None
        keep = {k: params[k] for k in ("g", "gm") if k in params}
        return Go(params["next"], keep, pop=1, effects=(SetDiscreet(ctx.caller.member_id, choice == "2"),))


class SavingsMenu(MenuScreen):
    id = "savings.menu"
    title = N_("My savings")
    protected = True
    gate = "savings"

    def items(self, ctx: Ctx, params: dict[str, Any]) -> Sequence[Item]:
        return (
            Item(N_("Savings and shares"), "savings.mine", params),
            Item(N_("My loan"), "savings.loan", params),
            Item(N_("Social fund"), "savings.social", params),
            Item(N_("Share-out estimate"), "savings.shareout", params),
            Item(N_("Statement"), "savings.statement", {**params, "o": 0}),
            Item(N_("Group totals"), "savings.group", params),
        )


class _Figures(Screen):
    """A screen of figures behind the PIN; subclasses write ``body``."""

    protected = True
    gate = "savings"

    def view(self, ctx: Ctx, params: dict[str, Any]) -> View:
        assert ctx.authed and ctx.caller.member_id is not None, "figures are shown only after the PIN"
        account = ctx.data.savings.account(ctx.caller.member_id)
        if account is None:
            return View(text=ctx.t(MSG_NOT_IN_GROUP), end=True)
        return View(text=self.body(ctx, account))

    def body(self, ctx: Ctx, a: Account) -> str:
        raise NotImplementedError

    def handle(self, ctx: Ctx, params: dict[str, Any], choice: str) -> Outcome:
        return Stay()


class MySavings(_Figures):
    id = "savings.mine"

    def body(self, ctx: Ctx, a: Account) -> str:
        return ctx.t(N_("Savings: {savings} UGX\nShares: {shares} (1 share = {value})")).format(
            savings=money(a.savings), shares=a.shares, value=money(a.share_value))


class MyLoan(_Figures):
    id = "savings.loan"

    def body(self, ctx: Ctx, a: Account) -> str:
        if a.loan <= 0:
            return ctx.t(N_("You have no loan. You can borrow up to {limit} UGX.")).format(
                limit=money(a.loan_multiple * a.savings))
        due = a.loan_due.strftime("%d/%m/%Y") if a.loan_due else "-"
        return ctx.t(N_("Loan to repay: {loan} UGX\nDue by: {due}")).format(loan=money(a.loan), due=due)


class SocialFund(_Figures):
    id = "savings.social"

    def body(self, ctx: Ctx, a: Account) -> str:
        return ctx.t(N_("Social fund paid: {paid} UGX\nEach meeting: {each} UGX")).format(
            paid=money(a.social_fund), each=money(a.social_fund_amount))


class ShareOut(_Figures):
    id = "savings.shareout"

    def body(self, ctx: Ctx, a: Account) -> str:
        return ctx.t(N_("If the group shared out today you would get about {payout} UGX for {shares} shares."
                        )).format(payout=money(a.projected_share_out), shares=a.shares)


class GroupTotals(_Figures):
    id = "savings.group"

    def body(self, ctx: Ctx, a: Account) -> str:
        return ctx.t(N_("{group}: {members} members\nSavings {savings}\nLoans out {loans}\nSocial fund {social}\n"
                        "Cash in box {cash}")).format(
            group=a.group_name[:30], members=a.group_members, savings=money(a.group_savings),
            loans=money(a.group_loans_out), social=money(a.group_social_fund), cash=money(a.group_cash))


def statement_text(ctx: Ctx, lines: Sequence[StatementLine]) -> str:
    rows = []
    for line in lines:
        if line.kind == "reversal":
            what = ctx.t(N_("undo")) + " " + entry_label(ctx.t, line.undoes or "shares", line.shares, line.amount)
        else:
            what = entry_label(ctx.t, line.kind, line.shares, line.amount)
        rows.append(f"{line.day.strftime('%d/%m')} {what}")
    return "\n".join(rows)


class Statement(Screen):
    id = "savings.statement"
    protected = True
    gate = "savings"

    def view(self, ctx: Ctx, params: dict[str, Any]) -> View:
        assert ctx.authed
        lines = ctx.data.savings.statement(params["gm"], params.get("o", 0), STATEMENT_PAGE + 1)
        if not lines and params.get("o", 0) == 0:
            return View(text=ctx.t(N_("No entries yet.")))
        options = [("98", ctx.t(N_("Older")))] if len(lines) > STATEMENT_PAGE else []
        return View(text=statement_text(ctx, lines[:STATEMENT_PAGE]), options=options)

    def handle(self, ctx: Ctx, params: dict[str, Any], choice: str) -> Outcome:
        if choice == "98":
            offset = params.get("o", 0) + STATEMENT_PAGE
            if ctx.data.savings.statement(params["gm"], offset, 1):
                return Go(self.id, {**params, "o": offset})
        return Stay()


SCREENS = [
    SavingsGate(),
    EnterPin(),
    NewPin(),
    PinAgain(),
    Discreet(),
    SavingsMenu(),
    MySavings(),
    MyLoan(),
    SocialFund(),
    ShareOut(),
    GroupTotals(),
    Statement(),
]
