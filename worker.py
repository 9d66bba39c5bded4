"""``python worker.py [--burst]``: the RQ worker with its scheduler, and the periodic sweeps.

The sweep (``sms.sweeps.run_sweep``) is enqueued by RQ's CronScheduler every
``sweep_interval_seconds``; it re-queues what is pending in the database, so an
emptied Redis loses nothing. ``--burst`` sweeps once, works until the queues are
empty, and exits.
"""

from __future__ import annotations

import argparse
import multiprocessing
import signal
import sys

from rq.cron import CronScheduler

from ops import configure_logging
from settings import Settings
from sms.runtime import SMS_QUEUE, Runtime, build_runtime, runtime_scope
from sms.workers import MinerlineWorker

QUEUES = (SMS_QUEUE,)


def run_cron(settings: Settings) -> None:
    """The cron process: enqueue the sweep on a fixed interval."""
    from sms.sweeps import run_sweep

    runtime = build_runtime(settings)
    cron = CronScheduler(connection=runtime.redis, name=f"minerline-cron-{multiprocessing.current_process().pid}")
    cron.register(run_sweep, queue_name=SMS_QUEUE, interval=settings.sweep_interval_seconds, job_timeout=300)
    cron.start()


def sweep_once(runtime: Runtime) -> dict:
    from sms.sweeps import sweep

    with runtime_scope(runtime):
        return sweep(runtime)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Minerline worker: sends SMS, runs sweeps.")
    parser.add_argument("--burst", action="store_true", help="work until the queues are empty, then exit")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    configure_logging(settings)
    if settings.embedded:
        print("worker.py needs REDIS_URL; without it `make run` runs the worker inside the web process.",
              file=sys.stderr)
        return 2
    if settings.uses_local_sandbox and not settings.at_api_url:
        print("worker.py has nowhere to send SMS: set AT_API_KEY (Africa's Talking) or AT_API_URL "
              "(a sandbox, e.g. `python -m sms.sandbox --port 9090`).", file=sys.stderr)
        return 2
    runtime = build_runtime(settings)
    queues = [runtime.queue(name) for name in QUEUES]
    worker = MinerlineWorker(queues, connection=runtime.redis, runtime=runtime)
    if args.burst:
        counts = sweep_once(runtime)
        print(f"sweep: {counts}", file=sys.stderr)
        worker.work(burst=True)
        return 0
    cron = multiprocessing.get_context("spawn").Process(target=run_cron, args=(settings,), daemon=True)
    cron.start()
    try:
        worker.work(with_scheduler=True)
    finally:
        if cron.is_alive():
            cron.terminate()
            cron.join(5)
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(main())
