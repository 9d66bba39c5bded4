"""The send job's statements per API call, in the driver's own SQL.

A send job runs these for every call of 100 recipients while the call is in flight, and in the
time of that call it must also take back the answer to the one before: they are most of a job's
work. Through SQLAlchemy's expression layer each cost more in Python (compiling a VALUES
construct afresh every time, which it does not cache, and processing 100 to 1,100 named
parameters) than the database spends on it. So each is written once per shape and dialect, in the
driver's paramstyle, with the columns' own bind processors applied by hand; ``Connection.
exec_driver_sql`` runs it in the session's transaction.

SQLite plans without statistics, and given ``id IN (...) AND status = ?`` it would walk the index
on status through every row of that status (a broadcast's 10,000 pending rows, for each batch);
a unary ``+`` (SQLite's documented way, see ``models.base.unindexed``) keeps it on the primary key.
PostgreSQL did the same during a broadcast: its statistics still describe the table from before the
broadcast's rows came in, and its index on status also holds every row version the send has left
behind until a vacuum (about 30 ms a batch at the end of 10,000). There ``status || ''`` does it.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from itertools import chain
from typing import Any, Callable

from sqlalchemy import Column, Connection
from sqlalchemy.engine import Dialect

from models import DeliveryReport, Member, OutboxMessage, OutboxStatus
from models.base import unindexed_sql

__all__ = ["claim_rows", "opted_out_phones", "any_unmatched_report", "update_outcomes"]

_OUTBOX = OutboxMessage.__table__
_MEMBERS = Member.__table__
_REPORTS = DeliveryReport.__table__
_SENDING = OutboxStatus.SENDING.value
_PENDING = OutboxStatus.PENDING.value

Processor = Callable[[Any], Any] | None


def _mark(dialect: Dialect) -> str:
    return "?" if dialect.paramstyle == "qmark" else "%s"


def _plus(dialect: Dialect) -> str:
    return "+" if dialect.name == "sqlite" else ""


def _status(dialect: Dialect, table: str = "") -> str:
    """The status column where the planner must not use an index on it (see the module doc)."""
    return unindexed_sql(dialect.name, f"{table}.status" if table else "status")


def _processor(column: Column[Any], dialect: Dialect) -> Processor:
    return column.type.dialect_impl(dialect).bind_processor(dialect)


def _apply(process: Processor, value: Any) -> Any:
    return value if process is None else process(value)


@lru_cache(maxsize=128)
def _claim_sql(n: int, dialect: Dialect) -> tuple[str, Processor]:
    m, plus = _mark(dialect), _plus(dialect)
    sql = (
        f"UPDATE {_OUTBOX.name} SET status = '{_SENDING}', claim_token = {m}, lease_until = {m}, updated_at = {m} "
        f"WHERE id IN ({', '.join([m] * n)}) AND {_status(dialect)} = '{_PENDING}' AND {plus}next_attempt_at <= {m} "
        "RETURNING id, phone, text, attempts, purpose"
    )
    return sql, _processor(_OUTBOX.c.updated_at, dialect)


def claim_rows(connection: Connection, ids: list[int], token: str, now: datetime,
               lease_until: datetime) -> list[tuple[int, str, str | None, int, str]]:
    """Pending rows among ``ids`` due at ``now`` become 'sending' under ``token`` until ``lease_until``;
    returns them as (id, phone, text, attempts, purpose), in id order."""
    sql, stamp = _claim_sql(len(ids), connection.dialect)
    params = (token, _apply(stamp, lease_until), _apply(stamp, now), *ids, _apply(stamp, now))
    result = connection.exec_driver_sql(sql, params)
    try:
        return sorted(result.cursor.fetchall())  # the driver's tuples: no Row objects needed here
    finally:
        result.close()


@lru_cache(maxsize=128)
def _opted_out_sql(n: int, dialect: Dialect) -> str:
    m = _mark(dialect)
    return f"SELECT phone FROM {_MEMBERS.name} WHERE phone IN ({', '.join([m] * n)}) AND opted_out = {m}"


def opted_out_phones(connection: Connection, phones: list[str]) -> set[str]:
    """The members among ``phones`` who opted out. (Not a subquery in the claim's RETURNING: SQLite
    runs those without the index on members.phone, a scan of every member per row.)"""
    sql = _opted_out_sql(len(phones), connection.dialect)
    return {phone for (phone,) in connection.exec_driver_sql(sql, (*phones, True)).fetchall()}


@lru_cache(maxsize=128)
def _unmatched_sql(n: int, dialect: Dialect) -> str:
    m, plus = _mark(dialect), _plus(dialect)
    return (f"SELECT id FROM {_REPORTS.name} WHERE message_id IN ({', '.join([m] * n)}) "
            f"AND {plus}outbox_id IS NULL LIMIT 1")


def any_unmatched_report(connection: Connection, message_ids: list[str]) -> bool:
    """Is a delivery report for one of ``message_ids`` stored and not yet matched to its row?"""
    sql = _unmatched_sql(len(message_ids), connection.dialect)
    return connection.exec_driver_sql(sql, tuple(message_ids)).first() is not None


@lru_cache(maxsize=256)
def _outcome_sql(same: tuple[str, ...], varying: tuple[str, ...], rows: int,
                 dialect: Dialect) -> tuple[str, list[Processor], list[Processor], Processor]:
    """WITH w (id, varying...) AS (VALUES ...) UPDATE outbox SET same = ?, varying = w's, updated_at FROM w
    WHERE the row is still 'sending' under the claim token. PostgreSQL gets casts to the columns' types
    in w, which it cannot infer from bare parameters; SQLite must not (its CAST(... AS DATETIME) makes a
    number of a date), nor need to."""
    m = _mark(dialect)
    typed = dialect.name == "postgresql"

    def value(name: str) -> str:
        return f"CAST(w.w_{name} AS {_OUTBOX.c[name].type.compile(dialect=dialect)})" if typed else f"w.w_{name}"

    row = "(" + ", ".join([m] * (len(varying) + 1)) + ")"
    sets = [f"{name} = {m}" for name in same] + [f"{name} = {value(name)}" for name in varying]
    sql = (
        f"WITH w ({', '.join(['w_id', *(f'w_{name}' for name in varying)])}) AS (VALUES {', '.join([row] * rows)}) "
        f"UPDATE {_OUTBOX.name} SET {', '.join(sets)}, "
        f"updated_at = {m} FROM w WHERE {_OUTBOX.name}.id = w.w_id AND {_OUTBOX.name}.claim_token = {m} "
        f"AND {_status(dialect, _OUTBOX.name)} = '{_SENDING}' RETURNING {_OUTBOX.name}.id"
    )

    def processors(names: tuple[str, ...]) -> list[Processor]:
        return [_processor(_OUTBOX.c[name], dialect) for name in names]

    return sql, processors(same), processors(varying), _processor(_OUTBOX.c.updated_at, dialect)


def update_outcomes(connection: Connection, token: str, columns: tuple[str, ...],
                    rows: list[tuple[int, dict[str, Any]]], now: datetime) -> int:
    """Write ``columns`` of each (row id, values) in one statement, only where the row is still
    'sending' under ``token``; returns how many rows were written (counted from RETURNING: SQLite's
    driver reports no rowcount for a statement that begins with WITH).

    A value that every row shares (a status, the time sent, the cost of a broadcast's messages) is
    bound once; only the others (the message id) go in the VALUES list, row by row."""
    # Column by column (list.count compares in C): a call's rows are 100, its columns about 10.
    by_column = {name: [values[name] for _id, values in rows] for name in columns}
    same = tuple(name for name in columns if by_column[name].count(by_column[name][0]) == len(rows))
    varying = tuple(name for name in columns if name not in same)
    sql, same_processors, varying_processors, stamp = _outcome_sql(same, varying, len(rows), connection.dialect)
    lists: list[list[Any]] = [[row_id for row_id, _values in rows]]
    for name, process in zip(varying, varying_processors, strict=True):
        lists.append(by_column[name] if process is None else [process(value) for value in by_column[name]])
    params: list[Any] = list(chain.from_iterable(zip(*lists, strict=True)))  # id, varying... row by row
    params.extend(_apply(process, by_column[name][0]) for name, process in zip(same, same_processors, strict=True))
    params.extend((_apply(stamp, now), token))
    return len(connection.exec_driver_sql(sql, tuple(params)).fetchall())
