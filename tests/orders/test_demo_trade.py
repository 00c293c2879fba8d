"""The demo loader runs on an empty database and leaves orders in the promised states."""

from __future__ import annotations

from market import demo
from market.orders.escrow_link import escrow_of


def test_demo_trade_orders_and_the_coal_example():
    ctx = demo.load(echo=lambda _line: None)
    orders = ctx["orders"]
    assert orders["placed"].state == "placed"
    assert orders["awaiting_payment"].state == "awaiting_payment"
    assert orders["in_delivery"].state == "in_delivery"
    assert orders["in_delivery"].funded_at
    assert orders["disputed"].state == "disputed"
    assert escrow_of(orders["disputed"]).status == "frozen"
    assert orders["closed"].state == "closed"
    coal = orders["coal_agency_settled"]
    assert coal.state == "settled"
    assert coal.lots[0].inspection.inspector_role == "agency"
    escrow = escrow_of(coal)
    assert escrow.released_fen == coal.settled_fen < coal.total_fen
    assert escrow.refunded_fen == coal.total_fen - coal.settled_fen
    assert ctx["rfqs"][0].status == "open"
