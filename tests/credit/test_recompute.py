"""The collector over real order rows, the hook's combination rule, the bureau-down fallback, the
denormalised grade, the L2 rule and the recompute job."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from market.accounts.models import Verification
from market.core.audit import AuditLog
from market.core.jobs import Job, run_pending
from market.core.timeutil import utcnow
from market.credit import services
from market.credit.history import collect_history, traded_together
from market.credit.hook import combine, provider_weights
from market.credit.models import CreditSnapshot
from market.credit.report import CreditReport
from tests.credit.bureau_double import BureauDouble, report_body
from tests.factories import make_company, make_rating, make_trade_history_order


def _trader_with_history(*, pay_days_late: float = 0):
    """A verified buyer with four settled orders from two sellers (enough to be rated)."""
    buyer = make_company(created_at=utcnow() - timedelta(days=800))
    sellers = [make_company(), make_company()]
    orders = [make_trade_history_order(buyer, sellers[i % 2], total_fen=30_000_000, pay_days_late=pay_days_late)
              for i in range(4)]
    return buyer, sellers, orders


def test_collector_reads_orders_disputes_cancellations_and_ratings(db):
    buyer, sellers, orders = _trader_with_history(pay_days_late=10)
    make_trade_history_order(buyer, sellers[0], cancelled_by=buyer)
    make_trade_history_order(buyer, sellers[1], lost_dispute_by=buyer)
    make_rating(orders[0], sellers[0], stars=4)
    history = collect_history(buyer, utcnow())
    assert len(history.orders) == 6
    assert sum(o.settled for o in history.orders) == 5
    assert sum(o.cancelled_by_self for o in history.orders) == 1
    assert sum(o.dispute_lost for o in history.orders) == 1
    assert len(history.payments) == 5  # the cancelled, never-funded order is no payment experience
    assert all(p.paid_at - p.due_at == timedelta(days=10) for p in history.payments[:4])
    assert history.deliveries == ()  # the buyer delivered nothing
    assert history.ratings == (4,)
    seller_history = collect_history(sellers[0], utcnow())
    assert len(seller_history.deliveries) == 2  # the cancelled order was never delivered
    assert seller_history.payments == ()


def test_the_collector_ignores_what_happened_after_the_as_of_time(db):
    buyer, _, orders = _trader_with_history()
    before_everything = min(o.accepted_at for o in orders) - timedelta(days=1)
    assert collect_history(buyer, before_everything).orders == ()


def test_recompute_stores_a_snapshot_and_the_denormalised_grade(db):
    buyer, _, _ = _trader_with_history()
    snapshot = services.recompute(buyer.id)
    assert snapshot.score is not None
    assert snapshot.score == buyer.credit_score
    assert buyer.credit_grade == snapshot.grade
    assert CreditReport.from_json(snapshot.report).source == "internal"
    # the grade changed (from nothing): listings must be reindexed, and it is audited
    assert db.session.scalars(select(Job).where(Job.kind == "search.reindex_seller")).one().payload == {
        "company_id": buyer.id}
    assert db.session.scalars(select(AuditLog).where(AuditLog.action == "credit.rated")).one().after[
        "credit_grade"] == snapshot.grade
    # a second run with the same facts: another snapshot, no new reindex, no new audit row
    services.recompute(buyer.id)
    assert db.session.scalar(select(db.func.count(Job.id)).where(Job.kind == "search.reindex_seller")) == 1
    assert db.session.scalar(select(db.func.count(AuditLog.id)).where(AuditLog.action == "credit.rated")) == 1
    assert db.session.scalar(select(db.func.count(CreditSnapshot.id))) == 2


def test_a_company_without_history_is_not_yet_rated(db):
    newcomer = make_company()
    snapshot = services.recompute(newcomer.id)
    assert snapshot.score is None
    assert newcomer.credit_score is None
    assert newcomer.credit_grade is None
    assert newcomer.verification_level == Verification.L1_VERIFIED


def test_l2_is_set_at_seventy_and_removed_below_sixty(db):
    good, _, _ = _trader_with_history()
    services.recompute(good.id)
    assert good.credit_score >= 70
    assert good.verification_level == Verification.L2_CREDIT_CHECKED
    assert db.session.scalars(select(AuditLog).where(AuditLog.action == "credit.rated")).one().after[
        "verification_level"] == 2
    # a very late payer is rated but low: stays L1
    late, _, _ = _trader_with_history(pay_days_late=120)
    services.recompute(late.id)
    assert late.credit_score is not None
    assert late.credit_score < 60
    assert late.verification_level == Verification.L1_VERIFIED
    # an L2 company whose record collapses goes back to L1
    late.verification_level = Verification.L2_CREDIT_CHECKED
    services.recompute(late.id)
    assert late.verification_level == Verification.L1_VERIFIED
    # an unverified company is never raised by its score
    unverified, _, _ = _trader_with_history()
    unverified.verification_level = Verification.L0_REGISTERED
    services.recompute(unverified.id)
    assert unverified.verification_level == Verification.L0_REGISTERED


def _recompute_jobs(db, company_id: int) -> list[Job]:
    jobs = db.session.scalars(select(Job).where(Job.kind == services.RECOMPUTE_JOB)).all()
    return [job for job in jobs if job.payload == {"company_id": company_id}]


def test_request_recompute_runs_on_the_worker_and_is_not_queued_twice(db):
    buyer, _, _ = _trader_with_history()
    db.session.execute(Job.__table__.delete())  # forget the jobs the order events queued
    services.request_recompute(buyer.id)
    services.request_recompute(buyer.id)
    assert len(_recompute_jobs(db, buyer.id)) == 1
    db.session.commit()
    assert buyer.credit_score is None
    run_pending()
    db.session.expire_all()
    assert buyer.credit_score is not None
    assert _recompute_jobs(db, buyer.id)[0].status == "done"


def test_order_events_queue_a_recompute_for_both_parties(db):
    buyer, seller = make_company(), make_company()
    order = make_trade_history_order(buyer, seller, settled=False)
    db.session.execute(Job.__table__.delete())
    db.session.commit()
    order.state = "accepted"  # not a fact the score reads
    db.session.flush()
    assert _recompute_jobs(db, buyer.id) == []
    order.state = "cancelled"
    db.session.rollback()  # a failed request queues nothing
    assert _recompute_jobs(db, buyer.id) == []
    order.state, order.cancelled_at, order.cancelled_by_company_id = "cancelled", utcnow(), buyer.id
    db.session.flush()
    assert len(_recompute_jobs(db, buyer.id)) == 1
    assert len(_recompute_jobs(db, seller.id)) == 1
    order.state = "closed"
    db.session.flush()
    assert len(_recompute_jobs(db, buyer.id)) == 1  # still queued: not twice


def test_a_dispute_decision_queues_a_recompute(db):
    from market.orders.models import Dispute

    buyer, seller = make_company(), make_company()
    order = make_trade_history_order(buyer, seller, settled=False)
    dispute = Dispute(order_id=order.id, opened_by_company_id=buyer.id, reason="热值不足")
    db.session.add(dispute)
    db.session.flush()
    db.session.execute(Job.__table__.delete())
    dispute.status, dispute.outcome, dispute.losing_company_id, dispute.resolved_at = (
        "resolved", "buyer_won", seller.id, utcnow())
    db.session.flush()
    assert len(_recompute_jobs(db, seller.id)) == 1
    assert len(_recompute_jobs(db, buyer.id)) == 1


def test_combination_is_a_weighted_mean_with_internal_counting_double():
    now = utcnow()
    internal = CreditReport(score=80, grade="AA", source="internal", as_of=now)
    bureau = CreditReport(score=50, grade="BB", source="bureau", as_of=now)
    weights = provider_weights({"CREDIT_PROVIDER_WEIGHTS": "internal:2"})
    combined = combine([internal, bureau], [], weights, now)
    assert combined.score == 70
    assert combined.grade == "A"
    assert combined.source == "internal+bureau"
    equal = combine([internal, bureau], [], provider_weights({"CREDIT_PROVIDER_WEIGHTS": "internal:1"}), now)
    assert equal.score == 65
    unrated_internal = CreditReport(score=None, grade=None, source="internal", as_of=now)
    assert combine([unrated_internal, bureau], [], weights, now).score == 50
    assert combine([unrated_internal], ["bureau"], weights, now).score is None


def test_bureau_and_internal_are_combined(app, db):
    buyer, _, _ = _trader_with_history()
    internal_only = services.recompute(buyer.id).score
    with BureauDouble() as bureau:
        bureau.script = [("json", 200, report_body(buyer.uscc, 40))]
        config = {**app.config, "CREDIT_PROVIDERS": "internal,bureau", "CREDIT_BUREAU_URL": bureau.url}
        snapshot = services.recompute(buyer.id, config=config)
    assert snapshot.score == (2 * internal_only + 40 + 1) // 3
    assert snapshot.source == "internal+bureau"
    assert any(f["code"] == "bureau:court_records" for f in snapshot.report["factors"])


def test_bureau_down_falls_back_to_the_internal_score(app, db):
    buyer, _, _ = _trader_with_history()
    internal_only = services.recompute(buyer.id).score
    with BureauDouble() as bureau:
        bureau.script = [("json", 503, {"error": "maintenance"})]
        config = {**app.config, "CREDIT_PROVIDERS": "internal,bureau", "CREDIT_BUREAU_URL": bureau.url,
                  "CREDIT_BUREAU_TIMEOUT": 0.3, "CREDIT_BUREAU_RETRIES": 1}
        snapshot = services.recompute(buyer.id, config=config)
    assert snapshot.score == internal_only
    assert snapshot.source == "internal"
    notes = CreditReport.from_json(snapshot.report).notes
    assert notes[0].params == {"provider": "bureau"}
    # malformed answers fall back the same way and corrupt nothing
    with BureauDouble() as bureau:
        bureau.script = [("raw", 200, b'{"uscc": "%s", "score": 999}' % buyer.uscc.encode())]
        config = {**app.config, "CREDIT_PROVIDERS": "internal,bureau", "CREDIT_BUREAU_URL": bureau.url}
        assert services.recompute(buyer.id, config=config).score == internal_only
    assert buyer.credit_score == internal_only


def test_traded_together_needs_an_accepted_order(db):
    buyer, sellers, _ = _trader_with_history()
    stranger = make_company()
    assert traded_together(buyer.id, sellers[0].id)
    assert traded_together(sellers[1].id, buyer.id)
    assert not traded_together(buyer.id, stranger.id)
    assert not traded_together(buyer.id, buyer.id)
