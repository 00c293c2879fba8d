"""The write path for listings: create and edit drafts, the lifecycle, bulk actions.

Every service takes explicit arguments, raises domain errors, flushes but never commits, writes an
audit row for each state change and enqueues ``search.index_listing`` in the same transaction (so a
rolled-back request never reaches the index).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select

from catalog.models import Category, Listing, ListingStatus, PriceTier
from catalog.specs import validate_specs
from market.accounts.models import Company, Verification
from market.core import audit, jobs
from market.core.errors import InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from market.core.money import MAX_FEN, yuan_to_fen
from market.core.tenancy import get_owned
from market.core.timeutil import utcnow
from market.core.transitions import ANYONE, Lifecycle
from market.extensions import db

S = ListingStatus
# action -> (states it may start from, state it leads to). The one transition table of a listing.
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "publish": (frozenset({S.DRAFT}), S.PUBLISHED),
    "pause": (frozenset({S.PUBLISHED}), S.PAUSED),
    "republish": (frozenset({S.PAUSED, S.SOLD_OUT}), S.PUBLISHED),
    "mark_sold_out": (frozenset({S.PUBLISHED, S.PAUSED}), S.SOLD_OUT),
    "archive": (frozenset({S.DRAFT, S.PUBLISHED, S.PAUSED, S.SOLD_OUT}), S.ARCHIVED),
}
LISTING = Lifecycle("listing", Listing, {(frm, target): {ANYONE} for sources, target in TRANSITIONS.values()
                                        for frm in sources})
EDITABLE = frozenset({S.DRAFT, S.PUBLISHED, S.PAUSED, S.SOLD_OUT})
UNITS = ("t", "kg", "piece", "box", "L")
DELIVERY_TERMS = ("ex_works", "delivered", "rail_station")
MAX_QUANTITY = Decimal("1e12")
MAX_TIERS = 6


def request_reindex(listing_id: int) -> None:
    """Ask the worker to bring the search index in line with this listing (same transaction)."""
    jobs.enqueue("search.index_listing", listing_id=listing_id)


def get_seller_listing(listing_id: Any, company_id: int | None) -> Listing:
    """A listing of the acting company, or 404 (another tenant's id looks like a missing one)."""
    return get_owned(Listing, listing_id, company_id, "seller_id")


def _quantity(value: Any, field: str, errors: dict[str, str], *, positive: bool) -> Decimal | None:
    try:
        number = Decimal(str(value).replace(",", "").strip())
    except (InvalidOperation, ValueError):
        errors[field] = "Enter a number."
        return None
    if not number.is_finite() or number.as_tuple().exponent < -3:  # type: ignore[operator]
        errors[field] = "Use at most three decimal places."
        return None
    if number < 0 or (positive and number == 0) or number > MAX_QUANTITY:
        errors[field] = "Enter a positive quantity." if positive else "Cannot be negative."
        return None
    return number


def _price(data: Mapping[str, Any], prefix: str, field: str, errors: dict[str, str]) -> int | None:
    """Fen from ``<prefix>_fen`` (API) or a yuan string ``<prefix>`` (forms)."""
    try:
        if data.get(f"{prefix}_fen") not in (None, ""):
            fen = int(data[f"{prefix}_fen"])
        else:
            fen = yuan_to_fen(data.get(prefix) or "", field=field)
    except ValidationFailed as exc:
        errors[field] = exc.field_errors.get(field, "Not a valid amount")
        return None
    except (TypeError, ValueError):
        errors[field] = "Not a valid amount"
        return None
    if fen <= 0 or fen > MAX_FEN:
        errors[field] = "Enter a price above zero."
        return None
    return fen


def clean_listing(data: Mapping[str, Any], category: Category) -> dict[str, Any]:
    """Validate listing input against the rules and the category's spec schema; all errors at once."""
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {"category_id": category.id}
    title = " ".join(str(data.get("title_zh") or "").split())
    if not title:
        errors["title_zh"] = "Required."
    elif len(title) > 200:
        errors["title_zh"] = "At most 200 characters."
    clean["title_zh"] = title
    clean["title_en"] = " ".join(str(data.get("title_en") or "").split())[:200] or None
    for key in ("description_zh", "description_en"):
        text = str(data.get(key) or "").strip()
        if len(text) > 5000:
            errors[key] = "At most 5000 characters."
        clean[key] = text or None
    unit = str(data.get("unit") or "t")
    if unit not in UNITS:
        errors["unit"] = "Choose a unit from the list."
    clean["unit"] = unit
    clean["unit_price_fen"] = _price(data, "unit_price", "unit_price", errors)
    clean["min_order_quantity"] = _quantity(data.get("min_order_quantity", "1"), "min_order_quantity", errors,
                                            positive=True)
    clean["available_quantity"] = _quantity(data.get("available_quantity", "0"), "available_quantity", errors,
                                            positive=False)
    region = str(data.get("origin_region_code") or "").strip() or None
    if region is not None:
        from market.accounts import regions

        if regions.get(region) is None:
            errors["origin_region_code"] = "Choose a Shanxi county or city."
    clean["origin_region_code"] = region
    terms = str(data.get("delivery_terms") or "ex_works")
    if terms not in DELIVERY_TERMS:
        errors["delivery_terms"] = "Choose delivery terms from the list."
    clean["delivery_terms"] = terms
    clean["delivery_place"] = " ".join(str(data.get("delivery_place") or "").split())[:200] or None
    try:
        lead = int(data.get("lead_time_days") or 0)
        if not 0 <= lead <= 365:
            raise ValueError
        clean["lead_time_days"] = lead
    except (TypeError, ValueError):
        errors["lead_time_days"] = "Between 0 and 365 days."
    clean["price_tiers"] = _tiers(data.get("price_tiers") or [], clean, errors)
    try:
        clean["specs"] = validate_specs(category.effective_schema(), data.get("specs") or {})
    except ValidationFailed as exc:
        errors.update(exc.field_errors)
    if errors:
        raise ValidationFailed("Please correct the marked fields.", field_errors=errors)
    return clean


def _tiers(raw: Iterable[Mapping[str, Any]], clean: dict[str, Any],
           errors: dict[str, str]) -> list[tuple[Decimal, int]]:
    tiers: list[tuple[Decimal, int]] = []
    rows = [r for r in raw if any(str(v).strip() for v in r.values())]
    if len(rows) > MAX_TIERS:
        errors["price_tiers"] = "At most six volume prices."
        return []
    for n, row in enumerate(rows):
        quantity = _quantity(row.get("min_quantity"), f"price_tiers.{n}.min_quantity", errors, positive=True)
        price = _price(row, "unit_price", f"price_tiers.{n}.unit_price", errors)
        if quantity is not None and price is not None:
            tiers.append((quantity, price))
    tiers.sort()
    moq, base = clean.get("min_order_quantity"), clean.get("unit_price_fen")
    for n, (quantity, price) in enumerate(tiers):
        if moq is not None and quantity <= moq:
            errors[f"price_tiers.{n}.min_quantity"] = "A volume price starts above the minimum order."
        if n and quantity == tiers[n - 1][0]:
            errors[f"price_tiers.{n}.min_quantity"] = "Two volume prices start at the same quantity."
        previous = tiers[n - 1][1] if n else base
        if previous is not None and price >= previous:
            errors[f"price_tiers.{n}.unit_price"] = "A larger volume must have a lower price."
    return tiers


def _apply(listing: Listing, clean: dict[str, Any]) -> None:
    tiers = clean.pop("price_tiers")
    for key, value in clean.items():
        setattr(listing, key, value)
    listing.price_tiers = [PriceTier(min_quantity=q, unit_price_fen=p) for q, p in tiers]


def _category(category_id: Any) -> Category:
    try:
        category = db.session.get(Category, int(category_id))
    except (TypeError, ValueError):
        category = None
    if category is None:
        raise ValidationFailed("Choose a category.", field_errors={"category_id": "Choose a category."})
    return category


def create_listing(seller: Company, data: Mapping[str, Any], *, actor_user_id: int | None = None) -> Listing:
    """Create a draft listing for ``seller`` (any verification level may draft)."""
    if seller.status != "active":
        raise PermissionDenied("This company is suspended.")
    clean = clean_listing(data, _category(data.get("category_id")))
    listing = Listing(seller_id=seller.id, status=S.DRAFT)
    _apply(listing, clean)
    db.session.add(listing)
    db.session.flush()
    audit.record("listing.create", "listing", listing.id, actor_user_id=actor_user_id,
                 actor_company_id=seller.id, after=listing.snapshot())
    return listing


def update_listing(listing: Listing, data: Mapping[str, Any], *, actor_user_id: int | None = None) -> Listing:
    """Edit a listing that is not archived; a published one is reindexed at once."""
    if listing.status not in EDITABLE:
        raise InvalidTransition("An archived listing cannot be edited.")
    before = listing.snapshot()
    clean = clean_listing(data, _category(data.get("category_id", listing.category_id)))
    _apply(listing, clean)
    listing.updated_at = utcnow()
    db.session.flush()
    audit.record("listing.update", "listing", listing.id, actor_user_id=actor_user_id,
                 actor_company_id=listing.seller_id, before=before, after=listing.snapshot())
    request_reindex(listing.id)
    return listing


def can_publish(seller: Company) -> bool:
    return seller.status == "active" and seller.verification_level >= Verification.L1_VERIFIED


def change_status(listing: Listing, action: str, *, actor_user_id: int | None = None) -> Listing:
    """Move a listing through its lifecycle; an illegal move is InvalidTransition (409)."""
    if action not in TRANSITIONS:
        raise NotFound("Unknown action.")
    sources, target = TRANSITIONS[action]
    if listing.status not in sources:
        raise InvalidTransition("A %(status)s listing cannot do that.", status=listing.status)
    if target == S.PUBLISHED:
        seller = db.session.get(Company, listing.seller_id)
        if seller is None or not can_publish(seller):
            raise PermissionDenied("Only verified (L1) companies can publish listings. Please complete verification.")
        if listing.available_quantity <= 0:
            raise ValidationFailed("Set the available quantity before publishing.",
                                   field_errors={"available_quantity": "Must be above zero to publish."})
    now = utcnow()
    stamps = {"published_at": now} if target == S.PUBLISHED and listing.published_at is None else {}
    LISTING.move(listing, target, action=f"listing.{action}", actor_user_id=actor_user_id,
                 actor_company_id=listing.seller_id, updated_at=now, **stamps)
    request_reindex(listing.id)
    return listing


def bulk_change_status(company_id: int, listing_ids: Iterable[Any], action: str, *,
                       actor_user_id: int | None = None) -> tuple[list[int], list[int]]:
    """Apply ``action`` to the company's listings among ``listing_ids``.

    Returns (changed ids, skipped ids): a listing already in the target state, or one the action
    does not apply to, is skipped rather than failing the whole batch. Unknown or foreign ids are
    skipped silently (they are not the company's to know about).
    """
    if action not in ("pause", "republish"):
        raise NotFound("Unknown action.")
    ids = []
    for raw in listing_ids:
        try:
            ids.append(int(raw))
        except (TypeError, ValueError):
            continue
    if not ids:
        raise ValidationFailed("Select at least one listing.", field_errors={"ids": "Select at least one listing."})
    listings = db.session.scalars(
        select(Listing).where(Listing.id.in_(ids[:500]), Listing.seller_id == company_id).order_by(Listing.id))
    changed, skipped = [], []
    for listing in listings:
        if listing.status in TRANSITIONS[action][0]:
            change_status(listing, action, actor_user_id=actor_user_id)
            changed.append(listing.id)
        else:
            skipped.append(listing.id)
    return changed, skipped
