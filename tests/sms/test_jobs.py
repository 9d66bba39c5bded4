"""The send job through the real SDK over HTTP to the sandbox, with real Redis and a real database."""

from __future__ import annotations

import logging
import socket
import threading
from datetime import timedelta

import pytest
from prometheus_client import REGISTRY

from models import OutboxStatus, utcnow
from sms.gateway import Gateway
from sms.jobs import send_rows
from sms.outbox import enqueue_send

A, B, C = "+256700000101", "+256700000102", "+256700000113"
LONG = "Your group meets on Friday at 10 at the washing site. " * 4  # 212 characters: 2 parts


def test_queued_message_is_sent_and_status_id_cost_and_parts_recorded(queue_sms, work, rows, sandbox):
    ids = queue_sms([A], LONG)
    work()
    (row,) = rows(ids)
    (message,) = sandbox.messages(A)
    assert message["message"] == LONG and message["parts"] == 2
    assert row.status is OutboxStatus.ACCEPTED
    assert row.at_status_code == 101 and row.at_status == "Success"
    assert row.at_message_id == message["id"]
    assert row.cost == "UGX 54.0000" and row.parts == 2
    assert row.sent_at is not None and row.attempts == 1


def test_gateway_500s_are_retried_with_backoff_then_recorded_failed(queue_sms, send_now, rows, sandbox):
    sandbox.behave(fail_rate=1.0)
    ids = queue_sms([A], enqueue=False)
    t0 = utcnow()
    assert send_now(ids, t0) == {"calls": 1, "retry": 1}
    (row,) = rows(ids)
    assert row.status is OutboxStatus.PENDING and row.attempts == 1
    assert row.next_attempt_at == t0 + timedelta(seconds=1)
    assert send_now(ids, t0) == {}  # not due yet: no call
    assert send_now(ids, t0 + timedelta(seconds=1))["retry"] == 1
    assert send_now(ids, t0 + timedelta(seconds=2))["retry"] == 1
    assert send_now(ids, t0 + timedelta(seconds=3))["failed"] == 1  # the three intervals are used up
    (row,) = rows(ids)
    assert row.status is OutboxStatus.FAILED and row.attempts == 4
    assert "InternalServerError" in row.last_error
    assert len(sandbox.messaging_calls()) == 4
    assert send_now(ids, t0 + timedelta(days=2)) == {}  # failed is final
    assert sandbox.messages() == []


def test_gateway_that_recovers_after_500s_delivers_exactly_once(queue_sms, send_now, rows, sandbox):
    sandbox.behave(fail_next=2)
    ids = queue_sms([A, B], enqueue=False)
    t0 = utcnow()
    for seconds in range(4):
        send_now(ids, t0 + timedelta(seconds=seconds))
    assert [r.status for r in rows(ids)] == [OutboxStatus.ACCEPTED, OutboxStatus.ACCEPTED]
    assert sandbox.accepted_count(A) == 1 and sandbox.accepted_count(B) == 1


def test_connection_refused_is_retried_not_failed(queue_sms, runtime, rows, settings):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    ids = queue_sms([A], enqueue=False)
    counts = send_rows(runtime, ids, gateway=Gateway.from_settings(settings, dead))
    assert counts == {"calls": 1, "retry": 1}
    assert rows(ids)[0].status is OutboxStatus.PENDING


def test_permanent_failure_per_recipient_is_not_retried(queue_sms, work, send_now, rows, sandbox, runtime):
    from sms.sweeps import sweep

    sandbox.behave(statuses={"13": 403})
    ids = queue_sms([A, C])
    work()
    a, c = rows(ids)
    assert a.status is OutboxStatus.ACCEPTED
    assert c.status is OutboxStatus.FAILED and c.at_status_code == 403 and c.last_error == "InvalidPhoneNumber"
    later = utcnow() + timedelta(days=1)
    sweep(runtime, now=later)
    send_now(ids, later)
    assert len(sandbox.messaging_calls()) == 1
    assert sandbox.accepted_count(A) == 1 and sandbox.accepted_count(C) == 0


