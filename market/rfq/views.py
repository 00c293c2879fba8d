"""RFQ pages. The detail page shows the buyer the comparison only once quotes are opened, and shows a
seller its own quote only: the template never receives anything else."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from catalog.models import Category
from catalog.specs import attribute_label
from market.accounts.context import acting_company, require_company
from market.core.errors import ValidationFailed
from market.core.http import commit, translate
from market.core.timeutil import SHANGHAI, utcnow
from market.core.validation import Page, parse, parse_value, yuan_fen
from market.credit.report import N_
from market.extensions import db
from market.orders.forms import to_moment
from market.rfq import services
from market.rfq.forms import QuoteForm, RfqForm

bp = Blueprint("rfq", __name__, url_prefix="/rfq")
PER_PAGE = 20


@bp.get("/")
@require_company()
def index():  # type: ignore[no-untyped-def]
    company = acting_company()
    tab = "mine" if request.args.get("tab") == "mine" else "open"
    page = parse_value(Page, request.args.get("page", "1"), "page")
    rfqs, total = services.visible_rfqs(company, mine=tab == "mine", page=page, per_page=PER_PAGE)
    return render_template("rfq/index.html", rfqs=rfqs, tab=tab, page=page,
                           pages=max((total + PER_PAGE - 1) // PER_PAGE, 1), company=company)


def _categories() -> list[Category]:
    return list(db.session.scalars(select(Category).order_by(Category.industry, Category.position)))


def _new_page(buyer_id: int, form, errors: dict[str, str]) -> str:  # type: ignore[no-untyped-def]
    return render_template("rfq/new.html", categories=_categories(), sellers=services.invitable_sellers(buyer_id),
                           form=form, errors=errors)


@bp.route("/new", methods=["GET", "POST"])
@require_company("purchasing")
def new():  # type: ignore[no-untyped-def]
    company = acting_company()
    form = request.form
    if request.method == "POST":
        try:
            data = parse(RfqForm, form)
            category = db.session.get(Category, data.category_id)
            ranges = {}
            for attribute in (category.spec_schema if category else []):
                low, high = form.get(f"min.{attribute['key']}", ""), form.get(f"max.{attribute['key']}", "")
                if low.strip() or high.strip():
                    ranges[attribute["key"]] = {"min": low, "max": high}
            rfq = services.post_rfq(company, current_user.id, services.RfqInput(
                category_id=data.category_id, title=data.title, quantity=data.quantity, unit=data.unit,
                delivery_place=data.delivery_place, window_start=to_moment(data.delivery_window_start),
                window_end=to_moment(data.delivery_window_end, end_of_day=True),
                deadline=data.deadline if data.deadline.tzinfo else data.deadline.replace(tzinfo=SHANGHAI),
                spec_ranges=ranges, visibility=data.visibility, invited_seller_ids=tuple(data.invited),
                description=data.description or None))
        except ValidationFailed as exc:
            db.session.rollback()
            flash(translate(exc.message), "error")
            return _new_page(company.id, form, exc.field_errors), 422
        commit()
        flash(_("Your request is published. Quotes stay sealed until the deadline."), "success")
        return redirect(url_for("rfq.detail", rfq_id=rfq.id))
    return _new_page(company.id, {}, {})


@bp.get("/<int:rfq_id>")
@require_company()
def detail(rfq_id: int):  # type: ignore[no-untyped-def]
    return _detail_page(rfq_id)


def _detail_page(rfq_id: int, *, errors: dict[str, str] | None = None, form: object = None,
                 status: int = 200):  # type: ignore[no-untyped-def]
    """The RFQ page; a refused quote comes back here with each error beside its field and the input kept."""
    company = acting_company()
    rfq = services.as_of_now(services.get_rfq(company, rfq_id))
    context: dict[str, object] = {"rfq": rfq, "company": company, "now": utcnow(), "errors": errors or {},
                                  "form": form or {}}
    if rfq.buyer_id == company.id:
        context["is_buyer"] = True
        context["quote_count"] = services.quote_count(rfq, company)
        if rfq.status in ("closed", "awarded") or (rfq.status == "cancelled" and rfq.opened_at):
            context["rows"] = services.comparison(rfq, company)
    else:
        context["is_buyer"] = False
        context["own_quote"] = services.own_quote(rfq, company)
        context["may_quote"] = services.may_quote(rfq, company) and rfq.status == "open"
        context["default_valid_until"] = (rfq.deadline + timedelta(days=7))
    return render_template("rfq/detail.html", **context), status


@bp.post("/<int:rfq_id>/quote")
@require_company("sales")
def quote(rfq_id: int):  # type: ignore[no-untyped-def]
    company = acting_company()
    rfq = services.get_rfq(company, rfq_id)
    form = request.form
    specs = {a["key"]: form.get(f"specs.{a['key']}", "") for a in rfq.category.spec_schema}
    try:
        data = parse(QuoteForm, form)
        services.submit_quote(rfq, company, current_user.id, unit_price_fen=yuan_fen(data.unit_price),
                              quantity=data.quantity, specs={k: v for k, v in specs.items() if str(v).strip()},
                              valid_until=to_moment(data.valid_until, end_of_day=True), terms=data.terms or None,
                              goods=form.get("goods"))
    except ValidationFailed as exc:
        if request.accept_mimetypes.best == "application/json":
            raise
        db.session.rollback()
        # name each field in the reader's language; nothing was saved
        for field, message in (exc.field_errors or {"": exc.message}).items():
            label = _(QUOTE_FIELDS[field]) if field in QUOTE_FIELDS else _spec_label(rfq, field)
            flash(f"{label}: {translate(message)}" if label else translate(message), "error")
        return _detail_page(rfq.id, errors=exc.field_errors, form=form, status=422)
    commit()
    flash(_("Your quote is submitted and sealed until the deadline."), "success")
    return redirect(url_for("rfq.detail", rfq_id=rfq.id))


QUOTE_FIELDS = {"unit_price": N_("Unit price"), "quantity": N_("Quantity"), "valid_until": N_("Valid until"),
                "goods": N_("Goods offered (optional)"), "terms": N_("Terms")}


def _spec_label(rfq, field: str) -> str:  # type: ignore[no-untyped-def]
    key = field.removeprefix("specs.")
    for attribute in rfq.category.spec_schema:
        if attribute["key"] == key:
            return attribute_label(attribute, str(get_locale()))
    return ""


@bp.post("/<int:rfq_id>/withdraw")
@require_company("sales")
def withdraw(rfq_id: int):  # type: ignore[no-untyped-def]
    company = acting_company()
    services.withdraw_quote(services.get_rfq(company, rfq_id), company)
    commit()
    flash(_("Your quote is withdrawn."), "success")
    return redirect(url_for("rfq.detail", rfq_id=rfq_id))


@bp.post("/<int:rfq_id>/close")
@require_company("purchasing")
def close(rfq_id: int):  # type: ignore[no-untyped-def]
    company = acting_company()
    services.close_early(services.get_rfq(company, rfq_id), company)
    commit()
    flash(_("The request is closed and the quotes are open."), "success")
    return redirect(url_for("rfq.detail", rfq_id=rfq_id))


@bp.post("/<int:rfq_id>/cancel")
@require_company("purchasing")
def cancel(rfq_id: int):  # type: ignore[no-untyped-def]
    company = acting_company()
    services.cancel_rfq(services.get_rfq(company, rfq_id), company, request.form.get("reason", ""))
    commit()
    flash(_("The request is cancelled."), "success")
    return redirect(url_for("rfq.index", tab="mine"))


@bp.post("/<int:rfq_id>/quotes/<int:quote_id>/accept")
@require_company("purchasing")
def accept(rfq_id: int, quote_id: int):  # type: ignore[no-untyped-def]
    company = acting_company()
    order = services.accept_quote(services.get_rfq(company, rfq_id), company, current_user.id, quote_id)
    commit()
    flash(_("Quote accepted: order %(number)s created. Please confirm the contract.", number=order.number),
          "success")
    return redirect(url_for("orders.detail", order_id=order.id))
