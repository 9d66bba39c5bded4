"""One broadcast to 10,000 members through ``python worker.py --burst``, next to the sandbox's ceiling.

Run from the repository root: ``.venv/bin/python bench/broadcast.py`` (``--help`` for the knobs).

It makes a throwaway SQLite database (or uses ``--database-url``), starts its own ``redis-server`` on a
free port (or uses ``--redis-url``, whose database it flushes) and the SMS sandbox standalone
(``python -m sms.sandbox``) and imports the members with ``flask --app wsgi members import``. Then, in
each of ``--rounds`` rounds (9), it sends one broadcast with ``flask --app wsgi broadcast send`` and times
``python worker.py --burst`` until every member's message was accepted, and measures the ceiling: the
same 100 batches of 100 posted straight to the same sandbox through the same SDK client, one after
another, what one worker could reach if recording nothing cost nothing. The ceiling is taken just before
and just after the broadcast and the two averaged, so that the machine's drift (large on a shared
machine) hits both sides alike; the figures are medians over the rounds. It checks that every member
got exactly one message in every round, prints the figures and writes them to bench/out/broadcast.json.
``--profile`` sends two more broadcasts through the same job code in this process, one under cProfile,
and says where the time goes.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import csv
import json
import logging
import os
import pstats
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this directory comes first on sys.path, where bench/ussd.py would stand in for the
# ``ussd`` package: put the repository root there instead.
if sys.path and Path(sys.path[0] or ".").resolve() == ROOT / "bench":
    sys.path[0] = str(ROOT)
elif str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

OUT_FILE = ROOT / "bench" / "out" / "broadcast.json"
COOPERATIVE = "Bench Cooperative"
TEXT = "Minerline: gold buyers visit the Kitumbi site on Friday at 10. Bring your receipts and your ID."
API_KEY = "bench-key"
TARGET_SECONDS = 20.0
TARGET_RATIO = 0.8
WAIT_SECONDS = 120.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port: int, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listening on port {port} after {seconds}s")


@contextlib.contextmanager
def _process(args: list[str], port: int, env: dict[str, str] | None = None) -> Iterator[subprocess.Popen]:
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for_port(port)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _phone(n: int) -> str:
    return f"+2567{n + 20_000_000:08d}"


def _run(args: list[str], env: dict[str, str]) -> tuple[str, float]:
    started = time.perf_counter()
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout, time.perf_counter() - started


def _accepted(sandbox_url: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{sandbox_url}/sandbox/messages", timeout=60) as resp:
        return json.load(resp)["messages"]


def _moment(stamp: str) -> float:
    return datetime.fromisoformat(stamp).timestamp()


def _ceiling(settings: Any, sandbox_url: str, members: int, text: str) -> float:
    """Seconds to post the same batches straight to the sandbox with the same client, one after another."""
    from sms.gateway import Gateway  # noqa: PLC0415 - after sys.path is set

    gateway = Gateway.from_settings(settings, sandbox_url)
    numbers = [_phone(n) for n in range(members)]
    started = time.perf_counter()
    for start in range(0, members, 100):
        gateway.send(text, numbers[start:start + 100])
    return time.perf_counter() - started


def _profile(env: dict[str, str], members: int) -> dict[str, float]:
    """Two more broadcasts, their jobs run in this process (no fork): one timed, one under cProfile to
    split that time. Returns milliseconds per batch of 100 by where the job's own thread spent them."""
    from app import create_app  # noqa: PLC0415
    from settings import Settings  # noqa: PLC0415
    from sms.workers import MinerlineSimpleWorker  # noqa: PLC0415

    app = create_app(Settings.from_env(env))
    logging.disable(logging.INFO)  # a log line per job would be measured too
    runtime = app.extensions["minerline"]
    worker = MinerlineSimpleWorker([runtime.queue()], connection=runtime.redis, runtime=runtime)

    def broadcast_and_work(n: int, profile: cProfile.Profile | None) -> float:
        result = app.test_cli_runner().invoke(args=["broadcast", "send", "--cooperative", COOPERATIVE,
                                                    "--message", _text(f"p{n}")])
        assert result.exit_code == 0, result.output
        started = time.perf_counter()
        if profile:
            profile.enable()
        while worker.work(burst=True):
            pass
        if profile:
            profile.disable()
        return time.perf_counter() - started

    batches = members / 100
    wall = broadcast_and_work(2, None)
    profile = cProfile.Profile()
    profiled = broadcast_and_work(3, profile)
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]

    def share(pattern: str) -> float:
        """The part of the (unprofiled) wall time spent under functions matching ``pattern``."""
        seconds = sum(row[3] for (path, _line, name), row in stats.items() if re.search(pattern, f"{path}:{name}"))
        return 1000 * wall * seconds / profiled / batches

    jobs = share(r"sms/jobs\.py:send_rows$")
    # The API call runs on the job's call thread, which cProfile does not follow: what the job's own
    # thread spends waiting for its answer is the part of the call that nothing else overlapped.
    http = share(r"<method 'get' of '_queue\.SimpleQueue' objects>$")
    # Every statement, ORM or Core, goes through Connection._execute_context; commits are on top.
    database = share(r"sqlalchemy/engine/base\.py:_execute_context$") + share(r"sqlalchemy/orm/session\.py:commit$")
    runtime.close()
    return {"in_process_ms": 1000 * wall / batches, "gateway_http_ms": http, "database_ms": database,
            "other_job_code_ms": jobs - http - database, "rq_and_redis_ms": 1000 * wall / batches - jobs}


