"""Public catalog pages: search, listing page, seller storefront, listing media."""

from __future__ import annotations

import os
from typing import Any

from flask import Blueprint, abort, current_app, flash, render_template, request, send_from_directory
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from catalog import categories as category_service
from catalog import specs as spec_rules
from catalog.media import upload_root
from catalog.models import Category, Listing, ListingAttachment, ListingPhoto, ListingStatus
from catalog.search import get_index, vocabulary
from catalog.search.params import SearchParams, parse_search_args
from catalog.search.understand import understand
from market.accounts.context import acting_company_id
from market.accounts.models import Company
from market.core.validation import Page, parse_value
from market.extensions import db

bp = Blueprint("catalog", __name__)
PAGE_SIZE = 20
# What a listing card shows besides the row itself (seller is joined already): load it per page, not per card.
CARD_LOADS = (selectinload(Listing.photos), selectinload(Listing.category))


def locale() -> str:
    return str(get_locale() or "zh_CN")


def region_name(code: str | None) -> str:
    if not code:
        return "—"
    try:
        from market.accounts import regions

        return regions.region_name(code, locale()) or code
    except (ImportError, AttributeError):
        return code


def credit_label(company: Company | None) -> str:
    grade = company.credit_grade if company is not None else None
    return grade or _("not yet rated")


@bp.app_context_processor
def catalog_helpers() -> dict[str, Any]:
    return {"region_name": region_name, "credit_label": credit_label, "spec_rules": spec_rules,
            "catalog_locale": locale}


@bp.after_request
def worker_pid_header(response: Any) -> Any:
    # The multi-worker test proves an edit saved by one gunicorn worker is found through another.
    if current_app.config.get("EXPOSE_WORKER_PID"):
        response.headers["X-Worker-Pid"] = str(os.getpid())
    return response


def listings_in_order(ids: list[int]) -> list[Listing]:
    """Load hits from the database in the index's order; rows gone since indexing are skipped."""
    if not ids:
        return []
    rows = {row.id: row for row in db.session.scalars(select(Listing).where(Listing.id.in_(ids)).options(*CARD_LOADS))}
    return [rows[i] for i in ids if i in rows and rows[i].status == ListingStatus.PUBLISHED]


DOMINANT_SHARE = 0.6  # a category holding this share of the results shows its spec filters at once


def run_search(params: SearchParams) -> Any:
    """Understand the query in the trade's terms, search, and find the category most results fall into."""
    meaning = understand(params.text, vocabulary.current())
    params.understanding = meaning
    ranges = {**meaning.ranges, **params.ranges}  # a filter set on the page overrides what the text said
    results = get_index().search(meaning.text, filters=params.filters, ranges=ranges, facets=params.facets,
                                 sort=params.sort, page=params.page, per_page=params.per_page,
                                 prefer=meaning.prefer)
    if params.category is None:
        params.dominant = dominant_category(results.facets.get("category", {}), results.total)
        if params.dominant is not None:
            params.schema = params.dominant.effective_schema()
    return results


def dominant_category(counts: dict[str, int], total: int) -> Category | None:
    """The most specific category with a spec schema that holds most of the results, if one does."""
    if not total:
        return None
    candidates = {int(cid): n for cid, n in counts.items() if n >= DOMINANT_SHARE * total}
    best = None
    for category in category_service.all_categories():
        if category.id in candidates and category.effective_schema() and (
                best is None or len(category.ancestors()) > len(best.ancestors())):
            best = category
    return best


@bp.get("/search")
def search():  # type: ignore[no-untyped-def]
    """The results page: facet sidebar, spec range filters, sort, pagination, suggestions."""
    params = parse_search_args(request.args)
    for message in dict.fromkeys(params.problems.values()):
        flash(_(message), "warning")
    results = run_search(params)
    listings = listings_in_order([hit.id for hit in results.hits])
    highlights = {hit.id: hit.highlights for hit in results.hits}
    category_names = {str(c.id): c for c in category_service.all_categories()}
    return render_template("catalog/search.html", params=params, results=results, listings=listings,
                           highlights=highlights, categories=category_names,
                           roots=[c for c, depth in category_service.tree() if depth == 0])


def _visible_listing(listing_id: int) -> Listing:
    listing = db.session.get(Listing, listing_id)
    if listing is None:
        abort(404)
    # Buyers may still open a paused or sold-out lot they found earlier; drafts and archives are private.
    if listing.status in (ListingStatus.DRAFT, ListingStatus.ARCHIVED) and listing.seller_id != acting_company_id():
        abort(404)
    return listing


@bp.get("/listings/<int:listing_id>")
def listing(listing_id: int):  # type: ignore[no-untyped-def]
    """The listing page, rendered from the category's spec schema."""
    return listing_page(listing_id)


def listing_page(listing_id: int, status: int = 200, **extra: Any):  # type: ignore[no-untyped-def]
    """The listing page; ``extra`` carries the order form's errors and input when it is shown again."""
    item = _visible_listing(listing_id)
    schema = item.category.effective_schema()
    return render_template("catalog/listing.html", listing=item, schema=schema,
                           is_owner=item.seller_id == acting_company_id(), **extra), status


@bp.get("/companies/<int:company_id>/store")
def storefront(company_id: int):  # type: ignore[no-untyped-def]
    """A seller's storefront: the company, its credit grade and its published listings."""
    company = db.session.get(Company, company_id)
    if company is None or company.status != "active":
        abort(404)
    page = parse_value(Page, request.args.get("page", "1"), "page")
    base = select(Listing).where(Listing.seller_id == company.id, Listing.status == ListingStatus.PUBLISHED)
    total = db.session.scalar(select(func.count()).select_from(base.subquery())) or 0
    items = list(db.session.scalars(base.options(*CARD_LOADS).order_by(Listing.published_at.desc(), Listing.id.desc())
                                    .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)))
    pages = max(1, -(-total // PAGE_SIZE))
    return render_template("catalog/storefront.html", company=company, listings=items, page=page, pages=pages,
                           total=total)


@bp.get("/media/listing-photos/<int:photo_id>/<variant>")
def photo(photo_id: int, variant: str):  # type: ignore[no-untyped-def]
    item = db.session.get(ListingPhoto, photo_id)
    if item is None or variant not in ("full", "thumb"):
        abort(404)
    _visible_listing(item.listing_id)
    name = item.thumb_name if variant == "thumb" else item.stored_name
    return send_from_directory(upload_root(), name, mimetype="image/jpeg", max_age=86400)


@bp.get("/media/listing-certificates/<int:attachment_id>")
def certificate(attachment_id: int):  # type: ignore[no-untyped-def]
    item = db.session.get(ListingAttachment, attachment_id)
    if item is None:
        abort(404)
    _visible_listing(item.listing_id)
    return send_from_directory(upload_root(), item.stored_name, mimetype=item.content_type,
                               download_name=item.original_name, as_attachment=item.content_type == "application/pdf")


def latest_listings(limit: int = 8) -> list[Listing]:
    """The newest published listings (for the home page)."""
    return list(db.session.scalars(select(Listing).where(Listing.status == ListingStatus.PUBLISHED)
                                   .options(*CARD_LOADS)
                                   .order_by(Listing.published_at.desc(), Listing.id.desc()).limit(limit)))


@bp.app_context_processor
def home_helpers() -> dict[str, Any]:
    def roots() -> list[Category]:
        return list(db.session.scalars(select(Category).where(Category.parent_id.is_(None))
                                       .order_by(Category.position)))

    return {"catalog_latest_listings": latest_listings, "catalog_root_categories": roots}
