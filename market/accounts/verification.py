"""Verification L1: a company uploads its business licence; an operator approves or rejects it.

Uploads are checked by content, not by name: a PDF must start with ``%PDF-`` and parse, an image must
be decoded by Pillow as JPEG, PNG or WebP. Files are stored under ``UPLOAD_DIR/licences`` with a
random name; the original name is kept only as a label.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from market.accounts.models import Company, CompanyRole, Membership, User, Verification, VerificationRequest
from market.core.audit import record
from market.core.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from market.core.notify import notify_company
from market.core.timeutil import utcnow
from market.core.transitions import ANYONE, Lifecycle
from market.core.uploads import (
    UploadRefused,
    check_pdf,
    clean_filename,
    image_format,
    reencode_image,
    write_upload,
)
from market.extensions import db

IMAGE_TYPES = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}


@dataclass(frozen=True)
class CheckedFile:
    data: bytes
    content_type: str
    extension: str


P = VerificationRequest
VERIFICATION = Lifecycle("verification_request", VerificationRequest, {
    (P.PENDING, P.APPROVED): {ANYONE}, (P.PENDING, P.REJECTED): {ANYONE}, (P.PENDING, P.WITHDRAWN): {ANYONE}})

def _invalid(message: str) -> ValidationFailed:
    return ValidationFailed(message, field_errors={"licence": message})


def check_licence_file(stream: BinaryIO, max_bytes: int) -> CheckedFile:
    """Read at most ``max_bytes`` and decide what the file really is. Raises ValidationFailed."""
    data = stream.read(max_bytes + 1)
    if not data:
        raise _invalid("Please choose a file: a photo or scan of the business licence (JPEG, PNG or PDF).")
    if len(data) > max_bytes:
        raise ValidationFailed("The file is too large (at most %(mb)s MB).", mb=max_bytes // (1024 * 1024),
                               field_errors={"licence": "The file is too large."})
    if data.startswith(b"%PDF-"):
        return CheckedFile(check_pdf(data, "licence"), "application/pdf", "pdf")
    try:
        stored, content_type, extension = reencode_image(data, "licence")
    except UploadRefused as exc:
        if exc.message != "This is not a JPEG, PNG or WebP image.":
            raise
        if image_format(data):  # an image, but of a kind we do not keep (GIF, BMP, TIFF ...)
            raise _invalid("Please upload a JPEG, PNG or WebP image, or a PDF document.") from None
        raise _invalid("The file is neither an image (JPEG, PNG, WebP) nor a PDF document.") from None
    return CheckedFile(stored, content_type, extension)


def licence_folder() -> Path:
    folder = Path(current_app.config["UPLOAD_DIR"]) / "licences"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def licence_path(request_: VerificationRequest) -> Path:
    return licence_folder() / request_.stored_name


def submit_licence(actor: Membership, stream: BinaryIO, original_name: str | None) -> VerificationRequest:
    """Upload a licence for review. A newer upload replaces a pending one."""
    if actor.role not in (CompanyRole.OWNER, CompanyRole.ADMIN):
        raise PermissionDenied("Only the company's owner or an admin can do this.")
    company = actor.company
    if company.verification_level >= Verification.L1_VERIFIED:
        raise Conflict("Your company is already verified.")
    checked = check_licence_file(stream, current_app.config["UPLOAD_MAX_BYTES"])
    stored_name = f"{secrets.token_hex(16)}.{checked.extension}"
    write_upload(licence_folder() / stored_name, checked.data)  # deleted again if the request rolls back
    for earlier in db.session.scalars(
        select(VerificationRequest).where(VerificationRequest.company_id == company.id,
                                          VerificationRequest.status == VerificationRequest.PENDING)
    ):
        VERIFICATION.move(earlier, VerificationRequest.WITHDRAWN, actor_company_id=company.id,
                          action="verification.withdrawn")
    request_ = VerificationRequest(company_id=company.id, stored_name=stored_name,
                                   original_name=clean_filename(original_name, "licence", "") or None,
                                   content_type=checked.content_type, size_bytes=len(checked.data),
                                   submitted_by=actor.user_id)
    db.session.add(request_)
    db.session.flush()
    record("verification.submitted", "verification_request", request_.id, actor_company_id=company.id,
           after={"status": "pending", "content_type": checked.content_type, "size_bytes": len(checked.data)})
    return request_


def latest_request(company_id: int) -> VerificationRequest | None:
    return db.session.scalars(
        select(VerificationRequest).where(VerificationRequest.company_id == company_id)
        .order_by(VerificationRequest.id.desc())
    ).first()


def pending_query():  # type: ignore[no-untyped-def]
    """The operator queue, oldest first (first come, first served)."""
    return (select(VerificationRequest).where(VerificationRequest.status == VerificationRequest.PENDING)
            .options(selectinload(VerificationRequest.company))
            .order_by(VerificationRequest.created_at, VerificationRequest.id))


def _pending(request_id: int) -> VerificationRequest:
    request_ = db.session.get(VerificationRequest, request_id)
    if request_ is None:
        raise NotFound("Not found")
    if request_.status != VerificationRequest.PENDING:
        raise InvalidTransition("This request has already been decided.")
    return request_


def approve(operator: User, request_id: int) -> VerificationRequest:
    """The operator accepts the licence: the company becomes L1 verified."""
    request_ = _pending(request_id)
    company: Company = request_.company
    before = company.snapshot()
    VERIFICATION.move(request_, VerificationRequest.APPROVED, actor_user_id=operator.id,
                      action="verification.approved", decided_by=operator.id, decided_at=utcnow())
    company.verification_level = max(company.verification_level, Verification.L1_VERIFIED)
    company.verified_at = utcnow()
    db.session.flush()
    record("company.verified", "company", company.id, actor_user_id=operator.id, before=before,
           after=company.snapshot())
    notify_company(company.id, "verification.approved", _l("Your company is verified"),
                   _l("The platform checked your business licence. You can now publish listings and receive "
                     "payments."), _company_url(), roles=(CompanyRole.OWNER,))
    return request_


def reject(operator: User, request_id: int, reason: str) -> VerificationRequest:
    """The operator refuses the licence with a reason the company sees."""
    reason = " ".join((reason or "").split())
    if len(reason) < 4:
        raise ValidationFailed("Please tell the company why, so that they can fix it.",
                               field_errors={"reason": "Please give a reason."})
    if len(reason) > 500:
        raise ValidationFailed("Use at most 500 characters.", field_errors={"reason": "Use at most 500 characters."})
    request_ = _pending(request_id)
    VERIFICATION.move(request_, VerificationRequest.REJECTED, actor_user_id=operator.id,
                      action="verification.rejected", note=reason, decided_by=operator.id, decided_at=utcnow(),
                      reason=reason)
    notify_company(request_.company_id, "verification.rejected", _l("Your business licence was not accepted"),
                   _l("Reason: %(reason)s\nPlease upload a new file on your company page.", reason=reason),
                   _company_url(), roles=(CompanyRole.OWNER,))
    return request_


def _company_url() -> str:
    from market.accounts.services import public_url

    return public_url("accounts.verification")
