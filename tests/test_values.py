"""values.py: exact Decimals of rationals and the contract's rounding rule, checked against Decimal
itself computed with all the digits it needs."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from sibdsl.values import Rounding, to_decimal


def _canonical(value) -> bool:
    """A whole value is an int, a Fraction is never whole (the evaluator's invariant)."""
    return type(value) is int or (type(value) is Fraction and value.denominator != 1)


_MODES = {"half up": ROUND_HALF_UP, "half even": ROUND_HALF_EVEN, "half down": ROUND_HALF_DOWN,
          "up": ROUND_CEILING, "down": ROUND_FLOOR}
_WIDE = Context(prec=200, Emax=10**6, Emin=-10**6)


def _reference(value: Fraction, places: int, mode: str = "half even") -> Decimal:
    """value rounded to `places` decimals by Decimal itself, with all the digits it needs."""
    # 200 digits: a value n/d (|n| < 10^46, d <= 10^15) that is not exactly a tie is at least
    # 10^-28 away from one, so the approximation cannot fall on the wrong side of it
    exact = _WIDE.divide(Decimal(value.numerator), Decimal(value.denominator))
    return exact.quantize(Decimal(1).scaleb(-places), rounding=_MODES[mode], context=_WIDE)


@given(st.integers(-10**45, 10**45), st.integers(1, 10**15), st.sampled_from([0, 2, 6, 12]))
def test_to_decimal_rounds_exactly_half_even_at_any_size(n, d, places):
    value = Fraction(n, d)
    got = to_decimal(value, places)
    assert got == _reference(value, places)
    assert got.as_tuple().exponent == -places  # trailing zeros kept: 0.600000


@given(st.integers(-10**45, 10**45), st.integers(0, 30), st.integers(0, 30))
def test_to_decimal_of_a_finite_decimal_is_exact_however_long(n, twos, fives):
    value = Fraction(n, 2**twos * 5**fives)
    assert Fraction(to_decimal(value)) == value  # the old version kept only 28 significant digits


def test_to_decimal_keeps_the_sign_of_a_rounded_negative_zero_and_quantises_ints():
    assert str(to_decimal(Fraction(-1, 10**7), 6)) == "-0.000000"
    assert str(to_decimal(Fraction(3, 5), 6)) == "0.600000"
    assert str(to_decimal(5, 6)) == "5.000000" and str(to_decimal(-5)) == "-5"
    assert str(to_decimal(Fraction(1, 3))) == "0.333333333333"


@given(st.fractions(min_value=-10**12, max_value=10**12, max_denominator=10**6),
       st.sampled_from(list(_MODES)), st.sampled_from(["1", "0.01", "0.05", "1000", "0.5"]))
def test_rounding_equals_decimal_quantize_on_the_grid(value, mode, step):
    """Rounding to a step = rounding value/step to an integer, by Decimal's own rules (the
    language's `up`/`down` are toward +/- infinity: amounts may be negative on a broken contract)."""
    step_ = Fraction(Decimal(step))
    got = Rounding(Decimal(step), mode).apply(value)
    assert _canonical(got)
    units = _reference(value / step_, 0, mode)
    assert Fraction(got) == Fraction(units) * step_
    if value.denominator == 1:
        assert Rounding(Decimal(step), mode).apply(value.numerator) == got  # an int in, the same out
