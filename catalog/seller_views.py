"""The seller's side: my listings (with bulk pause/republish), the listing form, photos, certificate."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from catalog import categories as category_service
from catalog import media, services
from catalog.forms import TIER_ROWS, BulkForm, form_values, listing_form_data, values_from_form
from catalog.models import Listing, ListingStatus
from catalog.views import bp
from market.accounts.context import acting_company, acting_company_id, require_company
from market.core.errors import ValidationFailed
from market.core.http import commit
from market.core.validation import Page, parse, parse_value, safe_redirect_target
from market.extensions import db

SELLER_ROLES = ("sales",)
PAGE_SIZE = 25
STATUSES = [s.value for s in ListingStatus]


def _uploaded(name: str) -> tuple[bytes, str]:
    upload = request.files.get(name)
    if upload is None or not upload.filename:
        raise ValidationFailed("Choose a file to upload.", field_errors={name: "Choose a file to upload."})
    return upload.read(media._limit() + 1), upload.filename


@bp.get("/my/listings")
@require_company(*SELLER_ROLES)
def my_listings():  # type: ignore[no-untyped-def]
    """The acting company's listings, filterable by status, with bulk pause and republish."""
    status = request.args.get("status", "")
    query = select(Listing).where(Listing.seller_id == acting_company_id())
    if status in STATUSES:
        query = query.where(Listing.status == status)
    page = parse_value(Page, request.args.get("page", "1"), "page")
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = list(db.session.scalars(query.options(selectinload(Listing.category))
                                    .order_by(Listing.updated_at.desc(), Listing.id.desc())
                                    .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)))
    counts = dict(db.session.execute(select(Listing.status, func.count()).where(
        Listing.seller_id == acting_company_id()).group_by(Listing.status)).all())
    return render_template("catalog/my_listings.html", listings=items, status=status, statuses=STATUSES,
                           counts=counts, page=page, pages=max(1, -(-total // PAGE_SIZE)),
                           can_publish=services.can_publish(acting_company()))


@bp.post("/my/listings/bulk")
@require_company(*SELLER_ROLES)
def bulk_listings():  # type: ignore[no-untyped-def]
    form = parse(BulkForm, request.form)
    changed, skipped = services.bulk_change_status(acting_company_id(), list(form.ids), form.action,
                                                   actor_user_id=current_user.id)
    commit()
    flash(_("%(n)s listings updated.", n=len(changed)), "success")
    if skipped:
        flash(_("%(n)s listings were skipped: the action does not apply to their status.", n=len(skipped)),
              "warning")
    return redirect(url_for("catalog.my_listings", status=form.status or None))


def _render_form(category: Any, listing: Listing | None, values: dict[str, Any],
                 errors: dict[str, str] | None = None, status: int = 200) -> Any:
    from market.accounts import regions

    tiers = list(values.get("tiers") or [])
    tiers += [{"min_quantity": "", "unit_price": ""}] * (TIER_ROWS - len(tiers))
    return render_template("catalog/listing_form.html", category=category, listing=listing, values=values,
                           tiers=tiers[:TIER_ROWS], errors=errors or {}, schema=category.effective_schema(),
                           units=services.UNITS, delivery_terms=services.DELIVERY_TERMS,
                           transitions=services.TRANSITIONS,
                           regions=region_groups(regions, _locale())), status


def region_groups(regions: Any, locale: str) -> list[tuple[Any, list[Any]]]:
    """Shanxi cities with their counties, for the origin select."""
    return [(city, regions.counties(city.code)) for city in regions.cities()]


def _locale() -> str:
    from catalog.views import locale

    return locale()


@bp.route("/my/listings/new", methods=["GET", "POST"])
@require_company(*SELLER_ROLES)
def new_listing():  # type: ignore[no-untyped-def]
    """Pick a category, then fill in the form its spec schema generates."""
    category = category_service.by_slug(request.values.get("category"))
    if category is None:
        return render_template("catalog/choose_category.html", tree=category_service.tree())
    if request.method == "GET":
        return _render_form(category, None, form_values(None))
    schema = category.effective_schema()
    try:
        listing = services.create_listing(acting_company(), listing_form_data(request.form, schema, category.id),
                                          actor_user_id=current_user.id)
    except ValidationFailed as exc:
        db.session.rollback()
        return _render_form(category, None, values_from_form(request.form, schema), exc.field_errors, 422)
    commit()
    flash(_("Draft saved. Add photos and the inspection certificate, then publish."), "success")
    return redirect(url_for("catalog.edit_listing", listing_id=listing.id))


@bp.route("/my/listings/<int:listing_id>/edit", methods=["GET", "POST"])
@require_company(*SELLER_ROLES)
def edit_listing(listing_id: int):  # type: ignore[no-untyped-def]
    listing = services.get_seller_listing(listing_id, acting_company_id())
    category = listing.category
    if request.method == "GET":
        return _render_form(category, listing, form_values(listing))
    schema = category.effective_schema()
    try:
        services.update_listing(listing, listing_form_data(request.form, schema, category.id),
                                actor_user_id=current_user.id)
    except ValidationFailed as exc:
        db.session.rollback()
        listing = services.get_seller_listing(listing_id, acting_company_id())
        return _render_form(category, listing, values_from_form(request.form, schema), exc.field_errors, 422)
    commit()
    flash(_("Listing saved."), "success")
    return redirect(url_for("catalog.edit_listing", listing_id=listing_id))


@bp.post("/my/listings/<int:listing_id>/status")
@require_company(*SELLER_ROLES)
def change_listing_status(listing_id: int):  # type: ignore[no-untyped-def]
    listing = services.get_seller_listing(listing_id, acting_company_id())
    services.change_status(listing, request.form.get("action", ""), actor_user_id=current_user.id)
    commit()
    flash(_("Listing status: %(status)s.", status=_(listing.status)), "success")
    target = safe_redirect_target(request.form.get("next"))
    return redirect(target if target and target.startswith("/my/")
                    else url_for("catalog.edit_listing", listing_id=listing_id))


@bp.post("/my/listings/<int:listing_id>/photos")
@require_company(*SELLER_ROLES)
def upload_photo(listing_id: int):  # type: ignore[no-untyped-def]
    listing = services.get_seller_listing(listing_id, acting_company_id())
    data, _name = _uploaded("photo")
    media.add_photo(listing, data, actor_user_id=current_user.id)
    services.request_reindex(listing.id)
    commit()
    flash(_("Photo added."), "success")
    return redirect(url_for("catalog.edit_listing", listing_id=listing_id) + "#media")


@bp.post("/my/listings/<int:listing_id>/photos/<int:photo_id>/delete")
@require_company(*SELLER_ROLES)
def delete_photo(listing_id: int, photo_id: int):  # type: ignore[no-untyped-def]
    listing = services.get_seller_listing(listing_id, acting_company_id())
    media.delete_photo(listing, photo_id, actor_user_id=current_user.id)
    commit()
    flash(_("Photo removed."), "success")
    return redirect(url_for("catalog.edit_listing", listing_id=listing_id) + "#media")


@bp.post("/my/listings/<int:listing_id>/certificate")
@require_company(*SELLER_ROLES)
def upload_certificate(listing_id: int):  # type: ignore[no-untyped-def]
    listing = services.get_seller_listing(listing_id, acting_company_id())
    data, name = _uploaded("certificate")
    media.set_certificate(listing, data, name, actor_user_id=current_user.id)
    commit()
    flash(_("Inspection certificate attached."), "success")
    return redirect(url_for("catalog.edit_listing", listing_id=listing_id) + "#media")
