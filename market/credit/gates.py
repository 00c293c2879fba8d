"""Trust gates: what a company may do given its verification level and credit grade.

Operator-configurable settings (table ``credit_gate_setting``; defaults below):

* ``order_limit_l0_fen`` / ``order_limit_l1_fen``: the largest order (total, fen) an L0 / L1 company may
  be party to, as buyer or seller. L2 (credit-checked) companies have no platform limit.
* ``payment_terms_min_grade``: payment terms that give the buyer credit (pay after delivery, 30 days
  net) and the lowest buyer grade that may use them. Terms not listed (escrow prepayment) are open to all.

An operator may grant one company an exception (:func:`grant_override`) with a reason; it is audited,
may expire, and is revoked (never deleted) by :func:`revoke_override`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import has_request_context
from flask_babel import gettext
from sqlalchemy import select

from market.accounts.models import Company, Verification
from market.core.audit import record
from market.core.errors import BadRequest, Conflict, NotFound, PermissionDenied, ValidationFailed
from market.core.money import format_fen
from market.core.timeutil import utcnow
from market.credit.models import CreditOverride, GateSetting
from market.credit.report import GRADE_NAMES, N_, grade_rank
from market.extensions import db

DEFAULTS: dict[str, Any] = {
    "order_limit_l0_fen": 5_000_000,  # ¥50,000
    "order_limit_l1_fen": 200_000_000,  # ¥2,000,000
    "payment_terms_min_grade": {"pay_after_delivery": "A", "net_30": "AA"},
}
PAYMENT_TERMS_LABELS = {
    "pay_after_delivery": N_("Pay after delivery"),
    "net_30": N_("30 days after delivery"),
}
OVERRIDE_KINDS = ("order_limit", "payment_terms")
MIN_REASON = 2  # "担保" is a reason; "x" is not


class CreditGateRefused(PermissionDenied):
    """A trust gate refused an order; the message says which and how to get past it."""

    code = "credit_gate"


def gate_settings() -> dict[str, Any]:
    """The effective settings: defaults overlaid with what operators saved."""
    settings = {key: (dict(value) if isinstance(value, dict) else value) for key, value in DEFAULTS.items()}
    for row in db.session.scalars(select(GateSetting)):
        if row.key in settings:
            settings[row.key] = row.value
    return settings


def update_gate_settings(values: dict[str, Any], *, user_id: int | None) -> dict[str, Any]:
    """Save operator settings after validating them all (nothing is saved if one is wrong)."""
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for key in ("order_limit_l0_fen", "order_limit_l1_fen"):
        if key in values:
            value = values[key]
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                errors[key] = N_("Enter an amount of zero or more.")
            else:
                clean[key] = value
    if "payment_terms_min_grade" in values:
        terms = values["payment_terms_min_grade"]
        if not isinstance(terms, dict) or any(t not in PAYMENT_TERMS_LABELS or g not in GRADE_NAMES
                                               for t, g in terms.items()):
            errors["payment_terms_min_grade"] = N_("Choose a grade from AAA to C for each payment term.")
        else:
            clean["payment_terms_min_grade"] = dict(terms)
    if errors:
        raise ValidationFailed("Please check the gate settings.", field_errors=errors)
    before = gate_settings()
    for key, value in clean.items():
        row = db.session.get(GateSetting, key)
        if row is None:
            db.session.add(GateSetting(key=key, value=value, updated_by_user_id=user_id))
        else:
            row.value, row.updated_by_user_id, row.updated_at = value, user_id, utcnow()
    db.session.flush()
    after = gate_settings()
    if after != before:
        record("credit.gates_changed", "credit_gate_setting", "all", actor_user_id=user_id, before=before, after=after)
    return after


def active_override(company_id: int, kind: str, *, payment_terms: str | None = None,
                    now: datetime | None = None) -> CreditOverride | None:
    """The newest unrevoked, unexpired override of ``kind`` for the company (for terms: those terms)."""
    now = now or utcnow()
    stmt = select(CreditOverride).where(CreditOverride.company_id == company_id, CreditOverride.kind == kind,
                                        CreditOverride.revoked_at.is_(None))
    if payment_terms is not None:
        stmt = stmt.where(CreditOverride.payment_terms == payment_terms)
    for row in db.session.scalars(stmt.order_by(CreditOverride.granted_at.desc(), CreditOverride.id.desc())):
        if row.expires_at is None or row.expires_at > now:
            return row
    return None


def order_limit_fen(company: Company, *, now: datetime | None = None) -> int | None:
    """The largest order the company may be party to; None means no platform limit."""
    override = active_override(company.id, "order_limit", now=now)
    if override is not None:
        return override.limit_fen
    if company.verification_level >= Verification.L2_CREDIT_CHECKED:
        return None
    settings = gate_settings()
    key = "order_limit_l1_fen" if company.verification_level >= Verification.L1_VERIFIED else "order_limit_l0_fen"
    return int(settings[key])


@dataclass(frozen=True)
class LimitInfo:
    """What a buyer may order and why: shown on the listing, the cart and the checkout."""

    limit_fen: int | None  # None: no platform limit
    level: int  # the company's verification level (0, 1, 2)
    override: bool  # an operator's exception sets the limit
    # how to raise it: (step, limit after that step or None for "no limit"), in order
    next_steps: list[tuple[str, int | None]] = field(default_factory=list)

    def allows(self, amount_fen: int) -> bool:
        return self.limit_fen is None or amount_fen <= self.limit_fen


LIMIT_STEPS = {
    "verify": N_("Get verified: upload your business licence"),
    "credit": N_("Build a credit record: trade and pay on time to be credit-checked"),
    "exception": N_("Ask the platform for an exception"),
}


def limit_info(company: Company, *, now: datetime | None = None) -> LimitInfo:
    """The company's order limit, the reason for it (verification level or an exception) and how to raise it.

    The same rule as :func:`check_order_allowed` (it calls :func:`order_limit_fen`), so what a page promises
    is what checkout enforces.
    """
    limit = order_limit_fen(company, now=now)
    override = active_override(company.id, "order_limit", now=now) is not None
    settings = gate_settings()
    steps: list[tuple[str, int | None]] = []
    if limit is not None:
        if company.verification_level < Verification.L1_VERIFIED:
            steps.append(("verify", int(settings["order_limit_l1_fen"])))
        if company.verification_level < Verification.L2_CREDIT_CHECKED:
            steps.append(("credit", None))
        steps.append(("exception", None))
    return LimitInfo(limit_fen=limit, level=int(company.verification_level), override=override, next_steps=steps)


def gate_refusal(buyer: Company, seller: Company, amount_fen: int) -> str | None:
    """The message :func:`check_order_allowed` would raise for this order, or None if it may go ahead."""
    try:
        check_order_allowed(buyer, seller, amount_fen)
    except CreditGateRefused as exc:
        params = {k: v for k, v in exc.detail.items() if isinstance(v, str | int)}
        return gettext(exc.message, **params) if has_request_context() else exc.message % params
    return None


def check_order_allowed(buyer: Company, seller: Company, amount_fen: int, payment_terms: str | None = None,
                        *, now: datetime | None = None) -> None:
    """Raise :class:`CreditGateRefused` if the order breaks a gate; return None if it may go ahead.

    Called by checkout and quote acceptance before anything is written.
    """
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen < 0:
        raise BadRequest("The order amount is not valid.")
    buyer_limit = order_limit_fen(buyer, now=now)
    if buyer_limit is not None and amount_fen > buyer_limit:
        raise CreditGateRefused(
            "This order (%(amount)s) is above the %(limit)s limit for your company's verification level. "
            "Complete verification, build a credit record, or ask the platform for an exception.",
            amount=format_fen(amount_fen), limit=format_fen(buyer_limit))
    seller_limit = order_limit_fen(seller, now=now)
    if seller_limit is not None and amount_fen > seller_limit:
        raise CreditGateRefused(
            "The seller can take orders up to %(limit)s at its verification level; this order is %(amount)s. "
            "Split the order or choose another seller.",
            amount=format_fen(amount_fen), limit=format_fen(seller_limit))
    if payment_terms:
        required = gate_settings()["payment_terms_min_grade"].get(payment_terms)
        if required is None:
            return  # prepayment into escrow (or any term that extends no credit): open to every grade
        if grade_rank(buyer.credit_grade) >= grade_rank(required):
            return
        if active_override(buyer.id, "payment_terms", payment_terms=payment_terms, now=now) is not None:
            return
        raise CreditGateRefused(
            "Payment terms '%(terms)s' need a credit grade of %(grade)s or better; your company's grade is "
            "%(current)s. Pay into escrow before delivery instead.",
            terms=_terms_label(payment_terms), grade=required, current=buyer.credit_grade or "—")


def _terms_label(payment_terms: str) -> str:
    label = PAYMENT_TERMS_LABELS.get(payment_terms, payment_terms)
    return gettext(label) if has_request_context() else label  # the locale comes from the request


def grant_override(company_id: int, kind: str, *, reason: str, user_id: int | None, limit_fen: int | None = None,
                   payment_terms: str | None = None, expires_at: datetime | None = None) -> CreditOverride:
    """An operator's audited exception for one company."""
    if db.session.get(Company, company_id) is None:
        raise NotFound("Company not found")
    errors: dict[str, str] = {}
    reason = (reason or "").strip()
    if kind not in OVERRIDE_KINDS:
        errors["kind"] = N_("Choose what the exception is for.")
    if not MIN_REASON <= len(reason) <= 500:
        errors["reason"] = N_("Give a reason (2 to 500 characters).")
    if kind == "order_limit" and limit_fen is not None and (not isinstance(limit_fen, int) or limit_fen < 0):
        errors["limit_fen"] = N_("Enter an amount of zero or more.")
    if kind == "payment_terms" and payment_terms not in PAYMENT_TERMS_LABELS:
        errors["payment_terms"] = N_("Choose payment terms.")
    if expires_at is not None and expires_at <= utcnow():
        errors["expires_at"] = N_("The expiry must be in the future.")
    if errors:
        raise ValidationFailed("Please check the exception.", field_errors=errors)
    override = CreditOverride(company_id=company_id, kind=kind, reason=reason, granted_by_user_id=user_id,
                              limit_fen=limit_fen if kind == "order_limit" else None,
                              payment_terms=payment_terms if kind == "payment_terms" else None,
                              expires_at=expires_at)
    db.session.add(override)
    db.session.flush()
    record("credit.override_granted", "credit_override", override.id, actor_user_id=user_id,
           after=override.snapshot(), note=reason)
    return override


def revoke_override(override_id: int, *, reason: str, user_id: int | None) -> CreditOverride:
    """End an exception now; the row stays for the record."""
    override = db.session.get(CreditOverride, override_id)
    if override is None:
        raise NotFound("Not found")
    reason = (reason or "").strip()
    if not MIN_REASON <= len(reason) <= 500:
        raise ValidationFailed("Please check the exception.",
                               field_errors={"revoke_reason": N_("Give a reason (2 to 500 characters).")})
    if override.revoked_at is not None:
        raise Conflict("This exception was already revoked.")
    before = override.snapshot()
    override.revoked_at, override.revoked_by_user_id, override.revoke_reason = utcnow(), user_id, reason
    db.session.flush()
    record("credit.override_revoked", "credit_override", override.id, actor_user_id=user_id, before=before,
           after=override.snapshot(), note=reason)
    return override


