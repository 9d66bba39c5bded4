"""The messaging and meeting screens' data (``menus.messaging.MessagingData``): one query a call.

The engine may ask for the same data twice in a hop (the screen on show is rendered before its
input is handled), so answers are kept for the hop: a hop stays within its query budget.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, over, select

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
            def replies(answer: RsvpAnswer):  # type: ignore[no-untyped-def]
                return (select(func.count(MeetingReply.id))
                        .where(MeetingReply.meeting_id == Meeting.id, MeetingReply.answer == answer)
                        .correlate(Meeting).scalar_subquery())

            members = (select(func.count(Member.id)).where(Member.cooperative_id == Meeting.cooperative_id)
                       .correlate(Meeting).scalar_subquery())
            mine = (select(MeetingReply.answer)
                    .where(MeetingReply.meeting_id == Meeting.id, MeetingReply.member_id == member_id)
                    .correlate(Meeting).scalar_subquery())
            row = self.hop.db.execute(
                select(Meeting.id, Meeting.version, Meeting.starts_at, Meeting.place, replies(RsvpAnswer.YES),
                       replies(RsvpAnswer.NO), members, mine)
                .where(Meeting.cooperative_id == _cooperative_of(member_id),
                       Meeting.status == MeetingStatus.SCHEDULED, Meeting.starts_at > self.hop.now)
                .order_by(Meeting.starts_at, Meeting.id).limit(1)
            ).first()
            if row is None:
                return None
            meeting_id, version, starts_at, place, yes, no, count, answer = row
            local = starts_at.astimezone(ZoneInfo(self.hop.runtime.settings.timezone)).replace(tzinfo=None)
            my_answer = RsvpAnswer(answer).value if answer else None
            return MeetingView(meeting_id, version, local, place, int(yes), int(no), int(count), my_answer)

        return self._once(("meeting", member_id), load)
