"""The daily keys behind pseudonymous hashes: random, shared by every process, only in Redis, gone in days."""

from __future__ import annotations

from datetime import UTC, date, datetime

from redis import Redis

from ussd.daily_keys import CACHE_SECONDS, REFRESH_MARGIN, DailyKeys, service_day

DAY = date(2026, 11, 27)
PHONE = "+256772123456"


def test_two_processes_hash_a_number_alike_on_a_day_and_differently_the_next(runtime):
    first = DailyKeys(runtime.redis)
    second = DailyKeys(Redis.from_url(runtime.settings.redis_url))
    assert first.digest("wages", DAY, PHONE) == second.digest("wages", DAY, PHONE)
    assert first.digest("wages", DAY, PHONE) != first.digest("wages", date(2026, 11, 28), PHONE)
    assert first.digest("wages", DAY, PHONE) != first.digest("safety", DAY, PHONE)
    assert "772123456" not in first.digest("wages", DAY, PHONE)


def test_keys_live_only_in_redis_with_a_ttl_of_days(runtime):
    DailyKeys(runtime.redis).digest("wages", DAY, PHONE)
    DailyKeys(runtime.redis).digest("safety", DAY, PHONE)
    assert 2 * 86400 < runtime.redis.ttl("ml:daily:wages:2026-11-27") <= 3 * 86400
    assert 86400 < runtime.redis.ttl("ml:daily:safety:2026-11-27") <= 2 * 86400
    assert len(runtime.redis.get("ml:daily:wages:2026-11-27")) == 64


def test_a_session_fetches_missing_keys_in_its_first_round_trip(runtime, phone):
    phone().dial()
    today = service_day(datetime.now(UTC))
    assert runtime.redis.exists(f"ml:daily:wages:{today.isoformat()}")
    keys = DailyKeys.of(runtime.redis)
    assert keys.wanted(datetime.now(UTC)) == []  # at hand now: the next hops ask for nothing more


def test_a_process_notices_within_minutes_that_redis_was_emptied(runtime):
    now = [0.0]
    keys = DailyKeys(runtime.redis, clock=lambda: now[0])
    before = keys.digest("wages", DAY, PHONE)
    runtime.redis.flushdb()
    other = DailyKeys(runtime.redis).digest("wages", DAY, PHONE)  # another process makes a new key
    assert keys.digest("wages", DAY, PHONE) == before  # still the one at hand ...
    now[0] += CACHE_SECONDS + 1
    assert keys.digest("wages", DAY, PHONE) == other  # ... until it is asked for again


def test_keys_at_hand_are_asked_for_again_at_midnight_in_uganda_and_before_they_go_stale(runtime):
    clock = [0.0]
    keys = DailyKeys(runtime.redis, clock=lambda: clock[0])
    before_midnight = datetime(2026, 11, 27, 20, 59, 30, tzinfo=UTC)  # 23:59:30 in Uganda
    keys.absorb({key: b"k" * 64 for key, _, _ in keys.wanted(before_midnight)})
    assert keys.wanted(before_midnight) == []
    assert keys.wanted(before_midnight.replace(second=59)) == []
    after_midnight = before_midnight.replace(minute=0, hour=21, second=0)
    assert [key for key, _, _ in keys.wanted(after_midnight)] == ["ml:daily:wages:2026-11-28",
                                                                  "ml:daily:safety:2026-11-28"]
    assert len(keys.wanted(before_midnight.replace(day=20))) == 3  # another day altogether
    assert keys.wanted(before_midnight) == []
    clock[0] += CACHE_SECONDS - REFRESH_MARGIN - 1
    assert keys.wanted(before_midnight) == []
    clock[0] += 2
    assert len(keys.wanted(before_midnight)) == 3  # fetched again with the session, a minute early
