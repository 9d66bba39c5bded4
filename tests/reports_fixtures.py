"""Fixtures shared by the wage and safety tests: cooperatives with sites in two districts."""

from __future__ import annotations

import pytest

from models import Cooperative, Site

# name -> (cooperative, district); the member fixture's default cooperative comes first.
SITES = {
    "Kitumbi": ("Kitumbi Women Miners", "Mubende"),
    "Lujinji B": ("Kitumbi Women Miners", "Mubende"),
    "Tiira": ("Tiira Gold Women", "Busia"),
}


@pytest.fixture
def sites(runtime):  # type: ignore[no-untyped-def]
    """Create the cooperatives and sites in SITES; returns site name -> id."""
    ids: dict[str, int] = {}
    with runtime.sessions() as db, db.begin():
        coops: dict[str, Cooperative] = {}
        for name, (coop_name, district) in SITES.items():
            coop = coops.get(coop_name)
            if coop is None:
                coop = Cooperative(name=coop_name, name_key=Cooperative.key_for(coop_name), district=district)
                db.add(coop)
                db.flush()
                coops[coop_name] = coop
            site = Site(cooperative_id=coop.id, name=name, name_key=name.casefold(), district=district)
            db.add(site)
            db.flush()
            ids[name] = site.id
    return ids
