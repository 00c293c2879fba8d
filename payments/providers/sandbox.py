"""The sandbox rail (demo and tests): no real money, but the real path.

Paying and paying out produce signed webhook payloads that enter through the same
:func:`payments.webhooks.receive` as Stripe's and the bank's, so the sandbox exercises signature
checks, event storage, de-duplication and ledger postings exactly like a real rail.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from market.core import jobs
from payments.providers.base import (
    EventKind,
    PayInStart,
    PayoutResult,
    ProviderEvent,
    RailPayoutState,
    RailPayoutStatus,
    SettlementLine,
    WebhookRejected,
)
from payments.providers.signing import sign, verify

if TYPE_CHECKING:
    from payments.models import Escrow, Payout

SIGNATURE_HEADER = "Sandbox-Signature"
DELIVER_JOB = "payments.sandbox_deliver"
_KINDS = {k.value: k for k in EventKind}


class SandboxProvider:
    """Simulated rail with HMAC-signed webhooks."""

    name = "sandbox"

    def __init__(self, secret: str | list[str]) -> None:
        self.secrets = [secret] if isinstance(secret, str) else list(secret)
        self.secret = self.secrets[0] if self.secrets else ""  # signs; every one of ``secrets`` verifies

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SandboxProvider:
        return cls(list(config.get("SANDBOX_WEBHOOK_SECRETS") or []))

    # -- producing events ------------------------------------------------------------------------------
    @staticmethod
    def event(kind: str, **data: Any) -> dict[str, Any]:
        return {"id": f"sbx_evt_{uuid.uuid4().hex}", "type": kind, "created": int(time.time()), "data": data}

    def signed(self, event: dict[str, Any], timestamp: int | None = None) -> tuple[bytes, dict[str, str]]:
        """The body and headers of a delivery of ``event``, as the endpoint receives them."""
        body = json.dumps(event, separators=(",", ":"), sort_keys=True).encode()
        return body, {SIGNATURE_HEADER: sign(body, self.secret, timestamp), "Content-Type": "application/json"}

    def payment_event(self, escrow: Escrow, amount_fen: int, payin_ref: str | None = None) -> dict[str, Any]:
        """The event a simulated buyer payment produces."""
        return self.event(EventKind.PAYIN_SUCCEEDED, reference=escrow.reference, amount_fen=amount_fen,
                          currency=escrow.currency, object_ref=payin_ref or f"sbx_pay_{uuid.uuid4().hex[:16]}")

    # -- the protocol ----------------------------------------------------------------------------------
    def create_payin(self, escrow: Escrow, amount_fen: int) -> PayInStart:
        return PayInStart(provider_ref=f"sbx_pay_{uuid.uuid4().hex[:16]}", simulate=True)

    @staticmethod
    def payout_event_id(payout: Payout) -> str:
        """The rail's event for a payout is named by its idempotency key: sending twice makes one event."""
        return f"sbx_evt_po_{hashlib.sha256(payout.idempotency_key.encode()).hexdigest()[:40]}"

    def _schedule(self, kind: EventKind, payout: Payout, ref: str) -> PayoutResult:
        if self.payout_status(payout, None).status != RailPayoutStatus.UNKNOWN:
            return PayoutResult(provider_ref=ref, confirmed=False)  # a re-send under the same key
        event = self.event(kind, object_ref=ref, payout_id=payout.id, amount_fen=payout.amount_fen,
                           currency=payout.currency)
        event["id"] = self.payout_event_id(payout)
        # Delivered by the worker like a real provider's callback, signed at delivery time.
        jobs.enqueue(DELIVER_JOB, event=event)
        return PayoutResult(provider_ref=ref, confirmed=False)

    def payout_status(self, payout: Payout, escrow: Escrow | None) -> RailPayoutState:
        """The sandbox's memory is our database: its delivered events and its delivery jobs."""
        from market.extensions import db
        from payments.models import WebhookEvent

        event_id = self.payout_event_id(payout)
        delivered = db.session.scalar(select(WebhookEvent).where(WebhookEvent.provider == self.name,
                                                                 WebhookEvent.event_id == event_id))
        if delivered is not None:
            data = (delivered.payload or {}).get("data") or {}
            paid = delivered.kind in (EventKind.PAYOUT_PAID, EventKind.REFUND_SUCCEEDED)
            return RailPayoutState(RailPayoutStatus.PAID if paid else RailPayoutStatus.FAILED,
                                   provider_ref=str(data.get("object_ref", "")), reason=str(data.get("reason", "")))
        waiting = db.session.scalars(select(jobs.Job.payload).where(jobs.Job.kind == DELIVER_JOB,
                                                                    jobs.Job.status != "done"))
        for payload in waiting:
            event = (payload or {}).get("event") or {}
            if event.get("id") == event_id:
                return RailPayoutState(RailPayoutStatus.PENDING, provider_ref=str(event["data"].get("object_ref", "")))
        return RailPayoutState(RailPayoutStatus.UNKNOWN)

    def send_payout(self, payout: Payout, escrow: Escrow) -> PayoutResult:
        return self._schedule(EventKind.PAYOUT_PAID, payout, f"sbx_po_{payout.id}")

    def send_refund(self, payout: Payout, escrow: Escrow) -> PayoutResult:
        return self._schedule(EventKind.REFUND_SUCCEEDED, payout, f"sbx_re_{payout.id}")

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> list[ProviderEvent]:
        verify(body, headers.get(SIGNATURE_HEADER), self.secrets)
        try:
            raw = json.loads(body)
            data = raw["data"]
            kind = _KINDS.get(raw["type"], EventKind.IGNORED)
            amount = data.get("amount_fen", 0)
            return [ProviderEvent(
                event_id=str(raw["id"]), kind=kind, object_ref=str(data.get("object_ref", "")),
                amount_fen=amount, currency=str(data.get("currency", "CNY")),
                reference=str(data.get("reference", "")), payout_id=data.get("payout_id"),
                raw_type=str(raw["type"]), detail={"reason": data.get("reason", "")},
            )]
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise WebhookRejected("Unreadable event.") from exc

    def settlement_lines(self) -> list[SettlementLine]:
        """The sandbox's own record of what moved: the events it delivered."""
        from market.extensions import db
        from payments.models import WebhookEvent

        lines = []
        signs = {EventKind.PAYIN_SUCCEEDED: (1, "payin"), EventKind.PAYOUT_PAID: (-1, "payout"),
                 EventKind.REFUND_SUCCEEDED: (-1, "refund")}
        for row in db.session.scalars(select(WebhookEvent).where(WebhookEvent.provider == self.name)
                                      .order_by(WebhookEvent.id)):
            data = (row.payload or {}).get("data") or {}
            if row.kind in signs and isinstance(data.get("amount_fen"), int):
                sign_, kind = signs[EventKind(row.kind)]
                lines.append(SettlementLine(provider=self.name, line_ref=row.event_id,
                                            object_ref=str(data.get("object_ref", "")), kind=kind,
                                            amount_fen=sign_ * data["amount_fen"],
                                            currency=str(data.get("currency", "CNY")), occurred_at=row.received_at))
        return lines
