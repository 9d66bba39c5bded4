"""Incoming SMS: STOP and START, replies to meeting invitations, and a short help reply for anything else.

Keywords are matched on the first word, in any case, in English, Luganda and Kiswahili (README,
"Cooperative messaging"). The gateway retries an incoming SMS for hours, so each is recorded once by
its id and a repeat changes nothing. STOP and START, and two replies to the same meeting, apply in the
order the member sent them (the gateway's ``date``), not the order they arrive in. The message text is
not kept: only what it meant.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Callable, Mapping
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from models import (
    InboundKind,
    InboundMessage,
    InvalidPhone,
    Member,
    OptState,
    RsvpAnswer,
    normalize_phone,
    phone_key,
    utcnow,
)
from settings import Settings

from .meetings import N_, next_meeting_for, record_reply
from .outbox import queue_message

__all__ = [
    "STOP_WORDS",
    "START_WORDS",
    "YES_WORDS",
    "NO_WORDS",
    "REPLY_PURPOSE",
    "IncomingSms",
    "classify",
    "handle_inbound",
    "set_opted_out",
]

log = logging.getLogger("minerline.sms.inbound")

# English, Luganda, Kiswahili. Only START opts back in.
STOP_WORDS = frozenset({"STOP", "YIMIRIZA", "ACHA"})
START_WORDS = frozenset({"START", "TANDIKA", "ANZA"})
YES_WORDS = frozenset({"1", "YES", "Y", "YEE", "NDIYO"})
NO_WORDS = frozenset({"2", "NO", "N", "NEDDA", "HAPANA"})
REPLY_PURPOSE = "reply"  # answers to the member's own SMS: they go even after STOP (sms.jobs.OPT_OUT_EXEMPT)
# A reply names the meeting that was next when it was sent, if the invitation could have reached the
# member by then (the gateway's clock and ours may differ a little).
_CLOCK_SLACK = timedelta(minutes=5)

MSG_STOPPED = N_("Minerline: you will get no more messages from your cooperative. Send START to get them again.")
MSG_STARTED = N_("Minerline: you will get your cooperative's messages again. Send STOP to stop them.")
MSG_COMING = N_("Minerline: thank you. Your leaders will know you are coming on {day}.")
MSG_NOT_COMING = N_("Minerline: thank you. Your leaders will know you cannot come on {day}.")
MSG_HELP = N_("Minerline: dial {code} for the menu. Answer a meeting SMS with 1 or 2. Send STOP to stop messages.")


@dataclass(frozen=True)
class IncomingSms:
    gateway_id: str
    phone: str  # E.164 when it is a Ugandan mobile number, else as the gateway wrote it
    text: str
    sent_at: datetime  # the gateway's ``date``, UTC; the time of arrival if it cannot be read

    @classmethod
    def from_form(cls, form: Mapping[str, str], now: datetime | None = None) -> IncomingSms:
        """Parse the gateway's form; raises ValueError (with a reason) without ``from`` or ``id``."""
        gateway_id = (form.get("id") or "").strip()
        raw = (form.get("from") or "").strip()
        missing = [name for name, value in (("from", raw), ("id", gateway_id)) if not value]
        if missing:
            raise ValueError(f"required: {', '.join(missing)}")
        try:
            phone = normalize_phone(raw)
        except InvalidPhone:
            phone = raw[:64]
        return cls(gateway_id[:64], phone, form.get("text") or "", _parse_date(form.get("date"), now or utcnow()))


def _parse_date(value: str | None, fallback: datetime) -> datetime:
    """The gateway's date, leniently: ISO 8601 with or without a zone (UTC is assumed), 'Z' accepted."""
    text = (value or "").strip().replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return fallback
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def classify(text: str) -> InboundKind:
    """What an SMS asks for, from its first word (any case, punctuation around it ignored)."""
    words = text.split()
    first = re.sub(r"^\W+|\W+$", "", words[0]).upper() if words else ""
    if first in STOP_WORDS:
        return InboundKind.STOP
    if first in START_WORDS:
        return InboundKind.START
    if first in YES_WORDS:
        return InboundKind.YES
    if first in NO_WORDS:
        return InboundKind.NO
    return InboundKind.OTHER


