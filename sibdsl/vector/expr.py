"""Compiling a contract's expressions into array steps, with the value ranges that decide how.

In: a checked contract (model.py) and the *signature* of one call's inputs (vector.prepare) —
per measure and period, "bool", a constant, "general", or the denominator of its int64
numerators and the range they lie in. Out, through `Compiler`: steps over a block's arrays, and
at the end (`Compiler.finish`) the `Plan` (plan.py). settle.py drives the compiler
through the order of application.

Why compile instead of walking the model tree on every call: what does not depend on the
scenario is decided once. Constants are folded; every value has a denominator known in
advance, so aligning two values is a multiplication by a constant bound into the step; and
every int64 numerator carries exact bounds [lo, hi] derived from the inputs' ranges (interval
arithmetic, each rule written next to its operation). The bounds

* make overflow checks static: a value whose bounds might leave ±2**62 is computed on the
  general path (rarray.py: object arrays of Python ints, Fractions) — never silently wrapped;
* choose the three-pass rounding formula when the sign of what is rounded is known;
* drop a comparison, min/max, gate, floor, cap, cut or negativity check that cannot act for
  inputs in the range. For Norrköping the 12 MSEK cap and the 8 % return limit never act: the
  bounds of the total, carried through each step of the order of application, show it.

The bounds are sound for the batch at hand, never a proof about the contract (`sibc verify`).
A step that computes what an earlier one did reuses its result; steps nothing uses are
removed; a block frees each value after its last use (`Compiler.schedule`).

Semantics are the scalar evaluator's (evaluate.py), exactly: the order of application, the
rounding rule, cuts in reverse order of declaration; a division by zero marks the scenarios
where it lies on the path taken as failed (E602) instead of raising, because both branches of
an `if` are computed for every scenario.
"""

from __future__ import annotations

import datetime
import math
import operator
from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import TYPE_CHECKING

import attrs
import numpy as np

from .. import model as m
from . import rarray as ra
from . import kernels as k
from .plan import SIZE, Out, Plan, PlanLine

if TYPE_CHECKING:
    from ..values import Rounding

LIMIT = ra.LIMIT


def fits_int64(*xs: int) -> bool:
    return all(-LIMIT < x < LIMIT for x in xs)


# ---------------------------------------------------------------- what the plan knows of a value
@attrs.frozen
class Num:
    """A number per scenario as known before any scenario is seen: a constant (`const`); int64
    numerators over the static `den`, each in [lo, hi], held in `slot` — times `scale`: a
    multiplication by a constant is left to the step that uses the value, which folds it into
    its own operation (x·60 − y·61 is one kernel, not two); or, `lo` None, a general value — the
    slot holds an `R` (object arrays or Fractions; rarray.py)."""

    den: int = 1
    lo: int | None = None
    hi: int | None = None
    const: Fraction | None = None
    slot: int | None = None
    scale: int = 1  # the numerators are the slot's array × scale, a factor not yet multiplied in

    @property
    def general(self) -> bool:
        return self.lo is None

    def bounds(self) -> tuple[Fraction, Fraction] | None:
        """The smallest and largest value, or None for a general value."""
        return None if self.lo is None else (Fraction(self.lo, self.den), Fraction(self.hi, self.den))


@attrs.frozen
class Bool:
    """A condition per scenario: a constant, or a bool array in `slot`."""

    const: bool | None = None
    slot: int | None = None


FALSE, TRUE = Bool(False), Bool(True)


def const(value) -> Num:
    v = Fraction(value)
    return Num(v.denominator, v.numerator, v.numerator, v)


ZERO = const(0)
_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
_CMP = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
        "==": operator.eq, "!=": operator.ne}
_UFUNC = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal,
          "==": np.equal, "!=": np.not_equal}


# ---------------------------------------------------------------- the compiler
@attrs.define
class _Step:
    run: Callable[[list], None]
    ins: tuple[int, ...]
    outs: tuple[int, ...]
    what: str = ""


def _closure(kernel: Callable, ins: tuple[int, ...], outs: tuple[int, ...]) -> Callable[[list], None]:
    if len(outs) > 1:
        def run(f):
            for o, value in zip(outs, kernel(*[f[i] for i in ins])):
                f[o] = value
        return run
    (o,) = outs
    if len(ins) == 1:
        (a,) = ins

        def run(f):
            f[o] = kernel(f[a])
    elif len(ins) == 2:
        a, b = ins

        def run(f):
            f[o] = kernel(f[a], f[b])
    else:
        def run(f):
            f[o] = kernel(*[f[i] for i in ins])
    return run


