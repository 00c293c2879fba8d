"""Listing services: drafts, the lifecycle table, L1 publishing, audit rows, indexing jobs."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from catalog import services
from catalog.search import get_index
from market.core.audit import AuditLog
from market.core.errors import InvalidTransition, PermissionDenied, ValidationFailed
from market.core.jobs import Job, run_pending
from tests.factories import category, make_company

FORM = {"title_zh": "山西大同优质动力煤 Q5500", "title_en": "Datong thermal coal", "unit": "t",
        "unit_price": "780.00", "min_order_quantity": "100", "available_quantity": "5000",
        "origin_region_code": "140213", "delivery_terms": "rail_station", "lead_time_days": "5",
        "specs": {"qnet_ar": "5500", "st_d": "0.8", "size": "0-13"},
        "price_tiers": [{"min_quantity": "1000", "unit_price": "760"}, {"min_quantity": "3000", "unit_price": "740"}]}


def draft(seller=None, **changes):  # type: ignore[no-untyped-def]
    seller = seller or make_company()
    return services.create_listing(seller, {**FORM, "category_id": category().id, **changes})


def test_create_draft_with_tiers_and_audit(db) -> None:  # type: ignore[no-untyped-def]
    listing = draft()
    assert listing.status == "draft"
    assert listing.unit_price_fen == 78000
    assert listing.unit_price_for(Decimal(3500)) == 74000
    assert listing.unit_price_for(Decimal(100)) == 78000
    assert listing.specs == {"qnet_ar": 5500, "st_d": 0.8, "size": "0-13"}
    assert db.session.scalars(select(AuditLog.action)).all() == ["listing.create"]


def test_all_field_errors_at_once(db) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed) as caught:
        draft(title_zh="", unit_price="7.001", min_order_quantity="0", origin_region_code="110101",
              specs={"qnet_ar": "99999"}, price_tiers=[{"min_quantity": "50", "unit_price": "900"}])
    assert {"title_zh", "unit_price", "min_order_quantity", "origin_region_code", "specs.qnet_ar",
            "specs.st_d"} <= set(caught.value.field_errors)


def test_lifecycle_follows_the_table(db) -> None:  # type: ignore[no-untyped-def]
    listing = draft()
    for action, status in [("publish", "published"), ("pause", "paused"), ("republish", "published"),
                           ("mark_sold_out", "sold_out"), ("republish", "published"), ("archive", "archived")]:
        services.change_status(listing, action)
        assert listing.status == status
    with pytest.raises(InvalidTransition):
        services.change_status(listing, "republish")
    with pytest.raises(InvalidTransition):
        services.update_listing(listing, {**FORM, "category_id": category().id})
    actions = db.session.scalars(select(AuditLog.action).order_by(AuditLog.id)).all()
    assert actions[-1] == "listing.archive"
    assert len(actions) == 7


def test_illegal_moves_from_draft(db) -> None:  # type: ignore[no-untyped-def]
    listing = draft()
    for action in ("pause", "republish", "mark_sold_out"):
        with pytest.raises(InvalidTransition):
            services.change_status(listing, action)


def test_publishing_requires_l1(db) -> None:  # type: ignore[no-untyped-def]
    listing = draft(make_company(verified=False))
    with pytest.raises(PermissionDenied):
        services.change_status(listing, "publish")
    assert listing.status == "draft"


def test_publishing_needs_stock(db) -> None:  # type: ignore[no-untyped-def]
    listing = draft(available_quantity="0")
    with pytest.raises(ValidationFailed):
        services.change_status(listing, "publish")


def test_changes_enqueue_indexing_and_the_worker_indexes(db) -> None:  # type: ignore[no-untyped-def]
    listing = draft()
    services.change_status(listing, "publish")
    db.session.commit()
    assert db.session.scalars(select(Job.kind)).all() == ["search.index_listing"]
    run_pending()
    get_index().refresh()
    assert [h.id for h in get_index().search("动力煤").hits] == [listing.id]
    services.change_status(listing, "pause")
    db.session.commit()
    run_pending()
    assert get_index().search("动力煤").total == 0


def test_rolled_back_change_never_indexes(db) -> None:  # type: ignore[no-untyped-def]
    listing = draft()
    db.session.commit()
    services.change_status(listing, "publish")
    db.session.rollback()
    assert run_pending() == 0
    assert get_index().search("动力煤").total == 0


def test_bulk_pause_and_republish_only_own_listings(db) -> None:  # type: ignore[no-untyped-def]
    seller, other = make_company(), make_company()
    mine = [draft(seller) for _ in range(3)]
    theirs = draft(other)
    for listing in (*mine[:2], theirs):
        services.change_status(listing, "publish")
    changed, skipped = services.bulk_change_status(seller.id, [m.id for m in mine] + [theirs.id, "x"], "pause")
    assert changed == [mine[0].id, mine[1].id]
    assert skipped == [mine[2].id]
    assert theirs.status == "published"
    changed, _skipped = services.bulk_change_status(seller.id, [m.id for m in mine], "republish")
    assert changed == [mine[0].id, mine[1].id]
