"""Who is acting: the signed-in user, the company they act for, and the guards that views use.

A user can belong to several companies; ``session["company_id"]`` picks the one they act for.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import g, session
from flask_login import current_user
from sqlalchemy import select

from market.accounts.models import Company, CompanyRole, Membership, Verification
from market.core.errors import PermissionDenied
from market.extensions import db

F = TypeVar("F", bound=Callable[..., Any])


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


def require_company(*roles: str, level: int = Verification.L0_REGISTERED) -> Callable[[F], F]:
    """Guard a view: signed in, acting for a company, with one of ``roles`` (owner/admin always pass)."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                from market.extensions import login_manager

                return login_manager.unauthorized()
            membership = acting_membership()
            if membership is None:
                raise PermissionDenied("You need to belong to a company to do this.")
            allowed = {CompanyRole.OWNER, CompanyRole.ADMIN, *roles}
            if roles and membership.role not in allowed:
                raise PermissionDenied("Your role in this company does not allow this.")
            if membership.company.status != "active":
                raise PermissionDenied("This company is suspended.")
            if membership.company.verification_level < level:
                raise PermissionDenied("Your company must be verified first.")
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorate


def require_platform_role(*roles: str) -> Callable[[F], F]:
    """Guard a view for platform staff (operator, regulator)."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                from market.extensions import login_manager

                return login_manager.unauthorized()
            if current_user.platform_role not in roles:
                raise PermissionDenied("This page is for platform staff.")
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorate
