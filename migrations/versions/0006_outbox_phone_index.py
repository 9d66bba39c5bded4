"""outbox: find a delivery report's row by its number, not by an index on message ids

A send writes each row's message id as the gateway's answer comes back. Message ids are random, so
the index on them took each write at a random place: every call of 100 dirtied about 100 of its
pages, and the cost grew with the table (bench/README.md). A delivery report carries the recipient's
number as well as the message id, and the number is known when the row is made: an index on it is
written once, when the message is queued, and never during the send. A report's row is now found
by number and then message id among that number's messages.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 03:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

_KNOWN_ID = sa.text("at_message_id IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_at_message_id')
        batch_op.create_index('ix_outbox_phone', ['phone'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_phone')
        batch_op.create_index('ix_outbox_at_message_id', ['at_message_id'], unique=False,
                              sqlite_where=_KNOWN_ID, postgresql_where=_KNOWN_ID)
