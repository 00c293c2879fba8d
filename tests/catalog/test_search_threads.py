"""Search reads never fail: real threads search one process's Whoosh index while a worker-style writer
(another index object on the same directory, as ``jinshang worker`` is another process) commits edits,
deletions and merges. Every search answers from the old or the new view — never ReaderClosed, never an
exception — and retired segment readers are closed once no thread uses them.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from pathlib import Path

from catalog.search import make_index
from catalog.search.base import SearchDocument
from catalog.search.whoosh_backend import WhooshIndex

READERS = 4
WRITES = 40
BASE = 300


def _doc(n: int, word: str = "动力煤") -> SearchDocument:
    city = ("140200", "140600", "141100")[n % 3]
    return SearchDocument(n, f"{word} {n}号 Q5500", "thermal coal", "山西 煤炭", "", ["all", "i:coal", "c:1", "c:2",
                          f"ci:{city}", f"s:qnet_ar={5000 + 500 * (n % 2)}"], {"qnet_ar": 5000.0 + 100 * (n % 9)},
                          10_000 + n, 1_700_000_000 + n, 60)


def test_threads_search_while_the_writer_commits(app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = str(tmp_path / "index")
    writer = make_index("whoosh", index_dir=path)
    writer.index([_doc(n) for n in range(1, BASE + 1)])
    reader = make_index("whoosh", index_dir=path)
    assert isinstance(reader, WhooshIndex)
    assert reader.search("动力煤").total == BASE

    errors: list[BaseException] = []
    totals: list[int] = []
    searches = [0]
    done = threading.Event()

    def search_loop(worker: int) -> None:
        queries = [("动力煤", {}), ("coal", {"city": ["140200"]}), ("", {"category": ["2"]}), ("thermel", {})]
        n = worker
        while not done.is_set():
            text, filters = queries[n % len(queries)]
            n += 1
            try:
                results = reader.search(text, filters=filters, facets=("category", "city", "spec.qnet_ar"),
                                        page=1 + n % 3, per_page=10)
                if text == "动力煤" and not filters:
                    totals.append(results.total)
                searches[0] += 1
            except BaseException as exc:
                errors.append(exc)
                return

    threads = [threading.Thread(target=search_loop, args=(n,)) for n in range(READERS)]
    for thread in threads:
        thread.start()
    try:
        for round_ in range(WRITES):
            n = 1 + round_ * 7 % BASE
            if round_ % 5 == 4:
                writer.delete([n])  # a deletion alone
                writer.index([_doc(n)])  # and back
            else:
                writer.index([replace(_doc(n), title_zh=f"动力煤 {n}号 改{round_}")])  # an edit: delete + add
            if round_ % 13 == 12:
                writer.optimize()  # a merge: every segment replaced while threads read
            time.sleep(0.005)
    finally:
        done.set()
        for thread in threads:
            thread.join(timeout=30)

    assert not errors, repr(errors[:3])
    assert searches[0] > WRITES  # the readers really ran alongside the writer
    # Every answer came from a consistent view: BASE listings, or BASE - 1 between a delete and re-add.
    assert set(totals) <= {BASE, BASE - 1}, sorted(set(totals))
    final = reader.search("改38")  # round 39 deleted and re-added; 38 was the last edit
    assert final.total == 1  # the last edit is visible
    pool = reader._readers  # retired views were closed: only the current view's segments stay open
    with pool.lease() as view:
        assert view is not None
        assert pool.open_segments() == len(view.keys)
    assert pool.stats.closed_views >= 1
    assert pool.stats.closed_segments >= 1


def test_a_view_in_use_is_not_closed_by_a_refresh(app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The exact race of the 500: a thread holds a view while another refreshes past it."""
    path = str(tmp_path / "index")
    writer = make_index("whoosh", index_dir=path)
    writer.index([_doc(1), _doc(2)])
    reader = make_index("whoosh", index_dir=path)
    assert isinstance(reader, WhooshIndex)
    with reader._readers.lease() as held:
        assert held is not None
        writer.optimize()  # replaces the segment the held view reads
        writer.delete([1])
        assert reader.search("动力煤").total == 1  # another search sees the new view
        assert held.searcher.doc_count() == 2  # the held view still reads, its readers still open
        assert held.searcher.stored_fields(0)["id"] in {"1", "2"}
    with reader._readers.lease() as view:
        assert view is not None
        assert view.generation > held.generation
        assert reader._readers.open_segments() == len(view.keys)  # the old one closed on release
