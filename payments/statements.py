"""Bank statements: import (CSV, see docs/bank-statement-format.md), matching, the unmatched queue,
and the payment instruction file for payouts.

Matching: a credit line is matched by the payment code in its remark (check character verified),
else by amount when exactly one escrow awaiting funds is due exactly that amount; a debit line by the
payout code we printed on the instruction file. Whatever is left goes to suspense and the operator's
queue. Each line is an event ``line:<transaction id>`` through ``webhooks.apply_event``, so importing
the same statement twice (or a line already announced by a bank notification) posts nothing twice.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass
from datetime import date

from sqlalchemy import BigInteger, Date, Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column

from market.core import audit
from market.core.errors import DomainError, InvalidTransition, NotFound, ValidationFailed
from market.core.money import format_fen, yuan_to_fen
from market.core.timeutil import UTCDateTime, utcnow
from market.core.transitions import ANYONE, Lifecycle
from market.extensions import db
from payments.ledger import ID
from payments.models import Escrow, EscrowStatus, PayeeAccount, Payout, PayoutKind, PayoutStatus, WebhookEvent
from payments.providers.bank_transfer import find_pay_code, find_payout_code
from payments.providers.base import EventKind, ProviderEvent, SettlementLine

PROVIDER = "bank_transfer"
MAX_LINES = 20_000
# canonical column -> accepted header spellings (English and the usual Chinese bank export headers)
COLUMNS = {
    "transaction_id": ("transaction_id", "交易流水号", "流水号"),
    "value_date": ("value_date", "交易日期", "记账日期"),
    "direction": ("direction", "借贷标志", "借贷"),
    "amount": ("amount", "金额", "交易金额"),
    "currency": ("currency", "币种"),
    "counterparty_name": ("counterparty_name", "对方户名"),
    "counterparty_account": ("counterparty_account", "对方账号"),
    "memo": ("memo", "摘要", "附言", "用途"),
}
DIRECTIONS = {"CR": "CR", "C": "CR", "贷": "CR", "DR": "DR", "D": "DR", "借": "DR"}
CURRENCY_ALIASES = {"CNY": "CNY", "RMB": "CNY", "人民币": "CNY", "USD": "USD", "美元": "USD"}


class StatementLine(db.Model):
    """One imported bank statement line and what it was matched to."""

    __tablename__ = "statement_line"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    transaction_id: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    value_date = mapped_column(Date, nullable=False)
    direction: Mapped[str] = mapped_column(String(2), nullable=False)
    amount_fen: Mapped[int] = mapped_column(BigInteger, nullable=False)  # positive; direction says which way
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    counterparty_name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    counterparty_account: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    memo: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    status: Mapped[str] = mapped_column(String(12), nullable=False, index=True)  # matched|unmatched|assigned
    escrow_id: Mapped[int | None] = mapped_column(Integer, index=True)
    payout_id: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    imported_at = mapped_column(UTCDateTime(), nullable=False, default=utcnow)


STATEMENT_LINE = Lifecycle("statement_line", StatementLine, {("unmatched", "assigned"): {ANYONE}})


@dataclass(frozen=True)
class StatementRow:
    """A parsed, validated line."""

    transaction_id: str
    value_date: date
    direction: str
    amount_fen: int
    currency: str
    counterparty_name: str = ""
    counterparty_account: str = ""
    memo: str = ""

    @classmethod
    def from_mapping(cls, raw: dict[str, object]) -> StatementRow:
        values = {}
        for column, names in COLUMNS.items():
            found = next((raw[n] for n in names if n in raw and raw[n] not in (None, "")), "")
            values[column] = str(found).strip()
        if not values["transaction_id"] or len(values["transaction_id"]) > 64:
            raise ValueError("transaction_id is required (at most 64 characters)")
        direction = DIRECTIONS.get(values["direction"].upper())
        if direction is None:
            raise ValueError("direction must be CR or DR")
        currency = CURRENCY_ALIASES.get((values["currency"] or "CNY").upper())
        if currency is None:
            raise ValueError("unsupported currency")
        try:
            amount = yuan_to_fen(values["amount"])
        except DomainError:
            raise ValueError("amount must be a yuan amount with at most two decimals") from None
        if amount <= 0:
            raise ValueError("amount must be positive")
        return cls(transaction_id=values["transaction_id"], value_date=date.fromisoformat(values["value_date"]),
                   direction=direction, amount_fen=amount, currency=currency,
                   counterparty_name=values["counterparty_name"][:200],
                   counterparty_account=values["counterparty_account"][:64], memo=values["memo"][:500])


def parse_statement(text: str) -> list[StatementRow]:
    """Parse the whole file first: any bad line rejects the import with its line number."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if not reader.fieldnames or not any(n in reader.fieldnames for n in COLUMNS["transaction_id"]):
        raise ValidationFailed("Not a bank statement: the header row is missing",
                               field_errors={"statement": "Header row missing"})
    rows, seen = [], set()
    for number, raw in enumerate(reader, start=2):
        if len(rows) >= MAX_LINES:
            raise ValidationFailed("Too many lines in one statement", field_errors={"statement": "Too many lines"})
        try:
            row = StatementRow.from_mapping(raw)  # type: ignore[arg-type]
        except ValueError as exc:
            raise ValidationFailed("Line %(line)s: %(problem)s", line=number, problem=str(exc),
                                   field_errors={"statement": f"line {number}: {exc}"}) from None
        if row.transaction_id in seen:
            raise ValidationFailed("Line %(line)s repeats a transaction id", line=number,
                                   field_errors={"statement": f"line {number}: duplicate transaction id"})
        seen.add(row.transaction_id)
        rows.append(row)
    return rows


