"""Corporate bank transfer into the platform's supervised account (资金监管账户), reconciled from statements.

Each escrow gets a payment code ``JS`` + 8 digits + a check character (Luhn mod 31 over the
unambiguous alphabet also used by USCC codes), which buyers put in the transfer's remark (附言).
Incoming money is learnt from bank statement lines or from the bank's signed arrival notifications (the
webhook). Payouts and refunds are exported as a payment instruction file; the bank statement's debit line
carrying the payout code confirms each one.

This module is the rail's wire format only: statement CSV and notification JSON are parsed and checked
here into :class:`StatementRow` s and neutral ``statement_line`` events. Matching a line to an escrow or a
payout, and booking it, is ``payments.statements`` (above escrow); the rail imports nothing above
``payments.providers``.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from market.core.errors import ValidationFailed
from market.core.money import MAX_FEN
from payments.providers.base import (
    EventKind,
    PayInStart,
    PayoutResult,
    ProviderEvent,
    RailPayoutState,
    RailPayoutStatus,
    SettlementLine,
    WebhookRejected,
)
from payments.providers.signing import verify

if TYPE_CHECKING:
    from payments.models import Escrow, Payout

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
N = len(ALPHABET)
PAY_CODE_RE = re.compile(r"JS[\s-]*(\d{8})[\s-]*([0-9A-Z])", re.IGNORECASE)
PAYOUT_CODE_RE = re.compile(r"JSP(\d{8})", re.IGNORECASE)
SIGNATURE_HEADER = "X-Bank-Signature"
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
# plain yuan: digits (optionally grouped by commas in threes) and at most two decimals; no sign, no
# exponent, no currency symbol — a bank export never has them, a hand-edited file might
AMOUNT_RE = re.compile(r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d{1,2})?")
DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")

# why a line is refused: the message names the line; the field error names the column
ROW_ERRORS = {
    "transaction_id": "Line %(line)s: a transaction id is required (at most 64 characters).",
    "direction": "Line %(line)s: the direction must be CR or DR (贷 or 借).",
    "currency": "Line %(line)s: the currency is not supported.",
    "amount": "Line %(line)s: the amount must be plain yuan with at most two decimals "
              "(no exponent, no currency sign).",
    "amount_positive": "Line %(line)s: the amount must be positive.",
    "amount_large": "Line %(line)s: the amount is too large.",
    "value_date": "Line %(line)s: the date must be a real date written YYYY-MM-DD.",
    "repeat": "Line %(line)s repeats a transaction id.",
}
FIELD_ERRORS = {
    "transaction_id": "Required, at most 64 characters",
    "direction": "CR or DR",
    "currency": "Unsupported currency",
    "amount": "Plain yuan, at most two decimals",
    "amount_positive": "The amount must be positive",
    "amount_large": "Amount too large",
    "value_date": "A date such as 2025-03-01",
    "repeat": "Duplicate transaction id",
}


class RowError(ValueError):
    """A statement line that is not valid; ``problem`` keys :data:`ROW_ERRORS`."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem

    def as_validation(self, line: int) -> ValidationFailed:
        column = "amount" if self.problem.startswith("amount") else self.problem
        return ValidationFailed(ROW_ERRORS[self.problem], line=line,
                                field_errors={f"{column} ({line})": FIELD_ERRORS[self.problem]})


def parse_amount(text: str) -> int:
    """Plain yuan → fen, refusing exponents, signs, currency symbols and more than two decimals."""
    text = text.strip()
    if not AMOUNT_RE.fullmatch(text):
        raise RowError("amount_positive" if text.startswith("-") and AMOUNT_RE.fullmatch(text[1:]) else "amount")
    fen = int(Decimal(text.replace(",", "")) * 100)
    if fen <= 0:
        raise RowError("amount_positive")
    if fen > MAX_FEN:
        raise RowError("amount_large")
    return fen


