"""How many SMS parts a text costs: GSM-7 160/153 (extension characters count 2), UCS-2 70/67."""

from __future__ import annotations

import pytest

from sms.segments import count_segments


@pytest.mark.parametrize(("text", "parts"), [
    ("", 1),
    ("a" * 160, 1),
    ("a" * 161, 2),
    ("a" * 306, 2),
    ("a" * 307, 3),
    ("€" * 80, 1),  # 160 septets
    ("€" * 81, 2),  # 162 septets
    ("a" * 159 + "^", 2),  # 161 septets: the extension character tips it over
    ("{}[]~|\\" + "a" * 146, 1),  # 7 extension characters = 14 septets, 160 in all
])
def test_gsm7_text_counts_160_then_153_per_part_with_extension_characters_counting_two(text, parts):
    segments = count_segments(text)
    assert segments.encoding == "GSM-7"
    assert segments.parts == parts


@pytest.mark.parametrize(("text", "parts"), [
    ("ŋ" * 70, 1),
    ("ŋ" * 71, 2),
    ("ŋ" * 134, 2),
    ("ŋ" * 135, 3),
    ("a" * 69 + "ŋ", 1),  # one character outside GSM-7 switches the whole text
    ("😀" * 35, 1),  # an emoji takes two UTF-16 code units
    ("😀" * 36, 2),
])
def test_text_outside_gsm7_goes_as_ucs2_70_then_67_per_part(text, parts):
    segments = count_segments(text)
    assert segments.encoding == "UCS-2"
    assert segments.parts == parts
