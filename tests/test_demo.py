"""`jinshang demo`'s data shows the core working, and its ledger passes ledger-check (and a corrupted copy fails)."""

from __future__ import annotations

from sqlalchemy import func, select, text

from catalog.models import Listing
from market import demo
from market.core.jobs import Job, run_pending
from market.credit.models import CreditSnapshot
from market.extensions import db
from market.orders.models import TradeOrder
from market.rfq.models import Rfq
from payments.escrow import Escrow


def _load_demo_and_run_the_worker() -> dict:
    ctx = demo.load(echo=lambda _line: None)
    while run_pending(limit=500):
        pass
    return ctx


def test_demo_shows_the_core_and_its_ledger_checks_out(app):
    _load_demo_and_run_the_worker()

    assert db.session.scalar(select(func.count(Listing.id))) >= 200
    assert db.session.scalar(select(func.count(Rfq.id))) >= 1
    states = set(db.session.scalars(select(TradeOrder.state)))
    assert {"placed", "awaiting_payment", "disputed"} <= states
    assert len(states) >= 5
    released = db.session.scalars(select(Escrow).where(Escrow.released_fen > 0)).all()
    assert released, "an escrow released after inspection"
    assert db.session.scalar(select(func.count(CreditSnapshot.id))) > 0
    # the demo speaks the trade: 电煤 (a buyer's word for 动力煤) and pinyin find the demo's thermal coal
    from catalog.search import get_index, vocabulary

    vocabulary.forget()
    for query in ("电煤", "dongli mei"):
        hits = get_index().search(query, per_page=5).hits
        assert hits, query
        assert all(db.session.get(Listing, hit.id).category.slug == "thermal-coal" for hit in hits), query

    # issue #17: a dispute with the seller's answer, and an over-delivered lot whose difference is owed
    from market.orders.models import DeliveryLot, DisputeMessage

    assert db.session.scalar(select(func.count(DisputeMessage.id)).where(DisputeMessage.kind == "response")) >= 1
    assert db.session.scalar(select(func.count(DeliveryLot.id)).where(DeliveryLot.topup_fen > 0)) >= 1

    _assert_a_market_to_compare()
    # what is left is scheduled for later (expiry, auto-release), never failed
    assert db.session.scalars(select(Job.kind).where(Job.last_error.is_not(None))).all() == []

    runner = app.test_cli_runner()
    healthy = runner.invoke(args=["ledger-check"])
    assert healthy.exit_code == 0, healthy.output

    # corrupt a copy: an escrow whose released total no longer matches what the ledger posted
    db.session.execute(text("UPDATE escrow SET released_fen = released_fen - 1 WHERE id = :id"),
                       {"id": released[0].id})
    db.session.commit()
    corrupted = runner.invoke(args=["ledger-check"])
    assert corrupted.exit_code != 0
    assert "disagree with the ledger" in corrupted.output


def _assert_a_market_to_compare() -> None:
    """At least 30 companies in Shanxi's 11 cities; several sellers per main category with different prices,
    specs and credit grades; orders in every resting state; no history dated in the future."""
    from catalog.models import Category
    from market.accounts.models import Company
    from market.core.timeutil import utcnow
    from market.credit.models import Rating

    companies = db.session.scalars(select(Company)).all()
    assert len(companies) >= 30
    assert len({c.region_code[:4] for c in companies}) == 11
    for slug in ("thermal-coal", "prime-coking-coal", "coke", "rebar", "millet", "walnuts"):
        rows = db.session.execute(select(Listing.seller_id, Listing.unit_price_fen, Listing.specs)
                                  .join(Category, Category.id == Listing.category_id)
                                  .where(Category.slug == slug, Listing.status == "published")).all()
        sellers = {row.seller_id for row in rows}
        assert len(sellers) >= 3, slug
        assert len({row.unit_price_fen for row in rows}) >= 3, slug
        grades = {c.credit_grade for c in companies if c.id in sellers}
        assert len(grades) >= 2, (slug, grades)
    states = set(db.session.scalars(select(TradeOrder.state)))
    assert {"placed", "accepted", "rejected", "cancelled", "awaiting_payment", "funded", "in_delivery", "delivered",
            "inspected", "disputed", "settled", "closed"} <= states
    assert db.session.scalar(select(func.count(Rating.id)).where(Rating.created_at > utcnow())) == 0
