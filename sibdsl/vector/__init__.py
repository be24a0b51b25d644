"""The vectorised back end: the checked model compiled to a function over arrays of outcomes.

N scenarios at once, with the semantics of every back end — the settlement program run by
semantics/run.py, expressions given their meaning by semantics/expr.py — exactly: no float is
involved. The package: `expr.py` (the array primitives and what they know of value ranges),
`settle.py` (the step primitives), `plan.py` (a compiled plan run over blocks), `kernels.py`
(its numpy kernels), `rarray.py` (exact rational arrays, the general path). How:

* A numeric value is a *rational array* `R(num, den)`: an integer numerator array and one
  positive integer denominator shared by all scenarios (money in öre is `R(öre, 100)`,
  `reference_costs * 60 / 61` is `R(…, 6100)`). Dates are day ordinals (rarray.py).
* A call looks at its inputs' *signature* — each column's denominator and the range of its
  numerators — and compiles the contract once per signature into a plan (settle.py): a
  fixed list of numpy steps with static denominators, folded constants and value ranges that
  make overflow checks static and drop the gates, floors, caps and cuts that cannot act for
  this batch. Plans are cached, so the chunks of a simulation share one or a few.
* The plan runs over blocks of `block` scenarios (default `BLOCK`), freeing each value after
  its last use, so the arrays a block works on stay in the CPU cache (the trick of numexpr).
  The blocks are the same code as one call on a smaller input: chunks (`evaluate_chunks`,
  `simulate.settle_chunk`) and blocks give the same results.
* Where the ranges cannot rule out an overflow, or a divisor varies by scenario, that value is
  computed exactly on the general path: object arrays of Python ints or of `Fraction`s. A zero
  divisor marks the scenario as failed (E602 in the scalar path) instead of raising, because
  both branches of an `if` are computed for all scenarios; a failure only counts where the
  branch is taken.

`compile_vector(contract)(inputs)` takes `{measure: array}` (a per-period measure takes
`{period: array}`; numbers as ints, Fractions, Decimals or `R`; booleans as bool arrays; dates as
`datetime64[D]` or arrays of `datetime.date`) and returns a `VectorSettlement`. Evaluate in fixed
chunks (`evaluate_chunks`) to bound memory: it is the same function on each chunk, which is
also how Dask can distribute it (docs/performance.md).
"""

from __future__ import annotations

import datetime
import threading
from collections.abc import Callable, Iterator, Mapping
from fractions import Fraction

import numpy as np

from .. import model as m
from ..units import BOOL, DATE
from .plan import Plan
from .settle import compile_plan
from .rarray import LIMIT, R, add, to_ordinals, to_rational
from .rarray import (  # noqa: F401  (the operations on R are public here too)
    absolute, compare, divide_const, maximum, minimum, mul, neg, round_to, where)

# Scenarios per block. Measured on the development machine (2 CPUs, 1 MB L2, 32 MB L3): at
# 1,000,000 scenarios blocks of 64 k–128 k are equally fast (16 k: +25 %, 256 k: +25 %); at 128 k a
# chunk of `sibc simulate` (100,000) is one block, not 65,536 + 34,464 with the results copied,
# which makes a chunk about twice as fast.
BLOCK = 131_072
_PLANS = 32  # plans kept per contract (one per input signature)


# ---------------------------------------------------------------- settlement
class VectorLine:
    __slots__ = ("key", "payment", "payer", "recipient", "period", "due", "amount")

    def __init__(self, key, payment, payer, recipient, period, due, amount: R):
        self.key, self.payment, self.payer, self.recipient = key, payment, payer, recipient
        self.period, self.due, self.amount = period, due, amount


class VectorSettlement:
    """N settlements: per line an exact amount array, the total, events and failure masks."""

    def __init__(self, size: int, lines: list[VectorLine], events: dict[str, np.ndarray],
                 failed: np.ndarray, negative: np.ndarray, step: Fraction, total: R | None = None):
        self.size, self.lines, self.events = size, lines, events
        self.failed, self.negative = failed, negative
        self.step = step
        self.divisions: list = []  # where a division by zero made scenarios fail (for E602)
        if total is None:  # the plan computes the total with the lines; otherwise add them up
            total = R.const(0)
            for ln in lines:
                total = add(total, ln.amount)
        self.total = total

    def minor(self, r: R, scale: int = 100) -> np.ndarray:
        """Amounts in minor units (öre for scale 100) as int64 — exact: every amount is on the grid."""
        num = np.broadcast_to(np.asarray(r.num), (self.size,))
        if scale % r.den == 0:
            k = scale // r.den
            if r.bound is not None and r.bound * k < LIMIT:  # in int64 before multiplying: no int32 wrap
                num = num.astype(np.int64, copy=False)
                return num * k if k != 1 else num.copy()
            return np.array([int(x) * k for x in num], dtype=np.int64)
        out = np.array([Fraction(x) * scale / r.den for x in num], dtype=object)
        if any(v.denominator != 1 for v in out):
            raise ValueError(f"amounts are not whole multiples of 1/{scale}")
        return out.astype(np.int64)

    def received(self, investor: str) -> R:
        total = R.const(0)
        for ln in self.lines:
            if ln.recipient == investor:
                total = add(total, ln.amount)
        return total

    def by_payment(self) -> dict[str, R]:
        out: dict[str, R] = {}
        for ln in self.lines:
            if ln.key[0] == "payment":
                out[ln.payment] = add(out.get(ln.payment, R.const(0)), ln.amount)
        return out


