"""Checked model + the signature of a call's inputs → a plan: the settlement as a fixed list of array steps.

In: a checked contract (model.py) and the *signature* of one call's inputs — per measure and
period, "bool", a constant, "general", or the denominator of its int64 numerators and the
range they lie in (widened to 4 significant bits, so that the next chunk of similar scenarios
finds the plan in the cache). Out: a `Plan`; `Plan.run(columns, n, block)` evaluates it block
by block and vector.py builds the `VectorSettlement` from what it returns.

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
Steps nothing uses are removed, and a block frees each value after its last use, so the
working set of a block stays in the CPU cache (vector.py chooses the block size).

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

import attrs
import numpy as np

from . import model as m
from . import rarray as ra
from . import vector_kernels as k
from .evaluate import principals, return_limit_amount
from .units import DATE

LIMIT = ra._LIMIT
SIZE = 0  # slot 0 holds the number of scenarios in the block


def _fits(*xs: int) -> bool:
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


# ---------------------------------------------------------------- the plan
@attrs.frozen
class Out:
    """One result of a plan. kind: "num" (int64 numerators over den, |num| ≤ bound), "general"
    (an R per block), "bool" (a bool array), "any" (true if the array is true in some scenario).
    A constant result has no slot."""

    kind: str
    slot: int | None = None
    den: int = 1
    bound: int = 0
    const: object = None


@attrs.frozen
class PlanLine:
    key: tuple
    payment: str
    payer: str
    recipient: str
    period: str | None
    due: datetime.date | None
    amount: int  # index into Plan.outs


@attrs.frozen
class Plan:
    """The settlement as steps over a block: `program` is a tuple of (step, slots it frees)."""

    program: tuple
    nslots: int
    inputs: tuple[tuple[int, tuple], ...]  # (slot, (measure, period))
    outs: tuple[Out, ...]
    lines: tuple[PlanLine, ...]
    total: int
    events: tuple[tuple[str, int], ...]
    failed: int
    negative: int
    divisions: tuple[tuple[m.Op, int], ...]  # divisions that may meet a zero divisor, in order
    listing: tuple[str, ...] = ()  # one line per step, for reading a plan: "s9 = min(s8)"

    @property
    def steps(self) -> int:
        return len(self.program)

    def run(self, columns: Mapping[tuple, object], n: int, block: int) -> list:
        """Evaluate n scenarios, `block` at a time: per output an R, a bool array or a flag."""
        single = n <= block
        store: list = []
        for out in self.outs:
            if out.slot is None or single:
                store.append(None)
            elif out.kind == "num":
                store.append(np.empty(n, dtype=np.int64))
            elif out.kind == "bool":
                store.append(np.empty(n, dtype=bool))
            else:
                store.append([] if out.kind == "general" else False)
        for start in range(0, n, block):
            stop = min(n, start + block)
            f: list = [None] * self.nslots
            f[SIZE] = stop - start
            for slot, key in self.inputs:
                col = columns[key]
                f[slot] = ra.R(col.num[start:stop], col.den) if isinstance(col, ra.R) else col[start:stop]
            for run, free in self.program:
                run(f)
                for s in free:
                    f[s] = None
            for i, out in enumerate(self.outs):
                if out.slot is None:
                    continue
                value = f[out.slot]
                if out.kind == "any":
                    store[i] = store[i] or bool(np.any(value))
                elif out.kind == "general":
                    if single:
                        store[i] = value
                    else:
                        store[i].append((value, stop - start))
                elif single:
                    store[i] = _full(value, n, out.kind)
                else:
                    store[i][start:stop] = value
        return [self._result(out, store[i], n) for i, out in enumerate(self.outs)]

    @staticmethod
    def _result(out: Out, value, n: int):
        if out.kind == "any":
            return bool(out.const) if out.slot is None else bool(value)
        if out.kind == "bool":
            if out.slot is None:
                return np.zeros(n, dtype=bool) if not out.const else np.ones(n, dtype=bool)
            return value if value is not None else np.zeros(0, dtype=bool)
        if out.slot is None:
            return ra.R.const(out.const)
        if out.kind == "num":
            return ra.R(value if value is not None else np.zeros(0, dtype=np.int64), out.den, out.bound)
        if value is None or isinstance(value, ra.R):
            return value if value is not None else ra.R(np.zeros(0, dtype=np.int64), 1, 0)
        return _concat(value)


def _full(value, n: int, kind: str):
    if isinstance(value, np.ndarray) and value.shape == (n,):
        return value
    return np.full(n, value, dtype=np.int64 if kind == "num" else bool)


def _concat(parts: list[tuple[ra.R, int]]) -> ra.R:
    """General values of several blocks as one R (blocks may differ in dtype or denominator)."""
    den = 1
    for r, _ in parts:
        den = math.lcm(den, r.den)
    nums = [np.broadcast_to(np.asarray(r.scaled(den // r.den).num), (size,)) for r, size in parts]
    if any(x.dtype == object for x in nums):
        nums = [x.astype(object) for x in nums]
    return ra.R(np.concatenate(nums), den)


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


class _Size:
    """Marks the block's size as an argument of a general step."""


