"""Who is acting: the signed-in user, the company they act for, and the guards that views use.

A user can belong to several companies; ``session["company_id"]`` picks the one they act for.
"""

from __future__ import annotations

from flask import g, session
from flask_login import current_user
from sqlalchemy import select

from market.accounts.models import Company, Membership
from market.core.actor import ActingCompany, require_company, require_platform_role
from market.extensions import db


def acting_membership() -> Membership | None:
    """The active membership the current user acts through, or None."""
    if "acting_membership" in g:
        return g.acting_membership
    membership = None
    if current_user.is_authenticated:
        stmt = select(Membership).where(Membership.user_id == current_user.id, Membership.status == "active")
        chosen = session.get("company_id")
        if chosen is not None:
            membership = db.session.scalars(stmt.where(Membership.company_id == chosen)).first()
        if membership is None:
            membership = db.session.scalars(stmt.order_by(Membership.id)).first()
    g.acting_membership = membership
    return membership


def acting_company() -> Company | None:
    """The company the current user acts for, or None (visitors, operators without a company)."""
    membership = acting_membership()
    return membership.company if membership else None


def acting_company_id() -> int | None:
    membership = acting_membership()
    return membership.company_id if membership else None


def resolve_acting_company() -> ActingCompany | None:
    """The kernel's view of the acting company (registered with ``market.core.actor.set_resolver``)."""
    membership = acting_membership()
    if membership is None:
        return None
    company = membership.company
    return ActingCompany(company_id=company.id, role=membership.role,
                         verification_level=company.verification_level, active=company.status == "active")


__all__ = [
    "acting_company",
    "acting_company_id",
    "acting_membership",
    "require_company",
    "require_platform_role",
    "resolve_acting_company",
]
