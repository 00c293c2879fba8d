"""Parsing form and JSON input for the order and RFQ pages: clear field errors, never a 500."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

from market.core.errors import ValidationFailed
from market.core.money import yuan_to_fen
from market.core.timeutil import SHANGHAI
from market.orders.placement import Delivery, parse_quantity

__all__ = ["delivery_from", "parse_date", "parse_datetime", "parse_fen", "parse_int", "parse_quantity",
           "parse_tolerance"]


def parse_date(raw: Any, field: str, *, end_of_day: bool = False) -> datetime:
    """A ``YYYY-MM-DD`` date in Shanghai time, as an aware UTC datetime (start or end of that day)."""
    try:
        day = datetime.strptime(str(raw or "").strip()[:10], "%Y-%m-%d").date()  # noqa: DTZ007 (a date only)
    except ValueError:
        raise ValidationFailed("Enter a date (YYYY-MM-DD).", field_errors={field: "Enter a date (YYYY-MM-DD)."}) \
            from None
    moment = datetime.combine(day, time(23, 59, 59) if end_of_day else time(0, 0), tzinfo=SHANGHAI)
    return moment.astimezone(SHANGHAI)


def parse_datetime(raw: Any, field: str) -> datetime:
    """``YYYY-MM-DDTHH:MM`` (an HTML datetime-local field) or ISO 8601 with a zone; naive means Shanghai."""
    text = str(raw or "").strip()
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationFailed("Enter a date and time.", field_errors={field: "Enter a date and time."}) from None
    return value if value.tzinfo else value.replace(tzinfo=SHANGHAI)


def parse_fen(raw: Any, field: str) -> int:
    """A yuan amount typed by a person ("800.00") as fen."""
    if raw is None or str(raw).strip() == "":
        raise ValidationFailed("Enter an amount.", field_errors={field: "Enter an amount."})
    return yuan_to_fen(raw, field=field)


def parse_int(raw: Any, field: str) -> int:
    try:
        return int(str(raw).strip())
    except (TypeError, ValueError):
        raise ValidationFailed("Enter a whole number.", field_errors={field: "Enter a whole number."}) from None


def parse_tolerance(raw: Any) -> Decimal:
    try:
        value = Decimal(str(raw).strip())
    except ArithmeticError:
        value = Decimal(-1)
    if not value.is_finite() or not Decimal(0) <= value <= Decimal(10):
        raise ValidationFailed("Between 0 and 10 per cent.",
                               field_errors={"quantity_tolerance_pct": "Between 0 and 10 per cent."})
    return value


def delivery_from(form: Any) -> Delivery:
    """The checkout's delivery block (form or JSON mapping)."""
    start = parse_date(form.get("delivery_window_start"), "delivery_window_start")
    end = parse_date(form.get("delivery_window_end"), "delivery_window_end", end_of_day=True)
    if end - start > timedelta(days=366):
        raise ValidationFailed("The delivery window is too long.",
                               field_errors={"delivery_window_end": "At most one year."})
    agency = form.get("inspection_agency_id")
    return Delivery(address=str(form.get("delivery_address") or ""), window_start=start, window_end=end,
                    po_number=str(form.get("po_number") or "").strip() or None,
                    note=str(form.get("note") or "").strip()[:2000] or None,
                    inspection_agency_id=parse_int(agency, "inspection_agency_id") if agency else None)
