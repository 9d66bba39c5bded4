"""``python worker.py [--burst]``: the RQ worker with its scheduler, and the periodic sweeps.

The sweep (``sms.sweeps.run_sweep``) is enqueued by RQ's CronScheduler every
``sweep_interval_seconds``; it re-queues what is pending in the database, so an
emptied Redis loses nothing. Beside it, on the same interval, the meeting reminders
that are due are written from the meetings table (``sms.meetings.run_due_reminders``)
and members the SMS keep failing to reach are flagged (``sms.broadcasts.run_failing_flags``).
``--burst`` runs those three once, works until the queues are empty, and exits.
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
    """The cron process: enqueue the periodic jobs on a fixed interval."""
    from sms.broadcasts import run_failing_flags
    from sms.meetings import run_due_reminders
    from sms.sweeps import run_sweep

    runtime = build_runtime(settings)
    cron = CronScheduler(connection=runtime.redis, name=f"minerline-cron-{multiprocessing.current_process().pid}")
    for job in (run_due_reminders, run_sweep, run_failing_flags):
        cron.register(job, queue_name=SMS_QUEUE, interval=settings.sweep_interval_seconds, job_timeout=300)
    cron.start()


def _mark_queued(runtime: Runtime) -> int:
    """Mark the outbox ids already in a waiting send job, as the sweep marks those it queues, so the
    sweep below does not queue them a second time (a second job would claim nothing, but costs a fork)."""
    from rq.job import Job

    from sms.jobs import send_batch
    from sms.outbox import QUEUED_KEY

    ids: list[int] = []
    for job in Job.fetch_many(runtime.queue().get_job_ids(), connection=runtime.redis):
        if job is not None and job.func_name == f"{send_batch.__module__}.{send_batch.__name__}" and job.args:
            ids.extend(job.args[0])
    pipe = runtime.redis.pipeline(transaction=False)
    for outbox_id in ids:
        pipe.set(QUEUED_KEY.format(outbox_id), 1, ex=max(60, 4 * runtime.settings.sweep_interval_seconds))
    pipe.execute()
    return len(ids)


def sweep_once(runtime: Runtime) -> dict:
    """The periodic jobs once, in this process: reminders due, the sweep, failing members."""
    from sms.broadcasts import run_failing_flags
    from sms.meetings import run_due_reminders
    from sms.sweeps import sweep

    _mark_queued(runtime)
    with runtime_scope(runtime):
        counts = run_due_reminders()
        counts.update(sweep(runtime))
        counts.update(run_failing_flags())
        return counts


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
    # Import the job modules here, once: each job runs in a forked work horse, which would otherwise
    # import them (Flask, the SDK, ...) again for every job.
    import sms.broadcasts  # noqa: F401, PLC0415
    import sms.jobs  # noqa: F401, PLC0415
    import sms.meetings  # noqa: F401, PLC0415
    import sms.sweeps  # noqa: F401, PLC0415

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
