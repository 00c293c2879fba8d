"""The order write path after placement: accept, reject, cancel, ship lots, confirm delivery, close, expire.

Services take the acting company explicitly, raise domain errors, ``flush()`` and never commit.
Each move goes through :func:`market.orders.lifecycle.transition` (audited and notified).
Inspection and settlement live in ``inspection.py``, contracts in ``contracts.py``, disputes in
``disputes.py`` and the escrow wiring in ``escrow_link.py``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from catalog import stock
from catalog.labels import UNIT_LABELS
from market.core.audit import record
from market.core.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from market.core.jobs import enqueue, every, handler
from market.core.notify import msgid
from market.core.tenancy import get_owned
from market.core.timeutil import utcnow
from market.core.transitions import StaleState
from market.extensions import db
from market.orders import escrow_link
from market.orders.lifecycle import (
    BUYER,
    HOLDS_STOCK,
    LOT,
    OPERATOR,
    SELLER,
    STATES,
    SYSTEM,
    announce,
    party_of,
    transition,
)
from market.orders.models import DeliveryLot, OrderLine, TradeOrder

HUNDRED = Decimal(100)


def get_order(company_id: int | None, order_id: object) -> TradeOrder:
    """An order the company is a party to (buyer, seller or named inspection agency); otherwise 404."""
    return get_owned(TradeOrder, order_id, company_id, "buyer_id", "seller_id", "inspection_agency_id")


def tab_counts(company_id: int) -> dict[str, int]:
    """How many orders the company has on each side (buying, selling, inspection jobs)."""
    counts = {}
    for tab, column in (("buying", TradeOrder.buyer_id), ("selling", TradeOrder.seller_id),
                        ("agency", TradeOrder.inspection_agency_id)):
        counts[tab] = db.session.scalar(select(func.count(TradeOrder.id)).where(column == company_id)) or 0
    return counts


def default_tab(counts: dict[str, int]) -> str:
    """The side a company lands on when it opens /orders: where it has activity (a seller sees its sales)."""
    return max(("buying", "selling", "agency"), key=lambda tab: (counts.get(tab, 0), tab == "buying"))


def list_orders(company_id: int, *, tab: str, state: str = "", query: str = "", page: int = 1,
                per_page: int = 20) -> tuple[list[TradeOrder], int]:
    """One page of the company's orders as buyer (default), seller (``selling``) or inspection agency
    (``agency``), newest first, with the total count. Both parties are loaded with the page (no N+1)."""
    column = {"selling": TradeOrder.seller_id, "agency": TradeOrder.inspection_agency_id}.get(tab, TradeOrder.buyer_id)
    stmt = select(TradeOrder).where(column == company_id)
    if state in STATES:
        stmt = stmt.where(TradeOrder.state == state)
    if query:
        stmt = stmt.where(or_(TradeOrder.number.contains(query), TradeOrder.buyer_po_number.contains(query)))
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    orders = db.session.scalars(stmt.options(selectinload(TradeOrder.buyer), selectinload(TradeOrder.seller))
                                .order_by(TradeOrder.placed_at.desc()).offset((page - 1) * per_page)
                                .limit(per_page)).all()
    return list(orders), int(total)


def accept_order(order: TradeOrder, company_id: int) -> None:
    """The seller accepts: the order's purchase contract (version 1) is drafted for both to confirm."""
    from market.orders.contracts import draft_first_version

    transition(order, "accepted", party=party_of(order, company_id), actor_company_id=company_id)
    draft_first_version(order, proposed_by=company_id)
    days = current_app.config.get("ORDER_SIGN_DAYS", 7)
    enqueue("orders.expire", delay=timedelta(days=days), order_id=order.id, state="accepted")


def reject_order(order: TradeOrder, company_id: int, reason: str) -> None:
    """The seller declines a placed order; the stock goes back on sale."""
    reason = _reason(reason)
    holds = order.state in HOLDS_STOCK
    transition(order, "rejected", party=party_of(order, company_id), actor_company_id=company_id,
               note=reason, cancel_reason=reason)
    if holds:
        _release_stock(order)


