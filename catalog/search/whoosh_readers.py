"""Readers of a Whoosh index shared safely by a process's threads, refreshed without ever failing a search.

Whoosh's own ``Searcher.refresh()`` closes the old searcher's segment readers at once, so another thread
still reading them gets ``ReaderClosed`` (a 500 under gunicorn ``--threads``); and a refresh that meets
a segment the writer has just merged away fails half-way. This pool replaces it:

* a search *leases* the newest view of the index (:meth:`ReaderPool.lease`) and returns it when done;
* a refresh, under a lock, reads the latest table of contents and builds a new view; the old one is
  retired and closed only when its last lease is returned — a search during an edit answers from the
  old view or the new one, never from a closed one;
* segment readers are shared between views by ``(segment id, deleted count)``: an edit reopens only
  the segments it touched (a new small segment, and the segment whose deletions grew), and a reader is
  closed when no view uses it any more;
* a view that cannot be opened (the writer merged segments between our reading the table of contents
  and opening them) is retried a few times; until then the last good view keeps answering.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from whoosh import index
from whoosh.index import TOC
from whoosh.reading import EmptyReader, MultiReader, SegmentReader
from whoosh.searching import Searcher

log = logging.getLogger(__name__)
OPEN_RETRIES = 6
CHECK_INTERVAL = 0.0  # seconds between looks at the index directory (0: before every search)

SegmentKey = tuple[str, int]


@dataclass(eq=False)
class View:
    """One generation of the index as a searcher, plus the segment readers it borrows."""

    generation: int
    searcher: Any
    keys: list[SegmentKey]
    users: int = 0
    retired: bool = False


@dataclass(eq=False)
class _Shared:
    reader: Any
    views: int = 0  # how many open views use this segment reader


@dataclass
class PoolStats:
    opened_views: int = 0
    closed_views: int = 0
    opened_segments: int = 0
    closed_segments: int = 0
    open_failures: int = 0
    extra: dict[str, int] = field(default_factory=dict)


class ReaderPool:
    """The views of one index directory in one process (see the module docstring)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._ix: Any = None
        self._current: View | None = None
        self._segments: dict[SegmentKey, _Shared] = {}
        self._last_check = 0.0
        self.stats = PoolStats()

    @contextmanager
    def lease(self) -> Iterator[View | None]:
        """The newest view for the duration of a ``with`` block (None while no index exists yet)."""
        view = self._acquire()
        try:
            yield view
        finally:
            if view is not None:
                self._release(view)

    def open_segments(self) -> int:
        """How many segment readers are open (tests check that retired ones are closed)."""
        with self._lock:
            return len(self._segments)

    # ---- internals (all under self._lock) ----
    def _acquire(self) -> View | None:
        with self._lock:
            now = time.monotonic()
            if self._current is None or now - self._last_check >= CHECK_INTERVAL:
                self._last_check = now
                self._refresh()
            if self._current is not None:
                self._current.users += 1
            return self._current

    def _release(self, view: View) -> None:
        with self._lock:
            view.users -= 1
            if view.retired and view.users == 0:
                self._close(view)

    def _latest_generation(self) -> int:
        if self._ix is None:
            if not index.exists_in(str(self.path)):
                return -1
            self._ix = index.open_dir(str(self.path), readonly=True)
        return int(self._ix.latest_generation())

    def _refresh(self) -> None:
        for attempt in range(OPEN_RETRIES):
            try:
                latest = self._latest_generation()
                if latest < 0 or (self._current is not None and self._current.generation == latest):
                    return
                self._install(self._open_view())
                return
            except Exception as exc:  # a racing merge: files vanish between listing and opening
                self.stats.open_failures += 1
                log.info("search index view not opened (%r), attempt %d", exc, attempt + 1)
                if attempt == OPEN_RETRIES - 1:
                    if self._current is None:
                        raise
                    log.warning("search answers from generation %d: %r", self._current.generation, exc)
                    return
                time.sleep(0.01 * (attempt + 1))

    def _open_view(self) -> View:
        toc = TOC.read(self._ix.storage, self._ix.indexname)
        readers: list[Any] = []
        keys: list[SegmentKey] = []
        opened: list[SegmentKey] = []
        try:
            for segment in toc.segments:
                key = (segment.segment_id(), segment.deleted_count())
                shared = self._segments.get(key)
                if shared is None:
                    shared = _Shared(SegmentReader(self._ix.storage, toc.schema, segment, generation=toc.generation))
                    self._segments[key] = shared
                    opened.append(key)
                    self.stats.opened_segments += 1
                readers.append(shared.reader)
                keys.append(key)
        except BaseException:
            for key in opened:  # nobody uses these yet
                self._segments.pop(key).reader.close()
            raise
        if not readers:
            reader: Any = EmptyReader(toc.schema)
        elif len(readers) == 1:
            reader = readers[0]
        else:
            reader = MultiReader(readers, generation=toc.generation)
        for key in keys:
            self._segments[key].views += 1
        self.stats.opened_views += 1
        # closereader=False: segment readers are closed by the pool, when no view borrows them.
        return View(toc.generation, Searcher(reader, fromindex=self._ix, closereader=False), keys)

    def _install(self, view: View) -> None:
        old, self._current = self._current, view
        if old is not None:
            old.retired = True
            if old.users == 0:
                self._close(old)

    def _close(self, view: View) -> None:
        self.stats.closed_views += 1
        for key in view.keys:
            shared = self._segments[key]
            shared.views -= 1
            if shared.views == 0:
                del self._segments[key]
                shared.reader.close()
                self.stats.closed_segments += 1
