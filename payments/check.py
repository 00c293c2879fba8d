"""``jinshang ledger-check``: prove the ledger's invariants from the raw rows.

1. every journal entry balances (its postings sum to zero), has two or more legs, and every posting's
   currency matches its entry and its account;
2. no escrow-held (or payable) account is below zero;
3. per escrow, funded = released + refunded + held, derived from postings, and the escrow's counters
   agree with the ledger;
4. per escrow, what was released and refunded agrees with a third, independent source: the payout rows
   (released = seller payouts + platform fee, refunded = buyer refunds);
5. every imported statement line is booked: a ledger entry for the line moved exactly its amount through
   the bank clearing account, a line the operator cleared has the clearing entry too, and a duplicate
   names an earlier line;
6. every payout marked sent or paid has a destination account;
7. checks registered by higher layers (:func:`register_check`; orders: settled = released = ledger).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from market.core.money import format_fen as y
from market.extensions import db
from payments.ledger import JournalEntry, LedgerAccount, Posting, Purpose
from payments.models import Escrow, LineStatus, Payout, PayoutKind, PayoutStatus, StatementLine

_CHECKS: list[Callable[[], list[str]]] = []
BANK = "bank_transfer"


def register_check(check: Callable[[], list[str]]) -> None:
    """A higher layer adds its own agreement check (payments may not import it)."""
    if check not in _CHECKS:
        _CHECKS.append(check)


def _payouts_agree() -> list[str]:
    problems = []
    sums: dict[tuple[int, str], int] = defaultdict(int)
    for escrow_id, kind, total in db.session.execute(
            select(Payout.escrow_id, Payout.kind, func.sum(Payout.amount_fen)).where(Payout.escrow_id.is_not(None))
            .group_by(Payout.escrow_id, Payout.kind)):
        sums[(escrow_id, kind)] = int(total)
    for escrow in db.session.scalars(select(Escrow).order_by(Escrow.id)):
        paid_out = sums[(escrow.id, PayoutKind.PAYOUT)] + escrow.fee_fen
        if paid_out != escrow.released_fen:
            problems.append(f"escrow {escrow.reference}: released {escrow.released_fen} ≠ seller payouts + fee "
                            f"{paid_out}")
        if sums[(escrow.id, PayoutKind.REFUND)] != escrow.refunded_fen:
            problems.append(f"escrow {escrow.reference}: refunded {escrow.refunded_fen} ≠ buyer refunds "
                            f"{sums[(escrow.id, PayoutKind.REFUND)]}")
    return problems


def _clearing_by_ref() -> dict[str, int]:
    rows = db.session.execute(
        select(JournalEntry.source_ref, func.sum(Posting.amount_fen))
        .join(Posting, Posting.entry_id == JournalEntry.id).join(LedgerAccount, LedgerAccount.id == Posting.account_id)
        .where(JournalEntry.source == BANK, LedgerAccount.purpose == Purpose.PROVIDER_CLEARING,
               LedgerAccount.provider == BANK).group_by(JournalEntry.source_ref))
    return {ref: int(total) for ref, total in rows}


def _lines_booked() -> list[str]:
    problems = []
    clearing = _clearing_by_ref()
    refs = set(db.session.scalars(select(JournalEntry.source_ref).where(JournalEntry.source == BANK)))
    ids = set(db.session.scalars(select(StatementLine.id)))
    for line in db.session.scalars(select(StatementLine).order_by(StatementLine.id)):
        ref = f"line:{line.transaction_id}"
        if clearing.get(ref, 0) != line.signed_fen:
            problems.append(f"statement line {line.transaction_id} ({line.status}) moved {clearing.get(ref, 0)} fen "
                            f"through the bank account, the statement says {line.signed_fen}")
        cleared = {LineStatus.ASSIGNED: f"{ref}:assigned", LineStatus.FEE: f"{ref}:fee",
                   LineStatus.RETURNED: f"{ref}:returned", LineStatus.WRITTEN_OFF: f"{ref}:written_off"}
        if line.status in cleared and cleared[line.status] not in refs:
            problems.append(f"statement line {line.transaction_id} is {line.status} but nothing took it out of "
                            f"suspense")
        if line.status == LineStatus.DUPLICATE and (line.duplicate_of_id not in ids or line.duplicate_of_id >= line.id):
            problems.append(f"statement line {line.transaction_id} is a duplicate of no earlier line")
    return problems


def _payouts_have_destinations() -> list[str]:
    missing = db.session.scalars(select(Payout).where(
        Payout.status.in_([PayoutStatus.SENT, PayoutStatus.PAID]), Payout.dest_account == ""))
    return [f"payout {p.code} is {p.status} without a destination account" for p in missing]


def find_violations() -> list[str]:
    """Every broken invariant, as a sentence an operator can act on (empty when all is well)."""
    problems = _balance_violations()
    problems += _payouts_agree()
    problems += _lines_booked()
    problems += _payouts_have_destinations()
    for check in _CHECKS:
        problems += check()
    return problems


def _balance_violations() -> list[str]:
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
