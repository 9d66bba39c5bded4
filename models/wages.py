"""Pseudonymous daily-pay reports, and the figures drawn from them.

A report keeps role, place, pay form, amount, whether it was paid in full, the day and
gender if given. ``reporter`` is a keyed hash of the phone under a key that changes every
day and lives only in Redis: one person counts once per role, place and day, and nobody
can link one person's reports across days. No timestamp finer than the day is kept.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Iterable, Sequence

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base

__all__ = [
    "WageReport",
    "WageRole",
    "PayForm",
    "WageFigures",
    "MIN_PEOPLE",
    "people_at_least",
    "wage_figures",
    "place_key",
    "round_shillings",
]

# Every figure shown anywhere is hidden when fewer people than this are behind it.
MIN_PEOPLE = 5


class WageRole(str, enum.Enum):
    PANNER = "panner"
    CRUSHER = "crusher"
    ORE_DRYER = "ore_dryer"
    DIGGER = "digger"
    CARRIER = "carrier"
    TRADER_HELPER = "trader_helper"
    OTHER = "other"


class PayForm(str, enum.Enum):
    DAY = "day"
    SACK = "sack"  # by the sack or basin
    ORE_SHARE = "ore_share"


def place_key(site_id: int | None, district: str) -> str:
    """What "the same site" means for counting a person once: the site, else the district."""
    return f"s:{site_id}" if site_id is not None else f"d:{district.casefold()}"[:96]


class WageReport(Base):
    __tablename__ = "wage_reports"
    __table_args__ = (
        # One person counts once per role, place and day: a second report replaces the first.
        UniqueConstraint("day", "role", "place", "reporter", name="uq_wage_reports_once_a_day"),
        Index("ix_wage_reports_role_district_day", "role", "district", "day"),
        CheckConstraint("amount > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reporter: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    district: Mapped[str] = mapped_column(String(80))
    place: Mapped[str] = mapped_column(String(96))
    pay_form: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(Integer)  # whole shillings for the day's work
    paid_full: Mapped[bool] = mapped_column(Boolean)
    gender: Mapped[str | None] = mapped_column(String(8))
    day: Mapped[date] = mapped_column(Date)


@dataclass(frozen=True)
class WageFigures:
    """Daily pay of a group, in whole shillings rounded to the nearest 100."""

    median: int
    low: int  # the middle half runs from ``low`` ...
    high: int  # ... to ``high`` (lower and upper quartiles)
    reports: int
    people: int  # at least this many different people


def people_at_least(rows: Iterable[tuple[date, str]]) -> int:
    """How many different people are surely behind ``(day, reporter)`` rows.

    Reporter hashes change every day, so two days' reports may be the same person: the
    most different reporters on any one day is the number we can be sure of.
    """
    by_day: dict[date, set[str]] = {}
    for day, reporter in rows:
        by_day.setdefault(day, set()).add(reporter)
    return max((len(who) for who in by_day.values()), default=0)


def _quantile(ordered: Sequence[int], q: Fraction) -> Fraction:
    """Linear interpolation between closest ranks (the "inclusive" method), exactly."""
    position = (len(ordered) - 1) * q
    below = int(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def round_shillings(amount: Fraction | int, step: int = 100) -> int:
    """To the nearest ``step`` shillings, halves up; integers throughout."""
    value = Fraction(amount)
    return int((value + Fraction(step, 2)) // step) * step


def wage_figures(rows: Sequence[tuple[date, str, int]], min_people: int = MIN_PEOPLE) -> WageFigures | None:
    """Median and middle half of ``(day, reporter, amount)`` rows, or None when too few people."""
    people = people_at_least((day, reporter) for day, reporter, _ in rows)
    if people < min_people:
        return None
    ordered = sorted(amount for _, _, amount in rows)
    return WageFigures(
        median=round_shillings(_quantile(ordered, Fraction(1, 2))),
        low=round_shillings(_quantile(ordered, Fraction(1, 4))),
        high=round_shillings(_quantile(ordered, Fraction(3, 4))),
        reports=len(ordered),
        people=people,
    )
