"""Trust gates: order value limits by verification level, payment terms by grade, operator settings and
overrides (audited), and the gate wired into the orders package's placement."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from market.accounts.models import Verification
from market.core.audit import AuditLog
from market.core.errors import BadRequest, ValidationFailed
from market.core.timeutil import utcnow
from market.credit import gates
from market.credit.gates import CreditGateRefused, check_order_allowed
from market.credit.models import CreditOverride
from market.orders.models import TradeOrder
from tests.factories import login, make_company, make_member, make_staff


def l2_company(**fields):
    company = make_company(**fields)
    company.verification_level = Verification.L2_CREDIT_CHECKED
    return company


L1_LIMIT = gates.DEFAULTS["order_limit_l1_fen"]
L0_LIMIT = gates.DEFAULTS["order_limit_l0_fen"]


def test_order_limits_follow_the_verification_level(db):
    l0, l1 = make_company(verified=False), make_company()
    l2 = l2_company()
    check_order_allowed(l1, l2, L1_LIMIT)  # at the limit is fine
    with pytest.raises(CreditGateRefused, match="above the") as caught:
        check_order_allowed(l1, l2, L1_LIMIT + 1)
    assert caught.value.status == 403
    assert caught.value.detail["limit"] == "¥2,000,000.00"
    check_order_allowed(l0, l2, L0_LIMIT)
    with pytest.raises(CreditGateRefused):
        check_order_allowed(l0, l2, L0_LIMIT + 1)
    # the seller's level limits too
    with pytest.raises(CreditGateRefused, match="The seller can take orders up to"):
        check_order_allowed(l2, l1, L1_LIMIT + 1)
    check_order_allowed(l2, l2_company(), 10**13)  # L2 with L2: no platform limit


def test_bad_amounts_are_refused(db):
    a, b = make_company(), make_company()
    for amount in (-1, 1.5, "100", True):
        with pytest.raises(BadRequest):
            check_order_allowed(a, b, amount)


def test_payment_terms_need_a_grade(db):
    seller = l2_company()
    good = l2_company(credit_score=75, credit_grade="A")
    fair = make_company(credit_score=65, credit_grade="BBB")
    unrated = make_company()
    check_order_allowed(good, seller, 100, "pay_after_delivery")
    with pytest.raises(CreditGateRefused, match="need a credit grade") as caught:
        check_order_allowed(good, seller, 100, "net_30")
    assert caught.value.detail == {"terms": "30 days after delivery", "grade": "AA", "current": "A"}
    with pytest.raises(CreditGateRefused) as caught:
        check_order_allowed(fair, seller, 100, "pay_after_delivery")
    assert caught.value.detail["grade"] == "A"
    assert caught.value.detail["current"] == "BBB"
    with pytest.raises(CreditGateRefused):
        check_order_allowed(unrated, seller, 100, "pay_after_delivery")
    for open_terms in (None, "", "escrow_prepaid"):
        check_order_allowed(unrated, seller, 100, open_terms)


def test_operator_settings_change_the_gates_and_are_audited(db):
    staff = make_staff()
    buyer, seller = make_company(credit_score=65, credit_grade="BBB"), l2_company()
    gates.update_gate_settings({"order_limit_l1_fen": 1_000, "payment_terms_min_grade": {"pay_after_delivery": "BBB",
                                                                                         "net_30": "A"}},
                               user_id=staff.id)
    with pytest.raises(CreditGateRefused):
        check_order_allowed(buyer, seller, 1_001)
    check_order_allowed(buyer, seller, 1_000, "pay_after_delivery")
    audit = db.session.scalars(select(AuditLog).where(AuditLog.action == "credit.gates_changed")).one()
    assert audit.before["order_limit_l1_fen"] == L1_LIMIT
    assert audit.after["order_limit_l1_fen"] == 1_000
    assert audit.actor_user_id == staff.id


@pytest.mark.parametrize("values", [
    {"order_limit_l0_fen": -5}, {"order_limit_l1_fen": "lots"}, {"order_limit_l1_fen": 1.5},
    {"payment_terms_min_grade": {"pay_after_delivery": "A+"}}, {"payment_terms_min_grade": {"barter": "A"}},
    {"payment_terms_min_grade": "A"},
])
def test_bad_settings_save_nothing(db, values):
    with pytest.raises(ValidationFailed):
        gates.update_gate_settings({"order_limit_l0_fen": 1, **values}, user_id=None)
    assert gates.gate_settings() == gates.DEFAULTS


def test_an_override_lifts_a_limit_until_revoked_or_expired(db):
    staff = make_staff()
    buyer, seller = make_company(), l2_company()
    amount = L1_LIMIT * 3
    override = gates.grant_override(buyer.id, "order_limit", reason="国企担保，已核实授信", limit_fen=amount,
                                    user_id=staff.id)
    check_order_allowed(buyer, seller, amount)
    with pytest.raises(CreditGateRefused):
        check_order_allowed(buyer, seller, amount + 1)
    granted = db.session.scalars(select(AuditLog).where(AuditLog.action == "credit.override_granted")).one()
    assert granted.note == "国企担保，已核实授信"
    assert granted.after["limit_fen"] == amount
    gates.revoke_override(override.id, reason="担保到期", user_id=staff.id)
    with pytest.raises(CreditGateRefused):
        check_order_allowed(buyer, seller, amount)
    assert db.session.scalars(select(AuditLog).where(AuditLog.action == "credit.override_revoked")).one()
    # an expired one does not count either
    expiring = gates.grant_override(buyer.id, "order_limit", reason="短期试单", limit_fen=None, user_id=staff.id,
                                    expires_at=utcnow() + timedelta(days=1))
    check_order_allowed(buyer, seller, amount)
    with pytest.raises(CreditGateRefused):
        check_order_allowed(buyer, seller, amount, now=expiring.expires_at + timedelta(seconds=1))


def test_a_payment_terms_override(db):
    buyer, seller = make_company(), l2_company()
    gates.grant_override(buyer.id, "payment_terms", payment_terms="pay_after_delivery", reason="长期合作客户",
                         user_id=None)
    check_order_allowed(buyer, seller, 100, "pay_after_delivery")
    with pytest.raises(CreditGateRefused):
        check_order_allowed(buyer, seller, 100, "net_30")


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"kind": "order_limit", "reason": "短"}, "reason"),
    ({"kind": "order_limit", "reason": ""}, "reason"),
    ({"kind": "everything", "reason": "a good reason"}, "kind"),
    ({"kind": "order_limit", "reason": "a good reason", "limit_fen": -1}, "limit_fen"),
    ({"kind": "payment_terms", "reason": "a good reason", "payment_terms": "barter"}, "payment_terms"),
    ({"kind": "order_limit", "reason": "a good reason", "expires_at": utcnow() - timedelta(days=1)}, "expires_at"),
])
def test_an_override_needs_a_reason_and_valid_values(db, kwargs, field):
    company = make_company()
    kind = kwargs.pop("kind")
    with pytest.raises(ValidationFailed) as caught:
        gates.grant_override(company.id, kind, user_id=None, **kwargs)
    assert field in caught.value.field_errors
    assert db.session.scalar(select(db.func.count(CreditOverride.id))) == 0


def test_checkout_is_gated(app, db):
    """The orders package's create_order (cart checkout and quote acceptance both end there) asks the gate."""
    from market.orders.placement import Delivery, LineSpec, create_order

    buyer, seller = make_company(), l2_company()
    start = utcnow() + timedelta(days=3)
    delivery = Delivery(address="山西省太原市小店区", window_start=start, window_end=start + timedelta(days=7))
    big = LineSpec(title="动力煤 5500", quantity=Decimal(4000), unit_price_fen=60_000)  # ¥2.4 million
    with pytest.raises(CreditGateRefused):
        create_order(buyer, seller, [big], delivery, user_id=None)
    assert db.session.scalar(select(db.func.count(TradeOrder.id))) == 0
    small = LineSpec(title="动力煤 5500", quantity=Decimal(1000), unit_price_fen=60_000)  # ¥600,000
    with app.test_request_context():  # placement notifies the seller in the request's language
        assert create_order(buyer, seller, [small], delivery, user_id=None).total_fen == 60_000_000


