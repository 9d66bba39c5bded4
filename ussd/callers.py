"""Who is calling: one query for a member, one more for a non-member's remembered language."""

from __future__ import annotations

import weakref
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.engine import Engine

from menus import Caller
from models import LanguageChoice, Member, phone_key

__all__ = ["load_caller", "caller_from_dict"]

# Run on every session's first hop. SQLAlchemy's execution of even a cached statement (context,
# result, row processing) cost about five times the query itself there: 5% of all the hops'
# instructions. So these are compiled once for the engine's dialect and run on the DBAPI cursor.
# Every column is a plain value in the database (the role is stored as its value), so the rows need
# no processing.
_MEMBER = select(Member.id, Member.name, Member.role, Member.language).where(Member.phone == bindparam("phone"))
_LANGUAGE = select(LanguageChoice.language).where(LanguageChoice.phone_key == bindparam("key"))


class Prepared:
    """A SELECT compiled once for one engine's dialect, run on a DBAPI cursor."""

    def __init__(self, statement: Select, engine: Engine) -> None:
        compiled = statement.compile(dialect=engine.dialect)
        self.sql = str(compiled)
        self._order = tuple(compiled.positiontup or ()) if compiled.positional else None

    def run(self, cursor, values: dict[str, Any]) -> tuple | None:  # type: ignore[no-untyped-def]
        """The first row, or None."""
        cursor.execute(self.sql, values if self._order is None else tuple(values[k] for k in self._order))
        return cursor.fetchone()


_PREPARED: "weakref.WeakKeyDictionary[Engine, tuple[Prepared, Prepared]]" = weakref.WeakKeyDictionary()


def load_caller(engine: Engine, phone: str, secret: str) -> dict[str, Any]:
    """Read on a pooled connection of its own (its transaction rolled back as it goes back)."""
    prepared = _PREPARED.get(engine)
    if prepared is None:
        prepared = _PREPARED[engine] = (Prepared(_MEMBER, engine), Prepared(_LANGUAGE, engine))
    member, choice = prepared
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        try:
            row = member.run(cursor, {"phone": phone})
            if row is not None:
                member_id, name, role, language = row
                return {"m": member_id, "n": name, "r": role, "l": language}
            found = choice.run(cursor, {"key": phone_key(secret, phone, "language")})
        finally:
            cursor.close()
    finally:
        raw.close()
    return {"m": None, "n": None, "r": None, "l": found[0] if found else None}


def caller_from_dict(d: dict[str, Any]) -> Caller:
    return Caller(is_member=d.get("m") is not None, member_id=d.get("m"), name=d.get("n"), role=d.get("r"),
                  language=d.get("l"))