def cancel_order(order: TradeOrder, company_id: int | None, reason: str, *, party: str | None = None,
                 seen_state: str | None = None, body: object = None) -> None:
    """Cancel by a party (rules in the transition table), by an operator, or by the system (expiry).

    Gives the stock back and closes the escrow (refunding anything paid in). ``seen_state`` is the state
    the person saw when they chose to cancel: if the other side moved the order meanwhile (the seller
    accepted it), the cancel is refused (409) so they decide again on what is true now.
    """
    escrow_link.lock_for(order)
    if seen_state is not None and seen_state != order.state:
        raise StaleState()
    reason = _reason(reason)
    party = party or party_of(order, company_id)
    holds = order.state in HOLDS_STOCK
    transition(order, "cancelled", party=party, actor_company_id=company_id, note=reason, cancel_reason=reason,
               body=body)
    if holds:
        _release_stock(order)
    escrow_link.cancel_for(order, reason)


def _reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Please give a reason.", field_errors={"reason": "Please give a reason."})
    return reason[:300]


def _release_stock(order: TradeOrder) -> None:
    if not order.stock_reserved:
        return
    for line in order.lines:
        if line.listing_id is not None:
            stock.release(line.listing_id, line.quantity)
    order.stock_reserved = False
    db.session.flush()


# ---- delivery lots ----

def shipped_quantity(line: OrderLine) -> Decimal:
    return db.session.scalar(select(func.coalesce(func.sum(DeliveryLot.quantity), 0))
                             .where(DeliveryLot.line_id == line.id)) or Decimal(0)


def shipped_quantities(order: TradeOrder) -> dict[int, Decimal]:
    """Shipped quantity per line of ``order`` in one query (lines with no lot yet are 0)."""
    rows = db.session.execute(select(DeliveryLot.line_id, func.sum(DeliveryLot.quantity))
                              .where(DeliveryLot.order_id == order.id).group_by(DeliveryLot.line_id))
    shipped = {line_id: Decimal(total or 0) for line_id, total in rows}
    return {line.id: shipped.get(line.id, Decimal(0)) for line in order.lines}


def max_quantity(order: TradeOrder, line: OrderLine) -> Decimal:
    """The line's quantity plus the contract's tolerance (溢短装): the most that may ship and be paid for."""
    return line.quantity * (HUNDRED + order.quantity_tolerance_pct) / HUNDRED


def ship_lot(order: TradeOrder, company_id: int, *, line_id: int, quantity: Decimal, transport_ref: str | None,
             final: bool) -> DeliveryLot:
    """The seller dispatches a lot. The first lot moves a funded order into delivery."""
    if party_of(order, company_id) != SELLER:
        raise InvalidTransition("Only the seller ships.")
    if order.state not in ("funded", "in_delivery") or order.shipping_complete:
        raise InvalidTransition("Lots can be shipped only after payment and before delivery is complete.")
    line = next((line for line in order.lines if line.id == line_id), None)
    if line is None:
        raise NotFound("Not found")
    if quantity <= 0:
        raise ValidationFailed("Enter a positive quantity.", field_errors={"quantity": "Enter a positive quantity."})
    if shipped_quantity(line) + quantity > max_quantity(order, line):
        raise ValidationFailed("More than the ordered quantity plus tolerance.",
                               field_errors={"quantity": "More than the ordered quantity plus tolerance."})
    seq = (db.session.scalar(select(func.max(DeliveryLot.seq)).where(DeliveryLot.order_id == order.id)) or 0) + 1
    lot = DeliveryLot(order_id=order.id, seq=seq, line_id=line.id, quantity=quantity,
                      transport_ref=(transport_ref or "").strip()[:100] or None, shipped_at=utcnow())
    db.session.add(lot)
    db.session.flush()
    if order.state == "funded":
        transition(order, "in_delivery", party=SELLER, actor_company_id=company_id, note=f"lot {seq}",
                   body=_l("Lot %(n)s shipped", n=seq))
    if final:
        order.shipping_complete = True
    record("lot.shipped", "delivery_lot", lot.id, actor_company_id=company_id,
           after={"order": order.number, "seq": seq, "quantity": str(quantity), "final": final})
    if order.state != "in_delivery" or seq > 1:
        announce(order, "lot_shipped", note=_l("%(lot)s: %(quantity)s %(unit)s", lot=lot.reference, quantity=quantity,
                                                unit=UNIT_LABELS.get(line.unit, line.unit)), to=(BUYER,))
    db.session.flush()
    return lot


