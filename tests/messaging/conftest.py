"""A cooperative with a chair in a savings group (Leader tools sit behind the savings PIN), members in
three languages and one who sent STOP; a clock for the USSD hops; helpers to send what is due."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Callable

import pytest
from sqlalchemy import select

from models import (
    Cooperative,
    Gender,
    GroupMembership,
    Member,
    OutboxMessage,
    OutboxStatus,
    Role,
    SavingsGroup,
)
from sms.jobs import send_rows
from sms.outbox import due_pending

SARAH, AMINA, JOYCE, PETER, GRACE = "+256700000501", "+256700000502", "+256700000503", "+256700000504", \
    "+256700000505"
LEADER_PIN = "1470"


@dataclass(frozen=True)
class Coop:
    id: int
    members: dict[str, int]  # phone -> member id

    @property
    def takes_sms(self) -> list[str]:
        return [SARAH, AMINA, JOYCE, PETER]


@pytest.fixture
def coop(runtime) -> Coop:  # type: ignore[no-untyped-def]
    """Kitumbi Women Miners: Sarah (chair, en), Amina (sw), Joyce (lg), Peter (a man, en), Grace (opted out)."""
    people = [(SARAH, "Sarah", Role.CHAIR, "en", Gender.FEMALE, False),
              (AMINA, "Amina", Role.MEMBER, "sw", Gender.FEMALE, False),
              (JOYCE, "Joyce", Role.TREASURER, "lg", Gender.FEMALE, False),
              (PETER, "Peter", Role.MEMBER, "en", Gender.MALE, False),
              (GRACE, "Grace", Role.MEMBER, "en", Gender.FEMALE, True)]
    with runtime.sessions() as db, db.begin():
        coop = Cooperative(name="Kitumbi Women Miners", name_key="kitumbi women miners")
        db.add(coop)
        db.flush()
        group = SavingsGroup(cooperative_id=coop.id, name="Tusubira", name_key="tusubira", share_value=2000,
                             interest_percent=10, loan_multiple=3, social_fund_amount=500,
                             cycle_start=date(2026, 9, 1))
        db.add(group)
        db.flush()
        ids = {}
        for n, (phone, name, role, lang, gender, out) in enumerate(people, start=1):
            m = Member(phone=phone, name=name, role=role, language=lang, gender=gender, cooperative_id=coop.id,
                       opted_out=out)
            db.add(m)
            db.flush()
            db.add(GroupMembership(group_id=group.id, member_id=m.id, number=n))
            ids[phone] = m.id
        return Coop(coop.id, ids)


@pytest.fixture
def clock(app):  # type: ignore[no-untyped-def]
    """The USSD hops' clock, moved by hand: ``clock.now``, ``clock.set(dt)``, ``clock.advance(hours=2)``."""
    from ussd.endpoint import hop_handler

    class Clock:
        def __init__(self) -> None:
            self.now = datetime.now(UTC).replace(microsecond=0)

        def set(self, moment: datetime) -> None:
            self.now = moment

        def advance(self, **delta: float) -> datetime:
            self.now += timedelta(**delta)
            return self.now

    c = Clock()
    hop_handler(app).now = lambda: c.now
    return c


@pytest.fixture
def send_due(runtime) -> Callable[[datetime], dict[str, int]]:  # type: ignore[no-untyped-def]
    """Send every pending outbox row due at ``now``, as the sweep and the worker would at that time."""

    def run(now: datetime) -> dict[str, int]:
        with runtime.sessions() as session:
            due = list(due_pending(session, now))
        return send_rows(runtime, due, now=now) if due else {}

    return run


@pytest.fixture
def outbox(runtime) -> Callable[..., list[OutboxMessage]]:  # type: ignore[no-untyped-def]
    """Outbox rows, oldest first, optionally of one purpose."""

    def load(purpose: str | None = None, status: OutboxStatus | None = None) -> list[OutboxMessage]:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if purpose:
            query = query.where(OutboxMessage.purpose == purpose)
        if status:
            query = query.where(OutboxMessage.status == status)
        with runtime.sessions() as session:
            return list(session.scalars(query))

    return load


def fresh(phone, number):  # type: ignore[no-untyped-def]
    """Dial, declining an offer to continue an earlier session."""
    p = phone(number)
    if "cut off" in p.dial():
        p.send("2")
    return p


def leader_tools(phone, number: str = SARAH, pin: str = LEADER_PIN):  # type: ignore[no-untyped-def]
    """Dial and open Leader tools (item 7 of a leader's main menu), setting the PIN the first time."""
    p = fresh(phone, number)
    first = p.send("7")
    if "Choose a 4-number PIN" in first:
        p.send(pin)
        p.send(pin)
        p.send("1")
    else:
        p.send(pin)
    assert "Send a message" in p.screen, p.screen
    return p


def inbound(client, phone: str, text: str, message_id: str, date: str = "2026-11-27T09:00:00Z"):  # type: ignore[no-untyped-def]
    """POST /sms/inbound as the gateway does."""
    return client.post("/sms/inbound", data={"from": phone, "to": "8080", "text": text, "date": date,
                                              "id": message_id, "linkId": "", "networkCode": "64110"})
