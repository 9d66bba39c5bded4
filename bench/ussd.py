"""USSD hops per second and hop latency: Minerline next to a bare Flask endpoint, both under gunicorn.

Run from the repository root: ``.venv/bin/python bench/ussd.py`` (or ``make bench-ussd``);
``--help`` lists the knobs. What it measures and how to read it: bench/README.md.

It sets up a throwaway SQLite database with the demo members and a spare Redis database (flushed
before and after), starts ``gunicorn wsgi:app`` and then ``gunicorn bench.bare:app`` with the same
settings, and drives them in turn with wrk (bench/wrk/ussd.lua: every connection walks whole USSD
sessions, hop after hop), round after round, back to back. It prints a table with the ratios
against the targets and writes the figures to bench/out/ussd.json. Everything is on 127.0.0.1,
every loop and wait is bounded, and the servers it started are stopped on the way out, Ctrl+C
included.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this directory comes first on sys.path, and this file would stand in for the
# ``ussd`` package: put the repository root there instead.
if sys.path and Path(sys.path[0] or ".").resolve() == ROOT / "bench":
    sys.path[0] = str(ROOT)
elif str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

LUA_SCRIPT = ROOT / "bench" / "wrk" / "ussd.lua"
OUT_FILE = ROOT / "bench" / "out" / "ussd.json"
GUNICORN_CONF = ROOT / "gunicorn.conf.py"

# The targets, per concurrency: Minerline against the bare endpoint in the same run.
MIN_THROUGHPUT_RATIO = 0.5
MAX_P99_RATIO = 2.0

SERVERS = {"minerline": "wsgi:app", "bare": "bench.bare:app"}
# Above this share of the CPUs used by other processes during a run, the table carries a warning.
BUSY_SHARE = 0.10
READY_SECONDS = 30.0
STOP_SECONDS = 10.0


@dataclass
class Measurement:
    server: str
    concurrency: int
    hops_per_second: float
    p50_ms: float
    p99_ms: float
    p90_ms: float
    max_ms: float
    requests: int
    duration_s: float
    errors: int  # connect/read/write errors, timeouts, non-200 answers and answers not CON/END
    off_path: int  # Minerline answered a screen the walk did not expect
    sessions: int
    ended: int
    # CPU time of gunicorn's master and workers per hop (Linux /proc), whatever else the machine runs.
    server_cpu_ms_per_hop: float | None = None
    # Share of all CPUs used during the run by anything but this server, wrk and Redis (Linux).
    other_cpu_share: float | None = None
    # The load generator's and Redis's CPU time per hop (Redis: all its clients, this run's mostly).
    wrk_cpu_ms_per_hop: float | None = None
    redis_cpu_ms_per_hop: float | None = None
    round: int | None = None  # None: the median over the rounds
    wrk: dict[str, Any] = field(default_factory=dict)


@dataclass
class Comparison:
    concurrency: int
    throughput_ratio: float
    p99_ratio: float
    throughput_ok: bool
    p99_ok: bool
    clean: bool  # no errors and no off-path screens on either side

    @property
    def passed(self) -> bool:
        return self.throughput_ok and self.p99_ok and self.clean


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    # A SIGTERM (a CI timeout, say) unwinds like Ctrl+C, so the servers are stopped.
    signal.signal(signal.SIGTERM, _raise_interrupt)
    workdir = Path(tempfile.mkdtemp(prefix="minerline-bench-"))
    redis_server: subprocess.Popen[bytes] | None = None
    try:
        if args.redis_url is None:
            redis_server, args.redis_url = _start_redis(workdir)
        problem = _check_tools(args)
        if problem:
            print(f"bench: {problem}", file=sys.stderr)
            return 2
        return _run(args, workdir)
    except KeyboardInterrupt:
        print("\nbench: interrupted; servers stopped", file=sys.stderr)
        return 130
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    finally:
        if args.redis_url:
            _flush_redis(args.redis_url)
        if redis_server is not None:
            redis_server.terminate()
            try:
                redis_server.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                redis_server.kill()
        if args.keep:
            print(f"bench: kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


class BenchError(Exception):
    pass


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--concurrency", type=int, nargs="+", default=[10, 50],
                   help="concurrent sessions (wrk -t N -c N) to measure")
    p.add_argument("--duration", type=int, default=10, help="seconds of wrk per measurement")
    p.add_argument("--rounds", type=int, default=3,
                   help="measurements per server and concurrency, interleaved; the table shows medians")
    p.add_argument("--warmup", type=int, default=3, help="seconds of wrk before measuring each server")
    # gthread, one worker per core, 4 threads: the fastest of the settings tried for both servers
    # (bench/README.md); threads overlap a hop's waits on Redis and the database.
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="gunicorn workers (both servers)")
    p.add_argument("--worker-class", default="gthread", choices=["sync", "gthread"],
                   help="gunicorn -k (both servers)")
    p.add_argument("--threads", type=int, default=4, help="gunicorn --threads per worker (gthread)")
    p.add_argument("--servers", nargs="+", default=list(SERVERS), choices=list(SERVERS),
                   help="which servers to measure (the ratios need both)")
    p.add_argument("--redis-url", help="a spare Redis database, flushed, e.g. redis://127.0.0.1:6379/13 (TCP); "
                   "default: a redis-server of the bench's own on a Unix socket in its temporary directory")
    p.add_argument("--out", type=Path, default=OUT_FILE, help="where the JSON figures go")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory (database, server logs)")
    args = p.parse_args(argv)
    if not 1 <= args.duration <= 300 or not 0 <= args.warmup <= 60 or not 1 <= args.rounds <= 20:
        p.error("--duration must be 1..300 seconds, --warmup 0..60 and --rounds 1..20")
    if any(not 1 <= c <= 500 for c in args.concurrency):
        p.error("--concurrency must be 1..500")
    if not 1 <= args.workers <= 64 or not 1 <= args.threads <= 64:
        p.error("--workers and --threads must be 1..64")
    url = urllib.parse.urlsplit(args.redis_url or "unix:")
    if url.scheme != "unix" and url.hostname not in ("127.0.0.1", "localhost", "::1"):
        p.error("--redis-url must be on this machine: the bench flushes it")
    return args


def _gunicorn() -> Path:
    return Path(sys.executable).parent / "gunicorn"


def _start_redis(workdir: Path) -> tuple[subprocess.Popen[bytes] | None, str | None]:
    """A redis-server of the bench's own, on a Unix socket only (as on one machine: DESIGN's "One
    machine", where the web processes and Redis share a host); (None, None) if there is none."""
    if shutil.which("redis-server") is None:
        return None, None
    sock = workdir / "redis.sock"
    proc = subprocess.Popen(
        ["redis-server", "--port", "0", "--unixsocket", str(sock), "--unixsocketperm", "700",
         "--save", "", "--appendonly", "no", "--dir", str(workdir), "--logfile", str(workdir / "redis.log")],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + READY_SECONDS
    while not sock.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    return proc, f"unix://{sock}?db=0"


def _check_tools(args: argparse.Namespace) -> str | None:
    if shutil.which("wrk") is None:
        return "wrk is not installed (apt-get install wrk)"
    if not _gunicorn().exists():
        return f"no gunicorn next to {sys.executable}; run with the project's .venv/bin/python (make bench-ussd)"
    if args.redis_url is None:
        return "no redis-server on PATH to start (apt-get install redis-server), and no --redis-url given"
    from redis import Redis

    try:
        Redis.from_url(args.redis_url).ping()
    except Exception as exc:  # noqa: BLE001 - say what is missing and stop
        return f"no Redis at {args.redis_url} ({exc})"
    return None


def _run(args: argparse.Namespace, workdir: Path) -> int:
    database_url = f"sqlite:///{workdir / 'bench.db'}"
    _prepare_database(database_url)
    _flush_redis(args.redis_url)
    env = _server_env(database_url, args.redis_url)
    cpus = os.cpu_count() or 1
    print(f"bench: {cpus} CPUs, shared by wrk, Redis and gunicorn; load average before: {_loadavg()}")
    print(f"bench: gunicorn -k {args.worker_class} -w {args.workers}"
          + (f" --threads {args.threads}" if args.worker_class == "gthread" else "")
          + f" for each server; wrk -t N -c N, {args.rounds} x {args.duration}s per server at N in "
          + ", ".join(map(str, args.concurrency)))
    print(f"bench: Redis at {args.redis_url}"
          + (" (a Unix socket: Redis on the same host)" if args.redis_url.startswith("unix:") else " (TCP)"))

    rounds: list[Measurement] = []
    with contextlib.ExitStack() as stack:
        servers: dict[str, _Server] = {}
        for name in args.servers:  # Minerline first, then bare; both stay up, one idle at a time
            servers[name] = stack.enter_context(_Server(name, args, env, workdir))
            print(f"bench: {name} answers at {servers[name].url}")
        if args.warmup:
            print(f"bench: warming up {args.warmup}s each")
            for name, srv in servers.items():
                _wrk(srv.url, max(args.concurrency), args.warmup, run_id=f"{name}-warmup")
        for concurrency in args.concurrency:
            for n in range(args.rounds):
                # Back to back, in alternating order, so drifting background load hits both alike.
                order = list(servers) if n % 2 == 0 else list(reversed(servers))
                for name in order:
                    m = _measure(servers[name], concurrency, args.duration, n, args.redis_url)
                    print(f"bench: {name:9} c={concurrency:<3} round {n + 1}: {m.hops_per_second:6.0f} hops/s  "
                          f"p50 {m.p50_ms:6.2f} ms  p99 {m.p99_ms:6.2f} ms  cpu {_ms(m.server_cpu_ms_per_hop)} ms/hop  "
                          f"other load {_pct(m.other_cpu_share)}  errors {m.errors + m.off_path}")
                    rounds.append(m)

    results = _medians(rounds)
    comparisons = _compare(results, args.concurrency)
    print()
    print(_table(results, comparisons, cpus, args.rounds))
    _write_json(args, results, rounds, comparisons, cpus)
    print(f"\nbench: figures written to {_display(args.out)}")
    if any(m.errors or m.off_path for m in results):
        return 1
    return 0 if all(c.passed for c in comparisons) else 1


# --- set-up ---


def _prepare_database(database_url: str) -> None:
    """A fresh SQLite database, migrated, with the demo members (their numbers are dialled)."""
    from app import upgrade_database
    from models import make_engine, make_session_factory
    from models.demo import load_demo

    upgrade_database(database_url)
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session, session.begin():
            load_demo(session)
    finally:
        engine.dispose()


def _flush_redis(redis_url: str) -> None:
    from redis import Redis

    try:
        Redis.from_url(redis_url).flushdb()
    except Exception as exc:  # noqa: BLE001 - cleaning up; say so and go on
        print(f"bench: could not flush {redis_url}: {exc}", file=sys.stderr)


def _server_env(database_url: str, redis_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        # The walk sends no SMS; were one queued, nothing listens on port 9.
        AT_API_URL="http://127.0.0.1:9",
        AT_API_KEY="bench",
        SECRET_KEY="bench-secret-not-for-production",
        WEBHOOK_TOKEN="",
    )
    for name in ("PORT", "WEB_CONCURRENCY", "GUNICORN_CMD_ARGS", "PROMETHEUS_MULTIPROC_DIR"):
        env.pop(name, None)
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Server:
    """``with _Server(...) as server``: gunicorn in a process group of its own, stopped on the way out."""

    def __init__(self, name: str, args: argparse.Namespace, env: dict[str, str], workdir: Path) -> None:
        self.name = name
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / f"{name}.log"
        self.env = dict(env, PROMETHEUS_MULTIPROC_DIR=str(workdir / f"prometheus-{name}"))
        self.cmd = [
            str(_gunicorn()), "-c", str(GUNICORN_CONF), "--chdir", str(ROOT),
            "-b", f"127.0.0.1:{self.port}", "-w", str(args.workers), "-k", args.worker_class,
            "--threads", str(args.threads), "--no-control-socket", SERVERS[name],
        ]
        self.proc: subprocess.Popen[bytes] | None = None

    def cpu_seconds(self) -> float | None:
        """User + system CPU time of the master and its workers so far, or None off Linux."""
        if self.proc is None or not Path("/proc/self/stat").exists():
            return None
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in [self.proc.pid, *_children(self.proc.pid)]:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # a worker that just exited
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / ticks

    def __enter__(self) -> "_Server":
        log = self.log_path.open("wb")
        try:
            self.proc = subprocess.Popen(self.cmd, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
        finally:
            log.close()
        try:
            self._wait_until_ready()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        # The master and its workers: the process group this script created, and nothing else.
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=STOP_SECONDS)
        except ProcessLookupError:
            return
        except (subprocess.TimeoutExpired, KeyboardInterrupt):
            pass
        # Anything of that group still there (a stuck worker, or a second Ctrl+C) is killed.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + READY_SECONDS
        body = urllib.parse.urlencode({"sessionId": f"bench-ready-{self.name}", "serviceCode": "*384*44#",
                                       "phoneNumber": "+256700000009", "networkCode": "64110", "text": ""})
        last = "no answer"
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise BenchError(f"{self.name} exited with {self.proc.returncode}:\n{self._log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/ussd", data=body.encode(), timeout=2) as resp:
                    text = resp.read().decode()
                    if resp.status == 200 and text[:4] in ("CON ", "END "):
                        return
                    last = f"{resp.status} {text[:60]!r}"
            except (urllib.error.URLError, OSError) as exc:
                last = str(exc)
            time.sleep(0.2)
        raise BenchError(f"{self.name} did not answer POST /ussd in {READY_SECONDS:.0f}s ({last}):\n"
                         f"{self._log_tail()}")

    def _log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


# --- measuring ---


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _wrk(url: str, concurrency: int, seconds: int, run_id: str) -> dict[str, Any]:
    cmd = ["wrk", "-t", str(concurrency), "-c", str(concurrency), "-d", f"{seconds}s", "--timeout", "5s",
           "-s", str(LUA_SCRIPT), url, "--", run_id]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60, check=False)
    for line in done.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            return json.loads(line.removeprefix("BENCH_JSON "))
    raise BenchError(f"wrk printed no figures (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")


