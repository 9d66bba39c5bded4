"""What a caller who is not a member chose, keyed by a keyed hash of the number, never the number."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UtcDateTime, utcnow

__all__ = ["LanguageChoice", "phone_key"]


def phone_key(secret: str, phone: str, purpose: str) -> str:
    """HMAC-SHA256 of the number under ``secret``, separated by purpose so keys never join up."""
    return hmac.new(secret.encode(), f"{purpose}:{phone}".encode(), hashlib.sha256).hexdigest()


class LanguageChoice(Base):
    __tablename__ = "language_choices"

    phone_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    language: Mapped[str] = mapped_column(String(2))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)
