"""Disputes: evidence files, the escrow frozen, the operator's split, who lost; a rejected lot pays nothing."""

from __future__ import annotations

import io

from market.extensions import db
from market.orders.escrow_link import escrow_of
from market.orders.models import Dispute, TradeOrder
from tests.factories import login, make_staff, order_in_state
from tests.factories.files import real_pdf
from tests.factories.orders import inspect


def test_dispute_with_evidence_then_operator_decides(client):
    order = order_in_state("delivered")
    inspect(order, order.buyer, {"qnet_ar": "5100", "st_d": "0.8"})
    order_id, lot_id, buyer_user, seller_id = order.id, order.lots[0].id, order.buyer.memberships[0].user, \
        order.seller_id
    operator = make_staff()
    login(client, buyer_user)
    bad = client.post(f"/orders/{order_id}/dispute",
                      data={"reason": "煤质不符，发热量偏低且含矸石较多", "lot_id": lot_id,
                            "evidence": (io.BytesIO(b"MZ\x90\x00evil"), "x.pdf")},
                      content_type="multipart/form-data")
    assert bad.status_code == 422  # not really a PDF
    db.session.expire_all()
    assert db.session.get(TradeOrder, order_id).state == "inspected"
    db.session.rollback()
    ok = client.post(f"/orders/{order_id}/dispute", data={
        "reason": "煤质不符，发热量偏低且含矸石较多", "lot_id": lot_id, "claimed": "700000.00",
        "evidence": (io.BytesIO(real_pdf()), "磅单.pdf")}, content_type="multipart/form-data")
    assert ok.status_code == 302
    db.session.expire_all()
    order = db.session.get(TradeOrder, order_id)
    dispute = order.disputes[0]
    assert order.state == "disputed"
    assert escrow_of(order).status == "frozen"
    assert dispute.evidence[0]["original"] == "磅单.pdf"
    name, dispute_id = dispute.evidence[0]["file"], dispute.id
    db.session.rollback()
    assert client.get(f"/orders/{order_id}/evidence/{name}").data.startswith(b"%PDF")
    assert client.get(f"/operator/disputes/{dispute_id}").status_code == 403  # not staff
    login(client, operator)
    assert "磅单.pdf" in client.get(f"/operator/disputes/{dispute_id}").get_data(as_text=True)
    decided = client.post(f"/operator/disputes/{dispute_id}", data={
        "payee": "720000.00", "outcome": "buyer_won", "decision": "检验报告证明质量不符，按实测结算并扣减杂质。"})
    assert decided.status_code == 302
    db.session.expire_all()
    dispute = db.session.get(Dispute, dispute_id)
    order = dispute.order
    assert order.state == "settled"
    assert order.settled_fen == 72_000_000
    assert dispute.outcome == "buyer_won"
    assert dispute.losing_company_id == seller_id
    assert dispute.resolved_at
    escrow = escrow_of(order)
    assert escrow.released_fen == 72_000_000
    assert escrow.refunded_fen == 8_000_000


def test_quality_rejection_pays_nothing_and_refunds_all():
    order = order_in_state("delivered")
    inspect(order, order.buyer, {"qnet_ar": "4800", "st_d": "0.8"})  # below the rejection limit of 5000
    lot = order.lots[0]
    assert lot.settled_fen == 0
    assert lot.settlement["rejected"]
    from market.orders import inspection

    inspection.accept_lot(order, order.buyer_id, lot.id)
    assert lot.state == "rejected"
    assert order.state == "settled"
    assert order.settled_fen == 0
    assert escrow_of(order).refunded_fen == order.total_fen
