"""What staff see of single safety reports, through the dashboard only (never the CLI).

Descriptions, added details and contact-back requests are sealed in the database; they
are opened here with the service secret. A contact-back request is found from the code it
carries, so the report row itself never points at it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import ReportStatus, SafetyContact, SafetyNote, SafetyReport, Sealer, Site
from models.safety import code_hash

__all__ = ["Case", "CallBack", "cases", "call_backs", "set_status"]


@dataclass(frozen=True)
class Case:
    id: str
    day: date
    category: str
    witness: bool
    district: str
    site: str | None
    happened: str
    ongoing: str
    status: str
    description: str | None
    notes: list[tuple[date, str]]


@dataclass(frozen=True)
class CallBack:
    report_id: str | None  # None: the report is gone
    number: str
    when: str
    day: date


def cases(session: Session, secret: str) -> list[Case]:
    """Every report, newest day first, with its sealed text opened."""
    sealer = Sealer(secret)
    notes: dict[str, list[tuple[date, str]]] = {}
    for note in session.scalars(select(SafetyNote).order_by(SafetyNote.day)):
        notes.setdefault(note.report_id, []).append((note.day, sealer.open(note.body, "note")))
    rows = session.execute(select(SafetyReport, Site.name).outerjoin(Site, Site.id == SafetyReport.site_id)
                           .order_by(SafetyReport.day.desc(), SafetyReport.category))
    return [Case(id=r.id, day=r.day, category=r.category, witness=r.witness, district=r.district, site=site,
                 happened=r.happened, ongoing=r.ongoing, status=r.status,
                 description=sealer.open(r.description, "description") if r.description else None,
                 notes=notes.get(r.id, []))
            for r, site in rows]


def call_backs(session: Session, secret: str) -> list[CallBack]:
    """Requests to be called back, each with the report it belongs to."""
    sealer = Sealer(secret)
    requests = []
    for contact in session.scalars(select(SafetyContact).order_by(SafetyContact.day)):
        opened = json.loads(sealer.open(contact.sealed, "contact"))
        report_id = session.scalar(select(SafetyReport.id).where(
            SafetyReport.code_hash == code_hash(secret, opened["code"])))
        requests.append(CallBack(report_id=report_id, number=opened["number"], when=opened["when"],
                                 day=contact.day))
    return requests


def set_status(session: Session, report_id: str, status: ReportStatus) -> None:
    """What the reporter sees when she follows up with her code."""
    session.execute(update(SafetyReport).where(SafetyReport.id == report_id).values(status=status.value))
