"""What a number received, read from the SMS sandbox (``GET /sandbox/messages``)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import requests

__all__ = ["Inbox", "fetch_inbox", "TIMEOUT"]

log = logging.getLogger("minerline.simulator")

# The page polls every 2 seconds: a sandbox that does not answer quickly is reported, not waited for.
TIMEOUT = (1.0, 2.0)

NOTE_NO_SANDBOX = "No SMS sandbox is running for this service, so no SMS can be shown."
NOTE_UNREACHABLE = "The SMS sandbox cannot be reached right now; trying again."


@dataclass(frozen=True)
class Inbox:
    messages: list[dict[str, Any]] = field(default_factory=list)  # newest first
    note: str | None = None

    def as_json(self, phone: str) -> dict[str, Any]:
        body: dict[str, Any] = {"phone": phone, "messages": self.messages}
        if self.note:
            body["note"] = self.note
        return body


def fetch_inbox(gateway_url: str | None, phone: str, http: Any = requests) -> Inbox:
    """The SMS the sandbox at ``gateway_url`` accepted for ``phone`` (``+256...``), newest first.

    Never raises for a sandbox that is missing, down or answering nonsense: the inbox is empty
    and ``note`` says why. ``http`` is anything with ``requests.get``'s signature (tests swap it).
    """
    if not gateway_url:
        return Inbox(note=NOTE_NO_SANDBOX)
    try:
        resp = http.get(gateway_url.rstrip("/") + "/sandbox/messages", params={"phone": phone}, timeout=TIMEOUT)
        resp.raise_for_status()
        received = resp.json()["messages"]
        messages = [_message(m) for m in reversed(received)]
    except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
        # The exception text would carry the URL and so the number: log its type only.
        log.warning("sandbox inbox unavailable: %s", type(exc).__name__)
        return Inbox(note=NOTE_UNREACHABLE)
    return Inbox(messages=messages)


def _message(m: dict[str, Any]) -> dict[str, Any]:
    return {"id": str(m["id"]), "text": str(m["message"]), "parts": int(m.get("parts") or 1),
            "received_at": str(m.get("received_at") or "")}
