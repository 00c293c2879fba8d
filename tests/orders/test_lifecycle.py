"""The order lifecycle end to end through the real services, escrow included."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from catalog.models import Listing
from market.core.audit import AuditLog
from market.core.errors import InvalidTransition, NotFound, ValidationFailed
from market.core.jobs import Job, run_pending
from market.core.notify import Notification
from market.core.timeutil import utcnow
from market.extensions import db
from market.orders import inspection, lifecycle, services
from market.orders.escrow_link import escrow_of
from market.orders.lifecycle import TRANSITIONS
from tests.factories import make_agency, make_trade_listing, make_trader, order_in_state, place_test_order
from tests.factories.orders import inspect


def test_coal_order_settles_pro_rata_and_refunds_the_rest():
    agency, _ = make_agency()
    order = order_in_state("delivered", agency=agency)
    assert order.state == "delivered"
    assert order.funded_at
    assert order.delivered_at
    escrow = escrow_of(order)
    assert escrow.funded_fen == 80_000_000
    assert escrow.status == "funded"
    inspect(order, agency, {"qnet_ar": "5320", "st_d": "0.8"})
    lot = order.lots[0]
    assert order.state == "inspected"
    assert lot.settled_fen == 77_381_818
    inspection.accept_lot(order, order.buyer_id, lot.id)
    assert order.state == "settled"
    assert lot.released_fen == 77_381_818
    assert order.settled_fen == 77_381_818
    db.session.refresh(escrow)
    assert escrow.released_fen == 77_381_818
    assert escrow.refunded_fen == 80_000_000 - 77_381_818
    assert escrow.held_fen == 0
    services.close_order(order, order.buyer_id)
    assert order.state == "closed"
    assert order.closed_at
    actions = set(db.session.scalars(select(AuditLog.action).where(AuditLog.object_type == "trade_order")))
    assert {"order.placed", "order.accepted", "order.contract_signed", "order.awaiting_payment", "order.funded",
            "order.in_delivery", "order.delivered", "order.inspected", "order.goods_accepted", "order.settled",
            "order.closed"} <= actions
    kinds = set(db.session.scalars(select(Notification.kind)))
    assert {"order.placed", "order.funded", "order.settled"} <= kinds


def test_only_the_named_agency_may_inspect():
    agency, _ = make_agency()
    order = order_in_state("delivered", agency=agency)
    buyer = order.buyer
    with pytest.raises(InvalidTransition):
        inspect(order, buyer, {"qnet_ar": "5320"})
    assert order.lots[0].state == "delivered"


def test_inspection_values_outside_physical_ranges_change_nothing(client):
    from tests.factories import login

    order = order_in_state("delivered")
    buyer_user = order.buyer.memberships[0].user
    order_id, lot_id = order.id, order.lots[0].id
    login(client, buyer_user)  # commits: this session holds no transaction during the request
    response = client.post(f"/orders/{order_id}/lots/{lot_id}/inspection",
                           data={"measured_quantity": "1000", "specs.qnet_ar": "12000", "specs.st_d": "-1"})
    assert response.status_code == 422
    db.session.expire_all()
    assert order.lots[0].state == "delivered"
    assert not order.lots[0].inspections
    with pytest.raises(ValidationFailed) as excinfo:
        inspect(order, order.buyer, {"st_d": "0.8"})  # the coal rule needs Qnet,ar
    assert "specs.qnet_ar" in excinfo.value.field_errors


def test_auto_release_accepts_an_inspected_lot(app):
    order = order_in_state("delivered")
    inspect(order, order.buyer, {"qnet_ar": "5500", "st_d": "0.8"})
    db.session.commit()
    # pretend the auto-release period passed
    from payments.models import AutoRelease

    armed = db.session.scalars(select(AutoRelease)).one()
    armed.due_at = utcnow()
    db.session.execute(db.update(Job).values(run_after=utcnow()))
    db.session.commit()
    while run_pending():
        pass
    db.session.expire_all()
    assert order.lots[0].state == "accepted"
    assert order.state == "settled"
    assert order.settled_fen == 80_000_000


def test_cancel_releases_stock_and_refunds():
    order = order_in_state("funded")
    listing = db.session.get(Listing, order.lines[0].listing_id)
    assert listing.available_quantity == Decimal(4000)
    with pytest.raises(InvalidTransition):  # once funded only an operator may cancel
        services.cancel_order(order, order.buyer_id, "changed our mind")
    services.operator_cancel(order, "seller cannot ship")
    db.session.refresh(listing)
    assert order.state == "cancelled"
    assert listing.available_quantity == Decimal(5000)
    escrow = escrow_of(order)
    assert escrow.status == "refunded"
    assert escrow.refunded_fen == 80_000_000


def test_rejection_gives_stock_back_and_records_who():
    buyer, _ = make_trader()
    seller, _ = make_trader()
    listing = make_trade_listing(seller, stock="100", moq="10")
    order = place_test_order(buyer, listing, "100")
    db.session.refresh(listing)
    assert listing.status == "sold_out"
    assert listing.available_quantity == 0
    services.reject_order(order, seller.id, "no trucks this month")
    db.session.refresh(listing)
    assert listing.status == "published"
    assert listing.available_quantity == 100
    assert order.cancelled_by_company_id == seller.id
    assert order.cancel_reason == "no trucks this month"


def test_illegal_transitions_are_409_and_change_nothing():
    order = order_in_state("placed")
    with pytest.raises(InvalidTransition):
        services.accept_order(order, order.buyer_id)  # the buyer cannot accept its own order
    with pytest.raises(InvalidTransition):
        lifecycle.transition(order, "funded", party="system", actor_company_id=None)
    assert order.state == "placed"
    assert order.accepted_at is None


def test_every_state_is_reachable_and_none_is_a_dead_end():
    targets = {to for _, to in TRANSITIONS}
    for state in lifecycle.STATES:
        if state != "placed":
            assert state in targets, state
        if state not in lifecycle.TERMINAL:
            assert any(frm == state for frm, _ in TRANSITIONS), state


def test_another_company_gets_404():
    order = order_in_state("placed")
    stranger, _ = make_trader()
    with pytest.raises(NotFound):
        services.get_order(stranger.id, order.id)


def test_expiry_job_cancels_unaccepted_orders(app):
    order = order_in_state("placed")
    listing = db.session.get(Listing, order.lines[0].listing_id)
    db.session.commit()
    order.placed_at = utcnow().replace(year=utcnow().year - 1)
    db.session.execute(db.update(Job).where(Job.kind == "orders.expire").values(run_after=utcnow()))
    db.session.commit()
    while run_pending():
        pass
    db.session.expire_all()
    assert order.state == "cancelled"
    assert order.cancelled_by_company_id is None
    assert "Expired" in order.cancel_reason
    assert listing.available_quantity == Decimal(5000)
