"""Writing what the messaging and meeting screens decided: broadcasts, meetings, and replies.

Each handler is at most three statements (``sms.broadcasts`` and ``sms.meetings`` write every member's
message with one INSERT ... SELECT), so the confirming hop stays within its query budget; the outbox
ids go to the hop, which queues them after the commit. The cooperative is always the confirming
leader's own, read from the members table in the same statement, never from the session.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from menus.meetings import CancelMeeting, MoveMeeting, RecordRsvp, ScheduleMeeting
from menus.messaging import SendBroadcast
from models import RsvpAnswer
from sms.broadcasts import clean_text, create_broadcast
from sms.meetings import MeetingSms, cancel_meeting, move_meeting, record_reply, schedule_meeting

from .effect_context import EffectContext

__all__ = ["HANDLERS"]

log = logging.getLogger("minerline.ussd.messaging")


def _meeting_sms(ctx: EffectContext) -> MeetingSms:
    return MeetingSms(ctx.catalogs.translator, ctx.data.runtime.settings.timezone)


def _starts_at(ctx: EffectContext, day: str, at: str) -> datetime:
    """The local day and time the leader typed, as a UTC moment."""
    zone = ZoneInfo(ctx.data.runtime.settings.timezone)
    return datetime.combine(date.fromisoformat(day), time.fromisoformat(at), tzinfo=zone)


def _send_broadcast(effect: SendBroadcast, ctx: EffectContext) -> None:
    created = create_broadcast(
        ctx.data.db, audience=effect.audience, text=clean_text(effect.text), now=ctx.data.now,
        local_day=ctx.data.today, leader_member_id=effect.leader_member_id,
        daily_limit=ctx.data.runtime.settings.broadcast_daily_limit, idempotency_key=ctx.key(),
    )
    if created is None:
        # A repeat of this confirmation, or the day's limit reached by another leader a moment ago.
        log.warning("broadcast not created", extra={"member_id": effect.leader_member_id})
        return
    ctx.outbox_ids.extend(created.queued)


def _schedule(effect: ScheduleMeeting, ctx: EffectContext) -> None:
    change = schedule_meeting(ctx.data.db, leader_member_id=effect.leader_member_id,
                              starts_at=_starts_at(ctx, effect.day, effect.time), place=effect.place,
                              sms=_meeting_sms(ctx), now=ctx.data.now, idempotency_key=ctx.key())
    if change is not None:
        ctx.outbox_ids.extend(change.queued)


def _move(effect: MoveMeeting, ctx: EffectContext) -> None:
    change = move_meeting(ctx.data.db, leader_member_id=effect.leader_member_id, meeting_id=effect.meeting_id,
                          version=effect.version, starts_at=_starts_at(ctx, effect.day, effect.time),
                          place=effect.place, sms=_meeting_sms(ctx), now=ctx.data.now)
    if change is None:
        log.warning("meeting not moved: changed meanwhile", extra={"meeting_id": effect.meeting_id})
        return
    ctx.outbox_ids.extend(change.queued)


def _cancel(effect: CancelMeeting, ctx: EffectContext) -> None:
    change = cancel_meeting(ctx.data.db, leader_member_id=effect.leader_member_id, meeting_id=effect.meeting_id,
                            version=effect.version, sms=_meeting_sms(ctx), now=ctx.data.now)
    if change is None:
        log.warning("meeting not cancelled: changed meanwhile", extra={"meeting_id": effect.meeting_id})
        return
    ctx.outbox_ids.extend(change.queued)


def _rsvp(effect: RecordRsvp, ctx: EffectContext) -> None:
    record_reply(ctx.data.db, meeting_id=effect.meeting_id, member_id=effect.member_id,
                 answer=RsvpAnswer(effect.answer), answered_at=ctx.data.now)


HANDLERS = {
    SendBroadcast: _send_broadcast,
    ScheduleMeeting: _schedule,
    MoveMeeting: _move,
    CancelMeeting: _cancel,
    RecordRsvp: _rsvp,
}
