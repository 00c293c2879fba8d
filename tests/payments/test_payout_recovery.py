"""A payout left pending by a worker killed between calling the rail and recording its answer is
reconciled with the rail and paid exactly once — on every rail (sandbox, bank transfer, Stripe)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from market.core import jobs
from market.core.errors import InvalidTransition
from market.core.jobs import Job
from market.core.timeutil import utcnow
from market.extensions import db
from payments import escrow as E
from payments import payouts
from payments.ledger import JournalEntry
from payments.models import Escrow, Payout, PayoutStatus
from payments.providers import get_provider
from payments.providers.base import RailPayoutStatus
from tests.factories import make_escrow
from tests.payments.conftest import assert_ledger_ok
from tests.payments.rails import RAILS

pytestmark = pytest.mark.usefixtures("stripe_double")


@pytest.fixture(params=sorted(RAILS))
def rail(request, client, stripe_double):  # type: ignore[no-untyped-def]
    return RAILS[request.param](client, stripe_double)


def _released(rail) -> Payout:  # type: ignore[no-untyped-def]
    escrow = make_escrow(1_000_000)
    rail.prepare_payee(escrow)
    rail.fund(escrow, 1_000_000)
    E.release(E.get_escrow(escrow.reference), 1_000_000, milestone_ref="all")
    db.session.commit()
    return db.session.scalars(select(Payout)).one()


def _crash_mid_payout() -> None:
    """A worker claims the payout job, calls the rail, and is SIGKILLed before its commit."""
    (item,) = jobs.claim(10, worker="doomed")
    assert item.kind == payouts.EXECUTE_JOB
    jobs._HANDLERS[item.kind](**item.payload)  # the rail is called...
    db.session.rollback()  # ...and the answer is never recorded
    db.session.execute(update(Job).where(Job.status == "running").values(lease_until=utcnow() - timedelta(seconds=1)))
    db.session.commit()


def _paid_entries(payout: Payout) -> int:
    return db.session.scalar(select(func.count(JournalEntry.id)).where(JournalEntry.kind == "payout_paid",
                                                                       JournalEntry.escrow_id == payout.escrow_id))


def _rail_payouts(rail, payout: Payout) -> int:  # type: ignore[no-untyped-def]
    """How many times the money actually left on the rail."""
    if rail.name == "stripe":
        return sum(1 for o in rail.double.objects.values() if o.get("object") == "transfer")
    if rail.name == "sandbox":
        return db.session.scalar(select(func.count(Job.id)).where(Job.kind == "payments.sandbox_deliver"))
    return 1 if payout.status in ("sent", "paid") else 0  # the bank pays what the instruction file lists


def test_the_rail_knows_a_payout_by_its_key(rail):
    payout = _released(rail)
    assert payout.idempotency_key == f"jinshang:transfer:{payout.business_ref}"
    provider = get_provider(rail.name)
    assert provider.payout_status(payout, payout_escrow(payout)).status == RailPayoutStatus.UNKNOWN
    rail.deliver_payouts()
    payout = db.session.get(Payout, payout.id)
    state = provider.payout_status(payout, payout_escrow(payout))
    assert (payout.status, state.status) == ("paid", RailPayoutStatus.PAID)
    assert state.provider_ref


def payout_escrow(payout: Payout) -> Escrow:
    return db.session.get(Escrow, payout.escrow_id)


def test_a_worker_killed_after_calling_the_rail_never_pays_twice(rail):
    payout = _released(rail)
    _crash_mid_payout()
    assert db.session.get(Payout, payout.id).status == PayoutStatus.PENDING
    rail.deliver_payouts()  # a new worker re-claims the expired job; the rail recognises the key
    payout = db.session.get(Payout, payout.id)
    assert payout.status == PayoutStatus.PAID
    assert _paid_entries(payout) == 1
    assert _rail_payouts(rail, payout) == 1
    assert_ledger_ok()


def test_a_pending_payout_nobody_works_on_is_reconciled_with_its_rail(rail, app, monkeypatch):
    payout = _released(rail)
    _crash_mid_payout()
    # ... and the job itself is lost too (failed for good, or removed by hand)
    db.session.execute(update(Job).where(Job.kind == payouts.EXECUTE_JOB).values(status="failed"))
    db.session.execute(update(Payout).values(updated_at=utcnow() - timedelta(hours=1)))
    db.session.commit()
    assert payouts.reconcile_stale_payouts() == 1
    assert payouts.reconcile_stale_payouts() == 0  # a reconciliation is already queued
    db.session.commit()
    rail.deliver_payouts()
    payout = db.session.get(Payout, payout.id)
    assert payout.status == PayoutStatus.PAID
    assert (_paid_entries(payout), _rail_payouts(rail, payout)) == (1, 1)
    outcome = "paid" if rail.name == "stripe" else "resent"  # Stripe had it; the others never saw it
    assert db.session.scalar(select(func.count()).select_from(Job).where(Job.kind == payouts.EXECUTE_JOB)) == (
        1 if outcome == "paid" else 2)
    assert_ledger_ok()


def test_fresh_pending_payouts_are_left_to_their_jobs():
    escrow = make_escrow(500_000)
    E.record_funding(escrow, 500_000, source="sandbox", source_ref="fund-x")
    E.release(escrow, 500_000, milestone_ref="all")
    db.session.commit()
    assert payouts.reconcile_stale_payouts() == 0  # too recent, and its job is queued


def test_operator_retry_of_a_stuck_pending_payout_asks_the_rail_first(stripe_double, client):
    rail = RAILS["stripe"](client, stripe_double)
    payout = _released(rail)
    with pytest.raises(InvalidTransition):
        payouts.retry_payout(payout)  # its job is still queued: being sent right now
    _crash_mid_payout()
    db.session.execute(update(Job).where(Job.kind == payouts.EXECUTE_JOB).values(status="failed"))
    db.session.commit()
    payouts.retry_payout(db.session.get(Payout, payout.id))
    db.session.commit()
    rail.deliver_payouts()
    payout = db.session.get(Payout, payout.id)
    assert payout.status == PayoutStatus.PAID
    assert len(stripe_double.calls("POST", "/v1/transfers")) == 1  # found by the key, not sent again
    assert_ledger_ok()


def test_retry_after_a_refusal_draws_a_new_key(stripe_double, client):
    from tests.payments.stripe_double import INSUFFICIENT_BALANCE

    rail = RAILS["stripe"](client, stripe_double)
    payout = _released(rail)
    stripe_double.fail_next("POST", "/v1/transfers", INSUFFICIENT_BALANCE)
    jobs.run_pending()
    payouts.fail_payout(db.session.get(Payout, payout.id), "operator gave up waiting")
    db.session.commit()
    old_key = db.session.get(Payout, payout.id).idempotency_key
    payouts.retry_payout(db.session.get(Payout, payout.id))
    db.session.commit()
    rail.deliver_payouts()
    payout = db.session.get(Payout, payout.id)
    assert payout.status == PayoutStatus.PAID
    assert payout.idempotency_key.startswith(old_key + ":")
    keys = [c.headers["Idempotency-Key"] for c in stripe_double.calls("POST", "/v1/transfers")]
    assert keys == [old_key, payout.idempotency_key]
    assert_ledger_ok()
