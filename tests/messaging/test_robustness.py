"""A broadcast to 1,000 members through a real ``python worker.py`` against a failing gateway: 20% of
calls answer HTTP 500, 5% answer after the client's timeout (having accepted the batch), the first call
too; the worker is killed mid-run with its whole process tree and Redis is emptied. Every member who
takes SMS gets it exactly once, the others none. Delivery reports come back over HTTP, as from the
gateway, and are what lets the sends of unknown outcome be settled without sending them again.

Timings are short through the worker's environment (retry intervals, lease, read timeout, sweep
interval, reconcile window), so the run takes well under three minutes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import insert, select
from werkzeug.serving import make_server

from models import Cooperative, Gender, Meeting, Member, OutboxMessage, Role, utcnow

ROOT = Path(__file__).resolve().parents[2]
MEMBERS, OPTED_OUT = 1000, 50
RECONCILE_SECONDS = 10


def _phone(n: int) -> str:
    return f"+2567{n + 10_000_000:08d}"


def _worker_env(settings, extra: dict[str, str] | None = None) -> dict[str, str]:  # type: ignore[no-untyped-def]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AT_", "SMS_", "MINERLINE_"))}
    env.update(DATABASE_URL=settings.database_url, REDIS_URL=settings.redis_url, AT_USERNAME="sandbox",
               AT_API_KEY="test-key", AT_API_URL=settings.at_api_url, SECRET_KEY=settings.secret_key,
               SMS_RETRY_INTERVALS="1,1,1,2,2,2,3,3,3,5", SMS_LEASE_SECONDS="4", SMS_READ_TIMEOUT="1",
               SWEEP_INTERVAL_SECONDS="1", SMS_RECONCILE_SECONDS=str(RECONCILE_SECONDS), **(extra or {}))
    return env


def _start_worker(settings, log: Path, *args: str) -> subprocess.Popen:  # type: ignore[no-untyped-def]
    # Its own session: the worker, its cron process and each work horse (RQ puts every horse in a
    # process group of its own) all carry the session id, which is how they are all found to be killed.
    with log.open("ab") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen([sys.executable, "worker.py", *args], cwd=ROOT, env=_worker_env(settings),
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def _session(leader: subprocess.Popen) -> list[tuple[int, int]]:
    """(pid, process group) of every process in the worker's session."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == leader.pid:
            found.append((int(entry.name), int(fields[2])))
    return found


def _kill_session(leader: subprocess.Popen) -> int:
    """SIGKILL every process group in the worker's session; returns how many processes were in it."""
    found = _session(leader)
    for pgid in {group for _pid, group in found}:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    leader.wait(10)
    return len(found)