def test_retryable_recipient_is_retried_alone(queue_sms, work, send_now, rows, sandbox):
    sandbox.behave(statuses={"02": 500})
    ids = queue_sms([A, B])
    work()
    a, b = rows(ids)
    assert a.status is OutboxStatus.ACCEPTED and b.status is OutboxStatus.PENDING and b.attempts == 1
    sandbox.behave(statuses={})
    send_now(ids, utcnow() + timedelta(seconds=2))
    assert [r.status for r in rows(ids)] == [OutboxStatus.ACCEPTED, OutboxStatus.ACCEPTED]
    assert sandbox.messaging_calls()[1]["form"]["to"] == B
    assert sandbox.accepted_count(A) == 1 and sandbox.accepted_count(B) == 1


def test_250_rows_of_one_text_go_in_three_calls_of_at_most_100(queue_sms, work, rows, sandbox):
    phones = [f"+256701{n:06d}" for n in range(250)]
    ids = queue_sms(phones)
    work()
    sizes = sorted(len(call["form"]["to"].split(",")) for call in sandbox.messaging_calls())
    assert sizes == [50, 100, 100]
    assert all(sandbox.accepted_count(p) == 1 for p in phones)
    assert {r.status for r in rows(ids)} == {OutboxStatus.ACCEPTED}


def test_one_job_with_two_texts_makes_one_call_per_text(queue_sms, runtime, work, sandbox):
    ids = queue_sms([A, B], "first", enqueue=False) + queue_sms([A], "second", enqueue=False)
    enqueue_send(runtime.queue(), ids)  # one job, texts mixed
    work()
    calls = sandbox.messaging_calls()
    assert sorted((c["form"]["message"], c["form"]["to"]) for c in calls) == [("first", f"{A},{B}"), ("second", A)]


def test_a_job_queued_twice_sends_once(queue_sms, runtime, work, sandbox):
    ids = queue_sms([A, B])
    enqueue_send(runtime.queue(), ids)
    work()
    assert len(sandbox.messaging_calls()) == 1
    assert sandbox.accepted_count(A) == 1 and sandbox.accepted_count(B) == 1