@dataclass(frozen=True)
class StatementRow:
    """A parsed, validated bank statement line (or bank notification line)."""

    transaction_id: str
    value_date: date
    direction: str
    amount_fen: int
    currency: str
    counterparty_name: str = ""
    counterparty_account: str = ""
    memo: str = ""

    @property
    def signed_fen(self) -> int:
        """+ money into the supervised account, − money out."""
        return self.amount_fen if self.direction == "CR" else -self.amount_fen

    @classmethod
    def from_mapping(cls, raw: Mapping[str, object]) -> StatementRow:
        """Check one line; raises :class:`RowError` naming what is wrong."""
        values = {}
        for column, names in COLUMNS.items():
            found = next((raw[n] for n in names if n in raw and raw[n] not in (None, "")), "")
            values[column] = str(found).strip()
        if not values["transaction_id"] or len(values["transaction_id"]) > 64:
            raise RowError("transaction_id")
        direction = DIRECTIONS.get(values["direction"].upper())
        if direction is None:
            raise RowError("direction")
        currency = CURRENCY_ALIASES.get((values["currency"] or "CNY").upper())
        if currency is None:
            raise RowError("currency")
        amount = parse_amount(values["amount"])
        if not DATE_RE.fullmatch(values["value_date"]):
            raise RowError("value_date")
        try:
            value_date = date.fromisoformat(values["value_date"])
        except ValueError:
            raise RowError("value_date") from None
        return cls(transaction_id=values["transaction_id"], value_date=value_date,
                   direction=direction, amount_fen=amount, currency=currency,
                   counterparty_name=values["counterparty_name"][:200],
                   counterparty_account=values["counterparty_account"][:64], memo=values["memo"][:500])

    def as_event(self) -> ProviderEvent:
        """The line as a neutral event; ``payments.statements`` matches and books it."""
        ref = f"line:{self.transaction_id}"
        payload = {k: str(v) for k, v in asdict(self).items()}
        return ProviderEvent(event_id=ref, kind=EventKind.STATEMENT_LINE, object_ref=ref, amount_fen=self.signed_fen,
                             currency=self.currency, raw_type="statement_line", detail=payload,
                             payout_code=find_payout_code(self.memo) or "")


