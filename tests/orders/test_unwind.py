"""Finding 6: a paid order that never ships can be unwound — by the buyer after the delivery window (the
seller is told first and has a grace period), and by an operator from the order's page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from market.core.errors import Conflict
from market.core.jobs import Job
from market.core.notify import Notification
from market.core.timeutil import utcnow
from market.extensions import db
from market.orders import services
from market.orders.escrow_link import escrow_of
from market.orders.models import TradeOrder
from payments.check import find_violations
from tests.factories import login, make_staff, order_in_state
from tests.payments.conftest import run_jobs


def _due_now() -> None:
    for job in db.session.scalars(select(Job).where(Job.status == "queued")):
        job.run_after = utcnow() - timedelta(seconds=1)
    db.session.commit()


def test_buyer_unwinds_after_the_window_with_a_grace_period(client):
    order = order_in_state("funded")
    order_id = order.id
    with pytest.raises(Conflict):  # the window is still open
        services.request_cancel(order, order.buyer_id, "卖方迟迟未发货")
    order.delivery_window_end = utcnow() - timedelta(hours=1)
    db.session.commit()
    login(client, order.buyer.memberships[0].user)
    page = client.get(f"/orders/{order_id}").get_data(as_text=True)
    assert f"/orders/{order_id}/request-cancel" in page
    response = client.post(f"/orders/{order_id}/request-cancel", data={"reason": "交货期已过，卖方未发货"})
    assert response.status_code == 302
    db.session.expire_all()
    order = db.session.get(TradeOrder, order_id)
    assert order.state == "funded"
    assert order.cancel_requested_at is not None
    assert db.session.scalar(select(Notification).where(Notification.company_id == order.seller_id,
                                                        Notification.kind == "order.cancel_requested"))
    run_jobs()
    assert order.state == "funded"  # the grace period is not over
    _due_now()
    run_jobs()
    db.session.expire_all()
    order = db.session.get(TradeOrder, order_id)
    escrow = escrow_of(order)
    assert (order.state, escrow.status, escrow.refunded_fen) == ("cancelled", "refunded", escrow.funded_fen)
    assert find_violations() == []


def test_shipping_in_the_grace_period_keeps_the_order(app):
    from decimal import Decimal

    order = order_in_state("funded")
    order.delivery_window_end = utcnow() - timedelta(hours=1)
    services.request_cancel(order, order.buyer_id, "交货期已过，卖方未发货")
    services.ship_lot(order, order.seller_id, line_id=order.lines[0].id, quantity=Decimal("100"),
                      transport_ref="LATE-1", final=False)
    db.session.commit()
    _due_now()
    run_jobs()
    db.session.refresh(order)
    assert order.state == "in_delivery"


def test_operator_reaches_cancel_from_the_order_page(client):
    order = order_in_state("funded")
    order_id, number = order.id, order.number
    db.session.commit()
    login(client, make_staff("operator"))
    console = client.get("/payments/operator").get_data(as_text=True)
    assert f"/operator/orders/by-number/{number}" in console
    page = client.get(client.get(f"/operator/orders/by-number/{number}").headers["Location"]).get_data(as_text=True)
    assert f"/operator/orders/{order_id}/cancel" in page
    assert client.post(f"/operator/orders/{order_id}/cancel", data={"reason": "卖方无法供货"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(TradeOrder, order_id).state == "cancelled"
    assert find_violations() == []