def _race(send_now, ids: list[int], jobs: int) -> list[dict]:
    """Run ``jobs`` send jobs for the same ids at the same moment; returns their counts."""
    start = threading.Barrier(jobs)
    results: list[dict] = []
    errors: list[BaseException] = []

    def job() -> None:
        start.wait()
        try:
            results.append(send_now(ids))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=job) for _ in range(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    return results


def test_concurrent_jobs_for_the_same_rows_send_each_message_once(queue_sms, send_now, sandbox):
    for round_ in range(5):
        phones = [f"+25670200{round_}{n:03d}" for n in range(20)]
        ids = queue_sms(phones, enqueue=False)
        results = _race(send_now, ids, jobs=3)
        assert sum(r.get("accepted", 0) for r in results) == 20
        assert all(sandbox.accepted_count(p) == 1 for p in phones)


def test_opted_out_member_is_skipped_and_counted(queue_sms, member, work, rows, sandbox):
    member(A, opted_out=True)
    member(B)
    ids = queue_sms([A, B], purpose="broadcast")
    work()
    a, b = rows(ids)
    assert a.status is OutboxStatus.SKIPPED and a.attempts == 0
    assert b.status is OutboxStatus.ACCEPTED
    assert sandbox.accepted_count(A) == 0 and sandbox.accepted_count(B) == 1
    assert all(A not in call["form"]["to"] for call in sandbox.messaging_calls())


def test_stop_does_not_stop_a_receipt_or_a_topic_the_member_asked_for(queue_sms, member, work, rows, sandbox):
    member(A, opted_out=True)
    receipt = queue_sms([A], "Minerline 27/11: 2 shares (4,000) recorded for you.", purpose="receipt")
    rights = queue_sms([A], "Where to get help: call 116.", purpose="rights")
    work()
    assert [r.status for r in rows(receipt + rights)] == [OutboxStatus.ACCEPTED, OutboxStatus.ACCEPTED]
    assert sandbox.accepted_count(A) == 2


def test_report_that_beats_the_job_commit_is_applied_when_the_id_is_recorded(queue_sms, client, work, rows, sandbox):
    sandbox.behave(message_ids=["ATXid_early"])
    resp = client.post("/sms/delivery", data={"id": "ATXid_early", "status": "Success", "phoneNumber": A})
    assert resp.status_code == 200
    ids = queue_sms([A])
    work()
    (row,) = rows(ids)
    assert row.at_message_id == "ATXid_early"
    assert row.status is OutboxStatus.DELIVERED and row.delivery_status == "Success"


def test_send_counts_messages_in_metrics_without_numbers(queue_sms, work, client, sandbox):
    def accepted() -> float:
        return REGISTRY.get_sample_value("minerline_sms_messages_total", {"status": "accepted"}) or 0.0

    before = accepted()
    queue_sms([A, B])
    work()
    assert accepted() == before + 2
    body = client.get("/metrics").get_data(as_text=True)
    assert "minerline_sms_messages_total" in body
    assert "700000101" not in body and "700000102" not in body


def test_send_logs_carry_no_numbers_or_text(queue_sms, work, sandbox, caplog):
    sandbox.behave(statuses={"13": 403})
    with caplog.at_level(logging.DEBUG):
        queue_sms([A, C], "secret words")
        work()
    logged = " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records if r.name.startswith("minerline"))
    assert "send batch" in logged
    assert "700000101" not in logged and "700000113" not in logged and "secret words" not in logged


def test_a_large_send_goes_in_few_jobs_each_with_time_for_all_its_calls(runtime):
    from sms.outbox import BATCH_SIZE, JOB_SIZE

    queue = runtime.queue()
    assert enqueue_send(queue, list(range(1, 2 * JOB_SIZE + 2))) == 3
    jobs = [queue.fetch_job(job_id) for job_id in queue.job_ids]
    assert [len(job.args[0]) for job in jobs] == [JOB_SIZE, JOB_SIZE, 1]
    # Each call may wait for a connect and a read timeout: the job must not be killed before its last call.
    per_call = runtime.settings.sms_connect_timeout + runtime.settings.sms_read_timeout
    assert jobs[0].timeout >= (JOB_SIZE // BATCH_SIZE) * per_call
    assert jobs[2].timeout >= per_call
    queue.empty()


def test_a_refused_call_and_a_timed_out_call_inside_one_job_touch_only_their_own_rows(queue_sms, send_now, rows,
                                                                                      sandbox):
    phones = [f"+256702{n:06d}" for n in range(350)]
    ids = queue_sms(phones, enqueue=False)
    sandbox.behave(fail_next=1, timeout_next=1)  # the 1st call answers 500; the 2nd is accepted, answered late
    counts = send_now(ids)
    assert counts["calls"] == 4
    assert (counts["retry"], counts["unknown"], counts["accepted"]) == (100, 100, 150)
    statuses = [r.status for r in rows(ids)]
    assert statuses[:100] == [OutboxStatus.PENDING] * 100  # provably not accepted: retried later
    assert statuses[100:200] == [OutboxStatus.UNKNOWN] * 100  # taken, answer lost: settled by reports
    assert statuses[200:] == [OutboxStatus.ACCEPTED] * 150
    assert all(sandbox.accepted_count(p) == 1 for p in phones[100:])
    assert all(sandbox.accepted_count(p) == 0 for p in phones[:100])


def _statuses(runtime, ids):
    from sqlalchemy import select

    from models import OutboxMessage

    with runtime.sessions() as session:
        found = dict(session.execute(select(OutboxMessage.id, OutboxMessage.status)
                                     .where(OutboxMessage.id.in_(ids))).all())
    return [found[i] for i in ids]


def test_a_job_that_loses_one_calls_rows_still_sends_the_rest(queue_sms, runtime, sandbox, monkeypatch):
    from sqlalchemy import update

    import sms.jobs as jobs
    from models import OutboxMessage

    phones = [f"+256703{n:06d}" for n in range(300)]
    ids = queue_sms(phones, enqueue=False)
    monkeypatch.setattr(jobs, "_RENEW_AFTER", -1.0)  # renew before every call, as after a slow one
    renew, renewals = jobs._renew, []

    def lose_the_second(session, token, chunk, lease_seconds, now):
        renewals.append(chunk)
        if len(renewals) == 2:  # the sweep took these back meanwhile (their lease ran out)
            with runtime.engine.begin() as conn:
                conn.execute(update(OutboxMessage).where(OutboxMessage.id.in_([r.id for r in chunk]))
                             .values(status=OutboxStatus.UNKNOWN, unknown_since=utcnow()))
        return renew(session, token, chunk, lease_seconds, now)

    monkeypatch.setattr(jobs, "_renew", lose_the_second)
    assert send_rows(runtime, ids)["accepted"] == 200
    statuses = _statuses(runtime, ids)
    assert set(statuses[100:200]) == {OutboxStatus.UNKNOWN}  # not this job's any more: not sent by it
    assert set(statuses[:100]) == set(statuses[200:]) == {OutboxStatus.ACCEPTED}
    assert [sandbox.accepted_count(p) for p in phones] == [1] * 100 + [0] * 100 + [1] * 100


def test_counts_are_what_was_written_when_the_sweep_took_the_rows_mid_call(queue_sms, runtime, sandbox,
                                                                           monkeypatch):
    from sqlalchemy import update

    from models import OutboxMessage

    ids = queue_sms([f"+256705{n:06d}" for n in range(100)], enqueue=False)
    send = Gateway.send

    def slow_send(self, text, numbers):
        answer = send(self, text, numbers)
        with runtime.engine.begin() as conn:  # the lease ran out during the call; the sweep made them unknown
            conn.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids))
                         .values(status=OutboxStatus.UNKNOWN, unknown_since=utcnow()))
        return answer

    monkeypatch.setattr(Gateway, "send", slow_send)
    counts = send_rows(runtime, ids)
    assert counts.get("accepted", 0) == 0  # the answer came too late to be written: none counted
    assert set(_statuses(runtime, ids)) == {OutboxStatus.UNKNOWN}


