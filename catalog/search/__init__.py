"""Search: one :class:`SearchIndex` protocol, two backends chosen by ``SEARCH_BACKEND``.

``get_index()`` returns the application's backend (``whoosh`` by default, ``postgres`` for several
app hosts). Readers call ``search``; only the worker writes, through the jobs in ``catalog.search.tasks``.
"""

from __future__ import annotations

from flask import current_app

from catalog.search.base import SearchDocument, SearchIndex, SearchResults

__all__ = ["SearchDocument", "SearchIndex", "SearchResults", "get_index", "make_index", "prepare"]


def make_index(backend: str, *, index_dir: str | None = None) -> SearchIndex:
    """Build a backend by name (tests and the benchmark use this directly)."""
    if backend == "whoosh":
        from catalog.search.whoosh_backend import WhooshIndex

        return WhooshIndex(index_dir or current_app.config["SEARCH_INDEX_DIR"])
    if backend == "postgres":
        from catalog.search.postgres_backend import PostgresIndex

        return PostgresIndex()
    raise ValueError(f"unknown SEARCH_BACKEND {backend!r} (whoosh or postgres)")


def get_index() -> SearchIndex:
    """The application's search backend, one per process (a Whoosh searcher is reused and refreshed)."""
    state = current_app.extensions.setdefault("catalog_search", {})
    if "index" not in state:
        state["index"] = make_index(current_app.config["SEARCH_BACKEND"])
    return state["index"]


def prepare() -> None:
    """Before a process serves (wsgi.py): load the segmenter and the index's arrays.

    Under gunicorn ``--preload`` this runs once in the master and every forked worker shares the result
    (copy-on-write), so no user's first search pays for it and workers do not each hold a copy.
    """
    from catalog.search.analysis import warm_up

    warm_up()  # the vocabulary is not read here: no database access before the fork (one SELECT later)
    index = get_index()
    warm = getattr(index, "warm", None)
    if warm is not None:
        warm()
