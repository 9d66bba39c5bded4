"""Ugandan phone numbers in any common form, to E.164."""

from __future__ import annotations

import re

import phonenumbers

__all__ = ["normalize_phone", "InvalidPhone"]


class InvalidPhone(ValueError):
    pass


_SCI = re.compile(r"^\s*(\d+(?:\.\d+)?)[eE]\+?(\d+)\s*$")


def normalize_phone(raw: str) -> str:
    """Return ``+2567XXXXXXXX`` for a Ugandan mobile number, or raise InvalidPhone.

    Accepts ``0772 123456``, ``256772123456``, ``+256 772 123 456`` and the
    ``7.72123456E+11`` that spreadsheets make of long numbers.
    """
    text = (raw or "").strip()
    if not text:
        raise InvalidPhone("phone is empty")
    sci = _SCI.match(text)
    if sci:
        mantissa, exponent = sci.groups()
        whole, _, frac = mantissa.partition(".")
        digits = whole + frac
        shift = int(exponent) - len(frac)
        if shift < 0:
            raise InvalidPhone(f"{text!r} lost digits in the spreadsheet; type it as text")
        text = digits + "0" * shift
        # A spreadsheet keeps 15 significant digits; 7.72E+11 keeps only 3, which is not a number.
        if len(digits.lstrip("0")) < 9:
            raise InvalidPhone(f"{raw.strip()!r} lost digits in the spreadsheet; format the column as text")
    compact = re.sub(r"[\s\-().]", "", text)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if re.fullmatch(r"7\d{8}", compact):
        compact = "0" + compact
    if re.fullmatch(r"256\d{9}", compact):
        compact = "+" + compact
    try:
        parsed = phonenumbers.parse(compact, "UG")
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(f"{raw.strip()!r} is not a phone number") from exc
    if parsed.country_code != 256 or not phonenumbers.is_valid_number(parsed):
        raise InvalidPhone(f"{raw.strip()!r} is not a Ugandan phone number")
    if phonenumbers.number_type(parsed) not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise InvalidPhone(f"{raw.strip()!r} is not a mobile number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
