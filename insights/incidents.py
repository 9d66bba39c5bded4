"""Safety reports counted by category, district and month, with small cells hidden.

Reports are anonymous, so nobody can tell whether two came from one person: each report
counts as one person. Months are tables of their own and no figure spans months, so no
hidden cell can be worked out from another month's table.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Category, SafetyReport

from .suppression import TOTAL, Cell, protect

__all__ = ["IncidentTable", "incident_tables", "CATEGORY_NAMES"]

CATEGORY_NAMES = {
    Category.HARASSMENT.value: "Sexual harassment",
    Category.VIOLENCE.value: "Physical violence",
    Category.THREATS.value: "Threats",
    Category.PAY.value: "Pay withheld or cut",
    Category.FORCED.value: "Forced work",
    Category.CHILD.value: "A child working",
    Category.PIT.value: "Unsafe pit or shaft",
    Category.MERCURY.value: "Mercury or chemicals",
    Category.OTHER.value: "Something else",
}


@dataclass(frozen=True)
class IncidentTable:
    month: str  # YYYY-MM
    categories: list[str]  # rows, then TOTAL
    districts: list[str]  # columns, then TOTAL
    counts: dict[tuple[str, str], int | None]  # None: hidden

    def value(self, category: str, district: str) -> int | None:
        return self.counts[(category, district)]


def incident_tables(session: Session, since: date | None = None) -> list[IncidentTable]:
    """One table a month, oldest first: every category by every district that had a report."""
    query = select(SafetyReport.day, SafetyReport.category, SafetyReport.district)
    if since is not None:
        query = query.where(SafetyReport.day >= since)
    by_month: dict[str, Counter[tuple[str, str]]] = {}
    for day, category, district in session.execute(query):
        by_month.setdefault(day.strftime("%Y-%m"), Counter())[(category, district)] += 1
    return [_table(month, counts) for month, counts in sorted(by_month.items())]


def _table(month: str, counts: Counter[tuple[str, str]]) -> IncidentTable:
    categories = [c.value for c in Category] + [TOTAL]
    districts = sorted({d for _, d in counts}) + [TOTAL]
    full: dict[tuple[str, str], int] = {}
    for category in categories[:-1]:
        for district in districts[:-1]:
            full[(category, district)] = counts.get((category, district), 0)
        full[(category, TOTAL)] = sum(full[(category, d)] for d in districts[:-1])
    for district in districts:
        full[(TOTAL, district)] = sum(full[(c, district)] for c in categories[:-1])
    hidden = protect({key: Cell(count=n, people=n) for key, n in full.items()})
    return IncidentTable(month, categories, districts,
                         {key: (None if key in hidden else n) for key, n in full.items()})
