"""Domain errors. Services raise these; ``market.core.http`` maps them to HTTP centrally."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A rule of the domain refused the request. Carries a user-facing (translatable) message."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, field_errors: dict[str, str] | None = None, **detail: Any) -> None:
        super().__init__(message)
        self.message = message
        self.field_errors = field_errors or {}
        self.detail = detail


class BadRequest(DomainError):
    status, code = 400, "bad_request"


class PermissionDenied(DomainError):
    status, code = 403, "forbidden"


class NotFound(DomainError):
    status, code = 404, "not_found"


class Conflict(DomainError):
    status, code = 409, "conflict"


class InvalidTransition(Conflict):
    """An illegal move in a lifecycle's transition table."""

    code = "invalid_transition"


class ValidationFailed(DomainError):
    """Input is well-formed but breaks a rule; ``field_errors`` names the fields."""

    status, code = 422, "validation_failed"


class RateLimited(DomainError):
    status, code = 429, "rate_limited"
