"""The many-hosts backend: segmented tokens in a PostgreSQL tsvector with a GIN index.

Tokens come from the same jieba analysis as Whoosh, computed in Python at index time. We build the
tsvector from its literal form ('山西':1A '动力煤':2A ...) rather than ``to_tsvector('simple', ...)``:
PostgreSQL's parser would re-split the tokens, and whether it treats Chinese characters as letters
depends on the database's locale (under ``C`` it drops them). The literal keeps jieba's tokens exactly
and still carries positions and weights (title = A, body = D) for ``ts_rank``. Queries are tsquery
literals built from the same tokens, so no user text is ever parsed as query syntax.

Filters are SQL over the ``facet_terms`` array (GIN), ranges over ``spec_values`` (JSONB). A search is
one statement that reads each matching row once (see ``SEARCH_SQL``): facet counts group the matches
by the short ``facet_key`` (exact counts, few groups) instead of unnesting every term of every match,
and titles and summaries are read only for the page's rows. This backend needs PostgreSQL; on SQLite
it refuses to start.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Identity,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
    tuple_,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR, insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.schema import CreateTable

from catalog.search import vocabulary
from catalog.search.analysis import fuzzy_distance, highlight, is_latin_word, levenshtein, tokenize
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
from market.extensions import db

log = logging.getLogger(__name__)
STRUCTURAL = ("i:", "c:", "ci:", "co:")  # facet terms kept in facet_key (see SearchDocumentRow)
MAX_POSITION = 16383  # tsvector positions stop at 2^14 - 1
BATCH = 1000
LOAD_TABLE = "search_document_load"  # replace_all's temporary table
GIN_INDEXES = ("ix_search_document_tsv", "ix_search_document_facet_terms")
PREFER_WEIGHT = 10.0  # ts_rank stays below about 1: the preference orders the lots that match the words


class SearchDocumentRow(db.Model):
    """A listing as the postgres search backend sees it (derived data; ``jinshang reindex`` rebuilds it)."""

    __tablename__ = "search_document"

    listing_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    tsv = mapped_column(TSVECTOR().with_variant(Text(), "sqlite"), nullable=False)
    title_zh: Mapped[str] = mapped_column(String(200), nullable=False)
    title_en: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    summary: Mapped[str] = mapped_column(Text, nullable=False, default="")
    facet_terms = mapped_column(ARRAY(String(80)).with_variant(JSON(), "sqlite"), nullable=False)
    # For counting (filters use facet_terms and its GIN index): the structural terms (industry,
    # category path, city, county) as one short string, so facet counts are one GROUP BY over few
    # distinct keys, and the spec-bucket terms apart (unnested only when a page asks for spec facets).
    facet_key: Mapped[str] = mapped_column(Text, nullable=False, default="")
    spec_terms = mapped_column(ARRAY(String(80)).with_variant(JSON(), "sqlite"), nullable=False, default=list)
    spec_values = mapped_column(JSONB().with_variant(JSON(), "sqlite"), nullable=False)
    price_fen: Mapped[int] = mapped_column(BigInteger, nullable=False)
    published_ts: Mapped[int] = mapped_column(BigInteger, nullable=False)
    credit_score: Mapped[int] = mapped_column(Integer, nullable=False, default=-1)

    __table_args__ = (
        Index("ix_search_document_tsv", "tsv", postgresql_using="gin").ddl_if(dialect="postgresql"),
        Index("ix_search_document_facet_terms", "facet_terms", postgresql_using="gin").ddl_if(dialect="postgresql"),
        Index("ix_search_document_price_fen", "price_fen"),
        Index("ix_search_document_published_ts", "published_ts"),
    )


class SearchTerm(db.Model):
    """The Latin vocabulary of the index, for typo tolerance (stale words only widen a fuzzy match)."""

    __tablename__ = "search_term"

    term: Mapped[str] = mapped_column(String(64), primary_key=True)


def _lexeme(token: str) -> str:
    return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"


def tsvector_literal(title_tokens: list[str], body_tokens: list[str]) -> str:
    """``'山西':1A,5A '煤':3D`` — positions and weights, one entry per distinct token."""
    positions: dict[str, list[str]] = {}
    for offset, token in enumerate(title_tokens + body_tokens, start=1):
        weight = "A" if offset <= len(title_tokens) else "D"
        slot = positions.setdefault(token, [])
        if len(slot) < 8:  # a word's first few occurrences are all ts_rank needs
            slot.append(f"{min(offset, MAX_POSITION)}{weight}")
    return " ".join(f"{_lexeme(token)}:{','.join(marks)}" for token, marks in positions.items())


def row_for(doc: SearchDocument) -> dict[str, Any]:
    title_tokens = tokenize(f"{doc.title_zh} {doc.title_en}", "index")
    body_tokens = tokenize(doc.body, "index")
    return {
        "listing_id": doc.id, "tsv": tsvector_literal(title_tokens, body_tokens), "title_zh": doc.title_zh,
        "title_en": doc.title_en, "summary": doc.summary, "facet_terms": doc.facet_terms,
        "facet_key": " ".join(t for t in doc.facet_terms if t.startswith(STRUCTURAL)),
        "spec_terms": [t for t in doc.facet_terms if t.startswith("s:")],
        "spec_values": doc.numbers, "price_fen": doc.price_fen, "published_ts": doc.published_ts,
        "credit_score": -1 if doc.credit_score is None else doc.credit_score,
        "_latin": {t for t in title_tokens + body_tokens if is_latin_word(t) and len(t) <= 64},
    }


ORDER = {
    "relevance": "score DESC, listing_id DESC",
    "price_asc": "price_fen ASC, listing_id DESC",
    "price_desc": "price_fen DESC, listing_id DESC",
    "newest": "published_ts DESC, listing_id DESC",
    "credit": "credit_score DESC, score DESC, listing_id DESC",
}
SORT_COLUMNS = "price_fen, published_ts, credit_score"
PAGE_ORDER: dict[str, Callable[[Any], tuple[float, ...]]] = {  # ORDER again, for the page's few rows
    "relevance": lambda r: (-r.score, -r.listing_id),
    "price_asc": lambda r: (r.price_fen, -r.listing_id),
    "price_desc": lambda r: (-r.price_fen, -r.listing_id),
    "newest": lambda r: (-r.published_ts, -r.listing_id),
    "credit": lambda r: (-r.credit_score, -r.score, -r.listing_id),
}

# One statement, one pass over the matching rows: the matches (only the narrow columns that order
# and count them) are materialised once; the page is ordered from them and only its rows are joined
# back for titles and summary; facet counts group the same matches by facet_key. A row's "kind" says
# which part it belongs to: h = hit, f = facet key count, s = spec term count.
SEARCH_SQL = """
WITH m AS MATERIALIZED (
    SELECT listing_id, facet_key, {spec_column} {sort_columns}, {score} AS score
    FROM search_document WHERE {where}
), top AS (
    SELECT listing_id, {sort_columns}, score FROM m ORDER BY {order} LIMIT :limit OFFSET :offset
)
SELECT 'h' AS kind, d.listing_id, top.score, d.title_zh, d.title_en, d.summary, NULL AS term, 0 AS n,
       top.price_fen, top.published_ts, top.credit_score
