import pytest

from models import InvalidPhone, normalize_phone


@pytest.mark.parametrize("raw", ["0772123456", "256772123456", "+256772123456", "+256 772 123 456",
                                 "0772-123-456", "772123456", "2.56772123456E+11", "7.72123456E+08",
                                 "00256772123456", " 0772 123456 "])
def test_common_ugandan_forms_become_e164(raw):
    assert normalize_phone(raw) == "+256772123456"


@pytest.mark.parametrize("raw,reason", [
    ("7.72E+11", "lost digits"),
    ("2.56772E+11", "lost digits"),
    ("", "empty"),
    ("hello", "not a phone number"),
    ("+254722000000", "not a Ugandan"),
    ("0414123456", "not a mobile"),
    ("07721234", "not a"),
])
def test_bad_numbers_say_why(raw, reason):
    with pytest.raises(InvalidPhone, match=reason):
        normalize_phone(raw)
