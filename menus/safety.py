"""Safety reports under the neutral "Wellbeing" entry, and follow-up by reference code.

Every screen here is ``sensitive``: never offered on resume, never named to the gateway.
Help numbers come only from the verified list in the domain reference (Sauti 116,
police 112, FIDA-Uganda 0800 111 511) and are shown on screen; an SMS goes only when the
reporter asks, and then it is a neutral list of numbers that says nothing about a report.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Protocol, Sequence

from .catalog import N_, Translator
from .common import MSG_CHOOSE, ChoiceScreen, Item, MenuScreen
from .engine import Back, Ctx, Finish, Go, Home, Outcome, Screen, Stay, View
from .places import DistrictPick, SitePick, place_label, start_place

__all__ = [
    "CATEGORIES",
    "HELP_FOR",
    "SafetyData",
    "Lookup",
    "FileReport",
    "LookupFailed",
    "SaveContact",
    "AddDetails",
    "DeleteContact",
    "SendHelpSms",
    "help_sms_text",
    "format_code",
    "parse_code",
    "parse_phone",
    "clean_text",
    "MAX_TEXT",
    "SCREENS",
]

MAX_TEXT = 150  # letters in a description or added details

CATEGORIES: tuple[tuple[str, str], ...] = (
    ("harassment", N_("Sexual harassment")),
    ("violence", N_("Physical violence")),
    ("threats", N_("Threats")),
    ("pay", N_("Pay withheld or cut")),
    ("forced", N_("Forced work")),
    ("child", N_("A child working")),
    ("pit", N_("Unsafe pit or shaft")),
    ("mercury", N_("Mercury or chemicals")),
    ("other", N_("Something else")),
)
WHO = (("self", N_("To me")), ("witness", N_("To someone else")))
WHEN = (("today", N_("Today")), ("week", N_("This week")), ("earlier", N_("Before this week")))
ONGOING = (("yes", N_("Yes")), ("no", N_("No")), ("unsure", N_("Not sure")))
CALL_TIMES = (("morning", N_("Morning")), ("afternoon", N_("Afternoon")), ("evening", N_("Evening")),
              ("any", N_("Any time")))
_LABELS = {key: label for group in (CATEGORIES, WHO, WHEN, ONGOING) for key, label in group}
_CATEGORY_LABELS = dict(CATEGORIES)
_ONGOING_LABELS = dict(ONGOING)

# Verified numbers only ([V] in shared/reference/uganda-domain.md section 3). On screens FIDA's number
# is written with hyphens, so paging (which breaks lines at spaces) never splits it.
HELP_SAUTI = N_("Call 116 (Sauti): free, day and night, for violence and child abuse.")
HELP_POLICE = N_("In danger now? Call the police on 112.")
HELP_EMERGENCY = N_("In an emergency, call 112.")
HELP_FIDA = N_("Legal help for women, free or at low cost: FIDA-Uganda 0800-111-511, a free call.")
HELP_FOR: dict[str, tuple[str, ...]] = {
    "harassment": (HELP_SAUTI, HELP_FIDA, HELP_POLICE),
    "violence": (HELP_POLICE, HELP_SAUTI, HELP_FIDA),
    "threats": (HELP_POLICE, HELP_SAUTI, HELP_FIDA),
    "pay": (HELP_FIDA,),
    "forced": (HELP_POLICE, HELP_SAUTI, HELP_FIDA),
    "child": (HELP_SAUTI, HELP_POLICE),
    "pit": (HELP_EMERGENCY,),
    "mercury": (HELP_EMERGENCY,),
    "other": (HELP_SAUTI, HELP_FIDA, HELP_EMERGENCY),
}
HELP_ALL = (HELP_SAUTI, HELP_POLICE, HELP_FIDA)

MSG_TITLE = N_("Wellbeing")
MSG_TELL = N_("Tell us about a problem")
MSG_FOLLOW = N_("Follow up with a code")
MSG_NUMBERS = N_("Useful numbers")
MSG_WHAT = N_("What happened?")
MSG_WHO = N_("Who did it happen to?")
MSG_WHERE = N_("Where did it happen?")
MSG_WHEN = N_("When did it happen?")
MSG_ONGOING = N_("Is it still happening?")
MSG_NOTE_ASK = N_("Add a few words about what happened? You do not have to.")
MSG_YES = N_("Yes")
MSG_NO = N_("No")
MSG_NOTE = N_("Write a few words, up to 150 letters. Do not write your own name.")
MSG_TOO_LONG = N_("Too long: 150 letters at most.")
MSG_TOO_SHORT = N_("Write at least 2 letters.")
MSG_REVIEW = N_("Send this?")
MSG_STILL = N_("Still happening: {answer}")
MSG_SEND = N_("Send")
MSG_CANCEL = N_("Cancel")
MSG_FILED = N_("Sent. Your code is {code}. Keep it secret: you need it to follow up.")
MSG_CALL_BACK = N_("Ask to be called back")
MSG_SMS_NUMBERS = N_("Send me useful numbers by SMS")
MSG_FINISH = N_("Finish")
MSG_BYE = N_("Thank you. Take care.")
MSG_LIMIT = N_("You have sent many reports today. Please try again tomorrow. For help now, call 116 for "
               "free, or the police on 112.")
MSG_CALL_WHEN = N_("When is it safe to call you?")
MSG_CALL_WHICH = N_("Which number should we call?")
MSG_THIS_PHONE = N_("This phone")
MSG_OTHER_NUMBER = N_("Another number")
MSG_TYPE_NUMBER = N_("Type the number to call, for example 0772123456:")
MSG_NOT_A_NUMBER = N_("Not a phone number.")
MSG_CALL_SAVED = N_("Thank you. We will call only at the time you chose. To cancel, use your code under "
                    "Follow up.")
MSG_ENTER_CODE = N_("Enter your 8-number code:")
MSG_CODE_FORMAT = N_("Type the 8 numbers.")
MSG_NO_SUCH_CODE = N_("No report has that code.")
MSG_TOO_MANY_TRIES = N_("Too many tries today. Please try again tomorrow.")
MSG_STATUS = N_("Report {code}:")
STATUS_TEXT = {
    "received": N_("We received it. No one has followed it up yet."),
    "following_up": N_("It is being followed up."),
    "closed": N_("It is closed."),
}
MSG_ADD = N_("Add details")
MSG_FORGET = N_("Remove my contact details")
MSG_MORE = N_("Write what you want to add, up to 150 letters:")
MSG_ADDED = N_("Added. Thank you.")
MSG_FORGET_ASK = N_("Remove your contact details? Then we cannot call you.")
MSG_FORGOTTEN = N_("Your contact details are removed.")
MSG_SMS_OPTION = N_("Send me this by SMS")
MSG_SMS_QUEUED = N_("We are sending this to you by SMS. Thank you.")
MSG_HELP_SMS = N_("Minerline useful numbers: Sauti 116, free, day and night. Police 112. FIDA-Uganda 0800 111 "
                  "511, free legal help for women.")


# --- what the edge provides ---


@dataclass(frozen=True)
class Lookup:
    blocked: bool  # too many wrong codes from this phone today
    status: str | None = None  # None: no report has that code
    has_contact: bool = False


class SafetyData(Protocol):
    def new_code(self) -> str | None:
        """A random 8-digit code no report has, or None when this phone has made too many reports today."""

    def lookup(self, code: str) -> Lookup:
        """The report with ``code``, unless this phone has guessed wrong too often today."""


class _NoSafety:
    """When the engine runs without an edge (tests, previews)."""

    def new_code(self) -> str | None:
        return "00000000"

    def lookup(self, code: str) -> Lookup:
        return Lookup(blocked=False)


def _safety(ctx: Ctx) -> SafetyData:
    return ctx.data.safety if ctx.data is not None else _NoSafety()


# --- effects ---


@dataclass(frozen=True)
class FileReport:
    code: str
    category: str
    witness: bool
    site_id: int | None
    district: str
    happened: str
    ongoing: str
    description: str | None


@dataclass(frozen=True)
class LookupFailed:
    """A code that matched no report: counts against this phone's look-ups for the day."""