FROM top JOIN search_document AS d USING (listing_id)
UNION ALL
SELECT 'f', NULL, NULL, NULL, NULL, NULL, facet_key, count(*), NULL, NULL, NULL FROM m GROUP BY facet_key
{spec_part}"""
SPEC_SQL = """UNION ALL
SELECT 's', NULL, NULL, NULL, NULL, NULL, t, count(*), NULL, NULL, NULL FROM m, unnest(m.spec_terms) AS t
WHERE t LIKE ANY(CAST(:spec_prefixes AS text[])) GROUP BY t"""


class PostgresIndex:
    """:class:`catalog.search.base.SearchIndex` in PostgreSQL (writes join the caller's transaction)."""

    name = "postgres"

    def __init__(self) -> None:
        if db.engine.dialect.name != "postgresql":
            raise RuntimeError("SEARCH_BACKEND=postgres needs a PostgreSQL database (DATABASE_URL)")

    # ---- writer side ----
    def _upsert(self, rows: list[dict[str, Any]], table: Table | None = None) -> None:
        """Insert or replace rows of ``search_document`` (or plainly insert into the load table)."""
        if not rows:
            return
        latin = sorted(set().union(*(row.pop("_latin") for row in rows)))
        if table is not None:
            db.session.execute(insert(table).values(rows))
        else:
            table = SearchDocumentRow.__table__
            stmt = insert(table).values(rows)
            columns = [c for c in table.c if c.name != "listing_id"]
            # A row whose every column is unchanged is not rewritten (no dead tuple, no GIN update):
            # edits of what is not searched (stock, views) cost the index nothing.
            stmt = stmt.on_conflict_do_update(
                index_elements=[table.c.listing_id],
                set_={c.name: stmt.excluded[c.name] for c in columns},
                where=tuple_(*columns).is_distinct_from(tuple_(*(stmt.excluded[c.name] for c in columns))),
            )
            db.session.execute(stmt)
        if latin:
            db.session.execute(insert(SearchTerm.__table__).values([{"term": t} for t in latin])
                               .on_conflict_do_nothing())

    def index(self, documents: Iterable[SearchDocument]) -> None:
        batch: list[dict[str, Any]] = []
        for doc in documents:
            batch.append(row_for(doc))
            if len(batch) >= BATCH:
                self._upsert(batch)
                batch = []
        self._upsert(batch)
        db.session.flush()

    def delete(self, ids: Iterable[int]) -> None:
        keys = [int(i) for i in ids]
        if keys:
            db.session.execute(text("DELETE FROM search_document WHERE listing_id = ANY(:ids)"), {"ids": keys})

    def replace_all(self, documents: Iterable[SearchDocument], progress: Callable[[int], None] | None = None) -> int:
        """Rebuild in one transaction (readers see the old rows until it commits).

        Rows go first into a temporary table, then into ``search_document`` ordered by ``facet_key``
        (industry, category path, region): a category's listings then share heap pages, so a
        category-filtered search reads a few hundred pages instead of one page per match (what
        ``CLUSTER`` does, without its exclusive lock). Later single-listing updates land anywhere;
        the next reindex restores the order. Finally the GIN pending lists are merged, so the first
        searches after a reindex do not scan them.
        """
        columns = [c.name for c in SearchDocumentRow.__table__.c]
        load = Table(LOAD_TABLE, MetaData(), *(Column(c.name, c.type) for c in SearchDocumentRow.__table__.c),
                     Column("seq", BigInteger, Identity()), prefixes=["TEMPORARY"],
                     postgresql_on_commit="DROP")
        db.session.execute(text(f"DROP TABLE IF EXISTS {LOAD_TABLE}"))
        db.session.execute(CreateTable(load))
        db.session.execute(text("DELETE FROM search_document"))
        count = 0
        batch: list[dict[str, Any]] = []
        for doc in documents:
            batch.append(row_for(doc))
            count += 1
            if len(batch) >= BATCH:
                self._upsert(batch, load)
                if progress:
                    progress(len(batch))
                batch = []
        self._upsert(batch, load)
        if progress and batch:
            progress(len(batch))
        names = ", ".join(columns)
        # The last copy of a listing given twice wins, as with index().
        db.session.execute(text(
            f"INSERT INTO search_document ({names}) SELECT {names} FROM ("  # noqa: S608 (our names)
            f"SELECT DISTINCT ON (listing_id) * FROM {LOAD_TABLE} ORDER BY listing_id, seq DESC"
            ") AS latest ORDER BY facet_key, listing_id"))
        db.session.execute(text(f"DROP TABLE {LOAD_TABLE}"))
        for name in GIN_INDEXES:
            try:
                with db.session.begin_nested():
                    db.session.execute(text("SELECT gin_clean_pending_list(CAST(:name AS regclass))"),
                                       {"name": name})
            except DBAPIError:  # not the index's owner: (auto)vacuum merges the pending list instead
                log.info("could not merge the pending list of %s", name)
        return count

    # ---- reader side ----
    def refresh(self) -> None:
        """Nothing to do: every query reads the committed rows."""

    def doc_count(self) -> int:
        return int(db.session.execute(text("SELECT count(*) FROM search_document")).scalar_one())

    def _expand(self, token: str) -> list[str]:
        """The token plus vocabulary words within its typo distance (Latin words only)."""
        distance = fuzzy_distance(token)
        if not distance:
            return [token]
        rows = db.session.execute(
            text("SELECT term FROM search_term WHERE term LIKE :prefix AND length(term) BETWEEN :low AND :high"),
            {"prefix": token[0] + "%", "low": len(token) - distance, "high": len(token) + distance},
        ).scalars()
        return [token, *(t for t in rows if t != token and levenshtein(t, token, distance) <= distance)]

    def _tsquery(self, query: list[Clause]) -> str:
        """AND of clauses; a clause ORs its options; an option ANDs its words; a word ORs its typo variants."""

        def word(token: str) -> str:
            return "(" + " | ".join(_lexeme(t) for t in self._expand(token)) + ")"

        return " & ".join("(" + " | ".join("(" + " & ".join(word(t) for t in option) + ")" for option in clause) + ")"
                          for clause in query)

    def _where(self, query: list[Clause], filters: Filters | None, ranges: Ranges | None
               ) -> tuple[list[str], dict[str, Any]]:
        clauses: list[str] = []
        params: dict[str, Any] = {}
        if query:
            params["tsq"] = self._tsquery(query)
            clauses.append("tsv @@ CAST(:tsq AS tsquery)")
        for n, group in enumerate(filter_groups(filters)):
            params[f"f{n}"] = group
            clauses.append(f"facet_terms && CAST(:f{n} AS varchar[])" if len(group) > 1
                           else f"facet_terms @> CAST(:f{n} AS varchar[])")
        for n, (key, (low, high)) in enumerate(clean_ranges(ranges).items()):
            column = "price_fen" if key == "price" else f"CAST(spec_values ->> :k{n} AS double precision)"
            params[f"k{n}"] = key
            if low is not None:
                params[f"lo{n}"] = low
                clauses.append(f"{column} >= :lo{n}")
            if high is not None:
                params[f"hi{n}"] = high
                clauses.append(f"{column} <= :hi{n}")
        return clauses or ["TRUE"], params

    def search(self, text_query: str = "", *, filters: Filters | None = None, ranges: Ranges | None = None,
               facets: Sequence[str] = (), sort: str = "relevance", page: int = 1,
               per_page: int = 20, prefer: Prefer | None = None) -> SearchResults:
        page, per_page = clean_paging(page, per_page)
        query, tokens = expand(text_query, vocabulary.current())
        preferences = clean_prefer(prefer)
        sort = clean_sort(sort, bool(tokens or preferences))
        clauses, params = self._where(query, filters, ranges)
        score = "ts_rank(tsv, CAST(:tsq AS tsquery))" if tokens and sort in ("relevance", "credit") else "0"
        for n, (key, (direction, low, high)) in enumerate(preferences.items()):
            # Up to PREFER_WEIGHT for the best value of a stated preference (低硫: the lowest St,d); ts_rank
            # is at most about 1, so the preference orders lots that match the words about equally well.
            value = f"CAST(spec_values ->> :pk{n} AS double precision)"
            share = f"(:ph{n} - {value})" if direction == "low" else f"({value} - :pl{n})"
            score += f" + {PREFER_WEIGHT} * COALESCE(LEAST(GREATEST({share} / :pw{n}, 0), 1), 0)"
            params.update({f"pk{n}": key, f"pl{n}": low, f"ph{n}": high, f"pw{n}": high - low})
        where = " AND ".join(clauses)
        prefixes = facet_prefixes(facets)
        spec_prefixes = [p.replace("_", r"\_") + "%" for key, p in prefixes.items() if key.startswith("spec.")]
        sql = SEARCH_SQL.format(
            spec_column="spec_terms," if spec_prefixes else "", sort_columns=SORT_COLUMNS,
            # ts_rank reads each match's tsvector: only when the order needs it
            score=score,
            where=where, order=ORDER[sort],
            spec_part=SPEC_SQL if spec_prefixes else "")
        rows = db.session.execute(text(sql), {**params, "limit": per_page, "offset": (page - 1) * per_page,
                                              "spec_prefixes": spec_prefixes}).all()
        # The UNION does not keep the page's order: restore it from the scores and sort columns.
        page_rows = sorted((r for r in rows if r.kind == "h"), key=PAGE_ORDER[sort])
        term_counts: dict[str, int] = {}
        total = 0
        for row in rows:
            if row.kind == "f":
                total += int(row.n)
                for term in row.term.split():
                    term_counts[term] = term_counts.get(term, 0) + int(row.n)
            elif row.kind == "s":
                term_counts[row.term] = int(row.n)
        hits = [Hit(id=r.listing_id, score=float(r.score), title_zh=r.title_zh, title_en=r.title_en,
                    highlights={"title": highlight(r.title_zh, tokens), "title_en": highlight(r.title_en, tokens),
                                "summary": highlight(r.summary, tokens)}) for r in page_rows]
        suggestions = suggest_query(text_query, self._known, self._correct) if total == 0 and tokens else []
        return SearchResults(total, page, per_page, hits, count_facets(term_counts, facets) if facets else {},
                             suggestions, tokens)

    def _known(self, token: str) -> bool:
        return bool(db.session.execute(
            text("SELECT EXISTS (SELECT 1 FROM search_document WHERE tsv @@ CAST(:q AS tsquery))"),
            {"q": _lexeme(token)}).scalar())

    def _correct(self, token: str) -> str | None:
        if len(token) < 3:
            return None
        candidates = db.session.execute(
            text("SELECT term FROM search_term WHERE term LIKE :p AND length(term) BETWEEN :lo AND :hi"),
            {"p": token[0] + "%", "lo": len(token) - 2, "hi": len(token) + 2}).scalars()
        close = sorted((levenshtein(t, token, 2), t) for t in candidates)
        return next((term for distance, term in close if distance <= 2 and self._known(term)), None)
