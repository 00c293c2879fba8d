"""Requests for quotation and their sealed quotes.

A quote is visible to the seller that wrote it, and to the buyer only once the RFQ is *opened*
(its deadline passed, or the buyer closed it early). Every read path goes through
``market.rfq.services`` which enforces that; the models carry no shortcut to other sellers' quotes.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.core.timeutil import UTCDateTime, utcnow
from market.extensions import db

QUANTITY = Numeric(18, 3)


class Rfq(db.Model):
    """A buyer's request: goods by category and spec ranges, quantity, place and window, deadline.

    ``status``: open → closed (deadline passed or closed early: quotes opened) → awarded | cancelled.
    """

    __tablename__ = "rfq"

    id: Mapped[int] = mapped_column(primary_key=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("company.id"), nullable=False, index=True)
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    category_id: Mapped[int] = mapped_column(ForeignKey("category.id"), nullable=False, index=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    spec_ranges: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    quantity: Mapped[Decimal] = mapped_column(QUANTITY, nullable=False)
    unit: Mapped[str] = mapped_column(String(8), nullable=False, default="t")
    delivery_place: Mapped[str] = mapped_column(String(300), nullable=False)
    delivery_window_start = mapped_column(UTCDateTime(), nullable=False)
    delivery_window_end = mapped_column(UTCDateTime(), nullable=False)
    deadline = mapped_column(UTCDateTime(), nullable=False, index=True)
    visibility: Mapped[str] = mapped_column(String(8), nullable=False, default="open")  # open | invited
    # Settlement rule the buyer asks for (e.g. coal pro rata on a base Qnet,ar); see orders.settlement.
    price_rule: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="open", index=True)
    opened_at = mapped_column(UTCDateTime())  # when the quotes became visible to the buyer
    awarded_quote_id: Mapped[int | None] = mapped_column(Integer)
    order_id: Mapped[int | None] = mapped_column(Integer)
    created_at = mapped_column(UTCDateTime(), nullable=False, default=utcnow)

    buyer = relationship("Company")
    category = relationship("Category")
    invitations: Mapped[list[RfqInvitation]] = relationship(back_populates="rfq", cascade="all, delete-orphan")

    def quotes_open_at(self, now: datetime) -> bool:
        """Whether the buyer may see the quotes at ``now``."""
        return self.opened_at is not None or now >= self.deadline

    @property
    def invited_ids(self) -> set[int]:
        return {invitation.seller_id for invitation in self.invitations}


class RfqInvitation(db.Model):
    """A seller the buyer invited (for ``invited`` RFQs, only these may quote)."""

    __tablename__ = "rfq_invitation"
    __table_args__ = (UniqueConstraint("rfq_id", "seller_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rfq_id: Mapped[int] = mapped_column(ForeignKey("rfq.id", ondelete="CASCADE"), nullable=False, index=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("company.id"), nullable=False, index=True)

    rfq: Mapped[Rfq] = relationship(back_populates="invitations")
    seller = relationship("Company")


class Quote(db.Model):
    """One seller's sealed offer on an RFQ (revisable until the deadline; one per seller).

    ``status``: submitted → accepted | declined | withdrawn.
    """

    __tablename__ = "quote"
    __table_args__ = (UniqueConstraint("rfq_id", "seller_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rfq_id: Mapped[int] = mapped_column(ForeignKey("rfq.id"), nullable=False, index=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("company.id"), nullable=False, index=True)
    submitted_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    goods: Mapped[str | None] = mapped_column(String(200))  # what the seller offers, in its words
    unit_price_fen: Mapped[int] = mapped_column(BigInteger, nullable=False)
    quantity: Mapped[Decimal] = mapped_column(QUANTITY, nullable=False)
    specs: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    valid_until = mapped_column(UTCDateTime(), nullable=False)
    terms: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="submitted")
    submitted_at = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    revised_at = mapped_column(UTCDateTime())

    rfq: Mapped[Rfq] = relationship()
    seller = relationship("Company")

    @property
    def amount_fen(self) -> int:
        from market.core.money import round_half_up

        return round_half_up(Decimal(self.unit_price_fen) * self.quantity)
