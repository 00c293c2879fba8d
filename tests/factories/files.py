"""Real and disguised files for upload tests."""

from __future__ import annotations

import io

from PIL import Image
from pypdf import PdfWriter
from pypdf.generic import DictionaryObject, NameObject, TextStringObject


def real_pdf() -> bytes:
    """A one-page PDF as a scanner or a print-to-PDF would make it."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def disguised_pdf() -> bytes:
    """Starts like a PDF (and even parses), but carries a page a browser would run."""
    return b"%PDF-1.4<html><script>alert(document.cookie)</script></html>\n" + real_pdf()[9:]


def script_pdf() -> bytes:
    """A real PDF whose catalog runs JavaScript when opened."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer._root_object[NameObject("/OpenAction")] = DictionaryObject({
        NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject("app.alert('hi');")})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def png_with_payload() -> bytes:
    """A valid PNG with bytes appended after its end (a polyglot's usual trick)."""
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "navy").save(out, "PNG")
    return out.getvalue() + b"<script>alert(1)</script>"
