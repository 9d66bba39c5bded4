"""The resources a process needs, built once from Settings and passed in.

The web app keeps its Runtime in ``app.extensions``; RQ jobs get theirs through
:func:`current_runtime`, which the Minerline worker sets around each job.
"""

from __future__ import annotations

import contextlib
import contextvars
from dataclasses import dataclass, field
from typing import Iterator

from redis import Redis
from rq import Queue
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from models import make_engine, make_session_factory
from settings import Settings

__all__ = ["Runtime", "build_runtime", "current_runtime", "runtime_scope", "SMS_QUEUE", "embedded_redis"]

SMS_QUEUE = "sms"
_current: contextvars.ContextVar["Runtime"] = contextvars.ContextVar("minerline_runtime")
_embedded_servers: dict[str, object] = {}


def embedded_redis(name: str = "minerline") -> Redis:
    """An in-process Redis stand-in (fakeredis) shared by every thread of this process."""
    import fakeredis

    server = _embedded_servers.setdefault(name, fakeredis.FakeServer())
    return fakeredis.FakeRedis(server=server)


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    redis: Redis
    # Set when the gateway is this process's own sandbox (embedded mode).
    sandbox_url: str | None = None
    queues: dict[str, Queue] = field(default_factory=dict)

    def queue(self, name: str = SMS_QUEUE) -> Queue:
        if name not in self.queues:
            self.queues[name] = Queue(name, connection=self.redis)
        return self.queues[name]

    @property
    def gateway_url(self) -> str | None:
        """Base URL for the SMS API: AT_API_URL, else the embedded sandbox, else the SDK's own host."""
        return self.settings.at_api_url or self.sandbox_url

    def close(self) -> None:
        self.engine.dispose()


def build_runtime(settings: Settings, redis: Redis | None = None) -> Runtime:
    engine = make_engine(settings.database_url)
    if redis is None:
        redis = Redis.from_url(settings.redis_url) if settings.redis_url else embedded_redis()
    return Runtime(settings=settings, engine=engine, sessions=make_session_factory(engine), redis=redis)


def current_runtime() -> Runtime:
    """The Runtime of the job being performed (set by the worker)."""
    try:
        return _current.get()
    except LookupError:  # pragma: no cover - a job run outside a Minerline worker
        raise RuntimeError("no Minerline runtime: run jobs with worker.py or runtime_scope()") from None


@contextlib.contextmanager
def runtime_scope(runtime: Runtime) -> Iterator[Runtime]:
    token = _current.set(runtime)
    try:
        yield runtime
    finally:
        _current.reset(token)
