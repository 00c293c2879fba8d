"""Request-wide guards at the edge, before any view runs.

The typed models in :mod:`market.core.validation` are the main line; these are the backstop for what
every request shares:

* URL converters: ``<int:id>`` past the database's integer range is a 404, never an overflow in SQL;
  ``<bigint:id>`` for BigInteger ids.
* NUL and other control characters in any query-string or form value (or key), or path segment: 400
  naming the field (PostgreSQL refuses NUL in text, so they must never reach a query).
* JSON bodies: bounded in size and nesting depth BEFORE they are parsed — Python's ``json`` recurses,
  so 50,000 nested arrays would otherwise end in a RecursionError. Webhooks included.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

from flask import Flask, current_app, request
from werkzeug.routing import IntegerConverter, Map, ValidationError

from market.core.errors import BadRequest, DomainError
from market.core.validation import INT32_MAX, INT64_MAX, has_control_chars

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
DEFAULT_JSON_MAX_BYTES = 256 * 1024
DEFAULT_JSON_MAX_DEPTH = 32


class PayloadTooLarge(DomainError):
    status, code = 413, "payload_too_large"


class BoundedIntConverter(IntegerConverter):
    """``<int:id>``: 1 .. 2^31-1 (PostgreSQL ``integer``); anything else does not match the route (404)."""

    maximum = INT32_MAX

    def __init__(self, url_map: Map, fixed_digits: int = 0, min: int | None = None,
                 max: int | None = None, signed: bool = False) -> None:
        super().__init__(url_map, fixed_digits, min, self.maximum if max is None else max, signed)

    def to_python(self, value: str) -> Any:
        if len(value) > len(str(self.max)):  # also spares int() a 5,000-digit string
            raise ValidationError()
        return super().to_python(value)


class BigIdConverter(BoundedIntConverter):
    """``<bigint:id>``: 1 .. 2^63-1 for BigInteger ids."""

    maximum = INT64_MAX


# ---- JSON ----

_STRINGS = re.compile(rb'"(?:[^"\\]++|\\.)*+"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def json_depth(data: bytes) -> int:
    """The deepest nesting of arrays/objects in ``data``, without recursion (strings are skipped)."""
    brackets = _STRINGS.sub(b"", data).translate(None, _NOT_BRACKETS)
    if not brackets:
        return 0
    return max(accumulate(_STEP[b] for b in brackets))


def check_json_bytes(data: bytes) -> None:
    """Refuse a JSON body that is too large (413) or too deep (400) before anything parses it."""
    limit = int(current_app.config.get("JSON_MAX_BYTES", DEFAULT_JSON_MAX_BYTES))
    if len(data) > limit:
        raise PayloadTooLarge("The request body is too large.", field_errors={"body": "The request body is too large."})
    if json_depth(data) > int(current_app.config.get("JSON_MAX_DEPTH", DEFAULT_JSON_MAX_DEPTH)):
        raise BadRequest("The JSON document is nested too deeply.",
                         field_errors={"body": "The JSON document is nested too deeply."})


def loads_bounded(data: bytes) -> Any:
    """``json.loads`` after :func:`check_json_bytes`; malformed JSON is a 400 naming the body."""
    check_json_bytes(data)
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        raise BadRequest("Send a JSON object.", field_errors={"body": "Send a JSON object."}) from None


# ---- the guard ----

def _refuse_controls(values: Any, where: str, *, multiline: bool) -> None:
    for key, value in values.items(multi=True):
        if has_control_chars(key, multiline=False) or (isinstance(value, str)
                                                       and has_control_chars(value, multiline=multiline)):
            name = key if not has_control_chars(key) else where
            raise BadRequest("Some input contains characters that are not allowed.",
                             field_errors={name: "Contains characters that are not allowed (control characters)."})


def guard_request() -> None:
    """Runs before every view (see module docstring)."""
    _refuse_controls(request.args, "query", multiline=False)  # a query string has no multi-line value
    for key, value in (request.view_args or {}).items():
        if isinstance(value, str) and has_control_chars(value, multiline=False):
            raise BadRequest("Some input contains characters that are not allowed.",
                             field_errors={key: "Contains characters that are not allowed (control characters)."})
    if request.method not in ("POST", "PUT", "PATCH", "DELETE"):
        return
    if request.mimetype in FORM_TYPES:
        _refuse_controls(request.form, "form", multiline=True)  # textareas; typed models refine per field
        return
    length = request.content_length
    limit = int(current_app.config.get("JSON_MAX_BYTES", DEFAULT_JSON_MAX_BYTES))
    if length is not None and length > limit:
        raise PayloadTooLarge("The request body is too large.", field_errors={"body": "The request body is too large."})
    # Read at most limit + 1 bytes: a body without Content-Length cannot exhaust memory either.
    data = request.stream.read(limit + 1) if length is None else request.get_data(cache=True)
    if length is None:
        request._cached_data = data  # type: ignore[attr-defined]  # what get_data()/get_json() read later
    if data:
        check_json_bytes(data)


def init_app(app: Flask) -> None:
    app.url_map.converters["int"] = BoundedIntConverter
    app.url_map.converters["bigint"] = BigIdConverter
    app.before_request(guard_request)
