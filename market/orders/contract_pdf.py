"""The contract as PDF with reportlab. STSong-Light is one of the CID fonts every PDF reader carries
(Adobe-GB1), so Chinese renders without shipping a font file."""

from __future__ import annotations

import io
from typing import Any
from xml.sax.saxutils import escape

from flask_babel import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from market.core.timeutil import to_local
from market.orders.contract_text import sections

FONT = "STSong-Light"
_registered = False


def _font() -> str:
    global _registered
    if not _registered:
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
        _registered = True
    return FONT


def render_pdf(content: dict[str, Any], sha256: str, signatures: list[tuple[str, str]]) -> bytes:
    """The PDF bytes of a contract version; ``signatures`` are (party, "name, time") lines."""
    font = _font()
    # wordWrap CJK breaks lines between Chinese characters (there are no spaces to break at)
    body = ParagraphStyle("body", fontName=font, fontSize=9.5, leading=14, wordWrap="CJK")
    head = ParagraphStyle("head", parent=body, fontSize=11.5, leading=18, spaceBefore=8)
    title = ParagraphStyle("title", parent=body, fontSize=16, leading=22, alignment=1)
    small = ParagraphStyle("small", parent=body, fontSize=7.5, leading=10, textColor=colors.grey)

    def p(text: str, style: ParagraphStyle = body) -> Paragraph:
        return Paragraph(escape(str(text)), style)

    story: list[Any] = [p(_("Purchase contract"), title),
                        p(f"{_('Contract number')}: {content['number']}", small), Spacer(1, 4 * mm)]
    for section in sections(content):
        story.append(p(section["title"], head))
        if section.get("table"):
            table = section["table"]
            data = [[p(cell) for cell in table["head"]]] + [[p(cell) for cell in row] for row in table["rows"]]
            grid = Table(data, colWidths=[35 * mm, 55 * mm, 25 * mm, 30 * mm, 30 * mm], repeatRows=1)
            grid.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                                      ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
                                      ("VALIGN", (0, 0), (-1, -1), "TOP")]))
            story += [grid, Spacer(1, 2 * mm)]
        rows = [[p(label), p(text)] for label, text in section["rows"]]
        if rows:
            block = Table(rows, colWidths=[40 * mm, 135 * mm])
            block.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                                       ("LINEBELOW", (0, 0), (-1, -1), 0.2, colors.lightgrey)]))
            story.append(block)
    story += [Spacer(1, 6 * mm), p(_("Confirmations"), head)]
    story += [p(f"{party}: {line}") for party, line in signatures] or [p(_("Not yet confirmed."))]
    story += [Spacer(1, 4 * mm), p(f"SHA-256: {sha256}", small)]

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=16 * mm, rightMargin=16 * mm, topMargin=16 * mm,
                            bottomMargin=16 * mm, title=content["number"], author="Jinshang")
    doc.build(story)
    return buffer.getvalue()


def signature_lines(contract: Any, names: dict[int, str]) -> list[tuple[str, str]]:
    """Who confirmed, when, and the hash they confirmed, for both PDF and HTML."""
    lines = []
    for party, label in (("buyer", _("Buyer")), ("seller", _("Seller"))):
        at = getattr(contract, f"{party}_signed_at")
        if at is not None:
            user = names.get(getattr(contract, f"{party}_signed_by_user_id"), "")
            lines.append((str(label), f"{user} · {to_local(at):%Y-%m-%d %H:%M} · "
                                      f"{getattr(contract, f'{party}_signed_sha256')[:16]}…"))
    return lines
