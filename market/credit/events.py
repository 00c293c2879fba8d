"""Recompute scores when the facts they stand on change, without the orders package having to ask.

One ``before_flush`` listener looks at the orders and disputes being written: when an order moves to a
state that changes a timeliness or outcome fact (funded, delivered, inspected, settled, cancelled, ...) or
a dispute gets its decision, a ``credit.recompute`` job for each party joins the same transaction. So a
rolled-back request queues nothing, and every path (pages, API, jobs, operators) is covered.
Time alone also moves a score (an unpaid order grows later each day): run ``jinshang credit-recompute``
daily for that.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from market.core.jobs import Job, enqueue
from market.core.transitions import Lifecycle, on_move
from market.extensions import db
from market.orders.models import Dispute, TradeOrder

RECOMPUTE_JOB = "credit.recompute"
SCORED_STATES = frozenset({"funded", "delivered", "inspected", "goods_accepted", "settled", "closed", "cancelled",
                           "rejected"})


def request_recompute(company_id: int) -> None:
    """Ask the worker to recompute ``company_id``'s report after this transaction commits.

    Orders and payments call this on events that move a score: funding, delivery, inspection, settlement,
    cancellation, a dispute's decision, a new rating. A job already queued for the company is reused.
    """
    queued = db.session.scalars(select(Job).where(Job.kind == RECOMPUTE_JOB, Job.status == "queued")).all()
    if any(job.payload.get("company_id") == company_id for job in queued):
        return
    enqueue(RECOMPUTE_JOB, company_id=company_id)



@on_move
def _order_moved(lifecycle: Lifecycle, obj: Any, _from: str, to: str) -> None:
    """Order states move through the kernel's conditional UPDATE, which the ORM's history never sees."""
    if lifecycle.name == "trade_order" and to in SCORED_STATES:
        for company_id in {obj.buyer_id, obj.seller_id} - {None}:
            request_recompute(company_id)


def _changed_to(obj: Any, attribute: str) -> list[Any]:
    return list(inspect(obj).attrs[attribute].history.added)


def _parties_to_recompute(session: Session) -> set[int]:
    ids: set[int] = set()
    for obj in (*session.new, *session.dirty):
        if isinstance(obj, TradeOrder) and any(s in SCORED_STATES for s in _changed_to(obj, "state")):
            ids.update(i for i in (obj.buyer_id, obj.seller_id) if i is not None)
        elif isinstance(obj, Dispute) and (_changed_to(obj, "losing_company_id") or _changed_to(obj, "resolved_at")):
            order = obj.order or session.get(TradeOrder, obj.order_id)
            if order is not None:
                ids.update((order.buyer_id, order.seller_id))
    return ids


@event.listens_for(Session, "before_flush")
def _queue_recomputes(session: Session, _context: Any, _instances: Any) -> None:
    ids = _parties_to_recompute(session)
    if not ids:
        return
    pending = {job.payload.get("company_id") for job in session.new
               if isinstance(job, Job) and job.kind == RECOMPUTE_JOB}
    queued = {job.payload.get("company_id") for job in session.scalars(
        select(Job).where(Job.kind == RECOMPUTE_JOB, Job.status == "queued"))}
    for company_id in sorted(ids - pending - queued):
        session.add(Job(kind=RECOMPUTE_JOB, payload={"company_id": company_id}))
