"""Proofs by bounds: the settlement program run on intervals (abstract interpretation).

In: a checked contract. Out: `Bounds` — for every line of the settlement an interval its final
amount lies in for *every* outcome the measures' types and bounds allow, the total's interval,
and whether any division can fail. `sibc verify` (verify.py) asks it first: a property these
bounds decide is proved without the solver ("proved by bounds"); every other property goes to z3,
which sees the whole problem. Bounds never prove a property false: an interval wider than the
truth only means "not decided here".

The back end is the program's own (semantics/run.py, semantics/expr.py): the same steps, in the
same order, over these values —

- a number is an interval [lo, hi] of exact rationals (None: unbounded on that side); a measure
  starts from its domain (counts, days and money ≥ 0, shares in [0, 1], declared bounds), a
  constant is a point;
- a yes/no value is True, False, or MAYBE (either);
- `+ − × / min max abs` are interval arithmetic; a division whose divisor's interval holds 0 may
  fail (which keeps "defined" for the solver); rounding is monotone, so it rounds the ends;
- an `if`, a table row or a gate whose condition is not decided joins its branches;
- a cut keeps each line within [min(a, 0), a] (cut_lemmas in verify.py states the same facts to
  z3), and, unless a gate's condition or a rate's weights are involved, leaves the lines it cut
  summing to at most max(level, 0) — a *relational* fact interval arithmetic alone would forget.
  The fact holds until a later step may raise one of those lines (a floor, or a gate on a line
  that may be negative); cuts and caps only lower lines, so they keep it. The total's upper end
  is the tightest of the plain sum and each kept fact plus the other lines' upper ends;
- lower facts too (`_Run._keep_lower`): a cut leaves its lines summing to at least
  min(their sum, level), a total floor's top-up makes them sum to max(their sum, level) (and at
  most that: an upper fact), until a step that may lower one of them; each step reads the sum of
  its lines with every fact kept (`_Run.sum_of`, told the step by semantics.run's `enter`).

What verify reads from it (verify.Verifier._by_bounds): "defined" (no division may fail), "never
negative" (every line's lower end ≥ 0), caps (what they limit has an upper end ≤ the level's
lower end; a sum of lines by `Bounds.sum_hi`), floors (a lower end ≥ the level's upper end, after
every cut), a floor not above a cap on the same level, gates and return limits, and guarantees
whose value is "always true" — from the one run or from every case of the yes/no measures (`cases`).

That is why a rate card of 50 outcomes × 20 periods needs no solver for its 50 "never negative"
properties nor for "the total is at most the card's cap" (benchmarks/ratecard.py).
"""

from __future__ import annotations

import datetime
import weakref
from fractions import Fraction

import attrs

from . import model as m
from .semantics import run as driver
from .semantics.expr import Interpreter
from .semantics.program import Program, StepKind, lower
from .semantics.run import run
from .units import BOOL, COUNT, DATE, DAYS, MONEY, SHARE
from .values import Rounding


@attrs.frozen
class I:  # noqa: E742 — the interval, one letter as interval arithmetic writes it
    """An interval of exact rationals; None is unbounded on that side."""

    lo: Fraction | None
    hi: Fraction | None

    @staticmethod
    def point(v) -> I:
        v = Fraction(v)
        return I(v, v)

    def join(self, other: I) -> I:
        lo = None if self.lo is None or other.lo is None else min(self.lo, other.lo)
        hi = None if self.hi is None or other.hi is None else max(self.hi, other.hi)
        return I(lo, hi)

    def holds_zero(self) -> bool:
        return (self.lo is None or self.lo <= 0) and (self.hi is None or self.hi >= 0)


class _Maybe:
    """A yes/no value that may be either (None is taken: semantics.expr reads a failure mask of
    None as "cannot fail")."""

    def __repr__(self) -> str:
        return "MAYBE"


MAYBE = _Maybe()
ANY = I(None, None)
ZERO = I(Fraction(0), Fraction(0))


def _add(a: I, b: I) -> I:
    return I(None if a.lo is None or b.lo is None else a.lo + b.lo,
             None if a.hi is None or b.hi is None else a.hi + b.hi)


def _neg(a: I) -> I:
    return I(None if a.hi is None else -a.hi, None if a.lo is None else -a.lo)


