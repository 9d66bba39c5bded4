"""A member whose messages keep failing is flagged for the leaders, and cleared once one gets through."""

from __future__ import annotations

from models import utcnow
from sms.broadcasts import FAILING_AFTER, create_broadcast, run_failing_flags
from sms.outbox import enqueue_send
from sms.runtime import runtime_scope
from tests.messaging.conftest import PETER, leader_tools


def _broadcast(runtime, coop, text: str) -> None:  # type: ignore[no-untyped-def]
    with runtime.sessions() as db, db.begin():
        created = create_broadcast(db, audience="all", text=text, now=utcnow(),
                                   local_day=runtime.settings.local_date(), cooperative_id=coop.id)
    enqueue_send(runtime.queue(), created.queued)


def test_three_failures_in_a_row_flag_the_member_and_a_delivery_clears_the_flag(runtime, coop, sandbox, work,
                                                                                 phone):
    sandbox.behave(statuses={"504": 403})  # Peter's number: InvalidPhoneNumber
    for n in range(FAILING_AFTER - 1):
        _broadcast(runtime, coop, f"News {n}")
        work()
    with runtime_scope(runtime):
        assert run_failing_flags() == {"flagged": 0, "cleared": 0}
    _broadcast(runtime, coop, "News again")
    work()
    with runtime_scope(runtime):
        assert run_failing_flags() == {"flagged": 1, "cleared": 0}
        assert run_failing_flags() == {"flagged": 0, "cleared": 0}
    p = leader_tools(phone)
    report = p.send("4")
    assert "9 Not reached (1)" in report
    assert p.send("9") == "CON SMS keep failing for 1 members:\nPeter\n0 Back 00 Home"
    sandbox.behave(statuses={})
    _broadcast(runtime, coop, "Now it works")
    work()
    with runtime_scope(runtime):
        assert run_failing_flags() == {"flagged": 0, "cleared": 1}
    assert "Not reached" not in leader_tools(phone).send("4")
    assert sandbox.accepted_count(PETER) == 1
