"""The payment provider protocol: every rail (sandbox, bank transfer, Stripe) speaks it.

A provider starts pay-ins, executes payouts and refunds that the escrow services decided (each under
the payout's idempotency key, and answers what became of a key: ``payout_status``), turns its
webhooks into neutral :class:`ProviderEvent` s, and lists its settlement lines for reconciliation.
It never books anything itself: the webhook processor and the payout jobs post to the ledger.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from market.core.errors import BadRequest, DomainError

if TYPE_CHECKING:
    from payments.models import Escrow, Payout


class EventKind(StrEnum):
    PAYIN_SUCCEEDED = "payin.succeeded"  # money for an escrow arrived
    PAYOUT_PAID = "payout.paid"  # a seller payout left the platform
    PAYOUT_FAILED = "payout.failed"
    REFUND_SUCCEEDED = "refund.succeeded"  # a buyer refund left the platform
    REFUND_FAILED = "refund.failed"
    STATEMENT_LINE = "statement_line"  # a bank line: payments.statements matches it to a pay-in or payout
    UNMATCHED = "unmatched"  # money moved that nothing explains: parked in suspense for the operator
    IGNORED = "ignored"  # an event type we do not act on (stored, acknowledged)


@dataclass(frozen=True)
class ProviderEvent:
    """A provider's event in neutral form. ``object_ref`` is the provider's id of the money movement
    (PaymentIntent, Transfer, Refund, statement line) and becomes the ledger entry's ``source_ref``."""

    event_id: str
    kind: EventKind
    object_ref: str = ""
    amount_fen: int = 0
    currency: str = "CNY"
    reference: str = ""  # the escrow reference, for pay-ins
    payout_id: int | None = None  # our Payout id, for payouts and refunds
    payout_code: str = ""  # our payout code as printed on bank instructions
    charge_ref: str | None = None
    raw_type: str = ""
    detail: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class PayInStart:
    """What a provider returns when a pay-in starts; ``checkout`` turns it into instructions for the payer."""

    provider_ref: str
    client_secret: str | None = None
    redirect_url: str | None = None
    bank_details: Mapping[str, str] | None = None
    simulate: bool = False


@dataclass(frozen=True)
class PayoutResult:
    """The rail accepted a payout/refund. ``confirmed`` means the money has already left (e.g. a Stripe
    Transfer); otherwise a later webhook or bank statement line confirms it."""

    provider_ref: str
    confirmed: bool = False


class RailPayoutStatus(StrEnum):
    UNKNOWN = "unknown"  # the rail never saw this idempotency key: sending (again) cannot pay twice
    PENDING = "pending"  # accepted, not yet confirmed (a webhook or statement line will say)
    PAID = "paid"  # the money left
    FAILED = "failed"  # refused or returned; nothing left


@dataclass(frozen=True)
class RailPayoutState:
    """What a rail knows about one payout, found by the payout's idempotency key."""

    status: RailPayoutStatus
    provider_ref: str = ""
    reason: str = ""


@dataclass(frozen=True)
class SettlementLine:
    """One movement on the provider's side, signed from the platform's point of view (+ money in)."""

    provider: str
    line_ref: str
    object_ref: str
    kind: str  # payin | payout | refund | fee | other
    amount_fen: int
    currency: str
    occurred_at: datetime | None = None


class WebhookRejected(BadRequest):
    """Bad signature, stale timestamp or unreadable body: answered with 400 and logged."""

    code = "webhook_rejected"


class ProviderError(DomainError):
    """The rail refused or failed (declined, insufficient balance, not onboarded...)."""

    status, code = 502, "provider_error"


@runtime_checkable
class PaymentProvider(Protocol):
    """One payment rail."""

    name: str

    def create_payin(self, escrow: Escrow, amount_fen: int) -> PayInStart:
        """Start collecting ``amount_fen`` from the escrow's payer."""
        ...

    def send_payout(self, payout: Payout, escrow: Escrow) -> PayoutResult:
        """Pay a released amount to the payee (``payout.party_id``)."""
        ...

    def send_refund(self, payout: Payout, escrow: Escrow) -> PayoutResult:
        """Pay a refunded amount back to the payer."""
        ...

    def payout_status(self, payout: Payout, escrow: Escrow) -> RailPayoutState:
        """Ask the rail about the payout or refund sent under ``payout.idempotency_key``.

        Used to reconcile a payout left ``pending`` when a worker died between calling the rail and
        recording the answer: ``UNKNOWN`` means it is safe to send, anything else is the rail's answer.
        """
        ...

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> list[ProviderEvent]:
        """Verify and normalise a webhook delivery; raise :class:`WebhookRejected` if it is not authentic."""
        ...

    def settlement_lines(self) -> list[SettlementLine]:
        """What the rail says happened, for reconciliation against the ledger."""
        ...
