"""Reading the schema-driven listing form (no hand-written form per category)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import Field
from werkzeug.datastructures import MultiDict

from catalog.models import Listing
from catalog.specs import normalise_type
from market.core.validation import FormModel, Id, Text

TIER_ROWS = 4
FIELDS = ("title_zh", "title_en", "description_zh", "description_en", "unit", "unit_price", "min_order_quantity",
          "available_quantity", "origin_region_code", "delivery_terms", "delivery_place", "lead_time_days")


def listing_form_data(form: MultiDict[str, str], schema: list[dict[str, Any]], category_id: int) -> dict[str, Any]:
    """The service's input from a posted form: plain fields, ``specs.<key>`` inputs and tier rows."""
    data: dict[str, Any] = {name: form.get(name, "") for name in FIELDS}
    data["category_id"] = category_id
    specs: dict[str, Any] = {}
    for attribute in schema:
        name = f"specs.{attribute['key']}"
        if normalise_type(attribute.get("type", "text")) == "multi_choice":
            specs[attribute["key"]] = form.getlist(name)
        elif name in form:
            specs[attribute["key"]] = form.get(name, "")
    data["specs"] = specs
    data["price_tiers"] = [
        {"min_quantity": form.get(f"tier_qty_{n}", ""), "unit_price": form.get(f"tier_price_{n}", "")}
        for n in range(TIER_ROWS)
    ]
    return data


class BulkForm(FormModel):
    """Pause or republish several listings (``ids`` are the ticked rows)."""

    ids: Annotated[tuple[Id, ...], Field(max_length=200)] = ()
    action: Text(20) = ""
    status: Text(20) = ""


def quantity_text(value: Decimal) -> str:
    """``Decimal("100.000")`` → ``"100"`` (never ``"1E+2"``)."""
    return format(value.normalize(), "f")


def _plain(value: Any) -> str:
    return "" if value is None else str(value)


def form_values(listing: Listing | None) -> dict[str, Any]:
    """What the form shows for an existing listing (or a new one)."""
    if listing is None:
        return {"unit": "t", "min_order_quantity": "1", "available_quantity": "", "delivery_terms": "ex_works",
                "lead_time_days": "7", "specs": {}, "tiers": []}
    values: dict[str, Any] = {name: _plain(getattr(listing, name, "")) for name in FIELDS if name != "unit_price"}
    values["unit_price"] = f"{listing.unit_price_fen / 100:.2f}" if listing.unit_price_fen else ""
    values["min_order_quantity"] = quantity_text(listing.min_order_quantity)
    values["available_quantity"] = quantity_text(listing.available_quantity)
    values["specs"] = dict(listing.specs or {})
    values["tiers"] = [{"min_quantity": quantity_text(t.min_quantity),
                        "unit_price": f"{t.unit_price_fen / 100:.2f}"} for t in listing.price_tiers]
    return values


def values_from_form(form: MultiDict[str, str], schema: list[dict[str, Any]]) -> dict[str, Any]:
    """Re-show what the user typed after a validation error."""
    values: dict[str, Any] = {name: form.get(name, "") for name in FIELDS}
    values["specs"] = {}
    for attribute in schema:
        name = f"specs.{attribute['key']}"
        if normalise_type(attribute.get("type", "text")) == "multi_choice":
            values["specs"][attribute["key"]] = form.getlist(name)
        else:
            values["specs"][attribute["key"]] = form.get(name, "")
    values["tiers"] = [{"min_quantity": form.get(f"tier_qty_{n}", ""), "unit_price": form.get(f"tier_price_{n}", "")}
                       for n in range(TIER_ROWS)]
    return values
