"""What people read on the order pages: settlement in yuan with labelled specs, translated states and events,
and the seller's page right after accepting (it used to fail on a stray "%" in a label)."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import force_locale
from sqlalchemy import select

from catalog.seed import QNET
from market.accounts.models import Membership
from market.core.notify import Notification
from market.extensions import db
from market.orders import contracts, inspection, services
from market.orders.settlement import settle_lot
from market.orders.settlement_text import settlement_view
from market.orders.spec_text import spec_text
from tests.factories import login, make_agency, order_in_state
from tests.factories.orders import inspect, make_coal_category

COAL_RULE = {"kind": "coal", "method": "pro_rata", "base_qnet_ar": "5500",
             "penalties": [{"spec": "st_d", "limit": "0.8", "step": "0.10", "fen_per_step": 2000}]}


def _owner(company_id: int):  # type: ignore[no-untyped-def]
    return db.session.scalars(select(Membership).where(Membership.company_id == company_id)).first().user


def test_settlement_steps_read_in_yuan_with_spec_labels(app):
    make_coal_category()
    result = settle_lot(COAL_RULE, 80_000, Decimal(1000), {"qnet_ar": "5320", "st_d": "0.95"})
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        view = settlement_view(result.as_dict(), "t")
    pro_rata, penalty = view["steps"]
    assert "¥800.00 × 5320 ÷ 5500 = 每吨 ¥773.82" in pro_rata
    assert penalty.startswith("全硫 St,d 0.95 超过限值 0.8")
    assert "每吨扣 ¥40.00" in penalty
    rows = dict(view["rows"])
    assert rows["按合同价计"] == "¥800,000.00"
    assert rows["调整后单价"] == "¥733.82 / 吨"
    assert rows["应付卖方金额"] == "¥733,818.18"
    assert rows["与合同价的差额"] == "-¥66,181.82"
    assert "80000" not in " ".join(view["steps"])  # no raw fen


def test_settlement_without_step_codes_falls_back_to_the_stored_text(app):
    stored = {"amount_fen": 100, "contract_fen": 100, "payable_quantity": "1", "unit_price_fen": "100",
              "steps": [{"what": "calorific value (pro rata)", "detail": "100 × 1 ÷ 1"}]}
    with app.test_request_context():
        assert settlement_view(stored, "t")["steps"] == ["calorific value (pro rata): 100 × 1 ÷ 1"]
        assert settlement_view(None, "t") is None


def test_specs_are_labelled_in_both_languages(app):
    category = make_coal_category()
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        labelled = spec_text({"qnet_ar": "5200", "st_d": "1.18"}, category.id)
        assert labelled == "收到基低位发热量 5200 kcal/kg; 全硫 St,d 1.18 %"
        assert spec_text({"unknown_key": "x"}) == "unknown_key x"
        assert spec_text({}) == "—"
    with app.test_request_context(), force_locale("en"):
        assert spec_text({"qnet_ar": "5200"}) == f"{QNET['label_en']} 5200 kcal/kg"


def test_seller_opens_an_accepted_order_and_sees_the_contract_to_confirm(client):
    order = order_in_state("accepted")
    login(client, _owner(order.seller_id))
    page = client.get(f"/orders/{order.id}")
    assert page.status_code == 200, page.text[:300]
    assert "卖方已接单" in page.text
    assert f"/orders/{order.id}/contract/confirm" in page.text


def test_settled_coal_order_page_explains_the_settlement(client):
    agency, _ = make_agency()
    order = order_in_state("delivered", agency=agency)
    inspect(order, agency, {"qnet_ar": "5320", "st_d": "0.8"})
    inspection.accept_lot(order, order.buyer_id, order.lots[0].id)
    db.session.flush()
    login(client, _owner(order.buyer_id))
    page = client.get(f"/orders/{order.id}").text
    assert "结算明细" in page
    assert "¥800.00 × 5320 ÷ 5500 = 每吨 ¥773.82" in page
    assert "收到基低位发热量 5320 kcal/kg" in page  # the inspection, labelled
    assert "qnet_ar" not in page
    assert "80000 ×" not in page
    assert ">released<" not in page  # escrow and lot states are translated
    assert ">accepted<" not in page
    assert "已放款" in page
    assert 'data-confirm="关闭这笔已结算的订单' in page


def test_notifications_name_events_in_words():
    order = order_in_state("accepted")
    contract = contracts.current(order)
    contracts.confirm(order, order.seller_id, None, contract.content_sha256)
    subjects = list(db.session.scalars(select(Notification.subject).where(
        Notification.kind == "order.contract_confirmed")))
    assert subjects
    assert all("contract_confirmed" not in s for s in subjects)
    assert any("Contract confirmed by the other party" in s or "对方已确认合同" in s for s in subjects)
    services.cancel_order(order, order.buyer_id, "changed plans")
