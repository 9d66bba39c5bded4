"""The periodic sweep: the database is the source of truth, so whatever Redis or a dead worker lost is
found here and put right. Run by the worker's cron (``run_sweep``) and by embedded mode (``sweep``).

In order, each step in its own transaction:

1. ``expired_leases``: rows 'sending' whose lease ran out become 'unknown' (the worker may have died
   after the gateway accepted them): never re-sent blindly.
2. ``matched_reports``: stored delivery reports that now find their row (by id, or by number and time
   for an 'unknown' row).
3. ``resent_unknown`` / ``failed_unknown``: rows 'unknown' for longer than SMS_RECONCILE_SECONDS with no
   report go back to pending for one more send (or fail once the retry intervals are used up).
4. ``requeued``: pending rows that are due get send jobs again (Redis may have been emptied).
5. ``redacted``: past the retention period, numbers become keyed hashes and texts are dropped.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import FINAL_STATUSES, DeliveryReport, OutboxMessage, OutboxStatus, phone_key, utcnow

from . import metrics
from .callbacks import match_orphan_reports
from .outbox import QUEUED_KEY, due_pending, enqueue_send
from .runtime import Runtime, current_runtime

__all__ = ["sweep", "run_sweep", "RETAINED_STATUSES"]

log = logging.getLogger("minerline.sms.sweeps")

# Statuses in which a message's number and text are no longer needed once the retention period is over.
RETAINED_STATUSES = FINAL_STATUSES | {OutboxStatus.ACCEPTED}
_BATCH = 1000  # rows per step per sweep; the next sweep does the rest


def run_sweep() -> dict[str, int]:
    """RQ job: one sweep with the worker's Runtime."""
    return sweep(current_runtime())


def sweep(runtime: Runtime, now: datetime | None = None) -> dict[str, int]:
    """One pass of every step (see the module doc); ``now`` is for tests. Returns counts by step."""
    now = now or utcnow()
    settings = runtime.settings
    counts: dict[str, int] = {}
    with runtime.sessions() as session:
        with session.begin():
            counts["expired_leases"] = _expire_leases(session, now)
        with session.begin():
            counts["matched_reports"] = match_orphan_reports(session, settings.sms_lease_seconds, now)
        with session.begin():
            counts["resent_unknown"], counts["failed_unknown"] = _reconcile_unknown(
                session, now - timedelta(seconds=settings.sms_reconcile_seconds), now,
                len(settings.sms_retry_intervals))
        with session.begin():
            due = due_pending(session, now, limit=_BATCH * 10)
        counts["requeued"] = _requeue(runtime, due, ttl=max(60, 4 * settings.sweep_interval_seconds))
        with session.begin():
            counts["redacted"] = _redact(session, settings.secret_key,
                                         now - timedelta(days=settings.outbox_retention_days), now)
    metrics.count_messages("unknown", counts["expired_leases"])
    metrics.count_messages("retry", counts["resent_unknown"])
    metrics.count_messages("failed", counts["failed_unknown"])
    if any(counts.values()):
        log.info("sweep", extra=counts)
    return counts


def _expire_leases(session: Session, now: datetime) -> int:
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.lease_until < now)
        .values(status=OutboxStatus.UNKNOWN, unknown_since=OutboxMessage.lease_until, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def _reconcile_unknown(session: Session, cutoff: datetime, now: datetime, max_attempts: int) -> tuple[int, int]:
    """Unknown since before ``cutoff`` and still unmatched: one more send, or failed past the limit.

    The WHERE repeats status='unknown', so a report that matched meanwhile wins.
    """
    stale = (OutboxMessage.status == OutboxStatus.UNKNOWN, OutboxMessage.unknown_since <= cutoff)
    error = "outcome unknown and no delivery report came"
    resent = session.execute(
        update(OutboxMessage)
        .where(*stale, OutboxMessage.attempts < max_attempts)
        .values(status=OutboxStatus.PENDING, attempts=OutboxMessage.attempts + 1, next_attempt_at=now,
                claim_token=None, lease_until=None, last_error=error, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount or 0
    failed = session.execute(
        update(OutboxMessage)
        .where(*stale)
        .values(status=OutboxStatus.FAILED, attempts=OutboxMessage.attempts + 1, claim_token=None,
                lease_until=None, last_error=f"gave up: {error}", updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount or 0
    return resent, failed


def _requeue(runtime: Runtime, due: dict[int, str], ttl: int) -> int:
    """Queue send jobs for due rows not queued by a sweep in the last ``ttl`` seconds; returns rows queued."""
    if not due:
        return 0
    ids = list(due)
    pipe = runtime.redis.pipeline(transaction=False)
    for row_id in ids:
        pipe.set(QUEUED_KEY.format(row_id), 1, nx=True, ex=ttl)
    fresh = [row_id for row_id, was_set in zip(ids, pipe.execute(), strict=True) if was_set]
    if fresh:
        enqueue_send(runtime.queue(), fresh, {i: due[i] for i in fresh})
    return len(fresh)


def _redact(session: Session, secret: str, cutoff: datetime, now: datetime) -> int:
    """Replace old numbers by their keyed hash and drop old texts; delivery reports lose their number."""
    rows = session.execute(
        select(OutboxMessage.id, OutboxMessage.phone)
        .where(OutboxMessage.redacted_at.is_(None), OutboxMessage.created_at < cutoff,
               OutboxMessage.status.in_(RETAINED_STATUSES))
        .limit(_BATCH)
    ).all()
    for row_id, phone in rows:
        session.execute(
            update(OutboxMessage).where(OutboxMessage.id == row_id)
            .values(phone=phone_key(secret, phone, "outbox"), text=None, redacted_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        )
    session.execute(
        update(DeliveryReport)
        .where(DeliveryReport.received_at < cutoff, DeliveryReport.phone.is_not(None))
        .values(phone=None)
        .execution_options(synchronize_session=False)
    )
    return len(rows)
