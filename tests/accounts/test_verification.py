"""Verification L1: licence uploads checked by content, the operator queue, approve and reject."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfWriter
from sqlalchemy import func, select

from market.accounts.models import Company, VerificationRequest
from market.core.audit import AuditLog
from market.core.notify import Notification
from tests.factories import login, make_company, make_member, make_staff


def png_bytes() -> bytes:
    buffer = BytesIO()
    Image.new("RGB", (60, 40), "#fbf6ea").save(buffer, "PNG")
    return buffer.getvalue()


def pdf_bytes() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buffer = BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


@pytest.fixture
def applicant(app, db):  # type: ignore[no-untyped-def]
    """A signed-in owner of an unverified cooperative: (client, company id)."""
    company = make_company("定襄县河边镇小米种植专业合作社", kind="farmer_cooperative", verified=False)
    company_id = company.id
    owner = make_member(company, "owner")
    client = app.test_client()
    login(client, owner)
    return client, company_id


def upload(client, data: bytes, name: str):  # type: ignore[no-untyped-def]
    return client.post("/company/verification", data={"licence": (BytesIO(data), name)},
                       content_type="multipart/form-data")


def requests_count(db) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count(VerificationRequest.id)))


@pytest.mark.parametrize(("maker", "name", "content_type"), [
    (png_bytes, "执照.png", "image/png"),
    (pdf_bytes, "licence.pdf", "application/pdf"),
    (png_bytes, "photo-without-extension", "image/png"),  # the content decides, not the name
])
def test_valid_licence_files_are_stored_under_a_random_name(app, db, applicant, maker, name, content_type):
    client, company_id = applicant
    data = maker()
    response = upload(client, data, name)
    assert response.status_code == 302
    item = db.session.scalars(select(VerificationRequest)).one()
    assert (item.company_id, item.status, item.content_type, item.size_bytes) == (
        company_id, "pending", content_type, len(data))
    stored = Path(app.config["UPLOAD_DIR"]) / "licences" / item.stored_name
    assert stored.read_bytes() == data
    assert name not in item.stored_name


@pytest.mark.parametrize(("data", "name"), [
    (b"this is just text pretending to be an image", "licence.png"),
    (b"%PDF-1.7\nnot really a pdf at all", "licence.pdf"),
    (b"GIF89a" + b"\x00" * 20, "licence.gif"),
    (b"", "empty.png"),
])
def test_fake_or_empty_files_are_refused(app, db, applicant, data, name):
    client, _company_id = applicant
    response = upload(client, data, name)
    assert response.status_code == 422
    assert "field-error" in response.get_data(as_text=True)
    assert requests_count(db) == 0


def test_gif_is_refused_with_a_clear_message(app, db, applicant):
    client, _ = applicant
    buffer = BytesIO()
    Image.new("RGB", (10, 10)).save(buffer, "GIF")
    client.get("/lang/en")
    response = upload(client, buffer.getvalue(), "licence.gif")
    assert response.status_code == 422
    assert "JPEG, PNG or WebP" in response.get_data(as_text=True)


def test_oversized_file_is_refused(app, db, applicant, monkeypatch):
    client, _ = applicant
    monkeypatch.setitem(app.config, "UPLOAD_MAX_BYTES", 1024)
    response = upload(client, png_bytes() + b"\x00" * 2048, "big.png")
    assert response.status_code == 422
    assert "文件过大" in response.get_data(as_text=True)
    assert requests_count(db) == 0


def test_request_body_over_the_limit_is_a_413_page(app, db, applicant, monkeypatch):
    client, _ = applicant
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2048)
    response = upload(client, b"\x00" * 4096, "huge.png")
    assert response.status_code == 413
    assert requests_count(db) == 0


def test_sales_cannot_upload(app, db):
    company = make_company(verified=False)
    make_member(company, "owner")
    sales = make_member(company, "sales")
    client = app.test_client()
    login(client, sales)
    assert upload(client, png_bytes(), "x.png").status_code == 403


def test_operator_approves_and_the_company_is_verified(app, db, applicant):
    client, company_id = applicant
    operator = make_staff("operator")
    upload(client, png_bytes(), "执照.png")
    request_id = db.session.scalars(select(VerificationRequest.id)).one()
    staff = app.test_client()
    login(staff, operator)
    queue = staff.get("/operator/verification").get_data(as_text=True)
    assert "定襄县河边镇小米种植专业合作社" in queue
    licence = staff.get(f"/verification/{request_id}/licence")
    assert (licence.status_code, licence.mimetype) == (200, "image/png")
    assert licence.headers["X-Content-Type-Options"] == "nosniff"
    assert staff.post(f"/operator/verification/{request_id}/approve").status_code == 302
    company = db.session.get(Company, company_id)
    assert company.verification_level == 1
    assert company.verified_at is not None
    assert db.session.get(VerificationRequest, request_id).status == "approved"
    actions = set(db.session.scalars(select(AuditLog.action)))
    assert {"verification.submitted", "verification.approved", "company.verified"} <= actions
    note = db.session.scalars(select(Notification).where(Notification.kind == "verification.approved")).one()
    assert note.company_id == company_id
    # deciding twice is a conflict, not a silent no-op
    assert staff.post(f"/operator/verification/{request_id}/approve").status_code == 409
    assert "已通过认证" in client.get("/company/verification").get_data(as_text=True)
    assert "暂无待审核" in staff.get("/operator/verification").get_data(as_text=True)


def test_operator_rejects_with_a_reason_the_company_sees(app, db, applicant):
    client, company_id = applicant
    operator = make_staff("operator")
    upload(client, png_bytes(), "blurred.png")
    request_id = db.session.scalars(select(VerificationRequest.id)).one()
    staff = app.test_client()
    login(staff, operator)
    # a reason is required
    assert staff.post(f"/operator/verification/{request_id}/reject", data={"reason": ""}).status_code == 302
    assert db.session.get(VerificationRequest, request_id).status == "pending"
    db.session.rollback()
    response = staff.post(f"/operator/verification/{request_id}/reject", data={"reason": "照片模糊，看不清信用代码"})
    assert response.status_code == 302
    item = db.session.get(VerificationRequest, request_id)
    assert (item.status, item.reason) == ("rejected", "照片模糊，看不清信用代码")
    assert db.session.get(Company, company_id).verification_level == 0
    db.session.rollback()
    assert "照片模糊，看不清信用代码" in client.get("/company/verification").get_data(as_text=True)
    # the company can upload again
    assert upload(client, pdf_bytes(), "clear.pdf").status_code == 302


def test_new_upload_replaces_a_pending_one(app, db, applicant):
    client, _ = applicant
    upload(client, png_bytes(), "first.png")
    upload(client, pdf_bytes(), "second.pdf")
    statuses = sorted(db.session.scalars(select(VerificationRequest.status)))
    assert statuses == ["pending", "withdrawn"]


def test_queue_and_files_are_for_staff_only(app, db, applicant):
    client, _ = applicant
    upload(client, png_bytes(), "x.png")
    request_id = db.session.scalars(select(VerificationRequest.id)).one()
    assert client.get("/operator/verification").status_code == 403
    assert client.post(f"/operator/verification/{request_id}/approve").status_code == 403
    assert client.get(f"/verification/{request_id}/licence").status_code == 200  # its own file
    stranger = make_member(make_company(), "owner")
    other = app.test_client()
    login(other, stranger)
    assert other.get(f"/verification/{request_id}/licence").status_code == 404
    regulator = make_staff("regulator")
    watcher = app.test_client()
    login(watcher, regulator)
    assert watcher.get(f"/verification/{request_id}/licence").status_code == 200
    assert watcher.post(f"/operator/verification/{request_id}/approve").status_code == 403


def test_queue_is_paginated(app, db):
    for n in range(23):
        company = make_company(f"排队单位{n}", verified=False)
        db.session.add(VerificationRequest(company_id=company.id, stored_name=f"{n}.png", content_type="image/png",
                                           size_bytes=10))
    operator = make_staff("operator")
    staff = app.test_client()
    login(staff, operator)
    first = staff.get("/operator/verification").get_data(as_text=True)
    assert "第 1 / 2 页" in first
    assert "排队单位0<" in first or "排队单位0 " in first
    second = staff.get("/operator/verification?page=2").get_data(as_text=True)
    assert "排队单位22" in second
    assert "排队单位0<" not in second
