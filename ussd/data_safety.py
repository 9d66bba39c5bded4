"""The safety screens' data: a fresh reference code, and a look-up by code limited against guessing.

Limits count per phone and day under a keyed hash whose key rotates daily and lives only
in Redis (``ussd.daily_keys``); each read here is one query, so a hop stays within budget.
"""

from __future__ import annotations

import secrets

from sqlalchemy import Integer, String, cast, exists, literal, null, select, union_all

from menus.safety import Lookup
from models import SafetyContact, SafetyLimit, SafetyReport
from models.safety import code_hash, contact_lookup

from .daily_keys import DailyKeys
from .data import HopData

__all__ = ["SafetyPort", "MAX_REPORTS_A_DAY", "MAX_FAILED_LOOKUPS", "limit_key"]

MAX_REPORTS_A_DAY = 5  # from one phone; enough for a real need, too few to flood the staff
MAX_FAILED_LOOKUPS = 5  # wrong codes from one phone a day: 10^8 codes make a lucky guess hopeless
CANDIDATES = 4  # fresh codes tried at once; one clash in 10^8 is already rare


def limit_key(hop: HopData) -> str:
    """This phone's abuse-limit key for today: a keyed hash under today's safety key."""
    return DailyKeys.of(hop.runtime.redis).digest("safety", hop.today, hop.phone)


class SafetyPort:
    def __init__(self, hop: HopData, secret: str) -> None:
        self.hop = hop
        self.secret = secret

    def new_code(self) -> str | None:
        today = self.hop.today
        codes = {}
        while len(codes) < CANDIDATES:
            code = f"{secrets.randbelow(10 ** 8):08d}"
            codes[code_hash(self.secret, code)] = code
        rows = self.hop.db.execute(union_all(
            select(SafetyLimit.reports.label("n"), cast(null(), String(64)).label("h"))
            .where(SafetyLimit.key == limit_key(self.hop), SafetyLimit.day == today),
            select(cast(literal(-1), Integer).label("n"), SafetyReport.code_hash.label("h"))
            .where(SafetyReport.code_hash.in_(list(codes))),
        )).all()
        if any(n is not None and n >= MAX_REPORTS_A_DAY for n, h in rows if h is None):
            return None
        taken = {h for _, h in rows if h is not None}
        free = [code for digest, code in codes.items() if digest not in taken]
        return free[0] if free else None

    def lookup(self, code: str) -> Lookup:
        today = self.hop.today
        status, failures, has_contact = self.hop.db.execute(select(
            select(SafetyReport.status).where(SafetyReport.code_hash == code_hash(self.secret, code))
            .scalar_subquery(),
            select(SafetyLimit.failed_lookups)
            .where(SafetyLimit.key == limit_key(self.hop), SafetyLimit.day == today).scalar_subquery(),
            exists().where(SafetyContact.lookup == contact_lookup(self.secret, code)),
        )).one()
        if (failures or 0) >= MAX_FAILED_LOOKUPS:
            # Say nothing about the code once the limit is reached, not even whether it was right.
            return Lookup(blocked=True)
        return Lookup(blocked=False, status=status, has_contact=bool(has_contact))