@attrs.define
class _Line:
    key: tuple
    payment: str
    payer: str
    recipient: str
    period: str | None
    due: datetime.date | None
    amount: Num


class _Planner:
    """Emits the steps of one plan: expressions first (the arithmetic of Num and Bool), then the
    order of application (`settle`)."""

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
        self.period: dict[str, str] = {}
        self.divisions: list[tuple[m.Op, Bool]] = []
        self.memo: dict[tuple, int] = {}

    # ------------------------------------------------------------ emitting
    def emit(self, kernel: Callable, ins, what: str, nout: int = 1, key: tuple | None = None):
        """A step: kernel(*arrays of `ins`) → the new slot(s); `what` names it in `Plan.listing`.
        `key` says exactly what a pure step computes: the same key again reuses its result
        (the total of the same lines, a condition tested twice)."""
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
        Num and Bool values, `_Size`, or constants passed as they are."""
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
            elif x is _Size:
                ins.append(SIZE)
                wraps.append(("g", None))
            else:
                wraps.append(("k", x.const if isinstance(x, Bool) else x))

        def kernel(*arrays):
            it = iter(arrays)
            args = [v if kind == "k" else next(it) if kind == "g" else ra.R(k.scaled(next(it), v[2]), v[0], v[1])
                    for kind, v in wraps]
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
        and F stays a scale of the result instead of a multiplication."""
        g = 0
        for _, v in operands:
            g = math.gcd(g, v)
        if g <= 1:
            return 1, list(operands)
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
        if not _fits(alo, ahi, blo, bhi, lo, hi):
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
            if not _fits(lo, hi):
                return self.general(ra.mul, a, b)
            return Num(q, lo, hi, slot=a.slot, scale=a.scale * p)  # no step: the user of it multiplies
        corners = (a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi)
        lo, hi = min(corners), max(corners)
        if not _fits(lo, hi):
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
        if not _fits(alo, ahi, blo, bhi):
            return self.general(ra.minimum if op == "min" else ra.maximum, a, b)
        f, (oa, ob) = self.common(oa, ob)  # min(x·f, c·f) = f·min(x, c) for f > 0
        slot = self.emit(k.binary(ufunc, oa, ob), [s for s in (sa, sb) if s is not None], op, key=(op, oa, ob, sa, sb))
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
            return Bool(slot=self.emit(lambda x: ufunc(x, c2), [sa], f"{op} {c2}", key=(op, c2, sa)))
        if not _fits(alo, ahi, blo, bhi):
            return self.general(ra.compare, a, b, op, kinds=("bool",))
        _, (oa, ob) = self.common(oa, ob)
        return Bool(slot=self.emit(k.binary(_UFUNC[op], oa, ob), [sa, sb], op, key=(op, oa, ob, sa, sb)))

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
        if not _fits(tlo, thi, olo, ohi):
            return self.general(ra.where, c, t, o)
        blend = _fits(tlo - ohi, thi - olo)  # O + (T − O)·c stays within int64
        f, (ot, oo) = self.common(ot, oo)
        ins = [c.slot] + [s for s in (st, so) if s is not None]
        slot = self.emit(k.select(ot, oo, blend), ins, "where", key=("where", ot, oo, st, so, c.slot))
        return Num(den, min(tlo, olo), max(thi, ohi), slot=slot, scale=f)

    def round(self, x: Num) -> Num:
        """The contract's rounding rule (Rounding.apply) on every scenario."""
        rnd = self.rounding
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
        if not _fits(2 * x.lo * q - 2 * d, 2 * x.hi * q + 2 * d, lo, hi):
            return self.general(ra.round_to, x, rnd)
        if x.scale < 0:  # the kernel tells halves by the sign of its argument
            x = self.materialize(x)
        sign = 1 if x.lo >= 0 else -1 if x.hi <= 0 else 0
        kq = q * x.scale
        slot = self.emit(k.rounding(rnd.mode, kq, d, 1, sign), [x.slot], f"round {rnd.mode} ·{kq}/{d}",
                         key=("round", kq, d, sign, x.slot))
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
        return Num(1, lo, hi, slot=self.emit(lambda x: np.where(x >= 0, x // d, -((-x) // d)), [days.slot], "trunc"))

    # ------------------------------------------------------------ conditions
    def band(self, a: Bool, b: Bool) -> Bool:
        if a.const is False or b.const is False:
            return FALSE
        if a.const is True or a == b:
            return b
        if b.const is True:
            return a
        return Bool(slot=self.emit(np.logical_and, [a.slot, b.slot], "and",
                                         key=("and", *sorted((a.slot, b.slot)))))

    def bor(self, a: Bool, b: Bool) -> Bool:
        if a.const is True or b.const is True:
            return TRUE
        if a.const is False or a == b:
            return b
        if b.const is False:
            return a
        return Bool(slot=self.emit(np.logical_or, [a.slot, b.slot], "or",
                                         key=("or", *sorted((a.slot, b.slot)))))

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
            return self.bnot(c) if o.const is True else Bool(slot=self.emit(k.and_not, [o.slot, c.slot], "and not", key=("and not", o.slot, c.slot)))
        if o.const is True:
            return self.bor(self.bnot(c), t)
        return Bool(slot=self.emit(k.choose, [c.slot, t.slot, o.slot], "where", key=("choose", c.slot, t.slot, o.slot)))

    def bequal(self, a: Bool, b: Bool, op: str) -> Bool:
        if a.const is not None and b.const is not None:
            return Bool((a.const == b.const) == (op == "=="))
        if a.const is not None:
            a, b = b, a
        if b.const is not None:
            return a if b.const == (op == "==") else self.bnot(a)
        return Bool(slot=self.emit(np.equal if op == "==" else np.not_equal, [a.slot, b.slot], op,
                                         key=(op, *sorted((a.slot, b.slot)))))

    def choose(self, c: Bool, t, o):
        return self.bwhere(c, t, o) if isinstance(t, Bool) else self.where(c, t, o)

    # ------------------------------------------------------------ expressions
    def input(self, e: m.Input):
        key = (e.name, self.period.get(e.ty.series) if e.ty.series else None)
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

    def var(self, name: str):
        if name in self.constants:
            return const(self.constants[name]), FALSE
        definition = self.contract.definitions[name]
        key = ("def", name, self.period.get(definition.ty.series) if definition.ty.series else None)
        if key not in self.cache:
            value, bad = self.expr(definition.expr)
            if definition.indexation is not None:
                ix = definition.indexation
                value = self.mul(value, const((1 + ix.rate) ** ix.years))
            self.cache[key] = (value, bad)
        return self.cache[key]

    def expr(self, e: m.Expr):
        """(value, failure mask): the mask holds where a division by zero lies on the path taken."""
        if isinstance(e, m.Const):
            v = e.value
            if isinstance(v, bool):
                return Bool(v), FALSE
            if isinstance(v, datetime.date):
                return const(v.toordinal()), FALSE
            return const(v), FALSE
        if isinstance(e, m.Input):
            return self.input(e), FALSE
        if isinstance(e, m.Var):
            return self.var(e.name)
        if isinstance(e, m.Cond):
            c, cb = self.expr(e.cond)
            t, tb = self.expr(e.then)
            o, ob = self.expr(e.otherwise)
            return self.choose(c, t, o), self.bor(cb, self.bwhere(c, tb, ob))
        if isinstance(e, m.Sum):
            saved = self.period.get(e.series)
            acc, bad = ZERO, FALSE
            for p in self.contract.series[e.series].periods:
                self.period[e.series] = p.name
                v, b = self.expr(e.operand)
                acc, bad = self.add(acc, v), self.bor(bad, b)
            if saved is None:
                self.period.pop(e.series, None)
            else:
                self.period[e.series] = saved
            return acc, bad
        if isinstance(e, m.Steps):
            x, bad = self.expr(e.subject)
            result, rb = self.expr(e.below)
            for threshold, value_expr in zip(e.thresholds, e.values):
                v, vb = self.expr(value_expr)
                hit = self.compare(x, const(threshold), ">=")
                result, rb = self.where(hit, v, result), self.bwhere(hit, vb, rb)
            return result, self.bor(bad, rb)
        if isinstance(e, m.Interp):
            x, bad = self.expr(e.subject)
            xs, ys = e.xs, e.ys
            result = const(ys[-1])
            # scalar: x <= xs[0] → ys[0]; first i with x <= xs[i] → segment i; else ys[-1]
            for i in range(len(xs) - 1, 0, -1):
                slope = const(Fraction(ys[i] - ys[i - 1]) / (xs[i] - xs[i - 1]))
                seg = self.add(const(ys[i - 1]), self.mul(slope, self.add(x, const(xs[i - 1]), -1)))
                result = self.where(self.compare(x, const(xs[i]), "<="), seg, result)
            return self.where(self.compare(x, const(xs[0]), "<="), const(ys[0]), result), bad
        if isinstance(e, (m.PaymentRef, m.Total)):
            raise NotImplementedError("payments and the total are settled values (guarantees only)")
        assert isinstance(e, m.Op), e
        return self.op(e)

    def op(self, e: m.Op):
        op = e.op
        if op in ("and", "or"):
            a, ab = self.expr(e.args[0])
            b, bb = self.expr(e.args[1])
            if op == "and":  # b is only evaluated where a holds
                return self.band(a, b), self.bor(ab, self.band(a, bb))
            return self.bor(a, b), self.bor(ab, self.band(self.bnot(a), bb))
        vals = [self.expr(a) for a in e.args]
        bad = FALSE
        for _, b in vals:
            bad = self.bor(bad, b)
        args = [v for v, _ in vals]
        if op == "neg":
            return self.neg(args[0]), bad
        if op == "not":
            return self.bnot(args[0]), bad
        if op == "abs":
            return self.absolute(args[0]), bad
        if op in ("min", "max"):
            acc = args[0]
            for v in args[1:]:
                acc = self.extreme(op, acc, v)
            return acc, bad
        a, b = args
        if op in _CMP:
            return (self.compare(a, b, op) if isinstance(a, Num) else self.bequal(a, b, op)), bad
        if op in ("+", "-"):
            sign = 1 if op == "+" else -1
            if e.ty.kind == DATE:
                date, days = (a, b) if e.args[0].ty.kind == DATE else (b, a)
                return self.add(date, self.trunc(days), sign), bad
            return self.add(a, b, sign), bad
        if op in ("*", "of"):
            return self.mul(a, b), bad
        if op == "/":
            value, zero = self.divide(e, a, b)
            return value, self.bor(bad, zero)
        raise AssertionError(op)

    # ------------------------------------------------------------ the order of application
    def settle(self) -> Plan:
        contract = self.contract
        lines: list[_Line] = []
        events: dict[str, Bool] = {}
        failed = FALSE
        # extra bounds of the total of all lines, known from the semantics of the steps so far
        # (a cap's result is at most the cap): interval arithmetic alone forgets that the lines
        # of a total move together
        extra: list = [None, None]

        def fail(bad: Bool) -> None:
            nonlocal failed
            failed = self.bor(failed, bad)

        def event(name: str, mask: Bool) -> None:
            events[name] = self.bor(events[name], mask) if name in events else mask

        def total_of(group: list[int]) -> Num:
            t = ZERO
            for i in group:
                t = self.add(t, lines[i].amount)
            return self.narrow(t, tuple(extra)) if len(group) == len(lines) else t

        def total_bounds() -> tuple | None:
            b = total_of_bounds([ln.amount for ln in lines])
            if b is None:
                return None
            lo = b[0] if extra[0] is None else max(b[0], extra[0])
            hi = b[1] if extra[1] is None else min(b[1], extra[1])
            return lo, hi

        def capped(before, level: Num) -> None:
            """The total after a cut of the excess over `level` from all lines: at least
            min(total, level); at most max(level, 0) — the cut stops at the level or when no
            positive line is left — and at most the total."""
            lb = level.bounds()
            if before is None or lb is None:
                extra[:] = [None, None]
                return
            extra[:] = [min(before[0], lb[0]), min(before[1], max(lb[1], 0))]

        def cut_part(before, excess: Num) -> None:
            """The total after a cut from some lines: down by at most the excess."""
            eb = excess.bounds()
            if before is None or eb is None:
                extra[:] = [None, None]
                return
            extra[:] = [before[0] - max(eb[1], 0), before[1]]

        def cut(group: list[int], excess: Num, name: str) -> None:
            self.cut(lines, group, excess, name, event)

        # 1-3: each payment, per period where it has one
        for payment in contract.payments.values():
            periods = contract.series[payment.series].periods if payment.series else (None,)
            for period in periods:
                if period is not None:
                    self.period[payment.series] = period.name
                raw, bad = self.expr(payment.expr)
                fail(bad)
                amount = self.round(raw)
                for gate in contract.gates:
                    if gate.target != payment.name:
                        continue
                    c, cb = self.expr(gate.condition)
                    fail(cb)
                    event(f"gate {gate.clause.name}", self.bnot(c))
                    amount = self.where(c, amount, ZERO)
                for fl in contract.floors:
                    if fl.target != payment.name:
                        continue
                    applies = TRUE
                    if fl.when is not None:
                        applies, wb = self.expr(fl.when)
                        fail(wb)
                    low, lb = self.expr(fl.amount)
                    fail(self.band(applies, lb))
                    low = self.round(low)
                    lift = self.band(applies, self.compare(amount, low, "<"))
                    event(f"floor {fl.clause.name}", lift)
                    before, lowb = amount.bounds(), low.bounds()
                    amount = self.where(lift, low, amount)
                    if before and lowb:  # raised to the floor where it applies: max(amount, low)
                        floor_lo = max(before[0], lowb[0]) if applies.const is True else before[0]
                        amount = self.narrow(amount, (floor_lo, max(before[1], lowb[1])))
                for cap in contract.caps:
                    if cap.kind != "payment" or cap.target != payment.name:
                        continue
                    hi, hb = self.expr(cap.amount)
                    fail(hb)
                    hi = self.round(hi)
                    over = self.compare(amount, hi, ">")
                    event(f"cap {cap.clause.name}", over)
                    before, hib = amount.bounds(), hi.bounds()
                    amount = self.where(over, hi, amount)
                    if before and hib:  # min(amount, cap)
                        amount = self.narrow(amount, (min(before[0], hib[0]), min(before[1], hib[1])))
                lines.append(_Line(("payment", payment.name, period.name if period else None),
                                   payment.name, payment.payer, payment.recipient,
                                   period.name if period else None, _due(contract, payment.due, period), amount))
            if payment.series:
                self.period.pop(payment.series, None)
        everyone = lambda: list(range(len(lines)))  # noqa: E731
        # 4: caps per period series, then per participant
        for cap in contract.caps:
            if cap.kind == "series":
                for period in contract.series[cap.target].periods:
                    self.period[cap.target] = period.name
                    in_period = [i for i, ln in enumerate(lines) if ln.period == period.name]
                    hi, hb = self.expr(cap.amount)
                    fail(hb)
                    hi = self.round(hi)
                    before = total_bounds()
                    excess = self.add(total_of(in_period), hi, -1)
                    cut(in_period, excess, f"cap {cap.clause.name}")
                    if len(in_period) == len(lines):
                        capped(before, hi)
                    else:
                        cut_part(before, excess)
                self.period.pop(cap.target, None)
            elif cap.kind == "participant":
                size = contract.cohorts[cap.target].size
                hi, hb = self.expr(cap.amount)
                fail(hb)
                hi = self.round(self.mul(hi, const(size)))
                before = total_bounds()
                cut(everyone(), self.add(total_of(everyone()), hi, -1), f"cap {cap.clause.name}")
                capped(before, hi)
        # 5: gates on the total
        for gate in contract.gates:
            if gate.target != "total":
                continue
            c, cb = self.expr(gate.condition)
            fail(cb)
            level, lb = self.expr(gate.level)
            fail(self.bwhere(c, FALSE, lb))
            level = self.round(level)
            before = total_bounds()
            excess = self.where(c, ZERO, self.add(total_of(everyone()), level, -1))
            cut(everyone(), excess, f"gate {gate.clause.name}")
            if c.const is False:
                capped(before, level)
            elif before is None or level.bounds() is None:
                extra[:] = [None, None]
            else:  # cut back to the level where the condition fails: at least min(total, level)
                extra[:] = [min(before[0], level.bounds()[0]), before[1]]
        # 6: floors on the total (a top-up line from the floor clause)
        for fl in contract.floors:
            if fl.target != "total":
                continue
            applies = TRUE
            if fl.when is not None:
                applies, wb = self.expr(fl.when)
                fail(wb)
            low, lb = self.expr(fl.amount)
            fail(self.band(applies, lb))
            low = self.round(low)
            before = total_bounds()
            shortfall = self.add(low, total_of(everyone()), -1)
            lift = self.band(applies, self.compare(shortfall, ZERO, ">"))
            event(f"floor {fl.clause.name}", lift)
            due = _due(contract, fl.due, None) if fl.due else max((ln.due for ln in lines if ln.due), default=None)
            top_up = self.narrow(self.where(lift, shortfall, ZERO), (Fraction(0), None))  # lifted: shortfall > 0
            lines.append(_Line(("floor", fl.clause.name, len(lines)), fl.clause.name, fl.payer or "",
                               fl.recipient or "", None, due, top_up))
            lowb = low.bounds()
            if before is None or lowb is None:
                extra[:] = [None, None]
            else:  # the total becomes max(total, low) where the floor applies
                extra[:] = [max(before[0], lowb[0]) if applies.const is True else before[0],
                            max(before[1], lowb[1])]
        # 7: caps on the total
        for cap in contract.caps:
            if cap.kind == "total":
                hi, hb = self.expr(cap.amount)
                fail(hb)
                hi = self.round(hi)
                before = total_bounds()
                cut(everyone(), self.add(total_of(everyone()), hi, -1), f"cap {cap.clause.name}")
                capped(before, hi)
        # 8: return limits, on the lines paid to each investor
        for investor, principal in principals(contract).items():
            for limit in contract.return_limits:
                most = const(return_limit_amount(contract, limit, principal))
                group = [i for i, ln in enumerate(lines) if ln.recipient == investor]
                before = total_bounds()
                excess = self.add(total_of(group), most, -1)
                cut(group, excess, f"return limit {limit.clause.name}")
                if len(group) == len(lines):
                    capped(before, most)
                else:
                    cut_part(before, excess)
        negative = FALSE
        for ln in lines:
            negative = self.bor(negative, self.compare(ln.amount, ZERO, "<"))
        total = total_of(everyone())
        return self.finish(lines, total, events, failed, negative)

    def cut(self, lines: list[_Line], group: list[int], excess: Num, name: str, event) -> None:
        """Cut `excess` from the lines of `group`, last-declared first (evaluate.Evaluator._cut)."""
        if excess.general or any(lines[i].amount.general for i in group):
            return self.cut_general(lines, group, excess, name, event)
        # the lines that may give something: the excess may still be positive there, and the
        # line's amount may be positive
        e_lo, e_hi = excess.bounds()
        take = []
        for i in reversed(group):
            if e_hi <= 0:
                break
            a_lo, a_hi = lines[i].amount.bounds()
            if a_hi <= 0:
                continue
            take.append((i, min(a_lo, 0), a_hi))  # what is left of the line: [min(lo, 0), hi]
            e_lo, e_hi = min(e_lo, 0), max(Fraction(0), e_hi - max(a_lo, 0))
        if not take:
            event(name, FALSE)
            return
        if excess.const is not None and all(lines[i].amount.const is not None for i, _, _ in take):
            e, any_cut = excess.const, False
            for i, _, _ in take:
                if e <= 0:
                    break
                c = min(lines[i].amount.const, e)
                if c > 0:
                    lines[i].amount, e, any_cut = const(lines[i].amount.const - c), e - c, True
            event(name, Bool(any_cut))
            return
        den = math.lcm(excess.den, *(lines[i].amount.den for i, _, _ in take))
        parts = [self.operand(excess, den)] + [self.operand(lines[i].amount, den) for i, _, _ in take]
        if not _fits(*(b for lo, hi, _, _ in parts for b in (lo, hi))):
            return self.cut_general(lines, group, excess, name, event)
        ins = [s for _, _, _, s in parts if s is not None]
        outs = self.emit(k.cut(parts[0][2], [p[2] for p in parts[1:]]), ins, f"cut {name}", len(take) + 1)
        for (i, lo, hi), s in zip(take, outs):
            lines[i].amount = Num(den, math.ceil(lo * den), math.floor(hi * den), slot=s)
        left = Num(den, math.ceil(e_lo * den), math.floor(e_hi * den), slot=outs[-1])
        event(name, self.compare(left, excess, "<"))  # the excess fell: something was cut

    def cut_general(self, lines, group, excess, name, event) -> None:
        *outs, any_cut = self.general(_general_cut, _Size, excess, *[lines[i].amount for i in group],
                                      kinds=("num",) * len(group) + ("bool",))
        for i, value in zip(group, outs):
            lines[i].amount = value
        event(name, any_cut)

    # ------------------------------------------------------------ the plan
    def finish(self, lines: list[_Line], total: Num, events: dict[str, Bool], failed: Bool,
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

        plan_lines = tuple(PlanLine(ln.key, ln.payment, ln.payer, ln.recipient, ln.period, ln.due, out(ln.amount))
                           for ln in lines)
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


def total_of_bounds(amounts: list[Num]) -> tuple[Fraction, Fraction] | None:
    lo = hi = Fraction(0)
    for a in amounts:
        b = a.bounds()
        if b is None:
            return None
        lo, hi = lo + b[0], hi + b[1]
    return lo, hi


def _due(contract: m.Contract, due: m.Due, period: m.Period | None):
    if due.date is not None:
        return due.date
    if due.days_after_end is not None:
        end = period.end if period else (contract.term[1] if contract.term else None)
        return end + datetime.timedelta(days=due.days_after_end) if end else None
    return None


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


def _general_cut(size: int, excess: ra.R, *amounts: ra.R):
    """evaluate.Evaluator._cut on R values: returns the new amounts and where anything was cut."""
    zero = ra.R.const(0)
    amounts = list(amounts)
    any_cut = np.zeros(size, dtype=bool)
    for j in range(len(amounts) - 1, -1, -1):
        positive = ra.compare(excess, zero, ">")
        if not np.any(positive):  # nothing (left) to cut in any scenario
            break
        c = ra.minimum(amounts[j], excess)
        c = ra.where(positive & ra.compare(c, zero, ">"), c, zero)
        any_cut = any_cut | ra.compare(c, zero, ">")
        amounts[j] = ra.add(amounts[j], c, -1)
        excess = ra.add(excess, c, -1)
    return (*amounts, any_cut)


# ---------------------------------------------------------------- entry point
def compile_plan(contract: m.Contract, signature: Mapping[tuple, tuple]) -> Plan:
    """The plan of a contract for inputs of this signature (see the module docstring)."""
    return _Planner(contract, signature).settle()
