"""The edge's side of the menus' data ports, for one hop.

Each area that shows data defines a small Protocol in its ``menus`` module; its
implementation lives in ``ussd/data_<area>.py`` and is an attribute here
(``ctx.data.savings``, ``ctx.data.wages`` ...). One database session is opened lazily
and shared by the reads and the hop's writes, so a hop stays within its query budget.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.orm import Session

from sms.runtime import Runtime

__all__ = ["HopData"]


class HopData:
    def __init__(self, runtime: Runtime, phone: str, caller: dict[str, Any], session_id: str,
                 now: datetime | None = None) -> None:
        self.runtime = runtime
        self.phone = phone
        self.caller = caller
        self.session_id = session_id
        self.now = now or datetime.now(UTC)
        self._db: Session | None = None
        self._ports: dict[str, Any] = {}

    @property
    def today(self) -> date:
        """The date in Uganda for this hop."""
        return self.runtime.settings.local_date(self.now)

    @property
    def db(self) -> Session:
        if self._db is None:
            self._db = self.runtime.sessions()
        return self._db

    @property
    def savings(self):  # type: ignore[no-untyped-def]
        """``menus.savings.SavingsData``, read from the database."""
        if "savings" not in self._ports:
            from .data_savings import SavingsPort

            self._ports["savings"] = SavingsPort(self, self.runtime.settings.secret_key)
        return self._ports["savings"]

    @property
    def places(self):  # type: ignore[no-untyped-def]
        """``menus.places.PlacesData``: sites to choose from."""
        if "places" not in self._ports:
            from .data_places import PlacesPort

            self._ports["places"] = PlacesPort(self)
        return self._ports["places"]

    @property
    def wages(self):  # type: ignore[no-untyped-def]
        """``menus.wages.WagesData``: what others earn, small groups hidden."""
        if "wages" not in self._ports:
            from .data_wages import WagesPort

            self._ports["wages"] = WagesPort(self)
        return self._ports["wages"]

    @property
    def safety(self):  # type: ignore[no-untyped-def]
        """``menus.safety.SafetyData``: reference codes and look-ups limited against guessing."""
        if "safety" not in self._ports:
            from .data_safety import SafetyPort

            self._ports["safety"] = SafetyPort(self, self.runtime.settings.secret_key)
        return self._ports["safety"]

    @property
    def messaging(self):  # type: ignore[no-untyped-def]
        """``menus.messaging.MessagingData``: broadcasts, meetings and their replies."""
        if "messaging" not in self._ports:
            from .data_messaging import MessagingPort

            self._ports["messaging"] = MessagingPort(self)
        return self._ports["messaging"]

    @property
    def opened(self) -> bool:
        return self._db is not None

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
