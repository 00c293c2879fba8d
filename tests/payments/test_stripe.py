"""The Stripe adapter through the real SDK against the test double: exact outgoing parameters,
deterministic idempotency keys, injected errors, onboarding and transfer reversals."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import select

from market.extensions import db
from payments import escrow as E
from payments.checkout import start_payin
from payments.models import Payout, PayoutStatus
from payments.providers import get_provider
from payments.providers.base import ProviderError
from payments.providers.stripe import idempotency_key
from tests.factories import make_escrow
from tests.payments.conftest import assert_ledger_ok, run_jobs
from tests.payments.rails import StripeRail, post_webhook
from tests.payments.stripe_double import CARD_DECLINED, IDEMPOTENCY_CONFLICT, INSUFFICIENT_BALANCE


@pytest.fixture
def funded(client, stripe_double):  # type: ignore[no-untyped-def]
    escrow = make_escrow(1_000_000, reference="ORD-S1")
    rail = StripeRail(client, stripe_double)
    rail.prepare_payee(escrow)
    rail.fund(escrow, 1_000_000)
    return E.get_escrow("ORD-S1")


def test_payment_intent_parameters_and_idempotency(stripe_double):
    escrow = make_escrow(123_456, reference="ORD-S0")
    first = start_payin(escrow, "stripe")
    again = start_payin(escrow, "stripe")  # revisiting the pay page reuses the open intent
    assert first.client_secret == again.client_secret
    (call,) = stripe_double.calls("POST", "/v1/payment_intents")
    assert call.params == {"amount": "123456", "currency": "cny", "transfer_group": "ORD-S0",
                           "metadata": {"escrow_reference": "ORD-S0"},
                           "automatic_payment_methods": {"enabled": "true"},
                           "description": "Jinshang escrow ORD-S0"}
    assert call.headers["Idempotency-Key"] == "jinshang:payin:ORD-S0:0:123456"
    assert call.headers["Authorization"] == "Bearer sk_test_double"


def test_one_transfer_per_milestone_from_the_funding_charge(funded, stripe_double):
    E.release(funded, 400_000, milestone_ref="lot-1")
    E.release(funded, 600_000, milestone_ref="lot-2")
    db.session.commit()
    run_jobs()
    calls = stripe_double.calls("POST", "/v1/transfers")
    charge = next(o["id"] for o in stripe_double.objects.values() if o["object"] == "charge")
    account = next(o["id"] for o in stripe_double.objects.values() if o["object"] == "account")
    assert [c.params["amount"] for c in calls] == ["398000", "597000"]
    for call, lot in zip(calls, ("lot-1", "lot-2"), strict=True):
        assert call.params["source_transaction"] == charge
        assert call.params["destination"] == account
        assert call.params["transfer_group"] == "ORD-S1"
        assert call.headers["Idempotency-Key"] == idempotency_key("transfer", f"ORD-S1/release/{lot}")
    assert {p.status for p in db.session.scalars(select(Payout))} == {PayoutStatus.PAID}
    assert_ledger_ok()


def test_refund_goes_back_through_the_payment_intent(funded, stripe_double):
    E.refund(funded, 250_000, refund_ref="short")
    db.session.commit()
    run_jobs()
    (call,) = stripe_double.calls("POST", "/v1/refunds")
    intent = next(o["id"] for o in stripe_double.objects.values() if o["object"] == "payment_intent")
    assert call.params["payment_intent"] == intent
    assert call.params["amount"] == "250000"
    assert call.headers["Idempotency-Key"] == "jinshang:refund:ORD-S1/refund/short"
    assert db.session.scalars(select(Payout)).one().status == PayoutStatus.PAID


def test_insufficient_platform_balance_keeps_payout_pending_then_retry_succeeds(funded, stripe_double):
    stripe_double.fail_next("POST", "/v1/transfers", INSUFFICIENT_BALANCE)
    E.release(funded, 1_000_000, milestone_ref="all")
    db.session.commit()
    run_jobs(rounds=1)
    payout = db.session.scalars(select(Payout)).one()
    assert payout.status == PayoutStatus.PENDING
    assert "insufficient" in payout.last_error
    from payments.payouts import execute_payout

    execute_payout(payout.id, attempt=2)  # what the delayed retry job does
    assert payout.status == PayoutStatus.PAID
    keys = {c.headers["Idempotency-Key"] for c in stripe_double.calls("POST", "/v1/transfers")}
    assert keys == {"jinshang:transfer:ORD-S1/release/all"}  # the retry is the same business action


def test_idempotency_conflict_and_card_decline_are_clear_errors(stripe_double):
    escrow = make_escrow(10_000)
    stripe_double.fail_next("POST", "/v1/payment_intents", CARD_DECLINED)
    with pytest.raises(ProviderError, match="Stripe refused"):
        start_payin(escrow, "stripe")
    stripe_double.fail_next("POST", "/v1/payment_intents", IDEMPOTENCY_CONFLICT)
    with pytest.raises(ProviderError) as info:
        start_payin(escrow, "stripe")
    assert info.value.status == 502
    assert len(stripe_double.calls("POST", "/v1/payment_intents")) == 2  # no silent retries


def test_declined_payment_event_changes_nothing(client, stripe_double):
    escrow = make_escrow(10_000)
    intent_id = start_payin(escrow, "stripe").client_secret.split("_secret")[0]
    response = post_webhook(client, "stripe", *stripe_double.sign(stripe_double.decline_payment(intent_id)))
    assert response.get_json()["received"] == ["ignored"]
    assert E.get_escrow(escrow.reference).funded_fen == 0


def test_onboarding_link_and_transfer_reversal(funded, stripe_double):
    provider = get_provider("stripe")
    url = provider.onboarding_link(funded.payee_id, refresh_url="http://x/r", return_url="http://x/b")
    assert url.startswith("https://connect.stripe.test/setup/acct_")
    (link,) = stripe_double.calls("POST", "/v1/account_links")[-1:]
    assert link.params["type"] == "account_onboarding"
    assert len(stripe_double.calls("POST", "/v1/accounts")) == 1  # the account is created once
    E.release(funded, 1_000_000, milestone_ref="all")
    db.session.commit()
    run_jobs()
    payout = db.session.scalars(select(Payout)).one()
    reversal = provider.reverse_payout(payout, 5_000, "chargeback-1")
    assert reversal.startswith("trr_")
    (call,) = stripe_double.calls("POST", f"/v1/transfers/{payout.provider_ref}/reversals")
    assert call.params["amount"] == "5000"


@pytest.mark.live_stripe
@pytest.mark.skipif(not os.environ.get("STRIPE_TEST_KEY"), reason="STRIPE_TEST_KEY is not set")
def test_live_stripe_payment_intent(app):
    """Against Stripe's test mode: the adapter's PaymentIntent call is accepted by the real API."""
    app.config["STRIPE_API_KEY"] = os.environ["STRIPE_TEST_KEY"]
    app.extensions.pop("stripe_http_client", None)
    app.testing = False
    try:
        escrow = make_escrow(10_000)
        escrow.currency = "USD"
        instructions = start_payin(escrow, "stripe")
        assert instructions.client_secret
        assert "_secret_" in instructions.client_secret
    finally:
        app.testing = True
        app.config["STRIPE_API_KEY"] = "sk_test_double"
