"""quote goods, order seller terms, notification messages; company kinds by GB 32100

An award carries the winning quote's goods name and terms into the contract; notifications keep message ids
with parameters (rendered in the reader's language); companies whose code names another registration
authority than 9 (工商) stop being stored as enterprises.

Revision ID: b7e2a4c10002
Revises: b7d1e2f30001
Create Date: 2026-12-01 16:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "b7e2a4c10002"
down_revision = "b7d1e2f30001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("quote") as batch_op:
        batch_op.add_column(sa.Column("goods", sa.String(length=200), nullable=True))
    with op.batch_alter_table("trade_order") as batch_op:
        batch_op.add_column(sa.Column("seller_terms", sa.Text(), nullable=True))
    with op.batch_alter_table("notification") as batch_op:
        batch_op.add_column(sa.Column("message", sa.JSON(), nullable=True))
    # companies whose code names another registration authority were stored as enterprises (GB 32100)
    op.execute("UPDATE company SET kind = 'social_organisation' WHERE kind = 'enterprise' AND uscc LIKE '5%'")
    op.execute("UPDATE company SET kind = 'other_organisation' WHERE kind = 'enterprise' AND substr(uscc, 1, 2) "
               "NOT IN ('91', '92', '93') AND substr(uscc, 1, 1) NOT IN ('1', '5', 'N')")


def downgrade():
    with op.batch_alter_table("notification") as batch_op:
        batch_op.drop_column("message")
    with op.batch_alter_table("trade_order") as batch_op:
        batch_op.drop_column("seller_terms")
    with op.batch_alter_table("quote") as batch_op:
        batch_op.drop_column("goods")
