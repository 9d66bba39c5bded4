"""RQ workers that give each job the process's Runtime (see ``sms.runtime``)."""

from __future__ import annotations

import gc
import os

from rq import SimpleWorker, Worker
from rq.timeouts import TimerDeathPenalty

from .runtime import Runtime, runtime_scope

__all__ = ["MinerlineWorker", "MinerlineSimpleWorker", "ThreadWorker"]


class _RuntimeMixin:
    runtime: Runtime

    def perform_job(self, job, queue):  # type: ignore[no-untyped-def]
        if getattr(self, "_parent_pid", os.getpid()) != os.getpid():
            # In a forked work horse: never reuse the parent's database connections.
            self.runtime.engine.dispose(close=False)
        with runtime_scope(self.runtime):
            return super().perform_job(job, queue)  # type: ignore[misc]


class MinerlineWorker(_RuntimeMixin, Worker):
    """Forks a work horse per job (production)."""

    def __init__(self, *args, runtime: Runtime, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.runtime = runtime
        self._parent_pid = os.getpid()

    def fork_work_horse(self, job, queue):  # type: ignore[no-untyped-def]
        # Everything the worker holds before the fork (the app, SQLAlchemy, the SDK: over 100,000
        # objects) goes to the collector's permanent generation, as Python's gc.freeze docs advise
        # before a fork: the work horse's full collections then skip it (one took 60 ms in the middle
        # of a broadcast's calls) and leave its pages shared with the parent. The parent takes them
        # back right after (the horse never returns here), so its own garbage is still collected.
        gc.freeze()
        try:
            return super().fork_work_horse(job, queue)
        finally:
            gc.unfreeze()


class MinerlineSimpleWorker(_RuntimeMixin, SimpleWorker):
    """Runs jobs in its own process (tests, embedded mode)."""

    def __init__(self, *args, runtime: Runtime, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.runtime = runtime
        self._parent_pid = os.getpid()


class ThreadWorker(MinerlineSimpleWorker):
    """A SimpleWorker that can run on a thread: signal handlers belong to the main thread,
    and job timeouts use a timer instead of SIGALRM."""

    death_penalty_class = TimerDeathPenalty

    def _install_signal_handlers(self) -> None:
        pass
