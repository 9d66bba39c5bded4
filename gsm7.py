"""GSM-7 alphabet: what a basic phone shows, and how long a text is in it.

A leaf module: it imports nothing of the project, so menus and sms can both use it.
"""

from __future__ import annotations

import unicodedata

__all__ = ["GSM7_BASIC", "GSM7_EXTENDED", "is_gsm7", "gsm7_length", "to_gsm7", "non_gsm7_chars"]

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")
_EXTENDED_CHARS = tuple(GSM7_EXTENDED)

# Characters with a plain GSM-7 equivalent.
_PLAIN = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"',
    "\u2013": "-", "\u2014": "-", "\u2212": "-", "\u2010": "-", "\u2011": "-",
    "\u2026": "...", "\u00a0": " ", "\u2009": " ", "\u202f": " ", "\t": " ",
    "\u014b": "ng'", "\u014a": "Ng'",  # Luganda eng, written ng' on phones
}


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENDED for ch in text)


def non_gsm7_chars(text: str) -> set[str]:
    return {ch for ch in text if ch not in GSM7_BASIC and ch not in GSM7_EXTENDED}


def gsm7_length(text: str) -> int:
    """Length in GSM-7 septets: extension characters count twice."""
    # str.count runs in C: this is on the path of every USSD hop.
    return len(text) + sum(text.count(ch) for ch in _EXTENDED_CHARS if ch in text)


def to_gsm7(text: str) -> str:
    """Replace characters that have a plain GSM-7 equivalent; leave the rest as they are."""
    out: list[str] = []
    for ch in text:
        if ch in GSM7_BASIC or ch in GSM7_EXTENDED:
            out.append(ch)
        elif ch in _PLAIN:
            out.append(_PLAIN[ch])
        else:
            stripped = "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c))
            out.append(stripped if stripped and is_gsm7(stripped) else ch)
    return "".join(out)
