"""Labels for stored enum values (units, delivery terms, listing states) in the reader's language.

Templates never show a raw value such as ``rail_station``: they use the ``unit_label``,
``delivery_terms_label`` and ``listing_status_label`` filters, which look the value up here. A value
without a label is shown as stored (and ``tests/newcomer/test_language.py`` fails on it).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

UNIT_LABELS: dict[str, LazyString] = {
    "t": _l("t"), "kg": _l("kg"), "piece": _l("pcs"), "box": _l("box"), "L": _l("L"),
}
DELIVERY_TERMS_LABELS: dict[str, LazyString] = {
    "ex_works": _l("Ex works (the buyer collects)"),
    "delivered": _l("Delivered to the buyer"),
    "rail_station": _l("At the rail station"),
}
LISTING_STATUS_LABELS: dict[str, LazyString] = {
    "draft": _l("Draft"), "published": _l("On sale"), "paused": _l("Paused"), "sold_out": _l("Sold out"),
    "archived": _l("Archived"),
}


def unit_label(unit: str | None) -> str:
    """``"t"`` → 吨 / t; ``"piece"`` → 件 / pcs."""
    return str(UNIT_LABELS[unit]) if unit in UNIT_LABELS else (unit or "")


def delivery_terms_label(terms: str | None) -> str:
    return str(DELIVERY_TERMS_LABELS[terms]) if terms in DELIVERY_TERMS_LABELS else (terms or "")


def listing_status_label(status: str | None) -> str:
    return str(LISTING_STATUS_LABELS[status]) if status in LISTING_STATUS_LABELS else (status or "")
