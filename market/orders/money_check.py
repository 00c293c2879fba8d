"""The orders half of ``jinshang ledger-check``: orders, lots, disputes and escrows tell the same story.

Registered with :func:`payments.check.register_check` (payments may not import orders). Per order with an
escrow (the escrow reference is the order number):

* what the lots and decided disputes say the seller got = what the escrow released (which payments' own
  check ties to the ledger postings);
* a settled or closed order's ``settled_fen`` = the escrow's releases;
* an order in dispute has an open dispute and a frozen escrow, and an open dispute belongs to an order in
  dispute; a decided dispute's split adds up to what it decided.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select

from market.extensions import db
from market.orders.models import DeliveryLot, Dispute, TradeOrder
from payments.models import Escrow, EscrowStatus


def find_order_violations() -> list[str]:
    """Every disagreement between orders and their money, as a sentence (empty when all agree)."""
    problems: list[str] = []
    lots = dict(db.session.execute(select(DeliveryLot.order_id, func.sum(DeliveryLot.released_fen))
                                   .group_by(DeliveryLot.order_id)).all())
    decided: dict[int, int] = defaultdict(int)
    open_disputes: dict[int, int] = defaultdict(int)
    for dispute in db.session.scalars(select(Dispute)):
        if dispute.status == "open":
            open_disputes[dispute.order_id] += 1
        else:
            decided[dispute.order_id] += dispute.payee_fen or 0
    rows = db.session.execute(select(TradeOrder, Escrow).join(Escrow, Escrow.reference == TradeOrder.number))
    for order, escrow in rows:
        told = int(lots.get(order.id) or 0) + decided[order.id]
        if told != escrow.released_fen:
            problems.append(f"order {order.number}: lots and decisions say {told} fen went to the seller, the escrow "
                            f"released {escrow.released_fen}")
        if order.state in ("settled", "closed") and (order.settled_fen or 0) != escrow.released_fen:
            problems.append(f"order {order.number}: settled {order.settled_fen} fen but the escrow released "
                            f"{escrow.released_fen}")
        if order.state == "disputed" and not open_disputes[order.id]:
            problems.append(f"order {order.number} is in dispute without an open dispute")
        if open_disputes[order.id] and order.state != "disputed":
            problems.append(f"order {order.number} has an open dispute but is {order.state}")
        if open_disputes[order.id] and escrow.status not in (EscrowStatus.FROZEN, EscrowStatus.AWAITING_FUNDS,
                                                             EscrowStatus.CANCELLED):
            problems.append(f"order {order.number} has an open dispute but its escrow is {escrow.status}")
        if escrow.status == EscrowStatus.FROZEN and not open_disputes[order.id]:
            problems.append(f"order {order.number}: the escrow is frozen with no open dispute")
    return problems
