"""The writer side of search: job handlers (run by the worker) and ``jinshang reindex``.

Handlers are idempotent: they read the listing's current state and make the index agree with it,
so running one twice, or after a newer one, is harmless.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import click
from flask.cli import with_appcontext
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from catalog.models import Category, Listing, ListingStatus
from catalog.search import get_index
from catalog.search.documents import document_for, is_searchable
from market.core.jobs import handler
from market.extensions import db


def sync_listings(listing_ids: list[int]) -> None:
    """Make the index agree with the database for these listings (publish → add, anything else → remove)."""
    listings = {listing.id: listing for listing in db.session.scalars(
        select(Listing).where(Listing.id.in_(listing_ids)).options(selectinload(Listing.category)))}
    present = [document_for(listings[i]) for i in listing_ids if is_searchable(listings.get(i))]
    absent = [i for i in listing_ids if not is_searchable(listings.get(i))]
    index = get_index()
    if present:
        index.index(present)
    if absent:
        index.delete(absent)


@handler("search.index_listing")
def index_listing(listing_id: int) -> None:
    """Job: (re)index one listing, or drop it from the index when it is no longer published."""
    sync_listings([int(listing_id)])


@handler("search.reindex_seller")
def reindex_seller(company_id: int) -> None:
    """Job: reindex a seller's listings (its credit grade or status changed)."""
    ids = list(db.session.scalars(select(Listing.id).where(Listing.seller_id == int(company_id))))
    if ids:
        sync_listings(ids)


@handler("search.reindex_category")
def reindex_category(category_id: int) -> None:
    """Job: reindex the listings of a category subtree (it was renamed, moved or its schema changed)."""
    tree = {int(category_id)}
    frontier = {int(category_id)}
    while frontier:
        frontier = set(db.session.scalars(select(Category.id).where(Category.parent_id.in_(frontier)))) - tree
        tree |= frontier
    ids = list(db.session.scalars(select(Listing.id).where(Listing.category_id.in_(tree))))
    if ids:
        sync_listings(ids)


def searchable_documents(chunk: int = 500) -> Iterator:
    """Every published listing's document, streamed in id order."""
    last = 0
    while True:
        batch = list(db.session.scalars(
            select(Listing).where(Listing.status == ListingStatus.PUBLISHED, Listing.id > last)
            .order_by(Listing.id).limit(chunk).options(selectinload(Listing.category))))
        if not batch:
            return
        for listing in batch:
            if is_searchable(listing):
                yield document_for(listing)
        last = batch[-1].id


@click.command("reindex")
@with_appcontext
def reindex_command() -> None:
    """Rebuild the search index from the database (safe while the site runs)."""
    index = get_index()
    if hasattr(index, "build_procs"):
        index.build_procs = max(1, min(4, os.cpu_count() or 1))  # a full rebuild analyses in parallel
    total = db.session.scalar(select(db.func.count(Listing.id)).where(Listing.status == ListingStatus.PUBLISHED))
    with click.progressbar(length=total or 0, label=f"indexing ({index.name})") as bar:
        count = index.replace_all(searchable_documents(), progress=bar.update)
    db.session.commit()  # the postgres backend writes in this transaction
    click.echo(f"indexed {count} listings")


@click.command("vocabulary-seed")
@with_appcontext
def vocabulary_seed_command() -> None:
    """Add the default trade vocabulary rows that are missing (operators edit them at /operator/vocabulary)."""
    from catalog.search.vocabulary import seed_vocabulary

    added = seed_vocabulary()
    db.session.commit()
    click.echo(f"added {added} vocabulary rows")
