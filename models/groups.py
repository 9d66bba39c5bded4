"""Savings groups for operators: creating one, adding members, finding one by name, and its statement.

The caller owns the transaction. Refusals raise :class:`GroupError` with a reason for an operator.
Figures come from ``models.ledger``; nothing here stores a balance.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from .ledger import GroupFigures, MemberFigures, apportion, figures_from_sums, group_figures
from .members import Cooperative, Member
from .phones import InvalidPhone, normalize_phone
from .savings import EntryKind, GroupMembership, LedgerEntry, SavingsGroup

__all__ = [
    "GroupError",
    "NewGroup",
    "StatementLine",
    "MemberLine",
    "Statement",
    "find_group",
    "find_member",
    "create_group",
    "add_member",
    "group_statement",
    "apportion",
]


class GroupError(Exception):
    """Refused; the message says why."""


def _key(name: str) -> str:
    return Cooperative.key_for(name)


def find_group(session: Session, name: str) -> SavingsGroup:
    """The group whose name matches ignoring case and extra spaces, or GroupError."""
    group = session.scalar(select(SavingsGroup).where(SavingsGroup.name_key == _key(name)))
    if group is None:
        raise GroupError(f"no savings group named {name!r}")
    return group


def find_member(session: Session, phone: str) -> Member:
    """The member with this phone (any Ugandan form), or GroupError."""
    try:
        e164 = normalize_phone(phone)
    except InvalidPhone as exc:
        raise GroupError(str(exc)) from None
    member = session.scalar(select(Member).where(Member.phone == e164))
    if member is None:
        raise GroupError(f"no member with phone {e164}")
    return member


@dataclass
class NewGroup:
    group: SavingsGroup
    joined: list[GroupMembership]
    skipped: list[GroupMembership]  # the members' memberships of the group they are already in


def create_group(
    session: Session,
    *,
    cooperative: str,
    name: str,
    share_value: int,
    cycle_start: date,
    interest_percent: int = 10,
    loan_multiple: int = 3,
    social_fund: int = 0,
) -> NewGroup:
    """Create a group in a cooperative and enrol every member of it who is in no group yet.

    Member numbers follow the order of joining (member id). Group names are unique
    ignoring case and extra spaces.
    """
    coop = session.scalar(select(Cooperative).where(Cooperative.name_key == _key(cooperative)))
    if coop is None:
        raise GroupError(f"no cooperative named {cooperative!r}")
    clean = " ".join(name.split())
    if not clean:
        raise GroupError("the group needs a name")
    if share_value <= 0:
        raise GroupError("the share value must be more than 0")
    for label, value in (("interest", interest_percent), ("loan multiple", loan_multiple),
                         ("social fund", social_fund)):
        if value < 0:
            raise GroupError(f"the {label} cannot be negative")
    existing = session.scalar(select(SavingsGroup.name).where(SavingsGroup.name_key == _key(clean)))
    if existing is not None:
        raise GroupError(f"a savings group named {existing!r} already exists")
    group = SavingsGroup(cooperative_id=coop.id, name=clean, name_key=_key(clean), share_value=share_value,
                         interest_percent=interest_percent, loan_multiple=loan_multiple,
                         social_fund_amount=social_fund, cycle_start=cycle_start)
    session.add(group)
    session.flush()
    members = list(session.scalars(select(Member).where(Member.cooperative_id == coop.id).order_by(Member.id)))
    already = {
        gm.member_id: gm for gm in session.scalars(
            select(GroupMembership).where(GroupMembership.member_id.in_([m.id for m in members])))
    } if members else {}
    result = NewGroup(group, [], [])
    for member in members:
        if member.id in already:
            result.skipped.append(already[member.id])
            continue
        membership = GroupMembership(group_id=group.id, member_id=member.id, number=len(result.joined) + 1)
        membership.member = member
        session.add(membership)
        result.joined.append(membership)
    session.flush()
    return result


def add_member(session: Session, group: SavingsGroup, phone: str) -> tuple[GroupMembership, bool]:
    """Enrol the member with this phone under the next number; returns (membership, newly added).

    A member already in this group is returned as is; one in another group, or of another
    cooperative, is refused.
    """
    member = find_member(session, phone)
    if member.cooperative_id != group.cooperative_id:
        raise GroupError(f"{member.name} is a member of {member.cooperative.name}, "
                         f"not of {group.cooperative.name}")
    current = session.scalar(select(GroupMembership).where(GroupMembership.member_id == member.id))
    if current is not None:
        if current.group_id == group.id:
            return current, False
        raise GroupError(f"{member.name} is already number {current.number} in {current.group.name}")
    last = session.scalar(select(func.coalesce(func.max(GroupMembership.number), 0))
                          .where(GroupMembership.group_id == group.id))
    membership = GroupMembership(group_id=group.id, member_id=member.id, number=int(last or 0) + 1)
    membership.member = member
    session.add(membership)
    session.flush()
    return membership, True


@dataclass(frozen=True)
class StatementLine:
    entry: LedgerEntry
    number: int
    member_name: str
    recorded_by: str  # the leader's name when a member recorded it, else the operator label
    reversed_by: int | None  # the reversal that undid this entry


@dataclass(frozen=True)
class MemberLine:
    number: int
    name: str
    figures: MemberFigures
    projected_share_out: int


@dataclass(frozen=True)
class Statement:
    group: SavingsGroup
    lines: list[StatementLine]
    members: list[MemberLine]
    totals: GroupFigures

    @property
    def fund(self) -> int:
        """What would be shared out today if every loan were repaid."""
        return self.totals.loan_fund

    @property
    def value_per_share(self) -> int:
        """The fund over the shares, rounded down to a shilling (0 with no shares)."""
        return self.fund // self.totals.shares if self.totals.shares > 0 else 0


def group_statement(session: Session, group: SavingsGroup) -> Statement:
    """The group's ledger in the order it was recorded, each member's figures, and the totals."""
    member, recorder = aliased(Member), aliased(Member)
    rows = session.execute(
        select(LedgerEntry, GroupMembership.number, member.name, recorder.name)
        .join(GroupMembership, GroupMembership.id == LedgerEntry.membership_id)
        .join(member, member.id == GroupMembership.member_id)
        .outerjoin(recorder, recorder.id == LedgerEntry.recorded_by_member_id)
        .where(LedgerEntry.group_id == group.id)
        .order_by(LedgerEntry.id)
    ).all()
    reversed_by = {e.reverses_id: e.id for e, *_ in rows if e.reverses_id is not None}
    lines = [StatementLine(e, number, name, by or e.recorded_by, reversed_by.get(e.id))
             for e, number, name, by in rows]

    sums: dict[int, dict[EntryKind, tuple[int, int]]] = defaultdict(dict)
    for membership_id, kind, shares, amount in session.execute(
        select(LedgerEntry.membership_id, LedgerEntry.effect_kind, func.coalesce(func.sum(LedgerEntry.shares), 0),
               func.coalesce(func.sum(LedgerEntry.amount), 0))
        .where(LedgerEntry.group_id == group.id)
        .group_by(LedgerEntry.membership_id, LedgerEntry.effect_kind)
    ):
        sums[membership_id][EntryKind(kind)] = (int(shares), int(amount))
    memberships = session.execute(
        select(GroupMembership.id, GroupMembership.number, Member.name)
        .join(Member, Member.id == GroupMembership.member_id)
        .where(GroupMembership.group_id == group.id)
        .order_by(GroupMembership.number)
    ).all()
    figures = [figures_from_sums(sums.get(mid, {}), group.share_value)[0] for mid, _n, _name in memberships]
    totals = group_figures(session, group)
    projected = apportion(totals.loan_fund, [f.shares for f in figures])
    members = [MemberLine(number, name, f, p)
               for (_mid, number, name), f, p in zip(memberships, figures, projected, strict=True)]
    return Statement(group, lines, members, totals)
