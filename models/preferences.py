"""What a caller who is not a member chose, keyed by a keyed hash of the number, never the number."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from functools import lru_cache

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UtcDateTime, utcnow

__all__ = ["LanguageChoice", "phone_key"]


def phone_key(secret: str, phone: str, purpose: str) -> str:
    """HMAC-SHA256 of the number under ``secret``, separated by purpose so keys never join up."""
    mac = _keyed(secret, purpose).copy()  # the same digest as hmac.new(key, f"{purpose}:{phone}"), sooner
    mac.update(phone.encode())
    return mac.hexdigest()


@lru_cache(maxsize=64)
def _keyed(secret: str, purpose: str) -> hmac.HMAC:
    """An HMAC with the key and the purpose's prefix already taken in (copied for every number: a USSD
    hop makes one or two keys, and setting up the key each time costs more than the rest)."""
    return hmac.new(secret.encode(), f"{purpose}:".encode(), hashlib.sha256)


class LanguageChoice(Base):
    __tablename__ = "language_choices"

    phone_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    language: Mapped[str] = mapped_column(String(2))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)
