"""Factories for trade: categories with real spec schemas, published listings, orders in any state."""

from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from catalog.models import Category, Listing, ListingStatus, PriceTier
from catalog.seed import AD, MOISTURE, MT, QNET, ST_D, VDAF
from market.accounts.models import Company, CompanyKind, User
from market.core.timeutil import utcnow
from market.extensions import db
from market.orders import contracts, inspection, services
from market.orders.models import TradeOrder
from market.orders.placement import Delivery, place_listing_orders

__all__ = ["delivery", "fund_order", "make_agency", "make_coal_category", "make_grain_category",
           "make_trade_listing", "make_trader", "order_in_state", "place_test_order", "sign_contract"]

_n = itertools.count(1)


def make_coal_category() -> Category:
    """Thermal coal with the seeded schema (Qnet,ar 2500–7800 kcal/kg, St,d 0–6 %, ...)."""
    existing = db.session.scalars(select(Category).where(Category.slug == "t-thermal-coal")).first()
    if existing:
        return existing
    category = Category(slug="t-thermal-coal", industry="coal", name_zh="动力煤", name_en="Thermal coal",
                        spec_schema=[QNET, ST_D, AD, VDAF, MT])
    db.session.add(category)
    db.session.flush()
    return category


def make_grain_category() -> Category:
    category = Category(slug=f"t-millet-{next(_n)}", industry="agriculture", name_zh="小米", name_en="Millet",
                        spec_schema=[MOISTURE])
    db.session.add(category)
    db.session.flush()
    return category


def make_trader(name: str | None = None, role: str = "owner", **company_fields: Any) -> tuple[Company, User]:
    """A verified company and its owner."""
    from tests.factories.accounts import make_company, make_member

    company = make_company(name, **company_fields)
    return company, make_member(company, role=role)


def make_agency() -> tuple[Company, User]:
    return make_trader("山西煤炭检验检测中心", kind=CompanyKind.SERVICE_PROVIDER)


def make_trade_listing(seller: Company, *, price_fen: int = 80_000, stock: str = "1000", moq: str = "10",
                       specs: dict[str, Any] | None = None, category: Category | None = None,
                       tiers: list[tuple[str, int]] = ()) -> Listing:  # type: ignore[assignment]
    """A published coal listing: ¥800.00/t, 5,500 kcal/kg, St,d 0.8 %."""
    category = category or make_coal_category()
    listing = Listing(seller_id=seller.id, category_id=category.id, title_zh=f"动力煤 5500 #{next(_n)}",
                      specs=specs if specs is not None else {"qnet_ar": 5500, "st_d": 0.8, "ad": 18, "mt": 10},
                      unit="t", unit_price_fen=price_fen, min_order_quantity=Decimal(moq),
                      available_quantity=Decimal(stock), status=ListingStatus.PUBLISHED, published_at=utcnow())
    listing.price_tiers = [PriceTier(min_quantity=Decimal(q), unit_price_fen=p) for q, p in tiers]
    db.session.add(listing)
    db.session.flush()
    return listing


def delivery(days: int = 3, **fields: Any) -> Delivery:
    start = utcnow() + timedelta(days=days)
    return Delivery(address=fields.pop("address", "山西省大同市云冈区电厂路1号"), window_start=start,
                    window_end=start + timedelta(days=fields.pop("length", 20)), **fields)


def place_test_order(buyer: Company, listing: Listing, quantity: str = "100", **delivery_fields: Any) -> TradeOrder:
    return place_listing_orders(buyer, [(listing.id, Decimal(quantity))], delivery(**delivery_fields),
                                user_id=None, key=None)[0]


def sign_contract(order: TradeOrder) -> None:
    contract = contracts.current(order)
    contracts.confirm(order, order.seller_id, None, contract.content_sha256)
    contracts.confirm(order, order.buyer_id, None, contract.content_sha256)


def fund_order(order: TradeOrder) -> None:
    """Pay the order's escrow through the sandbox provider (the real signed-webhook path)."""
    from market.orders.escrow_link import escrow_of
    from payments.checkout import simulate_payment

    simulate_payment(escrow_of(order))
    db.session.refresh(order)


def order_in_state(state: str, *, quantity: str = "1000", agency: Company | None = None,
                   **listing_fields: Any) -> TradeOrder:
    """An order driven through the real services to ``state`` (placed ... delivered)."""
    buyer, _ = make_trader("大同第二发电有限公司")
    seller, _ = make_trader("大同煤业销售有限公司")
    listing = make_trade_listing(seller, stock=listing_fields.pop("stock", "5000"), **listing_fields)
    order = place_test_order(buyer, listing, quantity,
                             inspection_agency_id=agency.id if agency else None)
    steps = ["accepted", "awaiting_payment", "funded", "in_delivery", "delivered"]
    for step in steps[: steps.index(state) + 1] if state in steps else []:
        if step == "accepted":
            services.accept_order(order, seller.id)
        elif step == "awaiting_payment":
            sign_contract(order)
        elif step == "funded":
            fund_order(order)
        elif step == "in_delivery":
            services.ship_lot(order, seller.id, line_id=order.lines[0].id, quantity=Decimal(quantity),
                              transport_ref="TY-001", final=True)
        elif step == "delivered":
            services.confirm_delivery(order, buyer.id, order.lots[0].id, None)
    db.session.flush()
    return order


def inspect(order: TradeOrder, company: Company, measured: dict[str, Any], quantity: str | None = None) -> None:
    inspection.file_report(order, company, order.lots[0].id, measured=measured,
                           measured_quantity=Decimal(quantity or order.lots[0].quantity), user_id=None)