def test_operator_console(client, db):
    staff = make_staff()
    company = make_company()
    login(client, staff)
    assert client.get("/credit/operator/gates").status_code == 200
    response = client.post("/credit/operator/gates", data={"order_limit_l0_fen": "10,000", "order_limit_l1_fen":
                                                          "500000.00", "grade_pay_after_delivery": "BBB",
                                                          "grade_net_30": "A"})
    assert response.status_code == 302
    assert gates.gate_settings()["order_limit_l1_fen"] == 50_000_000
    bad = client.post("/credit/operator/gates", data={"order_limit_l0_fen": "abc", "order_limit_l1_fen": "1"})
    assert bad.status_code == 422
    assert gates.gate_settings()["order_limit_l1_fen"] == 50_000_000
    granted = client.post("/credit/operator/overrides", data={"company_id": company.id, "kind": "order_limit",
                                                              "limit": "3000000", "reason": "煤矿集团担保"})
    assert granted.status_code == 302
    override = db.session.scalars(select(CreditOverride)).one()
    assert override.limit_fen == 300_000_000
    assert override.granted_by_user_id == staff.id
    assert "煤矿集团担保" in client.get("/credit/operator/gates").get_data(as_text=True)
    assert client.post("/credit/operator/overrides", data={"company_id": company.id, "kind": "order_limit",
                                                           "reason": "x"}).status_code == 422
    assert client.post(f"/credit/operator/overrides/{override.id}/revoke", data={"revoke_reason": "担保撤销"}
                       ).status_code == 302
    db.session.expire_all()
    assert override.revoked_at is not None
    assert client.post(f"/credit/operator/overrides/{override.id}/revoke", data={"revoke_reason": "再次撤销"}
                       ).status_code == 409


def test_companies_cannot_open_the_operator_console(client, db):
    login(client, make_member(make_company()))
    assert client.get("/credit/operator/gates").status_code == 403
    assert client.post("/credit/operator/overrides", data={"company_id": 1, "kind": "order_limit",
                                                           "reason": "自己给自己"}).status_code == 403
