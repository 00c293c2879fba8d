"""Where orders meet escrow (payments/escrow.py). The escrow reference is the order number.

* contract signed → :func:`open_for` opens the escrow; the order awaits payment at ``payments.pay``.
* ``escrow_funded`` → the order is funded (receivers in :mod:`market.orders.escrow_events`).
* a lot is inspected → :func:`arm_lot` arms the escrow's auto-release for the lot's adjusted amount.
* the buyer accepts a lot → :func:`release_lot`; an auto-release arrives as ``escrow_released`` and
  accepts the lot on the buyer's behalf (:mod:`market.orders.escrow_events`).
* all lots done → :func:`settle_order` refunds whatever the adjusted amounts left in escrow.
* dispute → :func:`freeze_for`; the operator's split → :func:`resolve_for`; cancellation → :func:`cancel_for`.

payments knows nothing of orders; this module is the only place that translates between them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from flask import current_app

from market.core.money import format_fen
from market.core.timeutil import utcnow
from market.core.transitions import lock
from market.orders.lifecycle import BUYER, announce
from payments import escrow as escrow_service
from payments.models import CLOSED_STATUSES, Escrow, EscrowStatus

if TYPE_CHECKING:
    from market.orders.models import DeliveryLot, TradeOrder


def escrow_of(order: TradeOrder) -> Escrow | None:
    return escrow_service.find_escrow(order.number) if order.number else None


def lock_for(order: TradeOrder) -> None:
    """Lock the order's escrow row before moving the order, on every path that touches both.

    Payments arrive escrow-first (the webhook locks the escrow, then funds the order); an order service
    that moved the order first and the escrow second could deadlock against it on PostgreSQL. One lock
    order for everyone: escrow, then order.
    """
    escrow = escrow_of(order)
    if escrow is not None:
        lock(escrow)


def pay_url(order: TradeOrder) -> str | None:
    """The payment page for the order's escrow, if the payments package serves one."""
    from flask import url_for

    if "payments.pay" not in current_app.view_functions:
        return None
    try:
        return url_for("payments.pay", reference=order.number)
    except RuntimeError:  # outside a request without SERVER_NAME (demo loader)
        return None


def open_for(order: TradeOrder) -> Escrow:
    """Open the order's escrow for its total and start the payment clock (ORDER_PAYMENT_DAYS)."""
    from market.core.jobs import enqueue

    escrow = escrow_of(order) or escrow_service.open_escrow(order.number, order.buyer_id, order.seller_id,
                                                            order.total_fen, order.currency)
    days = int(current_app.config.get("ORDER_PAYMENT_DAYS", 3))
    order.payment_due_at = utcnow() + timedelta(days=days)
    enqueue("orders.expire", delay=timedelta(days=days), order_id=order.id, state="awaiting_payment")
    return escrow


def cancel_for(order: TradeOrder, reason: str) -> None:
    """The order was cancelled: close its escrow, refunding whatever was paid in."""
    escrow = escrow_of(order)
    if escrow is not None and escrow.status not in CLOSED_STATUSES:
        escrow_service.cancel_escrow(escrow, ref=f"{order.number}-cancel")


def arm_lot(order: TradeOrder, lot: DeliveryLot) -> None:
    """Release the lot's adjusted amount by itself after ESCROW_AUTO_RELEASE_DAYS unless the buyer acts."""
    from market.core.jobs import enqueue

    escrow = escrow_of(order)
    amount = min(lot.settled_fen or 0, escrow.held_fen) if escrow else 0
    if escrow is None or escrow.status not in escrow_service.TRANSITIONS["release"]:
        return
    # a lot rejected on quality releases nothing, and a lot worth more than is held needs a top-up: the
    # system accepts either by itself (through the same path as the buyer) instead of auto-releasing
    if amount <= 0 or (lot.settled_fen or 0) > amount:
        days = int(current_app.config["ESCROW_AUTO_RELEASE_DAYS"])
        enqueue("orders.auto_accept_lot", delay=timedelta(days=days), lot_id=lot.id, inspected_at=str(lot.inspected_at))
        return
    escrow_service.schedule_auto_release(escrow, lot.reference, amount)


