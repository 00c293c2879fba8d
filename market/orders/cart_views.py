"""Cart and checkout pages. The checkout form carries a one-time token: a double click or a resubmitted
form places the orders once (the token is the placement's idempotency key)."""

from __future__ import annotations

import secrets
from collections import OrderedDict

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from catalog.views import listing_page
from market.accounts.context import acting_company, require_company
from market.accounts.models import Company
from market.core.errors import ValidationFailed
from market.core.http import commit, wants_json
from market.core.money import round_half_up
from market.core.validation import parse
from market.credit import gates
from market.extensions import db
from market.orders import contracts, placement
from market.orders.forms import CartAddForm, delivery_from, parse_quantity
from market.orders.views import bp


def _grouped(items, buyer: Company):  # type: ignore[no-untyped-def]
    """Cart items by seller (each group becomes one order), with tier prices for the quantities, and the
    trust gate's verdict on each group's total (checkout is not offered for an order it would refuse)."""
    groups: OrderedDict[int, dict] = OrderedDict()
    for item in items:
        listing = item.listing
        price = listing.unit_price_for(item.quantity)
        group = groups.setdefault(listing.seller_id, {"seller": db.session.get(Company, listing.seller_id),
                                                      "rows": [], "total": 0})
        amount = round_half_up(price * item.quantity)
        group["rows"].append({"item": item, "listing": listing, "unit_price_fen": price, "amount_fen": amount})
        group["total"] += amount
    for group in groups.values():
        group["refusal"] = gates.gate_refusal(buyer, group["seller"], group["total"])
    return list(groups.values())


@bp.get("/cart")
@require_company()
def cart():  # type: ignore[no-untyped-def]
    company = acting_company()
    groups = _grouped(placement.cart_items(company.id), company)
    return render_template("orders/cart.html", groups=groups, blocked=any(g["refusal"] for g in groups))


@bp.post("/cart/add")
@require_company()
def cart_add():  # type: ignore[no-untyped-def]
    try:
        form = parse(CartAddForm, request.form)
        placement.add_to_cart(acting_company(), form.listing_id, form.quantity)
    except ValidationFailed as exc:
        db.session.rollback()
        listing_id = request.form.get("listing_id", "")
        if "listing_id" in exc.field_errors or not listing_id.isdigit() or wants_json():
            raise  # scripts get problem+json; a person gets the form back
        # the order form on the listing page again, the error beside the quantity, the input kept
        return listing_page(int(listing_id), exc.status, cart_errors=exc.field_errors,
                            cart_quantity=request.form.get("quantity", ""))
    commit()
    flash(_("Added to your cart."), "success")
    return redirect(url_for("orders.cart"))


@bp.post("/cart/<int:item_id>/update")
@require_company()
def cart_update(item_id: int):  # type: ignore[no-untyped-def]
    placement.update_cart_item(acting_company().id, item_id, parse_quantity(request.form.get("quantity")))
    commit()
    return redirect(url_for("orders.cart"))


@bp.post("/cart/<int:item_id>/remove")
@require_company()
def cart_remove(item_id: int):  # type: ignore[no-untyped-def]
    placement.remove_cart_item(acting_company().id, item_id)
    commit()
    flash(_("Removed from your cart."), "success")
    return redirect(url_for("orders.cart"))


@bp.route("/checkout", methods=["GET", "POST"])
@require_company("purchasing")
def checkout():  # type: ignore[no-untyped-def]
    company = acting_company()
    if request.method == "POST":
        token = request.form.get("form_token", "").strip()
        try:
            orders = placement.place_cart(company, delivery_from(request.form), user_id=current_user.id,
                                          key=f"form:{token}" if token else None)
        except ValidationFailed as exc:
            db.session.rollback()
            flash(_(exc.message), "error")
            return _checkout_page(company, request.form, exc.field_errors, token), 422
        commit()
        flash(_("%(n)s order(s) placed. The seller has been notified.", n=len(orders)), "success")
        if len(orders) == 1:
            return redirect(url_for("orders.detail", order_id=orders[0].id))
        return redirect(url_for("orders.index", tab="buying"))
    return _checkout_page(company, {}, {}, secrets.token_urlsafe(16))


def _checkout_page(company, form, errors, token):  # type: ignore[no-untyped-def]
    groups = _grouped(placement.cart_items(company.id), company)
    return render_template("orders/checkout.html", groups=groups, blocked=any(g["refusal"] for g in groups),
                           form=form, errors=errors,
                           form_token=token or secrets.token_urlsafe(16), agencies=contracts.inspection_agencies(),
                           default_address=company.address or "")
