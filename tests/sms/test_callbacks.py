"""POST /sms/delivery, /sms/optout and /sms/inbound as the gateway sends them."""

from __future__ import annotations

from sqlalchemy import func, select

from app import create_app
from models import DeliveryReport, Member, OutboxStatus

A, B = "+256700000301", "+256700000302"


def _report(client, message_id: str, status: str, phone: str = A, **extra):
    data = {"id": message_id, "status": status, "phoneNumber": phone, "networkCode": "64110", "retryCount": "0",
            **extra}
    return client.post("/sms/delivery", data=data)


def _accepted(queue_sms, work, rows, sandbox, phone: str = A):
    ids = queue_sms([phone])
    work()
    (row,) = rows(ids)
    assert row.status is OutboxStatus.ACCEPTED
    return ids, row.at_message_id


def _report_count(runtime) -> int:
    with runtime.sessions() as session:
        return session.scalar(select(func.count()).select_from(DeliveryReport))


def test_success_report_marks_the_message_delivered_with_an_empty_200(queue_sms, work, rows, sandbox, client):
    ids, message_id = _accepted(queue_sms, work, rows, sandbox)
    resp = _report(client, message_id, "Success")
    assert resp.status_code == 200 and resp.data == b""
    (row,) = rows(ids)
    assert row.status is OutboxStatus.DELIVERED and row.delivery_status == "Success"


def test_late_sent_after_success_never_moves_the_message_back(queue_sms, work, rows, sandbox, client, runtime):
    ids, message_id = _accepted(queue_sms, work, rows, sandbox)
    assert _report(client, message_id, "Success").status_code == 200
    assert _report(client, message_id, "Sent").status_code == 200
    (row,) = rows(ids)
    assert row.status is OutboxStatus.DELIVERED and row.delivery_status == "Success"
    assert _report_count(runtime) == 2  # both kept as received


def test_late_buffered_after_failed_never_moves_the_message_back(queue_sms, work, rows, sandbox, client):
    ids, message_id = _accepted(queue_sms, work, rows, sandbox)
    _report(client, message_id, "Failed", failureReason="UserInBlackList")
    _report(client, message_id, "Buffered")
    _report(client, message_id, "Success")  # a contradicting final report: the first final one stands
    (row,) = rows(ids)
    assert row.status is OutboxStatus.FAILED and row.failure_reason == "UserInBlackList"
    assert row.delivery_status == "Failed"


def test_interim_reports_move_only_the_delivery_status_forward(queue_sms, work, rows, sandbox, client):
    ids, message_id = _accepted(queue_sms, work, rows, sandbox)
    for status in ("Submitted", "Buffered", "Sent"):
        _report(client, message_id, status)
    (row,) = rows(ids)
    assert row.status is OutboxStatus.ACCEPTED and row.delivery_status == "Buffered"


def test_rejected_report_fails_the_message_with_its_reason(queue_sms, work, rows, sandbox, client):
    ids, message_id = _accepted(queue_sms, work, rows, sandbox)
    _report(client, message_id, "Rejected", failureReason="DeliveryFailure")
    (row,) = rows(ids)
    assert row.status is OutboxStatus.FAILED and row.failure_reason == "DeliveryFailure"


def test_repeated_report_is_acknowledged_and_changes_nothing(queue_sms, work, rows, sandbox, client, runtime):
    ids, message_id = _accepted(queue_sms, work, rows, sandbox)
    assert _report(client, message_id, "Success").status_code == 200
    before = rows(ids)[0]
    again = _report(client, message_id, "Success")
    assert again.status_code == 200 and again.data == b""
    after = rows(ids)[0]
    assert after.updated_at == before.updated_at and after.status is OutboxStatus.DELIVERED
    assert _report_count(runtime) == 1