def release_lot(order: TradeOrder, lot: DeliveryLot) -> int:
    """Release the lot's inspection-adjusted amount; returns what was released now.

    A lot worth more than the escrow still holds (over-delivery within tolerance, a quality premium)
    releases what is held and asks the buyer for the difference (a top-up on the same escrow, same
    payment code): ``lot.topup_fen`` until it is paid (:func:`release_top_ups`) or the seller waives it."""
    escrow = escrow_of(order)
    if escrow is None:
        return 0
    worth = lot.settled_fen or 0
    shortfall = max(0, worth - escrow.held_fen)
    if shortfall:
        escrow_service.request_top_up(escrow, shortfall, ref=f"{lot.reference}/top-up")
        lot.topup_fen = shortfall
        announce(order, "top_up_requested", note=f"{lot.reference}: {format_fen(shortfall, order.currency)}",
                 url=pay_url(order), to=(BUYER,))
    amount = worth - shortfall
    if amount > 0:
        escrow_service.release(escrow, amount, milestone_ref=lot.reference)
    else:
        escrow_service.cancel_auto_release(escrow, lot.reference)
    return amount


def topup_ref(lot: DeliveryLot) -> str:
    return f"{lot.reference}/top-up"


def release_top_ups(order: TradeOrder) -> bool:
    """Money arrived: release each lot's pending top-up the escrow can now cover; True if any was."""
    escrow = escrow_of(order)
    done = False
    for lot in order.lots:
        if escrow is not None and lot.topup_fen and escrow.held_fen >= lot.topup_fen \
                and escrow.status in escrow_service.TRANSITIONS["release"]:
            amount, lot.topup_fen = lot.topup_fen, 0
            escrow_service.release(escrow, amount, milestone_ref=topup_ref(lot))
            done = True
    return done


def waive_top_up(order: TradeOrder, lot: DeliveryLot) -> int:
    """The seller gives up the lot's pending top-up; returns the amount waived."""
    escrow = escrow_of(order)
    amount, lot.topup_fen = lot.topup_fen, 0
    if escrow is not None and amount:
        escrow_service.waive_top_up(escrow, amount, ref=f"{topup_ref(lot)}/waived")
    return amount


def settle_order(order: TradeOrder) -> None:
    """Every lot is paid or rejected: refund the remainder (quality deductions, short delivery) to the buyer."""
    escrow = escrow_of(order)
    if escrow is not None and escrow.held_fen > 0 and escrow.status in (EscrowStatus.FUNDED,
                                                                         EscrowStatus.PARTIALLY_RELEASED):
        escrow_service.settle(escrow, 0, ref=f"{order.number}-final")


def freeze_for(order: TradeOrder, reason: str) -> None:
    escrow = escrow_of(order)
    if escrow is not None and escrow.status in escrow_service.TRANSITIONS["freeze"]:
        escrow_service.freeze(escrow, reason)


def auto_release_dates(order: TradeOrder) -> dict[str, object]:
    """When each lot's payment is released by itself (lot reference → aware UTC time), while armed."""
    escrow = escrow_of(order)
    return {row.milestone_ref: row.due_at for row in escrow_service.armed(escrow)} if escrow else {}


def held_fen(order: TradeOrder) -> int:
    escrow = escrow_of(order)
    return escrow.held_fen if escrow else 0


def resolve_for(order: TradeOrder, payee_fen: int, dispute_id: int) -> None:
    """Carry out the operator's split of what the escrow holds."""
    escrow = escrow_of(order)
    if escrow is None:
        return
    if escrow.status == EscrowStatus.FROZEN:
        escrow_service.resolve_dispute(escrow, payee_fen, escrow.held_fen - payee_fen,
                                       resolution_ref=f"{order.number}-dispute-{dispute_id}", by_owner=True)
    elif escrow.held_fen:
        escrow_service.settle(escrow, payee_fen, ref=f"{order.number}-dispute-{dispute_id}")


# ---- signal receivers (run inside the payments transaction; they never commit) ----
