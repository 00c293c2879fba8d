"""Placing orders: from the cart, from the JSON API, and from an accepted RFQ quote.

Every path ends in :func:`create_order`, the one place where an order's buyer, seller and amount are
known before it exists: :func:`_check_gates` runs there (the credit gate plugs in at that point).
Stock is reserved with a conditional UPDATE (``catalog.stock.reserve``) in the same transaction, so
a failed placement reserves nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from catalog import stock
from catalog.labels import unit_label
from catalog.models import Listing, ListingStatus
from market.accounts.models import Company, CompanyKind, Verification
from market.core.audit import record
from market.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from market.core.jobs import enqueue
from market.core.money import format_fen, round_half_up
from market.core.timeutil import to_local, utcnow
from market.core.validation import Quantity, parse_value
from market.credit import gates
from market.extensions import db
from market.orders.lifecycle import announce
from market.orders.models import CartItem, OrderLine, OrderPlacement, TradeOrder
from market.orders.settlement import default_rule

QUANTITY_STEP = Decimal("0.001")


@dataclass(frozen=True)
class Delivery:
    """Where and when the buyer wants the goods, and the buyer's own purchase order number."""

    address: str
    window_start: datetime
    window_end: datetime
    po_number: str | None = None
    note: str | None = None
    inspection_agency_id: int | None = None


@dataclass(frozen=True)
class LineSpec:
    """A priced line for :func:`create_order` (listing lines are priced by the listing's tiers)."""

    title: str
    quantity: Decimal
    unit_price_fen: int
    unit: str = "t"
    specs: dict[str, Any] | None = None
    listing_id: int | None = None
    category_id: int | None = None
    price_rule: dict[str, Any] | None = None


def parse_quantity(raw: Any, field: str = "quantity") -> Decimal:
    """A positive quantity with at most three decimals (the shared edge type, named ``field`` on error)."""
    return parse_value(Quantity, raw, field)


class PlacedOrders(list):
    """The orders of one placement; ``replayed`` when they were placed earlier under the same key."""

    replayed = False


def _check_gates(buyer: Company, seller: Company, amount_fen: int) -> None:
    """Who may trade with whom, for how much. THE hook for the credit gate (market.credit.gates).

    Both companies active, the seller verified (L1: may receive payments), nobody buying from itself;
    then the credit gates (order value limits by trust tier, e.g. L0 buyers up to a small amount).
    """
    if buyer.id == seller.id:
        raise ValidationFailed("You cannot buy from your own company.")
    if buyer.status != "active":
        raise PermissionDenied("This company is suspended.")
    if seller.status != "active":
        raise Conflict("This seller cannot take orders at the moment.")
    if seller.verification_level < Verification.L1_VERIFIED:
        raise Conflict("This seller is not verified yet and cannot take orders.")
    gates.check_order_allowed(buyer, seller, amount_fen)


def validate_delivery(delivery: Delivery) -> None:
    errors: dict[str, str] = {}
    if not delivery.address or not delivery.address.strip():
        errors["delivery_address"] = "Enter the delivery address."
    elif len(delivery.address) > 300:
        errors["delivery_address"] = "At most 300 characters."
    if delivery.window_end < delivery.window_start:
        errors["delivery_window_end"] = "The window must end after it starts."
    if to_local(delivery.window_start).date() < to_local(utcnow()).date():
        errors["delivery_window_start"] = "The delivery window cannot start in the past."
    if delivery.po_number and len(delivery.po_number) > 60:
        errors["po_number"] = "At most 60 characters."
    if delivery.inspection_agency_id is not None:
        agency = db.session.get(Company, delivery.inspection_agency_id)
        if agency is None or agency.kind != CompanyKind.SERVICE_PROVIDER or not agency.is_verified:
            errors["inspection_agency_id"] = "Choose a verified inspection agency."
    if errors:
        raise ValidationFailed("Please check the delivery details.", field_errors=errors)