@dataclass(frozen=True)
class SaveContact:
    code: str
    when: str
    number: str | None  # None: call the phone that made the request


@dataclass(frozen=True)
class AddDetails:
    code: str
    text: str


@dataclass(frozen=True)
class DeleteContact:
    code: str


@dataclass(frozen=True)
class SendHelpSms:
    lang: str


# --- helpers ---


def format_code(code: str) -> str:
    """Two groups of 4, easier to read and to copy down."""
    return f"{code[:4]} {code[4:]}"


def parse_code(text: str) -> str | None:
    cleaned = re.sub(r"[\s-]", "", text)
    return cleaned if re.fullmatch(r"[0-9]{8}", cleaned) else None


def parse_phone(text: str) -> str | None:
    """A Ugandan mobile number in a common form, as +2567XXXXXXXX."""
    cleaned = re.sub(r"[\s\-()]", "", text)
    match = re.fullmatch(r"(?:\+?256|0)?(7[0-9]{8})", cleaned)
    return f"+256{match.group(1)}" if match else None


def clean_text(text: str) -> str:
    """Free text as typed, without control characters or runs of spaces."""
    spaced = "".join(" " if ch.isspace() else ch for ch in text)
    return " ".join("".join(ch for ch in spaced if unicodedata.category(ch)[0] != "C").split())


