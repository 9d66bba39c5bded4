"""The send job: outbox rows to the gateway, each message at most once.

A job holds up to ``sms.outbox.JOB_SIZE`` rows and sends them in API calls of up to 100. It claims
each call's rows with one conditional UPDATE (pending and due -> sending, with a claim token and a
lease) and commits before calling the gateway, so a second job for the same ids, a re-queued job or a
second worker finds nothing to claim. Every later write names the claim token and the status
'sending': a row whose lease ran out (the sweep made it 'unknown') is never overwritten.

One call is in flight at a time, made by a call thread that goes from one call straight to the next;
the job's own thread does the database work for the calls before and after it meanwhile (see
``send_rows``).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import Counter, deque
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from queue import Empty, SimpleQueue
from typing import TYPE_CHECKING, Any, Callable, Iterator, NamedTuple

from rq import get_current_job
from sqlalchemy import update
from sqlalchemy.orm import Session

from models import OutboxMessage, OutboxStatus, utcnow
from models.base import unindexed
from models.db import checkpoint_after

from . import hotsql, metrics
from .callbacks import apply_stored_reports, match_orphan_reports
from .gateway import Gateway, NotAccepted, Outcome, RecipientResult, UnknownOutcome, is_sendable
from .outbox import BATCH_SIZE, QUEUED_KEY
from .runtime import Runtime, current_runtime

if TYPE_CHECKING:  # pragma: no cover
    from settings import Settings

__all__ = ["send_batch", "send_rows", "claim", "retry_values"]

log = logging.getLogger("minerline.sms.jobs")

# What still goes to a number that sent STOP: what the person asked for (a rights topic, wage figures,
# a reply to their own SMS) and savings receipts (a record of their money). Everything else (broadcasts,
# meeting invitations, notices and reminders, and any purpose added later) is skipped: opting out wins
# unless a purpose is listed here on purpose.
OPT_OUT_EXEMPT = frozenset({"receipt", "rights", "wages", "reply"})

# Rows claimed longer ago than this (a slow call before theirs) get their lease renewed before the call.
_RENEW_AFTER = 5.0
# Chunks handed to the call thread at a time, claimed and committed: the one in flight and two more, so
# that it has the next at hand even when an answer took longer than usual to record.
_IN_HAND = 3
# Message ids recorded (and committed) before the job looks for delivery reports that came first.
_CHECK_REPORTS_EVERY = 10 * BATCH_SIZE


@dataclass(eq=False)  # each chunk is itself: compared (found in a list) by identity
class _Chunk:
    """Rows of one text claimed under ``token``, for one API call."""

    token: str
    text: str
    rows: list[_Claimed]
    claimed_at: float  # time.monotonic() of the claim
    renewed: bool = False  # its lease was renewed since (after a slow call before it)


@dataclass
class _Answer:
    """What the call thread did with a chunk: its call's results or the exception the call raised;
    or, with ``sent`` false, no call (``stale``: its lease must be renewed first)."""

    chunk: _Chunk
    results: list[RecipientResult] | None
    error: Exception | None = None
    sent: bool = True
    stale: bool = False


class _Claimed(NamedTuple):
    """A row as claimed (a tuple: a job makes one for every row it sends)."""

    id: int
    phone: str
    text: str
    attempts: int
    purpose: str = ""


def send_batch(ids: list[int], now: datetime | None = None) -> dict[str, int]:
    """RQ job: send the outbox rows ``ids`` that are still pending and due. Returns counts by outcome.

    Resources come from the worker's Runtime. ``now`` is for tests (a fake clock); None means the real time.
    The job stops starting calls in time to finish before RQ's timeout would kill it (see ``send_rows``).
    """
    runtime = current_runtime()
    job = get_current_job()
    deadline = time.monotonic() + job.timeout - _worst_call(runtime.settings) if job and job.timeout else None
    return send_rows(runtime, ids, now=now, deadline=deadline)


def send_rows(runtime: Runtime, ids: list[int], now: datetime | None = None,
              gateway: Gateway | None = None, deadline: float | None = None) -> dict[str, int]:
    """Claim, send and record ``ids`` (see the module doc). Returns counts: accepted, failed, retry,
    unknown, skipped, and calls (API calls made).

    The ids are claimed BATCH_SIZE at a time, just before they are needed, and one API call is in
    flight at a time, on a thread of its own that always has the next call's rows claimed and
    committed in hand: while it calls the gateway, this thread records the answer to the call before
    and claims the rows for the one after that (one commit for both).

    ``deadline`` (``time.monotonic()``): no call starts after it; rows not sent by then go back to
    pending for the sweep. Should the job fail (a database error, RQ's timeout), it records what it
    can and gives back the rows it claimed but never sent, so they are not taken for sends of
    unknown outcome.
    """
    gateway = gateway or Gateway.from_runtime(runtime)  # before claiming: a misconfiguration claims nothing
    job = _SendJob(runtime, list(ids), (lambda: now) if now is not None else utcnow, deadline)
    counts = job.run(gateway)
    for status in metrics.MESSAGE_STATUSES:
        metrics.count_messages(status, counts[status])
    log.info("send batch", extra={"outbox_ids": list(ids)[:BATCH_SIZE], "claimed": job.claimed, **counts})
    return dict(counts)


def _worst_call(settings: Settings) -> float:
    """The longest an API call and its recording can take: the connect and read timeouts, and a margin."""
    return settings.sms_connect_timeout + settings.sms_read_timeout + 10


class _SendJob:
    """One run of ``send_rows``: its slices of ids, the calls claimed and handed to the call thread.

    The call thread (``_calls``) takes chunks from ``to_send`` and makes their calls one after another;
    each chunk handed over comes back on ``answers`` exactly once: answered, stale (claimed so long
    ago that its lease needs renewing first) or unsent (out of time, or the job is failing). The job's
    own thread keeps ``_IN_HAND`` chunks handed over, so the call thread goes from one call straight
    to the next, and does all the database work: claims, renewals, recording the answers.
    """

    def __init__(self, runtime: Runtime, ids: list[int], clock: Callable[[], datetime],
                 deadline: float | None) -> None:
        self.runtime, self.settings, self.clock, self.deadline = runtime, runtime.settings, clock, deadline
        self.counts: Counter[str] = Counter()
        self.slices = deque(ids[start:start + BATCH_SIZE] for start in range(0, len(ids), BATCH_SIZE))
        self.ready: deque[_Chunk] = deque()  # claimed and committed, not handed over yet
        self.out: list[_Chunk] = []  # handed to the call thread, not come back yet
        self.settling: list[_Chunk] = []  # given back or being renewed, not committed yet
        self.to_send: SimpleQueue[_Chunk | None] = SimpleQueue()
        self.answers: SimpleQueue[_Answer] = SimpleQueue()
        self.failing = False  # set by the job's thread: the call thread sends nothing more
        # Back to pending (a retry, given back), their sweep marks not dropped yet (see _drop_marks).
        self.unmark: list[int] = []
        self.claimed = 0
        self.answered: list[_Answer] = []  # back from the gateway, not yet committed
        self.unchecked: list[str] = []  # message ids committed, not yet looked up in stored reports

    def run(self, gateway: Gateway) -> Counter[str]:
        caller = threading.Thread(target=self._calls, args=(gateway,), name="sms-call", daemon=True)
        # One connection for the whole job, so that what checkpoint_after sets holds for every commit.
        with (self.runtime.engine.connect() as connection, checkpoint_after(connection),
              self.runtime.sessions(bind=connection) as session):
            self.session = session
            caller.start()
            try:
                self._loop()
            except BaseException:
                self._after_failure()
                raise
            finally:
                self.to_send.put(None)
        caller.join(_worst_call(self.settings))
        return self.counts

    def _time_left(self) -> bool:
        return self.deadline is None or time.monotonic() < self.deadline

    def _calls(self, gateway: Gateway) -> None:
        """The call thread: one call at a time, each chunk's answer (or why it was not sent) back."""
        while (chunk := self.to_send.get()) is not None:
            if self.failing or not self._time_left():
                self.answers.put(_Answer(chunk, None, sent=False))
            elif not chunk.renewed and time.monotonic() - chunk.claimed_at > _RENEW_AFTER:
                self.answers.put(_Answer(chunk, None, sent=False, stale=True))
            else:
                self.answers.put(_call(gateway, chunk))

    def _loop(self) -> None:
        while True:
            if self._time_left():
                self._claim_next()
            message_ids = self._record_answered()
            self._commit()
            self.answered.clear()
            while self.ready and len(self.out) < _IN_HAND and self._time_left():
                self.out.append(self.ready[0])
                self.to_send.put(self.ready.popleft())
            if self.ready and not self._time_left():  # out of time: the sweep queues them again
                self._give_back(list(self.ready))
                self.ready.clear()
                self._commit()
            done = not self.out
            self._after_commit(message_ids, last=done)
            if done:
                return
            self._take(self.answers.get())
            with suppress(Empty):  # and any others already back: recorded in the same commit
                while True:
                    self._take(self.answers.get_nowait())

    def _take(self, answer: _Answer) -> None:
        """An answer from the call thread, kept to be recorded. A stale chunk gets its lease renewed
        (committed at once) and waits to be handed over again; an unsent one goes back to pending."""
        chunk = answer.chunk
        self.out.remove(chunk)
        if answer.sent:
            self.counts["calls"] += 1
            self.answered.append(answer)
            return
        if answer.stale:  # claimed a while ago (a slow call before it): renew the lease first (rare)
            self.settling.append(chunk)  # given back, should the renewal fail
            chunk.rows = _renew(self.session, chunk.token, chunk.rows, self.settings.sms_lease_seconds, self.clock())
            chunk.renewed = True
            if chunk.rows:
                self.ready.appendleft(chunk)
            self._commit()  # at once: the sweep may be waiting to write
        else:
            self._give_back([chunk])

    def _commit(self) -> None:
        self.session.commit()
        self.settling.clear()  # their give-backs and renewals are in

    def _claim_next(self) -> None:
        """Claim slices until there are calls enough in hand or nothing left; the caller commits."""
        while len(self.ready) + len(self.out) < _IN_HAND and self.slices:
            stamp, now = time.monotonic(), self.clock()  # the lease runs from here
            token, rows = _claim(self.session, self.slices.popleft(), self.settings.sms_lease_seconds, now)
            self.claimed += len(rows)
            keep = _skip_unsendable(self.session, token, rows, now, self.counts)
            self.ready.extend(_Chunk(token, text, chunk, stamp) for text, chunk in _chunks(keep))

    def _record_answered(self) -> list[str]:
        message_ids: list[str] = []
        for answered in self.answered:
            message_ids += _record(self.session, answered, self.settings.sms_retry_intervals, self.clock,
                                   self.counts, self.unmark)
        return message_ids

    def _after_commit(self, message_ids: list[str], last: bool = False) -> None:
        # Reports can beat our commit; the callback matches after storing, we after committing, so
        # one of the two always sees the other. Both run after a commit for that reason. A report
        # that beats the commit is rare (they come seconds later), so the ids are asked after about
        # ten calls at a time, and at the end.
        self.unchecked.extend(message_ids)
        matched = 0
        if self.unchecked and (last or len(self.unchecked) >= _CHECK_REPORTS_EVERY):
            matched = apply_stored_reports(self.session, self.unchecked, self.settings.sms_lease_seconds)
            self.unchecked = []
        if self.counts["unknown"]:
            matched += match_orphan_reports(self.session, self.settings.sms_lease_seconds, self.clock())
        if matched:  # almost always nothing: the next commit ends this read
            self.session.commit()
        self._drop_marks()

    def _drop_marks(self) -> None:
        """Rows this job put back to pending may have a sweep's mark ("queued already") from before
        they were claimed: drop it, so the next sweep queues them when they are due. Rows that end
        in any other status need nothing: their marks expire by themselves."""
        if self.unmark:
            try:
                self.runtime.redis.delete(*(QUEUED_KEY.format(i) for i in self.unmark))
            except Exception:  # noqa: BLE001 - the marks expire by themselves; the job must go on
                log.warning("could not drop queued marks", exc_info=True)
            self.unmark.clear()

    def _give_back(self, chunks: list[_Chunk]) -> None:
        """Rows claimed but never sent go back to pending as they were (no attempt counted). Only rows
        still 'sending' under the chunk's claim: giving back a chunk twice, or one whose answer was
        recorded first, changes nothing. The chunks are kept in ``settling`` until the caller commits."""
        self.settling.extend(chunks)
        for chunk in chunks:
            self.unmark.extend(r.id for r in chunk.rows)
            self.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_([r.id for r in chunk.rows]), OutboxMessage.claim_token == chunk.token,
                       unindexed(OutboxMessage.status) == OutboxStatus.SENDING)
                .values(status=OutboxStatus.PENDING, claim_token=None, lease_until=None, updated_at=self.clock())
                .execution_options(synchronize_session=False)
            )

    def _after_failure(self) -> None:
        """The job is failing: keep what is known. The answer in hand and the call in flight (waited
        for, within its timeouts) are recorded; rows claimed and never sent go back to pending."""
        self.failing = True  # the call thread sends back whatever it takes from here on
        try:
            self.session.rollback()  # a claim not committed is undone: giving its rows back finds none
            answers = list(self.answered)
            unsent: list[_Chunk] = []
            with suppress(Empty):
                while (chunk := self.to_send.get_nowait()) is not None:  # never taken by the call thread
                    self.out.remove(chunk)
                    unsent.append(chunk)
            waited = time.monotonic() + _worst_call(self.settings)
            while self.out:
                try:
                    answer = self.answers.get(timeout=max(0.0, waited - time.monotonic()))
                except Empty:  # still unanswered: its rows stay for the sweep
                    log.warning("send job failing with a call unanswered")
                    break
                self.out.remove(answer.chunk)
                if answer.sent:
                    answers.append(answer)
                else:
                    unsent.append(answer.chunk)
            for answered in answers:
                _record(self.session, answered, self.settings.sms_retry_intervals, self.clock, Counter(),
                        self.unmark)
            # After the answers: what they recorded is no longer 'sending', and stays as recorded.
            self._give_back([*unsent, *self.settling, *(chunk for chunk in self.ready if chunk not in self.out)])
            self.session.commit()
            self._drop_marks()
        except Exception:  # noqa: BLE001 - the job's own error is the one to raise
            log.exception("send job could not put its rows right after failing")


