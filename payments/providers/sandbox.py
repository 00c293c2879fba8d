"""The sandbox rail (demo and tests): no real money, but the real path.

Paying and paying out produce signed webhook payloads that enter through the same
:func:`payments.webhooks.receive` as Stripe's and the bank's, so the sandbox exercises signature
checks, event storage, de-duplication and ledger postings exactly like a real rail.
"""

from __future__ import annotations

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

    def __init__(self, secret: str) -> None:
        self.secret = secret

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SandboxProvider:
        return cls(config.get("SANDBOX_WEBHOOK_SECRET") or f"sandbox-{config['SECRET_KEY']}")

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

    def _schedule(self, kind: EventKind, payout: Payout, ref: str) -> PayoutResult:
        event = self.event(kind, object_ref=ref, payout_id=payout.id, amount_fen=payout.amount_fen,
                           currency=payout.currency)
        # Delivered by the worker like a real provider's callback, signed at delivery time.
        jobs.enqueue(DELIVER_JOB, event=event)
        return PayoutResult(provider_ref=ref, confirmed=False)

    def send_payout(self, payout: Payout, escrow: Escrow) -> PayoutResult:
        return self._schedule(EventKind.PAYOUT_PAID, payout, f"sbx_po_{payout.id}")

    def send_refund(self, payout: Payout, escrow: Escrow) -> PayoutResult:
        return self._schedule(EventKind.REFUND_SUCCEEDED, payout, f"sbx_re_{payout.id}")

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> list[ProviderEvent]:
        verify(body, headers.get(SIGNATURE_HEADER), self.secret)
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
