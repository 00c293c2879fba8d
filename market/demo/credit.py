"""Demo credit data: a year of archived trading between the demo companies, ratings on every settled
order, and credit reports computed month by month over that history (so the chart has a real past).

Nothing here sets a score: every snapshot is ``market.credit.services.recompute`` run "as of" an earlier
date over the orders and ratings that existed then.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from market.accounts.models import Company
from market.core.money import round_half_up
from market.core.timeutil import to_local, utcnow
from market.credit.models import Rating
from market.credit.services import recompute
from market.extensions import db
from market.orders.models import OrderLine, TradeOrder

LOGINS = [
    "credit: coal@… and power@… have a year of history — see 信用 (Credit) for the report and its chart",
]


@dataclass(frozen=True)
class Archived:
    """One archived order: who sold what to whom, how many days ago, and how punctual both sides were."""

    seller: str
    buyer: str
    title: str
    tonnes: int
    price_fen: int  # per tonne
    days_ago: int
    pay_late_days: int = 0
    deliver_late_days: int = 0


ARCHIVE = (
    Archived("datong_coal", "changzhi_power", "动力煤 Q5500 St≤0.8", 3000, 61_000, 330),
    Archived("datong_coal", "luliang_coking", "气煤 G≥65", 2000, 118_000, 300, pay_late_days=6),
    Archived("datong_coal", "changzhi_power", "动力煤 Q5500 St≤0.8", 3500, 60_000, 260),
    Archived("luliang_coking", "taiyuan_steel", "冶金焦 CSR≥60", 800, 205_000, 240),
    Archived("datong_coal", "changzhi_power", "动力煤 Q5000", 4000, 54_000, 190, deliver_late_days=4),
    Archived("datong_coal", "luliang_coking", "气煤 G≥65", 2500, 121_000, 150),
    Archived("luliang_coking", "taiyuan_steel", "冶金焦 CSR≥60", 900, 210_000, 120, pay_late_days=12),
    Archived("datong_coal", "changzhi_power", "动力煤 Q5500 St≤0.8", 3000, 62_000, 80),
    Archived("datong_coal", "luliang_coking", "气煤 G≥65", 1800, 119_000, 45),
    # the coking plant's washery sells middlings to the power plant
    Archived("luliang_coking", "changzhi_power", "洗中煤 Q4000", 2000, 38_000, 280),
    Archived("luliang_coking", "changzhi_power", "洗中煤 Q4000", 2500, 37_000, 100, deliver_late_days=2),
)


def _archive_order(spec: Archived, seller: Company, buyer: Company) -> TradeOrder:
    now = utcnow()
    placed = now - timedelta(days=spec.days_ago)
    due = placed + timedelta(days=5)
    window_end = placed + timedelta(days=20)
    delivered = window_end - timedelta(days=2) + timedelta(days=spec.deliver_late_days)
    settled = delivered + timedelta(days=4)
    amount = round_half_up(Decimal(spec.price_fen) * spec.tonnes)
    order = TradeOrder(
        buyer_id=buyer.id, seller_id=seller.id, state="closed", industry="coal", total_fen=amount, settled_fen=amount,
        delivery_address=buyer.address or "", note="历史订单（演示数据）", placed_at=placed,
        accepted_at=placed + timedelta(hours=3), contract_signed_at=placed + timedelta(hours=8),
        payment_due_at=due, funded_at=due - timedelta(days=1) + timedelta(days=spec.pay_late_days),
        delivery_window_start=placed + timedelta(days=7), delivery_window_end=window_end, delivered_at=delivered,
        inspected_at=delivered + timedelta(days=1), goods_accepted_at=delivered + timedelta(days=2),
        settled_at=settled, closed_at=settled + timedelta(days=1),
    )
    db.session.add(order)
    order.lines.append(OrderLine(title=spec.title, unit="t", quantity=Decimal(spec.tonnes),
                                 unit_price_fen=spec.price_fen, amount_fen=amount))
    db.session.flush()
    order.number = f"JS-{to_local(placed):%Y%m%d}-{order.id:06d}"
    return order


def _rate(order: TradeOrder, rater_id: int) -> None:
    """Ratings that follow the facts: punctual partners get five stars, late ones three."""
    as_buyer = rater_id == order.buyer_id
    if as_buyer:
        on_time = order.delivered_at is not None and order.delivered_at <= order.delivery_window_end
        stars, tags = (5, ["on_time", "as_described"]) if on_time else (3, ["late", "as_described"])
        comment = "发货及时，质量与合同一致。" if on_time else "晚到几天，质量没问题。"
    else:
        on_time = order.funded_at is not None and order.funded_at <= order.payment_due_at
        stars, tags = (5, ["paid_promptly", "good_communication"]) if on_time else (3, ["slow_payment"])
        comment = "付款准时，沟通顺畅。" if on_time else "付款晚了一周左右。"
    # a day after settlement, but never after now: demo history is never dated in the future
    rated_at = min(order.settled_at + timedelta(days=1), utcnow())
    db.session.add(Rating(order_id=order.id, rater_company_id=rater_id,
                          ratee_company_id=order.seller_id if as_buyer else order.buyer_id,
                          rater_role="buyer" if as_buyer else "seller", stars=stars, tags=tags, comment=comment,
                          created_at=rated_at, updated_at=rated_at))


def load(ctx: dict[str, Any], echo: Callable[[str], Any]) -> None:
    """Archive history, ratings on settled orders, and monthly credit snapshots up to today."""
    companies: dict[str, Company] = ctx.get("companies", {})
    if not all(key in companies for key in ("datong_coal", "changzhi_power", "luliang_coking", "taiyuan_steel")):
        echo("      credit: demo companies missing; skipped")
        return
    now = utcnow()
    for key in {spec.seller for spec in ARCHIVE} | {spec.buyer for spec in ARCHIVE}:
        # these companies traded on the platform for the past year: their accounts predate the archive
        companies[key].created_at = min(companies[key].created_at, now - timedelta(days=400))
    archived = [_archive_order(spec, companies[spec.seller], companies[spec.buyer]) for spec in ARCHIVE]
    ctx.setdefault("orders_archive", archived)

    settled = db.session.scalars(select(TradeOrder).where(TradeOrder.settled_at.is_not(None))).all()
    rated = {tuple(row) for row in db.session.execute(select(Rating.order_id, Rating.rater_company_id))}
    count = 0
    for order in settled:
        for rater_id in (order.buyer_id, order.seller_id):
            if (order.id, rater_id) not in rated:
                _rate(order, rater_id)
                count += 1
    db.session.flush()

    parties = sorted({o.buyer_id for o in settled} | {o.seller_id for o in settled})
    snapshots = 0
    for days_ago in range(360, 0, -30):  # month by month, as the history stood then
        for company_id in parties:
            recompute(company_id, now=now - timedelta(days=days_ago))
            snapshots += 1
    for company in companies.values():
        recompute(company.id, now=now)
        snapshots += 1
    graded = ", ".join(f"{c.name_zh} {c.credit_grade or '未评级'}" for c in companies.values()
                       if c.id in parties)
    echo(f"      {len(archived)} archived orders, {count} ratings, {snapshots} credit snapshots ({graded})")