def _mul(a: I, b: I) -> I:
    if a == ZERO or b == ZERO:
        return ZERO
    products = []
    for x in (a.lo, a.hi):
        for y in (b.lo, b.hi):
            if x is None or y is None:
                # an unbounded end times a finite one: ±∞ unless the finite one is 0
                other = y if x is None else x
                if other == 0:
                    products.append(Fraction(0))
                    continue
                return _mul_unbounded(a, b)
            products.append(x * y)
    return I(min(products), max(products))


def _mul_unbounded(a: I, b: I) -> I:
    """A product with an unbounded factor: only its sign can be known."""
    def sign(x: I) -> int | None:  # 1: ≥ 0, -1: ≤ 0
        if x.lo is not None and x.lo >= 0:
            return 1
        if x.hi is not None and x.hi <= 0:
            return -1
        return None
    sa, sb = sign(a), sign(b)
    if sa is None or sb is None:
        return ANY
    return I(Fraction(0), None) if sa == sb else I(None, Fraction(0))


def _min(values: list[I]) -> I:
    lo = None if any(v.lo is None for v in values) else min(v.lo for v in values)
    his = [v.hi for v in values if v.hi is not None]
    return I(lo, min(his) if his else None)


def _max(values: list[I]) -> I:
    los = [v.lo for v in values if v.lo is not None]
    hi = None if any(v.hi is None for v in values) else max(v.hi for v in values)
    return I(max(los) if los else None, hi)


def _compare(op: str, a: I, b: I):
    """A comparison's truth for every pair of values in the intervals, or MAYBE."""
    d = _add(a, _neg(b))  # a − b
    pos = d.lo is not None and d.lo > 0
    nonneg = d.lo is not None and d.lo >= 0
    neg = d.hi is not None and d.hi < 0
    nonpos = d.hi is not None and d.hi <= 0
    zero = d == ZERO
    if op == "<":
        return True if neg else False if nonneg else MAYBE
    if op == "<=":
        return True if nonpos else False if pos else MAYBE
    if op == ">":
        return True if pos else False if nonpos else MAYBE
    if op == ">=":
        return True if nonneg else False if neg else MAYBE
    if op == "==":
        return True if zero else False if (pos or neg) else MAYBE
    return False if zero else True if (pos or neg) else MAYBE  # !=


def _band(a, b):
    if a is False or b is False:
        return False
    if a is True and b is True:
        return True
    return MAYBE


def _bor(a, b):
    if a is True or b is True:
        return True
    if a is False and b is False:
        return False
    return MAYBE


def _bnot(a):
    return MAYBE if a is MAYBE else not a


def _select(c, t, o):
    if c is True:
        return t
    if c is False:
        return o
    if isinstance(t, I):
        return t.join(o)
    return t if t is o else MAYBE


def _measure(measure: m.Measure):
    kind = measure.ty.kind
    if kind == BOOL:
        return MAYBE
    lower, upper = measure.lower, measure.upper
    if lower is None and upper is None:
        lower = Fraction(0) if kind in (MONEY, COUNT, DAYS, SHARE) else None
        upper = Fraction(1) if kind == SHARE else None
    if kind == DATE:
        lower = Fraction(1) if lower is None else max(_number(lower), Fraction(1))
        top = Fraction(datetime.date.max.toordinal())
        upper = top if upper is None else min(_number(upper), top)
        return I(lower, upper)
    return I(None if lower is None else _number(lower), None if upper is None else _number(upper))


def _number(value) -> Fraction:
    return Fraction(value.toordinal()) if isinstance(value, datetime.date) else Fraction(value)


def _value_const(value):
    if isinstance(value, bool):
        return value
    if isinstance(value, datetime.date):
        return I.point(value.toordinal())
    return I.point(value)


