"""Monotonicity by structure: the settlement program run on (interval, direction) pairs.

In: a checked contract and one quantity that grows — a measure or a parameter (all its periods),
or a definition such as the savings — all else equal. Out: the direction in which the total (or
a guarantee's expression over the settled amounts) moves: 0 (it does not move), +1 (it never
falls), -1 (it never rises), or None (not decided here). `sibc verify` asks it before z3 for every
monotonicity (`monotone:MEASURE`, `guarantee … nondecreasing in …`): a direction that matches the
claim is a proof ("proved by structure"); anything else goes to the solver, which sees the whole
problem. So, like bounds.py, this never refutes.

Why: a monotonicity compares two settlements, and a price × count (two unknowns multiplied) in
two copies is non-linear arithmetic, which z3 may not decide within its work limit. The rule that
decides it is the product rule: Δ(f·g) = Δf·g′ + f·Δg, so a product of two factors that never fall
and are never negative never falls — the signs come from bounds.py's intervals.

Each value is a pair: its interval over every outcome (bounds.py's arithmetic) and its direction.
The rules, each sound for any two outcomes x ≤ x′ that differ only in the growing quantity:

- sums add directions (a rise and a fall: not decided), negation flips, min/max/rounding keep it;
- a product by the product rule above; a quotient as a product with 1/b (which moves against b
  where b keeps a sign; a divisor that may be 0: only a constant quotient is decided);
- a comparison `a ≥ b` rises (false → true) when a − b rises; `and`/`or` like min/max;
- an `if`, a table row or a gate: both branches in the same direction, and, where the condition
  itself moves, the branch it moves to no lower (no higher) than the one it leaves, by intervals;
- a cut (a cap or gate on the total or a stream) makes its lines' own directions unknown, but
  with lines never negative and a level not below 0 their sum becomes min(sum, level) — kept as
  a fact about the group, as bounds.py keeps "sums to at most"; a floor on the total or a stream
  makes its group's sum max(sum, level) where it applies. A later step that changes one of those
  lines drops the fact. A cut the intervals show can never act changes nothing.
- a return limit's weighted cut is decided only when it can never act (the same weight on every
  line and the group's sum within the limit); otherwise its lines are not decided.
"""

from __future__ import annotations

from fractions import Fraction

import attrs

from . import model as m
from .bounds import (
    ANY,
    MAYBE,
    ZERO,
    I,
    _add,
    _band,
    _bnot,
    _bor,
    _compare,
    _measure,
    _mul,
    _neg,
    _select,
    _value_const,
)
from .bounds import _Prims as Intervals
from .semantics.expr import Interpreter
from .semantics.program import Program, StepKind, lower
from .semantics.run import run
from .units import BOOL
from .values import Rounding

UP, DOWN, FLAT = 1, -1, 0


@attrs.frozen(eq=False)  # identity matters: the run maps line values back to their lines by it
class M:
    """A value over every outcome (an interval, or True/False/MAYBE) and its direction."""

    v: object
    d: int | None


def plus(a: int | None, b: int | None) -> int | None:
    """The direction of a sum (or min, max, and, or) of two things moving in a and b."""
    if a is None or b is None:
        return None
    if a == FLAT:
        return b
    if b == FLAT or a == b:
        return a
    return None


def scale(d: int | None, s: int | None) -> int | None:
    if d == FLAT or s == 0:
        return FLAT
    if d is None or s is None:
        return None
    return d * s


def sign(x: I) -> int | None:
    """0 for the point 0; 1 never negative; -1 never positive; None either."""
    if x == ZERO:
        return 0
    if x.lo is not None and x.lo >= 0:
        return 1
    if x.hi is not None and x.hi <= 0:
        return -1
    return None


def _at_least(a: M, b: M) -> bool:
    """a ≥ b for every outcome, as far as intervals tell."""
    if isinstance(a.v, I):
        return a.v.lo is not None and b.v.hi is not None and a.v.lo >= b.v.hi
    return a.v is True or b.v is False


