"""Search request parameters (the same for the HTML page and the JSON API), parsed defensively.

``?q=动力煤&category=thermal-coal&city=140200&f.size=0-13&min.qnet_ar=5500&max.st_d=1.0
&price_min=500&price_max=900&sort=price_asc&page=2`` — unknown or malformed values never raise;
they are collected in ``problems`` so the API can answer 400 and the page can say what it ignored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from werkzeug.datastructures import MultiDict

from catalog.categories import all_categories, by_slug
from catalog.models import Category
from catalog.search.base import SORTS, clean_paging
from catalog.specs import facet_attributes, range_attributes

MAX_QUERY = 200
MAX_VALUES = 20


@dataclass
class SearchParams:
    text: str = ""
    category: Category | None = None
    filters: dict[str, list[str]] = field(default_factory=dict)
    ranges: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    facets: tuple[str, ...] = ("category", "city", "county")
    sort: str = "relevance"
    page: int = 1
    per_page: int = 20
    schema: list[dict[str, Any]] = field(default_factory=list)
    problems: dict[str, str] = field(default_factory=dict)
    understanding: Any = None  # catalog.search.understand.Understanding, set when the search runs
    dominant: Category | None = None  # the category most results fall into (its spec filters show)

    def query_args(self, **changes: Any) -> dict[str, Any]:
        """The URL arguments of this search with ``changes`` (None removes a key) — for links."""
        args: dict[str, Any] = {}
        if self.text:
            args["q"] = self.text
        if self.category is not None:
            args["category"] = self.category.slug
        for key, values in self.filters.items():
            if key == "category":
                continue
            args[key if key in ("industry", "city", "county", "seller") else "f." + key[5:]] = list(values)
        for key, (low, high) in self.ranges.items():
            name = "price" if key == "price" else key
            if low is not None:
                args["price_min" if key == "price" else f"min.{name}"] = _fmt(low / 100 if key == "price" else low)
            if high is not None:
                args["price_max" if key == "price" else f"max.{name}"] = _fmt(high / 100 if key == "price" else high)
        if self.sort != "relevance":
            args["sort"] = self.sort
        for key, value in changes.items():
            if value is None:
                args.pop(key, None)
            else:
                args[key] = value
        return args


def _fmt(value: float) -> str:
    return f"{value:g}"


def _number(raw: str) -> float | None:
    try:
        value = float(Decimal(raw.strip().replace(",", "")))
    except (InvalidOperation, ValueError):
        return None
    return value if math.isfinite(value) else None


def every_attribute() -> list[dict[str, Any]]:
    """The spec attributes of every category, each key once (the first category's definition wins)."""
    seen: dict[str, dict[str, Any]] = {}
    for category in all_categories():
        for attribute in category.spec_schema or []:
            seen.setdefault(attribute["key"], attribute)
    return list(seen.values())


def parse_search_args(args: MultiDict[str, str]) -> SearchParams:
    """Turn request arguments into a :class:`SearchParams`."""
    params = SearchParams()
    text = (args.get("q") or "").strip()
    if len(text) > MAX_QUERY:
        params.problems["q"] = "The search text was shortened to 200 characters."
        text = text[:MAX_QUERY]
    params.text = text
    slug = args.get("category")
    if slug:
        params.category = by_slug(slug)
        if params.category is None:
            params.problems["category"] = "Unknown category."
        else:
            params.filters["category"] = [str(params.category.id)]
            params.schema = params.category.effective_schema()
    for key in ("industry", "city", "county", "seller"):
        values = [v.strip() for v in args.getlist(key) if v and v.strip()][:MAX_VALUES]
        if values:
            params.filters[key] = [v[:20] for v in values]
    # Without a chosen category, the spec filters of any category apply (the page offers those of the
    # category most results fall into, without a click on it first).
    known_schema = params.schema if params.category is not None else every_attribute()
    facet_keys = {a["key"] for a in facet_attributes(known_schema)}
    for name in args:
        if name.startswith("f."):
            key = name[2:]
            values = [v[:40] for v in args.getlist(name) if v][:MAX_VALUES]
            if key in facet_keys and values:
                params.filters[f"spec.{key}"] = values
            elif values:
                params.problems[name] = "This filter does not apply to the chosen category."
    range_keys = {a["key"] for a in range_attributes(known_schema)}
    for key in sorted(range_keys):
        low_raw, high_raw = args.get(f"min.{key}", ""), args.get(f"max.{key}", "")
        low = _number(low_raw) if low_raw.strip() else None
        high = _number(high_raw) if high_raw.strip() else None
        if (low_raw.strip() and low is None) or (high_raw.strip() and high is None):
            params.problems[key] = "Enter a number."
        if low is not None or high is not None:
            params.ranges[key] = (low, high)
    for name in args:
        if name.startswith(("min.", "max.")) and name[4:] not in range_keys:
            params.problems[name] = "This filter does not apply to the chosen category."
    price_low = _number(args.get("price_min", "")) if args.get("price_min", "").strip() else None
    price_high = _number(args.get("price_max", "")) if args.get("price_max", "").strip() else None
    for name in ("price_min", "price_max"):
        if args.get(name, "").strip() and _number(args[name]) is None:
            params.problems[name] = "Enter an amount in yuan."
    if price_low is not None or price_high is not None:
        params.ranges["price"] = (None if price_low is None else round(price_low * 100),
                                  None if price_high is None else round(price_high * 100))
    sort = args.get("sort") or "relevance"
    if sort not in SORTS:
        params.problems["sort"] = "Unknown sort order."
        sort = "relevance"
    params.sort = sort
    params.page, params.per_page = clean_paging(args.get("page", 1), args.get("per_page", 20))
    raw_page = args.get("page", "1")
    if raw_page and (not raw_page.isdigit() or int(raw_page) != params.page):
        params.problems["page"] = "Page out of range; showing the nearest page."
    params.facets = ("category", "city", "county", *(f"spec.{a['key']}" for a in facet_attributes(known_schema)))
    return params
