"""Payment pages (pay, balance, operator console) and the webhook endpoint. Thin: parse, call a service,
commit, render."""

from __future__ import annotations

import logging

from flask import Blueprint, Flask, Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select

from market.core.actor import current_company_id, password_ok, require_company, require_platform_role
from market.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from market.core.http import commit, problem
from market.core.links import public_url
from market.core.money import yuan_to_fen
from market.core.validation import Page, parse_value
from market.extensions import csrf, db
from payments import escrow as escrows
from payments import ledger, payouts, reconcile, statements
from payments.checkout import start_payin
from payments.models import Escrow, EscrowStatus, PayeeAccount, Payout, PayoutStatus
from payments.providers import enabled, get_provider
from payments.webhooks import receive

log = logging.getLogger(__name__)
REASON_LABELS = {
    "no_code": _l("No payment code, and the sender is not a registered account of the buyer"),
    "unknown_code": _l("Unknown payment code"),
    "closed_escrow": _l("Payment for an order whose escrow is closed"),
    "currency": _l("Currency differs"),
    "debit_no_code": _l("Outgoing without a payout code (bank fee?)"),
    "unknown_payout": _l("Unknown payout code"),
    "amount_differs": _l("Amount differs from the payout"),
    "payout_already_paid": _l("Payout already paid by an earlier line"),
    "refused": _l("The order could not take this amount"),
}
DIFFERENCE_LABELS = {
    "missing_in_ledger": _l("On the statement, not in the ledger"),
    "amount_differs": _l("Amounts differ"),
    "missing_at_provider": _l("In the ledger, not on the statement yet"),
    "provider_fee": _l("Provider fee"),
}
PROVIDER_LABELS = {"sandbox": _l("Sandbox (demo)"), "bank_transfer": _l("Corporate bank transfer"),
                   "stripe": _l("Card (Stripe, international)")}
PAYOUT_ERRORS = {"waiting_for_account": _l("Waiting for the payee's bank account")}
bp = Blueprint("payments", __name__)
# Play-money routes: registered in demo and test mode only, so production has no such URL at all.
sandbox_bp = Blueprint("payments_sandbox", __name__)
PAGE_SIZE = 25


def _page() -> int:
    return parse_value(Page, request.args.get("page", "1"), "page")


@bp.post("/payments/webhooks/<provider>")
@csrf.exempt
def webhook(provider: str):  # type: ignore[no-untyped-def]
    """Every rail's webhooks: verified, stored once, applied with their postings in one transaction."""
    try:
        outcomes = receive(provider, request.get_data(cache=False), request.headers)
    except DomainError as exc:
        db.session.rollback()
        log.warning("webhook %s refused (%s): %s", provider, exc.status, exc.message)
        return problem(exc.status, exc.message, code=exc.code,
                       **({"errors": exc.field_errors} if exc.field_errors else {}))
    commit()
    return {"received": outcomes}


def _payer_escrow(reference: str) -> Escrow:
    """The escrow, if the acting company is its payer; another company's escrow is a 404."""
    escrow = escrows.find_escrow(reference)
    if escrow is None or escrow.payer_id != current_company_id():
        raise NotFound("No escrow for this reference.")
    return escrow


@bp.route("/pay/<reference>", methods=["GET", "POST"])
@require_company("purchasing", "finance")
def pay(reference: str):  # type: ignore[no-untyped-def]
    escrow = _payer_escrow(reference)
    instructions = None
    if request.method == "POST":
        instructions = start_payin(escrow, request.form.get("provider", ""))
        commit()
    return render_template("payments/pay.html", escrow=escrow, providers=enabled(), instructions=instructions)


@sandbox_bp.post("/pay/<reference>/simulate")
@require_company("purchasing", "finance")
def simulate(reference: str):  # type: ignore[no-untyped-def]
    from payments.checkout import simulate_payment

    escrow = _payer_escrow(reference)
    simulate_payment(escrow)
    commit()
    flash(_("Sandbox payment received."), "ok")
    return redirect(url_for("payments.pay", reference=reference))


