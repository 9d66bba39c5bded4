"""Embedded mode: no REDIS_URL, no AT_API_KEY. One process with fakeredis, the worker on a
thread and the local sandbox; a rights SMS still goes through the SDK over HTTP."""

from __future__ import annotations

import time

import requests

from app import create_app, upgrade_database
from embedded import start_background
from settings import Settings
from tests.helpers import Phone


def test_embedded_mode_serves_ussd_and_delivers_sms_with_no_redis_or_account(tmp_path, caplog):
    url = f"sqlite:///{tmp_path / 'embedded.db'}"
    upgrade_database(url)
    settings = Settings(database_url=url, redis_url=None, at_api_key=None, at_api_url=None,
                        secret_key="embedded-test", sweep_interval_seconds=1,
                        locales_dir=Settings().locales_dir)
    assert settings.embedded and settings.uses_local_sandbox
    app = create_app(settings)
    runtime = app.extensions["minerline"]
    assert type(runtime.redis).__module__.startswith("fakeredis")
    stop = start_background(app, base_url="http://127.0.0.1:1")
    try:
        p = Phone(app.test_client(), "+256700000009")
        p.dial()
        for value in ("1", "3", "5", "1"):
            p.send(value)
        assert p.send("1").startswith("END ")
        deadline = time.monotonic() + 20
        messages: list = []
        while time.monotonic() < deadline and not messages:
            resp = requests.get(f"{runtime.sandbox_url}/sandbox/messages",
                                params={"phone": "+256700000009"}, timeout=2)
            messages = resp.json()["messages"]
            time.sleep(0.2)
        assert len(messages) == 1
        assert "116" in messages[0]["message"]
        # Idle, the worker thread polls five times a second and says nothing (`make run` prints the
        # simulator's address once; RQ's "listening"/"quitting" on every poll would bury it).
        caplog.clear()
        time.sleep(1)
        assert [r.getMessage() for r in caplog.records if r.name.startswith("rq")] == []
    finally:
        stop.set()
        runtime.close()
