"""The pay page, the seller's balance, the operator console, and their guards."""

from __future__ import annotations

import io

from sqlalchemy import select

from market.accounts.models import Company
from market.extensions import db
from payments import escrow as E
from payments.models import Payout
from tests.factories import login, make_company, make_escrow, make_member, make_staff
from tests.factories.accounts import PASSWORD
from tests.payments.conftest import run_jobs


def test_payer_pays_by_sandbox_through_the_webhook_path(client):
    buyer = make_company()
    escrow = make_escrow(250_000, payer_id=buyer.id, reference="PG-1")
    login(client, make_member(buyer))
    page = client.get("/pay/PG-1")
    assert page.status_code == 200
    assert "¥2,500.00" in page.get_data(as_text=True)
    shown = client.post("/pay/PG-1", data={"provider": "bank_transfer"}).get_data(as_text=True)
    assert escrow.pay_code in shown
    shown = client.post("/pay/PG-1", data={"provider": "sandbox"}).get_data(as_text=True)
    assert "/pay/PG-1/simulate" in shown
    response = client.post("/pay/PG-1/simulate")
    assert response.status_code == 302
    db.session.expire_all()
    assert E.get_escrow("PG-1").status == "funded"
    assert 'name="provider"' not in client.get("/pay/PG-1").get_data(as_text=True)  # nothing left to pay


def test_only_the_payer_company_sees_the_pay_page(client):
    escrow = make_escrow(10_000, reference="PG-2")
    login(client, make_member(db.session.get(Company, escrow.payee_id)))
    assert client.get("/pay/PG-2").status_code == 404
    assert client.post("/pay/PG-2/simulate").status_code == 404
    assert E.get_escrow("PG-2").funded_fen == 0


def test_unknown_rail_is_a_clean_error(client):
    buyer = make_company()
    make_escrow(10_000, payer_id=buyer.id, reference="PG-3")
    login(client, make_member(buyer))
    assert client.post("/pay/PG-3", data={"provider": "paypal"}).status_code == 404


def test_seller_balance_and_payout_history(client):
    seller = make_company()
    escrow = make_escrow(500_000, payee_id=seller.id)
    E.record_funding(escrow, 500_000, source="bank_transfer", source_ref="l1")
    E.release(escrow, 500_000, milestone_ref="lot")
    db.session.commit()
    run_jobs()
    login(client, make_member(seller))
    html = client.get("/payments/balance").get_data(as_text=True)
    payout = db.session.scalars(select(Payout)).one()
    assert payout.code in html
    assert "¥4,975.00" in html
    form = {"account_name": "大同煤业", "account_no": "6222 0200 0000 1234", "bank_name": "工行"}
    # issue #10: the password again, or nothing changes
    assert client.post("/payments/balance/bank-account", data=form).status_code == 403
    assert client.post("/payments/balance/bank-account", data={**form, "password": "wrong"}).status_code == 403
    response = client.post("/payments/balance/bank-account", data={**form, "password": PASSWORD})
    assert response.status_code == 302
    bad = client.post("/payments/balance/bank-account", data={"account_name": "", "account_no": "x", "bank_name": "",
                                                              "password": PASSWORD})
    assert bad.status_code == 422


def test_operator_console_upload_assign_and_guard(client):
    escrow = make_escrow(50_000, reference="OP-1")
    make_escrow(50_000, reference="OP-2")
    staff = make_staff("operator")
    outsider = make_member()
    login(client, outsider)
    assert client.get("/payments/operator").status_code == 403
    client.post("/logout")
    login(client, staff)
    assert client.get("/payments/operator").status_code == 200
    csv_text = ("transaction_id,value_date,direction,amount,currency,counterparty_name,counterparty_account,memo\n"
                "Z1,2025-03-01,CR,500.00,CNY,某公司,6222,payment\n")
    response = client.post("/payments/operator/statement", data={"statement": (io.BytesIO(csv_text.encode()), "s.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    html = client.get("/payments/operator").get_data(as_text=True)
    assert "Z1" in html
    from payments.statements import unmatched_lines

    (line,) = unmatched_lines()
    assert client.post(f"/payments/operator/lines/{line.id}/assign", data={"reference": "OP-1"}).status_code == 302
    db.session.expire_all()
    assert E.get_escrow("OP-1").status == "funded"
    bad = client.post("/payments/operator/statement", data={"statement": (io.BytesIO(b"nonsense"), "s.csv")},
                      content_type="multipart/form-data")
    assert bad.status_code == 422
    assert client.get("/payments/operator/instructions.csv").status_code == 200
    assert client.post("/payments/operator/reconcile", data={"provider": "bank_transfer"}).status_code == 302
    assert escrow.reference in client.get("/payments/operator?status=funded").get_data(as_text=True)
    E.freeze(E.get_escrow("OP-1"), "wet coal")
    db.session.commit()
    resolved = client.post("/payments/operator/escrows/OP-1/resolve", data={"payee": "300", "payer": "200.00"})
    assert resolved.status_code == 302
    db.session.expire_all()
    assert (E.get_escrow("OP-1").released_fen, E.get_escrow("OP-1").refunded_fen) == (30_000, 20_000)
