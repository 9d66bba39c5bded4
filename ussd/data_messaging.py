"""The messaging and meeting screens' data (``menus.messaging.MessagingData``): one query a call.

The engine may ask for the same data twice in a hop (the screen on show is rendered before its
input is handled), so answers are kept for the hop: a hop stays within its query budget.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, case, func, over, select

from menus.messaging import BroadcastLine, MeetingView, Preview
from models import Broadcast, FailingMember, Meeting, MeetingReply, MeetingStatus, Member, RsvpAnswer
from sms.broadcasts import PRICE_PER_PART_UGX, audience_clause, recent_broadcasts
from sms.segments import count_segments

from .data import HopData

__all__ = ["MessagingPort"]


def _cooperative_of(member_id: int):  # type: ignore[no-untyped-def]
    return select(Member.cooperative_id).where(Member.id == member_id).scalar_subquery()


class MessagingPort:
    def __init__(self, hop: HopData) -> None:
        self.hop = hop
        self._memo: dict[tuple, Any] = {}

    def _once(self, key: tuple, load: Callable[[], Any]) -> Any:
        if key not in self._memo:
            self._memo[key] = load()
        return self._memo[key]

    def now(self) -> datetime:
        return self.hop.now.astimezone(ZoneInfo(self.hop.runtime.settings.timezone)).replace(tzinfo=None)

    def sent_today(self, member_id: int) -> tuple[int, int]:
        def load() -> tuple[int, int]:
            count = self.hop.db.scalar(
                select(func.count(Broadcast.id))
                .where(Broadcast.cooperative_id == _cooperative_of(member_id), Broadcast.source == "ussd",
                       Broadcast.local_day == self.hop.today))
            return int(count or 0), self.hop.runtime.settings.broadcast_daily_limit

        return self._once(("sent_today", member_id), load)

    def preview(self, member_id: int, audience: str, text: str | None) -> Preview:
        def load() -> tuple[int, int]:
            total, stopped = self.hop.db.execute(
                select(func.count(Member.id),
                       func.coalesce(func.sum(case((Member.opted_out.is_(True), 1), else_=0)), 0))
                .where(Member.cooperative_id == _cooperative_of(member_id), audience_clause(audience))
            ).one()
            return int(total), int(stopped)

        recipients, opted_out = self._once(("reach", member_id, audience), load)
        parts = count_segments(text).parts if text else 0
        return Preview(recipients, opted_out, parts, PRICE_PER_PART_UGX)

    def last_broadcasts(self, member_id: int, limit: int) -> Sequence[BroadcastLine]:
        def load() -> list[BroadcastLine]:
            found = recent_broadcasts(self.hop.db, _cooperative_of(member_id), limit)
            return [BroadcastLine(b.local_day, b.audience.value, c.delivered, c.failed, c.accepted + c.waiting,
                                  c.skipped) for b, c in found]

        return self._once(("broadcasts", member_id, limit), load)

    def failing(self, member_id: int, limit: int) -> tuple[int, Sequence[str]]:
        def load() -> tuple[int, list[str]]:
            rows = self.hop.db.execute(
                select(Member.name, over(func.count())).join(FailingMember, FailingMember.member_id == Member.id)
                .where(Member.cooperative_id == _cooperative_of(member_id))
                .order_by(Member.name).limit(max(limit, 1))
            ).all()
            return (int(rows[0][1]) if rows else 0), [name for name, _ in rows[:limit]]

        return self._once(("failing", member_id, limit), load)

    def next_meeting(self, member_id: int) -> MeetingView | None:
        def load() -> MeetingView | None:
            row = self.hop.db.connection().execute(_NEXT_MEETING, {"member_id": member_id,
                                                                   "now": self.hop.now}).first()
            if row is None:
                return None
            meeting_id, version, starts_at, place, yes, no, count, answer = row
            local = starts_at.astimezone(ZoneInfo(self.hop.runtime.settings.timezone)).replace(tzinfo=None)
            my_answer = RsvpAnswer(answer).value if answer else None
            return MeetingView(meeting_id, version, local, place, int(yes), int(no), int(count), my_answer)

        return self._once(("meeting", member_id), load)


def _replies(answer: RsvpAnswer):  # type: ignore[no-untyped-def]
    return (select(func.count(MeetingReply.id))
            .where(MeetingReply.meeting_id == Meeting.id, MeetingReply.answer == answer)
            .correlate(Meeting).scalar_subquery())


# The caller's cooperative's next meeting, its replies, its members and the caller's own reply.
# Built once and run on the session's connection: Meetings is opened on many hops, and building
# the statement and the ORM's handling of it cost more than the query.
_NEXT_MEETING = (
    select(Meeting.id, Meeting.version, Meeting.starts_at, Meeting.place, _replies(RsvpAnswer.YES),
           _replies(RsvpAnswer.NO),
           select(func.count(Member.id)).where(Member.cooperative_id == Meeting.cooperative_id)
           .correlate(Meeting).scalar_subquery(),
           select(MeetingReply.answer)
           .where(MeetingReply.meeting_id == Meeting.id, MeetingReply.member_id == bindparam("member_id"))
           .correlate(Meeting).scalar_subquery())
    .where(Meeting.cooperative_id == _cooperative_of(bindparam("member_id")),  # type: ignore[arg-type]
           Meeting.status == MeetingStatus.SCHEDULED, Meeting.starts_at > bindparam("now"))
    .order_by(Meeting.starts_at, Meeting.id).limit(1)
)
