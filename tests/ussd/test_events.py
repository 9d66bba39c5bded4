"""The end-of-session notification: counts and status only, each session once."""

from __future__ import annotations

from sqlalchemy import select, text

from models import UssdSessionStat


def _event(client, session_id="ATUid_1", status="Success", **extra):
    form = {"date": "2026-11-27 10:00:00", "sessionId": session_id, "serviceCode": "*384*44#",
            "networkCode": "64110", "phoneNumber": "+256772123456", "status": status, "cost": "0",
            "durationInMillis": "5000", "hopsCount": "4", "hopsMetadata": "main|rights",
            "input": "1*3*1234", "lastAppResponse": "END Thank you", **extra}
    return client.post("/ussd/events", data=form)


def test_end_of_session_keeps_counts_and_never_the_number_or_input(client, runtime):
    resp = _event(client)
    assert resp.status_code == 200 and resp.get_data(as_text=True) == ""
    assert _event(client).status_code == 200  # the gateway retries: counted once
    _event(client, session_id="ATUid_2", status="Incomplete")
    with runtime.sessions() as db:
        stats = {s.status: (s.sessions, s.hops, s.duration_ms) for s in db.scalars(select(UssdSessionStat))}
        assert stats == {"Success": (1, 4, 5000), "Incomplete": (1, 4, 5000)}
        dump = " ".join(str(row) for table in ("ussd_session_stats",)
                        for row in db.execute(text(f"SELECT * FROM {table}")))
    assert "772123456" not in dump and "1234" not in dump
    for key in runtime.redis.keys("*"):
        assert b"772123456" not in key and b"ATUid" not in key
        value = runtime.redis.get(key) if runtime.redis.type(key) == b"string" else b""
        assert b"772123456" not in (value or b"")


def test_end_of_session_without_a_status_is_refused_with_a_reason(client):
    resp = client.post("/ussd/events", data={"sessionId": "ATUid_1"})
    assert resp.status_code == 400 and "status" in resp.get_data(as_text=True)


def test_end_of_session_drops_what_the_session_held(phone, client, runtime):
    p = phone("+256700000009")
    p.dial()
    p.send("1")
    assert runtime.redis.exists(f"ml:ussd:session:{p.session_id}")
    _event(client, session_id=p.session_id, status="Incomplete")
    assert not runtime.redis.exists(f"ml:ussd:session:{p.session_id}")
