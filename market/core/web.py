"""The edge of every request: trusted proxies, allowed Host headers, request ids and security headers.

- ``PROXY_HOPS`` reverse proxies are trusted (werkzeug's ProxyFix): ``request.remote_addr`` is then the
  client's address as the nearest trusted proxy saw it, so rate limits and the audit log see real clients.
  Anything a client puts in X-Forwarded-For beyond those hops is ignored.
- In production a request whose Host is neither PUBLIC_BASE_URL's host nor in ALLOWED_HOSTS is refused
  (400, audit row): links never come from the Host header anyway (market.core.links), this keeps forged
  hosts out of logs, caches and redirects too.
- Every response carries a Content-Security-Policy without inline script, frame-ancestors 'none',
  X-Frame-Options, nosniff, a Referrer-Policy and, when cookies are secure, HSTS.
"""

from __future__ import annotations

import logging
import re
import uuid
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g, request
from flask_babel import gettext as _
from werkzeug.middleware.proxy_fix import ProxyFix

log = logging.getLogger(__name__)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
# Load balancers probe these by IP address: they answer whatever the Host.
_ANY_HOST_PATHS = ("/healthz", "/readyz")


def content_security_policy(app: Flask) -> str:
    form_action = "'self'"
    if "stripe" in str(app.config.get("PAYMENT_PROVIDERS") or ""):
        form_action += " https://connect.stripe.com https://checkout.stripe.com"  # onboarding redirects
    return ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
            "connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; "
            f"form-action {form_action}")


def allowed_hosts(app: Flask) -> set[str]:
    hosts = {h.strip().lower() for h in app.config.get("ALLOWED_HOSTS") or [] if h.strip()}
    base = urlsplit(str(app.config.get("PUBLIC_BASE_URL") or ""))
    if base.netloc:
        hosts.add(base.netloc.lower())
        if base.hostname:
            hosts.add(base.hostname.lower())
    return hosts


def init_app(app: Flask) -> None:
    """Install the proxy fix, the host check, request ids and the security headers."""
    hops = int(app.config.get("PROXY_HOPS") or 0)
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)  # type: ignore[method-assign]
    check_host = app.config.get("MODE") == "production" or bool(app.config.get("ALLOWED_HOSTS"))
    hosts = allowed_hosts(app)
    policy = content_security_policy(app)

    @app.before_request
    def _edge():  # type: ignore[no-untyped-def]
        incoming = request.headers.get("X-Request-ID", "")
        # Behind a trusted proxy its request id joins our logs to its logs; a client's own is not trusted.
        g.request_id = incoming if hops > 0 and _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        host = request.host.lower()
        # the configured host on any port (several app hosts or ports behind one name)
        if check_host and request.path not in _ANY_HOST_PATHS and host not in hosts \
                and host.rsplit(":", 1)[0] not in hosts:
            return _refuse_host()
        return None

    @app.after_request
    def _headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", policy)
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if current_app.config.get("SESSION_COOKIE_SECURE"):
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if "request_id" in g:
            headers["X-Request-ID"] = g.request_id
        return response


def _refuse_host():  # type: ignore[no-untyped-def]
    """400 with a clear message, nothing changed, one audit row (in its own short transaction)."""
    from market.core.audit import record_refusal
    from market.core.http import error_response

    forged = request.host[:200]
    log.warning("refused request for unknown host %r from %s", forged, request.remote_addr)
    record_refusal("request.host_refused", "request", request.path[:64], note=f"Host: {forged}")
    return error_response(400, _("This address is not served here. Please use the marketplace's own address."))
