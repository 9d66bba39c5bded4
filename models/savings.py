"""Savings groups (VSLAs), their members, and the append-only ledger.

Money is whole Uganda shillings in integer columns. Balances are never stored: they are
summed from entries (see ``models.ledger``). A reversal copies the entry it reverses with
the signs turned, and names it; ``effect_kind`` says whose totals an entry moves, so every
figure is one ``SUM ... GROUP BY effect_kind``.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UtcDateTime, utcnow
from .members import Cooperative, Member

__all__ = ["SavingsGroup", "GroupMembership", "LedgerEntry", "EntryKind", "PinState"]


class EntryKind(str, enum.Enum):
    SHARES = "shares"            # share purchase: ``shares`` bought, ``amount`` = shares x share value
    SOCIAL_FUND = "social_fund"  # social-fund payment
    LOAN = "loan"                # loan disbursed (cash out of the box)
    REPAYMENT = "repayment"      # loan repayment (cash in)
    INTEREST = "interest"        # service charge added to what the member owes (no cash moves)
    FINE = "fine"                # a fine paid (cash in, shared out with the fund)
    SHARE_OUT = "share_out"      # the member's payout at the end of the cycle (cash out)
    REVERSAL = "reversal"        # undoes the entry it names


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(cls, name=name, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])


class SavingsGroup(Base):
    __tablename__ = "savings_groups"
    __table_args__ = (
        CheckConstraint("share_value > 0", name="share_value_positive"),
        CheckConstraint("loan_multiple >= 0", name="loan_multiple_not_negative"),
        CheckConstraint("interest_percent >= 0", name="interest_not_negative"),
        CheckConstraint("social_fund_amount >= 0", name="social_fund_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cooperative_id: Mapped[int] = mapped_column(ForeignKey("cooperatives.id"))
    name: Mapped[str] = mapped_column(String(120))
    name_key: Mapped[str] = mapped_column(String(120), unique=True)
    share_value: Mapped[int] = mapped_column(Integer)  # UGX, fixed for the cycle
    interest_percent: Mapped[int] = mapped_column(Integer, default=10)  # per month, flat
    loan_multiple: Mapped[int] = mapped_column(Integer, default=3)  # of the member's savings
    social_fund_amount: Mapped[int] = mapped_column(Integer, default=0)  # UGX per meeting
    cycle_start: Mapped[date] = mapped_column(Date)
    cycle_end: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    cooperative: Mapped[Cooperative] = relationship()


class GroupMembership(Base):
    """A member belongs to one savings group and has a number in it, in order of joining."""

    __tablename__ = "group_memberships"
    __table_args__ = (UniqueConstraint("group_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("savings_groups.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), unique=True)
    number: Mapped[int] = mapped_column(Integer)
    joined_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    group: Mapped[SavingsGroup] = relationship()
    member: Mapped[Member] = relationship()


class LedgerEntry(Base):
    """Append-only: rows are inserted, never updated or deleted."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        Index("ix_ledger_membership_kind", "membership_id", "effect_kind"),
        CheckConstraint("(kind = 'reversal') = (reverses_id IS NOT NULL)", name="reversal_names_entry"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("savings_groups.id"), index=True)
    membership_id: Mapped[int] = mapped_column(ForeignKey("group_memberships.id"))
    kind: Mapped[EntryKind] = mapped_column(_enum(EntryKind, "entry_kind"))
    # The kind whose totals this entry moves: its own kind, or for a reversal the reversed one.
    effect_kind: Mapped[EntryKind] = mapped_column(_enum(EntryKind, "entry_effect_kind"))
    shares: Mapped[int] = mapped_column(Integer, default=0)
    amount: Mapped[int] = mapped_column(Integer)  # UGX; negative only on a reversal
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"), unique=True)
    # The interest charged on a loan names that loan, so undoing the loan undoes its interest.
    loan_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))
    due_date: Mapped[date | None] = mapped_column(Date)  # loans
    meeting_date: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(String(120))
    # Who recorded it: a member (a leader on USSD) or an operator label ("cli", "import").
    recorded_by_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    recorded_by: Mapped[str] = mapped_column(String(40))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    idempotency_key: Mapped[str | None] = mapped_column(String(128), unique=True)


class PinState(Base):
    """A member's PIN: a slow salted hash, and the wrong tries counted across sessions."""

    __tablename__ = "member_pins"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    pin_hash: Mapped[str] = mapped_column(String(200))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Receipts without amounts, because phones are shared.
    discreet: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)
