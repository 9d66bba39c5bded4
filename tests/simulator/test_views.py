"""The /simulator endpoints through the Flask test client: the page, one hop, the inbox."""

from __future__ import annotations

import logging
import re
import socket
import uuid

import requests

from app import create_app
from models.demo import DEMO_NUMBERS
from simulator import fetch_inbox
from sms.segments import count_segments

NUMBER = "+256700000009"
SESSION = "SIM_" + uuid.uuid4().hex  # unique to this run: Redis may be shared with other runs

_ABSOLUTE_URL = re.compile(r"https?://([^/\s\"'<>)]+)", re.IGNORECASE)
_PROTOCOL_RELATIVE = re.compile(r"""(?:\b(?:src|href|action)\s*=\s*["']?|url\(\s*["']?|@import\s+["'])//""",
                                re.IGNORECASE)
_ASSET = re.compile(r"""(?:src|href)="(/simulator/static/[^"]+)\"""")


def _hop(client, text: str = "", session_id: str = SESSION, number: str = NUMBER):  # type: ignore[no-untyped-def]
    return client.post("/simulator/hop", json={"sessionId": session_id, "phoneNumber": number, "text": text})


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_page_shows_the_phone_the_service_code_and_every_demo_number(client, settings):
    resp = client.get("/simulator")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert settings.service_code in html
    for number, who in DEMO_NUMBERS:
        assert f'value="{number}"' in html and who in html
    for label in ("Call (green key)", "End call (red key)", "Send or OK (left soft key)"):
        assert f'aria-label="{label}"' in html
    assert len(re.findall(r'<button type="button" class="key digit"', html)) == 12


def test_page_and_its_assets_load_nothing_from_other_hosts(client):
    html = client.get("/simulator").get_data(as_text=True)
    assets = _ASSET.findall(html)
    assert len(assets) == 2  # the stylesheet and the script, from the blueprint's static folder
    texts = {"/simulator": html}
    for path in assets:
        resp = client.get(path)
        assert resp.status_code == 200, path
        texts[path] = resp.get_data(as_text=True)
        resp.close()
    for path, text in texts.items():
        assert _ABSOLUTE_URL.findall(text) == [], f"{path} refers to another host"
        assert not _PROTOCOL_RELATIVE.search(text), f"{path} loads a protocol-relative URL"


def test_hop_answers_the_first_screen_and_the_next_one_like_the_gateway(client):
    first = _hop(client)
    assert first.status_code == 200
    assert first.get_json()["text"].startswith("CON Choose language")
    menu = _hop(client, "1")
    assert menu.get_json()["text"].startswith("CON Minerline")
    assert "3 My rights" in menu.get_json()["text"]
    again = _hop(client, "1")  # the same sessionId and text twice: the same answer
    assert again.get_json() == menu.get_json()


def test_hop_needs_no_webhook_token_though_the_gateway_does(settings, runtime):
    client = create_app(settings.replace(webhook_token="callback-secret"), runtime=runtime).test_client()
    assert client.post("/ussd", data={"sessionId": "ATUid_1", "phoneNumber": NUMBER, "text": ""}).status_code == 403
    assert _hop(client).get_json()["text"].startswith("CON ")


def test_hop_accepts_a_number_written_the_local_way(client):
    assert _hop(client, number="0700 000009").get_json()["text"].startswith("CON ")


def test_hop_refuses_bad_requests_with_a_reason(client):
    cases = [
        (client.post("/simulator/hop", data="not json", content_type="application/json"), "JSON"),
        (client.post("/simulator/hop", data={"sessionId": SESSION, "phoneNumber": NUMBER}), "JSON"),
        (client.post("/simulator/hop", json={"phoneNumber": NUMBER, "text": ""}), "sessionId"),
        (client.post("/simulator/hop", json={"sessionId": SESSION, "text": ""}), "empty"),
        (_hop(client, session_id="ATUid_123"), "SIM_"),
        (_hop(client, session_id="SIM_" + "a" * 200), "too long"),
        (_hop(client, number="+254712345678"), "not a Ugandan"),
        (client.post("/simulator/hop", json={"sessionId": SESSION, "phoneNumber": NUMBER, "text": 1}), "text"),
    ]
    for resp, reason in cases:
        assert resp.status_code == 400
        assert reason in resp.get_json()["error"]


