"""Issue #17: orders, disputes, escrows and the ledger agree — whatever page the operator starts from."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from market.core.errors import InvalidTransition, ValidationFailed
from market.extensions import db
from market.orders import disputes
from market.orders.escrow_link import escrow_of
from market.orders.models import Dispute, TradeOrder
from payments import escrow as E
from payments.check import find_violations
from tests.factories import login, make_staff, order_in_state
from tests.factories.orders import inspect


def disputed_order() -> TradeOrder:
    order = order_in_state("delivered")
    inspect(order, order.buyer, {"qnet_ar": "5500", "st_d": "0.8"})
    disputes.open_dispute(order, order.buyer_id, reason="煤质不符，含矸石较多，要求扣款", lot_id=order.lots[0].id)
    db.session.commit()
    return order


def test_finding_1_the_escrow_console_decides_through_the_dispute(client):
    order = disputed_order()
    escrow = escrow_of(order)
    held = escrow.held_fen
    order_id, reference = order.id, order.number
    login(client, make_staff("operator"))
    # a split that does not add up is refused with the field named, nothing moves
    bad = client.post(f"/payments/operator/escrows/{reference}/resolve",
                      data={"payee": "1.00", "payer": "1.00", "decision": "检验报告显示质量部分不符"})
    assert bad.status_code == 422
    payee = held * 3 // 4
    response = client.post(f"/payments/operator/escrows/{reference}/resolve", data={
        "payee": f"{payee / 100:.2f}", "payer": f"{(held - payee) / 100:.2f}", "decision": "检验报告显示质量部分不符"})
    assert response.status_code == 302
    db.session.expire_all()
    order = db.session.get(TradeOrder, order_id)
    dispute = order.disputes[0]
    assert (order.state, dispute.status, dispute.outcome) == ("settled", "resolved", "split")
    assert (dispute.payee_fen, dispute.payer_fen) == (payee, held - payee)
    assert order.settled_fen == escrow_of(order).released_fen == payee
    assert find_violations() == []


def test_a_disputed_escrow_refuses_a_direct_decision(app):
    order = disputed_order()
    escrow = escrow_of(order)
    with pytest.raises(InvalidTransition):
        E.resolve_dispute(escrow, escrow.held_fen, 0, resolution_ref="sneaky")
    assert escrow.status == "frozen"
    with pytest.raises(ValidationFailed):
        E.decide(escrow, 1, 1, note="不合计的裁决金额", operator_user_id=None)


@pytest.mark.parametrize(("corruption", "message"), [
    ("UPDATE trade_order SET settled_fen = 0", "but the escrow released"),
    ("UPDATE delivery_lot SET released_fen = released_fen + 100", "went to the seller"),
    ("UPDATE dispute SET status = 'resolved'", "without an open dispute"),
    ("UPDATE trade_order SET state = 'settled'", "open dispute but is settled"),
])
def test_orders_check_fails_on_each_corruption(app, corruption, message):
    order = disputed_order()
    if "settled_fen" in corruption:  # decide it first so that the order is settled
        escrow = escrow_of(order)
        E.decide(escrow, escrow.held_fen, 0, note="卖方交货符合合同约定", operator_user_id=None)
        db.session.commit()
    assert find_violations() == []
    db.session.execute(text(corruption))
    db.session.commit()
    db.session.expire_all()
    result = app.test_cli_runner().invoke(args=["ledger-check"])
    assert result.exit_code == 1
    assert message in result.output, result.output
    assert db.session.query(Dispute).count() == 1
