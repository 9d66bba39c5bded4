"""Meetings: members see the next one and say whether they are coming; leaders set one (day, time,
place), move it or cancel it, and see the replies. Members are told by SMS (the effects below); the
reminders follow from the meeting itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from gsm7 import is_gsm7, to_gsm7

from .catalog import N_
from .common import pick
from .engine import Ctx, Finish, Go, Home, Outcome, Screen, Stay, View
from .leaders import LeaderScreen
from .messaging import MeetingView

__all__ = ["ScheduleMeeting", "MoveMeeting", "CancelMeeting", "RecordRsvp", "SCREENS", "PLACE_CHARS"]

PLACE_CHARS = 40
DAYS_OFFERED = 7
MAX_DAYS_AHEAD = 366
# A meeting set for today must leave members time to read the invitation and come.
MIN_NOTICE = timedelta(minutes=30)
WEEKDAYS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))


# --- effects ---


@dataclass(frozen=True)
class ScheduleMeeting:
    leader_member_id: int
    day: str  # ISO date, local
    time: str  # HH:MM, local
    place: str


@dataclass(frozen=True)
class MoveMeeting:
    leader_member_id: int
    meeting_id: int
    version: int  # the version the leader saw: a meeting changed meanwhile is left alone
    day: str
    time: str
    place: str


@dataclass(frozen=True)
class CancelMeeting:
    leader_member_id: int
    meeting_id: int
    version: int


@dataclass(frozen=True)
class RecordRsvp:
    member_id: int
    meeting_id: int
    answer: str  # "yes" or "no"


# --- text ---

MSG_MEMBERS_ONLY = N_("Meetings are for members of a cooperative.")
MSG_NEXT = N_("Next meeting: {day} at {time}\nPlace: {place}")
MSG_NO_MEETING = N_("No meeting is planned yet. Your leaders will send an SMS when one is called.")
MSG_NONE_PLANNED = N_("No meeting is planned.")
MSG_YOU_COMING = N_("You said you are coming.")
MSG_YOU_NOT_COMING = N_("You said you cannot come.")
MSG_COMING = N_("I will come")
MSG_NOT_COMING = N_("I cannot come")
MSG_THANKS = N_("Thank you. Your leaders will see your answer.")
MSG_REPLIES = N_("Coming {yes}, not coming {no}, no reply {none}")
MSG_NEW = N_("New meeting")
MSG_MOVE = N_("Change day, time or place")
MSG_CANCEL_IT = N_("Cancel it")
MSG_WHICH_DAY = N_("Which day? Or type a date like 05/12")
MSG_BAD_DAY = N_("Choose or type a day.")
MSG_WHAT_TIME = N_("What time? Type it like 14:00")
MSG_BAD_TIME = N_("Type a time like 14:00.")
MSG_PAST = N_("That time has passed.")
MSG_WHERE = N_("Where? Type the place:")
MSG_BAD_PLACE = N_("Type 2 to 40 letters.")
MSG_CONFIRM_NEW = N_("Meeting {day} at {time} at {place}. Invite {count} members by SMS?")
MSG_CONFIRM_MOVE = N_("Move the meeting to {day} at {time} at {place}? {count} members get an SMS.")
MSG_CONFIRM_CANCEL = N_("Cancel the meeting on {day} at {time}? {count} members get an SMS.")
MSG_YES_SEND = N_("Yes, send")
MSG_YES_CANCEL = N_("Yes, cancel it")
MSG_NO = N_("No")
MSG_SCHEDULED = N_("Meeting set. Members get an SMS now and reminders before it.")
MSG_MOVED = N_("Meeting changed. Members get an SMS now.")
MSG_CANCELLED = N_("Meeting cancelled. Members get an SMS now.")


def _when(ctx: Ctx, moment: datetime) -> dict[str, str]:
    return {"day": f"{ctx.t(WEEKDAYS[moment.weekday()])} {moment.strftime('%d/%m')}",
            "time": moment.strftime("%H:%M")}


def _member(ctx: Ctx) -> int:
    assert ctx.caller.member_id is not None
    return ctx.caller.member_id


def _reached(ctx: Ctx) -> int:
    """Members of the leader's cooperative who take SMS: those a meeting message goes to."""
    return ctx.data.messaging.preview(_member(ctx), "all", None).reached