def claim(session: Session, ids: list[int], lease_seconds: int, now: datetime) -> str:
    """Mark the pending, due rows among ``ids`` as 'sending' under a new claim token; returns the token.

    One conditional UPDATE: with concurrent claimers, each row goes to exactly one. The caller commits.
    """
    return _claim(session, ids, lease_seconds, now)[0]


def _claim(session: Session, ids: list[int], lease_seconds: int, now: datetime) -> tuple[str, list[_Claimed]]:
    """``claim``, and the rows claimed (in id order) from the same statement."""
    token = str(uuid.uuid4())
    if not ids:
        return token, []
    rows = hotsql.claim_rows(session.connection(), list(ids), token, now, now + timedelta(seconds=lease_seconds))
    return token, [_Claimed(i, phone, text or "", attempts, purpose) for i, phone, text, attempts, purpose in rows]


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


def _finish(session: Session, token: str, writes: list[tuple[int, dict[str, Any], str]],
            counts: Counter[str], pending_again: list[int] | None = None) -> None:
    """Write rows' outcomes, each only while this job still holds its claim, and count them by label.
    The ids labelled "retry" (back to pending) are added to ``pending_again`` when given.

    ``writes`` holds (row id, column values, label). Rows with the same label and columns go in one
    statement (``hotsql.update_outcomes``) instead of one per row: a batch is 100 rows, and an executemany
    would give up and take back the interpreter lock once per row while the call thread wants it.
    """
    groups: dict[tuple[str, tuple[str, ...]], list[tuple[int, dict[str, Any]]]] = {}
    for row_id, values, label in writes:  # one kind of outcome always lists its columns in one order
        groups.setdefault((label, tuple(values)), []).append((row_id, values))
    connection = session.connection()
    for (label, columns), rows in groups.items():
        counts[label] += hotsql.update_outcomes(connection, token, columns, rows, utcnow())
        if label == "retry" and pending_again is not None:
            pending_again.extend(row_id for row_id, _values in rows)


