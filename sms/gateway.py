"""The SMS gateway: the official Africa's Talking SDK, built as an instance with our base URL and timeouts.

``Gateway.send(text, numbers)`` makes one API call and says what happened, in three shapes:

- it returns one ``RecipientResult`` per number the gateway answered for (accepted, retry, permanent);
- it raises ``NotAccepted`` when the call provably did not get through (refused, HTTP error, a body
  with no recipients): sending again cannot double a message;
- it raises ``UnknownOutcome`` when the request may have been accepted but we never saw the answer
  (read timeout, connection dropped after sending): sending again could double a message.
"""

from __future__ import annotations

import enum
import json
import logging
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import requests
from africastalking.Service import AfricasTalkingException, validate_phone
from africastalking.SMS import SMSService
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError

from settings import Settings

if TYPE_CHECKING:  # pragma: no cover
    from .runtime import Runtime

__all__ = [
    "Gateway",
    "ConfigurableSMSService",
    "RecipientResult",
    "Outcome",
    "NotAccepted",
    "UnknownOutcome",
    "GatewayNotConfigured",
    "STATUS_NAMES",
    "LOCAL_API_KEY",
    "is_sendable",
]

log = logging.getLogger("minerline.sms.gateway")

# The key the gateway uses with a local sandbox when no AT_API_KEY is set (the sandbox accepts it).
LOCAL_API_KEY = "local-sandbox"

# Recipient statusCode -> the name the gateway puts in `status` (reference section 2.5).
STATUS_NAMES: dict[int, str] = {
    100: "Processed",
    101: "Success",
    102: "Queued",
    401: "RiskHold",
    402: "InvalidSenderId",
    403: "InvalidPhoneNumber",
    404: "UnsupportedNumberType",
    405: "InsufficientBalance",
    406: "UserInBlacklist",
    407: "CouldNotRoute",
    409: "DoNotDisturbRejection",
    500: "InternalServerError",
    501: "GatewayError",
    502: "RejectedByGateway",
}
ACCEPTED_CODES = frozenset({100, 101, 102})
# Not accepted, and worth trying again later (balance topped up, route back, gateway recovered).
RETRYABLE_CODES = frozenset({405, 407, 500, 501, 502})
# Not accepted, and sending again would fail the same way (bad number, blacklisted, opted out).
PERMANENT_CODES = frozenset({401, 402, 403, 404, 406, 409})


class Outcome(str, enum.Enum):
    ACCEPTED = "accepted"
    RETRY = "retry"
    PERMANENT = "permanent"
    UNKNOWN = "unknown"  # an entry we could not read: treat like a timeout, never re-send blindly


class NotAccepted(Exception):
    """The gateway accepted nothing from this call; it is safe to try again later."""

    def __init__(self, reason: str, kind: str) -> None:
        super().__init__(reason)
        self.reason = reason[:200]
        self.kind = kind  # for logs and metrics: "connection", "http_error", "rejected"


class UnknownOutcome(Exception):
    """The request went out but no answer came back: the gateway may have accepted it."""


class GatewayNotConfigured(RuntimeError):
    """No API key and no local sandbox: there is nowhere to send."""


@dataclass(frozen=True)
class RecipientResult:
    """One entry of the response's ``Recipients``, as the gateway wrote it."""

    number: str
    status_code: int | None
    status: str
    message_id: str | None
    cost: str | None
    parts: int | None

    @property
    def outcome(self) -> Outcome:
        code = self.status_code
        if code is None:
            return Outcome.UNKNOWN
        if code in ACCEPTED_CODES:
            return Outcome.ACCEPTED
        if code in RETRYABLE_CODES:
            return Outcome.RETRY
        if code in PERMANENT_CODES:
            return Outcome.PERMANENT
        # A code we do not know was still not an acceptance: 5xx-like ones may pass, others will not.
        return Outcome.RETRY if code >= 500 else Outcome.PERMANENT


class ConfigurableSMSService(SMSService):
    """The SDK's SMSService whose host can be overridden (AT_API_URL, the local sandbox).

    The SDK has no public setting for its host; ``_init_service`` and ``_baseUrl`` are its only hooks
    (reference 4.3, 4.9 option A). ``tests/sms/test_gateway.py`` fails loudly if an upgrade renames them.
    """

    def __init__(self, username: str, api_key: str, base_url: str | None = None) -> None:
        self._override = base_url.rstrip("/") if base_url else None
        super().__init__(username, api_key)  # calls _init_service()

    def _init_service(self) -> None:
        super()._init_service()
        if self._override:
            self._baseUrl = self._override + "/version1"
            self._contentUrl = self._override + "/version1"

    @property
    def messaging_url(self) -> str:
        """Where ``send()`` posts."""
        return self._make_url("/messaging")


