"""Embedded mode: one process serves the web app, runs the worker and the sweeps on
threads, and (with no AT_API_KEY) runs the local SMS sandbox that the simulator reads.
"""

from __future__ import annotations

import logging
import threading
import time

import click
from flask import Flask
from werkzeug.serving import run_simple

from sms.runtime import SMS_QUEUE, Runtime, runtime_scope
from sms.workers import ThreadWorker

__all__ = ["serve_embedded", "start_background"]

log = logging.getLogger("minerline.embedded")


def _sweep_loop(runtime: Runtime, stop: threading.Event) -> None:
    from sms.broadcasts import run_failing_flags
    from sms.meetings import run_due_reminders
    from sms.sweeps import sweep

    while not stop.wait(runtime.settings.sweep_interval_seconds):
        try:
            with runtime_scope(runtime):
                run_due_reminders()  # meeting reminders due, from the database
                sweep(runtime)
                run_failing_flags()
        except Exception:  # noqa: BLE001 - keep sweeping; the next round tries again
            log.exception("sweep failed")


def _work_loop(runtime: Runtime, stop: threading.Event) -> None:
    worker = ThreadWorker([runtime.queue(SMS_QUEUE)], connection=runtime.redis, runtime=runtime)
    while not stop.is_set():
        try:
            # Polled five times a second: RQ's own INFO lines (started, listening, quitting) on every
            # poll would bury the simulator's address and everything else `make run` prints.
            if not worker.work(burst=True, logging_level="WARNING"):
                time.sleep(0.2)
        except Exception:  # noqa: BLE001
            log.exception("worker loop failed")
            time.sleep(1)


def start_background(app: Flask, base_url: str) -> threading.Event:
    """Start the sandbox (when needed), the worker and the sweeps; returns an Event to stop them."""
    runtime: Runtime = app.extensions["minerline"]
    settings = runtime.settings
    if settings.uses_local_sandbox and not settings.at_api_url:
        from sms.sandbox import SandboxServer

        token = f"?token={settings.webhook_token}" if settings.webhook_token else ""
        sandbox = SandboxServer(api_key=None, dlr_url=f"{base_url}/sms/delivery{token}").start()
        runtime.sandbox_url = sandbox.url
    stop = threading.Event()
    for target, name in ((_work_loop, "minerline-worker"), (_sweep_loop, "minerline-sweeps")):
        threading.Thread(target=target, args=(runtime, stop), name=name, daemon=True).start()
    return stop


def serve_embedded(app: Flask, host: str = "127.0.0.1") -> None:
    from models.demo import DEMO_NUMBERS

    runtime: Runtime = app.extensions["minerline"]
    port = runtime.settings.port
    base_url = f"http://{host}:{port}"
    start_background(app, base_url)
    mode = "embedded (no Redis needed)" if runtime.settings.embedded else "with Redis at REDIS_URL"
    click.echo(f"\nMinerline is running, {mode}.")
    click.echo(f"  Phone simulator: {base_url}/simulator")
    click.echo("  Demo numbers to try:")
    for number, who in DEMO_NUMBERS:
        click.echo(f"    {number}  {who}")
    click.echo("  Stop with Ctrl+C.\n")
    # app.run() is ignored under the `flask` command; serve with Werkzeug directly.
    run_simple(host, port, app, threaded=True, use_reloader=False)
