"""Disguised uploads are refused with a clear message, nothing is stored, and an audit row is written;
images are stored as our encoder wrote them; file names lose control characters, bidi names are refused."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from catalog.models import Listing, ListingAttachment
from market.core.audit import AuditLog
from market.core.uploads import UploadRefused, check_pdf, clean_filename, reencode_image
from market.extensions import db
from tests.factories import login, make_company, make_listing, make_member
from tests.factories.files import disguised_pdf, png_with_payload, real_pdf, script_pdf


@pytest.fixture
def seller(client, db):  # type: ignore[no-untyped-def]
    company = make_company()
    listing_id = make_listing(company).id
    login(client, make_member(company))
    return client, listing_id


def _refusals() -> int:
    count = db.session.scalar(select(func.count(AuditLog.id)).where(AuditLog.action == "upload.refused"))
    db.session.rollback()
    return count


@pytest.mark.parametrize(("data", "name"), [
    (disguised_pdf(), "SGS-2025.pdf"),
    (script_pdf(), "SGS-2025.pdf"),
    (real_pdf(), "SGS-2025\u202efdp.exe"),  # shows as "SGS-2025exe.pdf"
], ids=["html-in-pdf", "javascript-pdf", "bidi-name"])
def test_disguised_certificates_are_refused_and_audited(seller, app, data, name) -> None:
    client, listing_id = seller
    files_before = {p for p in Path(app.config["UPLOAD_DIR"]).rglob("*") if p.is_file()}
    response = client.post(f"/my/listings/{listing_id}/certificate", data={"certificate": (io.BytesIO(data), name)})
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "脚本" in text or "方向" in text  # a clear message, in the reader's language
    assert db.session.scalar(select(func.count(ListingAttachment.id))) == 0
    assert {p for p in Path(app.config["UPLOAD_DIR"]).rglob("*") if p.is_file()} == files_before
    assert _refusals() == 1


def test_a_real_pdf_is_accepted_and_served_as_a_download(seller) -> None:
    client, listing_id = seller
    name = "SGS\x07 检验证书\u200b.pdf"
    assert client.post(f"/my/listings/{listing_id}/certificate",
                       data={"certificate": (io.BytesIO(real_pdf()), name)}).status_code == 302
    attachment = db.session.scalars(select(ListingAttachment)).one()
    assert attachment.original_name == "SGS 检验证书.pdf"
    db.session.rollback()
    assert db.session.get(Listing, listing_id) is not None


def test_images_are_re_encoded() -> None:
    data, content_type, extension = reencode_image(png_with_payload())
    assert (content_type, extension) == ("image/png", "png")
    assert b"<script>" not in data
    with pytest.raises(UploadRefused):
        reencode_image(b"GIF89a" + b"\x00" * 100)


def test_pdf_and_name_checks() -> None:
    pdf = real_pdf()
    assert check_pdf(pdf) == pdf
    for bad in (disguised_pdf(), script_pdf(), b"%PDF-1.7 not really", b"<html>%PDF-1.4"):
        with pytest.raises(UploadRefused):
            check_pdf(bad)
    assert clean_filename("..\\..\\etc/pass\x00wd\r\n.pdf") == "passwd.pdf"
    for bidi in ("a\u202eb.pdf", "a\u2066b.pdf", "a\u200fb.pdf"):
        with pytest.raises(UploadRefused):
            clean_filename(bidi)
