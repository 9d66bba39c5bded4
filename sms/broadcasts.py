"""Broadcasts: one text to a cooperative's members, as outbox rows made in one statement.

``create_broadcast`` writes the broadcast and then every recipient's outbox row with one
INSERT ... SELECT from the members table (opted-out members get a row marked skipped, so counts add
up); the caller commits and then queues the pending ids (``sms.outbox.enqueue_send``), which makes jobs
of up to 10,000 recipients, sent in calls of 100. Used by the USSD edge (a leader, bound by the daily
limit) and the CLI.

``flag_failing_members`` (run by the worker's cron) keeps the list of members whose last messages all
failed, for their leaders to see.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import String, and_, case, cast, delete, func, literal, null, select, true
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from gsm7 import to_gsm7
from models import (
    LEADER_ROLES,
    Audience,
    Broadcast,
    Cooperative,
    FailingMember,
    Gender,
    JobMark,
    Member,
    OutboxMessage,
    OutboxStatus,
    utcnow,
)
from models.base import UtcDateTime
from models.messaging import broadcast_prefix

from .runtime import current_runtime
from .segments import count_segments

__all__ = [
    "PURPOSE",
    "PRICE_PER_PART_UGX",
    "FAILING_AFTER",
    "NewBroadcast",
    "BroadcastCounts",
    "clean_text",
    "audience_clause",
    "find_cooperative",
    "create_broadcast",
    "broadcast_counts",
    "recent_broadcasts",
    "flag_failing_members",
    "run_failing_flags",
]

log = logging.getLogger("minerline.sms.broadcasts")

PURPOSE = "broadcast"
# What the gateway charged per part in its Ugandan sample answer (reference 2.4): the preview's estimate.
PRICE_PER_PART_UGX = 27
# A member is flagged for the leaders once this many of their latest messages in a row failed.
FAILING_AFTER = 3
_MARK = "failing_members"
# Rows are re-read this far behind the last run: a job may commit a failure stamped a little earlier.
_SLACK = timedelta(minutes=2)


def _insert(session: Session):  # type: ignore[no-untyped-def]
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def _at(moment: datetime):  # type: ignore[no-untyped-def]
    """A moment as a SQL literal stored in UTC (a bare literal would keep the local wall time on SQLite)."""
    return literal(moment, type_=UtcDateTime())


def clean_text(text: str) -> str:
    """The broadcast text as it will go: characters with a plain GSM-7 equivalent replaced (curly quotes,
    dashes, accents), spaces at either end dropped. What has no equivalent stays (the text goes as UCS-2)."""
    return to_gsm7(text).strip()


def audience_clause(audience: Audience | str, member: type[Member] | Member = Member) -> ColumnElement[bool]:
    """SQL for 'this member is in the audience'."""
    audience = Audience(audience)
    if audience is Audience.WOMEN:
        return member.gender == Gender.FEMALE
    if audience is Audience.LEADERS:
        return member.role.in_(sorted(LEADER_ROLES, key=lambda r: r.value))
    return true()


def find_cooperative(session: Session, name: str) -> Cooperative | None:
    """The cooperative whose name matches ignoring case and extra spaces."""
    return session.scalar(select(Cooperative).where(Cooperative.name_key == Cooperative.key_for(name)))


@dataclass(frozen=True)
class NewBroadcast:
    id: int
    cooperative_id: int
    recipients: int  # members addressed, opted-out ones included
    queued: list[int]  # outbox ids to send
    skipped: int  # opted out
    parts: int


def create_broadcast(
    session: Session,
    *,
    audience: Audience | str,
    text: str,
    now: datetime,
    local_day: date,
    cooperative_id: int | None = None,
    leader_member_id: int | None = None,
    daily_limit: int | None = None,
    idempotency_key: str | None = None,
) -> NewBroadcast | None:
    """Write a broadcast and its outbox rows in the caller's transaction (two statements).

    Give ``cooperative_id`` (programme staff, CLI) or ``leader_member_id`` (the broadcast goes to that
    leader's cooperative, and only if they are a leader and it has sent fewer than ``daily_limit``
    broadcasts from USSD today). ``text`` should be cleaned already (``clean_text``). Returns None when
    nothing was written: not a leader, the limit reached, or ``idempotency_key`` used before.
    """
    if (cooperative_id is None) == (leader_member_id is None):
        raise ValueError("give cooperative_id or leader_member_id")
    audience = Audience(audience)
    parts = count_segments(text).parts
    recipient = aliased(Member)
    if leader_member_id is not None:
        leader = aliased(Member)
        coop = leader.cooperative_id
        sent_today = (select(func.count(Broadcast.id))
                      .where(Broadcast.cooperative_id == leader.cooperative_id, Broadcast.local_day == local_day,
                             Broadcast.source == "ussd").scalar_subquery())
        where = [leader.id == leader_member_id, leader.role.in_([r.value for r in LEADER_ROLES])]
        if daily_limit is not None:
            where.append(sent_today < daily_limit)
        source, origin = "ussd", select(leader)
    else:
        coop = Cooperative.id
        where = [Cooperative.id == cooperative_id]
        source, origin = "cli", select(Cooperative)
    recipients = (select(func.count(recipient.id))
                  .where(recipient.cooperative_id == coop, audience_clause(audience, recipient)).scalar_subquery())
    head = origin.with_only_columns(
        coop, literal(audience.value), literal(text), literal(parts), recipients, literal(source),
        literal(leader_member_id), literal(local_day), _at(now), literal(idempotency_key),
    ).where(*where)
    columns = ["cooperative_id", "audience", "text", "parts", "recipients", "source", "created_by_member_id",
               "local_day", "created_at", "idempotency_key"]
    row = session.execute(
        _insert(session)(Broadcast).from_select(columns, head).on_conflict_do_nothing()
        .returning(Broadcast.id, Broadcast.cooperative_id, Broadcast.recipients)
    ).first()
    if row is None:
        return None
    broadcast_id, coop_id, count = row
    rows = session.execute(_outbox_rows(session, broadcast_id, coop_id, audience, text, parts, now)).all()
    queued = [i for i, status in rows if status is OutboxStatus.PENDING]
    log.info("broadcast", extra={"broadcast_id": broadcast_id, "recipients": count, "queued": len(queued),
                                 "source": source})
    return NewBroadcast(broadcast_id, coop_id, count, queued, len(rows) - len(queued), parts)


def _outbox_rows(session: Session, broadcast_id: int, cooperative_id: int, audience: Audience, text: str,
                 parts: int, now: datetime):  # type: ignore[no-untyped-def]
    """INSERT ... SELECT one outbox row per member in the audience; returns (id, status) of each."""
    opted_out = Member.opted_out.is_(True)
    source = select(
        Member.phone, literal(text), literal(PURPOSE), Member.id,
        literal(broadcast_prefix(broadcast_id)) + cast(Member.id, String),
        case((opted_out, literal(OutboxStatus.SKIPPED.value)), else_=literal(OutboxStatus.PENDING.value)),
        literal(parts), literal(0), _at(now), _at(now), _at(now),
        case((opted_out, literal("opted out")), else_=null()),
    ).where(Member.cooperative_id == cooperative_id, audience_clause(audience))
    columns = ["phone", "text", "purpose", "member_id", "idempotency_key", "status", "parts", "attempts",
               "next_attempt_at", "created_at", "updated_at", "last_error"]
    return (_insert(session)(OutboxMessage).from_select(columns, source)
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
            .returning(OutboxMessage.id, OutboxMessage.status))


@dataclass(frozen=True)
class BroadcastCounts:
    """Where a broadcast's messages are. ``accepted``: the gateway took it, no delivery report yet."""

    recipients: int = 0
    delivered: int = 0
    accepted: int = 0
    failed: int = 0
    skipped: int = 0
    waiting: int = 0  # not sent yet: pending, being sent, retrying, or of unknown outcome

    @property
    def sent(self) -> int:
        return self.delivered + self.accepted

    @property
    def final(self) -> int:
        """Recipients whose sending is over: sent, failed or skipped."""
        return self.sent + self.failed + self.skipped

    @property
    def done(self) -> bool:
        return self.waiting == 0 and self.final >= self.recipients


