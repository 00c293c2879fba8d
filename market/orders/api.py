"""JSON API for orders: ``POST /api/v1/orders`` places orders idempotently (``Idempotency-Key`` header).

A retry with the same key returns the orders of the first request (HTTP 200 instead of 201) and places
nothing new. Signed-in sessions only (send the ``X-CSRFToken`` header, as for any POST).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request
from flask_login import current_user

from market.accounts.context import acting_company, require_company
from market.core.edge import loads_bounded
from market.core.errors import BadRequest
from market.core.http import commit
from market.core.validation import has_control_chars, parse
from market.orders import services
from market.orders.forms import OrderRequest
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
    body = loads_bounded(request.get_data())
    if not isinstance(body, dict):
        raise BadRequest("Send a JSON object.", field_errors={"body": "Send a JSON object."})
    data = parse(OrderRequest, body)
    key = (request.headers.get("Idempotency-Key") or "").strip()
    if len(key) > 100 or has_control_chars(key, multiline=False):
        raise BadRequest("Idempotency-Key is too long (at most 100 characters).",
                         field_errors={"Idempotency-Key": "At most 100 characters, no control characters."})
    requested = [(line.listing_id, line.quantity) for line in data.lines]
    orders = place_listing_orders(acting_company(), requested, data.delivery(), user_id=current_user.id,
                                  key=f"api:{key}" if key else None)
    commit()
    return {"orders": [order_json(o) for o in orders], "replayed": orders.replayed}, (200 if orders.replayed else 201)


@api.get("/orders/<int:order_id>")
@require_company()
def show(order_id: int):  # type: ignore[no-untyped-def]
    return order_json(services.get_order(acting_company().id, order_id))