def _insert(session: Session):  # type: ignore[no-untyped-def]
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def set_opted_out(session: Session, member_id: int, opted_out: bool, as_of: datetime, source: str) -> bool:
    """Opt the member out (or back in) unless a later request already decided; returns True if applied.

    The conditional upsert locks the member's row until the caller commits, so two requests at once
    apply in the order of ``as_of`` too.
    """
    stmt = _insert(session)(OptState).values(member_id=member_id, as_of=as_of, source=source)
    stmt = stmt.on_conflict_do_update(
        index_elements=["member_id"], set_={"as_of": stmt.excluded.as_of, "source": stmt.excluded.source},
        where=OptState.as_of < stmt.excluded.as_of,
    ).returning(OptState.member_id)
    if session.execute(stmt).scalar_one_or_none() is None:
        return False
    session.execute(update(Member).where(Member.id == member_id).values(opted_out=opted_out, updated_at=utcnow()))
    return True


def handle_inbound(session: Session, sms: IncomingSms, *, translators: Callable[[str], Callable[[str], str]],
                   settings: Settings, now: datetime | None = None) -> list[int]:
    """Record the SMS once and act on it in the caller's transaction; returns outbox ids of replies to
    queue after the commit (none for a repeat)."""
    now = now or utcnow()
    member = session.execute(select(Member.id, Member.language).where(Member.phone == sms.phone)).first()
    kind = classify(sms.text)
    meeting = None
    if kind in (InboundKind.YES, InboundKind.NO):
        meeting = next_meeting_for(session, member.id, sms.sent_at) if member else None
        if meeting is None or meeting.created_at > sms.sent_at + _CLOCK_SLACK:
            kind, meeting = InboundKind.OTHER, None  # no invitation this could answer
    new = session.execute(
        _insert(session)(InboundMessage)
        .values(gateway_id=sms.gateway_id, member_id=member.id if member else None, kind=kind,
                sent_at=sms.sent_at, received_at=now, meeting_id=meeting.id if meeting else None)
        .on_conflict_do_nothing(index_elements=["gateway_id"]).returning(InboundMessage.id)
    ).scalar_one_or_none()
    if new is None:
        return []  # the gateway sent it again: done already
    t = translators((member.language if member else None) or "en")
    reply, key = None, f"inbound:{sms.gateway_id}"
    if kind in (InboundKind.STOP, InboundKind.START):
        stop = kind is InboundKind.STOP
        if member is None or set_opted_out(session, member.id, stop, sms.sent_at, "sms"):
            reply = t(MSG_STOPPED if stop else MSG_STARTED)
    elif meeting is not None and member is not None:
        answer = RsvpAnswer.YES if kind is InboundKind.YES else RsvpAnswer.NO
        if record_reply(session, meeting_id=meeting.id, member_id=member.id, answer=answer,
                        answered_at=sms.sent_at):
            day = meeting.starts_at.astimezone(ZoneInfo(settings.timezone)).strftime("%d/%m")
            reply = t(MSG_COMING if answer is RsvpAnswer.YES else MSG_NOT_COMING).format(day=day)
    else:
        # At most one help reply a day for a number, whatever it sends.
        reply = t(MSG_HELP).format(code=settings.service_code)
        key = f"help:{phone_key(settings.secret_key, sms.phone, 'help')[:32]}:{settings.local_date(now)}"
    log.info("inbound sms", extra={"kind": kind.value, "member": bool(member), "reply": reply is not None})
    if reply is None:
        return []
    outbox_id = queue_message(session, phone=sms.phone, text=reply, purpose=REPLY_PURPOSE,
                              member_id=member.id if member else None, idempotency_key=key)
    return [outbox_id] if outbox_id is not None else []
