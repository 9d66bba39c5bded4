"""Meetings by SMS: invitations, notices of a change, reminders computed from the database, and replies.

Setting, moving or cancelling a meeting writes the meeting and every member's message in the caller's
transaction (at most three statements: the USSD hop that confirms it stays within its budget); the
caller commits, then queues the ids it got back. Reminders are not queued ahead in Redis: the periodic
job (``run_due_reminders``, from the worker's cron) works out from the meetings table which are due and
writes them, so an emptied Redis loses none and each goes once (a ``ReminderRun`` row per meeting version
and offset, and a unique outbox key per member). A change makes a new meeting version: messages still
pending for an older version are skipped, never sent.

The SMS texts are here; the edge renders them with its catalogs (``meeting_sms``). A reminder's text is
rendered when the meeting is set and kept on the meeting, so the job needs no catalogs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, String, case, cast, literal, null, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from models import (
    LANGUAGES,
    LEADER_ROLES,
    Meeting,
    MeetingReply,
    MeetingStatus,
    Member,
    OutboxMessage,
    OutboxStatus,
    ReminderRun,
    RsvpAnswer,
    utcnow,
)
from models.base import UtcDateTime
from models.messaging import meeting_prefix

from .outbox import enqueue_send
from .runtime import current_runtime
from .segments import count_segments

__all__ = [
    "N_",
    "PURPOSE",
    "REMINDER_PURPOSE",
    "SMS",
    "MeetingSms",
    "MeetingChange",
    "schedule_meeting",
    "move_meeting",
    "cancel_meeting",
    "compute_reminders",
    "run_due_reminders",
    "record_reply",
    "next_meeting_for",
]

log = logging.getLogger("minerline.sms.meetings")

PURPOSE = "meeting"  # invitations and notices of a change
REMINDER_PURPOSE = "reminder"
Translators = Callable[[str], Callable[[str], str]]  # language -> msgid -> text (Catalogs.translator)


def N_(message: str) -> str:
    """Marks text for the catalogs (``pybabel extract -k N_``); translated when rendered."""
    return message


_REPLY = N_("Reply 1 if you will come, 2 if you cannot.")
SMS = {
    "invite": N_("Minerline: your cooperative meets on {day} at {time} at {place}."),
    "moved": N_("Minerline: the meeting is moved to {day} at {time} at {place}."),
    "cancelled": N_("Minerline: the meeting on {day} at {time} is cancelled."),
    "reminder": N_("Minerline reminder: meeting on {day} at {time} at {place}."),
}


@dataclass(frozen=True)
class MeetingSms:
    """Renders the meeting SMS in every language with the catalogs of the edge that changes a meeting."""

    translators: Translators
    timezone: str

    def render(self, kind: str, starts_at: datetime, place: str) -> dict[str, str]:
        """The SMS of ``kind`` (invite, moved, cancelled, reminder) by language, with the local day and time."""
        local = starts_at.astimezone(ZoneInfo(self.timezone))
        texts = {}
        for lang in LANGUAGES:
            t = self.translators(lang)
            text = t(SMS[kind]).format(day=local.strftime("%d/%m"), time=local.strftime("%H:%M"), place=place)
            texts[lang] = text if kind == "cancelled" else f"{text} {t(_REPLY)}"
        return texts


def _insert(session: Session):  # type: ignore[no-untyped-def]
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def _at(moment: datetime):  # type: ignore[no-untyped-def]
    """A moment as a SQL literal stored in UTC (a bare literal would keep the local wall time on SQLite)."""
    return literal(moment, type_=UtcDateTime())


def _leaders_cooperative(leader_member_id: int):  # type: ignore[no-untyped-def]
    leader = aliased(Member)
    return (select(leader.cooperative_id)
            .where(leader.id == leader_member_id, leader.role.in_([r.value for r in LEADER_ROLES]))
            .scalar_subquery())


def _by_language(texts: dict[str, str], value: Callable[[str], object]):  # type: ignore[no-untyped-def]
    """CASE on the member's language (no language yet: English)."""
    whens = [(Member.language == lang, literal(value(texts[lang]))) for lang in LANGUAGES if lang != "en"]
    return case(*whens, else_=literal(value(texts["en"])))


def _member_messages(session: Session, *, cooperative_id: int, prefix: str, texts: dict[str, str], purpose: str,
                     now: datetime) -> list[int]:
    """INSERT ... SELECT one message per member of the cooperative, in the member's language; opted-out
    members' rows are marked skipped. Returns the ids to send."""
    opted_out = Member.opted_out.is_(True)
    source = select(
        Member.phone, _by_language(texts, str), literal(purpose), Member.id,
        literal(prefix) + cast(Member.id, String),
        case((opted_out, literal(OutboxStatus.SKIPPED.value)), else_=literal(OutboxStatus.PENDING.value)),
        _by_language(texts, lambda text: count_segments(text).parts), literal(0), _at(now), _at(now),
        _at(now), case((opted_out, literal("opted out")), else_=null()),
    ).where(Member.cooperative_id == cooperative_id)
    columns = ["phone", "text", "purpose", "member_id", "idempotency_key", "status", "parts", "attempts",
               "next_attempt_at", "created_at", "updated_at", "last_error"]
    rows = session.execute(
        _insert(session)(OutboxMessage).from_select(columns, source)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(OutboxMessage.id, OutboxMessage.status)
    ).all()
    return [i for i, status in rows if status is OutboxStatus.PENDING]


