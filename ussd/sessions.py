"""USSD session state in Redis: two round trips per hop, and one wait.

Round trip 1 (``begin``, pipelined commands): take a short lock on the session so a
doubled request waits for the first, then read the session and the resume snapshot, and
fetch (or create) any daily key this process has not got at hand (``ussd.daily_keys``).
The lock is taken first, so a hop that gets it reads what the last holder wrote.
Round trip 2 (``commit``, pipelined commands): write the new session, the resume
snapshot, and drop the lock. It is sent before the answer goes out, and its replies are
read after (:meth:`SessionStore.settle`, called once the answer is written): Redis has
them by then, so reading them costs no wait. A hop that reaches Redis before them (the
next hop, from another process, in a race) finds the lock taken and waits for it.

Both go over this thread's own connection (:class:`_Link`), not through the client's
command machinery, which costs more CPU than the rest of the hop's Redis work.

The session keeps the previous ``text``'s length and a keyed hash of it, never the
text itself (it holds PINs).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Callable

import orjson

# What redis-py itself packs and parses with when hiredis is installed (it is pinned in
# requirements.txt), without its wrapping.
from hiredis import ProtocolError as _ProtocolError
from hiredis import PushNotification as _Push
from hiredis import Reader as _Reader
from hiredis import pack_command as _pack_command
from redis import Redis
from redis.exceptions import ConnectionError, ResponseError, TimeoutError

from .daily_keys import DailyKeys

__all__ = ["SessionStore", "SessionRecord", "Begin", "KEY_PREFIX"]

KEY_PREFIX = "ml:ussd:"
SESSION_KEY = KEY_PREFIX + "session:{}"
LOCK_KEY = KEY_PREFIX + "lock:{}"
RESUME_KEY = KEY_PREFIX + "resume:{}"
LOCK_MS = 8000

log = logging.getLogger("minerline.ussd")

_pid = os.getpid()  # kept current without a system call on every hop


def _forked() -> None:
    global _pid
    _pid = os.getpid()


os.register_at_fork(after_in_child=_forked)


def _compact(value: Any) -> bytes:
    """Compact JSON (orjson: the session record is written and read on every hop). Keys that are not
    strings become strings, as the json module would make them."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)


def _kernel_timeout(sock: socket.socket) -> None:
    """Keep the socket's timeout, but in the kernel: Python polls before every call on a socket with
    a timeout of its own (four extra system calls a hop). A call that times out raises an OSError
    (EAGAIN), which the link treats as a broken connection, as it does a timeout."""
    timeout = sock.gettimeout()
    if timeout:
        whole = int(timeout)
        limit = struct.pack("ll", whole, int((timeout - whole) * 1_000_000))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, limit)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, limit)
    sock.settimeout(None)


class _Wire:
    """One thread's connection: redis-py connects it (address, password, database), and the hop's
    commands then go straight over its socket, packed and parsed by hiredis, when both are there."""

    def __init__(self, conn) -> None:  # type: ignore[no-untyped-def]
        self.conn = conn
        self.pid = _pid
        self.owed = 0  # replies to commands sent and not yet read
        conn.connect()
        sock = getattr(conn, "_sock", None)
        # A real socket, not fakeredis's stand-in (embedded mode): read and written directly.
        self.sock = sock if hasattr(sock, "recv_into") else None
        if self.sock is not None:
            self.reader = _Reader(replyError=ResponseError)
            self.buffer = bytearray(65536)
            _kernel_timeout(self.sock)

    def send(self, commands: tuple[tuple, ...]) -> None:
        packed = b"".join(_pack_command(c) for c in commands)
        if self.sock is not None:
            self.sock.sendall(packed)
        else:
            self.conn.send_packed_command([packed], check_health=False)

    def read(self, count: int) -> list[Any]:
        """``count`` replies, in order; an error reply is a ResponseError in its place."""
        replies: list[Any] = []
        if self.sock is None:
            for _ in range(count):
                try:
                    replies.append(self.conn.read_response())
                except ResponseError as exc:  # read the rest, so the connection stays in step
                    replies.append(exc)
            return replies
        reader, sock, buffer = self.reader, self.sock, self.buffer
        while len(replies) < count:
            try:
                reply = reader.gets()
            except _ProtocolError as exc:  # out of step with the server: this connection is done
                raise ConnectionError(f"Redis protocol error: {exc}") from exc
            if reply is False:  # more bytes needed
                got = sock.recv_into(buffer)
                if not got:
                    raise ConnectionError("Redis closed the connection")
                reader.feed(buffer, 0, got)
            elif type(reply) is not _Push:  # a RESP3 push (a server notice) answers no command
                replies.append(reply)
        return replies

    def __del__(self) -> None:
        # When its thread or link goes: close the socket now, not whenever the collector reaches
        # redis-py's connection (which sits in a reference cycle).
        try:
            self.conn.disconnect()
        except Exception:  # pragma: no cover - already closed or half made
            pass


