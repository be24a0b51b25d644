"""Investor returns: the internal rate of return (IRR) of an investor's cash flows.

Cash flows are the investments (out, on their dates) and the payment lines to the investor
(in, on their due dates). Time is actual/365 from the first cash flow, as everywhere in the
language (`values.year_fraction`); rates are annual, compounded yearly:

    Σ amountᵢ · (1 + r)^(−tᵢ) = 0

`irr` is exact in the sense that matters for money: the amounts are exact rationals, every
power is computed in 40-digit Decimal arithmetic (`Decimal.ln`/`exp`, correctly rounded), and
r is found by bisection until the bracket is narrower than 10⁻¹², then rounded half-even to
`PLACES` = 8 decimal places (10⁻⁶ percentage points). A float Newton step may propose a
narrow starting bracket, which is used only if the exact NPV changes sign across it, so
floats never decide the result. `irr_many` is the
vectorised float64 version for `sibc simulate`, where the IRR is a statistic over scenarios
(tested against `irr` to 10⁻⁷).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction

PLACES = 8
_WIDTH = Decimal("1e-12")
_LOW, _HIGH = Decimal("-0.999999999999999999999999999999"), Decimal(1000)

CashFlow = tuple[datetime.date, Fraction | int]  # (date, exact amount): negative out, positive in


def _npv(rate: Decimal, flows: Sequence[tuple[Decimal, Decimal]]) -> Decimal:
    log = (1 + rate).ln()
    return sum((amount * (-t * log).exp() for t, amount in flows), Decimal(0))


def irr(cashflows: Sequence[CashFlow]) -> Decimal | None:
    """The annual IRR, or None where it is not defined (no money out, or none in; no sign change).

    An investor who receives nothing back has lost everything: the IRR is −100 %, returned as −1."""
    outs = [a for _, a in cashflows if a < 0]
    ins = [a for _, a in cashflows if a > 0]
    if not outs:
        return None
    if not ins:
        return Decimal(-1)
    start = min(d for d, _ in cashflows)
    with localcontext() as ctx:
        ctx.prec = 40
        flows = [(Decimal((d - start).days) / 365, Decimal(a.numerator) / Decimal(a.denominator))
                 for d, a in cashflows if a != 0]
        lo, hi, f_lo, f_hi = _LOW, _HIGH, None, None
        guess = _newton(flows)  # a float first guess only narrows the bracket; the bracket is checked
        if guess is not None:
            for half in (Decimal("4e-13"), Decimal("1e-9")):
                near_lo, near_hi = Decimal(guess) - half, Decimal(guess) + half
                if not (_LOW < near_lo and near_hi < _HIGH):
                    break
                f_a, f_b = _npv(near_lo, flows), _npv(near_hi, flows)
                if f_a != 0 and f_b != 0 and (f_a > 0) != (f_b > 0):
                    lo, hi, f_lo, f_hi = near_lo, near_hi, f_a, f_b
                    break
        if f_lo is None:
            f_lo, f_hi = _npv(lo, flows), _npv(hi, flows)
        if f_lo == 0:
            return lo.quantize(Decimal(1).scaleb(-PLACES))
        if (f_lo > 0) == (f_hi > 0):
            # no sign change: the rate is below −1 + 10⁻³⁰ (everything lost, to 8 places: −1)
            # or above 1000 (100 000 % a year: not a meaningful figure)
            return Decimal(-1).quantize(Decimal(1).scaleb(-PLACES)) if f_lo < 0 else None
        while hi - lo > _WIDTH:
            mid = (lo + hi) / 2
            f_mid = _npv(mid, flows)
            if f_mid == 0:
                lo = hi = mid
                break
            if (f_mid > 0) == (f_lo > 0):
                lo, f_lo = mid, f_mid
            else:
                hi = mid
        return ((lo + hi) / 2).quantize(Decimal(1).scaleb(-PLACES), ROUND_HALF_EVEN)


def _newton(flows) -> float | None:
    """Newton's method in floats on Σ a·(1+r)^−t: a starting bracket for the exact bisection."""
    fl = [(float(t), float(a)) for t, a in flows]
    r = 0.0
    for _ in range(50):
        try:
            f = sum(a * (1 + r) ** -t for t, a in fl)
            d = sum(-t * a * (1 + r) ** (-t - 1) for t, a in fl)
        except (OverflowError, ZeroDivisionError):
            return None
        if d == 0 or not (f == f):
            return None
        step = f / d
        r -= step
        if r <= -1:
            return None
        if abs(step) < 1e-14:
            return r
    return None


def irr_many(times, invested, received, iterations: int = 60):
    """Vectorised IRR in float64 — a statistic over scenarios, never a money amount.

    times: years (actual/365) of the K cash-flow dates from the first investment; invested: the
    K amounts paid in (positive numbers, the same in every scenario); received: an (N, K) array
    of the amounts paid out to the investor. Returns N rates (NaN where undefined — no root in
    (−0.999999, 1000); −1 where nothing is received).

    When all the money goes in at one date and comes back at one later date (Norrköping: the
    loan in 2016, one settlement in 2019) the rate has a closed form, (R/I)^(1/Δt) − 1; otherwise
    it is found by bisection, `iterations` halvings of the bracket (60: about 10⁻¹⁵)."""
    import numpy as np

    t = np.asarray(times, dtype=float)
    inv = np.asarray(invested, dtype=float)
    rec = np.asarray(received, dtype=float)
    nothing = rec.sum(axis=1) <= 0
    t_out, t_in = np.unique(t[inv != 0]), np.unique(t[rec.any(axis=0)])
    if len(t_out) == 1 and len(t_in) == 1 and t_in[0] > t_out[0]:
        with np.errstate(divide="ignore"):
            rate = (rec.sum(axis=1) / inv.sum()) ** (1 / (t_in[0] - t_out[0])) - 1
        inside = (rate > -0.999999) & (rate < float(_HIGH))  # where bisection would find a root
        return np.where(nothing, -1.0, np.where(inside, rate, np.nan))
    flows = rec - inv[None, :]

    def npv(r):
        return (flows * np.power(1.0 + r[:, None], -t[None, :])).sum(axis=1)

    n = rec.shape[0]
    lo = np.full(n, -0.999999)
    hi = np.full(n, float(_HIGH))
    f_lo = npv(lo)
    f_hi = npv(hi)
    ok = (f_lo > 0) != (f_hi > 0)
    for _ in range(iterations):
        mid = (lo + hi) / 2
        f_mid = npv(mid)
        same = (f_mid > 0) == (f_lo > 0)
        lo = np.where(same, mid, lo)
        f_lo = np.where(same, f_mid, f_lo)
        hi = np.where(same, hi, mid)
    out = np.where(ok, (lo + hi) / 2, np.nan)
    return np.where(nothing, -1.0, out)