class _Prims:
    """semantics.expr.Primitives over intervals and three-valued booleans."""

    tracks_failure = True
    FALSE = False

    def __init__(self, contract: m.Contract) -> None:
        self.contract = contract
        # a draft's parameters range over their agreed values like the measures over theirs (issue 17)
        self.domains = {name: _measure(ms) for name, ms in (*contract.measures.items(), *contract.parameters.items())}
        self.lines: list | None = None
        self.index: dict = {}
        self.payments: dict[str, I] | None = None
        self.total_value: I | None = None
        # bounds(record=True): (id(node), row) → whether each evaluation of the node takes that row
        # (True, False or MAYBE), and the nodes by id — what verify_checks.dead_clauses reads (W411)
        self.rows: dict[tuple, list] | None = None
        self.nodes: dict[int, object] = {}

    const = staticmethod(_value_const)

    def input(self, node: m.Input, period):
        return self.domains[node.name]

    @staticmethod
    def linear(terms):
        acc = ZERO
        for sign, v in terms:
            acc = _add(acc, v if sign > 0 else _neg(v))
        return acc

    @staticmethod
    def sub(a, b):
        return _add(a, _neg(b))

    mul = staticmethod(_mul)

    @staticmethod
    def div(a, b, node):
        if b.holds_zero():
            return ANY, (True if b == ZERO else MAYBE)
        inverse = I(None if b.hi is None else 1 / b.hi, None if b.lo is None else 1 / b.lo)
        if b.hi is None:  # b ≥ lo > 0: 1/b in (0, 1/lo]
            inverse = I(Fraction(0), 1 / b.lo)
        elif b.lo is None:  # b ≤ hi < 0: 1/b in [1/hi, 0)
            inverse = I(1 / b.hi, Fraction(0))
        return _mul(a, inverse), False

    neg = staticmethod(_neg)

    @staticmethod
    def absolute(a):
        if a.lo is not None and a.lo >= 0:
            return a
        if a.hi is not None and a.hi <= 0:
            return _neg(a)
        ends = [abs(x) for x in (a.lo, a.hi) if x is not None]
        return I(Fraction(0), None if None in (a.lo, a.hi) else max(ends))

    @staticmethod
    def extreme(op, values):
        values = list(values)
        return _min(values) if op == "min" else _max(values)

    compare = staticmethod(_compare)

    @staticmethod
    def bequal(op, a, b):
        if a is MAYBE or b is MAYBE:
            return MAYBE
        return (a == b) if op == "==" else (a != b)

    bnot = staticmethod(_bnot)

    @staticmethod
    def all_(values):
        result = True
        for v in values:
            result = _band(result, v)
        return result

    @staticmethod
    def any_(values):
        result = False
        for v in values:
            result = _bor(result, v)
        return result

    def first(self, conds, values, default, record=None):
        if record is not None and self.rows is not None:
            node, indices, default_index = record
            self.nodes[id(node)] = node
            earlier = True  # no earlier row taken
            for cond, index in zip(conds, indices):
                self.rows.setdefault((id(node), index), []).append(_band(earlier, cond))
                earlier = _band(earlier, _bnot(cond))
            self.rows.setdefault((id(node), default_index), []).append(earlier)
        result = default
        for c, v in zip(reversed(conds), reversed(values)):
            result = _select(c, v, result)
        return result

    @staticmethod
    def shift_date(date, days, sign):
        # whole days, cut towards zero: within [floor, ceil] of the days
        whole = I(None if days.lo is None else Fraction(days.lo.__floor__()),
                  None if days.hi is None else Fraction(days.hi.__ceil__()))
        return _add(date, whole if sign > 0 else _neg(whole))

    @staticmethod
    def days_between(a, b):
        return _add(a, _neg(b))

    @staticmethod
    def let(key, value):
        return value

    def settled(self, node):
        if isinstance(node, m.Total):
            return self.total_value if self.total_value is not None else ANY
        if self.payments is None:
            return ANY
        return self.payments.get(node.name, ANY)

    def paid(self, keys):
        acc = ZERO
        for k in keys:
            if k in self.index:
                v = self.lines[self.index[k]]
                acc = _add(acc, v if v is not None else ANY)
        return acc

    bor = staticmethod(_bor)
    band = staticmethod(_band)
    bwhere = staticmethod(_select)


