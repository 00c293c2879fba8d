"""Finding 3: over-delivery within tolerance is paid in full — the buyer pays the difference (or the seller
waives it) before the order is settled; both see the arithmetic first."""

from __future__ import annotations

from decimal import Decimal

from market.extensions import db
from market.orders import inspection, services
from market.orders.escrow_link import escrow_of
from payments.check import find_violations
from tests.factories import login, order_in_state
from tests.factories.orders import fund_order, inspect


def over_delivered(client=None):  # type: ignore[no-untyped-def]
    order = order_in_state("funded", quantity="60")  # 60 t × ¥800 = ¥48,000, tolerance ±5 %
    services.ship_lot(order, order.seller_id, line_id=order.lines[0].id, quantity=Decimal("63"),
                      transport_ref="TY-063", final=True)
    services.confirm_delivery(order, order.buyer_id, order.lots[0].id, None)
    inspect(order, order.buyer, {"qnet_ar": "5500", "st_d": "0.8"}, quantity="63")
    db.session.commit()
    return order


def test_over_delivery_asks_for_the_difference_and_settles_when_paid(client):
    order = over_delivered()
    lot = order.lots[0]
    assert lot.settled_fen == 5_040_000  # 63 t × ¥800
    login(client, order.buyer.memberships[0].user)
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "¥2,400.00" in page  # the difference is shown before accepting
    inspection.accept_lot(order, order.buyer_id, lot.id)
    escrow = escrow_of(order)
    assert (escrow.released_fen, lot.topup_fen, escrow.due_fen) == (4_800_000, 240_000, 240_000)
    assert order.state == "inspected"  # not settled while the difference is owed
    assert find_violations() == []
    fund_order(order)  # the buyer pays the top-up on the same escrow
    db.session.refresh(order)
    assert (order.state, order.settled_fen, lot.topup_fen) == ("settled", 5_040_000, 0)
    assert (escrow_of(order).released_fen, escrow_of(order).status) == (5_040_000, "released")
    assert find_violations() == []


def test_the_seller_may_waive_the_difference(app):
    order = over_delivered()
    lot = order.lots[0]
    inspection.accept_lot(order, order.buyer_id, lot.id)
    inspection.waive_top_up(order, order.seller_id, lot.id)
    assert (order.state, order.settled_fen) == ("settled", 4_800_000)
    assert escrow_of(order).status == "released"
    assert find_violations() == []


def test_under_delivery_refunds_at_once(app):
    order = order_in_state("funded", quantity="60")
    services.ship_lot(order, order.seller_id, line_id=order.lines[0].id, quantity=Decimal("50"),
                      transport_ref="TY-050", final=True)
    services.confirm_delivery(order, order.buyer_id, order.lots[0].id, None)
    inspect(order, order.buyer, {"qnet_ar": "5500", "st_d": "0.8"}, quantity="50")
    inspection.accept_lot(order, order.buyer_id, order.lots[0].id)
    escrow = escrow_of(order)
    assert (order.state, escrow.released_fen, escrow.refunded_fen) == ("settled", 4_000_000, 800_000)
    assert find_violations() == []
