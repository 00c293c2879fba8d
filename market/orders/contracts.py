"""Purchase contracts: frozen, versioned content confirmed by both parties with a SHA-256 of what they saw.

``content`` is plain data (parties with USCC, goods and specs, tolerance, price and adjustment rule,
delivery, inspection, payment, dispute resolution). The same data renders as HTML and PDF in Chinese
or English (:mod:`market.orders.contract_text`), so the hash covers the terms, not a layout. A change
proposal is a new version; it takes effect on the order only when both parties confirmed it.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from market.accounts.models import Company, CompanyKind
from market.core.audit import record
from market.core.errors import Conflict, InvalidTransition, ValidationFailed
from market.core.timeutil import utcnow
from market.core.transitions import ANYONE, Lifecycle, lock
from market.extensions import db
from market.orders import escrow_link
from market.orders.lifecycle import BUYER, SELLER, SYSTEM, announce, party_of, transition
from market.orders.models import Contract, TradeOrder


def N_(message: str) -> str:
    return message


CONTRACT = Lifecycle("contract", Contract, {("draft", "signed"): {ANYONE}, ("draft", "superseded"): {ANYONE},
                                            ("signed", "superseded"): {ANYONE}})

AMENDABLE_STATES = ("accepted", "contract_signed", "awaiting_payment", "funded", "in_delivery")
# msgids: the contract content stores the English text (hashed); contract_text translates it when shown
INSPECTION_METHODS = {
    "coal": N_("GB/T 475 / GB/T 19494 sampling; GB/T 213 (Qnet,ar), GB/T 214 (St,d), GB/T 212 (Ad, Mt)"),
    "metallurgy": N_("Weighing on a certified scale; mill certificate per the product standard"),
    "agriculture": N_("GB/T 5491 sampling; GB 5009.3 moisture; grading per the product standard"),
}
NO_AGENCY_METHOD = N_("Inspection on arrival by the buyer")


def canonical_json(content: dict[str, Any]) -> str:
    """The exact text that is hashed: sorted keys, no insignificant whitespace, UTF-8."""
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def sha256_of(content: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()


def _party(company: Company) -> dict[str, Any]:
    return {"name_zh": company.name_zh, "name_en": company.name_en or "", "uscc": company.uscc,
            "address": company.address or "", "contact": company.contact_name or "",
            "phone": company.contact_phone or ""}


def build_content(order: TradeOrder, version: int) -> dict[str, Any]:
    """The contract terms as of the order's current fields."""
    agency = db.session.get(Company, order.inspection_agency_id) if order.inspection_agency_id else None
    return {
        "number": f"{order.number}-C{version}",
        "order_number": order.number,
        "version": version,
        "buyer": _party(order.buyer),
        "seller": _party(order.seller),
        "buyer_po_number": order.buyer_po_number or "",
        "goods": [{"title": line.title, "specs": line.specs, "quantity": str(line.quantity), "unit": line.unit,
                   "unit_price_fen": line.unit_price_fen, "amount_fen": line.amount_fen,
                   "price_rule": line.price_rule} for line in order.lines],
        "total_fen": order.total_fen,
        "currency": order.currency,
        "quantity_tolerance_pct": str(order.quantity_tolerance_pct),
        "delivery": {"terms": order.delivery_terms, "address": order.delivery_address,
                     "window_start": _iso(order.delivery_window_start),
                     "window_end": _iso(order.delivery_window_end)},
        "inspection": {"method": INSPECTION_METHODS.get(order.industry or "", NO_AGENCY_METHOD),
                       "agency": _party(agency) if agency else None},
        "payment": {"method": "escrow", "due_days": 3,
                    "auto_release_days": int(current_app.config["ESCROW_AUTO_RELEASE_DAYS"])},
        "dispute_resolution": "platform_then_court",
        **({"seller_terms": order.seller_terms} if order.seller_terms else {}),
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def current(order: TradeOrder) -> Contract | None:
    """The latest version (what the parties are asked to confirm)."""
    return order.contracts[-1] if order.contracts else None


def effective(order: TradeOrder) -> Contract | None:
    """The latest version both parties confirmed."""
    signed = [c for c in order.contracts if c.fully_signed]
    return signed[-1] if signed else None


def _new_version(order: TradeOrder, content: dict[str, Any], proposed_by: int | None, note: str | None) -> Contract:
    for older in order.contracts:
        if older.status == "draft":
            CONTRACT.move(older, "superseded", audit_row=False)
    contract = Contract(order_id=order.id, version=content["version"], content=content,
                        content_sha256=sha256_of(content), proposed_by_company_id=proposed_by, change_note=note,
                        created_at=utcnow())
    db.session.add(contract)
    order.contracts.append(contract)
    db.session.flush()
    record("contract.version", "contract", contract.id, actor_company_id=proposed_by,
           after={"order": order.number, "version": contract.version, "sha256": contract.content_sha256}, note=note)
    return contract


def draft_first_version(order: TradeOrder, proposed_by: int | None) -> Contract:
    return _new_version(order, build_content(order, 1), proposed_by, None)


def confirm(order: TradeOrder, company_id: int, user_id: int | None, seen_sha256: str) -> Contract:
    """A party confirms the latest version. ``seen_sha256`` must match: nobody signs text they did not see.

    When both have confirmed: the terms apply to the order, and a first signature moves the order to
    contract_signed → awaiting_payment with its escrow opened.
    """
    party = party_of(order, company_id)
    contract = current(order)
    if contract is not None:
        lock(contract)  # both parties confirming at once: the second sees the first's signature
    if contract is None or contract.status != "draft" or party not in (BUYER, SELLER):
        raise InvalidTransition("There is no contract version waiting for your confirmation.")
    if order.state not in AMENDABLE_STATES:
        raise InvalidTransition("This order's contract can no longer change.")
    if seen_sha256 != contract.content_sha256 or sha256_of(contract.content) != contract.content_sha256:
        raise Conflict("The contract changed since you opened it. Please read the new version.")
    if getattr(contract, f"{party}_signed_at") is not None:
        raise InvalidTransition("You have already confirmed this version.")
    now = utcnow()
    setattr(contract, f"{party}_signed_by_user_id", user_id)
    setattr(contract, f"{party}_signed_at", now)
    setattr(contract, f"{party}_signed_sha256", contract.content_sha256)
    record("contract.confirm", "contract", contract.id, actor_company_id=company_id,
           after={"party": party, "sha256": contract.content_sha256, "version": contract.version})
    if not contract.fully_signed:
        announce(order, "contract_confirmed", note=_l("Version %(n)s", n=contract.version),
                 to=(SELLER if party == BUYER else BUYER,))
        db.session.flush()
        return contract
    CONTRACT.move(contract, "signed", actor_company_id=company_id)
    for older in order.contracts:
        if older is not contract and older.status == "signed":
            CONTRACT.move(older, "superseded", audit_row=False)
    _apply_terms(order, contract.content)
    if order.state == "accepted":
        transition(order, "contract_signed", party=SYSTEM, actor_company_id=company_id)
        escrow_link.open_for(order)
        transition(order, "awaiting_payment", party=SYSTEM, actor_company_id=None, url=escrow_link.pay_url(order))
    else:
        announce(order, "contract_amended", note=_l("Version %(n)s", n=contract.version), to=(BUYER, SELLER))
    db.session.flush()
    return contract


def _apply_terms(order: TradeOrder, content: dict[str, Any]) -> None:
    """A signed amendment's delivery, inspection and tolerance terms become the order's."""
    delivery = content["delivery"]
    order.delivery_address = delivery["address"]
    order.delivery_window_start = datetime.fromisoformat(delivery["window_start"])
    order.delivery_window_end = datetime.fromisoformat(delivery["window_end"])
    order.quantity_tolerance_pct = Decimal(content["quantity_tolerance_pct"])
    order.buyer_po_number = content.get("buyer_po_number") or None
    agency = content["inspection"].get("agency")
    if agency is None:
        order.inspection_agency_id = None
    else:
        order.inspection_agency_id = db.session.scalars(select(Company.id).where(Company.uscc == agency["uscc"])).one()


def propose_change(order: TradeOrder, company_id: int, changes: dict[str, Any], note: str) -> Contract:
    """A party proposes new delivery / inspection / tolerance terms as a new version for both to confirm.

    Price and goods are fixed once the order is accepted; tolerance only before the first signature.
    """
    party = party_of(order, company_id)
    if party not in (BUYER, SELLER) or order.state not in AMENDABLE_STATES:
        raise InvalidTransition("This order's contract can no longer change.")
    note = (note or "").strip()[:300]
    if not note:
        raise ValidationFailed("Say what changes and why.", field_errors={"note": "Say what changes and why."})
    base = current(order)
    content = json.loads(canonical_json(base.content if base else build_content(order, 0)))
    version = (base.version if base else 0) + 1
    content.update(version=version, number=f"{order.number}-C{version}")
    errors: dict[str, str] = {}
    if "delivery_address" in changes:
        address = (changes["delivery_address"] or "").strip()
        if not address or len(address) > 300:
            errors["delivery_address"] = "Enter the delivery address."
        content["delivery"]["address"] = address
    if "window_start" in changes or "window_end" in changes:
        start = changes.get("window_start") or datetime.fromisoformat(content["delivery"]["window_start"])
        end = changes.get("window_end") or datetime.fromisoformat(content["delivery"]["window_end"])
        if end < start:
            errors["delivery_window_end"] = "The window must end after it starts."
        content["delivery"].update(window_start=start.isoformat(), window_end=end.isoformat())
    if "inspection_agency_id" in changes:
        content["inspection"]["agency"] = _agency_terms(changes["inspection_agency_id"], errors)
    if "quantity_tolerance_pct" in changes:
        if order.state != "accepted":
            errors["quantity_tolerance_pct"] = "The tolerance is fixed once the contract is signed."
        tolerance = changes["quantity_tolerance_pct"]
        if not isinstance(tolerance, Decimal) or not Decimal(0) <= tolerance <= Decimal(10):
            errors["quantity_tolerance_pct"] = "Between 0 and 10 per cent."
        else:
            content["quantity_tolerance_pct"] = str(tolerance)
    if errors:
        raise ValidationFailed("Please check the proposed terms.", field_errors=errors)
    if base is not None and sha256_of(content | {"version": base.version, "number": base.content["number"]}) \
            == base.content_sha256:
        raise ValidationFailed("Nothing would change.")
    contract = _new_version(order, content, company_id, note)
    announce(order, "contract_change_proposed", note=note, to=(SELLER if party == BUYER else BUYER,))
    return contract


def _agency_terms(agency_id: Any, errors: dict[str, str]) -> dict[str, Any] | None:
    if agency_id in (None, "", 0):
        return None
    agency = db.session.get(Company, int(agency_id)) if str(agency_id).isdigit() else None
    if agency is None or agency.kind != CompanyKind.SERVICE_PROVIDER or not agency.is_verified:
        errors["inspection_agency_id"] = "Choose a verified inspection agency."
        return None
    return _party(agency)


def inspection_agencies() -> list[Company]:
    """Verified service providers that can be named as the inspection agency."""
    return list(db.session.scalars(select(Company).where(Company.kind == CompanyKind.SERVICE_PROVIDER,
                                                         Company.verification_level >= 1,
                                                         Company.status == "active").order_by(Company.name_zh)))
