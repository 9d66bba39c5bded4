from __future__ import annotations

from datetime import date

import pytest

from models import Cooperative, Gender, GroupMembership, Member, Role, SavingsGroup


@pytest.fixture
def group_factory(runtime):  # type: ignore[no-untyped-def]
    """A savings group with members: returns (group id, {name: (member id, membership id)})."""

    def make(names=("Amina", "Betty", "Christine"), share_value=2000, interest_percent=10, loan_multiple=3,
             social_fund=500, roles=None, phones=None):
        roles = roles or {}
        with runtime.sessions() as db, db.begin():
            coop = Cooperative(name="Kitumbi Women Miners", name_key="kitumbi women miners")
            db.add(coop)
            db.flush()
            group = SavingsGroup(cooperative_id=coop.id, name="Tusubira", name_key="tusubira",
                                 share_value=share_value, interest_percent=interest_percent,
                                 loan_multiple=loan_multiple, social_fund_amount=social_fund,
                                 cycle_start=date(2026, 9, 1))
            db.add(group)
            db.flush()
            ids = {}
            for n, name in enumerate(names, start=1):
                phone = (phones or {}).get(name, f"+2567000001{n:02d}")
                m = Member(phone=phone, name=name, gender=Gender.FEMALE, role=roles.get(name, Role.MEMBER),
                           language="en", cooperative_id=coop.id)
                db.add(m)
                db.flush()
                gm = GroupMembership(group_id=group.id, member_id=m.id, number=n)
                db.add(gm)
                db.flush()
                ids[name] = (m.id, gm.id)
            return group.id, ids

    return make
