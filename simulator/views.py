"""The ``/simulator`` blueprint: the page, one USSD hop, and the inbox of a number."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request

from models import InvalidPhone, normalize_phone
from models.demo import DEMO_NUMBERS
from settings import Settings
from ussd.endpoint import hop_handler
from ussd.wire import UssdRequest, WireError, parse_request

from .inbox import fetch_inbox

__all__ = ["bp", "is_enabled", "hop_request", "spaced", "SESSION_PREFIX"]

bp = Blueprint("simulator", __name__, template_folder="templates", static_folder="static",
               static_url_path="/simulator/static")

# Simulator sessions never share an id with the gateway's (``ATUid_...``).
SESSION_PREFIX = "SIM_"
HOP_FIELDS = ("sessionId", "phoneNumber", "text")


def is_enabled(settings: Settings) -> bool:
    """Off when SMS go to the real Africa's Talking (an API key and no API URL override)."""
    return not (settings.at_api_key and settings.at_api_url is None)


@bp.before_request
def _only_off_production() -> None:
    if not is_enabled(current_app.extensions["minerline"].settings):
        abort(404)


def spaced(number: str) -> str:
    """``+256700000009`` as ``+256 700 000 009``, for reading (the page's script does the same)."""
    m = re.fullmatch(r"\+256(\d{3})(\d{3})(\d{3})", number)
    return f"+256 {m[1]} {m[2]} {m[3]}" if m else number


def _bad(reason: str) -> tuple[Response, int]:
    return jsonify({"error": reason}), 400


@bp.get("/simulator")
def page() -> str:
    settings = current_app.extensions["minerline"].settings
    numbers = [(number, spaced(number), who) for number, who in DEMO_NUMBERS]
    return render_template("simulator/phone.html", service_code=settings.service_code, demo_numbers=numbers)


def hop_request(body: object, service_code: str) -> UssdRequest:
    """The page's JSON {sessionId, phoneNumber, text} as the gateway's request; ValueError says what is wrong."""
    if not isinstance(body, dict) or not all(isinstance(body.get(k, ""), str) for k in HOP_FIELDS):
        raise WireError("send JSON with sessionId, phoneNumber and text as strings")
    if not body.get("sessionId", "").startswith(SESSION_PREFIX):
        raise WireError(f"sessionId must start with {SESSION_PREFIX}")
    return parse_request({"sessionId": body["sessionId"], "phoneNumber": normalize_phone(body.get("phoneNumber", "")),
                          "serviceCode": service_code, "text": body.get("text", "")})


@bp.post("/simulator/hop")
def hop() -> Any:
    """One USSD hop through the same handler as ``/ussd``, without HTTP or the webhook token."""
    try:
        req = hop_request(request.get_json(silent=True), current_app.extensions["minerline"].settings.service_code)
    except ValueError as exc:  # WireError, InvalidPhone
        return _bad(str(exc))
    handler = hop_handler(current_app)  # type: ignore[arg-type]
    answer = handler.handle(req)
    handler.settle()  # the session is written before the page asks for the next screen
    return jsonify({"text": answer.text})


@bp.get("/simulator/inbox")
def inbox() -> Any:
    """The SMS the sandbox accepted for ``?phone=``, newest first; 400 for a number that is not Ugandan."""
    try:
        phone = normalize_phone(request.args.get("phone", ""))
    except InvalidPhone as exc:
        return _bad(str(exc))
    runtime = current_app.extensions["minerline"]
    return jsonify(fetch_inbox(runtime.gateway_url, phone).as_json(phone))
