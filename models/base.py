"""Declarative base with a naming convention so Alembic constraint names are stable."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on both SQLite and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use utcnow()")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Unindexed(ColumnElement[Any]):
    """A string column that the planner must not look up by an index (see ``unindexed``)."""

    inherit_cache = True
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement)]  # so statements stay cached

    def __init__(self, column: ColumnElement[Any]) -> None:
        self.column = column
        self.type = column.type


def unindexed_sql(dialect_name: str, column: str) -> str:
    """The SQL of ``unindexed`` for a column already written out (driver-level SQL uses it too)."""
    if dialect_name == "sqlite":
        return f"+{column}"
    if dialect_name == "postgresql":
        return f"({column} || '')"
    return column


@compiles(Unindexed)
def _unindexed(element: Unindexed, compiler: Any, **kw: Any) -> str:
    return unindexed_sql(compiler.dialect.name, compiler.process(element.column, **kw))


def unindexed(column: ColumnElement[Any]) -> Unindexed:
    """``column`` (a string column) in a WHERE clause that the database must not answer from an index on it.

    SQLite has no statistics unless ANALYZE ran, and given ``id IN (...) AND status = ?`` it picks the
    index on status and scans every row of that status (a broadcast's 10,000 pending rows, for each
    batch of 100) over the primary key. A unary ``+`` is SQLite's documented way to disqualify a term
    from index use. PostgreSQL made the same choice during a broadcast (statistics from before its rows
    came in, and an index still holding every dead row version); ``column || ''`` stops it there.
    """
    return Unindexed(column)
