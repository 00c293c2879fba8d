"""Edits cost what they change: stock moves do not re-index a listing unless it crosses zero, and a
re-index that changes no indexed field writes nothing (Whoosh: no new generation; PostgreSQL: no update).
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select, text

from catalog import stock
from catalog.search import make_index
from catalog.search.base import SearchDocument
from market.core.jobs import Job
from tests.catalog.test_search_contract import BACKENDS, DOCS
from tests.factories import make_listing


def _jobs(db) -> list[str]:  # type: ignore[no-untyped-def]
    return list(db.session.scalars(select(Job.kind).where(Job.kind == "search.index_listing")))


def test_stock_moves_reindex_only_across_zero(db) -> None:  # type: ignore[no-untyped-def]
    listing = make_listing(available_quantity="100")
    db.session.commit()
    assert _jobs(db) == []
    stock.reserve(listing.id, Decimal(30))
    stock.release(listing.id, Decimal(10))
    assert _jobs(db) == []  # 100 → 70 → 80: nothing searchable changed
    stock.reserve(listing.id, Decimal(80))  # → 0: sold out, leaves the index
    assert _jobs(db) == ["search.index_listing"]
    stock.release(listing.id, Decimal(5))  # → 5: on sale again, back in the index
    assert _jobs(db) == ["search.index_listing", "search.index_listing"]


@pytest.fixture(params=BACKENDS)
def index(request: pytest.FixtureRequest, app, tmp_path: Path):  # type: ignore[no-untyped-def]
    return make_index(request.param, index_dir=str(tmp_path / "index"))


def test_unchanged_documents_are_not_rewritten(index, db) -> None:  # type: ignore[no-untyped-def]
    index.index(DOCS)
    db.session.commit()
    index.refresh()

    def version() -> object:
        if index.name == "whoosh":
            with index._readers.lease() as view:
                return view.generation
        return db.session.execute(text("SELECT sum(xmin::text::bigint) FROM search_document")).scalar_one()

    before = version()
    index.index([replace(doc) for doc in DOCS])  # the same documents again
    db.session.commit()
    assert version() == before
    changed: SearchDocument = replace(DOCS[0], price_fen=DOCS[0].price_fen + 100)
    index.index([changed, DOCS[1]])
    db.session.commit()
    assert version() != before
    assert [h.id for h in index.search("", sort="price_desc", per_page=5).hits][2] == 1
