"""Fixtures: a real Redis (spare database, flushed around each test), a real database
(SQLite by default, PostgreSQL when DATABASE_URL says so), the SMS sandbox over HTTP,
and the app, client and runner built from them.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest
from redis import Redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app import create_app, upgrade_database
from models import Base
from settings import Settings
from sms.runtime import Runtime, build_runtime
from tests.helpers import Phone, run_jobs

TEST_REDIS_DB = 15


def _test_redis_url() -> str:
    url = os.environ.get("MINERLINE_TEST_REDIS_URL") or os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379"
    parts = urlsplit(url)
    # Always a spare database: the suite flushes it.
    return urlunsplit((parts.scheme, parts.netloc, f"/{TEST_REDIS_DB}", "", ""))


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = _test_redis_url()
    try:
        Redis.from_url(url).ping()
    except Exception as exc:  # noqa: BLE001
        pytest.exit(f"tests need a real Redis at {url} ({exc}); `make test` finds or starts one", returncode=3)
    return url


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = os.environ.get("DATABASE_URL")
    if not url or url.startswith("sqlite"):
        path = tmp_path_factory.mktemp("db") / "test.db"
        yield f"sqlite:///{path}"
        return
    # PostgreSQL: a throwaway database next to the one named, dropped at the end.
    base = make_url(url)
    name = f"minerline_test_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def migrated(database_url: str) -> str:
    upgrade_database(database_url)
    return database_url


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[object]:
    from sms.sandbox import SandboxServer

    server = SandboxServer(api_key="test-key").start()
    yield server
    server.stop()


@pytest.fixture
def sandbox(sandbox_server):  # type: ignore[no-untyped-def]
    sandbox_server.reset()
    yield sandbox_server
    sandbox_server.reset()


@pytest.fixture
def settings(migrated: str, redis_url: str, sandbox) -> Settings:  # type: ignore[no-untyped-def]
    return Settings(
        database_url=migrated,
        redis_url=redis_url,
        at_username="sandbox",
        at_api_key="test-key",
        at_api_url=sandbox.url,
        secret_key="test-secret",
        sms_retry_intervals=(1, 1, 1),
        sms_read_timeout=1.0,
        sms_reconcile_seconds=600,
        testing=True,
        locales_dir=Path(__file__).resolve().parent.parent / "locales",
    )


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    rt = build_runtime(settings)
    rt.redis.flushdb()
    yield rt
    rt.redis.flushdb()
    with rt.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
    rt.close()


@pytest.fixture
def app(settings: Settings, runtime: Runtime):  # type: ignore[no-untyped-def]
    return create_app(settings, runtime=runtime)


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture
def runner(app):  # type: ignore[no-untyped-def]
    return app.test_cli_runner()


@pytest.fixture
def phone(client):  # type: ignore[no-untyped-def]
    """A basic phone that dials the service: ``phone("+256700000009").dial()``."""

    def make(number: str = "+256700000009") -> Phone:
        return Phone(client, number)

    return make


@pytest.fixture
def work(runtime: Runtime):  # type: ignore[no-untyped-def]
    """Run queued jobs to the end, as `python worker.py --burst` would."""

    def run() -> int:
        return run_jobs(runtime)

    return run


@pytest.fixture
def member(runtime: Runtime):  # type: ignore[no-untyped-def]
    """Create a member: ``member(role=Role.CHAIR, language="en")``."""
    from models import Cooperative, Gender, Member, Role

    def make(phone: str = "+256700000010", name: str = "Sarah Nakato", role=Role.MEMBER,
             language: str | None = "en", gender=Gender.FEMALE, cooperative: str = "Kitumbi Women Miners"):
        with runtime.sessions() as db, db.begin():
            key = Cooperative.key_for(cooperative)
            coop = db.query(Cooperative).filter_by(name_key=key).one_or_none()
            if coop is None:
                coop = Cooperative(name=cooperative, name_key=key)
                db.add(coop)
                db.flush()
            m = Member(phone=phone, name=name, role=role, language=language, gender=gender,
                       cooperative_id=coop.id)
            db.add(m)
        return m

    return make
