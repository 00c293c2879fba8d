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
    if request.path.startswith("/api/"):
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


def commit() -> None:
    """Commit the request's unit of work (called by views after the service returns)."""
    db.session.commit()


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):  # type: ignore[no-untyped-def]
        db.session.rollback()
        audit_refusal(exc)
        fields = {k: _(v) for k, v in exc.field_errors.items()}
        extra: dict[str, Any] = {"errors": fields} if fields else {}
        return error_response(exc.status, _(exc.message, **{k: v for k, v in exc.detail.items()
                                                         if isinstance(v, str | int)}), code=exc.code, **extra)

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

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):  # type: ignore[no-untyped-def]
        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, _("An unexpected error occurred. It has been logged; please try again later."),
                              code="internal")
