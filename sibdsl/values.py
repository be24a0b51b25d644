"""Exact values: rational arithmetic inside, `Decimal` money outside, the contract's rounding rule.

Every amount is a `fractions.Fraction` while a formula is evaluated, so no step loses a
fraction of an öre; amounts become `Decimal` only when the contract's rounding rule is
applied (see docs/language.md, "Rounding"). No float is ever involved.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable
from decimal import (MAX_EMAX, MAX_PREC, MIN_EMIN, ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_DOWN, ROUND_HALF_EVEN,
                     ROUND_HALF_UP, Context, Decimal)
from fractions import Fraction

import attrs

ROUNDING_MODES = {
    "half up": ROUND_HALF_UP,
    "half even": ROUND_HALF_EVEN,
    "half down": ROUND_HALF_DOWN,
    "up": ROUND_CEILING,
    "down": ROUND_FLOOR,
}

Value = Fraction | bool | datetime.date


def whole(value):
    """A whole Fraction as an int (bools, ints, dates and other Fractions unchanged)."""
    if type(value) is Fraction and value.denominator == 1:
        return value.numerator
    return value


def exact(value):
    """A number as a Fraction, for callers that expect the model's types (bools stay bools)."""
    return Fraction(value) if type(value) is int else value


def divide(a, b):
    """a / b exactly: an int when the quotient is whole, else a Fraction; never a float.
    The caller guarantees b != 0."""
    if type(a) is int and type(b) is int:
        q, r = divmod(a, b)
        return q if r == 0 else Fraction(a, b)
    return whole(a / b)  # a Fraction is involved: Fraction arithmetic, exact


@attrs.frozen
class Rounding:
    """Round to a multiple of `step` with `mode`; amounts are non-negative, so up/down are unambiguous."""

    step: Decimal = Decimal(1)
    mode: str = "half up"

    def apply(self, amount: Fraction | int) -> Fraction | int:
        """Round an exact amount to the contract's grid, exactly (integer arithmetic only).

        An int comes back for a whole result (the evaluator keeps whole amounts as ints), else
        a Fraction."""
        return rounder(self.step, self.mode)(amount)

    def describe(self) -> str:
        return f"{self.step} ({self.mode})"


@functools.cache
def rounder(step: Decimal, mode: str) -> Callable[[Fraction | int], Fraction | int]:
    """`Rounding(step, mode).apply` as a function built once per rule: the evaluator calls it for
    every line, so the step's ratio and the mode are looked up here, not on every call."""
    p, q = Fraction(step).as_integer_ratio()  # step = p / q
    if mode not in ROUNDING_MODES:
        raise ValueError(f"unknown rounding mode {mode!r}")

    def apply(amount: Fraction | int) -> Fraction | int:
        if type(amount) is int:
            if q == 1 and amount % p == 0:  # already on the grid: the common case
                return amount
            num, den = amount * q, p
        else:
            num = amount.numerator * q  # amount / step = num / den
            den = amount.denominator * p
        whole, rest = divmod(num, den)  # floor; 0 <= rest < den
        if rest == 0 or mode == "down":
            n = whole
        elif mode == "up":
            n = whole + 1
        elif 2 * rest > den:
            n = whole + 1
        elif 2 * rest < den:
            n = whole
        elif mode == "half up":
            n = whole + 1 if num >= 0 else whole
        elif mode == "half down":
            n = whole if num >= 0 else whole + 1
        else:  # half even
            n = whole if whole % 2 == 0 else whole + 1
        if q == 1:
            return n * p
        result = Fraction(n * p, q)
        return result.numerator if result.denominator == 1 else result
    apply.rule = (p, q, mode)  # what generated.py writes inline for it (held to `apply` by its tests)
    return apply


# Decimal operations on amounts run in this context so that no digit is lost however long the
# amount (the default context keeps 28 significant digits, and the caller's context is theirs).
EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)


def to_decimal(value: Fraction | int, places: int | None = None) -> Decimal:
    """The exact Decimal of a value that has a finite decimal expansion; with `places`, the value
    rounded half-even to that many decimals (trailing zeros kept: 0.600000).

    A value without a finite expansion (1/3) is rounded half-even to `places` (default 12)
    decimals; amounts in a settlement are always on the rounding grid, so money is never
    rounded here. Integer arithmetic throughout: this is on the evaluator's hot path."""
    if type(value) is int:
        if places is None:
            return Decimal(value)
        return Decimal(value * 10**places).scaleb(-places, EXACT)
    n, d = value.numerator, value.denominator
    if places is None:
        d2, scale = d, 0  # d = 2^a·5^b·d2: the expansion is finite iff d2 == 1, with max(a, b) digits
        while d2 % 10 == 0:
            d2 //= 10
            scale += 1
        twos = fives = 0
        while d2 % 2 == 0:
            d2 //= 2
            twos += 1
        while d2 % 5 == 0:
            d2 //= 5
            fives += 1
        if d2 == 1:
            scale += max(twos, fives)
            return Decimal(n * 10**scale // d).scaleb(-scale, EXACT)
        places = 12
    q, r = divmod(n * 10**places, d)  # value·10^places = q + r/d, 0 <= r < d
    if 2 * r > d or (2 * r == d and q % 2):
        q += 1
    result = Decimal(q).scaleb(-places, EXACT)
    return result.copy_negate() if q == 0 and n < 0 else result  # −0.000000, as Decimal rounds it


def is_exact_decimal(value: Fraction) -> bool:
    d = value.denominator
    for p in (2, 5):
        while d % p == 0:
            d //= p
    return d == 1


def fraction(value: Decimal | int | str) -> Fraction:
    """Exact conversion; refuses floats so none can slip onto a money path."""
    if isinstance(value, float):
        raise TypeError("floats are not allowed for amounts; use Decimal or str")
    return Fraction(Decimal(value)) if isinstance(value, str) else Fraction(value)


def year_fraction(start: datetime.date, end: datetime.date) -> Fraction:
    """Years between two dates, actual/365 fixed (documented in docs/language.md)."""
    return Fraction((end - start).days, 365)


def growth_factor(rate: Fraction, years: Fraction, compound: bool) -> Fraction:
    """1 + r·t (simple) or (1 + r)^⌊t⌋ · (1 + r·frac(t)) (compound yearly): exact rationals."""
    if not compound:
        return 1 + rate * years
    whole = years.numerator // years.denominator
    return (1 + rate) ** whole * (1 + rate * (years - whole))
