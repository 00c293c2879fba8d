"""Spec validation: the one validator listings and RFQs share."""

from __future__ import annotations

import pytest

from catalog.seed import QNET, ST_D, TREE
from catalog.specs import bucket_for, validate_schema, validate_spec_ranges, validate_specs
from market.core.errors import ValidationFailed

THERMAL = next(schema for slug, *_rest, schema in TREE if slug == "thermal-coal")


def errors_of(schema, raw) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed) as caught:
        validate_specs(schema, raw)
    return caught.value.field_errors


def test_valid_specs_are_normalised(app) -> None:  # type: ignore[no-untyped-def]
    clean = validate_specs(THERMAL, {"qnet_ar": "5,500 kcal/kg", "st_d": "0.8%", "ad": "", "size": "0-13"})
    assert clean == {"qnet_ar": 5500, "st_d": 0.8, "size": "0-13"}


def test_alternative_unit_is_converted(app) -> None:  # type: ignore[no-untyped-def]
    assert validate_specs([QNET], {"qnet_ar": "23 MJ/kg"})["qnet_ar"] == pytest.approx(5493.458)


def test_missing_out_of_range_wrong_unit_unknown(app) -> None:  # type: ignore[no-untyped-def]
    errors = errors_of(THERMAL, {"qnet_ar": "9000", "st_d": "0.8 ppm", "size": "huge", "colour": "black"})
    assert set(errors) == {"specs.qnet_ar", "specs.st_d", "specs.size", "specs.colour"}
    assert "7800" in errors["specs.qnet_ar"]
    assert "ppm" in errors["specs.st_d"]
    assert errors_of(THERMAL, {}) == {"specs.qnet_ar": "Required.", "specs.st_d": "Required."}
    assert "specs.qnet_ar" in errors_of([QNET], {"qnet_ar": "five thousand"})
    assert "specs.qnet_ar" in errors_of([QNET], {"qnet_ar": float("nan")})


def test_year_and_multi_choice(app) -> None:  # type: ignore[no-untyped-def]
    millet = next(schema for slug, *_rest, schema in TREE if slug == "millet")
    clean = validate_specs(millet, {"variety": "沁州黄", "harvest_year": "2025年", "certifications": ["gi", "green"]})
    assert clean["harvest_year"] == 2025
    assert clean["certifications"] == ["green", "gi"]
    assert "specs.harvest_year" in errors_of(millet, {"variety": "x", "harvest_year": "1880"})
    assert "specs.certifications" in errors_of(millet, {"variety": "x", "harvest_year": 2025,
                                                        "certifications": ["bogus"]})


def test_spec_ranges_for_rfqs(app) -> None:  # type: ignore[no-untyped-def]
    assert validate_spec_ranges(THERMAL, {"qnet_ar": {"min": "5500"}, "st_d": {"max": 1}}) == {
        "qnet_ar": {"min": 5500, "max": None}, "st_d": {"min": None, "max": 1}}
    with pytest.raises(ValidationFailed) as caught:
        validate_spec_ranges(THERMAL, {"qnet_ar": {"min": 6000, "max": 5000}, "size": {"min": 1}, "x": {"min": 1},
                                       "st_d": {}, "ad": {"max": 99}})
    assert set(caught.value.field_errors) == {"specs.qnet_ar", "specs.size", "specs.x", "specs.st_d", "specs.ad"}


def test_buckets() -> None:
    assert [bucket_for(QNET, v) for v in (4000, 4500, 5499, 5500, 7000)] == [
        "lt4500", "4500-5000", "5000-5500", "5500-6000", "ge6000"]
    assert bucket_for(ST_D, 0.8) == "0.5-1"


def test_schema_validation() -> None:
    assert validate_schema([QNET])[0]["key"] == "qnet_ar"
    with pytest.raises(ValidationFailed) as caught:
        validate_schema([{"key": "Bad Key", "type": "colour"}, {"key": "a", "type": "number", "label_zh": "甲",
                                                                  "min": 5, "max": 1, "buckets": [3, 2]}])
    message = caught.value.field_errors["spec_schema"]
    assert "key must be" in message
    assert "type must be" in message
    assert "min is above max" in message
    with pytest.raises(ValidationFailed):
        validate_schema({"not": "a list"})