def test_inbox_refuses_a_number_that_is_not_a_ugandan_mobile(client):
    for raw, reason in (("", "empty"), ("12345", "not a Ugandan"), ("0414123456", "not a mobile")):
        resp = client.get("/simulator/inbox", query_string={"phone": raw})
        assert resp.status_code == 400
        assert reason in resp.get_json()["error"]


def test_inbox_shows_the_sms_the_number_received_newest_first(client, sandbox, settings):
    for text in ("first message", "second message"):
        requests.post(f"{sandbox.url}/version1/messaging", headers={"apiKey": settings.at_api_key}, timeout=5,
                      data={"username": settings.at_username, "to": NUMBER, "message": text}).raise_for_status()
    requests.post(f"{sandbox.url}/version1/messaging", headers={"apiKey": settings.at_api_key}, timeout=5,
                  data={"username": settings.at_username, "to": "+256700000001", "message": "not yours"})
    resp = client.get("/simulator/inbox", query_string={"phone": "0700000009"})
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["phone"] == NUMBER
    assert [m["text"] for m in body["messages"]] == ["second message", "first message"]
    assert all(m["parts"] == 1 and m["received_at"] and m["id"] for m in body["messages"])
    assert "note" not in body


def test_a_topic_asked_for_on_the_simulator_arrives_in_its_inbox(client, work):
    inputs: list[str] = []
    screen = _hop(client).get_json()["text"]
    for value in ("1", "3", "5", "2"):  # English, My rights, Where to get help, Free legal help
        inputs.append(value)
        screen = _hop(client, "*".join(inputs)).get_json()["text"]
    while "98 More" in screen:
        inputs.append("98")
        screen = _hop(client, "*".join(inputs)).get_json()["text"]
    assert "1 Send me this by SMS" in screen
    assert _hop(client, "*".join([*inputs, "1"])).get_json()["text"].startswith("END ")
    assert client.get("/simulator/inbox", query_string={"phone": NUMBER}).get_json()["messages"] == []
    work()
    (received,) = client.get("/simulator/inbox", query_string={"phone": NUMBER}).get_json()["messages"]
    assert received["text"].startswith("Free legal help: ")
    assert received["parts"] == count_segments(received["text"]).parts > 1  # the whole topic


def test_inbox_is_empty_with_a_note_when_the_sandbox_cannot_be_reached(client, runtime, settings):
    runtime.settings = settings.replace(at_api_url=f"http://127.0.0.1:{_closed_port()}")
    resp = client.get("/simulator/inbox", query_string={"phone": NUMBER})
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["messages"] == [] and "cannot be reached" in body["note"]


def test_fetch_inbox_with_no_sandbox_running_says_so():
    inbox = fetch_inbox(None, NUMBER)
    assert inbox.messages == [] and "No SMS sandbox" in (inbox.note or "")


def test_simulator_is_off_when_sms_go_to_the_real_gateway(settings, runtime):
    runtime.settings = settings.replace(at_api_key="live-key", at_api_url=None)
    client = create_app(runtime.settings, runtime=runtime).test_client()
    assert client.get("/simulator").status_code == 404
    assert client.get("/simulator/static/simulator.js").status_code == 404
    assert _hop(client).status_code == 404
    assert client.get("/simulator/inbox", query_string={"phone": NUMBER}).status_code == 404


def test_simulator_is_on_with_the_local_sandbox_or_an_api_url_override(settings, runtime):
    for changes in ({"at_api_key": None, "at_api_url": None}, {"at_api_key": "key", "at_api_url": "http://127.0.0.1:9"}):
        runtime.settings = settings.replace(**changes)
        client = create_app(runtime.settings, runtime=runtime).test_client()
        assert client.get("/simulator").status_code == 200


def test_no_phone_number_reaches_the_logs(client, runtime, settings, caplog):
    caplog.set_level(logging.DEBUG)
    _hop(client)
    _hop(client, "1")
    client.get("/simulator/inbox", query_string={"phone": NUMBER})
    runtime.settings = settings.replace(at_api_url=f"http://127.0.0.1:{_closed_port()}")
    client.get("/simulator/inbox", query_string={"phone": NUMBER})
    assert caplog.records  # the sandbox being down was logged...
    assert "700000009" not in caplog.text  # ...without the number
