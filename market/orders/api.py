"""JSON API for orders: ``POST /api/v1/orders`` places orders idempotently (``Idempotency-Key`` header).

A retry with the same key returns the orders of the first request (HTTP 200 instead of 201) and places
nothing new. Signed-in sessions only (send the ``X-CSRFToken`` header, as for any POST).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request
from flask_login import current_user

from market.accounts.context import acting_company, require_company
from market.core.errors import BadRequest, ValidationFailed
from market.core.http import commit
from market.orders import services
from market.orders.forms import delivery_from, parse_int, parse_quantity
from market.orders.models import TradeOrder
from market.orders.placement import place_listing_orders

api = Blueprint("orders_api", __name__, url_prefix="/api/v1")


def order_json(order: TradeOrder) -> dict[str, Any]:
    return {
        "id": order.id, "number": order.number, "state": order.state, "buyer_id": order.buyer_id,
        "seller_id": order.seller_id, "currency": order.currency, "total_fen": order.total_fen,
        "settled_fen": order.settled_fen, "buyer_po_number": order.buyer_po_number,
        "delivery_address": order.delivery_address,
        "delivery_window_start": order.delivery_window_start.isoformat() if order.delivery_window_start else None,
        "delivery_window_end": order.delivery_window_end.isoformat() if order.delivery_window_end else None,
        "placed_at": order.placed_at.isoformat(),
        "lines": [{"listing_id": line.listing_id, "title": line.title, "quantity": str(line.quantity),
                   "unit": line.unit, "unit_price_fen": line.unit_price_fen, "amount_fen": line.amount_fen}
                  for line in order.lines],
    }


@api.post("/orders")
@require_company("purchasing")
def create():  # type: ignore[no-untyped-def]
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("Send a JSON object.")
    lines = body.get("lines")
    if not isinstance(lines, list) or not lines or len(lines) > 50:
        raise ValidationFailed("Give 1 to 50 lines.", field_errors={"lines": "Give 1 to 50 lines."})
    requested = []
    for index, line in enumerate(lines):
        if not isinstance(line, dict):
            raise ValidationFailed("Each line is an object.", field_errors={f"lines.{index}": "Must be an object."})
        requested.append((parse_int(line.get("listing_id"), f"lines.{index}.listing_id"),
                          parse_quantity(line.get("quantity"), f"lines.{index}.quantity")))
    key = (request.headers.get("Idempotency-Key") or "").strip()
    if len(key) > 100:
        raise BadRequest("Idempotency-Key is too long (at most 100 characters).")
    orders = place_listing_orders(acting_company(), requested, delivery_from(body), user_id=current_user.id,
                                  key=f"api:{key}" if key else None)
    commit()
    return {"orders": [order_json(o) for o in orders], "replayed": orders.replayed}, (200 if orders.replayed else 201)


@api.get("/orders/<int:order_id>")
@require_company()
def show(order_id: int):  # type: ignore[no-untyped-def]
    return order_json(services.get_order(acting_company().id, order_id))
