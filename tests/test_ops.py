"""Health, metrics, the webhook token, and logs without phone numbers."""

from __future__ import annotations

import logging

import pytest

from app import create_app
from ops import redact
from tests.helpers import Phone


def test_healthz_checks_database_and_redis(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.json == {"status": "ok", "database": "ok", "redis": "ok"}


def test_healthz_reports_a_redis_that_is_down(settings, runtime):
    from redis import Redis

    broken = settings.replace(redis_url="redis://127.0.0.1:1/0")
    working, runtime.redis = runtime.redis, Redis.from_url(broken.redis_url, socket_connect_timeout=0.2)
    try:
        resp = create_app(broken, runtime=runtime).test_client().get("/healthz")
    finally:
        runtime.redis = working
    assert resp.status_code == 503 and resp.json["redis"].startswith("error")


def test_metrics_count_hops_and_hold_no_phone_numbers(client, phone):
    p = phone("+256700000009")
    p.dial()
    p.send("1")
    body = client.get("/metrics").get_data(as_text=True)
    assert "minerline_ussd_hop_seconds_bucket" in body
    assert 'minerline_ussd_requests_total{outcome="con"}' in body
    assert "700000009" not in body


def _samples(client) -> dict[str, float]:  # type: ignore[no-untyped-def]
    body = client.get("/metrics").get_data(as_text=True)
    return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
            for line in body.splitlines() if line.startswith("minerline_ussd_")}


def test_metrics_count_every_hop_once(client, phone):
    before = _samples(client)
    p = phone("+256700000009")
    p.dial()  # the first-use language screen
    p.send("1")  # the main menu
    p.send("3")  # rights
    after = _samples(client)

    def grew(name: str) -> float:
        return after.get(name, 0) - before.get(name, 0)

    assert grew("minerline_ussd_hop_seconds_count") == 3
    assert grew('minerline_ussd_hop_seconds_bucket{le="+Inf"}') == 3
    assert grew("minerline_ussd_hop_seconds_sum") > 0
    assert grew('minerline_ussd_requests_total{outcome="con"}') == 3
    assert grew('minerline_ussd_screens_total{screen="main"}') == 1
    assert grew('minerline_ussd_screens_total{screen="rights"}') == 1


def test_hop_counts_are_written_within_about_a_second_without_a_scrape(phone):
    import time

    from prometheus_client import REGISTRY

    def hops() -> float:
        return REGISTRY.get_sample_value("minerline_ussd_hop_seconds_count") or 0

    before = hops()
    phone("+256700000009").dial()
    deadline = time.monotonic() + 5
    while hops() == before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert hops() == before + 1


@pytest.mark.parametrize("path", ["/ussd", "/ussd/events", "/sms/inbound", "/sms/delivery", "/sms/optout"])
def test_callbacks_need_the_token_when_one_is_set(settings, runtime, path):
    app = create_app(settings.replace(webhook_token="s3cret"), runtime=runtime)
    client = app.test_client()
    form = {"sessionId": "ATUid_x", "phoneNumber": "+256700000009", "text": "", "serviceCode": "*384*44#"}
    assert client.post(path, data=form).status_code == 403
    assert client.post(path + "?token=wrong", data=form).status_code == 403
    assert runtime.redis.keys("ml:ussd:*") == []  # a refused callback changes nothing


def test_ussd_works_with_the_right_token(settings, runtime):
    app = create_app(settings.replace(webhook_token="s3cret"), runtime=runtime)
    p = Phone(app.test_client(), "+256700000009", token="s3cret")
    assert p.dial().startswith("CON ")


def test_log_lines_never_hold_phone_numbers(phone, caplog):
    caplog.set_level(logging.DEBUG)
    p = phone("+256772123456")
    p.dial()
    p.send("1")
    logging.getLogger("minerline.test").warning("a message for +256772123456 and 0772123456")
    for record in caplog.records:
        message = record.getMessage()
        assert "772123456" not in redact(message)


@pytest.mark.parametrize("raw", ["+256772123456", "256772123456", "0772123456", "772123456", "0772 123 456"])
def test_redact_catches_every_form(raw):
    assert "772" not in redact(f"number {raw} here")


def test_a_logged_traceback_is_redacted_too():
    import io

    from pythonjsonlogger.json import JsonFormatter

    from ops import RedactingFilter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("%(message)s"))
    handler.addFilter(RedactingFilter())
    log = logging.getLogger("minerline.test.traceback")
    log.addHandler(handler)
    try:
        raise ValueError("[parameters: ('+256700000009',)]")
    except ValueError:
        log.exception("query failed")
    finally:
        log.removeHandler(handler)
    out = stream.getvalue()
    assert "query failed" in out and "ValueError" in out
    assert "700000009" not in out


def test_callbacks_are_answered_without_opening_a_cookie_session(client, monkeypatch):
    from flask.sessions import SecureCookieSessionInterface

    def no_session(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("a cookie session was opened")

    monkeypatch.setattr(SecureCookieSessionInterface, "get_signing_serializer", no_session)
    assert client.post("/ussd/events", data={"sessionId": "ATUid_s", "status": "Success"}).status_code == 200
    form = {"sessionId": "ATUid_s2", "phoneNumber": "+256700000009", "text": ""}
    assert client.post("/ussd", data=form, content_type="multipart/form-data").status_code == 200
    with pytest.raises(AssertionError, match="cookie session"):
        client.get("/healthz")  # not a callback: Flask's session as before