class VectorContract:
    """`compile_vector(contract)`: call it with arrays of outcomes."""

    def __init__(self, contract: m.Contract, block: int = BLOCK):
        if block < 1:
            raise ValueError("block must be at least 1 scenario")
        self.contract = contract
        self.rounding = contract.rounding
        self.block = block
        self._plans: dict[tuple, Plan] = {}
        self._last: tuple | None = None  # the signature the last plan was compiled for
        self._lock = threading.Lock()  # one compiled contract may serve several threads (Dask)

    def __getstate__(self) -> dict:
        """Pickled without its plans (closures over numpy): a process pool or Dask worker
        compiles its own on first use."""
        return {"contract": self.contract, "block": self.block}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["contract"], state["block"])

    def plan(self, signature: tuple) -> Plan:
        """The compiled plan for inputs of this signature (see `prepare`).

        A plan compiled for ranges of values holds for any narrower ones, so a cached plan whose
        ranges cover the signature's is used. Otherwise the plan is compiled for the hull of
        this signature and the previous one when that widens no range beyond twice its
        magnitude: chunks of one simulation, whose extremes differ a little, then share one or
        two plans instead of compiling most of them (≈ 2 ms each)."""
        with self._lock:
            plan = self._plans.get(signature)
            if plan is None:
                plan = next((p for sig, p in reversed(self._plans.items()) if _covers(sig, signature)), None)
            if plan is None:
                target = _hull(self._last, signature) if self._last else signature
                plan = compile_plan(self.contract, dict(target))
                self._last = target
                self._remember(target, plan)
            self._remember(signature, plan)
            return plan

    def _remember(self, signature: tuple, plan: Plan) -> None:
        if signature not in self._plans and len(self._plans) >= _PLANS:
            self._plans.pop(next(iter(self._plans)))
        self._plans[signature] = plan

    def __call__(self, inputs: Mapping[str, object], size: int | None = None) -> VectorSettlement:
        if size is None:
            size = _size_of(inputs)
        columns, signature = prepare(self.contract, inputs)
        plan = self.plan(signature)
        values = plan.run(columns, size, self.block)
        lines = [VectorLine(pl.key, pl.payment, pl.payer, pl.recipient, pl.period, pl.due, values[pl.amount])
                 for pl in plan.lines]
        events = {name: values[i] for name, i in plan.events}
        failed = values[plan.failed]
        settled = VectorSettlement(size, lines, events, failed, values[plan.negative],
                                   Fraction(self.rounding.step), total=values[plan.total])
        settled.divisions = [e for e, i in plan.divisions if values[i]] if failed.any() else []
        return settled


# ---------------------------------------------------------------- inputs
def prepare(contract: m.Contract, inputs: Mapping[str, object]) -> tuple[dict, tuple]:
    """The columns a plan reads — per (measure, period): int64 numerators, a bool array, or an R
    on the general path — and the signature that selects the plan.

    A numeric column's signature is its denominator and the smallest and largest numerator,
    widened to 4 significant bits (`_coarse`): the plan's decisions hold for any values in the
    range, and the next chunk of similar scenarios reuses the plan. Measures missing from
    `inputs` are left out (using one raises KeyError, as `inputs[name]` would)."""
    columns: dict = {}
    signature = []
    for name, measure in (*contract.measures.items(), *contract.parameters.items()):  # issue 17: parameters too
        if name not in inputs:
            continue
        raw = inputs[name]
        series = measure.ty.series
        periods = [p.name for p in contract.series[series].periods] if series else [None]
        for period in periods:
            if period is not None:
                if period not in raw:
                    continue
                value = raw[period]
            else:
                value = raw
            key = (name, period)
            if measure.ty.kind == BOOL:
                arr = np.asarray(value, dtype=bool)
                sig = ("bool const", bool(arr)) if arr.ndim == 0 else ("bool",)
                if arr.ndim:
                    columns[key] = arr
            elif measure.ty.kind == DATE:
                sig = _column(key, _ordinals(value), 1, columns)
            else:
                r = to_rational(value)
                sig = _column(key, r.num, r.den, columns)
            signature.append((key, sig))
    return columns, tuple(signature)


def _column(key: tuple, num, den: int, columns: dict) -> tuple:
    """A numeric column (numerators over den): its signature; the column goes into `columns`."""
    if not isinstance(num, np.ndarray) or num.ndim == 0:
        value = num.item() if isinstance(num, np.ndarray) else num
        return ("const", Fraction(value) / den)
    if num.dtype.kind in "iu":
        lo, hi = (int(num.min()), int(num.max())) if num.size else (0, 0)
        lo, hi = _coarse(lo, hi)
        if -LIMIT < lo and hi < LIMIT:
            columns[key] = num.astype(np.int64, copy=False)
            return ("int", den, lo, hi)
    columns[key] = R(np.asarray(num, dtype=object), den, None)
    return ("general",)


