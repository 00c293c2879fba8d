"""``jinshang ledger-check``: prove the ledger's invariants from the raw rows.

1. every journal entry balances (its postings sum to zero), has two or more legs, and every posting's
   currency matches its entry and its account;
2. no escrow-held (or payable) account is below zero;
3. per escrow, funded = released + refunded + held, derived from postings, and the escrow's counters
   agree with the ledger.
"""

from __future__ import annotations

from collections import defaultdict

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from market.core.money import format_fen as y
from market.extensions import db
from payments.ledger import JournalEntry, LedgerAccount, Posting, Purpose
from payments.models import Escrow


def find_violations() -> list[str]:
    """Every broken invariant, as a sentence an operator can act on (empty when all is well)."""
    problems: list[str] = []
    unbalanced = db.session.execute(
        select(Posting.entry_id, func.sum(Posting.amount_fen), func.count(Posting.id))
        .group_by(Posting.entry_id)
        .having((func.sum(Posting.amount_fen) != 0) | (func.count(Posting.id) < 2))
    )
    for entry_id, total, legs in unbalanced:
        problems.append(f"entry {entry_id} does not balance: postings sum to {total} over {legs} leg(s)")
    empty = db.session.scalars(select(JournalEntry.id).where(~JournalEntry.postings.any()))
    problems += [f"entry {entry_id} has no postings" for entry_id in empty]
    mixed = db.session.execute(
        select(Posting.id, Posting.entry_id).join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .join(LedgerAccount, LedgerAccount.id == Posting.account_id)
        .where((Posting.currency != JournalEntry.currency) | (Posting.currency != LedgerAccount.currency))
    )
    problems += [f"posting {pid} of entry {eid} is in another currency than its entry or account" for pid, eid in mixed]

    balances = db.session.execute(
        select(LedgerAccount.key, LedgerAccount.purpose, func.sum(Posting.amount_fen))
        .join(Posting, Posting.account_id == LedgerAccount.id).group_by(LedgerAccount.id)
    )
    for key, purpose, total in balances:
        if purpose in (Purpose.ESCROW_HELD, Purpose.SELLER_PAYABLE, Purpose.BUYER_REFUND) and -int(total) < 0:
            problems.append(f"account {key} is below zero: {y(-int(total))}")

    derived: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    rows = db.session.execute(
        select(LedgerAccount.escrow_id, JournalEntry.kind, func.sum(Posting.amount_fen))
        .join(Posting, Posting.account_id == LedgerAccount.id).join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .where(LedgerAccount.purpose == Purpose.ESCROW_HELD).group_by(LedgerAccount.escrow_id, JournalEntry.kind)
    )
    for escrow_id, kind, total in rows:
        derived[escrow_id][kind] += int(total)
    for escrow in db.session.scalars(select(Escrow).order_by(Escrow.id)):
        d = derived.get(escrow.id, {})
        funded, released, refunded = -d.get("funding", 0), d.get("release", 0), d.get("refund", 0)
        held = -sum(d.values())
        if funded != released + refunded + held:
            problems.append(f"escrow {escrow.reference}: funded {y(funded)} ≠ released {y(released)} + refunded "
                            f"{y(refunded)} + held {y(held)} (postings of another kind touch the escrow account)")
        counters = (escrow.funded_fen, escrow.released_fen, escrow.refunded_fen)
        if counters != (funded, released, refunded):
            problems.append(f"escrow {escrow.reference}: counters funded/released/refunded "
                            f"{' / '.join(map(y, counters))} disagree with the ledger "
                            f"{' / '.join(map(y, (funded, released, refunded)))}")
    return problems


@click.command("ledger-check")
@with_appcontext
def ledger_check_command() -> None:
    """Verify the ledger's invariants; exit 1 and list every violation if any is broken."""
    problems = find_violations()
    entries = db.session.scalar(select(func.count(JournalEntry.id)))
    escrows = db.session.scalar(select(func.count(Escrow.id)))
    if problems:
        click.echo(f"ledger-check: {len(problems)} violation(s) in {entries} entries / {escrows} escrows:", err=True)
        for problem in problems:
            click.echo(f"  - {problem}", err=True)
        raise SystemExit(1)
    click.echo(f"ledger-check: OK ({entries} entries, {escrows} escrows, all balanced)")
