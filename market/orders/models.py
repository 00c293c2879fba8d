"""Orders and everything hanging off them: cart, lines, delivery lots, inspections, contracts, disputes.

The order's ``state`` moves only through :mod:`market.orders.lifecycle`. Timestamps that the credit
scoring needs (payment and delivery timeliness, cancellations, disputes) are stored as columns, not
derived from the audit trail, so they can be queried cheaply.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.core.timeutil import UTCDateTime, utcnow
from market.extensions import db

QUANTITY = Numeric(18, 3)


class CartItem(db.Model):
    """A listing a buyer company intends to order, with a quantity in the listing's unit."""

    __tablename__ = "cart_item"
    __table_args__ = (UniqueConstraint("buyer_id", "listing_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("company.id"), nullable=False, index=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listing.id", ondelete="CASCADE"), nullable=False)
    quantity: Mapped[Decimal] = mapped_column(QUANTITY, nullable=False)
    added_at = mapped_column(UTCDateTime(), nullable=False, default=utcnow)

    listing = relationship("Listing")


class OrderPlacement(db.Model):
    """One checkout attempt identified by a client key (form token or ``Idempotency-Key``).

    The unique key makes a retried or double-clicked placement return the orders of the first one.
    """

    __tablename__ = "order_placement"
    __table_args__ = (UniqueConstraint("buyer_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("company.id"), nullable=False)
    key: Mapped[str] = mapped_column(String(100), nullable=False)
    # sha256 of what was asked for: the same key with another body is refused (422), not replayed
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    created_at = mapped_column(UTCDateTime(), nullable=False, default=utcnow)


class TradeOrder(db.Model):
    """One buyer's order from one seller. ``number`` (JS-YYYYMMDD-NNNNNN) is also the escrow reference."""

    __tablename__ = "trade_order"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(24), unique=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("company.id"), nullable=False, index=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("company.id"), nullable=False, index=True)
    placed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    placement_id: Mapped[int | None] = mapped_column(ForeignKey("order_placement.id"), index=True)
    quote_id: Mapped[int | None] = mapped_column(Integer, index=True)  # set when the order came from an RFQ
    state: Mapped[str] = mapped_column(String(20), nullable=False, default="placed", index=True)
    industry: Mapped[str | None] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="CNY")
    total_fen: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    settled_fen: Mapped[int | None] = mapped_column(BigInteger)  # what the seller finally received
    quantity_tolerance_pct: Mapped[Decimal] = mapped_column(Numeric(5, 2), nullable=False, default=Decimal(0))
    buyer_po_number: Mapped[str | None] = mapped_column(String(60))
    delivery_address: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    delivery_terms: Mapped[str] = mapped_column(String(16), nullable=False, default="delivered")
    inspection_agency_id: Mapped[int | None] = mapped_column(ForeignKey("company.id"), index=True)
    note: Mapped[str | None] = mapped_column(Text)
    seller_terms: Mapped[str | None] = mapped_column(Text)  # the winning quote's terms (RFQ orders)
    shipping_complete: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    stock_reserved: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    # Timeliness facts for credit scoring.
    placed_at = mapped_column(UTCDateTime(), nullable=False, default=utcnow, index=True)
    accepted_at = mapped_column(UTCDateTime())
    contract_signed_at = mapped_column(UTCDateTime())
    payment_due_at = mapped_column(UTCDateTime())
    funded_at = mapped_column(UTCDateTime())
    delivery_window_start = mapped_column(UTCDateTime())
    delivery_window_end = mapped_column(UTCDateTime())
    delivered_at = mapped_column(UTCDateTime())
    inspected_at = mapped_column(UTCDateTime())
    goods_accepted_at = mapped_column(UTCDateTime())
    settled_at = mapped_column(UTCDateTime())
    closed_at = mapped_column(UTCDateTime())
    cancelled_at = mapped_column(UTCDateTime())
    cancelled_by_company_id: Mapped[int | None] = mapped_column(Integer)
    cancel_reason: Mapped[str | None] = mapped_column(String(300))
    cancel_requested_at = mapped_column(UTCDateTime())  # the buyer asked to unwind an order never shipped
    updated_at = mapped_column(UTCDateTime(), nullable=False, default=utcnow, onupdate=utcnow)

    buyer = relationship("Company", foreign_keys=[buyer_id])
    seller = relationship("Company", foreign_keys=[seller_id])
    inspection_agency = relationship("Company", foreign_keys=[inspection_agency_id])
    lines: Mapped[list[OrderLine]] = relationship(back_populates="order", order_by="OrderLine.id",
                                                  cascade="all, delete-orphan")
    lots: Mapped[list[DeliveryLot]] = relationship(back_populates="order", order_by="DeliveryLot.id")
    contracts: Mapped[list[Contract]] = relationship(back_populates="order", order_by="Contract.version")
    disputes: Mapped[list[Dispute]] = relationship(back_populates="order", order_by="Dispute.id")

    def snapshot(self) -> dict[str, Any]:
        """The fields an audit row records."""
        return {"state": self.state, "total_fen": self.total_fen, "settled_fen": self.settled_fen}

    @property
    def quantity(self) -> Decimal:
        return sum((line.quantity for line in self.lines), Decimal(0))

    @property
    def unit(self) -> str:
        return self.lines[0].unit if self.lines else "t"

    def party(self, company_id: int | None) -> str | None:
        """'buyer', 'seller', 'agency' or None for the company ``company_id``."""
        if company_id is None:
            return None
        if company_id == self.buyer_id:
            return "buyer"
        if company_id == self.seller_id:
            return "seller"
        if company_id == self.inspection_agency_id:
            return "agency"
        return None


