"""Who is calling, and the effects a screen asks for: the database side of a hop."""

from __future__ import annotations

from typing import Any, Iterable

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from menus import Caller, SendTopicSms, SetLanguage
from menus.catalog import Catalogs
from menus.rights import topic_sms_text
from models import LanguageChoice, Member, phone_key
from sms.outbox import queue_message

__all__ = ["load_caller", "caller_from_dict", "apply_effects"]


def load_caller(session: Session, phone: str, secret: str) -> dict[str, Any]:
    """One query for a member; one more for a non-member's remembered language."""
    row = session.execute(
        select(Member.id, Member.name, Member.role, Member.language).where(Member.phone == phone)
    ).first()
    if row is not None:
        return {"m": row.id, "n": row.name, "r": row.role.value, "l": row.language}
    language = session.scalar(
        select(LanguageChoice.language).where(LanguageChoice.phone_key == phone_key(secret, phone, "language"))
    )
    return {"m": None, "n": None, "r": None, "l": language}


def caller_from_dict(d: dict[str, Any]) -> Caller:
    return Caller(is_member=d.get("m") is not None, name=d.get("n"), role=d.get("r"), language=d.get("l"))


def _upsert_language(session: Session, key: str, lang: str) -> None:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(LanguageChoice).values(phone_key=key, language=lang)
    session.execute(stmt.on_conflict_do_update(index_elements=["phone_key"], set_={"language": lang}))


def apply_effects(
    session: Session,
    effects: Iterable[object],
    *,
    caller: dict[str, Any],
    phone: str,
    secret: str,
    catalogs: Catalogs,
    idempotency_prefix: str,
) -> list[int]:
    """Carry out a hop's effects in the caller's transaction; return outbox ids to enqueue."""
    outbox_ids: list[int] = []
    for n, effect in enumerate(effects):
        if isinstance(effect, SetLanguage):
            caller["l"] = effect.lang
            if caller.get("m") is not None:
                session.execute(update(Member).where(Member.id == caller["m"]).values(language=effect.lang))
            else:
                _upsert_language(session, phone_key(secret, phone, "language"), effect.lang)
        elif isinstance(effect, SendTopicSms):
            text = topic_sms_text(effect.topic, catalogs.translator(effect.lang))
            message_id = queue_message(
                session,
                phone=phone,
                text=text,
                purpose="rights",
                member_id=caller.get("m"),
                idempotency_key=f"{idempotency_prefix}:{n}",
            )
            if message_id is not None:
                outbox_ids.append(message_id)
        else:  # pragma: no cover - a new effect without a handler is a programming error
            raise TypeError(f"no handler for effect {effect!r}")
    return outbox_ids
