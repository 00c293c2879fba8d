"""The settled amount of a delivered lot, computed exactly in fen from the contract's price rule.

Pure functions: no database, no clock. Every intermediate value is an exact ``Decimal``; the one
rounding happens at the very end of each lot, to whole fen, half away from zero
(``market.core.money.round_half_up``, commercial rounding 四舍五入). Per-tonne adjustments are whole fen,
so only pro-rata factors and fractional quantities ever produce fractions of a fen.

Rules (``rule["kind"]``), stored on the order and printed in the contract:

``plain``
    unit price × payable quantity.
``coal``
    ``method = "pro_rata"``: unit price × actual Qnet,ar ÷ base Qnet,ar.
    ``method = "stepped"``: per full ``step_kcal`` (default 100) below the base, ``step_fen`` less per
    unit; above the base the same bonus only if ``bonus`` is true. A partial step does not count
    (truncation toward the base), as in the usual 每100大卡 clause.
    ``penalties``: for each ``{"spec", "limit", "step", "fen_per_step"}``: when the measured value is
    above ``limit``, each started ``step`` over it takes ``fen_per_step`` off the unit price
    (e.g. St,d limit 1.00 %, step 0.10 %, ¥20.00/t: St,d 1.13 % → 2 started steps → −¥40.00/t).
    ``reject``: ``{"qnet_ar_min", "st_d_max", "ad_max", "mt_max"}``: beyond any of them the lot is
    rejected and nothing is paid for it.
``agri_moisture``
    Above ``standard_moisture`` % the weight is reduced to dry-matter equivalence:
    quantity × (100 − actual) ÷ (100 − standard) (the usual 水分扣重 formula); above
    ``reject_moisture`` the lot is rejected. Drier goods earn no bonus.
``steel_weight``
    Theoretical (shipped) weight within ± ``tolerance_pct`` of the weighed weight is settled on the
    shipped weight; outside the band the weighed weight counts, but never more than the shipped
    weight plus the tolerance.

``max_quantity`` (the order's quantity plus the contract tolerance) caps what is paid for in every rule.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from market.core.money import round_half_up

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Settlement:
    """The result for one lot: what the seller is paid and why."""

    amount_fen: int
    contract_fen: int  # unit price × payable quantity, before quality adjustments (rounded the same way)
    payable_quantity: Decimal
    unit_price_fen: Decimal  # effective, exact (may carry fractions of a fen under pro-rata)
    rejected: bool = False
    steps: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "amount_fen": self.amount_fen,
            "contract_fen": self.contract_fen,
            "payable_quantity": str(self.payable_quantity),
            "unit_price_fen": str(self.unit_price_fen),
            "rejected": self.rejected,
            "steps": self.steps,
        }


def dec(value: Any) -> Decimal:
    """Read a number from JSON exactly. A float (JSON numbers from spec forms) is read from its shortest
    repr, "0.8" → Decimal("0.8"), never from its binary value 0.8000000000000000444…"""
    if isinstance(value, bool):
        raise TypeError("not a number")
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))


def coal_pro_rata_fen(unit_price_fen: int, quantity: Decimal, base_qnet: Decimal, actual_qnet: Decimal) -> int:
    """price × quantity × actual ÷ base, rounded once to the fen."""
    return round_half_up(Decimal(unit_price_fen) * dec(quantity) * dec(actual_qnet) / dec(base_qnet))


def coal_stepped_adjustment_fen(base_qnet: Decimal, actual_qnet: Decimal, step_kcal: Decimal, step_fen: int,
                                *, bonus: bool) -> int:
    """The per-unit price change (fen, signed) for full steps of ``step_kcal`` away from the base."""
    diff = dec(actual_qnet) - dec(base_qnet)
    steps = int(diff / dec(step_kcal))  # int() truncates toward zero: a partial step does not count
    if steps > 0 and not bonus:
        return 0
    return steps * int(step_fen)


def excess_penalty_fen(measured: Decimal, limit: Decimal, step: Decimal, fen_per_step: int) -> int:
    """Per-unit deduction: each started ``step`` above ``limit`` costs ``fen_per_step``."""
    over = dec(measured) - dec(limit)
    if over <= 0:
        return 0
    return math.ceil(over / dec(step)) * int(fen_per_step)


def moisture_adjusted_quantity(quantity: Decimal, actual_pct: Decimal, standard_pct: Decimal) -> Decimal:
    """Weight after the moisture deduction (exact); unchanged at or below the standard moisture."""
    actual, standard = dec(actual_pct), dec(standard_pct)
    if actual <= standard:
        return dec(quantity)
    return dec(quantity) * (HUNDRED - actual) / (HUNDRED - standard)


def steel_payable_weight(shipped: Decimal, weighed: Decimal, tolerance_pct: Decimal) -> Decimal:
    """Shipped (theoretical) weight within the tolerance band; weighed weight outside it, capped above."""
    shipped, weighed, tol = dec(shipped), dec(weighed), dec(tolerance_pct)
    low, high = shipped * (HUNDRED - tol) / HUNDRED, shipped * (HUNDRED + tol) / HUNDRED
    if low <= weighed <= high:
        return shipped
    return min(weighed, high)


def settle_lot(rule: Mapping[str, Any], unit_price_fen: int, quantity: Decimal, measured: Mapping[str, Any],
               *, shipped_quantity: Decimal | None = None, max_quantity: Decimal | None = None) -> Settlement:
    """Apply ``rule`` to a lot of ``quantity`` (as weighed) with ``measured`` specs at the contract price."""
    kind = rule.get("kind", "plain")
    steps: list[dict[str, Any]] = []
    qty = dec(quantity)
    price = Decimal(int(unit_price_fen))

    if kind == "agri_moisture" and "moisture" in measured:
        moisture = dec(measured["moisture"])
        if "reject_moisture" in rule and moisture > dec(rule["reject_moisture"]):
            return _rejected(price, qty, max_quantity, f"moisture {moisture} % > {rule['reject_moisture']} %")
        adjusted = moisture_adjusted_quantity(qty, moisture, dec(rule["standard_moisture"]))
        if adjusted != qty:
            steps.append({"what": "moisture deduction", "detail": f"{qty} × (100 − {moisture}) ÷ "
                          f"(100 − {rule['standard_moisture']}) = {adjusted}",
                          "code": "moisture", "args": {"quantity": str(qty), "moisture": str(moisture),
                                                       "standard": str(rule["standard_moisture"]),
                                                       "adjusted": str(adjusted)}})
        qty = adjusted
    elif kind == "steel_weight":
        shipped = dec(shipped_quantity if shipped_quantity is not None else qty)
        payable = steel_payable_weight(shipped, qty, dec(rule.get("tolerance_pct", 0)))
        steps.append({"what": "weight", "detail": f"shipped {shipped}, weighed {qty}, "
                      f"tolerance ±{rule.get('tolerance_pct', 0)} % → {payable}",
                      "code": "steel_weight", "args": {"shipped": str(shipped), "weighed": str(qty),
                                                       "tolerance": str(rule.get("tolerance_pct", 0)),
                                                       "payable": str(payable)}})
        qty = payable

    if max_quantity is not None and qty > dec(max_quantity):
        steps.append({"what": "quantity cap", "detail": f"{qty} > {max_quantity} (order + tolerance)",
                      "code": "quantity_cap", "args": {"quantity": str(qty), "max": str(max_quantity)}})
        qty = dec(max_quantity)
    contract_fen = round_half_up(price * qty)

    if kind == "coal":
        reason = _coal_rejection(rule.get("reject") or {}, measured)
        if reason:
            return _rejected(price, qty, None, reason)
        price = _coal_unit_price(rule, price, measured, steps)

    price = max(price, Decimal(0))
    amount = round_half_up(price * qty)
    return Settlement(amount_fen=amount, contract_fen=contract_fen, payable_quantity=qty, unit_price_fen=price,
                      steps=steps)


def _coal_unit_price(rule: Mapping[str, Any], price: Decimal, measured: Mapping[str, Any],
                     steps: list[dict[str, Any]]) -> Decimal:
    base = rule.get("base_qnet_ar")
    if base is not None and "qnet_ar" in measured:
        actual = dec(measured["qnet_ar"])
        if rule.get("method", "pro_rata") == "pro_rata":
            adjusted = price * actual / dec(base)
            steps.append({"what": "calorific value (pro rata)", "detail": f"{price} × {actual} ÷ {base}",
                          "code": "qnet_pro_rata", "args": {"price_fen": str(price), "actual": str(actual),
                                                            "base": str(base), "result_fen": str(adjusted)}})
            price = adjusted
        else:
            change = coal_stepped_adjustment_fen(dec(base), actual, dec(rule.get("step_kcal", 100)),
                                                 int(rule["step_fen"]), bonus=bool(rule.get("bonus")))
            steps.append({"what": "calorific value (stepped)", "detail": f"{actual} vs {base}: {change:+d} fen/unit",
                          "code": "qnet_stepped", "args": {"actual": str(actual), "base": str(base),
                                                           "change_fen": str(change)}})
            price += change
    for penalty in rule.get("penalties") or ():
        spec = penalty["spec"]
        if spec not in measured:
            continue
        deduction = excess_penalty_fen(dec(measured[spec]), dec(penalty["limit"]), dec(penalty["step"]),
                                       int(penalty["fen_per_step"]))
        if deduction:
            steps.append({"what": f"{spec} penalty", "detail": f"{measured[spec]} > {penalty['limit']}: "
                          f"−{deduction} fen/unit",
                          "code": "penalty", "args": {"spec": spec, "measured": str(measured[spec]),
                                                      "limit": str(penalty["limit"]),
                                                      "deduction_fen": str(deduction)}})
            price -= deduction
    return price


def _coal_rejection(limits: Mapping[str, Any], measured: Mapping[str, Any]) -> str | None:
    if "qnet_ar_min" in limits and "qnet_ar" in measured and dec(measured["qnet_ar"]) < dec(limits["qnet_ar_min"]):
        return f"Qnet,ar {measured['qnet_ar']} < {limits['qnet_ar_min']}"
    for spec in ("st_d", "ad", "mt"):
        key = f"{spec}_max"
        if key in limits and spec in measured and dec(measured[spec]) > dec(limits[key]):
            return f"{spec} {measured[spec]} > {limits[key]}"
    return None


def _rejected(price: Decimal, qty: Decimal, max_quantity: Decimal | None, reason: str) -> Settlement:
    if max_quantity is not None:
        qty = min(qty, dec(max_quantity))
    return Settlement(amount_fen=0, contract_fen=round_half_up(price * qty), payable_quantity=Decimal(0),
                      unit_price_fen=Decimal(0), rejected=True, steps=[{"what": "rejected", "detail": reason}])


def default_rule(industry: str | None, specs: Mapping[str, Any]) -> dict[str, Any]:
    """The settlement rule a direct order gets from its listing's industry and promised specs."""
    if industry == "coal" and specs.get("qnet_ar"):
        base = dec(specs["qnet_ar"])
        rule: dict[str, Any] = {"kind": "coal", "method": "pro_rata", "base_qnet_ar": str(base),
                                "penalties": [], "reject": {"qnet_ar_min": str(base - 500)}}
        if specs.get("st_d") is not None:
            st = dec(specs["st_d"])
            rule["penalties"].append({"spec": "st_d", "limit": str(st), "step": "0.10", "fen_per_step": 2000})
            rule["reject"]["st_d_max"] = str(st + Decimal("0.50"))
        if specs.get("ad") is not None:
            rule["penalties"].append({"spec": "ad", "limit": str(dec(specs["ad"])), "step": "1", "fen_per_step": 1000})
        if specs.get("mt") is not None:
            rule["penalties"].append({"spec": "mt", "limit": str(dec(specs["mt"])), "step": "1", "fen_per_step": 1000})
        return rule
    if industry == "agriculture" and specs.get("moisture") is not None:
        standard = dec(specs["moisture"])
        return {"kind": "agri_moisture", "standard_moisture": str(standard), "reject_moisture": str(standard + 4)}
    if industry == "metallurgy":
        return {"kind": "steel_weight", "tolerance_pct": "3"}
    return {"kind": "plain"}
