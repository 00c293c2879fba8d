"""Stock reservation: one conditional UPDATE per change, so stock is never oversold.

``UPDATE listing SET available_quantity = available_quantity - :q WHERE id = :id AND
available_quantity >= :q`` is atomic on both databases: on PostgreSQL a concurrent writer waits for
the row and re-checks the condition on the committed row; on SQLite the write lock (BEGIN IMMEDIATE)
serialises writers. No read-then-write race is possible because nothing is read first.

Stock is not searched, so a reservation re-indexes the listing only when it crosses zero (the
listing sells out and leaves the index, or comes back on sale): an order costs the index nothing.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import case, select, update

from catalog.models import Listing, ListingStatus
from market.core.errors import Conflict, NotFound, ValidationFailed
from market.core.jobs import enqueue
from market.extensions import db


def reserve(listing_id: int, quantity: Decimal) -> Decimal:
    """Take ``quantity`` from a published listing's stock; returns what is left.

    At zero the listing becomes ``sold_out``. Raises ``Conflict`` when there is not enough stock (or
    the listing is not on sale), leaving the row untouched.
    """
    quantity = Decimal(quantity)
    if quantity <= 0:
        raise ValidationFailed("Quantity must be positive", field_errors={"quantity": "Quantity must be positive"})
    remaining = Listing.available_quantity - quantity
    result = db.session.execute(
        update(Listing)
        .where(
            Listing.id == listing_id,
            Listing.status == ListingStatus.PUBLISHED,
            Listing.available_quantity >= quantity,
        )
        .values(
            available_quantity=remaining,
            # SET expressions see the old row on both databases, so this tests the new quantity.
            status=case((remaining <= 0, ListingStatus.SOLD_OUT.value), else_=Listing.status),
        )
        .returning(Listing.available_quantity, Listing.status)
        .execution_options(synchronize_session=False)
    )
    row = result.first()
    if row is None:
        _explain_refusal(listing_id, quantity)
    _expire(listing_id)
    if row[1] != ListingStatus.PUBLISHED:  # sold out: it leaves the index (stock itself is not searched)
        enqueue("search.index_listing", listing_id=listing_id)
    return Decimal(row[0])


def release(listing_id: int, quantity: Decimal) -> Decimal:
    """Give ``quantity`` back (cancelled, rejected or expired order); a sold-out listing is on sale again."""
    quantity = Decimal(quantity)
    if quantity <= 0:
        raise ValidationFailed("Quantity must be positive", field_errors={"quantity": "Quantity must be positive"})
    result = db.session.execute(
        update(Listing)
        .where(Listing.id == listing_id)
        .values(
            available_quantity=Listing.available_quantity + quantity,
            status=case((Listing.status == ListingStatus.SOLD_OUT.value, ListingStatus.PUBLISHED.value),
                        else_=Listing.status),
        )
        .returning(Listing.available_quantity)
        .execution_options(synchronize_session=False)
    )
    row = result.first()
    if row is None:
        raise NotFound("Listing not found")
    _expire(listing_id)
    if Decimal(row[0]) - quantity <= 0:  # back from zero (sold out → on sale): it returns to the index
        enqueue("search.index_listing", listing_id=listing_id)
    return Decimal(row[0])


def _explain_refusal(listing_id: int, quantity: Decimal) -> None:
    """Raise the error that says why a reservation was refused."""
    status, available = db.session.execute(
        select(Listing.status, Listing.available_quantity).where(Listing.id == listing_id)
    ).first() or (None, None)
    if status is None:
        raise NotFound("Listing not found")
    if status != ListingStatus.PUBLISHED:
        raise Conflict("This listing is not on sale at the moment.")
    raise Conflict(
        "Not enough stock: %(available)s available.",
        field_errors={"quantity": "Not enough stock"},
        available=f"{Decimal(available).normalize():f}",
    )


def _expire(listing_id: int) -> None:
    """The UPDATE bypassed the ORM: make a loaded Listing reload its stock and status."""
    listing = db.session.identity_map.get(db.session.identity_key(Listing, listing_id))
    if listing is not None:
        db.session.expire(listing, ["available_quantity", "status"])
