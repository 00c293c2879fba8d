"""job leases (claimed_by, claimed_at, lease_until) and payout idempotency keys

Revision ID: 7d1e5a9c3b20
Revises: a1c0de9f0001
Create Date: 2026-12-01 10:00:00

Jobs left ``running`` by a dead worker before this revision have no lease: the worker treats a running
job without a lease as expired and claims it again. Existing payouts get the key their rail already saw
(``jinshang:transfer|refund:<business_ref>``).
"""
from alembic import op
import sqlalchemy as sa
import market.core.timeutil

# revision identifiers, used by Alembic.
revision = '7d1e5a9c3b20'
down_revision = 'a1c0de9f0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('claimed_at', market.core.timeutil.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('lease_until', market.core.timeutil.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_job_lease', ['status', 'lease_until'], unique=False)

    with op.batch_alter_table('payout', schema=None) as batch_op:
        batch_op.add_column(sa.Column('idempotency_key', sa.String(length=240), nullable=True))
    op.execute("UPDATE payout SET idempotency_key = 'jinshang:' "
               "|| CASE WHEN kind = 'payout' THEN 'transfer' ELSE 'refund' END || ':' || business_ref")
    with op.batch_alter_table('payout', schema=None) as batch_op:
        batch_op.alter_column('idempotency_key', existing_type=sa.String(length=240), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_payout_idempotency_key'), ['idempotency_key'])


def downgrade():
    with op.batch_alter_table('payout', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_payout_idempotency_key'), type_='unique')
        batch_op.drop_column('idempotency_key')

    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.drop_index('ix_job_lease')
        batch_op.drop_column('lease_until')
        batch_op.drop_column('claimed_at')
        batch_op.drop_column('claimed_by')
