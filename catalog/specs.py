"""Industry spec schemas: typed attributes per category, and the one validator for spec values.

A schema is a list of attribute dicts (stored as JSON on ``Category.spec_schema``)::

    {"key": "qnet_ar", "label_zh": "收到基低位发热量", "label_en": "Net calorific value (Qnet,ar)",
     "type": "number", "unit": "kcal/kg", "min": 3000, "max": 7500, "required": true,
     "buckets": [5000, 5500, 6000], "units": {"MJ/kg": 238.846}}

``type`` is one of ``number``, ``text``, ``choice``, ``multi_choice`` (``multi-choice`` accepted),
``year``. ``choice``/``multi_choice`` carry ``options``: strings, or ``{"value", "label_zh",
"label_en"}`` dicts. ``units`` maps accepted alternative units to the factor that converts them to
``unit`` (so "23 MJ/kg" is stored as 5494 kcal/kg); any other unit is an error. ``buckets`` are the
thresholds of the search facet for a number (choices facet on their values; ``"facet": false`` opts out).

Public, stable signatures (the RFQ and order packages call them too):

* :func:`validate_specs` ``(schema, raw) -> dict`` — a listing's spec values.
* :func:`validate_spec_ranges` ``(schema, raw) -> dict`` — an RFQ's required ranges ``{key: {"min", "max"}}``.
* :func:`validate_schema` ``(schema) -> list`` — an operator's edited schema.
* :func:`bucket_for` ``(attribute, value) -> str | None`` and :func:`bucket_label`.

Both validators raise :class:`market.core.errors.ValidationFailed` whose ``field_errors`` are keyed
``specs.<key>`` with a message already translated into the current locale.
"""

from __future__ import annotations

import itertools
import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from market.core.errors import ValidationFailed

TYPES = ("number", "text", "choice", "multi_choice", "year")
MAX_TEXT = 200
YEAR_MIN, YEAR_MAX = 1990, 2100
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
# a number followed by an optional unit: "5500", "5 500 kcal/kg", "0.8%", "23.5 MJ/kg", "Φ12mm"
_NUMBER = re.compile(r"^\s*[Φφ]?\s*([+-]?(?:\d[\d,\s]*)?(?:\.\d+)?)\s*([^\d\s].*)?$")


def _t(message: str, **values: Any) -> str:
    """Translate now (field messages carry numbers the error handler cannot interpolate)."""
    try:
        from flask_babel import gettext

        return gettext(message, **values)
    except (RuntimeError, KeyError):  # outside an app context (scripts, bench)
        return message % values if values else message


def attribute_label(attribute: dict[str, Any], locale: str = "zh_CN") -> str:
    """The attribute's label in ``locale`` (English falls back to Chinese and vice versa)."""
    if str(locale).startswith("en"):
        return attribute.get("label_en") or attribute.get("label_zh") or attribute["key"]
    return attribute.get("label_zh") or attribute.get("label_en") or attribute["key"]


def normalise_type(kind: str) -> str:
    return "multi_choice" if kind == "multi-choice" else kind


def options(attribute: dict[str, Any]) -> list[dict[str, str]]:
    """The options of a choice attribute as ``{"value", "label_zh", "label_en"}`` dicts."""
    result = []
    for option in attribute.get("options") or []:
        if isinstance(option, dict):
            value = str(option["value"])
            result.append({"value": value, "label_zh": option.get("label_zh") or value,
                           "label_en": option.get("label_en") or option.get("label_zh") or value})
        else:
            result.append({"value": str(option), "label_zh": str(option), "label_en": str(option)})
    return result


def option_label(attribute: dict[str, Any], value: str, locale: str = "zh_CN") -> str:
    for option in options(attribute):
        if option["value"] == value:
            return option["label_en"] if str(locale).startswith("en") else option["label_zh"]
    return value


def _fmt(value: float | int) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _parse_number(attribute: dict[str, Any], raw: Any) -> float:
    """Parse a number with an optional unit; convert accepted alternative units. Raises ValueError(message)."""
    unit = (attribute.get("unit") or "").strip()
    if isinstance(raw, bool):
        raise ValueError(_t("Enter a number."))
    if isinstance(raw, int | float | Decimal):
        value = float(raw)
        given_unit = ""
    else:
        match = _NUMBER.match(str(raw))
        number = match.group(1).replace(",", "").replace(" ", "") if match else ""
        if not match or number in ("", "+", "-", "."):
            raise ValueError(_t("Enter a number."))
        try:
            value = float(Decimal(number))
        except InvalidOperation:
            raise ValueError(_t("Enter a number.")) from None
        given_unit = (match.group(2) or "").strip()
    if not math.isfinite(value):
        raise ValueError(_t("Enter a number."))
    if given_unit and given_unit.casefold() != unit.casefold():
        factors = {k.casefold(): v for k, v in (attribute.get("units") or {}).items()}
        if given_unit.casefold() not in factors:
            raise ValueError(_t("Wrong unit %(given)s: use %(unit)s.", given=given_unit, unit=unit or "—"))
        value = value * float(factors[given_unit.casefold()])
    return round(value, 4)