class MemberMeetings(Screen):
    """The main menu's Meetings: the next meeting, and the caller's answer."""

    id = "meetings"

    def enter(self, ctx: Ctx, params: dict[str, Any]) -> Outcome | None:
        return None if ctx.caller.is_member and ctx.caller.member_id else Finish(MSG_MEMBERS_ONLY)

    def view(self, ctx: Ctx, params: dict[str, Any]) -> View:
        meeting = ctx.data.messaging.next_meeting(_member(ctx))
        if meeting is None:
            return View(text=ctx.t(MSG_NO_MEETING))
        text = ctx.t(MSG_NEXT).format(place=meeting.place, **_when(ctx, meeting.starts_at))
        said = {"yes": MSG_YOU_COMING, "no": MSG_YOU_NOT_COMING}.get(meeting.my_answer or "")
        if said:
            text += "\n" + ctx.t(said)
        return View(text=text, options=[("1", ctx.t(MSG_COMING)), ("2", ctx.t(MSG_NOT_COMING))])

    def handle(self, ctx: Ctx, params: dict[str, Any], choice: str) -> Outcome:
        meeting = ctx.data.messaging.next_meeting(_member(ctx))
        if meeting is None or choice not in ("1", "2"):
            return Stay()
        answer = "yes" if choice == "1" else "no"
        return Finish(MSG_THANKS, effects=(RecordRsvp(_member(ctx), meeting.id, answer),))


class ManageMeetings(LeaderScreen):
    """Leader tools > Meetings: the next meeting with its replies, and what can be done."""

    id = "meetings.manage"

    def _meeting(self, ctx: Ctx) -> MeetingView | None:
        return ctx.data.messaging.next_meeting(_member(ctx))

    def view(self, ctx: Ctx, params: dict[str, Any]) -> View:
        meeting = self._meeting(ctx)
        options = [("1", ctx.t(MSG_NEW))]
        if meeting is None:
            return View(text=ctx.t(MSG_NONE_PLANNED), options=options)
        text = ctx.t(MSG_NEXT).format(place=meeting.place, **_when(ctx, meeting.starts_at)) + "\n" + ctx.t(
            MSG_REPLIES).format(yes=meeting.coming, no=meeting.not_coming,
                                none=max(0, meeting.members - meeting.coming - meeting.not_coming))
        options += [("2", ctx.t(MSG_MOVE)), ("3", ctx.t(MSG_CANCEL_IT))]
        return View(text=text, options=options)

    def handle(self, ctx: Ctx, params: dict[str, Any], choice: str) -> Outcome:
        if choice == "1":
            return Go("meetings.day", {"mode": "new"})
        meeting = self._meeting(ctx)
        if meeting is None or choice not in ("2", "3"):
            return Stay()
        ref = {"id": meeting.id, "v": meeting.version, "at": meeting.starts_at.isoformat(timespec="minutes")}
        return Go("meetings.day" if choice == "2" else "meetings.cancel", {"mode": "move", **ref})


def parse_day(text: str, today: date) -> date | None:
    """DD/MM, DD.MM, DD-MM or DDMM (this year, or next if that day has passed), or DD/MM/YYYY."""
    match = re.fullmatch(r"(\d{1,2})[/.\-](\d{1,2})(?:[/.\-](\d{4}))?|(\d{2})(\d{2})", text.strip(), re.ASCII)
    if not match:
        return None
    day, month, year = (match.group(1), match.group(2), match.group(3)) if match.group(1) else (
        match.group(4), match.group(5), None)
    try:
        found = date(int(year) if year else today.year, int(month), int(day))
        if not year and found < today:
            found = found.replace(year=today.year + 1)
    except ValueError:
        return None
    return found if today <= found <= today + timedelta(days=MAX_DAYS_AHEAD) else None


def parse_time(text: str) -> time | None:
    """14:00, 14.00, 1400, 930 or 14 (24-hour clock)."""
    match = re.fullmatch(r"(\d{1,2})(?:[:.h]?(\d{2}))?", text.strip().lower(), re.ASCII)
    if not match:
        return None
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    return time(hour, minute) if hour < 24 and minute < 60 else None


