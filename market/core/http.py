"""The request boundary: domain errors to HTTP, HTML pages or ``application/problem+json``.

The boundary also owns the transaction: a view that returns normally is committed by the view
helper :func:`commit`; any error rolls back, so a failed request changes nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, make_response, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from market.core.errors import DomainError
from market.core.uploads import audit_refusal
from market.extensions import db

log = logging.getLogger(__name__)

TITLES = {
    400: "Bad request",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Upload too large",
    422: "Please check your input",
    429: "Too many requests",
    500: "Something went wrong on our side",
}


def wants_json() -> bool:
    """JSON for the API and for clients that prefer it over HTML."""
    if request.path.startswith("/api/") or request.is_json:  # API calls and JSON bodies (webhooks)
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json", "application/problem+json"])
    return best in {"application/json", "application/problem+json"}


def problem(status: int, detail: str, *, code: str = "", **extra: Any) -> Response:
    """An RFC 9457 problem document."""
    body = {"type": f"about:blank#{code}" if code else "about:blank", "title": _(TITLES.get(status, "Error")),
            "status": status, "detail": detail, **extra}
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def error_response(status: int, detail: str, *, code: str = "", **extra: Any) -> Response | tuple[str, int]:
    if wants_json():
        return problem(status, detail, code=code, **extra)
    return (
        render_template("errors/error.html", status=status, title=_(TITLES.get(status, "Error")), detail=detail,
                        **extra),
        status,
    )


def translate(message: Any, **detail: Any) -> str:
    """Translate a message ONCE. Only our own detail values are interpolated; a message that already
    holds user text (with a stray ``%``) is shown as it is instead of being formatted a second time."""
    text = str(message)
    values = {k: v for k, v in detail.items() if isinstance(v, str | int)}
    try:
        return _(text, **values) if values else _(text)
    except (KeyError, ValueError, TypeError):
        return _(text)


def commit() -> None:
    """Commit the request's unit of work (called by views after the service returns)."""
    db.session.commit()


# deadlock, serialization failure, lock not available, query cancelled by lock_timeout
CONTENTION_SQLSTATES = frozenset({"40P01", "40001", "55P03", "57014"})


def is_contention(exc: OperationalError) -> bool:
    """Whether the database refused a statement because another transaction holds what it needs."""
    sqlstate = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    if sqlstate in CONTENTION_SQLSTATES:
        return True
    return "database is locked" in str(exc.orig) or "database table is locked" in str(exc.orig)


def register_error_handlers(app: Flask) -> None:
    # ``{{ message|tr }}`` translates a message that may hold user text without %-formatting it again
    # (Jinja's newstyle ``_()`` always applies ``%``, which breaks on "50 %" or "%(x)s").
    app.jinja_env.filters["tr"] = translate

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):  # type: ignore[no-untyped-def]
        db.session.rollback()
        audit_refusal(exc)
        fields = {k: translate(v) for k, v in exc.field_errors.items()}
        extra: dict[str, Any] = {"errors": fields} if fields else {}
        return error_response(exc.status, translate(exc.message, **exc.detail), code=exc.code, **extra)

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):  # type: ignore[no-untyped-def]
        db.session.rollback()
        return error_response(400, _("The form expired or was sent from elsewhere. Please reload and try again."),
                              code="csrf")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):  # type: ignore[no-untyped-def]
        db.session.rollback()
        status = exc.code or 500
        if status == 429:
            response = make_response(error_response(429, _("Too many attempts. Please wait a minute and try again."),
                                                    code="rate_limited"))
            retry_after = getattr(exc, "retry_after", None)
            if isinstance(retry_after, int) and retry_after > 0:
                response.headers["Retry-After"] = str(retry_after)
            return response
        return error_response(status, _(TITLES.get(status, exc.name)), code=exc.name.lower().replace(" ", "_"))

    @app.errorhandler(OperationalError)
    def database_busy(exc: OperationalError):  # type: ignore[no-untyped-def]
        db.session.rollback()
        if is_contention(exc):  # two writers met: the loser retries, nothing was written
            return error_response(409, _("The system is busy with another change to the same data. "
                                         "Please try again."), code="busy")
        return unexpected(exc)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):  # type: ignore[no-untyped-def]
        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, _("An unexpected error occurred. It has been logged; please try again later."),
                              code="internal")
