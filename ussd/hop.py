"""One USSD hop, from the gateway's form to the answer: the edge around ``menus``.

``ussd.endpoint`` parses the request (before Flask) and calls :meth:`HopHandler.handle`.
Order of work: Redis round trip 1 (lock, session, resume snapshot, any daily key missing:
pipelined); at most the caller lookup from the database on the first hop; the pure engine
decides the screen; the effects are written in one transaction; Redis round trip 2
(session, snapshot, unlock: pipelined, sent before the answer and its replies read after it,
by :meth:`HopHandler.settle`); jobs are enqueued after the commit. Both round trips go over
the session store's own connection for this thread (``ussd.sessions``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Callable

from menus import Engine
from menus.catalog import Catalogs
from models import phone_key
from sms.outbox import enqueue_send
from sms.runtime import Runtime

from . import metrics
from .callers import caller_from_dict, load_caller
from .data import HopData
from .effects import apply_effects
from .sessions import Begin, SessionRecord, SessionStore
from .wire import UssdRequest, new_input

__all__ = ["HopHandler", "HopAnswer"]

log = logging.getLogger("minerline.ussd")

MSG_BUSY = "END Sorry, please try again."


@dataclass(frozen=True)
class HopAnswer:
    text: str
    # Labels the hop for the gateway's dashboard; empty for the safety flow, which the
    # gateway's records (tied to the phone number) must never name.
    screen: str = ""


class HopHandler:
    def __init__(self, runtime: Runtime, engine: Engine, catalogs: Catalogs) -> None:
        self.runtime = runtime
        self.engine = engine
        self.catalogs = catalogs
        s = runtime.settings
        self.store = SessionStore(runtime.redis, s.secret_key, ttl=s.ussd_session_ttl,
                                  final_ttl=s.ussd_final_answer_ttl, resume_ttl=s.ussd_resume_ttl)
        self.secret = s.secret_key
        # The hop's clock; tests replace it to move time on (PIN locks, loan dates).
        self.now: Callable[[], datetime] = lambda: datetime.now(UTC)

    def handle(self, req: UssdRequest) -> HopAnswer:
        text_hash = self.store.text_hash(req.text)
        resume_id = phone_key(self.secret, req.phone, "resume")
        for _attempt in range(3):
            begin = self.store.begin(req.session_id, resume_id)
            record = begin.record
            if record is not None and record.prev_hash == text_hash and record.prev_len == len(req.text):
                # The same sessionId and text again: the same answer, nothing done twice.
                if begin.lock_token:
                    self.store.release(req.session_id)
                metrics.DUPLICATES.inc()
                return HopAnswer(record.answer)
            if begin.lock_token is None:
                done = self.store.wait_for_answer(req.session_id, text_hash)
                if done is not None:
                    metrics.DUPLICATES.inc()
                    return HopAnswer(done.answer)
                continue
            try:
                return self._decide(req, begin, begin.lock_token, text_hash, resume_id)
            except BaseException:
                self.store.release(req.session_id)
                raise
        return HopAnswer(MSG_BUSY)

    def _decide(self, req: UssdRequest, begin: Begin, lock_token: str, text_hash: str, resume_id: str) -> HopAnswer:
        record = begin.record
        if record is not None and record.final:
            # The session already ended; a late hop gets the final answer again.
            self.store.release(req.session_id)
            return HopAnswer(record.answer)
        fresh = record is None or not self._continues(record, req.text)
        caller = {} if fresh else dict(record.caller)  # type: ignore[union-attr]
        data = HopData(self.runtime, req.phone, caller, req.session_id, now=self.now())
        try:
            engine = self.engine.with_data(data, today=data.today)
            if fresh:
                # A new session, or one whose state expired: start afresh (offering a resume).
                caller.update(load_caller(self.runtime.engine, req.phone, self.secret))
                result = engine.start(caller_from_dict(caller), saved=begin.saved)
                hops = 1
            else:
                assert record is not None and record.state is not None
                result = engine.step(record.state, new_input(req.text, record.prev_len), caller_from_dict(caller))
                hops = record.hops + 1
            outbox_ids: list[int] = []
            if result.effects:
                outbox_ids = apply_effects(
                    data, result.effects, secret=self.secret, catalogs=self.catalogs,
                    idempotency_prefix=f"ussd:{req.session_id}:{len(req.text)}",
                )
            if data.opened and data.db.in_transaction():
                data.db.commit()
        finally:
            data.close()

        if result.end:
            new_record = SessionRecord(state=None, prev_len=len(req.text), prev_hash=text_hash,
                                       answer=result.text, hops=hops)
            snapshot = None  # the session ended as it should: nothing to resume
        else:
            new_record = SessionRecord(state=result.state, prev_len=len(req.text), prev_hash=text_hash,
                                       answer=result.text, caller=caller, hops=hops)
            # The safety flow is never offered back; nor is the bare main menu.
            snapshot = None if result.sensitive else {"lang": result.state.get("lang"),
                                                      "stack": result.state["stack"]}
        self.store.commit(req.session_id, new_record, resume_id, snapshot, lock_token)
        if outbox_ids:
            enqueue_send(self.runtime.queue(), outbox_ids)
        answer = HopAnswer(result.text, "" if result.sensitive else result.screen)
        # The safety flow is counted under no name: a labelled count would date each report.
        metrics.TALLY.screen(answer.screen or "-")
        return answer

    def settle(self) -> None:
        """Once the answer is written: read the replies to this thread's last session write."""
        self.store.settle()

    def _continues(self, record: SessionRecord, text: str) -> bool:
        """Does ``text`` extend the previous text (previous + '*' + new input)?"""
        if record.prev_len == 0:
            return True
        if len(text) <= record.prev_len or text[record.prev_len] != "*":
            return False
        return self.store.text_hash(text[: record.prev_len]) == record.prev_hash
