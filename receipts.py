"""SMS receipts for savings entries, put in the outbox in the caller's transaction.

Shared by the CLI and the USSD edge. The caller enqueues the returned outbox id after it
commits (``sms.outbox.enqueue_send``), so a receipt is never sent for an entry that was rolled back.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from menus.catalog import Catalogs
from menus.receipts import Balances, receipt_text
from models import EntryKind, GroupMembership, Member, PinState, SavingsGroup
from models.ledger import member_figures
from settings import Settings
from sms.outbox import queue_message

__all__ = ["queue_receipt", "PURPOSE"]

PURPOSE = "receipt"


def queue_receipt(
    session: Session,
    *,
    catalogs: Catalogs,
    settings: Settings,
    membership_id: int,
    kind: EntryKind | str,
    shares: int,
    amount: int,
    corrected: bool = False,
    idempotency_key: str | None = None,
) -> int | None:
    """Queue the member's receipt for an entry just recorded; return the outbox id.

    ``kind`` is the entry's kind; for a reversal pass the kind it undoes with ``corrected=True``.
    The balances are the member's after the entry (read in this transaction). The text is in
    the member's language, without amounts when she chose discreet receipts (a member with
    no PIN yet gets a full one). A repeated ``idempotency_key`` queues nothing and returns None.
    """
    kind = EntryKind(kind)
    if kind is EntryKind.REVERSAL:
        raise ValueError("for a reversal, pass the kind it undoes with corrected=True")
    row = session.execute(
        select(GroupMembership, SavingsGroup, Member, PinState.discreet)
        .join(SavingsGroup, SavingsGroup.id == GroupMembership.group_id)
        .join(Member, Member.id == GroupMembership.member_id)
        .outerjoin(PinState, PinState.member_id == Member.id)
        .where(GroupMembership.id == membership_id)
    ).one_or_none()
    if row is None:
        raise LookupError(f"no group membership {membership_id}")
    membership, group, member, discreet = row
    figures = member_figures(session, membership, group)
    text = receipt_text(
        catalogs.translator(member.language),
        kind=kind.value,
        shares=shares,
        amount=amount,
        balances=Balances(savings=figures.savings, loan=figures.loan_outstanding, social_fund=figures.social_fund),
        day=settings.local_date(),
        discreet=bool(discreet),
        service_code=settings.service_code,
        corrected=corrected,
    )
    return queue_message(session, phone=member.phone, text=text, purpose=PURPOSE, member_id=member.id,
                         idempotency_key=idempotency_key)
