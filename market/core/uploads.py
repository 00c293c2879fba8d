"""Uploads: what a file really is (PDF, image, its name), and files that follow the transaction.

A file written during a request that rolls back is deleted.

Files are written before the commit (so a committed row never points at a missing file); the session
remembers them and removes them again if the transaction rolls back instead.
"""

from __future__ import annotations

import contextlib
import unicodedata
import warnings
from io import BytesIO
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError
from pypdf import PdfReader
from pypdf.errors import PdfReadError
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from market.core.errors import ValidationFailed

_KEY = "uploads_written"


def write_upload(path: Path, data: bytes, session: Session | None = None) -> Path:
    """Write ``data`` to ``path`` (creating folders) and tie the file to the current transaction."""
    from market.extensions import db

    session = session or db.session()
    if not session.in_transaction():
        session.begin()  # so the transaction's end, whichever it is, sees the file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    session.info.setdefault(_KEY, []).append(path)
    return path


@event.listens_for(Session, "after_commit")
def _keep(session: Session) -> None:
    session.info.pop(_KEY, None)


@event.listens_for(Session, "after_transaction_end")
def _remove(session: Session, transaction: SessionTransaction) -> None:
    """The outermost transaction ended without a commit (rollback, or closed with changes pending)."""
    if transaction.parent is not None:
        return
    for path in session.info.pop(_KEY, []):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


# -- what a file really is -------------------------------------------------------------------------------------
# A file is judged by its content, never its name: a PDF must parse as one and carry nothing a browser or a
# PDF reader would run; an image is decoded and written again (what is stored is our encoder's output, without
# metadata or trailing bytes); a file name loses control characters and is refused if it carries bidi
# overrides (``invoice\u202efdp.exe`` shows as "invoiceexe.pdf").

# bytes that have no business in a certificate or licence: HTML a browser might sniff, PDF actions that run code
_PDF_FORBIDDEN = (b"<html", b"<script", b"<!doctype", b"<body", b"<iframe", b"<svg", b"javascript:",
                  b"/javascript", b"/js", b"/launch", b"/embeddedfile", b"/richmedia", b"/xfa")
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
IMAGE_FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}
MAX_PIXELS = 40_000_000


class UploadRefused(ValidationFailed):
    """A disguised or dangerous file: refused with a message, and the refusal is audited (market.core.http)."""

    audit_action = "upload.refused"


def _refused(message: str, field: str, **detail: object) -> UploadRefused:
    return UploadRefused(message, field_errors={field: message}, **detail)  # type: ignore[arg-type]


def clean_filename(name: str | None, field: str = "file", default: str = "file") -> str:
    """The name to show for an upload: its last path part, without control or invisible characters.

    Raises :class:`UploadRefused` for bidi controls, which exist in a file name only to disguise it.
    """
    raw = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    if any(ch in _BIDI_CONTROLS for ch in raw):
        raise _refused("The file name contains hidden direction-changing characters. Please rename the file.",
                       field)
    cleaned = "".join(ch for ch in unicodedata.normalize("NFC", raw)
                      if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn"))
    cleaned = " ".join(cleaned.split()).strip(". ")
    return cleaned[:200] or default


def check_pdf(data: bytes, field: str = "file") -> bytes:
    """``data`` if it is a readable, unencrypted PDF with pages and nothing active in it; else UploadRefused."""
    if not data.startswith(b"%PDF-"):
        raise _refused("The file is not a PDF document.", field)
    lowered = data.lower()
    if any(marker in lowered for marker in _PDF_FORBIDDEN):
        raise _refused("The PDF contains web page code or scripts and cannot be accepted. Please upload a plain "
                       "scan or a PDF printed from the original.", field)
    try:
        reader = PdfReader(BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise _refused("Password-protected PDF files cannot be reviewed. Please upload an unprotected copy.",
                           field)
        if len(reader.pages) < 1:
            raise _refused("The PDF file has no pages.", field)
        root = reader.trailer["/Root"]
        names = root.get("/Names") or {}
        if "/JavaScript" in names or "/EmbeddedFiles" in names or "/AA" in root:
            raise _refused("The PDF contains web page code or scripts and cannot be accepted. Please upload a "
                           "plain scan or a PDF printed from the original.", field)
        action = root.get("/OpenAction")
        if hasattr(action, "get") and action.get("/S") in ("/JavaScript", "/Launch"):
            raise _refused("The PDF contains web page code or scripts and cannot be accepted. Please upload a "
                           "plain scan or a PDF printed from the original.", field)
    except UploadRefused:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError, OSError):
        raise _refused("The file is not a readable PDF document.", field) from None
    return data


def image_format(data: bytes) -> str | None:
    """What Pillow says the image is ("GIF", "BMP", ...) without decoding it, or None for a non-image."""
    try:
        with Image.open(BytesIO(data)) as probe:
            return probe.format
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return None


def reencode_image(data: bytes, field: str = "file", max_size: tuple[int, int] = (4000, 4000)
                   ) -> tuple[bytes, str, str]:
    """Decode the image (refusing bombs and non-images) and encode it again: (bytes, content type, extension)."""
    bad = _refused("This is not a JPEG, PNG or WebP image.", field)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(BytesIO(data)) as probe:
                kind = probe.format
                if kind not in IMAGE_FORMATS:
                    raise bad
                if probe.width * probe.height > MAX_PIXELS:
                    raise _refused("The image has too many pixels.", field)
                probe.verify()
            with Image.open(BytesIO(data)) as opened:
                opened.load()
                image = ImageOps.exif_transpose(opened)
    except UploadRefused:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError,
            Image.DecompressionBombWarning):
        raise bad from None
    image.thumbnail(max_size)
    if kind == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    out = BytesIO()
    image.save(out, kind, **({"quality": 90, "optimize": True} if kind == "JPEG" else {}))
    content_type, extension = IMAGE_FORMATS[kind]
    return out.getvalue(), content_type, extension


def audit_refusal(exc: Exception) -> None:
    """After the rollback: one audit row for a refused upload, in its own transaction (nothing else changed)."""
    if not isinstance(exc, UploadRefused):
        return
    from flask import has_request_context, request

    from market.core.audit import record_refusal

    record_refusal(exc.audit_action, "upload", request.path[:64] if has_request_context() else "-",
                   note=exc.message[:300])
