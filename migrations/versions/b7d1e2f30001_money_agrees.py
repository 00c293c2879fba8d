"""money that always agrees: statement line reasons and duplicates, payout destinations and returns,
payout-account hold

Revision ID: b7d1e2f30001
Revises: b7e2c4d9a1f0
Create Date: 2026-12-01 16:00:00

"""
import sqlalchemy as sa
from alembic import op

import market.core.timeutil

revision = "b7d1e2f30001"
down_revision = "b7e2c4d9a1f0"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("statement_line") as batch_op:
        batch_op.add_column(sa.Column("reason", sa.String(length=40), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("duplicate_of_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("resolution_note", sa.Text(), nullable=True))
    with op.batch_alter_table("payout") as batch_op:
        batch_op.alter_column("escrow_id", existing_type=sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                              nullable=True)
        batch_op.alter_column("party_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("dest_name", sa.String(length=200), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("dest_account", sa.String(length=64), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("dest_bank", sa.String(length=200), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("statement_line_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("payee_account") as batch_op:
        batch_op.add_column(sa.Column("hold_until", market.core.timeutil.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("delivery_lot") as batch_op:
        batch_op.add_column(sa.Column("topup_fen", sa.BigInteger(), nullable=False, server_default="0"))
    with op.batch_alter_table("dispute") as batch_op:
        batch_op.add_column(sa.Column("respond_by", market.core.timeutil.UTCDateTime(timezone=True), nullable=True))
    op.create_table(
        "dispute_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dispute_id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("payee_fen", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_at", market.core.timeutil.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["dispute_id"], ["dispute.id"], name=op.f("fk_dispute_message_dispute_id_dispute")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispute_message")),
    )
    with op.batch_alter_table("dispute_message") as batch_op:
        batch_op.create_index(batch_op.f("ix_dispute_message_dispute_id"), ["dispute_id"], unique=False)
    with op.batch_alter_table("trade_order") as batch_op:
        batch_op.add_column(sa.Column("cancel_requested_at", market.core.timeutil.UTCDateTime(timezone=True),
                                      nullable=True))


def downgrade():
    op.drop_table("dispute_message")
    with op.batch_alter_table("dispute") as batch_op:
        batch_op.drop_column("respond_by")
    with op.batch_alter_table("trade_order") as batch_op:
        batch_op.drop_column("cancel_requested_at")
    with op.batch_alter_table("delivery_lot") as batch_op:
        batch_op.drop_column("topup_fen")
    with op.batch_alter_table("payee_account") as batch_op:
        batch_op.drop_column("hold_until")
    with op.batch_alter_table("payout") as batch_op:
        batch_op.drop_column("statement_line_id")
        batch_op.drop_column("dest_bank")
        batch_op.drop_column("dest_account")
        batch_op.drop_column("dest_name")
        batch_op.alter_column("party_id", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("escrow_id", existing_type=sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                              nullable=False)
    with op.batch_alter_table("statement_line") as batch_op:
        batch_op.drop_column("resolution_note")
        batch_op.drop_column("duplicate_of_id")
        batch_op.drop_column("reason")