def help_sms_text(t: Translator) -> str:
    return t(MSG_HELP_SMS)



class _Sensitive(Screen):
    sensitive = True


class _Choice(_Sensitive, ChoiceScreen):
    """A question with numbered answers, in the safety flow (never offered back, never labelled)."""


class _Text(_Sensitive):
    """Free text of 2 to 150 letters."""

    prompt: str = ""

    def view(self, ctx: Ctx, params: dict[str, Any]) -> View:
        return View(text=ctx.t(self.prompt))

    def handle(self, ctx: Ctx, params: dict[str, Any], choice: str) -> Outcome:
        text = clean_text(choice)
        if len(text) < 2:
            return Stay(MSG_TOO_SHORT)
        if len(text) > MAX_TEXT:
            return Stay(MSG_TOO_LONG)
        return self.done(ctx, params, text)

    def done(self, ctx: Ctx, params: dict[str, Any], text: str) -> Outcome:
        raise NotImplementedError


# --- the report ---


class SafetyMenu(MenuScreen):
    id = "safety"
    title = MSG_TITLE
    sensitive = True

    def items(self, ctx: Ctx, params: dict[str, Any]) -> Sequence[Item]:
        return (Item(MSG_TELL, "safety.what"), Item(MSG_FOLLOW, "safety.code"), Item(MSG_NUMBERS, "safety.help"))


class What(_Choice):
    id = "safety.what"
    prompt, key, answers, after = MSG_WHAT, "cat", CATEGORIES, "safety.who"


class Who(_Choice):
    id = "safety.who"
    prompt, key, answers = MSG_WHO, "who", WHO

    def next(self, ctx: Ctx, params: dict[str, Any]) -> Outcome:
        return start_place(ctx, "safety", params)


class SafetySite(SitePick):
    id = "safety.site"
    flow, after, prompt = "safety", "safety.when", MSG_WHERE
    sensitive = True


class SafetyDistrict(DistrictPick):
    id = "safety.district"
    flow = "safety"
    sensitive = True


class When(_Choice):
    id = "safety.when"
    prompt, key, answers, after = MSG_WHEN, "when", WHEN, "safety.ongoing"


class Ongoing(_Choice):
    id = "safety.ongoing"
    prompt, key, answers, after = MSG_ONGOING, "ongoing", ONGOING, "safety.note.ask"