def _decided(v) -> bool:
    return v is True or v is False or (isinstance(v, I) and v.lo is not None and v.lo == v.hi)


def mk(v, d) -> M:
    return M(v, FLAT if _decided(v) else d)


FALSE = M(False, FLAT)
TRUE = M(True, FLAT)
NOUGHT = M(ZERO, FLAT)


def _linear(terms) -> M:
    v, d = ZERO, FLAT
    for s, x in terms:
        v = _add(v, x.v if s > 0 else _neg(x.v))
        d = plus(d, x.d if s > 0 else scale(x.d, -1))
    return mk(v, d)


def _product(a: M, b: M) -> M:
    return mk(_mul(a.v, b.v), plus(scale(a.d, sign(b.v)), scale(b.d, sign(a.v))))


def _extreme(op, values) -> M:
    values = list(values)
    d = FLAT
    for x in values:
        d = plus(d, x.d)
    return mk(Intervals.extreme(op, [x.v for x in values]), d)


def _cmp(op, a: M, b: M) -> M:
    v = _compare(op, a.v, b.v)
    dd = plus(a.d, scale(b.d, -1))  # how a − b moves
    d = dd if op in (">", ">=") else scale(dd, -1) if op in ("<", "<=") else (FLAT if dd == FLAT else None)
    return mk(v, d)


def _choose(c: M, t: M, o: M) -> M:
    if c.v is True:
        return t
    if c.v is False:
        return o
    v = _select(c.v, t.v, o.v)
    both = plus(t.d, o.d)
    if c.d == FLAT:
        return mk(v, both)
    # the condition moves: from `o` to `t` as the quantity grows (c.d = +1), or from `t` to `o`
    high, low = (t, o) if c.d == UP else (o, t) if c.d == DOWN else (None, None)
    if high is None:
        return mk(v, None)
    if both in (FLAT, UP) and _at_least(high, low):
        return mk(v, UP)
    if both in (FLAT, DOWN) and _at_least(low, high):
        return mk(v, DOWN)
    return mk(v, None)


def _all(values) -> M:
    v, d = True, FLAT
    for x in values:
        v, d = _band(v, x.v), plus(d, x.d)
    return mk(v, d)


def _any(values) -> M:
    v, d = False, FLAT
    for x in values:
        v, d = _bor(v, x.v), plus(d, x.d)
    return mk(v, d)