def _unmatched(row: StatementRow, why: str) -> ProviderEvent:
    sign = 1 if row.direction == "CR" else -1
    return ProviderEvent(event_id=f"line:{row.transaction_id}", kind=EventKind.UNMATCHED,
                         object_ref=f"line:{row.transaction_id}", amount_fen=sign * row.amount_fen,
                         currency=row.currency, raw_type="statement_line", detail={"why": why})


def row_event(row: StatementRow) -> ProviderEvent:
    """Match a line: by payment/payout code first, then (credits only) by amount."""
    ref = f"line:{row.transaction_id}"
    if row.direction == "DR":
        code = find_payout_code(row.memo)
        if not code:
            return _unmatched(row, "debit without a payout code")
        payout = db.session.get(Payout, int(code[3:]))
        if payout is None:
            return _unmatched(row, f"unknown payout {code}")
        kind = EventKind.PAYOUT_PAID if payout.kind == PayoutKind.PAYOUT else EventKind.REFUND_SUCCEEDED
        return ProviderEvent(event_id=ref, kind=kind, object_ref=ref, amount_fen=row.amount_fen,
                             currency=row.currency, payout_code=code, raw_type="statement_line")
    code = find_pay_code(row.memo)
    escrow = db.session.scalar(select(Escrow).where(Escrow.pay_code == code)) if code else None
    if escrow is None and code is None:
        candidates = list(db.session.scalars(select(Escrow).where(
            Escrow.status == EscrowStatus.AWAITING_FUNDS, Escrow.currency == row.currency,
            Escrow.amount_fen - Escrow.funded_fen == row.amount_fen).limit(2)))
        escrow = candidates[0] if len(candidates) == 1 else None
    if escrow is None:
        return _unmatched(row, "no payment code" if code is None else f"unknown payment code {code}")
    return ProviderEvent(event_id=ref, kind=EventKind.PAYIN_SUCCEEDED, object_ref=ref, amount_fen=row.amount_fen,
                         currency=row.currency, reference=escrow.reference, raw_type="statement_line")


