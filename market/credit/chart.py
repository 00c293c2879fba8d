"""A server-rendered SVG line chart of a score history: no JavaScript, no CDN, works offline."""

from __future__ import annotations

from datetime import datetime

from markupsafe import Markup, escape

from market.core.timeutil import to_local
from market.credit.report import GRADES

WIDTH, HEIGHT = 640, 220
NARROW = 340  # a phone's width in CSS pixels, so the 11 px labels stay 11 px there
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 28


def _y(score: float) -> float:
    return TOP + (100 - score) * (HEIGHT - TOP - BOTTOM) / 100


def history_svg(points: list[tuple[datetime, int | None]], *, label: str) -> Markup:
    """Two ``<svg>`` charts of the same history, wide and narrow; CSS shows the one that fits the screen
    (an SVG scales its text with its width: a 640-wide chart on a phone has 5 px labels)."""
    return _svg(points, label=label, width=WIDTH, css="wide") + _svg(points, label=label, width=NARROW, css="narrow")


def _svg(points: list[tuple[datetime, int | None]], *, label: str, width: int, css: str) -> Markup:
    """An ``<svg>`` of scores over time; grade bands as guide lines, unrated days as gaps."""
    WIDTH = width
    plot_w = WIDTH - LEFT - RIGHT
    n = len(points)
    parts = [f'<svg class="credit-chart {css}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(label)}" '
             'xmlns="http://www.w3.org/2000/svg">']
    for grade, floor in GRADES:
        if floor == 0:
            continue
        y = _y(floor)
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" class="axis">{grade}</text>')
    parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{_y(0):.1f}" y2="{_y(0):.1f}" class="axis-line"/>')

    def x(i: int) -> float:
        return LEFT + (plot_w / 2 if n == 1 else i * plot_w / (n - 1))

    segment: list[str] = []
    segments: list[list[str]] = []
    for i, (_, score) in enumerate(points):
        if score is None:
            if segment:
                segments.append(segment)
            segment = []
            continue
        segment.append(f"{x(i):.1f},{_y(score):.1f}")
    if segment:
        segments.append(segment)
    for seg in segments:
        parts.append(f'<polyline points="{" ".join(seg)}" class="line"/>')
    for i, (at, score) in enumerate(points):
        if score is not None:
            day = to_local(at).strftime("%Y-%m-%d")
            parts.append(f'<circle cx="{x(i):.1f}" cy="{_y(score):.1f}" r="3" class="dot">'
                         f"<title>{day}: {score}</title></circle>")
    if points:
        first, last = to_local(points[0][0]).strftime("%Y-%m-%d"), to_local(points[-1][0]).strftime("%Y-%m-%d")
        parts.append(f'<text x="{LEFT}" y="{HEIGHT - 8}" class="axis">{first}</text>')
        if n > 1:
            parts.append(f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 8}" text-anchor="end" class="axis">{last}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (built from numbers, dates and escaped text only)
