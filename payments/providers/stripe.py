"""Stripe, through the real SDK's ``StripeClient``: separate charges and transfers.

The buyer pays a PaymentIntent on the platform account (``transfer_group`` = escrow reference); each
released milestone becomes one Transfer to the seller's connected account with ``source_transaction``
= the funding charge; refunds refund the PaymentIntent; a Transfer can be reversed. Sellers onboard
with Account Links. Every call carries a deterministic idempotency key naming the business action, so
a retried job can never pay twice. Webhooks are verified with the SDK's signature check.

The only module that imports ``stripe``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import stripe
from flask import Flask
from sqlalchemy import select

from market.extensions import db
from payments.models import PayeeAccount, PayIn
from payments.providers.base import (
    EventKind,
    PayInStart,
    PayoutResult,
    ProviderError,
    ProviderEvent,
    RailPayoutState,
    RailPayoutStatus,
    SettlementLine,
    WebhookRejected,
)

if TYPE_CHECKING:
    from payments.models import Escrow, Payout

SIGNATURE_HEADER = "Stripe-Signature"
_TYPES = {"transfer": "payout", "payment": "payin", "charge": "payin", "refund": "refund",
          "payment_refund": "refund", "transfer_refund": "payout", "stripe_fee": "fee"}


def idempotency_key(action: str, *parts: object) -> str:
    """The same business action always sends the same key (Stripe then returns the first result)."""
    return ":".join(["jinshang", action, *(str(p) for p in parts)])


def build_provider(app: Flask) -> StripeProvider:
    """A provider on a ``StripeClient`` built from config. Tests inject a test double's HTTP client as
    ``app.extensions["stripe_http_client"]``; under TESTING without one we refuse rather than go online."""
    config = app.config
    if not config.get("STRIPE_API_KEY"):
        raise ProviderError("Stripe is not configured.")
    http_client = app.extensions.get("stripe_http_client")
    if http_client is None and app.testing:
        raise ProviderError("Stripe is not reachable in tests; install the Stripe test double.")
    client = stripe.StripeClient(config["STRIPE_API_KEY"], http_client=http_client,
                                 max_network_retries=int(config.get("STRIPE_MAX_RETRIES", 2)))
    return StripeProvider(client, list(config.get("STRIPE_WEBHOOK_SECRETS") or []))


def _fail(exc: stripe.StripeError) -> ProviderError:
    return ProviderError("Stripe refused: %(reason)s", reason=exc.user_message or str(exc) or type(exc).__name__,
                         stripe_code=getattr(exc, "code", None) or "")


def _metadata(obj: Any) -> dict[str, Any]:
    metadata = getattr(obj, "metadata", None)
    return metadata.to_dict() if metadata is not None else {}


class StripeProvider:
    """Payment rail on Stripe Connect (platform charges, transfers to connected accounts)."""

    name = "stripe"

    def __init__(self, client: stripe.StripeClient, webhook_secret: str | list[str]) -> None:
        self.client = client
        # newest first; during a rotation Stripe signs with both endpoints' secrets, any one must match
        self.webhook_secrets = [webhook_secret] if isinstance(webhook_secret, str) else list(webhook_secret)
        self.webhook_secret = self.webhook_secrets[0] if self.webhook_secrets else ""

    def create_payin(self, escrow: Escrow, amount_fen: int) -> PayInStart:
        params: dict[str, Any] = {
            "amount": amount_fen, "currency": escrow.currency.lower(), "transfer_group": escrow.reference,
            "metadata": {"escrow_reference": escrow.reference},
            "automatic_payment_methods": {"enabled": True},
            "description": f"Jinshang escrow {escrow.reference}",
        }
        key = idempotency_key("payin", escrow.reference, escrow.funded_fen, amount_fen)
        try:
            intent = self.client.v1.payment_intents.create(params=params, options={"idempotency_key": key})
        except stripe.StripeError as exc:
            raise _fail(exc) from exc
        return PayInStart(provider_ref=intent.id, client_secret=intent.client_secret)

    def _funding_payin(self, escrow: Escrow) -> PayIn | None:
        return db.session.scalar(select(PayIn).where(PayIn.escrow_id == escrow.id, PayIn.provider == self.name,
                                                     PayIn.status == "succeeded").order_by(PayIn.id))

    def send_payout(self, payout: Payout, escrow: Escrow) -> PayoutResult:
        account = db.session.scalar(select(PayeeAccount).where(PayeeAccount.company_id == payout.party_id,
                                                               PayeeAccount.provider == self.name))
        if account is None:
            raise ProviderError("The seller has not connected a Stripe account yet.")
        params: dict[str, Any] = {
            "amount": payout.amount_fen, "currency": payout.currency.lower(), "destination": account.external_id,
            "transfer_group": escrow.reference,
            "metadata": {"payout_id": str(payout.id), "business_ref": payout.business_ref,
                         "idempotency_key": payout.idempotency_key},
        }
        funding = self._funding_payin(escrow)
        if funding is not None and funding.charge_ref:
            params["source_transaction"] = funding.charge_ref  # pays out of that charge even before it settles
        try:
            transfer = self.client.v1.transfers.create(
                params=params, options={"idempotency_key": payout.idempotency_key})
        except stripe.StripeError as exc:
            raise _fail(exc) from exc
        return PayoutResult(provider_ref=transfer.id, confirmed=True)

    def send_refund(self, payout: Payout, escrow: Escrow) -> PayoutResult:
        funding = self._funding_payin(escrow)
        if funding is None:
            raise ProviderError("No Stripe payment to refund for this escrow.")
        try:
            refund = self.client.v1.refunds.create(
                params={"payment_intent": funding.provider_ref, "amount": payout.amount_fen,
                        "metadata": {"payout_id": str(payout.id), "business_ref": payout.business_ref,
                                     "idempotency_key": payout.idempotency_key}},
                options={"idempotency_key": payout.idempotency_key})
        except stripe.StripeError as exc:
            raise _fail(exc) from exc
        return PayoutResult(provider_ref=refund.id, confirmed=refund.status == "succeeded")

    def payout_status(self, payout: Payout, escrow: Escrow) -> RailPayoutState:
        """Find the Transfer (by transfer group) or Refund (by PaymentIntent) whose metadata carries the
        payout's idempotency key. Stripe keeps idempotent replies for 24 hours only; the objects stay."""
        key = payout.idempotency_key
        try:
            if payout.kind == "payout":
                listing = self.client.v1.transfers.list(params={"transfer_group": escrow.reference, "limit": 100})
                for transfer in listing.auto_paging_iter():
                    if _metadata(transfer).get("idempotency_key") == key:
                        return RailPayoutState(RailPayoutStatus.PAID, provider_ref=transfer.id)
                return RailPayoutState(RailPayoutStatus.UNKNOWN)
            funding = self._funding_payin(escrow)
            if funding is None:
                return RailPayoutState(RailPayoutStatus.UNKNOWN)
            listing = self.client.v1.refunds.list(params={"payment_intent": funding.provider_ref, "limit": 100})
            for refund in listing.auto_paging_iter():
                if _metadata(refund).get("idempotency_key") == key:
                    status = {"succeeded": RailPayoutStatus.PAID, "failed": RailPayoutStatus.FAILED,
                              "canceled": RailPayoutStatus.FAILED}.get(refund.status or "", RailPayoutStatus.PENDING)
                    return RailPayoutState(status, provider_ref=refund.id,
                                           reason=getattr(refund, "failure_reason", None) or refund.status or "")
            return RailPayoutState(RailPayoutStatus.UNKNOWN)
        except stripe.StripeError as exc:
            raise _fail(exc) from exc

    def reverse_payout(self, payout: Payout, amount_fen: int, reason_ref: str) -> str:
        """Take (part of) a Transfer back from the connected account; returns the reversal id."""
        try:
            reversal = self.client.v1.transfers.reversals.create(
                payout.provider_ref or "", params={"amount": amount_fen, "metadata": {"payout_id": str(payout.id)}},
                options={"idempotency_key": idempotency_key("reversal", payout.business_ref, reason_ref)})
        except stripe.StripeError as exc:
            raise _fail(exc) from exc
        return reversal.id

    def onboarding_link(self, company_id: int, *, refresh_url: str, return_url: str) -> str:
        """Create the seller's connected account if needed and return a fresh Account Link URL."""
        account = db.session.scalar(select(PayeeAccount).where(PayeeAccount.company_id == company_id,
                                                               PayeeAccount.provider == self.name))
        try:
            if account is None:
                created = self.client.v1.accounts.create(
                    params={"type": "express", "metadata": {"company_id": str(company_id)},
                            "capabilities": {"transfers": {"requested": True}}},
                    options={"idempotency_key": idempotency_key("account", company_id)})
                account = PayeeAccount(company_id=company_id, provider=self.name, external_id=created.id,
                                       status="onboarding")
                db.session.add(account)
                db.session.flush()
            link = self.client.v1.account_links.create(params={
                "account": account.external_id, "refresh_url": refresh_url, "return_url": return_url,
                "type": "account_onboarding"})
        except stripe.StripeError as exc:
            raise _fail(exc) from exc
        return link.url

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> list[ProviderEvent]:
        event = None
        for secret in self.webhook_secrets or [""]:
            try:
                event = self.client.construct_event(body, headers.get(SIGNATURE_HEADER), secret)
                break
            except (stripe.SignatureVerificationError, ValueError) as exc:
                failure = exc
        if event is None:
            raise WebhookRejected("Stripe signature check failed.") from failure
        obj = event.data.object.to_dict()
        meta = obj.get("metadata") or {}
        common = {"event_id": event.id, "raw_type": event.type, "object_ref": str(obj.get("id", "")),
                  "currency": str(obj.get("currency", "")).upper()}
        payout_id = int(meta["payout_id"]) if str(meta.get("payout_id", "")).isdigit() else None
        if event.type == "payment_intent.succeeded":
            return [ProviderEvent(kind=EventKind.PAYIN_SUCCEEDED, amount_fen=obj.get("amount_received", 0),
                                  reference=str(meta.get("escrow_reference", "")),
                                  charge_ref=obj.get("latest_charge"), **common)]
        if event.type in ("transfer.created", "transfer.updated") and payout_id is not None:
            return [ProviderEvent(kind=EventKind.PAYOUT_PAID, amount_fen=obj.get("amount", 0), payout_id=payout_id,
                                  **common)]
        if event.type in ("refund.created", "refund.updated", "charge.refund.updated"):
            status = obj.get("status")
            kind = {"succeeded": EventKind.REFUND_SUCCEEDED, "failed": EventKind.REFUND_FAILED,
                    "canceled": EventKind.REFUND_FAILED}.get(status, EventKind.IGNORED)
            return [ProviderEvent(kind=kind, amount_fen=obj.get("amount", 0), payout_id=payout_id,
                                  detail={"reason": obj.get("failure_reason") or status or ""}, **common)]
        return [ProviderEvent(kind=EventKind.IGNORED, **common)]

    def settlement_lines(self) -> list[SettlementLine]:
        """Balance transactions, mapped to the object ids the ledger books by (charge → PaymentIntent)."""
        charges = dict(db.session.execute(select(PayIn.charge_ref, PayIn.provider_ref)
                                          .where(PayIn.provider == self.name, PayIn.charge_ref.is_not(None))).all())
        lines = []
        try:
            for txn in self.client.v1.balance_transactions.list(params={"limit": 100}).auto_paging_iter():
                source = txn.source if isinstance(txn.source, str) else getattr(txn.source, "id", "") or ""
                kind = _TYPES.get(txn.type, "other")
                lines.append(SettlementLine(provider=self.name, line_ref=txn.id, object_ref=charges.get(source, source),
                                            kind=kind, amount_fen=txn.amount, currency=txn.currency.upper()))
                if txn.fee:
                    lines.append(SettlementLine(provider=self.name, line_ref=f"{txn.id}:fee", object_ref=source,
                                                kind="fee", amount_fen=-txn.fee, currency=txn.currency.upper()))
        except stripe.StripeError as exc:
            raise _fail(exc) from exc
        return lines
