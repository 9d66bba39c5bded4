"""What others earn, read from the database: one query gives the site's and the district's figures."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from menus.wages import Earnings, Figures
from models import WageReport
from models.wages import WageFigures, wage_figures

from .data import HopData

__all__ = ["WagesPort", "WINDOW_DAYS"]

WINDOW_DAYS = 30


def _figures(found: WageFigures | None) -> Figures | None:
    if found is None:
        return None
    return Figures(median=found.median, low=found.low, high=found.high, reports=found.reports,
                   people=found.people)


class WagesPort:
    def __init__(self, hop: HopData) -> None:
        self.hop = hop
        self._memo: dict[tuple[str, int | None, str], Earnings] = {}

    def earnings(self, role: str, site_id: int | None, district: str) -> Earnings:
        key = (role, site_id, district)
        if key not in self._memo:
            self._memo[key] = self._earnings(role, site_id, district)
        return self._memo[key]

    def _earnings(self, role: str, site_id: int | None, district: str) -> Earnings:
        today = self.hop.today
        start = today - timedelta(days=2 * WINDOW_DAYS - 1)
        split = today - timedelta(days=WINDOW_DAYS - 1)  # the first day of the last 30
        rows = self.hop.db.execute(
            select(WageReport.site_id, WageReport.day, WageReport.reporter, WageReport.amount)
            .where(WageReport.role == role, WageReport.district == district,
                   WageReport.day >= start, WageReport.day <= today)
        ).all()

        def window(at_site: bool, recent: bool) -> list[tuple]:
            return [(day, who, amount) for site, day, who, amount in rows
                    if (not at_site or site == site_id) and (day >= split) == recent]

        if site_id is not None:
            now = wage_figures(window(True, True))
            if now is not None:
                return Earnings("site", _figures(now), _figures(wage_figures(window(True, False))))
        now = wage_figures(window(False, True))
        if now is None:
            return Earnings("none")
        return Earnings("district", _figures(now), _figures(wage_figures(window(False, False))))
