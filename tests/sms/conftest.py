"""Helpers for the SMS tests: put messages in the outbox, and run the send job on a chosen clock."""

from __future__ import annotations

from datetime import datetime
from typing import Callable

import pytest
from sqlalchemy import select

from models import Cooperative, Gender, Member, OutboxMessage
from sms.jobs import send_batch
from sms.outbox import enqueue_send, queue_message
from sms.runtime import Runtime, runtime_scope


@pytest.fixture
def queue_sms(runtime: Runtime) -> Callable[..., list[int]]:
    """``queue_sms(["+256...", ...], "text", enqueue=True)``: outbox rows committed (and jobs queued)."""

    def make(phones: list[str], text: str = "Meeting on Friday at 10", *, enqueue: bool = True,
             purpose: str = "test") -> list[int]:
        with runtime.sessions() as session, session.begin():
            ids = [queue_message(session, phone=p, text=text, purpose=purpose) for p in phones]
        if enqueue:
            enqueue_send(runtime.queue(), [i for i in ids if i is not None])
        return [i for i in ids if i is not None]

    return make


@pytest.fixture
def send_now(runtime: Runtime) -> Callable[..., dict[str, int]]:
    """Run the send job in this process as the worker would, on a fake clock when ``now`` is given."""

    def run(ids: list[int], now: datetime | None = None) -> dict[str, int]:
        with runtime_scope(runtime):
            return send_batch(ids, now=now)

    return run


@pytest.fixture
def rows(runtime: Runtime) -> Callable[..., list[OutboxMessage]]:
    """The outbox rows ``ids`` as they are now in the database, in the order given."""

    def load(ids: list[int]) -> list[OutboxMessage]:
        with runtime.sessions() as session:
            found = {r.id: r for r in session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids)))}
        return [found[i] for i in ids]

    return load


@pytest.fixture
def member(runtime: Runtime) -> Callable[..., int]:
    """Add a member (and a cooperative, once); returns the member's id."""

    def make(phone: str, *, opted_out: bool = False) -> int:
        with runtime.sessions() as session, session.begin():
            coop = session.scalars(select(Cooperative).where(Cooperative.name_key == "test coop")).first()
            if coop is None:
                coop = Cooperative(name="Test Coop", name_key="test coop")
                session.add(coop)
                session.flush()
            person = Member(phone=phone, name="Test", gender=Gender.FEMALE, cooperative_id=coop.id,
                            opted_out=opted_out)
            session.add(person)
            session.flush()
            return person.id

    return make
