"""Money leaving the platform: seller payouts and buyer refunds, executed by a provider through the outbox.

A release or refund books the decision at once (escrow → payable). The payout row and its job are
written in the same transaction, so a rolled-back request never pays anything. The job asks the rail;
the rail's confirmation (immediately for a Stripe Transfer, later by webhook or bank statement) books
payable → provider clearing and marks the payout paid. Every step is idempotent.

Every call to the rail carries the payout's idempotency key. A worker killed between calling the rail
and recording its answer leaves the payout ``pending``; its job's lease runs out and the call is made
again under the same key, which the rail recognises. As a second net, the periodic
``payments.reconcile_payouts`` asks the rail (``payout_status``) about every payout pending or sent for
longer than ``PAYOUT_RECONCILE_SECONDS`` with no job working on it, and records the rail's answer: paid,
failed, accepted — or unknown, and only then is it sent again.
"""

from __future__ import annotations

import contextlib
import uuid
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from market.core import audit, jobs
from market.core.errors import DomainError, NotFound, ValidationFailed
from market.core.timeutil import utcnow
from market.core.transitions import ANYONE, Lifecycle
from market.extensions import db
from payments import ledger
from payments.ledger import DuplicateEntry, Purpose
from payments.models import Escrow, PayeeAccount, Payout, PayoutKind, PayoutStatus
from payments.providers.base import ProviderError

EXECUTE_JOB = "payments.execute_payout"
RECONCILE_JOB = "payments.reconcile_payout"
SWEEP_JOB = "payments.reconcile_payouts"
MAX_TRIES = 8
P = PayoutStatus
# pending → sent (the rail took it) → paid (the rail or the statement confirmed it); a failure can be retried
PAYOUT = Lifecycle("payout", Payout, {
    (P.PENDING, P.SENT): {ANYONE}, (P.PENDING, P.PAID): {ANYONE}, (P.SENT, P.PAID): {ANYONE},
    (P.PENDING, P.FAILED): {ANYONE}, (P.SENT, P.FAILED): {ANYONE}, (P.FAILED, P.PENDING): {ANYONE},
    (P.FAILED, P.PAID): {ANYONE}, (P.SENT, P.PENDING): {ANYONE},  # the rail has nothing: send again
})


def default_provider() -> str:
    from payments.providers import enabled

    names = enabled()
    return names[0] if names else "sandbox"


def queue_payout(escrow: Escrow, kind: str, party_id: int, amount_fen: int, business_ref: str) -> Payout:
    """Create the payout for a booked release/refund and enqueue its execution."""
    payout = Payout(escrow_id=escrow.id, kind=kind, party_id=party_id, amount_fen=amount_fen,
                    currency=escrow.currency, provider=escrow.provider or default_provider(),
                    business_ref=business_ref, idempotency_key=base_key(kind, business_ref),
                    status=PayoutStatus.PENDING)
    db.session.add(payout)
    db.session.flush()
    jobs.enqueue(EXECUTE_JOB, payout_id=payout.id)
    return payout


def base_key(kind: str, business_ref: str) -> str:
    """A payout's first idempotency key: the business action (the keys rails saw before keys were stored)."""
    return f"jinshang:{'transfer' if kind == PayoutKind.PAYOUT else 'refund'}:{business_ref}"[:240]


def payable_account(payout: Payout) -> ledger.LedgerAccount:
    purpose = Purpose.SELLER_PAYABLE if payout.kind == PayoutKind.PAYOUT else Purpose.BUYER_REFUND
    return ledger.account(purpose, payout.currency, party_id=payout.party_id)


@jobs.handler(EXECUTE_JOB)
def execute_payout(payout_id: int, attempt: int = 1) -> None:
    """Ask the rail to pay. A refusal is kept on the payout and retried later with backoff."""
    from payments.providers import get_provider

    payout = db.session.get(Payout, payout_id)
    if payout is None or payout.status != PayoutStatus.PENDING:
        return
    escrow = db.session.get(Escrow, payout.escrow_id)
    try:
        provider = get_provider(payout.provider)
        send = provider.send_payout if payout.kind == PayoutKind.PAYOUT else provider.send_refund
        result = send(payout, escrow)
    except (ProviderError, NotFound) as exc:
        payout.last_error = _describe(exc)
        if attempt >= MAX_TRIES:
            PAYOUT.move(payout, PayoutStatus.FAILED, action="payout.failed", note=payout.last_error[:500])
        else:
            jobs.enqueue(EXECUTE_JOB, delay=timedelta(seconds=min(60 * 2**attempt, 6 * 3600)),
                         payout_id=payout.id, attempt=attempt + 1)
        return
    PAYOUT.move(payout, PayoutStatus.SENT, action="payout.sent", provider_ref=result.provider_ref, last_error=None)
    if result.confirmed:
        confirm_payout(payout, source=payout.provider, source_ref=result.provider_ref)


