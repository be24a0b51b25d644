"""Exact rational arrays: `R(num, den)`, an integer numerator array over one positive denominator.

The general path of the vectorised evaluator (the package, __init__.py): element-wise exact operations that
never overflow — a numerator stays int64 while a bound on its magnitude, carried through every
operation, is below 2**62 and becomes a numpy object array of Python ints otherwise; a division
by a value that varies between scenarios gives an object array of `Fraction`s. The compiled
plans (expr.py) use these functions wherever their value ranges cannot rule out an
overflow; the public helpers (`R`, `add`, `mul`, `round_to`, `to_rational`, …) are re-exported by
__init__.py.
"""

from __future__ import annotations

import datetime
import math
from decimal import Decimal
from fractions import Fraction

import numpy as np

from ..values import Rounding

LIMIT = 2**62
_EPOCH = datetime.date(1970, 1, 1).toordinal()


class R:
    """A rational array: num / den, den > 0 a Python int. `bound` ≥ max |num|, or None for object arrays."""

    __slots__ = ("num", "den", "bound")

    def __init__(self, num, den: int = 1, bound: int | None = -1):
        self.num, self.den = num, int(den)
        if bound == -1:
            bound = _bound_of(num)
        self.bound = bound

    # --- representation helpers
    @staticmethod
    def const(value: Fraction | int) -> R:
        value = Fraction(value)
        return R(value.numerator, value.denominator, abs(value.numerator))

    def scaled(self, factor: int) -> R:
        """Same value, denominator × factor."""
        if factor == 1:
            return self
        return _mul_int(self, factor, self.den * factor)

    def fractions(self) -> np.ndarray:
        """Element-wise exact `Fraction`s (object array), for fallbacks and tests."""
        num = np.asarray(self.num)
        if num.dtype == object:
            return np.array([Fraction(x) / self.den for x in num.ravel()], dtype=object).reshape(num.shape) \
                if num.ndim else np.array(Fraction(num.item()) / self.den, dtype=object)
        return np.array([Fraction(int(x), self.den) for x in num.ravel()], dtype=object).reshape(num.shape)

    def value_at(self, i: int) -> Fraction:
        """Scenario i's exact value (a constant is the same in every scenario)."""
        num = self.num
        x = num[i] if isinstance(num, np.ndarray) and num.ndim else (num.item() if isinstance(num, np.ndarray) else num)
        return Fraction(int(x), self.den) if isinstance(x, (int, np.integer)) else Fraction(x) / self.den

    def __repr__(self) -> str:
        return f"R({self.num!r}, {self.den})"


def _bound_of(num) -> int | None:
    if isinstance(num, (int, np.integer)):
        return abs(int(num))
    if isinstance(num, Fraction):
        return None
    num = np.asarray(num)
    if num.dtype == object:
        return None
    if num.size == 0:
        return 0
    return int(max(abs(int(num.max())), abs(int(num.min()))))


def _is_obj(r: R) -> bool:
    return r.bound is None


def _to_object(num):
    if isinstance(num, np.ndarray) and num.dtype != object:
        return num.astype(object)
    return num


def _mul_int(r: R, k: int, den: int) -> R:
    if r.bound is not None and r.bound * abs(k) < LIMIT and abs(k) < LIMIT:  # k itself fits (bound 0)
        return R(r.num * k, den, r.bound * abs(k))
    return R(_to_object(r.num) * k, den, None)


def _obj_fraction(r: R):
    """As a Fraction-valued object array (or a Fraction for a scalar)."""
    if isinstance(r.num, np.ndarray):
        return _to_object(r.num) * Fraction(1, r.den) if r.den != 1 else _to_object(r.num)
    return Fraction(r.num, r.den) if not isinstance(r.num, Fraction) else r.num / r.den


def _align(a: R, b: R) -> tuple[R, R, int]:
    den = math.lcm(a.den, b.den)
    return a.scaled(den // a.den), b.scaled(den // b.den), den


def _is_zero(r: R) -> bool:
    return not isinstance(r.num, np.ndarray) and not isinstance(r.num, Fraction) and r.num == 0


def add(a: R, b: R, sign: int = 1) -> R:
    if _is_zero(b):  # arrays are never changed in place, so a value may be shared
        return a
    if _is_zero(a) and sign > 0:
        return b
    a, b, den = _align(a, b)
    if a.bound is not None and b.bound is not None and a.bound + b.bound < LIMIT:
        return R(a.num + b.num if sign > 0 else a.num - b.num, den, a.bound + b.bound)
    an, bn = _to_object(a.num), _to_object(b.num)
    return R(an + bn if sign > 0 else an - bn, den, None)


def mul(a: R, b: R) -> R:
    if a.bound is not None and b.bound is not None and a.bound * b.bound < LIMIT:
        return _reduce(R(a.num * b.num, a.den * b.den, a.bound * b.bound))
    return _reduce(R(_to_object(a.num) * _to_object(b.num), a.den * b.den, None))


def _reduce(r: R) -> R:
    """Keep denominators small: divide out a common factor when the numerator is a constant."""
    if not isinstance(r.num, np.ndarray) and not isinstance(r.num, Fraction):
        f = Fraction(int(r.num), r.den)
        return R(f.numerator, f.denominator, abs(f.numerator))
    return r


def neg(a: R) -> R:
    return R(-a.num, a.den, a.bound)


def absolute(a: R) -> R:
    return R(abs(a.num), a.den, a.bound)


def compare(a: R, b: R, op: str):
    a, b, _ = _align(a, b)
    an, bn = (a.num, b.num) if (a.bound is not None and b.bound is not None) else (_to_object(a.num), _to_object(b.num))
    result = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal,
              "==": np.equal, "!=": np.not_equal}[op](an, bn)
    return np.asarray(result, dtype=bool) if isinstance(result, np.ndarray) else bool(result)


