"""Booking money a rail reports: a pay-in into its escrow, or anything unexplained into suspense.

Shared by :mod:`payments.webhooks` (every rail's events) and :mod:`payments.statements` (bank lines), so
both book a receipt the same way. Above :mod:`payments.escrow`, below both of its callers.
"""

from __future__ import annotations

from sqlalchemy import select

from market.extensions import db
from payments import escrow as escrows
from payments import ledger
from payments.ledger import DuplicateEntry, Purpose, check_amount, check_currency
from payments.models import CLOSED_STATUSES, PAYIN, PayIn
from payments.providers.base import WebhookRejected


def park_in_suspense(provider_name: str, ref: str, amount_fen: int, currency: str, why: str) -> str:
    """Money moved on the rail that no escrow or payout explains: clearing ↔ suspense, for the operator.

    ``amount_fen`` is signed from the platform's side (+ money in). ``why`` is a reason code."""
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen == 0:
        raise WebhookRejected("Event without an amount.")
    check_amount(abs(amount_fen))
    check_currency(currency)
    clearing = ledger.account(Purpose.PROVIDER_CLEARING, currency, provider=provider_name)
    suspense = ledger.account(Purpose.SUSPENSE, currency)
    try:
        ledger.post(provider_name, ref, "suspense", currency, [(clearing, amount_fen), (suspense, -amount_fen)],
                    memo=why[:300])
    except DuplicateEntry:
        return "duplicate"
    return f"suspense:{why}"


def book_payin(provider_name: str, object_ref: str, reference: str, amount_fen: int, currency: str,
               charge_ref: str | None = None) -> str:
    """Money for escrow ``reference`` arrived (rail object ``object_ref``); a closed escrow's money goes to
    suspense. Unknown references raise NotFound and write nothing."""
    escrow = escrows.get_escrow(reference)
    check_amount(amount_fen)
    if escrow.status in CLOSED_STATUSES:
        return park_in_suspense(provider_name, object_ref, amount_fen, currency, "closed_escrow")
    payin = db.session.scalar(select(PayIn).where(PayIn.provider == provider_name, PayIn.provider_ref == object_ref))
    try:
        escrows.record_funding(escrow, amount_fen, source=provider_name, source_ref=object_ref, currency=currency)
    except DuplicateEntry:
        return "already recorded"
    if payin is not None:
        if payin.status != "succeeded":
            PAYIN.move(payin, "succeeded", audit_row=False)
        payin.charge_ref = charge_ref or payin.charge_ref
    return f"funded {escrow.reference}"
