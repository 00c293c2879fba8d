"""Corporate bank transfer into the platform's supervised account (资金监管账户), reconciled from statements.

Each escrow gets a payment code ``JS`` + 8 digits + a check character (Luhn mod 31 over the
unambiguous alphabet also used by USCC codes), which buyers put in the transfer's remark (附言).
Incoming money is learnt from bank statement lines (``payments.statements``) or from the bank's signed
arrival notifications (the webhook). Payouts and refunds are exported as a payment instruction file;
the bank statement's debit line carrying the payout code confirms each one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from payments.providers.base import (
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
        from payments.statements import StatementLine

        line = db.session.scalar(select(StatementLine).where(StatementLine.payout_id == payout.id,
                                                             StatementLine.direction == "DR"))
        if line is not None:
            return RailPayoutState(RailPayoutStatus.PAID, provider_ref=line.transaction_id)
        if payout.status == "sent":
            return RailPayoutState(RailPayoutStatus.PENDING, provider_ref=payout.code)
        return RailPayoutState(RailPayoutStatus.UNKNOWN)

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> list[ProviderEvent]:
        """A bank arrival/debit notification: ``{"lines": [statement line fields...]}``, signed."""
        from payments.statements import StatementRow, row_event

        verify(body, headers.get(SIGNATURE_HEADER), self.webhook_secrets)
        try:
            rows = [StatementRow.from_mapping(item) for item in json.loads(body)["lines"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise WebhookRejected("Unreadable notification.") from exc
        return [row_event(row) for row in rows]

    def settlement_lines(self) -> list[SettlementLine]:
        from payments.statements import settlement_lines

        return settlement_lines()
