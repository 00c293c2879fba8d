"""The order lifecycle: ONE transition table, and the one function that moves an order along it.

placed → accepted | rejected → contract_signed → awaiting_payment → funded → in_delivery →
delivered → inspected → goods_accepted | disputed → settled → closed, plus cancellation.

The table says who may make each move: ``buyer``, ``seller``, ``operator`` (platform staff) or
``system`` (jobs, escrow signals, the service that completes a multi-step action). An unlisted move,
or a listed move by the wrong party, is an ``InvalidTransition`` (HTTP 409), never a silent no-op.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from market.core.errors import NotFound
from market.core.notify import notify_company
from market.core.timeutil import utcnow
from market.core.transitions import Lifecycle
from market.orders.models import DeliveryLot, TradeOrder

BUYER, SELLER, OPERATOR, SYSTEM = "buyer", "seller", "operator", "system"

# (from, to) -> the parties allowed to make the move
TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
    ("placed", "accepted"): frozenset({SELLER}),
    ("placed", "rejected"): frozenset({SELLER}),
    ("placed", "cancelled"): frozenset({BUYER, OPERATOR, SYSTEM}),
    ("accepted", "contract_signed"): frozenset({SYSTEM}),
    ("accepted", "cancelled"): frozenset({BUYER, SELLER, OPERATOR, SYSTEM}),
    ("contract_signed", "awaiting_payment"): frozenset({SYSTEM}),
    ("contract_signed", "cancelled"): frozenset({BUYER, SELLER, OPERATOR, SYSTEM}),
    ("awaiting_payment", "funded"): frozenset({SYSTEM}),
    ("awaiting_payment", "cancelled"): frozenset({BUYER, SELLER, OPERATOR, SYSTEM}),
    # once money is held, an operator may unwind an order that has not shipped; the system does it for the
    # buyer when the delivery window passed with nothing shipped and the seller's grace period ran out
    ("funded", "cancelled"): frozenset({OPERATOR, SYSTEM}),
    ("funded", "in_delivery"): frozenset({SELLER}),
    ("in_delivery", "delivered"): frozenset({SYSTEM}),
    ("in_delivery", "disputed"): frozenset({BUYER, SELLER}),
    ("delivered", "inspected"): frozenset({SYSTEM}),
    ("delivered", "disputed"): frozenset({BUYER, SELLER}),
    ("inspected", "goods_accepted"): frozenset({BUYER, SYSTEM}),
    ("inspected", "disputed"): frozenset({BUYER, SELLER}),
    ("goods_accepted", "settled"): frozenset({SYSTEM}),
    ("disputed", "settled"): frozenset({OPERATOR, SYSTEM}),  # SYSTEM: a settlement both parties agreed
    ("settled", "closed"): frozenset({BUYER, SELLER, OPERATOR, SYSTEM}),
}

STATES = (
    "placed", "accepted", "rejected", "contract_signed", "awaiting_payment", "funded", "in_delivery",
    "delivered", "inspected", "goods_accepted", "disputed", "settled", "closed", "cancelled",
)
TERMINAL = frozenset({"rejected", "cancelled", "closed"})
# states in which the order still holds listing stock that a cancellation gives back
HOLDS_STOCK = frozenset({"placed", "accepted", "contract_signed", "awaiting_payment", "funded"})

STATE_LABELS = {
    "placed": _l("Placed"),
    "accepted": _l("Accepted by seller"),
    "rejected": _l("Rejected"),
    "contract_signed": _l("Contract signed"),
    "awaiting_payment": _l("Awaiting payment"),
    "funded": _l("Paid into escrow"),
    "in_delivery": _l("In delivery"),
    "delivered": _l("Delivered"),
    "inspected": _l("Inspected"),
    "goods_accepted": _l("Goods accepted"),
    "disputed": _l("In dispute"),
    "settled": _l("Settled"),
    "closed": _l("Closed"),
    "cancelled": _l("Cancelled"),
}
# events that are not states, named in notifications ("Order JS-…: Contract confirmed by the other party")
EVENT_LABELS = {
    "contract_confirmed": _l("Contract confirmed by the other party"),
    "contract_change_proposed": _l("Contract change proposed"),
    "contract_amended": _l("Contract amended"),
    "lot_shipped": _l("Lot shipped"),
    "lot_delivered": _l("Lot delivered"),
    "lot_inspected": _l("Lot inspected"),
    "lot_accepted": _l("Lot accepted"),
    "top_up_requested": _l("The lot is worth more than was paid in: please pay the difference"),
    "top_up_waived": _l("The seller waived the difference"),
    "auto_release_scheduled": _l("Payment to the seller is released automatically unless you act"),
    "cancel_requested": _l("The buyer will cancel: nothing was shipped in the delivery window"),
    "dispute_response": _l("The other party answered the dispute"),
    "settlement_proposed": _l("A settlement of the dispute was proposed"),
}
# delivery lot states (DeliveryLot.state), as shown on the order page
LOT_STATE_LABELS = {
    "shipped": _l("Shipped"),
    "delivered": _l("Delivered"),
    "inspected": _l("Inspected"),
    "accepted": _l("Accepted"),
    "disputed": _l("In dispute"),
    "rejected": _l("Rejected"),
    "settled": _l("Settled"),
    "decided": _l("Decided by the platform"),
}
LOT_STATE_BADGE = {"accepted": "ok", "settled": "ok", "disputed": "bad", "rejected": "bad", "inspected": "warn"}
STATE_BADGE = {"rejected": "bad", "cancelled": "bad", "disputed": "bad", "settled": "ok", "closed": "ok",
               "goods_accepted": "ok", "awaiting_payment": "warn", "placed": "warn"}

# the timestamp column each state sets on arrival
_STAMPS = {
    "accepted": "accepted_at",
    "contract_signed": "contract_signed_at",
    "funded": "funded_at",
    "delivered": "delivered_at",
    "inspected": "inspected_at",
    "goods_accepted": "goods_accepted_at",
    "settled": "settled_at",
    "closed": "closed_at",
    "cancelled": "cancelled_at",
    "rejected": "cancelled_at",
}

# who hears about each arrival
_NOTIFY = {
    "placed": (SELLER,), "accepted": (BUYER,), "rejected": (BUYER,), "contract_signed": (BUYER, SELLER),
    "awaiting_payment": (BUYER,), "funded": (SELLER,), "in_delivery": (BUYER,), "delivered": (BUYER, SELLER),
    "inspected": (BUYER, SELLER), "goods_accepted": (SELLER,), "disputed": (BUYER, SELLER),
    "settled": (BUYER, SELLER), "closed": (BUYER, SELLER), "cancelled": (BUYER, SELLER),
}


ORDER = Lifecycle("trade_order", TradeOrder, TRANSITIONS, column="state", labels=STATE_LABELS,
                  snapshot=TradeOrder.snapshot)

# A delivery lot: shipped → delivered → inspected → accepted (or rejected) → settled; a dispute holds it
# until the operator decides it.
LOT_TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
    ("shipped", "delivered"): frozenset({BUYER, SELLER, SYSTEM}),
    ("shipped", "disputed"): frozenset({BUYER, SELLER}),
    ("delivered", "inspected"): frozenset({BUYER, SELLER, SYSTEM}),
    ("inspected", "inspected"): frozenset({BUYER, SELLER, SYSTEM}),  # a newer report replaces the last
    ("delivered", "disputed"): frozenset({BUYER, SELLER}),
    ("inspected", "accepted"): frozenset({BUYER, SYSTEM}),
    ("inspected", "rejected"): frozenset({BUYER, SYSTEM}),
    ("inspected", "disputed"): frozenset({BUYER, SELLER}),
    ("accepted", "settled"): frozenset({SYSTEM}),
    ("shipped", "decided"): frozenset({OPERATOR}),
    ("delivered", "decided"): frozenset({OPERATOR}),
    ("inspected", "decided"): frozenset({OPERATOR}),
    ("disputed", "decided"): frozenset({OPERATOR}),
}
LOT = Lifecycle("delivery_lot", DeliveryLot, LOT_TRANSITIONS, column="state", labels=LOT_STATE_LABELS)


def party_of(order: TradeOrder, company_id: int | None) -> str:
    """The acting company's side of ``order``; another company's order is a 404."""
    party = order.party(company_id)
    if party is None:
        raise NotFound("Not found")
    return party


def can(order: TradeOrder, to_state: str, party: str) -> bool:
    """Whether ``party`` may move ``order`` to ``to_state`` now (used to show or hide buttons)."""
    return ORDER.allows(order.state, to_state, party)


def allowed_targets(order: TradeOrder, party: str | None) -> list[str]:
    return [to for (frm, to), who in TRANSITIONS.items() if frm == order.state and party in who]


def transition(order: TradeOrder, to_state: str, *, party: str, actor_company_id: int | None,
               note: str | None = None, url: str | None = None, body: object = None, **fields: Any) -> None:
    """Move ``order`` to ``to_state`` as ``party`` through the kernel (409 if another request moved it
    first); then stamp the time, audit and notify in this transaction.

    ``fields`` are extra columns set with the move (e.g. ``cancel_reason``). ``note`` goes to the audit
    log and, unless ``body`` (a lazy message, read in each recipient's language) is given, to the parties.
    """
    stamp = _STAMPS.get(to_state)
    if stamp and getattr(order, stamp) is None:
        fields[stamp] = utcnow()
    if to_state in ("cancelled", "rejected"):
        fields["cancelled_by_company_id"] = actor_company_id
    ORDER.move(order, to_state, party=party, actor_company_id=actor_company_id, note=note,
               action=f"order.{to_state}", **fields)
    announce(order, to_state, note=body if body is not None else note, url=url)


def announce(order: TradeOrder, event: str, *, note: object = None, url: str | None = None,
             to: tuple[str, ...] | None = None) -> None:
    """Tell the parties about ``event`` (a state or another event name) by in-app notice and email."""
    # Lazy: notify_company renders it in each recipient's language.
    subject = _l("Order %(number)s: %(event)s", number=order.number or order.id,
                 event=STATE_LABELS[event] if event in STATE_LABELS else EVENT_LABELS.get(event, event))
    body = note if note is not None else ""
    for party in to if to is not None else _NOTIFY.get(event, (BUYER, SELLER)):
        company_id = order.buyer_id if party == BUYER else order.seller_id
        notify_company(company_id, f"order.{event}", subject, body, url or _order_url(order))


def _text(message: object, **values: object) -> str:
    """Translate in a request (the reader's locale); jobs and the CLI have no locale and use the English."""
    from flask import has_request_context
    from flask_babel import gettext
    from flask_babel.speaklater import LazyString

    raw = str(message._args[0]) if isinstance(message, LazyString) else str(message)
    if has_request_context():
        return gettext(raw, **values)
    return raw % values if values else raw


def _order_url(order: TradeOrder) -> str | None:
    from flask import current_app

    from market.core.links import public_url

    if "orders.detail" not in current_app.view_functions:
        return None
    return public_url("orders.detail", order_id=order.id)
