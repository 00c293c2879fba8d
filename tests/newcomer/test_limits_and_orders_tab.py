"""A new buyer sees its order limit before the last click; a seller's /orders opens on its sales."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from market.credit import gates
from market.orders.models import CartItem, TradeOrder
from market.orders.placement import add_to_cart
from tests.factories import login, make_company, make_member
from tests.factories.orders import make_trade_listing, make_trader, place_test_order

L0_LIMIT = gates.DEFAULTS["order_limit_l0_fen"]


def _l0_buyer():
    buyer = make_company(verified=False)
    return buyer, make_member(buyer)


def test_limit_shows_on_listing_cart_and_checkout(client, db):
    seller, _ = make_trader()
    listing = make_trade_listing(seller, price_fen=80_000, moq="10")  # ¥800/t: ¥50,000 buys 62.5 t
    buyer, user = _l0_buyer()
    login(client, user)
    page = client.get(f"/listings/{listing.id}").get_data(as_text=True)
    assert "limit-notice" in page
    assert "¥50,000.00" in page
    assert "/company/verification" in page  # how to raise it
    # 60 t = ¥48,000: allowed, checkout offered
    add_to_cart(buyer, listing.id, Decimal(60))
    db.session.commit()
    cart = client.get("/cart").get_data(as_text=True)
    assert "¥50,000.00" in cart
    assert "/checkout" in cart
    checkout = client.get("/checkout").get_data(as_text=True)
    assert 'id="place-order"' in checkout
    assert "¥50,000.00" in checkout


def test_checkout_not_offered_above_the_limit(client, db):
    seller, _ = make_trader()
    cheap = make_trade_listing(seller, price_fen=80_000, moq="10")
    other = make_trade_listing(seller, price_fen=80_000, moq="10")
    buyer, user = _l0_buyer()
    add_to_cart(buyer, cheap.id, Decimal(40))
    add_to_cart(buyer, other.id, Decimal(40))  # same seller: one ¥64,000 order
    db.session.commit()
    login(client, user)
    cart = client.get("/cart").get_data(as_text=True)
    assert 'href="/checkout"' not in cart
    assert "¥64,000.00" in cart
    checkout = client.get("/checkout").get_data(as_text=True)
    assert 'id="place-order"' not in checkout
    assert "/cart" in checkout
    response = client.post("/checkout", data={"delivery_address": "x", "delivery_window_start": "2099-01-01",
                                              "delivery_window_end": "2099-01-05"})
    assert response.status_code == 403
    assert db.session.scalar(select(func.count(TradeOrder.id))) == 0


def test_a_cart_line_above_the_limit_is_refused_and_not_saved(client, db):
    seller, _ = make_trader()
    listing = make_trade_listing(seller, price_fen=80_000, moq="10")
    _buyer, user = _l0_buyer()
    db.session.commit()
    login(client, user)
    response = client.post("/cart/add", data={"listing_id": listing.id, "quantity": "70"},
                           headers={"Accept": "application/json"})
    assert response.status_code == 422
    body = response.get_json()
    assert "quantity" in body["errors"]
    assert "¥50,000.00" in body["detail"]
    assert db.session.scalar(select(func.count(CartItem.id))) == 0


def test_orders_open_on_the_side_with_activity(client, db):
    seller, seller_user = make_trader()
    buyer, buyer_user = make_trader()
    place_test_order(buyer, make_trade_listing(seller))
    db.session.commit()
    login(client, seller_user)
    page = client.get("/orders").get_data(as_text=True)
    assert "JS-" in page
    assert 'aria-current=page' in page
    assert "tab=selling\" aria-current" in page.replace("&amp;", "&") or "tab=selling\" aria-current=page" in page
    client.get("/logout")
    login(client, buyer_user)
    assert "JS-" in client.get("/orders").get_data(as_text=True)