def _measure(srv: _Server, concurrency: int, seconds: int, round_no: int, redis_url: str) -> Measurement:
    before = _CpuSnapshot.take(srv, redis_url)
    w = _wrk(srv.url, concurrency, seconds, run_id=f"{srv.name}-c{concurrency}-r{round_no}-{int(time.time())}")
    after = _CpuSnapshot.take(srv, redis_url)
    cpu_ms = other = wrk_ms = redis_ms = None
    if w["requests"]:
        per_hop = 1000 / w["requests"]
        if before.server is not None and after.server is not None:
            cpu_ms = round((after.server - before.server) * per_hop, 3)
            other = before.other_share(after)
        wrk_ms = round((after.children - before.children) * per_hop, 3)
        if before.redis is not None and after.redis is not None:
            redis_ms = round((after.redis - before.redis) * per_hop, 3)
    duration = w["duration_us"] / 1e6
    errors = (w["connect_errors"] + w["read_errors"] + w["write_errors"] + w["timeouts"]
              + max(w["status_errors"], w["bad_status"]) + w["bad_body"])
    return Measurement(
        server=srv.name, concurrency=concurrency, hops_per_second=round(w["requests"] / duration, 1),
        p50_ms=w["p50_us"] / 1000, p99_ms=w["p99_us"] / 1000, p90_ms=w["p90_us"] / 1000,
        max_ms=w["max_us"] / 1000, requests=w["requests"], duration_s=round(duration, 2), errors=errors,
        off_path=w["off_path"], sessions=w["sessions"], ended=w["ended"],
        server_cpu_ms_per_hop=cpu_ms, other_cpu_share=other, wrk_cpu_ms_per_hop=wrk_ms,
        redis_cpu_ms_per_hop=redis_ms, round=round_no + 1, wrk=w,
    )


