"""The double-entry ledger: accounts, immutable journal entries and their postings, in integer fen.

Sign convention: a posting's ``amount_fen`` is positive for a debit and negative for a credit, so every
entry sums to zero. Accounts whose normal side is credit (money the platform owes: escrow held, seller
payable, buyer refund payable, revenue, suspense) show their balance negated (:func:`held_balance`).

An entry is unique on ``(source, source_ref)``: replaying the same business action (a webhook delivered
twice, a retried job) finds the existing entry and posts nothing. Entries and postings are never
updated or deleted; a correction is a new entry. Balances are always derived from postings.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Integer, String, event, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.core.errors import Conflict, ValidationFailed
from market.core.money import MAX_FEN
from market.core.timeutil import UTCDateTime, utcnow
from market.extensions import db

ID = BigInteger().with_variant(Integer, "sqlite")
CURRENCIES = frozenset({"CNY", "USD", "EUR", "HKD"})


class Purpose(StrEnum):
    """What an account is for. The party/escrow/provider columns say whose it is."""

    PROVIDER_CLEARING = "provider_clearing"  # asset: money sitting at a rail (bank account, Stripe balance)
    ESCROW_HELD = "escrow_held"  # liability: held for one escrow
    SELLER_PAYABLE = "seller_payable"  # liability: released to a seller, not yet paid out
    BUYER_REFUND = "buyer_refund"  # liability: refunded to a buyer, not yet paid back (buyer clearing)
    PLATFORM_REVENUE = "platform_revenue"  # income: platform fees
    SUSPENSE = "suspense"  # money we cannot explain yet (unmatched lines, reconciliation differences)
    RETURN_PAYABLE = "return_payable"  # liability: an unexplained credit we decided to send back
    BANK_FEES = "bank_fees"  # expense: fees the bank charged the supervised account
    WRITE_OFF = "write_off"  # expense (+) or income (−): suspense the operator wrote off, with a reason


CREDIT_NORMAL = frozenset(set(Purpose) - {Purpose.PROVIDER_CLEARING, Purpose.BANK_FEES, Purpose.WRITE_OFF})


class DuplicateEntry(Conflict):
    """The business action ``(source, source_ref)`` was already posted."""

    code = "duplicate"


class LedgerAccount(db.Model):
    """One account per purpose, owner and currency; ``key`` spells all of it and is unique."""

    __tablename__ = "ledger_account"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    key: Mapped[str] = mapped_column(String(120), nullable=False, unique=True)
    purpose: Mapped[str] = mapped_column(String(30), nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    party_id: Mapped[int | None] = mapped_column(Integer, index=True)
    escrow_id: Mapped[int | None] = mapped_column(Integer, index=True)
    provider: Mapped[str | None] = mapped_column(String(40))
    created_at = mapped_column(UTCDateTime(), nullable=False, default=utcnow)


class JournalEntry(db.Model):
    """A balanced set of postings for one business action; immutable once written."""

    __tablename__ = "journal_entry"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    source: Mapped[str] = mapped_column(String(40), nullable=False)
    source_ref: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[str] = mapped_column(String(30), nullable=False, index=True)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    escrow_id: Mapped[int | None] = mapped_column(Integer, index=True)
    memo: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    created_at = mapped_column(UTCDateTime(), nullable=False, default=utcnow, index=True)

    postings: Mapped[list[Posting]] = relationship(back_populates="entry", order_by="Posting.id")

    __table_args__ = (db.UniqueConstraint("source", "source_ref", name="uq_journal_entry_source_ref"),)


class Posting(db.Model):
    """One leg of an entry: positive = debit, negative = credit."""

    __tablename__ = "posting"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entry.id"), nullable=False, index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_account.id"), nullable=False, index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)

    entry: Mapped[JournalEntry] = relationship(back_populates="postings")
    account: Mapped[LedgerAccount] = relationship()

    __table_args__ = (db.CheckConstraint("amount_fen <> 0", name="nonzero"),)


@event.listens_for(JournalEntry, "before_update")
@event.listens_for(JournalEntry, "before_delete")
@event.listens_for(Posting, "before_update")
@event.listens_for(Posting, "before_delete")
def _immutable(*_args: object) -> None:
    raise RuntimeError("journal entries and postings are immutable; post a correcting entry instead")


def account_key(purpose: str, currency: str, *, party_id: int | None = None, escrow_id: int | None = None,
                provider: str | None = None) -> str:
    parts = [purpose, currency]
    if provider:
        parts.append(f"provider={provider}")
    if party_id is not None:
        parts.append(f"party={party_id}")
    if escrow_id is not None:
        parts.append(f"escrow={escrow_id}")
    return ":".join(parts)


def account(purpose: str, currency: str, *, party_id: int | None = None, escrow_id: int | None = None,
            provider: str | None = None) -> LedgerAccount:
    """Get or create the account for this purpose/owner/currency (safe against a concurrent create)."""
    check_currency(currency)
    key = account_key(purpose, currency, party_id=party_id, escrow_id=escrow_id, provider=provider)
    found = db.session.scalar(select(LedgerAccount).where(LedgerAccount.key == key))
    if found is not None:
        return found
    new = LedgerAccount(key=key, purpose=str(purpose), currency=currency, party_id=party_id,
                        escrow_id=escrow_id, provider=provider)
    try:
        with db.session.begin_nested():
            db.session.add(new)
    except IntegrityError:
        return db.session.scalars(select(LedgerAccount).where(LedgerAccount.key == key)).one()
    return new


def check_currency(currency: str) -> str:
    if currency not in CURRENCIES:
        raise ValidationFailed("Unsupported currency", field_errors={"currency": "Unsupported currency"})
    return currency


def check_amount(value: object, field: str = "amount_fen") -> int:
    """A positive whole number of fen within the platform's limit (bools and floats are refused)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationFailed("Amounts are whole fen", field_errors={field: "Amounts are whole fen"})
    if value <= 0:
        raise ValidationFailed("The amount must be positive", field_errors={field: "The amount must be positive"})
    if value > MAX_FEN:
        raise ValidationFailed("Amount too large", field_errors={field: "Amount too large"})
    return value


