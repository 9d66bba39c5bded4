"""``POST /ussd`` as a small WSGI layer in front of the Flask app.

Hops are nearly all of the service's traffic, and Flask's request context, cookie session,
routing, form parser and response object cost about as much CPU as the hop itself. This
layer answers exactly ``POST /ussd`` with a form-encoded body (what the gateway sends)
and hands everything else to Flask unchanged: other paths and methods, other content
types (Flask's ``/ussd`` view answers those through the same :func:`answer_hop`).

It keeps Flask's behaviour at the edge: the webhook token (403 with the same page), 400
with a reason for missing fields, ``text/plain`` answers with the ``at-ussd-hop-metadata``
header, and on an unexpected error the log line and 500 page Flask gives (or the
exception itself when the app propagates exceptions, as in tests).
"""

from __future__ import annotations

import hmac
import time
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping
from urllib.parse import unquote

from werkzeug.exceptions import ClientDisconnected, Forbidden, HTTPException, InternalServerError, RequestEntityTooLarge
from werkzeug.wsgi import get_input_stream

from . import metrics
from .hop import HopHandler
from .wire import WireError, parse_request

if TYPE_CHECKING:
    from flask import Flask

__all__ = ["UssdEndpoint", "answer_hop", "hop_handler", "token_matches", "WRONG_TOKEN", "PATH"]

PATH = "/ussd"
WRONG_TOKEN = "missing or wrong token"
_FORM = "application/x-www-form-urlencoded"
_STATUS = {200: "200 OK", 400: "400 BAD REQUEST"}
# A hop's form is a few hundred bytes; anything far larger is not the gateway.
MAX_BODY = 16 * 1024

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def hop_handler(app: "Flask") -> HopHandler:
    """The app's one ``HopHandler``, made on first use."""
    handler = app.extensions.get("minerline.hop")
    if handler is None:
        handler = HopHandler(app.extensions["minerline"], app.extensions["minerline.menus"],
                             app.extensions["minerline.catalogs"])
        app.extensions["minerline.hop"] = handler
    return handler


def answer_hop(handler: HopHandler, form: Mapping[str, str]) -> tuple[int, str, str]:
    """One gateway request's answer: ``(HTTP status, text/plain body, screen label or "")``."""
    started = time.perf_counter()
    try:
        req = parse_request(form)
    except WireError as exc:
        metrics.REQUESTS.labels(outcome="bad_request").inc()
        return 400, str(exc), ""
    answer = handler.handle(req)
    metrics.TALLY.hop(time.perf_counter() - started, "end" if answer.text.startswith("END ") else "con")
    return 200, answer.text, answer.screen[:99]


def _read_body(environ: dict[str, Any]) -> bytes:
    """The request body, as long as its Content-Length says (what the gateway sends), read from the
    server's stream until it is all there. A body cut short is Werkzeug's 400, as with its stream
    wrapper; one over MAX_BODY is 413. Without a Content-Length, through Werkzeug."""
    length = environ.get("CONTENT_LENGTH") or ""
    if not length.isdigit():
        return get_input_stream(environ, max_content_length=MAX_BODY).read()
    wanted = int(length)
    if wanted > MAX_BODY:
        raise RequestEntityTooLarge()
    stream, raw = environ["wsgi.input"], b""
    while len(raw) < wanted:
        chunk = stream.read(wanted - len(raw))
        if not chunk:
            raise ClientDisconnected()
        raw += chunk
    return raw


def _is_form(content_type: str | None) -> bool:
    # Only the plain spellings; anything else goes to Flask, which parses it as it always has.
    return content_type == _FORM or (content_type or "").startswith(_FORM + ";")


def _first_values(qs: str) -> dict[str, str]:
    """Parse a query string as Werkzeug does (``parse_qsl`` keeping blank values, invalid UTF-8
    left percent-encoded), keeping the first value of a repeated name.

    Like ``parse_qsl``, but a part with nothing encoded in it is taken as it is: half the fields
    of a hop need no decoding, and this runs on every one.
    """
    values: dict[str, str] = {}
    for part in qs.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        if "%" in name or "+" in name:
            name = _unquote(name)
        if name not in values:
            values[name] = _unquote(value) if "%" in value or "+" in value else value
    return values


def _unquote(value: str) -> str:
    """``unquote`` as Werkzeug calls it, with a short cut for the two escapes of nearly every hop:
    ``%2B`` (the ``+`` of a phone number) and ``%2A`` (the ``*`` between inputs)."""
    if "+" in value:
        value = value.replace("+", " ")
    if "%" not in value:
        return value
    quick = value.replace("%2A", "*").replace("%2B", "+").replace("%2a", "*").replace("%2b", "+")
    if "%" not in quick:
        return quick
    return unquote(value, errors="werkzeug.url_quote")


class UssdEndpoint:
    """WSGI middleware: ``app.wsgi_app = UssdEndpoint(app, app.wsgi_app, settings.webhook_token)``."""

    def __init__(self, app: "Flask", next_app: WSGIApp, webhook_token: str | None) -> None:
        self.app = app
        self.next_app = next_app
        self.token = webhook_token

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if (environ.get("PATH_INFO") != PATH or environ.get("REQUEST_METHOD") != "POST"
                or not _is_form(environ.get("CONTENT_TYPE"))):
            return self.next_app(environ, start_response)
        if self.token:
            query = environ.get("QUERY_STRING", "").encode("latin-1").decode(errors="replace")
            if not token_matches(self.token, _first_values(query).get("token", "")):
                return Forbidden(WRONG_TOKEN)(environ, start_response)
        try:
            raw = _read_body(environ)
        except HTTPException as exc:  # the client went away mid-body: Werkzeug's 400, as Flask answers
            return exc(environ, start_response)
        try:
            form = _first_values(raw.decode())
        except UnicodeDecodeError:
            form = {}  # as Flask: a body that is not UTF-8 is an empty form
        handler = hop_handler(self.app)
        try:
            status, text, screen = answer_hop(handler, form)
        except Exception:
            handler.settle()  # a session write already sent is read now, not left to the next hop
            if self._propagates():
                raise
            self.app.logger.error(f"Exception on {PATH} [POST]", exc_info=True)
            return InternalServerError()(environ, start_response)
        body = text.encode()
        headers = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))]
        if screen:
            headers.append(("at-ussd-hop-metadata", screen))
        start_response(_STATUS[status], headers)
        return _Answered(body, handler.settle)

    def _propagates(self) -> bool:
        """Flask's rule: exceptions reach the server (and tests) when testing or debugging."""
        propagate = self.app.config["PROPAGATE_EXCEPTIONS"]
        return bool(propagate if propagate is not None else (self.app.testing or self.app.debug))


class _Answered(list):
    """The answer's body, and once the server has written it (WSGI's ``close``), the hop's last
    Redis replies are read: they have arrived meanwhile, so reading them costs no wait."""

    def __init__(self, body: bytes, settle: Callable[[], None]) -> None:
        super().__init__((body,))
        self.close = settle


def token_matches(expected: str | None, given: str) -> bool:
    """True when no webhook token is set, or ``given`` is it (compared in constant time)."""
    return not expected or hmac.compare_digest(given.encode(), expected.encode())