@dataclass
class _CpuSnapshot:
    """CPU seconds used so far: the whole machine, this server, wrk (our children) and Redis."""

    at: float
    machine: float | None
    server: float | None
    children: float
    redis: float | None

    @classmethod
    def take(cls, srv: _Server, redis_url: str) -> "_CpuSnapshot":
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # wrk, once it has been waited for
        return cls(at=time.monotonic(), machine=_machine_busy_seconds(), server=srv.cpu_seconds(),
                   children=usage.ru_utime + usage.ru_stime, redis=_redis_cpu_seconds(redis_url))

    def other_share(self, later: "_CpuSnapshot") -> float | None:
        if None in (self.machine, later.machine, self.server, later.server, self.redis, later.redis):
            return None
        ours = ((later.server - self.server) + (later.children - self.children)  # type: ignore[operator]
                + (later.redis - self.redis))  # type: ignore[operator]
        other = (later.machine - self.machine) - ours  # type: ignore[operator]
        capacity = (later.at - self.at) * (os.cpu_count() or 1)
        return round(max(0.0, other) / capacity, 3) if capacity > 0 else None


def _machine_busy_seconds() -> float | None:
    """CPU seconds all CPUs have spent busy since boot (Linux /proc/stat), or None."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _redis_cpu_seconds(redis_url: str) -> float | None:
    from redis import Redis

    try:
        info = Redis.from_url(redis_url).info("cpu")
    except Exception:  # noqa: BLE001 - a diagnostic figure only
        return None
    return float(info["used_cpu_sys"]) + float(info["used_cpu_user"])


def _medians(rounds: list[Measurement]) -> list[Measurement]:
    """One row per server and concurrency: the median of each figure over the rounds, counts summed."""
    groups: dict[tuple[str, int], list[Measurement]] = {}
    for m in rounds:
        groups.setdefault((m.server, m.concurrency), []).append(m)
    out = []
    for (server, concurrency), ms in groups.items():

        def median(name: str, ms: list[Measurement] = ms) -> Any:
            values = [getattr(m, name) for m in ms if getattr(m, name) is not None]
            return round(statistics.median(values), 3) if values else None

        def total(name: str, ms: list[Measurement] = ms) -> int:
            return sum(getattr(m, name) for m in ms)

        out.append(Measurement(
            server=server, concurrency=concurrency, hops_per_second=median("hops_per_second"),
            p50_ms=median("p50_ms"), p99_ms=median("p99_ms"), p90_ms=median("p90_ms"),
            max_ms=max(m.max_ms for m in ms), requests=total("requests"),
            duration_s=round(sum(m.duration_s for m in ms), 2), errors=total("errors"), off_path=total("off_path"),
            sessions=total("sessions"), ended=total("ended"),
            server_cpu_ms_per_hop=median("server_cpu_ms_per_hop"), other_cpu_share=median("other_cpu_share"),
            wrk_cpu_ms_per_hop=median("wrk_cpu_ms_per_hop"), redis_cpu_ms_per_hop=median("redis_cpu_ms_per_hop"),
        ))
    return out


def _compare(results: list[Measurement], concurrencies: list[int]) -> list[Comparison]:
    by = {(m.server, m.concurrency): m for m in results}
    out = []
    for c in concurrencies:
        ours, bare = by.get(("minerline", c)), by.get(("bare", c))
        if ours is None or bare is None or not bare.hops_per_second or not bare.p99_ms:
            continue
        throughput = ours.hops_per_second / bare.hops_per_second
        p99 = ours.p99_ms / bare.p99_ms
        out.append(Comparison(
            concurrency=c, throughput_ratio=round(throughput, 3), p99_ratio=round(p99, 3),
            throughput_ok=throughput >= MIN_THROUGHPUT_RATIO, p99_ok=p99 <= MAX_P99_RATIO,
            clean=not (ours.errors or ours.off_path or bare.errors),
        ))
    return out


# --- reporting ---


def _table(results: list[Measurement], comparisons: list[Comparison], cpus: int, rounds: int) -> str:
    rows = [f"{'conc.':>5}  {'server':<9}  {'hops/s':>8}  {'p50 ms':>7}  {'p99 ms':>7}  {'cpu ms/hop':>10}  "
            f"{'other load':>10}  {'errors':>6}  {'sessions/ended':>14}"]
    for m in results:
        rows.append(f"{m.concurrency:>5}  {m.server:<9}  {m.hops_per_second:>8.0f}  {m.p50_ms:>7.2f}  "
                    f"{m.p99_ms:>7.2f}  {_ms(m.server_cpu_ms_per_hop):>10}  {_pct(m.other_cpu_share):>10}  "
                    f"{m.errors + m.off_path:>6}  {f'{m.sessions}/{m.ended}':>14}")
    rows.append("")
    rows.append(f"{'conc.':>5}  {'throughput ratio':<28}  {'p99 ratio':<26}  errors  result")
    for c in comparisons:
        tp = f"{c.throughput_ratio:.2f} (>= {MIN_THROUGHPUT_RATIO:.2f} {'PASS' if c.throughput_ok else 'FAIL'})"
        p99 = f"{c.p99_ratio:.2f}x (<= {MAX_P99_RATIO:.1f}x {'PASS' if c.p99_ok else 'FAIL'})"
        clean = "none  " if c.clean else "SOME  "
        rows.append(f"{c.concurrency:>5}  {tp:<28}  {p99:<26}  {clean}  {'PASS' if c.passed else 'FAIL'}")
    rows.append("")
    rows.append(f"conc. = concurrent sessions (wrk -t N -c N). Figures are medians of {rounds} interleaved rounds; "
                f"errors and sessions are totals.")
    rows.append("cpu ms/hop is the CPU time gunicorn (master and workers) spent per hop;")
    rows.append("other load is the share of all CPUs that something other than the server, wrk and Redis used "
                "during the runs.")
    rows.append(f"Ratios are Minerline / bare in the same run. {cpus} CPUs: wrk, Redis and gunicorn share them, so "
                f"the load generator takes part of the CPU from both servers alike.")
    busiest = max((m.other_cpu_share for m in results if m.other_cpu_share is not None), default=None)
    if busiest is not None and busiest > BUSY_SHARE:
        rows.append(f"WARNING: the machine was busy with other work (up to {_pct(busiest)} of its CPUs): the "
                    f"figures, the bare endpoint's p99 above all, are not reliable. Run again when it is quiet.")
    rows.append(f"Load average after: {_loadavg()}.")
    return "\n".join(rows)


def _write_json(args: argparse.Namespace, results: list[Measurement], rounds: list[Measurement],
                comparisons: list[Comparison], cpus: int) -> None:
    args.out.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {"cpus": cpus, "python": platform.python_version(), "platform": platform.platform(),
                    "load_average_after": _loadavg(), "shared_with_load_generator": True},
        "settings": {"worker_class": args.worker_class, "workers": args.workers, "threads": args.threads,
                     "duration_s": args.duration, "rounds": args.rounds, "warmup_s": args.warmup,
                     "concurrency": args.concurrency,
                     "database": "sqlite (temporary)", "redis": args.redis_url},
        "targets": {"min_throughput_ratio": MIN_THROUGHPUT_RATIO, "max_p99_ratio": MAX_P99_RATIO},
        "results": [asdict(m) for m in results],
        "rounds": [asdict(m) for m in rounds],
        "comparisons": [dict(asdict(c), passed=c.passed) for c in comparisons],
        "passed": bool(comparisons) and all(c.passed for c in comparisons),
    }
    args.out.write_text(json.dumps(doc, indent=2) + "\n")


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.0f}%"


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _loadavg() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    sys.exit(main())