@attrs.frozen
class Bounds:
    """What the interval run proved (see the module docstring)."""

    lines: tuple[I, ...]  # each line's final amount
    payments: dict  # payment name → the interval of each of its (non top-up) lines
    total: I
    defined: bool  # no division on any path can fail
    prims: _Prims = attrs.field(eq=False, repr=False)
    values: tuple = ()  # what each step computed (semantics.run.StepValues over intervals)
    facts: tuple = ()  # (lines, b): the final amounts of those lines sum to at most b
    # bounds(record=True): id(step) → the intervals of the lines it read, as they stood before it,
    # and for a cut, the facts (lines, b) that held then
    before: dict = attrs.field(factory=dict, eq=False, repr=False)
    facts_at: dict = attrs.field(factory=dict, eq=False, repr=False)

    def read_hi(self, step) -> Fraction | None:
        """An upper end of the sum of the lines a cut reads, as they stood before it: the plain sum
        of their upper ends, or a fact kept then on some of them plus the others' upper ends."""
        from .semantics.run import giving_order

        if id(step) not in self.facts_at:
            return None
        lines_then, facts = self.facts_at[id(step)]
        his = {j: lines_then[j].hi for j in giving_order(step.takes or step.group)}
        best = None if None in his.values() else sum(his.values(), Fraction(0))
        for lines, b in facts:
            rest = [his[j] for j in his if j not in lines]
            if lines <= his.keys() and None not in rest:
                candidate = b + sum(rest, Fraction(0))
                best = candidate if best is None else min(best, candidate)
        return best

    def sum_hi(self, group) -> Fraction | None:
        """An upper end of the sum of the final amounts of `group`: the plain sum of the upper
        ends, or a kept fact Σ_G ≤ b read as Σ_S ≤ b − Σ_{G∖S} lo + Σ_{S∖G} hi."""
        chosen = set(group)
        his = [self.lines[j].hi for j in chosen]
        best = None if None in his else sum(his, Fraction(0))
        for lines, b in self.facts:
            los = [self.lines[j].lo for j in lines - chosen]
            rest = [self.lines[j].hi for j in chosen - lines]
            if None in los or None in rest:
                continue
            candidate = b - sum(los, Fraction(0)) + sum(rest, Fraction(0))
            best = candidate if best is None else min(best, candidate)
        return best

    def steps_of(self, clause: m.ClauseRef) -> list:
        return [v for v in self.values if v.step.clause == clause and v.step.kind is not StepKind.COMPUTE]

    def nonnegative(self, payment: str) -> bool:
        return all(v.lo is not None and v.lo >= 0 for v in self.payments.get(payment, ()))

    def value(self, expr: m.Expr, period=None):
        """An expression over the settled amounts (a guarantee), and whether it may fail."""
        interp = Interpreter(self.prims.contract, self.prims)
        return interp.value(expr, period or {})


