"""Factories for the credit tests: orders with the timeliness facts the collector reads, and ratings.

``make_trade_history_order`` writes a ``trade_order`` row directly (no checkout, no stock) because the
credit tests are about what happened, not how the order got there.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from market.accounts.models import Company
from market.core.timeutil import utcnow
from market.credit.models import Rating
from market.extensions import db
from market.orders.models import Dispute, TradeOrder

__all__ = ["make_rating", "make_trade_history_order"]

_numbers = itertools.count(1)


def make_trade_history_order(
    buyer: Company,
    seller: Company,
    *,
    total_fen: int = 10_000_000,
    placed_at: datetime | None = None,
    pay_days_late: float | None = 0,
    deliver_days_late: float | None = 0,
    settled: bool = True,
    cancelled_by: Company | None = None,
    lost_dispute_by: Company | None = None,
) -> TradeOrder:
    """An accepted order between ``buyer`` and ``seller`` with payment/delivery timeliness as given.

    ``pay_days_late``/``deliver_days_late`` None means it has not happened (yet).
    """
    placed = placed_at or utcnow() - timedelta(days=60)
    due = placed + timedelta(days=7)
    window_end = placed + timedelta(days=20)
    funded = due + timedelta(days=pay_days_late) if pay_days_late is not None else None
    delivered = window_end + timedelta(days=deliver_days_late) if deliver_days_late is not None else None
    order = TradeOrder(
        number=f"JS-TEST-{next(_numbers):06d}", buyer_id=buyer.id, seller_id=seller.id, total_fen=total_fen,
        state="settled" if settled else "in_delivery", placed_at=placed, accepted_at=placed + timedelta(hours=2),
        payment_due_at=due, funded_at=funded, delivery_window_end=window_end, delivered_at=delivered,
        settled_at=(delivered or window_end) + timedelta(days=3) if settled else None,
        settled_fen=total_fen if settled else None,
    )
    if cancelled_by is not None:
        order.state, order.settled_at, order.settled_fen = "cancelled", None, None
        order.cancelled_at, order.cancelled_by_company_id = placed + timedelta(days=1), cancelled_by.id
        order.funded_at, order.delivered_at = None, None
    db.session.add(order)
    db.session.flush()
    if lost_dispute_by is not None:
        db.session.add(Dispute(order_id=order.id, opened_by_company_id=buyer.id, reason="quality",
                               status="resolved", outcome="buyer_won" if lost_dispute_by.id == seller.id
                               else "seller_won", losing_company_id=lost_dispute_by.id,
                               resolved_at=placed + timedelta(days=25)))
        db.session.flush()
    return order


def make_rating(order: TradeOrder, rater: Company, stars: int = 5, **fields: object) -> Rating:
    ratee_id = order.seller_id if rater.id == order.buyer_id else order.buyer_id
    rating = Rating(order_id=order.id, rater_company_id=rater.id, ratee_company_id=ratee_id,
                    rater_role="buyer" if rater.id == order.buyer_id else "seller", stars=stars,
                    tags=list(fields.pop("tags", [])), comment=fields.pop("comment", None), **fields)
    db.session.add(rating)
    db.session.flush()
    return rating
