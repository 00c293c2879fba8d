"""Inspection reports on delivered lots, the inspection-adjusted amount, and the buyer's acceptance.

Measured specs are validated against the category's physical ranges (``catalog.specs``), and the
specs the settlement rule needs must be present. The latest report of a lot counts; a new report
before acceptance replaces the computation (and re-arms the auto-release).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, select

from catalog.models import Category
from catalog.specs import validate_specs
from market.accounts.models import Company, CompanyKind
from market.core.audit import record
from market.core.errors import InvalidTransition, NotFound, ValidationFailed
from market.core.jobs import handler
from market.core.timeutil import utcnow
from market.extensions import db
from market.orders import escrow_link
from market.orders.lifecycle import BUYER, LOT, SELLER, SYSTEM, announce, party_of
from market.orders.models import DeliveryLot, InspectionReport, TradeOrder
from market.orders.services import advance, get_lot, max_quantity
from market.orders.settlement import settle_lot

# specs a settlement rule cannot do without
REQUIRED_BY_RULE = {"coal": ("qnet_ar",), "agri_moisture": ("moisture",)}


def inspector_role(order: TradeOrder, company: Company) -> str:
    """Who may file: the named inspection agency if the contract names one, otherwise buyer or seller."""
    party = party_of(order, company.id)
    if order.inspection_agency_id is not None:
        if party != "agency" or company.kind != CompanyKind.SERVICE_PROVIDER:
            raise InvalidTransition("The contract names an inspection agency: only its report counts.")
        return "agency"
    if party not in (BUYER, SELLER):
        raise NotFound("Not found")
    return party


def clean_measurements(lot: DeliveryLot, raw: dict[str, Any]) -> dict[str, Any]:
    """Validate measured values: known attributes, inside physical ranges, and what the rule needs."""
    line = lot.line
    category = db.session.get(Category, line.category_id) if line.category_id else None
    raw = {k: v for k, v in raw.items() if v not in (None, "")}
    if category is not None:
        # measuring only some attributes is fine; each given one must be physically possible
        schema = [{**attribute, "required": False} for attribute in category.spec_schema]
        values = validate_specs(schema, raw)
    else:
        values = {}
        for key, value in raw.items():
            try:
                number = Decimal(str(value))
            except InvalidOperation:
                raise ValidationFailed("Some measurements are invalid.",
                                       field_errors={f"specs.{key}": "Enter a number."}) from None
            if not number.is_finite() or number < 0:
                raise ValidationFailed("Some measurements are invalid.",
                                       field_errors={f"specs.{key}": "Enter a number."})
            values[key] = str(number)
    missing = [key for key in REQUIRED_BY_RULE.get(line.price_rule.get("kind", ""), ()) if key not in values]
    if missing:
        raise ValidationFailed("The settlement rule needs these measurements.",
                               field_errors={f"specs.{key}": "Required." for key in missing})
    # keep exact decimals for settlement: numbers go through str, never float arithmetic
    return {key: (str(value) if isinstance(value, int | float) else value) for key, value in values.items()}


def file_report(order: TradeOrder, company: Company, lot_id: object, *, measured: dict[str, Any],
                measured_quantity: Decimal, user_id: int | None, certificate_no: str | None = None,
                method: str | None = None, note: str | None = None) -> InspectionReport:
    """File an inspection report on a delivered lot and compute the lot's settled amount."""
    role = inspector_role(order, company)
    lot = get_lot(order, lot_id)
    if lot.state not in ("delivered", "inspected") or order.state not in ("in_delivery", "delivered", "inspected"):
        raise InvalidTransition("This lot cannot be inspected now.")
    if measured_quantity <= 0 or measured_quantity > lot.quantity * 2:
        raise ValidationFailed("The measured quantity is not plausible.",
                               field_errors={"measured_quantity": "The measured quantity is not plausible."})
    values = clean_measurements(lot, measured)
    report = InspectionReport(lot_id=lot.id, inspector_company_id=company.id, inspector_role=role,
                              filed_by_user_id=user_id, certificate_no=(certificate_no or "").strip()[:60] or None,
                              method=(method or "").strip()[:120] or None, measured=values,
                              measured_quantity=measured_quantity, note=note, filed_at=utcnow())
    db.session.add(report)
    result = settle_lot(lot.line.price_rule, lot.line.unit_price_fen, measured_quantity, values,
                        shipped_quantity=lot.quantity, max_quantity=_payable_room(order, lot))
    LOT.move(lot, "inspected", actor_company_id=company.id, action="lot.inspected",
             note=f"settled_fen={result.amount_fen} rejected={result.rejected}",
             settled_fen=result.amount_fen, settlement=result.as_dict(), inspected_at=utcnow())
    announce(order, "lot_inspected", note=f"{lot.reference}", to=(BUYER, SELLER))
    escrow_link.arm_lot(order, lot)
    advance(order)
    return report


