"""The nine causes of 500s found from outside (issue #9), each pinned: refused with the field named."""

from __future__ import annotations

import json

from market.extensions import db
from payments.providers.sandbox import SIGNATURE_HEADER, SandboxProvider
from payments.providers.signing import sign
from tests.factories import login, make_coal_category, make_trade_listing, make_trader


def _signed_in(client, role: str = "owner"):  # type: ignore[no-untyped-def]
    company, user = make_trader(role=role)
    db.session.commit()
    login(client, user)
    return company


def test_nul_byte_in_an_anonymous_query_is_a_400_naming_the_field(client, db) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/signup/check?name=a%00b", headers={"Accept": "application/json"})
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert "name" in response.json["errors"]


def test_ids_past_the_integer_range_are_404_not_an_overflow(client, db) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/listings/2147483648").status_code == 404
    assert client.get("/listings/" + "9" * 5000).status_code == 404
    assert client.get("/api/v1/listings/2147483647").status_code == 404


def test_page_past_the_bound_is_refused_in_the_readers_language(client, db) -> None:  # type: ignore[no-untyped-def]
    _signed_in(client)
    zh = client.get("/orders?page=" + str(10**18))
    assert zh.status_code == 422
    assert "不能大于 10000" in zh.get_data(as_text=True)
    client.get("/lang/en")
    en = client.get("/orders?page=" + str(10**18))
    assert "Must be at most 10000" in en.get_data(as_text=True)


def test_huge_quantity_keeps_the_order_form_with_the_error_beside_it(client, db) -> None:  # type: ignore[no-untyped-def]
    seller, _ = make_trader("大同煤业")
    listing = make_trade_listing(seller)
    _signed_in(client)
    response = client.post("/cart/add", data={"listing_id": listing.id, "quantity": "1e308"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="err-cart-quantity"' in html
    assert 'value="1e308"' in html


def test_deep_json_is_refused_before_parsing_even_when_validly_signed(app, client, db) -> None:  # type: ignore[no-untyped-def]
    body = b"[" * 50_000 + b"]" * 50_000
    secret = SandboxProvider.from_config(app.config).secret
    response = client.post("/payments/webhooks/sandbox", data=body,
                           headers={"Content-Type": "application/json", SIGNATURE_HEADER: sign(body, secret)})
    assert response.status_code == 400
    assert response.json["errors"] == {"body": "JSON 文档嵌套层级过深。"}


def test_signed_webhook_with_a_nul_reference_changes_nothing(app, client, db) -> None:  # type: ignore[no-untyped-def]
    event = {"id": "evt_1", "type": "payin.succeeded", "created": 0,
             "data": {"reference": "JS-\u0000", "amount_fen": 100, "currency": "CNY", "object_ref": "x"}}
    body = json.dumps(event).encode()
    secret = SandboxProvider.from_config(app.config).secret
    response = client.post("/payments/webhooks/sandbox", data=body,
                           headers={"Content-Type": "application/json", SIGNATURE_HEADER: sign(body, secret)})
    assert response.status_code == 400
    assert "reference" in response.json["errors"]


def test_out_of_range_percent_spec_is_shown_once_formatted(client, db) -> None:  # type: ignore[no-untyped-def]
    category = make_coal_category()
    _signed_in(client)
    response = client.post(f"/my/listings/new?category={category.slug}", data={
        "title_zh": "动力煤", "unit": "t", "unit_price": "800", "min_order_quantity": "1",
        "available_quantity": "10", "delivery_terms": "ex_works", "lead_time_days": "7",
        "specs.qnet_ar": "5500", "specs.st_d": "50"})
    assert response.status_code == 422
    assert "%" in response.get_data(as_text=True)


def test_rfq_category_must_be_an_id(client, db) -> None:  # type: ignore[no-untyped-def]
    _signed_in(client)
    response = client.post("/rfq/new", data={"category_id": "abc", "quantity": "10"})
    assert response.status_code == 422
    assert "category_id" in response.get_data(as_text=True) or "请输入整数" in response.get_data(as_text=True)


def test_format_string_as_an_industry_is_refused_not_formatted(client, db) -> None:  # type: ignore[no-untyped-def]
    _signed_in(client)
    response = client.post("/company/profile", data={"kind": "enterprise", "industries": "%(x)s"})
    assert response.status_code == 422
    assert "%(x)s" in response.get_data(as_text=True)


def test_next_with_cr_lf_or_another_host_never_redirects_there(client, db) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/lang/en?next=/ok%0d%0aSet-Cookie:x=1").status_code == 400
    for target in ("//evil.example", "/\\evil.example", "https://evil.example/"):
        location = client.get("/lang/en", query_string={"next": target}).headers["Location"]
        assert "evil" not in location


def test_a_date_past_2100_is_refused_with_the_field_named(client, db) -> None:  # type: ignore[no-untyped-def]
    from tests.factories import make_staff

    staff = make_staff("regulator")
    db.session.commit()
    login(client, staff)
    response = client.get("/supervision/audit?date_to=9999-12-31", headers={"Accept": "application/json"})
    assert response.status_code == 422
    assert response.json["errors"] == {"date_to": "年份必须在 2000 至 2100 之间。"}