class OrderLine(db.Model):
    """A priced quantity of one good. ``listing_id`` is empty for goods quoted in an RFQ."""

    __tablename__ = "order_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("trade_order.id", ondelete="CASCADE"), nullable=False, index=True)
    listing_id: Mapped[int | None] = mapped_column(ForeignKey("listing.id"), index=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("category.id"))
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    specs: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    unit: Mapped[str] = mapped_column(String(8), nullable=False, default="t")
    quantity: Mapped[Decimal] = mapped_column(QUANTITY, nullable=False)
    unit_price_fen: Mapped[int] = mapped_column(BigInteger, nullable=False)
    amount_fen: Mapped[int] = mapped_column(BigInteger, nullable=False)
    # Settlement rule agreed in the contract (see market.orders.settlement.settle_lot).
    price_rule: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)

    order: Mapped[TradeOrder] = relationship(back_populates="lines")


class DeliveryLot(db.Model):
    """A shipment of part (or all) of an order; inspected, accepted and paid for on its own."""

    __tablename__ = "delivery_lot"
    __table_args__ = (UniqueConstraint("order_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("trade_order.id"), nullable=False, index=True)
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    line_id: Mapped[int] = mapped_column(ForeignKey("order_line.id"), nullable=False)
    # shipped -> delivered -> inspected -> accepted | disputed | rejected -> settled
    state: Mapped[str] = mapped_column(String(16), nullable=False, default="shipped")
    quantity: Mapped[Decimal] = mapped_column(QUANTITY, nullable=False)  # as shipped (seller's weight)
    delivered_quantity: Mapped[Decimal | None] = mapped_column(QUANTITY)  # as weighed on arrival
    transport_ref: Mapped[str | None] = mapped_column(String(100))  # waybill, wagon numbers
    shipped_at = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    delivered_at = mapped_column(UTCDateTime())
    inspected_at = mapped_column(UTCDateTime())
    accepted_at = mapped_column(UTCDateTime())
    settled_fen: Mapped[int | None] = mapped_column(BigInteger)  # inspection-adjusted amount for this lot
    settlement: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the computation, line by line
    released_fen: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    # worth more than the escrow held when accepted: what the buyer still owes for this lot (0 once paid/waived)
    topup_fen: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)

    order: Mapped[TradeOrder] = relationship(back_populates="lots")
    line: Mapped[OrderLine] = relationship()
    inspections: Mapped[list[InspectionReport]] = relationship(back_populates="lot", order_by="InspectionReport.id")

    @property
    def reference(self) -> str:
        return f"{self.order.number}-L{self.seq}"

    @property
    def inspection(self) -> InspectionReport | None:
        """The report that counts: the latest one."""
        return self.inspections[-1] if self.inspections else None


class InspectionReport(db.Model):
    """Measured specs of a delivered lot, filed by the buyer, the seller or an inspection agency."""

    __tablename__ = "inspection_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("delivery_lot.id"), nullable=False, index=True)
    inspector_company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), nullable=False)
    inspector_role: Mapped[str] = mapped_column(String(8), nullable=False)  # buyer | seller | agency
    filed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    certificate_no: Mapped[str | None] = mapped_column(String(60))
    method: Mapped[str | None] = mapped_column(String(120))  # e.g. GB/T 475 sampling, GB/T 213 calorific value
    measured: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    measured_quantity: Mapped[Decimal] = mapped_column(QUANTITY, nullable=False)
    note: Mapped[str | None] = mapped_column(Text)
    filed_at = mapped_column(UTCDateTime(), nullable=False, default=utcnow)

    lot: Mapped[DeliveryLot] = relationship(back_populates="inspections")
    inspector = relationship("Company")


