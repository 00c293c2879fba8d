"""Settlement vectors, to the fen. Hand-computed expectations are written out next to each case."""

from __future__ import annotations

from decimal import Decimal

import pytest

from market.orders.settlement import (
    coal_pro_rata_fen,
    coal_stepped_adjustment_fen,
    default_rule,
    excess_penalty_fen,
    moisture_adjusted_quantity,
    settle_lot,
    steel_payable_weight,
)

COAL = {"kind": "coal", "method": "pro_rata", "base_qnet_ar": "5500",
        "penalties": [{"spec": "st_d", "limit": "1.00", "step": "0.10", "fen_per_step": 2000}],
        "reject": {"qnet_ar_min": "5000", "st_d_max": "1.50"}}


def test_issue_vector_pro_rata():
    # 800.00 × 1000 × 5320 / 5500 = 773,818.1818… → ¥773,818.18
    assert coal_pro_rata_fen(80_000, Decimal(1000), Decimal(5500), Decimal(5320)) == 77_381_818
    result = settle_lot(COAL, 80_000, Decimal(1000), {"qnet_ar": "5320", "st_d": "0.80"})
    assert result.amount_fen == 77_381_818
    assert result.contract_fen == 80_000_000
    assert not result.rejected


def test_rounding_is_half_up_once_per_lot():
    # 100 × 1 × 5501 / 5500 = 100.01818… fen → 100; 50 fen × 3 × 5511/5500 = 150.3 → 150
    assert coal_pro_rata_fen(100, Decimal(1), Decimal(5500), Decimal(5501)) == 100
    # 1 fen × 0.5 t exactly half: 0.5 → 1 (half away from zero)
    assert settle_lot({"kind": "plain"}, 1, Decimal("0.5"), {}).amount_fen == 1
    # 3 t at 33,333 fen with ratio 5000/5500: 99,999 × 10/11 = 90,908.18… → 90,908
    assert coal_pro_rata_fen(33_333, Decimal(3), Decimal(5500), Decimal(5000)) == 90_908


def test_sulfur_penalty_per_started_step():
    # St,d 1.13 % over a 1.00 % limit: 2 started 0.10 % steps × ¥20 = ¥40/t off
    assert excess_penalty_fen(Decimal("1.13"), Decimal("1.00"), Decimal("0.10"), 2000) == 4000
    assert excess_penalty_fen(Decimal("1.00"), Decimal("1.00"), Decimal("0.10"), 2000) == 0
    # pro rata first, then the penalty: (80,000 × 5500/5500 − 4,000) × 1,000 t = ¥760,000.00
    result = settle_lot(COAL, 80_000, Decimal(1000), {"qnet_ar": "5500", "st_d": "1.13"})
    assert result.amount_fen == 76_000_000
    # both: 80,000 × 5320/5500 = 77,381.8181… fen/t, − 4,000 = 73,381.8181… × 1000 = 73,381,818.18 → 73,381,818
    result = settle_lot(COAL, 80_000, Decimal(1000), {"qnet_ar": "5320", "st_d": "1.13"})
    assert result.amount_fen == 73_381_818


@pytest.mark.parametrize("measured", [{"qnet_ar": "4990", "st_d": "0.8"}, {"qnet_ar": "5500", "st_d": "1.51"}])
def test_rejection_beyond_limits_pays_nothing(measured):
    result = settle_lot(COAL, 80_000, Decimal(1000), measured)
    assert result.rejected
    assert result.amount_fen == 0
    assert result.contract_fen == 80_000_000


def test_stepped_per_100_kcal():
    rule = {"kind": "coal", "method": "stepped", "base_qnet_ar": "5500", "step_kcal": 100, "step_fen": 1500}
    # 5320: 180 kcal below → one full step → −¥15.00/t; 1000 t × ¥785.00 = ¥785,000.00
    assert coal_stepped_adjustment_fen(Decimal(5500), Decimal(5320), Decimal(100), 1500, bonus=False) == -1500
    assert settle_lot(rule, 80_000, Decimal(1000), {"qnet_ar": "5320"}).amount_fen == 78_500_000
    # above base: no bonus unless agreed
    assert settle_lot(rule, 80_000, Decimal(1000), {"qnet_ar": "5720"}).amount_fen == 80_000_000
    # 220 kcal above with a bonus: two full steps → +¥30.00/t → ¥830,000.00
    assert settle_lot(rule | {"bonus": True}, 80_000, Decimal(1000), {"qnet_ar": "5720"}).amount_fen == 83_000_000


def test_agricultural_moisture_deduction():
    rule = {"kind": "agri_moisture", "standard_moisture": "13.5", "reject_moisture": "18"}
    # 20 t at 15.0 %: 20 × 85 / 86.5 = 19.6531791… t × ¥4,200.00 = 8,254,335.26… fen → 8,254,335
    assert moisture_adjusted_quantity(Decimal(20), Decimal("15.0"), Decimal("13.5")) == Decimal(20) * 85 / Decimal(
        "86.5")
    assert settle_lot(rule, 420_000, Decimal(20), {"moisture": "15.0"}).amount_fen == 8_254_335
    assert settle_lot(rule, 420_000, Decimal(20), {"moisture": "12"}).amount_fen == 8_400_000
    assert settle_lot(rule, 420_000, Decimal(20), {"moisture": "18.5"}).rejected


def test_steel_weight_tolerance():
    rule = {"kind": "steel_weight", "tolerance_pct": "3"}
    # within ±3 %: theoretical 100 t counts
    assert steel_payable_weight(Decimal(100), Decimal("98.2"), Decimal(3)) == Decimal(100)
    assert settle_lot(rule, 380_000, Decimal("98.2"), {}, shipped_quantity=Decimal(100)).amount_fen == 38_000_000
    # short beyond tolerance: weighed 95.5 t × ¥3,800 = ¥362,900.00
    assert settle_lot(rule, 380_000, Decimal("95.5"), {}, shipped_quantity=Decimal(100)).amount_fen == 36_290_000
    # over beyond tolerance: capped at 103 t
    assert settle_lot(rule, 380_000, Decimal("106"), {}, shipped_quantity=Decimal(100)).amount_fen == 39_140_000


def test_quantity_cap_and_default_rules():
    result = settle_lot({"kind": "plain"}, 1000, Decimal(120), {}, max_quantity=Decimal(105))
    assert result.amount_fen == 105_000
    rule = default_rule("coal", {"qnet_ar": 5500, "st_d": 0.8})
    assert rule["base_qnet_ar"] == "5500"
    assert rule["reject"] == {"qnet_ar_min": "5000", "st_d_max": "1.30"}
    assert default_rule("agriculture", {"moisture": 13})["standard_moisture"] == "13"
    assert default_rule(None, {}) == {"kind": "plain"}


def test_json_floats_are_read_by_their_decimal_text():
    # 0.1 + 0.2 style drift must not leak in: 5320.0 and "5320" settle identically
    by_float = settle_lot(COAL, 80_000, Decimal(1000), {"qnet_ar": 5320.0, "st_d": 1.1})
    by_text = settle_lot(COAL, 80_000, Decimal(1000), {"qnet_ar": "5320", "st_d": "1.1"})
    assert by_float.amount_fen == by_text.amount_fen == 77_381_818 - 2000 * 1000
