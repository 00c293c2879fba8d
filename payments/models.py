"""Escrows and the money movements around them (pay-ins, payouts, refunds, webhooks, payee accounts).

payments/ knows amounts, parties (company ids) and references (the order number): nothing of orders.
The counters on :class:`Escrow` are a convenience kept in step with the ledger by the escrow services;
``jinshang ledger-check`` proves they agree with the postings.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from market.core.timeutil import UTCDateTime, utcnow
from market.core.transitions import ANYONE, Lifecycle
from market.extensions import db
from payments.ledger import ID


class EscrowStatus(StrEnum):
    AWAITING_FUNDS = "awaiting_funds"
    FUNDED = "funded"
    PARTIALLY_RELEASED = "partially_released"
    RELEASED = "released"
    REFUNDED = "refunded"
    FROZEN = "frozen"
    CANCELLED = "cancelled"


CLOSED_STATUSES = frozenset({EscrowStatus.RELEASED, EscrowStatus.REFUNDED, EscrowStatus.CANCELLED})


class Escrow(db.Model):
    """Money a payer put aside for one reference (an order) until it is released to the payee or refunded."""

    __tablename__ = "escrow"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    reference: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    pay_code: Mapped[str | None] = mapped_column(String(20), unique=True)  # bank transfer reference
    payer_id: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    payee_id: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    amount_fen: Mapped[int] = mapped_column(BigInteger, nullable=False)
    status: Mapped[str] = mapped_column(String(24), nullable=False, default=EscrowStatus.AWAITING_FUNDS, index=True)
    provider: Mapped[str | None] = mapped_column(String(40))  # the rail that funded it; refunds go back there
    funded_fen: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    released_fen: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)  # gross, fee included
    fee_fen: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    refunded_fen: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    frozen_from: Mapped[str | None] = mapped_column(String(24))
    freeze_reason: Mapped[str | None] = mapped_column(String(500))
    created_at = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    updated_at = mapped_column(UTCDateTime(), nullable=False, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        db.CheckConstraint("amount_fen > 0", name="amount_positive"),
        db.CheckConstraint("funded_fen - released_fen - refunded_fen >= 0", name="held_not_negative"),
    )

    @property
    def held_fen(self) -> int:
        """What the escrow holds now: funded − released − refunded."""
        return self.funded_fen - self.released_fen - self.refunded_fen

    @property
    def due_fen(self) -> int:
        """What the payer still has to pay in."""
        return max(0, self.amount_fen - self.funded_fen)

    @property
    def overpaid_fen(self) -> int:
        return max(0, self.funded_fen - self.amount_fen)

    def as_audit(self) -> dict[str, Any]:
        return {"status": self.status, "amount_fen": self.amount_fen, "funded_fen": self.funded_fen,
                 "released_fen": self.released_fen,
                "refunded_fen": self.refunded_fen, "fee_fen": self.fee_fen}


class PayoutKind(StrEnum):
    PAYOUT = "payout"  # to the payee (seller) after a release
    REFUND = "refund"  # back to the payer (buyer)
    RETURN = "return"  # an unexplained credit line sent back to whoever sent it (no escrow)


class PayoutStatus(StrEnum):
    PENDING = "pending"  # decided and booked; the rail has not been asked yet
    SENT = "sent"  # the rail accepted the instruction
    PAID = "paid"  # the rail confirmed; the ledger moved it out of payable
    FAILED = "failed"


class Payout(db.Model):
    """Money leaving the platform: a seller payout or a buyer refund, executed by a provider."""

    __tablename__ = "payout"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    escrow_id: Mapped[int | None] = mapped_column(ForeignKey("escrow.id"), index=True)  # None: a return
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    party_id: Mapped[int | None] = mapped_column(Integer, index=True)  # None: a return to an unknown sender
    amount_fen: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    provider: Mapped[str] = mapped_column(String(40), nullable=False)
    business_ref: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)
    # sent with every call to the rail, so a re-sent payout is recognised and never paid twice; a new key
    # is drawn only when the rail said it has nothing under the old one (an operator's retry after a refusal)
    idempotency_key: Mapped[str] = mapped_column(String(240), nullable=False, unique=True)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default=PayoutStatus.PENDING, index=True)
    provider_ref: Mapped[str | None] = mapped_column(String(120), index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    # where the money goes, copied when the payout is sent (the instruction file prints these)
    dest_name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    dest_account: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    dest_bank: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    statement_line_id: Mapped[int | None] = mapped_column(Integer)  # a return: the line sent back
    created_at = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    updated_at = mapped_column(UTCDateTime(), nullable=False, default=utcnow, onupdate=utcnow)

    @property
    def code(self) -> str:
        """The reference printed on instruction files and expected back on the bank statement."""
        return f"JSP{self.id:08d}"


class PayIn(db.Model):
    """A pay-in started at a provider (a Stripe PaymentIntent, a sandbox session, a bank transfer slip)."""

    __tablename__ = "payin"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    escrow_id: Mapped[int] = mapped_column(ForeignKey("escrow.id"), nullable=False, index=True)
    provider: Mapped[str] = mapped_column(String(40), nullable=False)
    provider_ref: Mapped[str] = mapped_column(String(120), nullable=False)
    amount_fen: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    charge_ref: Mapped[str | None] = mapped_column(String(120))  # Stripe: the charge funding transfers draw on
    client_secret: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="open")
    created_at = mapped_column(UTCDateTime(), nullable=False, default=utcnow)

    __table_args__ = (db.UniqueConstraint("provider", "provider_ref"),)


class PayeeAccount(db.Model):
    """Where a company receives money on a rail: a Stripe connected account or a bank account."""

    __tablename__ = "payee_account"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    company_id: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    provider: Mapped[str] = mapped_column(String(40), nullable=False)
    external_id: Mapped[str] = mapped_column(String(120), nullable=False)  # acct_... or bank account number
    account_name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    bank_name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="active")
    # a changed account receives nothing before this time (issue #10: a hijacked login cannot redirect
    # payouts unnoticed; every owner and finance member was told)
    hold_until = mapped_column(UTCDateTime())
    created_at = mapped_column(UTCDateTime(), nullable=False, default=utcnow)

    __table_args__ = (db.UniqueConstraint("company_id", "provider"),)


class AutoRelease(db.Model):
    """A release that happens by itself unless the payer accepts or disputes first."""

    __tablename__ = "auto_release"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    escrow_id: Mapped[int] = mapped_column(ForeignKey("escrow.id"), nullable=False, index=True)
    milestone_ref: Mapped[str] = mapped_column(String(120), nullable=False)
    amount_fen: Mapped[int] = mapped_column(BigInteger, nullable=False)
    due_at = mapped_column(UTCDateTime(), nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="armed")  # armed|done|cancelled
    created_at = mapped_column(UTCDateTime(), nullable=False, default=utcnow)

    __table_args__ = (db.UniqueConstraint("escrow_id", "milestone_ref"),)


class WebhookEvent(db.Model):
    """A provider event, stored once per ``(provider, event_id)`` with the postings it caused."""

    __tablename__ = "webhook_event"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    provider: Mapped[str] = mapped_column(String(40), nullable=False)
    event_id: Mapped[str] = mapped_column(String(120), nullable=False)
    kind: Mapped[str] = mapped_column(String(60), nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    outcome: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    received_at = mapped_column(UTCDateTime(), nullable=False, default=utcnow)

    __table_args__ = (db.UniqueConstraint("provider", "event_id"),)


class LineStatus(StrEnum):
    MATCHED = "matched"  # booked to a pay-in or a payout
    UNMATCHED = "unmatched"  # booked to suspense, waiting for the operator
    DUPLICATE = "duplicate"  # money moved a second time for something an earlier line settled; in suspense
    ASSIGNED = "assigned"  # the operator applied it to an escrow
    FEE = "fee"  # the operator booked it as a bank fee
    RETURNED = "returned"  # the operator sent it back to the sender
    WRITTEN_OFF = "written_off"  # the operator wrote it off, with a reason


class StatementLine(db.Model):
    """One imported bank statement line and what it was booked to. Every line is booked somewhere:
    a pay-in or payout (matched), suspense (unmatched, duplicate), or what the operator decided."""

    __tablename__ = "statement_line"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    transaction_id: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    value_date = mapped_column(Date, nullable=False)
    direction: Mapped[str] = mapped_column(String(2), nullable=False)
    amount_fen: Mapped[int] = mapped_column(BigInteger, nullable=False)  # positive; direction says which way
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    counterparty_name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    counterparty_account: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    memo: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    status: Mapped[str] = mapped_column(String(12), nullable=False, index=True)
    reason: Mapped[str] = mapped_column(String(40), nullable=False, default="")  # why it is in suspense (a code)
    escrow_id: Mapped[int | None] = mapped_column(Integer, index=True)
    payout_id: Mapped[int | None] = mapped_column(Integer)
    duplicate_of_id: Mapped[int | None] = mapped_column(Integer)  # the earlier line that settled the same thing
    outcome: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    resolution_note: Mapped[str | None] = mapped_column(Text)
    imported_at = mapped_column(UTCDateTime(), nullable=False, default=utcnow)

    @property
    def signed_fen(self) -> int:
        return self.amount_fen if self.direction == "CR" else -self.amount_fen


# a pay-in succeeds when its money arrives; a bank transfer's one code per escrow reopens for the rest
PAYIN = Lifecycle("payin", PayIn, {("open", "succeeded"): {ANYONE}, ("succeeded", "open"): {ANYONE}})
