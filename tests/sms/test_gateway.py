"""The gateway: the official SDK over HTTP to the sandbox, and how each answer is classified."""

from __future__ import annotations

import socket

import pytest

from sms.gateway import (
    ConfigurableSMSService,
    Gateway,
    GatewayNotConfigured,
    NotAccepted,
    Outcome,
    UnknownOutcome,
)
from sms.runtime import build_runtime

A, B, C = "+256700000101", "+256700000102", "+256700000103"


def test_sdk_url_override_posts_to_base_plus_version1_messaging():
    # Guards the SDK's private hooks (_init_service, _baseUrl, _make_url): an upgrade that renames them fails here.
    service = ConfigurableSMSService("myapp", "key", base_url="http://127.0.0.1:9999/")
    assert service._make_url("/messaging") == "http://127.0.0.1:9999/version1/messaging"
    assert service.messaging_url == "http://127.0.0.1:9999/version1/messaging"


def test_without_an_override_the_sdk_keeps_its_own_hosts():
    assert ConfigurableSMSService("myapp", "key").messaging_url == "https://api.africastalking.com/version1/messaging"
    assert ConfigurableSMSService("sandbox", "key").messaging_url == (
        "https://api.sandbox.africastalking.com/version1/messaging")


def test_gateway_uses_settings_timeouts_sender_and_url(settings, sandbox):
    gateway = Gateway.from_settings(settings.replace(at_sender_id="GOLDSMS"), sandbox.url)
    assert gateway.timeout == (settings.sms_connect_timeout, 1.0)
    gateway.send("Hello miners", [A, B])
    call = sandbox.messaging_calls()[0]
    assert call["headers"]["Apikey"] == "test-key"
    assert call["form"] == {"username": "sandbox", "to": f"{A},{B}", "message": "Hello miners",
                            "bulkSMSMode": "1", "from": "GOLDSMS"}


def test_accepted_recipients_carry_id_cost_and_parts(settings, sandbox):
    results = Gateway.from_settings(settings, sandbox.url).send("x" * 200, [A])
    (result,) = results
    assert result.outcome is Outcome.ACCEPTED
    assert result.status_code == 101 and result.number == A
    assert result.message_id and result.message_id.startswith("ATXid_")
    assert result.parts == 2 and result.cost == "UGX 54.0000"


def test_per_recipient_codes_are_accepted_retryable_or_permanent(settings, sandbox):
    sandbox.behave(statuses={"102": 500, "103": 406})
    results = {r.number: r for r in Gateway.from_settings(settings, sandbox.url).send("hi", [A, B, C])}
    assert results[A].outcome is Outcome.ACCEPTED
    assert results[B].outcome is Outcome.RETRY and results[B].status == "InternalServerError"
    assert results[C].outcome is Outcome.PERMANENT and results[C].status == "UserInBlacklist"
    assert results[C].message_id is None  # the gateway writes the string "None"
    assert sandbox.accepted_count(A) == 1 and sandbox.accepted_count(B) == 0 and sandbox.accepted_count(C) == 0


@pytest.mark.parametrize(("code", "outcome"), [
    (100, Outcome.ACCEPTED), (102, Outcome.ACCEPTED), (405, Outcome.RETRY), (407, Outcome.RETRY),
    (501, Outcome.RETRY), (502, Outcome.RETRY), (401, Outcome.PERMANENT), (402, Outcome.PERMANENT),
    (403, Outcome.PERMANENT), (404, Outcome.PERMANENT), (409, Outcome.PERMANENT),
])
def test_every_documented_status_code_is_classified(settings, sandbox, code, outcome):
    sandbox.behave(statuses={"": code})
    (result,) = Gateway.from_settings(settings, sandbox.url).send("hi", [A])
    assert result.status_code == code and result.outcome is outcome


def test_http_500_is_not_accepted(settings, sandbox):
    sandbox.behave(fail_next=1)
    with pytest.raises(NotAccepted):
        Gateway.from_settings(settings, sandbox.url).send("hi", [A])
    assert sandbox.messages() == []


def test_wrong_api_key_is_not_accepted_with_the_gateway_reason(settings, sandbox):
    with pytest.raises(NotAccepted, match="The supplied authentication is invalid"):
        Gateway.from_settings(settings.replace(at_api_key="wrong"), sandbox.url).send("hi", [A])


def test_unregistered_sender_id_is_not_accepted(settings, sandbox):
    sandbox.behave(sender_ids={"GOLDSMS"})
    with pytest.raises(NotAccepted, match="InvalidSenderId"):
        Gateway.from_settings(settings.replace(at_sender_id="OTHER"), sandbox.url).send("hi", [A])
    assert sandbox.messages() == []


def test_connection_refused_is_not_accepted(settings):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(NotAccepted) as info:
        Gateway.from_settings(settings, f"http://127.0.0.1:{port}").send("hi", [A])
    assert info.value.kind == "connection"


def test_read_timeout_is_an_unknown_outcome_though_the_sandbox_accepted(settings, sandbox):
    sandbox.behave(timeout_next=1)
    with pytest.raises(UnknownOutcome):
        Gateway.from_settings(settings, sandbox.url).send("hi", [A])
    assert sandbox.accepted_count(A) == 1


def test_json_with_a_charset_is_still_read_not_mistaken_for_a_refusal(settings, sandbox):
    # The SDK returns a str unless the content type is exactly application/json.
    sandbox.behave(content_type="application/json; charset=utf-8")
    (result,) = Gateway.from_settings(settings, sandbox.url).send("hi", [A])
    assert result.outcome is Outcome.ACCEPTED and result.message_id


def test_from_runtime_uses_at_api_url_or_the_local_sandbox_key(settings, sandbox):
    runtime = build_runtime(settings)
    try:
        assert Gateway.from_runtime(runtime).service.messaging_url == sandbox.url + "/version1/messaging"
        runtime.settings = settings.replace(at_api_key=None, at_api_url=None)
        with pytest.raises(GatewayNotConfigured):
            Gateway.from_runtime(runtime)
        runtime.sandbox_url = sandbox.url  # embedded mode: the process's own sandbox
        gateway = Gateway.from_runtime(runtime)
        assert gateway.service._api_key == "local-sandbox"
    finally:
        runtime.close()
