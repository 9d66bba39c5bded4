"""SMS metrics. Labels are fixed small sets: never a phone number, a message id or a text."""

from __future__ import annotations

from prometheus_client import Counter

__all__ = ["MESSAGES", "API_CALLS", "DELIVERY_REPORTS", "MESSAGE_STATUSES", "count_messages"]

MESSAGE_STATUSES = ("accepted", "failed", "retry", "unknown", "skipped", "delivered")

MESSAGES = Counter(
    "minerline_sms_messages_total",
    "Outbox messages by what happened to them (retry: back to pending for another attempt)",
    ["status"],
)
API_CALLS = Counter(
    "minerline_sms_api_calls_total",
    "Calls to the SMS API by outcome (answered, not_accepted, unknown)",
    ["outcome"],
)
DELIVERY_REPORTS = Counter(
    "minerline_sms_delivery_reports_total",
    "Delivery reports received (new, repeat, matched, unmatched)",
    ["result"],
)


def count_messages(status: str, n: int = 1) -> None:
    """Add ``n`` to the message counter for one of MESSAGE_STATUSES."""
    if status not in MESSAGE_STATUSES:  # pragma: no cover - a programming error, not data
        raise ValueError(f"unknown message status label {status!r}")
    if n:
        MESSAGES.labels(status=status).inc(n)