def create_order(buyer: Company, seller: Company, lines: list[LineSpec], delivery: Delivery, *,
                 user_id: int | None, placement: OrderPlacement | None = None, quote_id: int | None = None,
                 industry: str | None = None, tolerance_pct: Decimal | None = None,
                 delivery_terms: str = "delivered", seller_terms: str | None = None) -> TradeOrder:
    """Create one order (state ``placed``); reserves listing stock; gates, audits and notifies."""
    if not lines:
        raise ValidationFailed("An order needs at least one line.")
    validate_delivery(delivery)
    amount = sum(round_half_up(Decimal(line.unit_price_fen) * line.quantity) for line in lines)
    _check_gates(buyer, seller, amount)
    order = TradeOrder(
        buyer_id=buyer.id, seller_id=seller.id, placed_by_user_id=user_id, placement_id=placement.id if placement
        else None, quote_id=quote_id, state="placed", industry=industry, total_fen=amount,
        quantity_tolerance_pct=tolerance_pct if tolerance_pct is not None else _default_tolerance(industry),
        buyer_po_number=(delivery.po_number or "").strip() or None, delivery_address=delivery.address.strip(),
        delivery_window_start=delivery.window_start, delivery_window_end=delivery.window_end,
        note=delivery.note, inspection_agency_id=delivery.inspection_agency_id, delivery_terms=delivery_terms,
        seller_terms=seller_terms, placed_at=utcnow(),
    )
    db.session.add(order)
    for spec in lines:
        order.lines.append(OrderLine(
            listing_id=spec.listing_id, category_id=spec.category_id, title=spec.title, specs=spec.specs or {},
            unit=spec.unit, quantity=spec.quantity, unit_price_fen=spec.unit_price_fen,
            amount_fen=round_half_up(Decimal(spec.unit_price_fen) * spec.quantity),
            price_rule=spec.price_rule or default_rule(industry, spec.specs or {}),
        ))
    db.session.flush()
    order.number = f"JS-{to_local(order.placed_at):%Y%m%d}-{order.id:06d}"
    for spec in lines:
        if spec.listing_id is not None:
            stock.reserve(spec.listing_id, spec.quantity)
            order.stock_reserved = True
    db.session.flush()
    hours = current_app.config.get("ORDER_ACCEPT_HOURS", 48)
    enqueue("orders.expire", delay=timedelta(hours=hours), order_id=order.id, state="placed")
    record("order.placed", "trade_order", order.id, actor_company_id=buyer.id, after=order.snapshot())
    announce(order, "placed")
    return order


def _default_tolerance(industry: str | None) -> Decimal:
    # customary 溢短装 tolerances: bulk coal ±5 %, steel ±3 %, grain ±2 %
    return {"coal": Decimal(5), "metallurgy": Decimal(3), "agriculture": Decimal(2)}.get(industry or "", Decimal(0))


