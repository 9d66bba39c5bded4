"""The send job: outbox rows to the gateway, each message at most once.

A job claims its rows with one conditional UPDATE (pending and due -> sending, with a claim token and a
lease) and commits before calling the gateway, so a second job for the same ids, a re-queued job or a
second worker finds nothing to claim. Every later write names the claim token and the status
'sending': a row whose lease ran out (the sweep made it 'unknown') is never overwritten.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Iterator

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from models import Member, OutboxMessage, OutboxStatus, utcnow

from . import metrics
from .callbacks import apply_stored_reports, match_orphan_reports
from .gateway import Gateway, NotAccepted, Outcome, RecipientResult, UnknownOutcome, is_sendable
from .outbox import BATCH_SIZE, QUEUED_KEY
from .runtime import Runtime, current_runtime

__all__ = ["send_batch", "send_rows", "claim", "retry_values"]

log = logging.getLogger("minerline.sms.jobs")

# What still goes to a number that sent STOP: what the person asked for (a rights topic, wage figures,
# a reply to their own SMS) and savings receipts (a record of their money). Everything else (broadcasts,
# meeting invitations, notices and reminders, and any purpose added later) is skipped: opting out wins
# unless a purpose is listed here on purpose.
OPT_OUT_EXEMPT = frozenset({"receipt", "rights", "wages", "reply"})


@dataclass(frozen=True)
class _Claimed:
    id: int
    phone: str
    text: str
    attempts: int
    purpose: str = ""


def send_batch(ids: list[int], now: datetime | None = None) -> dict[str, int]:
    """RQ job: send the outbox rows ``ids`` that are still pending and due. Returns counts by outcome.

    Resources come from the worker's Runtime. ``now`` is for tests (a fake clock); None means the real time.
    """
    return send_rows(current_runtime(), ids, now=now)


def send_rows(runtime: Runtime, ids: list[int], now: datetime | None = None,
              gateway: Gateway | None = None) -> dict[str, int]:
    """Claim, send and record ``ids`` (see the module doc). Returns counts: accepted, failed, retry,
    unknown, skipped, and calls (API calls made)."""
    settings = runtime.settings
    gateway = gateway or Gateway.from_runtime(runtime)  # before claiming: a misconfiguration claims nothing
    clock: Callable[[], datetime] = (lambda: now) if now is not None else utcnow
    counts: Counter[str] = Counter()
    with runtime.sessions() as session:
        # One commit for the claim and the rows that will not be sent: each commit waits for the disk.
        token = claim(session, ids, settings.sms_lease_seconds, clock())
        claimed = _claimed_rows(session, token)
        rows = _skip_unsendable(session, token, claimed, clock(), counts)
        session.commit()
        if claimed:  # let the sweep queue these again should they come back to pending
            runtime.redis.delete(*(QUEUED_KEY.format(r.id) for r in claimed))
        for n, (text, chunk) in enumerate(_chunks(rows)):
            if n:  # the claim's fresh lease covers the first call; later calls renew it first
                held = _renew(session, token, chunk, settings.sms_lease_seconds, clock())
                session.commit()
            else:
                held = chunk
            if not held:
                continue
            message_ids = _send_chunk(session, gateway, token, text, held, settings.sms_retry_intervals,
                                      clock, counts)
            session.commit()
            # Reports can beat our commit; the callback matches after storing, we after committing, so
            # one of the two always sees the other. Both run after a commit for that reason.
            apply_stored_reports(session, message_ids, settings.sms_lease_seconds)
            if counts["unknown"]:
                match_orphan_reports(session, settings.sms_lease_seconds, clock())
            session.commit()
    for status in metrics.MESSAGE_STATUSES:
        metrics.count_messages(status, counts[status])
    log.info("send batch", extra={"outbox_ids": list(ids)[:BATCH_SIZE], "claimed": len(claimed), **counts})
    return dict(counts)


def claim(session: Session, ids: list[int], lease_seconds: int, now: datetime) -> str:
    """Mark the pending, due rows among ``ids`` as 'sending' under a new claim token; returns the token.

    One conditional UPDATE: with concurrent claimers, each row goes to exactly one. The caller commits.
    """
    token = str(uuid.uuid4())
    if ids:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(list(ids)), OutboxMessage.status == OutboxStatus.PENDING,
                   OutboxMessage.next_attempt_at <= now)
            .values(status=OutboxStatus.SENDING, claim_token=token,
                    lease_until=now + timedelta(seconds=lease_seconds), updated_at=now)
            .execution_options(synchronize_session=False)
        )
    return token


def retry_values(attempts: int, intervals: tuple[int, ...], now: datetime, error: str) -> tuple[dict[str, Any], str]:
    """Column values after a failure that proves nothing was accepted, and the metric label.

    ``attempts`` is the count before this one. Back to pending after ``intervals[attempts]`` seconds, or
    failed once the intervals are used up.
    """
    attempts += 1
    if attempts <= len(intervals):
        values = dict(status=OutboxStatus.PENDING, attempts=attempts, last_error=error[:200], lease_until=None,
                      next_attempt_at=now + timedelta(seconds=intervals[attempts - 1]))
        return values, "retry"
    return dict(status=OutboxStatus.FAILED, attempts=attempts, lease_until=None,
                last_error=f"gave up after {attempts} attempts: {error}"[:200]), "failed"


def _claimed_rows(session: Session, token: str) -> list[_Claimed]:
    result = session.execute(
        select(OutboxMessage.id, OutboxMessage.phone, OutboxMessage.text, OutboxMessage.attempts,
               OutboxMessage.purpose)
        .where(OutboxMessage.claim_token == token, OutboxMessage.status == OutboxStatus.SENDING)
        .order_by(OutboxMessage.id)
    )
    return [_Claimed(i, phone, text or "", attempts, purpose) for i, phone, text, attempts, purpose in result]


def _finish(session: Session, token: str, writes: list[tuple[int, dict[str, Any], str]],
            counts: Counter[str]) -> None:
    """Write rows' outcomes, each only while this job still holds its claim, and count them by label.

    ``writes`` holds (row id, column values, label). Rows with the same label and columns go in one
    executemany: one statement per kind of outcome instead of one per row (a batch is 100 rows).
    """
    groups: dict[tuple[str, tuple[str, ...]], list[tuple[int, dict[str, Any]]]] = {}
    for row_id, values, label in writes:
        groups.setdefault((label, tuple(sorted(values))), []).append((row_id, values))
    table = OutboxMessage.__table__
    now = utcnow()
    for (label, columns), rows in groups.items():
        # Bind names may not be column names in an UPDATE's SET clause: prefix them.
        stmt = (
            update(table)
            .where(table.c.id == bindparam("w_id"), table.c.claim_token == token,
                   table.c.status == OutboxStatus.SENDING.value)
            .values({**{name: bindparam(f"w_{name}", type_=table.c[name].type) for name in columns},
                     "updated_at": now})
        )
        params = [{"w_id": row_id, **{f"w_{k}": v for k, v in values.items()}} for row_id, values in rows]
        done = session.connection().execute(stmt, params).rowcount
        counts[label] += done if done is not None and done >= 0 else len(rows)


def _skip_unsendable(session: Session, token: str, rows: list[_Claimed], now: datetime,
                     counts: Counter[str]) -> list[_Claimed]:
    """Opted-out members' messages become 'skipped' unless their purpose is in OPT_OUT_EXEMPT (a
    receipt or a topic someone asked for still goes); numbers the SDK would refuse become 'failed'."""
    opted_out = set(session.scalars(
        select(Member.phone).where(Member.phone.in_({r.phone for r in rows}), Member.opted_out.is_(True))
    )) if rows else set()
    keep: list[_Claimed] = []
    writes: list[tuple[int, dict[str, Any], str]] = []
    for row in rows:
        if row.phone in opted_out and row.purpose not in OPT_OUT_EXEMPT:
            writes.append((row.id, dict(status=OutboxStatus.SKIPPED, last_error="opted out", lease_until=None),
                           "skipped"))
        elif not is_sendable(row.phone) or not row.text:
            writes.append((row.id, dict(status=OutboxStatus.FAILED, lease_until=None,
                                        last_error="not a sendable number or empty text"), "failed"))
        else:
            keep.append(row)
    _finish(session, token, writes, counts)
    return keep


def _chunks(rows: list[_Claimed]) -> Iterator[tuple[str, list[_Claimed]]]:
    """Rows grouped by text, at most BATCH_SIZE per call and each number once per call (the answer
    is matched to rows by number)."""
    by_text: dict[str, list[tuple[list[_Claimed], set[str]]]] = {}
    for row in rows:
        chunks = by_text.setdefault(row.text, [])
        for chunk, phones in chunks:
            if len(chunk) < BATCH_SIZE and row.phone not in phones:
                chunk.append(row)
                phones.add(row.phone)
                break
        else:
            chunks.append(([row], {row.phone}))
    for text, chunks in by_text.items():
        for chunk, _phones in chunks:
            yield text, chunk


def _renew(session: Session, token: str, chunk: list[_Claimed], lease_seconds: int,
           now: datetime) -> list[_Claimed]:
    """Extend the lease of the rows about to be sent; returns those this job still holds."""
    held = set(session.scalars(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_([r.id for r in chunk]), OutboxMessage.claim_token == token,
               OutboxMessage.status == OutboxStatus.SENDING)
        .values(lease_until=now + timedelta(seconds=lease_seconds))
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    ))
    return [r for r in chunk if r.id in held]


def _send_chunk(session: Session, gateway: Gateway, token: str, text: str, rows: list[_Claimed],
                intervals: tuple[int, ...], clock: Callable[[], datetime], counts: Counter[str]) -> list[str]:
    """One API call for ``rows``; records each outcome and returns the message ids recorded."""
    counts["calls"] += 1
    try:
        results = gateway.send(text, [r.phone for r in rows])
    except NotAccepted as exc:
        metrics.API_CALLS.labels(outcome="not_accepted").inc()
        log.warning("send not accepted", extra={"kind": exc.kind, "outbox_ids": [r.id for r in rows]})
        now = clock()
        _finish(session, token, [(row.id, *retry_values(row.attempts, intervals, now, exc.reason)) for row in rows],
                counts)
        return []
    except UnknownOutcome:
        metrics.API_CALLS.labels(outcome="unknown").inc()
        log.warning("send outcome unknown", extra={"outbox_ids": [r.id for r in rows]})
        _mark_unknown(session, token, rows, clock(), counts)
        return []
    except Exception:
        # Something we did not foresee after the request may have gone out: unknown, never re-sent blindly.
        log.exception("send failed unexpectedly", extra={"outbox_ids": [r.id for r in rows]})
        _mark_unknown(session, token, rows, clock(), counts)
        return []
    metrics.API_CALLS.labels(outcome="answered").inc()
    by_number: dict[str, RecipientResult] = {}
    for result in results:
        by_number.setdefault(result.number, result)
    message_ids: list[str] = []
    missing: list[_Claimed] = []
    writes: list[tuple[int, dict[str, Any], str]] = []
    now = clock()
    for row in rows:
        result = by_number.get(row.phone)
        if result is None or result.outcome is Outcome.UNKNOWN:
            missing.append(row)
            continue
        values: dict[str, Any] = dict(
            at_status_code=result.status_code, at_status=result.status[:48], at_message_id=result.message_id,
            cost=result.cost, sent_at=now, lease_until=None,
        )
        if result.parts:
            values["parts"] = result.parts
        if result.outcome is Outcome.ACCEPTED:
            values.update(status=OutboxStatus.ACCEPTED, attempts=row.attempts + 1, last_error=None)
            label = "accepted"
        elif result.outcome is Outcome.PERMANENT:
            values.update(status=OutboxStatus.FAILED, attempts=row.attempts + 1, last_error=result.status[:200])
            label = "failed"
        else:
            retry, label = retry_values(row.attempts, intervals, now, result.status or str(result.status_code))
            values.update(retry)
        writes.append((row.id, values, label))
        if result.message_id:
            # Reports stored for an id whose row we did not write (claim lost) simply stay unmatched.
            message_ids.append(result.message_id)
    _finish(session, token, writes, counts)
    if missing:
        # The answer did not account for these numbers: they may have been accepted.
        _mark_unknown(session, token, missing, now, counts)
    return message_ids


def _mark_unknown(session: Session, token: str, rows: list[_Claimed], now: datetime, counts: Counter[str]) -> None:
    _finish(session, token, [(row.id, dict(status=OutboxStatus.UNKNOWN, unknown_since=now), "unknown")
                             for row in rows], counts)