class Size:
    """Marks the block's size as an argument of a general step."""


class Compiler:
    """Emits the steps of one plan: the arithmetic of Num and Bool values with their bounds,
    the contract's expressions (`expr`), and at the end the plan itself (`finish`).
    settle.py drives it through the order of application."""

    def __init__(self, contract: m.Contract, signature: Mapping[tuple, tuple]):
        self.contract = contract
        self.rounding = contract.rounding
        self.signature = signature
        self.constants = {n: i.amount for n, i in contract.investments.items()}
        self.constants.update({n: Fraction(c.size) for n, c in contract.cohorts.items()})
        self.steps: list[_Step] = []
        self.nslots = 1
        self.inputs: list[tuple[int, tuple]] = []
        self.cache: dict = {}
        self.divisions: list[tuple[m.Op, Bool]] = []
        self.memo: dict[tuple, int] = {}

    # ------------------------------------------------------------ emitting
    def emit(self, kernel: Callable, ins, what: str, nout: int = 1, key: tuple | None = None):
        """A step: kernel(*arrays of `ins`) → the new slot(s); `what` names it in `Plan.listing`.
        `key` says exactly what a pure step computes — a tag per kind of step, its constants and
        its argument slots: the same key again reuses the result (the total of the same lines,
        a condition tested twice)."""
        if key is not None and key in self.memo:
            return self.memo[key]
        outs = tuple(range(self.nslots, self.nslots + nout))
        self.nslots += nout
        ins = tuple(ins)
        assert ins, "a step with no array argument is a constant"
        self.steps.append(_Step(_closure(kernel, ins, outs), ins, outs, what))
        result = outs if nout > 1 else outs[0]
        if key is not None:
            self.memo[key] = result
        return result

    def general(self, fn: Callable, *operands, kinds: tuple[str, ...] = ("num",)):
        """fn over R values (rarray.py), for what the bounds cannot keep within int64. Operands:
        Num and Bool values, `Size`, or constants passed as they are."""
        ins, wraps = [], []
        for x in operands:
            if isinstance(x, Num) and x.const is not None:
                wraps.append(("k", ra.R.const(x.const)))
            elif isinstance(x, Num) and not x.general:
                ins.append(x.slot)
                wraps.append(("r", (x.den, max(abs(x.lo), abs(x.hi)), x.scale)))
            elif isinstance(x, (Num, Bool)) and x.slot is not None:
                ins.append(x.slot)
                wraps.append(("g", None))
            elif x is Size:
                ins.append(SIZE)
                wraps.append(("g", None))
            else:
                wraps.append(("k", x.const if isinstance(x, Bool) else x))

        def kernel(*arrays):
            it = iter(arrays)
            args = [v if kind == "k" else next(it) if kind == "g"
                    else ra.R(k.scaled(next(it), v[2]), v[0], v[1]) for kind, v in wraps]
            return fn(*args)

        slots = self.emit(kernel, ins, f"general {fn.__name__.strip('_')}", len(kinds))
        slots = slots if len(kinds) > 1 else (slots,)
        values = tuple(Num(slot=s) if kind == "num" else Bool(slot=s) for s, kind in zip(slots, kinds))
        return values if len(kinds) > 1 else values[0]

    @staticmethod
    def operand(x: Num, den: int) -> tuple[int, int, tuple[str, int], int | None]:
        """x's numerator at denominator den: (lo, hi, kernel operand, slot or None)."""
        if x.const is not None:
            c = int(x.const * den)
            return c, c, ("c", c), None
        f = den // x.den
        return x.lo * f, x.hi * f, ("a", f * x.scale), x.slot

    @staticmethod
    def common(*operands: tuple[str, int]) -> tuple[int, list[tuple[str, int]]]:
        """The positive factor F common to the operands' factors and constants, and the operands
        divided by it: a sum, min, max or choice of them is F × the same of the reduced ones,
        and F stays a scale of the result instead of a multiplication — when that spares the
        kernel multiplying an array (for where(c, 4 000 000, 0) it would only move the
        multiplication into every step that uses the result)."""
        g = 0
        for _, v in operands:
            g = math.gcd(g, v)
        if g <= 1 or all(abs(v) == 1 for kind, v in operands if kind == "a"):
            return 1, list(operands)  # no multiplication of an array saved: keep the constants
        return g, [(kind, v // g) for kind, v in operands]

    def materialize(self, x: Num) -> Num:
        """x with its scale multiplied in (for a result, or a step that cannot fold it)."""
        if x.scale == 1 or x.const is not None or x.general:
            return x
        slot = self.emit(k.affine(x.scale, 0), [x.slot], f"·{x.scale}", key=("affine", x.scale, 0, x.slot))
        return attrs.evolve(x, slot=slot, scale=1)

    @staticmethod
    def narrow(x: Num, bounds: tuple[Fraction | None, Fraction | None]) -> Num:
        """x with bounds known from the semantics (e.g. a cap's result is at most the cap)."""
        if x.general or x.const is not None:
            return x
        lo, hi = bounds
        new_lo = x.lo if lo is None else max(x.lo, math.ceil(lo * x.den))
        new_hi = x.hi if hi is None else min(x.hi, math.floor(hi * x.den))
        return attrs.evolve(x, lo=new_lo, hi=new_hi) if new_lo <= new_hi else x

    # ------------------------------------------------------------ numbers
    def add(self, a: Num, b: Num, sign: int = 1) -> Num:
        if a.const is not None and b.const is not None:
            return const(a.const + sign * b.const)
        if b.const == 0:
            return a
        if a.const == 0:
            return b if sign > 0 else self.neg(b)
        if a.general or b.general:
            return self.general(ra.add, a, b, sign)
        den = math.lcm(a.den, b.den)
        alo, ahi, (akind, ka), sa = self.operand(a, den)
        blo, bhi, (bkind, kb), sb = self.operand(b, den)
        if sign < 0:
            blo, bhi, kb = -bhi, -blo, -kb
        lo, hi = alo + blo, ahi + bhi  # [a.lo + b.lo, a.hi + b.hi]
        if not fits_int64(alo, ahi, blo, bhi, lo, hi, ka, kb):  # the kernel's factors too: x·ka in int64
            return self.general(ra.add, a, b, sign)
        f, ((_, ka), (_, kb)) = self.common((akind, ka), (bkind, kb))
        if akind == "c":
            ka, kb, sa, sb = kb, ka, sb, sa
        if akind == "c" or bkind == "c":  # x·ka + c
            slot = self.emit(k.affine(ka, kb), [sa], f"·{ka} + {kb}", key=("affine", ka, kb, sa))
        else:
            slot = self.emit(k.linear(ka, kb), [sa, sb], f"·{ka} + ·{kb}", key=("linear", ka, kb, sa, sb))
        return Num(den, lo, hi, slot=slot, scale=f)

    def neg(self, a: Num) -> Num:
        if a.const is not None:
            return const(-a.const)
        if a.general:
            return self.general(ra.neg, a)
        return attrs.evolve(a, lo=-a.hi, hi=-a.lo, scale=-a.scale)  # no step: a scale of −1

    def absolute(self, a: Num) -> Num:
        if a.const is not None:
            return const(abs(a.const))
        if a.general:
            return self.general(ra.absolute, a)
        if a.lo >= 0:
            return a
        if a.hi <= 0:
            return self.neg(a)
        slot = self.emit(np.abs, [a.slot], "abs", key=("abs", a.slot))
        return Num(a.den, 0, max(-a.lo, a.hi), slot=slot, scale=abs(a.scale))

    def mul(self, a: Num, b: Num) -> Num:
        if a.const is not None and b.const is not None:
            return const(a.const * b.const)
        if a.general or b.general:
            return self.general(ra.mul, a, b)
        if a.const is not None:
            a, b = b, a
        if b.const is not None:
            # x/d · p/q = x·p / (d·q), with the common factor of p and d·q divided out at once
            if b.const == 0:
                return ZERO
            p, q = b.const.numerator, a.den * b.const.denominator
            g = math.gcd(p, q)
            p, q = p // g, q // g
            lo, hi = sorted((a.lo * p, a.hi * p))
            if not fits_int64(lo, hi, a.scale * p):
                return self.general(ra.mul, a, b)
            return Num(q, lo, hi, slot=a.slot, scale=a.scale * p)  # no step: the user of it multiplies
        corners = (a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi)
        lo, hi = min(corners), max(corners)
        if not fits_int64(lo, hi, a.scale * b.scale):
            return self.general(ra.mul, a, b)
        slot = self.emit(np.multiply, [a.slot, b.slot], "×", key=("×", *sorted((a.slot, b.slot))))
        return Num(a.den * b.den, lo, hi, slot=slot, scale=a.scale * b.scale)

    def divide(self, e: m.Op, a: Num, b: Num) -> tuple[Num, Bool]:
        if b.const is not None:
            if b.const == 0:
                self.divisions.append((e, TRUE))
                return ZERO, TRUE
            return self.mul(a, const(1 / b.const)), FALSE
        value, zero = self.general(_divide_varying, a, b, kinds=("num", "bool"))
        self.divisions.append((e, zero))
        return value, zero

    def extreme(self, op: str, a: Num, b: Num) -> Num:
        """min or max of two values (Python's min/max keep the first of equal values: same value)."""
        if a.const is not None and b.const is not None:
            return const(min(a.const, b.const) if op == "min" else max(a.const, b.const))
        if a.general or b.general:
            return self.general(ra.minimum if op == "min" else ra.maximum, a, b)
        den = math.lcm(a.den, b.den)
        alo, ahi, oa, sa = self.operand(a, den)
        blo, bhi, ob, sb = self.operand(b, den)
        if op == "min":
            if ahi <= blo:
                return a
            if bhi <= alo:
                return b
            lo, hi, ufunc = min(alo, blo), min(ahi, bhi), np.minimum
        else:
            if alo >= bhi:
                return a
            if blo >= ahi:
                return b
            lo, hi, ufunc = max(alo, blo), max(ahi, bhi), np.maximum
        if not fits_int64(alo, ahi, blo, bhi, oa[1], ob[1]):
            return self.general(ra.minimum if op == "min" else ra.maximum, a, b)
        f, (oa, ob) = self.common(oa, ob)  # min(x·f, c·f) = f·min(x, c) for f > 0
        slot = self.emit(k.binary(ufunc, oa, ob), [s for s in (sa, sb) if s is not None], op,
                         key=("extreme", op, oa, ob, sa, sb))
        return Num(den, lo, hi, slot=slot, scale=f)

    def compare(self, a: Num, b: Num, op: str) -> Bool:
        if a.const is not None and b.const is not None:
            return Bool(_CMP[op](a.const, b.const))
        if a.general or b.general:
            return self.general(ra.compare, a, b, op, kinds=("bool",))
        den = math.lcm(a.den, b.den)
        alo, ahi, oa, sa = self.operand(a, den)
        blo, bhi, ob, sb = self.operand(b, den)
        always = {"<": ahi < blo, "<=": ahi <= blo, ">": alo > bhi, ">=": alo >= bhi,
                  "==": alo == ahi == blo == bhi, "!=": ahi < blo or bhi < alo}[op]
        never = {"<": alo >= bhi, "<=": alo > bhi, ">": ahi <= blo, ">=": ahi < blo,
                 "==": ahi < blo or bhi < alo, "!=": alo == ahi == blo == bhi}[op]
        if always or never:
            return TRUE if always else FALSE
        if oa[0] == "c":
            (oa, sa), (ob, sb), op = (ob, sb), (oa, sa), _FLIP[op]
        if ob[0] == "c":
            # x·f OP c ⟺ x OP' c' for integer x: compare without scaling the array
            f, c = oa[1], ob[1]
            if f < 0:  # −x·|f| OP c ⟺ x·|f| OP⁻¹ −c
                f, c, op = -f, -c, _FLIP[op]
            if op in ("==", "!=") and c % f:
                return FALSE if op == "==" else TRUE
            c2 = -(-c // f) if op in ("<", ">=") else c // f
            ufunc = _UFUNC[op]
            slot = self.emit(lambda x: ufunc(x, c2), [sa], f"{op} {c2}", key=("compare", op, c2, sa))
            return Bool(slot=slot)
        if not fits_int64(alo, ahi, blo, bhi, oa[1], ob[1]):
            return self.general(ra.compare, a, b, op, kinds=("bool",))
        _, (oa, ob) = self.common(oa, ob)
        slot = self.emit(k.binary(_UFUNC[op], oa, ob), [sa, sb], op, key=("compare", op, oa, ob, sa, sb))
        return Bool(slot=slot)

    def where(self, c: Bool, t: Num, o: Num) -> Num:
        if c.const is not None:
            return t if c.const else o
        if t == o:
            return t
        if t.general or o.general:
            return self.general(ra.where, c, t, o)
        den = math.lcm(t.den, o.den)
        tlo, thi, ot, st = self.operand(t, den)
        olo, ohi, oo, so = self.operand(o, den)
        if not fits_int64(tlo, thi, olo, ohi, ot[1], oo[1]):
            return self.general(ra.where, c, t, o)
        blend = fits_int64(tlo - ohi, thi - olo)  # O + (T − O)·c stays within int64
        f, (ot, oo) = self.common(ot, oo)
        ins = [c.slot] + [s for s in (st, so) if s is not None]
        slot = self.emit(k.select(ot, oo, blend), ins, "where", key=("where", ot, oo, st, so, c.slot))
        return Num(den, min(tlo, olo), max(thi, ohi), slot=slot, scale=f)

    def round(self, x: Num, rounding: Rounding | None = None) -> Num:
        """The contract's rounding rule (Rounding.apply) on every scenario (or `rounding`)."""
        rnd = rounding or self.rounding
        if x.const is not None:
            return const(rnd.apply(x.const))
        if x.general:
            return self.general(ra.round_to, x, rnd)
        step = Fraction(rnd.step)
        p, q = step.numerator, step.denominator
        if p == 1 and q % x.den == 0:  # every value is on the grid already
            return x
        d = x.den * p  # units = x·q / d
        lo = rnd.apply(Fraction(x.lo, x.den)) / step * p  # rounding is monotone: round the bounds
        hi = rnd.apply(Fraction(x.hi, x.den)) / step * p
        if not fits_int64(2 * x.lo * q - 2 * d, 2 * x.hi * q + 2 * d, lo, hi):
            return self.general(ra.round_to, x, rnd)
        if x.scale < 0:  # the kernel tells halves by the sign of its argument
            x = self.materialize(x)
        sign = 1 if x.lo >= 0 else -1 if x.hi <= 0 else 0
        kq = q * x.scale
        slot = self.emit(k.rounding(rnd.mode, kq, d, 1, sign), [x.slot], f"round {rnd.mode} ·{kq}/{d}",
                         key=("round", rnd.mode, kq, d, sign, x.slot))
        return Num(q, int(lo), int(hi), slot=slot, scale=p)  # units × p: the step's numerator

    def trunc(self, days: Num) -> Num:
        """int(days): truncation toward zero, as timedelta(days=int(days)) in the scalar path."""
        if days.const is not None:
            return const(int(days.const))
        if days.general:
            return self.general(_trunc, days)
        if days.den == 1:
            return days
        days = self.materialize(days)
        d = days.den
        lo, hi = int(Fraction(days.lo, d)), int(Fraction(days.hi, d))
        if days.lo >= 0:
            return Num(1, lo, hi, slot=self.emit(lambda x: x // d, [days.slot], "trunc"))
        if days.hi <= 0:
            return Num(1, lo, hi, slot=self.emit(lambda x: -((-x) // d), [days.slot], "trunc"))
        slot = self.emit(lambda x: np.where(x >= 0, x // d, -((-x) // d)), [days.slot], "trunc")
        return Num(1, lo, hi, slot=slot)

    # ------------------------------------------------------------ conditions
    def band(self, a: Bool, b: Bool) -> Bool:
        return self._logic(a, b, False, np.logical_and, "and")

    def bor(self, a: Bool, b: Bool) -> Bool:
        return self._logic(a, b, True, np.logical_or, "or")

    def _logic(self, a: Bool, b: Bool, absorbing: bool, ufunc, name: str) -> Bool:
        """a and b (absorbing False) or a or b (absorbing True), folding what is known."""
        if a.const is absorbing or b.const is absorbing:
            return Bool(absorbing)
        if a.const is (not absorbing) or a == b:
            return b
        if b.const is (not absorbing):
            return a
        return Bool(slot=self.emit(ufunc, [a.slot, b.slot], name, key=(name, *sorted((a.slot, b.slot)))))

    def bnot(self, a: Bool) -> Bool:
        if a.const is not None:
            return Bool(not a.const)
        return Bool(slot=self.emit(np.logical_not, [a.slot], "not", key=("not", a.slot)))

    def bwhere(self, c: Bool, t: Bool, o: Bool) -> Bool:
        """t where c holds, o elsewhere (also: a failure mask picked by a condition)."""
        if c.const is not None:
            return t if c.const else o
        if t == o:
            return t
        if t.const is True:
            return self.bor(c, o)
        if o.const is False:
            return self.band(c, t)
        if t.const is False:  # o where c fails
            if o.const is True:
                return self.bnot(c)
            key = ("and not", o.slot, c.slot)
            return Bool(slot=self.emit(k.and_not, [o.slot, c.slot], "and not", key=key))
        if o.const is True:
            return self.bor(self.bnot(c), t)
        key = ("choose", c.slot, t.slot, o.slot)
        return Bool(slot=self.emit(k.choose, [c.slot, t.slot, o.slot], "where", key=key))

    def bequal(self, a: Bool, b: Bool, op: str) -> Bool:
        if a.const is not None and b.const is not None:
            return Bool((a.const == b.const) == (op == "=="))
        if a.const is not None:
            a, b = b, a
        if b.const is not None:
            return a if b.const == (op == "==") else self.bnot(a)
        return Bool(slot=self.emit(np.equal if op == "==" else np.not_equal, [a.slot, b.slot], op,
                                         key=("equal", op, *sorted((a.slot, b.slot)))))

    def choose(self, c: Bool, t, o):
        return self.bwhere(c, t, o) if isinstance(t, Bool) else self.where(c, t, o)

    def linear(self, terms) -> Num:
        """Σ sign·value."""
        acc = None
        for sign, v in terms:
            acc = (v if sign > 0 else self.neg(v)) if acc is None else self.add(acc, v, sign)
        return ZERO if acc is None else acc

    def extreme_of(self, op: str, values) -> Num:
        acc = values[0]
        for v in values[1:]:
            acc = self.extreme(op, acc, v)
        return acc

    # ------------------------------------------------------------ expressions
    def input(self, e: m.Input, period: str | None):
        key = (e.name, period)
        if key in self.cache:
            return self.cache[key]
        if key not in self.signature:
            raise KeyError(e.name)
        sig = self.signature[key]
        slot = self.nslots
        if sig[0] == "bool":
            value = Bool(slot=slot)
        elif sig[0] == "bool const":
            value, slot = Bool(sig[1]), None
        elif sig[0] == "const":
            value, slot = const(sig[1]), None
        elif sig[0] == "int":
            value = Num(sig[1], sig[2], sig[3], slot=slot)
        else:
            value = Num(slot=slot)
        if slot is not None:
            self.nslots += 1
            self.inputs.append((slot, key))
        self.cache[key] = value
        return value

    # semantics.expr.Primitives: what expressions mean is written there, once
    tracks_failure = True
    FALSE = FALSE

    def const(self, value):
        if isinstance(value, bool):
            return Bool(value)
        if isinstance(value, datetime.date):
            return const(value.toordinal())
        return const(value)

    def div(self, a: Num, b: Num, node: m.Op):
        return self.divide(node, a, b)

    def all_(self, values) -> Bool:
        acc = values[0]
        for v in values[1:]:
            acc = self.band(acc, v)
        return acc

    def any_(self, values) -> Bool:
        acc = values[0]
        for v in values[1:]:
            acc = self.bor(acc, v)
        return acc

    def first(self, conds, values, default, record=None):
        result = default
        for c, v in zip(reversed(conds), reversed(values)):
            result = self.choose(c, v, result)
        return result

    def shift_date(self, date: Num, days: Num, sign: int) -> Num:
        return self.add(date, self.trunc(days), sign)

    def days_between(self, a: Num, b: Num) -> Num:
        return self.add(a, b, -1)

    @staticmethod
    def let(key, value):
        return value

    @staticmethod
    def settled(node):
        raise NotImplementedError("payments and the total are settled values (guarantees only)")


    # ------------------------------------------------------------ the plan
    def finish(self, lines, amounts: list[Num], total: Num, events: dict[str, Bool], failed: Bool,
               negative: Bool) -> Plan:
        outs: list[Out] = []

        def out(x, kind: str = "") -> int:
            if isinstance(x, Num):
                x = self.materialize(x)
            if isinstance(x, Bool):
                o = Out(kind or "bool", x.slot, const=x.const)
            elif x.const is not None:
                o = Out("num", const=x.const)
            elif x.general:
                o = Out("general", x.slot)
            else:
                o = Out("num", x.slot, x.den, max(abs(x.lo), abs(x.hi)))
            outs.append(o)
            return len(outs) - 1

        plan_lines = tuple(PlanLine(ln.key, ln.payment, ln.payer, ln.recipient, ln.period, ln.due, out(amount))
                           for ln, amount in zip(lines, amounts))
        total_out = out(total)
        event_outs = tuple((name, out(mask)) for name, mask in events.items())
        failed_out, negative_out = out(failed), out(negative)
        divisions = tuple((e, out(zero, "any")) for e, zero in self.divisions)
        program, inputs, listing = self.schedule({o.slot for o in outs if o.slot is not None})
        return Plan(program, self.nslots, inputs, tuple(outs), plan_lines, total_out, event_outs,
                    failed_out, negative_out, divisions, listing)

    def schedule(self, results: set[int]):
        """Drop the steps nothing uses; free every other value after its last use."""
        live = set(results)
        kept = []
        for step in reversed(self.steps):
            if any(o in live for o in step.outs):
                kept.append(step)
                live.update(step.ins)
        kept.reverse()
        last: dict[int, int] = {}
        for i, step in enumerate(kept):
            for s in step.ins:
                last[s] = i
            for s in step.outs:
                last.setdefault(s, i)  # an output nothing reads is freed at once
        free: dict[int, list[int]] = {}
        for s, i in last.items():
            if s not in results and s != SIZE:
                free.setdefault(i, []).append(s)
        program = tuple((step.run, tuple(free.get(i, ()))) for i, step in enumerate(kept))
        inputs = tuple((slot, key) for slot, key in self.inputs if slot in live)
        names = {slot: f"{key[0]}[{key[1]}]" if key[1] else key[0] for slot, key in inputs}
        listing = tuple(", ".join(f"s{o}" for o in step.outs) + f" = {step.what}("
                        + ", ".join(names.get(i, f"s{i}") for i in step.ins) + ")" for step in kept)
        return program, inputs, listing


class Primitives:
    """semantics.expr.Primitives over a `Compiler`: the argument orders the interpreter uses."""

    tracks_failure = True
    FALSE = FALSE

    def __init__(self, cp: Compiler):
        self.cp = cp
        for name in ("const", "input", "linear", "mul", "div", "neg", "absolute", "bnot", "all_", "any_",
                     "first", "shift_date", "days_between", "let", "settled", "bor", "band", "bwhere"):
            setattr(self, name, getattr(cp, name))

    def extreme(self, op: str, values) -> Num:
        return self.cp.extreme_of(op, values)

    def compare(self, op: str, a: Num, b: Num) -> Bool:
        return self.cp.compare(a, b, op)

    def bequal(self, op: str, a: Bool, b: Bool) -> Bool:
        return self.cp.bequal(a, b, op)

    def paid(self, keys) -> Num:
        """What the lines of `keys` hold at this point of the settlement (issue 15; `live`)."""
        index, amounts = self.cp.live
        terms = [(1, amounts[index[k]]) for k in keys if k in index]
        return self.cp.linear(terms) if terms else self.cp.const(0)


# ---------------------------------------------------------------- general steps (rarray.py)
def _divide_varying(a: ra.R, b: ra.R):
    """a / b for a divisor that varies by scenario: exact Fractions; 0 where b is zero (failed)."""
    zero = ra.compare(b, ra.R.const(0), "==")
    safe = ra.where(zero, ra.R.const(1), b)
    q = np.asarray(ra._obj_fraction(a), dtype=object) / np.asarray(ra._obj_fraction(safe), dtype=object)
    q = np.broadcast_to(q, zero.shape).copy()
    q[zero] = Fraction(0)
    return ra.R(q, 1, None), zero


def _trunc(days: ra.R) -> ra.R:
    num = days.num
    if days.bound is not None:
        t = np.where(num >= 0, num // days.den, -((-num) // days.den))
    else:
        t = np.array([int(Fraction(x) / days.den) for x in np.asarray(num).ravel()], dtype=object)
    return ra.R(t, 1)