def parse_statement(text: str) -> list[StatementRow]:
    """Parse the whole file first: any bad line rejects the import, naming the line and the column."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if not reader.fieldnames or not any(n in reader.fieldnames for n in COLUMNS["transaction_id"]):
        raise ValidationFailed("Not a bank statement: the header row is missing",
                               field_errors={"header": "Header row missing"})
    rows: list[StatementRow] = []
    seen: set[str] = set()
    for number, raw in enumerate(reader, start=2):
        if len(rows) >= MAX_LINES:
            raise ValidationFailed("Too many lines in one statement", field_errors={"lines": "Too many lines"})
        try:
            row = StatementRow.from_mapping(raw)  # type: ignore[arg-type]
            if row.transaction_id in seen:
                raise RowError("repeat")
        except RowError as exc:
            raise exc.as_validation(number) from None
        seen.add(row.transaction_id)
        rows.append(row)
    return rows


def row_from_event(event: ProviderEvent) -> StatementRow:
    """The line a ``statement_line`` event carries (inverse of :meth:`StatementRow.as_event`)."""
    data = dict(event.detail)
    return StatementRow(transaction_id=str(data["transaction_id"]),
                        value_date=date.fromisoformat(str(data["value_date"])),
                        direction=str(data["direction"]), amount_fen=int(str(data["amount_fen"])),
                        currency=str(data["currency"]), counterparty_name=str(data.get("counterparty_name", "")),
                        counterparty_account=str(data.get("counterparty_account", "")), memo=str(data.get("memo", "")))


def check_character(digits: str) -> str:
    """Luhn mod N check character for ``digits``: catches every single wrong digit and adjacent swaps."""
    factor, total = 2, 0
    for ch in reversed(digits):
        addend = factor * ALPHABET.index(ch)
        factor = 1 if factor == 2 else 2
        total += addend // N + addend % N
    return ALPHABET[(N - total % N) % N]


def make_pay_code(escrow_id: int) -> str:
    digits = f"{escrow_id:08d}"
    return f"JS{digits}{check_character(digits)}"


def find_pay_code(text: str) -> str | None:
    """The first valid payment code in a free-text remark (spaces, dashes and lower case tolerated)."""
    for match in PAY_CODE_RE.finditer(text or ""):
        digits, check = match.group(1), match.group(2).upper()
        if check_character(digits) == check:
            return f"JS{digits}{check}"
    return None


def find_payout_code(text: str) -> str | None:
    match = PAYOUT_CODE_RE.search(text or "")
    return f"JSP{match.group(1)}" if match else None


class BankTransferProvider:
    """The bank rail. Pay-ins are instructions to transfer; nothing is sent to the bank directly."""

    name = "bank_transfer"

    def __init__(self, *, account_name: str, account_no: str, bank_name: str,
                 webhook_secret: str | list[str]) -> None:
        self.account_name, self.account_no, self.bank_name = account_name, account_no, bank_name
        self.webhook_secrets = [webhook_secret] if isinstance(webhook_secret, str) else list(webhook_secret)
        self.webhook_secret = self.webhook_secrets[0] if self.webhook_secrets else ""

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> BankTransferProvider:
        return cls(
            account_name=config.get("BANK_ACCOUNT_NAME", "晋商平台资金监管专户"),
            account_no=config.get("BANK_ACCOUNT_NO", "1405 0166 8888 0000 0001"),
            bank_name=config.get("BANK_NAME", "中国建设银行太原分行"),
            webhook_secret=list(config.get("BANK_WEBHOOK_SECRETS") or []),
        )

    def create_payin(self, escrow: Escrow, amount_fen: int) -> PayInStart:
        return PayInStart(provider_ref=escrow.pay_code or "", bank_details={
            "account_name": self.account_name, "account_no": self.account_no, "bank_name": self.bank_name,
            "remark": escrow.pay_code or ""})

    def send_payout(self, payout: Payout, escrow: Escrow) -> PayoutResult:
        # Goes into the next payment instruction file; the statement's debit line confirms it.
        return PayoutResult(provider_ref=payout.code, confirmed=False)

    def send_refund(self, payout: Payout, escrow: Escrow) -> PayoutResult:
        return PayoutResult(provider_ref=payout.code, confirmed=False)

    def payout_status(self, payout: Payout, escrow: Escrow) -> RailPayoutState:
        """The bank knows a payout by its code (JSP…) in the remark: a debit line carrying it means paid.
        Without one, a payout already ``sent`` sits in the instruction file (pending); a ``pending`` one
        was never exported, so the bank has not seen it."""
        from market.extensions import db
        from payments.models import StatementLine

        line = db.session.scalar(select(StatementLine).where(StatementLine.payout_id == payout.id,
                                                             StatementLine.direction == "DR"))
        if line is not None:
            return RailPayoutState(RailPayoutStatus.PAID, provider_ref=line.transaction_id)
        if payout.status == "sent":
            return RailPayoutState(RailPayoutStatus.PENDING, provider_ref=payout.code)
        return RailPayoutState(RailPayoutStatus.UNKNOWN)

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> list[ProviderEvent]:
        """A bank arrival/debit notification: ``{"lines": [statement line fields...]}``, signed; each line
        becomes a neutral ``statement_line`` event."""
        verify(body, headers.get(SIGNATURE_HEADER), self.webhook_secrets)
        try:
            rows = [StatementRow.from_mapping(item) for item in json.loads(body)["lines"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise WebhookRejected("Unreadable notification.") from exc
        return [row.as_event() for row in rows]

    def settlement_lines(self) -> list[SettlementLine]:
        """Every imported line: the rail's own record of what moved is the bank statement."""
        from sqlalchemy import select

        from market.extensions import db
        from payments.models import StatementLine

        return [SettlementLine(provider=self.name, line_ref=line.transaction_id,
                               object_ref=f"line:{line.transaction_id}",
                               kind="payin" if line.direction == "CR" else "payout",
                               amount_fen=line.amount_fen if line.direction == "CR" else -line.amount_fen,
                               currency=line.currency)
                for line in db.session.scalars(select(StatementLine).order_by(StatementLine.id))]
