"""Who is calling: one query for a member, one more for a non-member's remembered language."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Engine

from menus import Caller
from models import LanguageChoice, Member, phone_key

__all__ = ["load_caller", "caller_from_dict"]

# Built once and run on a connection of their own, not through an ORM session: the ORM's statement
# and transaction handling cost about as much again as the queries, on the first hop of every session.
_MEMBER = select(Member.id, Member.name, Member.role, Member.language).where(Member.phone == bindparam("phone"))
_LANGUAGE = select(LanguageChoice.language).where(LanguageChoice.phone_key == bindparam("key"))


def load_caller(engine: Engine, phone: str, secret: str) -> dict[str, Any]:
    """Read in a transaction of its own, given back before the hop goes on."""
    with engine.connect() as conn:
        row = conn.execute(_MEMBER, {"phone": phone}).first()
        if row is not None:
            return {"m": row.id, "n": row.name, "r": row.role.value, "l": row.language}
        language = conn.execute(_LANGUAGE, {"key": phone_key(secret, phone, "language")}).scalar()
    return {"m": None, "n": None, "r": None, "l": language}


def caller_from_dict(d: dict[str, Any]) -> Caller:
    return Caller(is_member=d.get("m") is not None, member_id=d.get("m"), name=d.get("n"), role=d.get("r"),
                  language=d.get("l"))
