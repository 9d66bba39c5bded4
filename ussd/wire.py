"""The Africa's Talking USSD wire format."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

__all__ = ["UssdRequest", "parse_request", "new_input", "WireError"]


class WireError(ValueError):
    pass


@dataclass(frozen=True)
class UssdRequest:
    session_id: str
    service_code: str
    phone: str
    network_code: str
    text: str


def parse_request(form: Mapping[str, str]) -> UssdRequest:
    """Read the gateway's form fields; raise WireError naming every missing one."""
    missing = [name for name in ("sessionId", "phoneNumber") if not (form.get(name) or "").strip()]
    if missing:
        raise WireError("missing field(s): " + ", ".join(missing))
    session_id = form["sessionId"].strip()
    if len(session_id) > 128:
        raise WireError("sessionId is too long")
    return UssdRequest(
        session_id=session_id,
        service_code=(form.get("serviceCode") or "").strip(),
        phone=form["phoneNumber"].strip(),
        network_code=(form.get("networkCode") or "").strip(),
        text=form.get("text") or "",
    )


def new_input(text: str, prev_len: int) -> str:
    """What the user typed this hop: what follows the previous ``text`` and its ``*`` separator.

    Not the last ``*``-field, so a ``*`` typed by the user is kept.
    """
    if prev_len == 0:
        return text
    return text[prev_len + 1 :]
