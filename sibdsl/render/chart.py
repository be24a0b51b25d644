"""The payment curve as SVG, drawn directly: a few dozen lines of deterministic XML.

Measured against matplotlib: importing it alone takes longer than rendering the whole document,
and its SVG carries generated ids and metadata that would have to be pinned for byte-identical
output. Every text in the chart is XML-escaped.
"""

from __future__ import annotations

from fractions import Fraction
from xml.sax.saxutils import escape as _xml

from ..source import visible


def escape(text: str) -> str:
    """Text for the SVG: control characters (not allowed in XML 1.0) shown as their symbols, then XML-escaped."""
    return _xml(visible(text), {'"': "&quot;"})

WIDTH, HEIGHT = 640, 320
LEFT, RIGHT, TOP, BOTTOM = 90, 20, 20, 50


def _f(x: float) -> str:
    return f"{x:.1f}"


def svg(points: list[tuple[Fraction, Fraction]], x_label: str, y_label: str, x_ticks: list[tuple[Fraction, str]],
        y_ticks: list[tuple[Fraction, str]], marks: list[tuple[str, Fraction, str]],
        others: list[tuple[str, list[tuple[Fraction, Fraction]], str]] = ()) -> str:
    """points: (x, payout); marks: ("h" for a horizontal line at a payout / "v" for a vertical line
    at an outcome, value, label) for floors, caps and gate thresholds; others: further curves
    (label, points, colour), e.g. another draft's payout in `sibc diff --chart`."""
    xs = [p[0] for p in points] + [t[0] for t in x_ticks] + [p[0] for _, ps, _ in others for p in ps]
    ys = [p[1] for p in points] + [t[0] for t in y_ticks] + [v for k, v, _ in marks if k == "h"] + \
        [p[1] for _, ps, _ in others for p in ps]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(min(ys), Fraction(0)), max(ys) or Fraction(1)
    if x1 == x0:
        x1 = x0 + 1
    if y1 == y0:
        y1 = y0 + 1

    def sx(x: Fraction) -> float:  # float only for drawing coordinates, never for amounts
        return LEFT + float((x - x0) / (x1 - x0)) * (WIDTH - LEFT - RIGHT)

    def sy(y: Fraction) -> float:
        return HEIGHT - BOTTOM - float((y - y0) / (y1 - y0)) * (HEIGHT - TOP - BOTTOM)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
           f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="11">',
           f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
           f'<line x1="{LEFT}" y1="{_f(sy(y0))}" x2="{WIDTH - RIGHT}" y2="{_f(sy(y0))}" stroke="black"/>',
           f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{HEIGHT - BOTTOM}" stroke="black"/>']
    for x, text in x_ticks:
        out.append(f'<line x1="{_f(sx(x))}" y1="{HEIGHT - BOTTOM}" x2="{_f(sx(x))}" y2="{HEIGHT - BOTTOM + 4}" '
                   f'stroke="black"/><text x="{_f(sx(x))}" y="{HEIGHT - BOTTOM + 16}" '
                   f'text-anchor="middle">{escape(text)}</text>')
    for y, text in y_ticks:
        out.append(f'<line x1="{LEFT - 4}" y1="{_f(sy(y))}" x2="{LEFT}" y2="{_f(sy(y))}" stroke="black"/>'
                   f'<text x="{LEFT - 6}" y="{_f(sy(y) + 4)}" text-anchor="end">{escape(text)}</text>')
    for kind, value, text in marks:
        if kind == "h":
            out.append(f'<line x1="{LEFT}" y1="{_f(sy(value))}" x2="{WIDTH - RIGHT}" y2="{_f(sy(value))}" '
                       f'stroke="#b00" stroke-dasharray="6 4"/><text x="{WIDTH - RIGHT - 4}" '
                       f'y="{_f(sy(value) - 4)}" text-anchor="end" fill="#b00">{escape(text)}</text>')
        else:
            out.append(f'<line x1="{_f(sx(value))}" y1="{TOP}" x2="{_f(sx(value))}" y2="{HEIGHT - BOTTOM}" '
                       f'stroke="#06c" stroke-dasharray="3 3"/><text x="{_f(sx(value) + 4)}" y="{TOP + 12}" '
                       f'fill="#06c">{escape(text)}</text>')
    path = " ".join(f"{_f(sx(x))},{_f(sy(y))}" for x, y in points)
    out.append(f'<polyline points="{path}" fill="none" stroke="#222" stroke-width="2"/>')
    for i, (label, series, colour) in enumerate(others):
        path = " ".join(f"{_f(sx(x))},{_f(sy(y))}" for x, y in series)
        out.append(f'<polyline points="{path}" fill="none" stroke="{escape(colour)}" stroke-width="2" '
                   f'stroke-dasharray="8 3"/><text x="{LEFT + 8}" y="{TOP + 14 * (i + 1)}" '
                   f'fill="{escape(colour)}">{escape(label)}</text>')
    out.append(f'<text x="{(LEFT + WIDTH - RIGHT) // 2}" y="{HEIGHT - 12}" text-anchor="middle">{escape(x_label)}</text>')
    out.append(f'<text x="14" y="{(TOP + HEIGHT - BOTTOM) // 2}" text-anchor="middle" '
               f'transform="rotate(-90 14 {(TOP + HEIGHT - BOTTOM) // 2})">{escape(y_label)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"