def _skip_unsendable(session: Session, token: str, rows: list[_Claimed], now: datetime,
                     counts: Counter[str]) -> list[_Claimed]:
    """Opted-out members' messages become 'skipped' unless their purpose is in OPT_OUT_EXEMPT (a
    receipt or a topic someone asked for still goes); numbers the SDK would refuse become 'failed'."""
    opted_out = hotsql.opted_out_phones(session.connection(), sorted({r.phone for r in rows})) if rows else set()
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
    if (rows and len(rows) <= BATCH_SIZE and len({r.text for r in rows}) == 1
            and len({r.phone for r in rows}) == len(rows)):
        yield rows[0].text, rows  # a broadcast's slice: one call as it is
        return
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
               unindexed(OutboxMessage.status) == OutboxStatus.SENDING)
        .values(lease_until=now + timedelta(seconds=lease_seconds))
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    ))
    return [r for r in chunk if r.id in held]


def _call(gateway: Gateway, chunk: _Chunk) -> _Answer:
    """On the call thread: one API call for ``chunk``: the recipients' results, or what went wrong."""
    try:
        return _Answer(chunk, gateway.send(chunk.text, [r.phone for r in chunk.rows]))
    except Exception as exc:  # noqa: BLE001 - recorded by _record on the job's thread
        return _Answer(chunk, None, exc)


