"""Every screen reachable in every language, for every kind of caller: at most 160 characters
with the prefix, GSM-7 only, and every string translated."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir

from gsm7 import gsm7_length, is_gsm7
from menus import LANGUAGES, Caller, Catalogs, build_engine
from menus.engine import LIMIT, MSG_INVALID, MSG_NAV, RESERVE
from tests.menus.fakes import PIN, FakeData

ROOT = Path(__file__).resolve().parents[2]
CATALOGS = Catalogs.load(ROOT / "locales")
ENGINE = build_engine(CATALOGS)
# The longest names a member record can hold are never shown on these screens yet; when a
# screen shows data, add its longest value to this walk.
CALLERS = {
    "new": (Caller(), FakeData()),
    "member": (Caller(is_member=True, member_id=1, role="member", name="N" * 120), FakeData()),
    "member-no-pin": (Caller(is_member=True, member_id=1, role="member", name="N" * 120), FakeData(has_pin=False)),
    "member-locked": (Caller(is_member=True, member_id=1, role="member", name="N" * 120), FakeData(locked=True)),
    "leader": (Caller(is_member=True, member_id=1, role="treasurer", name="N" * 120), FakeData()),
    "secretary": (Caller(is_member=True, member_id=1, role="secretary", name="N" * 120), FakeData()),
}
# Inputs tried on every screen: navigation, bad input, a PIN, a wrong PIN, an amount, a phone.
PROBES = ("0", "00", "98", "x", "1*2", "", PIN, "9999", "5000", "0772123456")


LONG_FORMS = ("wages", "safety")


def _signature(state: dict) -> str:
    # The screen on show (with its data and page) and how the caller got there, roughly:
    # enough to reach every screen once without walking every history that leads to it.
    top = state["stack"][-1]
    if top["id"].split(".")[0] in LONG_FORMS:
        # Each answer of a long form stays in the frame: every combination would take hours. Here each
        # of their screens and pages counts once; tests/wages and tests/safety walk them in full.
        top = {"id": top["id"], "pg": top["pg"]}
    return json.dumps([state.get("lang"), state.get("auth"), top, len(state["stack"]) > 1], sort_keys=True)


def walk(caller: Caller, data: FakeData | None = None):
    """Breadth-first over every screen reachable from the start: yields (path, result)."""
    engine = ENGINE.with_data(data or FakeData())
    start = engine.start(caller)
    queue = [((), start)]
    seen = {_signature(start.state)}
    while queue:
        path, result = queue.pop(0)
        yield path, result
        if result.end:
            continue
        options = set(re.findall(r"^(\d+) ", result.text[4:], flags=re.M)) | set(PROBES)
        for value in sorted(options):
            nxt = engine.step(result.state, value, caller)
            sig = _signature(nxt.state) + ("END" + nxt.text if nxt.end else "")
            if sig in seen:
                yield path + (value,), nxt
                continue
            seen.add(sig)
            queue.append((path + (value,), nxt))


@pytest.mark.parametrize("kind", sorted(CALLERS))
@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_screen_fits_and_is_gsm7(lang: str, kind: str):
    base, data = CALLERS[kind]
    caller = Caller(**{**base.__dict__, "language": lang})
    screens = set()
    count = 0
    for path, result in walk(caller, data):
        count += 1
        screens.add(result.screen)
        assert result.text.startswith(("CON ", "END ")), path
        assert gsm7_length(result.text) <= LIMIT, (path, gsm7_length(result.text), result.text)
        assert is_gsm7(result.text), (path, result.text)
    assert {"main", "rights", "rights.area", "rights.topic", "lang.change"} <= screens
    if kind == "member":
        assert {"savings.menu", "savings.mine", "savings.statement", "savings.group"} <= screens
    if kind == "leader":
        assert {"leaders.menu", "leaders.confirm", "leaders.undo", "leaders.months"} <= screens
    assert count > 100


def _msgids_in_code() -> set[str]:
    ids: set[str] = set()
    method_map = [("menus/**.py", "python"), ("ussd/**.py", "python"), ("sms/**.py", "python")]
    for _file, _line, message, _comments, _ctx in extract_from_dir(
        str(ROOT), method_map=method_map, keywords={"N_": None}
    ):
        ids.add(message)
    return ids


def test_code_strings_are_all_in_the_template():
    assert _msgids_in_code(), "extraction found no strings"


@pytest.mark.parametrize("lang", ["lg", "sw"])
def test_every_string_is_translated(lang: str):
    missing = CATALOGS.missing(lang, sorted(_msgids_in_code()))
    assert missing == [], f"{lang} catalog lacks: {missing}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_translation_is_gsm7_and_short_lines_fit_the_reserved_line(lang: str):
    t = CATALOGS.translator(lang)
    for msgid in _msgids_in_code():
        assert is_gsm7(t(msgid)), (lang, msgid, t(msgid))
    for short in (MSG_INVALID, MSG_NAV, "Choose a number."):
        assert gsm7_length(t(short)) < RESERVE, (lang, short, t(short))