@dataclass(frozen=True)
class MeetingChange:
    meeting_id: int
    version: int
    queued: list[int]  # outbox ids to send after the commit


def schedule_meeting(session: Session, *, leader_member_id: int, starts_at: datetime, place: str,
                     sms: MeetingSms, now: datetime, idempotency_key: str | None = None) -> MeetingChange | None:
    """A new meeting of the leader's cooperative and everyone's invitation (two statements). None when
    the member is not a leader or ``idempotency_key`` was used before."""
    reminder = sms.render("reminder", starts_at, place)
    leader = aliased(Member)
    head = select(
        leader.cooperative_id, _at(starts_at), literal(place), literal(MeetingStatus.SCHEDULED.value),
        literal(1), _at(now), literal(reminder, type_=JSON), literal(leader_member_id), _at(now),
        literal(idempotency_key),
    ).where(leader.id == leader_member_id, leader.role.in_([r.value for r in LEADER_ROLES]))
    columns = ["cooperative_id", "starts_at", "place", "status", "version", "changed_at", "reminder_texts",
               "created_by_member_id", "created_at", "idempotency_key"]
    row = session.execute(
        _insert(session)(Meeting).from_select(columns, head).on_conflict_do_nothing()
        .returning(Meeting.id, Meeting.cooperative_id)
    ).first()
    if row is None:
        return None
    meeting_id, cooperative_id = row
    queued = _member_messages(session, cooperative_id=cooperative_id, prefix=meeting_prefix(meeting_id, 1, "invite"),
                              texts=sms.render("invite", starts_at, place), purpose=PURPOSE, now=now)
    log.info("meeting scheduled", extra={"meeting_id": meeting_id, "queued": len(queued)})
    return MeetingChange(meeting_id, 1, queued)


def _change(session: Session, *, leader_member_id: int, meeting_id: int, version: int, kind: str,
            values: dict[str, object], sms: MeetingSms, now: datetime) -> MeetingChange | None:
    """Move the meeting to a new version (only from ``version`` and by a leader of its cooperative), skip
    what is still pending for older versions, and write the notice (three statements)."""
    row = session.execute(
        update(Meeting)
        .where(Meeting.id == meeting_id, Meeting.version == version, Meeting.status == MeetingStatus.SCHEDULED,
               Meeting.cooperative_id == _leaders_cooperative(leader_member_id))
        .values(**values, version=Meeting.version + 1, changed_at=now)
        .returning(Meeting.cooperative_id, Meeting.version, Meeting.starts_at, Meeting.place)
        .execution_options(synchronize_session=False)
    ).first()
    if row is None:
        return None  # changed meanwhile, already cancelled, or not this leader's
    cooperative_id, new_version, starts_at, place = row
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.PENDING,
               OutboxMessage.idempotency_key.like(f"meeting:{meeting_id}:v%"),
               ~OutboxMessage.idempotency_key.like(f"meeting:{meeting_id}:v{new_version}:%"))
        .values(status=OutboxStatus.SKIPPED, last_error="meeting changed", updated_at=now)
        .execution_options(synchronize_session=False)
    )
    queued = _member_messages(session, cooperative_id=cooperative_id,
                              prefix=meeting_prefix(meeting_id, new_version, kind),
                              texts=sms.render(kind, starts_at, place), purpose=PURPOSE, now=now)
    log.info("meeting changed", extra={"meeting_id": meeting_id, "kind": kind, "queued": len(queued)})
    return MeetingChange(meeting_id, new_version, queued)


def move_meeting(session: Session, *, leader_member_id: int, meeting_id: int, version: int, starts_at: datetime,
                 place: str, sms: MeetingSms, now: datetime) -> MeetingChange | None:
    """Give the meeting a new time and place and tell everyone; reminders follow the new time. None when
    the meeting changed since ``version``, is cancelled, or is not of this leader's cooperative."""
    values = {"starts_at": starts_at, "place": place, "reminder_texts": sms.render("reminder", starts_at, place)}
    return _change(session, leader_member_id=leader_member_id, meeting_id=meeting_id, version=version,
                   kind="moved", values=values, sms=sms, now=now)


def cancel_meeting(session: Session, *, leader_member_id: int, meeting_id: int, version: int,
                   sms: MeetingSms, now: datetime) -> MeetingChange | None:
    """Cancel the meeting and tell everyone; no reminder for it goes after this. None as for move_meeting."""
    return _change(session, leader_member_id=leader_member_id, meeting_id=meeting_id, version=version,
                   kind="cancelled", values={"status": MeetingStatus.CANCELLED}, sms=sms, now=now)


