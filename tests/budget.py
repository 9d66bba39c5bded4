"""Counting what one hop costs: database statements and Redis round trips."""

from __future__ import annotations

import contextlib
from typing import Iterator

from sqlalchemy import event


class Budget:
    def __init__(self) -> None:
        self.statements: list[str] = []
        self.trips = 0

    def reset(self) -> None:
        self.statements.clear()
        self.trips = 0


@contextlib.contextmanager
def counting(runtime) -> Iterator[Budget]:  # type: ignore[no-untyped-def]
    """Count statements on the runtime's engine and round trips on its Redis client."""
    budget = Budget()

    def on_statement(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        budget.statements.append(statement)

    event.listen(runtime.engine, "before_cursor_execute", on_statement)
    redis = runtime.redis
    real_execute, real_pipeline = redis.execute_command, redis.pipeline

    def counted_execute(*args, **kwargs):  # type: ignore[no-untyped-def]
        budget.trips += 1
        return real_execute(*args, **kwargs)

    def counted_pipeline(*args, **kwargs):  # type: ignore[no-untyped-def]
        pipe = real_pipeline(*args, **kwargs)
        real = pipe.execute

        def execute(*a, **k):  # type: ignore[no-untyped-def]
            budget.trips += 1
            return real(*a, **k)

        pipe.execute = execute
        return pipe

    redis.execute_command, redis.pipeline = counted_execute, counted_pipeline
    try:
        yield budget
    finally:
        redis.execute_command, redis.pipeline = real_execute, real_pipeline
        event.remove(runtime.engine, "before_cursor_execute", on_statement)
