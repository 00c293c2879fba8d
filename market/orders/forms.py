"""The order pages' and the order API's input, parsed by type at the edge (``market.core.validation``).

The models here are what the JSON API's OpenAPI document will be generated from; the ``parse_*``
helpers parse one value by the same shared types for the smaller button forms.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, model_validator

from market.core.errors import ValidationFailed
from market.core.timeutil import SHANGHAI
from market.core.validation import (
    Day,
    FormModel,
    Id,
    JsonModel,
    LongText,
    Moment,
    OptionalId,
    Quantity,
    Text,
    Tolerance,
    Yuan,
    parse,
    parse_value,
    yuan_fen,
)
from market.orders.placement import Delivery, parse_quantity

__all__ = ["CartAddForm", "DeliveryForm", "OrderLineIn", "OrderRequest", "delivery_from", "parse_date",
           "parse_datetime", "parse_fen", "parse_int", "parse_quantity", "parse_tolerance", "to_moment"]

REQUIRED = "This field is required."


def _required(raw: Any, field: str) -> None:
    if raw is None or str(raw).strip() == "":
        raise ValidationFailed("Please check the highlighted fields.", field_errors={field: REQUIRED})


def _blank(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


def to_moment(day: date, *, end_of_day: bool = False) -> datetime:
    """A Shanghai calendar day as an aware datetime at its start (or its last second)."""
    return datetime.combine(day, time(23, 59, 59) if end_of_day else time(0, 0), tzinfo=SHANGHAI)


def parse_date(raw: Any, field: str, *, end_of_day: bool = False) -> datetime:
    """A ``YYYY-MM-DD`` date (year 2000..2100) in Shanghai time, as an aware datetime."""
    _required(raw, field)
    return to_moment(parse_value(Day, raw, field), end_of_day=end_of_day)


def parse_datetime(raw: Any, field: str) -> datetime:
    """``YYYY-MM-DDTHH:MM`` (an HTML datetime-local field) or ISO 8601 with a zone; naive means Shanghai."""
    _required(raw, field)
    value = parse_value(Moment, raw, field)
    return value if value.tzinfo else value.replace(tzinfo=SHANGHAI)


def parse_fen(raw: Any, field: str) -> int:
    """A yuan amount typed by a person ("800.00") as fen."""
    _required(raw, field)
    return yuan_fen(parse_value(Yuan, raw, field))


def parse_int(raw: Any, field: str) -> int:
    """An id (1 .. 2^31-1)."""
    _required(raw, field)
    return parse_value(Id, raw, field)


def parse_tolerance(raw: Any) -> Decimal:
    return parse_value(Tolerance, raw, "quantity_tolerance_pct")


class DeliveryForm(FormModel):
    """Where and when the buyer wants the goods (checkout form and order API)."""

    delivery_address: Text(300) = ""
    delivery_window_start: Day
    delivery_window_end: Day
    po_number: Text(60) = ""
    note: Text(2000, multiline=True) = ""
    inspection_agency_id: OptionalId = None

    @model_validator(mode="after")
    def _window(self) -> DeliveryForm:
        if self.delivery_window_end - self.delivery_window_start > timedelta(days=366):
            raise ValidationFailed("The delivery window is too long.",
                                   field_errors={"delivery_window_end": "At most one year."})
        return self

    def delivery(self) -> Delivery:
        return Delivery(address=self.delivery_address,
                        window_start=to_moment(self.delivery_window_start),
                        window_end=to_moment(self.delivery_window_end, end_of_day=True),
                        po_number=self.po_number or None, note=self.note or None,
                        inspection_agency_id=self.inspection_agency_id)


def delivery_from(form: Any) -> Delivery:
    """The checkout's delivery block (form or JSON mapping)."""
    return parse(DeliveryForm, form).delivery()


class CartAddForm(FormModel):
    listing_id: Id
    quantity: Quantity


class CheckoutForm(DeliveryForm):
    form_token: Text(100) = ""


class OrderLineIn(JsonModel):
    listing_id: Id
    quantity: Quantity


class OrderRequest(DeliveryForm):
    """``POST /api/v1/orders``: 1 to 50 lines and the delivery block."""

    lines: Annotated[list[OrderLineIn], Field(min_length=1, max_length=50)]


class DisputeForm(FormModel):
    reason: Text(4000, multiline=True) = ""
    lot_id: OptionalId = None
    claimed: Annotated[Yuan | None, BeforeValidator(_blank)] = None


class InspectionForm(FormModel):
    measured_quantity: Quantity
    certificate_no: Text(60) = ""
    method: Text(120) = ""
    note: LongText = ""