def find_entry(source: str, source_ref: str) -> JournalEntry | None:
    return db.session.scalar(
        select(JournalEntry).where(JournalEntry.source == source, JournalEntry.source_ref == source_ref)
    )


def post(source: str, source_ref: str, kind: str, currency: str, lines: Sequence[tuple[LedgerAccount, int]], *,
         escrow_id: int | None = None, memo: str = "") -> JournalEntry:
    """Write one balanced entry. Raises :class:`DuplicateEntry` if ``(source, source_ref)`` exists.

    Every line must be non-zero whole fen in the entry's currency on an account of that currency, and
    the lines must sum to zero: an unbalanced entry is a programming error, refused before any write.
    """
    if not source or not source_ref or len(source) > 40 or len(source_ref) > 200:
        raise ValidationFailed("A ledger entry needs a source and a reference")
    check_currency(currency)
    merged: dict[int, tuple[LedgerAccount, int]] = {}
    for acct, amount in lines:
        if isinstance(amount, bool) or not isinstance(amount, int) or abs(amount) > MAX_FEN:
            raise ValidationFailed("Amounts are whole fen")
        if acct.currency != currency:
            raise ValidationFailed("Currency mismatch", field_errors={"currency": "Currency mismatch"})
        previous = merged.get(id(acct), (acct, 0))[1]
        merged[id(acct)] = (acct, previous + amount)
    legs = [(a, amt) for a, amt in merged.values() if amt != 0]
    if len(legs) < 2 or sum(amt for _, amt in legs) != 0:
        raise ValueError(f"unbalanced ledger entry {source}:{source_ref}: {[(a.key, amt) for a, amt in legs]}")
    if find_entry(source, source_ref) is not None:
        raise DuplicateEntry("This action was already recorded.", source=source, source_ref=source_ref)
    entry = JournalEntry(source=source, source_ref=source_ref, kind=kind, currency=currency,
                         escrow_id=escrow_id, memo=memo[:300])
    try:
        with db.session.begin_nested():
            db.session.add(entry)
            db.session.flush()
    except IntegrityError:  # a concurrent transaction posted the same action first
        raise DuplicateEntry("This action was already recorded.", source=source, source_ref=source_ref) from None
    for acct, amt in legs:
        db.session.add(Posting(entry_id=entry.id, account_id=acct.id, amount_fen=amt, currency=currency))
    db.session.flush()
    return entry


def balance(acct: LedgerAccount | None) -> int:
    """Signed balance (debits positive) derived from postings."""
    if acct is None or acct.id is None:
        return 0
    return int(db.session.scalar(select(func.coalesce(func.sum(Posting.amount_fen), 0))
                                 .where(Posting.account_id == acct.id)) or 0)


def held_balance(acct: LedgerAccount | None) -> int:
    """Balance on the normal side of the account (credit-normal accounts negated)."""
    if acct is None:
        return 0
    value = balance(acct)
    return -value if acct.purpose in CREDIT_NORMAL else value


def find_account(purpose: str, currency: str, **owner: object) -> LedgerAccount | None:
    key = account_key(purpose, currency, **owner)  # type: ignore[arg-type]
    return db.session.scalar(select(LedgerAccount).where(LedgerAccount.key == key))


def entries_for_escrow(escrow_id: int, kinds: Iterable[str] | None = None) -> list[JournalEntry]:
    stmt = select(JournalEntry).where(JournalEntry.escrow_id == escrow_id).order_by(JournalEntry.id)
    if kinds is not None:
        stmt = stmt.where(JournalEntry.kind.in_(list(kinds)))
    return list(db.session.scalars(stmt))


def snapshot() -> dict[str, int]:
    """Every account's balance by key: compare two ledgers independent of ids and timestamps."""
    rows = db.session.execute(
        select(LedgerAccount.key, func.sum(Posting.amount_fen))
        .join(Posting, Posting.account_id == LedgerAccount.id)
        .group_by(LedgerAccount.key)
    )
    return {key: int(total) for key, total in rows if int(total) != 0}
