"""Listing photos and inspection certificates: validated by content, size-limited, stored on disk.

Uploads are checked by what they are, not by their name or declared type: photos must decode with
Pillow (JPEG, PNG or WebP, at most ``MAX_PIXELS``) and are re-encoded (which drops EXIF, GPS
included) at display size plus a thumbnail; certificates must be a PDF (by its header and trailer)
or such an image. Files land under ``UPLOAD_DIR/catalog/`` with random names.
"""

from __future__ import annotations

import io
import secrets
import warnings
from pathlib import Path

from flask import current_app
from PIL import Image, ImageOps, UnidentifiedImageError

from catalog.models import Listing, ListingAttachment, ListingPhoto
from market.core import audit
from market.core.errors import NotFound, ValidationFailed
from market.core.uploads import check_pdf, clean_filename, write_upload
from market.extensions import db

PHOTO_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
MAX_PIXELS = 40_000_000  # a 40-megapixel image is already generous for a lot photo
MAX_PHOTOS = 8
DISPLAY_SIZE = (1600, 1600)
THUMB_SIZE = (400, 400)


def upload_root() -> Path:
    root = Path(current_app.config["UPLOAD_DIR"]) / "catalog"
    root.mkdir(parents=True, exist_ok=True)
    return root


def _limit() -> int:
    return int(current_app.config.get("UPLOAD_MAX_BYTES", 8 * 1024 * 1024))


def _check_size(data: bytes, field: str) -> None:
    if not data:
        raise ValidationFailed("The file is empty.", field_errors={field: "The file is empty."})
    if len(data) > _limit():
        mb = _limit() // (1024 * 1024)
        raise ValidationFailed("The file is larger than %(mb)s MB.", field_errors={field: "The file is too large."},
                               mb=str(mb))


def _open_image(data: bytes, field: str) -> Image.Image:
    """Decode an image fully (a truncated or disguised file fails here), refusing decompression bombs."""
    bad = ValidationFailed("This is not a JPEG, PNG or WebP image.",
                           field_errors={field: "This is not a JPEG, PNG or WebP image."})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))
            if probe.format not in PHOTO_FORMATS:
                raise bad
            if probe.width * probe.height > MAX_PIXELS:
                raise ValidationFailed("The image has too many pixels.",
                                       field_errors={field: "The image has too many pixels."})
            probe.verify()
            image = Image.open(io.BytesIO(data))
            image.load()
    except ValidationFailed:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError,
            Image.DecompressionBombWarning):
        raise bad from None
    return image


def _save_jpeg(image: Image.Image, size: tuple[int, int]) -> tuple[bytes, int, int]:
    copy = ImageOps.exif_transpose(image)
    copy.thumbnail(size)
    if copy.mode not in ("RGB", "L"):
        background = Image.new("RGB", copy.size, "white")
        background.paste(copy.convert("RGBA"), mask=copy.convert("RGBA").split()[-1])
        copy = background
    out = io.BytesIO()
    copy.save(out, "JPEG", quality=85, optimize=True)
    return out.getvalue(), copy.width, copy.height


def add_photo(listing: Listing, data: bytes, *, actor_user_id: int | None = None) -> ListingPhoto:
    """Validate and store a photo with its thumbnail."""
    _check_size(data, "photo")
    if len(listing.photos) >= MAX_PHOTOS:
        raise ValidationFailed("At most %(n)s photos per listing.",
                               field_errors={"photo": "Too many photos."}, n=str(MAX_PHOTOS))
    image = _open_image(data, "photo")
    display, width, height = _save_jpeg(image, DISPLAY_SIZE)
    thumb, _w, _h = _save_jpeg(image, THUMB_SIZE)
    stem = secrets.token_hex(12)
    root = upload_root()
    write_upload(root / f"{stem}.jpg", display)
    write_upload(root / f"{stem}.thumb.jpg", thumb)
    photo = ListingPhoto(listing_id=listing.id, position=len(listing.photos), stored_name=f"{stem}.jpg",
                         thumb_name=f"{stem}.thumb.jpg", content_type="image/jpeg", width=width, height=height,
                         size_bytes=len(display))
    listing.photos.append(photo)
    db.session.flush()
    audit.record("listing.photo_add", "listing", listing.id, actor_user_id=actor_user_id,
                 actor_company_id=listing.seller_id, after={"photo_id": photo.id})
    return photo


def delete_photo(listing: Listing, photo_id: int, *, actor_user_id: int | None = None) -> None:
    photo = next((p for p in listing.photos if p.id == photo_id), None)
    if photo is None:
        raise NotFound("Not found")
    listing.photos.remove(photo)
    db.session.flush()
    audit.record("listing.photo_delete", "listing", listing.id, actor_user_id=actor_user_id,
                 actor_company_id=listing.seller_id, before={"photo_id": photo_id})
    # The files stay until a cleanup: deleting them before the commit would break a rollback.


def is_pdf(data: bytes) -> bool:
    return data.startswith(b"%PDF-") and b"%%EOF" in data[-2048:]


def set_certificate(listing: Listing, data: bytes, filename: str, *,
                    actor_user_id: int | None = None) -> ListingAttachment:
    """Attach an inspection certificate (PDF or image), replacing none: the history stays visible."""
    _check_size(data, "certificate")
    original = clean_filename(filename, "certificate", "certificate")  # before anything is written
    if data.startswith(b"%PDF-"):  # parsed, and refused if it carries HTML or script
        content_type, suffix, stored = "application/pdf", "pdf", check_pdf(data, "certificate")
    else:
        try:
            image = _open_image(data, "certificate")
        except ValidationFailed:
            raise ValidationFailed("Upload the certificate as a PDF or an image.",
                                   field_errors={"certificate": "Upload the certificate as a PDF or an image."}
                                   ) from None
        stored, _w, _h = _save_jpeg(image, (2400, 2400))
        content_type, suffix = "image/jpeg", "jpg"
    name = f"{secrets.token_hex(12)}.{suffix}"
    write_upload(upload_root() / name, stored)
    attachment = ListingAttachment(listing_id=listing.id, kind="inspection_certificate", original_name=original,
                                   stored_name=name, content_type=content_type, size_bytes=len(stored))
    listing.attachments.append(attachment)
    db.session.flush()
    audit.record("listing.certificate_add", "listing", listing.id, actor_user_id=actor_user_id,
                 actor_company_id=listing.seller_id, after={"attachment_id": attachment.id, "name": original})
    return attachment
