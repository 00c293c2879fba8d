"""Escrow signals turned into order moves: payments tells, orders listens (payments never imports orders).

Above :mod:`market.orders.services` in the import graph, so the receivers may follow the lots with
``advance`` while :mod:`market.orders.escrow_link` stays a thin layer under every order service.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from market.core.timeutil import utcnow
from market.extensions import db
from market.orders import disputes, escrow_link
from market.orders.lifecycle import LOT, SYSTEM, transition
from market.orders.models import Dispute, TradeOrder
from market.orders.services import advance
from payments import escrow as escrow_service
from payments import signals
from payments.escrow import Decider
from payments.models import Escrow


def _order_for(escrow: Escrow) -> TradeOrder | None:
    return db.session.scalars(select(TradeOrder).where(TradeOrder.number == escrow.reference)).first()


def _on_funded(escrow: Escrow, **_kwargs: object) -> None:
    order = _order_for(escrow)
    if order is not None and order.state == "awaiting_payment":
        transition(order, "funded", party=SYSTEM, actor_company_id=None, note=escrow.provider,
                   body=_l("The escrow is paid in full."))


def _on_released(escrow: Escrow, amount_fen: int = 0, milestone_ref: str = "", **_kwargs: object) -> None:
    """Account each release to its lot; an auto-release accepts an inspected lot for the buyer."""
    order = _order_for(escrow)
    if order is None:
        return
    lot = next((lot for lot in order.lots if milestone_ref in (lot.reference, f"{lot.reference}/top-up")), None)
    if lot is None:
        return
    lot.released_fen = (lot.released_fen or 0) + amount_fen
    if lot.state == "inspected":  # nobody accepted it: this is the auto-release
        LOT.move(lot, "accepted", party=SYSTEM, action="lot.auto_accepted", accepted_at=utcnow())
        advance(order)


def _on_payment(escrow: Escrow, **_kwargs: object) -> None:
    """A top-up arrived: release it to its lot, and settle the order if nothing else is owed."""
    order = _order_for(escrow)
    if order is not None and any(lot.topup_fen for lot in order.lots) and escrow_link.release_top_ups(order):
        advance(order)


def _dispute_owner(escrow: Escrow) -> Decider | None:
    """An escrow whose order has an open dispute is decided through that dispute, from any page."""
    order = _order_for(escrow)
    if order is None:
        return None
    dispute = db.session.scalar(select(Dispute).where(Dispute.order_id == order.id, Dispute.status == "open")
                                .order_by(Dispute.id))
    if dispute is None:
        return None

    def decide(escrow: Escrow, payee_fen: int, payer_fen: int, *, note: str, operator_user_id: int | None) -> None:
        outcome = "seller_won" if payer_fen == 0 else "buyer_won" if payee_fen == 0 else "split"
        disputes.resolve(dispute, operator_user_id=operator_user_id, payee_fen=payee_fen, outcome=outcome,
                         decision=note)

    return decide


def connect_signals() -> None:
    """Subscribe once (weak=False: module-level functions live for the process anyway)."""
    signals.escrow_funded.connect(_on_funded, weak=False)
    signals.escrow_released.connect(_on_released, weak=False)
    signals.escrow_payment_received.connect(_on_payment, weak=False)
    escrow_service.register_owner(_dispute_owner)
