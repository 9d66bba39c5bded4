"""The local sandbox speaks the gateway's API: the SDK, the phone simulator and delivery reports use it."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest
import requests
from werkzeug.serving import make_server

from models import OutboxStatus
from settings import ROOT, Settings
from sms.gateway import Gateway

A, B = "+256700000501", "+256700000502"


def _post(sandbox, key: str = "test-key", **form):
    data = {"username": "sandbox", "to": A, "message": "hi", **form}
    return requests.post(sandbox.url + "/version1/messaging", data=data,
                         headers={"apiKey": key, "Accept": "application/json"}, timeout=5)


def test_answer_is_exactly_application_json_with_one_recipient_each(sandbox):
    resp = _post(sandbox, to=f"{A},{B}", message="x" * 161)
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "application/json"
    data = resp.json()["SMSMessageData"]
    assert data["Message"] == "Sent to 2/2 Total Cost: UGX 108.0000"
    assert [(r["number"], r["statusCode"], r["messageParts"]) for r in data["Recipients"]] == [(A, 101, 2), (B, 101, 2)]
    assert all(r["messageId"].startswith("ATXid_") for r in data["Recipients"])


def test_wrong_key_gets_401_plain_text(sandbox):
    resp = _post(sandbox, key="nope")
    assert resp.status_code == 401 and resp.text == "The supplied authentication is invalid"
    assert resp.headers["Content-Type"].startswith("text/plain")
    assert sandbox.messages() == []


def test_failed_recipients_have_no_id_and_no_cost(sandbox):
    sandbox.behave(statuses={"501": 405})
    (recipient,) = _post(sandbox).json()["SMSMessageData"]["Recipients"]
    assert recipient == {"statusCode": 405, "number": A, "status": "InsufficientBalance", "cost": "0",
                         "messageId": "None", "messageParts": 1}


def test_unknown_behaviour_is_refused():
    from sms.sandbox import SandboxServer

    with pytest.raises(TypeError):
        SandboxServer().behave(explode=True)


def test_simulator_reads_each_numbers_messages_newest_last(sandbox):
    _post(sandbox, message="first")
    _post(sandbox, to=B, message="other")
    _post(sandbox, message="second")
    # an unencoded "+" in the query arrives as a space
    for query in ("?phone=%2B256700000501", "?phone=+256700000501"):
        messages = requests.get(sandbox.url + "/sandbox/messages" + query, timeout=5).json()["messages"]
        assert [m["message"] for m in messages] == ["first", "second"]
        assert set(messages[0]) >= {"id", "to", "message", "parts", "received_at"}
    assert sandbox.accepted_count(A) == 2 and len(sandbox.messages()) == 3


def test_sandbox_delivery_report_reaches_the_app_over_http(app, queue_sms, work, rows, sandbox):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        sandbox.dlr_url = f"http://127.0.0.1:{server.server_port}/sms/delivery"
        ids = queue_sms([A])
        work()
        message_id = rows(ids)[0].at_message_id
        resp = requests.post(sandbox.url + "/sandbox/deliver", data={"id": message_id, "status": "Success"},
                             timeout=10)
        assert resp.json() == {"callback_status": 200}
        assert rows(ids)[0].status is OutboxStatus.DELIVERED
        assert requests.post(sandbox.url + "/sandbox/deliver", data={"id": "ATXid_none"}, timeout=10).status_code == 404
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_sandbox_runs_alone_from_the_command_line():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "sms.sandbox", "--port", str(port), "--api-key", "KEY"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()  # type: ignore[union-attr]
        assert f"http://127.0.0.1:{port}" in line
        url = f"http://127.0.0.1:{port}"
        gateway = Gateway.from_settings(Settings(at_api_key="KEY", sms_read_timeout=5.0), url)
        (result,) = gateway.send("hello", [A])
        assert result.message_id
        messages = requests.get(url + "/sandbox/messages", params={"phone": A}, timeout=5).json()["messages"]
        assert [m["id"] for m in messages] == [result.message_id]
    finally:
        proc.terminate()
        proc.communicate(timeout=10)
