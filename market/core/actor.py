"""Who is acting in this request, and the view guards built on it.

Layers below ``market.accounts`` (``payments``, ``catalog``) may not import it, yet their pages must know
the acting company. ``market.accounts`` registers a resolver at start-up (:func:`set_resolver`); the
guards here ask it, so every package guards views the same way without importing upwards.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from flask import g, has_request_context
from flask_login import current_user

from market.core.errors import PermissionDenied

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class ActingCompany:
    """The company a signed-in user acts for, and their standing in it."""

    company_id: int
    role: str
    verification_level: int
    active: bool


_resolver: Callable[[], ActingCompany | None] = lambda: None  # noqa: E731  (replaced by market.accounts)


def set_resolver(resolver: Callable[[], ActingCompany | None]) -> None:
    """Called once by ``market.accounts``: how to find the acting company of the current request."""
    global _resolver
    _resolver = resolver


_password_checker: Callable[[str], bool] = lambda _password: False  # noqa: E731  (set by market.accounts)


def set_password_checker(checker: Callable[[str], bool]) -> None:
    """Called once by ``market.accounts``: whether a password is the signed-in user's."""
    global _password_checker
    _password_checker = checker


def password_ok(password: str) -> bool:
    """Re-authentication for sensitive changes (a payout account): the signed-in user's password again."""
    return bool(password) and current_user.is_authenticated and _password_checker(password)


def acting() -> ActingCompany | None:
    """The acting company of this request (cached on ``g``), or None."""
    if not has_request_context() or not current_user.is_authenticated:
        return None
    if "acting_company" not in g:
        g.acting_company = _resolver()
    return g.acting_company


def current_company_id() -> int | None:
    found = acting()
    return found.company_id if found else None


def current_platform_role() -> str | None:
    """``operator`` or ``regulator`` for platform staff, else None."""
    if not has_request_context() or not current_user.is_authenticated:
        return None
    return current_user.platform_role


def _unauthorized() -> Any:
    from market.extensions import login_manager

    return login_manager.unauthorized()


def require_company(*roles: str, level: int = 0) -> Callable[[F], F]:
    """Guard a view: signed in, acting for an active company, with one of ``roles`` (owner/admin always
    pass) and at least trust tier ``level``."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return _unauthorized()
            found = acting()
            if found is None:
                raise PermissionDenied("You need to belong to a company to do this.")
            if roles and found.role not in {"owner", "admin", *roles}:
                raise PermissionDenied("Your role in this company does not allow this.")
            if not found.active:
                raise PermissionDenied("This company is suspended.")
            if found.verification_level < level:
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
                return _unauthorized()
            if current_user.platform_role not in roles:
                raise PermissionDenied("This page is for platform staff.")
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorate
