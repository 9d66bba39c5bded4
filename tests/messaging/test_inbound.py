"""POST /sms/inbound, /sms/optout and /sms/delivery as the gateway sends them: STOP and START in three
languages and in the order they were sent, replies to an invitation, help, repeats, and late reports."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from models import InboundMessage, MeetingReply, Member, OutboxMessage, utcnow
from sms.broadcasts import broadcast_counts, create_broadcast
from sms.inbound import IncomingSms, handle_inbound
from sms.meetings import MeetingSms, schedule_meeting
from sms.outbox import enqueue_send
from tests.messaging.conftest import AMINA, JOYCE, PETER, SARAH, inbound, leader_tools

STRANGER = "+256700000599"


def _opted_out(runtime, phone: str) -> bool:
    with runtime.sessions() as db:
        return db.scalar(select(Member.opted_out).where(Member.phone == phone))


def _replies(runtime, phone: str) -> list[str]:
    with runtime.sessions() as db:
        return list(db.scalars(select(OutboxMessage.text).where(OutboxMessage.phone == phone,
                                                               OutboxMessage.purpose == "reply")
                               .order_by(OutboxMessage.id)))


def _meeting(app, runtime, coop, days: int = 3) -> int:
    sms = MeetingSms(app.extensions["minerline.catalogs"].translator, runtime.settings.timezone)
    with runtime.sessions() as db, db.begin():
        change = schedule_meeting(db, leader_member_id=coop.members[SARAH], starts_at=utcnow() + timedelta(days=days),
                                  place="Market", sms=sms, now=utcnow() - timedelta(hours=4))
    assert change is not None
    return change.meeting_id


def test_stop_opts_out_confirms_in_the_members_language_and_later_broadcasts_skip_her(
        client, coop, runtime, sandbox, work, outbox):
    resp = inbound(client, AMINA, "stop please", "in-1")
    assert resp.status_code == 200 and resp.data == b""
    assert _opted_out(runtime, AMINA) is True
    work()
    (reply,) = sandbox.messages(AMINA)
    assert reply["message"].startswith("Minerline: hutapata tena ujumbe") and "ANZA" in reply["message"]
    with runtime.sessions() as db, db.begin():
        created = create_broadcast(db, audience="all", text="Meeting moved", now=utcnow(),
                                   local_day=runtime.settings.local_date(), cooperative_id=coop.id)
    assert created is not None and created.skipped == 2  # Grace and now Amina
    assert [r.phone for r in outbox("broadcast") if r.status.value == "skipped"] == [AMINA, "+256700000505"]


@pytest.mark.parametrize(("stop", "start"), [("STOP", "START"), ("Yimiriza", "tandika"), ("ACHA!", "Anza tena")])
def test_stop_and_start_words_in_every_language_match_on_the_first_word_in_any_case(client, coop, runtime, stop,
                                                                                     start):
    inbound(client, JOYCE, stop, "a", date="2026-11-27T09:00:00Z")
    assert _opted_out(runtime, JOYCE) is True
    inbound(client, JOYCE, start, "b", date="2026-11-27T09:01:00Z")
    assert _opted_out(runtime, JOYCE) is False
    inbound(client, JOYCE, f"please {stop}", "c", date="2026-11-27T09:02:00Z")  # not the first word
    assert _opted_out(runtime, JOYCE) is False


def test_stop_and_start_apply_in_the_order_sent_not_the_order_delivered(client, coop, runtime):
    assert inbound(client, PETER, "START", "late-start", date="2026-11-27T09:10:00Z").status_code == 200
    assert inbound(client, PETER, "STOP", "early-stop", date="2026-11-27T09:05:00Z").status_code == 200
    assert _opted_out(runtime, PETER) is False  # the START was sent last
    assert len(_replies(runtime, PETER)) == 1  # the stale STOP changed nothing and got no confirmation
    inbound(client, PETER, "STOP", "later-stop", date="2026-11-27T09:20:00+00:00")
    assert _opted_out(runtime, PETER) is True


def test_a_repeated_inbound_callback_is_acknowledged_and_acted_on_once(client, coop, runtime, sandbox, work):
    for _ in range(3):  # the gateway retries until it sees a 200, for hours
        resp = inbound(client, PETER, "STOP", "same-id")
        assert resp.status_code == 200 and resp.data == b""
    work()
    assert sandbox.accepted_count(PETER) == 1
    with runtime.sessions() as db:
        assert db.scalar(select(func.count(InboundMessage.id))) == 1


def test_only_start_opts_back_in_after_the_gateways_opt_out_and_a_start_sent_before_it_does_not(
        client, coop, runtime):
    inbound(client, PETER, "START", "old-start", date=(utcnow() - timedelta(hours=1)).isoformat())
    assert client.post("/sms/optout", data={"senderId": "MINERLINE", "phoneNumber": PETER}).status_code == 200
    assert _opted_out(runtime, PETER) is True
    inbound(client, PETER, "hello", "other", date=utcnow().isoformat())
    assert _opted_out(runtime, PETER) is True
    # A START sent before the opt-out but delivered after it changes nothing.
    inbound(client, PETER, "START", "delayed-start", date=(utcnow() - timedelta(minutes=30)).isoformat())
    assert _opted_out(runtime, PETER) is True
    inbound(client, PETER, "start", "new-start", date=(utcnow() + timedelta(seconds=5)).isoformat())
    assert _opted_out(runtime, PETER) is False


def test_replies_to_an_invitation_are_recorded_and_the_leader_sees_the_counts(app, client, coop, runtime, phone,
                                                                               sandbox, work):
    meeting_id = _meeting(app, runtime, coop)
    now = utcnow()
    inbound(client, PETER, "1", "r1", date=now.isoformat())
    inbound(client, AMINA, "Ndiyo, nitakuja", "r2", date=now.isoformat())
    inbound(client, JOYCE, "yes", "r3", date=(now - timedelta(minutes=5)).isoformat())
    inbound(client, JOYCE, "NEDDA", "r4", date=now.isoformat())
    inbound(client, JOYCE, "1", "r5", date=(now - timedelta(minutes=1)).isoformat())  # sent before the NEDDA
    with runtime.sessions() as db:
        answers = dict(db.execute(select(MeetingReply.member_id, MeetingReply.answer)
                                  .where(MeetingReply.meeting_id == meeting_id)).all())
    assert {p: answers[coop.members[p]].value for p in (PETER, AMINA, JOYCE)} == {PETER: "yes", AMINA: "yes",
                                                                                  JOYCE: "no"}
    work()
    assert "will know you are coming on" in sandbox.messages(PETER)[-1]["message"]
    assert "tojja" in sandbox.messages(JOYCE)[-1]["message"]
    leader = leader_tools(phone)
    assert "Coming 2, not coming 1, no reply 2" in leader.send("5")


def test_a_reply_with_no_meeting_to_answer_gets_help(client, coop, runtime):
    inbound(client, PETER, "1", "lonely-yes")
    (reply,) = _replies(runtime, PETER)
    assert reply.startswith("Minerline: dial *384*44# for the menu.")


def test_anything_else_gets_one_help_reply_a_day(app, client, coop, runtime):
    for n in range(3):
        assert inbound(client, STRANGER, f"hello {n}", f"h{n}").status_code == 200
    assert len(_replies(runtime, STRANGER)) == 1
    translators = app.extensions["minerline.catalogs"].translator
    tomorrow = utcnow() + timedelta(days=1)
    with runtime.sessions() as db, db.begin():
        sms = IncomingSms("h-next-day", STRANGER, "hello again", tomorrow)
        assert handle_inbound(db, sms, translators=translators, settings=runtime.settings, now=tomorrow)
    assert len(_replies(runtime, STRANGER)) == 2


def test_an_inbound_sms_without_from_or_id_is_refused_and_nothing_is_kept(client, coop, runtime):
    assert client.post("/sms/inbound", data={"from": PETER, "text": "STOP"}).status_code == 400
    assert client.post("/sms/inbound", data={"id": "x", "text": "STOP"}).status_code == 400
    with runtime.sessions() as db:
        assert db.scalar(select(func.count(InboundMessage.id))) == 0
    assert _opted_out(runtime, PETER) is False


def test_delivery_reports_out_of_order_move_a_broadcast_forward_only(client, coop, runtime, sandbox, work):
    with runtime.sessions() as db, db.begin():
        created = create_broadcast(db, audience="all", text="Training on Monday", now=utcnow(),
                                   local_day=runtime.settings.local_date(), cooperative_id=coop.id)
    enqueue_send(runtime.queue(), created.queued)
    work()
    peter, amina = sandbox.messages(PETER)[0]["id"], sandbox.messages(AMINA)[0]["id"]

    def report(message_id: str, phone: str, status: str, **extra: str) -> None:
        resp = client.post("/sms/delivery", data={"id": message_id, "status": status, "phoneNumber": phone,
                                                  "networkCode": "64110", "retryCount": "0", **extra})
        assert resp.status_code == 200 and resp.data == b""

    report(peter, PETER, "Success")
    report(peter, PETER, "Buffered")  # late: must not undo Success
    report(peter, PETER, "Sent")
    report(amina, AMINA, "Failed", failureReason="UserInBlackList")
    report(amina, AMINA, "Success")  # contradicts a final report: the first one stands
    report(amina, AMINA, "Failed", failureReason="UserInBlackList")  # a repeat
    with runtime.sessions() as db:
        counts = broadcast_counts(db, [created.id])[created.id]
    assert (counts.delivered, counts.failed, counts.accepted, counts.skipped) == (1, 1, 2, 1)
