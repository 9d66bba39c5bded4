"""The pure menu machine and its screens. Imports none of Flask, Redis, SQLAlchemy,
``models``, ``sms`` or ``ussd``.

``build_engine(catalogs)`` lists every screen explicitly: adding a screen means adding
it to its area's module and, for a new area, to the list below.
"""

from __future__ import annotations

from gsm7 import gsm7_length, is_gsm7, to_gsm7

from . import areas, language, leaders, main, meetings, messaging, resume, rights, safety, savings, wages
from .catalog import DEFAULT_LANGUAGE, LANGUAGES, N_, Catalogs
from .engine import (
    LIMIT,
    Caller,
    Ctx,
    Engine,
    Result,
    Screen,
    SendTopicSms,
    SetLanguage,
    View,
)

__all__ = [
    "build_engine",
    "Catalogs",
    "Caller",
    "Ctx",
    "Engine",
    "Result",
    "Screen",
    "View",
    "SendTopicSms",
    "SetLanguage",
    "LANGUAGES",
    "DEFAULT_LANGUAGE",
    "LIMIT",
    "N_",
    "gsm7_length",
    "is_gsm7",
    "to_gsm7",
]


def build_engine(catalogs: Catalogs) -> Engine:
    screens = [
        *main.SCREENS,
        *language.screens(catalogs),
        *resume.SCREENS,
        *rights.SCREENS,
        *areas.SCREENS,
        *savings.SCREENS,
        *leaders.SCREENS,
        *wages.SCREENS,
        *safety.SCREENS,
        *messaging.SCREENS,
        *meetings.SCREENS,
    ]
    return Engine(screens, catalogs)