class _Run:
    """semantics.run.Backend over intervals."""

    ZERO = ZERO
    TRUE = True
    KEEP = True
    after = None
    event = None

    def __init__(self, contract: m.Contract, prims: _Prims, record: bool = False) -> None:
        self.prims = prims
        self.interp = Interpreter(contract, prims, record=record)
        self.before: dict[int, list[I]] | None = {} if record else None
        # record: id(step) of a cut → the lines as they stood before it, and the sum facts kept then
        self.facts_at: dict[int, tuple] = {}
        if record:
            self.after = self._after
        rounding = contract.rounding
        self._round = rounding.apply
        self._round_down = Rounding(rounding.step, "down").apply
        self.unit = Fraction(rounding.step)
        self.defined = True
        self.facts: dict[object, tuple[frozenset, Fraction]] = {}  # a step's id → (lines, upper bound of their sum)
        self.low: dict[object, tuple[frozenset, Fraction]] = {}  # a step's id → (lines, lower bound of their sum)
        self.step = None  # the step running (`enter`), and the sum of its lines before it
        self.entered: I | None = None
        self.conditions: dict[int, object] = {}  # id(step) → its condition's value (a total floor's `when`)
        self.untouched: set[int] = set()  # cuts shown to take nothing, whatever the outcome

    def enter(self, step) -> None:
        """semantics.run tells each step before it runs: the sum of the lines it reads, with every
        fact kept, is what its own facts start from (a cut leaves at least min(that sum, level))."""
        self.step = step
        self.entered = self.sum_of(step.group, self.prims.lines) if step.group and self.prims.lines else None

    def sum_of(self, group, lines) -> I:
        """The tightest interval of the sum of `group`'s lines: the plain sum of their ends, or a kept
        fact on lines F read as Σ_G = Σ_F − Σ_{F∖G} + Σ_{G∖F} (an upper fact with the others' upper
        ends, a lower fact with their lower ends)."""
        chosen = set(group)
        if any(lines[j] is None for j in chosen):
            return ANY
        plain = _Prims.linear([(1, lines[j]) for j in chosen])
        lo, hi = plain.lo, plain.hi
        for facts, upper in ((self.facts, True), (self.low, False)):
            for lines_of, bound in facts.values():
                if any(lines[j] is None for j in lines_of):
                    continue
                out = [lines[j].lo if upper else lines[j].hi for j in lines_of - chosen]
                extra = [lines[j].hi if upper else lines[j].lo for j in chosen - lines_of]
                if None in out or None in extra:
                    continue
                candidate = bound - sum(out, Fraction(0)) + sum(extra, Fraction(0))
                if upper:
                    hi = candidate if hi is None else min(hi, candidate)
                else:
                    lo = candidate if lo is None else max(lo, candidate)
        return I(lo, hi)

    def live(self, index, amounts) -> None:
        self.prims.index, self.prims.lines = index, amounts

    def _after(self, step, facts: dict) -> None:
        """semantics.run's report after a step (record=True): a cut's lines as they stood before it,
        whether or not it took anything, and the facts earlier steps left (not its own)."""
        if step.kind.cuts and facts.get("lines") is not None:
            self.facts_at[id(step)] = (list(facts["lines"]),
                                       tuple(f for k, f in self.facts.items() if k != id(step)))

    def expr(self, step, which, guard=None):
        value, bad = self.interp.value(getattr(step, which), dict(step.period))
        if bad is not None and bad is not False and guard is not False:
            self.defined = False
        if which == "condition":
            self.conditions[id(step)] = value
        return value

    const = staticmethod(_value_const)

    def _ends(self, x: I, f) -> I:
        return I(None if x.lo is None else Fraction(f(x.lo)), None if x.hi is None else Fraction(f(x.hi)))

    def round(self, x):
        return self._ends(x, self._round)  # rounding is monotone: it rounds the ends

    def round_down(self, x):
        return self._ends(x, self._round_down)

    linear = staticmethod(_Prims.linear)
    sub = staticmethod(_Prims.sub)
    mul = staticmethod(_mul)
    extreme = staticmethod(_Prims.extreme)
    compare = staticmethod(_compare)
    select = staticmethod(_select)
    band = staticmethod(_band)
    bnot = staticmethod(_bnot)

    @staticmethod
    def never(c) -> bool:
        return c is False

    def total(self, amounts, everyone):
        """The sum of the lines a step reads (semantics.run passes the values of `step.group`): the
        plain sum, narrowed by the facts kept on those lines (`sum_of`)."""
        plain = _Prims.linear([(1, a) for a in amounts])
        step = self.step
        if step is None or self.entered is None or len(amounts) != len(step.group) or step.weights:
            return plain
        kept = self.entered
        lo = kept.lo if plain.lo is None or (kept.lo is not None and kept.lo > plain.lo) else plain.lo
        hi = kept.hi if plain.hi is None or (kept.hi is not None and kept.hi < plain.hi) else plain.hi
        return I(lo, hi)

    def cut(self, step, amounts, excess):
        # each line ends within [min(a, 0), a] (verify.cut_lemmas); the sum fact is kept in `trace`
        out = [I(None if a.lo is None else min(a.lo, Fraction(0)), a.hi) for a in amounts]
        return out, MAYBE

    def weighted_cut(self, step, amounts, weights, excess):
        """A return limit's cut (run.weighted_cut). Where every line is ≥ 0 and every weight w ≥ 0,
        Σ w·a ≤ max(w) · Σ a: with the facts on the lines' sum (a cap before it, the floor's top-up),
        that can show the present value never above the limit — the cut then takes nothing, and the
        facts on its lines stay."""
        whole = self.entered if not step.takes and step.kind is StepKind.RETURN_LIMIT else None
        if (whole is not None and whole.hi is not None and weights and min(weights) >= 0
                and all(a.lo is not None and a.lo >= 0 for a in amounts)
                and max(weights) * whole.hi <= step.limit):
            self.untouched.add(id(step))
            return list(amounts), False
        return driver.weighted_cut(self, amounts, weights, excess)

    def pro_rata(self, step, amounts, excess):
        """A cut in proportion (run.pro_rata): a line a ≥ 0 ends in [0, a] (a × level ÷ total rounded
        down, level < total); a negative one between a − one step and 0. The lines' sum stays at most
        max(level, 0), the fact `trace` keeps as for a cut."""
        return [self.part(a, level=None, total=None) for a in amounts], MAYBE

    def part(self, a, level, total):
        """run.pro_rata's primitive (`pro_rata` above bounds the whole cut at once): a × level ÷ total
        rounded down, 0 ≤ level < total, lies where `pro_rata` puts a line."""
        return I(None if a.lo is None else (Fraction(0) if a.lo >= 0 else a.lo - self.unit),
                 None if a.hi is None else max(a.hi, Fraction(0)))

    def trace(self, step, line, before, after, acted, level) -> None:
        if self.before is not None and before is not None:
            self.before.setdefault(id(step), []).append(before)
        self._keep_lower(step, line, before, level)
        if id(step) in self.untouched:  # it took nothing (`weighted_cut`): every line as it was
            return
        if step.kind.cuts:
            if (acted is None and level is not None and level.hi is not None and not step.weights
                    and (step.kind is not StepKind.TOTAL_GATE or self.conditions.get(id(step)) is False)
                    and id(step) not in self.facts):  # a gate cuts only where its condition fails
                self.facts[id(step)] = (frozenset(step.group), max(level.hi, Fraction(0)))
            if step.takes and line == step.line:  # what the cut took goes back to the vehicle's line:
                # a sum holding the vehicle keeps its bound only if it holds the lines given back too
                self.facts = {k: f for k, f in self.facts.items() if line not in f[0] or set(step.takes) <= f[0]}
            return
        if step.kind is StepKind.WATERFALL and line == step.line and before is not None:
            # the step moves its flow from the vehicle's line to its new lines (each nothing before,
            # the parts adding up to the flow exactly: run.distribute), so every sum holding the
            # vehicle keeps its value with the new lines added, and the vehicle and its new lines
            # together sum to what the vehicle had — what a payer pays through a waterfall stays
            # within its caps (the budget by year, budget.py), which the lines' intervals forget
            new = frozenset(step.group)
            self.facts = {k: (f | new, b) if line in f else (f, b) for k, (f, b) in self.facts.items()}
            if before.hi is not None:
                self.facts[("waterfall", id(step))] = (new | {line}, before.hi)
            return
        if step.kind is StepKind.CAP or (step.kind is StepKind.GATE and before is not None
                                         and before.lo is not None and before.lo >= 0):
            return  # the line can only fall
        self.facts = {k: f for k, f in self.facts.items() if line not in f[0]}
        if step.kind is StepKind.TOTAL_FLOOR and self.entered is not None and self.entered.hi is not None \
                and level is not None and level.hi is not None:
            # its top-up line t makes the lines' sum max(Σ, level) where it applies and Σ elsewhere
            self.facts[id(step)] = (frozenset(step.group) | {line}, max(self.entered.hi, level.hi))

    def _keep_lower(self, step, line, before, level) -> None:
        """The lower facts (lines, a): Σ of those lines ≥ a. A cut on a group G leaves its lines
        summing to Σ − taken with taken ≤ max(Σ − level, 0), so at least min(Σ, level) — whatever
        its condition, as a gate that does not cut leaves Σ. A total floor's top-up line t makes
        Σ_G + t = max(Σ_G, level) where it applies (at least Σ_G elsewhere: t ≥ 0). A step that may
        lower a line (a cut, a cap, a gate) breaks the facts holding it; floors only raise lines,
        and a waterfall's new lines take what the vehicle gives (their sum with it unchanged)."""
        if id(step) in self.untouched:
            return
        kind = step.kind
        if kind is StepKind.WATERFALL and line == step.line:
            new = frozenset(step.group)
            self.low = {k: ((f | new, a) if line in f else (f, a)) for k, (f, a) in self.low.items()}
            return
        if kind in (StepKind.FLOOR, StepKind.STREAM_FLOOR):
            return  # they only raise their line
        if kind is StepKind.TOTAL_FLOOR:
            entered = self.entered
            if entered is not None and entered.lo is not None:
                when = True if step.condition is None else self.conditions.get(id(step), MAYBE)
                low = entered.lo
                if when is True and level is not None and level.lo is not None:
                    low = max(low, level.lo)
                self.low[id(step)] = (frozenset(step.group) | {line}, low)
            return
        self.low = {k: f for k, f in self.low.items() if line not in f[0] or k == id(step)}
        if (kind.cuts and id(step) not in self.low and not step.weights and not step.pro_rata and not step.takes
                and self.entered is not None and self.entered.lo is not None
                and level is not None and level.lo is not None):
            self.low[id(step)] = (frozenset(step.group), min(self.entered.lo, level.lo))

    def final_total(self, amounts) -> I:
        """The total's interval: the plain sum of every line's ends, narrowed by each kept fact."""
        self.step = self.entered = None
        return self.sum_of(range(len(amounts)), amounts)