def _check_bounds(attribute: dict[str, Any], value: float) -> None:
    low, high = attribute.get("min"), attribute.get("max")
    unit = attribute.get("unit") or ""
    if low is not None and value < low:
        raise ValueError(_t("Must be at least %(min)s %(unit)s.", min=_fmt(low), unit=unit).strip())
    if high is not None and value > high:
        raise ValueError(_t("Must be at most %(max)s %(unit)s.", max=_fmt(high), unit=unit).strip())


def _clean_value(attribute: dict[str, Any], raw: Any) -> Any:
    """One attribute's value, normalised, or ValueError(message)."""
    kind = normalise_type(attribute.get("type", "text"))
    if kind == "number":
        value = _parse_number(attribute, raw)
        _check_bounds(attribute, value)
        return int(value) if value.is_integer() else value
    if kind == "year":
        text = str(raw).strip().removesuffix("年")
        if not text.isdigit() or len(text) != 4:
            raise ValueError(_t("Enter a four-digit year."))
        year = int(text)
        low, high = attribute.get("min", YEAR_MIN), attribute.get("max", YEAR_MAX)
        if not low <= year <= high:
            raise ValueError(_t("Year must be between %(min)s and %(max)s.", min=low, max=high))
        return year
    if kind == "choice":
        allowed = {o["value"] for o in options(attribute)}
        value = str(raw).strip()
        if value not in allowed:
            raise ValueError(_t("Choose one of the listed options."))
        return value
    if kind == "multi_choice":
        values = [raw] if isinstance(raw, str) else list(raw or [])
        allowed_order = [o["value"] for o in options(attribute)]
        chosen = {str(v).strip() for v in values if str(v).strip()}
        if chosen - set(allowed_order):
            raise ValueError(_t("Choose only from the listed options."))
        return [v for v in allowed_order if v in chosen]
    text = " ".join(str(raw).split())
    if len(text) > MAX_TEXT:
        raise ValueError(_t("At most %(n)s characters.", n=MAX_TEXT))
    return text


def _is_blank(raw: Any) -> bool:
    if raw is None:
        return True
    if isinstance(raw, str):
        return raw.strip() == ""
    if isinstance(raw, list | tuple | set):
        return not any(str(v).strip() for v in raw)
    return False


def validate_specs(schema: list[dict[str, Any]], raw: dict[str, Any]) -> dict[str, Any]:
    """Validate a listing's spec values against ``schema``; return them normalised.

    ``raw`` maps attribute keys to user input (strings from a form, or JSON values). Numbers may
    carry their unit ("5500 kcal/kg", "0.8%"); an accepted alternative unit is converted. Blank
    optional values are dropped. Raises ValidationFailed with ``field_errors["specs.<key>"]`` for
    each missing required value, unknown key, wrong unit, unparseable or out-of-range value.
    """
    if not isinstance(raw, dict):
        raise ValidationFailed("Specifications must be an object.", field_errors={"specs": "Must be an object."})
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    known = {a["key"] for a in schema}
    for key in raw:
        if key not in known:
            errors[f"specs.{key}"] = _t("Unknown attribute for this category.")
    for attribute in schema:
        key = attribute["key"]
        value = raw.get(key)
        if _is_blank(value):
            if attribute.get("required"):
                errors[f"specs.{key}"] = _t("Required.")
            continue
        try:
            clean[key] = _clean_value(attribute, value)
        except ValueError as exc:
            errors[f"specs.{key}"] = str(exc)
    if errors:
        raise ValidationFailed("Some specifications are missing or invalid.", field_errors=errors)
    return clean


