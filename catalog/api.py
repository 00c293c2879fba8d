"""The catalog's JSON API: the same search as the results page, categories with their schemas, listings."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, request
from flask_babel import gettext as _

from catalog import categories as category_service
from catalog.models import Listing, ListingStatus
from catalog.search.params import parse_search_args
from catalog.views import listings_in_order, run_search, worker_pid_header
from market.core.errors import BadRequest
from market.extensions import db

api_bp = Blueprint("catalog_api", __name__, url_prefix="/api/v1")
api_bp.after_request(worker_pid_header)


def listing_json(listing: Listing) -> dict[str, Any]:
    seller = listing.seller
    return {
        "id": listing.id, "status": listing.status, "title_zh": listing.title_zh, "title_en": listing.title_en,
        "category": listing.category.slug, "specs": listing.specs, "unit": listing.unit,
        "currency": listing.currency, "unit_price_fen": listing.unit_price_fen,
        "price_tiers": [{"min_quantity": str(t.min_quantity), "unit_price_fen": t.unit_price_fen}
                        for t in listing.price_tiers],
        "min_order_quantity": str(listing.min_order_quantity),
        "available_quantity": str(listing.available_quantity),
        "origin_region_code": listing.origin_region_code, "delivery_terms": listing.delivery_terms,
        "delivery_place": listing.delivery_place, "lead_time_days": listing.lead_time_days,
        "seller": {"id": seller.id, "name_zh": seller.name_zh, "credit_grade": seller.credit_grade},
        "published_at": listing.published_at.isoformat() if listing.published_at else None,
    }


@api_bp.get("/search")
def search():  # type: ignore[no-untyped-def]
    """GET /api/v1/search — same parameters as /search; malformed ones are a 400 problem document."""
    params = parse_search_args(request.args)
    hard = {k: v for k, v in params.problems.items() if k not in ("q", "page")}
    if hard:
        raise BadRequest("Some search parameters are invalid.", field_errors=hard)
    results = run_search(params)
    body = results.as_json()
    listings = {item.id: item for item in listings_in_order([hit.id for hit in results.hits])}
    for hit in body["hits"]:
        item = listings.get(hit["id"])
        hit["listing"] = listing_json(item) if item else None
    body["hits"] = [hit for hit in body["hits"] if hit["listing"] is not None]
    body["query"] = {"q": params.text, "filters": params.filters, "sort": params.sort,
                     "ranges": {k: list(v) for k, v in params.ranges.items()}}
    meaning = params.understanding
    body["understood"] = {
        "text": meaning.text, "ranges": {k: list(v) for k, v in meaning.ranges.items()},
        "prefer": {k: v[0] for k, v in meaning.prefer.items()},
        "chips": [{"key": c.key, "label_zh": c.label_zh, "label_en": c.label_en, "without": c.without}
                  for c in meaning.chips],
        "notes": [note.__dict__ for note in meaning.notes],
        "dominant_category": params.dominant.slug if params.dominant is not None else None,
    }
    return body


@api_bp.get("/categories")
def categories():  # type: ignore[no-untyped-def]
    """The category tree with each category's effective spec schema."""
    return {"categories": [
        {"id": c.id, "slug": c.slug, "parent_id": c.parent_id, "industry": c.industry, "depth": depth,
         "name_zh": c.name_zh, "name_en": c.name_en, "spec_schema": c.effective_schema()}
        for c, depth in category_service.tree()]}


@api_bp.get("/listings/<int:listing_id>")
def listing(listing_id: int):  # type: ignore[no-untyped-def]
    item = db.session.get(Listing, listing_id)
    if item is None or item.status in (ListingStatus.DRAFT, ListingStatus.ARCHIVED):
        abort(404, _("Not found"))
    return listing_json(item)
