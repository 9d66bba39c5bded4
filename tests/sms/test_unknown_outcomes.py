"""Sends whose outcome is unknown (a read timeout, a worker that died holding a lease) are reconciled
with delivery reports and re-sent once only when no report comes within SMS_RECONCILE_SECONDS."""

from __future__ import annotations

from datetime import timedelta

from models import OutboxStatus, utcnow
from sms.gateway import Gateway
from sms.jobs import claim
from sms.sweeps import sweep

A, B = "+256700000201", "+256700000202"


def _report(client, message_id: str, phone: str, status: str = "Success"):
    resp = client.post("/sms/delivery", data={"id": message_id, "status": status, "phoneNumber": phone,
                                              "networkCode": "64110", "retryCount": "0"})
    assert resp.status_code == 200 and resp.data == b""


def test_read_timeout_then_report_sends_nothing_twice(queue_sms, work, send_now, rows, sandbox, client, runtime):
    sandbox.behave(timeout_next=1)
    ids = queue_sms([A])
    work()
    (row,) = rows(ids)
    assert row.status is OutboxStatus.UNKNOWN and row.unknown_since is not None and row.at_message_id is None
    (message,) = sandbox.messages(A)  # the gateway took it; we never saw its answer
    _report(client, message["id"], A)
    (row,) = rows(ids)
    assert row.status is OutboxStatus.DELIVERED and row.at_message_id == message["id"]
    later = utcnow() + timedelta(seconds=runtime.settings.sms_reconcile_seconds + 60)
    assert sweep(runtime, now=later)["resent_unknown"] == 0
    send_now(ids, later)
    work()
    assert sandbox.accepted_count(A) == 1


def test_read_timeout_without_report_is_resent_exactly_once_after_reconcile(queue_sms, work, send_now, rows,
                                                                           sandbox, runtime):
    sandbox.behave(timeout_next=1)
    ids = queue_sms([A])
    work()
    since = rows(ids)[0].unknown_since
    wait = timedelta(seconds=runtime.settings.sms_reconcile_seconds)
    assert sweep(runtime, now=since + wait - timedelta(seconds=1))["resent_unknown"] == 0
    send_now(ids, since + wait - timedelta(seconds=1))
    assert rows(ids)[0].status is OutboxStatus.UNKNOWN and sandbox.accepted_count(A) == 1
    assert sweep(runtime, now=since + wait)["resent_unknown"] == 1
    (row,) = rows(ids)
    assert row.status is OutboxStatus.PENDING and row.attempts == 1
    send_now(ids, since + wait)
    assert rows(ids)[0].status is OutboxStatus.ACCEPTED
    for hours in (1, 24, 48):
        sweep(runtime, now=since + timedelta(hours=hours))
        send_now(ids, since + timedelta(hours=hours))
    assert sandbox.accepted_count(A) == 2


def test_report_for_one_of_two_timed_out_numbers_leaves_only_the_other_for_resend(queue_sms, work, send_now, rows,
                                                                                 sandbox, client, runtime):
    sandbox.behave(timeout_next=1)
    ids = queue_sms([A, B])
    work()
    _report(client, sandbox.messages(A)[0]["id"], A, status="Sent")
    later = rows(ids)[0].unknown_since + timedelta(seconds=runtime.settings.sms_reconcile_seconds)
    assert sweep(runtime, now=later)["resent_unknown"] == 1
    send_now(ids, later)
    a, b = rows(ids)
    assert a.status is OutboxStatus.ACCEPTED and a.delivery_status == "Sent"
    assert b.status is OutboxStatus.ACCEPTED
    assert sandbox.accepted_count(A) == 1 and sandbox.accepted_count(B) == 2


def _worker_dies_after_sending(runtime, ids, phone: str):
    """A worker claims the rows, the gateway accepts them, and the worker dies before recording anything."""
    now = utcnow()
    with runtime.sessions() as session:
        claim(session, ids, runtime.settings.sms_lease_seconds, now)
        session.commit()
    Gateway.from_runtime(runtime).send("Meeting on Friday at 10", [phone])
    return now + timedelta(seconds=runtime.settings.sms_lease_seconds)


def test_expired_lease_is_unknown_and_not_resent_blindly(queue_sms, send_now, rows, sandbox, runtime):
    ids = queue_sms([A], enqueue=False)
    lease_until = _worker_dies_after_sending(runtime, ids, A)
    send_now(ids)  # a second job finds the row claimed
    assert sweep(runtime, now=lease_until - timedelta(seconds=1))["expired_leases"] == 0
    assert rows(ids)[0].status is OutboxStatus.SENDING
    assert sweep(runtime, now=lease_until + timedelta(seconds=1))["expired_leases"] == 1
    (row,) = rows(ids)
    assert row.status is OutboxStatus.UNKNOWN and row.unknown_since == row.lease_until
    send_now(ids, lease_until + timedelta(seconds=1))
    assert sandbox.accepted_count(A) == 1
    # No report within SMS_RECONCILE_SECONDS: exactly one re-send.
    later = lease_until + timedelta(seconds=runtime.settings.sms_reconcile_seconds)
    assert sweep(runtime, now=later)["resent_unknown"] == 1
    send_now(ids, later)
    sweep(runtime, now=later + timedelta(hours=2))
    send_now(ids, later + timedelta(hours=2))
    assert sandbox.accepted_count(A) == 2


def test_report_that_arrives_while_a_dead_worker_holds_the_lease_prevents_a_resend(queue_sms, send_now, rows,
                                                                                   sandbox, client, runtime):
    ids = queue_sms([A], enqueue=False)
    lease_until = _worker_dies_after_sending(runtime, ids, A)
    _report(client, sandbox.messages(A)[0]["id"], A)  # stored: the row is still 'sending'
    assert rows(ids)[0].status is OutboxStatus.SENDING
    counts = sweep(runtime, now=lease_until + timedelta(seconds=1))
    assert counts["expired_leases"] == 1 and counts["matched_reports"] == 1
    assert rows(ids)[0].status is OutboxStatus.DELIVERED
    later = lease_until + timedelta(seconds=runtime.settings.sms_reconcile_seconds + 1)
    assert sweep(runtime, now=later)["resent_unknown"] == 0
    send_now(ids, later)
    assert sandbox.accepted_count(A) == 1


def test_unknown_twice_past_the_retry_limit_is_recorded_failed(queue_sms, work, send_now, rows, sandbox, runtime):
    sandbox.behave(timeout_rate=1.0)
    ids = queue_sms([A])
    work()
    now = rows(ids)[0].unknown_since
    step = timedelta(seconds=runtime.settings.sms_reconcile_seconds)
    for _ in range(len(runtime.settings.sms_retry_intervals)):
        now += step
        assert sweep(runtime, now=now)["resent_unknown"] == 1
        send_now(ids, now)
        assert rows(ids)[0].status is OutboxStatus.UNKNOWN
    now += step
    assert sweep(runtime, now=now)["failed_unknown"] == 1
    (row,) = rows(ids)
    assert row.status is OutboxStatus.FAILED and "no delivery report" in row.last_error
    assert sandbox.accepted_count(A) == 1 + len(runtime.settings.sms_retry_intervals)