def broadcast_counts(session: Session, broadcast_ids: list[int]) -> dict[int, BroadcastCounts]:
    """Counts for each broadcast, from its outbox rows (found by their keys, through the cooperative's
    members: one index look-up each)."""
    if not broadcast_ids:
        return {}
    key = literal("broadcast:") + cast(Broadcast.id, String) + literal(":") + cast(Member.id, String)
    rows = session.execute(
        select(Broadcast.id, Broadcast.recipients, OutboxMessage.status, func.count(OutboxMessage.id))
        .select_from(Broadcast)
        .join(Member, Member.cooperative_id == Broadcast.cooperative_id)
        .join(OutboxMessage, OutboxMessage.idempotency_key == key)
        .where(Broadcast.id.in_(broadcast_ids))
        .group_by(Broadcast.id, Broadcast.recipients, OutboxMessage.status)
    ).all()
    by_id: dict[int, Counter[str]] = {i: Counter() for i in broadcast_ids}
    recipients: dict[int, int] = {}
    for broadcast_id, total, status, n in rows:
        recipients[broadcast_id] = total
        by_id[broadcast_id][_bucket(OutboxStatus(status))] += n
    if len(recipients) < len(broadcast_ids):  # a broadcast with no rows yet (or none at all)
        recipients.update(dict(session.execute(
            select(Broadcast.id, Broadcast.recipients).where(Broadcast.id.in_(set(broadcast_ids) - set(recipients)))
        ).all()))
    return {i: BroadcastCounts(recipients=recipients.get(i, 0), **by_id[i]) for i in broadcast_ids}