def bounds(contract: m.Contract, program: Program | None = None, record: bool = False,
           fixed: dict | None = None) -> Bounds:
    """The settlement's bounds for every outcome (see the module docstring). `record`: also which
    rows each `if`, `tiers` and `interpolate` may take (`prims.rows`) and the lines each step read
    (`before`), for the dead-clause analysis (verify_checks.dead_clauses). `fixed`: yes/no measures
    held at a value (the bounds of the outcomes where they have it: `cases`)."""
    program = program or lower(contract)
    prims = _Prims(contract)
    prims.domains.update(fixed or {})
    if record:
        prims.rows = {}
    backend = _Run(contract, prims, record=record)
    settled = run(program, backend)
    amounts = list(settled.amounts)
    payments: dict[str, list[I]] = {}
    for ln, amount in zip(program.lines, amounts):
        if not ln.top_up:
            payments.setdefault(ln.payment, []).append(amount)
    prims.payments = {name: _Prims.linear([(1, a) for a in group]) for name, group in payments.items()}
    prims.total_value = backend.final_total(amounts)
    prims.lines = amounts  # a guarantee's paid-to-date reads the final lines (as verify's `live` does)
    return Bounds(tuple(amounts), {k: tuple(v) for k, v in payments.items()}, prims.total_value,
                  backend.defined, prims, settled.values, tuple(backend.facts.values()), backend.before or {},
                  backend.facts_at)