def import_statement(text: str) -> dict[str, int]:
    """Import a statement; returns counts of matched, unmatched and already imported lines."""
    from payments.webhooks import apply_event

    counts = {"matched": 0, "unmatched": 0, "duplicate": 0}
    for row in parse_statement(text):
        if db.session.scalar(select(StatementLine.id).where(StatementLine.transaction_id == row.transaction_id)):
            counts["duplicate"] += 1
            continue
        event = row_event(row)
        payload = {k: str(v) for k, v in asdict(row).items()}
        try:
            with db.session.begin_nested():
                outcome = apply_event(PROVIDER, event, payload)
        except DomainError as exc:  # e.g. currency mismatch or a closed payout: the operator decides
            event = _unmatched(row, exc.message)
            outcome = apply_event(PROVIDER, event, payload)
        if outcome == "duplicate":  # announced earlier by a bank notification
            outcome = db.session.scalar(select(WebhookEvent.outcome).where(
                WebhookEvent.provider == PROVIDER, WebhookEvent.event_id == event.event_id)) or outcome
        matched = event.kind != EventKind.UNMATCHED and not outcome.startswith("suspense")
        line = StatementLine(**asdict(row), status="matched" if matched else "unmatched", outcome=outcome[:200])
        if matched and event.reference:
            line.escrow_id = db.session.scalar(select(Escrow.id).where(Escrow.reference == event.reference))
        if matched and event.payout_code:
            line.payout_id = int(event.payout_code[3:])
        db.session.add(line)
        counts["matched" if matched else "unmatched"] += 1
    db.session.flush()
    audit.record("bank.statement_import", "statement", utcnow().isoformat(), note=str(counts))
    return counts


def assign_line(line_id: int, reference: str) -> StatementLine:
    """Operator: apply an unmatched credit line (parked in suspense) to the escrow ``reference``."""
    from payments.escrow import get_escrow, record_funding

    line = db.session.get(StatementLine, line_id)
    if line is None:
        raise NotFound("No such statement line.")
    if line.status != "unmatched" or line.direction != "CR":
        raise InvalidTransition("Only unmatched incoming lines can be assigned.")
    escrow = get_escrow(reference.strip())
    # the line moves first: two operators assigning it at once fund the escrow once
    STATEMENT_LINE.move(line, "assigned", action="bank.line_assign", note=escrow.reference,
                        escrow_id=escrow.id, outcome=f"assigned to {escrow.reference}")
    record_funding(escrow, line.amount_fen, source=PROVIDER, source_ref=f"line:{line.transaction_id}:assigned",
                   currency=line.currency, from_suspense=True)
    return line


def unmatched_lines(limit: int = 50, offset: int = 0) -> list[StatementLine]:
    return list(db.session.scalars(select(StatementLine).where(StatementLine.status == "unmatched")
                                   .order_by(StatementLine.value_date, StatementLine.id).limit(limit).offset(offset)))


INSTRUCTION_COLUMNS = ["payout_code", "kind", "party_id", "account_name", "account_no", "bank_name", "amount",
                       "currency", "remark"]


def instruction_file() -> str:
    """CSV payment instructions for every bank payout/refund waiting to be executed (status sent)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(INSTRUCTION_COLUMNS)
    payouts = db.session.scalars(select(Payout).where(Payout.provider == PROVIDER, Payout.status == PayoutStatus.SENT)
                                 .order_by(Payout.id))
    for payout in payouts:
        name = number = bank = ""
        if payout.kind == PayoutKind.PAYOUT:
            acct = db.session.scalar(select(PayeeAccount).where(PayeeAccount.company_id == payout.party_id,
                                                                PayeeAccount.provider == PROVIDER))
            if acct is not None:
                name, number, bank = acct.account_name, acct.external_id, acct.bank_name
        else:  # refunds go back to the account the money came from
            paid_from = db.session.scalar(
                select(StatementLine)
                .where(StatementLine.escrow_id == payout.escrow_id, StatementLine.direction == "CR")
                .order_by(StatementLine.id))
            if paid_from is not None:
                name, number = paid_from.counterparty_name, paid_from.counterparty_account
        amount = format_fen(payout.amount_fen, "XXX").removeprefix("XXX ").replace(",", "")
        writer.writerow([payout.code, payout.kind, payout.party_id, name, number, bank, amount, payout.currency,
                         payout.code])
    return out.getvalue()


def settlement_lines() -> list[SettlementLine]:
    """Imported lines as settlement lines (+ money into the supervised account)."""
    return [SettlementLine(provider=PROVIDER, line_ref=line.transaction_id, object_ref=f"line:{line.transaction_id}",
                           kind="payin" if line.direction == "CR" else "payout",
                           amount_fen=line.amount_fen if line.direction == "CR" else -line.amount_fen,
                           currency=line.currency)
            for line in db.session.scalars(select(StatementLine).order_by(StatementLine.id))]
