"""Reconciliation: the ledger's provider clearing account against the rail's settlement lines.

A line the ledger does not know, or knows with another amount, is booked clearing ↔ suspense
(idempotently, keyed by the line) and reported; a ledger movement the rail does not show is reported
only (it may simply not have settled yet). Processing fees are reported as information.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column

from market.core import audit
from market.core.timeutil import UTCDateTime, utcnow
from market.extensions import db
from payments import ledger
from payments.ledger import ID, DuplicateEntry, JournalEntry, LedgerAccount, Posting, Purpose
from payments.providers import get_provider

RECONCILE_SOURCE = "reconcile"


class ReconciliationRun(db.Model):
    """One comparison of the ledger with a provider, and its differences (the operator report)."""

    __tablename__ = "reconciliation_run"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    provider: Mapped[str] = mapped_column(String(40), nullable=False, index=True)
    ran_at = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    matched: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    booked_to_suspense_fen: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    differences: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False, default=list)


def _ledger_by_ref(provider: str) -> tuple[dict[tuple[str, str], int], dict[tuple[str, str], int]]:
    """Clearing-account movements by (source_ref, currency): the rail's own, and earlier adjustments."""
    rows = db.session.execute(
        select(JournalEntry.source, JournalEntry.source_ref, Posting.currency, Posting.amount_fen)
        .join(Posting, Posting.entry_id == JournalEntry.id)
        .join(LedgerAccount, LedgerAccount.id == Posting.account_id)
        .where(LedgerAccount.purpose == Purpose.PROVIDER_CLEARING, LedgerAccount.provider == provider)
    )
    own: dict[tuple[str, str], int] = defaultdict(int)
    adjustments: dict[tuple[str, str], int] = defaultdict(int)
    prefix = f"{provider}:"
    for source, ref, currency, amount in rows:
        if source == provider:
            own[(ref, currency)] += amount
        elif source == RECONCILE_SOURCE and ref.startswith(prefix):
            adjustments[(ref[len(prefix):].removesuffix(":diff"), currency)] += amount
    return own, adjustments


def reconcile(provider_name: str) -> ReconciliationRun:
    """Compare, book differences to suspense, and store the report."""
    provider = get_provider(provider_name)
    own, adjustments = _ledger_by_ref(provider_name)
    differences: list[dict[str, Any]] = []
    matched = booked = 0
    for line in provider.settlement_lines():
        if line.kind == "fee":
            differences.append({"kind": "provider_fee", "line": line.line_ref, "amount_fen": line.amount_fen,
                                "currency": line.currency})
            continue
        expected = own.pop((line.object_ref, line.currency), 0) + adjustments.get((line.line_ref, line.currency), 0)
        gap = line.amount_fen - expected
        if gap == 0:
            matched += 1
            continue
        kind = "missing_in_ledger" if expected == 0 else "amount_differs"
        differences.append({"kind": kind, "line": line.line_ref, "object": line.object_ref, "currency": line.currency,
                            "provider_fen": line.amount_fen, "ledger_fen": expected, "difference_fen": gap})
        clearing = ledger.account(Purpose.PROVIDER_CLEARING, line.currency, provider=provider_name)
        suspense = ledger.account(Purpose.SUSPENSE, line.currency)
        try:
            ledger.post(RECONCILE_SOURCE, f"{provider_name}:{line.line_ref}:diff", "reconciliation", line.currency,
                        [(clearing, gap), (suspense, -gap)], memo=f"{kind} {line.object_ref}")
            booked += gap
        except DuplicateEntry:  # pragma: no cover - adjustments are folded into ``expected`` above
            pass
    for (ref, currency), amount in sorted(own.items()):
        if amount:
            differences.append({"kind": "missing_at_provider", "object": ref, "currency": currency,
                                "ledger_fen": amount})
    run = ReconciliationRun(provider=provider_name, matched=matched, booked_to_suspense_fen=booked,
                            differences=differences)
    db.session.add(run)
    db.session.flush()
    audit.record("payments.reconcile", "reconciliation_run", run.id,
                 after={"matched": matched, "differences": len(differences)})
    return run


def latest_runs(limit: int = 10) -> list[ReconciliationRun]:
    return list(db.session.scalars(select(ReconciliationRun).order_by(ReconciliationRun.id.desc()).limit(limit)))