class NoteAsk(_Sensitive):
    id = "safety.note.ask"

    def view(self, ctx: Ctx, params: dict[str, Any]) -> View:
        return View(text=ctx.t(MSG_NOTE_ASK), options=[("1", ctx.t(MSG_YES)), ("2", ctx.t(MSG_NO))])

    def handle(self, ctx: Ctx, params: dict[str, Any], choice: str) -> Outcome:
        if choice == "1":
            return Go("safety.note", params)
        if choice == "2":
            return Go("safety.review", {k: v for k, v in params.items() if k != "note"})
        return Stay(MSG_CHOOSE)


class Note(_Text):
    id = "safety.note"
    prompt = MSG_NOTE

    def done(self, ctx: Ctx, params: dict[str, Any], text: str) -> Outcome:
        return Go("safety.review", {**params, "note": text})


class Review(_Sensitive):
    id = "safety.review"

    def view(self, ctx: Ctx, params: dict[str, Any]) -> View:
        t = ctx.t
        lines = [
            t(MSG_REVIEW),
            t(_CATEGORY_LABELS[params["cat"]]),
            f"{t(_LABELS[params['who']])}, {place_label(ctx, params)}",
            t(_LABELS[params["when"]]),
            t(MSG_STILL).format(answer=t(_ONGOING_LABELS[params["ongoing"]])),
        ]
        return View(text="\n".join(lines), options=[("1", t(MSG_SEND)), ("2", t(MSG_CANCEL))])

    def handle(self, ctx: Ctx, params: dict[str, Any], choice: str) -> Outcome:
        if choice == "2":
            return Home()
        if choice != "1":
            return Stay(MSG_CHOOSE)
        code = _safety(ctx).new_code()
        if code is None:
            return Finish(MSG_LIMIT)
        report = FileReport(code=code, category=params["cat"], witness=params["who"] == "witness",
                            site_id=params.get("site"), district=params["district"], happened=params["when"],
                            ongoing=params["ongoing"], description=params.get("note"))
        # The report is made: nothing of it stays on the way back, and Back cannot send it twice.
        return Go("safety.filed", {"code": code, "cat": params["cat"]}, effects=(report,), pop=99)


class Filed(_Sensitive):
    id = "safety.filed"

    def view(self, ctx: Ctx, params: dict[str, Any]) -> View:
        t = ctx.t
        lines = [t(MSG_FILED).format(code=format_code(params["code"]))]
        lines += [t(line) for line in HELP_FOR[params["cat"]]]
        options = [("1", t(MSG_CALL_BACK)), ("2", t(MSG_SMS_NUMBERS)), ("3", t(MSG_FINISH))]
        return View(text="\n".join(lines), options=options)

    def handle(self, ctx: Ctx, params: dict[str, Any], choice: str) -> Outcome:
        if choice == "1":
            return Go("safety.call", {"code": params["code"]})
        if choice == "2":
            return Finish(MSG_SMS_QUEUED, effects=(SendHelpSms(ctx.lang),))
        if choice == "3":
            return Finish(MSG_BYE)
        return Stay(MSG_CHOOSE)


# --- being called back ---


class CallWhen(_Choice):
    id = "safety.call"
    prompt, key, answers, after = MSG_CALL_WHEN, "when", CALL_TIMES, "safety.call.number"


class CallNumber(_Sensitive):
    id = "safety.call.number"

    def view(self, ctx: Ctx, params: dict[str, Any]) -> View:
        return View(text=ctx.t(MSG_CALL_WHICH),
                    options=[("1", ctx.t(MSG_THIS_PHONE)), ("2", ctx.t(MSG_OTHER_NUMBER))])

    def handle(self, ctx: Ctx, params: dict[str, Any], choice: str) -> Outcome:
        if choice == "1":
            # The number is taken by the edge when it seals the request; it never enters the session.
            return Finish(MSG_CALL_SAVED, effects=(SaveContact(params["code"], params["when"], None),))
        if choice == "2":
            return Go("safety.call.other", params)
        return Stay(MSG_CHOOSE)


