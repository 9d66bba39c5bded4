"""USSD metrics. Labels never carry a phone number or an input.

A hop's counts (its time in the histogram, its outcome, its screen) are kept in plain numbers by
the thread that answered it and written to the metrics at most about once a second (``TALLY``):
under gunicorn every write goes to a memory-mapped file under a lock, and four of them cost a hop
about 4% of its CPU. A thread in each process writes every thread's counts each second, and
``/metrics`` writes its own process's before it reads, so what it shows is at most about a
second behind.
"""

from __future__ import annotations

import atexit
import os
import threading
import time
from bisect import bisect_left

from prometheus_client import Counter, Histogram

__all__ = ["REQUESTS", "HOP_SECONDS", "SCREENS", "DUPLICATES", "SESSION_ENDS", "TALLY", "HopTally",
           "FLUSH_SECONDS"]

REQUESTS = Counter("minerline_ussd_requests_total", "USSD hops answered", ["outcome"])
HOP_SECONDS = Histogram(
    "minerline_ussd_hop_seconds", "Time to answer a USSD hop",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
SCREENS = Counter("minerline_ussd_screens_total", "Screens shown", ["screen"])
DUPLICATES = Counter("minerline_ussd_duplicates_total", "Repeated hops answered from the session")
SESSION_ENDS = Counter("minerline_ussd_session_ends_total", "End-of-session notifications", ["status"])

FLUSH_SECONDS = 1.0


class _Counts:
    """One thread's counts not yet written. Only its thread adds to them; writing takes them under the lock."""

    __slots__ = ("lock", "buckets", "seconds", "outcomes", "screens", "thread")

    def __init__(self, buckets: int) -> None:
        self.thread = threading.current_thread()  # once it has ended and its counts are written, dropped
        self.lock = threading.Lock()
        self.buckets = [0] * buckets
        self.seconds = 0.0
        self.outcomes: dict[str, int] = {}
        self.screens: dict[str, int] = {}


class HopTally:
    """Hop counts kept per thread and written to ``HOP_SECONDS``, ``REQUESTS`` and ``SCREENS`` in batches.

    The histogram's buckets are filled as ``Histogram.observe`` fills them (the first bound at or
    above the time); prometheus-client has no call that adds many observations at once, so the
    writes go to its bucket and sum values directly (pinned in requirements.txt, and a test reads
    the totals back through ``/metrics``)."""

    def __init__(self, histogram: Histogram = HOP_SECONDS, requests: Counter = REQUESTS,
                 screens: Counter = SCREENS) -> None:
        self._histogram, self._requests, self._screens = histogram, requests, screens
        self._bounds = list(histogram._upper_bounds)  # the last is +Inf
        self._local = threading.local()
        self._all: list[_Counts] = []
        self._lock = threading.Lock()
        self._pid = 0  # the process whose writer thread runs
        self._children: dict[tuple[str, str], Counter] = {}  # (label name, value) -> the labelled counter
        os.register_at_fork(after_in_child=self._forget)

    def _forget(self) -> None:
        """In a new process: its parent's counts are its parent's to write, and its writer is not here."""
        self._local = threading.local()
        self._all = []
        self._lock = threading.Lock()
        self._pid = 0

    def hop(self, seconds: float, outcome: str) -> None:
        """A hop answered in ``seconds``, with outcome ``con`` or ``end``."""
        counts = self._counts()
        with counts.lock:
            counts.buckets[bisect_left(self._bounds, seconds)] += 1
            counts.seconds += seconds
            counts.outcomes[outcome] = counts.outcomes.get(outcome, 0) + 1

    def screen(self, screen: str) -> None:
        """A screen shown (the menus' id; "-" for the safety flow, which is never named)."""
        counts = self._counts()
        with counts.lock:
            counts.screens[screen] = counts.screens.get(screen, 0) + 1

    def flush(self) -> None:
        """Write every thread's counts of this process to the metrics."""
        with self._lock:
            every = list(self._all)
            # A thread that has ended adds nothing more (a server may start one per request): its
            # counts are written below for the last time.
            self._all = [counts for counts in every if counts.thread.is_alive()]
        for counts in every:
            with counts.lock:
                buckets, seconds = counts.buckets, counts.seconds
                outcomes, screens = counts.outcomes, counts.screens
                counts.buckets, counts.seconds = [0] * len(buckets), 0.0
                counts.outcomes, counts.screens = {}, {}
            for i, n in enumerate(buckets):
                if n:
                    self._histogram._buckets[i].inc(n)
            if any(buckets):
                self._histogram._sum.inc(seconds)
            for outcome, n in outcomes.items():
                self._child(self._requests, "outcome", outcome).inc(n)
            for screen, n in screens.items():
                self._child(self._screens, "screen", screen).inc(n)

    def _child(self, counter: Counter, label: str, value: str) -> Counter:
        child = self._children.get((label, value))
        if child is None:
            child = self._children[(label, value)] = counter.labels(**{label: value})
        return child

    def _counts(self) -> _Counts:
        counts = getattr(self._local, "counts", None)
        if counts is None:
            counts = self._local.counts = _Counts(len(self._bounds))
            with self._lock:
                self._all.append(counts)
                if self._pid != os.getpid():  # the first count in this process: start its writer
                    self._pid = os.getpid()
                    threading.Thread(target=self._write_each_second, name="minerline-metrics",
                                     daemon=True).start()
        return counts

    def _write_each_second(self) -> None:
        pid = os.getpid()
        while self._pid == pid:
            time.sleep(FLUSH_SECONDS)
            self.flush()


TALLY = HopTally()
atexit.register(TALLY.flush)  # a worker that stops writes what it still holds
