"""Demonstration data for an empty database (``flask --app wsgi demo``).

Members from a CSV, and a savings group with six weekly meetings of history recorded
through ``models.ledger``, so balances on the demo phones are real.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .base import utcnow
from .groups import create_group
from .importer import ImportResult, import_members
from .ledger import record_entry
from .members import Member, Role
from .savings import EntryKind

__all__ = ["DEMO_CSV", "DEMO_NUMBERS", "DEMO_GROUP", "DEMO_WEEKS", "load_demo", "DatabaseNotEmpty"]

# Numbers in a range that is not handed out to real subscribers by this service's operators.
DEMO_CSV = """phone,name,gender,cooperative,role,language,site,district
0700000001,Sarah Nakato,female,Kitumbi Women Miners,chair,lg,Lujinji,Kassanda
0700000002,Grace Achieng,female,Kitumbi Women Miners,treasurer,en,Lujinji,Kassanda
0700000003,Amina Nabirye,female,Kitumbi Women Miners,member,sw,Lujinji,Kassanda
0700000004,Joyce Namubiru,female,Kitumbi Women Miners,member,,Kayonza,Kassanda
0700000005,Peter Okello,male,Kitumbi Women Miners,secretary,en,Lujinji,Kassanda
0700000006,Rose Akello,female,Busia Gold Cooperative,member,en,Tiira,Busia
"""

DEMO_NUMBERS = (
    ("+256700000001", "Sarah, chair (Luganda)"),
    ("+256700000002", "Grace, treasurer (English)"),
    ("+256700000003", "Amina, member (Kiswahili)"),
    ("+256700000004", "Joyce, member (chooses a language on first use)"),
    ("+256700000009", "not a member"),
)


DEMO_GROUP: dict[str, Any] = dict(cooperative="Kitumbi Women Miners", name="Tusubira Savings", share_value=2000,
                  interest_percent=10, loan_multiple=3, social_fund=500)

# One meeting a week, by member number (1 Sarah, 2 Grace, 3 Amina, 4 Joyce, 5 Peter):
# shares bought, who skipped the social fund, and loans, repayments and fines as (number, UGX[, months]).
DEMO_WEEKS: tuple[dict, ...] = (
    {"shares": {1: 3, 2: 2, 3: 2, 4: 1, 5: 4}},
    {"shares": {1: 3, 2: 2, 3: 2, 4: 1, 5: 3}, "loans": [(3, 8000, 1)]},
    {"shares": {1: 2, 2: 2, 3: 1, 4: 1, 5: 4}, "no_social_fund": {4}, "fines": [(4, 500)]},
    {"shares": {1: 3, 2: 3, 3: 2, 4: 1, 5: 4}, "loans": [(1, 15000, 2)]},
    {"shares": {1: 3, 2: 2, 3: 2, 4: 2, 5: 3}},
    {"shares": {1: 3, 2: 2, 3: 2, 4: 1, 5: 4}, "repayments": [(3, 8800), (1, 5000)]},
)


class DatabaseNotEmpty(Exception):
    pass


def load_demo(session: Session, today: date | None = None) -> ImportResult:
    """Load the demo cooperatives, members and savings group; refuses a database that has members.

    The group's meetings are weekly, the last one a week before ``today``.
    """
    if session.scalar(select(func.count()).select_from(Member)):
        raise DatabaseNotEmpty("the database already has members; demo data goes into an empty database")
    result = import_members(session, DEMO_CSV)
    _load_savings_history(session, today or utcnow().date())
    return result


def _load_savings_history(session: Session, today: date) -> None:
    start = today - timedelta(weeks=len(DEMO_WEEKS))
    new = create_group(session, cycle_start=start, **DEMO_GROUP)
    group, members = new.group, {m.number: m for m in new.joined}
    treasurer = next(m.member_id for m in new.joined if m.member.role is Role.TREASURER)
    for week, meeting in enumerate(DEMO_WEEKS):
        entries: list[tuple[int, EntryKind, dict[str, int]]] = []
        for number, shares in meeting["shares"].items():
            entries.append((number, EntryKind.SHARES, {"shares": shares}))
            if number not in meeting.get("no_social_fund", ()):
                entries.append((number, EntryKind.SOCIAL_FUND, {"amount": group.social_fund_amount}))
        entries += [(n, EntryKind.LOAN, {"amount": a, "months": m}) for n, a, m in meeting.get("loans", ())]
        entries += [(n, EntryKind.REPAYMENT, {"amount": a}) for n, a in meeting.get("repayments", ())]
        entries += [(n, EntryKind.FINE, {"amount": a}) for n, a in meeting.get("fines", ())]
        for number, kind, values in entries:
            record_entry(session, group, members[number], kind, meeting_date=start + timedelta(weeks=week),
                         recorded_by="demo", recorded_by_member_id=treasurer, **values)
