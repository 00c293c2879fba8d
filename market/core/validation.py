"""The validated edge: shared pydantic types, and parsing of forms, query strings and JSON bodies.

Every input a view reads is parsed by type here, with ONE library (pydantic v2), so HTML forms and the
JSON API share the same models (the public API will generate its OpenAPI document from them). A refused
input raises :class:`market.core.errors.ValidationFailed` naming each bad field, with the message in the
reader's language; ``market.core.http`` renders it as an HTML page or ``application/problem+json``.

Package models live next to each package's forms (``market/orders/forms.py``, ...); the shared
annotated types below are the vocabulary they are written in.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, TypeVar, get_args, get_origin

from flask import has_request_context
from flask_babel import gettext as _gettext
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter
from pydantic import ValidationError as PydanticError
from pydantic_core import ErrorDetails, PydanticCustomError
from werkzeug.datastructures import MultiDict

from market.core.errors import ValidationFailed

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

INT32_MAX = 2**31 - 1  # Integer primary keys and counters (PostgreSQL ``integer``)
INT64_MAX = 2**63 - 1  # BigInteger ids (payments, audit, jobs) and fen amounts
PAGE_MAX = 10_000
YEAR_MIN, YEAR_MAX = 2000, 2100
FEN_MAX = 10**15  # ten trillion yuan: far past any order, far below BIGINT

# ---- text ----

# C0 and C1 controls, DEL, and the Unicode line/paragraph separators; \t \n \r are allowed only where
# the field is multi-line.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_SINGLE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def has_control_chars(text: str, *, multiline: bool = True) -> bool:
    """True when ``text`` holds a character PostgreSQL or a one-line field must refuse (NUL above all)."""
    return bool((_CONTROL if multiline else _CONTROL_SINGLE_LINE).search(text))


def _check_text(multiline: bool) -> Any:
    def check(value: str) -> str:
        if has_control_chars(value, multiline=multiline):
            raise PydanticCustomError("control_chars", "control characters")
        return unicodedata.normalize("NFC", value)

    return check


def _blank_to_none(value: Any) -> Any:
    """An empty form field means "not given"."""
    if isinstance(value, str) and value.strip() == "":
        return None
    return value


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def Text(max_length: int = 200, *, min_length: int = 0, multiline: bool = False) -> Any:
    """A string without control characters (one line unless ``multiline``), stripped, length-bounded."""
    return Annotated[str, BeforeValidator(_strip), Field(min_length=min_length, max_length=max_length),
                     AfterValidator(_check_text(multiline))]


SafeText = Text(200)
LongText = Text(4000, multiline=True)
Token = Text(200)  # opaque references from links and forms (escrow references, form tokens)

# ---- numbers ----


def _int_text(value: Any) -> Any:
    # "12 " is 12; a float in JSON (1.5) stays a float so pydantic refuses it.
    if isinstance(value, str):
        value = value.strip()
        if len(value) > 30:  # int("9" * 5000) raises past Python's digit limit; no id is that long
            raise PydanticCustomError("int_too_large", "too large")
    return value


Id = Annotated[int, BeforeValidator(_int_text), Field(ge=1, le=INT32_MAX, strict=False)]
BigId = Annotated[int, BeforeValidator(_int_text), Field(ge=1, le=INT64_MAX, strict=False)]
Page = Annotated[int, BeforeValidator(_int_text), Field(ge=1, le=PAGE_MAX)]
OptionalId = Annotated[Id | None, BeforeValidator(_blank_to_none)]


def _decimal_text(value: Any) -> Any:
    if isinstance(value, str):
        value = value.replace(",", "").replace("，", "").strip()
        if len(value) > 40:
            raise PydanticCustomError("decimal_too_long", "too long")
    elif isinstance(value, float):
        value = repr(value)  # JSON 0.1 is "0.1", not 0.1000000000000000055511151231257827
    elif isinstance(value, bool):
        raise PydanticCustomError("decimal_type", "not a number")
    return value


def BoundedDecimal(*, gt: Decimal | int | None = None, ge: Decimal | int | None = None,
                   le: Decimal | int, places: int) -> Any:
    """A finite decimal inside [ge|gt, le] with at most ``places`` decimal places (NaN, Infinity refused)."""
    return Annotated[Decimal, BeforeValidator(_decimal_text),
                     Field(gt=gt, ge=ge, le=le, decimal_places=places, allow_inf_nan=False)]


# Quantities: tonnes, kg or pieces, at most three decimals, below 10^12 (placement's historical bound).
Quantity = BoundedDecimal(gt=0, le=Decimal("999999999999.999"), places=3)
Percent = BoundedDecimal(ge=0, le=100, places=4)
Tolerance = BoundedDecimal(ge=0, le=10, places=2)
# Yuan typed by a person, at most two decimals; converted to fen by the caller.
Yuan = BoundedDecimal(ge=0, le=Decimal(FEN_MAX // 100), places=2)
Fen = Annotated[int, BeforeValidator(_int_text), Field(ge=0, le=FEN_MAX)]


def yuan_fen(value: Decimal) -> int:
    """A validated :data:`Yuan` as integer fen (exact: at most two places)."""
    return int(value * 100)


# ---- dates ----


def _check_year(value: date) -> date:
    if not YEAR_MIN <= value.year <= YEAR_MAX:
        raise PydanticCustomError("year_range", "year out of range")
    return value


def _date_text(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        if len(value) > 40:
            raise PydanticCustomError("date_parsing", "too long")
        # HTML date inputs send YYYY-MM-DD; a datetime-local value keeps its date part
        if len(value) > 10 and value[10:11] in ("T", " "):
            value = value[:10]
    return value


Day = Annotated[date, BeforeValidator(_date_text), AfterValidator(_check_year)]


def _datetime_text(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        if len(value) > 40:
            raise PydanticCustomError("datetime_parsing", "too long")
    return value


def _check_datetime_year(value: datetime) -> datetime:
    _check_year(value.date())
    return value


Moment = Annotated[datetime, BeforeValidator(_datetime_text), AfterValidator(_check_datetime_year)]

# ---- redirects ----


def safe_redirect_target(value: Any) -> str | None:
    """A same-site relative path, or None: no scheme or host, no control characters, no ``//`` or ``\\``."""
    if not isinstance(value, str) or not value or len(value) > 500:
        return None
    if has_control_chars(value, multiline=False) or "\\" in value:
        return None
    if not value.startswith("/") or value.startswith("//"):
        return None
    return value


