"""models.db: what the engine helpers promise, on a SQLite file of the test's own (in either CI pass)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from models.db import checkpoint_after, make_engine

PAGE = 4096


def _raw(connection):  # type: ignore[no-untyped-def]
    return connection.connection.driver_connection


def test_checkpoint_after_keeps_checkpoints_out_of_the_blocks_commits_and_runs_one_at_its_end(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    wal = tmp_path / "w.db-wal"
    try:
        with engine.connect() as connection:
            connection.execute(text("CREATE TABLE t (x BLOB)"))
            connection.commit()
            assert _raw(connection).execute("PRAGMA wal_autocheckpoint").fetchone() == (1000,)
            with checkpoint_after(connection):
                assert _raw(connection).execute("PRAGMA wal_autocheckpoint").fetchone() == (0,)
                for _commit in range(20):  # about 2,000 pages, twice what would set off a checkpoint
                    connection.execute(text("INSERT INTO t VALUES (:x)"), [{"x": b"m" * PAGE}] * 100)
                    connection.commit()
                # Checkpointed along the way, the log would have started again from its beginning.
                assert wal.stat().st_size > 1500 * PAGE
            assert _raw(connection).execute("PRAGMA wal_autocheckpoint").fetchone() == (1000,)
            # The checkpoint at the end copied the log into the database file itself.
            assert (tmp_path / "w.db").stat().st_size > 1500 * PAGE
        with engine.connect() as other:
            assert other.execute(text("SELECT count(*) FROM t")).scalar() == 2000
    finally:
        engine.dispose()


def test_checkpoint_after_changes_nothing_when_the_block_fails(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    try:
        with engine.connect() as connection:
            try:
                with checkpoint_after(connection):
                    raise RuntimeError("the job failed")
            except RuntimeError:
                pass
            assert _raw(connection).execute("PRAGMA wal_autocheckpoint").fetchone() == (1000,)
    finally:
        engine.dispose()
