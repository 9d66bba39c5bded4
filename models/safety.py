"""Anonymous safety reports.

A report stores what happened, where (district, site if given), roughly when, and the day
it was made: no phone number, no session id, no network code, no time finer than the day,
and nothing about the member who made it. Its reference code is random and stored only as
a keyed hash. Free text (descriptions, added details) and the optional contact-back
details are sealed with AES-GCM; the contact sits in its own table, found only by a keyed
hash of the code, so the report row does not point at it. Abuse limits count by a keyed
hash of the phone under a key that rotates daily and lives only in Redis.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import os
import secrets
from datetime import date

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Date, ForeignKey, Integer, PrimaryKeyConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base

__all__ = [
    "SafetyReport",
    "SafetyNote",
    "SafetyContact",
    "SafetyLimit",
    "ReportStatus",
    "Category",
    "Sealer",
    "SealError",
    "code_hash",
    "contact_lookup",
    "new_row_id",
]


class ReportStatus(str, enum.Enum):
    RECEIVED = "received"
    FOLLOWING_UP = "following_up"
    CLOSED = "closed"


class Category(str, enum.Enum):
    HARASSMENT = "harassment"
    VIOLENCE = "violence"
    THREATS = "threats"
    PAY = "pay"  # pay withheld or cut
    FORCED = "forced"  # forced work
    CHILD = "child"  # a child working
    PIT = "pit"  # an unsafe pit or shaft
    MERCURY = "mercury"  # mercury or chemical exposure
    OTHER = "other"


def new_row_id() -> str:
    """Random ids, so the order of rows says nothing about when a report came in."""
    return secrets.token_hex(16)


def code_hash(secret: str, code: str) -> str:
    """A report's reference code as stored: a keyed hash, so a copy of the table gives no codes."""
    return hmac.new(secret.encode(), f"safety-code:{code}".encode(), hashlib.sha256).hexdigest()


def contact_lookup(secret: str, code: str) -> str:
    """Where a contact-back request is found from its report's code (and deleted by it)."""
    return hmac.new(secret.encode(), f"safety-contact:{code}".encode(), hashlib.sha256).hexdigest()


class SafetyReport(Base):
    __tablename__ = "safety_reports"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_row_id)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    category: Mapped[str] = mapped_column(String(16))
    witness: Mapped[bool] = mapped_column()  # True: they saw it happen to someone else
    district: Mapped[str] = mapped_column(String(80))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    happened: Mapped[str] = mapped_column(String(8))  # today, week, earlier
    ongoing: Mapped[str] = mapped_column(String(8))  # yes, no, unsure
    description: Mapped[str | None] = mapped_column(Text)  # sealed
    status: Mapped[str] = mapped_column(String(16), default=ReportStatus.RECEIVED.value)
    day: Mapped[date] = mapped_column(Date, index=True)  # the day it was made; never a time


class SafetyNote(Base):
    """Details added later with the code."""

    __tablename__ = "safety_notes"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_row_id)
    report_id: Mapped[str] = mapped_column(ForeignKey("safety_reports.id", ondelete="CASCADE"), index=True)
    body: Mapped[str] = mapped_column(Text)  # sealed
    day: Mapped[date] = mapped_column(Date)


class SafetyContact(Base):
    """A reporter's explicit request to be contacted back, sealed, apart from the report."""

    __tablename__ = "safety_contacts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_row_id)
    lookup: Mapped[str] = mapped_column(String(64), unique=True)
    sealed: Mapped[str] = mapped_column(Text)  # the code, the number and when it is safe to call
    day: Mapped[date] = mapped_column(Date)


class SafetyLimit(Base):
    """Per phone and day, under a daily key kept only in Redis: reports made, code look-ups that failed."""

    __tablename__ = "safety_limits"
    __table_args__ = (PrimaryKeyConstraint("key", "day"),)

    key: Mapped[str] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(Date)
    reports: Mapped[int] = mapped_column(Integer, default=0)
    failed_lookups: Mapped[int] = mapped_column(Integer, default=0)


class SealError(ValueError):
    pass


class Sealer:
    """AES-256-GCM with a key derived from the service secret.

    Not Fernet: a Fernet token carries the time it was made, to the second, and a report
    may keep no time finer than the day. ``purpose`` is bound to the text, so a sealed
    contact cannot be passed off as a description.
    """

    PREFIX = "v1."

    def __init__(self, secret: str) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                   info=b"minerline safety seal v1").derive(secret.encode())
        self._aead = AESGCM(key)

    def seal(self, text: str, purpose: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, text.encode("utf-8"), purpose.encode())
        return self.PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")

    def open(self, token: str, purpose: str) -> str:
        if not token.startswith(self.PREFIX):
            raise SealError("not a sealed value")
        raw = base64.urlsafe_b64decode(token[len(self.PREFIX):].encode("ascii"))
        try:
            return self._aead.decrypt(raw[:12], raw[12:], purpose.encode()).decode("utf-8")
        except InvalidTag as exc:
            raise SealError("wrong key or purpose, or the value was changed") from exc
