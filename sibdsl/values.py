"""Exact values: rational arithmetic inside, `Decimal` money outside, the contract's rounding rule.

Every amount is a `fractions.Fraction` while a formula is evaluated, so no step loses a
fraction of an öre; amounts become `Decimal` only when the contract's rounding rule is
applied (see docs/language.md, "Rounding"). No float is ever involved.
"""

from __future__ import annotations

import datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
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


@attrs.frozen
class Rounding:
    """Round to a multiple of `step` with `mode`; amounts are non-negative, so up/down are unambiguous."""

    step: Decimal = Decimal(1)
    mode: str = "half up"

    def apply(self, amount: Fraction) -> Fraction:
        """Round an exact amount to the contract's grid, exactly (integer arithmetic only)."""
        step = Fraction(self.step)
        num = amount.numerator * step.denominator  # amount / step = num / den
        den = amount.denominator * step.numerator
        whole, rest = divmod(num, den)  # floor; 0 <= rest < den
        mode = self.mode
        if rest == 0 or mode == "down":
            n = whole
        elif mode == "up":
            n = whole + 1
        elif 2 * rest > den:
            n = whole + 1
        elif 2 * rest < den:
            n = whole
        elif mode == "half up":
            n = whole + 1 if amount >= 0 else whole
        elif mode == "half down":
            n = whole if amount >= 0 else whole + 1
        else:  # half even
            n = whole if whole % 2 == 0 else whole + 1
        return Fraction(n * step.numerator, step.denominator)

    def describe(self) -> str:
        return f"{self.step} ({self.mode})"


def to_decimal(value: Fraction, places: int | None = None) -> Decimal:
    """The exact Decimal of a value that has a finite decimal expansion.

    For other values (1/3) the result is rounded half-even to `places` (default 12) digits;
    amounts in a settlement are always on the rounding grid, so this never rounds money.
    """
    n, d = value.numerator, value.denominator
    d2 = d
    twos = fives = 0
    while d2 % 2 == 0:
        d2 //= 2
        twos += 1
    while d2 % 5 == 0:
        d2 //= 5
        fives += 1
    if d2 == 1:
        scale = max(twos, fives)
        digits = n * (10**scale) // d
        result = Decimal(digits).scaleb(-scale)
        return result if places is None else result.quantize(Decimal(1).scaleb(-places), ROUND_HALF_EVEN)
    places = 12 if places is None else places
    q = Decimal(1).scaleb(-places)
    return (Decimal(n) / Decimal(d)).quantize(q, ROUND_HALF_EVEN)


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
