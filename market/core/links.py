"""Absolute links for mail, notifications, documents and outgoing calls: built on PUBLIC_BASE_URL only.

Never on the request's Host header (a forged Host would otherwise end up in a password-reset mail), and
the same in a request, in the worker and in a CLI command.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app


def public_url(endpoint: str, **values: object) -> str:
    """The absolute URL of ``endpoint`` under PUBLIC_BASE_URL (extra ``values`` become the query string)."""
    base = urlsplit(str(current_app.config["PUBLIC_BASE_URL"]).rstrip("/"))
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https")
    return adapter.build(endpoint, {k: v for k, v in values.items() if v is not None}, force_external=True)
