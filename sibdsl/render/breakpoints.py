"""Where a payment curve changes its course: the outcomes at which the worked examples belong.

The payout of a contract is piecewise linear in one outcome (sums, shares, min/max, caps and floors)
with steps (tables, conditions), rounded to the contract's rounding step. `breakpoints` evaluates
the curve on a grid, exactly (Fractions), finds the grid cells where the slope changes by more than
rounding can explain, and locates each change exactly: a kink where the straight lines on either
side meet, a step by bisection to the simplest number in the last interval. The evaluation is the
one that settles the contract, so the examples printed at these points are what would be paid.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction

Curve = Callable[[Fraction], "tuple[Fraction, ...] | None"]  # (total, each payment) at an outcome


def simplest_between(lo: Fraction, hi: Fraction) -> Fraction:
    """The roundest number in [lo, hi]: the fewest significant digits, e.g. 8.5 % rather than 8.49999… %."""
    if hi <= lo:
        return hi
    k = math.floor(math.log10(float(hi - lo)))
    for exponent in range(k + 20, k - 30, -1):
        step = Fraction(10) ** exponent
        candidate = -((-lo / step).__floor__()) * step  # the first multiple of step at or above lo
        if candidate <= hi:
            return candidate
    return hi


def breakpoints(curve: Curve, lo: Fraction, hi: Fraction, tolerance: Fraction, *, samples: int = 160,
                integer: bool = False, depth: int = 4) -> list[Fraction]:
    """The outcomes in [lo, hi] where any component of `curve` (the total, each payment) bends or
    steps, ascending. `tolerance` is the most that rounding can move a value; `curve` returns None
    where the contract cannot be settled. For a whole
    number (`integer`) a step gives both its sides: the last value before it and the first after."""
    found = sorted(set(_find(curve, Fraction(lo), Fraction(hi), tolerance, samples, depth, integer)))
    return [x for x in found if lo <= x <= hi]


def _find(curve: Curve, lo: Fraction, hi: Fraction, tolerance: Fraction, samples: int, depth: int,
          integer: bool) -> list[Fraction]:
    if hi <= lo:
        return []
    xs = [lo + (hi - lo) * i / samples for i in range(samples + 1)]
    values = [curve(x) for x in xs]
    width = max((len(v) for v in values if v is not None), default=0)
    flags: dict[int, set[int]] = {}  # grid point → the components that change course there
    for c in range(width):
        ys = [None if v is None else v[c] for v in values]
        for i in range(1, samples):
            if None not in (ys[i - 1], ys[i], ys[i + 1]) and abs(ys[i + 1] - 2 * ys[i] + ys[i - 1]) > tolerance:
                flags.setdefault(i, set()).add(c)
    clusters: list[list[int]] = []
    for i in sorted(flags):
        if clusters and i - clusters[-1][-1] <= 1:
            clusters[-1].append(i)
        else:
            clusters.append([i])
    found: list[Fraction] = []
    for cluster in clusters:
        if len(cluster) > 2 and depth > 0:  # two changes close together: look closer
            found += _find(curve, xs[cluster[0] - 1], xs[cluster[-1] + 1], tolerance, 60, depth - 1, integer)
            continue
        for c in sorted(set().union(*(flags[i] for i in cluster))):
            mine = [i for i in cluster if c in flags[i]]
            ys = [None if v is None else v[c] for v in values]

            def component(x: Fraction, c=c):
                v = curve(x)
                return None if v is None else v[c]

            found += _locate(component, xs, ys, mine[0], mine[-1], tolerance, integer)
    return found


def _line(xs, ys, i: int, j: int) -> tuple[Fraction, Fraction]:
    slope = (ys[j] - ys[i]) / (xs[j] - xs[i])
    return slope, ys[i] - slope * xs[i]


def _locate(curve: Curve, xs, ys, a: int, b: int, tolerance: Fraction, integer: bool) -> list[Fraction]:
    """The exact place of the change flagged at grid points a..b: [] if there is none after all."""
    left = _line(xs, ys, a - 1, a)
    right = _line(xs, ys, b, b + 1) if b + 1 < len(xs) else None
    if right is not None and left[0] != right[0]:
        x = (right[1] - left[1]) / (left[0] - right[0])
        if xs[a - 1] <= x <= xs[b + 1]:
            y = curve(x)
            if y is not None and abs(y - (left[0] * x + left[1])) <= tolerance:
                # a kink: the two straight lines meet on the curve
                return [Fraction(round(x))] if integer else [x]
    # a step: the first point off the left line, by bisection
    below, above = xs[a - 1], xs[min(b + 1, len(xs) - 1)]

    def on_left(x: Fraction) -> bool:
        y = curve(x)
        return y is not None and abs(y - (left[0] * x + left[1])) <= tolerance

    if on_left(above):
        return []
    for _ in range(48):  # 2^-48 of a grid cell: far below any round number a contract writes
        middle = (below + above) / 2
        if on_left(middle):
            below = middle
        else:
            above = middle
    point = simplest_between(below, above)
    if integer:  # the last whole number on the old course and the first on the new one
        last = Fraction(math.floor(point))
        return [last, last + 1] if on_left(last) else [last - 1, last]
    return [point]