def _ordinals(values):
    arr = np.asarray(values)
    if arr.ndim == 0:
        day = arr.item()
        if isinstance(day, datetime.datetime):
            day = day.date()
        return day.toordinal() if isinstance(day, datetime.date) else int(
            np.datetime64(day, "D").astype(np.int64)) + _EPOCH
    return to_ordinals(arr)


_EPOCH = datetime.date(1970, 1, 1).toordinal()


def _coarse(lo: int, hi: int) -> tuple[int, int]:
    """[lo, hi] widened outward to numbers of at most 4 significant bits (at most 2× wider
    near zero, ≤ 12.5 % elsewhere), keeping each bound's sign."""
    def up(x: int) -> int:  # the smallest m·2^e ≥ x with m < 16
        e = max(0, x.bit_length() - 4)
        return -((-x) >> e) << e

    def down(x: int) -> int:  # the largest m·2^e ≤ x with m < 16
        e = max(0, x.bit_length() - 4)
        return (x >> e) << e

    return (down(lo) if lo >= 0 else -up(-lo)), (up(hi) if hi >= 0 else -down(-hi))


def _covers(wide: tuple, narrow: tuple) -> bool:
    """Whether a plan compiled for `wide` holds for inputs of signature `narrow`: the same
    columns, kinds, denominators and constants, each range containing the other's."""
    if len(wide) != len(narrow):
        return False
    for (key, a), (key2, b) in zip(wide, narrow):
        if key != key2:
            return False
        if a != b and not (a[0] == b[0] == "int" and a[1] == b[1] and a[2] <= b[2] and b[3] <= a[3]):
            return False
    return True


def _hull(last: tuple, signature: tuple) -> tuple:
    """The signature covering both `last` and `signature` if no bound of `signature` changes sign
    or more than doubles in magnitude to get there; otherwise `signature` itself."""
    if len(last) != len(signature):
        return signature
    out = []
    for (key, a), (key2, b) in zip(last, signature):
        if key != key2 or (a != b and not (a[0] == b[0] == "int" and a[1] == b[1])):
            return signature
        if a == b:
            out.append((key, b))
            continue
        lo, hi = min(a[2], b[2]), max(a[3], b[3])
        if not (_near(lo, b[2]) and _near(hi, b[3])):
            return signature
        out.append((key, ("int", b[1], lo, hi)))
    return tuple(out)


def _near(wider: int, bound: int) -> bool:
    return (wider > 0) == (bound > 0) and (wider < 0) == (bound < 0) and \
        abs(wider).bit_length() <= abs(bound).bit_length() + 1


def _size_of(inputs: Mapping[str, object]) -> int:
    for v in inputs.values():
        if isinstance(v, Mapping):
            v = next(iter(v.values()))
        if isinstance(v, R):
            v = v.num
        return len(v)
    return 1


def compile_vector(contract: m.Contract, block: int = BLOCK) -> VectorContract:
    """The contract as a function over arrays of outcomes (see the module docstring)."""
    return VectorContract(contract, block)


def chunks(n: int, chunk: int) -> Iterator[tuple[int, int]]:
    """Fixed-size chunk boundaries [start, stop) covering n scenarios."""
    for start in range(0, n, chunk):
        yield start, min(n, start + chunk)


def evaluate_chunks(vc: VectorContract, make_inputs: Callable[[int, int], Mapping[str, object]],
                    n: int, chunk: int = 100_000,
                    reduce: Callable[[VectorSettlement, int, int], None] | None = None) -> None:
    """Evaluate n scenarios chunk by chunk: `make_inputs(start, stop)` builds a chunk's outcomes,
    `reduce(settlement, start, stop)` consumes its result. Memory is bounded by `chunk`."""
    for start, stop in chunks(n, chunk):
        s = vc(make_inputs(start, stop), stop - start)
        if reduce is not None:
            reduce(s, start, stop)


def inputs_from_outcomes(contract: m.Contract, rows: list[Mapping[str, object]]) -> dict:
    """Columns for `compile_vector(contract)` from outcome mappings as `load_outcomes` returns
    them (one per scenario): the way to settle many outcome files at once, or to compare the
    vectorised path with `Evaluator.evaluate` scenario by scenario."""

    def column(measure: m.Measure, values: list):
        if measure.ty.kind == BOOL:
            return np.array(values, dtype=bool)
        if measure.ty.kind == DATE:
            return np.array([v.isoformat() for v in values], dtype="datetime64[D]")
        return to_rational(values)

    out: dict = {}
    for name, measure in (*contract.measures.items(), *contract.parameters.items()):  # issue 17: parameters too
        if measure.ty.series:
            out[name] = {p.name: column(measure, [r[name][p.name] for r in rows])
                         for p in contract.series[measure.ty.series].periods}
        else:
            out[name] = column(measure, [r[name] for r in rows])
    return out
