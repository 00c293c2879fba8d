"""The baseline of ``bench/search.py``: a plain Whoosh + jieba search, as a straightforward app writes it.

Whoosh's own QueryParser (AND of words over title and body, BM25F), ``groupedby`` facets counted by
Whoosh, filters and price ranges as Whoosh queries, one ``refresh()`` per search. Same documents and
analyzer as the app, none of its engine, reader pool or vocabulary.
"""

from __future__ import annotations

from typing import Any

from whoosh import fields, index, sorting
from whoosh.qparser import AndGroup, MultifieldParser
from whoosh.query import And, NumericRange, Or, Term

from catalog.search.analysis import jieba_analyzer
from catalog.search.base import SearchDocument


def plain_schema() -> fields.Schema:
    analyzer = jieba_analyzer()
    return fields.Schema(id=fields.ID(stored=True, unique=True),
                         title=fields.TEXT(analyzer=analyzer, stored=True, field_boost=2.0),
                         body=fields.TEXT(analyzer=analyzer), summary=fields.STORED,
                         category=fields.KEYWORD(stored=False), city=fields.ID(), county=fields.ID(),
                         price=fields.NUMERIC(int, bits=64, sortable=True))


def plain_fields(doc: SearchDocument) -> dict[str, Any]:
    terms = doc.facet_terms
    return {"id": str(doc.id), "title": f"{doc.title_zh} {doc.title_en}", "body": doc.body, "summary": doc.summary,
            "category": " ".join(t[2:] for t in terms if t.startswith("c:")),
            "city": next((t[3:] for t in terms if t.startswith("ci:")), ""),
            "county": next((t[3:] for t in terms if t.startswith("co:")), ""), "price": doc.price_fen}


def build_plain(path: str, docs: list[SearchDocument]) -> None:
    import os

    os.makedirs(path, exist_ok=True)
    ix = index.create_in(path, plain_schema())
    writer = ix.writer(limitmb=256)
    for doc in docs:
        writer.add_document(**plain_fields(doc))
    writer.commit()


class PlainWhoosh:
    def __init__(self, path: str) -> None:
        self.ix = index.open_dir(path)
        self.searcher = self.ix.searcher()
        self.parser = MultifieldParser(["title", "body"], self.ix.schema, group=AndGroup)
        self.facets = {name: sorting.FieldFacet(name, allow_overlap=name == "category")
                       for name in ("category", "city", "county")}

    def search(self, query: dict[str, Any]) -> Any:
        self.searcher = self.searcher.refresh()
        text = query["text"]
        parsed = self.parser.parse(text) if text.strip() else None
        filters = []
        for key, values in query["filters"].items():
            filters.append(Or([Term(key, v) for v in values]))
        for key, (low, high) in query["ranges"].items():
            if key == "price":
                filters.append(NumericRange("price", low, high))
        if parsed is None:
            from whoosh.query import Every

            parsed = Every()
        results = self.searcher.search(parsed, limit=20, groupedby=self.facets,
                                       filter=And(filters) if filters else None)
        return len(results), [hit["id"] for hit in results], {n: results.groups(n) for n in self.facets}