def _describe(exc: DomainError) -> str:
    try:
        return (exc.message % exc.detail if exc.detail else exc.message)[:2000]
    except (KeyError, TypeError, ValueError):
        return exc.message[:2000]


def find_payout(*, payout_id: int | None = None, provider_ref: str = "", code: str = "") -> Payout:
    """The payout an event talks about (NotFound for unknown objects)."""
    payout = None
    if payout_id is not None:
        payout = db.session.get(Payout, payout_id)
    elif code.startswith("JSP") and code[3:].isdigit():
        payout = db.session.get(Payout, int(code[3:]))
    elif provider_ref:
        payout = db.session.scalar(select(Payout).where(Payout.provider_ref == provider_ref))
    if payout is None:
        raise NotFound("Unknown payout.")
    return payout


def confirm_payout(payout: Payout, *, source: str, source_ref: str, amount_fen: int | None = None,
                   currency: str | None = None) -> str:
    """The rail confirmed the money left: payable → provider clearing. Idempotent; ``paid`` is final."""
    if amount_fen is not None and amount_fen != payout.amount_fen:
        raise ValidationFailed("The confirmed amount differs from the payout", field_errors={"amount_fen": "Mismatch"})
    if currency is not None and currency != payout.currency:
        raise ValidationFailed("Currency mismatch", field_errors={"currency": "Currency mismatch"})
    if payout.status == PayoutStatus.PAID:
        return "already paid"
    lines = [(payable_account(payout), payout.amount_fen),
             (ledger.account(Purpose.PROVIDER_CLEARING, payout.currency, provider=payout.provider), -payout.amount_fen)]
    with contextlib.suppress(DuplicateEntry):  # booked by an earlier delivery under another event id
        ledger.post(source, source_ref, f"{payout.kind}_paid", payout.currency, lines, escrow_id=payout.escrow_id,
                    memo=f"{payout.kind} {payout.code}")
    PAYOUT.move(payout, PayoutStatus.PAID, action="payout.paid", note=source_ref,
                provider_ref=payout.provider_ref or source_ref)
    return "paid"


def fail_payout(payout: Payout, reason: str) -> str:
    """The rail reports failure. ``paid`` is final (a late or reordered failure changes nothing); the
    money stays payable to the party for the operator to retry."""
    if payout.status == PayoutStatus.PAID:
        return "ignored: already paid"
    if payout.status != PayoutStatus.FAILED:
        PAYOUT.move(payout, PayoutStatus.FAILED, action="payout.failed", note=reason[:500])
    payout.last_error = reason[:2000]
    db.session.flush()
    return "failed"


def retry_payout(payout: Payout) -> Payout:
    """Operator: try a failed payout again, or a pending one that nothing is working on.

    It is not sent blindly: a job first asks the rail what it has under the payout's key (a payout the
    rail paid after all is recorded as paid) and sends only if the rail has nothing.
    """
    from market.core.errors import InvalidTransition

    if payout.status == PayoutStatus.PENDING and _live_jobs().get(payout.id):
        raise InvalidTransition("This payout is being sent right now.")
    if payout.status not in (PayoutStatus.FAILED, PayoutStatus.PENDING):
        raise InvalidTransition("Only failed payouts can be retried.")
    retry_after_failure = payout.status == PayoutStatus.FAILED
    if retry_after_failure:
        PAYOUT.move(payout, PayoutStatus.PENDING, action="payout.retry", last_error=None)
    else:
        audit.record("payout.retry", "payout", payout.id)
    jobs.enqueue(RECONCILE_JOB, payout_id=payout.id, retry_after_failure=retry_after_failure)
    return payout


def _live_jobs() -> dict[int, int]:
    """Payout id → number of queued or running execute/reconcile jobs for it."""
    live: dict[int, int] = {}
    rows = db.session.scalars(select(jobs.Job).where(jobs.Job.kind.in_((EXECUTE_JOB, RECONCILE_JOB)),
                                                     jobs.Job.status.in_(("queued", "running"))))
    for job in rows:
        payout_id = (job.payload or {}).get("payout_id")
        if isinstance(payout_id, int):
            live[payout_id] = live.get(payout_id, 0) + 1
    return live


