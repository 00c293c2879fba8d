"""Catalog pages and the JSON API: search input never fails, tenants are scoped, uploads checked by content."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import select

from catalog.models import Category, Listing
from market.core.jobs import run_pending
from market.extensions import db
from tests.factories import PASSWORD, make_company, make_listing, make_member, make_staff, seed_tree
from tests.factories.files import real_pdf


def png_bytes(size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (180, 30, 30)).save(out, "PNG")
    return out.getvalue()


def indexed(*listings: Listing) -> None:
    from catalog.services import request_reindex

    for listing in listings:
        request_reindex(listing.id)
    db.session.commit()
    run_pending()


def sign_in(client, user) -> None:  # type: ignore[no-untyped-def]
    """Like ``tests.factories.login`` but reads the email before committing: touching an expired object
    after the commit would open a write transaction that the request's own connection then waits on."""
    email = user.email
    db.session.commit()
    response = client.post("/login", data={"identifier": email, "password": PASSWORD})
    assert response.status_code in (302, 303)


@pytest.fixture
def seller_client(client, db):  # type: ignore[no-untyped-def]
    company = make_company("大同煤业测试有限公司")
    user = make_member(company)
    client.company, client.company_id = company, company.id
    sign_in(client, user)
    return client


def test_search_page_with_facets_highlights_and_ranges(client, db) -> None:  # type: ignore[no-untyped-def]
    seller = make_company(credit_grade="AA", credit_score=88)
    good = make_listing(seller)
    weak = make_listing(seller, title_zh="朔州动力煤 Q4800", specs={"qnet_ar": 4800, "st_d": 1.6})
    indexed(good, weak)
    page = client.get("/search?q=动力煤&category=thermal-coal&min.qnet_ar=5500&max.st_d=1.0")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<mark>动力煤</mark>" in html
    assert "Q4800" not in html
    assert "AA" in html
    assert 'name="min.qnet_ar" value="5500"' in html
    assert client.get("/search?q=动力煤").get_data(as_text=True).count("listing-card") == 2


def test_zero_results_show_suggestion(client, db) -> None:  # type: ignore[no-untyped-def]
    indexed(make_listing(title_en="Datong thermal coal"))
    html = client.get("/search?q=tharmel").get_data(as_text=True)
    assert "thermal" in html
    assert "empty" in html


@pytest.mark.parametrize("query", [
    "q=", "q=%F0%9F%98%80", "q=((AND", "page=99999999999999999999", "page=-1", "page=abc", "per_page=100000",
    "sort=drop", "category=nope", "min.qnet_ar=abc&category=thermal-coal", "price_min=NaN&price_max=1e400",
    "f.qnet_ar=ge6000", "city=%00", "q=" + "煤" * 500, "min.unknown=5",
])
def test_search_bad_input_is_never_a_500(client, db, query: str) -> None:  # type: ignore[no-untyped-def]
    seed_tree()
    indexed(make_listing())
    # a NUL byte is refused for every route by the request guard (400 naming the field); the rest are hints
    page = client.get(f"/search?{query}")
    assert page.status_code == (400 if "%00" in query else 200)
    if page.status_code == 400:
        assert "city" in page.get_data(as_text=True)
    api = client.get(f"/api/v1/search?{query}")
    assert api.status_code in (200, 400)
    if api.status_code == 400:
        assert api.mimetype == "application/problem+json"
        assert api.json["errors"]


def test_api_search_json(client, db) -> None:  # type: ignore[no-untyped-def]
    listing = make_listing()
    indexed(listing)
    body = client.get("/api/v1/search?q=动力煤&category=thermal-coal").json
    assert body["total"] == 1
    assert body["hits"][0]["listing"]["unit_price_fen"] == 78000
    assert body["hits"][0]["listing"]["seller"]["credit_grade"] is None
    assert body["facets"]["spec.qnet_ar"] == {"5500-6000": 1}
    bad = client.get("/api/v1/search?category=thermal-coal&min.qnet_ar=lots")
    assert bad.status_code == 400
    assert "qnet_ar" in bad.json["errors"]


