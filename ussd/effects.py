"""Carrying out the effects a screen asks for, after the screen is decided, in the hop's transaction.

Each effect type has one handler. An area with effects of its own adds its handlers
in ``ussd/effects_<area>.py`` and lists them in ``HANDLERS`` below.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite

from menus import SendTopicSms, SetLanguage
from menus.catalog import Catalogs
from menus.engine import Authenticated
from menus.rights import topic_sms_text
from models import LanguageChoice, Member, phone_key
from sms.outbox import queue_message

from .data import HopData
from .effect_context import EffectContext
from .effects_messaging import HANDLERS as MESSAGING_HANDLERS
from .effects_safety import HANDLERS as SAFETY_HANDLERS
from .effects_savings import HANDLERS as SAVINGS_HANDLERS
from .effects_wages import HANDLERS as WAGES_HANDLERS

__all__ = ["apply_effects", "EffectContext", "HANDLERS"]


def _set_language(effect: SetLanguage, ctx: EffectContext) -> None:
    data = ctx.data
    data.caller["l"] = effect.lang
    # On the session's connection: the ORM's bulk-update bookkeeping costs more than the write.
    conn = data.db.connection()
    if data.caller.get("m") is not None:
        conn.execute(update(Member).where(Member.id == data.caller["m"]).values(language=effect.lang))
        return
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    key = phone_key(ctx.secret, data.phone, "language")
    stmt = insert(LanguageChoice).values(phone_key=key, language=effect.lang)
    conn.execute(stmt.on_conflict_do_update(index_elements=["phone_key"], set_={"language": effect.lang}))


def _send_topic(effect: SendTopicSms, ctx: EffectContext) -> None:
    text = topic_sms_text(effect.topic, ctx.catalogs.translator(effect.lang))
    message_id = queue_message(ctx.data.db, phone=ctx.data.phone, text=text, purpose="rights",
                               member_id=ctx.data.caller.get("m"), idempotency_key=ctx.key())
    if message_id is not None:
        ctx.outbox_ids.append(message_id)


def _nothing(effect: Any, ctx: EffectContext) -> None:
    """Effects the engine applies to the session state itself."""


HANDLERS: dict[type, Callable[[Any, EffectContext], None]] = {
    SetLanguage: _set_language,
    SendTopicSms: _send_topic,
    Authenticated: _nothing,
    **SAVINGS_HANDLERS,
    **WAGES_HANDLERS,
    **SAFETY_HANDLERS,
    **MESSAGING_HANDLERS,
}


def apply_effects(data: HopData, effects: Iterable[object], *, secret: str, catalogs: Catalogs,
                  idempotency_prefix: str) -> list[int]:
    """Carry out a hop's effects in its transaction; return the outbox ids to enqueue after commit."""
    ctx = EffectContext(data, secret, catalogs, idempotency_prefix)
    for n, effect in enumerate(effects):
        ctx.n = n
        handler = HANDLERS.get(type(effect))
        if handler is None:  # pragma: no cover - a new effect without a handler is a programming error
            raise TypeError(f"no handler for effect {effect!r}")
        handler(effect, ctx)
    return ctx.outbox_ids
