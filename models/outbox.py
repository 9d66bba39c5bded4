"""The SMS outbox: every outgoing message is a row before it is queued."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint, literal_column, text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UtcDateTime, utcnow

__all__ = ["OutboxMessage", "OutboxStatus", "DeliveryReport", "FINAL_STATUSES", "UNKNOWN_LITERAL"]


class OutboxStatus(str, enum.Enum):
    PENDING = "pending"      # waiting to be sent (first time or after a retryable failure)
    SENDING = "sending"      # claimed by a worker under a lease
    UNKNOWN = "unknown"      # the gateway may have accepted it; waiting for a delivery report
    ACCEPTED = "accepted"    # the gateway took it (statusCode 100-102)
    DELIVERED = "delivered"  # a delivery report said Success
    FAILED = "failed"        # permanent failure, or retries ran out
    SKIPPED = "skipped"      # not sent on purpose (opted out)


FINAL_STATUSES = frozenset({OutboxStatus.DELIVERED, OutboxStatus.FAILED, OutboxStatus.SKIPPED})

# The condition of the partial index below. A query that wants ix_outbox_unknown_phone compares
# status with UNKNOWN_LITERAL, not a bound parameter: SQLite plans before it sees parameters.
_UNKNOWN = text(f"status = '{OutboxStatus.UNKNOWN.value}'")
UNKNOWN_LITERAL = literal_column(f"'{OutboxStatus.UNKNOWN.value}'")


class OutboxMessage(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status_next", "status", "next_attempt_at"),
        # A delivery report's row: by number, then message id (sms.callbacks). Not an index on message
        # ids: they come back during the send, in random order, and each call of 100 would write 100
        # of its pages (migration 0006). A number is written once, when the message is queued.
        Index("ix_outbox_phone", "phone"),
        # Partial: a send writes every row twice, and this lookup only wants unknown rows (migration
        # 0005). Queries must name the condition as written here (status = 'unknown' as a literal,
        # see UNKNOWN_LITERAL) for SQLite to use it.
        Index("ix_outbox_unknown_phone", "phone", sqlite_where=_UNKNOWN, postgresql_where=_UNKNOWN),
        # The retention sweep looks for rows not yet redacted, oldest first.
        Index("ix_outbox_retention", "redacted_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # E.164 while the message is needed; replaced by its keyed hash after retention.
    phone: Mapped[str] = mapped_column(String(64))
    text: Mapped[str | None] = mapped_column(Text)
    purpose: Mapped[str] = mapped_column(String(32))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    # Makes a doubled request create one message (e.g. a USSD session id and hop).
    idempotency_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    status: Mapped[OutboxStatus] = mapped_column(
        Enum(OutboxStatus, name="outbox_status", native_enum=False, length=16,
             values_callable=lambda e: [m.value for m in e]),
        default=OutboxStatus.PENDING,
    )
    parts: Mapped[int] = mapped_column(Integer, default=1)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    claim_token: Mapped[str | None] = mapped_column(String(36))
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # When the outcome became unknown (read timeout or an expired lease).
    unknown_since: Mapped[datetime | None] = mapped_column(UtcDateTime())
    at_message_id: Mapped[str | None] = mapped_column(String(64))
    at_status_code: Mapped[int | None] = mapped_column(Integer)
    at_status: Mapped[str | None] = mapped_column(String(48))
    cost: Mapped[str | None] = mapped_column(String(32))  # as the gateway wrote it, e.g. "UGX 27.0000"
    delivery_status: Mapped[str | None] = mapped_column(String(32))
    failure_reason: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)
    redacted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class DeliveryReport(Base):
    """Every delivery report as received, once per (message id, status)."""

    __tablename__ = "delivery_reports"
    __table_args__ = (UniqueConstraint("message_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(32))
    phone: Mapped[str | None] = mapped_column(String(64))
    network_code: Mapped[str | None] = mapped_column(String(16))
    failure_reason: Mapped[str | None] = mapped_column(String(64))
    retry_count: Mapped[int | None] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"), index=True)
