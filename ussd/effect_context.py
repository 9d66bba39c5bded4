"""What an effect handler may use: the hop's data (session, phone, caller), and where outbox ids go."""

from __future__ import annotations

from menus.catalog import Catalogs

from .data import HopData

__all__ = ["EffectContext"]


class EffectContext:
    """What a handler may use: the hop's data (session, phone, caller) and where ids go."""

    def __init__(self, data: HopData, secret: str, catalogs: Catalogs, idempotency_prefix: str) -> None:
        self.data = data
        self.secret = secret
        self.catalogs = catalogs
        self.idempotency_prefix = idempotency_prefix
        self.outbox_ids: list[int] = []
        self.n = 0  # the effect's place in the hop, for idempotency keys

    def key(self, suffix: str = "") -> str:
        return f"{self.idempotency_prefix}:{self.n}{suffix}"