def place_listing_orders(buyer: Company, requested: list[tuple[int, Decimal]], delivery: Delivery, *,
                         user_id: int | None, key: str | None) -> PlacedOrders:
    """Order listings at their tier prices: one order per seller. Idempotent on ``key``.

    ``requested`` is ``[(listing_id, quantity)]``. A repeated ``key`` returns the orders the first call
    made (a double click, a retried request) instead of placing new ones.
    """
    placement = None
    if key:
        existing = _claim_key(buyer.id, key, _fingerprint(requested, delivery))
        if isinstance(existing, list):
            replay = PlacedOrders(existing)
            replay.replayed = True
            return replay
        placement = existing
    if not requested:
        raise ValidationFailed("Your cart is empty.")
    by_seller: OrderedDict[int, list[tuple[Listing, Decimal]]] = OrderedDict()
    errors: dict[str, str] = {}
    for listing_id, quantity in requested:
        listing = db.session.get(Listing, listing_id)
        if listing is None or listing.status not in (ListingStatus.PUBLISHED, ListingStatus.SOLD_OUT):
            raise NotFound("This listing is not available.")
        if quantity < listing.min_order_quantity:
            errors[f"quantity.{listing_id}"] = "Below the minimum order quantity."
        elif quantity > listing.available_quantity:
            errors[f"quantity.{listing_id}"] = "More than the available stock."
        by_seller.setdefault(listing.seller_id, []).append((listing, quantity))
    if errors:
        raise ValidationFailed("Some quantities cannot be ordered.", field_errors=errors)
    orders = PlacedOrders()
    for seller_id, items in by_seller.items():
        seller = db.session.get(Company, seller_id)
        industries = {listing.category.industry for listing, _ in items}
        lines = [LineSpec(title=listing.title_zh, quantity=qty, unit_price_fen=listing.unit_price_for(qty),
                          unit=listing.unit, specs=dict(listing.specs or {}), listing_id=listing.id,
                          category_id=listing.category_id,
                          price_rule=default_rule(listing.category.industry, listing.specs or {}))
                 for listing, qty in items]
        orders.append(create_order(buyer, seller, lines, delivery, user_id=user_id, placement=placement,
                                   industry=industries.pop() if len(industries) == 1 else None))
    return orders


def _fingerprint(requested: list[tuple[int, Decimal]], delivery: Delivery) -> str:
    """What a placement asked for: a key reused for a different request is refused, never replayed."""
    body = {"lines": sorted([listing_id, f"{quantity.normalize():f}"] for listing_id, quantity in requested),
            "delivery": [delivery.address, delivery.window_start.isoformat(), delivery.window_end.isoformat(),
                         delivery.po_number, delivery.note, delivery.inspection_agency_id]}
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def _claim_key(buyer_id: int, key: str, fingerprint: str) -> OrderPlacement | list[TradeOrder]:
    """Claim an idempotency key; if it was used already for the same request, the orders placed under it."""
    key = key.strip()[:100]
    found = db.session.scalars(select(OrderPlacement).where(OrderPlacement.buyer_id == buyer_id,
                                                            OrderPlacement.key == key)).first()
    if found is None:
        placement = OrderPlacement(buyer_id=buyer_id, key=key, fingerprint=fingerprint)
        try:
            with db.session.begin_nested():  # a concurrent twin inserts the same key: only one wins
                db.session.add(placement)
        except IntegrityError:
            found = db.session.scalars(select(OrderPlacement).where(OrderPlacement.buyer_id == buyer_id,
                                                                    OrderPlacement.key == key)).first()
        else:
            return placement
    if found is None:
        raise Conflict("This request is being processed. Please reload in a moment.")
    if found.fingerprint is not None and found.fingerprint != fingerprint:
        raise ValidationFailed("This idempotency key was already used for a different request.",
                               field_errors={"Idempotency-Key": "This idempotency key was already used for a "
                                                                "different request."})
    return list(db.session.scalars(select(TradeOrder).where(TradeOrder.placement_id == found.id)
                                   .order_by(TradeOrder.id)))


# ---- the cart ----

def cart_items(buyer_id: int) -> list[CartItem]:
    return list(db.session.scalars(select(CartItem).where(CartItem.buyer_id == buyer_id)
                                   .options(selectinload(CartItem.listing)).order_by(CartItem.id)))


def add_to_cart(buyer: Company, listing_id: int, quantity: Decimal) -> CartItem:
    """Put a listing in the buyer's cart (adding to the quantity if it is there already)."""
    listing = db.session.get(Listing, listing_id)
    if listing is None or listing.status != ListingStatus.PUBLISHED:
        raise NotFound("This listing is not available.")
    if listing.seller_id == buyer.id:
        raise ValidationFailed("You cannot buy from your own company.")
    item = db.session.scalars(select(CartItem).where(CartItem.buyer_id == buyer.id,
                                                     CartItem.listing_id == listing_id)).first()
    total = quantity + (item.quantity if item else 0)
    _check_quantity(listing, total)
    _check_limit(buyer, listing, total)
    if item is None:
        item = CartItem(buyer_id=buyer.id, listing_id=listing_id, quantity=total)
        db.session.add(item)
    else:
        item.quantity = total
    db.session.flush()
    return item


