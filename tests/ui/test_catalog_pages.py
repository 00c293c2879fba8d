"""The listing page lets a buyer order (it had no way to), and listing and storefront show the seller's credit
grade and ratings."""

from __future__ import annotations

from sqlalchemy import select

from market.extensions import db
from market.orders.models import CartItem
from tests.factories import login, make_trade_listing, make_trader


def _seller_with_grade():  # type: ignore[no-untyped-def]
    seller, owner = make_trader("大同测试煤业有限公司")
    seller.credit_grade, seller.credit_score = "AA", 85
    db.session.flush()
    return seller, owner


def test_anonymous_visitor_is_asked_to_sign_in_to_order(client):
    seller, _ = _seller_with_grade()
    listing = make_trade_listing(seller)
    page = client.get(f"/listings/{listing.id}").text
    assert "登录后下单" in page
    assert 'id="add-to-cart"' not in page
    assert "信用 AA" in page
    assert "ratings-summary" in page


def test_buyer_adds_the_listing_to_the_cart_from_its_page(client):
    seller, _ = _seller_with_grade()
    buyer, buyer_user = make_trader("长治测试电厂")
    listing = make_trade_listing(seller, moq="10")
    login(client, buyer_user)
    page = client.get(f"/listings/{listing.id}").text
    assert 'id="add-to-cart"' in page
    assert 'name="quantity" inputmode="decimal" required value="10"' in page
    response = client.post("/cart/add", data={"listing_id": listing.id, "quantity": "10"})
    assert response.status_code == 302
    assert db.session.scalars(select(CartItem).where(CartItem.buyer_id == buyer.id)).one().listing_id == listing.id


def test_seller_sees_no_order_form_on_its_own_listing(client):
    seller, owner = _seller_with_grade()
    listing = make_trade_listing(seller)
    login(client, owner)
    assert 'id="add-to-cart"' not in client.get(f"/listings/{listing.id}").text


def test_storefront_shows_grade_and_ratings(client):
    seller, _ = _seller_with_grade()
    make_trade_listing(seller)
    page = client.get(f"/companies/{seller.id}/store").text
    assert "信用 AA" in page
    assert "交易伙伴评价" in page
    assert "暂无评价" in page
