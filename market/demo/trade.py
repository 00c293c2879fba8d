"""Demo trade: an open RFQ with sealed quotes and orders in every interesting state, made through the
real services (so audit rows, notifications, contracts and escrow ledgers are all genuine).

Runs after the accounts and catalog loaders; puts the orders in ``ctx["orders"]`` (name → order).
The coal order ``coal_agency_settled`` is the worked example: paid into escrow via the sandbox,
delivered, inspected by the inspection agency at 5,320 instead of the contracted base, and released
pro rata, the rest refunded to the buyer.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any

from market.core.money import format_fen
from market.core.timeutil import utcnow
from market.extensions import db
from market.orders import contracts, disputes, inspection, services
from market.orders.escrow_link import escrow_of
from market.orders.placement import Delivery, place_listing_orders
from market.rfq import services as rfq_services

LOGINS = ["(trade) power@ buys coal: orders in every state; coal@ sells; inspect@ files inspection reports"]
MAX_DEMO_ORDER_FEN = 150_000_000  # stay below the L1 order limit of the credit gate


def _listing(ctx: dict[str, Any], seller_key: str, slug: str, skip: int = 0) -> Any:
    seller = ctx["companies"][seller_key]
    found = [lst for lst in ctx.get("listings", []) if lst.seller_id == seller.id and lst.category.slug == slug
             and lst.status == "published"]
    return found[skip % len(found)] if found else None


def _quantity(listing: Any, share: str = "0.2") -> Decimal:
    """A sensible demo quantity: a share of the stock, at least the MOQ, under the demo amount cap."""
    quantity = max(listing.min_order_quantity, (listing.available_quantity * Decimal(share)).quantize(Decimal(1)))
    cap = (Decimal(MAX_DEMO_ORDER_FEN) / Decimal(listing.unit_price_fen)).quantize(Decimal(1), rounding=ROUND_DOWN)
    return min(quantity, cap, listing.available_quantity)


def _order(ctx: dict[str, Any], buyer_key: str, listing: Any, **delivery: Any) -> Any:
    start = utcnow() + timedelta(days=2)
    details = Delivery(address=ctx["companies"][buyer_key].address or "山西", window_start=start,
                       window_end=start + timedelta(days=25), po_number=delivery.pop("po", None), **delivery)
    return place_listing_orders(ctx["companies"][buyer_key], [(listing.id, _quantity(listing))], details,
                                user_id=None, key=None)[0]


def _sign_and_fund(order: Any, *, fund: bool = True) -> None:
    from payments.checkout import simulate_payment

    services.accept_order(order, order.seller_id)
    contract = contracts.current(order)
    contracts.confirm(order, order.seller_id, None, contract.content_sha256)
    contracts.confirm(order, order.buyer_id, None, contract.content_sha256)
    if fund:
        simulate_payment(escrow_of(order))  # the sandbox's signed webhook, as a real payment arrives
        db.session.refresh(order)


def _ship_all(order: Any) -> Any:
    services.ship_lot(order, order.seller_id, line_id=order.lines[0].id, quantity=order.lines[0].quantity,
                      transport_ref="大秦线 C80 敞车 4518-4577", final=True)
    lot = order.lots[-1]
    services.confirm_delivery(order, order.buyer_id, lot.id, None)
    return lot


def load(ctx: dict[str, Any], echo: Callable[[str], Any]) -> None:
    """Create the RFQ and the orders (skipped quietly if the accounts or catalog demo is missing)."""
    companies = ctx.get("companies") or {}
    needed = ("datong_coal", "changzhi_power", "luliang_coking", "inspection_agency", "xinzhou_millet",
              "taiyuan_steel")
    coal = _listing(ctx, "datong_coal", "thermal-coal")
    if any(k not in companies for k in needed) or coal is None:
        echo("      (accounts or catalog demo missing: no trade demo)")
        return
    orders: dict[str, Any] = {}
    agency = companies["inspection_agency"]

    orders["placed"] = _order(ctx, "changzhi_power", coal, po="SD-2026-0311")
    coke = _listing(ctx, "luliang_coking", "coke") or _listing(ctx, "luliang_coking", "prime-coking-coal")
    if coke is not None:
        orders["awaiting_payment"] = _order(ctx, "taiyuan_steel", coke, po="JG-PO-5521")
        _sign_and_fund(orders["awaiting_payment"], fund=False)

    order = _order(ctx, "changzhi_power", _listing(ctx, "datong_coal", "thermal-coal", 1), po="SD-2026-0312")
    _sign_and_fund(order)
    services.ship_lot(order, order.seller_id, line_id=order.lines[0].id,
                      quantity=(order.lines[0].quantity / 2).quantize(Decimal("0.001")),
                      transport_ref="晋B 58211 等 12 车", final=False)
    orders["in_delivery"] = order

    order = _order(ctx, "luliang_coking", _listing(ctx, "datong_coal", "thermal-coal", 2), po="XY-7781")
    _sign_and_fund(order)
    _ship_all(order)
    base = Decimal(str(order.lines[0].specs.get("qnet_ar", 5500)))
    inspection.file_report(order, order.buyer, order.lots[0].id, user_id=None,
                           measured={"qnet_ar": str(base - 260), "st_d": "0.9"},
                           measured_quantity=order.lots[0].quantity, certificate_no="XY-QC-0415",
                           method="GB/T 213-2008")
    dispute = disputes.open_dispute(order, order.buyer_id, lot_id=order.lots[0].id,
                                    reason="到货煤发热量明显低于合同约定，且混有矸石，要求按实际质量结算并扣除杂质部分货款。")
    disputes.respond(dispute, order.seller_id,
                     text="装车前经矿方化验发热量符合合同约定，矸石系铁路运输途中混入，建议按第三方复检结果结算。")
    orders["disputed"] = order

    # over-delivery within the ±5 % tolerance: the lot is worth more than was paid in; the buyer owes the
    # difference (a top-up on the same escrow) and the order waits for it
    listing = _listing(ctx, "datong_coal", "thermal-coal", 4) or _listing(ctx, "datong_coal", "thermal-coal", 1)
    order = _order(ctx, "luliang_coking", listing, po="XY-7790")
    _sign_and_fund(order)
    over = (order.lines[0].quantity * Decimal("1.04")).quantize(Decimal("0.001"), rounding=ROUND_DOWN)
    services.ship_lot(order, order.seller_id, line_id=order.lines[0].id, quantity=over,
                      transport_ref="大秦线 C80 敞车 4601-4640", final=True)
    lot = order.lots[-1]
    services.confirm_delivery(order, order.buyer_id, lot.id, None)
    inspection.file_report(order, order.buyer, lot.id, user_id=None,
                           measured={"qnet_ar": str(order.lines[0].specs.get("qnet_ar", 5500)), "st_d": "0.8"},
                           measured_quantity=over, certificate_no="XY-QC-0431")
    inspection.accept_lot(order, order.buyer_id, lot.id)
    orders["top_up"] = order

    # the worked example: third-party inspection at a lower calorific value, released pro rata
    order = _order(ctx, "changzhi_power", _listing(ctx, "datong_coal", "thermal-coal", 3), po="SD-2026-0298",
                   inspection_agency_id=agency.id)
    _sign_and_fund(order)
    lot = _ship_all(order)
    base = Decimal(str(order.lines[0].specs.get("qnet_ar", 5500)))
    inspection.file_report(order, agency, lot.id, user_id=None, measured={"qnet_ar": str(base - 180), "st_d": "0.8"},
                           measured_quantity=lot.delivered_quantity, certificate_no="JJ-2026-C-0877",
                           method="GB/T 475 采样; GB/T 213 发热量; GB/T 214 全硫")
    inspection.accept_lot(order, order.buyer_id, lot.id)
    orders["coal_agency_settled"] = order

    millet = _listing(ctx, "xinzhou_millet", "millet")
    buyer_key = "education_bureau" if "education_bureau" in companies else "changzhi_power"
    if millet is not None:
        order = _order(ctx, buyer_key, millet, po="PY-JY-2026-12")
        _sign_and_fund(order)
        lot = _ship_all(order)
        moisture = Decimal(str(order.lines[0].specs.get("moisture", 13))) + 1
        inspection.file_report(order, order.buyer, lot.id, user_id=None, measured={"moisture": str(moisture)},
                               measured_quantity=lot.delivered_quantity)
        inspection.accept_lot(order, order.buyer_id, lot.id)
        services.close_order(order, order.buyer_id)
        orders["closed"] = order

    rfq = rfq_services.post_rfq(companies["changzhi_power"], None, rfq_services.RfqInput(
        category_id=coal.category_id, title="2026年二季度电煤采购 5500大卡 1500吨", quantity=Decimal(1500), unit="t",
        delivery_place="长治上党热电厂区煤场", window_start=utcnow() + timedelta(days=10),
        window_end=utcnow() + timedelta(days=40), deadline=utcnow() + timedelta(days=3),
        spec_ranges={"qnet_ar": {"min": "5400"}, "st_d": {"max": "1.0"}},
        description="汽车或铁路运输均可，需提供第三方检验报告。"))
    for key, price in (("datong_coal", 78_500), ("luliang_coking", 80_200)):
        rfq_services.submit_quote(rfq, companies[key], None, unit_price_fen=price, quantity=Decimal(1500),
                                  specs={"qnet_ar": 5500, "st_d": 0.7}, valid_until=rfq.deadline + timedelta(days=10),
                                  terms="到厂价，含税；检验以第三方报告为准")
    ctx["orders"] = orders
    ctx["rfqs"] = [rfq]
    settled = orders["coal_agency_settled"]
    echo(f"      {len(orders)} orders (coal example {settled.number}: {format_fen(settled.total_fen)} → released "
         f"{format_fen(settled.settled_fen)}), 1 open RFQ with 2 sealed quotes")
