"""Stand-ins for the wage and safety screens' data ports, with the longest data they can show."""

from __future__ import annotations

from menus.places import MAX_SITES, Place
from menus.safety import Lookup
from menus.wages import MAX_AMOUNT, Earnings, Figures

LONG_SITE = "S" * 120  # the longest name a site record can hold
LONG_DISTRICT = "D" * 80  # and the longest district
BIG_COUNT = 99_999


class FakePlaces:
    def __init__(self, sites: int = MAX_SITES) -> None:
        self.sites = sites

    def member_sites(self, member_id):
        return [Place(n, LONG_SITE, LONG_DISTRICT) for n in range(1, self.sites + 1)]

    def district_sites(self, district):
        return [Place(n, LONG_SITE, district) for n in range(1, self.sites + 1)]


class FakeWages:
    """The site has too few reports, so the longest text is shown: the district's, with a trend."""

    def __init__(self, scope: str = "district", before: bool = True) -> None:
        self.scope, self.before = scope, before

    def earnings(self, role, site_id, district):
        if self.scope == "none":
            return Earnings("none")
        figures = Figures(MAX_AMOUNT, MAX_AMOUNT, MAX_AMOUNT, BIG_COUNT, BIG_COUNT)
        earlier = Figures(MAX_AMOUNT - 100, MAX_AMOUNT, MAX_AMOUNT, BIG_COUNT, BIG_COUNT) if self.before else None
        return Earnings(self.scope, figures, earlier)


class FakeSafety:
    def __init__(self, status: str = "received", has_contact: bool = False, limited: bool = False,
                 blocked: bool = False) -> None:
        self.status, self.has_contact, self.limited, self.blocked = status, has_contact, limited, blocked

    def new_code(self):
        return None if self.limited else "98765432"

    def lookup(self, code):
        if self.blocked:
            return Lookup(blocked=True)
        if code == "98765432":
            return Lookup(blocked=False, status=self.status, has_contact=self.has_contact)
        return Lookup(blocked=False)
