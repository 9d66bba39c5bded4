"""Leader tools, behind the same PIN: recording savings entries (chair and treasurer),
undoing a recent one, and resetting a member's PIN (any leader). Messages and meetings are in
``menus/messaging.py`` and ``menus/meetings.py``.

Each entry is shown back in full and confirmed before it is saved. The figures for the
member's receipt are worked out when the entry is checked, so the confirming hop only writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Sequence

from .catalog import N_
from .common import Item, MenuScreen, pick
from .engine import Ctx, Finish, Go, Home, Outcome, Screen, Stay, View
from .receipts import entry_label, money
from .savings import Account, PinGate, parse_amount

__all__ = ["MemberRef", "UndoItem", "RecordEntry", "ReverseEntry", "ResetPin", "SCREENS", "RECORDERS"]

RECORDERS = ("chair", "treasurer")
MAX_SHARES = 5
MAX_LOAN_MONTHS = 3
NAME_CHARS = 20  # names are cut to fit a screen


@dataclass(frozen=True)
class MemberRef:
    membership_id: int
    member_id: int
    number: int
    name: str
    language: str | None
    discreet: bool


@dataclass(frozen=True)
class UndoItem:
    entry_ids: tuple[int, ...]  # a loan and its interest go together
    kind: str
    day: date
    shares: int
    amount: int
    interest: int = 0


@dataclass(frozen=True)
class Receipt:
    language: str | None
    discreet: bool
    savings: int
    loan: int
    social_fund: int


@dataclass(frozen=True)
class RecordEntry:
    group_id: int
    membership_id: int
    member_id: int
    kind: str
    shares: int
    amount: int
    months: int
    interest: int
    due: str | None  # ISO date, loans
    recorded_by_member_id: int
    receipt: Receipt


@dataclass(frozen=True)
class ReverseEntry:
    group_id: int
    membership_id: int
    member_id: int
    entry_ids: tuple[int, ...]
    kind: str
    shares: int
    amount: int
    recorded_by_member_id: int
    receipt: Receipt


@dataclass(frozen=True)
class ResetPin:
    member_id: int


def _can_record(ctx: Ctx) -> bool:
    return ctx.caller.role in RECORDERS


MSG_NOT_LEADER = N_("Leader tools are for group leaders.")
MSG_FIND = N_("Member number or phone number:")
MSG_NO_MEMBER = N_("No member with that number in your group.")
MSG_AMOUNT = N_("Amount in UGX:")
MSG_BAD_AMOUNT = N_("Enter an amount in numbers.")
MSG_SAVED = N_("Saved. {name} will get an SMS receipt.")
MSG_NOT_SAVED = N_("Nothing was saved.")


class LeaderScreen(Screen):
    """A leader-tools screen: behind the PIN, and reached again through the leaders' gate."""

    protected = True
    gate = "leaders"


class LeaderGate(PinGate):
    id = "leaders"
    target = "leaders.menu"

    def admit(self, ctx: Ctx) -> Outcome | None:
        return None if ctx.caller.is_leader else Finish(MSG_NOT_LEADER)


class LeaderMenu(MenuScreen):
    id = "leaders.menu"
    title = N_("Leader tools")
    protected = True
    gate = "leaders"

    def items(self, ctx: Ctx, params: dict[str, Any]) -> Sequence[Item]:
        return (
            Item(N_("Record savings"), "leaders.find", {**params, "next": "leaders.entry"}, visible=_can_record),
            Item(N_("Reset a member's PIN"), "leaders.find", {**params, "next": "leaders.pinreset"}),
            Item(N_("Send a message"), "messages.audience"),
            Item(N_("Sent messages"), "messages.sent"),
            Item(N_("Meetings"), "meetings.manage"),
        )


class FindMember(LeaderScreen):
    id = "leaders.find"

    def view(self, ctx: Ctx, params: dict[str, Any]) -> View:
        return View(text=ctx.t(MSG_FIND))

    def handle(self, ctx: Ctx, params: dict[str, Any], choice: str) -> Outcome:
        ref = ctx.data.savings.find_member(params["g"], choice)
        if ref is None:
            return Stay(MSG_NO_MEMBER)
        return Go(params["next"], {"g": params["g"], "gm": params["gm"], "t": _ref_params(ref)})


def _ref_params(ref: MemberRef) -> dict[str, Any]:
    return {"gm": ref.membership_id, "mid": ref.member_id, "no": ref.number, "n": ref.name[:NAME_CHARS],
            "l": ref.language, "d": ref.discreet}


