"""Escrow signals turned into order moves: payments tells, orders listens (payments never imports orders).

Above :mod:`market.orders.services` in the import graph, so the receivers may follow the lots with
``advance`` while :mod:`market.orders.escrow_link` stays a thin layer under every order service.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from market.core.timeutil import utcnow
from market.extensions import db
from market.orders.lifecycle import LOT, SYSTEM, transition
from market.orders.models import TradeOrder
from market.orders.services import advance
from payments import signals
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
    lot = next((lot for lot in order.lots if lot.reference == milestone_ref), None)
    if lot is None:
        return
    lot.released_fen = (lot.released_fen or 0) + amount_fen
    if lot.state == "inspected":  # nobody accepted it: this is the auto-release
        LOT.move(lot, "accepted", party=SYSTEM, action="lot.auto_accepted", accepted_at=utcnow())
        advance(order)


def connect_signals() -> None:
    """Subscribe once (weak=False: module-level functions live for the process anyway)."""
    signals.escrow_funded.connect(_on_funded, weak=False)
    signals.escrow_released.connect(_on_released, weak=False)