def complete_shipping(order: TradeOrder, company_id: int) -> None:
    """The seller says no more lots will come (the last lot may already have been delivered)."""
    if party_of(order, company_id) != SELLER or order.state != "in_delivery" or order.shipping_complete:
        raise InvalidTransition("Delivery cannot be completed now.")
    order.shipping_complete = True
    record("order.shipping_complete", "trade_order", order.id, actor_company_id=company_id)
    advance(order)


def confirm_delivery(order: TradeOrder, company_id: int, lot_id: int, delivered_quantity: Decimal | None) -> None:
    """The buyer confirms a lot arrived, with the weight on arrival (defaults to the shipped weight)."""
    if party_of(order, company_id) != BUYER:
        raise InvalidTransition("Only the buyer confirms delivery.")
    lot = get_lot(order, lot_id)
    if lot.state != "shipped":
        raise InvalidTransition("This lot is not on its way.")
    if delivered_quantity is not None and (delivered_quantity <= 0 or delivered_quantity > lot.quantity * 2):
        raise ValidationFailed("The weight on arrival is not plausible.",
                               field_errors={"delivered_quantity": "The weight on arrival is not plausible."})
    LOT.move(lot, "delivered", party=BUYER, actor_company_id=company_id, action="lot.delivered",
             delivered_at=utcnow(),
             delivered_quantity=delivered_quantity if delivered_quantity is not None else lot.quantity)
    announce(order, "lot_delivered", note=lot.reference, to=(SELLER,))
    db.session.flush()
    advance(order)


def get_lot(order: TradeOrder, lot_id: object) -> DeliveryLot:
    lot = next((lot for lot in order.lots if str(lot.id) == str(lot_id)), None)
    if lot is None:
        raise NotFound("Not found")
    return lot


def advance(order: TradeOrder) -> None:
    """Follow the lots: delivered when every lot arrived, inspected when every lot is, and on to settled
    when every lot is accepted or rejected. Called after every lot event; moves as far as it can."""
    lots = order.lots
    if order.state == "in_delivery" and order.shipping_complete and lots and all(
            lot.state != "shipped" for lot in lots):
        transition(order, "delivered", party=SYSTEM, actor_company_id=None)
    if order.state == "delivered" and all(lot.state not in ("shipped", "delivered") for lot in lots):
        transition(order, "inspected", party=SYSTEM, actor_company_id=None)
    # settled only when nothing is still owed: a pending top-up keeps the order open until paid or waived
    if order.state == "inspected" and all(lot.state in ("accepted", "rejected") and not lot.topup_fen
                                          for lot in lots):
        transition(order, "goods_accepted", party=SYSTEM, actor_company_id=None)
        escrow_link.settle_order(order)
        order.settled_fen = sum(lot.released_fen for lot in lots)
        transition(order, "settled", party=SYSTEM, actor_company_id=None)
        days = current_app.config.get("ORDER_CLOSE_DAYS", 7)
        enqueue("orders.close", delay=timedelta(days=days), order_id=order.id)


def close_order(order: TradeOrder, company_id: int | None, *, party: str | None = None) -> None:
    """Archive a settled order (either party, an operator, or the system after ORDER_CLOSE_DAYS)."""
    transition(order, "closed", party=party or party_of(order, company_id), actor_company_id=company_id)


