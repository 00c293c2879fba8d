"""Credit pages: my report, a counterparty's report, ratings, and the operator's gates console. Thin views."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from market.accounts.context import acting_company, acting_company_id, require_company, require_platform_role
from market.accounts.models import Company, PlatformRole
from market.core.errors import NotFound, ValidationFailed
from market.core.http import commit
from market.core.money import yuan_to_fen
from market.core.timeutil import SHANGHAI
from market.core.validation import Day, Id, Page, parse_value
from market.credit import gates, ratings, services
from market.credit.chart import history_svg
from market.credit.models import CreditOverride
from market.credit.report import GRADE_NAMES, CreditReport
from market.extensions import db

bp = Blueprint("credit", __name__, url_prefix="/credit")
RATER_ROLES = ("sales", "purchasing")


def _report_context(company: Company) -> dict[str, Any]:
    snapshot = services.latest_snapshot(company.id)
    report = CreditReport.from_json(snapshot.report) if snapshot else None
    history = services.score_history(company.id)
    return {
        "company": company,
        "snapshot": snapshot,
        "report": report,
        "history": history,
        "chart": history_svg(history, label=_("Credit score history")) if history else None,
        # the ratings the report was computed from: the summary and the factor table count the same rows
        "summary": ratings.ratings_summary(company.id, as_of=snapshot.computed_at if snapshot else None),
        "tag_labels": ratings.TAGS,
    }


@bp.get("/")
@require_company()
def my_report():  # type: ignore[no-untyped-def]
    company = acting_company()
    context = _report_context(company)
    context.update(
        own=True,
        awaiting=ratings.orders_awaiting_rating(company.id),
        order_limit=gates.order_limit_fen(company),
        terms=[(terms, gates.PAYMENT_TERMS_LABELS.get(terms, terms), grade)
               for terms, grade in gates.gate_settings()["payment_terms_min_grade"].items()],
    )
    return render_template("credit/report.html", **context)


@bp.post("/refresh")
@require_company()
def refresh():  # type: ignore[no-untyped-def]
    services.request_recompute(acting_company_id())
    commit()
    flash(_("Your credit report will be recomputed in a moment."), "success")
    return redirect(url_for("credit.my_report"))


@bp.get("/companies/<int:company_id>")
def company_report(company_id: int):  # type: ignore[no-untyped-def]
    """Readable by the company itself, its counterparties (an accepted order together) and platform staff."""
    if not current_user.is_authenticated:
        from market.extensions import login_manager

        return login_manager.unauthorized()
    company = db.session.get(Company, company_id)
    staff = current_user.platform_role in (PlatformRole.OPERATOR, PlatformRole.REGULATOR)
    if company is None or not (staff or services.report_visible_to(company_id, acting_company_id())):
        raise NotFound("Not found")
    if not staff and company_id == acting_company_id():
        return redirect(url_for("credit.my_report"))
    return render_template("credit/report.html", own=False, **_report_context(company))


@bp.get("/companies/<int:company_id>/ratings")
def company_ratings(company_id: int):  # type: ignore[no-untyped-def]
    """Public: the ratings a company received, with counts (what profiles link to)."""
    company = db.session.get(Company, company_id)
    if company is None or company.status != "active":
        raise NotFound("Not found")
    page = parse_value(Page, request.args.get("page", "1"), "page")
    rows, total = ratings.ratings_received(company_id, page=page)
    return render_template("credit/ratings.html", company=company, ratings=rows, total=total, page=page,
                           per_page=20, summary=ratings.ratings_summary(company_id), tag_labels=ratings.TAGS)


@bp.route("/orders/<int:order_id>/rating", methods=["GET", "POST"])
@require_company(*RATER_ROLES)
def rate_order(order_id: int):  # type: ignore[no-untyped-def]
    company_id = acting_company_id()
    order = ratings.rateable_order(order_id, company_id)
    existing = ratings.my_rating(order.id, company_id)
    if request.method == "POST":
        data = ratings.parse_rating(request.form.get("stars"), request.form.getlist("tags"),
                                    request.form.get("comment"))
        if existing is None:
            ratings.submit_rating(order.id, company_id, data, user_id=current_user.id)
        else:
            ratings.edit_rating(order.id, company_id, data)
        commit()
        flash(_("Thank you. Your rating is saved."), "success")
        return redirect(url_for("credit.my_report"))
    other = order.seller if order.buyer_id == company_id else order.buyer
    return render_template("credit/rate.html", order=order, other=other, existing=existing,
                           editable=existing is None or ratings.editable(existing), tag_labels=ratings.TAGS)


def _yuan_field(name: str) -> int | None:
    raw = (request.form.get(name) or "").strip()
    return yuan_to_fen(raw, field=name) if raw else None


@bp.route("/operator/gates", methods=["GET", "POST"])
@require_platform_role(PlatformRole.OPERATOR)
def operator_gates():  # type: ignore[no-untyped-def]
    if request.method == "POST":
        values: dict[str, Any] = {}
        for key in ("order_limit_l0_fen", "order_limit_l1_fen"):
            fen = _yuan_field(key)
            if fen is None:
                raise ValidationFailed("Please check the gate settings.", field_errors={key: "Enter an amount."})
            values[key] = fen
        values["payment_terms_min_grade"] = {terms: request.form.get(f"grade_{terms}", "")
                                             for terms in gates.PAYMENT_TERMS_LABELS}
        gates.update_gate_settings(values, user_id=current_user.id)
        commit()
        flash(_("Gate settings saved."), "success")
        return redirect(url_for("credit.operator_gates"))
    overrides = db.session.scalars(select(CreditOverride).order_by(CreditOverride.granted_at.desc()).limit(100)).all()
    return render_template("credit/operator_gates.html", settings=gates.gate_settings(), overrides=overrides,
                           grades=GRADE_NAMES, terms_labels=gates.PAYMENT_TERMS_LABELS)


@bp.post("/operator/overrides")
@require_platform_role(PlatformRole.OPERATOR)
def grant_override():  # type: ignore[no-untyped-def]
    company_id = parse_value(Id, request.form.get("company_id", ""), "company_id")
    expires_at = None
    if raw := (request.form.get("expires_on") or "").strip():
        expires_at = datetime.combine(parse_value(Day, raw, "expires_on"), time.max, SHANGHAI)
    gates.grant_override(company_id, request.form.get("kind", ""), reason=request.form.get("reason", ""),
                         user_id=current_user.id, limit_fen=_yuan_field("limit"),
                         payment_terms=request.form.get("payment_terms") or None, expires_at=expires_at)
    commit()
    flash(_("Exception granted."), "success")
    return redirect(url_for("credit.operator_gates"))


@bp.post("/operator/overrides/<int:override_id>/revoke")
@require_platform_role(PlatformRole.OPERATOR)
def revoke_override(override_id: int):  # type: ignore[no-untyped-def]
    gates.revoke_override(override_id, reason=request.form.get("revoke_reason", ""), user_id=current_user.id)
    commit()
    flash(_("Exception revoked."), "success")
    return redirect(url_for("credit.operator_gates"))


@bp.post("/operator/companies/<int:company_id>/recompute")
@require_platform_role(PlatformRole.OPERATOR)
def operator_recompute(company_id: int):  # type: ignore[no-untyped-def]
    if db.session.get(Company, company_id) is None:
        abort(404)
    services.recompute(company_id)
    commit()
    flash(_("Credit report recomputed."), "success")
    return redirect(url_for("credit.company_report", company_id=company_id))