def _redirect(value: Any) -> str | None:
    return safe_redirect_target(value)


# An unsafe ``next`` is not an error the user can fix: it is dropped and the default target is used.
NextUrl = Annotated[str | None, BeforeValidator(_redirect)]

# ---- messages: pydantic's error types in the reader's language ----


def N_(message: str) -> str:
    """Mark a message for extraction; it is translated when shown (see :func:`message_for`)."""
    return message


MESSAGES: dict[str, str] = {
    "missing": N_("This field is required."),
    "control_chars": N_("Contains characters that are not allowed (control characters)."),
    "int_parsing": N_("Enter a whole number."),
    "int_type": N_("Enter a whole number."),
    "int_from_float": N_("Enter a whole number."),
    "int_parsing_size": N_("The number is too large."),
    "int_too_large": N_("The number is too large."),
    "decimal_parsing": N_("Enter a number."),
    "decimal_type": N_("Enter a number."),
    "decimal_too_long": N_("The number is too large."),
    "finite_number": N_("Enter a number."),
    "decimal_max_digits": N_("The number is too large."),
    "decimal_whole_digits": N_("The number is too large."),
    "decimal_max_places": N_("At most %(decimal_places)s decimal places."),
    "greater_than": N_("Must be more than %(gt)s."),
    "greater_than_equal": N_("Must be at least %(ge)s."),
    "less_than": N_("Must be less than %(lt)s."),
    "less_than_equal": N_("Must be at most %(le)s."),
    "date_parsing": N_("Enter a date (YYYY-MM-DD)."),
    "date_from_datetime_parsing": N_("Enter a date (YYYY-MM-DD)."),
    "date_from_datetime_inexact": N_("Enter a date (YYYY-MM-DD)."),
    "date_type": N_("Enter a date (YYYY-MM-DD)."),
    "datetime_parsing": N_("Enter a date and time."),
    "datetime_from_date_parsing": N_("Enter a date and time."),
    "datetime_type": N_("Enter a date and time."),
    "year_range": N_("The year must be between 2000 and 2100."),
    "string_too_long": N_("At most %(max_length)s characters."),
    "string_too_short": N_("At least %(min_length)s characters."),
    "string_type": N_("Enter text."),
    "string_unicode": N_("Enter text."),
    "literal_error": N_("Choose one of the listed options."),
    "enum": N_("Choose one of the listed options."),
    "list_type": N_("Give a list."),
    "too_long": N_("Too many items (at most %(max_length)s)."),
    "too_short": N_("Give at least %(min_length)s item(s)."),
    "dict_type": N_("Must be an object."),
    "model_type": N_("Must be an object."),
    "model_attributes_type": N_("Must be an object."),
    "bool_parsing": N_("Choose yes or no."),
    "bool_type": N_("Choose yes or no."),
    "value_error": N_("This value is not valid."),
}
FALLBACK = N_("This value is not valid.")