MAX_CASES = 16  # bounds run once per combination of at most 4 yes/no measures


# (a weak reference to the last contract asked, its program, its recorded cases): one contract's
# runs, kept until another is asked about (the runs' prims hold the contract, so it stays alive
# that long too; a language server holds its last model anyway)
_SHARED: list = []


def recorded_cases(contract: m.Contract) -> tuple[Program, list[Bounds]]:
    """The contract's program and `cases(contract, program, record=True)`, run once for the last
    contract asked: the properties' proofs (verify.Verifier._bounds) and the dead-clause analysis
    (verify_checks.FastPath) of one `sibc check` read the same runs. Recording only adds what each
    step read and which rows it may take (`before`, `facts_at`, `prims.rows`): the bounds are those
    of `record=False` (tests/test_bounds.py), and nothing that reads the runs changes them."""
    if _SHARED:
        ref, program, runs = _SHARED[0]
        if ref() is contract:
            return program, runs
    program = lower(contract)
    runs = cases(contract, program, record=True)
    _SHARED[:] = [(weakref.ref(contract), program, runs)]
    return program, runs


def cases(contract: m.Contract, program: Program | None = None, record: bool = False) -> list[Bounds]:
    """The bounds once for each combination of the contract's yes/no measures (held the same in
    every period), when there are at most four: together they cover every outcome, and each is
    tighter than the bounds with every yes/no value MAYBE — Norrköping's activity payment is
    4 000 000 SEK exactly when the programme was carried out, so with `completed` held its floor
    and its cap are decided. A fact holds for every outcome when it holds in every case. More
    yes/no measures, or a draft's parameters: the one run with every yes/no value MAYBE."""
    program = program or lower(contract)
    flags = [name for name, ms in contract.measures.items() if ms.ty.kind == BOOL and not ms.ty.series]
    if not flags or 2 ** len(flags) > MAX_CASES or any(p.ty.kind == BOOL for p in contract.parameters.values()):
        return [bounds(contract, program, record)]
    runs = []
    for k in range(2 ** len(flags)):
        fixed = {name: bool(k >> i & 1) for i, name in enumerate(flags)}
        runs.append(bounds(contract, program, record, fixed))
    return runs
