"""Bank statements: matching and booking lines, the suspense queue and its actions, and the payment
instruction file for payouts. The CSV/notification wire format is the rail's (``providers.bank_transfer``).

Every line is accounted for, exactly once (a transaction id is imported once, whether it came by
notification or statement):

* a credit with a valid payment code funds that escrow (a closed escrow's money goes to suspense); a credit
  without one is matched by amount only when the payer's account or name is one of the buyer's registered
  bank accounts and exactly one escrow is due that amount;
* a debit with a payout code confirms that payout; a second debit for a payout an earlier line already
  paid is a *duplicate* of that named line (the money left twice) and is booked to suspense;
* everything else is booked to suspense with a reason and waits for the operator, who assigns it, books
  it as a bank fee, returns it to its sender or writes it off with a reason — each audited.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict

from sqlalchemy import or_, select

from market.core.errors import DomainError, InvalidTransition, NotFound, ValidationFailed
from market.core.money import format_fen
from market.core.timeutil import utcnow
from market.core.transitions import ANYONE, Lifecycle
from market.extensions import db
from payments import ledger
from payments.booking import book_payin, park_in_suspense
from payments.escrow import get_escrow, record_funding
from payments.ledger import Purpose
from payments.models import (
    CLOSED_STATUSES,
    Escrow,
    EscrowStatus,
    LineStatus,
    PayeeAccount,
    Payout,
    PayoutKind,
    PayoutStatus,
    StatementLine,
)
from payments.payouts import confirm_payout, queue_return
from payments.providers.bank_transfer import StatementRow, find_pay_code, find_payout_code, parse_statement

PROVIDER = "bank_transfer"
L = LineStatus
OPEN = (L.UNMATCHED, L.DUPLICATE)
STATEMENT_LINE = Lifecycle("statement_line", StatementLine, {
    (frm, to): {ANYONE} for frm in OPEN for to in (L.ASSIGNED, L.FEE, L.RETURNED, L.WRITTEN_OFF)})
# reason codes (StatementLine.reason); the console shows them translated
REASONS = ("no_code", "unknown_code", "closed_escrow", "currency", "debit_no_code", "unknown_payout",
           "amount_differs", "payout_already_paid", "refused")


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _by_registered_account(row: StatementRow) -> Escrow | None:
    """A credit without a code: the one escrow due exactly this amount whose payer registered the sending
    account (by number, or by name when the statement has no number)."""
    accounts = select(PayeeAccount.company_id).where(PayeeAccount.provider == PROVIDER, or_(
        PayeeAccount.external_id == (_digits(row.counterparty_account) or "-"),
        PayeeAccount.account_name == (row.counterparty_name.strip() or "-")))
    candidates = list(db.session.scalars(select(Escrow).where(
        Escrow.status == EscrowStatus.AWAITING_FUNDS, Escrow.currency == row.currency,
        Escrow.amount_fen - Escrow.funded_fen == row.amount_fen, Escrow.payer_id.in_(accounts)).limit(2)))
    return candidates[0] if len(candidates) == 1 else None


def _credit(row: StatementRow, line: dict[str, object]) -> str:
    """Book a credit line; returns the reason code if it went to suspense, else ''."""
    code = find_pay_code(row.memo)
    escrow = db.session.scalar(select(Escrow).where(Escrow.pay_code == code)) if code else None
    if code and escrow is None:
        return "unknown_code"
    escrow = escrow or _by_registered_account(row)
    if escrow is None:
        return "no_code"
    line["escrow_id"] = escrow.id
    if escrow.status in CLOSED_STATUSES:
        return "closed_escrow"
    if escrow.currency != row.currency:
        return "currency"
    line["outcome"] = book_payin(PROVIDER, f"line:{row.transaction_id}", escrow.reference, row.amount_fen,
                                 row.currency)[:200]
    return ""


def _debit(row: StatementRow, line: dict[str, object]) -> str:
    code = find_payout_code(row.memo)
    if not code:
        return "debit_no_code"
    payout = db.session.get(Payout, int(code[3:]))
    if payout is None:
        return "unknown_payout"
    line["payout_id"] = payout.id
    if payout.status == PayoutStatus.PAID:
        line["duplicate_of_id"] = db.session.scalar(select(StatementLine.id).where(
            StatementLine.payout_id == payout.id, StatementLine.status == L.MATCHED).order_by(StatementLine.id))
        return "payout_already_paid"
    if row.amount_fen != payout.amount_fen:
        return "amount_differs"
    if row.currency != payout.currency:
        return "currency"
    line["outcome"] = confirm_payout(payout, source=PROVIDER, source_ref=f"line:{row.transaction_id}",
                                  amount_fen=row.amount_fen, currency=row.currency)
    return ""


def book_row(row: StatementRow) -> StatementLine | None:
    """Match and book one line; None if this transaction id was imported before (nothing is written)."""
    if db.session.scalar(select(StatementLine.id).where(StatementLine.transaction_id == row.transaction_id)):
        return None
    found: dict[str, object] = {}
    try:
        with db.session.begin_nested():
            reason = _credit(row, found) if row.direction == "CR" else _debit(row, found)
            if reason:
                raise _Suspend(reason)
    except _Suspend as why:
        reason = why.reason
    except DomainError:  # e.g. an amount the escrow cannot take: the operator decides
        reason = "refused"
    status = L.MATCHED
    if reason:
        status = L.DUPLICATE if found.get("duplicate_of_id") else L.UNMATCHED
        found["outcome"] = park_in_suspense(PROVIDER, f"line:{row.transaction_id}", row.signed_fen, row.currency,
                                            reason)
    line = StatementLine(**asdict(row), status=status, reason=reason, **found)
    db.session.add(line)
    db.session.flush()
    return line


class _Suspend(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def import_statement(text: str) -> dict[str, int]:
    """Import a statement: every line is matched, suspended or a named duplicate. Returns the counts."""
    from market.core import audit

    counts = {"matched": 0, "unmatched": 0, "duplicate": 0, "already_imported": 0}
    for row in parse_statement(text):
        line = book_row(row)
        counts["already_imported" if line is None else str(line.status)] += 1
    db.session.flush()
    audit.record("bank.statement_import", "statement", utcnow().strftime("%Y-%m-%d %H:%M:%S"), after=counts)
    return counts


# ---- the operator's actions on open (suspense) lines ----------------------------------------------------

def _open_line(line_id: int, direction: str | None = None) -> StatementLine:
    line = db.session.get(StatementLine, line_id)
    if line is None:
        raise NotFound("No such statement line.")
    if line.status not in OPEN:
        raise InvalidTransition("This line was already dealt with.")
    if direction and line.direction != direction:
        raise InvalidTransition("Only incoming lines can be assigned or returned." if direction == "CR"
                                else "Only outgoing lines can be booked as bank fees.")
    return line


def _clear(line: StatementLine, to: str, account: ledger.LedgerAccount, *, note: str, user_id: int | None) -> None:
    """Move the line (first: two operators acting at once book it once), then suspense → ``account``."""
    STATEMENT_LINE.move(line, to, action=f"bank.line_{to}", note=note[:500], actor_user_id=user_id,
                        resolution_note=note[:2000])
    suspense = ledger.account(Purpose.SUSPENSE, line.currency)
    amount = line.signed_fen  # suspense holds −amount (credit for money in, debit for money out)
    ledger.post(PROVIDER, f"line:{line.transaction_id}:{to}", to, line.currency,
                [(suspense, amount), (account, -amount)], memo=note[:300])


def assign_line(line_id: int, reference: str, *, user_id: int | None = None) -> StatementLine:
    """Apply an incoming suspense line to the escrow ``reference`` (not a closed one)."""
    line = _open_line(line_id, "CR")
    reference = (reference or "").strip()
    if not reference:
        raise ValidationFailed("Name the order number", field_errors={"reference": "Required"})
    escrow = get_escrow(reference)
    if escrow.status in CLOSED_STATUSES:
        raise ValidationFailed("This order's escrow is closed; return the money instead.",
                               field_errors={"reference": "Escrow closed"})
    STATEMENT_LINE.move(line, L.ASSIGNED, action="bank.line_assign", note=escrow.reference, actor_user_id=user_id,
                        escrow_id=escrow.id, outcome=f"assigned {escrow.reference}")
    record_funding(escrow, line.amount_fen, source=PROVIDER, source_ref=f"line:{line.transaction_id}:assigned",
                   currency=line.currency, from_suspense=True)
    return line


def book_fee(line_id: int, *, user_id: int | None = None) -> StatementLine:
    """An outgoing line the bank charged: suspense → bank fees (an expense)."""
    line = _open_line(line_id, "DR")
    _clear(line, L.FEE, ledger.account(Purpose.BANK_FEES, line.currency), note="bank fee", user_id=user_id)
    return line


def return_line(line_id: int, *, user_id: int | None = None) -> Payout:
    """Send an incoming line back to the account it came from: suspense → return payable, and a payout."""
    line = _open_line(line_id, "CR")
    if not _digits(line.counterparty_account):
        raise ValidationFailed("The statement does not show the sender's account; assign or write it off.",
                               field_errors={"counterparty_account": "Missing"})
    _clear(line, L.RETURNED, ledger.account(Purpose.RETURN_PAYABLE, line.currency), note="returned to sender",
           user_id=user_id)
    return queue_return(line.id, line.amount_fen, line.currency, name=line.counterparty_name,
                        account=_digits(line.counterparty_account), business_ref=f"line:{line.transaction_id}:return")


def write_off(line_id: int, reason: str, *, user_id: int | None = None) -> StatementLine:
    """Close a suspense line with a written reason (at least 10 characters): suspense → write-off."""
    line = _open_line(line_id)
    reason = (reason or "").strip()
    if len(reason) < 10:
        raise ValidationFailed("Say why (at least 10 characters).",
                               field_errors={"reason": "At least 10 characters"})
    _clear(line, L.WRITTEN_OFF, ledger.account(Purpose.WRITE_OFF, line.currency), note=reason, user_id=user_id)
    return line


def open_lines(limit: int = 50, offset: int = 0) -> list[StatementLine]:
    """Lines waiting for the operator (unmatched and duplicates), oldest first."""
    return list(db.session.scalars(select(StatementLine).where(StatementLine.status.in_(list(OPEN)))
                                   .order_by(StatementLine.value_date, StatementLine.id).limit(limit).offset(offset)))


unmatched_lines = open_lines


def suspense_totals() -> dict[str, tuple[int, int]]:
    """Open suspense lines per currency: (money in, money out), shown apart rather than netted."""
    totals: dict[str, tuple[int, int]] = {}
    for line in db.session.scalars(select(StatementLine).where(StatementLine.status.in_(list(OPEN)))):
        money_in, money_out = totals.get(line.currency, (0, 0))
        if line.direction == "CR":
            money_in += line.amount_fen
        else:
            money_out += line.amount_fen
        totals[line.currency] = (money_in, money_out)
    return totals


INSTRUCTION_COLUMNS = ["payout_code", "kind", "party_id", "account_name", "account_no", "bank_name", "amount",
                       "currency", "remark"]


def instruction_file() -> str:
    """CSV payment instructions for every bank payout, refund and return sent to the bank (status sent);
    the destination is the one copied onto the payout when it was sent (never empty)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(INSTRUCTION_COLUMNS)
    payouts = db.session.scalars(select(Payout).where(Payout.provider == PROVIDER, Payout.status == PayoutStatus.SENT)
                                 .order_by(Payout.id))
    for payout in payouts:
        amount = format_fen(payout.amount_fen, "XXX").removeprefix("XXX ").replace(",", "")
        writer.writerow([payout.code, payout.kind, payout.party_id or "", payout.dest_name, payout.dest_account,
                         payout.dest_bank, amount, payout.currency, payout.code])
    return out.getvalue()


__all__ = ["PROVIDER", "REASONS", "STATEMENT_LINE", "PayoutKind", "StatementLine", "assign_line", "book_fee",
           "book_row", "import_statement", "instruction_file", "open_lines", "return_line", "suspense_totals",
           "unmatched_lines", "write_off"]
