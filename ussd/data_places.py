"""Sites to choose from, read from the database: one query a hop, however often a screen asks."""

from __future__ import annotations

from typing import Sequence

from sqlalchemy import func, select

from menus.places import DISTRICTS, MAX_SITES, OTHER_DISTRICT, Place
from models import Cooperative, Member, Site

from .data import HopData

__all__ = ["PlacesPort", "canonical_district"]


def canonical_district(name: str) -> str:
    """A district as the menus list it, whatever the case or spacing in a member record."""
    cleaned = " ".join(name.split())
    return next((d for d in DISTRICTS if d.casefold() == cleaned.casefold()), cleaned or OTHER_DISTRICT)


class PlacesPort:
    def __init__(self, hop: HopData) -> None:
        self.hop = hop
        self._memo: dict[tuple[str, object], tuple[Place, ...]] = {}

    def member_sites(self, member_id: int) -> Sequence[Place]:
        key = ("member", member_id)
        if key not in self._memo:
            district = func.coalesce(Site.district, Cooperative.district, OTHER_DISTRICT)
            rows = self.hop.db.execute(
                select(Site.id, Site.name, district)
                .join(Cooperative, Cooperative.id == Site.cooperative_id)
                .join(Member, Member.cooperative_id == Cooperative.id)
                .where(Member.id == member_id)
                .order_by(Site.name, Site.id)
                .limit(MAX_SITES)
            )
            self._memo[key] = tuple(Place(site_id, name, canonical_district(d)) for site_id, name, d in rows)
        return self._memo[key]

    def district_sites(self, district: str) -> Sequence[Place]:
        key = ("district", district)
        if key not in self._memo:
            site_district = func.coalesce(Site.district, Cooperative.district)
            rows = self.hop.db.execute(
                select(Site.id, Site.name)
                .join(Cooperative, Cooperative.id == Site.cooperative_id)
                .where(func.lower(site_district) == district.lower())
                .order_by(Site.name, Site.id)
                .limit(MAX_SITES)
            )
            self._memo[key] = tuple(Place(site_id, name, district) for site_id, name in rows)
        return self._memo[key]
