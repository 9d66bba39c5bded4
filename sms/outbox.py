"""Putting messages in the outbox, and queueing the rows for sending.

A message is a row before it is queued: Redis can be emptied and the sweep
(``sms.sweeps``) queues again whatever is still pending.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Iterable

from rq import Queue
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from models import OutboxMessage, OutboxStatus, utcnow

from .segments import count_segments

__all__ = ["queue_message", "enqueue_send", "due_pending", "BATCH_SIZE", "JOB_SIZE", "QUEUED_KEY"]

BATCH_SIZE = 100  # recipients of one text per API call
# Rows per send job. A job costs a fork, RQ's bookkeeping, a new database connection and its closing
# checkpoint (50 to 100 ms here, against about 6 ms for an API call), so a broadcast goes in few, long
# jobs: up to 100 calls each, one after another; a cooperative's broadcast is one job. More workers
# share a larger one job by job.
JOB_SIZE = 100 * BATCH_SIZE
# Job timeout: this much per API call (a connect and a read timeout, and the database work) and a margin.
_SECONDS_PER_CALL = 15
# Set by the sweep for an outbox id it queued: the sweep does not queue the same row again while a job
# for it waits in a slow queue. A job that puts the row back to pending (a retry) clears it; otherwise
# it expires.
QUEUED_KEY = "ml:sms:queued:{}"


def queue_message(
    session: Session,
    *,
    phone: str,
    text: str,
    purpose: str,
    member_id: int | None = None,
    idempotency_key: str | None = None,
    status: OutboxStatus = OutboxStatus.PENDING,
) -> int | None:
    """Insert one outbox row in the caller's transaction; return its id.

    With an ``idempotency_key`` that is already used, nothing is inserted and None is
    returned, so a doubled request records one message.
    """
    values = dict(
        phone=phone, text=text, purpose=purpose, member_id=member_id, idempotency_key=idempotency_key,
        status=status, parts=count_segments(text).parts, attempts=0, next_attempt_at=utcnow(),
        created_at=utcnow(), updated_at=utcnow(),
    )
    if idempotency_key is None:
        row = OutboxMessage(**values)
        session.add(row)
        session.flush()
        return row.id
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        insert(OutboxMessage)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(OutboxMessage.id)
    )
    return session.execute(stmt).scalar_one_or_none()


def enqueue_send(queue: Queue, ids: Iterable[int], texts: dict[int, str] | None = None) -> int:
    """Queue send jobs for outbox rows, at most JOB_SIZE ids per job. Returns jobs queued.

    ``texts`` (id -> text) lets callers group rows of one text into one API call; without
    it each call is one batch in the given order and the job groups by text itself.
    """
    from .jobs import send_batch  # noqa: PLC0415 - jobs import the gateway, which the web does not need

    ordered = list(ids)
    groups: dict[str, list[int]] = defaultdict(list)
    if texts:
        for i in ordered:
            groups[texts.get(i, "")].append(i)
    else:
        groups[""] = ordered
    jobs = 0
    for group in groups.values():
        for start in range(0, len(group), JOB_SIZE):
            part = group[start : start + JOB_SIZE]
            calls = -(-len(part) // BATCH_SIZE)
            queue.enqueue(send_batch, part, job_timeout=60 + _SECONDS_PER_CALL * calls, result_ttl=0,
                          failure_ttl=3600)
            jobs += 1
    return jobs


def due_pending(session: Session, now: datetime | None = None, limit: int = 10_000) -> dict[int, str]:
    """Pending rows whose next attempt is due at ``now``, oldest first, as id -> text (for grouping)."""
    rows = session.execute(
        select(OutboxMessage.id, OutboxMessage.text)
        .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= (now or utcnow()))
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    return {row_id: text or "" for row_id, text in rows}
