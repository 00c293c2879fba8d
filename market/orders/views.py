"""Order pages: list, detail, and the buttons of each state. Thin: parse, call one service, commit, redirect."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from catalog.models import Category
from market.accounts.context import acting_company, require_company
from market.accounts.models import User
from market.core.errors import ValidationFailed
from market.core.http import commit, translate
from market.core.notify import Notification
from market.core.validation import Id, OptionalId, Page, Yuan, parse, parse_value, yuan_fen
from market.extensions import db
from market.orders import contracts, disputes, escrow_link, inspection, services
from market.orders.contract_pdf import render_pdf, signature_lines
from market.orders.contract_text import sections
from market.orders.forms import (
    DisputeForm,
    InspectionForm,
    parse_date,
    parse_int,
    parse_quantity,
    parse_tolerance,
)
from market.orders.lifecycle import STATES, allowed_targets
from market.orders.models import TradeOrder

bp = Blueprint("orders", __name__)
PER_PAGE = 20


def _order(order_id: int) -> TradeOrder:
    return services.get_order(acting_company().id, order_id)


def _back(order: TradeOrder, message: str) -> Response:
    commit()
    flash(message, "success")
    return redirect(url_for("orders.detail", order_id=order.id))


@bp.get("/orders")
@require_company()
def index():  # type: ignore[no-untyped-def]
    counts = services.tab_counts(acting_company().id)
    tab = request.args.get("tab") or services.default_tab(counts)
    if tab not in counts:
        tab = "buying"
    state = request.args.get("state", "")
    query = request.args.get("q", "").strip()
    page = parse_value(Page, request.args.get("page", "1"), "page")
    orders, total = services.list_orders(acting_company().id, tab=tab, state=state, query=query, page=page,
                                         per_page=PER_PAGE)
    return render_template("orders/index.html", orders=orders, tab=tab, state=state, q=query, page=page,
                           pages=max((total + PER_PAGE - 1) // PER_PAGE, 1), total=total, states=STATES,
                           counts=counts)


@bp.get("/orders/<int:order_id>")
@require_company()
def detail(order_id: int):  # type: ignore[no-untyped-def]
    order = _order(order_id)
    party = order.party(acting_company().id)
    return render_template("orders/detail.html", order=order, party=party,
                           targets=allowed_targets(order, party), contract=contracts.current(order),
                           effective=contracts.effective(order), escrow=escrow_link.escrow_of(order),
                           pay_url=escrow_link.pay_url(order) if order.state == "awaiting_payment" else None,
                           topup_url=escrow_link.pay_url(order) if any(lot.topup_fen for lot in order.lots) else None,
                           auto_release=escrow_link.auto_release_dates(order),
                           can_request_cancel=party == "buyer" and services.can_request_cancel(order),
                           agencies=contracts.inspection_agencies(),
                           lines_shipped=services.shipped_quantities(order))


@bp.post("/orders/<int:order_id>/accept")
@require_company("sales")
def accept(order_id: int):  # type: ignore[no-untyped-def]
    order = _order(order_id)
    services.accept_order(order, acting_company().id)
    return _back(order, _("Order accepted. Please review and confirm the contract."))


@bp.post("/orders/<int:order_id>/reject")
@require_company("sales")
def reject(order_id: int):  # type: ignore[no-untyped-def]
    order = _order(order_id)
    services.reject_order(order, acting_company().id, request.form.get("reason", ""))
    return _back(order, _("Order rejected."))


@bp.post("/orders/<int:order_id>/cancel")
@require_company("sales", "purchasing")
def cancel(order_id: int):  # type: ignore[no-untyped-def]
    order = _order(order_id)
    services.cancel_order(order, acting_company().id, request.form.get("reason", ""),
                          seen_state=request.form.get("seen_state") or None)
    return _back(order, _("Order cancelled."))


@bp.post("/orders/<int:order_id>/request-cancel")
@require_company("purchasing")
def request_cancel(order_id: int):  # type: ignore[no-untyped-def]
    order = _order(order_id)
    services.request_cancel(order, acting_company().id, request.form.get("reason", ""))
    return _back(order, _("The seller was told; unless the goods ship within the grace period, the order is "
                          "cancelled and the escrow refunded in full."))


@bp.post("/orders/<int:order_id>/close")
@require_company()
def close(order_id: int):  # type: ignore[no-untyped-def]
    order = _order(order_id)
    services.close_order(order, acting_company().id)
    return _back(order, _("Order closed."))


# ---- contract ----

def _contract_version(order: TradeOrder):  # type: ignore[no-untyped-def]
    raw = request.args.get("version", "")
    version = parse_value(Id, raw, "version") if raw.strip() else None
    chosen = next((c for c in order.contracts if c.version == version), None) if version else \
        contracts.current(order)
    if chosen is None:
        abort(404)
    return chosen


def _signer_names(contract) -> dict[int, str]:  # type: ignore[no-untyped-def]
    ids = [i for i in (contract.buyer_signed_by_user_id, contract.seller_signed_by_user_id) if i]
    return {u.id: u.name for u in db.session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}


@bp.get("/orders/<int:order_id>/contract")
@require_company()
def contract(order_id: int):  # type: ignore[no-untyped-def]
    order = _order(order_id)
    chosen = _contract_version(order)
    lang = "en" if request.args.get("lang") == "en" else "zh_CN"
    with force_locale(lang):
        clauses = sections(chosen.content)
        signatures = signature_lines(chosen, _signer_names(chosen))
        body = render_template("orders/contract_body.html", content=chosen.content, clauses=clauses,
                               signatures=signatures, contract=chosen)
    return render_template("orders/contract.html", order=order, contract=chosen, body=body, lang=lang,
                           party=order.party(acting_company().id),
                           intact=contracts.sha256_of(chosen.content) == chosen.content_sha256)


@bp.get("/orders/<int:order_id>/contract.pdf")
@require_company()
def contract_pdf(order_id: int):  # type: ignore[no-untyped-def]
    order = _order(order_id)
    chosen = _contract_version(order)
    lang = "en" if request.args.get("lang") == "en" else "zh_CN"
    with force_locale(lang):
        pdf = render_pdf(chosen.content, chosen.content_sha256, signature_lines(chosen, _signer_names(chosen)))
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{chosen.content["number"]}-{lang}.pdf"'
    return response


@bp.post("/orders/<int:order_id>/contract/confirm")
@require_company("sales", "purchasing")
def confirm_contract(order_id: int):  # type: ignore[no-untyped-def]
    order = _order(order_id)
    contracts.confirm(order, acting_company().id, current_user.id, request.form.get("sha256", ""))
    return _back(order, _("Contract confirmed."))


@bp.post("/orders/<int:order_id>/contract/propose")
@require_company("sales", "purchasing")
def propose_contract_change(order_id: int):  # type: ignore[no-untyped-def]
    order = _order(order_id)
    form, changes = request.form, {}
    if form.get("delivery_address"):
        changes["delivery_address"] = form["delivery_address"]
    if form.get("delivery_window_start"):
        changes["window_start"] = parse_date(form["delivery_window_start"], "delivery_window_start")
    if form.get("delivery_window_end"):
        changes["window_end"] = parse_date(form["delivery_window_end"], "delivery_window_end", end_of_day=True)
    if "inspection_agency_id" in form:
        changes["inspection_agency_id"] = parse_value(OptionalId, form.get("inspection_agency_id"),
                                                      "inspection_agency_id")
    if form.get("quantity_tolerance_pct"):
        changes["quantity_tolerance_pct"] = parse_tolerance(form["quantity_tolerance_pct"])
    contracts.propose_change(order, acting_company().id, changes, form.get("note", ""))
    return _back(order, _("New contract version proposed. Both parties must confirm it."))


# ---- delivery, inspection, acceptance ----

@bp.post("/orders/<int:order_id>/lots")
@require_company("sales")
def ship(order_id: int):  # type: ignore[no-untyped-def]
    order = _order(order_id)
    services.ship_lot(order, acting_company().id, line_id=parse_int(request.form.get("line_id"), "line_id"),
                      quantity=parse_quantity(request.form.get("quantity")),
                      transport_ref=request.form.get("transport_ref"), final=bool(request.form.get("final")))
    return _back(order, _("Lot shipped."))


@bp.post("/orders/<int:order_id>/shipping-complete")
@require_company("sales")
def shipping_complete(order_id: int):  # type: ignore[no-untyped-def]
    order = _order(order_id)
    services.complete_shipping(order, acting_company().id)
    return _back(order, _("Delivery marked complete."))


@bp.post("/orders/<int:order_id>/lots/<int:lot_id>/delivered")
@require_company("purchasing")
def delivered(order_id: int, lot_id: int):  # type: ignore[no-untyped-def]
    order = _order(order_id)
    raw = request.form.get("delivered_quantity", "").strip()
    services.confirm_delivery(order, acting_company().id, lot_id,
                              parse_quantity(raw, "delivered_quantity") if raw else None)
    return _back(order, _("Delivery confirmed."))


@bp.route("/orders/<int:order_id>/lots/<int:lot_id>/inspection", methods=["GET", "POST"])
@require_company()
def inspect(order_id: int, lot_id: int):  # type: ignore[no-untyped-def]
    order = _order(order_id)
    lot = services.get_lot(order, lot_id)
    category = db.session.get(Category, lot.line.category_id) if lot.line.category_id else None
    schema = category.spec_schema if category else []
    errors: dict[str, str] = {}
    if request.method == "POST":
        measured = {a["key"]: request.form.get(f"specs.{a['key']}", "") for a in schema}
        try:
            form = parse(InspectionForm, request.form)
            inspection.file_report(order, acting_company(), lot.id, measured=measured,
                                   measured_quantity=form.measured_quantity, user_id=current_user.id,
                                   certificate_no=form.certificate_no, method=form.method, note=form.note or None)
        except ValidationFailed as exc:
            db.session.rollback()
            errors = exc.field_errors
            flash(translate(exc.message), "error")
            return render_template("orders/inspection.html", order=order, lot=lot, schema=schema,
                                   errors=errors, form=request.form), 422
        return _back(order, _("Inspection report filed."))
    return render_template("orders/inspection.html", order=order, lot=lot, schema=schema, errors=errors, form={})


@bp.post("/orders/<int:order_id>/lots/<int:lot_id>/accept")
@require_company("purchasing")
def accept_lot(order_id: int, lot_id: int):  # type: ignore[no-untyped-def]
    order = _order(order_id)
    inspection.accept_lot(order, acting_company().id, lot_id)
    return _back(order, _("Lot accepted; the adjusted amount is released to the seller."))


@bp.post("/orders/<int:order_id>/lots/<int:lot_id>/waive-top-up")
@require_company("sales", "finance")
def waive_top_up(order_id: int, lot_id: int):  # type: ignore[no-untyped-def]
    order = _order(order_id)
    inspection.waive_top_up(order, acting_company().id, lot_id)
    return _back(order, _("Difference waived; the order is settled on what was paid."))


@bp.route("/orders/<int:order_id>/dispute", methods=["GET", "POST"])
@require_company("sales", "purchasing")
def dispute(order_id: int):  # type: ignore[no-untyped-def]
    order = _order(order_id)
    if request.method == "POST":
        try:
            form = parse(DisputeForm, request.form)
            disputes.open_dispute(order, acting_company().id, reason=form.reason, lot_id=form.lot_id,
                                  claimed_fen=yuan_fen(form.claimed) if form.claimed is not None else None,
                                  files=request.files.getlist("evidence"))
        except ValidationFailed as exc:
            db.session.rollback()
            errors = {("claimed" if k == "claimed_fen" else k): v for k, v in exc.field_errors.items()}
            return render_template("orders/dispute.html", order=order, errors=errors, form=request.form), exc.status
        return _back(order, _("Dispute opened; the escrow is frozen until an operator decides."))
    current = disputes.open_dispute_of(order)
    if current is not None:  # the other party answers here; either proposes or accepts a settlement
        return render_template("orders/dispute_thread.html", order=order, dispute=current,
                               party=order.party(acting_company().id), me=acting_company().id,
                               held_fen=escrow_link.held_fen(order))
    return render_template("orders/dispute.html", order=order, errors={}, form={})


@bp.post("/orders/<int:order_id>/dispute/respond")
@require_company("sales", "purchasing")
def dispute_respond(order_id: int):  # type: ignore[no-untyped-def]
    order = _order(order_id)
    current = disputes.open_dispute_of(order) or abort(404)
    disputes.respond(current, acting_company().id, text=request.form.get("text", ""),
                     files=request.files.getlist("evidence"))
    return _back(order, _("Your answer was added to the dispute."))


@bp.post("/orders/<int:order_id>/dispute/propose")
@require_company("sales", "purchasing")
def dispute_propose(order_id: int):  # type: ignore[no-untyped-def]
    order = _order(order_id)
    current = disputes.open_dispute_of(order) or abort(404)
    payee_fen = yuan_fen(parse_value(Yuan, request.form.get("payee"), "payee"))
    disputes.propose(current, acting_company().id, payee_fen=payee_fen, text=request.form.get("text", ""))
    return _back(order, _("Settlement proposed; the other party can accept it."))


@bp.post("/orders/<int:order_id>/dispute/proposals/<int:message_id>/accept")
@require_company("sales", "purchasing")
def dispute_accept(order_id: int, message_id: int):  # type: ignore[no-untyped-def]
    order = _order(order_id)
    current = disputes.open_dispute_of(order) or abort(404)
    disputes.accept_proposal(current, acting_company().id, message_id)
    return _back(order, _("Settlement accepted; the escrow is split accordingly."))


@bp.get("/orders/<int:order_id>/evidence/<name>")
@require_company()
def evidence(order_id: int, name: str):  # type: ignore[no-untyped-def]
    order = _order(order_id)
    if order.party(acting_company().id) not in ("buyer", "seller"):
        abort(404)
    return send_file(disputes.evidence_path(order, name), as_attachment=True)


@bp.get("/notifications")
@require_company()
def notifications():  # type: ignore[no-untyped-def]
    page = parse_value(Page, request.args.get("page", "1"), "page")
    stmt = select(Notification).where(Notification.user_id == current_user.id)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    items = db.session.scalars(stmt.order_by(Notification.created_at.desc(), Notification.id.desc())
                               .offset((page - 1) * PER_PAGE).limit(PER_PAGE)).all()
    return render_template("orders/notifications.html", items=items, page=page,
                           pages=max((total + PER_PAGE - 1) // PER_PAGE, 1))


@bp.post("/notifications/read")
@require_company()
def notifications_read():  # type: ignore[no-untyped-def]
    db.session.execute(db.update(Notification).where(Notification.user_id == current_user.id,
                                                     Notification.read.is_(False)).values(read=True))
    commit()
    return redirect(url_for("orders.notifications"))
