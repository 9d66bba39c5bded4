"""``flask --app wsgi broadcast send``: never prompts, matches the cooperative loosely, prints the id and
counts, waits with a progress bar, and sends a new broadcast every time it runs."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

import commands.broadcast
from models import Broadcast
from tests.messaging.conftest import AMINA, GRACE, JOYCE, PETER, SARAH


def send(runner, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(args=["broadcast", "send", *args])


def test_prints_the_id_and_counts_and_queues_one_sms_per_member(runner, coop, sandbox, work):
    result = send(runner, "--cooperative", "  kitumbi   WOMEN miners ", "--message", "Training on Monday at 9")
    assert result.exit_code == 0, result.output
    first, second = result.stdout.splitlines()
    assert re.fullmatch(r"Broadcast \d+ to Kitumbi Women Miners, all members: 5 recipients, 4 to send, "
                        r"1 skipped \(opted out\)\.", first)
    assert second == "1 SMS part each (GSM-7), about 108 UGX."
    work()
    assert all(sandbox.accepted_count(n) == 1 for n in (SARAH, AMINA, JOYCE, PETER))
    assert sandbox.accepted_count(GRACE) == 0


def test_an_unknown_cooperative_is_an_error_and_sends_nothing(runner, coop, runtime, sandbox, work):
    result = send(runner, "--cooperative", "Kitumbi Men Miners", "--message", "Hello")
    assert result.exit_code == 1
    assert "No cooperative named 'Kitumbi Men Miners'." in result.stderr
    work()
    assert sandbox.messages() == []
    with runtime.sessions() as db:
        assert db.scalar(select(func.count(Broadcast.id))) == 0


def test_it_never_prompts_for_a_missing_option(runner, coop):
    result = runner.invoke(args=["broadcast", "send", "--cooperative", "Kitumbi Women Miners"], input="typed\n")
    assert result.exit_code == 2 and "Missing option '--message'" in result.stderr


def test_the_audience_chooses_women_or_leaders(runner, coop, sandbox, work):
    assert "4 recipients, 3 to send" in send(runner, "--cooperative", "Kitumbi Women Miners", "--message", "W",
                                             "--audience", "women").stdout
    assert "2 recipients, 2 to send" in send(runner, "--cooperative", "Kitumbi Women Miners", "--message", "L",
                                             "--audience", "leaders").stdout
    work()
    assert [m["message"] for m in sandbox.messages(JOYCE)] == ["W", "L"]
    assert sandbox.messages(PETER) == []
    assert send(runner, "--cooperative", "Kitumbi Women Miners", "--message", "x", "--audience", "men").exit_code == 2


def test_running_it_again_sends_a_new_broadcast(runner, coop, sandbox, work):
    ids = []
    for _ in range(2):
        result = send(runner, "--cooperative", "Kitumbi Women Miners", "--message", "Same words")
        ids.append(int(re.match(r"Broadcast (\d+) to", result.stdout).group(1)))
    assert ids[1] > ids[0]
    work()
    assert sandbox.accepted_count(AMINA) == 2


def test_the_daily_limit_of_leaders_does_not_bind_programme_staff(runner, coop, runtime):
    for _ in range(runtime.settings.broadcast_daily_limit + 1):
        assert send(runner, "--cooperative", "Kitumbi Women Miners", "--message", "Again").exit_code == 0


def test_text_is_cleaned_to_gsm7_where_a_plain_form_exists(runner, coop, sandbox, work):
    text = "\u201cBring\u201d cards \u2013 caf\u00e9"
    result = send(runner, "--cooperative", "Kitumbi Women Miners", "--message", text)
    assert "Some characters were replaced by their plain GSM-7 form." in result.stdout
    work()
    assert sandbox.messages(AMINA)[0]["message"] == '"Bring" cards - caf\u00e9'  # é is GSM-7 already


@pytest.fixture
def worker_between_looks(monkeypatch, work):  # type: ignore[no-untyped-def]
    """--wait looks at the counts, then pauses: let the worker run in the pause instead of sleeping."""
    monkeypatch.setattr(commands.broadcast, "_pause", lambda seconds: work())


def test_wait_shows_progress_until_every_recipient_has_a_final_status(runner, coop, sandbox, worker_between_looks):
    sandbox.behave(statuses={"504": 403})  # Peter's number is refused for good
    result = send(runner, "--cooperative", "Kitumbi Women Miners", "--message", "Wait for it", "--wait")
    assert result.exit_code == 0, result.output
    assert "Sending" in result.stdout  # the bar itself is drawn on a terminal only
    assert result.stdout.splitlines()[-1] == "Sent: 3  Failed: 1  Skipped: 1"
