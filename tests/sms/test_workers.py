"""The forking worker: each work horse starts with the worker's objects frozen for the collector."""

from __future__ import annotations

import gc

from rq import Worker

from sms.workers import MinerlineWorker


def test_the_horse_is_forked_with_objects_frozen_and_the_worker_takes_them_back(runtime, monkeypatch):
    seen: list[int] = []

    def fork(self, job, queue):  # type: ignore[no-untyped-def]
        seen.append(gc.get_freeze_count())  # what a horse forked here would inherit
        return None

    monkeypatch.setattr(Worker, "fork_work_horse", fork)
    worker = MinerlineWorker([runtime.queue()], connection=runtime.redis, runtime=runtime)
    assert gc.get_freeze_count() == 0
    worker.fork_work_horse(None, None)
    assert seen and seen[0] > 10_000  # the app, SQLAlchemy, the SDK... out of the horse's collections
    # The long-running worker itself keeps collecting its own garbage: nothing stays frozen.
    assert gc.get_freeze_count() == 0
