"""The sweep: Redis can be emptied without losing a message; old numbers and texts are not kept."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from models import DeliveryReport, OutboxStatus, phone_key, utcnow
from sms.runtime import runtime_scope
from sms.sweeps import run_sweep, sweep

A, B, C = "+256700000401", "+256700000402", "+256700000403"


def test_emptied_redis_loses_no_message(queue_sms, runtime, work, rows, sandbox):
    ids = queue_sms([A, B])
    runtime.redis.flushdb()  # the queued job is gone
    work()
    assert sandbox.messages() == []
    assert sweep(runtime)["requeued"] == 2
    work()
    assert [r.status for r in rows(ids)] == [OutboxStatus.ACCEPTED, OutboxStatus.ACCEPTED]
    assert sandbox.accepted_count(A) == 1 and sandbox.accepted_count(B) == 1
    assert sweep(runtime)["requeued"] == 0


def test_sweep_does_not_queue_a_waiting_row_again_and_again(queue_sms, runtime, work, sandbox):
    queue_sms([A], enqueue=False)
    assert sweep(runtime)["requeued"] == 1
    assert sweep(runtime)["requeued"] == 0  # its job is still waiting in the queue
    assert runtime.queue().count == 1
    work()
    assert sandbox.accepted_count(A) == 1


def test_retry_that_comes_due_is_queued_by_the_sweep(queue_sms, runtime, send_now, rows, sandbox):
    sandbox.behave(fail_next=1)
    ids = queue_sms([A], enqueue=False)
    t0 = utcnow()
    send_now(ids, t0)
    assert sweep(runtime, now=t0)["requeued"] == 0  # not due yet
    later = t0 + timedelta(seconds=2)
    assert sweep(runtime, now=later)["requeued"] == 1
    (job,) = runtime.queue().jobs
    assert job.args[0] == ids
    send_now(job.args[0], later)  # what the queued job does, on the same clock
    assert rows(ids)[0].status is OutboxStatus.ACCEPTED and sandbox.accepted_count(A) == 1


def test_a_retry_of_a_row_the_sweep_queued_is_queued_again_when_due(queue_sms, runtime, send_now, rows, sandbox):
    # The sweep marks the rows it queues so that it does not queue them twice; a job that puts a
    # row back to pending must drop that mark, or the retry would wait for the mark to expire.
    sandbox.behave(fail_next=1)
    ids = queue_sms([A, B], enqueue=False)
    t0 = utcnow()
    assert sweep(runtime, now=t0)["requeued"] == 2
    (job,) = runtime.queue().jobs
    runtime.queue().empty()
    send_now(job.args[0], t0)  # the gateway answers 500: both go back to pending, to try again later
    assert [r.status for r in rows(ids)] == [OutboxStatus.PENDING, OutboxStatus.PENDING]
    later = t0 + timedelta(seconds=2)
    assert sweep(runtime, now=later)["requeued"] == 2
    (job,) = runtime.queue().jobs
    send_now(job.args[0], later)
    assert sandbox.accepted_count(A) == 1 and sandbox.accepted_count(B) == 1


def test_run_sweep_is_a_job_using_the_worker_runtime(runtime):
    with runtime_scope(runtime):
        counts = run_sweep()
    assert set(counts) == {"expired_leases", "matched_reports", "resent_unknown", "failed_unknown", "requeued",
                           "redacted"}


def test_retention_hashes_old_numbers_and_drops_texts_of_finished_messages(queue_sms, work, rows, client,
                                                                           runtime, sandbox):
    sandbox.behave(statuses={"03": 406})
    done = queue_sms([A, B, C], "Private words")
    work()
    message_id = rows(done)[0].at_message_id
    client.post("/sms/delivery", data={"id": message_id, "status": "Success", "phoneNumber": A})
    waiting = queue_sms(["+256700000404"], enqueue=False)
    days = runtime.settings.outbox_retention_days
    assert sweep(runtime, now=utcnow() + timedelta(days=days - 1))["redacted"] == 0
    assert sweep(runtime, now=utcnow() + timedelta(days=days + 1))["redacted"] == 3
    delivered, accepted, failed = rows(done)
    secret = runtime.settings.secret_key
    assert delivered.phone == phone_key(secret, A, "outbox") and delivered.text is None
    assert accepted.phone == phone_key(secret, B, "outbox") and failed.phone == phone_key(secret, C, "outbox")
    assert all(r.redacted_at is not None and r.text is None for r in (delivered, accepted, failed))
    assert delivered.status is OutboxStatus.DELIVERED and delivered.at_message_id == message_id
    (pending,) = rows(waiting)
    assert pending.phone == "+256700000404" and pending.text == "Meeting on Friday at 10"  # still needed
    assert pending.redacted_at is None
    with runtime.sessions() as session:
        assert session.scalars(select(DeliveryReport.phone)).all() == [None]