def _who(target: dict[str, Any]) -> str:
    return f"{target['n']} (#{target['no']})"


class EntryMenu(MenuScreen):
    id = "leaders.entry"
    protected = True
    gate = "leaders"

    def heading(self, ctx: Ctx, params: dict[str, Any]) -> str:
        return _who(params["t"])

    def items(self, ctx: Ctx, params: dict[str, Any]) -> Sequence[Item]:
        return (
            Item(N_("Shares"), "leaders.shares", params),
            Item(N_("Social fund"), "leaders.amount", {**params, "k": "social_fund"}),
            Item(N_("Loan"), "leaders.amount", {**params, "k": "loan"}),
            Item(N_("Loan repayment"), "leaders.amount", {**params, "k": "repayment"}),
            Item(N_("Fine"), "leaders.amount", {**params, "k": "fine"}),
            Item(N_("Undo an entry"), "leaders.undo", params),
        )


def _after(account: Account, kind: str, shares: int, amount: int, interest: int = 0) -> tuple[int, int, int]:
    """Savings, loan and social fund once the entry is recorded (for the receipt)."""
    savings, loan, social = account.savings, account.loan, account.social_fund
    if kind == "shares":
        savings += shares * account.share_value
    elif kind == "social_fund":
        social += amount
    elif kind == "loan":
        loan += amount + interest
    elif kind == "repayment":
        loan -= amount
    return savings, loan, social


def _confirm(ctx: Ctx, params: dict[str, Any], account: Account, kind: str, *, shares: int = 0, amount: int = 0,
             months: int = 0, interest: int = 0, due: str | None = None, entries: Sequence[int] = ()) -> Outcome:
    after = _after(account, kind, shares, amount, interest)
    return Go("leaders.confirm", {**params, "k": kind, "s": shares, "a": amount, "m": months, "i": interest,
                                  "due": due, "r": list(after), "e": list(entries)})


def _target_account(ctx: Ctx, params: dict[str, Any]) -> Account:
    account = ctx.data.savings.account_by_membership(params["t"]["gm"])
    assert account is not None and account.group_id == params["g"]
    return account


class Shares(LeaderScreen):
    id = "leaders.shares"

    def view(self, ctx: Ctx, params: dict[str, Any]) -> View:
        return View(text=ctx.t(N_("How many shares (1 to 5)?")))

    def handle(self, ctx: Ctx, params: dict[str, Any], choice: str) -> Outcome:
        if pick(choice, MAX_SHARES) is None:
            return Stay(N_("Enter 1 to 5."))
        account = _target_account(ctx, params)
        n = int(choice)
        return _confirm(ctx, params, account, "shares", shares=n, amount=n * account.share_value)


class Amount(LeaderScreen):
    """The amount of a social-fund payment, a loan, a repayment or a fine, checked against the group's rules."""

    id = "leaders.amount"

    def view(self, ctx: Ctx, params: dict[str, Any]) -> View:
        return View(text=ctx.t(MSG_AMOUNT))

    def handle(self, ctx: Ctx, params: dict[str, Any], choice: str) -> Outcome:
        amount = parse_amount(choice)
        if not amount:
            return Stay(MSG_BAD_AMOUNT)
        account = _target_account(ctx, params)
        kind = params["k"]
        if kind == "loan":
            if account.loan > 0:
                return Stay(N_("{name} still owes {owed}."), {"name": params["t"]["n"], "owed": money(account.loan)})
            limit = account.loan_multiple * account.savings
            if amount > limit:
                return Stay(N_("Too much. The limit is {limit}."), {"limit": money(limit)})
            lendable = account.group_cash - account.group_social_fund
            if amount > lendable:
                return Stay(N_("The box has only {cash} to lend."), {"cash": money(max(lendable, 0))})
            return Go("leaders.months", {**params, "a": amount})
        if kind == "repayment" and amount > account.loan:
            return Stay(N_("Too much. {owed} is owed."), {"owed": money(account.loan)})
        return _confirm(ctx, params, account, kind, amount=amount)


