"""The one chart stack of sibc: line charts (the payment curve of the council document and of
`sibc diff --chart`) and histograms (`sibc simulate --chart-dir`) as SVG, drawn directly.

Measured against matplotlib: importing it alone takes longer than rendering the whole document,
and its SVG carries generated ids and metadata that would have to be pinned for byte-identical
output. Here the axes are chosen by `ticks` (tested on its own): round steps of 1, 2, 2.5 or 5
times a power of ten, and an axis that always reaches past the highest value, so a curve never
leaves the chart. Every chart has a title and a description (role="img"), read by screen
readers and used as the PDF's alt text. Every text is XML-escaped and control characters are
shown as their symbols (XML 1.0 forbids them). PNG comes from the same SVG, rasterised by Typst.
"""

from __future__ import annotations

from fractions import Fraction
from xml.sax.saxutils import escape as _xml

from ..source import visible

WIDTH, HEIGHT = 640, 320
LEFT, RIGHT, TOP, BOTTOM = 100, 48, 24, 50


def escape(text: str) -> str:
    """Text for the SVG: control characters (not allowed in XML 1.0) shown as their symbols, then XML-escaped."""
    return _xml(visible(text), {'"': "&quot;"})


def _f(x: float) -> str:
    return f"{x:.1f}"


def ticks(lo: Fraction, hi: Fraction, most: int = 6) -> tuple[Fraction, Fraction, list[Fraction]]:
    """(axis start, axis end, tick values) for data from `lo` to `hi`: at most `most` intervals of a
    round step (1, 2, 2.5 or 5 × 10^k); the axis starts at or below `lo` and ends at or above `hi`."""
    lo, hi = Fraction(lo), Fraction(hi)
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo:
        hi = lo + (abs(lo) or 1)
    span = hi - lo
    step = Fraction(1)
    while step * most < span:
        step *= 10
    while step * most / 10 >= span:
        step /= 10
    base = step / 10  # base < span / most <= step
    for factor in (Fraction(1), Fraction(2), Fraction(5, 2), Fraction(5), Fraction(10), Fraction(20)):
        candidate = base * factor
        start = (lo / candidate).__floor__() * candidate
        end = -((-hi / candidate).__floor__()) * candidate
        if (end - start) / candidate <= most:
            break
    count = int((end - start) / candidate)
    return start, end, [start + candidate * i for i in range(count + 1)]