def test_listing_page_and_storefront_show_credit(client, db) -> None:  # type: ignore[no-untyped-def]
    listing = make_listing(tiers=(("1000", 76000),))
    draft = make_listing(listing.seller, status="draft")
    listing_id, draft_id, seller_id, title = listing.id, draft.id, listing.seller_id, listing.title_zh
    db.session.commit()
    html = client.get(f"/listings/{listing_id}").get_data(as_text=True)
    assert "收到基低位发热量" in html
    assert "5500 kcal/kg" in html
    assert "¥760.00" in html
    assert "not yet rated" in html or "暂无评级" in html
    assert client.get(f"/listings/{draft_id}").status_code == 404
    store = client.get(f"/companies/{seller_id}/store").get_data(as_text=True)
    assert title in store
    assert store.count("listing-card") == 1


def test_create_via_schema_form_and_field_errors(seller_client, db) -> None:  # type: ignore[no-untyped-def]
    seed_tree()
    db.session.commit()
    form = seller_client.get("/my/listings/new?category=thermal-coal").get_data(as_text=True)
    assert 'name="specs.qnet_ar"' in form
    assert 'name="specs.size"' in form
    bad = seller_client.post("/my/listings/new", data={"category": "thermal-coal", "title_zh": "",
                                                        "unit_price": "abc", "specs.qnet_ar": "12000"})
    assert bad.status_code == 422
    assert "field-error" in bad.get_data(as_text=True)
    assert db.session.scalar(select(Listing.id)) is None
    db.session.rollback()
    ok = seller_client.post("/my/listings/new", data={
        "category": "thermal-coal", "title_zh": "大同动力煤", "unit_price": "700", "unit": "t",
        "min_order_quantity": "50", "available_quantity": "1000", "specs.qnet_ar": "5800", "specs.st_d": "0.7%",
        "delivery_terms": "ex_works", "lead_time_days": "3"})
    assert ok.status_code == 302
    listing = db.session.scalars(select(Listing)).one()
    listing_id = listing.id
    assert listing.seller_id == seller_client.company_id
    assert listing.specs["st_d"] == 0.7
    db.session.rollback()
    published = seller_client.post(f"/my/listings/{listing_id}/status", data={"action": "publish"})
    assert published.status_code == 302
    again = seller_client.post(f"/my/listings/{listing_id}/status", data={"action": "publish"})
    assert again.status_code == 409
    assert "动力煤" in seller_client.get("/my/listings").get_data(as_text=True)


def test_unverified_seller_cannot_publish(client, db) -> None:  # type: ignore[no-untyped-def]
    company = make_company(verified=False)
    listing_id = make_listing(company, status="draft").id
    sign_in(client, make_member(company))
    assert client.post(f"/my/listings/{listing_id}/status", data={"action": "publish"}).status_code == 403
    assert db.session.get(Listing, listing_id).status == "draft"


def test_another_tenants_listing_is_404(seller_client, db) -> None:  # type: ignore[no-untyped-def]
    theirs = make_listing(make_company()).id
    db.session.commit()
    assert seller_client.get(f"/my/listings/{theirs}/edit").status_code == 404
    assert seller_client.post(f"/my/listings/{theirs}/edit", data={"title_zh": "x"}).status_code == 404
    assert seller_client.post(f"/my/listings/{theirs}/status", data={"action": "pause"}).status_code == 404
    assert seller_client.post(f"/my/listings/{theirs}/photos",
                              data={"photo": (io.BytesIO(png_bytes()), "a.png")}).status_code == 404
    assert db.session.get(Listing, theirs).status == "published"


def test_bulk_pause_via_my_listings(seller_client, db) -> None:  # type: ignore[no-untyped-def]
    mine = [make_listing(seller_client.company).id for _ in range(2)]
    theirs = make_listing(make_company()).id
    db.session.commit()
    response = seller_client.post("/my/listings/bulk", data={"action": "pause", "ids": [*mine, theirs]})
    assert response.status_code == 302
    statuses = dict(db.session.execute(select(Listing.id, Listing.status)).all())
    assert [statuses[m] for m in mine] == ["paused", "paused"]
    assert statuses[theirs] == "published"


