"""The words of the contract, from its content, in the current locale (HTML and PDF share them).

Render under ``flask_babel.force_locale("en")`` for the English text; Chinese is the default.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_babel import gettext as _

from catalog.labels import unit_label
from market.core.money import format_fen
from market.core.timeutil import to_local
from market.orders.spec_text import spec_label, spec_text


def N_(message: str) -> str:
    return message


# msgids (translated when shown): the contract content stores the value, the words come from here
DELIVERY_TERMS = {"ex_works": N_("Ex works (buyer collects)"), "delivered": N_("Delivered to the buyer's address"),
                  "rail_station": N_("At the rail station"),
                  "fob_station": N_("Free on rail at the loading station"), "cif": N_("Cost, insurance and freight")}


def _date(value: str | None) -> str:
    from datetime import datetime

    return to_local(datetime.fromisoformat(value)).strftime("%Y-%m-%d") if value else "—"


def describe_rule(rule: dict[str, Any]) -> str:
    """The price-adjustment clause in words."""
    kind = rule.get("kind", "plain")
    if kind == "coal":
        if rule.get("method", "pro_rata") == "pro_rata":
            text = _("Price is adjusted pro rata to the measured net calorific value: unit price × actual "
                     "Qnet,ar ÷ %(base)s kcal/kg.", base=rule.get("base_qnet_ar"))
        else:
            text = _("For each full %(step)s kcal/kg below %(base)s kcal/kg the unit price is reduced by "
                     "%(fen)s%(bonus)s.", step=rule.get("step_kcal", 100), base=rule.get("base_qnet_ar"),
                     fen=format_fen(int(rule.get("step_fen", 0))),
                     bonus=_(" (and increased by the same above it)") if rule.get("bonus") else "")
        for penalty in rule.get("penalties") or ():
            text += " " + _("%(spec)s above %(limit)s: %(fen)s off the unit price per started %(step)s.",
                            spec=spec_label(penalty["spec"]), limit=penalty["limit"], step=penalty["step"],
                            fen=format_fen(int(penalty["fen_per_step"])))
        reject = rule.get("reject") or {}
        if reject:
            limits = ", ".join(f"{spec_label(k.removesuffix('_min').removesuffix('_max'))} "
                               f"{'<' if k.endswith('_min') else '>'} {v}" for k, v in reject.items())
            text += " " + _("The buyer may reject a lot when %(limits)s.", limits=limits)
        return text
    if kind == "agri_moisture":
        return _("Moisture above %(std)s %% reduces the weight paid for: weight × (100 − moisture) ÷ (100 − "
                 "%(std)s); above %(rej)s %% the lot may be rejected.", std=rule.get("standard_moisture"),
                 rej=rule.get("reject_moisture", "—"))
    if kind == "steel_weight":
        return _("Settled on theoretical weight when the weighed weight is within ±%(tol)s %%; otherwise on the "
                 "weighed weight, at most the theoretical weight plus %(tol)s %%.", tol=rule.get("tolerance_pct"))
    return _("Unit price × accepted quantity.")


def _party_rows(party: dict[str, Any]) -> list[tuple[str, str]]:
    return [(_("Company name"), party["name_zh"] + (f" ({party['name_en']})" if party.get("name_en") else "")),
            (_("Unified social credit code"), party["uscc"]),
            (_("Address"), party.get("address") or "—"),
            (_("Contact"), " ".join(x for x in (party.get("contact"), party.get("phone")) if x) or "—")]


def sections(content: dict[str, Any]) -> list[dict[str, Any]]:
    """Numbered clauses: each ``{"title", "rows": [(label, text)], "table": optional goods table}``."""
    goods_table = {
        "head": [_("Goods"), _("Specifications"), _("Quantity"), _("Unit price"), _("Amount")],
        "rows": [[g["title"], spec_text(g["specs"], g.get("category_id")),
                  f"{Decimal(g['quantity']).normalize():f} {unit_label(g['unit'])}",
                  format_fen(g["unit_price_fen"], content["currency"]) + f"/{unit_label(g['unit'])}",
                  format_fen(g["amount_fen"], content["currency"])] for g in content["goods"]],
    }
    delivery = content["delivery"]
    agency = content["inspection"].get("agency")
    return [
        {"title": _("1. Parties"), "rows": [(_("Buyer"), ""), *_party_rows(content["buyer"]), (_("Seller"), ""),
                                           *_party_rows(content["seller"])]},
        {"title": _("2. Goods, specifications and price"), "table": goods_table,
         "rows": [(_("Total"), format_fen(content["total_fen"], content["currency"])),
                  (_("Buyer's PO number"), content.get("buyer_po_number") or "—"),
                  *([(_("Seller's terms (from the accepted quote)"), content["seller_terms"])]
                    if content.get("seller_terms") else [])]},
        {"title": _("3. Quantity tolerance"),
         "rows": [(_("Tolerance"), _("±%(pct)s %% of the ordered quantity; deliveries beyond it are not paid for.",
                                     pct=content["quantity_tolerance_pct"]))]},
        {"title": _("4. Price adjustment"),
         "rows": [(g["title"], describe_rule(g["price_rule"])) for g in content["goods"]]
         + [(_("Rounding"), _("Each lot's amount is computed exactly and rounded once to the fen, half up."))]},
        {"title": _("5. Delivery"),
         "rows": [(_("Terms"), _(DELIVERY_TERMS.get(delivery["terms"], delivery["terms"]))),
                  (_("Place"), delivery["address"]),
                  (_("Window"), f"{_date(delivery['window_start'])} – {_date(delivery['window_end'])}")]},
        {"title": _("6. Inspection"),
         "rows": [(_("Method"), _(content["inspection"]["method"])),
                  (_("Agency"), f"{agency['name_zh']} ({agency['uscc']})" if agency else
                   _("None named: buyer or seller files the report; the other may dispute it."))]},
        {"title": _("7. Payment"),
         "rows": [(_("Terms"), _("The buyer pays the full amount into the platform escrow within %(days)s days of "
                                 "signing. Each accepted lot's inspection-adjusted amount is released to the "
                                 "seller; the rest is refunded to the buyer. Without acceptance or dispute, a lot "
                                 "is released automatically after the auto-release period.",
                                 days=content["payment"]["due_days"])),
                  *([(_("Auto-release"), _("%(days)s days after the lot's inspection report, unless the buyer "
                                           "accepts or disputes it first.",
                                           days=content["payment"]["auto_release_days"]))]
                    if content["payment"].get("auto_release_days") else [])]},
        {"title": _("8. Dispute resolution"),
         "rows": [(_("Procedure"), _("A party may dispute a lot with evidence; the escrow is frozen and the "
                                     "platform operator decides how it is split. Either party may then bring the "
                                     "matter before the people's court where the seller is located."))]},
    ]
