"""Choosing where: a member picks one of her cooperative's sites; anyone else picks a
district from a short list, then one of its known sites or "another place".

Wages and safety each have their own pair of screens (safety's are sensitive), built
from the classes here. The choice lands in the params as ``site`` (an id or None),
``place`` (what to call it on screen) and ``district``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, Sequence

from gsm7 import GSM7_BASIC, to_gsm7

from .catalog import N_, Translator
from .common import MSG_CHOOSE
from .engine import Ctx, Go, Outcome, Screen, Stay, View

__all__ = ["Place", "PlacesData", "DISTRICTS", "OTHER_DISTRICT", "SitePick", "DistrictPick", "start_place",
           "short_name", "place_label", "district_label", "MAX_SITES"]

# Gold districts named in the domain reference (sections 6.3, 7.2, 7.3); "Another district" follows them.
DISTRICTS = ("Mubende", "Kassanda", "Busia", "Namayingo", "Buhweju", "Moroto", "Amudat")
OTHER_DISTRICT = "Other"
MAX_SITES = 12  # more than this are not listed; the caller picks "another place"
NAME_CHARS = 22  # a site name on screen; the longest a record holds is 120

MSG_WHICH_SITE = N_("Where do you work?")
MSG_WHICH_DISTRICT = N_("Which district?")
MSG_OTHER_PLACE = N_("Another place")
MSG_OTHER_DISTRICT = N_("Another district")


@dataclass(frozen=True)
class Place:
    site_id: int
    name: str
    district: str


class PlacesData(Protocol):
    def member_sites(self, member_id: int) -> Sequence[Place]:
        """The sites of the member's cooperative, by name."""

    def district_sites(self, district: str) -> Sequence[Place]:
        """Known sites in a district, by name."""


class _NoPlaces:
    """When the engine runs without an edge (tests, previews): no sites are known."""

    def member_sites(self, member_id: int) -> Sequence[Place]:
        return ()

    def district_sites(self, district: str) -> Sequence[Place]:
        return ()


def _places(ctx: Ctx) -> PlacesData:
    return ctx.data.places if ctx.data is not None else _NoPlaces()


def short_name(name: str) -> str:
    """A name from a record as a screen can show it: plain GSM-7, at most NAME_CHARS long."""
    plain = "".join(ch for ch in to_gsm7(name) if ch in GSM7_BASIC)
    name = " ".join(plain.split())
    return name[:NAME_CHARS].rstrip()


def start_place(ctx: Ctx, flow: str, params: dict[str, Any]) -> Go:
    """Where the place questions begin: a member's sites, else the district list."""
    if ctx.caller.is_member:
        return Go(f"{flow}.site", params)
    return Go(f"{flow}.district", params)


def district_label(t: Translator, district: str) -> str:
    return t(MSG_OTHER_DISTRICT) if district == OTHER_DISTRICT else short_name(district)


def place_label(ctx: Ctx, params: dict[str, Any]) -> str:
    """The chosen place as the caller should read it: the site's short name, else the district."""
    if params.get("site") is None:
        return district_label(ctx.t, str(params.get("district") or ""))
    return str(params.get("place") or "")


def _drop_place(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if k not in ("site", "place", "district", "in")}


class SitePick(Screen):
    """Sites to choose from: the member's cooperative's (``in`` unset) or a district's."""

    flow: ClassVar[str]
    after: ClassVar[str]  # the screen that follows the place
    prompt: ClassVar[str] = MSG_WHICH_SITE

    def _sites(self, ctx: Ctx, params: dict[str, Any]) -> Sequence[Place]:
        if params.get("in") is not None:
            return list(_places(ctx).district_sites(params["in"]))[:MAX_SITES]
        if ctx.caller.member_id is None:
            return ()
        return list(_places(ctx).member_sites(ctx.caller.member_id))[:MAX_SITES]

    def enter(self, ctx: Ctx, params: dict[str, Any]) -> Outcome | None:
        if self._sites(ctx, params):
            return None
        if params.get("in") is None:
            return Go(f"{self.flow}.district", params)  # no sites known for the cooperative
        district = params["in"]
        return Go(self.after, {**_drop_place(params), "site": None, "place": district, "district": district})

    def view(self, ctx: Ctx, params: dict[str, Any]) -> View:
        sites = self._sites(ctx, params)
        options = [(str(n), short_name(s.name)) for n, s in enumerate(sites, start=1)]
        options.append((str(len(sites) + 1), ctx.t(MSG_OTHER_PLACE)))
        return View(text=ctx.t(self.prompt), options=options)

    def handle(self, ctx: Ctx, params: dict[str, Any], choice: str) -> Outcome:
        sites = self._sites(ctx, params)
        if not (choice.isascii() and choice.isdigit()) or not 1 <= int(choice) <= len(sites) + 1:
            return Stay(MSG_CHOOSE)
        n = int(choice)
        rest = _drop_place(params)
        if n <= len(sites):
            site = sites[n - 1]
            return Go(self.after, {**rest, "site": site.site_id, "place": short_name(site.name),
                                   "district": site.district})
        if params.get("in") is None:
            return Go(f"{self.flow}.district", rest)
        district = params["in"]
        return Go(self.after, {**rest, "site": None, "place": district, "district": district})


class DistrictPick(Screen):
    flow: ClassVar[str]

    def view(self, ctx: Ctx, params: dict[str, Any]) -> View:
        options = [(str(n), name) for n, name in enumerate(DISTRICTS, start=1)]
        options.append((str(len(DISTRICTS) + 1), ctx.t(MSG_OTHER_DISTRICT)))
        return View(text=ctx.t(MSG_WHICH_DISTRICT), options=options)

    def handle(self, ctx: Ctx, params: dict[str, Any], choice: str) -> Outcome:
        if not (choice.isascii() and choice.isdigit()) or not 1 <= int(choice) <= len(DISTRICTS) + 1:
            return Stay(MSG_CHOOSE)
        n = int(choice)
        district = DISTRICTS[n - 1] if n <= len(DISTRICTS) else OTHER_DISTRICT
        return Go(f"{self.flow}.site", {**_drop_place(params), "in": district})