_DECIMAL_REPR = re.compile(r"^Decimal\('(.*)'\)$")


def _plain(value: Any) -> Any:
    # limits in messages are ours (numbers), never user text; still, keep them short
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    text = str(value)
    match = _DECIMAL_REPR.match(text)  # pydantic reports Decimal limits by their repr
    return (match.group(1) if match else text)[:40]


def gettext(template: str, **values: Any) -> str:
    """The reader's language in a request; English where there is no reader (jobs, webhooks in tests, CLI)."""
    if has_request_context():
        return _gettext(template, **values)
    return template % values if values else template


def message_for(error: ErrorDetails) -> str:
    """One pydantic error as our own translated sentence (never pydantic's English, never user input)."""
    template = MESSAGES.get(error["type"], FALLBACK)
    context = {key: _plain(value) for key, value in (error.get("ctx") or {}).items()
               if isinstance(value, int | float | Decimal | str)}
    try:
        return gettext(template, **context)
    except (KeyError, ValueError, TypeError):
        return gettext(FALLBACK)


def field_name(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "body"


def field_errors(exc: PydanticError) -> dict[str, str]:
    """``{"lines.0.quantity": "必须大于 0。", ...}`` — the first error of each field."""
    errors: dict[str, str] = {}
    for error in exc.errors(include_url=False, include_input=False):
        errors.setdefault(field_name(error["loc"]), message_for(error))
    return errors


def refuse(exc: PydanticError, *, prefix: str = "") -> ValidationFailed:
    errors = field_errors(exc)
    if prefix:
        errors = {f"{prefix}.{name}": message for name, message in errors.items()}
    return ValidationFailed("Please check the highlighted fields.", field_errors=errors)


# ---- parsing ----


class FormModel(BaseModel):
    """Base for models of HTML forms and query strings: unknown keys (csrf_token, buttons) are ignored."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, str_max_length=100_000, frozen=True)


class JsonModel(BaseModel):
    """Base for JSON bodies: unknown keys are ignored too (clients may send more than we read)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, str_max_length=100_000, frozen=True)


def _is_list(annotation: Any) -> bool:
    origin = get_origin(annotation)
    if origin in (list, tuple, set, frozenset):
        return True
    return any(_is_list(arg) for arg in get_args(annotation) if arg is not type(None))


def multidict_data(model: type[BaseModel], source: MultiDict[str, Any] | Mapping[str, Any]) -> dict[str, Any]:
    """A form or query string as the model's input: list fields take every value, others the first."""
    if not isinstance(source, MultiDict):
        return dict(source)
    data: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        key = info.alias or name
        if key not in source:
            continue
        data[key] = source.getlist(key) if _is_list(info.annotation) else source.get(key)
    return data


def parse(model: type[M], source: MultiDict[str, Any] | Mapping[str, Any], *, prefix: str = "") -> M:
    """Validate ``source`` (a form, query string or JSON object) into ``model`` or raise ValidationFailed."""
    try:
        return model.model_validate(multidict_data(model, source))
    except PydanticError as exc:
        raise refuse(exc, prefix=prefix) from None


_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}


def parse_value(kind: Any, raw: Any, field: str) -> Any:
    """One value by a shared type (``parse_value(Quantity, "12.5", "quantity")``), named ``field`` on error."""
    adapter = _ADAPTERS.get(kind)
    if adapter is None:
        adapter = _ADAPTERS[kind] = TypeAdapter(kind)
    try:
        return adapter.validate_python(raw)
    except PydanticError as exc:
        errors = field_errors(exc)
        message = next(iter(errors.values()))
        raise ValidationFailed("Please check the highlighted fields.", field_errors={field: message}) from None
