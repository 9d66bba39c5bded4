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
        self.handshakes = 0  # commands sent while opening a connection (SELECT, CLIENT SETINFO)

    def reset(self) -> None:
        self.statements.clear()
        self.trips = 0
        self.handshakes = 0


@contextlib.contextmanager
def counting(runtime) -> Iterator[Budget]:  # type: ignore[no-untyped-def]
    """Count statements on the runtime's engine and round trips to Redis.

    A round trip is one packed send on a connection: a command, a pipeline or a script,
    whether it goes through the client or over the session store's own connection (whose
    replies may be read later, after the answer: still one round trip). Opening a
    connection is counted apart: it happens once for a connection (a thread's or the pool's),
    not on every hop.
    """
    import ussd.callers
    import ussd.sessions

    budget = Budget()
    opening = [0]
    on_wire = [0]  # inside the session store's own send (which may use the connection's)

    def on_statement(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        budget.statements.append(statement)

    event.listen(runtime.engine, "before_cursor_execute", on_statement)
    real_send, real_connect = AbstractConnection.send_packed_command, AbstractConnection.connect_check_health

    def counted_send(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if opening[0]:
            budget.handshakes += 1
        elif not on_wire[0]:
            budget.trips += 1
        return real_send(self, *args, **kwargs)

    real_wire_send = ussd.sessions._Wire.send
    real_prepared_run = ussd.callers.Prepared.run

    def counted_prepared_run(self, cursor, values):  # type: ignore[no-untyped-def]
        budget.statements.append(self.sql)  # run on the DBAPI cursor, which the engine's events do not see
        return real_prepared_run(self, cursor, values)

    def counted_wire_send(self, commands):  # type: ignore[no-untyped-def]
        budget.trips += 1
        on_wire[0] += 1
        try:
            return real_wire_send(self, commands)
        finally:
            on_wire[0] -= 1

    def counted_connect(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        opening[0] += 1
        try:
            return real_connect(self, *args, **kwargs)
        finally:
            opening[0] -= 1

    AbstractConnection.send_packed_command = counted_send  # type: ignore[method-assign]
    AbstractConnection.connect_check_health = counted_connect  # type: ignore[method-assign]
    ussd.sessions._Wire.send = counted_wire_send  # type: ignore[method-assign]
    ussd.callers.Prepared.run = counted_prepared_run  # type: ignore[method-assign]
    try:
        yield budget
    finally:
        AbstractConnection.send_packed_command = real_send  # type: ignore[method-assign]
        AbstractConnection.connect_check_health = real_connect  # type: ignore[method-assign]
        ussd.sessions._Wire.send = real_wire_send  # type: ignore[method-assign]
        ussd.callers.Prepared.run = real_prepared_run  # type: ignore[method-assign]
        event.remove(runtime.engine, "before_cursor_execute", on_statement)
