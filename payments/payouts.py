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

Nothing goes to a rail without a destination: a bank payout needs the payee's registered account (past its
24-hour hold after a change), a refund the account the money came from (or the buyer's registered one), a
return the sender's account. Until then the payout waits (``last_error = waiting_for_account``), the party
is told once, and saving the account sends it. The destination is copied onto the payout when it is sent.
"""

from __future__ import annotations

import contextlib
import uuid
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from market.core import audit, jobs
from market.core.errors import DomainError, NotFound, ValidationFailed
from market.core.notify import notify_company
from market.core.timeutil import utcnow
from market.core.transitions import ANYONE, Lifecycle
from market.extensions import db
from payments import ledger
from payments.ledger import DuplicateEntry, Purpose
from payments.models import Escrow, PayeeAccount, Payout, PayoutKind, PayoutStatus, StatementLine
from payments.providers.base import ProviderError

EXECUTE_JOB = "payments.execute_payout"
RECONCILE_JOB = "payments.reconcile_payout"
SWEEP_JOB = "payments.reconcile_payouts"
MAX_TRIES = 8
WAITING = "waiting_for_account"
ACCOUNT_HOLD = timedelta(hours=24)
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
    word = {PayoutKind.PAYOUT: "transfer", PayoutKind.RETURN: "return"}.get(kind, "refund")
    return f"jinshang:{word}:{business_ref}"[:240]


def queue_return(line_id: int, amount_fen: int, currency: str, *, name: str, account: str,
                 business_ref: str) -> Payout:
    """Send an unexplained credit back to ``account`` (the operator booked suspense → return payable)."""
    payout = Payout(escrow_id=None, kind=PayoutKind.RETURN, party_id=None, amount_fen=amount_fen, currency=currency,
                    provider="bank_transfer", business_ref=business_ref, status=PayoutStatus.PENDING,
                    idempotency_key=base_key(PayoutKind.RETURN, business_ref),
                    dest_name=name[:200], dest_account=account[:64], statement_line_id=line_id)
    db.session.add(payout)
    db.session.flush()
    jobs.enqueue(EXECUTE_JOB, payout_id=payout.id)
    return payout


def payable_account(payout: Payout) -> ledger.LedgerAccount:
    if payout.kind == PayoutKind.RETURN:
        return ledger.account(Purpose.RETURN_PAYABLE, payout.currency)
    purpose = Purpose.SELLER_PAYABLE if payout.kind == PayoutKind.PAYOUT else Purpose.BUYER_REFUND
    return ledger.account(purpose, payout.currency, party_id=payout.party_id)


def _registered(company_id: int | None, provider: str) -> PayeeAccount | None:
    if company_id is None:
        return None
    return db.session.scalar(select(PayeeAccount).where(PayeeAccount.company_id == company_id,
                                                        PayeeAccount.provider == provider,
                                                        PayeeAccount.status == "active"))


def destination(payout: Payout) -> tuple[str, str, str] | None:
    """(account name, account number or id, bank) the money goes to, or None if there is none yet."""
    if payout.kind == PayoutKind.RETURN:
        return (payout.dest_name, payout.dest_account, payout.dest_bank) if payout.dest_account else None
    if payout.provider == "sandbox":  # the simulated rail pays a simulated account
        return ("sandbox", f"sandbox:{payout.party_id}", "sandbox")
    if payout.provider != "bank_transfer":  # a card rail: refunds go back to the payment, payouts to the
        if payout.kind == PayoutKind.REFUND:  # connected account, whose readiness the rail itself checks
            return ("", f"{payout.provider}:original-payment", payout.provider)
        connected = db.session.scalar(select(PayeeAccount).where(PayeeAccount.company_id == payout.party_id,
                                                                 PayeeAccount.provider == payout.provider))
        return (connected.account_name, connected.external_id, payout.provider) if connected else None
    if payout.kind == PayoutKind.REFUND:
        paid_from = db.session.scalar(select(StatementLine).where(
            StatementLine.escrow_id == payout.escrow_id, StatementLine.direction == "CR",
            StatementLine.counterparty_account != "").order_by(StatementLine.id))
        if paid_from is not None:
            return (paid_from.counterparty_name, paid_from.counterparty_account, "")
    account = _registered(payout.party_id, payout.provider)
    if account is None or (account.hold_until is not None and account.hold_until > utcnow()):
        return None
    return (account.account_name, account.external_id, account.bank_name)


def _wait_for_account(payout: Payout) -> None:
    """No destination: keep the payout pending and tell the party once (saving an account sends it)."""
    if payout.last_error == WAITING:
        return
    payout.last_error = WAITING
    db.session.flush()
    held = _registered(payout.party_id, payout.provider)
    if held is not None and held.hold_until is not None and held.hold_until > utcnow():  # try again when it ends
        jobs.enqueue(EXECUTE_JOB, delay=held.hold_until - utcnow(), payout_id=payout.id)
    if payout.party_id is not None:
        notify_company(payout.party_id, "payout.waiting_for_account",
                       _l("A payment to you is waiting for your bank account"),
                       _l("Add or confirm your bank account under Balance and payouts; the payment is sent once "
                          "it is in place (24 hours after a change)."), roles=("finance",))


@jobs.handler(EXECUTE_JOB)
def execute_payout(payout_id: int, attempt: int = 1) -> None:
    """Ask the rail to pay. A refusal is kept on the payout and retried later with backoff."""
    from payments.providers import get_provider

    payout = db.session.get(Payout, payout_id)
    if payout is None or payout.status != PayoutStatus.PENDING:
        return
    escrow = db.session.get(Escrow, payout.escrow_id) if payout.escrow_id else None
    dest = destination(payout)
    if dest is None:
        _wait_for_account(payout)
        return
    try:
        provider = get_provider(payout.provider)
        send = provider.send_payout if payout.kind == PayoutKind.PAYOUT else provider.send_refund
        result = send(payout, escrow)  # type: ignore[arg-type]
    except (ProviderError, NotFound) as exc:
        payout.last_error = _describe(exc)
        if attempt >= MAX_TRIES:
            PAYOUT.move(payout, PayoutStatus.FAILED, action="payout.failed", note=payout.last_error[:500])
        else:
            jobs.enqueue(EXECUTE_JOB, delay=timedelta(seconds=min(60 * 2**attempt, 6 * 3600)),
                         payout_id=payout.id, attempt=attempt + 1)
        return
    PAYOUT.move(payout, PayoutStatus.SENT, action="payout.sent", provider_ref=result.provider_ref, last_error=None,
                dest_name=dest[0][:200], dest_account=dest[1][:64], dest_bank=dest[2][:200])
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
    dest = (payout.dest_name, payout.dest_account, payout.dest_bank) if payout.dest_account else destination(payout)
    # confirmed by the rail before we sent it: the rail's confirmation is the record of where it went
    name, account, bank = dest or ("", f"{source}:{source_ref}"[:64], payout.provider)
    PAYOUT.move(payout, PayoutStatus.PAID, action="payout.paid", note=source_ref,
                provider_ref=payout.provider_ref or source_ref, dest_name=name[:200], dest_account=account[:64],
                dest_bank=bank[:200])
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
    escrow = db.session.get(Escrow, payout.escrow_id) if payout.escrow_id else None
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


def set_bank_account(company_id: int, *, account_name: str, account_no: str, bank_name: str,
                     user_id: int | None = None) -> PayeeAccount:
    """Where bank payouts to ``company_id`` go (printed on the payment instruction file).

    A first account is usable at once. Changing it holds payouts for 24 hours and tells every owner and
    finance member (the page asks for the password again first). Payouts waiting for an account are
    sent when it becomes usable."""
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
    changed = account is not None and (account.external_id, account.account_name) != (digits, account_name)
    if account is None:
        account = PayeeAccount(company_id=company_id, provider="bank_transfer", external_id=digits)
        db.session.add(account)
    account.external_id, account.account_name, account.bank_name = digits, account_name, bank_name
    if changed:
        account.hold_until = utcnow() + ACCOUNT_HOLD
    db.session.flush()
    audit.record("payee_account.bank", "company", company_id, actor_company_id=company_id, actor_user_id=user_id,
                 before=before, after={"account_no": _mask(digits), "held": changed})
    if changed:
        notify_company(company_id, "payee_account.changed", _l("Your payout bank account was changed"),
                       _l("Payouts go to the account ending %(last4)s from 24 hours from now. If you did not make "
                          "this change, contact the platform at once.", last4=digits[-4:]), roles=("finance",))
    waiting = db.session.scalars(select(Payout.id).where(
        Payout.party_id == company_id, Payout.provider == "bank_transfer", Payout.status == PayoutStatus.PENDING))
    for payout_id in waiting:
        jobs.enqueue(EXECUTE_JOB, delay=ACCOUNT_HOLD if changed else None, payout_id=payout_id)
    return account


def _mask(number: str) -> str:
    """Audit rows keep only the last four digits of an account number."""
    return number[-4:].rjust(len(number), "*")