def _text(tag: str) -> str:
    """The broadcast's text with a tag of its own, so each round's messages can be told apart."""
    return f"{TEXT} [{tag}]"


def _round(n: int, members: int, env: dict[str, str], sandbox_url: str, flask: list[str], settings: Any
           ) -> dict[str, Any]:
    """One broadcast through ``worker.py --burst`` between two ceilings, one just before and one just
    after, so that the machine's drift hits both sides alike. Returns the round's figures."""
    before = _ceiling(settings, sandbox_url, members, _text(f"c{n}"))
    output, _ = _run([*flask, "broadcast", "send", "--cooperative", COOPERATIVE, "--message", _text(f"b{n}")], env)
    if n == 1:
        print(output.strip())
    launched = time.time()
    _, worker_seconds = _run([sys.executable, "worker.py", "--burst"], env)
    after = _ceiling(settings, sandbox_url, members, _text(f"d{n}"))
    ceiling_seconds = (before + after) / 2
    messages = [m for m in _accepted(sandbox_url) if m["message"] == _text(f"b{n}")]
    per_number = Counter(m["to"] for m in messages)
    stamps = sorted(_moment(m["received_at"]) for m in messages)
    sending = max(stamps[-1] - stamps[0], 1e-6)
    rate, ceiling = len(messages) / sending, members / ceiling_seconds
    figures = {
        "round": n, "accepted": len(messages), "missing": len({_phone(i) for i in range(members)} - set(per_number)),
        "doubled": sum(1 for count in per_number.values() if count > 1),
        "worker_seconds": round(worker_seconds, 2), "launch_to_last_accepted_seconds": round(stamps[-1] - launched, 2),
        "first_to_last_accepted_seconds": round(sending, 3), "messages_per_second": round(rate),
        "ceiling_seconds": round(ceiling_seconds, 3), "ceiling_messages_per_second": round(ceiling),
        "ratio": round(rate / ceiling, 3), "ceiling_seconds_before_and_after": [round(before, 3), round(after, 3)],
    }
    print(f"round {n}: {len(messages):,} accepted ({figures['missing']} missing, {figures['doubled']} doubled), "
          f"last one {figures['launch_to_last_accepted_seconds']:.2f} s after launch; {rate:,.0f} msg/s while "
          f"sending ({sending:.2f} s); ceiling {ceiling:,.0f} msg/s ({before:.2f} s before, {after:.2f} s "
          f"after); ratio {rate / ceiling:.2f}", flush=True)
    return figures