def _payable_room(order: TradeOrder, lot: DeliveryLot) -> Decimal:
    """What is left to pay for on the lot's line: ordered + tolerance, less other lots already inspected."""
    other = db.session.scalar(
        select(func.coalesce(func.sum(InspectionReport.measured_quantity), 0))
        .join(DeliveryLot, DeliveryLot.id == InspectionReport.lot_id)
        .where(DeliveryLot.line_id == lot.line_id, DeliveryLot.id != lot.id,
               InspectionReport.id.in_(select(func.max(InspectionReport.id)).group_by(InspectionReport.lot_id)))
    ) or Decimal(0)
    return max(max_quantity(order, lot.line) - Decimal(other), Decimal(0))


def accept_lot(order: TradeOrder, company_id: int, lot_id: object) -> DeliveryLot:
    """The buyer accepts the inspection: the adjusted amount is released (a rejected lot pays nothing)."""
    if party_of(order, company_id) != BUYER:
        raise InvalidTransition("Only the buyer accepts a lot.")
    escrow_link.lock_for(order)
    lot = get_lot(order, lot_id)
    if lot.state != "inspected" or order.state == "disputed":
        raise InvalidTransition("This lot cannot be accepted now.")
    rejected = bool((lot.settlement or {}).get("rejected"))
    LOT.move(lot, "rejected" if rejected else "accepted", party=BUYER, actor_company_id=company_id,
             action="lot.accepted", accepted_at=utcnow())
    escrow_link.release_lot(order, lot)  # the escrow_released receiver books lot.released_fen
    announce(order, "lot_accepted", note=lot.reference, to=(SELLER,))
    advance(order)
    return lot


def waive_top_up(order: TradeOrder, company_id: int, lot_id: object) -> DeliveryLot:
    """The seller gives up the difference the buyer owes for an over-delivered lot; the order may settle."""
    if party_of(order, company_id) != SELLER:
        raise InvalidTransition("Only the seller can waive the difference.")
    lot = get_lot(order, lot_id)
    if not lot.topup_fen:
        raise InvalidTransition("Nothing is owed for this lot.")
    amount = escrow_link.waive_top_up(order, lot)
    record("lot.top_up_waived", "delivery_lot", lot.id, actor_company_id=company_id, after={"waived_fen": amount})
    announce(order, "top_up_waived", note=lot.reference, to=(BUYER,))
    advance(order)
    return lot


@handler("orders.auto_accept_lot")
def auto_accept_zero_lot(lot_id: int, inspected_at: str) -> None:
    """A lot whose adjusted amount is zero (rejected on quality) and that nobody acted on is closed as
    rejected after the auto-release period (idempotent; a newer inspection re-arms its own job)."""
    lot = db.session.get(DeliveryLot, lot_id)
    if lot is None or lot.state != "inspected" or str(lot.inspected_at) != inspected_at:
        return
    if lot.order.state == "disputed":
        return
    if (lot.settled_fen or 0) > 0 and not (lot.settlement or {}).get("rejected"):  # worth more than held
        LOT.move(lot, "accepted", party=SYSTEM, action="lot.auto_accepted", accepted_at=utcnow())
        escrow_link.release_lot(lot.order, lot)
        advance(lot.order)
        return
    LOT.move(lot, "rejected", party=SYSTEM, action="lot.auto_rejected", accepted_at=utcnow())
    advance(lot.order)
