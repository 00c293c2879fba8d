"""RFQ services: post, invite, quote (sealed), open, compare, award, cancel.

Sealing is enforced here, in the only functions that read quotes:
* :func:`own_quote` — a seller's own quote, nothing else;
* :func:`comparison` — all quotes, for the RFQ's buyer only, and only once the RFQ is opened
  (deadline passed or closed early). Before that the buyer learns how many quotes arrived, no more.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from catalog.models import Category
from catalog.specs import validate_spec_ranges, validate_specs
from market.accounts.models import Company, Verification
from market.core.audit import record
from market.core.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from market.core.jobs import enqueue, handler
from market.core.notify import notify_company
from market.core.timeutil import utcnow
from market.core.transitions import Lifecycle, lock
from market.extensions import db
from market.orders.lifecycle import BUYER, SELLER, SYSTEM
from market.orders.placement import Delivery, LineSpec, create_order
from market.orders.settlement import default_rule
from market.rfq.models import Quote, Rfq, RfqInvitation


@dataclass(frozen=True)
class RfqInput:
    """What the buyer fills in (already parsed; validated by :func:`post_rfq`)."""

    category_id: int
    title: str
    quantity: Decimal
    unit: str
    delivery_place: str
    window_start: datetime
    window_end: datetime
    deadline: datetime
    spec_ranges: dict[str, Any]
    visibility: str = "open"
    invited_seller_ids: tuple[int, ...] = ()
    description: str | None = None


def post_rfq(buyer: Company, user_id: int | None, data: RfqInput) -> Rfq:
    """Publish a request for quotation (any registered company may ask)."""
    category = db.session.get(Category, data.category_id)
    errors: dict[str, str] = {}
    if category is None:
        errors["category_id"] = "Choose a category."
    ranges = validate_spec_ranges(category.spec_schema, data.spec_ranges) if category else {}
    now = utcnow()
    if not data.title.strip() or len(data.title) > 200:
        errors["title"] = "Enter a title of at most 200 characters."
    if data.quantity <= 0:
        errors["quantity"] = "Enter a positive quantity."
    if data.unit not in ("t", "kg", "piece"):
        errors["unit"] = "Choose a unit."
    if not data.delivery_place.strip() or len(data.delivery_place) > 300:
        errors["delivery_place"] = "Enter the delivery place."
    if data.deadline <= now:
        errors["deadline"] = "The deadline must be in the future."
    if data.window_end < data.window_start:
        errors["delivery_window_end"] = "The window must end after it starts."
    if data.window_start < data.deadline:
        errors["delivery_window_start"] = "Delivery cannot start before the quotation deadline."
    if data.visibility not in ("open", "invited"):
        errors["visibility"] = "Choose who may quote."
    invited = _invitees(buyer, data, errors)
    if errors:
        raise ValidationFailed("Please check the request.", field_errors=errors)
    bounds = {key: (r.get("max") if key in ("st_d", "ad", "mt", "moisture") else r.get("min"))
              for key, r in ranges.items()}
    rfq = Rfq(buyer_id=buyer.id, created_by_user_id=user_id, category_id=category.id, title=data.title.strip(),
              description=(data.description or "").strip() or None, spec_ranges=ranges, quantity=data.quantity,
              unit=data.unit, delivery_place=data.delivery_place.strip(), delivery_window_start=data.window_start,
              delivery_window_end=data.window_end, deadline=data.deadline, visibility=data.visibility,
              price_rule=default_rule(category.industry, {k: str(v) for k, v in bounds.items() if v is not None}),
              status="open", created_at=now)
    db.session.add(rfq)
    rfq.invitations = [RfqInvitation(seller_id=seller.id) for seller in invited]
    db.session.flush()
    record("rfq.post", "rfq", rfq.id, actor_company_id=buyer.id,
           after={"title": rfq.title, "visibility": rfq.visibility, "invited": [s.id for s in invited]})
    for seller in invited:
        notify_company(seller.id, "rfq.invited", _l("Request for quotation: %(title)s", title=rfq.title),
                       _l("You are invited to quote. Delivery to %(place)s.", place=rfq.delivery_place),
                       _rfq_url(rfq), roles=("sales",))
    enqueue("rfq.open", delay=data.deadline - now, rfq_id=rfq.id)
    return rfq


# who a buyer may invite to quote: verified, active trading companies
_MAY_BE_INVITED = (Company.verification_level >= Verification.L1_VERIFIED, Company.status == "active")


def invitable_sellers(buyer_id: int, *, limit: int = 500) -> list[Company]:
    """The companies offered on the "invite sellers" list (never the buyer itself, nor a government agency)."""
    return list(db.session.scalars(select(Company).where(Company.id != buyer_id, Company.kind != "government_agency",
                                                         *_MAY_BE_INVITED)
                                   .order_by(Company.name_zh).limit(limit)))


def _invitees(buyer: Company, data: RfqInput, errors: dict[str, str]) -> list[Company]:
    if data.visibility != "invited":
        return []
    ids = sorted(set(data.invited_seller_ids) - {buyer.id})
    sellers = list(db.session.scalars(select(Company).where(Company.id.in_(ids), *_MAY_BE_INVITED))) if ids else []
    if not sellers or len(sellers) != len(ids):
        errors["invited_seller_ids"] = "Invite at least one verified seller."
    return sellers


def _rfq_url(rfq: Rfq) -> str | None:
    from flask import current_app

    from market.core.links import public_url

    if "rfq.detail" not in current_app.view_functions:
        return None
    return public_url("rfq.detail", rfq_id=rfq.id)


RFQ = Lifecycle("rfq", Rfq, {("open", "closed"): {BUYER, SYSTEM}, ("open", "cancelled"): {BUYER},
                             ("closed", "awarded"): {BUYER}, ("closed", "cancelled"): {BUYER}})
QUOTE = Lifecycle("quote", Quote, {("submitted", "withdrawn"): {SELLER}, ("withdrawn", "submitted"): {SELLER},
                                   ("submitted", "accepted"): {BUYER}, ("submitted", "declined"): {BUYER}})


def refresh_status(rfq: Rfq) -> Rfq:
    """Write paths: an open RFQ whose deadline passed is closed (its quotes opened) before anything else."""
    if rfq.status == "open" and utcnow() >= rfq.deadline:
        RFQ.move(rfq, "closed", party=SYSTEM, action="rfq.opened", note="deadline", opened_at=rfq.deadline)
    return rfq


def as_of_now(rfq: Rfq) -> Rfq:
    """Read paths: show an RFQ past its deadline as closed without writing (GET never writes; the
    ``rfq.open`` job or the next write closes it for real)."""
    if rfq.status == "open" and utcnow() >= rfq.deadline:
        set_committed_value(rfq, "status", "closed")
        set_committed_value(rfq, "opened_at", rfq.deadline)
    return rfq


def may_quote(rfq: Rfq, company: Company | None) -> bool:
    return (company is not None and company.id != rfq.buyer_id and company.is_verified and company.status == "active"
            and (rfq.visibility == "open" or company.id in rfq.invited_ids))


def get_rfq(company: Company | None, rfq_id: object) -> Rfq:
    """An RFQ the company may see: its own, an open one (verified sellers), or one it is invited to; else 404."""
    try:
        rfq = db.session.get(Rfq, int(str(rfq_id)))
    except ValueError:
        rfq = None
    if rfq is None or company is None:
        raise NotFound("Not found")
    if rfq.buyer_id != company.id and not may_quote(rfq, company):
        raise NotFound("Not found")
    return rfq


def visible_rfqs(company: Company, *, mine: bool, page: int, per_page: int = 20) -> tuple[list[Rfq], int]:
    """The buyer's own RFQs (``mine``), or those the company may quote on (open ones first)."""
    stmt = select(Rfq)
    if mine:
        stmt = stmt.where(Rfq.buyer_id == company.id)
    else:
        if not company.is_verified:
            return [], 0
        invited = select(RfqInvitation.rfq_id).where(RfqInvitation.seller_id == company.id)
        stmt = stmt.where(Rfq.buyer_id != company.id, Rfq.status == "open", Rfq.deadline > utcnow(),
                          or_(Rfq.visibility == "open", Rfq.id.in_(invited)))
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = db.session.scalars(stmt.options(selectinload(Rfq.category), selectinload(Rfq.buyer))
                              .order_by(Rfq.deadline if not mine else Rfq.created_at.desc())
                              .offset((page - 1) * per_page).limit(per_page))
    return [as_of_now(r) for r in rows], total


