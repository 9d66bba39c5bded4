"""How many SMS parts a text takes: GSM-7 160/153, UCS-2 70/67."""

from __future__ import annotations

import math
from dataclasses import dataclass

from gsm7 import gsm7_length, is_gsm7

__all__ = ["Segments", "count_segments"]


@dataclass(frozen=True)
class Segments:
    encoding: str  # "GSM-7" or "UCS-2"
    length: int  # septets for GSM-7, UTF-16 code units for UCS-2
    parts: int


def count_segments(text: str) -> Segments:
    if is_gsm7(text):
        n = gsm7_length(text)
        return Segments("GSM-7", n, 1 if n <= 160 else math.ceil(n / 153))
    n = len(text.encode("utf-16-le")) // 2
    return Segments("UCS-2", n, 1 if n <= 70 else math.ceil(n / 67))
