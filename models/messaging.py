"""Cooperative messaging: broadcasts, meetings and replies to them, inbound SMS, opt-out order, and
members the SMS no longer reach.

Every message itself is an outbox row (``models.outbox``); these tables say why it was sent and what
came back. A broadcast's rows carry the idempotency key ``broadcast:{broadcast id}:{member id}`` and a
meeting's ``meeting:{meeting id}:v{version}:{kind}:{member id}``, so each is made once however often
the request or the periodic job runs.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UtcDateTime, utcnow

__all__ = [
    "Audience",
    "Broadcast",
    "MeetingStatus",
    "Meeting",
    "RsvpAnswer",
    "MeetingReply",
    "ReminderRun",
    "InboundKind",
    "InboundMessage",
    "OptState",
    "FailingMember",
    "JobMark",
    "broadcast_prefix",
    "meeting_prefix",
]


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(cls, name=name, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])


class Audience(str, enum.Enum):
    ALL = "all"
    WOMEN = "women"      # gender female
    LEADERS = "leaders"  # chairs, secretaries and treasurers


class Broadcast(Base):
    """One message from a leader (USSD) or programme staff (CLI) to a cooperative's members."""

    __tablename__ = "broadcasts"
    __table_args__ = (Index("ix_broadcasts_cooperative_day", "cooperative_id", "local_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cooperative_id: Mapped[int] = mapped_column(ForeignKey("cooperatives.id"))
    audience: Mapped[Audience] = mapped_column(_enum(Audience, "broadcast_audience"))
    text: Mapped[str] = mapped_column(Text)
    parts: Mapped[int] = mapped_column(Integer)
    recipients: Mapped[int] = mapped_column(Integer)  # members addressed, opted-out ones included
    source: Mapped[str] = mapped_column(String(8))  # "ussd" (bound by the daily limit) or "cli"
    created_by_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    local_day: Mapped[date] = mapped_column(Date)  # Uganda's date, for the daily limit
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    # A USSD confirmation sent twice makes one broadcast.
    idempotency_key: Mapped[str | None] = mapped_column(String(128), unique=True)


class MeetingStatus(str, enum.Enum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class Meeting(Base):
    """A cooperative meeting. ``version`` goes up with every change: messages and reminders name the
    version they were made for, so a moved meeting's old reminders are told apart from its new ones."""

    __tablename__ = "meetings"
    __table_args__ = (Index("ix_meetings_cooperative_starts", "cooperative_id", "status", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cooperative_id: Mapped[int] = mapped_column(ForeignKey("cooperatives.id"))
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime())
    place: Mapped[str] = mapped_column(String(60))
    status: Mapped[MeetingStatus] = mapped_column(_enum(MeetingStatus, "meeting_status"),
                                                  default=MeetingStatus.SCHEDULED)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # When the current version was made: a reminder whose time had already passed then never goes.
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    # The reminder SMS in each language, written when the meeting is set (the catalogs live with the
    # edge that sets it; the periodic job that sends reminders needs no catalogs).
    reminder_texts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    idempotency_key: Mapped[str | None] = mapped_column(String(128), unique=True)


class RsvpAnswer(str, enum.Enum):
    YES = "yes"
    NO = "no"


class MeetingReply(Base):
    """A member's latest answer to a meeting invitation (by SMS or USSD); a later answer replaces it."""

    __tablename__ = "meeting_replies"
    __table_args__ = (UniqueConstraint("meeting_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    answer: Mapped[RsvpAnswer] = mapped_column(_enum(RsvpAnswer, "rsvp_answer"))
    # The time the member answered (the gateway's date for an SMS): answers apply in that order.
    answered_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ReminderRun(Base):
    """A reminder round made for one meeting version and offset. ``sent`` is False for a round
    passed over because a later one was due at the same time (one reminder, not two at once)."""

    __tablename__ = "reminder_runs"
    __table_args__ = (UniqueConstraint("meeting_id", "version", "offset_minutes"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"))
    version: Mapped[int] = mapped_column(Integer)
    offset_minutes: Mapped[int] = mapped_column(Integer)
    sent: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class InboundKind(str, enum.Enum):
    STOP = "stop"
    START = "start"
    YES = "yes"
    NO = "no"
    OTHER = "other"


class InboundMessage(Base):
    """Each incoming SMS once, by the gateway's id (it retries for hours). What it meant, not what it said."""

    __tablename__ = "inbound_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    gateway_id: Mapped[str] = mapped_column(String(64), unique=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    kind: Mapped[InboundKind] = mapped_column(_enum(InboundKind, "inbound_kind"))
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime())  # the gateway's date
    received_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id"))  # what an RSVP answered


class OptState(Base):
    """When a member's opt-out flag was last set, by the time of the request that set it: STOP and
    START apply in the order the member sent them, whatever order the gateway delivers them in."""

    __tablename__ = "opt_states"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    as_of: Mapped[datetime] = mapped_column(UtcDateTime())
    source: Mapped[str] = mapped_column(String(8))  # "sms" (STOP/START) or "gateway" (its opt-out callback)


class FailingMember(Base):
    """A member whose last messages all failed: shown to the leaders, cleared when one gets through."""

    __tablename__ = "failing_members"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(String(64))
    since: Mapped[datetime] = mapped_column(UtcDateTime())


class JobMark(Base):
    """How far a periodic job has read (e.g. failed messages up to this time)."""

    __tablename__ = "job_marks"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())


def broadcast_prefix(broadcast_id: int) -> str:
    """The prefix of the outbox key of a broadcast's message to a member (the member id follows)."""
    return f"broadcast:{broadcast_id}:"


def meeting_prefix(meeting_id: int, version: int, kind: str) -> str:
    """The prefix of a meeting message's outbox key (the member id follows): kind is invite, moved,
    cancelled or remind{minutes}."""
    return f"meeting:{meeting_id}:v{version}:{kind}:"