def submit_quote(rfq: Rfq, seller: Company, user_id: int | None, *, unit_price_fen: int, quantity: Decimal,
                 specs: dict[str, Any], valid_until: datetime, terms: str | None, goods: str | None = None) -> Quote:
    """Submit or revise the seller's sealed quote, until the deadline."""
    refresh_status(lock(rfq))  # serialise with closing and awarding: no quote lands after the opening
    if not may_quote(rfq, seller):
        raise PermissionDenied("Only verified sellers (or invited ones) may quote on this request.")
    if rfq.status != "open":
        raise Conflict("The deadline for quotes has passed.")
    errors: dict[str, str] = {}
    if unit_price_fen <= 0:
        errors["unit_price"] = "Enter a positive price."
    if quantity <= 0 or quantity > rfq.quantity:
        errors["quantity"] = "Between zero and the requested quantity."
    if valid_until < rfq.deadline:
        errors["valid_until"] = "The quote must stay valid at least until the deadline."
    if goods is not None and len(goods.strip()) > 200:
        errors["goods"] = "At most 200 characters."
    offered = validate_specs(rfq.category.spec_schema, specs)
    if errors:
        raise ValidationFailed("Please check the quote.", field_errors=errors)
    quote = own_quote(rfq, seller)
    now = utcnow()
    if quote is None:
        quote = Quote(rfq_id=rfq.id, seller_id=seller.id, submitted_at=now, unit_price_fen=0, quantity=quantity,
                      valid_until=valid_until)
        db.session.add(quote)
    elif quote.status not in ("submitted", "withdrawn"):
        raise InvalidTransition("This quote can no longer change.")
    else:
        quote.revised_at = now
    quote.submitted_by_user_id, quote.unit_price_fen, quote.quantity = user_id, unit_price_fen, quantity
    quote.specs, quote.valid_until, quote.terms = offered, valid_until, (terms or "").strip() or None
    quote.goods = (goods or "").strip() or None
    if quote.status == "withdrawn":
        QUOTE.move(quote, "submitted", party=SELLER, audit_row=False)
    db.session.flush()
    # the audit row says a quote was filed, never its price: the audit log is readable by staff
    record("quote.submit", "quote", quote.id, actor_company_id=seller.id, after={"rfq": rfq.id})
    return quote


