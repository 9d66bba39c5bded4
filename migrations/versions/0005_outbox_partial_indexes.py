"""outbox: index only the rows each lookup needs (message ids once known, numbers of unknown sends)

A send writes each outbox row twice (claimed, then its outcome). The index on the gateway's message
id held an entry for every row still without one, and the index on (number, status) moved each row
at both writes; the lookups they serve (a delivery report by message id, an unknown send by number)
only ever look for rows that have a message id, or that are unknown. Partial indexes keep those rows
alone, so a send touches them at most once.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 22:30:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

_KNOWN_ID = sa.text("at_message_id IS NOT NULL")
_UNKNOWN = sa.text("status = 'unknown'")


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_at_message_id')
        batch_op.drop_index('ix_outbox_phone_status')
        batch_op.create_index('ix_outbox_at_message_id', ['at_message_id'], unique=False,
                              sqlite_where=_KNOWN_ID, postgresql_where=_KNOWN_ID)
        batch_op.create_index('ix_outbox_unknown_phone', ['phone'], unique=False,
                              sqlite_where=_UNKNOWN, postgresql_where=_UNKNOWN)


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_unknown_phone')
        batch_op.drop_index('ix_outbox_at_message_id')
        batch_op.create_index('ix_outbox_phone_status', ['phone', 'status'], unique=False)
        batch_op.create_index('ix_outbox_at_message_id', ['at_message_id'], unique=False)
