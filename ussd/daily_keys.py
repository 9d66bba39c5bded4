"""Daily-rotating keys for pseudonymous hashes of phone numbers, kept only in Redis.

One random key per purpose and day lives at ``ml:daily:<purpose>:<day>`` with a TTL:
whichever process needs it first creates it with SET NX, so every process hashes with
the same key, and once it expires nobody (not even with the database and the service
secret) can link that day's hashes to a number. A process keeps the keys it has seen for
a few minutes, so a hash costs no Redis round trip of its own: ``SessionStore.begin``
fetches the keys that are missing in the same Lua call as the session (see
:meth:`DailyKeys.wanted`), and a hop then finds them here.

Days are Uganda's (UTC+3, no daylight saving), the days callers mean by "today".
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import weakref
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from datetime import time as clock_time

from redis import Redis

__all__ = ["DailyKeys", "PURPOSES", "service_day", "KEY_PREFIX", "UGANDA"]

KEY_PREFIX = "ml:daily:"
UGANDA = timezone(timedelta(hours=3))
# How long a process trusts a key it has seen before it asks Redis again (in case Redis was emptied).
CACHE_SECONDS = 300
# Asked for again this long before that, so a key fetched with the session is still good when the hop hashes.
REFRESH_MARGIN = 60


@dataclass(frozen=True)
class Purpose:
    days_back: int  # also keep the key of this many days before today at hand
    ttl: int  # seconds the key lives in Redis


PURPOSES: dict[str, Purpose] = {
    # A wage report may be for yesterday, under yesterday's key: keep each key a little over two days.
    "wages": Purpose(days_back=1, ttl=3 * 86400),
    # Abuse limits on safety reports and code look-ups count for the day only.
    "safety": Purpose(days_back=0, ttl=2 * 86400),
}

_BY_CLIENT: "weakref.WeakKeyDictionary[Redis, DailyKeys]" = weakref.WeakKeyDictionary()


def service_day(now: datetime) -> date:
    """The day in Uganda at ``now`` (an aware datetime)."""
    return now.astimezone(UGANDA).date()


def redis_key(purpose: str, day: date) -> str:
    return f"{KEY_PREFIX}{purpose}:{day.isoformat()}"


class DailyKeys:
    """The daily keys one Redis client's users share within this process."""

    def __init__(self, redis: Redis, clock=time.monotonic) -> None:  # type: ignore[no-untyped-def]
        self.redis = redis
        self._clock = clock
        self._cache: dict[str, tuple[bytes, float]] = {}
        # After a call that found every key at hand: the day it was for (as a span of Unix
        # time) and until when on the clock they stay at hand, so most hops check two numbers.
        self._settled_day: tuple[float, float] = (0.0, 0.0)
        self._settled_until = 0.0

    @classmethod
    def of(cls, redis: Redis) -> "DailyKeys":
        """The keys for this Redis client (one object per client, made on first use)."""
        keys = _BY_CLIENT.get(redis)
        if keys is None:
            keys = _BY_CLIENT.setdefault(redis, cls(redis))
        return keys

    def wanted(self, now: datetime) -> list[tuple[str, str, int]]:
        """``(redis key, a fresh candidate, ttl)`` for each key a hop may need that is not at hand."""
        day_start, day_end = self._settled_day
        if day_start <= now.timestamp() < day_end and self._clock() < self._settled_until:
            return []
        today = service_day(now)
        missing = []
        good_until = float("inf")
        for purpose, spec in PURPOSES.items():
            for back in range(spec.days_back + 1):
                key = redis_key(purpose, today - timedelta(days=back))
                if self._cached(key, margin=REFRESH_MARGIN) is None:
                    missing.append((key, secrets.token_hex(32), spec.ttl))
                else:
                    good_until = min(good_until, self._cache[key][1] + CACHE_SECONDS - REFRESH_MARGIN)
        if not missing:
            start = datetime.combine(today, clock_time(), UGANDA).timestamp()
            self._settled_day, self._settled_until = (start, start + 86400), good_until
        return missing

    def absorb(self, found: dict[str, bytes]) -> None:
        """Keep keys that Redis returned (from ``SessionStore.begin``)."""
        stamp = self._clock()
        for key, (_, seen) in list(self._cache.items()):
            if stamp - seen > CACHE_SECONDS:
                self._cache.pop(key, None)
        for key, value in found.items():
            if value:
                self._cache[key] = (value if isinstance(value, bytes) else str(value).encode(), stamp)

    def key(self, purpose: str, day: date) -> bytes:
        """The key for ``purpose`` on ``day``: at hand, or made or read in one round trip."""
        name = redis_key(purpose, day)
        value = self._cached(name)
        if value is None:
            pipe = self.redis.pipeline(transaction=True)
            pipe.set(name, secrets.token_hex(32), nx=True, ex=PURPOSES[purpose].ttl)
            pipe.get(name)
            _, value = pipe.execute()
            self.absorb({name: value})
        return value

    def digest(self, purpose: str, day: date, phone: str) -> str:
        """HMAC-SHA256 of the number under the day's key for ``purpose``."""
        return hmac.new(self.key(purpose, day), f"{purpose}:{phone}".encode(), hashlib.sha256).hexdigest()

    def _cached(self, name: str, margin: float = 0) -> bytes | None:
        hit = self._cache.get(name)
        if hit is None or self._clock() - hit[1] > CACHE_SECONDS - margin:
            return None
        return hit[0]