def withdraw_quote(rfq: Rfq, seller: Company) -> Quote:
    quote = own_quote(rfq, seller)
    if quote is None or quote.status != "submitted" or refresh_status(lock(rfq)).status != "open":
        raise InvalidTransition("This quote cannot be withdrawn now.")
    QUOTE.move(quote, "withdrawn", party=SELLER, actor_company_id=seller.id, action="quote.withdraw")
    return quote


def own_quote(rfq: Rfq, seller: Company) -> Quote | None:
    """The seller's own quote on ``rfq`` — the only quote a seller can ever read."""
    return db.session.scalars(select(Quote).where(Quote.rfq_id == rfq.id, Quote.seller_id == seller.id)).first()


def quote_count(rfq: Rfq, buyer: Company) -> int:
    """How many live quotes arrived (the buyer may know this while quotes are sealed)."""
    _require_buyer(rfq, buyer)
    return db.session.scalar(select(func.count(Quote.id)).where(Quote.rfq_id == rfq.id,
                                                                Quote.status != "withdrawn")) or 0


def _require_buyer(rfq: Rfq, company: Company) -> None:
    if rfq.buyer_id != company.id:
        raise NotFound("Not found")


def close_early(rfq: Rfq, buyer: Company) -> Rfq:
    """The buyer stops taking quotes now and opens them."""
    _require_buyer(rfq, buyer)
    if refresh_status(rfq).status != "open":
        raise InvalidTransition("This request is no longer open.")
    RFQ.move(rfq, "closed", party=BUYER, actor_company_id=buyer.id, action="rfq.opened", note="closed early",
             opened_at=utcnow())
    return rfq