class CallOther(_Sensitive):
    id = "safety.call.other"

    def view(self, ctx: Ctx, params: dict[str, Any]) -> View:
        return View(text=ctx.t(MSG_TYPE_NUMBER))

    def handle(self, ctx: Ctx, params: dict[str, Any], choice: str) -> Outcome:
        number = parse_phone(choice)
        if number is None:
            return Stay(MSG_NOT_A_NUMBER)
        # Asked last, so the number goes straight into the sealed request and never into the session.
        return Finish(MSG_CALL_SAVED, effects=(SaveContact(params["code"], params["when"], number),))


# --- follow-up by code ---


class EnterCode(_Sensitive):
    id = "safety.code"

    def view(self, ctx: Ctx, params: dict[str, Any]) -> View:
        return View(text=ctx.t(MSG_ENTER_CODE))

    def handle(self, ctx: Ctx, params: dict[str, Any], choice: str) -> Outcome:
        code = parse_code(choice)
        if code is None:
            return Stay(MSG_CODE_FORMAT)
        found = _safety(ctx).lookup(code)
        if found.blocked:
            return Finish(MSG_TOO_MANY_TRIES)
        if found.status is None:
            return Stay(MSG_NO_SUCH_CODE, effects=(LookupFailed(),))
        return Go("safety.status", {"code": code, "status": found.status, "contact": found.has_contact})


class Status(_Sensitive):
    id = "safety.status"

    def view(self, ctx: Ctx, params: dict[str, Any]) -> View:
        t = ctx.t
        text = t(MSG_STATUS).format(code=format_code(params["code"])) + "\n" + t(STATUS_TEXT[params["status"]])
        second = MSG_FORGET if params.get("contact") else MSG_CALL_BACK
        return View(text=text, options=[("1", t(MSG_ADD)), ("2", t(second))])

    def handle(self, ctx: Ctx, params: dict[str, Any], choice: str) -> Outcome:
        if choice == "1":
            return Go("safety.more", {"code": params["code"]})
        if choice == "2" and params.get("contact"):
            return Go("safety.forget", {"code": params["code"]})
        if choice == "2":
            return Go("safety.call", {"code": params["code"]})
        return Stay(MSG_CHOOSE)


class More(_Text):
    id = "safety.more"
    prompt = MSG_MORE

    def done(self, ctx: Ctx, params: dict[str, Any], text: str) -> Outcome:
        return Finish(MSG_ADDED, effects=(AddDetails(params["code"], text),))


class Forget(_Sensitive):
    id = "safety.forget"

    def view(self, ctx: Ctx, params: dict[str, Any]) -> View:
        return View(text=ctx.t(MSG_FORGET_ASK), options=[("1", ctx.t(MSG_YES)), ("2", ctx.t(MSG_NO))])

    def handle(self, ctx: Ctx, params: dict[str, Any], choice: str) -> Outcome:
        if choice == "1":
            return Finish(MSG_FORGOTTEN, effects=(DeleteContact(params["code"]),))
        if choice == "2":
            return Back()
        return Stay(MSG_CHOOSE)


class UsefulNumbers(_Sensitive):
    id = "safety.help"

    def view(self, ctx: Ctx, params: dict[str, Any]) -> View:
        return View(text="\n".join(ctx.t(line) for line in HELP_ALL), options=[("1", ctx.t(MSG_SMS_OPTION))])

    def handle(self, ctx: Ctx, params: dict[str, Any], choice: str) -> Outcome:
        if choice == "1":
            return Finish(MSG_SMS_QUEUED, effects=(SendHelpSms(ctx.lang),))
        return Stay(MSG_CHOOSE)


SCREENS: list[Screen] = [
    SafetyMenu(),
    What(),
    Who(),
    SafetySite(),
    SafetyDistrict(),
    When(),
    Ongoing(),
    NoteAsk(),
    Note(),
    Review(),
    Filed(),
    CallWhen(),
    CallNumber(),
    CallOther(),
    EnterCode(),
    Status(),
    More(),
    Forget(),
    UsefulNumbers(),
]