def test_report_for_a_message_we_never_sent_is_kept_unmatched(client, runtime):
    assert _report(client, "ATXid_stranger", "Success").status_code == 200
    with runtime.sessions() as session:
        (report,) = session.scalars(select(DeliveryReport)).all()
    assert report.outbox_id is None and report.phone == A and report.network_code == "64110"


def test_a_report_changes_only_the_message_of_its_own_number(queue_sms, work, rows, sandbox, client, runtime):
    ids = queue_sms([A, B])
    work()
    to_a, to_b = rows(ids)
    assert _report(client, to_a.at_message_id, "Failed", phone=B).status_code == 200  # A's id, B's number
    assert client.post("/sms/delivery", data={"id": to_a.at_message_id, "status": "Rejected"}).status_code == 200
    assert [row.status for row in rows(ids)] == [OutboxStatus.ACCEPTED, OutboxStatus.ACCEPTED]
    assert _report(client, to_a.at_message_id, "Success", phone=A).status_code == 200
    assert _report(client, to_b.at_message_id, "Success", phone=B).status_code == 200
    assert [row.status for row in rows(ids)] == [OutboxStatus.DELIVERED, OutboxStatus.DELIVERED]
    with runtime.sessions() as session:
        kept = session.scalars(select(DeliveryReport).where(DeliveryReport.outbox_id.is_(None))).all()
    assert sorted(report.status for report in kept) == ["Failed", "Rejected"]  # stored, matched to nothing


def test_report_without_id_or_status_is_refused_with_a_reason(client, runtime):
    resp = client.post("/sms/delivery", data={"status": "Success", "phoneNumber": A})
    assert resp.status_code == 400 and b"id and status are required" in resp.data
    assert client.post("/sms/delivery", data={"id": "ATXid_1"}).status_code == 400
    assert _report_count(runtime) == 0


def test_callbacks_need_the_webhook_token_when_one_is_set(settings, runtime):
    client = create_app(settings.replace(webhook_token="s3cret"), runtime=runtime).test_client()
    data = {"id": "ATXid_1", "status": "Success", "phoneNumber": A}
    assert client.post("/sms/delivery", data=data).status_code == 403
    assert client.post("/sms/optout", data={"phoneNumber": A}).status_code == 403
    assert _report_count(runtime) == 0
    assert client.post("/sms/delivery?token=s3cret", data=data).status_code == 200


def test_optout_marks_the_member_and_later_messages_are_skipped(queue_sms, member, work, rows, sandbox, client,
                                                                runtime):
    member(A)
    resp = client.post("/sms/optout", data={"senderId": "GOLDSMS", "phoneNumber": "0700 000301"})
    assert resp.status_code == 200 and resp.data == b""
    with runtime.sessions() as session:
        assert session.scalar(select(Member.opted_out).where(Member.phone == A)) is True
    ids = queue_sms([A])
    work()
    assert rows(ids)[0].status is OutboxStatus.SKIPPED
    assert sandbox.accepted_count(A) == 0


def test_optout_for_an_unknown_or_malformed_number_is_acknowledged_and_ignored(client, member, runtime):
    member(A)
    assert client.post("/sms/optout", data={"senderId": "X", "phoneNumber": B}).status_code == 200
    assert client.post("/sms/optout", data={"senderId": "X", "phoneNumber": "not a number"}).status_code == 200
    assert client.post("/sms/optout", data={"senderId": "X"}).status_code == 400
    with runtime.sessions() as session:
        assert session.scalar(select(Member.opted_out).where(Member.phone == A)) is False


def test_inbound_needs_from_text_and_id(client):
    ok = client.post("/sms/inbound", data={"from": A, "to": "8080", "text": "STOP", "id": "abc",
                                           "date": "2026-11-27T05:00:00Z", "linkId": "", "networkCode": "64110"})
    assert ok.status_code == 200 and ok.data == b""
    missing = client.post("/sms/inbound", data={"from": A, "text": "hi"})
    assert missing.status_code == 400 and b"id" in missing.data
