"""Finding 4: disputes both ways — the seller answers with text and evidence, either party proposes a
settlement the other accepts, deadlines with a reminder; the operator decides what stays open."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from market.core.errors import InvalidTransition
from market.core.jobs import Job
from market.core.notify import Notification
from market.core.timeutil import utcnow
from market.extensions import db
from market.orders import disputes
from market.orders.escrow_link import escrow_of
from market.orders.models import TradeOrder
from payments.check import find_violations
from tests.factories import login, order_in_state
from tests.factories.files import real_pdf
from tests.factories.orders import inspect
from tests.payments.conftest import run_jobs


def opened() -> TradeOrder:
    order = order_in_state("delivered")
    inspect(order, order.buyer, {"qnet_ar": "5000", "st_d": "0.8"})
    disputes.open_dispute(order, order.buyer_id, reason="发热量低于合同约定，要求扣款", lot_id=order.lots[0].id)
    db.session.commit()
    return order


def test_the_seller_answers_with_evidence_and_accepts_a_proposal(client):
    order = opened()
    order_id = order.id
    seller_user = order.seller.memberships[0].user
    buyer_user = order.buyer.memberships[0].user
    login(client, seller_user)
    page = client.get(f"/orders/{order_id}/dispute")
    assert page.status_code == 200
    assert "/dispute/respond" in page.get_data(as_text=True)
    answered = client.post(f"/orders/{order_id}/dispute/respond", data={
        "text": "装车时化验发热量为5500大卡，附化验单", "evidence": (io.BytesIO(real_pdf()), "化验单.pdf")},
        content_type="multipart/form-data")
    assert answered.status_code == 302
    client.post("/logout")
    login(client, buyer_user)
    held = escrow_of(db.session.get(TradeOrder, order_id)).held_fen
    proposal = client.post(f"/orders/{order_id}/dispute/propose",
                           data={"payee": f"{held * 9 // 10 / 100:.2f}", "text": "按九成结算"})
    assert proposal.status_code == 302
    db.session.expire_all()
    dispute = db.session.get(TradeOrder, order_id).disputes[0]
    assert [m.kind for m in dispute.messages] == ["response", "proposal"]
    assert dispute.messages[0].evidence[0]["original"] == "化验单.pdf"
    with pytest.raises(InvalidTransition):  # one's own proposal is accepted by the other side
        disputes.accept_proposal(dispute, dispute.order.buyer_id, dispute.messages[1].id)
    db.session.rollback()
    client.post("/logout")
    login(client, seller_user)
    accepted = client.post(f"/orders/{order_id}/dispute/proposals/{dispute.messages[1].id}/accept")
    assert accepted.status_code == 302
    db.session.expire_all()
    order = db.session.get(TradeOrder, order_id)
    assert (order.state, order.disputes[0].status, order.settled_fen) == ("settled", "resolved", held * 9 // 10)
    assert find_violations() == []


def test_a_silent_party_is_reminded_before_the_deadline(app):
    order = opened()
    dispute = order.disputes[0]
    assert dispute.respond_by > utcnow()
    for job in db.session.scalars(select(Job).where(Job.kind == "orders.dispute_reminder")):
        job.run_after = utcnow() - timedelta(seconds=1)
    db.session.commit()
    run_jobs()
    assert db.session.scalar(select(Notification).where(Notification.company_id == order.seller_id,
                                                        Notification.kind == "order.dispute_response"))