def update_cart_item(buyer_id: int, item_id: int, quantity: Decimal) -> CartItem:
    from market.core.tenancy import get_owned

    item = get_owned(CartItem, item_id, buyer_id, "buyer_id")
    _check_quantity(item.listing, quantity)
    _check_limit(db.session.get(Company, buyer_id), item.listing, quantity)
    item.quantity = quantity
    db.session.flush()
    return item


def remove_cart_item(buyer_id: int, item_id: int) -> None:
    from market.core.tenancy import get_owned

    db.session.delete(get_owned(CartItem, item_id, buyer_id, "buyer_id"))
    db.session.flush()


def place_cart(buyer: Company, delivery: Delivery, *, user_id: int | None, key: str | None) -> PlacedOrders:
    """Check out the whole cart (one order per seller) and empty it.

    The cart is claimed first with one ``DELETE … RETURNING``: of several sessions of one company
    submitting at once, one takes the items and the others find the cart empty, so one cart becomes
    orders once. A failed placement rolls the delete back with everything else.
    """
    if key:
        replay = _replay(buyer.id, key)
        if replay is not None:  # the first submission already emptied the cart; keep anything added since
            return replay
    claimed = db.session.execute(
        delete(CartItem).where(CartItem.buyer_id == buyer.id)
        .returning(CartItem.listing_id, CartItem.quantity).execution_options(synchronize_session=False)
    ).all()
    if not claimed:
        raise Conflict("This cart was already checked out, or is empty.")
    for item in list(db.session.identity_map.values()):
        if isinstance(item, CartItem) and item.buyer_id == buyer.id:
            db.session.expunge(item)
    requested = sorted((row.listing_id, row.quantity) for row in claimed)
    return place_listing_orders(buyer, requested, delivery, user_id=user_id, key=key)


def _replay(buyer_id: int, key: str) -> PlacedOrders | None:
    """The orders an earlier placement with ``key`` made, if any (a double click, a retried form)."""
    found = db.session.scalars(select(OrderPlacement).where(OrderPlacement.buyer_id == buyer_id,
                                                            OrderPlacement.key == key.strip()[:100])).first()
    if found is None:
        return None
    replay = PlacedOrders(db.session.scalars(select(TradeOrder).where(TradeOrder.placement_id == found.id)
                                             .order_by(TradeOrder.id)))
    replay.replayed = True
    return replay


def _check_limit(buyer: Company, listing: Listing, quantity: Decimal) -> None:
    """Refuse a cart line the buyer could never check out: its amount alone is above the buyer's order limit
    (the same rule :func:`market.credit.gates.check_order_allowed` applies at checkout)."""
    limit = gates.order_limit_fen(buyer)
    amount = round_half_up(Decimal(listing.unit_price_for(quantity)) * quantity)
    if limit is not None and amount > limit:
        raise ValidationFailed("This quantity costs %(amount)s, above your company's order limit of %(limit)s.",
                               field_errors={"quantity": "Above your company's order limit."},
                               amount=format_fen(amount), limit=format_fen(limit))


def _check_quantity(listing: Listing, quantity: Decimal) -> None:
    if quantity < listing.min_order_quantity:
        raise ValidationFailed("Below the minimum order quantity of %(moq)s %(unit)s.",
                               field_errors={"quantity": "Below the minimum order quantity."},
                               moq=f"{listing.min_order_quantity.normalize():f}", unit=unit_label(listing.unit))
    if quantity > listing.available_quantity:
        raise ValidationFailed("Only %(available)s %(unit)s available.",
                               field_errors={"quantity": "More than the available stock."},
                               available=f"{listing.available_quantity.normalize():f}", unit=unit_label(listing.unit))