def validate_spec_ranges(schema: list[dict[str, Any]], raw: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Validate required ranges such as an RFQ's ``{"qnet_ar": {"min": 5500}, "st_d": {"max": 1.0}}``.

    Only number and year attributes take ranges. Each bound is optional but one must be given;
    bounds are parsed like spec values (units accepted), must lie inside the schema's limits, and
    ``min <= max``. Returns ``{key: {"min": number | None, "max": number | None}}``.
    """
    if not isinstance(raw, dict):
        raise ValidationFailed("Ranges must be an object.", field_errors={"specs": "Must be an object."})
    by_key = {a["key"]: a for a in schema}
    errors: dict[str, str] = {}
    clean: dict[str, dict[str, Any]] = {}
    for key, bounds in raw.items():
        field = f"specs.{key}"
        attribute = by_key.get(key)
        if attribute is None:
            errors[field] = _t("Unknown attribute for this category.")
            continue
        if normalise_type(attribute.get("type", "text")) not in ("number", "year"):
            errors[field] = _t("Only numeric attributes take a range.")
            continue
        if not isinstance(bounds, dict) or set(bounds) - {"min", "max"}:
            errors[field] = _t("Give a minimum, a maximum or both.")
            continue
        parsed: dict[str, Any] = {"min": None, "max": None}
        try:
            for side in ("min", "max"):
                if not _is_blank(bounds.get(side)):
                    parsed[side] = _clean_value(attribute, bounds[side])
        except ValueError as exc:
            errors[field] = str(exc)
            continue
        if parsed["min"] is None and parsed["max"] is None:
            errors[field] = _t("Give a minimum, a maximum or both.")
        elif parsed["min"] is not None and parsed["max"] is not None and parsed["min"] > parsed["max"]:
            errors[field] = _t("The minimum is above the maximum.")
        else:
            clean[key] = parsed
    if errors:
        raise ValidationFailed("Some ranges are invalid.", field_errors=errors)
    return clean


def validate_schema(schema: Any) -> list[dict[str, Any]]:
    """Check an operator's spec schema (parsed JSON); return it normalised or raise ValidationFailed."""
    if not isinstance(schema, list):
        raise ValidationFailed("The schema must be a JSON list.", field_errors={"spec_schema": "Must be a list."})
    problems: list[str] = []
    seen: set[str] = set()
    clean = []
    for index, attribute in enumerate(schema, start=1):
        where = f"#{index}"
        if not isinstance(attribute, dict):
            problems.append(f"{where}: not an object")
            continue
        key, kind = attribute.get("key"), normalise_type(str(attribute.get("type", "")))
        if not isinstance(key, str) or not _KEY.match(key):
            problems.append(f"{where}: key must be lower-case letters, digits, underscore")
        elif key in seen:
            problems.append(f"{where}: duplicate key {key}")
        else:
            seen.add(key)
        if kind not in TYPES:
            problems.append(f"{where}: type must be one of {', '.join(TYPES)}")
        if not attribute.get("label_zh"):
            problems.append(f"{where}: label_zh is required")
        for bound in ("min", "max"):
            if attribute.get(bound) is not None and not isinstance(attribute[bound], int | float):
                problems.append(f"{where}: {bound} must be a number")
        if (isinstance(attribute.get("min"), int | float) and isinstance(attribute.get("max"), int | float)
                and attribute["min"] > attribute["max"]):
            problems.append(f"{where}: min is above max")
        if kind in ("choice", "multi_choice") and not attribute.get("options"):
            problems.append(f"{where}: choices need options")
        buckets = attribute.get("buckets")
        if buckets is not None and (not isinstance(buckets, list) or
                                    not all(isinstance(b, int | float) for b in buckets) or
                                    buckets != sorted(set(buckets))):
            problems.append(f"{where}: buckets must be an ascending list of numbers")
        clean.append({**attribute, "type": kind})
    if problems:
        raise ValidationFailed("The schema is invalid.", field_errors={"spec_schema": "; ".join(problems)})
    return clean


def bucket_for(attribute: dict[str, Any], value: Any) -> str | None:
    """The facet bucket of a value: ``"lt5000"``, ``"5000-5500"``, ``"ge6000"``, a choice value, or None."""
    kind = normalise_type(attribute.get("type", "text"))
    if attribute.get("facet") is False:
        return None
    if kind in ("number", "year"):
        buckets = attribute.get("buckets") or []
        if not buckets or not isinstance(value, int | float):
            return None
        if value < buckets[0]:
            return f"lt{_fmt(buckets[0])}"
        for low, high in itertools.pairwise(buckets):
            if low <= value < high:
                return f"{_fmt(low)}-{_fmt(high)}"
        return f"ge{_fmt(buckets[-1])}"
    if kind == "choice":
        return str(value)
    return None


def bucket_label(attribute: dict[str, Any], bucket: str, locale: str = "zh_CN") -> str:
    """A readable label for a bucket key (``"ge6000"`` → ``"≥ 6000 kcal/kg"``)."""
    unit = attribute.get("unit") or ""
    if normalise_type(attribute.get("type", "text")) == "choice":
        return option_label(attribute, bucket, locale)
    if bucket.startswith("lt"):
        return f"< {bucket[2:]} {unit}".strip()
    if bucket.startswith("ge"):
        return f"≥ {bucket[2:]} {unit}".strip()
    return f"{bucket.replace('-', '–')} {unit}".strip()


def facet_attributes(schema: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Attributes that appear as search facets (numbers with buckets, single choices)."""
    return [a for a in schema if a.get("facet") is not False and (
        (normalise_type(a.get("type", "")) in ("number", "year") and a.get("buckets"))
        or normalise_type(a.get("type", "")) == "choice")]


def range_attributes(schema: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Attributes that take a min/max filter in search."""
    return [a for a in schema if normalise_type(a.get("type", "")) in ("number", "year")]


def display_value(attribute: dict[str, Any], value: Any, locale: str = "zh_CN") -> str:
    """A spec value for the listing page: unit appended, choice labels translated."""
    kind = normalise_type(attribute.get("type", "text"))
    if kind == "choice":
        return option_label(attribute, str(value), locale)
    if kind == "multi_choice":
        return "、".join(option_label(attribute, str(v), locale) for v in value or [])
    if kind == "number":
        return f"{_fmt(value)} {attribute.get('unit') or ''}".strip()
    return str(value)