@pytest.fixture
def served_app(app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The app on a real port: the sandbox posts delivery reports to it."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


class ReportingGateway:
    """Posts a delivery report for every message the sandbox accepted, a moment later, as the gateway does."""

    def __init__(self, sandbox) -> None:  # type: ignore[no-untyped-def]
        self.sandbox = sandbox
        self.reported: set[str] = set()
        self.errors: list[str] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.wait(0.3):
            for message in self.sandbox.messages():
                if message["id"] in self.reported:
                    continue
                try:
                    status = self.sandbox.deliver(message["id"], "Success")
                except Exception as exc:  # noqa: BLE001 - like the gateway: try again on the next round
                    self.errors.append(repr(exc))
                    continue
                if status == 200:
                    self.reported.add(message["id"])
                else:
                    self.errors.append(f"HTTP {status}")

    def __enter__(self) -> ReportingGateway:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(10)


@pytest.mark.timeout(240)
def test_a_broadcast_to_1000_members_reaches_each_exactly_once_whatever_fails(
        settings, runtime, runner, sandbox, served_app, tmp_path):
    with runtime.sessions() as db, db.begin():
        coop = Cooperative(name="Busia Gold Women", name_key="busia gold women")
        db.add(coop)
        db.flush()
        db.execute(insert(Member), [
            dict(phone=_phone(n), name=f"Member {n}", gender=Gender.FEMALE, role=Role.MEMBER, language="en",
                 cooperative_id=coop.id, opted_out=n < OPTED_OUT) for n in range(MEMBERS)])
    takes_sms = {_phone(n) for n in range(OPTED_OUT, MEMBERS)}
    # 20% HTTP 500; 5% accepted but answered after the client's 1-second read timeout; the first call too.
    sandbox.behave(fail_rate=0.2, timeout_rate=0.05, timeout_next=1, slow_seconds=2.0, seed=4)
    sandbox.dlr_url = f"{served_app}/sms/delivery"
    result = runner.invoke(args=["broadcast", "send", "--cooperative", "busia gold women", "--message",
                                 "Gold buyers visit on Friday. Bring your receipts."])
    assert result.exit_code == 0 and "1000 recipients, 950 to send, 50 skipped" in result.stdout, result.output

    log = tmp_path / "worker.log"
    with ReportingGateway(sandbox):
        worker = _start_worker(settings, log)
        try:
            # Kill it mid-run: a third of the way in, while a work horse (its own process group) is at a job.
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if len(sandbox.messages()) >= 300 and any(g != worker.pid for _p, g in _session(worker)):
                    break
                time.sleep(0.01)
            assert len(sandbox.messages()) < MEMBERS - OPTED_OUT, "the worker finished before it was killed"
            assert _kill_session(worker) >= 3, log.read_text()[-3000:]  # the worker, its cron, the work horse
            runtime.redis.flushdb()  # every queued job and every key gone
            worker = _start_worker(settings, log)

            deadline = time.monotonic() + 150
            while time.monotonic() < deadline:
                if takes_sms <= set(Counter(m["to"] for m in sandbox.messages())):
                    break
                time.sleep(0.25)
            covered = time.monotonic()
            # Keep watching past the reconcile window: a send of unknown outcome re-sent wrongly shows now.
            while time.monotonic() < covered + RECONCILE_SECONDS + 8:
                time.sleep(0.5)
        finally:
            _kill_session(worker)

    accepted = Counter(m["to"] for m in sandbox.messages())
    assert {p for p in takes_sms if accepted[p] == 0} == set(), log.read_text()[-3000:]
    assert {p: n for p, n in accepted.items() if n > 1} == {}
    assert set(accepted) == takes_sms  # the 50 who opted out got nothing
    with runtime.sessions() as db:
        rows = db.execute(select(OutboxMessage.status, OutboxMessage.attempts, OutboxMessage.unknown_since)).all()
    statuses = Counter(status.value for status, _, _ in rows)
    assert statuses == {"delivered": 950, "skipped": 50}, statuses
    # The failures did happen: batches retried after a 500, and sends of unknown outcome settled by reports.
    assert sum(1 for _, attempts, _ in rows if attempts > 1) >= 100
    assert sum(1 for _, _, unknown in rows if unknown is not None) >= 100
    calls = sandbox.messaging_calls()
    assert len(calls) > 10 and max(len(c["form"]["to"].split(",")) for c in calls) <= 100


@pytest.mark.timeout(120)
def test_worker_burst_writes_the_reminders_due_and_sweeps_once_before_working(settings, runtime, sandbox, tmp_path):
    now = utcnow()
    with runtime.sessions() as db, db.begin():
        coop = Cooperative(name="Namayingo", name_key="namayingo")
        db.add(coop)
        db.flush()
        db.add(Member(phone=_phone(1), name="A", gender=Gender.FEMALE, language="en", cooperative_id=coop.id))
        db.add(Meeting(cooperative_id=coop.id, starts_at=now + timedelta(minutes=90), place="Hall",
                       changed_at=now - timedelta(days=2), reminder_texts={"en": "R en", "lg": "R lg", "sw": "R sw"}))
    log = tmp_path / "burst.log"
    for _ in range(2):
        assert _start_worker(settings, log, "--burst").wait(60) == 0, log.read_text()[-2000:]
    assert [m["message"] for m in sandbox.messages(_phone(1))] == ["R en"]  # the 2-hour reminder, once
    assert "'reminders': 1" in log.read_text()
