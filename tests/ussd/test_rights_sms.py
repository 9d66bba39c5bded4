"""Send me this by SMS: the whole topic goes through the real SDK over HTTP to the sandbox."""

from __future__ import annotations

from sqlalchemy import select

from menus import Catalogs
from menus.rights import topic_sms_text
from models import OutboxMessage, OutboxStatus
from sms.segments import count_segments

NUMBER = "+256700000009"


def _ask_for_sms(phone, lang_choice="1", area="5", topic="1"):
    p = phone(NUMBER)
    if "Choose language" in p.dial():
        p.send(lang_choice)
    p.send("3")
    p.send(area)
    p.send(topic)
    end = p.send("1")
    assert end.startswith("END ")
    return p


def test_rights_topic_arrives_whole_by_sms_with_its_status_recorded(phone, runtime, sandbox, work, settings):
    _ask_for_sms(phone, lang_choice="3", area="2", topic="2")  # Kiswahili, inheritance
    assert sandbox.messages(NUMBER) == []  # nothing is sent inside the USSD request
    work()
    (received,) = sandbox.messages(NUMBER)
    expected = topic_sms_text("family.inherit", Catalogs.load(settings.locales_dir).translator("sw"))
    assert received["message"] == expected
    assert count_segments(expected).parts > 1  # the whole topic, in as many parts as it needs
    with runtime.sessions() as db:
        row = db.scalar(select(OutboxMessage))
        assert row.status is OutboxStatus.ACCEPTED
        assert row.at_message_id == received["id"]
        assert row.parts == count_segments(expected).parts
        assert row.cost and row.at_status_code in (100, 101, 102)


def test_asking_twice_in_two_sessions_sends_twice_but_a_repeated_hop_once(phone, sandbox, work):
    p = _ask_for_sms(phone)
    p.repeat()
    _ask_for_sms(phone)
    work()
    assert len(sandbox.messages(NUMBER)) == 2
