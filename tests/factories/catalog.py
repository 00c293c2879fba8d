"""Factories for categories and listings."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from catalog.models import Category, Listing, ListingStatus, PriceTier
from catalog.seed import seed_categories
from market.accounts.models import Company
from market.core.timeutil import utcnow
from market.extensions import db

__all__ = ["THERMAL_SPECS", "category", "make_listing", "seed_tree"]

THERMAL_SPECS = {"qnet_ar": 5500, "st_d": 0.8, "ad": 18, "vdaf": 30, "mt": 12, "size": "0-13"}


def seed_tree() -> dict[str, Category]:
    """The seeded category tree (idempotent)."""
    return seed_categories()


def category(slug: str = "thermal-coal") -> Category:
    return seed_tree()[slug]


def make_listing(seller: Company | None = None, *, category_slug: str = "thermal-coal",
                 status: str = ListingStatus.PUBLISHED, specs: dict[str, Any] | None = None,
                 tiers: tuple[tuple[str, int], ...] = (), **fields: Any) -> Listing:
    """A listing written straight to the database (no service, no job): for tests of reading paths."""
    from tests.factories.accounts import make_company

    seller = seller or make_company()
    values: dict[str, Any] = {
        "title_zh": "山西大同优质动力煤 Q5500", "title_en": "Datong thermal coal 5500 kcal",
        "description_zh": "低硫低灰，大同南站发货", "unit": "t", "unit_price_fen": 78000,
        "min_order_quantity": Decimal(100), "available_quantity": Decimal(5000), "origin_region_code": "140213",
        "delivery_terms": "rail_station", "delivery_place": "大同南站", "lead_time_days": 5,
    }
    values.update(fields)
    listing = Listing(seller_id=seller.id, category_id=category(category_slug).id, status=status,
                      specs=dict(THERMAL_SPECS if specs is None else specs), **values)
    if status != ListingStatus.DRAFT:
        listing.published_at = utcnow()
    listing.price_tiers = [PriceTier(min_quantity=Decimal(q), unit_price_fen=p) for q, p in tiers]
    db.session.add(listing)
    db.session.flush()
    return listing
