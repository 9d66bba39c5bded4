"""Anonymous means anonymous: after safety reports from non-members, no table, Redis key or value,
or log line holds their numbers in any form, also after the end-of-session notifications."""

from __future__ import annotations

import logging
import re

from sqlalchemy import DateTime, inspect, text

from models import Base
from tests.helpers import Phone
from tests.ussd_steps import main_menu

REPORTERS = ["+256772123456", "+256701234567", "+256789876543"]
FRIEND = "+256751112223"  # a number typed in for being called back: sealed, never in the clear
SAFETY_TABLES = ("safety_reports", "safety_notes", "safety_contacts", "safety_limits")


def _forms(number: str) -> list[str]:
    """+2567..., 2567..., 07..., 7...: every way a Ugandan number is written."""
    national = number[4:]
    return [number, number[1:], "0" + national, national]


def _code(screen: str) -> str:
    match = re.search(r"\b(\d{4}) (\d{4})\b", screen)
    assert match, screen
    return match.group(1) + match.group(2)


def _database_dump(runtime) -> str:  # type: ignore[no-untyped-def]
    """Every row of every table there is, every column."""
    out = []
    with runtime.engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                out.append(f"{table}: {tuple(row)!r}")
    return "\n".join(out)


def _redis_dump(redis) -> str:  # type: ignore[no-untyped-def]
    """Every key and every value, whatever its type."""
    out = []
    for key in redis.scan_iter("*"):
        kind = redis.type(key)
        if kind == b"string":
            value = redis.get(key)
        elif kind == b"hash":
            value = redis.hgetall(key)
        elif kind == b"list":
            value = redis.lrange(key, 0, -1)
        elif kind == b"set":
            value = redis.smembers(key)
        elif kind == b"zset":
            value = redis.zrange(key, 0, -1, withscores=True)
        elif kind == b"stream":
            value = redis.xrange(key)
        else:
            value = kind
        out.append(f"{key!r} = {value!r}")
    return "\n".join(out)


def _log_dump(caplog, capfd) -> str:  # type: ignore[no-untyped-def]
    lines = []
    for record in caplog.records:
        lines.append(f"{record.name} {record.getMessage()} {record.args!r} {record.exc_text or ''}")
    captured = capfd.readouterr()
    return "\n".join(lines) + captured.out + captured.err


def _assert_nowhere(numbers: list[str], *dumps: str) -> None:
    for number in numbers:
        for form in _forms(number):
            for dump in dumps:
                assert form not in dump, (form, dump[max(0, dump.find(form) - 200): dump.find(form) + 200])


def test_safety_reports_leave_no_trace_of_the_reporters_numbers(client, runtime, phone, sites, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    sessions: list[tuple[str, str, str]] = []  # session id, number, last text

    def done(p: Phone) -> None:
        sessions.append((p.session_id, p.number, p.text))

    first, second, third = REPORTERS
    # 1: a report with a description and a call back on this phone, then details added by code
    p = main_menu(phone, first, "en")
    for answer in ["4", "1", "1", "1", "1", "1", "1", "1", "1", "He follows me at the pit", "1"]:
        p.send(answer)
    code_one = _code(p.screen)
    for answer in ["1", "3", "1"]:
        p.send(answer)
    done(p)
    p = main_menu(phone, first, "en")
    for answer in ["4", "2", "00000001", code_one, "1", "It happened again today"]:
        p.send(answer)
    assert p.screen.startswith("END ")
    done(p)
    # 2: a member-less witness report in Luganda, then guessing codes until the limit
    p = main_menu(phone, second, "lg")
    for answer in ["4", "1", "6", "2", "3", "1", "1", "2", "2", "1", "3"]:
        p.send(answer)
    done(p)
    p = main_menu(phone, second, "lg")
    p.send("4")
    p.send("2")
    for guess in ("11111111", "22222222", "33333333", "44444444", "55555555"):
        p.send(guess)
    p.send("66666666")  # the limit: ends the session
    assert p.screen.startswith("END ")
    done(p)
    # 3: a report in Kiswahili with a call back on a friend's number, and a session dropped half-way
    p = main_menu(phone, third, "sw")
    for answer in ["4", "1", "2", "1", "8", "3", "3", "2", "1", "1", "4", "2", FRIEND]:
        p.send(answer)
    assert p.screen.startswith("END ")
    done(p)
    p = main_menu(phone, third, "sw")
    for answer in ["4", "1", "7", "1"]:
        p.send(answer)
    done(p)  # dropped: no END

    # the reports are there, and only sealed free text
    database = _database_dump(runtime)
    assert database.count("safety_reports: ") == 3
    assert "He follows me" not in database and "again today" not in database
    _assert_nowhere(REPORTERS + [FRIEND], database, _redis_dump(runtime.redis), _log_dump(caplog, capfd))
    for session_id, _number, _text in sessions:
        assert session_id not in database

    # the gateway's end-of-session notifications carry the numbers: still nothing is kept
    for session_id, number, last_text in sessions:
        resp = client.post("/ussd/events", data={
            "date": "2026-11-27 10:00:00", "sessionId": session_id, "serviceCode": "*384*44#",
            "networkCode": "64110", "phoneNumber": number, "status": "Success", "cost": "0",
            "durationInMillis": "50000", "hopsCount": "12", "hopsMetadata": "", "input": last_text,
            "lastAppResponse": "END Thank you",
        })
        assert resp.status_code == 200
    database = _database_dump(runtime)
    _assert_nowhere(REPORTERS + [FRIEND], database, _redis_dump(runtime.redis), _log_dump(caplog, capfd))
    for session_id, _number, _text in sessions:
        assert session_id not in database


def test_a_finished_report_leaves_only_its_final_answer_in_the_session_briefly(runtime, phone, sites):
    p = main_menu(phone, REPORTERS[0], "en")
    for answer in ["4", "1", "4", "1", "1", "1", "1", "1", "2", "1"]:
        p.send(answer)
    code = _code(p.screen)
    assert p.send("3").startswith("END ")
    raw = runtime.redis.get(f"ml:ussd:session:{p.session_id}").decode()
    assert '"s":null' in raw and '"c":{}' in raw and code not in raw and "pay" not in raw
    assert 0 < runtime.redis.ttl(f"ml:ussd:session:{p.session_id}") <= 30
    assert not runtime.redis.keys("ml:ussd:resume:*")  # nothing to offer back


def test_safety_tables_keep_days_not_times():
    for name in SAFETY_TABLES:
        table = Base.metadata.tables[name]
        assert not [c.name for c in table.columns if isinstance(c.type, DateTime)], name
        for banned in ("phone", "session", "network", "member", "created_at", "updated_at"):
            assert not [c.name for c in table.columns if banned in c.name], (name, banned)
