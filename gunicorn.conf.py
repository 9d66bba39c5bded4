"""gunicorn settings for the web processes: ``gunicorn -c gunicorn.conf.py wsgi:app``.

Binds to ``0.0.0.0:$PORT`` (gunicorn's own default when PORT is set; 127.0.0.1:8000 otherwise).
Command-line options win over this file (``-w 4``, ``-k gthread``, ``-b ...``).

Metrics: prometheus-client's multiprocess mode. Every worker writes its counters to files in
PROMETHEUS_MULTIPROC_DIR (default ``./prometheus_multiproc``), which ``/metrics`` adds up. The
directory's old files are removed when the server starts, and a worker's live gauges when it exits.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

# One process per core, each with threads that overlap a hop's waits on Redis and the database;
# keep-alive connections from the gateway's side stay open. bench/ussd.py measured this fastest
# of the settings tried on 2 cores (bench/README.md). WEB_CONCURRENCY overrides the worker count.
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY") or os.cpu_count() or 1)
threads = 4

# Set before any worker imports prometheus_client: it picks its storage from this variable.
_MULTIPROC_DIR = Path(
    os.environ.get("PROMETHEUS_MULTIPROC_DIR") or Path(__file__).resolve().parent / "prometheus_multiproc"
)
os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(_MULTIPROC_DIR)


def on_starting(server: Any) -> None:
    """Once, in the master, before any worker: an empty metrics directory for this run."""
    _MULTIPROC_DIR.mkdir(parents=True, exist_ok=True)
    for stale in _MULTIPROC_DIR.glob("*.db"):
        stale.unlink()


def child_exit(server: Any, worker: Any) -> None:
    """In the master, after a worker exits: drop its live gauges from the totals."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