class Gateway:
    """Sends one text to up to 100 numbers per call and classifies the answer."""

    def __init__(self, service: ConfigurableSMSService, sender_id: str | None,
                 timeout: tuple[float, float]) -> None:
        self.service = service
        self.sender_id = sender_id
        self.timeout = timeout

    @classmethod
    def from_settings(cls, settings: Settings, base_url: str | None = None, api_key: str | None = None) -> Gateway:
        """A gateway for ``base_url`` (None: the SDK's own host) with the settings' username, key and timeouts."""
        key = api_key or settings.at_api_key
        if not key:
            raise GatewayNotConfigured("AT_API_KEY is not set")
        service = ConfigurableSMSService(settings.at_username, key, base_url=base_url)
        return cls(service, settings.at_sender_id, (settings.sms_connect_timeout, settings.sms_read_timeout))

    @classmethod
    def from_runtime(cls, runtime: Runtime) -> Gateway:
        """The process's gateway: AT_API_URL or the embedded sandbox, else the SDK's production/sandbox host.

        Without AT_API_KEY the gateway must be a local sandbox, which takes ``LOCAL_API_KEY``.
        """
        settings = runtime.settings
        base_url = runtime.gateway_url
        if settings.at_api_key:
            return cls.from_settings(settings, base_url)
        if not base_url:
            raise GatewayNotConfigured("no AT_API_KEY and no local sandbox: set AT_API_KEY or AT_API_URL")
        return cls.from_settings(settings, base_url, api_key=LOCAL_API_KEY)

    def send(self, text: str, numbers: list[str]) -> list[RecipientResult]:
        """One API call: ``text`` to E.164 ``numbers`` (at most 100, each once).

        Returns the recipients the gateway answered for. Raises NotAccepted or UnknownOutcome (see module doc).
        """
        try:
            body = self.service.send(text, list(numbers), sender_id=self.sender_id, timeout=self.timeout)
        except requests.exceptions.ReadTimeout as exc:
            raise UnknownOutcome("read timeout") from exc
        except requests.exceptions.ConnectionError as exc:
            if _never_connected(exc):
                raise NotAccepted(f"connection failed: {type(exc).__name__}", "connection") from exc
            raise UnknownOutcome(f"connection lost after sending: {type(exc).__name__}") from exc
        except AfricasTalkingException as exc:
            # Any non-2xx answer: the SDK keeps only the body, e.g. "The supplied authentication is invalid".
            raise NotAccepted(str(exc) or "HTTP error", "http_error") from exc
        return parse_response(body)


@lru_cache(maxsize=65536)  # a send job asks for each of its numbers; the SDK's check is a regular expression
def is_sendable(number: str) -> bool:
    """Would the SDK send to ``number``? It refuses anything but ``+`` and digits, before any request."""
    return bool(number) and validate_phone(number)


def _never_connected(exc: requests.exceptions.ConnectionError) -> bool:
    """True when the connection was never made (refused, DNS, connect timeout, TLS), so nothing was sent."""
    if isinstance(exc, (requests.exceptions.ConnectTimeout, requests.exceptions.SSLError,
                        requests.exceptions.ProxyError)):
        return True
    cause = exc.args[0] if exc.args else None
    if isinstance(cause, MaxRetryError):
        return isinstance(cause.reason, (NewConnectionError, ConnectTimeoutError))
    return False


def parse_response(body: Any) -> list[RecipientResult]:
    """The SDK's return value (a dict, or a str when the content type was not exactly application/json)."""
    if isinstance(body, str):
        # A JSON body with another content type still tells us what was accepted: never drop it.
        try:
            body = json.loads(body)
        except ValueError:
            raise NotAccepted(f"unexpected body: {body[:120]!r}", "rejected") from None
    data = body.get("SMSMessageData") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        raise NotAccepted("no SMSMessageData in the answer", "rejected")
    recipients = data.get("Recipients")
    if not recipients or not isinstance(recipients, list):
        # e.g. {"Message": "InvalidSenderId", "Recipients": []}: the whole call was refused.
        raise NotAccepted(str(data.get("Message") or "no recipients in the answer"), "rejected")
    return [_recipient(entry) for entry in recipients if isinstance(entry, dict)]


def _recipient(entry: dict) -> RecipientResult:
    code = _int(entry.get("statusCode"))
    message_id = entry.get("messageId")
    if message_id in (None, "", "None"):  # failures carry the string "None"
        message_id = None
    return RecipientResult(
        number=str(entry.get("number") or ""),
        status_code=code,
        status=str(entry.get("status") or STATUS_NAMES.get(code or 0, "")),
        message_id=str(message_id)[:64] if message_id else None,
        cost=str(entry["cost"])[:32] if entry.get("cost") is not None else None,
        parts=_int(entry.get("messageParts")),
    )


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
