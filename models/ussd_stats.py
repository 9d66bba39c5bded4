"""What the end-of-session notification tells us, reduced to counts: no number, no input."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base

__all__ = ["UssdSessionStat"]


class UssdSessionStat(Base):
    __tablename__ = "ussd_session_stats"
    __table_args__ = (UniqueConstraint("day", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    sessions: Mapped[int] = mapped_column(Integer, default=0)
    hops: Mapped[int] = mapped_column(Integer, default=0)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
