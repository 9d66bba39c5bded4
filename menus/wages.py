"""Wages: report a day's pay, and see what others in the same work earn at the same place.

Reports are pseudonymous (the edge keeps a daily-keyed hash of the phone, nothing else
about the reporter). Figures are the median and the middle half of daily pay over 30 days
against the 30 days before, for the site, or the district when the site has too few;
nothing is shown when fewer than 5 people are behind it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol, Sequence

from .catalog import N_, Translator
from .common import MSG_CHOOSE, ChoiceScreen, Item, MenuScreen
from .engine import Ctx, Finish, Go, Home, Outcome, Screen, Stay, View
from .places import DistrictPick, SitePick, district_label, place_label, start_place
from .receipts import money

__all__ = [
    "ROLES",
    "PAY_FORMS",
    "Figures",
    "Earnings",
    "WagesData",
    "RecordWage",
    "SendWageSms",
    "parse_shillings",
    "earnings_text",
    "MIN_AMOUNT",
    "MAX_AMOUNT",
    "SCREENS",
]

MIN_AMOUNT, MAX_AMOUNT = 500, 500_000  # a day's pay, in shillings

ROLES: tuple[tuple[str, str], ...] = (
    ("panner", N_("Panner")),
    ("crusher", N_("Crusher")),
    ("ore_dryer", N_("Ore dryer")),
    ("digger", N_("Digger")),
    ("carrier", N_("Carrier")),
    ("trader_helper", N_("Trader's helper")),
    ("other", N_("Other work")),
)
PAY_FORMS: tuple[tuple[str, str], ...] = (
    ("day", N_("By the day")),
    ("sack", N_("By the sack or basin")),
    ("ore_share", N_("A share of ore")),
)
_ROLE_LABELS = dict(ROLES)
_FORM_LABELS = dict(PAY_FORMS)

MSG_REPORT = N_("Report my pay")
MSG_EARN = N_("What others earn")
MSG_ROLE = N_("What work do you do?")
MSG_FORM = N_("How were you paid?")
MSG_AMOUNT = N_("How much did you get for one day of work, in shillings? For example: 5000")
MSG_NUMBERS_ONLY = N_("Numbers only, please.")
MSG_RANGE = N_("From 500 to 500,000 only.")
MSG_DAY = N_("For which day?")
MSG_TODAY = N_("Today")
MSG_YESTERDAY = N_("Yesterday")
MSG_FULL = N_("Were you paid in full?")
MSG_YES = N_("Yes")
MSG_NO = N_("No")
MSG_GENDER = N_("Are you a woman or a man? You may skip this.")
MSG_WOMAN = N_("Woman")
MSG_MAN = N_("Man")
MSG_SKIP = N_("Skip")
MSG_CONFIRM = N_("Save this report?")
MSG_PAID_FULL = N_("Paid in full")
MSG_NOT_FULL = N_("Not paid in full")
MSG_SAVE = N_("Save")
MSG_CANCEL = N_("Cancel")
MSG_SAVED = N_("Saved. Thank you.")
MSG_FIGURES = N_("{role}, {place}, last 30 days:\nMiddle pay {median} UGX a day.\nHalf got {low} to {high}.\n"
                 "{reports} reports, at least {people} people.")
MSG_SITE_TOO_FEW = N_("Too few reports at {site}. For all of {district}:")
MSG_UP = N_("Up from {before} in the 30 days before.")
MSG_DOWN = N_("Down from {before} in the 30 days before.")
MSG_SAME = N_("The same as in the 30 days before.")
MSG_NO_BEFORE = N_("Too few reports in the 30 days before to compare.")
MSG_HIDDEN = N_("Fewer than 5 people have reported pay for this work here. To protect them, nothing is shown "
                "yet.")
MSG_SMS_OPTION = N_("Send me this by SMS")
MSG_SMS_QUEUED = N_("We are sending this to you by SMS. Thank you.")


# --- what the edge provides ---


@dataclass(frozen=True)
class Figures:
    median: int
    low: int
    high: int
    reports: int
    people: int


@dataclass(frozen=True)
class Earnings:
    """``scope`` is "site", "district" (the site had too few) or "none" (too few anywhere)."""

    scope: str
    now: Figures | None = None
    before: Figures | None = None


class WagesData(Protocol):
    def earnings(self, role: str, site_id: int | None, district: str) -> Earnings:
        """Figures for the last 30 days and the 30 before, with small groups already hidden."""


class _NoWages:
    def earnings(self, role: str, site_id: int | None, district: str) -> Earnings:
        return Earnings("none")


def _wages(ctx: Ctx) -> WagesData:
    return ctx.data.wages if ctx.data is not None else _NoWages()


# --- effects ---


@dataclass(frozen=True)
class RecordWage:
    role: str
    site_id: int | None
    district: str
    pay_form: str
    amount: int
    yesterday: bool
    paid_full: bool
    gender: str | None


@dataclass(frozen=True)
class SendWageSms:
    role: str
    site_id: int | None
    district: str
    place: str  # as shown: the site's short name, or the district
    lang: str


# --- text ---


def parse_shillings(text: str) -> int | None:
    """Digits, with commas and spaces between them tolerated: '5,000' and '5 000' are 5000."""
    cleaned = re.sub(r"[,\s]", "", text)
    if not cleaned.isascii() or not cleaned.isdigit() or len(cleaned) > 9:
        return None
    return int(cleaned)


def earnings_text(t: Translator, role: str, place: str, district: str, earnings: Earnings,
                  at_site: bool) -> str:
    """What others earn, as the screen and the SMS say it. ``place`` and ``district`` are as shown."""
    if earnings.scope == "none" or earnings.now is None:
        return t(MSG_HIDDEN)
    now, before = earnings.now, earnings.before
    lines = []
    if earnings.scope == "district" and at_site:
        lines.append(t(MSG_SITE_TOO_FEW).format(site=place, district=district))
        place = district
    lines.append(t(MSG_FIGURES).format(role=t(_ROLE_LABELS[role]), place=place, median=money(now.median),
                                       low=money(now.low), high=money(now.high), reports=now.reports,
                                       people=now.people))
    if before is None:
        lines.append(t(MSG_NO_BEFORE))
    elif now.median > before.median:
        lines.append(t(MSG_UP).format(before=money(before.median)))
    elif now.median < before.median:
        lines.append(t(MSG_DOWN).format(before=money(before.median)))
    else:
        lines.append(t(MSG_SAME))
    return "\n".join(lines)


# --- screens ---


class WagesMenu(MenuScreen):
    id = "wages"
    title = N_("Wages")

    def items(self, ctx: Ctx, params: dict[str, Any]) -> Sequence[Item]:
        return (Item(MSG_REPORT, "wages.role", {"to": "report"}), Item(MSG_EARN, "wages.role", {"to": "view"}))


class Role(ChoiceScreen):
    id = "wages.role"
    prompt, key, answers = MSG_ROLE, "role", ROLES

    def next(self, ctx: Ctx, params: dict[str, Any]) -> Outcome:
        return start_place(ctx, "wages", params)


class WageSite(SitePick):
    id = "wages.site"
    flow, after = "wages", "wages.placed"


class WageDistrict(DistrictPick):
    id = "wages.district"
    flow = "wages"


class Placed(Screen):
    """Not shown: after the place, on to the figures or to the rest of the report."""

    id = "wages.placed"

    def view(self, ctx: Ctx, params: dict[str, Any]) -> View:  # pragma: no cover - never shown
        return View(text="")

    def enter(self, ctx: Ctx, params: dict[str, Any]) -> Outcome | None:
        return Go("wages.earn" if params.get("to") == "view" else "wages.form", params)


class PayFormScreen(ChoiceScreen):
    id = "wages.form"
    prompt, key, answers, after = MSG_FORM, "form", PAY_FORMS, "wages.amount"


class Amount(Screen):
    id = "wages.amount"

    def view(self, ctx: Ctx, params: dict[str, Any]) -> View:
        return View(text=ctx.t(MSG_AMOUNT))

    def handle(self, ctx: Ctx, params: dict[str, Any], choice: str) -> Outcome:
        amount = parse_shillings(choice)
        if amount is None:
            return Stay(MSG_NUMBERS_ONLY)
        if not MIN_AMOUNT <= amount <= MAX_AMOUNT:
            return Stay(MSG_RANGE)
        return Go("wages.day", {**params, "amount": amount})


class Day(ChoiceScreen):
    id = "wages.day"
    prompt, key, answers, after = MSG_DAY, "day", (("today", MSG_TODAY), ("yesterday", MSG_YESTERDAY)), "wages.full"


class Full(ChoiceScreen):
    id = "wages.full"
    prompt, key, answers, after = MSG_FULL, "full", (("yes", MSG_YES), ("no", MSG_NO)), "wages.gender"


class Gender(ChoiceScreen):
    id = "wages.gender"
    prompt, key, after = MSG_GENDER, "gender", "wages.confirm"
    answers = (("female", MSG_WOMAN), ("male", MSG_MAN), ("", MSG_SKIP))


class Confirm(Screen):
    id = "wages.confirm"

    def view(self, ctx: Ctx, params: dict[str, Any]) -> View:
        t = ctx.t
        day = t(MSG_YESTERDAY if params["day"] == "yesterday" else MSG_TODAY)
        lines = [
            t(MSG_CONFIRM),
            f"{t(_ROLE_LABELS[params['role']])}, {place_label(ctx, params)}",
            f"{money(params['amount'])} UGX, {day}",
            t(MSG_PAID_FULL if params["full"] == "yes" else MSG_NOT_FULL),
        ]
        return View(text="\n".join(lines), options=[("1", t(MSG_SAVE)), ("2", t(MSG_CANCEL))])

    def handle(self, ctx: Ctx, params: dict[str, Any], choice: str) -> Outcome:
        if choice == "2":
            return Home()
        if choice != "1":
            return Stay(MSG_CHOOSE)
        record = RecordWage(role=params["role"], site_id=params.get("site"), district=params["district"],
                            pay_form=params["form"], amount=params["amount"],
                            yesterday=params["day"] == "yesterday", paid_full=params["full"] == "yes",
                            gender=params.get("gender") or None)
        keep = {k: params[k] for k in ("role", "site", "place", "district")}
        # The report is done: Back from the figures goes to the main menu, not into the form again.
        return Go("wages.earn", keep, effects=(record,), pop=99, notice=MSG_SAVED)


class Earn(Screen):
    id = "wages.earn"

    def _earnings(self, ctx: Ctx, params: dict[str, Any]) -> Earnings:
        return _wages(ctx).earnings(params["role"], params.get("site"), params["district"])

    def view(self, ctx: Ctx, params: dict[str, Any]) -> View:
        earnings = self._earnings(ctx, params)
        text = earnings_text(ctx.t, params["role"], place_label(ctx, params),
                             district_label(ctx.t, params["district"]), earnings, params.get("site") is not None)
        options = [("1", ctx.t(MSG_SMS_OPTION))] if earnings.now is not None else []
        return View(text=text, options=options)

    def handle(self, ctx: Ctx, params: dict[str, Any], choice: str) -> Outcome:
        if choice == "1" and self._earnings(ctx, params).now is not None:
            sms = SendWageSms(role=params["role"], site_id=params.get("site"), district=params["district"],
                              place=place_label(ctx, params), lang=ctx.lang)
            return Finish(MSG_SMS_QUEUED, effects=(sms,))
        return Stay()


SCREENS: list[Screen] = [
    WagesMenu(),
    Role(),
    WageSite(),
    WageDistrict(),
    Placed(),
    PayFormScreen(),
    Amount(),
    Day(),
    Full(),
    Gender(),
    Confirm(),
    Earn(),
]