@jobs.handler(RECONCILE_JOB)
def reconcile_payout(payout_id: int, retry_after_failure: bool = False) -> str:
    """Make a pending or sent payout agree with what its rail knows (found by the idempotency key).

    ``retry_after_failure``: the operator retries a refused payout; if the rail holds nothing live under
    the old key, a new key is drawn, because some rails (Stripe) answer a reused key with the stored refusal.
    """
    from payments.providers import get_provider
    from payments.providers.base import RailPayoutStatus

    payout = db.session.get(Payout, payout_id)
    if payout is None or payout.status not in (PayoutStatus.PENDING, PayoutStatus.SENT):
        return "nothing to do"
    escrow = db.session.get(Escrow, payout.escrow_id)
    try:
        state = get_provider(payout.provider).payout_status(payout, escrow)
    except (ProviderError, NotFound) as exc:
        payout.last_error = _describe(exc)
        payout.updated_at = utcnow()  # checked again after another PAYOUT_RECONCILE_SECONDS
        return "rail unreachable"
    if state.status == RailPayoutStatus.PAID:
        payout.provider_ref = state.provider_ref or payout.provider_ref
        return confirm_payout(payout, source=payout.provider, source_ref=state.provider_ref or payout.code)
    if state.status == RailPayoutStatus.PENDING:
        if payout.status == PayoutStatus.PENDING:
            PAYOUT.move(payout, PayoutStatus.SENT, action="payout.sent",
                        provider_ref=state.provider_ref or payout.provider_ref)
        payout.updated_at = utcnow()
        return "sent"
    if payout.status == PayoutStatus.SENT and state.status == RailPayoutStatus.UNKNOWN:
        payout.updated_at = utcnow()  # e.g. a bank payout waiting in the instruction file
        return "sent"
    if state.status == RailPayoutStatus.FAILED and not retry_after_failure:
        return fail_payout(payout, state.reason or "refused by the rail")
    if retry_after_failure:
        payout.idempotency_key = f"{base_key(payout.kind, payout.business_ref)[:220]}:{uuid.uuid4().hex[:12]}"
    if payout.status != PayoutStatus.PENDING:
        PAYOUT.move(payout, PayoutStatus.PENDING, action="payout.resend", note=f"rail: {state.status}")
    else:
        audit.record("payout.resend", "payout", payout.id, note=f"rail: {state.status}")
    db.session.flush()
    jobs.enqueue(EXECUTE_JOB, payout_id=payout.id)
    return "resent"


@jobs.handler(SWEEP_JOB)
def reconcile_stale_payouts() -> int:
    """Queue a reconciliation for every payout pending/sent too long with no job working on it."""
    cutoff = utcnow() - timedelta(seconds=float(current_app.config.get("PAYOUT_RECONCILE_SECONDS", 600)))
    live = _live_jobs()
    stale = db.session.scalars(select(Payout.id).where(Payout.status.in_((PayoutStatus.PENDING, PayoutStatus.SENT)),
                                                       Payout.updated_at < cutoff).order_by(Payout.id))
    queued = 0
    for payout_id in stale:
        if not live.get(payout_id):
            jobs.enqueue(RECONCILE_JOB, payout_id=payout_id)
            queued += 1
    return queued


jobs.every(timedelta(minutes=5), SWEEP_JOB)


def set_bank_account(company_id: int, *, account_name: str, account_no: str, bank_name: str) -> PayeeAccount:
    """Where bank payouts to ``company_id`` go (printed on the payment instruction file)."""
    account_name, bank_name = account_name.strip(), bank_name.strip()
    digits = account_no.replace(" ", "").replace("-", "")
    errors = {}
    if not account_name or len(account_name) > 200:
        errors["account_name"] = "Required"
    if not digits.isdigit() or not 8 <= len(digits) <= 32:
        errors["account_no"] = "8 to 32 digits"
    if not bank_name or len(bank_name) > 200:
        errors["bank_name"] = "Required"
    if errors:
        raise ValidationFailed("Please check the bank account", field_errors=errors)
    account = db.session.scalar(select(PayeeAccount).where(PayeeAccount.company_id == company_id,
                                                           PayeeAccount.provider == "bank_transfer"))
    before = {"account_no": _mask(account.external_id)} if account else None
    if account is None:
        account = PayeeAccount(company_id=company_id, provider="bank_transfer", external_id=digits)
        db.session.add(account)
    account.external_id, account.account_name, account.bank_name = digits, account_name, bank_name
    db.session.flush()
    audit.record("payee_account.bank", "company", company_id, actor_company_id=company_id, before=before,
                 after={"account_no": _mask(digits)})
    return account


def _mask(number: str) -> str:
    """Audit rows keep only the last four digits of an account number."""
    return number[-4:].rjust(len(number), "*")
