"""Counting what one hop costs: database statements and Redis round trips."""

from __future__ import annotations

import contextlib
from typing import Iterator

from redis.connection import AbstractConnection
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
    """Count statements on the runtime's engine and round trips to Redis.

    A round trip is one packed send on a connection: a command, a pipeline or a script,
    whether it goes through the client or over the session store's own connection.
    """
    budget = Budget()

    def on_statement(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        budget.statements.append(statement)

    event.listen(runtime.engine, "before_cursor_execute", on_statement)
    real_send = AbstractConnection.send_packed_command

    def counted_send(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        budget.trips += 1
        return real_send(self, *args, **kwargs)

    AbstractConnection.send_packed_command = counted_send  # type: ignore[method-assign]
    try:
        yield budget
    finally:
        AbstractConnection.send_packed_command = real_send  # type: ignore[method-assign]
        event.remove(runtime.engine, "before_cursor_execute", on_statement)