def comparison(rfq: Rfq, buyer: Company) -> list[dict[str, Any]]:
    """All live quotes side by side, cheapest first — for the buyer, after opening only."""
    _require_buyer(rfq, buyer)
    if not rfq.quotes_open_at(utcnow()) or rfq.status == "open":
        raise Conflict("Quotes stay sealed until the deadline or until you close the request early.")
    quotes = db.session.scalars(select(Quote).where(Quote.rfq_id == rfq.id, Quote.status != "withdrawn")
                                .options(selectinload(Quote.seller)).order_by(Quote.unit_price_fen, Quote.submitted_at))
    now = utcnow()
    rows = []
    for quote in quotes:
        rows.append({"quote": quote, "seller": quote.seller, "credit_grade": quote.seller.credit_grade,
                     "amount_fen": quote.amount_fen, "expired": quote.valid_until < now,
                     "meets_specs": _meets(rfq.spec_ranges, quote.specs)})
    return rows


def _meets(ranges: dict[str, Any], specs: dict[str, Any]) -> dict[str, bool | None]:
    """Per required range: True/False when the quote states a value, None when it does not."""
    result: dict[str, bool | None] = {}
    for key, bounds in ranges.items():
        value = specs.get(key)
        if value is None:
            result[key] = None
            continue
        low, high = bounds.get("min"), bounds.get("max")
        result[key] = (low is None or value >= low) and (high is None or value <= high)
    return result


def accept_quote(rfq: Rfq, buyer: Company, user_id: int | None, quote_id: object) -> Any:
    """Award the RFQ: the quote becomes an order (already accepted by its seller) with a draft contract."""
    from market.orders.contracts import draft_first_version
    from market.orders.lifecycle import transition

    _require_buyer(rfq, buyer)
    if refresh_status(rfq).status != "closed":
        raise InvalidTransition("Quotes can be accepted once the request is closed, and only once.")
    quote = db.session.get(Quote, int(str(quote_id))) if str(quote_id).isdigit() else None
    if quote is None or quote.rfq_id != rfq.id or quote.status == "withdrawn":
        raise NotFound("Not found")
    if quote.status != "submitted":
        raise InvalidTransition("This quote can no longer be accepted.")
    if quote.valid_until < utcnow():
        raise Conflict("This quote has expired.")
    # The quote is the seller's binding offer: its goods, specs, price and terms make the order and contract;
    # the RFQ only supplies what the quote does not state (unit, place, window).
    line = LineSpec(title=goods_name(rfq, quote), quantity=quote.quantity, unit_price_fen=quote.unit_price_fen,
                    unit=rfq.unit, specs=quote.specs, category_id=rfq.category_id, price_rule=award_rule(rfq, quote))
    delivery = Delivery(address=rfq.delivery_place, window_start=rfq.delivery_window_start,
                        window_end=rfq.delivery_window_end)
    # the RFQ moves first: of an award and a cancel (or two awards) sent together, one wins
    RFQ.move(rfq, "awarded", party=BUYER, actor_company_id=buyer.id, action="rfq.award",
             note=f"quote {quote.id}", awarded_quote_id=quote.id)
    QUOTE.move(quote, "accepted", party=BUYER, actor_company_id=buyer.id)
    order = create_order(buyer, quote.seller, [line], delivery, user_id=user_id, quote_id=quote.id,
                         industry=rfq.category.industry, seller_terms=quote.terms)
    # the quote was the seller's binding offer: the order starts accepted, with its contract drafted
    transition(order, "accepted", party=SELLER, actor_company_id=quote.seller_id, note=f"RFQ {rfq.id}",
               body=_l("Awarded from the request for quotation %(title)s.", title=rfq.title))
    draft_first_version(order, proposed_by=buyer.id)
    rfq.order_id = order.id
    for other in db.session.scalars(select(Quote).where(Quote.rfq_id == rfq.id, Quote.id != quote.id,
                                                        Quote.status == "submitted")):
        QUOTE.move(other, "declined", party=BUYER, audit_row=False)
        notify_company(other.seller_id, "rfq.declined", _l("Request for quotation: %(title)s", title=rfq.title),
                       _l("Another quote was chosen. Thank you for quoting."), _rfq_url(rfq), roles=("sales",))
    db.session.flush()
    return order