class MeetingDay(LeaderScreen):
    id = "meetings.day"

    def view(self, ctx: Ctx, params: dict[str, Any]) -> View:
        today = ctx.data.messaging.now().date()
        options = []
        for n in range(DAYS_OFFERED):
            day = today + timedelta(days=n)
            options.append((str(n + 1), f"{ctx.t(WEEKDAYS[day.weekday()])} {day.strftime('%d/%m')}"))
        return View(text=ctx.t(MSG_WHICH_DAY), options=options)

    def handle(self, ctx: Ctx, params: dict[str, Any], choice: str) -> Outcome:
        today = ctx.data.messaging.now().date()
        n = pick(choice, DAYS_OFFERED)
        day = today + timedelta(days=n - 1) if n is not None else parse_day(choice, today)
        if day is None:
            return Stay(MSG_BAD_DAY)
        return Go("meetings.time", {**params, "d": day.isoformat()})


class MeetingTime(LeaderScreen):
    id = "meetings.time"

    def view(self, ctx: Ctx, params: dict[str, Any]) -> View:
        return View(text=ctx.t(MSG_WHAT_TIME))

    def handle(self, ctx: Ctx, params: dict[str, Any], choice: str) -> Outcome:
        at = parse_time(choice)
        if at is None:
            return Stay(MSG_BAD_TIME)
        if datetime.combine(date.fromisoformat(params["d"]), at) < ctx.data.messaging.now() + MIN_NOTICE:
            return Stay(MSG_PAST)
        return Go("meetings.place", {**params, "t": at.strftime("%H:%M")})


class MeetingPlace(LeaderScreen):
    id = "meetings.place"

    def view(self, ctx: Ctx, params: dict[str, Any]) -> View:
        return View(text=ctx.t(MSG_WHERE))

    def handle(self, ctx: Ctx, params: dict[str, Any], choice: str) -> Outcome:
        place = " ".join(to_gsm7(choice).split())
        if not 2 <= len(place) <= PLACE_CHARS or not is_gsm7(place):
            return Stay(MSG_BAD_PLACE)
        return Go("meetings.confirm", {**params, "w": place, "n": _reached(ctx)})


class ConfirmMeeting(LeaderScreen):
    id = "meetings.confirm"

    def view(self, ctx: Ctx, params: dict[str, Any]) -> View:
        at = datetime.combine(date.fromisoformat(params["d"]), time.fromisoformat(params["t"]))
        template = MSG_CONFIRM_MOVE if params["mode"] == "move" else MSG_CONFIRM_NEW
        text = ctx.t(template).format(place=params["w"], count=params["n"], **_when(ctx, at))
        return View(text=text, options=[("1", ctx.t(MSG_YES_SEND)), ("2", ctx.t(MSG_NO))])

    def handle(self, ctx: Ctx, params: dict[str, Any], choice: str) -> Outcome:
        if choice == "2":
            return Home()
        if choice != "1":
            return Stay()
        leader = _member(ctx)
        if params["mode"] == "move":
            return Finish(MSG_MOVED, effects=(MoveMeeting(leader, params["id"], params["v"], params["d"], params["t"],
                                                          params["w"]),))
        return Finish(MSG_SCHEDULED, effects=(ScheduleMeeting(leader, params["d"], params["t"], params["w"]),))


class CancelMeetingScreen(LeaderScreen):
    id = "meetings.cancel"

    def view(self, ctx: Ctx, params: dict[str, Any]) -> View:
        at = datetime.fromisoformat(params["at"])
        text = ctx.t(MSG_CONFIRM_CANCEL).format(count=_reached(ctx), **_when(ctx, at))
        return View(text=text, options=[("1", ctx.t(MSG_YES_CANCEL)), ("2", ctx.t(MSG_NO))])

    def handle(self, ctx: Ctx, params: dict[str, Any], choice: str) -> Outcome:
        if choice == "2":
            return Home()
        if choice != "1":
            return Stay()
        return Finish(MSG_CANCELLED, effects=(CancelMeeting(_member(ctx), params["id"], params["v"]),))


SCREENS = [MemberMeetings(), ManageMeetings(), MeetingDay(), MeetingTime(), MeetingPlace(), ConfirmMeeting(),
           CancelMeetingScreen()]