class _Pairs:
    """semantics.expr.Primitives over (interval, direction) pairs."""

    tracks_failure = True
    FALSE = FALSE

    def __init__(self, contract: m.Contract, growing: str) -> None:
        self.contract = contract
        self.growing = growing
        self.definition = growing in contract.definitions
        varying = set()
        if self.definition:  # the measures it reads may move in any way that makes it grow
            from .verify import _dependencies

            varying = _dependencies(contract, growing)
        self.inputs = {}
        for name, ms in (*contract.measures.items(), *contract.parameters.items()):
            if name == growing:
                d = None if ms.ty.kind == BOOL else UP
            else:
                d = None if name in varying else FLAT
            self.inputs[name] = mk(_measure(ms), d)
        self.lines: list | None = None
        self.index: dict = {}
        self.payments: dict | None = None
        self.total_value: M | None = None

    @staticmethod
    def const(value) -> M:
        return M(_value_const(value), FLAT)

    def input(self, node: m.Input, period) -> M:
        return self.inputs[node.name]

    linear = staticmethod(_linear)
    mul = staticmethod(_product)
    extreme = staticmethod(_extreme)
    compare = staticmethod(_cmp)
    all_ = staticmethod(_all)
    any_ = staticmethod(_any)

    @staticmethod
    def sub(a, b):
        return _linear([(1, a), (-1, b)])

    @staticmethod
    def neg(a):
        return mk(_neg(a.v), scale(a.d, -1))

    @staticmethod
    def div(a: M, b: M, node):
        v, bad = Intervals.div(a.v, b.v, node)
        mask = M(bad, FLAT)
        if b.v.holds_zero():
            return mk(v, FLAT if a.d == FLAT and b.d == FLAT else None), mask
        inverse = M(Intervals.div(I.point(1), b.v, node)[0], scale(b.d, -1))  # 1/b moves against b
        return mk(v, _product(a, inverse).d), mask

    @staticmethod
    def absolute(a: M) -> M:
        s = sign(a.v)
        d = a.d if s == 1 else scale(a.d, -1) if s == -1 else (FLAT if a.d == FLAT else None)
        return mk(Intervals.absolute(a.v), d)

    @staticmethod
    def bequal(op, a: M, b: M) -> M:
        v = MAYBE if a.v is MAYBE or b.v is MAYBE else (a.v == b.v) if op == "==" else (a.v != b.v)
        return mk(v, FLAT if a.d == FLAT and b.d == FLAT else None)

    @staticmethod
    def bnot(a: M) -> M:
        return mk(_bnot(a.v), scale(a.d, -1))

    @staticmethod
    def first(conds, values, default, record=None):
        result = default
        for c, v in zip(reversed(conds), reversed(values)):
            result = _choose(c, v, result)
        return result

    @staticmethod
    def shift_date(date: M, days: M, sign_: int) -> M:
        return mk(Intervals.shift_date(date.v, days.v, sign_), plus(date.d, scale(days.d, sign_)))

    @staticmethod
    def days_between(a, b):
        return _linear([(1, a), (-1, b)])

    def let(self, key, value: M) -> M:
        if self.definition and key[0] == self.growing:  # the definition that grows, in each period
            return M(value.v, UP)
        return value

    def settled(self, node) -> M:
        if isinstance(node, m.Total):
            return self.total_value if self.total_value is not None else M(ANY, None)
        if self.payments is None:
            return M(ANY, None)
        return self.payments.get(node.name, M(ANY, None))

    def paid(self, keys) -> M:
        acc = NOUGHT
        for k in keys:
            if k in self.index:
                v = self.lines[self.index[k]]
                acc = _linear([(1, acc), (1, v if v is not None else M(ANY, None))])
        return acc

    @staticmethod
    def bor(a, b):
        return M(_bor(a.v, b.v), FLAT)

    @staticmethod
    def band(a, b):
        return mk(_band(a.v, b.v), plus(a.d, b.d))

    @staticmethod
    def bwhere(c, t, o):
        return _choose(c, t, o)


