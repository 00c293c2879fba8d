"""The search protocol every backend implements, and the value types it speaks.

Documents are derived data: :func:`catalog.search.documents.document_for` turns a published listing
into a :class:`SearchDocument`; the worker writes them (job ``search.index_listing``); web processes
only call :meth:`SearchIndex.search`. Filters and facets are expressed as *facet terms*, the same in
every backend:

====================  =====================  =========================================
filter / facet key    facet term             meaning
====================  =====================  =========================================
``category``          ``c:<id>``             the category or any descendant
``industry``          ``i:<industry>``       coal / metallurgy / agriculture
``city``              ``ci:<code>``          prefecture-level city of origin (GB/T 2260)
``county``            ``co:<code>``          county of origin
``seller``            ``se:<company id>``    the seller (storefront search)
``spec.<key>``        ``s:<key>=<bucket>``   a spec facet bucket (``catalog.specs.bucket_for``)
====================  =====================  =========================================

Several values of one key are OR-ed; different keys are AND-ed. ``ranges`` bound ``price`` (fen) or a
numeric spec key: ``{"qnet_ar": (5500, None), "st_d": (None, 1.0)}``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from markupsafe import Markup

SORTS = ("relevance", "price_asc", "price_desc", "newest", "credit")
FACET_PREFIX = {"category": "c:", "industry": "i:", "city": "ci:", "county": "co:", "seller": "se:"}
COUNTED_FACETS = ("category", "industry", "city", "county")  # ``seller`` filters only
MAX_PAGE = 100  # deep paging is a crawler's habit; 100 pages of 20 is plenty for a person
MAX_PER_PAGE = 100


@dataclass
class SearchDocument:
    """What a backend stores about one listing."""

    id: int
    title_zh: str
    title_en: str = ""
    body: str = ""  # description, category names, seller name, text spec values
    summary: str = ""  # shown under the title in results
    facet_terms: list[str] = field(default_factory=list)  # see the module table
    numbers: dict[str, float] = field(default_factory=dict)  # numeric spec values by key
    price_fen: int = 0
    published_ts: int = 0  # seconds since the epoch
    credit_score: int | None = None


@dataclass
class Hit:
    id: int
    score: float
    title_zh: str
    title_en: str
    highlights: dict[str, Markup] = field(default_factory=dict)  # "title", "title_en", "summary"


@dataclass
class SearchResults:
    """One page of results with facet counts (``{"category": {"12": 30}, "spec.qnet_ar": {...}}``)."""

    total: int
    page: int
    per_page: int
    hits: list[Hit]
    facets: dict[str, dict[str, int]]
    suggestions: list[str]
    tokens: list[str]

    @property
    def pages(self) -> int:
        return min(MAX_PAGE, max(1, math.ceil(self.total / self.per_page)))

    def as_json(self) -> dict[str, Any]:
        return {
            "total": self.total, "page": self.page, "per_page": self.per_page, "pages": self.pages,
            "hits": [{"id": h.id, "score": round(h.score, 4), "title_zh": h.title_zh, "title_en": h.title_en,
                      "highlights": {k: str(v) for k, v in h.highlights.items()}} for h in self.hits],
            "facets": self.facets, "suggestions": self.suggestions, "tokens": self.tokens,
        }


Ranges = Mapping[str, tuple[float | None, float | None]]
Filters = Mapping[str, Sequence[str]]
Prefer = Mapping[str, tuple[str, float, float]]  # spec key → ("low" | "high", scale low, scale high)


@runtime_checkable
class SearchIndex(Protocol):
    """A full-text and faceted index of published listings."""

    name: str

    def index(self, documents: Iterable[SearchDocument]) -> None:
        """Add or replace documents (by id). Writer side only."""

    def delete(self, ids: Iterable[int]) -> None:
        """Remove documents; unknown ids are ignored. Writer side only."""

    def replace_all(self, documents: Iterable[SearchDocument], progress: Callable[[int], None] | None = None) -> int:
        """Rebuild from scratch with ``documents``; returns how many were indexed. Writer side only."""

    def refresh(self) -> None:
        """See the latest committed state (readers)."""

    def doc_count(self) -> int:
        """How many documents the index holds."""

    def search(self, text: str = "", *, filters: Filters | None = None, ranges: Ranges | None = None,
               facets: Sequence[str] = (), sort: str = "relevance", page: int = 1,
               per_page: int = 20, prefer: Prefer | None = None) -> SearchResults:
        """Search ``text`` (plain words, never query syntax) within ``filters``/``ranges``.

        Words are expanded through the trade vocabulary (synonyms, narrower kinds, pinyin) by
        :func:`catalog.search.understand.expand`, the same for every backend. ``prefer`` ranks lots by a
        numeric spec ("low" St,d first) on top of relevance; a lot without the value gets no bonus.

        Returns the page's hits (highlighted), the total, counts for each requested facet key
        (``category``, ``city``, ``county``, ``industry``, ``spec.<key>``) and, when nothing matched,
        spelling suggestions. Never raises for odd input: pages are clamped, unknown sorts fall back.
        """


def clean_paging(page: Any, per_page: Any) -> tuple[int, int]:
    """Clamp page numbers (``?page=99999999999``) and page sizes to what we serve."""
    try:
        page_n = int(page)
    except (TypeError, ValueError):
        page_n = 1
    try:
        size = int(per_page)
    except (TypeError, ValueError):
        size = 20
    return max(1, min(page_n, MAX_PAGE)), max(1, min(size, MAX_PER_PAGE))


def clean_sort(sort: str, has_text: bool) -> str:
    if sort not in SORTS:
        sort = "relevance"
    return "newest" if sort == "relevance" and not has_text else sort


def filter_groups(filters: Filters | None) -> list[list[str]]:
    """Filters as groups of facet terms: OR inside a group, AND between groups."""
    groups: list[list[str]] = []
    for key, values in (filters or {}).items():
        if isinstance(values, str):
            values = [values]
        values = [str(v) for v in values if str(v).strip()]
        if not values:
            continue
        if key.startswith("spec."):
            spec_key = key[5:]
            groups.append([f"s:{spec_key}={v}" for v in values])
        elif key in FACET_PREFIX:
            groups.append([FACET_PREFIX[key] + v for v in values])
    return groups


def facet_prefixes(facets: Sequence[str]) -> dict[str, str]:
    """Facet key → the facet-term prefix it counts."""
    result = {}
    for key in facets:
        if key.startswith("spec."):
            result[key] = f"s:{key[5:]}="
        elif key in COUNTED_FACETS:
            result[key] = FACET_PREFIX[key]
    return result


def count_facets(term_counts: Mapping[str, int], facets: Sequence[str]) -> dict[str, dict[str, int]]:
    """Split counts of facet terms into the requested facets, largest first."""
    prefixes = facet_prefixes(facets)
    result: dict[str, dict[str, int]] = {key: {} for key in prefixes}
    for term, count in term_counts.items():
        for key, prefix in prefixes.items():
            if term.startswith(prefix):
                result[key][term[len(prefix):]] = count
    return {key: dict(sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))) for key, values in result.items()}


def clean_prefer(prefer: Prefer | None) -> dict[str, tuple[str, float, float]]:
    """Keep well-formed preferences only (a direction, and a finite scale of non-zero width)."""
    result = {}
    for key, value in (prefer or {}).items():
        try:
            direction, low, high = value[0], float(value[1]), float(value[2])
        except (TypeError, ValueError, IndexError):
            continue
        if direction in ("low", "high") and math.isfinite(low) and math.isfinite(high) and high != low:
            result[str(key)] = (direction, low, high)
    return result


def clean_ranges(ranges: Ranges | None) -> dict[str, tuple[float | None, float | None]]:
    """Drop empty or non-finite bounds; swap reversed ones (a user typing 1.0–0.5 means 0.5–1.0)."""
    result = {}
    for key, (low, high) in (ranges or {}).items():
        low = low if isinstance(low, int | float) and math.isfinite(low) else None
        high = high if isinstance(high, int | float) and math.isfinite(high) else None
        if low is None and high is None:
            continue
        if low is not None and high is not None and low > high:
            low, high = high, low
        result[key] = (low, high)
    return result


def suggest_query(text: str, known: Callable[[str], bool], correct: Callable[[str], str | None]) -> list[str]:
    """A "did you mean" for a query with no hits: Latin typos corrected, words the index never saw dropped.

    ``known(token)`` says whether any document has the token; ``correct(token)`` proposes the closest
    indexed Latin word (or None). Both come from the backend, the logic is shared.
    """
    from catalog.search.analysis import is_latin_word, normalise, query_tokens

    kept: list[str] = []
    changed = False
    for word in normalise(text).split():
        tokens = query_tokens(word)
        if not tokens:
            continue
        if all(known(t) for t in tokens):
            kept.append(word)
            continue
        changed = True
        if len(tokens) == 1 and is_latin_word(tokens[0]):
            fix = correct(tokens[0])
            if fix:
                kept.append(fix)
            continue
        good = [t for t in tokens if known(t)]
        kept.extend(t for t in good if not any(t != other and t in other for other in good))
    suggestion = " ".join(dict.fromkeys(kept))
    return [suggestion] if changed and suggestion else []
