"""The one transition kernel: every lifecycle (order, lot, RFQ, quote, dispute, escrow, payout, listing,
verification, …) moves a row with :meth:`Lifecycle.move` and nothing else writes a status column.

A move is a conditional ``UPDATE <table> SET <status> = :to WHERE id = :id AND <status> = :from``. Two
requests that both read ``from`` can never both leave it: on PostgreSQL the second UPDATE waits for the
first to commit, re-reads the row and matches nothing; on SQLite writers are serialised
(``BEGIN IMMEDIATE``) and the row no longer says ``from``. The loser gets :class:`StaleState` (409) and
its request rolls back whole, so side effects written after the move (stock, escrow, notifications,
jobs) happen exactly once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from flask import has_request_context
from sqlalchemy import inspect, update
from sqlalchemy.orm.attributes import set_committed_value

from market.core import audit
from market.core.errors import Conflict, InvalidTransition
from market.extensions import db

ANYONE = "*"
_REGISTRY: dict[str, Lifecycle] = {}
# called after every move, in its transaction: (lifecycle, obj, from, to). Higher layers subscribe
# (credit recomputes scores when an order moves) without the kernel knowing them.
_LISTENERS: list[Callable[[Lifecycle, Any, str, str], None]] = []


def on_move(callback: Callable[[Lifecycle, Any, str, str], None]) -> Callable[[Lifecycle, Any, str, str], None]:
    """Register ``callback`` for every move of every lifecycle (it filters by ``lifecycle.name``)."""
    if callback not in _LISTENERS:
        _LISTENERS.append(callback)
    return callback


class StaleState(Conflict):
    """Another request moved the object first (it no longer is in the state this request read)."""

    code = "stale_state"

    def __init__(self) -> None:
        super().__init__("Someone else changed this a moment ago. Please reload the page and try again.")


class Lifecycle:
    """One lifecycle: its transition table and the column that holds the state.

    ``table`` maps ``(from, to)`` to the parties allowed to make the move (``{ANYONE}`` for moves that
    the calling service guards itself, such as escrow postings). ``labels`` name states for messages.
    ``snapshot`` gives the audit row's before/after (default: the state alone).
    """

    def __init__(self, name: str, model: type, table: Mapping[tuple[str, str], Iterable[str]], *,
                 column: str = "status", labels: Mapping[str, Any] | None = None,
                 snapshot: Callable[[Any], dict[str, Any]] | None = None) -> None:
        self.name, self.model, self.column = name, model, column
        self.table: dict[tuple[str, str], frozenset[str]] = {k: frozenset(v) for k, v in table.items()}
        self.labels = dict(labels or {})
        self.snapshot = snapshot
        self.states = frozenset(s for pair in self.table for s in pair)
        _REGISTRY[name] = self

    # ---- reading the table ----
    def allows(self, current: str, to: str, party: str = ANYONE) -> bool:
        """Whether the table has the move; for a named ``party``, whether that party may make it.

        ``party=ANYONE`` is for services that decide who acts themselves (an inspection agency, a
        webhook): only the move is checked."""
        who = self.table.get((current, to))
        return who is not None and (party == ANYONE or ANYONE in who or party in who)

    def can(self, obj: Any, to: str, party: str = ANYONE) -> bool:
        """Whether ``party`` may move ``obj`` to ``to`` now (to show or hide a button)."""
        return self.allows(getattr(obj, self.column), to, party)

    def targets(self, obj: Any, party: str = ANYONE) -> list[str]:
        current = getattr(obj, self.column)
        return [to for (frm, to) in self.table if frm == current and self.allows(frm, to, party)]

    def label(self, state: str) -> str:
        """The state's name in the reader's language (English outside a request: jobs, the CLI)."""
        label = self.labels.get(state, state)
        if not has_request_context() and hasattr(label, "_args"):  # a lazy string needs a locale
            return str(label._args[0])
        return str(label)

    # ---- the one write ----
    def move(self, obj: Any, to: str, *, party: str = ANYONE, actor_company_id: int | None = None,
             actor_user_id: int | None = None, note: str | None = None, action: str | None = None,
             audit_row: bool = True, **fields: Any) -> str:
        """Move ``obj`` to ``to`` as ``party``; returns the state it left.

        Raises :class:`InvalidTransition` (409) for a move the table does not allow and
        :class:`StaleState` (409) when another transaction moved the row first. ``fields`` are other
        columns set with the move (timestamps, reasons).
        """
        current = getattr(obj, self.column)
        if not self.allows(current, to, party):
            raise InvalidTransition("This cannot go from “%(src)s” to “%(dst)s”.", src=self.label(current),
                                    dst=self.label(to))
        before = self.snapshot(obj) if self.snapshot else {self.column: current}
        pk = inspect(self.model).primary_key[0]
        status_col = getattr(self.model, self.column)
        db.session.flush()  # pending changes first, so the UPDATE below and the ORM agree on order
        result = db.session.execute(
            update(self.model).where(pk == getattr(obj, pk.key), status_col == current)
            .values({self.column: to}).execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            raise StaleState()
        set_committed_value(obj, self.column, to)
        for key, value in fields.items():
            setattr(obj, key, value)
        if fields:
            db.session.flush()
        if audit_row:
            after = self.snapshot(obj) if self.snapshot else {self.column: to}
            audit.record(action or f"{self.name}.{to}", self.name, getattr(obj, pk.key),
                         actor_company_id=actor_company_id, actor_user_id=actor_user_id,
                         before=before, after=after, note=note)
        for listener in _LISTENERS:
            listener(self, obj, current, to)
        return current


def lock(obj: Any) -> Any:
    """Re-read ``obj`` under a row lock (PostgreSQL) before a read-check-write that is not a status move,
    e.g. two parties signing one contract at once. SQLite serialises writers (``BEGIN IMMEDIATE``)."""
    if db.engine.dialect.name == "postgresql":
        db.session.refresh(obj, with_for_update=True)
    return obj


def lifecycles() -> dict[str, Lifecycle]:
    """Every registered lifecycle, by name (for tests and documentation)."""
    return dict(_REGISTRY)
