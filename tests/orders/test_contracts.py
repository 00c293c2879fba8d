"""Contracts: SHA-256 of what was confirmed, new versions need both parties, HTML and PDF in zh and en."""

from __future__ import annotations

from decimal import Decimal

import pytest

from market.core.errors import Conflict, InvalidTransition
from market.extensions import db
from market.orders import contracts
from market.orders.escrow_link import escrow_of
from tests.factories import login, make_agency, order_in_state


def test_both_confirm_then_escrow_opens_awaiting_payment():
    order = order_in_state("accepted")
    contract = contracts.current(order)
    assert contract.content["buyer"]["uscc"] == order.buyer.uscc
    assert contract.content_sha256 == contracts.sha256_of(contract.content)
    with pytest.raises(Conflict):
        contracts.confirm(order, order.seller_id, None, "0" * 64)  # did not see this text
    contracts.confirm(order, order.seller_id, None, contract.content_sha256)
    assert order.state == "accepted"
    assert escrow_of(order) is None
    with pytest.raises(InvalidTransition):
        contracts.confirm(order, order.seller_id, None, contract.content_sha256)
    contracts.confirm(order, order.buyer_id, None, contract.content_sha256)
    assert order.state == "awaiting_payment"
    assert order.payment_due_at
    assert order.contract_signed_at
    assert contract.seller_signed_sha256 == contract.buyer_signed_sha256 == contract.content_sha256
    escrow = escrow_of(order)
    assert escrow.reference == order.number
    assert escrow.amount_fen == order.total_fen


def test_a_change_is_a_new_version_both_must_confirm():
    agency, _ = make_agency()
    order = order_in_state("accepted")
    first = contracts.current(order)
    contracts.confirm(order, order.seller_id, None, first.content_sha256)
    second = contracts.propose_change(order, order.buyer_id, {"inspection_agency_id": agency.id,
                                                              "quantity_tolerance_pct": Decimal(3)},
                                      "第三方检验")
    assert second.version == 2
    assert first.status == "superseded"
    assert second.content_sha256 != first.content_sha256
    assert order.inspection_agency_id is None  # not in force until both confirm
    with pytest.raises(Conflict):  # the superseded text cannot be confirmed any more
        contracts.confirm(order, order.buyer_id, None, first.content_sha256)
    contracts.confirm(order, order.buyer_id, None, second.content_sha256)
    assert order.state == "accepted"  # the seller's earlier confirmation was of v1, not v2
    contracts.confirm(order, order.seller_id, None, second.content_sha256)
    assert order.inspection_agency_id == agency.id
    assert order.quantity_tolerance_pct == Decimal(3)
    assert order.state == "awaiting_payment"


def test_contract_html_and_pdf_in_both_languages(client):
    order = order_in_state("accepted")
    order_id, seller_user = order.id, order.seller.memberships[0].user
    seller_name = order.seller.name_zh
    login(client, seller_user)
    zh = client.get(f"/orders/{order_id}/contract").get_data(as_text=True)
    assert "购销合同" in zh or "Purchase contract" in zh
    assert seller_name in zh
    assert "SHA-256" in zh
    en = client.get(f"/orders/{order_id}/contract?lang=en").get_data(as_text=True)
    assert "Price adjustment" in en
    assert "5500" in en
    pdf = client.get(f"/orders/{order_id}/contract.pdf")
    assert pdf.status_code == 200
    assert pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")
    assert b"STSong-Light" in pdf.data
    assert client.get(f"/orders/{order_id}/contract.pdf?lang=en").data.startswith(b"%PDF")
    db.session.expire_all()
