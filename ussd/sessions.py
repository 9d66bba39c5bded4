"""USSD session state in Redis: two round trips per hop.

Round trip 1 (``begin``, one Lua script): read the session, read the resume snapshot,
take a short lock on the session so a doubled request waits for the first, and fetch
(or create) any daily key this process has not got at hand (``ussd.daily_keys``).
Round trip 2 (``commit``, one pipeline): write the new session, the resume snapshot,
and drop the lock.

The session keeps the previous ``text``'s length and a keyed hash of it, never the
text itself (it holds PINs).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from redis import Redis

from .daily_keys import DailyKeys

__all__ = ["SessionStore", "SessionRecord", "Begin", "KEY_PREFIX"]

KEY_PREFIX = "ml:ussd:"
SESSION_KEY = KEY_PREFIX + "session:{}"
LOCK_KEY = KEY_PREFIX + "lock:{}"
RESUME_KEY = KEY_PREFIX + "resume:{}"
LOCK_MS = 8000

_BEGIN = """
local session = redis.call('GET', KEYS[1])
local resume = false
if ARGV[3] == '1' then resume = redis.call('GET', KEYS[3]) end
local locked = redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2])
if locked then locked = 1 else locked = 0 end
-- KEYS[4..]: daily keys, each with a fresh candidate and a TTL in ARGV, made only if missing
local daily = {}
for i = 4, #KEYS do
  redis.call('SET', KEYS[i], ARGV[2 * i - 4], 'NX', 'EX', ARGV[2 * i - 3])
  daily[#daily + 1] = redis.call('GET', KEYS[i])
end
return {session or false, resume or false, locked, daily}
"""


@dataclass
class SessionRecord:
    state: dict[str, Any] | None  # None once the session has ended
    prev_len: int
    prev_hash: str
    answer: str
    caller: dict[str, Any] = field(default_factory=dict)
    hops: int = 0

    @property
    def final(self) -> bool:
        return self.state is None

    def dumps(self) -> str:
        return json.dumps(
            {"s": self.state, "l": self.prev_len, "h": self.prev_hash, "a": self.answer, "c": self.caller,
             "n": self.hops},
            separators=(",", ":"),
        )

    @classmethod
    def loads(cls, raw: bytes | str) -> "SessionRecord":
        d = json.loads(raw)
        return cls(state=d["s"], prev_len=d["l"], prev_hash=d["h"], answer=d["a"], caller=d.get("c", {}),
                   hops=d.get("n", 0))


@dataclass
class Begin:
    record: SessionRecord | None
    saved: dict[str, Any] | None
    lock_token: str | None  # None: another request for this session holds the lock


class SessionStore:
    def __init__(self, redis: Redis, secret: str, ttl: int = 180, final_ttl: int = 30,
                 resume_ttl: int = 300) -> None:
        self.redis = redis
        self._secret = secret.encode()
        self.ttl, self.final_ttl, self.resume_ttl = ttl, final_ttl, resume_ttl
        self._begin = redis.register_script(_BEGIN)

    def text_hash(self, text: str) -> str:
        return hmac.new(self._secret, b"ussd-text:" + text.encode(), hashlib.sha256).hexdigest()[:32]

    def begin(self, session_id: str, resume_id: str | None) -> Begin:
        token = uuid.uuid4().hex
        daily_keys = DailyKeys.of(self.redis)
        wanted = daily_keys.wanted(datetime.now(UTC))
        raw_session, raw_resume, locked, daily = self._begin(
            keys=[SESSION_KEY.format(session_id), LOCK_KEY.format(session_id),
                  RESUME_KEY.format(resume_id or "-"), *(key for key, _, _ in wanted)],
            args=[token, LOCK_MS, "1" if resume_id else "0",
                  *(value for _, candidate, ttl in wanted for value in (candidate, ttl))],
        )
        if wanted:
            daily_keys.absorb({key: value for (key, _, _), value in zip(wanted, daily, strict=True)})
        record = SessionRecord.loads(raw_session) if raw_session else None
        saved = json.loads(raw_resume) if raw_resume else None
        return Begin(record=record, saved=saved, lock_token=token if locked else None)

    def commit(self, session_id: str, record: SessionRecord, resume_id: str | None,
               saved: dict[str, Any] | None, lock_token: str) -> None:
        """Write the session (or its final answer), the resume snapshot, and release the lock."""
        # One round trip; MULTI/EXEC would add two replies to parse for nothing: a half-written
        # commit still leaves a consistent session (the lock expires by itself).
        pipe = self.redis.pipeline(transaction=False)
        ttl = self.final_ttl if record.final else self.ttl
        pipe.set(SESSION_KEY.format(session_id), record.dumps(), ex=ttl)
        if resume_id:
            if saved is None:
                pipe.delete(RESUME_KEY.format(resume_id))
            else:
                pipe.set(RESUME_KEY.format(resume_id), json.dumps(saved, separators=(",", ":")),
                         ex=self.resume_ttl)
        pipe.delete(LOCK_KEY.format(session_id))
        pipe.execute()

    def release(self, session_id: str) -> None:
        self.redis.delete(LOCK_KEY.format(session_id))

    def wait_for_answer(self, session_id: str, text_hash: str, timeout: float = 6.0) -> SessionRecord | None:
        """A doubled request: wait for the first one's answer to the same text."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            raw = self.redis.get(SESSION_KEY.format(session_id))
            if raw:
                record = SessionRecord.loads(raw)
                if record.prev_hash == text_hash:
                    return record
            if not self.redis.exists(LOCK_KEY.format(session_id)):
                return None
            time.sleep(0.02)
        return None
