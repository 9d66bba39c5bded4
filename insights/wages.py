"""Daily-pay figures by role, site and month, with small groups hidden.

For each month: every role by every site (a report for "another place" counts under its
district's "other places"), with totals for all sites and all roles. A group's people are
the most different reporters on any one day (reporter hashes change daily, so that is what
can be known for sure); a group with fewer than 5 is hidden, and so is any report count
from which a hidden one could be worked out, with the pay figures of every hidden group.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Site, WageReport, WageRole
from models.wages import WageFigures, people_at_least, wage_figures

from .suppression import TOTAL, Cell, protect

__all__ = ["WageRow", "WageTable", "wage_tables", "ROLE_NAMES"]

ROLE_NAMES = {
    WageRole.PANNER.value: "Panner",
    WageRole.CRUSHER.value: "Crusher",
    WageRole.ORE_DRYER.value: "Ore dryer",
    WageRole.DIGGER.value: "Digger",
    WageRole.CARRIER.value: "Carrier",
    WageRole.TRADER_HELPER.value: "Trader's helper",
    WageRole.OTHER.value: "Other work",
}


@dataclass(frozen=True)
class WageRow:
    role: str  # a WageRole value, or TOTAL
    site: str  # "Site name (District)", "Other places (District)", or TOTAL
    reports: int | None  # None: hidden
    figures: WageFigures | None  # None: hidden


@dataclass(frozen=True)
class WageTable:
    month: str
    rows: list[WageRow]

    def row(self, role: str, site: str) -> WageRow:
        return next(r for r in self.rows if r.role == role and r.site == site)


def wage_tables(session: Session, since: date | None = None) -> list[WageTable]:
    query = (select(WageReport.day, WageReport.role, WageReport.district, Site.name, WageReport.reporter,
                    WageReport.amount)
             .outerjoin(Site, Site.id == WageReport.site_id))
    if since is not None:
        query = query.where(WageReport.day >= since)
    by_month: dict[str, list[tuple]] = {}
    for day, role, district, site_name, reporter, amount in session.execute(query):
        site = f"{site_name} ({district})" if site_name else f"Other places ({district})"
        by_month.setdefault(day.strftime("%Y-%m"), []).append((role, site, day, reporter, amount))
    return [_table(month, rows) for month, rows in sorted(by_month.items())]


def _table(month: str, reports: list[tuple]) -> WageTable:
    roles = [r.value for r in WageRole] + [TOTAL]
    sites = sorted({site for _, site, _, _, _ in reports}) + [TOTAL]
    groups: dict[tuple[str, str], list[tuple[date, str, int]]] = {(r, s): [] for r in roles for s in sites}
    for role, site, day, reporter, amount in reports:
        for key in ((role, site), (role, TOTAL), (TOTAL, site), (TOTAL, TOTAL)):
            groups[key].append((day, reporter, amount))
    cells = {key: Cell(count=len(rows), people=people_at_least((d, who) for d, who, _ in rows))
             for key, rows in groups.items()}
    hidden = protect(cells)
    rows = []
    for (role, site), group in groups.items():
        if (role, site) in hidden:
            rows.append(WageRow(role, site, None, None))
        elif group:  # groups nobody reported in are left out
            rows.append(WageRow(role, site, len(group), wage_figures(group)))
    return WageTable(month, rows)
