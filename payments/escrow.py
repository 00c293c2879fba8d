"""Escrow services: open, fund, release per milestone, refund, freeze on dispute, resolve, settle.

All amounts are integer fen; ``reference`` is the caller's business reference (the order number).
Services validate, check the transition table, post balanced ledger entries, keep the escrow's
counters in step, write an audit row, ``flush()`` and never commit. Bad input raises
``market.core.errors`` (ValidationFailed 422, InvalidTransition 409, NotFound 404, Conflict 409) and
posts nothing.

Signals (``payments.signals``; sender = the Escrow; sent inside the transaction, receivers must not commit):

- ``escrow_payment_received(escrow, amount_fen, source, source_ref)`` — every receipt, partial or not.
- ``escrow_funded(escrow, amount_fen)`` — once, when the escrow becomes fully funded.
- ``escrow_released(escrow, amount_fen, fee_fen, milestone_ref, final)`` — per release; ``final`` when
  nothing is held any more.
- ``escrow_refunded(escrow, amount_fen, refund_ref, final)`` — per refund.
- ``escrow_frozen(escrow, reason)`` — a dispute froze the escrow.

Lifecycle (one transition table, :data:`TRANSITIONS`)::

    awaiting_funds ─fund─▶ funded ─release─▶ partially_released ─release─▶ released
         │ cancel/refund       │ refund            │ refund (rest released) ▲
         ▼                     ▼                   ▼                        │
    cancelled / refunded    refunded   ─── any open state ─freeze─▶ frozen ─resolve─┘ (or refunded)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Protocol

from flask import current_app
from sqlalchemy import select

from market.core import audit, jobs
from market.core.errors import InvalidTransition, NotFound, ValidationFailed
from market.core.money import MAX_FEN, round_half_up
from market.core.timeutil import utcnow
from market.core.transitions import ANYONE, Lifecycle
from market.extensions import db
from payments import ledger, signals
from payments.ledger import Purpose, check_amount, check_currency
from payments.models import AutoRelease, Escrow, EscrowStatus, Payout, PayoutKind

S = EscrowStatus
ESCROW_SOURCE = "escrow"

# action -> {from status: statuses it may end in}
TRANSITIONS: dict[str, dict[str, frozenset[str]]] = {
    "fund": {S.AWAITING_FUNDS: frozenset({S.AWAITING_FUNDS, S.FUNDED}), S.FUNDED: frozenset({S.FUNDED}),
             S.PARTIALLY_RELEASED: frozenset({S.PARTIALLY_RELEASED}), S.FROZEN: frozenset({S.FROZEN})},
    "release": {S.FUNDED: frozenset({S.PARTIALLY_RELEASED, S.RELEASED}),
                S.PARTIALLY_RELEASED: frozenset({S.PARTIALLY_RELEASED, S.RELEASED})},
    "refund": {S.AWAITING_FUNDS: frozenset({S.AWAITING_FUNDS, S.REFUNDED}),
               S.FUNDED: frozenset({S.FUNDED, S.REFUNDED}),
               S.PARTIALLY_RELEASED: frozenset({S.PARTIALLY_RELEASED, S.RELEASED})},
    "settle": {S.FUNDED: frozenset({S.RELEASED, S.REFUNDED}),
               S.PARTIALLY_RELEASED: frozenset({S.RELEASED})},
    "freeze": {S.AWAITING_FUNDS: frozenset({S.FROZEN}), S.FUNDED: frozenset({S.FROZEN}),
               S.PARTIALLY_RELEASED: frozenset({S.FROZEN})},
    "resolve": {S.FROZEN: frozenset({S.RELEASED, S.REFUNDED, S.CANCELLED})},
    "cancel": {S.AWAITING_FUNDS: frozenset({S.CANCELLED, S.REFUNDED}), S.FUNDED: frozenset({S.REFUNDED})},
    # the goods were worth more than was paid in: the payer owes the difference (a new pay-in) ...
    "top_up": {S.FUNDED: frozenset({S.FUNDED}), S.PARTIALLY_RELEASED: frozenset({S.PARTIALLY_RELEASED})},
    # ... unless the payee waives it
    "waive": {S.FUNDED: frozenset({S.FUNDED, S.RELEASED}),
              S.PARTIALLY_RELEASED: frozenset({S.PARTIALLY_RELEASED, S.RELEASED})},
}

# every (from, to) those actions can produce: the kernel's table; the actions above stay the finer rule
ESCROW = Lifecycle("escrow", Escrow, {(frm, to): {ANYONE} for moves in TRANSITIONS.values()
                                      for frm, targets in moves.items() for to in targets if to != frm})
AUTO_RELEASE = Lifecycle("auto_release", AutoRelease, {
    ("armed", "done"): {ANYONE}, ("armed", "cancelled"): {ANYONE},
    ("cancelled", "armed"): {ANYONE}, ("done", "armed"): {ANYONE},
})


def _set_status(escrow: Escrow, target: str, **fields: object) -> None:
    """Move the (locked) escrow through the kernel; the caller writes the audit row with the counters."""
    if target != escrow.status:
        ESCROW.move(escrow, target, audit_row=False, **fields)
    else:
        for key, value in fields.items():
            setattr(escrow, key, value)


@dataclass(frozen=True)
class Release:
    """What one release did: gross amount out of escrow, the platform fee, the payee's net, its payout."""

    amount_fen: int
    fee_fen: int
    net_fen: int
    payout: Payout | None