class _Run:
    """semantics.run.Backend over (interval, direction) pairs, with facts about the sums of groups
    of lines (see the module docstring)."""

    ZERO = NOUGHT
    TRUE = TRUE
    KEEP = False
    after = None
    event = None

    def __init__(self, contract: m.Contract, prims: _Pairs) -> None:
        self.prims = prims
        self.interp = Interpreter(contract, prims)
        rounding = contract.rounding
        self._round = rounding.apply
        self._round_down = Rounding(rounding.step, "down").apply
        self._unit = Fraction(rounding.step)
        self.facts: list[tuple[frozenset, M]] = []  # (lines, their sum)
        self.lines: list = []
        self._before: dict[int, tuple] = {}  # a cut step → (its lines, their sum) before it
        self._seen: dict[int, set] = {}  # a cut step → the lines traced so far
        self._group_sum: M | None = None  # the last group sum the driver read (a floor's shortfall)

    def live(self, index, amounts) -> None:
        self.prims.index, self.prims.lines = index, amounts
        self.lines = amounts

    def expr(self, step, which, guard=None) -> M:
        return self.interp.value(getattr(step, which), dict(step.period))[0]

    const = staticmethod(_Pairs.const)

    def _ends(self, x: M, f) -> M:
        v = I(None if x.v.lo is None else Fraction(f(x.v.lo)), None if x.v.hi is None else Fraction(f(x.v.hi)))
        return mk(v, x.d)  # rounding is monotone: it rounds the ends and keeps the direction

    def round(self, x):
        return self._ends(x, self._round)

    def round_down(self, x):
        return self._ends(x, self._round_down)

    linear = staticmethod(_linear)
    sub = staticmethod(_Pairs.sub)
    mul = staticmethod(_product)
    extreme = staticmethod(_extreme)
    compare = staticmethod(_cmp)
    select = staticmethod(_choose)
    band = staticmethod(_Pairs.band)
    bnot = staticmethod(_Pairs.bnot)

    @staticmethod
    def never(c) -> bool:
        return c.v is False

    def _indices(self, amounts) -> list[int] | None:
        """The lines these values are (each line's value is an object of its own: see `trace`)."""
        where = {id(v): j for j, v in enumerate(self.lines) if v is not None}
        found = [where.get(id(a)) for a in amounts]
        return None if None in found or len(set(found)) != len(found) else found

    def sum_of(self, indices) -> M:
        """The sum of these lines, through the kept facts about groups of them."""
        rest, parts = set(indices), []
        for lines, value in sorted(self.facts, key=lambda f: -len(f[0])):
            if lines <= rest:
                parts.append(value)
                rest -= lines
        parts += [self.lines[j] for j in sorted(rest)]
        through = _linear([(1, p) for p in parts])
        plain = _linear([(1, self.lines[j]) for j in indices]).v  # the plain sum's interval: also true
        lo = [x for x in (through.v.lo, plain.lo) if x is not None]
        hi = [x for x in (through.v.hi, plain.hi) if x is not None]
        return mk(I(max(lo) if lo else None, min(hi) if hi else None), through.d)

    def total(self, amounts, everyone) -> M:
        indices = self._indices(amounts)
        value = _linear([(1, a) for a in amounts]) if indices is None else self.sum_of(indices)
        self._group_sum = value if indices is not None else None
        return value

    def cut(self, step, amounts, excess):
        indices = self._indices(amounts)
        if indices is not None:
            self._before[id(step)] = (list(amounts), self.sum_of(indices))
        # each line within [min(a, 0), a], its own direction unknown; the group's sum: `trace`
        out = [M(I(None if a.v.lo is None else min(a.v.lo, Fraction(0)), a.v.hi), None) for a in amounts]
        return out, M(MAYBE, None)

    def pro_rata(self, step, amounts, excess):
        """A cut in proportion (run.pro_rata): a line a ≥ 0 ends in [0, a], a negative one between
        a − one step and 0, its own direction unknown; the group's sum is min(sum, level), as after a
        cut (`trace`), since the lines rounded down never add up to more than the level."""
        indices = self._indices(amounts)
        if indices is not None:
            self._before[id(step)] = (list(amounts), self.sum_of(indices))
        return [self.part(a, level=None, total=None) for a in amounts], M(MAYBE, None)

    def part(self, a, level, total):
        """round_down(a × level ÷ total) with 0 ≤ level < total (run.pro_rata's primitive): within
        [0, a] for a ≥ 0, its direction unknown (it falls as the total grows)."""
        return M(I(None if a.v.lo is None else (Fraction(0) if a.v.lo >= 0 else a.v.lo - self._unit),
                   None if a.v.hi is None else max(a.v.hi, Fraction(0))), None)

    def weighted_cut(self, step, amounts, weights, excess):
        indices = self._indices(amounts)
        if indices is not None and len(set(weights)) == 1 and weights[0] > 0:
            worth = _product(self.sum_of(indices), M(I.point(weights[0]), FLAT))  # every line the same weight
            if _compare(">", worth.v, I.point(step.limit)) is False:
                return list(amounts), FALSE  # it can never act: the reference cut takes nothing
        return self.cut(step, amounts, excess)

    def _drop(self, line: int) -> None:
        self.facts = [f for f in self.facts if line not in f[0]]

    def _own(self, i: int) -> None:
        value = self.lines[i]
        self.lines[i] = M(value.v, value.d)  # an object of its own, so `total` can tell lines apart

    def trace(self, step, line, before, after, acted, level) -> None:
        if step.kind is StepKind.WATERFALL and line == step.line and before is not None:
            # the step moves its flow from the vehicle's line to its new lines (each nothing before,
            # the parts adding up to the flow exactly: run.distribute), so a sum holding the vehicle
            # keeps its value with the new lines added, and the vehicle with its new lines sums to
            # what the vehicle had (as bounds.py keeps it): a waterfall moves no total
            new = frozenset(step.group)
            self.facts = [(f | new, v) if line in f else (f, v) for f, v in self.facts]
            self._own(line)
            self.facts.append((new | {line}, before))
            return
        if after is not before:  # a step that leaves a line as it was keeps what is known of its sums
            self._drop(line)
        self._own(line)
        if step.kind.cuts:
            seen = self._seen.setdefault(id(step), set())
            seen.add(line)
            if seen >= set(step.group):
                self._cut_fact(step, level)
        elif step.kind in (StepKind.TOTAL_FLOOR, StepKind.STREAM_FLOOR):
            self._floor_fact(step, level)

    def _cut_fact(self, step, level: M) -> None:
        """After a cut of non-negative lines to a level not below 0: their sum is min(sum, level)
        (where a gate on the total cuts: only where its condition fails)."""
        before = self._before.pop(id(step), None)
        if before is None or step.weights or level is None:
            return
        olds, total = before
        if any(a.v.lo is None or a.v.lo < 0 for a in olds) or level.v.lo is None or level.v.lo < 0:
            return
        capped = _extreme("min", [total, level])
        value = capped
        if step.kind is StepKind.TOTAL_GATE:
            value = _choose(self.expr(step, "condition"), total, capped)
        self.facts.append((frozenset(step.group), value))

    def _floor_fact(self, step, level: M) -> None:
        """After a floor on the total (its top-up line) or on a stream: where it applies, the
        group's sum (with the top-up) is max(sum, level)."""
        total, self._group_sum = self._group_sum, None  # the group's sum the driver read first
        if total is None or level is None:
            return
        when = TRUE if step.condition is None else self.expr(step, "condition")
        group = set(step.group) | {step.line}
        raised = _extreme("max", [total, level])
        self.facts.append((frozenset(group), _choose(when, raised, total)))


