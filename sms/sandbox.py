"""A local server that speaks the Africa's Talking SMS API (reference section 7), on loopback.

Tests point the real SDK at it; embedded mode sends every SMS to it and the phone simulator reads what
each number received. Outcomes can be scripted with ``behave()``: HTTP 500s, slow answers past the
client's read timeout (after the messages were accepted, as a real gateway might), per-number status
codes, unregistered sender ids. Stores are guarded by one lock: requests arrive on many threads.

Run it alone: ``python -m sms.sandbox --port 9090 --api-key KEY [--dlr-url URL]``.
"""

from __future__ import annotations

import argparse
import json
import random
import threading
import uuid
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from typing import Any

import requests
from flask import Flask, Response, jsonify, request
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from .gateway import ACCEPTED_CODES, STATUS_NAMES
from .segments import count_segments

__all__ = ["SandboxServer", "Behaviour", "AUTH_ERROR", "PRICE_PER_PART"]

AUTH_ERROR = "The supplied authentication is invalid"
PRICE_PER_PART = 27  # UGX, as in the gateway's Ugandan sample answer


@dataclass
class Behaviour:
    """Scripted outcomes; ``SandboxServer.behave(**fields)`` changes them, ``reset()`` restores these."""

    fail_rate: float = 0.0  # probability that a call answers HTTP 500 (nothing accepted)
    fail_next: int = 0  # the next N calls answer HTTP 500
    timeout_rate: float = 0.0  # probability that a call is accepted but answered only after slow_seconds
    timeout_next: int = 0  # the next N calls are accepted but answered only after slow_seconds
    slow_seconds: float = 3.0  # longer than the client's read timeout
    statuses: dict[str, int] = field(default_factory=dict)  # number suffix -> statusCode for that recipient
    sender_ids: frozenset[str] | None = None  # registered sender ids (None: any); others: InvalidSenderId
    content_type: str = "application/json"  # the SDK parses JSON only on this exact value
    message_ids: list[str] = field(default_factory=list)  # ids to hand out next, then random ones
    seed: int | None = None


class _QuietHandler(WSGIRequestHandler):
    # Access logs would carry numbers (GET /sandbox/messages?phone=...): keep them out of every log.
    def log(self, type: str, message: str, *args: Any) -> None:  # noqa: A002 - werkzeug's signature
        pass


