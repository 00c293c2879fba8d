"""The embedded default backend: a Whoosh index on local disk.

Whoosh allows one writer per index, so only the worker writes (jobs ``search.index_listing`` and
``search.reindex_seller``, and ``jinshang reindex``); a writer that meets the lock waits with backoff
and retries, so a LockError never reaches a user. Web processes open the index read-only: each search
leases the newest view from a :class:`~catalog.search.whoosh_readers.ReaderPool` (a look at the
directory when nothing changed), which is how an edit saved through one gunicorn worker becomes
visible through every other, and why a search during an edit, in any thread, never meets a closed reader.

Queries are evaluated by :mod:`catalog.search.whoosh_engine` (numpy over Whoosh's postings and
columns, cached per segment) rather than by Whoosh's matchers, which score and count one document at
a time in Python; typo variants come from Whoosh's lexicon, suggestions from its reader.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from whoosh import fields, index
from whoosh.index import LockError
from whoosh.reading import ReaderClosed
from whoosh.writing import CLEAR

from catalog.search import vocabulary
from catalog.search.analysis import fuzzy_distance, highlight, jieba_analyzer
from catalog.search.base import (
    Filters,
    Hit,
    Prefer,
    Ranges,
    SearchDocument,
    SearchResults,
    clean_paging,
    clean_prefer,
    clean_ranges,
    clean_sort,
    count_facets,
    facet_prefixes,
    filter_groups,
    suggest_query,
)
from catalog.search.understand import Clause, expand
from catalog.search.whoosh_engine import NEAR_WEIGHT, TEXT_FIELDS, Engine, Plan, TextClause
from catalog.search.whoosh_readers import ReaderPool, View

log = logging.getLogger(__name__)
WRITE_TIMEOUT = 120.0  # seconds a writer keeps retrying a held lock before the job is retried later
READ_RETRIES = 4


def make_schema() -> fields.Schema:
    analyzer = jieba_analyzer()
    schema = fields.Schema(
        id=fields.ID(stored=True, unique=True),
        title=fields.TEXT(analyzer=analyzer, phrase=False, field_boost=2.0),
        body=fields.TEXT(analyzer=analyzer, phrase=False),
        facets=fields.KEYWORD(lowercase=False, scorable=False),
        price=fields.NUMERIC(int, bits=64, sortable=True),
        published=fields.NUMERIC(int, bits=64, sortable=True),
        credit=fields.NUMERIC(int, sortable=True),
        title_zh=fields.STORED,
        title_en=fields.STORED,
        summary=fields.STORED,
        digest=fields.STORED,  # of the indexed fields: an edit that changes none of them is not written
    )
    schema.add("n_*", fields.NUMERIC(float, bits=64), glob=True)
    return schema


def _digest(values: dict[str, Any]) -> str:
    return hashlib.blake2b(repr(sorted(values.items())).encode(), digest_size=12).hexdigest()


def _fields(doc: SearchDocument) -> dict[str, Any]:
    values: dict[str, Any] = {
        "id": str(doc.id), "title": f"{doc.title_zh} {doc.title_en}", "body": doc.body,
        "facets": " ".join(doc.facet_terms),
        "price": int(doc.price_fen), "published": int(doc.published_ts),
        "credit": -1 if doc.credit_score is None else int(doc.credit_score),
        "title_zh": doc.title_zh, "title_en": doc.title_en, "summary": doc.summary,
    }
    for key, number in doc.numbers.items():
        values[f"n_{key}"] = float(number)
    values["digest"] = _digest(values)
    return values


class WhooshIndex:
    """:class:`catalog.search.base.SearchIndex` on Whoosh (see the module docstring for the rules)."""

    name = "whoosh"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._readers = ReaderPool(self.path)
        self.build_procs = 1
        self._read_lock = threading.Lock()
        self._engine = Engine()
        self._near_cache: dict[tuple[Any, ...], list[str]] = {}

    # ---- writer side (the worker) ----
    def _open_for_writing(self) -> index.Index:
        self.path.mkdir(parents=True, exist_ok=True)
        # Creating an index is not covered by Whoosh's write lock: serialise it with a file lock.
        with (self.path / ".create.lock").open("w") as guard:
            fcntl.flock(guard, fcntl.LOCK_EX)
            try:
                if not index.exists_in(str(self.path)):
                    return index.create_in(str(self.path), make_schema())
                return index.open_dir(str(self.path))
            finally:
                fcntl.flock(guard, fcntl.LOCK_UN)

    def _writer(self, **options: Any) -> Any:
        """A writer, waiting with exponential backoff (and jitter) while another process holds the lock."""
        ix = self._open_for_writing()
        delay, deadline = 0.05, time.monotonic() + WRITE_TIMEOUT
        while True:
            try:
                return ix.writer(**options)
            except LockError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(delay + random.uniform(0, delay))  # noqa: S311 (jitter, not security)
                delay = min(delay * 2, 1.0)

    def _write(self, work: Callable[[Any], None], writer_options: dict[str, Any] | None = None,
               **commit_args: Any) -> None:
        writer = self._writer(**(writer_options or {}))
        try:
            work(writer)
        except BaseException:
            writer.cancel()
            raise
        writer.commit(**commit_args)

    def index(self, documents: Iterable[SearchDocument]) -> None:
        """Add or replace documents; one whose indexed fields did not change is skipped (no commit at
        all when none changed), so edits of what is not searched cost the readers nothing."""
        changed = self._changed([_fields(doc) for doc in documents])
        if not changed:
            return

        def work(writer: Any) -> None:
            known = set(writer.schema.names())
            for values in changed:
                writer.update_document(**{k: v for k, v in values.items() if k in known or k.startswith("n_")})

        self._write(work)

    def _changed(self, batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
        with self._readers.lease() as view:
            if view is None:
                return batch
            with self._read_lock:
                stored = {values["id"]: view.searcher.document(id=values["id"]) for values in batch}
        return [values for values in batch if (stored[values["id"]] or {}).get("digest") != values["digest"]]

    def delete(self, ids: Iterable[int]) -> None:
        def work(writer: Any) -> None:
            for doc_id in ids:
                writer.delete_by_term("id", str(doc_id))

        self._write(work)

    def replace_all(self, documents: Iterable[SearchDocument], progress: Callable[[int], None] | None = None) -> int:
        count = 0

        def work(writer: Any) -> None:
            nonlocal count
            for doc in documents:
                writer.add_document(**_fields(doc))
                count += 1
                if progress:
                    progress(1)

        # CLEAR: the new segments replace every old one in a single commit; readers switch at once.
        # build_procs > 1 (jinshang reindex, the benchmark) analyses in that many processes, one segment each.
        options = {"procs": self.build_procs, "multisegment": True, "limitmb": 256} if self.build_procs > 1 else {}
        self._write(work, options, mergetype=CLEAR)
        return count

    def optimize(self) -> None:
        self._write(lambda writer: None, optimize=True)

    # ---- reader side (web processes) ----
    def refresh(self) -> None:
        with self._readers.lease():
            pass

    def warm(self) -> None:
        """Open the newest view and build the arrays every search needs (see catalog.search.prepare)."""
        with self._readers.lease() as view:
            if view is not None:
                with self._read_lock:
                    self._engine.warm(view.searcher, view.generation)

    def doc_count(self) -> int:
        with self._readers.lease() as view:
            return view.searcher.doc_count() if view is not None else 0

    def search(self, text: str = "", *, filters: Filters | None = None, ranges: Ranges | None = None,
               facets: Sequence[str] = (), sort: str = "relevance", page: int = 1,
               per_page: int = 20, prefer: Prefer | None = None) -> SearchResults:
        page, per_page = clean_paging(page, per_page)
        clauses, tokens = expand(text, vocabulary.current())
        prefer = clean_prefer(prefer)
        sort = clean_sort(sort, bool(tokens or prefer))
        empty = SearchResults(0, page, per_page, [], {k: {} for k in facet_prefixes(facets)}, [], tokens)
        for attempt in range(READ_RETRIES):
            try:
                with self._readers.lease() as view:
                    if view is None:
                        return empty
                    return self._search(view, text, (clauses, tokens), filters, ranges, facets, sort, page,
                                        per_page, prefer)
            except ReaderClosed:  # cannot happen through the pool; kept as the last line of defence
                log.warning("search met a closed reader (attempt %d)", attempt + 1)
        return empty

    def _search(self, view: View, text: str, query: tuple[list[Clause], list[str]], filters: Filters | None,
                ranges: Ranges | None, facets: Sequence[str], sort: str, page: int, per_page: int,
                prefer: dict[str, tuple[str, float, float]]) -> SearchResults:
        searcher = view.searcher
        clauses, tokens = query
        # One thread at a time reads the index's files through the shared readers (Whoosh's readers
        # are not documented thread-safe); analysis and highlighting run outside the lock.
        with self._read_lock:
            plan = Plan(words=self._words(searcher, clauses, view.generation), groups=filter_groups(filters),
                        ranges={("price" if key == "price" else f"n_{key}"): bounds
                                for key, bounds in clean_ranges(ranges).items()},
                        sort=sort, limit=page * per_page, facets=bool(facets),
                        prefer=[(f"n_{key}", direction, low, high) for key, (direction, low, high) in prefer.items()])
            outcome = self._engine.run(searcher, plan, view.generation)
            start = (page - 1) * per_page
            page_docs = list(zip(outcome.docnums[start:], outcome.scores[start:], strict=True))
            stored_page = [(searcher.stored_fields(docnum), score) for docnum, score in page_docs]
            suggestions = self._suggest(searcher, text) if outcome.total == 0 and tokens else []
        hits = []
        for stored, score in stored_page:
            title_zh, title_en = stored.get("title_zh", ""), stored.get("title_en", "")
            hits.append(Hit(id=int(stored["id"]), score=score, title_zh=title_zh, title_en=title_en,
                            highlights={"title": highlight(title_zh, tokens), "title_en": highlight(title_en, tokens),
                                        "summary": highlight(stored.get("summary", ""), tokens)}))
        facet_counts = count_facets(outcome.facet_terms, facets) if facets else {}
        return SearchResults(outcome.total, page, per_page, hits, facet_counts, suggestions, tokens)

    def _words(self, searcher: Any, clauses: list[Clause], generation: int) -> list[TextClause]:
        """Each clause's words as their exact terms in title and body plus, for Latin words, typo variants."""
        reader = searcher.reader()

        def alternatives(token: str) -> list[tuple[str, str, float]]:
            found = [(name, token, 1.0) for name in TEXT_FIELDS]
            distance = fuzzy_distance(token)
            if distance:
                found += [(name, near, NEAR_WEIGHT) for name in TEXT_FIELDS
                          for near in self._near(reader, generation, name, token, distance) if near != token]
            return found

        return [TextClause([[alternatives(token) for token in option] for option in clause]) for clause in clauses]

    def _near(self, reader: Any, generation: int, fieldname: str, token: str, distance: int) -> list[str]:
        """Indexed words within ``distance`` edits (sharing the first letter), cached per segment: an edit
        (a new small segment) looks only through the new segment's lexicon."""
        found: set[str] = set()
        leaves = [leaf for leaf, _offset in reader.leaf_readers()] if not reader.is_atomic() else [reader]
        for leaf in leaves:
            segment = leaf.segment() if hasattr(leaf, "segment") else None
            if segment is None:  # an empty or in-memory reader: nothing to cache it under
                found.update(leaf.terms_within(fieldname, token, distance, prefix=1))
                continue
            key = (segment.segment_id(), fieldname, token, distance)
            words = self._near_cache.get(key)
            if words is None:
                if len(self._near_cache) > 8192:
                    self._near_cache.clear()
                words = self._near_cache[key] = list(leaf.terms_within(fieldname, token, distance, prefix=1))
            found.update(words)
        return sorted(found)

    @staticmethod
    def _suggest(searcher: Any, text: str) -> list[str]:
        reader = searcher.reader()

        def frequency(token: str) -> int:
            return sum(reader.doc_frequency(f, token) for f in ("title", "body"))

        def correct(token: str) -> str | None:
            if len(token) < 3:
                return None
            candidates = {t for f in ("title", "body") for t in reader.terms_within(f, token, 2, prefix=1)}
            return max(sorted(candidates), key=frequency) if candidates else None

        return suggest_query(text, lambda token: frequency(token) > 0, correct)
