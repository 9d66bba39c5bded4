"""Engine and session factory. The caller owns the session and its transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

__all__ = ["make_engine", "make_session_factory", "checkpoint_after"]


def make_engine(url: str, **kwargs) -> Engine:
    """Create an engine; SQLite gets a busy timeout, WAL and foreign keys."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # pragma: no cover - exercised on every connect
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def checkpoint_after(connection: Connection) -> Iterator[None]:
    """SQLite in WAL mode: no checkpoint in this connection's commits inside the block, one after it.

    By default SQLite copies the write-ahead log back into the database (a checkpoint, with an fsync)
    in whichever commit finds the log past 1,000 pages. A send job commits after every API call, and
    the outbox rows and indexes it writes are mostly the same pages from one commit to the next: one
    checkpoint at the end copies each page once, where checkpoints along the way copy it again and
    again and stall the commit that happens to run them. Other connections keep checkpointing as
    usual. Nothing changes on other databases. ``connection`` must stay the same for the whole block.
    """
    if connection.dialect.name != "sqlite":
        yield
        return
    raw = connection.connection.driver_connection  # beside SQLAlchemy's transaction, which PRAGMAs are not part of
    (pages,) = raw.execute("PRAGMA wal_autocheckpoint").fetchone()
    raw.execute("PRAGMA wal_autocheckpoint=0")
    try:
        yield
    finally:
        raw.execute(f"PRAGMA wal_autocheckpoint={int(pages)}")
        if not raw.in_transaction:
            raw.execute("PRAGMA wal_checkpoint(PASSIVE)")  # PASSIVE: never waits for readers or writers