def _natural_status(amount: int, funded: int, released: int, refunded: int) -> str:
    """The status an unfrozen escrow with these counters is in. An escrow that still waits for a top-up
    (funded < amount after a release) stays open even when it holds nothing."""
    held = funded - released - refunded
    if held == 0 and (released or refunded) and not (released and funded < amount):
        return S.RELEASED if released else S.REFUNDED
    if released:
        return S.PARTIALLY_RELEASED
    return S.FUNDED if funded >= amount else S.AWAITING_FUNDS


def _allowed(escrow: Escrow, action: str) -> frozenset[str]:
    allowed = TRANSITIONS[action].get(escrow.status)
    if allowed is None:
        raise InvalidTransition("This escrow cannot do that now.", action=action, status=escrow.status)
    return allowed


def _check_target(escrow: Escrow, action: str, allowed: frozenset[str], target: str) -> str:
    if target not in allowed:
        raise InvalidTransition("This escrow cannot do that now.", action=action, status=escrow.status)
    return target


def _ref(value: str, field: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 100:
        raise ValidationFailed("A reference of 1 to 100 characters is required", field_errors={field: "Required"})
    return value.strip()


def _lock(escrow: Escrow) -> Escrow:
    """Re-read the escrow under a row lock so concurrent webhooks and operators serialise on it."""
    stmt = select(Escrow).where(Escrow.id == escrow.id).with_for_update().execution_options(populate_existing=True)
    return db.session.scalars(stmt).one()


def held_account(escrow: Escrow) -> ledger.LedgerAccount:
    return ledger.account(Purpose.ESCROW_HELD, escrow.currency, escrow_id=escrow.id)


def fee_for(amount_fen: int) -> int:
    """Platform fee on a release: PLATFORM_FEE_BPS of the amount, at least PLATFORM_FEE_MIN_FEN, at most all."""
    bps = int(current_app.config["PLATFORM_FEE_BPS"])
    minimum = int(current_app.config["PLATFORM_FEE_MIN_FEN"])
    fee = max(round_half_up(Decimal(amount_fen) * bps / Decimal(10_000)), minimum)
    return min(fee, amount_fen)


def open_escrow(reference: str, payer_id: int, payee_id: int, amount_fen: int, currency: str = "CNY") -> Escrow:
    """Open an escrow awaiting ``amount_fen`` from ``payer_id`` for ``payee_id`` (Conflict if the reference exists)."""
    from market.core.errors import Conflict
    from payments.providers.bank_transfer import make_pay_code

    reference = _ref(reference, "reference")
    check_amount(amount_fen)
    check_currency(currency)
    for name, value in (("payer_id", payer_id), ("payee_id", payee_id)):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValidationFailed("Unknown party", field_errors={name: "Unknown party"})
    if payer_id == payee_id:
        raise ValidationFailed("Payer and payee must differ", field_errors={"payee_id": "Payer and payee must differ"})
    if db.session.scalar(select(Escrow.id).where(Escrow.reference == reference)) is not None:
        raise Conflict("An escrow already exists for this reference.", reference=reference)
    escrow = Escrow(reference=reference, payer_id=payer_id, payee_id=payee_id, amount_fen=amount_fen,
                    currency=currency, status=S.AWAITING_FUNDS)
    db.session.add(escrow)
    db.session.flush()
    escrow.pay_code = make_pay_code(escrow.id)
    db.session.flush()
    audit.record("escrow.open", "escrow", escrow.reference, actor_company_id=payer_id, after=escrow.as_audit())
    return escrow


def get_escrow(reference: str) -> Escrow:
    """The escrow for ``reference`` (NotFound if none)."""
    escrow = db.session.scalar(select(Escrow).where(Escrow.reference == reference))
    if escrow is None:
        raise NotFound("No escrow for this reference.", reference=str(reference)[:64])
    return escrow


def find_escrow(reference: str) -> Escrow | None:
    return db.session.scalar(select(Escrow).where(Escrow.reference == reference))


def record_funding(escrow: Escrow, amount_fen: int, *, source: str, source_ref: str, currency: str | None = None,
                   from_suspense: bool = False) -> Escrow:
    """Book money received for the escrow from rail ``source`` (its object id ``source_ref``).

    Partial funding keeps ``awaiting_funds``; reaching the amount makes it ``funded``; anything beyond
    the amount is held too, to be refunded (``escrow.overpaid_fen``). Closed escrows accept nothing
    (InvalidTransition): the webhook and statement code put such money in suspense instead.
    ``from_suspense`` books money that was parked in suspense (an operator assigned an unmatched line).
    """
    check_amount(amount_fen)
    source_ref = _ref(source_ref, "source_ref")
    if not isinstance(source, str) or not source.isidentifier() or len(source) > 40 or source == ESCROW_SOURCE:
        raise ValidationFailed("Unknown payment source", field_errors={"source": "Unknown payment source"})
    if currency is not None and currency != escrow.currency:
        raise ValidationFailed("Currency mismatch", field_errors={"currency": "Currency mismatch"})
    escrow = _lock(escrow)
    allowed = _allowed(escrow, "fund")
    if escrow.funded_fen + amount_fen > MAX_FEN:
        raise ValidationFailed("Amount too large", field_errors={"amount_fen": "Amount too large"})
    before = escrow.as_audit()
    if escrow.status == S.FROZEN:
        target = S.FROZEN
    else:
        target = _natural_status(escrow.amount_fen, escrow.funded_fen + amount_fen, escrow.released_fen,
                                 escrow.refunded_fen)
    _check_target(escrow, "fund", allowed, target)
    if from_suspense:
        debit = ledger.account(Purpose.SUSPENSE, escrow.currency)
    else:
        debit = ledger.account(Purpose.PROVIDER_CLEARING, escrow.currency, provider=source)
    ledger.post(source, source_ref, "funding", escrow.currency,
                [(debit, amount_fen), (held_account(escrow), -amount_fen)],
                escrow_id=escrow.id, memo=f"payment for {escrow.reference}")
    became_funded = escrow.status == S.AWAITING_FUNDS and target == S.FUNDED
    escrow.funded_fen += amount_fen
    _set_status(escrow, target)
    escrow.provider = escrow.provider or source
    db.session.flush()
    audit.record("escrow.fund", "escrow", escrow.reference, before=before, after=escrow.as_audit(),
                 note=f"{source}:{source_ref}")
    signals.escrow_payment_received.send(escrow, amount_fen=amount_fen, source=source, source_ref=source_ref)
    if became_funded:
        signals.escrow_funded.send(escrow, amount_fen=escrow.funded_fen)
    _refund_overpayment(escrow, amount_fen, source_ref)
    return escrow


def _refund_overpayment(escrow: Escrow, amount_fen: int, source_ref: str) -> None:
    """The part of this payment beyond what the payer owes goes back at once (a frozen escrow keeps it for
    the decision). ``amount - funded`` before the payment is what was still due."""
    due_before = escrow.amount_fen - (escrow.funded_fen - amount_fen)
    excess = min(amount_fen, amount_fen - max(due_before, 0))
    if excess > 0 and escrow.status in TRANSITIONS["refund"] and excess <= escrow.held_fen:
        refund(escrow, excess, refund_ref=f"overpaid/{source_ref}"[:100])


def request_top_up(escrow: Escrow, amount_fen: int, *, ref: str) -> Escrow:
    """The payee is owed more than the escrow was opened for (over-delivery within tolerance, a quality
    premium): the payer now owes ``amount_fen`` more, paid in like any pay-in (same payment code)."""
    ref = _ref(ref, "ref")
    check_amount(amount_fen)
    escrow = _lock(escrow)
    _allowed(escrow, "top_up")
    if escrow.amount_fen + amount_fen > MAX_FEN:
        raise ValidationFailed("Amount too large", field_errors={"amount_fen": "Amount too large"})
    before = escrow.as_audit()
    escrow.amount_fen += amount_fen
    db.session.flush()
    audit.record("escrow.top_up", "escrow", escrow.reference, before=before, after=escrow.as_audit(), note=ref)
    return escrow


def waive_top_up(escrow: Escrow, amount_fen: int, *, ref: str) -> Escrow:
    """The payee gives up ``amount_fen`` still due: the escrow owes less and may close."""
    ref = _ref(ref, "ref")
    check_amount(amount_fen)
    escrow = _lock(escrow)
    allowed = _allowed(escrow, "waive")
    if amount_fen > escrow.due_fen:
        raise ValidationFailed("More than is due", field_errors={"amount_fen": "More than is due"})
    before = escrow.as_audit()
    target = _natural_status(escrow.amount_fen - amount_fen, escrow.funded_fen, escrow.released_fen,
                             escrow.refunded_fen)
    _check_target(escrow, "waive", allowed, target)
    _set_status(escrow, target, amount_fen=escrow.amount_fen - amount_fen)
    db.session.flush()
    audit.record("escrow.waive", "escrow", escrow.reference, before=before, after=escrow.as_audit(), note=ref)
    return escrow


def _book_release(escrow: Escrow, amount_fen: int, source_ref: str) -> Release:
    from payments.payouts import queue_payout

    fee = fee_for(amount_fen)
    net = amount_fen - fee
    lines = [(held_account(escrow), amount_fen)]
    if net:
        lines.append((ledger.account(Purpose.SELLER_PAYABLE, escrow.currency, party_id=escrow.payee_id), -net))
    if fee:
        lines.append((ledger.account(Purpose.PLATFORM_REVENUE, escrow.currency), -fee))
    ledger.post(ESCROW_SOURCE, source_ref, "release", escrow.currency, lines, escrow_id=escrow.id,
                memo=f"release {escrow.reference}")
    escrow.released_fen += amount_fen
    escrow.fee_fen += fee
    payout = queue_payout(escrow, PayoutKind.PAYOUT, escrow.payee_id, net, source_ref) if net else None
    return Release(amount_fen=amount_fen, fee_fen=fee, net_fen=net, payout=payout)


def _book_refund(escrow: Escrow, amount_fen: int, source_ref: str) -> None:
    from payments.payouts import queue_payout

    lines = [(held_account(escrow), amount_fen),
             (ledger.account(Purpose.BUYER_REFUND, escrow.currency, party_id=escrow.payer_id), -amount_fen)]
    ledger.post(ESCROW_SOURCE, source_ref, "refund", escrow.currency, lines, escrow_id=escrow.id,
                memo=f"refund {escrow.reference}")
    escrow.refunded_fen += amount_fen
    queue_payout(escrow, PayoutKind.REFUND, escrow.payer_id, amount_fen, source_ref)


def _guard_amount(escrow: Escrow, amount_fen: int, *, allow_zero: bool = False, field: str = "amount_fen") -> int:
    if allow_zero and amount_fen == 0 and not isinstance(amount_fen, bool):
        return 0
    check_amount(amount_fen, field)
    if amount_fen > escrow.held_fen:
        raise ValidationFailed("More than the escrow holds", field_errors={field: "More than the escrow holds"})
    return amount_fen


def release(escrow: Escrow, amount_fen: int, *, milestone_ref: str) -> Release:
    """Release ``amount_fen`` to the payee for an accepted milestone (lot); the platform fee goes to revenue.

    A milestone is released once: a second release with the same ``milestone_ref`` is a Conflict.
    """
    milestone_ref = _ref(milestone_ref, "milestone_ref")
    escrow = _lock(escrow)
    allowed = _allowed(escrow, "release")
    _guard_amount(escrow, amount_fen)
    target = _natural_status(escrow.amount_fen, escrow.funded_fen, escrow.released_fen + amount_fen,
                             escrow.refunded_fen)
    _check_target(escrow, "release", allowed, target)
    before = escrow.as_audit()
    result = _book_release(escrow, amount_fen, f"{escrow.reference}/release/{milestone_ref}")
    _set_status(escrow, target)
    _finish_auto_release(escrow, milestone_ref, "done")
    db.session.flush()
    audit.record("escrow.release", "escrow", escrow.reference, before=before, after=escrow.as_audit(),
                 note=milestone_ref)
    signals.escrow_released.send(escrow, amount_fen=amount_fen, fee_fen=result.fee_fen, milestone_ref=milestone_ref,
                                 final=target == S.RELEASED)
    return result


def refund(escrow: Escrow, amount_fen: int, *, refund_ref: str) -> Escrow:
    """Refund ``amount_fen`` of what is held to the payer (before release; never after it)."""
    refund_ref = _ref(refund_ref, "refund_ref")
    escrow = _lock(escrow)
    allowed = _allowed(escrow, "refund")
    _guard_amount(escrow, amount_fen)
    target = _natural_status(escrow.amount_fen, escrow.funded_fen, escrow.released_fen,
                             escrow.refunded_fen + amount_fen)
    _check_target(escrow, "refund", allowed, target)
    before = escrow.as_audit()
    _book_refund(escrow, amount_fen, f"{escrow.reference}/refund/{refund_ref}")
    _set_status(escrow, target)
    db.session.flush()
    audit.record("escrow.refund", "escrow", escrow.reference, before=before, after=escrow.as_audit(), note=refund_ref)
    signals.escrow_refunded.send(escrow, amount_fen=amount_fen, refund_ref=refund_ref,
                                 final=escrow.held_fen == 0)
    return escrow


def freeze(escrow: Escrow, reason: str) -> Escrow:
    """A dispute freezes the escrow: nothing is released or refunded until the operator resolves it."""
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationFailed("Say why", field_errors={"reason": "Required"})
    escrow = _lock(escrow)
    _allowed(escrow, "freeze")
    before = escrow.as_audit()
    _set_status(escrow, S.FROZEN, frozen_from=escrow.status, freeze_reason=reason.strip()[:500])
    for armed in _armed(escrow):
        AUTO_RELEASE.move(armed, "cancelled", audit_row=False)
    db.session.flush()
    audit.record("escrow.freeze", "escrow", escrow.reference, before=before, after=escrow.as_audit(), note=reason[:500])
    signals.escrow_frozen.send(escrow, reason=escrow.freeze_reason)
    return escrow


def _split(escrow: Escrow, action: str, payee_fen: int, payer_fen: int, ref: str) -> Escrow:
    allowed = _allowed(escrow, action)
    target = _natural_status(escrow.amount_fen, escrow.funded_fen, escrow.released_fen + payee_fen,
                             escrow.refunded_fen + payer_fen)
    if target not in (S.RELEASED, S.REFUNDED):  # nothing held at all: an unfunded escrow closes as cancelled
        target = S.CANCELLED
    _check_target(escrow, action, allowed, target)
    before = escrow.as_audit()
    base = f"{escrow.reference}/{action}/{ref}"
    release_result = _book_release(escrow, payee_fen, f"{base}/release") if payee_fen else None
    if payer_fen:
        _book_refund(escrow, payer_fen, f"{base}/refund")
    _set_status(escrow, target, frozen_from=None)
    for armed in _armed(escrow):
        AUTO_RELEASE.move(armed, "cancelled", audit_row=False)
    db.session.flush()
    audit.record(f"escrow.{action}", "escrow", escrow.reference, before=before, after=escrow.as_audit(), note=ref)
    if release_result:
        signals.escrow_released.send(escrow, amount_fen=payee_fen, fee_fen=release_result.fee_fen,
                                     milestone_ref=ref, final=True)
    if payer_fen:
        signals.escrow_refunded.send(escrow, amount_fen=payer_fen, refund_ref=ref, final=True)
    return escrow


# ---- one path per decision ---------------------------------------------------------------------------
class Decider(Protocol):
    """Whoever owns the decision on a frozen escrow (an order's open dispute): carries out the operator's
    split together with its own records, in the same transaction."""

    def __call__(self, escrow: Escrow, payee_fen: int, payer_fen: int, *, note: str,
                 operator_user_id: int | None) -> None: ...


_OWNERS: list[Callable[[Escrow], Decider | None]] = []


def register_owner(find: Callable[[Escrow], Decider | None]) -> None:
    """A higher layer (orders) says which escrows it decides; payments never imports it."""
    if find not in _OWNERS:
        _OWNERS.append(find)


def owner_of(escrow: Escrow) -> Decider | None:
    for find in _OWNERS:
        decider = find(escrow)
        if decider is not None:
            return decider
    return None


def decide(escrow: Escrow, payee_fen: int, payer_fen: int, *, note: str, operator_user_id: int | None) -> Escrow:
    """The operator's split from the escrow console. An escrow that belongs to an open dispute is decided
    through that dispute (order, dispute, escrow and ledger together); any other frozen escrow here."""
    for name, value in (("payee_fen", payee_fen), ("payer_fen", payer_fen)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValidationFailed("Amounts are whole fen", field_errors={name: "Amounts are whole fen"})
    if payee_fen + payer_fen != escrow.held_fen:
        raise ValidationFailed("The split must add up to what the escrow holds",
                               field_errors={"payee_fen": "The split must add up to what the escrow holds"})
    decider = owner_of(escrow)
    if decider is not None:
        decider(escrow, payee_fen, payer_fen, note=note, operator_user_id=operator_user_id)
        return escrow
    return resolve_dispute(escrow, payee_fen, payer_fen, resolution_ref=f"console-{utcnow():%Y%m%d%H%M%S%f}")


def resolve_dispute(escrow: Escrow, payee_fen: int, payer_fen: int, *, resolution_ref: str,
                    by_owner: bool = False) -> Escrow:
    """The operator's decision on a frozen escrow: ``payee_fen`` released, ``payer_fen`` refunded; they must
    add up to everything held. An escrow an owner decides (an open dispute) refuses a direct decision
    unless ``by_owner``: the owner moves its own records with the money."""
    resolution_ref = _ref(resolution_ref, "resolution_ref")
    if not by_owner and owner_of(escrow) is not None:
        raise InvalidTransition("This escrow belongs to an open dispute: decide the dispute.")
    escrow = _lock(escrow)
    _allowed(escrow, "resolve")
    _guard_amount(escrow, payee_fen, allow_zero=True, field="payee_fen")
    _guard_amount(escrow, payer_fen, allow_zero=True, field="payer_fen")
    if payee_fen + payer_fen != escrow.held_fen:
        raise ValidationFailed("The split must add up to what the escrow holds",
                               field_errors={"payee_fen": "The split must add up to what the escrow holds"})
    return _split(escrow, "resolve", payee_fen, payer_fen, resolution_ref)


def settle(escrow: Escrow, payee_fen: int, *, ref: str) -> Escrow:
    """Release the inspection-adjusted ``payee_fen`` to the payee and refund the rest of what is held."""
    ref = _ref(ref, "ref")
    escrow = _lock(escrow)
    _allowed(escrow, "settle")
    _guard_amount(escrow, payee_fen, allow_zero=True, field="payee_fen")
    return _split(escrow, "settle", payee_fen, escrow.held_fen - payee_fen, ref)


def cancel_escrow(escrow: Escrow, *, ref: str) -> Escrow:
    """The trade was called off before release: refund whatever arrived; cancelled if nothing did."""
    ref = _ref(ref, "ref")
    escrow = _lock(escrow)
    _allowed(escrow, "cancel")
    return _split(escrow, "cancel", 0, escrow.held_fen, ref)


# -- auto-release --------------------------------------------------------------------------------------

AUTO_RELEASE_JOB = "payments.auto_release"


def _armed(escrow: Escrow) -> list[AutoRelease]:
    return list(db.session.scalars(select(AutoRelease).where(AutoRelease.escrow_id == escrow.id,
                                                             AutoRelease.status == "armed")))


def armed(escrow: Escrow) -> list[AutoRelease]:
    """The escrow's armed auto-releases (each has ``milestone_ref`` and ``due_at``)."""
    return _armed(escrow)


def _finish_auto_release(escrow: Escrow, milestone_ref: str, status: str) -> None:
    row = db.session.scalar(select(AutoRelease).where(AutoRelease.escrow_id == escrow.id,
                                                      AutoRelease.milestone_ref == milestone_ref))
    if row is not None and row.status == "armed":
        AUTO_RELEASE.move(row, status, audit_row=False)


def schedule_auto_release(escrow: Escrow, milestone_ref: str, amount_fen: int,
                          delay: timedelta | None = None) -> AutoRelease:
    """Release ``amount_fen`` for ``milestone_ref`` after ESCROW_AUTO_RELEASE_DAYS unless the payer accepts
    (a release with the same milestone_ref) or disputes (freeze) first."""
    milestone_ref = _ref(milestone_ref, "milestone_ref")
    check_amount(amount_fen)
    _allowed(escrow, "release")
    delay = delay if delay is not None else timedelta(days=int(current_app.config["ESCROW_AUTO_RELEASE_DAYS"]))
    row = db.session.scalar(select(AutoRelease).where(AutoRelease.escrow_id == escrow.id,
                                                      AutoRelease.milestone_ref == milestone_ref))
    if row is None:
        row = AutoRelease(escrow_id=escrow.id, milestone_ref=milestone_ref, status="armed")
        db.session.add(row)
    elif row.status != "armed":
        AUTO_RELEASE.move(row, "armed", audit_row=False)
    row.amount_fen, row.due_at = amount_fen, utcnow() + delay
    db.session.flush()
    jobs.enqueue(AUTO_RELEASE_JOB, delay=delay, auto_release_id=row.id)
    return row


def cancel_auto_release(escrow: Escrow, milestone_ref: str) -> None:
    """Disarm a scheduled auto-release (no-op if none is armed)."""
    _finish_auto_release(escrow, milestone_ref, "cancelled")
    db.session.flush()


@jobs.handler(AUTO_RELEASE_JOB)
def run_auto_release(auto_release_id: int) -> None:
    """Idempotent: does nothing unless the row is still armed, due, and the escrow can release."""
    row = db.session.get(AutoRelease, auto_release_id)
    if row is None or row.status != "armed" or row.due_at > utcnow():
        return
    escrow = db.session.get(Escrow, row.escrow_id)
    if escrow is None or escrow.status not in TRANSITIONS["release"]:
        AUTO_RELEASE.move(row, "cancelled", audit_row=False)
        return
    release(escrow, min(row.amount_fen, escrow.held_fen), milestone_ref=row.milestone_ref)
    audit.record("escrow.auto_release", "escrow", escrow.reference, note=row.milestone_ref)