def test_a_job_killed_by_its_timeout_gives_back_the_rows_it_never_sent(queue_sms, runtime, sandbox, rows):
    from rq.timeouts import JobTimeoutException, UnixSignalDeathPenalty

    phones = [f"+256704{n:06d}" for n in range(300)]
    ids = queue_sms(phones, enqueue=False)
    sandbox.behave(timeout_next=5)  # every call is taken, and answered after the client's read timeout
    with pytest.raises(JobTimeoutException), UnixSignalDeathPenalty(2, JobTimeoutException, job_id="t"):
        send_rows(runtime, ids)  # RQ's death penalty fires during the second call
    sent = [sandbox.accepted_count(p) for p in phones]
    assert sent == [1] * 200 + [0] * 100
    after = rows(ids)
    # Both calls that went out are of unknown outcome (the one in flight was waited for and recorded);
    # the slice claimed ahead of them is pending again, untouched, for the sweep to queue.
    assert {r.status for r in after[:200]} == {OutboxStatus.UNKNOWN}
    assert {(r.status, r.attempts, r.claim_token) for r in after[200:]} == {(OutboxStatus.PENDING, 0, None)}


def test_a_job_starts_no_call_after_its_deadline_and_leaves_the_rest_pending(queue_sms, runtime, sandbox, rows):
    import time

    phones = [f"+256706{n:06d}" for n in range(300)]
    ids = queue_sms(phones, enqueue=False)
    sandbox.behave(timeout_next=1)  # the first call takes the whole read timeout
    counts = send_rows(runtime, ids, deadline=time.monotonic() + 0.3)
    assert counts["calls"] == 1 and counts["unknown"] == 100
    assert [sandbox.accepted_count(p) for p in phones] == [1] * 100 + [0] * 200
    assert {(r.status, r.attempts, r.claim_token) for r in rows(ids)[100:]} == {(OutboxStatus.PENDING, 0, None)}


