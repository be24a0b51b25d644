"""Charts for `sibc simulate`: payout histogram, investor return distribution, payout curve.

Drawn by the same chart module as the council document's payment curve (sibdsl/render/chart.py):
one look, one tick algorithm, SVG written directly (deterministic bytes, no dates, no generated
ids), PNG rasterised from that SVG by Typst. Amounts are binned and averaged on integer öre, so
the axis values are exact; floats appear only in drawing coordinates and in the IRR (a rate).
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np

from .fileio import write_atomic
from .lang import format_money, format_number, texts
from .render import chart

BINS = 60

#: every word the charts write, per language (`sibc simulate --lang`): sibdsl/texts/charts.json
WORDS = texts("charts")


def _save(svg: str, path: Path, fmt: str) -> None:
    write_atomic(path, chart.png(svg) if fmt == "png" else svg.encode("utf-8"))


def _histogram(values: np.ndarray, lo: Fraction, hi: Fraction, scale: int) -> tuple[list[int], list[Fraction]]:
    """Counts of integer `values` (in 1/scale units) in BINS equal bins from the round axis around [lo, hi]."""
    start, end, _ = chart.ticks(lo, hi)
    edges = [start + (end - start) * i / BINS for i in range(BINS + 1)]
    if not len(values):
        return [0] * BINS, edges
    # bin index = floor((v/scale - start) * BINS / (end - start)), in exact integer arithmetic
    num, den = (end - start).numerator, (end - start).denominator
    divisor = num * scale * start.denominator
    biggest = (abs(int(values.min())) + abs(int(values.max()))) * start.denominator + abs(start.numerator) * scale
    if biggest * BINS * den < 2**62:  # fits in int64: vectorised
        offset = values.astype(np.int64) * start.denominator - start.numerator * scale
        index = np.floor_divide(offset * (BINS * den), divisor)
    else:  # Python integers, exact at any size
        index = np.array([(int(v) * start.denominator - start.numerator * scale) * BINS * den // divisor
                          for v in values], dtype=object)
    index = np.clip(index.astype(np.int64) if index.dtype != object else
                    np.array([min(max(int(i), 0), BINS - 1) for i in index], dtype=np.int64), 0, BINS - 1)
    return np.bincount(index, minlength=BINS).tolist(), edges


def write_charts(directory: str | Path, total_oere: np.ndarray, irr: dict[str, np.ndarray],
                 curve: tuple[str, np.ndarray] | None, currency: str, fmt: str = "svg", lang: str = "en") -> list[Path]:
    """Write payout.<fmt>, returns.<fmt> and curve.<fmt> (when there is a curve measure), every
    word and number in `lang`."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    lang = lang if lang in WORDS else "en"
    words = WORDS[lang]

    def money(value: Fraction) -> str:
        return format_money(value, currency, lang, plain=True)

    n = len(total_oere)
    lo = Fraction(int(total_oere.min()), 100) if n else Fraction(0)
    hi = Fraction(int(total_oere.max()), 100) if n else Fraction(1)
    counts, edges = _histogram(total_oere, lo, hi, 100)
    svg = chart.histogram(counts, edges, words["payout_x"].format(currency=currency), words["scenarios"], money,
                          title=words["payout_title"],
                          desc=words["payout_desc"].format(n=n, lo=money(lo), hi=money(hi)))
    _save(svg, out / f"payout.{fmt}", fmt)
    written.append(out / f"payout.{fmt}")

    rates = np.concatenate([r[np.isfinite(r)] for r in irr.values()]) if irr else np.zeros(0)
    # a rate, not an amount: drawn in basis points (1/10,000), which the histogram bins as integers
    bp = np.round(rates * 10_000).astype(np.int64) if len(rates) else np.zeros(0, dtype=np.int64)
    r_lo = Fraction(int(bp.min()), 10_000) if len(bp) else Fraction(0)
    r_hi = Fraction(int(bp.max()), 10_000) if len(bp) else Fraction(1, 10)
    counts, edges = _histogram(bp, r_lo, r_hi, 10_000)
    svg = chart.histogram(counts, edges, words["irr_x"], words["scenarios"],
                          lambda x: format_number(x * 100, lang, max_decimals=2, plain=True) + " %",
                          title=words["irr_title"],
                          desc=words["irr_desc"].format(n=len(bp), investors=", ".join(irr) or words["no_investor"]))
    _save(svg, out / f"returns.{fmt}", fmt)
    written.append(out / f"returns.{fmt}")

    if curve is not None:
        name, x = curve
        order = np.argsort(x, kind="stable")
        bins = [b for b in np.array_split(order, min(100, max(len(order), 1))) if len(b)]
        points = [(Fraction(str(x[b].mean())), Fraction(int(total_oere[b].sum()), 100 * len(b))) for b in bins]
        top = max([y for _, y in points] + [Fraction(1)])
        x_lo, x_hi, x_values = chart.ticks(min(p[0] for p in points), max(p[0] for p in points)) if points else \
            (Fraction(0), Fraction(1), [Fraction(0), Fraction(1)])
        _, _, y_values = chart.ticks(0, top)
        svg = chart.svg(points, name, words["curve_y"].format(currency=currency),
                        [(v, format_number(v, lang, plain=True)) for v in x_values],
                        [(v, money(v)) for v in y_values], [],
                        title=words["curve_title"].format(name=name), desc=words["curve_desc"].format(name=name))
        _save(svg, out / f"curve.{fmt}", fmt)
        written.append(out / f"curve.{fmt}")
    return written


def write_budget_charts(directory: str | Path, budget: dict, currency: str, n: int, fmt: str = "svg",
                        lang: str = "en") -> list[Path]:
    """Issue 15: per payer, `budget-PAYER.<fmt>`: grouped bars per fiscal year of the simulation
    report's `budget` (expected, 90th percentile, worst seen, and the proved figure: a bar at the
    largest possible amount or at the proved upper bound, said which in the description), exact amounts."""
    from decimal import Decimal

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    lang = lang if lang in WORDS else "en"
    words = WORDS[lang]
    written = []

    def money(value: Fraction) -> str:
        return format_money(value, currency, lang, plain=True)

    from .report import proved_words

    for payer, years in budget.items():
        groups = [(year, [None if data[k] is None else Fraction(Decimal(data[k]))
                          for k in ("expected", "p90", "worst", "proved_bound")])
                  for year, data in years.items() if year != "total"]
        said = "; ".join(f"{year}: " + ", ".join("–" if v is None else money(v) for v in values[:3])
                         + ", " + proved_words(data, words, lambda text: money(Fraction(Decimal(text))))
                         for (year, values), data in zip(groups, (d for y, d in years.items() if y != "total")))
        svg = chart.bars(groups, [words[f"budget_{k}"] for k in ("expected", "p90", "worst", "proved")], words["budget_x"], words["budget_y"].format(currency=currency),
                         money, title=words["budget_title"].format(payer=payer),
                         desc=words["budget_desc"].format(n=n, payer=payer, years=said))
        path = out / f"budget-{payer}.{fmt}"
        _save(svg, path, fmt)
        written.append(path)
    return written
