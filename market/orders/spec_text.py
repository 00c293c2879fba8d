"""Specs as people read them: "收到基低位发热量 5200 kcal/kg · 全硫 St,d 1.18 %" instead of "qnet_ar: 5200".

Order lines, inspection reports, RFQ ranges and contracts keep specs as plain ``{key: value}`` data (frozen in
the contract). The labels and units come from the category's spec schema; goods without a category (quoted in an
RFQ, or an old contract) use the first category schema that knows the key, since keys such as ``qnet_ar`` mean the
same thing across the coal categories.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import g, has_app_context
from sqlalchemy import select

from catalog import specs as spec_rules
from catalog.models import Category
from market.extensions import db


def _locale() -> str:
    try:
        from flask_babel import get_locale

        return str(get_locale() or "zh_CN")
    except (RuntimeError, KeyError):  # no request: the Chinese default
        return "zh_CN"


def _all_attributes() -> dict[str, dict[str, Any]]:
    """Every attribute key of every category schema (first one wins), cached for the request."""
    cached = g.get("_spec_text_attributes") if has_app_context() else None
    if cached is not None:
        return cached
    attributes: dict[str, dict[str, Any]] = {}
    for schema in db.session.scalars(select(Category.spec_schema).order_by(Category.id)):
        for attribute in schema or ():
            attributes.setdefault(attribute["key"], attribute)
    if has_app_context():
        g._spec_text_attributes = attributes
    return attributes


def attribute_for(key: str, category_id: int | None = None) -> dict[str, Any] | None:
    """The schema entry describing ``key``: from the category if given, else from any category."""
    if category_id is not None:
        category = db.session.get(Category, category_id)
        if category is not None:
            for attribute in category.effective_schema():
                if attribute["key"] == key:
                    return attribute
    return _all_attributes().get(key)


def spec_label(key: str, category_id: int | None = None) -> str:
    """The label of one spec key in the current language (the key itself when no schema knows it)."""
    attribute = attribute_for(key, category_id)
    return spec_rules.attribute_label(attribute, _locale()) if attribute else key


def spec_pairs(specs: Mapping[str, Any] | None, category_id: int | None = None) -> list[tuple[str, str]]:
    """``[(label, value with unit)]`` in the order the specs were given."""
    locale = _locale()
    pairs = []
    for key, value in (specs or {}).items():
        attribute = attribute_for(key, category_id)
        if attribute is None:
            pairs.append((key, str(value)))
            continue
        try:
            shown = spec_rules.display_value(attribute, value, locale)
        except (TypeError, ValueError):
            shown = str(value)
        pairs.append((spec_rules.attribute_label(attribute, locale), shown))
    return pairs


def spec_text(specs: Mapping[str, Any] | None, category_id: int | None = None, separator: str = "; ") -> str:
    """All specs on one line, labelled; "—" when there are none."""
    return separator.join(f"{label} {value}" for label, value in spec_pairs(specs, category_id)) or "—"