def goods_name(rfq: Rfq, quote: Quote) -> str:
    """The goods as the seller named them, else the category and the quoted key specs ("动力煤 5550 kcal/kg")."""
    if quote.goods:
        return quote.goods
    category = rfq.category
    parts = [category.name_zh]
    for attribute in category.spec_schema[:2]:
        value = quote.specs.get(attribute["key"])
        if value is not None and attribute.get("type") in ("number", "year", None):
            parts.append(f"{value} {attribute.get('unit') or ''}".strip())
    return " ".join(str(p) for p in parts)[:200]


def award_rule(rfq: Rfq, quote: Quote) -> dict[str, Any]:
    """The settlement rule of an award: based on the quality the winning quote promised (its Qnet,ar, St,d,
    moisture ...), not on the buyer's minimums; the RFQ's own rule only when the quote states none."""
    rule = default_rule(rfq.category.industry, quote.specs or {})
    return rule if rule.get("kind") != "plain" or not rfq.price_rule else rfq.price_rule


def cancel_rfq(rfq: Rfq, buyer: Company, reason: str) -> Rfq:
    _require_buyer(rfq, buyer)
    if refresh_status(rfq).status not in ("open", "closed"):
        raise InvalidTransition("This request can no longer be cancelled.")
    if not (reason or "").strip():
        raise ValidationFailed("Please give a reason.", field_errors={"reason": "Please give a reason."})
    RFQ.move(rfq, "cancelled", party=BUYER, actor_company_id=buyer.id, action="rfq.cancel", note=reason[:300])
    for quote in db.session.scalars(select(Quote).where(Quote.rfq_id == rfq.id, Quote.status == "submitted")):
        QUOTE.move(quote, "declined", party=BUYER, audit_row=False)
        notify_company(quote.seller_id, "rfq.cancelled",
                       _l("Request for quotation cancelled: %(title)s", title=rfq.title),
                       _l("Reason: %(reason)s", reason=reason[:300]), None, roles=("sales",))
    db.session.flush()
    return rfq


@handler("rfq.open")
def open_at_deadline(rfq_id: int) -> None:
    """At the deadline: open the quotes and tell the buyer (idempotent)."""
    rfq = db.session.get(Rfq, rfq_id)
    if rfq is None or rfq.status != "open":
        return
    refresh_status(rfq)
    if rfq.status == "closed":
        notify_company(rfq.buyer_id, "rfq.opened", _l("Request for quotation: %(title)s", title=rfq.title),
                       _l("The quotes are open for comparison."), _rfq_url(rfq), roles=("purchasing",))
