"""Members from a CSV file: all or nothing, every bad row reported by its line number."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from .members import LANGUAGES, Cooperative, Gender, Member, Role, Site
from .phones import InvalidPhone, normalize_phone

__all__ = ["ImportError_", "ImportResult", "RowError", "import_members", "REQUIRED", "OPTIONAL"]

REQUIRED = ("phone", "name", "gender", "cooperative")
OPTIONAL = ("role", "language", "site", "district")
_GENDERS = {"female": Gender.FEMALE, "f": Gender.FEMALE, "male": Gender.MALE, "m": Gender.MALE, "other": Gender.OTHER}
_ROLES = {r.value: r for r in Role}


@dataclass(frozen=True)
class RowError:
    line: int  # as a spreadsheet shows it: the header is line 1
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


class ImportError_(Exception):
    """The file was refused; nothing was imported."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    cooperatives_created: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Row:
    line: int
    phone: str
    name: str
    gender: Gender
    cooperative: str
    role: Role
    language: str | None
    site: str | None
    district: str | None


def _clean(value: str | None) -> str:
    return " ".join((value or "").split())


def _parse(reader: csv.DictReader) -> tuple[list[_Row], list[RowError]]:
    rows: list[_Row] = []
    errors: list[RowError] = []
    first_line_of: dict[str, int] = {}
    for raw in reader:
        # The line the row ends on, as a spreadsheet numbers it (blank lines still count).
        line = reader.line_num
        values = {(k or "").strip().lower(): _clean(v if isinstance(v, str) else None) for k, v in raw.items()}
        if not any(values.values()):
            continue  # blank lines are not rows
        reasons: list[str] = []
        phone = ""
        try:
            phone = normalize_phone(values.get("phone", ""))
        except InvalidPhone as exc:
            reasons.append(str(exc))
        name = values.get("name", "")
        if not name:
            reasons.append("name is empty")
        gender = _GENDERS.get(values.get("gender", "").lower())
        if gender is None:
            reasons.append(f"gender {values.get('gender', '')!r} is not female, male or other")
        cooperative = values.get("cooperative", "")
        if not cooperative:
            reasons.append("cooperative is empty")
        role_text = values.get("role", "").lower() or "member"
        role = _ROLES.get(role_text)
        if role is None:
            reasons.append(f"role {values.get('role')!r} is not member, chair, secretary or treasurer")
        language = values.get("language", "").lower() or None
        if language is not None and language not in LANGUAGES:
            reasons.append(f"language {values.get('language')!r} is not en, lg or sw")
        if phone:
            if phone in first_line_of:
                reasons.append(f"phone {phone[-4:].rjust(len(phone), '*')} is also on line {first_line_of[phone]}")
            else:
                first_line_of[phone] = line
        if reasons:
            errors.append(RowError(line, "; ".join(reasons)))
            continue
        assert gender is not None and role is not None
        rows.append(
            _Row(line, phone, name, gender, cooperative, role, language,
                 values.get("site") or None, values.get("district") or None)
        )
    return rows, errors


def import_members(session: Session, source: TextIO | str) -> ImportResult:
    """Import or update members from CSV text. Raises ImportError_ listing every bad row.

    The caller owns the transaction: on error nothing has been added to the session.
    """
    text = source if isinstance(source, str) else source.read()
    text = text.lstrip("\ufeff")  # spreadsheets often save a byte-order mark
    reader = csv.DictReader(io.StringIO(text))
    header = [(h or "").strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ImportError_([RowError(1, f"missing column(s): {', '.join(missing)}")])
    rows, errors = _parse(reader)
    if errors:
        raise ImportError_(errors)

    result = ImportResult()
    coops = {c.name_key: c for c in session.scalars(select(Cooperative))}
    sites = {(s.cooperative_id, s.name_key): s for s in session.scalars(select(Site))}
    existing = {
        m.phone: m
        for m in session.scalars(select(Member).where(Member.phone.in_([r.phone for r in rows])))
    } if rows else {}
    for row in rows:
        key = Cooperative.key_for(row.cooperative)
        coop = coops.get(key)
        if coop is None:
            coop = Cooperative(name=row.cooperative, name_key=key, district=row.district)
            session.add(coop)
            session.flush()
            coops[key] = coop
            result.cooperatives_created.append(coop.name)
        site = None
        if row.site:
            skey = (coop.id, Cooperative.key_for(row.site))
            site = sites.get(skey)
            if site is None:
                site = Site(cooperative_id=coop.id, name=row.site, name_key=skey[1], district=row.district)
                session.add(site)
                session.flush()
                sites[skey] = site
        member = existing.get(row.phone)
        if member is None:
            member = Member(phone=row.phone)
            session.add(member)
            result.created += 1
        else:
            result.updated += 1
        member.name = row.name
        member.gender = row.gender
        member.role = row.role
        if row.language is not None:
            member.language = row.language
        member.cooperative_id = coop.id
        member.site_id = site.id if site else None
        member.district = row.district
    session.flush()
    return result
