"""The app served over real HTTP on loopback, with a worker thread sending queued SMS to the sandbox."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Iterator

import pytest
from rq.timeouts import TimerDeathPenalty
from werkzeug.serving import WSGIRequestHandler, make_server

from sms.runtime import SMS_QUEUE, Runtime
from sms.workers import ThreadWorker

log = logging.getLogger("tests.simulator")


class _QuietHandler(WSGIRequestHandler):
    # The inbox is polled with ?phone=...: keep numbers out of the test output.
    def log(self, type: str, message: str, *args: Any) -> None:  # noqa: A002 - werkzeug's signature
        pass


class _TimerThreadWorker(ThreadWorker):
    # RQ's default job timeout uses SIGALRM, which only the main thread may set; a timer works anywhere.
    # (Belongs in sms.workers.ThreadWorker itself: reported; embedded mode needs it too.)
    death_penalty_class = TimerDeathPenalty


def _work_loop(runtime: Runtime, stop: threading.Event) -> None:
    worker = _TimerThreadWorker([runtime.queue(SMS_QUEUE)], connection=runtime.redis, runtime=runtime)
    while not stop.is_set():
        try:
            if not worker.work(burst=True):
                stop.wait(0.2)
        except Exception:  # noqa: BLE001 - keep working; the test sees what did not arrive
            log.exception("worker loop failed")
            stop.wait(1)


@pytest.fixture
def live_server(app, runtime: Runtime) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The app on http://127.0.0.1:<port>, and a worker that sends what it queues; yields the base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    serving = threading.Thread(target=server.serve_forever, name="simulator-http", daemon=True)
    stop = threading.Event()
    working = threading.Thread(target=_work_loop, args=(runtime, stop), name="simulator-worker", daemon=True)
    serving.start()
    working.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        stop.set()
        server.shutdown()
        server.server_close()
        serving.join(5)
        deadline = time.monotonic() + 10
        while working.is_alive() and time.monotonic() < deadline:
            working.join(0.5)