def recent_broadcasts(session: Session, cooperative_id: Any, limit: int) -> list[tuple[Broadcast, BroadcastCounts]]:
    """The cooperative's latest broadcasts with their counts, newest first, in one query.
    ``cooperative_id`` may be a SQL expression (e.g. the cooperative of a member)."""
    recent = (select(Broadcast.id).where(Broadcast.cooperative_id == cooperative_id)
              .order_by(Broadcast.id.desc()).limit(limit).scalar_subquery())
    key = literal("broadcast:") + cast(Broadcast.id, String) + literal(":") + cast(Member.id, String)
    rows = session.execute(
        select(Broadcast, OutboxMessage.status, func.count(OutboxMessage.id))
        .join(Member, Member.cooperative_id == Broadcast.cooperative_id)
        .outerjoin(OutboxMessage, OutboxMessage.idempotency_key == key)
        .where(Broadcast.id.in_(recent))
        .group_by(Broadcast.id, OutboxMessage.status)
    ).all()
    found: dict[int, tuple[Broadcast, Counter[str]]] = {}
    for broadcast, status, n in rows:
        _, counts = found.setdefault(broadcast.id, (broadcast, Counter()))
        if status is not None:
            counts[_bucket(OutboxStatus(status))] += n
    return [(b, BroadcastCounts(recipients=b.recipients, **counts))
            for b, counts in sorted(found.values(), key=lambda item: -item[0].id)]


def _bucket(status: OutboxStatus) -> str:
    return {
        OutboxStatus.DELIVERED: "delivered",
        OutboxStatus.ACCEPTED: "accepted",
        OutboxStatus.FAILED: "failed",
        OutboxStatus.SKIPPED: "skipped",
    }.get(status, "waiting")


def flag_failing_members(session: Session, now: datetime | None = None) -> tuple[int, int]:
    """Flag members whose latest FAILING_AFTER messages all failed; clear flags of members a message
    reached since. Looks only at members with a failure since the last run, and those flagged.
    Returns (flagged now, cleared). The caller commits."""
    now = now or utcnow()
    mark = session.get(JobMark, _MARK)
    since = (mark.at if mark else now - timedelta(days=1)) - _SLACK
    touched = set(session.scalars(
        select(OutboxMessage.member_id).distinct()
        .where(OutboxMessage.status == OutboxStatus.FAILED, OutboxMessage.updated_at >= since,
               OutboxMessage.member_id.is_not(None))
    ))
    touched |= set(session.scalars(select(FailingMember.member_id)))
    flagged = cleared = 0
    ordered = sorted(touched)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start:start + 500]
        latest = _latest_outcomes(session, chunk)
        current = set(session.scalars(select(FailingMember.member_id).where(FailingMember.member_id.in_(chunk))))
        for member_id in chunk:
            outcomes = latest.get(member_id, [])
            failing = len(outcomes) >= FAILING_AFTER and all(status == OutboxStatus.FAILED for status, _ in outcomes)
            if failing and member_id not in current:
                session.add(FailingMember(member_id=member_id, failures=len(outcomes), reason=outcomes[0][1],
                                          since=now))
                flagged += 1
            elif not failing and member_id in current:
                session.execute(delete(FailingMember).where(FailingMember.member_id == member_id))
                cleared += 1
    if mark is None:
        session.add(JobMark(name=_MARK, at=now))
    else:
        mark.at = now
    return flagged, cleared


def _latest_outcomes(session: Session, member_ids: list[int]) -> dict[int, list[tuple[OutboxStatus, str | None]]]:
    """Each member's latest FAILING_AFTER messages with an outcome (sent, delivered or failed), newest first."""
    rank = func.row_number().over(partition_by=OutboxMessage.member_id, order_by=OutboxMessage.id.desc())
    reason = func.coalesce(OutboxMessage.failure_reason, OutboxMessage.at_status, OutboxMessage.last_error)
    ranked = (
        select(OutboxMessage.member_id, OutboxMessage.status, reason.label("reason"), rank.label("rank"))
        .where(OutboxMessage.member_id.in_(member_ids),
               OutboxMessage.status.in_([OutboxStatus.ACCEPTED, OutboxStatus.DELIVERED, OutboxStatus.FAILED]))
        .subquery()
    )
    result: dict[int, list[tuple[OutboxStatus, str | None]]] = {}
    for member_id, status, why, _rank in session.execute(
        select(ranked).where(and_(ranked.c.rank <= FAILING_AFTER)).order_by(ranked.c.member_id, ranked.c.rank)
    ):
        result.setdefault(member_id, []).append((OutboxStatus(status), (why or "")[:64] or None))
    return result


def run_failing_flags() -> dict[str, int]:
    """RQ job (the worker's cron): ``flag_failing_members`` in its own transaction."""
    runtime = current_runtime()
    with runtime.sessions() as session, session.begin():
        flagged, cleared = flag_failing_members(session)
    if flagged or cleared:
        log.info("failing members", extra={"flagged": flagged, "cleared": cleared})
    return {"flagged": flagged, "cleared": cleared}
