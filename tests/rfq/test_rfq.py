"""RFQs: sealed quotes (no page or endpoint reveals a quote early or to another seller), award, bad input."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from market.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from market.core.notify import Notification
from market.core.timeutil import utcnow
from market.extensions import db
from market.orders import contracts
from market.rfq import services
from market.rfq.models import Quote
from tests.factories import login, make_coal_category, make_trader

SPECS = {"qnet_ar": "5500", "st_d": "0.7"}


def post(buyer, *, deadline_hours: int = 48, **fields):
    category = make_coal_category()
    start = utcnow() + timedelta(days=5)
    data = services.RfqInput(category_id=category.id, title="求购动力煤 5500 大卡 2000 吨", quantity=Decimal(2000),
                             unit="t", delivery_place="大同南站", window_start=start,
                             window_end=start + timedelta(days=30),
                             deadline=utcnow() + timedelta(hours=deadline_hours),
                             spec_ranges={"qnet_ar": {"min": "5400"}, "st_d": {"max": "1.0"}}, **fields)
    return services.post_rfq(buyer, None, data)


def quote(rfq, seller, price_fen: int, **extra):
    return services.submit_quote(rfq, seller, None, unit_price_fen=price_fen, quantity=Decimal(2000),
                                 specs=extra.pop("specs", SPECS), valid_until=rfq.deadline + timedelta(days=7),
                                 terms=extra.pop("terms", "车板交货"))


def test_quotes_are_sealed_on_every_page(client):
    buyer, buyer_user = make_trader("晋能电力采购有限公司")
    alpha, alpha_user = make_trader("阿尔法煤业有限公司")
    beta, beta_user = make_trader("贝塔煤业有限公司")
    rfq = post(buyer)
    quote(rfq, alpha, 76_543, terms="ALPHA-SECRET-TERMS")
    quote(rfq, beta, 81_234, terms="BETA-SECRET-TERMS")
    rfq_id = rfq.id
    secrets_of = {"alpha": ("765.43", "ALPHA-SECRET-TERMS"), "beta": ("812.34", "BETA-SECRET-TERMS")}
    pages = [f"/rfq/{rfq_id}", "/rfq/", "/rfq/?tab=mine", "/notifications", "/orders", "/api/v1/orders/1"]

    def visible(user, path_list):
        login(client, user)
        texts = "".join(client.get(p).get_data(as_text=True) for p in path_list)
        client.post("/logout")
        return texts

    # before the deadline the buyer sees a count, not one price or term
    seen = visible(buyer_user, pages)
    assert "2" in seen
    for price, terms in secrets_of.values():
        assert price not in seen
        assert terms not in seen
    # each seller sees its own quote and never the other's
    seen = visible(alpha_user, pages)
    assert "765.43" in seen
    assert "812.34" not in seen
    assert "BETA-SECRET-TERMS" not in seen
    seen = visible(beta_user, pages)
    assert "765.43" not in seen
    assert "ALPHA-SECRET-TERMS" not in seen
    # the service refuses the comparison too
    rfq = db.session.get(type(rfq), rfq_id)
    with pytest.raises(Conflict):
        services.comparison(rfq, db.session.get(type(buyer), buyer.id))
    # closing early opens them for the buyer only
    login(client, buyer_user)
    assert client.post(f"/rfq/{rfq_id}/close").status_code == 302
    page = client.get(f"/rfq/{rfq_id}").get_data(as_text=True)
    assert "765.43" in page
    assert "812.34" in page
    assert "BETA-SECRET-TERMS" in page
    client.post("/logout")
    seen = visible(alpha_user, pages)
    assert "812.34" not in seen
    assert "BETA-SECRET-TERMS" not in seen


def test_stranger_cannot_even_see_an_invited_rfq():
    buyer, _ = make_trader()
    invited, _ = make_trader()
    stranger, _ = make_trader()
    rfq = post(buyer, visibility="invited", invited_seller_ids=(invited.id,))
    assert services.get_rfq(invited, rfq.id) is rfq
    with pytest.raises(NotFound):
        services.get_rfq(stranger, rfq.id)
    with pytest.raises(PermissionDenied):
        quote(rfq, stranger, 80_000)


def test_award_creates_order_and_contract_and_tells_the_others():
    buyer, _ = make_trader()
    alpha, _ = make_trader()
    beta, _ = make_trader()
    rfq = post(buyer)
    q1 = quote(rfq, alpha, 79_000)
    quote(rfq, beta, 80_500)
    services.close_early(rfq, buyer)
    rows = services.comparison(rfq, buyer)
    assert [r["seller"].id for r in rows] == [alpha.id, beta.id]
    assert rows[0]["credit_grade"] is None
    assert rows[0]["meets_specs"] == {"qnet_ar": True, "st_d": True}
    order = services.accept_quote(rfq, buyer, None, q1.id)
    assert order.state == "accepted"
    assert order.seller_id == alpha.id
    assert order.total_fen == 79_000 * 2000
    assert order.lines[0].price_rule["base_qnet_ar"] == "5500"  # the quote's promised quality, not the RFQ's minimum
    assert contracts.current(order).version == 1
    assert rfq.status == "awarded"
    declined = db.session.scalars(select(Quote).where(Quote.seller_id == beta.id)).one()
    assert declined.status == "declined"
    assert db.session.scalars(select(Notification).where(Notification.company_id == beta.id,
                                                         Notification.kind == "rfq.declined")).first()
    with pytest.raises(Exception):  # noqa: B017,PT011  (a second award is refused)
        services.accept_quote(rfq, buyer, None, q1.id)


def test_quote_after_deadline_and_expired_quote_are_refused():
    buyer, _ = make_trader()
    seller, _ = make_trader()
    rfq = post(buyer)
    q = quote(rfq, seller, 79_000)
    rfq.deadline = utcnow() - timedelta(minutes=1)
    other, _ = make_trader()
    with pytest.raises(Conflict):
        quote(rfq, other, 70_000)
    assert db.session.scalars(select(Quote).where(Quote.seller_id == other.id)).first() is None
    q.valid_until = utcnow() - timedelta(seconds=1)
    with pytest.raises(Conflict):
        services.accept_quote(rfq, buyer, None, q.id)
    assert q.status == "submitted"
    assert rfq.order_id is None


def test_bad_ranges_and_specs_are_422():
    buyer, _ = make_trader()
    with pytest.raises(ValidationFailed):
        post(buyer, deadline_hours=-1)
    rfq = post(buyer)
    seller, _ = make_trader()
    with pytest.raises(ValidationFailed):
        quote(rfq, seller, 80_000, specs={"qnet_ar": "99999", "st_d": "0.7"})
    unverified, _ = make_trader(verified=False)
    with pytest.raises(PermissionDenied):
        quote(rfq, unverified, 80_000)