def _record(session: Session, answered: _Answer, intervals: tuple[int, ...], clock: Callable[[], datetime],
            counts: Counter[str], pending_again: list[int] | None = None) -> list[str]:
    """Record each outcome of one API call; returns the message ids recorded. The caller commits.
    Ids that go back to pending are added to ``pending_again``."""
    token, rows, exc = answered.chunk.token, answered.chunk.rows, answered.error
    if isinstance(exc, NotAccepted):
        metrics.API_CALLS.labels(outcome="not_accepted").inc()
        log.warning("send not accepted", extra={"kind": exc.kind, "outbox_ids": [r.id for r in rows]})
        now = clock()
        _finish(session, token, [(row.id, *retry_values(row.attempts, intervals, now, exc.reason)) for row in rows],
                counts, pending_again)
        return []
    if isinstance(exc, UnknownOutcome):
        metrics.API_CALLS.labels(outcome="unknown").inc()
        log.warning("send outcome unknown", extra={"outbox_ids": [r.id for r in rows]})
        _mark_unknown(session, token, rows, clock(), counts)
        return []
    if exc is not None or answered.results is None:
        # Something we did not foresee after the request may have gone out: unknown, never re-sent blindly.
        log.error("send failed unexpectedly", exc_info=exc, extra={"outbox_ids": [r.id for r in rows]})
        _mark_unknown(session, token, rows, clock(), counts)
        return []
    metrics.API_CALLS.labels(outcome="answered").inc()
    by_number: dict[str, RecipientResult] = {}
    for result in answered.results:
        by_number.setdefault(result.number, result)
    message_ids: list[str] = []
    missing: list[_Claimed] = []
    writes: list[tuple[int, dict[str, Any], str]] = []
    now = clock()
    # Most rows of a call share everything but the message id: their values are made once.
    shared: dict[tuple[Any, ...], tuple[dict[str, Any], str]] = {}
    for row in rows:
        result = by_number.get(row.phone)
        outcome = result.outcome if result is not None else Outcome.UNKNOWN
        if result is None or outcome is Outcome.UNKNOWN:
            missing.append(row)
            continue
        kind = (result.status_code, result.status, result.cost, result.parts, outcome, row.attempts)
        if kind not in shared:
            values: dict[str, Any] = dict(
                at_status_code=result.status_code, at_status=result.status[:48], cost=result.cost, sent_at=now,
                lease_until=None,
            )
            if result.parts:
                values["parts"] = result.parts
            if outcome is Outcome.ACCEPTED:
                values.update(status=OutboxStatus.ACCEPTED, attempts=row.attempts + 1, last_error=None)
                label = "accepted"
            elif outcome is Outcome.PERMANENT:
                values.update(status=OutboxStatus.FAILED, attempts=row.attempts + 1, last_error=result.status[:200])
                label = "failed"
            else:
                retry, label = retry_values(row.attempts, intervals, now, result.status or str(result.status_code))
                values.update(retry)
            shared[kind] = values, label
        values, label = shared[kind]
        writes.append((row.id, {**values, "at_message_id": result.message_id}, label))
        if result.message_id:
            # Reports stored for an id whose row we did not write (claim lost) simply stay unmatched.
            message_ids.append(result.message_id)
    _finish(session, token, writes, counts, pending_again)
    if missing:
        # The answer did not account for these numbers: they may have been accepted.
        _mark_unknown(session, token, missing, now, counts)
    return message_ids


def _mark_unknown(session: Session, token: str, rows: list[_Claimed], now: datetime, counts: Counter[str]) -> None:
    _finish(session, token, [(row.id, dict(status=OutboxStatus.UNKNOWN, unknown_since=now), "unknown")
                             for row in rows], counts)