@bp.get("/payments/balance")
@require_company()
def balance():  # type: ignore[no-untyped-def]
    company_id = current_company_id()
    payable = db.session.scalars(select(ledger.LedgerAccount).where(
        ledger.LedgerAccount.party_id == company_id,
        ledger.LedgerAccount.purpose.in_([ledger.Purpose.SELLER_PAYABLE, ledger.Purpose.BUYER_REFUND])))
    balances = [(acct, ledger.held_balance(acct)) for acct in payable]
    page = _page()
    query = select(Payout).where(Payout.party_id == company_id)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.session.scalars(query.order_by(Payout.id.desc()).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE))
    accounts = {a.provider: a for a in db.session.scalars(select(PayeeAccount).where(
        PayeeAccount.company_id == company_id))}
    held = db.session.execute(select(Escrow.currency, func.sum(Escrow.funded_fen - Escrow.released_fen
                                                               - Escrow.refunded_fen))
                              .where(Escrow.payee_id == company_id).group_by(Escrow.currency)).all()
    return render_template("payments/balance.html", balances=balances, payouts=list(rows), page=page,
                           pages=max(1, -(-total // PAGE_SIZE)), accounts=accounts, held=held, providers=enabled())


@bp.post("/payments/balance/bank-account")
@require_company("finance")
def save_bank_account():  # type: ignore[no-untyped-def]
    if not password_ok(request.form.get("password", "")):
        raise PermissionDenied("Enter your password again to change where payouts go.")
    account = payouts.set_bank_account(current_company_id() or 0, account_name=request.form.get("account_name", ""),
                                       account_no=request.form.get("account_no", ""),
                                       bank_name=request.form.get("bank_name", ""), user_id=current_user.id)
    commit()
    flash(_("Bank account changed: payouts go there from 24 hours from now; every owner and finance member was "
            "told.") if account.hold_until else _("Bank account saved."), "ok")
    return redirect(url_for("payments.balance"))


@bp.post("/payments/balance/stripe-connect")
@require_company("finance")
def stripe_connect():  # type: ignore[no-untyped-def]
    provider = get_provider("stripe")
    back = public_url("payments.balance")
    link = provider.onboarding_link(current_company_id() or 0, refresh_url=back, return_url=back)  # type: ignore[attr-defined]
    commit()
    return redirect(link)


@bp.get("/payments/operator")
@require_platform_role("operator")
def operator_console():  # type: ignore[no-untyped-def]
    status = request.args.get("status", "")
    page = _page()
    query = select(Escrow)
    if status in set(EscrowStatus):
        query = query.where(Escrow.status == status)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = list(db.session.scalars(query.order_by(Escrow.id.desc()).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)))
    suspense = statements.suspense_totals()
    stuck = list(db.session.scalars(select(Payout).where(Payout.status.in_([PayoutStatus.FAILED]))
                                    .order_by(Payout.id).limit(50)))
    pending_pending = db.session.scalar(select(func.count(Payout.id)).where(Payout.status != PayoutStatus.PAID))
    lines = statements.open_lines()
    earlier = {line.duplicate_of_id for line in lines if line.duplicate_of_id}
    names = dict(db.session.execute(select(statements.StatementLine.id, statements.StatementLine.transaction_id)
                                    .where(statements.StatementLine.id.in_(earlier))).all()) if earlier else {}
    return render_template("payments/operator.html", reason_labels=REASON_LABELS, line_names=names,
                           view_functions=current_app.view_functions,
                           difference_labels=DIFFERENCE_LABELS, payout_errors=PAYOUT_ERRORS, escrows=rows,
                           status=status, statuses=list(EscrowStatus),
                           page=page, pages=max(1, -(-total // PAGE_SIZE)), suspense=suspense,
                           unmatched=lines, runs=reconcile.latest_runs(), failed=stuck,
                           open_payouts=pending_pending, providers=enabled())


@bp.post("/payments/operator/statement")
@require_platform_role("operator")
def upload_statement():  # type: ignore[no-untyped-def]
    upload = request.files.get("statement")
    if upload is None or not upload.filename:
        raise ValidationFailed("Choose a statement file", field_errors={"statement": "Choose a statement file"})
    try:
        text = upload.read().decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationFailed("The statement must be UTF-8 CSV", field_errors={"statement": "UTF-8 CSV"}) from None
    counts = statements.import_statement(text)
    run = reconcile.reconcile(statements.PROVIDER)  # every import is reconciled at once
    commit()
    flash(_("Statement imported: %(matched)s matched, %(unmatched)s to suspense, %(duplicate)s duplicates, "
            "%(already_imported)s already imported. Reconciliation: %(differences)s differences.",
            differences=len(run.differences), **counts), "ok")
    return redirect(url_for("payments.operator_console"))


@bp.post("/payments/operator/lines/<bigint:line_id>/assign")
@require_platform_role("operator")
def assign_line(line_id: int):  # type: ignore[no-untyped-def]
    statements.assign_line(line_id, request.form.get("reference", ""), user_id=current_user.id)
    commit()
    flash(_("Payment assigned."), "ok")
    return redirect(url_for("payments.operator_console"))


@bp.post("/payments/operator/lines/<int:line_id>/fee")
@require_platform_role("operator")
def line_fee(line_id: int):  # type: ignore[no-untyped-def]
    statements.book_fee(line_id, user_id=current_user.id)
    commit()
    flash(_("Booked as a bank fee."), "ok")
    return redirect(url_for("payments.operator_console"))


@bp.post("/payments/operator/lines/<int:line_id>/return")
@require_platform_role("operator")
def line_return(line_id: int):  # type: ignore[no-untyped-def]
    statements.return_line(line_id, user_id=current_user.id)
    commit()
    flash(_("The money will be sent back to the sender (see the payment instruction file)."), "ok")
    return redirect(url_for("payments.operator_console"))


@bp.post("/payments/operator/lines/<int:line_id>/write-off")
@require_platform_role("operator")
def line_write_off(line_id: int):  # type: ignore[no-untyped-def]
    statements.write_off(line_id, request.form.get("reason", ""), user_id=current_user.id)
    commit()
    flash(_("Written off."), "ok")
    return redirect(url_for("payments.operator_console"))


@bp.get("/payments/operator/instructions.csv")
@require_platform_role("operator")
def instructions_csv():  # type: ignore[no-untyped-def]
    body = "\ufeff" + statements.instruction_file()  # BOM: bank portals and Excel read it as UTF-8
    return Response(body, mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=payment-instructions.csv"})


@bp.post("/payments/operator/reconcile")
@require_platform_role("operator")
def run_reconcile():  # type: ignore[no-untyped-def]
    run = reconcile.reconcile(request.form.get("provider", ""))
    commit()
    flash(_("Reconciled %(provider)s: %(matched)s matched, %(differences)s differences.",
            provider=str(PROVIDER_LABELS.get(run.provider, run.provider)),
            matched=run.matched, differences=len(run.differences)), "ok")
    return redirect(url_for("payments.operator_console"))


@bp.post("/payments/operator/escrows/<reference>/resolve")
@require_platform_role("operator")
def resolve(reference: str):  # type: ignore[no-untyped-def]
    escrow = escrows.get_escrow(reference)
    payee = yuan_to_fen(request.form.get("payee", "0") or "0", field="payee")
    payer = yuan_to_fen(request.form.get("payer", "0") or "0", field="payer")
    escrows.decide(escrow, payee, payer, note=request.form.get("decision", ""), operator_user_id=current_user.id)
    commit()
    flash(_("Dispute resolved."), "ok")
    return redirect(url_for("payments.operator_console", status="frozen"))


@bp.post("/payments/operator/payouts/<bigint:payout_id>/retry")
@require_platform_role("operator")
def retry(payout_id: int):  # type: ignore[no-untyped-def]
    payout = db.session.get(Payout, payout_id)
    if payout is None:
        raise NotFound("Unknown payout.")
    payouts.retry_payout(payout)
    commit()
    return redirect(url_for("payments.operator_console"))


def init_views(app: Flask) -> None:
    app.register_blueprint(bp)
    if app.config.get("MODE") != "production":
        app.register_blueprint(sandbox_bp)
