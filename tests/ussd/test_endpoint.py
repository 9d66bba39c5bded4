"""POST /ussd at the HTTP edge: what the gateway (or anything else) gets back for each kind of request.

Form-encoded hops are answered before Flask (``ussd.endpoint``); everything else goes through
Flask. Both must answer alike.
"""

from __future__ import annotations

import json
import logging

import pytest

from app import create_app
from ops import RedactingFilter
from ussd.hop import HopHandler

FORM = {"sessionId": "ATUid_edge", "serviceCode": "*384*44#", "phoneNumber": "+256700000009",
        "networkCode": "64110", "text": ""}


def _post(client, data=FORM, query="", **kwargs):  # type: ignore[no-untyped-def]
    return client.post("/ussd" + query, data=data, **kwargs)


def _multipart(client, data=FORM, query=""):  # type: ignore[no-untyped-def]
    """The same fields as multipart/form-data: answered by the Flask view, not the fast path."""
    return client.post("/ussd" + query, data=data, content_type="multipart/form-data")


def test_a_hop_is_plain_text_with_the_screen_for_the_gateway_dashboard(client):
    resp = _post(client)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert resp.headers["at-ussd-hop-metadata"] == "lang.first"
    assert int(resp.headers["Content-Length"]) == len(resp.data)
    assert resp.get_data(as_text=True).startswith("CON ")
    assert "Set-Cookie" not in resp.headers


def test_form_and_multipart_hops_are_answered_alike(client):
    first = _post(client, dict(FORM, sessionId="ATUid_a"))
    second = _multipart(client, dict(FORM, sessionId="ATUid_b"))
    assert (first.status_code, first.data) == (second.status_code, second.data)
    assert sorted(first.headers.items()) == sorted(second.headers.items())


@pytest.mark.parametrize("send", [_post, _multipart])
def test_missing_fields_get_400_naming_them(client, send):
    resp = send(client, {"text": "", "serviceCode": "*384*44#"})
    assert resp.status == "400 BAD REQUEST"
    assert resp.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert resp.get_data(as_text=True) == "missing field(s): sessionId, phoneNumber"


def test_a_session_id_that_is_too_long_gets_400(client):
    resp = _post(client, dict(FORM, sessionId="x" * 129))
    assert resp.status_code == 400 and resp.get_data(as_text=True) == "sessionId is too long"


@pytest.mark.parametrize("body, content_type", [
    (json.dumps(FORM), "application/json"),
    ("sessionId=ATUid_x&phoneNumber=%2B256700000009&text=", "text/plain"),
    (b"sessionId=ATUid_\xff&phoneNumber=%2B256700000009&text=", "application/x-www-form-urlencoded"),
])
def test_a_body_that_is_not_a_form_gets_400(client, runtime, body, content_type):
    resp = client.post("/ussd", data=body, content_type=content_type)
    assert resp.status_code == 400
    assert resp.get_data(as_text=True) == "missing field(s): sessionId, phoneNumber"
    assert runtime.redis.keys("ml:ussd:*") == []


def test_a_form_with_a_charset_is_still_a_form(client):
    resp = client.post("/ussd", data="sessionId=ATUid_c&phoneNumber=%2B256700000009&text=",
                       content_type="application/x-www-form-urlencoded; charset=UTF-8")
    assert resp.status_code == 200 and resp.get_data(as_text=True).startswith("CON ")


def test_a_repeated_field_counts_by_its_first_value(client):
    body = "sessionId=ATUid_r&phoneNumber=%2B256700000009&text=&text=1"
    resp = client.post("/ussd", data=body, content_type="application/x-www-form-urlencoded")
    assert resp.headers["at-ussd-hop-metadata"] == "lang.first"  # text "" is a first hop


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_other_methods_are_not_allowed(client, method):
    resp = client.open("/ussd", method=method, data=FORM)
    assert resp.status_code == 405
    assert "POST" in resp.headers["Allow"]