class _Link:
    """This thread's own connection to the client's Redis, for the two round trips of a hop.

    redis-py's client checks a connection out of its pool, polls it, wraps each call in
    retries and records metrics; a connection kept per thread needs none of that. A broken
    connection is replaced and the commands are sent once more, as the client would retry.

    :meth:`send` sends without waiting; the replies it leaves owing are read by :meth:`settle`,
    or by the next :meth:`call` on this thread's connection, before its own.
    """

    def __init__(self, redis: Redis, on_failed: Callable[[list[Exception]], None]) -> None:
        pool = redis.connection_pool
        self._connection_class, self._kwargs = pool.connection_class, pool.connection_kwargs
        self._local = threading.local()
        self._on_failed = on_failed  # given the errors among replies read late

    def _wire(self) -> _Wire:
        wire = getattr(self._local, "wire", None)
        if wire is None or wire.pid != _pid:  # a new thread, or a forked process
            wire = self._local.wire = _Wire(self._connection_class(**self._kwargs))
        return wire

    def call(self, *commands: tuple) -> list[Any]:
        """Send ``commands`` in one round trip; their replies in order (a ResponseError for an error).

        Replies still owed on the connection are read first; errors among them go to ``on_failed``."""
        return self._exchange(commands, wait=True)

    def send(self, *commands: tuple) -> None:
        """Send ``commands`` and go on: their replies are read later, on this thread."""
        self._exchange(commands, wait=False)

    def settle(self) -> None:
        """Read the replies this thread's connection still owes; errors among them go to ``on_failed``.

        A connection lost meanwhile is one error: whether its commands were carried out is unknown."""
        wire = getattr(self._local, "wire", None)
        if wire is not None and wire.owed:
            try:
                self._read_owed(wire)
            except (ConnectionError, TimeoutError, OSError) as exc:
                self._drop(wire, exc)

    def _exchange(self, commands: tuple[tuple, ...], wait: bool) -> list[Any]:
        for attempt in (1, 2):
            wire = self._wire()
            try:
                self._read_owed(wire)  # before sending: a failed write is dealt with before its session is read
                wire.send(commands)
                if not wait:
                    wire.owed += len(commands)
                    return []
                return wire.read(len(commands))
            except (ConnectionError, TimeoutError, OSError) as exc:
                self._drop(wire, exc)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _read_owed(self, wire: _Wire) -> None:
        if wire.owed:
            errors = [reply for reply in wire.read(wire.owed) if isinstance(reply, Exception)]
            wire.owed = 0  # only once read: a connection lost while reading still owes them
            if errors:
                self._on_failed(errors)

    def _drop(self, wire: _Wire, error: Exception) -> None:
        """Close a broken connection. Replies it still owed are reported lost: their commands' fate
        is unknown."""
        wire.conn.disconnect()
        self._local.wire = None  # the next use connects afresh
        if wire.owed:
            wire.owed = 0
            self._on_failed([error])


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
        self._link = _Link(redis, self._commit_failed)
        self._sent = threading.local()  # the session of this thread's last commit

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
        lock = LOCK_KEY.format(session_id)
        # The lock first: a hop that takes it reads the session after its last holder wrote it.
        # Its value is read back too, so this round trip sent again after its reply was lost on
        # the way finds the lock its own, not taken.
        commands: list[tuple] = [("SET", lock, token, "NX", "PX", LOCK_MS), ("GET", lock),
                                 ("GET", SESSION_KEY.format(session_id))]
        if resume_id:
            commands.append(("GET", RESUME_KEY.format(resume_id)))
        for key, candidate, ttl in wanted:  # made only if missing, then read: one key for every process
            commands += [("SET", key, candidate, "NX", "EX", ttl), ("GET", key)]
        replies = self._link.call(*commands)
        for reply in replies:
            if isinstance(reply, ResponseError):
                raise reply
        holder, raw_session = replies[1], replies[2]
        raw_resume = replies[3] if resume_id else None
        if wanted:
            found = replies[4 if resume_id else 3:][1::2]
            daily_keys.absorb({key: value for (key, _, _), value in zip(wanted, found, strict=True)})
        record = SessionRecord.loads(raw_session) if raw_session else None
        return Begin(record=record, raw_saved=raw_resume or None,
                     lock_token=token if holder == token.encode() else None)

    def commit(self, session_id: str, record: SessionRecord, resume_id: str | None,
               saved: dict[str, Any] | None, lock_token: str) -> None:
        """Send the session (or its final answer), the resume snapshot, and the lock's release.

        Pipelined commands; MULTI/EXEC would add two replies to parse for nothing: a half-written
        commit still leaves a consistent session (the lock expires by itself). The replies are
        read by :meth:`settle`, after the answer is out."""
        ttl = self.final_ttl if record.final else self.ttl
        commands: list[tuple] = [("SET", SESSION_KEY.format(session_id), record.dumps(), "EX", ttl)]
        if resume_id:
            if saved is None:
                commands.append(("DEL", RESUME_KEY.format(resume_id)))
            else:
                commands.append(("SET", RESUME_KEY.format(resume_id), _compact(saved), "EX", self.resume_ttl))
        commands.append(("DEL", LOCK_KEY.format(session_id)))
        self._sent.session_id = session_id
        self._link.send(*commands)

    def settle(self) -> None:
        """Read the replies of this thread's last commit, once its answer is written."""
        self._link.settle()

    def _commit_failed(self, errors: list[Exception]) -> None:
        """This thread's last commit failed, in part or whole, after its hop was answered.

        The session may be left as it was before that hop: it is dropped, so the caller's next hop
        starts afresh (with the offer to continue) instead of being read against an older screen."""
        # No session id or number in the log: only what went wrong.
        log.error("a USSD session write failed in Redis after its answer: %s",
                  "; ".join(f"{type(e).__name__}: {e}" for e in errors))
        session_id = getattr(self._sent, "session_id", None)
        if session_id is not None:
            try:
                self.redis.delete(SESSION_KEY.format(session_id))
            except Exception:  # Redis is failing: the session expires by itself
                log.warning("could not drop the USSD session after its write failed", exc_info=True)

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
