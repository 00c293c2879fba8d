"""Operator pages: the dispute queue and the arbitration decision."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from market.accounts.context import require_platform_role
from market.core.http import commit
from market.extensions import db
from market.orders import disputes, escrow_link, services
from market.orders.forms import parse_fen
from market.orders.models import Dispute, TradeOrder
from market.orders.views import bp


@bp.get("/operator/disputes")
@require_platform_role("operator")
def dispute_queue():  # type: ignore[no-untyped-def]
    return render_template("orders/operator_disputes.html", items=disputes.open_disputes())


@bp.route("/operator/disputes/<int:dispute_id>", methods=["GET", "POST"])
@require_platform_role("operator")
def dispute_decide(dispute_id: int):  # type: ignore[no-untyped-def]
    dispute = db.session.get(Dispute, dispute_id) or abort(404)
    if request.method == "POST":
        disputes.resolve(dispute, operator_user_id=current_user.id,
                         payee_fen=parse_fen(request.form.get("payee"), "payee"),
                         outcome=request.form.get("outcome", ""), decision=request.form.get("decision", ""))
        commit()
        flash(_("Decision recorded; the escrow is split accordingly."), "success")
        return redirect(url_for("orders.dispute_queue"))
    return render_template("orders/operator_dispute.html", dispute=dispute, order=dispute.order,
                           held_fen=escrow_link.held_fen(dispute.order))


@bp.get("/operator/disputes/<int:dispute_id>/evidence/<name>")
@require_platform_role("operator")
def operator_evidence(dispute_id: int, name: str):  # type: ignore[no-untyped-def]
    dispute = db.session.get(Dispute, dispute_id) or abort(404)
    return send_file(disputes.evidence_path(dispute.order, name), as_attachment=True)


@bp.get("/operator/orders/<int:order_id>")
@require_platform_role("operator")
def operator_order(order_id: int):  # type: ignore[no-untyped-def]
    """The operator's view of one order: parties, money, lots, its dispute, and cancel while unshipped."""
    order = db.session.get(TradeOrder, order_id) or abort(404)
    return render_template("orders/operator_order.html", order=order, escrow=escrow_link.escrow_of(order),
                           can_cancel=order.state in services.OPERATOR_CANCELLABLE,
                           open_dispute=next((d for d in order.disputes if d.status == "open"), None))


@bp.get("/operator/orders/by-number/<number>")
@require_platform_role("operator")
def operator_order_by_number(number: str):  # type: ignore[no-untyped-def]
    order = db.session.scalar(select(TradeOrder).where(TradeOrder.number == number)) or abort(404)
    return redirect(url_for("orders.operator_order", order_id=order.id))


@bp.post("/operator/orders/<int:order_id>/cancel")
@require_platform_role("operator")
def operator_cancel(order_id: int):  # type: ignore[no-untyped-def]
    order = db.session.get(TradeOrder, order_id) or abort(404)
    services.operator_cancel(order, request.form.get("reason", ""))
    commit()
    flash(_("Order cancelled."), "success")
    return redirect(url_for("orders.operator_order", order_id=order.id))
