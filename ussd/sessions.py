"""USSD session state in Redis: two round trips per hop.

Round trip 1 (``begin``, one Lua script by EVALSHA): read the session, read the resume
snapshot, take a short lock on the session so a doubled request waits for the first, and
fetch (or create) any daily key this process has not got at hand (``ussd.daily_keys``).
Round trip 2 (``commit``, pipelined commands): write the new session, the resume
snapshot, and drop the lock.

Both go over this thread's own connection (:class:`_Link`), not through the client's
command machinery, which costs more CPU than the rest of the hop's Redis work.

The session keeps the previous ``text``'s length and a keyed hash of it, never the
text itself (it holds PINs).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from redis import Redis
from redis.exceptions import ConnectionError, NoScriptError, ResponseError, TimeoutError

from .daily_keys import DailyKeys

try:  # what redis-py itself packs commands with when hiredis is installed, without its wrapping
    from hiredis import pack_command as _pack_command
except ImportError:  # pragma: no cover - hiredis is in requirements.txt
    _pack_command = None

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
-- The lock may already be ours: this script sent again after its reply was lost on the way.
local locked = redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2])
if locked or redis.call('GET', KEYS[2]) == ARGV[1] then locked = 1 else locked = 0 end
-- KEYS[4..]: daily keys, each with a fresh candidate and a TTL in ARGV, made only if missing
local daily = {}
for i = 4, #KEYS do
  redis.call('SET', KEYS[i], ARGV[2 * i - 4], 'NX', 'EX', ARGV[2 * i - 3])
  daily[#daily + 1] = redis.call('GET', KEYS[i])
end
return {session or false, resume or false, locked, daily}
"""
_BEGIN_SHA = hashlib.sha1(_BEGIN.encode()).hexdigest()


def _compact(value: Any) -> bytes:
    """Compact JSON (orjson: the session record is written and read on every hop). Keys that are not
    strings become strings, as the json module would make them."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)


class _Link:
    """This thread's own connection to the client's Redis, for the two round trips of a hop.

    redis-py's client checks a connection out of its pool, polls it, wraps each call in
    retries and records metrics; a connection kept per thread needs none of that. A broken
    connection is replaced and the commands are sent once more, as the client would retry.
    """

    def __init__(self, redis: Redis) -> None:
        pool = redis.connection_pool
        self._connection_class, self._kwargs = pool.connection_class, pool.connection_kwargs
        self._local = threading.local()

    def _connection(self):  # type: ignore[no-untyped-def]
        conn = getattr(self._local, "conn", None)
        if conn is None or conn.pid != os.getpid():  # a new thread, or a forked process
            conn = self._local.conn = self._connection_class(**self._kwargs)
        return conn

    def call(self, *commands: tuple) -> list[Any]:
        """Send ``commands`` in one round trip; their replies in order (a ResponseError for an error)."""
        for attempt in (1, 2):
            conn = self._connection()
            try:
                packed = ([b"".join(_pack_command(c) for c in commands)] if _pack_command is not None
                          else conn.pack_commands(commands))
                conn.send_packed_command(packed, check_health=False)
                replies: list[Any] = []
                for _ in commands:
                    try:
                        replies.append(conn.read_response())
                    except ResponseError as exc:  # read the rest, so the connection stays in step
                        replies.append(exc)
                return replies
            except (ConnectionError, TimeoutError, OSError):
                conn.disconnect()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


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

    def dumps(self) -> bytes:
        return _compact(
            {"s": self.state, "l": self.prev_len, "h": self.prev_hash, "a": self.answer, "c": self.caller,
             "n": self.hops})

    @classmethod
    def loads(cls, raw: bytes | str) -> "SessionRecord":
        d = orjson.loads(raw)
        return cls(state=d["s"], prev_len=d["l"], prev_hash=d["h"], answer=d["a"], caller=d.get("c", {}),
                   hops=d.get("n", 0))


@dataclass
class Begin:
    record: SessionRecord | None
    raw_saved: bytes | None  # the resume snapshot as stored: only a new session reads it
    lock_token: str | None  # None: another request for this session holds the lock

    @property
    def saved(self) -> dict[str, Any] | None:
        return orjson.loads(self.raw_saved) if self.raw_saved else None


class SessionStore:
    def __init__(self, redis: Redis, secret: str, ttl: int = 180, final_ttl: int = 30,
                 resume_ttl: int = 300) -> None:
        self.redis = redis
        self._secret = secret.encode()
        self._text_mac = hmac.new(self._secret, b"ussd-text:", hashlib.sha256)  # copied per hash (see text_hash)
        self.ttl, self.final_ttl, self.resume_ttl = ttl, final_ttl, resume_ttl
        self._link = _Link(redis)

    def text_hash(self, text: str) -> str:
        """HMAC-SHA256 of the hop's text (which may hold a PIN) under the secret; a copy of an HMAC
        that has the key and prefix already is the same digest, made without setting up the key."""
        mac = self._text_mac.copy()
        mac.update(text.encode())
        return mac.hexdigest()[:32]

    def begin(self, session_id: str, resume_id: str | None) -> Begin:
        token = os.urandom(16).hex()
        daily_keys = DailyKeys.of(self.redis)
        wanted = daily_keys.wanted(datetime.now(UTC))
        keys = (SESSION_KEY.format(session_id), LOCK_KEY.format(session_id), RESUME_KEY.format(resume_id or "-"),
                *(key for key, _, _ in wanted))
        args = (token, LOCK_MS, "1" if resume_id else "0",
                *(value for _, candidate, ttl in wanted for value in (candidate, ttl)))
        (reply,) = self._link.call(("EVALSHA", _BEGIN_SHA, len(keys), *keys, *args))
        if isinstance(reply, NoScriptError):  # Redis restarted or its scripts were flushed
            (reply,) = self._link.call(("EVAL", _BEGIN, len(keys), *keys, *args))
        if isinstance(reply, ResponseError):
            raise reply
        raw_session, raw_resume, locked, daily = reply
        if wanted:
            daily_keys.absorb({key: value for (key, _, _), value in zip(wanted, daily, strict=True)})
        record = SessionRecord.loads(raw_session) if raw_session else None
        return Begin(record=record, raw_saved=raw_resume or None, lock_token=token if locked else None)

    def commit(self, session_id: str, record: SessionRecord, resume_id: str | None,
               saved: dict[str, Any] | None, lock_token: str) -> None:
        """Write the session (or its final answer), the resume snapshot, and release the lock."""
        # One round trip of pipelined commands; MULTI/EXEC would add two replies to parse for
        # nothing: a half-written commit still leaves a consistent session (the lock expires by itself).
        ttl = self.final_ttl if record.final else self.ttl
        commands: list[tuple] = [("SET", SESSION_KEY.format(session_id), record.dumps(), "EX", ttl)]
        if resume_id:
            if saved is None:
                commands.append(("DEL", RESUME_KEY.format(resume_id)))
            else:
                commands.append(("SET", RESUME_KEY.format(resume_id), _compact(saved), "EX", self.resume_ttl))
        commands.append(("DEL", LOCK_KEY.format(session_id)))
        for reply in self._link.call(*commands):
            if isinstance(reply, ResponseError):
                raise reply

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