@pytest.mark.parametrize("send", [_post, _multipart])
@pytest.mark.parametrize("query", ["", "?token=wrong", "?token=", "?other=s3cret", "?token=s3cre"])
def test_without_the_right_token_a_hop_gets_403_and_changes_nothing(settings, runtime, send, query):
    client = create_app(settings.replace(webhook_token="s3cret"), runtime=runtime).test_client()
    resp = send(client, query=query)
    assert resp.status_code == 403
    assert "missing or wrong token" in resp.get_data(as_text=True)
    assert runtime.redis.keys("*") == []


@pytest.mark.parametrize("send", [_post, _multipart])
def test_with_the_right_token_a_hop_is_answered(settings, runtime, send):
    client = create_app(settings.replace(webhook_token="s3cret"), runtime=runtime).test_client()
    resp = send(client, query="?token=s3cret")
    assert resp.status_code == 200 and resp.get_data(as_text=True).startswith("CON ")


def test_the_token_is_asked_only_when_one_is_set(client):
    assert _post(client, query="?token=anything").status_code == 200


@pytest.mark.parametrize("send", [_post, _multipart])
def test_an_unexpected_error_reaches_tests_as_the_exception(client, monkeypatch, send):
    def broken(self, req):  # type: ignore[no-untyped-def]
        raise RuntimeError("boom")

    monkeypatch.setattr(HopHandler, "handle", broken)
    with pytest.raises(RuntimeError, match="boom"):
        send(client)


@pytest.mark.parametrize("send", [_post, _multipart])
def test_an_unexpected_error_in_production_is_a_logged_500(settings, runtime, monkeypatch, caplog, send):
    app = create_app(settings.replace(testing=False), runtime=runtime)
    assert not app.testing

    def broken(self, req):  # type: ignore[no-untyped-def]
        raise RuntimeError(f"no luck for {req.phone}")

    monkeypatch.setattr(HopHandler, "handle", broken)
    caplog.set_level(logging.ERROR)
    resp = send(app.test_client())
    assert resp.status_code == 500
    assert "Internal Server Error" in resp.get_data(as_text=True)
    (record,) = [r for r in caplog.records if r.getMessage() == "Exception on /ussd [POST]"]
    assert record.name == app.logger.name
    RedactingFilter().filter(record)  # what the JSON log handler writes (it may have run already)
    assert "RuntimeError: no luck for" in record.exc_text and "700000009" not in record.exc_text


def test_other_paths_still_reach_flask(client):
    assert client.get("/healthz").status_code == 200
    assert client.post("/ussd/events", data={"sessionId": "ATUid_e", "status": "Success"}).status_code == 200
    assert client.post("/ussd/", data=FORM).status_code == 404


def test_form_hops_are_answered_without_flask_request_machinery(app, client, monkeypatch):
    def no_flask(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("a form-encoded hop went through Flask")

    monkeypatch.setattr(app, "request_context", no_flask)
    assert _post(client).status_code == 200
    assert _post(client, {"text": ""}).status_code == 400
    with pytest.raises(AssertionError, match="went through Flask"):
        _multipart(client)


@pytest.mark.parametrize("terminated", [False, True])  # gunicorn says its stream ends where the body does
def test_a_body_cut_short_gets_400_and_no_hop_is_made(client, runtime, terminated):
    import io

    body = b"sessionId=ATUid_cut&serviceCode=%2A384%2A44%23&phoneNumber=%2B256700000009&text=3"
    # Cut before its last field ends, the rest would still be a valid hop: it must not be taken for one.
    resp = client.post("/ussd", input_stream=io.BytesIO(body[:-2]), content_type="application/x-www-form-urlencoded",
                       environ_overrides={"CONTENT_LENGTH": str(len(body)),  # what was announced
                                          "wsgi.input_terminated": terminated})
    assert resp.status_code == 400
    assert runtime.redis.get("ml:ussd:session:ATUid_cut") is None
    whole = client.post("/ussd", input_stream=io.BytesIO(body), content_length=len(body),
                        content_type="application/x-www-form-urlencoded")
    assert whole.status_code == 200 and whole.get_data(as_text=True).startswith("CON ")


def test_a_body_far_larger_than_a_hop_gets_413(client):
    resp = client.post("/ussd", data={**FORM, "text": "1" * 20_000})
    assert resp.status_code == 413