def _summary(rounds: list[dict[str, Any]], members: int, import_seconds: float) -> dict[str, Any]:
    """Medians over the rounds, printed; the figures for bench/out/broadcast.json."""
    def median(key: str) -> float:
        return statistics.median(r[key] for r in rounds)

    def spread(key: str, fmt: str) -> str:
        values = sorted(r[key] for r in rounds)
        return f"{format(values[0], fmt)} to {format(values[-1], fmt)}"

    ratio, slowest = median("ratio"), max(r["launch_to_last_accepted_seconds"] for r in rounds)
    exact = all(not r["missing"] and not r["doubled"] for r in rounds)
    figures: dict[str, Any] = {
        "members": members, "import_seconds": round(import_seconds, 2), "rounds": rounds,
        "messages_per_second": round(median("messages_per_second")),
        "ceiling_messages_per_second": round(median("ceiling_messages_per_second")), "ratio": round(ratio, 3),
        "first_to_last_accepted_seconds": median("first_to_last_accepted_seconds"),
        "ceiling_seconds": median("ceiling_seconds"),
        "slowest_launch_to_last_accepted_seconds": slowest, "every_member_exactly_once": exact,
        "cpus": os.cpu_count(), "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    print(f"members imported: {members:,} in {import_seconds:.1f} s")
    print(f"medians of {len(rounds)} rounds: {figures['messages_per_second']:,} msg/s while sending "
          f"({spread('messages_per_second', ',')}), ceiling {figures['ceiling_messages_per_second']:,} msg/s "
          f"({spread('ceiling_messages_per_second', ',')})")
    print(f"ratio: {ratio:.3f} (each round's own: {spread('ratio', '.2f')}; target {TARGET_RATIO}): "
          f"{'PASS' if ratio >= TARGET_RATIO else 'FAIL'}")
    print(f"every member exactly once in every round: {'yes' if exact else 'NO'}; all accepted within "
          f"{TARGET_SECONDS:.0f} s of launch in every round (slowest {slowest:.2f} s): "
          f"{'PASS' if exact and slowest <= TARGET_SECONDS else 'FAIL'}")
    print(f"machine: {os.cpu_count()} CPUs, load average {figures['load_average']}")
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--database-url", help="default: a throwaway SQLite file")
    parser.add_argument("--redis-url", help="default: a redis-server started on a free port (flushed if given)")
    parser.add_argument("--profile", action="store_true", help="also say where the time goes (cProfile)")
    parser.add_argument("--rounds", type=int, default=9,
                        help="broadcasts to send, each between two ceilings, one just before and one just after")
    args = parser.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="minerline-bench-"))
    stack = contextlib.ExitStack()
    try:
        database_url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
        if args.redis_url:
            redis_url = args.redis_url
        else:
            if not shutil.which("redis-server"):
                parser.error("no redis-server on PATH: pass --redis-url")
            port = _free_port()
            stack.enter_context(_process(["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"],
                                         port))
            redis_url = f"redis://127.0.0.1:{port}/0"
        sandbox_port = _free_port()
        sandbox_url = f"http://127.0.0.1:{sandbox_port}"
        stack.enter_context(_process([sys.executable, "-m", "sms.sandbox", "--port", str(sandbox_port),
                                      "--api-key", API_KEY], sandbox_port))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AT_", "SMS_", "PROMETHEUS_"))}
        env.update(DATABASE_URL=database_url, REDIS_URL=redis_url, AT_API_KEY=API_KEY, AT_API_URL=sandbox_url,
                   SECRET_KEY="bench", PYTHONPATH=str(ROOT))
        from redis import Redis  # noqa: PLC0415

        Redis.from_url(redis_url).flushdb()
        from app import upgrade_database  # noqa: PLC0415
        from settings import Settings  # noqa: PLC0415

        upgrade_database(database_url)
        flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
        members_csv = tmp / "members.csv"
        with members_csv.open("w", newline="") as fh:
            out = csv.writer(fh)
            out.writerow(["phone", "name", "gender", "cooperative", "role", "language"])
            for n in range(args.members):
                out.writerow([_phone(n), f"Member {n}", "female" if n % 5 else "male", COOPERATIVE,
                              "chair" if n == 0 else "member", ("en", "lg", "sw")[n % 3]])
        _, import_seconds = _run([*flask, "members", "import", str(members_csv)], env)
        rounds = [_round(n, args.members, env, sandbox_url, flask, Settings.from_env(env))
                  for n in range(1, args.rounds + 1)]
        figures = _summary(rounds, args.members, import_seconds)
        if args.profile:
            profile = _profile(env, args.members)
            batches = args.members / 100
            profile["ceiling_ms"] = 1000 * statistics.median(r["ceiling_seconds"] for r in rounds) / batches
            profile["worker_ms"] = 1000 * figures["first_to_last_accepted_seconds"] / batches
            profile["fork_ms"] = profile["worker_ms"] - profile["in_process_ms"]
            figures["per_batch_of_100_ms"] = {k: round(v, 1) for k, v in profile.items()}
            print("where the time goes, per batch of 100 (ms):")
            print(f"  posting it straight to the sandbox (the ceiling)          {profile['ceiling_ms']:6.1f}")
            print(f"  worker.py --burst (first to last accepted / batches)      {profile['worker_ms']:6.1f}")
            print(f"    the same job run in one process, no fork                {profile['in_process_ms']:6.1f}")
            print(f"      waiting for the API call (made on the call thread)    {profile['gateway_http_ms']:6.1f}")
            print(f"      database statements and commits                       {profile['database_ms']:6.1f}")
            print(f"      the rest of the job (grouping, parsing, metrics)      {profile['other_job_code_ms']:6.1f}")
            print(f"      RQ: dequeue, job status and registries in Redis       {profile['rq_and_redis_ms']:6.1f}")
            if profile["fork_ms"] >= 0:
                print(f"    a forked work horse per job (fork, reconnects, exit)    {profile['fork_ms']:6.1f}")
            else:  # the in-process run took longer than the worker: the difference is noise, not a cost
                print("    a forked work horse per job: not measurable in this run (the in-process run was slower)")
        OUT_FILE.parent.mkdir(parents=True, exist_ok=True)
        OUT_FILE.write_text(json.dumps(figures, indent=2) + "\n")
        return 0 if all(not r["missing"] and not r["doubled"] for r in rounds) else 1
    finally:
        stack.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
