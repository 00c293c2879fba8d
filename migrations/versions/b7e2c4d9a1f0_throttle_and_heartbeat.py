"""login/sign-up throttle counters and worker heartbeats

Revision ID: b7e2c4d9a1f0
Revises: 7c1e5a9d2b40
Create Date: 2026-12-01 10:00:00

"""
from alembic import op
import sqlalchemy as sa
import market.core.timeutil

revision = 'b7e2c4d9a1f0'
down_revision = '7c1e5a9d2b40'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('throttle_counter',
    sa.Column('key', sa.String(length=250), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('expires_at', market.core.timeutil.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_throttle_counter'))
    )
    op.create_table('worker_heartbeat',
    sa.Column('worker', sa.String(length=120), nullable=False),
    sa.Column('beat_at', market.core.timeutil.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('worker', name=op.f('pk_worker_heartbeat'))
    )


def downgrade():
    op.drop_table('worker_heartbeat')
    op.drop_table('throttle_counter')