def test_the_next_calls_go_out_while_an_answer_is_still_being_recorded(queue_sms, runtime, sandbox, rows,
                                                                       monkeypatch):
    """The call thread has the next calls' rows claimed and committed in hand: a slow database while an
    answer is recorded does not hold up the calls after it."""
    import time

    import sms.jobs as jobs

    phones = [f"+256707{n:06d}" for n in range(400)]
    ids = queue_sms(phones, enqueue=False)
    record, seen_while_recording = jobs._record, []

    def slow_record(*args, **kwargs):
        if not seen_while_recording:  # the first answer: wait (up to 5 s) for the calls after it
            deadline = time.monotonic() + 5
            while len(sandbox.messaging_calls()) < 3 and time.monotonic() < deadline:
                time.sleep(0.01)
            seen_while_recording.append(len(sandbox.messaging_calls()))
        return record(*args, **kwargs)

    monkeypatch.setattr(jobs, "_record", slow_record)
    counts = send_rows(runtime, ids)
    assert seen_while_recording[0] >= 3  # calls 2 and 3 went out before call 1's answer was written
    assert counts["accepted"] == 400 and counts["calls"] == 4
    assert {r.status for r in rows(ids)} == {OutboxStatus.ACCEPTED}
    assert [sandbox.accepted_count(p) for p in phones] == [1] * 400


def test_rows_claimed_when_the_deadline_passes_go_back_to_pending_unsent(queue_sms, runtime, sandbox, rows,
                                                                        monkeypatch):
    import time

    import sms.jobs as jobs

    phones = [f"+256708{n:06d}" for n in range(300)]
    ids = queue_sms(phones, enqueue=False)
    claim = jobs._claim

    def slow_claim(session, slice_ids, lease_seconds, now):
        claimed = claim(session, slice_ids, lease_seconds, now)
        time.sleep(0.4)  # the job's time runs out while it claims, before any call is handed over
        return claimed

    monkeypatch.setattr(jobs, "_claim", slow_claim)
    counts = send_rows(runtime, ids, deadline=time.monotonic() + 0.2)
    assert counts.get("calls", 0) == 0 and sandbox.messaging_calls() == []
    assert {(r.status, r.attempts, r.claim_token) for r in rows(ids)} == {(OutboxStatus.PENDING, 0, None)}


def test_a_renewal_that_fails_gives_its_rows_back_and_the_job_fails(queue_sms, runtime, sandbox, rows,
                                                                   monkeypatch):
    from sqlalchemy.exc import OperationalError

    import sms.jobs as jobs

    phones = [f"+256709{n:06d}" for n in range(200)]
    ids = queue_sms(phones, enqueue=False)
    monkeypatch.setattr(jobs, "_RENEW_AFTER", -1.0)  # every chunk is stale when the call thread takes it

    def failing_renew(session, token, chunk, lease_seconds, now):
        raise OperationalError("UPDATE outbox ...", {}, Exception("database is locked"))

    monkeypatch.setattr(jobs, "_renew", failing_renew)
    with pytest.raises(OperationalError):
        send_rows(runtime, ids)
    assert sandbox.messaging_calls() == []  # nothing went out without a renewed lease
    assert {(r.status, r.attempts, r.claim_token) for r in rows(ids)} == {(OutboxStatus.PENDING, 0, None)}
