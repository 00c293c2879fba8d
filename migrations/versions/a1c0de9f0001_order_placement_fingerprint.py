"""order placement fingerprint: an idempotency key reused with another body is refused

Revision ID: a1c0de9f0001
Revises: 449634b12068
Create Date: 2026-12-01 15:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = "a1c0de9f0001"
down_revision = "449634b12068"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("order_placement") as batch_op:
        batch_op.add_column(sa.Column("fingerprint", sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table("order_placement") as batch_op:
        batch_op.drop_column("fingerprint")
