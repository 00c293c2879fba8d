"""The collector: reads orders, inspections, disputes and ratings into a :class:`CompanyHistory`.

This is the only module of the credit package that knows the orders schema; the scoring itself is pure.
What counts (and why):

* orders the seller accepted (a seller's refusal or a buyer withdrawing an unanswered order is not a
  trading experience); a cancellation counts against the company that cancelled after acceptance;
* a payment experience per order with a payment due date, unless it was cancelled before being funded;
* a delivery experience per order with a delivery window, unless it was cancelled before delivery;
* quality deviation per settled lot: the share of the contract value lost to quality adjustments
  (a rejected lot counts as 100 %);
* a dispute decided against the company (``Dispute.losing_company_id``) marks that order as lost.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, or_, select

from market.accounts.models import Company
from market.credit.ratings import stars_received
from market.credit.scoring import (
    CompanyHistory,
    DeliveryExperience,
    InspectionResult,
    OrderOutcome,
    PaymentExperience,
)
from market.extensions import db
from market.orders.models import DeliveryLot, Dispute, TradeOrder


def _deviation_bps(settlement: dict | None) -> int | None:
    if not settlement:
        return None
    if settlement.get("rejected"):
        return 10_000
    contract = int(settlement.get("contract_fen") or 0)
    paid = int(settlement.get("amount_fen") or 0)
    if contract <= 0:
        return None
    return max(0, (contract - paid) * 10_000 // contract)


def collect_history(company: Company, now: datetime) -> CompanyHistory:
    """Everything the internal score needs about ``company`` as of ``now`` (later events are ignored)."""
    cid = company.id
    orders = list(db.session.scalars(
        select(TradeOrder)
        .where(or_(TradeOrder.buyer_id == cid, TradeOrder.seller_id == cid),
               TradeOrder.accepted_at.is_not(None), TradeOrder.accepted_at <= now)
        .order_by(TradeOrder.id)
    ))
    lost_orders = set(db.session.scalars(
        select(Dispute.order_id).where(Dispute.losing_company_id == cid, Dispute.resolved_at.is_not(None),
                                       Dispute.resolved_at <= now)
    ))

    def seen(moment: datetime | None) -> datetime | None:
        return moment if moment is not None and moment <= now else None

    outcomes, payments, deliveries = [], [], []
    for order in orders:
        as_buyer = order.buyer_id == cid
        other = order.seller_id if as_buyer else order.buyer_id
        amount = order.settled_fen if order.settled_fen is not None and seen(order.settled_at) else order.total_fen
        cancelled = seen(order.cancelled_at)
        outcomes.append(OrderOutcome(
            order_id=order.id, counterparty_id=other, amount_fen=amount,
            settled=seen(order.settled_at) is not None,
            cancelled_by_self=cancelled is not None and order.cancelled_by_company_id == cid,
            dispute_lost=order.id in lost_orders,
        ))
        if as_buyer and order.payment_due_at is not None and not (cancelled and seen(order.funded_at) is None):
            payments.append(PaymentExperience(other, order.total_fen, order.payment_due_at, seen(order.funded_at)))
        if (not as_buyer and order.delivery_window_end is not None
                and not (cancelled and seen(order.delivered_at) is None)):
            deliveries.append(DeliveryExperience(other, order.total_fen, order.delivery_window_end,
                                                 seen(order.delivered_at)))

    inspections = []
    lots = db.session.scalars(
        select(DeliveryLot).join(TradeOrder, TradeOrder.id == DeliveryLot.order_id)
        .where(TradeOrder.seller_id == cid, DeliveryLot.inspected_at.is_not(None), DeliveryLot.inspected_at <= now)
    )
    for lot in lots:
        deviation = _deviation_bps(lot.settlement)
        if deviation is not None:
            inspections.append(InspectionResult(int(lot.settlement.get("contract_fen") or 0), deviation))

    stars = stars_received(cid, now)
    return CompanyHistory(
        verification_level=company.verification_level,
        registered_at=company.created_at,
        orders=tuple(outcomes),
        payments=tuple(payments),
        deliveries=tuple(deliveries),
        inspections=tuple(inspections),
        ratings=stars,
    )


def traded_together(company_a: int, company_b: int) -> bool:
    """Whether the two companies had an order together that the seller accepted."""
    if company_a == company_b:
        return False
    pair = or_(
        and_(TradeOrder.buyer_id == company_a, TradeOrder.seller_id == company_b),
        and_(TradeOrder.buyer_id == company_b, TradeOrder.seller_id == company_a),
    )
    return db.session.scalar(
        select(TradeOrder.id).where(pair, TradeOrder.accepted_at.is_not(None)).limit(1)
    ) is not None
