"""The checked model compiled to a function over arrays of outcomes: N scenarios at once.

Same semantics as the scalar evaluator (sibdsl/evaluate.py: the order of application,
the rounding rule, tiers/interpolate, cuts in reverse order of declaration, return limits),
exactly — no float is involved. How:

* A numeric value is a *rational array* `R(num, den)`: an integer numerator array and one
  positive integer denominator shared by all scenarios (money in öre is `R(öre, 100)`,
  `reference_costs * 60 / 61` is `R(…, 6100)`). Sums align denominators, products multiply
  them, division by a constant multiplies the denominator. Dates are day ordinals.
* Numerators are int64 while a bound on their magnitude, carried through every operation,
  stays below 2**62; an operation that could overflow switches that value to numpy object
  arrays of Python ints (exact, slower) — per value, never silently.
* Division by a value that varies between scenarios has no common denominator: that one
  construct falls back to object arrays of `Fraction` (exact). A zero divisor marks the
  scenario as failed (E602 in the scalar path) instead of raising, because both branches of
  an `if` are computed for all scenarios; a failure only counts where the branch is taken.
* Rounding is integer floor division with the remainder compared to one half.

`compile_vector(contract)(inputs)` takes `{measure: array}` (a per-period measure takes
`{period: array}`; numbers as ints, Fractions, Decimals or `R`; booleans as bool arrays; dates as
`datetime64[D]` or arrays of `datetime.date`) and returns a `VectorSettlement`. Evaluate in fixed
chunks (`evaluate_chunks`) to bound memory: it is the same function on each chunk, which is
also how Dask can distribute it (docs/performance.md).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator, Mapping
from fractions import Fraction

import numpy as np

from . import model as m
from .units import BOOL, DATE
from .evaluate import principals, return_limit_amount
from .rarray import (  # noqa: F401  (R, add, mul, round_to, to_rational, … are public here)
    _LIMIT, R, _bound_of, _obj_fraction, _to_object, _to_ordinals, absolute, add, compare, divide_const,
    maximum, minimum, mul, neg, round_to, to_rational, where)


# ---------------------------------------------------------------- expressions
class _Eval:
    def __init__(self, vc: VectorContract, inputs: Mapping[str, object], size: int):
        self.vc, self.inputs, self.size = vc, inputs, size
        self.cache: dict = {}
        self.period: dict[str, str] = {}
        self.failed = np.zeros(size, dtype=bool)
        self.divisions: list[m.Op] = []  # divisions that met a zero divisor in some scenario
        self.payments: dict[str, R] | None = None
        self.total: R | None = None

    def input(self, e: m.Input):
        key = (e.name, self.period.get(e.ty.series) if e.ty.series else None)
        if key in self.cache:
            return self.cache[key]
        raw = self.inputs[e.name]
        if e.ty.series:
            raw = raw[self.period[e.ty.series]]
        if e.ty.kind == BOOL:
            value = np.asarray(raw, dtype=bool)
        elif e.ty.kind == DATE:
            v = _to_ordinals(raw)
            value = R(v, 1)
        else:
            value = to_rational(raw)
        self.cache[key] = value
        return value

    def var(self, name: str):
        vc = self.vc
        if name in vc.constants:
            return R.const(vc.constants[name])
        definition = vc.contract.definitions[name]
        key = ("def", name, self.period.get(definition.ty.series) if definition.ty.series else None)
        if key not in self.cache:
            value, bad = self.expr(definition.expr)
            if definition.indexation is not None:
                ix = definition.indexation
                value = mul(value, R.const((1 + ix.rate) ** ix.years))
            self.cache[key] = (value, bad)
        return self.cache[key]

    # Every expression returns (value, bad): bad is None or a bool array of scenarios where a
    # division by zero was evaluated on the taken path (the scalar path raises E602 there).
    def expr(self, e: m.Expr):
        if isinstance(e, m.Const):
            v = e.value
            if isinstance(v, bool):
                return v, None
            if isinstance(v, datetime.date):
                return R(v.toordinal(), 1, v.toordinal()), None
            return R.const(v), None
        if isinstance(e, m.Input):
            return self.input(e), None
        if isinstance(e, m.Var):
            if e.name in self.vc.constants:
                return R.const(self.vc.constants[e.name]), None
            return self.var(e.name)
        if isinstance(e, m.PaymentRef):
            return self.payments[e.name], None
        if isinstance(e, m.Total):
            return self.total, None
        if isinstance(e, m.Cond):
            c, cb = self.expr(e.cond)
            t, tb = self.expr(e.then)
            o, ob = self.expr(e.otherwise)
            return where(c, t, o), _or(cb, _pick(c, tb, ob))
        if isinstance(e, m.Sum):
            periods = [p.name for p in self.vc.contract.series[e.series].periods]
            saved = self.period.get(e.series)
            acc, bad = R.const(0), None
            for p in periods:
                self.period[e.series] = p
                v, b = self.expr(e.operand)
                acc, bad = add(acc, v), _or(bad, b)
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
                hit = compare(x, R.const(threshold), ">=")
                result, rb = where(hit, v, result), _pick(hit, vb, rb)
            return result, _or(bad, rb)
        if isinstance(e, m.Interp):
            x, bad = self.expr(e.subject)
            xs, ys = e.xs, e.ys
            result = R.const(ys[-1])
            # scalar: x <= xs[0] → ys[0]; first i with x <= xs[i] → segment i; else ys[-1]
            for i in range(len(xs) - 1, 0, -1):
                seg = add(R.const(ys[i - 1]),
                          divide_const(mul(R.const(ys[i] - ys[i - 1]), add(x, R.const(xs[i - 1]), -1)),
                                       xs[i] - xs[i - 1]))
                result = where(compare(x, R.const(xs[i]), "<="), seg, result)
            result = where(compare(x, R.const(xs[0]), "<="), R.const(ys[0]), result)
            return result, bad
        assert isinstance(e, m.Op), e
        return self.op(e)

    def op(self, e: m.Op):
        op = e.op
        if op in ("and", "or"):
            a, ab = self.expr(e.args[0])
            b, bb = self.expr(e.args[1])
            if op == "and":  # b only evaluated where a holds
                return np.logical_and(a, b) if _arr(a, b) else (a and b), _or(ab, _pick(a, bb, None))
            return np.logical_or(a, b) if _arr(a, b) else (a or b), _or(ab, _pick(a, None, bb))
        vals = [self.expr(a) for a in e.args]
        bad = None
        for _, b in vals:
            bad = _or(bad, b)
        args = [v for v, _ in vals]
        if op == "neg":
            return neg(args[0]), bad
        if op == "not":
            return np.logical_not(args[0]) if isinstance(args[0], np.ndarray) else not args[0], bad
        if op == "abs":
            return absolute(args[0]), bad
        if op in ("min", "max"):
            acc = args[0]
            for v in args[1:]:  # Python's min/max keep the first of equal values: same value here
                acc = minimum(acc, v) if op == "min" else maximum(acc, v)
            return acc, bad
        a, b = args
        if op in ("<", "<=", ">", ">=", "==", "!="):
            if isinstance(a, R):
                return compare(a, b, op), bad
            fn = {"==": np.equal, "!=": np.not_equal}[op]
            return fn(a, b), bad
        if op == "+":
            if e.ty.kind == DATE:
                return self._add_days(e, a, b, 1), bad
            return add(a, b), bad
        if op == "-":
            if e.ty.kind == DATE:
                return self._add_days(e, a, b, -1), bad
            return add(a, b, -1), bad
        if op in ("*", "of"):
            return mul(a, b), bad
        if op == "/":
            if not isinstance(b.num, np.ndarray):
                c = Fraction(b.num) / b.den
                if c == 0:
                    self.divisions.append(e)
                    return R.const(0), _or(bad, np.ones(self.size, dtype=bool))
                return divide_const(a, c), bad
            # fallback: a divisor that varies by scenario — exact Fractions, per element
            zero = compare(b, R.const(0), "==")
            safe = where(zero, R.const(1), b)
            q = np.asarray(_obj_fraction(a), dtype=object) / np.asarray(_obj_fraction(safe), dtype=object)
            q = np.broadcast_to(q, (self.size,)).copy()
            q[zero] = Fraction(0)
            if zero.any():
                self.divisions.append(e)
            return R(q, 1, None), _or(bad, zero if zero.any() else None)
        raise AssertionError(op)

    def _add_days(self, e: m.Op, a: R, b: R, sign: int) -> R:
        date_first = e.args[0].ty.kind == DATE
        date, days = (a, b) if date_first else (b, a)
        # int(days): truncation toward zero, as timedelta(days=int(days)) in the scalar path
        if days.bound is not None:
            t = np.where(days.num >= 0, days.num // days.den, -((-days.num) // days.den)) \
                if isinstance(days.num, np.ndarray) else int(Fraction(days.num, days.den))
        else:
            t = np.array([int(Fraction(x) / days.den) for x in np.asarray(days.num).ravel()], dtype=np.int64)
        return R(date.num + sign * t, 1)


def _arr(*xs) -> bool:
    return any(isinstance(x, np.ndarray) for x in xs)


def _or(a, b):
    if a is None:
        return b
    if b is None:
        return a
    return a | b


def _pick(c, t, o):
    """Failure mask of a choice: t's failures where c holds, o's elsewhere."""
    if t is None and o is None:
        return None
    if isinstance(c, (bool, np.bool_)):
        return t if c else o
    t = np.zeros_like(c) if t is None else t
    o = np.zeros_like(c) if o is None else o
    return np.where(c, t, o)


# ---------------------------------------------------------------- settlement
class VectorLine:
    __slots__ = ("key", "payment", "payer", "recipient", "period", "due", "amount")

    def __init__(self, key, payment, payer, recipient, period, due, amount: R):
        self.key, self.payment, self.payer, self.recipient = key, payment, payer, recipient
        self.period, self.due, self.amount = period, due, amount


class VectorSettlement:
    """N settlements: per line an exact amount array, the total, events and failure masks."""

    def __init__(self, size: int, lines: list[VectorLine], events: dict[str, np.ndarray],
                 failed: np.ndarray, negative: np.ndarray, step: Fraction):
        self.size, self.lines, self.events = size, lines, events
        self.failed, self.negative = failed, negative
        self.step = step
        self.divisions: list = []  # where a division by zero made scenarios fail (for E602)
        total = R.const(0)
        for ln in lines:
            total = add(total, ln.amount)
        self.total = total

    def minor(self, r: R, scale: int = 100) -> np.ndarray:
        """Amounts in minor units (öre for scale 100) as int64 — exact: every amount is on the grid."""
        num = np.broadcast_to(np.asarray(r.num), (self.size,))
        if scale % r.den == 0:
            k = scale // r.den
            if r.bound is not None and r.bound * k < _LIMIT:
                return (num * k).astype(np.int64)
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

    def __init__(self, contract: m.Contract):
        self.contract = contract
        self.rounding = contract.rounding
        self.constants = {n: i.amount for n, i in contract.investments.items()}
        self.constants.update({n: Fraction(c.size) for n, c in contract.cohorts.items()})

    def _due(self, due: m.Due, period: m.Period | None):
        if due.date is not None:
            return due.date
        if due.days_after_end is not None:
            end = period.end if period else (self.contract.term[1] if self.contract.term else None)
            return end + datetime.timedelta(days=due.days_after_end) if end else None
        return None

    def __call__(self, inputs: Mapping[str, object], size: int | None = None) -> VectorSettlement:
        if size is None:
            size = _size_of(inputs)
        contract, rnd = self.contract, self.rounding
        ev = _Eval(self, inputs, size)
        failed = np.zeros(size, dtype=bool)
        events: dict[str, np.ndarray] = {}
        lines: list[VectorLine] = []

        def fail(bad):
            nonlocal failed
            if bad is not None:
                failed = failed | bad

        def event(name, mask):
            mask = np.broadcast_to(np.asarray(mask, dtype=bool), (size,))
            events[name] = events[name] | mask if name in events else mask.copy()

        def cut(group: list[VectorLine], excess: R, name: str):
            any_cut = np.zeros(size, dtype=bool)
            for ln in reversed(group):
                positive = compare(excess, R.const(0), ">")
                if not np.any(positive):  # nothing (left) to cut in any scenario: the loop is done
                    break
                c = minimum(ln.amount, excess)
                c = where(positive & compare(c, R.const(0), ">"), c, R.const(0))
                any_cut = any_cut | compare(c, R.const(0), ">")
                ln.amount = add(ln.amount, c, -1)
                excess = add(excess, c, -1)
            event(name, any_cut)

        def total_of(group):
            t = R.const(0)
            for ln in group:
                t = add(t, ln.amount)
            return t

        # 1-3
        for payment in contract.payments.values():
            periods = contract.series[payment.series].periods if payment.series else (None,)
            for period in periods:
                if period is not None:
                    ev.period[payment.series] = period.name
                raw, bad = ev.expr(payment.expr)
                fail(bad)
                amount = round_to(raw, rnd)
                for gate in contract.gates:
                    if gate.target != payment.name:
                        continue
                    c, cb = ev.expr(gate.condition)
                    fail(cb)
                    event(f"gate {gate.clause.name}", np.logical_not(c))
                    amount = where(c, amount, R.const(0))
                for fl in contract.floors:
                    if fl.target != payment.name:
                        continue
                    applies = True
                    if fl.when is not None:
                        applies, wb = ev.expr(fl.when)
                        fail(wb)
                    low, lb = ev.expr(fl.amount)
                    fail(_pick(applies, lb, None))
                    low = round_to(low, rnd)
                    lift = np.logical_and(applies, compare(amount, low, "<"))
                    event(f"floor {fl.clause.name}", lift)
                    amount = where(lift, low, amount)
                for cap in contract.caps:
                    if cap.kind != "payment" or cap.target != payment.name:
                        continue
                    hi, hb = ev.expr(cap.amount)
                    fail(hb)
                    hi = round_to(hi, rnd)
                    over = compare(amount, hi, ">")
                    event(f"cap {cap.clause.name}", over)
                    amount = where(over, hi, amount)
                lines.append(VectorLine(("payment", payment.name, period.name if period else None),
                                        payment.name, payment.payer, payment.recipient,
                                        period.name if period else None, self._due(payment.due, period), amount))
            if payment.series:
                ev.period.pop(payment.series, None)
        # 4
        for cap in contract.caps:
            if cap.kind == "series":
                for period in contract.series[cap.target].periods:
                    ev.period[cap.target] = period.name
                    in_period = [ln for ln in lines if ln.period == period.name]
                    hi, hb = ev.expr(cap.amount)
                    fail(hb)
                    hi = round_to(hi, rnd)
                    cut(in_period, add(total_of(in_period), hi, -1), f"cap {cap.clause.name}")
                ev.period.pop(cap.target, None)
            elif cap.kind == "participant":
                size_ = contract.cohorts[cap.target].size
                hi, hb = ev.expr(cap.amount)
                fail(hb)
                hi = round_to(mul(hi, R.const(size_)), rnd)
                cut(lines, add(total_of(lines), hi, -1), f"cap {cap.clause.name}")
        # 5
        for gate in contract.gates:
            if gate.target != "total":
                continue
            c, cb = ev.expr(gate.condition)
            fail(cb)
            level, lb = ev.expr(gate.level)
            fail(_pick(c, None, lb))
            level = round_to(level, rnd)
            excess = where(c, R.const(0), add(total_of(lines), level, -1))
            cut(lines, excess, f"gate {gate.clause.name}")
        # 6
        for fl in contract.floors:
            if fl.target != "total":
                continue
            applies = True
            if fl.when is not None:
                applies, wb = ev.expr(fl.when)
                fail(wb)
            low, lb = ev.expr(fl.amount)
            fail(_pick(applies, lb, None))
            low = round_to(low, rnd)
            shortfall = add(low, total_of(lines), -1)
            lift = np.logical_and(applies, compare(shortfall, R.const(0), ">"))
            event(f"floor {fl.clause.name}", lift)
            due = self._due(fl.due, None) if fl.due else max((ln.due for ln in lines if ln.due), default=None)
            lines.append(VectorLine(("floor", fl.clause.name, len(lines)), fl.clause.name, fl.payer or "",
                                    fl.recipient or "", None, due, where(lift, shortfall, R.const(0))))
        # 7
        for cap in contract.caps:
            if cap.kind == "total":
                hi, hb = ev.expr(cap.amount)
                fail(hb)
                hi = round_to(hi, rnd)
                cut(lines, add(total_of(lines), hi, -1), f"cap {cap.clause.name}")
        # 8
        for investor, principal in principals(contract).items():
            for limit in contract.return_limits:
                most = return_limit_amount(contract, limit, principal)
                to_investor = [ln for ln in lines if ln.recipient == investor]
                cut(to_investor, add(total_of(to_investor), R.const(most), -1),
                    f"return limit {limit.clause.name}")
        failed = failed | ev.failed
        negative = np.zeros(size, dtype=bool)
        for ln in lines:
            negative = negative | compare(ln.amount, R.const(0), "<")
        for name in list(events):
            events[name] = np.asarray(events[name])
        settled = VectorSettlement(size, lines, events, failed, negative, Fraction(rnd.step))
        settled.divisions = ev.divisions if failed.any() else []
        return settled


def _size_of(inputs: Mapping[str, object]) -> int:
    for v in inputs.values():
        if isinstance(v, Mapping):
            v = next(iter(v.values()))
        if isinstance(v, R):
            v = v.num
        return len(v)
    return 1


def compile_vector(contract: m.Contract) -> VectorContract:
    """The contract as a function over arrays of outcomes (see the module docstring)."""
    return VectorContract(contract)


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
    for name, measure in contract.measures.items():
        if measure.ty.series:
            out[name] = {p.name: column(measure, [r[name][p.name] for r in rows])
                         for p in contract.series[measure.ty.series].periods}
        else:
            out[name] = column(measure, [r[name] for r in rows])
    return out
