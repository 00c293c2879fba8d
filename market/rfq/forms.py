"""The RFQ pages' input, parsed by type at the edge (shared types from ``market.core.validation``)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from market.core.validation import Day, FormModel, Id, LongText, Moment, Quantity, Text, Yuan


class RfqForm(FormModel):
    """A buyer's request for quotation (spec ranges ``min.<key>``/``max.<key>`` are read by the schema)."""

    category_id: Id
    title: Text(200) = ""
    quantity: Quantity
    unit: Text(20) = "t"
    delivery_place: Text(200) = ""
    delivery_window_start: Day
    delivery_window_end: Day
    deadline: Moment
    visibility: Text(20) = "open"
    invited: Annotated[tuple[Id, ...], Field(max_length=50)] = ()
    description: LongText = ""


class QuoteForm(FormModel):
    """A seller's sealed quote (measured specs ``specs.<key>`` are checked against the category)."""

    unit_price: Yuan
    quantity: Quantity
    valid_until: Day
    terms: LongText = ""