def _open(title: str, desc: str) -> list[str]:
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
           f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="11" role="img"'
           + (' aria-labelledby="chart-title chart-desc"' if title else "") + ">"]
    if title:
        out.append(f'<title id="chart-title">{escape(title)}</title>')
        out.append(f'<desc id="chart-desc">{escape(desc)}</desc>')
    out.append(f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="white"/>')
    return out


def svg(points: list[tuple[Fraction, Fraction]], x_label: str, y_label: str, x_ticks: list[tuple[Fraction, str]],
        y_ticks: list[tuple[Fraction, str]], marks: list[tuple[str, Fraction, str]],
        others: list[tuple[str, list[tuple[Fraction, Fraction]], str]] = (), *, title: str = "",
        desc: str = "") -> str:
    """points: (x, payout); marks: ("h" for a horizontal line at a payout / "v" for a vertical line
    at an outcome, value, label) for floors, caps and gate thresholds; others: further curves
    (label, points, colour), e.g. another draft's payout in `sibc diff --chart`. The axes span the
    ticks and every value, so give ticks from `ticks` for a chart whose axes end on a round number."""
    xs = [p[0] for p in points] + [t[0] for t in x_ticks] + [p[0] for _, ps, _ in others for p in ps] + \
        [v for k, v, _ in marks if k == "v"]
    ys = [p[1] for p in points] + [t[0] for t in y_ticks] + [v for k, v, _ in marks if k == "h"] + \
        [p[1] for _, ps, _ in others for p in ps]
    x0, x1 = (min(xs), max(xs)) if xs else (Fraction(0), Fraction(1))
    y0, y1 = (min(min(ys), Fraction(0)), max(ys)) if ys else (Fraction(0), Fraction(1))
    if x1 == x0:
        x1 = x0 + 1
    if y1 == y0:
        y1 = y0 + 1

    def sx(x: Fraction) -> float:  # float only for drawing coordinates, never for amounts
        return LEFT + float((x - x0) / (x1 - x0)) * (WIDTH - LEFT - RIGHT)

    def sy(y: Fraction) -> float:
        return HEIGHT - BOTTOM - float((y - y0) / (y1 - y0)) * (HEIGHT - TOP - BOTTOM)

    out = _open(title, desc)
    for y, _ in y_ticks:  # light grid lines, so a value can be read off against the axis
        out.append(f'<line x1="{LEFT}" y1="{_f(sy(y))}" x2="{WIDTH - RIGHT}" y2="{_f(sy(y))}" stroke="#ddd"/>')
    out += [f'<line x1="{LEFT}" y1="{_f(sy(y0))}" x2="{WIDTH - RIGHT}" y2="{_f(sy(y0))}" stroke="black"/>',
            f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{HEIGHT - BOTTOM}" stroke="black"/>']
    for x, text in x_ticks:
        out.append(f'<line x1="{_f(sx(x))}" y1="{HEIGHT - BOTTOM}" x2="{_f(sx(x))}" y2="{HEIGHT - BOTTOM + 4}" '
                   f'stroke="black"/><text x="{_f(sx(x))}" y="{HEIGHT - BOTTOM + 16}" '
                   f'text-anchor="middle">{escape(text)}</text>')
    for y, text in y_ticks:
        out.append(f'<line x1="{LEFT - 4}" y1="{_f(sy(y))}" x2="{LEFT}" y2="{_f(sy(y))}" stroke="black"/>'
                   f'<text x="{LEFT - 6}" y="{_f(sy(y) + 4)}" text-anchor="end">{escape(text)}</text>')
    last_label = None
    for kind, value, text in sorted(marks, key=lambda mark: (mark[0], -mark[1])):
        if kind == "h":
            y = sy(value)
            # a label 12 px or less below the previous one goes under its line, so two never overlap
            label_y = y + 13 if last_label is not None and y - last_label < 14 else y - 4
            last_label = label_y
            out.append(f'<line x1="{LEFT}" y1="{_f(y)}" x2="{WIDTH - RIGHT}" y2="{_f(y)}" '
                       f'stroke="#b00" stroke-dasharray="6 4"/><text x="{WIDTH - RIGHT - 4}" '
                       f'y="{_f(label_y)}" text-anchor="end" fill="#b00">{escape(text)}</text>')
        else:
            out.append(f'<line x1="{_f(sx(value))}" y1="{TOP}" x2="{_f(sx(value))}" y2="{HEIGHT - BOTTOM}" '
                       f'stroke="#06c" stroke-dasharray="3 3"/><text x="{_f(sx(value) + 4)}" y="{TOP + 12}" '
                       f'fill="#06c">{escape(text)}</text>')
    if points:
        path = " ".join(f"{_f(sx(x))},{_f(sy(y))}" for x, y in points)
        out.append(f'<polyline points="{path}" fill="none" stroke="#222" stroke-width="2"/>')
    for i, (label, series, colour) in enumerate(others):
        path = " ".join(f"{_f(sx(x))},{_f(sy(y))}" for x, y in series)
        out.append(f'<polyline points="{path}" fill="none" stroke="{escape(colour)}" stroke-width="2" '
                   f'stroke-dasharray="8 3"/><text x="{LEFT + 8}" y="{TOP + 14 * (i + 1)}" '
                   f'fill="{escape(colour)}">{escape(label)}</text>')
    return _close(out, x_label, y_label)


def _close(out: list[str], x_label: str, y_label: str) -> str:
    """The chart's text: its elements, the axis labels, the end of the SVG."""
    middle = (TOP + HEIGHT - BOTTOM) // 2
    return "\n".join(out + [f'<text x="{(LEFT + WIDTH - RIGHT) // 2}" y="{HEIGHT - 12}" text-anchor="middle">{escape(x_label)}</text>',
            f'<text x="14" y="{middle}" text-anchor="middle" transform="rotate(-90 14 {middle})">{escape(y_label)}</text>', "</svg>"]) + "\n"


def histogram(counts: list[int], edges: list[Fraction], x_label: str, y_label: str, x_text, *,
              title: str, desc: str, colour: str = "#336699") -> str:
    """Bars of `counts` between consecutive `edges` (len(edges) == len(counts) + 1); `x_text` writes an
    edge value for the axis. Used by `sibc simulate` for the distributions of payouts and returns."""
    x_lo, x_hi, x_values = ticks(edges[0], edges[-1]) if edges else (Fraction(0), Fraction(1), [])
    _, y_hi, y_values = ticks(0, max(counts, default=0) or 1)
    width, height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def sx(x: Fraction) -> float:
        return LEFT + float((x - x_lo) / (x_hi - x_lo)) * width

    def sy(y: Fraction) -> float:
        return HEIGHT - BOTTOM - float(Fraction(y) / y_hi) * height

    out = _open(title, desc)
    for y in y_values:
        out.append(f'<line x1="{LEFT}" y1="{_f(sy(y))}" x2="{WIDTH - RIGHT}" y2="{_f(sy(y))}" stroke="#ddd"/>'
                   f'<text x="{LEFT - 6}" y="{_f(sy(y) + 4)}" text-anchor="end">{int(y)}</text>')
    for count, left, right in zip(counts, edges, edges[1:]):
        if count:
            out.append(f'<rect x="{_f(sx(left))}" y="{_f(sy(count))}" width="{_f(max(sx(right) - sx(left), 0.5))}" '
                       f'height="{_f(sy(0) - sy(count))}" fill="{colour}"/>')
    out += [f'<line x1="{LEFT}" y1="{_f(sy(0))}" x2="{WIDTH - RIGHT}" y2="{_f(sy(0))}" stroke="black"/>',
            f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{HEIGHT - BOTTOM}" stroke="black"/>']
    for x in x_values:
        out.append(f'<line x1="{_f(sx(x))}" y1="{HEIGHT - BOTTOM}" x2="{_f(sx(x))}" y2="{HEIGHT - BOTTOM + 4}" '
                   f'stroke="black"/><text x="{_f(sx(x))}" y="{HEIGHT - BOTTOM + 16}" '
                   f'text-anchor="middle">{escape(x_text(x))}</text>')
    return _close(out, x_label, y_label)


def png(svg_text: str, ppi: int = 144) -> bytes:
    """The chart as PNG, rasterised by Typst (already the PDF's typesetter) with its bundled fonts."""
    import tempfile
    from pathlib import Path

    import typst

    with tempfile.TemporaryDirectory(prefix="sibc-chart-") as tmp:
        (Path(tmp) / "chart.svg").write_text(svg_text, encoding="utf-8")
        (Path(tmp) / "main.typ").write_text(
            f'#set page(width: {WIDTH}pt, height: {HEIGHT}pt, margin: 0pt)\n'
            f'#image("chart.svg", width: {WIDTH}pt, height: {HEIGHT}pt)\n', encoding="utf-8")
        return typst.compile(str(Path(tmp) / "main.typ"), root=tmp, format="png", ppi=ppi,
                             ignore_system_fonts=True)


BAR_COLOURS = ("#336699", "#6699cc", "#cc6633", "#333333")


def bars(groups: list[tuple[str, list[Fraction | None]]], series: list[str], x_label: str, y_label: str, y_text, *,
         title: str, desc: str) -> str:
    """Grouped bars (issue 15: the payer's budget by year): per group (a year) one bar per series
    (expected, 90th percentile, worst seen, the proved figure), a legend of the series; a value None
    (no upper limit) draws no bar. Heights are exact amounts; floats only in drawing coordinates."""
    top = max([v for _, values in groups for v in values if v is not None] + [Fraction(1)])
    _, y_hi, y_values = ticks(Fraction(0), Fraction(top))
    width, height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = width / max(len(groups), 1)
    bar = slot * 0.8 / max(len(series), 1)

    def sy(y: Fraction) -> float:
        return HEIGHT - BOTTOM - float(Fraction(y) / y_hi) * height

    out = _open(title, desc)
    for y in y_values:
        out.append(f'<line x1="{LEFT}" y1="{_f(sy(y))}" x2="{WIDTH - RIGHT}" y2="{_f(sy(y))}" stroke="#ddd"/>'
                   f'<text x="{LEFT - 6}" y="{_f(sy(y) + 4)}" text-anchor="end">{escape(y_text(y))}</text>')
    for g, (label, values) in enumerate(groups):
        left = LEFT + g * slot + slot * 0.1
        for s, value in enumerate(values):
            if value is not None and value > 0:
                out.append(f'<rect x="{_f(left + s * bar)}" y="{_f(sy(value))}" width="{_f(bar * 0.9)}" '
                           f'height="{_f(sy(0) - sy(value))}" fill="{BAR_COLOURS[s % len(BAR_COLOURS)]}"/>')
        out.append(f'<text x="{_f(LEFT + g * slot + slot / 2)}" y="{HEIGHT - BOTTOM + 16}" '
                   f'text-anchor="middle">{escape(label)}</text>')
    for s, name in enumerate(series):  # the legend, along the top
        x = LEFT + 8 + s * (width / max(len(series), 1))
        out.append(f'<rect x="{_f(x)}" y="{TOP - 16}" width="10" height="10" '
                   f'fill="{BAR_COLOURS[s % len(BAR_COLOURS)]}"/><text x="{_f(x + 14)}" y="{TOP - 7}">{escape(name)}</text>')
    out += [f'<line x1="{LEFT}" y1="{_f(sy(0))}" x2="{WIDTH - RIGHT}" y2="{_f(sy(0))}" stroke="black"/>',
            f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{HEIGHT - BOTTOM}" stroke="black"/>']
    return _close(out, x_label, y_label)
