"""Placing orders over HTTP: tier prices, MOQ and stock, one order per seller, idempotency, bad input."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select

from catalog.models import Listing
from market.core.timeutil import to_local, utcnow
from market.extensions import db
from market.orders.models import CartItem, TradeOrder
from tests.factories import login, make_trade_listing, make_trader, order_in_state


def _window() -> dict[str, str]:
    start = to_local(utcnow() + timedelta(days=2)).date()
    return {"delivery_window_start": start.isoformat(), "delivery_window_end": (start + timedelta(days=10)).isoformat()}


def _count() -> int:
    """Count orders, then end this read: on SQLite an open transaction in the test would hold the write
    lock that the next request needs."""
    count = db.session.scalar(select(func.count(TradeOrder.id))) or 0
    db.session.rollback()
    return count


def _available(listing_id: int) -> Decimal:
    value = db.session.get(Listing, listing_id).available_quantity
    db.session.rollback()
    return value


def test_checkout_makes_one_order_per_seller_at_tier_prices_and_a_double_submit_places_once(client):
    _buyer, user = make_trader()
    seller_a, _ = make_trader()
    seller_b, _ = make_trader()
    a1 = make_trade_listing(seller_a, tiers=[("500", 78_000)])
    a2 = make_trade_listing(seller_a, price_fen=90_000)
    b1 = make_trade_listing(seller_b, price_fen=70_000)
    ids = [a1.id, a2.id, b1.id]
    login(client, user)
    for listing_id, quantity in zip(ids, ("500", "20", "30"), strict=True):
        assert client.post("/cart/add", data={"listing_id": listing_id, "quantity": quantity}).status_code == 302
    page = client.get("/checkout").get_data(as_text=True)
    assert "¥408,000.00" in page  # 500 t at the ¥780 tier + 20 t at ¥900
    form = {"delivery_address": "太原市小店区", "po_number": "PO-2026-77", "form_token": "tok-1", **_window()}
    first = client.post("/checkout", data=form)
    second = client.post("/checkout", data=form)  # the double click
    assert first.status_code == second.status_code == 302
    orders = db.session.scalars(select(TradeOrder).order_by(TradeOrder.id)).all()
    assert len(orders) == 2
    assert {o.seller_id for o in orders} == {seller_a.id, seller_b.id}
    order_a = next(o for o in orders if o.seller_id == seller_a.id)
    assert order_a.total_fen == 500 * 78_000 + 20 * 90_000
    assert order_a.buyer_po_number == "PO-2026-77"
    assert order_a.number.startswith("JS-")
    assert len(order_a.number) == len("JS-20261128-000123")
    assert db.session.get(Listing, ids[0]).available_quantity == Decimal(500)
    assert db.session.scalar(select(func.count(CartItem.id))) == 0


def test_api_idempotency_key_returns_the_first_orders(client):
    _buyer, user = make_trader()
    seller, _ = make_trader()
    listing_id = make_trade_listing(seller, stock="100").id
    login(client, user)
    body = {"lines": [{"listing_id": listing_id, "quantity": "40"}], "delivery_address": "大同", **_window()}
    first = client.post("/api/v1/orders", json=body, headers={"Idempotency-Key": "abc-123"})
    retry = client.post("/api/v1/orders", json=body, headers={"Idempotency-Key": "abc-123"})
    assert first.status_code == 201
    assert retry.status_code == 200
    assert first.get_json()["orders"][0]["number"] == retry.get_json()["orders"][0]["number"]
    assert retry.get_json()["replayed"] is True
    assert _count() == 1
    assert _available(listing_id) == Decimal(60)
    other = client.post("/api/v1/orders", json=body, headers={"Idempotency-Key": "abc-124"})
    assert other.status_code == 201
    assert _count() == 2


def test_bad_quantities_are_refused_and_nothing_changes(client):
    _buyer, user = make_trader()
    seller, _ = make_trader()
    listing_id = make_trade_listing(seller, stock="100", moq="10").id
    login(client, user)
    for quantity, status in (("5", 422), ("101", 409), ("-3", 422), ("abc", 422), ("1.0001", 422)):
        body = {"lines": [{"listing_id": listing_id, "quantity": quantity}], "delivery_address": "大同", **_window()}
        response = client.post("/api/v1/orders", json=body)
        assert response.status_code in (status, 422), (quantity, response.status_code)
        assert response.mimetype == "application/problem+json"
    assert _count() == 0
    assert _available(listing_id) == Decimal(100)
    past = {"lines": [{"listing_id": listing_id, "quantity": "10"}], "delivery_address": "大同",
            "delivery_window_start": "2020-01-01", "delivery_window_end": "2020-02-01"}
    assert client.post("/api/v1/orders", json=past).status_code == 422
    assert client.post("/cart/add", data={"listing_id": listing_id, "quantity": "5"}).status_code == 422
    assert _count() == 0
    assert db.session.scalar(select(func.count(CartItem.id))) == 0


def test_other_companies_get_404_and_illegal_moves_409(client):
    order = order_in_state("placed")
    order_id = order.id
    buyer_user = order.buyer.memberships[0].user
    _, stranger = make_trader()
    buyer_user_id = buyer_user.id
    login(client, stranger)
    for path in (f"/orders/{order_id}", f"/orders/{order_id}/contract", f"/api/v1/orders/{order_id}"):
        assert client.get(path).status_code == 404
    assert client.post(f"/orders/{order_id}/cancel", data={"reason": "x"}).status_code == 404
    login(client, db.session.get(type(buyer_user), buyer_user_id))
    response = client.post(f"/orders/{order_id}/accept")  # only the seller may accept
    assert response.status_code == 409
    db.session.expire_all()
    assert db.session.get(TradeOrder, order_id).state == "placed"
    db.session.rollback()
    assert client.get(f"/orders/{order_id}").status_code == 200
