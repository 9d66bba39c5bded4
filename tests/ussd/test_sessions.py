"""The session store's own Redis connection: it recovers as the client would."""

from __future__ import annotations

import ussd.sessions


def test_a_session_goes_on_after_redis_forgets_its_scripts(phone, runtime):
    p = phone()
    p.dial()
    runtime.redis.script_flush()
    assert p.send("1").startswith("CON ")
    assert p.send("0").startswith("CON ")


def test_a_session_goes_on_after_its_connection_is_dropped(phone, runtime):
    p = phone()
    first = p.dial()
    runtime.redis.client_kill_filter(_type="normal", skipme=True)  # the store's connection among them
    main = p.send("1")
    assert main.startswith("CON ") and main != first
    assert p.repeat() == main  # and the session was kept: the same text is answered from it


def test_the_store_packs_its_commands_without_hiredis_too(phone, monkeypatch):
    monkeypatch.setattr(ussd.sessions, "_pack_command", None)
    p = phone()
    p.dial()
    assert p.send("1").startswith("CON ")
