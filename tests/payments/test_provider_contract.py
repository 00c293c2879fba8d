"""ONE contract suite that every payment provider passes: pay-in through its webhook path, partial and
full funding, payouts and refunds executed and confirmed, duplicates, bad and stale signatures,
unknown objects, and reconciliation against its settlement lines with no differences."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from market.extensions import db
from payments import escrow as E
from payments import ledger
from payments.ledger import JournalEntry
from payments.models import Payout, WebhookEvent
from payments.providers import get_provider
from payments.providers.base import PaymentProvider
from payments.reconcile import reconcile
from tests.factories import make_escrow
from tests.payments.conftest import assert_ledger_ok
from tests.payments.rails import RAILS, post_webhook

pytestmark = pytest.mark.usefixtures("stripe_double")


@pytest.fixture(params=sorted(RAILS))
def rail(request, client, stripe_double):  # type: ignore[no-untyped-def]
    return RAILS[request.param](client, stripe_double)


def entries() -> int:
    return int(db.session.scalar(select(func.count(JournalEntry.id))) or 0)


def test_provider_satisfies_protocol(rail):
    assert isinstance(get_provider(rail.name), PaymentProvider)


def test_partial_then_full_payin_funds_the_escrow(rail):
    escrow = make_escrow(1_000_000)
    rail.prepare_payee(escrow)
    assert rail.fund(escrow, 400_000).status_code == 200
    assert E.get_escrow(escrow.reference).status == "awaiting_funds"
    assert rail.fund(E.get_escrow(escrow.reference), 600_000).status_code == 200
    escrow = E.get_escrow(escrow.reference)
    assert (escrow.status, escrow.funded_fen, escrow.provider) == ("funded", 1_000_000, rail.name)
    clearing = ledger.find_account("provider_clearing", "CNY", provider=rail.name)
    assert ledger.held_balance(clearing) == 1_000_000
    assert_ledger_ok()


def test_release_and_refund_are_paid_out_and_confirmed(rail):
    escrow = make_escrow(1_000_000)
    rail.prepare_payee(escrow)
    rail.fund(escrow, 1_000_000)
    escrow = E.get_escrow(escrow.reference)
    E.release(escrow, 600_000, milestone_ref="lot-1")
    E.refund(escrow, 400_000, refund_ref="lot-2-rejected")
    rail.deliver_payouts()
    payouts = db.session.scalars(select(Payout).order_by(Payout.id)).all()
    assert [(p.kind, p.status, p.provider) for p in payouts] == [("payout", "paid", rail.name),
                                                                   ("refund", "paid", rail.name)]
    assert payouts[0].amount_fen == 600_000 - 3_000
    assert ledger.held_balance(ledger.find_account("seller_payable", "CNY", party_id=escrow.payee_id)) == 0
    assert ledger.held_balance(ledger.find_account("buyer_refund", "CNY", party_id=escrow.payer_id)) == 0
    # what is left at the rail is exactly the platform's fee
    assert ledger.held_balance(ledger.find_account("provider_clearing", "CNY", provider=rail.name)) == 3_000
    assert_ledger_ok()
    run = reconcile(rail.name)
    assert [d for d in run.differences if d["kind"] != "provider_fee"] == []
    assert run.booked_to_suspense_fen == 0


def test_duplicate_delivery_posts_nothing(rail, client):
    escrow = make_escrow(500_000)
    rail.prepare_payee(escrow)
    rail.fund(escrow, 500_000)
    stored = db.session.scalars(select(WebhookEvent).where(WebhookEvent.provider == rail.name)).all()
    count = entries()
    # redeliver the very same event (same id), freshly signed as providers do on retries
    payload_event = stored[-1]
    if rail.name == "stripe":
        body, headers = rail.double.sign(payload_event.payload)
    elif rail.name == "sandbox":
        body, headers = rail.provider.signed(payload_event.payload)
    else:
        body, headers = rail.notify(payload_event.payload["lines"])
    response = post_webhook(client, rail.name, body, headers)
    assert response.status_code == 200
    assert response.get_json()["received"] == ["duplicate"]
    assert entries() == count


@pytest.mark.parametrize("stale", [False, True], ids=["bad-signature", "stale-timestamp"])
def test_bad_or_stale_signature_is_400_and_posts_nothing(rail, client, stale, caplog):
    escrow = make_escrow(500_000)
    count = entries()
    response = post_webhook(client, rail.name, *rail.forged(escrow, stale=stale))
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert entries() == count
    assert db.session.scalar(select(func.count(WebhookEvent.id))) == 0
    assert "webhook rejected" in caplog.text


def test_unknown_escrow_is_rejected_and_posts_nothing(rail, client):
    escrow = make_escrow(500_000)
    rail.prepare_payee(escrow)
    escrow.reference = "ELSEWHERE-1"  # the provider will speak of a reference we do not have
    db.session.flush()
    count = entries()
    if rail.name == "bank_transfer":
        # a bank line for an unknown code is real money: it goes to suspense and the operator's queue
        body, headers = rail.notify([rail._line("CR", 12_345, "JS99999999X")])
        assert post_webhook(client, rail.name, body, headers).status_code == 200
        assert ledger.held_balance(ledger.find_account("suspense", "CNY")) == 12_345
        return
    if rail.name == "stripe":
        event = rail.double.event("payment_intent.succeeded", {
            "id": "pi_unknown", "object": "payment_intent", "amount_received": 100, "currency": "cny",
            "metadata": {"escrow_reference": "NO-SUCH-ORDER"}})
        response = post_webhook(client, "stripe", *rail.double.sign(event))
    else:
        event = rail.provider.event("payin.succeeded", reference="NO-SUCH-ORDER", amount_fen=100, currency="CNY",
                                    object_ref="sbx_x")
        response = post_webhook(client, "sandbox", *rail.provider.signed(event))
    assert response.status_code == 404
    assert entries() == count


def test_currency_mismatch_posts_nothing(rail, client):
    escrow = make_escrow(500_000)
    count = entries()
    if rail.name == "sandbox":
        event = rail.provider.event("payin.succeeded", reference=escrow.reference, amount_fen=100, currency="USD",
                                    object_ref="sbx_usd")
        response = post_webhook(client, "sandbox", *rail.provider.signed(event))
    elif rail.name == "stripe":
        event = rail.double.event("payment_intent.succeeded", {
            "id": "pi_usd", "object": "payment_intent", "amount_received": 100, "currency": "usd",
            "metadata": {"escrow_reference": escrow.reference}})
        response = post_webhook(client, "stripe", *rail.double.sign(event))
    else:
        # a bank line is money that really arrived on the account: it is never refused, but it funds no
        # escrow in another currency — it waits in suspense with the reason named
        from payments.statements import unmatched_lines

        line = rail._line("CR", 100, escrow.pay_code)
        line["currency"] = "USD"
        response = post_webhook(client, "bank_transfer", *rail.notify([line]))
        assert response.status_code == 200
        assert [row.reason for row in unmatched_lines()] == ["currency"]
        db.session.expire_all()
        assert E.get_escrow(escrow.reference).funded_fen == 0
        return
    assert response.status_code == 422
    assert entries() == count
