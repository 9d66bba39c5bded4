"""Demonstration data for an empty database (``flask --app wsgi demo``)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .importer import ImportResult, import_members
from .members import Member

__all__ = ["DEMO_CSV", "DEMO_NUMBERS", "load_demo", "DatabaseNotEmpty"]

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


class DatabaseNotEmpty(Exception):
    pass


def load_demo(session: Session) -> ImportResult:
    """Load the demo cooperatives and members; refuses a database that has members."""
    if session.scalar(select(func.count()).select_from(Member)):
        raise DatabaseNotEmpty("the database already has members; demo data goes into an empty database")
    return import_members(session, DEMO_CSV)
