"""Translations from the gettext catalogs in ``locales/`` (read with Babel)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from babel.messages.pofile import read_po

__all__ = ["Catalogs", "Translator", "N_", "LANGUAGES", "DEFAULT_LANGUAGE"]

LANGUAGES = ("en", "lg", "sw")
DEFAULT_LANGUAGE = "en"

Translator = Callable[[str], str]


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated when shown."""
    return message


@dataclass
class Catalogs:
    """msgid -> msgstr for each language; English msgids are the source text."""

    messages: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def load(cls, locales_dir: Path) -> "Catalogs":
        messages: dict[str, dict[str, str]] = {}
        for lang in LANGUAGES:
            path = Path(locales_dir) / lang / "LC_MESSAGES" / "messages.po"
            table: dict[str, str] = {}
            if path.exists():
                with path.open("rb") as fh:
                    catalog = read_po(fh, locale=None)
                for msg in catalog:
                    if msg.id and isinstance(msg.id, str) and msg.string and not msg.fuzzy:
                        table[msg.id] = msg.string
            messages[lang] = table
        return cls(messages)

    def translator(self, lang: str | None) -> Translator:
        table = self.messages.get(lang or DEFAULT_LANGUAGE, {})

        def t(message: str) -> str:
            return table.get(message, message)

        return t

    def missing(self, lang: str, msgids: list[str]) -> list[str]:
        table = self.messages.get(lang, {})
        return [m for m in msgids if m not in table]