class LoanMonths(LeaderScreen):
    id = "leaders.months"

    def view(self, ctx: Ctx, params: dict[str, Any]) -> View:
        return View(text=ctx.t(N_("For how many months (1 to 3)?")))

    def handle(self, ctx: Ctx, params: dict[str, Any], choice: str) -> Outcome:
        if pick(choice, MAX_LOAN_MONTHS) is None:
            return Stay(N_("Enter 1 to 3."))
        months = int(choice)
        account = _target_account(ctx, params)
        interest = -(-params["a"] * account.interest_percent * months // 100)
        due = _add_months(ctx.today, months).isoformat()
        return _confirm(ctx, params, account, "loan", amount=params["a"], months=months, interest=interest, due=due)


def _add_months(day: date, months: int) -> date:
    # Whole months by 30-day steps would drift; keep the same day of the month where it exists.
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    return day + timedelta(days=30 * months)  # pragma: no cover


class Undo(LeaderScreen):
    id = "leaders.undo"

    def view(self, ctx: Ctx, params: dict[str, Any]) -> View:
        items = ctx.data.savings.undoable(params["t"]["gm"], 3)
        if not items:
            return View(text=ctx.t(N_("No recent entry to undo.")))
        options = [(str(n), f"{i.day.strftime('%d/%m')} {entry_label(ctx.t, i.kind, i.shares, i.amount)}")
                   for n, i in enumerate(items, start=1)]
        return View(text=ctx.t(N_("Undo which entry?")), options=options)

    def handle(self, ctx: Ctx, params: dict[str, Any], choice: str) -> Outcome:
        items = ctx.data.savings.undoable(params["t"]["gm"], 3)
        if pick(choice, len(items)) is None:
            return Stay()
        item = items[int(choice) - 1]
        account = _target_account(ctx, params)
        savings, loan, social = _after(account, item.kind, -item.shares, -item.amount, -item.interest)
        cash_change = {"shares": -item.amount, "social_fund": -item.amount, "repayment": -item.amount,
                       "fine": -item.amount, "loan": item.amount}.get(item.kind, 0)
        if min(savings, loan, social) < 0 or account.group_cash + cash_change < 0:
            return Stay(N_("Undoing it would leave a balance below 0."))
        return Go("leaders.confirm", {**params, "k": "reversal", "uk": item.kind, "s": item.shares,
                                      "a": item.amount, "i": item.interest, "e": list(item.entry_ids),
                                      "r": [savings, loan, social]})


class Confirm(LeaderScreen):
    id = "leaders.confirm"

    def _what(self, ctx: Ctx, params: dict[str, Any]) -> str:
        if params["k"] == "reversal":
            return ctx.t(N_("Undo")) + " " + entry_label(ctx.t, params["uk"], params["s"], params["a"])
        what = entry_label(ctx.t, params["k"], params["s"], params["a"])
        if params["k"] == "loan":
            what += "\n" + ctx.t(N_("Charge {charge}, repay {total} by {due}")).format(
                charge=money(params["i"]), total=money(params["a"] + params["i"]),
                due=date.fromisoformat(params["due"]).strftime("%d/%m"))
        return what

    def view(self, ctx: Ctx, params: dict[str, Any]) -> View:
        text = _who(params["t"]) + "\n" + self._what(ctx, params)
        return View(text=text, options=[("1", ctx.t(N_("Yes, save"))), ("2", ctx.t(N_("No")))])

    def handle(self, ctx: Ctx, params: dict[str, Any], choice: str) -> Outcome:
        if choice == "2":
            return Home()
        if choice != "1":
            return Stay()
        t = params["t"]
        leader = ctx.caller.member_id
        assert leader is not None
        receipt = Receipt(t["l"], bool(t["d"]), *params["r"])
        if params["k"] == "reversal":
            effect: object = ReverseEntry(params["g"], t["gm"], t["mid"], tuple(params["e"]), params["uk"],
                                          params["s"], params["a"], leader, receipt)
        else:
            effect = RecordEntry(params["g"], t["gm"], t["mid"], params["k"], params["s"], params["a"],
                                 params["m"], params["i"], params["due"], leader, receipt)
        return Finish(MSG_SAVED, {"name": t["n"]}, effects=(effect,))


class PinReset(LeaderScreen):
    id = "leaders.pinreset"

    def view(self, ctx: Ctx, params: dict[str, Any]) -> View:
        return View(text=ctx.t(N_("Reset the PIN of {who}? They set a new one when they dial.")).format(
            who=_who(params["t"])), options=[("1", ctx.t(N_("Yes, reset"))), ("2", ctx.t(N_("No")))])

    def handle(self, ctx: Ctx, params: dict[str, Any], choice: str) -> Outcome:
        if choice == "2":
            return Home()
        if choice != "1":
            return Stay()
        return Finish(N_("PIN reset for {name}."), {"name": params["t"]["n"]},
                      effects=(ResetPin(params["t"]["mid"]),))


SCREENS = [LeaderGate(), LeaderMenu(), FindMember(), EntryMenu(), Shares(), Amount(), LoanMonths(), Undo(),
           Confirm(), PinReset()]
