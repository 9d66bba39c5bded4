"""wage reports, safety reports, notes, contacts and abuse limits

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 06:10:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('wage_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reporter', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=True),
    sa.Column('district', sa.String(length=80), nullable=False),
    sa.Column('place', sa.String(length=96), nullable=False),
    sa.Column('pay_form', sa.String(length=16), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('paid_full', sa.Boolean(), nullable=False),
    sa.Column('gender', sa.String(length=8), nullable=True),
    sa.Column('day', sa.Date(), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_wage_reports_amount_positive')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_wage_reports_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wage_reports')),
    sa.UniqueConstraint('day', 'role', 'place', 'reporter', name='uq_wage_reports_once_a_day')
    )
    with op.batch_alter_table('wage_reports', schema=None) as batch_op:
        batch_op.create_index('ix_wage_reports_role_district_day', ['role', 'district', 'day'], unique=False)

    op.create_table('safety_reports',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('witness', sa.Boolean(), nullable=False),
    sa.Column('district', sa.String(length=80), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=True),
    sa.Column('happened', sa.String(length=8), nullable=False),
    sa.Column('ongoing', sa.String(length=8), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_safety_reports_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_safety_reports')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_safety_reports_code_hash'))
    )
    with op.batch_alter_table('safety_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_safety_reports_day'), ['day'], unique=False)

    op.create_table('safety_notes',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('report_id', sa.String(length=32), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['safety_reports.id'],
                            name=op.f('fk_safety_notes_report_id_safety_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_safety_notes'))
    )
    with op.batch_alter_table('safety_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_safety_notes_report_id'), ['report_id'], unique=False)

    op.create_table('safety_contacts',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('lookup', sa.String(length=64), nullable=False),
    sa.Column('sealed', sa.Text(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_safety_contacts')),
    sa.UniqueConstraint('lookup', name=op.f('uq_safety_contacts_lookup'))
    )
    op.create_table('safety_limits',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('reports', sa.Integer(), nullable=False),
    sa.Column('failed_lookups', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('key', 'day', name=op.f('pk_safety_limits'))
    )


def downgrade() -> None:
    op.drop_table('safety_limits')
    op.drop_table('safety_contacts')
    with op.batch_alter_table('safety_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_safety_notes_report_id'))
    op.drop_table('safety_notes')
    with op.batch_alter_table('safety_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_safety_reports_day'))
    op.drop_table('safety_reports')
    with op.batch_alter_table('wage_reports', schema=None) as batch_op:
        batch_op.drop_index('ix_wage_reports_role_district_day')
    op.drop_table('wage_reports')