@attrs.frozen
class Moves:
    """How the settled amounts move when one quantity grows."""

    total: M
    payments: dict
    prims: _Pairs = attrs.field(repr=False)
    interp: Interpreter = attrs.field(repr=False)

    def value(self, expr: m.Expr | None) -> M:
        """The total (None) or an expression over the settled amounts (a guarantee)."""
        if expr is None:
            return self.total
        return self.interp.value(expr, {})[0]


def moves(contract: m.Contract, growing: str, program: Program | None = None) -> Moves:
    """The settlement run with `growing` rising, all else equal (see the module docstring)."""
    program = program or lower(contract)
    prims = _Pairs(contract, growing)
    backend = _Run(contract, prims)
    settled = run(program, backend)
    backend.lines = list(settled.amounts)
    payments: dict[str, list[int]] = {}
    for j, ln in enumerate(program.lines):
        if not ln.top_up:
            payments.setdefault(ln.payment, []).append(j)
    prims.payments = {name: backend.sum_of(group) for name, group in payments.items()}
    prims.total_value = backend.sum_of(list(range(len(program.lines))))
    prims.lines = backend.lines
    return Moves(prims.total_value, prims.payments, prims, backend.interp)


def proves(contract: m.Contract, growing: str, direction: str, expr: m.Expr | None) -> bool:
    """True when the structure alone shows that `expr` (the total when None) is `direction`
    ("nondecreasing"/"nonincreasing") in `growing`; False means "not decided here"."""
    if growing not in contract.measures and growing not in contract.parameters \
            and growing not in contract.definitions:
        return False
    d = moves(contract, growing).value(expr).d
    return d in ((FLAT, UP) if direction == "nondecreasing" else (FLAT, DOWN))
