"""An award carries the winning quote's goods, specs, price and terms into the order and the contract."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select

from market.core.timeutil import utcnow
from market.extensions import db
from market.orders import contracts
from market.rfq import services
from market.rfq.models import Quote
from tests.factories import login, make_coal_category, make_trader


def _rfq(buyer):
    category = make_coal_category()
    start = utcnow() + timedelta(days=5)
    data = services.RfqInput(category_id=category.id, title="求购动力煤 5500 大卡 2000 吨", quantity=Decimal(2000),
                             unit="t", delivery_place="大同南站", window_start=start,
                             window_end=start + timedelta(days=30), deadline=utcnow() + timedelta(hours=48),
                             spec_ranges={"qnet_ar": {"min": "5500"}, "st_d": {"max": "1.0"}})
    return services.post_rfq(buyer, None, data)


def test_award_copies_the_quote_field_by_field():
    buyer, _ = make_trader("晋能电力采购有限公司")
    seller, _ = make_trader("阿尔法煤业有限公司")
    loser, _ = make_trader("贝塔煤业有限公司")
    rfq = _rfq(buyer)
    specs = {"qnet_ar": "5550", "st_d": "0.6", "ad": "16", "mt": "9"}
    won = services.submit_quote(rfq, seller, None, unit_price_fen=79_950, quantity=Decimal("1800.5"), specs=specs,
                                valid_until=rfq.deadline + timedelta(days=7), terms="车板交货，含税，两票制",
                                goods="大同动力煤 Q5550 洗混煤")
    services.submit_quote(rfq, loser, None, unit_price_fen=81_000, quantity=Decimal(2000), specs=specs,
                          valid_until=rfq.deadline + timedelta(days=7), terms="自提")
    services.close_early(rfq, buyer)
    order = services.accept_quote(rfq, buyer, None, won.id)
    line = order.lines[0]
    content = contracts.current(order).content
    goods = content["goods"][0]
    quote = db.session.get(Quote, won.id)
    # order line == quote
    assert (line.title, line.quantity, line.unit_price_fen, line.specs) == (
        quote.goods, quote.quantity, quote.unit_price_fen, quote.specs)
    assert line.amount_fen == quote.amount_fen == order.total_fen
    # contract == quote
    assert goods["title"] == quote.goods
    assert goods["specs"] == quote.specs
    assert Decimal(goods["quantity"]) == quote.quantity
    assert goods["unit_price_fen"] == quote.unit_price_fen
    assert goods["amount_fen"] == quote.amount_fen
    assert content["seller_terms"] == quote.terms
    # the price adjustment is based on what the quote promised, not on the RFQ's minimum
    rule = goods["price_rule"]
    assert rule["base_qnet_ar"] == "5550"
    assert {p["spec"]: p["limit"] for p in rule["penalties"]} == {"st_d": "0.6", "ad": "16", "mt": "9"}
    assert rfq.price_rule["base_qnet_ar"] == "5500"  # the RFQ asked for less; the quote's offer binds
    assert content["seller"]["uscc"] == seller.uscc


def test_without_a_goods_name_the_category_and_quality_name_it():
    buyer, _ = make_trader()
    seller, _ = make_trader()
    rfq = _rfq(buyer)
    won = services.submit_quote(rfq, seller, None, unit_price_fen=80_000, quantity=Decimal(100),
                                specs={"qnet_ar": "5550", "st_d": "0.6"},
                                valid_until=rfq.deadline + timedelta(days=7), terms=None)
    services.close_early(rfq, buyer)
    order = services.accept_quote(rfq, buyer, None, won.id)
    assert order.lines[0].title != rfq.title
    assert "5550" in order.lines[0].title
    assert "seller_terms" not in contracts.current(order).content


def test_a_quote_with_a_bad_price_is_refused_naming_the_field(client):
    buyer, _ = make_trader()
    _seller, seller_user = make_trader()
    rfq = _rfq(buyer)
    db.session.commit()
    login(client, seller_user)
    response = client.post(f"/rfq/{rfq.id}/quote", data={"unit_price": "799.123", "quantity": "100",
                                                         "valid_until": "2099-01-01"}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "单价" in page
    assert re.search(r"(两|2) ?位小数", page)  # beside the field and in the summary
    assert 'class="field-error"' in page
    assert db.session.scalar(select(func.count(Quote.id))) == 0