def where(c, t, o):
    """Choose per scenario; c is a bool array or bool; t and o are R, bool arrays or bools."""
    if isinstance(c, (bool, np.bool_)):
        return t if c else o
    if isinstance(t, R):
        t, o, den = _align(t, o)
        if t.bound is not None and o.bound is not None:
            return R(np.where(c, t.num, o.num), den, max(t.bound, o.bound))
        return R(np.where(c, _to_object(t.num), _to_object(o.num)), den, None)
    return np.where(c, t, o)


def minimum(a: R, b: R) -> R:
    return where(compare(a, b, "<="), a, b)


def maximum(a: R, b: R) -> R:
    return where(compare(a, b, ">="), a, b)


def divide_const(a: R, c: Fraction) -> R:
    """a / c for a nonzero constant c: exact, stays integer."""
    c = Fraction(c)
    p, q = c.numerator, c.denominator
    if p < 0:
        a, p = neg(a), -p
    r = _mul_int(a, q, a.den * p)
    g = math.gcd(q, p)
    if g > 1 and r.bound is not None:  # numerator multiplied by q, den by p: cancel common part
        return R(r.num // g, r.den // g, r.bound // g)
    return r


def round_to(a: R, rounding: Rounding) -> R:
    """Rounding.apply element-wise, exactly: floor division and the remainder against one half."""
    step = Fraction(rounding.step)
    # units = num * q / (den * p)
    p, q = step.numerator, step.denominator
    if a.bound is None and isinstance(a.num, np.ndarray) and a.num.size and isinstance(
            a.num.flat[0], Fraction):
        fn = np.frompyfunc(lambda x: rounding.apply(Fraction(x) / a.den) / step, 1, 1)
        units = fn(a.num).astype(object)
        units = np.array([int(u) for u in units.ravel()], dtype=object).reshape(units.shape)
        return _units(units, p, q)
    top = _mul_int(a, q, 1)
    d = a.den * p
    whole = top.num // d
    rest2 = 2 * (top.num - whole * d)  # 2·remainder, compared with d
    mode = rounding.mode
    if mode == "down":
        n = whole
    elif mode == "up":
        n = whole + (rest2 != 0)
    else:
        above, exact_half = rest2 > d, rest2 == d
        if mode == "half up":
            tie = (top.num >= 0)
        elif mode == "half down":
            tie = (top.num < 0)
        else:  # half even
            tie = (whole % 2 != 0)
        n = whole + (above | (exact_half & tie))
    if isinstance(n, np.ndarray) and n.dtype == bool:
        n = n.astype(np.int64)
    return _units(n, p, q)


def _units(n, p: int, q: int) -> R:
    b = _bound_of(n)
    if b is not None and b * p < LIMIT:
        return R(n * p if p != 1 else n, q, b * p)
    return R(_to_object(n) * p, q, None)


# ---------------------------------------------------------------- inputs
def to_rational(values, size: int | None = None) -> R:
    """An array of outcome numbers (ints, Fractions, Decimals, str) as an exact R."""
    if isinstance(values, R):
        return values
    arr = np.asarray(values)
    if arr.size == 0 and arr.dtype.kind != "O":  # numpy makes [] float64: no value, nothing inexact
        return R(np.zeros(arr.shape, dtype=np.int64), 1, 0)
    if arr.dtype.kind == "i" or (arr.dtype.kind == "u" and int(arr.max()) < 2**63):
        return R(arr.astype(np.int64), 1)
    if arr.dtype.kind == "u":  # above int64: Python ints, never a wrapped value
        arr = arr.astype(object)
    if arr.dtype.kind == "f":
        raise TypeError("floats are not exact: quantise outcomes to integers or Fractions first")
    fr = [Fraction(Decimal(x)) if isinstance(x, (str, Decimal)) else Fraction(x) for x in arr.ravel()]
    den = 1
    for f in fr:
        den = math.lcm(den, f.denominator)
    nums = [f.numerator * (den // f.denominator) for f in fr]
    bound = max((abs(x) for x in nums), default=0)
    if bound < LIMIT:
        return R(np.array(nums, dtype=np.int64).reshape(arr.shape), den, bound)
    return R(np.array(nums, dtype=object).reshape(arr.shape), den, None)


def to_ordinals(values) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype.kind == "M":
        return arr.astype("datetime64[D]").astype(np.int64) + _EPOCH
    return np.array([d.toordinal() for d in arr.ravel()], dtype=np.int64)
