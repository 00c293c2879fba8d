"""The online name check (JSON on blur, and the same check without JavaScript) and the business registry."""

from __future__ import annotations

import json

import pytest

from market.accounts import registry, uscc
from market.accounts.services import check_availability
from tests.factories import make_company


def test_check_reports_a_free_valid_code_with_kind_and_region(client):
    code = uscc.make("93", "140921", "MA0KE5P2W")
    data = client.get("/signup/check", query_string={"uscc": code.lower(), "name": "新合作社"}).get_json()
    assert data["uscc"] == {"value": code, "valid": True, "error": None, "registered": False, "company": None}
    assert data["kind"] == "farmer_cooperative"
    assert data["region_code"] == "140921"
    assert data["region"] == "忻州市定襄县"
    assert data["name"]["registered"] is False


def test_check_reports_registered_code_and_name_with_a_join_link(client):
    company = make_company("太原晋钢轧材有限公司")
    data = client.get("/signup/check", query_string={"uscc": company.uscc, "name": "太原晋钢轧材有限公司"}).get_json()
    assert data["uscc"]["registered"] is True
    assert data["name"]["company"]["join_url"] == f"/companies/{company.id}/join"


def test_check_reports_a_bad_check_character(client):
    code = uscc.make("91", "140200", "MA0GQ7K3X")
    wrong = code[:17] + ("1" if code[17] != "1" else "2")
    data = client.get("/signup/check", query_string={"uscc": wrong}).get_json()
    assert data["uscc"]["valid"] is False
    assert data["uscc"]["error"]


def test_check_without_javascript_renders_the_result(client):
    company = make_company("长治上党热电有限公司")
    response = client.post("/signup", data={"action": "check", "uscc": company.uscc, "company_name": "x"})
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert f"/companies/{company.id}/join" in text
    assert company.name_zh in text


@pytest.fixture
def file_registry(app, tmp_path):
    code = uscc.make("91", "140108", "MA0JD4R6T")
    path = tmp_path / "registry.json"
    path.write_text(json.dumps([{"uscc": code, "name": "太原晋钢轧材有限公司", "status": "active"},
                                {"uscc": uscc.make("91", "140108", "MA0JD4R6U"), "name": "注销公司",
                                 "status": "deregistered"}], ensure_ascii=False))
    previous = app.extensions["business_registry"]
    app.extensions["business_registry"] = registry.build(f"file:{path}")
    yield code
    app.extensions["business_registry"] = previous


def test_registry_name_mismatch_is_a_warning(app, file_registry):
    with app.test_request_context():
        result = check_availability(file_registry, "太原某某公司")
        assert result.registry is not None
        assert result.registry.name == "太原晋钢轧材有限公司"
        assert len(result.warnings) == 1
        assert not check_availability(file_registry, "太原晋钢轧材有限公司").warnings


def test_registry_inactive_status_is_a_warning(app, file_registry):
    with app.test_request_context():
        result = check_availability(uscc.make("91", "140108", "MA0JD4R6U"), "注销公司")
    assert result.warnings
    assert "deregistered" in result.warnings[0]


def test_null_registry_knows_nothing_and_unknown_names_fail():
    assert registry.build("null").lookup("91140200MA0GQ7K3X0") is None
    with pytest.raises(ValueError, match="unknown BUSINESS_REGISTRY"):
        registry.build("nonsense")


@pytest.mark.parametrize("kind", ["null", "file"])
def test_registry_contract(kind, tmp_path):
    """Every BusinessRegistry: unknown codes give None; a known code gives its record (normalised look-up)."""
    known = uscc.make("91", "140100", "MA0000001")
    path = tmp_path / "r.json"
    path.write_text(json.dumps([{"uscc": known, "name": "太原测试有限公司"}], ensure_ascii=False))
    implementation: registry.BusinessRegistry = registry.build("null" if kind == "null" else f"file:{path}")
    assert implementation.lookup(uscc.make("91", "140100", "MA0000002")) is None
    found = implementation.lookup(known)
    if kind == "file":
        assert found == registry.RegistryRecord(known, "太原测试有限公司", "active")
        assert found.is_active
    else:
        assert found is None
