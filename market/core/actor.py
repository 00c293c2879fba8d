"""Who is acting in this request, readable by layers that may not import ``market.accounts``.

``market.accounts`` fills ``g`` before each request (see ``market.accounts.init_app``); ``payments``
and ``catalog`` read it here, so the layer rule (imports go down only) holds.
"""

from __future__ import annotations

from flask import g, has_request_context


def current_company_id() -> int | None:
    """The id of the company the signed-in user acts for, or None."""
    return g.get("actor_company_id") if has_request_context() else None


def current_user_id() -> int | None:
    return g.get("actor_user_id") if has_request_context() else None


def current_platform_role() -> str | None:
    """``operator`` or ``regulator`` for platform staff, else None."""
    return g.get("actor_platform_role") if has_request_context() else None
