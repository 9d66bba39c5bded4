"""Opening balances from a group's passbook, from a CSV file: all or nothing, every bad row by its line.

Columns ``phone,group,shares,social_fund,loan_outstanding``. Each member's balances become
opening entries (any number of shares; the loan with no new interest) recorded by "import".
Opening balances go in before any other entry of that member, so importing a file twice is refused.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date
from typing import TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from .importer import ImportError_, RowError
from .ledger import record_entry
from .members import Cooperative, Member
from .phones import InvalidPhone, normalize_phone
from .savings import EntryKind, GroupMembership, LedgerEntry, SavingsGroup

__all__ = ["COLUMNS", "OpeningResult", "import_opening_balances", "RECORDED_BY", "NOTE"]

COLUMNS = ("phone", "group", "shares", "social_fund", "loan_outstanding")
RECORDED_BY = "import"
NOTE = "opening balance"
_INT_MAX = 2**31 - 1  # the ledger's integer columns
# 1500, 1,500 and the 1500.00 some spreadsheets write; a blank cell is 0.
_WHOLE = re.compile(r"(\d+|\d{1,3}(?:,\d{3})+)(?:\.0+)?")


@dataclass
class OpeningResult:
    members: int = 0
    entries: int = 0
    groups: list[SavingsGroup] = field(default_factory=list)


@dataclass(frozen=True)
class _Row:
    line: int
    group: SavingsGroup
    membership: GroupMembership
    shares: int
    social_fund: int
    loan: int


def _clean(value: str | None) -> str:
    return " ".join((value or "").split())


def _masked(phone: str) -> str:
    return phone[-4:].rjust(len(phone), "*")


def _whole(values: dict[str, str], column: str, reasons: list[str]) -> int:
    text = values.get(column, "")
    if not text:
        return 0
    number = text[1:] if text.startswith("-") else text
    if not _WHOLE.fullmatch(number):
        reasons.append(f"{column} {text!r} is not a whole number")
        return 0
    value = int(number.split(".")[0].replace(",", ""))
    if text.startswith("-") and value:
        reasons.append(f"{column} {text} is negative")
        return 0
    if value > _INT_MAX:
        reasons.append(f"{column} {text} is too large")
        return 0
    return value


def import_opening_balances(session: Session, source: TextIO | str, *, meeting_date: date) -> OpeningResult:
    """Record opening balances from CSV text. Raises ImportError_ listing every bad row.

    The caller owns the transaction: on error nothing has been added to the session.
    No receipts: the member's passbook already shows these figures.
    """
    text = source if isinstance(source, str) else source.read()
    # csv.reader, not DictReader: a blank row is still a row of the spreadsheet, so it counts.
    records = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    header = [h.strip().lower() for h in records[0]] if records else []
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise ImportError_([RowError(1, f"missing column(s): {', '.join(missing)}")])
    raw = [(line, {column: _clean(value) for column, value in zip(header, record, strict=False)})
           for line, record in enumerate(records[1:], start=2)]
    raw = [(line, values) for line, values in raw if any(values.values())]  # blank rows are skipped
    rows, errors = _check(session, raw)
    if errors:
        raise ImportError_(errors)

    result = OpeningResult(members=len(rows))
    for row in rows:
        common = dict(meeting_date=meeting_date, recorded_by=RECORDED_BY, opening=True, note=NOTE)
        key = f"opening:{row.membership.id}"
        if row.shares:
            result.entries += len(record_entry(session, row.group, row.membership, EntryKind.SHARES,
                                               shares=row.shares, idempotency_key=f"{key}:shares", **common))
        if row.social_fund:
            result.entries += len(record_entry(session, row.group, row.membership, EntryKind.SOCIAL_FUND,
                                               amount=row.social_fund, idempotency_key=f"{key}:social", **common))
        if row.loan:
            result.entries += len(record_entry(session, row.group, row.membership, EntryKind.LOAN,
                                               amount=row.loan, idempotency_key=f"{key}:loan", **common))
        if row.group not in result.groups:
            result.groups.append(row.group)
    session.flush()
    return result


def _check(session: Session, raw: list[tuple[int, dict[str, str]]]) -> tuple[list[_Row], list[RowError]]:
    phones: dict[int, str] = {}
    bad_phones: dict[int, str] = {}
    for line, values in raw:
        try:
            phones[line] = normalize_phone(values.get("phone", ""))
        except InvalidPhone as exc:
            bad_phones[line] = str(exc)
    groups = {g.name_key: g for g in session.scalars(select(SavingsGroup))}
    found = list(session.execute(
        select(Member, GroupMembership)
        .outerjoin(GroupMembership, GroupMembership.member_id == Member.id)
        .where(Member.phone.in_(set(phones.values())))
    )) if phones else []
    members = {m.phone: (m, gm) for m, gm in found}
    with_entries = set(session.scalars(
        select(LedgerEntry.membership_id)
        .where(LedgerEntry.membership_id.in_([gm.id for _m, gm in found if gm is not None])).distinct()
    )) if found else set()

    rows: list[_Row] = []
    errors: list[RowError] = []
    first_line_of: dict[str, int] = {}
    for line, values in raw:
        reasons: list[str] = []
        phone = phones.get(line)
        if line in bad_phones:
            reasons.append(bad_phones[line])
        group_name = values.get("group", "")
        group = groups.get(Cooperative.key_for(group_name))
        if not group_name:
            reasons.append("group is empty")
        elif group is None:
            reasons.append(f"no savings group named {group_name!r}")
        shares = _whole(values, "shares", reasons)
        social_fund = _whole(values, "social_fund", reasons)
        loan = _whole(values, "loan_outstanding", reasons)
        if group is not None and shares * group.share_value > _INT_MAX:
            reasons.append(f"shares {shares} are worth more than the ledger can hold")
        membership = None
        if phone is not None:
            if phone in first_line_of:
                reasons.append(f"phone {_masked(phone)} is also on line {first_line_of[phone]}")
            else:
                first_line_of[phone] = line
            member, membership = members.get(phone, (None, None))
            if member is None:
                reasons.append(f"no member with phone {_masked(phone)}")
            elif membership is None:
                reasons.append(f"{member.name} is not in any savings group")
            elif group is not None and membership.group_id != group.id:
                reasons.append(f"{member.name} is not in {group.name} but in {membership.group.name}")
            elif membership.id in with_entries:
                reasons.append(f"{member.name} already has entries in the ledger; "
                               "opening balances go in before any other entry")
        if reasons:
            errors.append(RowError(line, "; ".join(reasons)))
            continue
        assert group is not None and membership is not None
        rows.append(_Row(line, group, membership, shares, social_fund, loan))
    return rows, errors