class SandboxServer:
    """The Africa's Talking SMS API on ``host:port`` (port 0: any free port), served on a thread."""

    def __init__(self, api_key: str | None = "test-key", username: str | None = None, host: str = "127.0.0.1",
                 port: int = 0, dlr_url: str | None = None) -> None:
        self.api_key = api_key  # None: any key is accepted (the embedded sandbox)
        self.username = username  # None: any username
        self.host = host
        self.port = port
        self.dlr_url = dlr_url  # where deliver() posts reports
        self._default_dlr_url = dlr_url
        self._lock = threading.Lock()
        self._messages: list[dict[str, Any]] = []
        self._requests: list[dict[str, Any]] = []
        self._behaviour = Behaviour()
        self._random = random.Random()
        self._release = threading.Event()  # wakes slow answers early on reset() and stop()
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.app = self._build_app()

    # -- life cycle ---------------------------------------------------------------------------------

    def start(self) -> SandboxServer:
        """Start serving on a background thread; returns self."""
        self._server = make_server(self.host, self.port, self.app, threaded=True, request_handler=_QuietHandler)
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, name="sms-sandbox", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)
        self._server = self._thread = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def reset(self) -> None:
        """Forget messages and requests, and go back to the default behaviour."""
        with self._lock:
            self._release.set()
            self._release = threading.Event()
            self._messages.clear()
            self._requests.clear()
            self._behaviour = Behaviour()
            self._random = random.Random()
            self.dlr_url = self._default_dlr_url

    def behave(self, **changes: Any) -> SandboxServer:
        """Script outcomes, e.g. ``behave(fail_next=2)``, ``behave(statuses={"13": 403})``; see Behaviour."""
        names = {f.name for f in fields(Behaviour)}
        unknown = set(changes) - names
        if unknown:
            raise TypeError(f"unknown behaviour: {', '.join(sorted(unknown))}")
        if "sender_ids" in changes and changes["sender_ids"] is not None:
            changes["sender_ids"] = frozenset(changes["sender_ids"])
        with self._lock:
            self._behaviour = replace(self._behaviour, **changes)
            if "seed" in changes:
                self._random = random.Random(changes["seed"])
        return self

    # -- what was received --------------------------------------------------------------------------

    def messages(self, phone: str | None = None) -> list[dict[str, Any]]:
        """Accepted messages (id, to, message, parts, received_at, sender), oldest first."""
        with self._lock:
            return [dict(m) for m in self._messages if phone is None or m["to"] == phone]

    def accepted_count(self, phone: str) -> int:
        with self._lock:
            return sum(1 for m in self._messages if m["to"] == phone)

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Every request received: method, path, headers, form, args."""
        with self._lock:
            return [dict(r) for r in self._requests]

    def messaging_calls(self) -> list[dict[str, Any]]:
        """The POST /version1/messaging requests only."""
        return [r for r in self.requests if r["method"] == "POST" and r["path"] == "/version1/messaging"]

    def deliver(self, message_id: str, status: str = "Success", failure_reason: str | None = None,
                network_code: str = "64110", retry_count: int = 0, url: str | None = None) -> int:
        """POST a delivery report for an accepted message to ``url`` (default: dlr_url); returns the HTTP status."""
        target = url or self.dlr_url
        if not target:
            raise ValueError("no dlr_url to deliver to")
        with self._lock:
            found = next((m for m in self._messages if m["id"] == message_id), None)
        if found is None:
            raise KeyError(message_id)
        form = {"id": message_id, "status": status, "phoneNumber": found["to"], "networkCode": network_code,
                "retryCount": str(retry_count)}
        if failure_reason:
            form["failureReason"] = failure_reason
        return requests.post(target, data=form, timeout=10).status_code

    # -- the HTTP API -------------------------------------------------------------------------------

    def _build_app(self) -> Flask:
        app = Flask("sms_sandbox")
        app.add_url_rule("/version1/messaging", "send", self._send, methods=["POST"])
        app.add_url_rule("/version1/messaging", "fetch", self._fetch, methods=["GET"])
        app.add_url_rule("/sandbox/messages", "messages", self._list_messages, methods=["GET"])
        app.add_url_rule("/sandbox/deliver", "deliver", self._deliver, methods=["POST"])
        return app

    def _record_request(self) -> None:
        with self._lock:
            self._requests.append({"method": request.method, "path": request.path,
                                   "headers": dict(request.headers), "form": request.form.to_dict(),
                                   "args": request.args.to_dict(), "at": _now()})

    def _authorised(self) -> bool:
        if self.api_key is not None and request.headers.get("apiKey") != self.api_key:
            return False
        return self.username is None or request.values.get("username") == self.username

    def _send(self) -> Response:
        self._record_request()
        if not self._authorised():
            return Response(AUTH_ERROR, status=401, mimetype="text/plain")
        form = request.form
        with self._lock:
            b = self._behaviour
            if b.fail_next > 0 or (b.fail_rate and self._random.random() < b.fail_rate):
                self._behaviour = replace(b, fail_next=max(0, b.fail_next - 1))
                return Response("InternalServerError", status=500, mimetype="text/plain")
        numbers = [n.strip() for n in (form.get("to") or "").split(",") if n.strip()]
        text = form.get("message")
        if not form.get("username") or not numbers or text is None:
            return Response("username, to and message are required", status=400, mimetype="text/plain")
        sender = form.get("from")
        with self._lock:
            b = self._behaviour
            if sender is not None and b.sender_ids is not None and sender not in b.sender_ids:
                body: dict[str, Any] = {"SMSMessageData": {"Message": "InvalidSenderId", "Recipients": []}}
                return Response(json.dumps(body), status=200, content_type=b.content_type)
            recipients = [self._accept(number, text, sender) for number in numbers]
            slow = b.timeout_next > 0 or bool(b.timeout_rate and self._random.random() < b.timeout_rate)
            if b.timeout_next > 0:
                self._behaviour = replace(self._behaviour, timeout_next=b.timeout_next - 1)
            release, content_type, slow_seconds = self._release, b.content_type, b.slow_seconds
        sent = [r for r in recipients if r["statusCode"] in ACCEPTED_CODES]
        total = sum(r["messageParts"] for r in sent) * PRICE_PER_PART
        body = {"SMSMessageData": {
            "Message": f"Sent to {len(sent)}/{len(recipients)} Total Cost: UGX {total:.4f}",
            "Recipients": recipients,
        }}
        if slow:
            # Accepted and recorded above; the answer comes too late for the client (its read timeout).
            release.wait(slow_seconds)
        return Response(json.dumps(body), status=200, content_type=content_type)

    def _accept(self, number: str, text: str, sender: str | None) -> dict[str, Any]:
        """One recipient's entry (called under the lock); accepted ones are stored."""
        parts = count_segments(text).parts
        code = self._status_for(number)
        if code not in ACCEPTED_CODES:
            return {"statusCode": code, "number": number, "status": STATUS_NAMES.get(code, "Failed"),
                    "cost": "0", "messageId": "None", "messageParts": parts}
        b = self._behaviour
        message_id = b.message_ids.pop(0) if b.message_ids else "ATXid_" + uuid.uuid4().hex
        self._messages.append({"id": message_id, "to": number, "message": text, "parts": parts,
                               "received_at": _now(), "sender": sender})
        return {"statusCode": code, "number": number, "status": "Success", "cost": f"UGX {parts * PRICE_PER_PART:.4f}",
                "messageId": message_id, "messageParts": parts}

    def _status_for(self, number: str) -> int:
        matches = [suffix for suffix in self._behaviour.statuses if number.endswith(suffix)]
        if not matches:
            return 101
        return self._behaviour.statuses[max(matches, key=len)]  # the most specific suffix wins

    def _fetch(self) -> Response:
        """The inbox (GET /version1/messaging): the sandbox receives no incoming SMS, so always empty."""
        self._record_request()
        if not self._authorised():
            return Response(AUTH_ERROR, status=401, mimetype="text/plain")
        return jsonify({"SMSMessageData": {"Messages": []}})

    def _list_messages(self) -> Response:
        """For the phone simulator: {"messages": [...]} for ?phone= (all without it), newest last."""
        phone = (request.args.get("phone") or "").strip()
        if phone and not phone.startswith("+"):
            phone = "+" + phone  # an unencoded "+" in a query string arrives as a space
        return jsonify({"messages": self.messages(phone or None)})

    def _deliver(self) -> Response:
        """Make the sandbox post a delivery report: form id, status (default Success), failureReason, url."""
        message_id = (request.form.get("id") or "").strip()
        try:
            status = self.deliver(message_id, request.form.get("status") or "Success",
                                  request.form.get("failureReason"), url=request.form.get("url"))
        except KeyError:
            return jsonify({"error": "no such message"}), 404  # type: ignore[return-value]
        except (ValueError, requests.RequestException) as exc:
            return jsonify({"error": str(exc)}), 400  # type: ignore[return-value]
        return jsonify({"callback_status": status})


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A local Africa's Talking SMS API for development and tests.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9090)
    parser.add_argument("--api-key", default=None, help="the apiKey to require (default: accept any)")
    parser.add_argument("--username", default=None, help="the username to require (default: any)")
    parser.add_argument("--dlr-url", default=None, help="where POST /sandbox/deliver sends delivery reports")
    args = parser.parse_args(argv)
    server = SandboxServer(api_key=args.api_key, username=args.username, host=args.host, port=args.port,
                           dlr_url=args.dlr_url).start()
    print(f"SMS sandbox listening on {server.url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