def test_photo_upload_checked_by_content(seller_client, db, app) -> None:  # type: ignore[no-untyped-def]
    listing_id = make_listing(seller_client.company).id
    db.session.commit()
    url = f"/my/listings/{listing_id}/photos"
    ok = seller_client.post(url, data={"photo": (io.BytesIO(png_bytes((2400, 1200))), "lot.png")})
    assert ok.status_code == 302
    photo = db.session.get(Listing, listing_id).photos[0]
    photo_id, size = photo.id, (photo.width, photo.height)
    db.session.rollback()
    assert size == (1600, 800)
    thumb = seller_client.get(f"/media/listing-photos/{photo_id}/thumb")
    assert thumb.status_code == 200
    assert Image.open(io.BytesIO(thumb.data)).size == (400, 200)
    fake = seller_client.post(url, data={"photo": (io.BytesIO(b"<?php echo 1; ?>" * 10), "x.jpg")})
    assert fake.status_code == 422
    truncated = seller_client.post(url, data={"photo": (io.BytesIO(png_bytes()[:60]), "cut.png")})
    assert truncated.status_code == 422
    app.config["UPLOAD_MAX_BYTES"], limit = 1000, app.config["UPLOAD_MAX_BYTES"]
    try:
        big = seller_client.post(url, data={"photo": (io.BytesIO(png_bytes((600, 600))), "big.png")})
    finally:
        app.config["UPLOAD_MAX_BYTES"] = limit
    assert big.status_code == 422
    assert len(db.session.get(Listing, listing_id).photos) == 1


def test_certificate_pdf_or_image_only(seller_client, db) -> None:  # type: ignore[no-untyped-def]
    listing_id = make_listing(seller_client.company).id
    db.session.commit()
    url = f"/my/listings/{listing_id}/certificate"
    assert seller_client.post(url, data={"certificate": (io.BytesIO(real_pdf()), "SGS-2025.pdf")}).status_code == 302
    assert seller_client.post(url, data={"certificate": (io.BytesIO(b"MZ\x90\x00" * 50), "cert.pdf")}
                              ).status_code == 422
    html = seller_client.get(f"/listings/{listing_id}").get_data(as_text=True)
    assert "SGS-2025.pdf" in html


def test_operator_edits_category_tree(client, db) -> None:  # type: ignore[no-untyped-def]
    tree = seed_tree()
    coal, coking = tree["coal"].id, tree["coking-coal"].id
    sign_in(client, make_staff("operator"))  # commits
    assert client.get("/operator/categories").status_code == 200
    added = client.post("/operator/categories", data={"slug": "lean-coal", "name_zh": "瘦煤", "name_en": "Lean coal",
                                                      "parent_id": coal})
    assert added.status_code == 302
    lean = db.session.scalars(select(Category.id).where(Category.slug == "lean-coal")).one()
    db.session.rollback()
    assert client.post(f"/operator/categories/{lean}/move", data={"parent_id": coking}).status_code == 302
    assert client.post(f"/operator/categories/{coking}/move", data={"parent_id": lean}
                       ).status_code == 422  # under its own descendant
    assert client.post(f"/operator/categories/{lean}/schema", data={"spec_schema": "[{"}).status_code == 422
    ok = client.post(f"/operator/categories/{lean}/schema", data={"spec_schema": (
        '[{"key": "g", "label_zh": "粘结指数", "type": "number", "min": 0, "max": 110, "required": true}]')})
    assert ok.status_code == 302
    saved = db.session.get(Category, lean)
    assert saved.spec_schema[0]["key"] == "g"
    assert saved.parent.slug == "coking-coal"


def test_category_admin_is_for_operators(seller_client, db) -> None:  # type: ignore[no-untyped-def]
    assert seller_client.get("/operator/categories").status_code == 403
