"""The element-wise kernels a compiled plan is made of: int64 and bool arrays in, new arrays out.

A kernel never writes into its arguments — they may be the caller's input arrays, or values
later steps still read — but works in place on the arrays it has just created, so a fused
kernel (`x·k + c`, the rounding formula) costs one numpy pass per operation and one
allocation. Constants and scale factors are bound when the plan is compiled, so a step is one
Python call per block. Overflow is ruled out before a kernel is chosen: the plan has proved
that every intermediate value stays within ±2**62 (expr.py); otherwise it uses the
general path (rarray.py) instead of these.

An operand description is `("a", k)` — the next array argument, multiplied by the integer k to
bring it to the common denominator — or `("c", value)`, an integer constant.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

Operand = tuple[str, int]


def scaled(x, k: int):
    return x if k == 1 else x * k


def affine(k: int, c: int) -> Callable:
    """x·k + c."""
    if c == 0:
        return np.negative if k == -1 else (lambda x: x * k)
    if k == 1:
        return lambda x: x + c

    def run(x):
        t = x * k
        t += c
        return t
    return run


def linear(ka: int, kb: int) -> Callable:
    """x·ka + y·kb (a sum or difference of two values brought to one denominator)."""
    if ka == 1 and kb in (1, -1):
        return np.add if kb == 1 else np.subtract
    if kb == 1 and ka == -1:
        return lambda x, y: y - x

    def run(x, y):
        t = x * ka
        if kb == 1:
            t += y
        elif kb == -1:
            t -= y
        else:
            t += y * kb
        return t
    return run


def binary(ufunc, a: Operand, b: Operand) -> Callable:
    """ufunc(A, B) for two operands, at least one of them an array (minimum, maximum, comparisons)."""
    (ka_kind, ka), (kb_kind, kb) = a, b
    if ka_kind == "a" and kb_kind == "a":
        if ka == kb == 1:
            return ufunc
        return lambda x, y: ufunc(scaled(x, ka), scaled(y, kb))
    if ka_kind == "a":
        return (lambda x: ufunc(x, kb)) if ka == 1 else (lambda x: ufunc(x * ka, kb))
    return (lambda y: ufunc(ka, y)) if kb == 1 else (lambda y: ufunc(ka, y * kb))


def select(t: Operand, o: Operand, blend: bool) -> Callable:
    """where(c, T, O): the condition is the first argument, then T's and O's arrays if any.

    np.where costs 4 ns a scenario when the condition is irregular (a branch per element; 1 ns
    when it is uniform), so a choice is arithmetic instead: T·c (O = 0), O·¬c (T = 0), or the
    blend O + (T − O)·c when the plan has proved T − O fits (`blend`) — about 1.3 ns whatever
    the condition."""
    (tk, tv), (ok, ov) = t, o
    if tk == "c" and ok == "c":
        if ov == 0:
            return lambda c: c * tv
        if not blend:
            return lambda c: np.where(c, tv, ov)

        def run(c):
            r = c * (tv - ov)
            r += ov
            return r
        return run
    if ok == "c" and ov == 0:
        return (lambda c, x: x * c) if tv == 1 else (lambda c, x: x * (c * tv))
    if tk == "c" and tv == 0:
        return (lambda c, y: y * ~c) if ov == 1 else (lambda c, y: y * (~c * ov))
    if not blend:
        if tk == "a" and ok == "a":
            return lambda c, x, y: np.where(c, scaled(x, tv), scaled(y, ov))
        if tk == "a":
            return lambda c, x: np.where(c, scaled(x, tv), ov)
        return lambda c, y: np.where(c, tv, scaled(y, ov))
    if tk == "a" and ok == "a":
        def run(c, x, y):
            y = scaled(y, ov)
            d = x * tv - y if tv != 1 else x - y
            d *= c
            d += y
            return d
        return run
    if tk == "a":
        def run(c, x):
            d = x * tv - ov if tv != 1 else x - ov
            d *= c
            d += ov
            return d
        return run

    def run(c, y):
        y = scaled(y, ov)
        d = tv - y
        d *= c
        d += y
        return d
    return run


def choose(c, t, o):
    """where(c, t, o) for bool arrays, without np.where's branch per element."""
    return (c & t) | (o & ~c)


def rounding(mode: str, k: int, d: int, p: int, sign: int) -> Callable:
    """p · round(x·k / d) in the contract's rounding mode, d > 0 — exactly `Rounding.apply`.

    `sign` is 1 when x ≥ 0 in every scenario, -1 when x ≤ 0, 0 when unknown. With t = 2·x·k + d,
    ⌊t / 2d⌋ rounds halves toward +∞; at an exact half (t a multiple of 2d) the mode may want
    the lower neighbour instead: half up (away from zero) for x < 0, half down (toward zero) for
    x > 0, half even when ⌊t / 2d⌋ is odd. A known sign settles that once: ⌊(t − 1) / 2d⌋
    takes the lower neighbour at every half and only there — three numpy passes in all."""
    if d == 1:
        units = affine(k, 0) if k != 1 else (lambda x: x)
    elif mode == "down":
        def units(x):
            t = scaled(x, k)
            return t // d if t is x else np.floor_divide(t, d, out=t)
    elif mode == "up":
        up = affine(k, d - 1)  # ⌈y / d⌉ = ⌊(y + d − 1) / d⌋

        def units(x):
            t = up(x)
            np.floor_divide(t, d, out=t)
            return t
    else:
        lower = {("half up", 1): False, ("half up", -1): True,
                 ("half down", 1): True, ("half down", -1): False}.get((mode, sign))
        if lower is not None:
            c0 = d - 1 if lower else d

            def units(x):
                t = x * (2 * k)
                t += c0
                np.floor_divide(t, 2 * d, out=t)
                return t
        else:
            def units(x):
                t = x * (2 * k)
                t += d
                n, r = np.divmod(t, 2 * d)
                tie = r == 0
                if mode == "half even":
                    tie &= (n & 1).astype(bool)
                elif mode == "half up":
                    tie &= x < 0
                else:  # half down
                    tie &= x > 0
                n -= tie
                return n
    if p == 1:
        return units

    def times_p(x):
        n = units(x)
        return n * p if n is x else np.multiply(n, p, out=n)
    return times_p


def cut(excess: Operand, lines: Sequence[Operand]) -> Callable:
    """Take an excess from lines, in the order given (the plan passes them last-declared first):
    each line gives what it can, max(min(amount, excess left), 0), as the scalar `_cut` does.
    Stops as soon as no scenario of the block has any excess left; the lines not reached are
    returned unchanged. Returns the new amounts and the excess left (the line total fell by the
    excess taken: excess − excess left)."""
    parts = [excess, *lines]

    def run(*arrays):
        it = iter(arrays)
        values = [scaled(next(it), k) if kind == "a" else k for kind, k in parts]
        size = next(len(v) for v in values if isinstance(v, np.ndarray))
        e, amounts = values[0], values[1:]
        if not isinstance(e, np.ndarray):
            e = np.full(size, e, dtype=np.int64)
        out = []
        done = False
        for j, a in enumerate(amounts):
            if done:
                out.append(a if isinstance(a, np.ndarray) else np.full(size, a, dtype=np.int64))
                continue
            c = np.minimum(a, e)
            np.maximum(c, 0, out=c)
            out.append(np.subtract(a, c))
            e = e - c
            if j + 1 < len(amounts) and not e.max() > 0:
                done = True
        return (*out, e)
    return run


def and_not(a, b):
    """a and not b (a failure mask picked where a condition does not hold)."""
    return a & ~b