# ---- jobs ----

@handler("orders.expire")
def expire_order(order_id: int, state: str) -> None:
    """Cancel an order left too long in ``state`` (idempotent: does nothing if it moved on)."""
    order = db.session.get(TradeOrder, order_id)
    if order is None or order.state != state:
        return
    now = utcnow()
    config = current_app.config
    if state == "placed" and order.placed_at + timedelta(hours=config.get("ORDER_ACCEPT_HOURS", 48)) <= now:
        message = _l("Expired: the seller did not accept in time.")
    elif state == "accepted" and order.accepted_at + timedelta(days=config.get("ORDER_SIGN_DAYS", 7)) <= now:
        message = _l("Expired: the contract was not signed in time.")
    elif state == "awaiting_payment" and order.payment_due_at and order.payment_due_at <= now:
        message = _l("Expired: payment did not arrive by the due date.")
    else:
        return
    # the record keeps the English words; the parties read the message in their own language
    cancel_order(order, None, msgid(message), party=SYSTEM, body=message)


@handler("orders.close")
def auto_close(order_id: int) -> None:
    order = db.session.get(TradeOrder, order_id)
    if order is not None and order.state == "settled":
        close_order(order, None, party=SYSTEM)


@handler("orders.expire_overdue")
def _expire_overdue_job() -> None:
    expire_overdue()


every(timedelta(hours=1), "orders.expire_overdue")


def expire_overdue() -> int:
    """Sweep for overdue orders (a safety net for the per-order jobs); returns how many were cancelled."""
    count = 0
    for order in db.session.scalars(select(TradeOrder).where(
            TradeOrder.state.in_(("placed", "accepted", "awaiting_payment")))):
        before = order.state
        expire_order(order.id, order.state)
        count += order.state != before
    return count


def can_request_cancel(order: TradeOrder, now: datetime | None = None) -> bool:
    """A paid order whose delivery window passed with nothing shipped: the buyer may unwind it."""
    now = now or utcnow()
    return (order.state == "funded" and not order.lots and order.cancel_requested_at is None
            and order.delivery_window_end is not None and order.delivery_window_end < now)


def request_cancel(order: TradeOrder, company_id: int, reason: str) -> None:
    """The buyer asks to cancel an order never shipped: the seller is told at once and has
    ORDER_CANCEL_GRACE_HOURS to ship; then the order is cancelled and the escrow refunded in full."""
    if party_of(order, company_id) != BUYER:
        raise NotFound("Not found")
    if not can_request_cancel(order):
        raise Conflict("This order cannot be cancelled now: it shipped, or its delivery window is still open.")
    reason = _reason(reason)
    hours = int(current_app.config.get("ORDER_CANCEL_GRACE_HOURS", 48))
    order.cancel_requested_at = utcnow()
    record("order.cancel_requested", "trade_order", order.id, actor_company_id=company_id, note=reason)
    announce(order, "cancel_requested", note=reason, to=(SELLER,))
    enqueue("orders.buyer_cancel", delay=timedelta(hours=hours), order_id=order.id, reason=reason)
    db.session.flush()


@handler("orders.buyer_cancel")
def buyer_cancel(order_id: int, reason: str) -> None:
    """The grace period ran out: cancel unless the seller shipped meanwhile (idempotent)."""
    order = db.session.get(TradeOrder, order_id)
    if order is None or order.state != "funded" or order.lots or order.cancel_requested_at is None:
        return
    cancel_order(order, None, reason, party=SYSTEM)


OPERATOR_CANCELLABLE = frozenset({"placed", "accepted", "contract_signed", "awaiting_payment", "funded"})


def operator_cancel(order: TradeOrder, reason: str) -> None:
    """Platform staff unwinds an order (e.g. a funded order that will never ship): full refund."""
    if order.state not in OPERATOR_CANCELLABLE:
        raise Conflict("This order can no longer be cancelled; open a dispute instead.")
    cancel_order(order, None, reason, party=OPERATOR)
