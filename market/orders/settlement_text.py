"""A lot's settlement in words and yuan, for the order page.

``DeliveryLot.settlement`` keeps the computation as data (fen with fractions, exact quantities). People read
"¥630.00 × 5020 ÷ 5200 = ¥608.19 per 吨", not "63000 × 5020 ÷ 5200": this module turns each step's ``code`` and
``args`` into a translated sentence. Steps stored before they carried a code fall back to their raw text.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _

from market.core.money import format_fen, round_half_up
from market.orders.spec_text import spec_label


def _qty(raw: Any) -> str:
    """A quantity to at most three decimals, without trailing zeros."""
    try:
        value = Decimal(str(raw)).quantize(Decimal("0.001"))
    except (InvalidOperation, ValueError):
        return str(raw)
    text = f"{value.normalize():f}"
    return text


def _yuan(raw_fen: Any, currency: str) -> str:
    try:
        return format_fen(round_half_up(Decimal(str(raw_fen))), currency)
    except (InvalidOperation, ValueError):
        return str(raw_fen)


def describe_step(step: dict[str, Any], unit: str, currency: str = "CNY") -> str:
    """One step of the computation as a sentence in the current language."""
    code, a = step.get("code"), step.get("args") or {}
    unit_label = _(unit)
    if code == "qnet_pro_rata":
        return _("Calorific value %(actual)s kcal/kg against the contract's %(base)s: %(price)s × %(actual)s ÷ "
                 "%(base)s = %(result)s per %(unit)s", actual=a["actual"], base=a["base"],
                 price=_yuan(a["price_fen"], currency), result=_yuan(a["result_fen"], currency), unit=unit_label)
    if code == "qnet_stepped":
        change = int(Decimal(a["change_fen"]))
        return _("Calorific value %(actual)s kcal/kg against the contract's %(base)s: %(change)s per %(unit)s",
                 actual=a["actual"], base=a["base"], unit=unit_label,
                 change=("+" if change > 0 else "") + format_fen(change, currency))
    if code == "penalty":
        return _("%(spec)s %(measured)s above the limit %(limit)s: %(deduction)s off per %(unit)s",
                 spec=spec_label(a["spec"]), measured=a["measured"], limit=a["limit"],
                 deduction=_yuan(a["deduction_fen"], currency), unit=unit_label)
    if code == "moisture":
        return _("Moisture %(moisture)s %% above the standard %(standard)s %%: %(quantity)s %(unit)s counted as "
                 "%(adjusted)s %(unit)s", moisture=a["moisture"], standard=a["standard"],
                 quantity=_qty(a["quantity"]), adjusted=_qty(a["adjusted"]), unit=unit_label)
    if code == "steel_weight":
        return _("Shipped %(shipped)s, weighed %(weighed)s, tolerance ±%(tolerance)s %%: paid on %(payable)s "
                 "%(unit)s", shipped=_qty(a["shipped"]), weighed=_qty(a["weighed"]), tolerance=a["tolerance"],
                 payable=_qty(a["payable"]), unit=unit_label)
    if code == "quantity_cap":
        return _("%(quantity)s %(unit)s is more than the order plus tolerance: paid on %(max)s %(unit)s",
                 quantity=_qty(a["quantity"]), max=_qty(a["max"]), unit=unit_label)
    if step.get("what") == "rejected":
        return _("Rejected on quality: %(reason)s", reason=step.get("detail", ""))
    return f"{step.get('what', '')}: {step.get('detail', '')}"


def settlement_view(settlement: dict[str, Any] | None, unit: str, currency: str = "CNY") -> dict[str, Any] | None:
    """``{"steps": [sentence], "rows": [(label, value)]}`` for a lot's stored settlement, or None."""
    if not settlement:
        return None
    contract_fen, amount_fen = int(settlement["contract_fen"]), int(settlement["amount_fen"])
    unit_label = _(unit)
    rows = [
        (_("At the contract price"), format_fen(contract_fen, currency)),
        (_("Quantity paid for"), f"{_qty(settlement['payable_quantity'])} {unit_label}"),
        (_("Adjusted unit price"), f"{_yuan(settlement['unit_price_fen'], currency)} / {unit_label}"),
        (_("Amount for the seller"), format_fen(amount_fen, currency)),
    ]
    if amount_fen != contract_fen:
        rows.append((_("Difference from the contract price"), format_fen(amount_fen - contract_fen, currency)))
    return {"steps": [describe_step(step, unit, currency) for step in settlement.get("steps") or ()],
            "rows": rows, "rejected": bool(settlement.get("rejected"))}
