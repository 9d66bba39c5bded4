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


def test_a_hop_whose_first_reply_from_redis_was_lost_is_answered_at_once(phone, app, monkeypatch):
    import time

    from redis.exceptions import ConnectionError

    from ussd.endpoint import hop_handler

    p = phone()
    p.dial()
    conn = hop_handler(app).store._link._connection()  # this thread's: the test client runs here
    read, lost = conn.read_response, []

    def lose_the_first(*args, **kwargs):  # the script ran (the lock is taken), its answer never came
        reply = read(*args, **kwargs)
        if not lost:
            lost.append(reply)
            raise ConnectionError("connection dropped before the reply")
        return reply

    monkeypatch.setattr(conn, "read_response", lose_the_first)
    started = time.monotonic()
    answer = p.send("1")
    # The store sends the script again: it must see the lock as its own, not wait for it to expire.
    assert lost and answer.startswith("CON ") and "try again" not in answer
    assert time.monotonic() - started < 3
