"""Starting a pay-in: what the payer needs to pay an escrow on the rail they chose."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select

from market.core import audit
from market.core.errors import InvalidTransition
from market.extensions import db
from payments.models import PAYIN, Escrow, EscrowStatus, PayIn
from payments.providers import get_provider

PAYABLE = frozenset({EscrowStatus.AWAITING_FUNDS, EscrowStatus.FUNDED, EscrowStatus.PARTIALLY_RELEASED})


@dataclass(frozen=True)
class PayInInstructions:
    """Everything a pay page shows: the amount due and how to pay it on ``provider``.

    ``bank_account`` (transfers: account name/number/bank and the remark to quote), ``client_secret``
    (Stripe Payment Element) or ``redirect_url``; ``can_simulate`` offers the sandbox's "simulate
    payment" action (``payments.simulate`` / :func:`simulate_payment`).
    """

    provider: str
    reference_code: str
    amount_fen: int
    currency: str
    payin_id: int
    bank_account: Mapping[str, str] | None = None
    client_secret: str | None = None
    redirect_url: str | None = None
    can_simulate: bool = False


def start_payin(escrow: Escrow, provider_name: str) -> PayInInstructions:
    """Start (or resume) paying what is still due on ``escrow`` through ``provider_name`` (the order, or a
    top-up the goods turned out to be worth on an escrow already paid)."""
    if escrow.status not in PAYABLE or escrow.due_fen <= 0:
        raise InvalidTransition("Nothing is due on this escrow.", status=escrow.status)
    provider = get_provider(provider_name)
    due = escrow.due_fen
    payin = db.session.scalar(select(PayIn).where(
        PayIn.escrow_id == escrow.id, PayIn.provider == provider_name, PayIn.status == "open",
        PayIn.amount_fen == due).order_by(PayIn.id.desc()))
    start = None
    if payin is None:
        start = provider.create_payin(escrow, due)
        payin = db.session.scalar(select(PayIn).where(PayIn.provider == provider_name,
                                                      PayIn.provider_ref == start.provider_ref))
        if payin is None:  # (a bank transfer keeps one payment code per escrow: the same row, a new amount)
            payin = PayIn(escrow_id=escrow.id, provider=provider_name, provider_ref=start.provider_ref,
                          currency=escrow.currency, status="open")
            db.session.add(payin)
        payin.amount_fen, payin.client_secret = due, start.client_secret
        if payin.status != "open":  # a bank transfer's one code per escrow, asked for the rest again
            PAYIN.move(payin, "open", audit_row=False)
        db.session.flush()
        audit.record("escrow.payin_start", "escrow", escrow.reference, actor_company_id=escrow.payer_id,
                     note=f"{provider_name}:{start.provider_ref}")
    elif provider_name != "stripe":
        start = provider.create_payin(escrow, due)  # bank details and flags are cheap and carry no state
    return PayInInstructions(
        provider=provider_name,
        reference_code=escrow.pay_code if provider_name == "bank_transfer" and escrow.pay_code else escrow.reference,
        amount_fen=due, currency=escrow.currency, payin_id=payin.id,
        bank_account=start.bank_details if start else None,
        client_secret=payin.client_secret,
        redirect_url=start.redirect_url if start else None,
        can_simulate=bool(start and start.simulate),
    )


def simulate_payment(escrow: Escrow, amount_fen: int | None = None) -> list[str]:
    """Sandbox only: the buyer "pays"; a signed webhook goes through the real webhook path."""
    from payments.providers.sandbox import SandboxProvider
    from payments.webhooks import receive

    instructions = start_payin(escrow, "sandbox")
    provider = get_provider("sandbox")
    assert isinstance(provider, SandboxProvider)
    payin = db.session.get(PayIn, instructions.payin_id)
    event = provider.payment_event(escrow, amount_fen if amount_fen is not None else instructions.amount_fen,
                                   payin.provider_ref if payin else None)
    body, headers = provider.signed(event)
    return receive("sandbox", body, headers)
