"""The session store's own Redis connection: it recovers as the client would."""

from __future__ import annotations


def test_a_session_goes_on_after_its_connection_is_dropped(phone, runtime):
    p = phone()
    first = p.dial()
    runtime.redis.client_kill_filter(_type="normal", skipme=True)  # the store's connection among them
    main = p.send("1")
    assert main.startswith("CON ") and main != first
    assert p.repeat() == main  # and the session was kept: the same text is answered from it


def test_a_hop_whose_first_reply_from_redis_was_lost_is_answered_at_once(phone, app, monkeypatch):
    import time

    from redis.exceptions import ConnectionError

    from ussd.endpoint import hop_handler

    p = phone()
    p.dial()
    wire = hop_handler(app).store._link._wire()  # this thread's: the test client runs here
    read, lost = wire.read, []

    def lose_the_first(count):  # the commands ran (the lock is taken), their replies never came
        replies = read(count)
        if not lost:
            lost.append(replies)
            raise ConnectionError("connection dropped before the reply")
        return replies

    monkeypatch.setattr(wire, "read", lose_the_first)
    started = time.monotonic()
    answer = p.send("1")
    # The store sends the commands again: it must see the lock as its own, not wait for it to expire.
    assert lost and answer.startswith("CON ") and "try again" not in answer
    assert time.monotonic() - started < 3


def _post(client, session_id, number, text):  # type: ignore[no-untyped-def]
    return client.post("/ussd", data={"sessionId": session_id, "serviceCode": "*384*44#", "phoneNumber": number,
                                      "networkCode": "64110", "text": text})


def test_a_hop_reads_the_replies_to_its_session_write_once_its_answer_is_written(app, client):
    from ussd.endpoint import hop_handler

    wire = hop_handler(app).store._link._wire()  # this thread's: the test client runs here
    resp = _post(client, "ATUid_written", "+256700000009", "")
    assert resp.get_data(as_text=True).startswith("CON ")
    assert wire.owed == 3  # the session, the resume snapshot and the lock: sent, not yet waited for
    resp.close()  # what a WSGI server does once the answer is out
    assert wire.owed == 0


def test_a_hop_whose_last_replies_were_never_read_goes_on(client, runtime):
    # A server that never closes its responses: each round trip reads what the last one owed first.
    first = _post(client, "ATUid_unclosed", "+256700000009", "").get_data(as_text=True)
    assert first.startswith("CON ")
    nxt = _post(client, "ATUid_unclosed", "+256700000009", "1").get_data(as_text=True)
    assert nxt.startswith("CON ") and nxt != first
    assert _post(client, "ATUid_unclosed", "+256700000009", "1").get_data(as_text=True) == nxt  # kept
    assert runtime.redis.get("ml:ussd:lock:ATUid_unclosed") is None  # and every lock was let go


def test_a_session_write_that_fails_after_the_answer_is_logged_and_the_session_starts_again(
        app, phone, runtime, caplog):
    import logging

    from ussd.endpoint import hop_handler

    caplog.set_level(logging.ERROR, logger="minerline.ussd")
    p = phone("+256700000009")
    p.dial()
    p.send("1")  # English: a language chosen, and a session to write
    store = hop_handler(app).store
    store.ttl = 0  # Redis refuses the session write ("invalid expire time"); the rest goes through
    on_rights = p.send("3")
    assert on_rights.startswith("CON ")  # the caller was answered before the write's reply came
    (line,) = [r.getMessage() for r in caplog.records if "session write failed" in r.getMessage()]
    assert "ResponseError" in line and "256700000009" not in line and p.session_id not in line
    # The session is dropped, not left one screen behind: the next hop starts afresh, offering to go on.
    assert runtime.redis.get(f"ml:ussd:session:{p.session_id}") is None
    store.ttl = 180
    assert "cut off" in p.send("1")


def test_the_store_keeps_its_socket_timeout_without_polling():
    import socket
    import time

    import pytest

    from ussd.sessions import _kernel_timeout

    ours, theirs = socket.socketpair()
    with ours, theirs:
        ours.settimeout(0.2)
        _kernel_timeout(ours)
        assert ours.gettimeout() is None  # no poll before each call
        started = time.monotonic()
        with pytest.raises(OSError):  # a Redis that never answers still ends the wait
            ours.recv_into(bytearray(16))
        assert 0.1 < time.monotonic() - started < 2