def compute_reminders(session: Session, offsets_minutes: tuple[int, ...], now: datetime) -> list[int]:
    """Write the reminders due at ``now``; returns the outbox ids to send. The caller commits.

    An offset is due once the meeting is that close, if it was not already that close when the
    meeting (version) was set. When several are due at once (the worker was down), only the one
    nearest the meeting goes. Also skips meeting messages still pending for a changed meeting.
    """
    _skip_stale(session, now)
    if not offsets_minutes:
        return []
    horizon = now + timedelta(minutes=max(offsets_minutes))
    meetings = session.scalars(
        select(Meeting).where(Meeting.status == MeetingStatus.SCHEDULED, Meeting.starts_at > now,
                              Meeting.starts_at <= horizon)
    ).all()
    if not meetings:
        return []
    done = set(session.execute(
        select(ReminderRun.meeting_id, ReminderRun.version, ReminderRun.offset_minutes)
        .where(ReminderRun.meeting_id.in_([m.id for m in meetings]))
    ).all())
    queued: list[int] = []
    for meeting in meetings:
        due = [o for o in offsets_minutes
               if meeting.changed_at < meeting.starts_at - timedelta(minutes=o) <= now
               and (meeting.id, meeting.version, o) not in done]
        if not due:
            continue
        nearest = min(due)
        for offset in due:
            new = session.execute(
                _insert(session)(ReminderRun)
                .values(meeting_id=meeting.id, version=meeting.version, offset_minutes=offset,
                        sent=offset == nearest, created_at=now)
                .on_conflict_do_nothing().returning(ReminderRun.id)
            ).scalar_one_or_none()
            if new is not None and offset == nearest:
                queued += _member_messages(
                    session, cooperative_id=meeting.cooperative_id,
                    prefix=meeting_prefix(meeting.id, meeting.version, f"remind{offset}"),
                    texts=meeting.reminder_texts, purpose=REMINDER_PURPOSE, now=now)
    return queued


def _skip_stale(session: Session, now: datetime) -> int:
    """Pending meeting messages made for an older version of their meeting, or for a meeting that has
    begun, are skipped: news that late only confuses. (A change skips them too; this catches one that was
    being sent then and came back to pending for a retry.) Pending rows are few: the status index finds them."""
    rows = session.execute(
        select(OutboxMessage.id, OutboxMessage.idempotency_key, OutboxMessage.purpose)
        .where(OutboxMessage.status == OutboxStatus.PENDING,
               OutboxMessage.purpose.in_([PURPOSE, REMINDER_PURPOSE]))
    ).all()
    if not rows:
        return 0
    parsed: dict[int, tuple[int, int]] = {}
    for row_id, key, _purpose in rows:
        try:
            _, meeting_id, version, *_rest = (key or "").split(":")
            parsed[row_id] = (int(meeting_id), int(version.lstrip("v")))
        except ValueError:
            continue
    current = {i: (v, t) for i, v, t in session.execute(
        select(Meeting.id, Meeting.version, Meeting.starts_at).where(Meeting.id.in_({m for m, _v in parsed.values()}))
    )}
    stale = [row_id for row_id, (meeting_id, version) in parsed.items()
             if meeting_id in current and (version != current[meeting_id][0] or current[meeting_id][1] <= now)]
    if stale:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(stale), OutboxMessage.status == OutboxStatus.PENDING)
            .values(status=OutboxStatus.SKIPPED, last_error="meeting changed", updated_at=now)
            .execution_options(synchronize_session=False)
        )
    return len(stale)


def run_due_reminders(now: datetime | None = None) -> dict[str, int]:
    """RQ job (the worker's cron): write the reminders due, commit, queue them. ``now`` is for tests."""
    runtime = current_runtime()
    now = now or utcnow()
    with runtime.sessions() as session, session.begin():
        queued = compute_reminders(session, runtime.settings.meeting_reminder_minutes, now)
    if queued:
        enqueue_send(runtime.queue(), queued)
        log.info("reminders", extra={"queued": len(queued)})
    return {"reminders": len(queued)}


def record_reply(session: Session, *, meeting_id: int, member_id: int, answer: RsvpAnswer,
                 answered_at: datetime) -> bool:
    """Keep the member's answer unless a later one is kept already (SMS arrive out of order).
    Returns True when this answer is now the one kept."""
    stmt = _insert(session)(MeetingReply).values(meeting_id=meeting_id, member_id=member_id, answer=answer,
                                                 answered_at=answered_at)
    stmt = stmt.on_conflict_do_update(
        index_elements=["meeting_id", "member_id"],
        set_={"answer": stmt.excluded.answer, "answered_at": stmt.excluded.answered_at},
        where=MeetingReply.answered_at <= stmt.excluded.answered_at,
    ).returning(MeetingReply.id)
    return session.execute(stmt).scalar_one_or_none() is not None


def next_meeting_for(session: Session, member_id: int, now: datetime) -> Meeting | None:
    """The next meeting of the member's cooperative that has not begun, if one is set."""
    cooperative = select(Member.cooperative_id).where(Member.id == member_id).scalar_subquery()
    return session.scalars(
        select(Meeting)
        .where(Meeting.cooperative_id == cooperative, Meeting.status == MeetingStatus.SCHEDULED,
               Meeting.starts_at > now)
        .order_by(Meeting.starts_at, Meeting.id).limit(1)
    ).first()