class Contract(db.Model):
    """One version of an order's purchase contract. ``content`` is frozen; a change is a new version.

    Each party's confirmation stores who signed, when, and the SHA-256 of the content they saw.
    """

    __tablename__ = "contract"
    __table_args__ = (UniqueConstraint("order_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("trade_order.id"), nullable=False, index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    content: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    content_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    change_note: Mapped[str | None] = mapped_column(String(300))
    proposed_by_company_id: Mapped[int | None] = mapped_column(Integer)
    created_at = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="draft")  # draft|signed|superseded
    buyer_signed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    buyer_signed_at = mapped_column(UTCDateTime())
    buyer_signed_sha256: Mapped[str | None] = mapped_column(String(64))
    seller_signed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    seller_signed_at = mapped_column(UTCDateTime())
    seller_signed_sha256: Mapped[str | None] = mapped_column(String(64))

    order: Mapped[TradeOrder] = relationship(back_populates="contracts")

    @property
    def fully_signed(self) -> bool:
        return self.buyer_signed_at is not None and self.seller_signed_at is not None


class Dispute(db.Model):
    """A buyer's or seller's objection to a delivery, arbitrated by a platform operator."""

    __tablename__ = "dispute"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("trade_order.id"), nullable=False, index=True)
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("delivery_lot.id"))
    opened_by_company_id: Mapped[int] = mapped_column(Integer, nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    claimed_fen: Mapped[int | None] = mapped_column(BigInteger)  # what the opener says the seller should get
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False, default=list)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="open")  # open | resolved
    opened_at = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    resolved_at = mapped_column(UTCDateTime())
    resolved_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # buyer_won | seller_won | split: the credit hook reads which party lost.
    outcome: Mapped[str | None] = mapped_column(String(12))
    losing_company_id: Mapped[int | None] = mapped_column(Integer)
    payee_fen: Mapped[int | None] = mapped_column(BigInteger)
    payer_fen: Mapped[int | None] = mapped_column(BigInteger)
    decision: Mapped[str | None] = mapped_column(Text)
    respond_by = mapped_column(UTCDateTime())  # the other party's deadline to answer (reminded the day before)

    order: Mapped[TradeOrder] = relationship(back_populates="disputes")
    messages: Mapped[list[DisputeMessage]] = relationship(order_by="DisputeMessage.id")


class DisputeMessage(db.Model):
    """A party's answer in a dispute (text and evidence) or a proposed settlement the other side may accept."""

    __tablename__ = "dispute_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    dispute_id: Mapped[int] = mapped_column(ForeignKey("dispute.id"), nullable=False, index=True)
    company_id: Mapped[int] = mapped_column(Integer, nullable=False)
    kind: Mapped[str] = mapped_column(String(12), nullable=False)  # response | proposal
    body: Mapped[str] = mapped_column(Text, nullable=False, default="")
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False, default=list)
    payee_fen: Mapped[int | None] = mapped_column(BigInteger)  # a proposal: what the seller gets of what is held
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="")  # proposals: open|accepted|superseded
    created_at = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
