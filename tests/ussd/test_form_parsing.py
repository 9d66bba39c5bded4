"""The fast path's form parser reads a body exactly as Werkzeug (and so Flask) would."""

from __future__ import annotations

from urllib.parse import parse_qsl

from hypothesis import given
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from ussd.endpoint import _first_values


def _werkzeug(qs: str) -> dict[str, str]:
    """What ``request.form`` holds for this body (werkzeug.formparser._parse_urlencoded)."""
    form = MultiDict(parse_qsl(qs, keep_blank_values=True, errors="werkzeug.url_quote"))
    return {name: form[name] for name in form}


@given(st.text(alphabet=st.sampled_from("ab=&%+*#2AFfx\u00e9 ~0"), max_size=40))
def test_any_body_parses_as_werkzeug_parses_it(qs):
    assert _first_values(qs) == _werkzeug(qs)


def test_a_gateway_body():
    qs = "sessionId=ATUid_1&serviceCode=%2A384%2A44%23&phoneNumber=%2B256700000001&networkCode=64110&text=3%2A1+2&x"
    assert _first_values(qs) == {"sessionId": "ATUid_1", "serviceCode": "*384*44#", "phoneNumber": "+256700000001",
                                 "networkCode": "64110", "text": "3*1 2", "x": ""}
    assert _first_values("text=%FF%41") == _werkzeug("text=%FF%41")
