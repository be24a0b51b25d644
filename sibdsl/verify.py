"""`sibc verify`: the contract's promises proved for every possible set of outcomes.

The checked model is translated into an SMT formula (z3, over exact rationals and integers) that
mirrors the evaluation function of `evaluate.py` step by step: the payment formulas, the contract's
rounding rule (encoded exactly with integer floors, so a proof is a proof about rounded amounts),
gates, floors, caps, the cuts in reverse declaration order, the floor top-up lines and the
return limits. Each property is the claim "for all outcomes within the measures' types and
bounds, P holds"; z3 searches for outcomes where P fails.

Verdicts:
    proved    z3 showed that no outcomes break the property;
    violated  z3 found outcomes that break it, and the real evaluator, run on those outcomes
              written as an outcome file, reproduced the violation;
    unknown   z3 gave up (time-out, non-linear arithmetic it cannot decide), or found outcomes the
              evaluator did not confirm; the reason is given. Never a silent pass.

The built-in properties (caps, floors, gates, non-negative payments, return limits, monotonicity
in every measure with `better higher/lower`, floors not above caps, and that the settlement is
defined: no division by zero) are checked for every contract; the contract's `guarantee`s too.
"""

from __future__ import annotations

import datetime
import json
import time
from collections.abc import Callable, Iterable
from fractions import Fraction

import attrs

from . import model as m
from .compiler import Compiler, Ctx, EvaluationError
from .evaluate import Evaluator, compile_contract
from .semantics.expr import Interpreter
from .semantics.program import Program, StepKind, lower
from .semantics import run as driver
from .semantics.run import cut, run
from .settlement import Settlement
from .units import BOOL, COUNT, DATE, DAYS, MONEY, SHARE
from .values import Rounding, is_exact_decimal, to_decimal
from .lazyz3 import LazyZ3, solver_value

z3 = LazyZ3(globals())  # imported when a question needs the solver (lazyz3.py)

PROVED, VIOLATED, UNKNOWN = "proved", "violated", "unknown"
DEFAULT_TIMEOUT = 10.0
# The solver's work is bounded by z3's deterministic resource limit (rlimit), not by wall time, so
# the same contract gets the same verdicts on a busy and on a quiet machine (issue 22). A "second"
# of --timeout is this many rlimit units: about a second of z3 on the reference machine.
RLIMIT_PER_SECOND = 3_000_000


BY_BOUNDS = "proved by bounds: every line's interval, over all outcomes, decides it without the solver"
BY_BOUNDS_WORDS = {"en": BY_BOUNDS,
                   "sv": "bevisat med gränser: varje rads intervall, över alla utfall, avgör det utan lösaren"}
BY_STRUCTURE = ("proved by structure: each step of the settlement moves the same way (sums, products of "
                "factors never negative, min, max, rounding, caps), without the solver")
BY_STRUCTURE_WORDS = {"en": BY_STRUCTURE,
                      "sv": "bevisat av formen: varje steg i avräkningen rör sig åt samma håll (summor, produkter "
                            "av faktorer som aldrig är negativa, min, max, avrundning, tak), utan lösaren"}

GRID_SECONDS = 0.3  # the budget for finding a decimal counterexample, per number of digits tried


def _rlimit(seconds: float) -> int:
    return max(1, int(seconds * RLIMIT_PER_SECOND))


@attrs.frozen
class Verdict:
    """The outcome of proving one property."""

    key: str  # stable identifier, e.g. "cap:ceiling"
    description: str  # for people: "the total is never above the cap `ceiling` (line 57)"
    status: str  # proved / violated / unknown
    seconds: float
    reason: str = ""
    counterexample: tuple[dict, ...] = ()  # outcome files (two for monotonicity: before, after)
    settlements: tuple[Settlement, ...] = ()
    clause: m.ClauseRef | None = None  # the declaration the property is about
    line: int = 0  # where the violation shows, when no clause says (a division by zero) or it is
    #               more precise than the clause (the table row, the sub-expression that goes negative)
    # the verdict in plain words, per language ("en", "sv"): which promise broke and by how much, or
    # what could not be decided and what the user can do (counterexample.py, verify_checks.py)
    words: dict = attrs.field(factory=dict, eq=False)
    shown: tuple[dict, ...] = ()  # each outcome file cut to the outcomes that matter
    # how a proof was found: "solver" (z3) or "bounds" (bounds.py: the settlement run on intervals)
    method: str = "solver"


# ---------------------------------------------------------------- symbolic evaluation
class _Undefined(Exception):
    """A construct the encoding does not cover; the property becomes `unknown`."""


def _real(value) -> z3.ArithRef:
    if isinstance(value, bool):
        raise _Undefined("a yes/no value where a number was expected")
    if isinstance(value, datetime.date):
        return z3.RealVal(value.toordinal())
    f = Fraction(value)
    return z3.RealVal(f"{f.numerator}/{f.denominator}")


def _const(value):
    if isinstance(value, bool):
        return z3.BoolVal(value)
    return _real(value)


def _trunc(x):
    """int(x) for a real x: towards zero."""
    return z3.If(x >= 0, z3.ToReal(z3.ToInt(x)), -z3.ToReal(z3.ToInt(-x)))


def _min(items):
    result = items[0]
    for item in items[1:]:
        result = z3.If(item < result, item, result)
    return result


def _max(items):
    result = items[0]
    for item in items[1:]:
        result = z3.If(item > result, item, result)
    return result


def sym_round(x, rounding: Rounding):
    """Rounding.apply, exactly: the same case analysis over an integer floor."""
    step = _real(Fraction(rounding.step))
    units = x / step
    whole = z3.ToReal(z3.ToInt(units))
    rest = units - whole
    half = z3.RealVal("1/2")
    mode = rounding.mode
    if mode == "down":
        n = whole
    elif mode == "up":
        n = z3.If(rest == 0, whole, whole + 1)
    else:
        if mode == "half up":
            tie = z3.If(x >= 0, whole + 1, whole)
        elif mode == "half down":
            tie = z3.If(x >= 0, whole, whole + 1)
        else:  # half even
            tie = z3.If(z3.ToInt(whole) % 2 == 0, whole, whole + 1)
        n = z3.If(rest == 0, whole, z3.If(rest > half, whole + 1, z3.If(rest < half, whole, tie)))
    return n * step


class _Sym:
    """One symbolic copy of the contract's evaluation: inputs are z3 variables named with `tag`."""

    def __init__(self, contract: m.Contract, tag: str, shared: dict | None = None,
                 fresh: Iterable[str] = (), abstract: bool = False):
        self.contract = contract
        self.tag = tag
        # abstract: each rounding is a fresh value within one step of its argument; the sites are
        # paired across copies by `pair_roundings`, which adds that rounding is monotone.
        self.abstract = abstract
        self.roundings: list[tuple[z3.ArithRef, z3.ArithRef]] = []
        self.inputs: dict[tuple[str, str | None], z3.ExprRef] = {}
        self.domain: list[z3.BoolRef] = []
        fresh = set(fresh)
        for name, measure in contract.measures.items():
            periods = [p.name for p in contract.series[measure.ty.series].periods] if measure.ty.series else [None]
            for period in periods:
                key = (name, period)
                if shared is not None and name not in fresh:
                    self.inputs[key] = shared[key]
                    continue
                self.inputs[key] = self._variable(measure, f"{tag}{name}" + (f"@{period}" if period else ""))
        for name, parameter in contract.parameters.items():  # issue 17: one variable over its range,
            key = (name, None)                                 # the same in every copy of the settlement
            self.inputs[key] = shared[key] if shared is not None and name not in fresh else \
                self._variable(parameter, f"{tag}{name}")
        self.payments: dict[str, z3.ArithRef] | None = None
        self.total: z3.ArithRef | None = None
        self.interp = Interpreter(contract, self)
        self.assumed: list[tuple[m.Assumption, z3.BoolRef]] = []
        for assumption in contract.assumptions:  # issue 17: hypotheses of every proof
            for held in self.assumption(assumption):
                self.assumed.append((assumption, held))
        self.domain += [held for _, held in self.assumed]

    def assumption(self, assumption: m.Assumption) -> list[z3.BoolRef]:
        """The assumption as z3 conditions, one per period of its series (it holds in each), each
        with its formulas defined (an assumption that divides by zero does not hold)."""
        series = assumption.series
        periods = [{series: p.name} for p in self.contract.series[series].periods] if series else [{}]
        result = []
        for period in periods:
            term, defined = self.expr(assumption.expr, period)
            result.append(z3.And(defined, term))
        return result

    def round(self, x):
        if not self.abstract:
            return sym_round(x, self.contract.rounding)
        step = _real(Fraction(self.contract.rounding.step))
        r = z3.Real(f"{self.tag}round{len(self.roundings)}")
        self.domain += [r > x - step, r < x + step]
        self.roundings.append((x, r))
        return r

    def _variable(self, measure: m.Measure, name: str):
        kind = measure.ty.kind
        if kind == BOOL:
            return z3.Bool(name)
        if kind in (COUNT, DATE, DAYS):  # whole numbers: no one-öre breach from a fractional count of days
            raw = z3.Int(name)
            var = z3.ToReal(raw)
        else:
            var = z3.Real(name)
        lower, upper = measure.lower, measure.upper
        if lower is None and upper is None:
            lower = Fraction(0) if kind in (MONEY, COUNT, DAYS, SHARE) else None
            upper = Fraction(1) if kind == SHARE else None
        if kind == DATE:  # a calendar date an outcome file can hold
            self.domain += [var >= 1, var <= datetime.date.max.toordinal()]
        if lower is not None:
            self.domain.append(var >= _real(lower))
        if upper is not None:
            self.domain.append(var <= _real(upper))
        return var

    # expressions: (term, defined) where `defined` says the evaluator would not fail (E602)
    def expr(self, e: m.Expr, period: dict[str, str]):
        term, bad = self.interp.value(e, period)
        return term, (z3.BoolVal(True) if bad is None else z3.Not(bad))

    def var(self, name: str, period: dict[str, str]):
        return self.expr(m.Var(name, self.contract.definitions[name].ty) if name in self.contract.definitions
                         else m.Var(name, None), period)

    # ------------------------------------------------------------ semantics.expr.Primitives over z3 terms
    tracks_failure = True
    FALSE = solver_value(lambda: z3.BoolVal(False))

    @staticmethod
    def const(value):
        return _const(value)

    def input(self, node: m.Input, period: str | None):
        return self.inputs[(node.name, period)]

    @staticmethod
    def linear(terms):
        if not terms:
            return z3.RealVal(0)
        if len(terms) <= 3:  # a − b as z3 writes it, not a + (−1)·b: the solver's work is smaller
            (sign, acc), *rest = terms
            acc = acc if sign > 0 else -acc
            for sign, v in rest:
                acc = acc + v if sign > 0 else acc - v
            return acc
        return z3.Sum([v if sign > 0 else -v for sign, v in terms])

    @staticmethod
    def sub(a, b):
        return a - b

    @staticmethod
    def mul(a, b):
        return a * b

    @staticmethod
    def div(a, b, node):
        return a / b, b == 0

    @staticmethod
    def neg(a):
        return -a

    @staticmethod
    def absolute(a):
        return z3.If(a >= 0, a, -a)

    @staticmethod
    def extreme(op, values):
        return _min(list(values)) if op == "min" else _max(list(values))

    @staticmethod
    def compare(op, a, b):
        return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b, "==": a == b, "!=": a != b}[op]

    bequal = compare

    @staticmethod
    def bnot(a):
        return z3.Not(a)

    @staticmethod
    def all_(values):
        return z3.And(list(values))

    @staticmethod
    def any_(values):
        return z3.Or(list(values))

    @staticmethod
    def first(conds, values, default, record=None):
        result = default
        for c, v in zip(reversed(conds), reversed(values)):
            result = z3.If(c, v, result)
        return result

    @staticmethod
    def shift_date(date, days, sign):
        return date + _trunc(days) if sign > 0 else date - _trunc(days)

    @staticmethod
    def days_between(a, b):
        return a - b

    @staticmethod
    def let(key, value):
        return value

    def paid(self, keys):
        """What the lines of `keys` hold at this point of the settlement (issue 15; `live`)."""
        index, amounts = self.live
        terms = [amounts[index[k]] for k in keys if k in index]
        return z3.Sum(terms) if terms else z3.RealVal(0)

    def settled(self, node):
        if isinstance(node, m.Total):
            if self.total is None:
                raise _Undefined("the total outside a guarantee")
            return self.total
        if self.payments is None:
            raise _Undefined("a payment's settled amount outside a guarantee")
        return self.payments[node.name]

    @staticmethod
    def bor(a, b):
        return z3.Or(a, b)

    @staticmethod
    def band(a, b):
        return z3.And(a, b)

    @staticmethod
    def bwhere(c, t, o):
        return z3.If(c, t, o)


@attrs.define
class _SymLine:
    payment: str
    recipient: str
    period: str | None
    amount: z3.ArithRef
    top_up: bool = False


class _SymSettlement:
    """The settlement of one symbolic copy: the contract's settlement program run on z3 terms
    (semantics.run.Backend), exactly as the evaluator runs it on numbers."""

    ZERO = solver_value(lambda: z3.RealVal(0))
    TRUE = solver_value(lambda: z3.BoolVal(True))
    KEEP = True
    after = None

    def __init__(self, contract: m.Contract, sym: _Sym, program: Program | None = None):
        self.contract, self.sym = contract, sym
        self.defined: list[z3.BoolRef] = []
        # when each branch of a clause is taken (for clause coverage): (site, branch) → conditions
        self.events: dict[tuple, list] = {}
        program = program or lower(contract)
        self.distributed: dict[int, z3.ArithRef] = {}  # issue 14: line → what its waterfall step paid
        self.released: dict[int, z3.ArithRef] = {}  # id of a limit within a waterfall → what it passed on
        settled = run(program, self)
        self.lines = [_SymLine(ln.payment, ln.recipient, ln.period, amount, ln.top_up)
                      for ln, amount in zip(program.lines, settled.amounts)]
        self.by_payment: dict[str, list[_SymLine]] = {}
        for line in self.lines:
            if not line.top_up:
                self.by_payment.setdefault(line.payment, []).append(line)
        self.values = settled.values
        self.total = _sum(self.lines)
        sym.payments = {name: _sum(group) for name, group in self.by_payment.items()}
        sym.total = self.total
        self.all_defined = z3.And(self.defined)

    def steps_of(self, clause: m.ClauseRef) -> list:
        """What each rule of `clause` computed (semantics.run.StepValues): its gates, floors, caps or
        limits — not a payment's formula, which shares its clause with the payment's `when`."""
        return [v for v in self.values if v.step.clause == clause and v.step.kind is not StepKind.COMPUTE]

    def amount(self, v) -> z3.ArithRef:
        """The final amount of the line a step applies to."""
        return self.lines[v.step.line].amount

    def sum_of(self, v) -> z3.ArithRef:
        """The final total of the lines a step cuts."""
        return _sum([self.lines[i] for i in v.step.group])

    # ------------------------------------------------------------ semantics.run.Backend over z3 terms
    def live(self, index, amounts) -> None:  # issue 15: the lines a payment's paid-to-date reads
        self.sym.live = (index, amounts)

    def expr(self, step, which: str, guard=None):
        term, bad = self.sym.interp.value(getattr(step, which), dict(step.period))
        if bad is not None:
            self.defined.append(z3.Not(bad) if guard is None else z3.Implies(guard, z3.Not(bad)))
        return term

    const = staticmethod(_const)
    linear = staticmethod(_Sym.linear)
    mul = staticmethod(_Sym.mul)
    sub = staticmethod(_Sym.sub)
    extreme = staticmethod(_Sym.extreme)
    compare = staticmethod(_Sym.compare)
    bnot = staticmethod(_Sym.bnot)
    band = staticmethod(_Sym.band)

    def round(self, x):
        return self.sym.round(x)

    def round_down(self, x):  # a return limit's weighted cut: exact, in every mode of the verifier
        return sym_round(x, Rounding(self.contract.rounding.step, "down"))

    @staticmethod
    def select(c, t, o):
        return z3.If(c, t, o)

    @staticmethod
    def never(c) -> bool:
        return z3.is_false(c)

    @staticmethod
    def total_of(amounts):
        return z3.Sum(list(amounts)) if amounts else z3.RealVal(0)

    def total(self, amounts, everyone: bool):
        return self.total_of(amounts)

    def cut(self, step, amounts, excess):
        out, acted = cut(self, amounts, excess)
        self.sym.domain.extend(cut_lemmas(amounts, excess, out))
        return out, acted

    def weighted_cut(self, step, amounts, weights, excess):
        return driver.weighted_cut(self, amounts, weights, excess)

    def pro_rata(self, step, amounts, excess):
        """A cut in proportion (semantics.run.pro_rata), exactly: each line's `part` is a whole
        number of steps q with q·step·S ≤ a·C < (q + 1)·step·S. That is nonlinear (S is symbolic),
        so the facts it implies in linear terms are stated too (`pro_rata_lemmas`); bounds.py proves
        the card's cap and "never negative" before the solver is asked."""
        out, acted = driver.pro_rata(self, amounts, excess)
        if not z3.is_false(acted):
            level = z3.If(z3.Sum(list(amounts)) - excess > 0, z3.Sum(list(amounts)) - excess, z3.RealVal(0))
            self.sym.domain.extend(pro_rata_lemmas(amounts, level, out, acted, Fraction(self.contract.rounding.step)))
        return out, acted

    def part(self, a, level, total):
        # floor(a·C ÷ (S·step))·step: z3 reads ToInt as the whole q with q ≤ x < q + 1, i.e.
        # q·step·S ≤ a·C < (q + 1)·step·S — a term of the inputs, with no variable of its own, so the
        # encoding evaluated at a point (a counterexample, tests/test_semantics.py) is the settlement
        step = _real(Fraction(self.contract.rounding.step))
        return z3.If(total > 0, z3.ToReal(z3.ToInt(a * level / (total * step))) * step, a)

    def trace(self, step, line, before, after, acted, level) -> None:
        if step.kind is StepKind.WATERFALL:  # issue 14: what a waterfall step paid, before any later step
            self.distributed[line] = after
        elif step.takes and line == step.line:  # a return limit within a waterfall: what it passed on
            self.released[id(step)] = after - before

    def event(self, step, acted, condition=None) -> None:
        """Coverage: what a step did, for `unreachable_branches` (a gate by its condition)."""
        site = (step.clause.kind, step.clause.name, step.clause.line)
        holds, fails = step.kind.branches
        if condition is not None:
            taken = ((holds, condition), (fails, z3.Not(condition)))
        else:
            acting = step.kind.branch(True)
            other = fails if acting == holds else holds
            taken = ((acting, acted), (other, z3.Not(acted)))
        for label, cond in taken:
            self.events.setdefault((site, label), []).append(cond)


def cut_lemmas(amounts, excess, out) -> list[z3.BoolRef]:
    """Facts about a cut (semantics.run.cut) that hold for every input, stated for the solver
    (issue 15: a rate card's thousand lines). The cut threads what is left of the excess from line
    to line, so without them z3 must rediscover, through the whole chain, that a cut takes
    exactly min(excess, what the lines have) when the excess is positive, and that no line ends
    above its amount or below min(its amount, 0). With them a card of 20 outcomes × 4 periods is
    proved in seconds instead of minutes, with no unknown (benchmarks/ratecard.py). They are
    identities of the cut, not assumptions: tests/test_ratecard.py checks them on the reference
    cut for random amounts."""
    if not amounts:
        return []
    zero = z3.RealVal(0)
    has = z3.Sum([z3.If(a > 0, a, zero) for a in amounts])
    taken = z3.If(excess > 0, z3.If(excess < has, excess, has), zero)
    facts = [z3.Sum(list(out)) == z3.Sum(list(amounts)) - taken]
    facts += [z3.And(o <= a, o >= z3.If(a < 0, a, zero)) for o, a in zip(out, amounts)]
    return facts


def pro_rata_lemmas(amounts, level, out, acted, step: Fraction) -> list[z3.BoolRef]:
    """Facts about a cut in proportion (semantics.run.pro_rata) that hold for every input, in linear
    terms (issue 15): where it acts, the lines add up to at most the level and to more than the
    level less one step a line (each is a × level ÷ total rounded down), and a line that was not
    negative ends between 0 and what it was. Identities, not assumptions: tests/test_ratecard.py
    checks them on the reference for random amounts."""
    if not amounts:
        return []
    zero = z3.RealVal(0)
    total = z3.Sum(list(out))
    facts = [z3.Implies(acted, z3.And(total <= level, total > level - _real(step * len(amounts))))]
    facts += [z3.Implies(z3.And(acted, a >= 0), z3.And(o >= zero, o <= a)) for o, a in zip(out, amounts)]
    return facts


def pair_roundings(a: _Sym, b: _Sym) -> list[z3.BoolRef]:
    """Rounding is monotone: the same rounding site in two copies keeps the order of its arguments."""
    pairs = []
    for (xa, ra), (xb, rb) in zip(a.roundings, b.roundings, strict=True):
        pairs += [z3.Implies(xa <= xb, ra <= rb), z3.Implies(xb <= xa, rb <= ra)]
    return pairs


def _sum(lines):
    return z3.Sum([ln.amount for ln in lines]) if lines else z3.RealVal(0)


def _name(clause: m.ClauseRef) -> str:
    return clause.name or f"line{clause.line}"


def _where(clause: m.ClauseRef) -> str:
    return f" (line {clause.line})" if clause.line else ""


# ---------------------------------------------------------------- properties
@attrs.frozen
class _Property:
    key: str
    description: str
    build: Callable  # (context) → (premise, claim) as z3 formulas
    copies: int = 1  # 2 for monotonicity
    fresh: tuple[str, ...] = ()  # measures that differ between the copies
    concrete: Callable | None = None  # (outcomes list, settlements) → bool: the claim holds
    clause: m.ClauseRef | None = None
    # a monotonicity: (what grows, "nondecreasing"/"nonincreasing", the expression or None for the
    # total), for the proof by structure (monotone.py) before the solver
    monotone: tuple | None = None


def _dependencies(contract: m.Contract, name: str) -> set[str]:
    """The measures a definition depends on, transitively."""
    if name in contract.measures or name in contract.parameters:
        return {name}
    seen, measures = {name}, set()
    stack = [contract.definitions[name].expr]
    while stack:
        for node in m.walk(stack.pop()):
            if isinstance(node, m.Input):
                measures.add(node.name)
            elif isinstance(node, m.Var) and node.name in contract.definitions and node.name not in seen:
                seen.add(node.name)
                stack.append(contract.definitions[node.name].expr)
    return measures


def _value(contract: m.Contract, expr: m.Expr, outcomes, settlement: Settlement | None, period=None):
    """An expression's value for concrete outcomes, with the real evaluator's compiler."""
    ctx = Ctx(outcomes, {}, {})
    if settlement is not None:
        ctx.payments = {}
        for line in settlement.lines:
            if line.payment in contract.payments:
                ctx.payments[line.payment] = ctx.payments.get(line.payment, Fraction(0)) + Fraction(line.amount)
        ctx.total = Fraction(settlement.total)
    return Compiler(contract, contract.definitions, None).compile(expr, period)(ctx)


def properties(contract: m.Contract) -> list[_Property]:
    """Every built-in property of the contract, then its guarantees, in a stable order."""
    rnd = contract.rounding.apply
    from .verify_checks import extra_properties

    result: list[_Property] = []
    add = result.append

    add(_Property("defined", "the settlement is defined for every outcome (no division by zero)",
                  lambda c: (z3.BoolVal(True), c[0].all_defined), concrete=None))

    for payment in contract.payments.values():
        def claim(c, name=payment.name):
            return z3.BoolVal(True), z3.And([ln.amount >= 0 for ln in c[0].by_payment[name]])

        def holds(outcomes, settlements, name=payment.name):
            return all(ln.amount >= 0 for ln in settlements[0].lines if ln.payment == name)
        add(_Property(f"nonnegative:{payment.name}", f"the payment `{payment.name}` is never negative",
                      claim, concrete=holds, clause=payment.clause))

    for gate in contract.gates:
        where = _where(gate.clause)
        if gate.target == "total":
            claim = _per_step(gate.clause, lambda c, v: z3.Implies(z3.Not(v.condition), c.total <= v.level))

            def holds(outcomes, settlements, gate=gate):
                if _value(contract, gate.condition, outcomes[0], None):
                    return True
                return Fraction(settlements[0].total) <= rnd(_value(contract, gate.level, outcomes[0], None))
            add(_Property(f"gate:{_name(gate.clause)}",
                          f"the gate{where} holds the total to its level when its condition fails", claim,
                          concrete=holds, clause=gate.clause))
        else:
            payment = contract.payments[gate.target]

            claim = _per_step(gate.clause, lambda c, v: z3.Implies(z3.Not(v.condition), c.amount(v) == 0))

            def holds(outcomes, settlements, gate=gate, payment=payment):
                for ln in settlements[0].lines:  # a gate `during` some periods: only its lines in them (issue 15)
                    if ln.payment != payment.name or (gate.during and ln.period not in gate.during):
                        continue
                    period = {payment.series: ln.period} if payment.series else {}
                    if not _value(contract, gate.condition, outcomes[0], None, period) and ln.amount != 0:
                        return False
                return True
            add(_Property(f"gate:{_name(gate.clause)}",
                          f"the payment `{payment.name}` is zero whenever its gate{where} fails", claim,
                          concrete=holds, clause=gate.clause))

    for floor in contract.floors:
        where = _where(floor.clause)
        if floor.target == "total":
            claim = _per_step(floor.clause, lambda c, v: z3.Implies(v.condition, c.total >= v.level))

            def holds(outcomes, settlements, floor=floor):
                if floor.when is not None and not _value(contract, floor.when, outcomes[0], None):
                    return True
                return Fraction(settlements[0].total) >= rnd(_value(contract, floor.amount, outcomes[0], None))
            add(_Property(f"floor:{_name(floor.clause)}", f"the floor{where} holds whenever its condition holds",
                          claim, concrete=holds, clause=floor.clause))
        elif floor.target == m.STREAM:  # issue 15: the stream over all its periods
            claim = _per_step(floor.clause, lambda c, v: z3.Implies(v.condition, c.sum_of(v) >= v.level))

            def holds(outcomes, settlements, floor=floor):
                if floor.when is not None and not _value(contract, floor.when, outcomes[0], None):
                    return True
                paid = sum((Fraction(ln.amount) for ln in settlements[0].lines  # within its `during` (issue 15)
                            if ln.payment in floor.targets and (not floor.during or ln.period in floor.during)),
                           Fraction(0))
                return paid >= rnd(_value(contract, floor.amount, outcomes[0], None))
            add(_Property(f"floor:{_name(floor.clause)}",
                          f"{_stream_words(floor.targets)} over all periods {'are' if len(floor.targets) > 1 else 'is'} "
                          f"at least the floor{where} "
                          "whenever the floor applies", claim, concrete=holds, clause=floor.clause))
        else:
            payment = contract.payments[floor.target]

            claim = _per_step(floor.clause, lambda c, v: z3.Implies(v.condition, c.amount(v) >= v.level))

            def holds(outcomes, settlements, floor=floor, payment=payment):
                for ln in settlements[0].lines:
                    if ln.payment != payment.name or (floor.during and ln.period not in floor.during):
                        continue
                    period = {payment.series: ln.period} if payment.series else {}
                    if floor.when is not None and not _value(contract, floor.when, outcomes[0], None, period):
                        continue
                    if Fraction(ln.amount) < rnd(_value(contract, floor.amount, outcomes[0], None, period)):
                        return False
                return True
            add(_Property(f"floor:{_name(floor.clause)}",
                          f"the payment `{payment.name}` is at least its floor{where} whenever the floor applies",
                          claim, concrete=holds, clause=floor.clause))

    for cap in contract.caps:
        where = _where(cap.clause)
        if cap.kind == "total":
            claim = _per_step(cap.clause, lambda c, v: c.total <= v.level)

            def holds(outcomes, settlements, cap=cap):
                return Fraction(settlements[0].total) <= rnd(_value(contract, cap.amount, outcomes[0], None))
            add(_Property(f"cap:{_name(cap.clause)}", f"the total is never above the cap{where}", claim,
                          concrete=holds, clause=cap.clause))
        elif cap.kind == "payment":
            payment = contract.payments[cap.target]

            claim = _per_step(cap.clause, lambda c, v: c.amount(v) <= v.level)

            def holds(outcomes, settlements, cap=cap, payment=payment):
                for ln in settlements[0].lines:
                    if ln.payment == payment.name:
                        period = {payment.series: ln.period} if payment.series else {}
                        if Fraction(ln.amount) > rnd(_value(contract, cap.amount, outcomes[0], None, period)):
                            return False
                return True
            add(_Property(f"cap:{_name(cap.clause)}", f"the payment `{payment.name}` is never above its cap{where}",
                          claim, concrete=holds, clause=cap.clause))
        elif cap.kind in ("stream", "payer", "recipient"):  # issue 15: the lines the step cuts
            claim = _per_step(cap.clause, lambda c, v: c.sum_of(v) <= v.level)

            def holds(outcomes, settlements, cap=cap):
                if cap.kind == "stream":
                    chosen = [ln for ln in settlements[0].lines if ln.payment in cap.targets]
                else:
                    chosen = [ln for ln in settlements[0].lines if getattr(ln, cap.kind) == cap.target]
                paid = sum((Fraction(ln.amount) for ln in chosen), Fraction(0))
                return paid <= rnd(_value(contract, cap.amount, outcomes[0], None))
            what = (f"{_stream_words(cap.targets)} over all periods" if cap.kind == "stream" else
                    f"what `{cap.target}` {'pays' if cap.kind == 'payer' else 'receives'}")
            verb = "are" if cap.kind == "stream" and len(cap.targets) > 1 else "is"
            add(_Property(f"cap:{_name(cap.clause)}", f"{what} {verb} never above the cap{where}", claim,
                          concrete=holds, clause=cap.clause))
        elif cap.kind == "series":
            claim = _per_step(cap.clause, lambda c, v: c.sum_of(v) <= v.level)  # the period's lines

            def holds(outcomes, settlements, cap=cap):
                for p in contract.series[cap.target].periods:
                    paid = sum((Fraction(ln.amount) for ln in settlements[0].lines if ln.period == p.name), Fraction(0))
                    if paid > rnd(_value(contract, cap.amount, outcomes[0], None, {cap.target: p.name})):
                        return False
                return True
            add(_Property(f"cap:{_name(cap.clause)}", f"no period of `{cap.target}` pays more than its cap{where}",
                          claim, concrete=holds, clause=cap.clause))
        else:
            size = contract.cohorts[cap.target].size

            claim = _per_step(cap.clause, lambda c, v: c.total <= v.level)  # the level: cap × cohort size

            def holds(outcomes, settlements, cap=cap, size=size):
                return Fraction(settlements[0].total) <= rnd(_value(contract, cap.amount, outcomes[0], None) * size)
            add(_Property(f"cap:{_name(cap.clause)}", f"the total is never above the cap per participant{where}",
                          claim, concrete=holds, clause=cap.clause))

    # floors never above caps, for every floor and cap on the same thing
    for floor in contract.floors:
        for cap in contract.caps:
            same = (floor.target == "total" and cap.kind == "total") or \
                   (cap.kind == "payment" and floor.target == cap.target)
            if not same:
                continue
            key = f"floor-below-cap:{_name(floor.clause)}:{_name(cap.clause)}"

            def claim(c, floor=floor, cap=cap):  # the floor and the cap of each line they share
                s = c[0]
                return z3.BoolVal(True), z3.And([
                    z3.Implies(f.condition, f.level <= k.level) for f in s.steps_of(floor.clause)
                    for k in s.steps_of(cap.clause)
                    if f.step.kind is StepKind.TOTAL_FLOOR or f.step.line == k.step.line] or [z3.BoolVal(True)])

            def holds(outcomes, settlements, floor=floor, cap=cap):
                target = contract.payments.get(floor.target)
                periods = contract.series[target.series].periods if target and target.series else (None,)
                for p in periods:
                    period = {target.series: p.name} if p is not None else {}
                    if floor.when is not None and not _value(contract, floor.when, outcomes[0], None, period):
                        continue
                    if rnd(_value(contract, floor.amount, outcomes[0], None, period)) > \
                            rnd(_value(contract, cap.amount, outcomes[0], None, period)):
                        return False
                return True
            add(_Property(key, f"the floor{_where(floor.clause)} is never above the cap{_where(cap.clause)}",
                          claim, concrete=holds, clause=floor.clause))

    for limit in contract.return_limits:
        add(_return_limit_property(contract, limit))

    for waterfall in contract.waterfalls:  # issue 14
        add(_waterfall_property(contract, waterfall))

    for name, measure in contract.measures.items():
        if measure.better is None:
            continue
        direction = "nondecreasing" if measure.better == "higher" else "nonincreasing"
        add(_monotone(contract, f"monotone:{name}",
                      f"the total never falls when `{name}` gets better ({measure.better} is better){_where(measure.clause)}",
                      None, name, direction, measure.clause))

    for guarantee in contract.guarantees:
        gname = _name(guarantee.clause)
        title = f" “{guarantee.clause.label.text}”" if guarantee.clause.label else ""
        label = f"the guarantee `{gname}`{title}{_where(guarantee.clause)}"
        if guarantee.monotone:
            label += f", {guarantee.monotone} in `{guarantee.monotone_in}`"
            add(_monotone(contract, f"guarantee:{gname}", label, guarantee.expr, guarantee.monotone_in,
                          guarantee.monotone, guarantee.clause))
            continue

        def claim(c, g=guarantee):
            term, defined = c[0].sym.expr(g.expr, {})
            premise = z3.BoolVal(True)
            if g.when is not None:
                when, wdef = c[0].sym.expr(g.when, {})
                return z3.And(premise, wdef, when), z3.Implies(defined, term)
            return premise, z3.Implies(defined, term)

        def holds(outcomes, settlements, g=guarantee):
            if g.when is not None and not _value(contract, g.when, outcomes[0], settlements[0]):
                return True
            return bool(_value(contract, g.expr, outcomes[0], settlements[0]))
        add(_Property(f"guarantee:{gname}", label, claim, concrete=holds, clause=guarantee.clause))
    result += extra_properties(contract)  # leaking gates, floors and caps across levels
    return result


def _stream_words(payments: tuple[str, ...]) -> str:
    """`housing`, or `housing` and `jobs` together: a stream in a property's description."""
    names = [f"`{p}`" for p in payments]
    if len(names) == 1:
        return f"the payment {names[0]}"
    return f"the payments {', '.join(names[:-1])} and {names[-1]} together"


def _per_step(clause: m.ClauseRef, test) -> Callable:
    """A property's claim: `test(settlement, step values)` for every step of `clause` in the
    settlement program, as the run computed it (its level and condition)."""
    def claim(c):
        return z3.BoolVal(True), z3.And([test(c[0], v) for v in c[0].steps_of(clause)] or [z3.BoolVal(True)])
    return claim


def _return_limit_property(contract: m.Contract, limit: m.ReturnLimit) -> _Property:
    """A return limit, proved as what it states. A rate a year: for every investor (class) it binds,
    the receipts at their due dates, discounted at the rate (upper bounds of the factors), are worth
    at most the drawdowns (lower bounds) — a linear inequality over the lines; so the IRR is at most
    the rate. In total or a multiple: what they receive is at most the ceiling. The counterexample's
    check (`holds`) recomputes it from the settlement's own cash flows (semantics.returnlimits.breaches)."""
    from .semantics.returnlimits import breaches

    def test(c, v):
        if v.step.takes:  # within a waterfall (issue 14): the step after the waterfall binds every line
            return z3.BoolVal(True)
        if v.step.weights:
            return z3.Sum([_const(w) * c.lines[j].amount for j, w in zip(v.step.group, v.step.weights)]
                          or [z3.RealVal(0)]) <= v.level
        return c.sum_of(v) <= v.level

    def holds(outcomes, settlements):
        return not breaches(contract, limit, settlements[0])

    rate = "whom it binds never earns more than the rate of return it states" \
        if limit.kind in ("simple", "compound") else "whom it binds never receives more than it allows"
    return _Property(f"return:{_name(limit.clause)}", f"the return limit{_where(limit.clause)}: {rate}",
                     _per_step(limit.clause, test), concrete=holds, clause=limit.clause)


def _waterfall_property(contract: m.Contract, wf: m.Waterfall) -> _Property:
    """A waterfall's order (issue 14): on every line the vehicle is paid, a step pays something only
    when every earlier step's target is met — what the target has received through the waterfall,
    each receipt × its discount factor (a lower bound), reaches the drawdowns' present value (an upper
    bound), or the step has paid its amount. So a junior class is never paid before the senior one is
    whole — except from what a return limit held back from a party and passed on (issue 14): where a
    target is not met, the later steps pay at most what limits released after that step on that line.
    The counterexample's check recomputes it from the settlement with the discount factors
    themselves (semantics.waterfalls.order_breaches)."""
    from .semantics.waterfalls import order_breaches

    names = {f"{wf.clause.name}.{t.number}" for t in wf.tiers}

    def claim(c):
        s = c[0]
        by_source: dict[int, list] = {}  # the vehicle's line → its waterfall steps, in order
        releases: dict[int, list] = {}  # the vehicle's line → (how many of its steps ran before, released)
        for v in s.values:
            step = v.step
            if step.kind is StepKind.WATERFALL and step.clause.name in names:
                by_source.setdefault(step.line, []).append(step)
            elif step.takes and step.line in by_source and id(step) in s.released:
                releases.setdefault(step.line, []).append((len(by_source[step.line]), s.released[id(step)]))
        facts = []
        for source, group in by_source.items():
            for k, step in enumerate(group):
                d = step.plan
                if d.rest or k == len(group) - 1:
                    continue
                later = [s.distributed[j] for u in group[k + 1:] for j in u.group]
                received = s.linear([(1, s.mul(s.distributed[j], s.const(w))) for j, w in zip(d.reads, d.read_weights)]) \
                    if d.reads else s.ZERO
                worth = z3.Sum([received] + [_const(d.weight) * s.distributed[j] for j in d.targets])
                passed = [r for ran, r in releases.get(source, []) if ran > k]  # released after step k
                facts.append(z3.Implies(z3.Sum(later) > 0, z3.Or(worth >= _const(d.level),
                                                                 z3.Sum(later) <= z3.Sum(passed or [z3.RealVal(0)]))))
        return z3.BoolVal(True), z3.And(facts or [z3.BoolVal(True)])

    def holds(outcomes, settlements):
        return not set(order_breaches(contract, settlements[0])) & names

    return _Property(f"waterfall:{_name(wf.clause)}", f"the waterfall{_where(wf.clause)} pays no step before every "
                     "earlier step's target is met (a junior class never before the senior one is whole)",
                     claim, concrete=holds, clause=wf.clause)


def _monotone(contract: m.Contract, key: str, description: str, expr: m.Expr | None, name: str,
              direction: str, clause: m.ClauseRef | None) -> _Property:
    """`expr` (the total when None) never falls (rises) when `name` grows, all else equal."""
    depends = _dependencies(contract, name)

    def value_of(c):
        if expr is None:
            return c.total, z3.BoolVal(True)
        return c.sym.expr(expr, {})

    def claim(c):
        a, b = c
        premise = []
        if name in contract.measures or name in contract.parameters:
            keys = [k for k in a.sym.inputs if k[0] == name]
            premise += [b.sym.inputs[k] >= a.sym.inputs[k] for k in keys]
        else:
            definition = contract.definitions[name]
            series = definition.ty.series
            periods = [{series: p.name} for p in contract.series[series].periods] if series else [{}]
            for period in periods:
                (va, da), (vb, db) = a.sym.var(name, period), b.sym.var(name, period)
                premise += [da, db, vb >= va]
        va, da = value_of(a)
        vb, db = value_of(b)
        premise += [da, db]
        claim = vb >= va if direction == "nondecreasing" else vb <= va
        return z3.And(premise), claim

    def holds(outcomes, settlements):
        def value(i):
            if expr is None:
                return Fraction(settlements[i].total)
            return _value(contract, expr, outcomes[i], settlements[i])
        before, after = value(0), value(1)
        return after >= before if direction == "nondecreasing" else after <= before

    return _Property(key, description, claim, copies=2,
                     fresh=tuple(sorted(depends)), concrete=holds, clause=clause,
                     monotone=(name, direction, expr))


# ---------------------------------------------------------------- solving
def _model_value(model: z3.ModelRef, term) -> object:
    value = model.eval(term, model_completion=True)
    if z3.is_true(value):
        return True
    if z3.is_false(value):
        return False
    if z3.is_int_value(value):
        return Fraction(value.as_long())
    if z3.is_rational_value(value):
        return Fraction(value.numerator_as_long(), value.denominator_as_long())
    raise _Undefined("the solver's counterexample is not a rational number")


def _outcome_file(contract: m.Contract, sym: _Sym, model: z3.ModelRef) -> dict:
    data: dict[str, object] = {}
    for (name, period), term in sym.inputs.items():
        measure = contract.input(name)
        raw = _model_value(model, term)
        text = _format_input(measure, raw, contract.currency)
        if period is None:
            data[name] = text
        else:
            data.setdefault(name, {})[period] = text
    return data


def _format_input(measure: m.Measure, value, currency: str):
    kind = measure.ty.kind
    if kind == BOOL:
        return bool(value)
    if kind == DATE:
        return datetime.date.fromordinal(int(value)).isoformat()
    if kind == COUNT:
        return int(value)
    # positional notation ("0.00000001", never "1E-8"): what load_outcomes reads back
    number = format(to_decimal(value), "f")
    if kind == MONEY:
        return f"{number} {currency}"
    if kind == SHARE:
        return f"{format(to_decimal(value * 100), 'f')} %"
    return number  # numbers and days as exact decimal strings


def _grid(sym: _Sym, digits: int) -> list[z3.BoolRef]:
    """Inputs on a decimal grid, so that a counterexample can be written in an outcome file."""
    constraints = []
    scale = 10 ** digits
    for term in sym.inputs.values():
        if z3.is_real(term) and not z3.is_to_real(term):
            k = z3.Int(f"grid_{term}")
            constraints.append(term * scale == z3.ToReal(k))
    return constraints


def solver_of_its_own(*terms) -> z3.Solver:
    """A z3 solver in a new context (its `.ctx`) holding `terms` translated into it: what it answers
    within an rlimit depends on those terms only, not on what the process asked z3 before (a test
    run, the studio, another proof). verify, budget, diff and --why ask their questions so."""
    ctx = z3.Context()
    solver = z3.Solver(ctx=ctx)
    solver.add(*(t.translate(ctx) for t in terms))
    return solver


class OwnContextSolver:
    """A z3 solver in a context of its own, fed the caller's terms (translated into it): what it
    answers within an rlimit depends on the contract only, not on what the process asked z3 before
    (a test run, the studio, a budget proof). Models answer `eval` for the caller's terms."""

    def __init__(self) -> None:
        self.solver = solver_of_its_own()
        self.ctx = self.solver.ctx

    def add(self, *terms) -> None:
        self.solver.add(*(t.translate(self.ctx) for t in terms))

    def set(self, *args) -> None:
        self.solver.set(*args)

    def push(self) -> None:
        self.solver.push()

    def pop(self) -> None:
        self.solver.pop()

    def check(self):
        return self.solver.check()

    def assertions(self):
        return self.solver.assertions()

    def model(self) -> _OwnContextModel:
        return _OwnContextModel(self.solver.model(), self.ctx)


@attrs.frozen
class _OwnContextModel:
    """A model of an OwnContextSolver, evaluating the caller's terms."""

    model: z3.ModelRef
    ctx: z3.Context

    def eval(self, term, model_completion: bool = False):
        return self.model.eval(term.translate(self.ctx), model_completion=model_completion)


class Verifier:
    """Proves the properties of one checked contract."""

    def __init__(self, contract: m.Contract, timeout: float = DEFAULT_TIMEOUT, bounds: bool = True):
        self.contract = contract
        self.timeout = timeout
        self.use_bounds = bounds  # False: every property to z3 (the tests compare the two)
        self.evaluator: Evaluator = compile_contract(contract)
        self.properties = properties(contract)
        self._contexts: dict = {}
        self._bounds_run = None

    def verify(self, only: Iterable[str] | None = None) -> list[Verdict]:
        wanted = set(only) if only is not None else None
        if self.contract.assumptions:
            contradiction = self.contradiction()
            if contradiction is not None:  # every property would hold vacuously: none is reported proved
                return [contradiction]
        return [self.prove(p) for p in self.properties if wanted is None or p.key in wanted]

    def contradiction(self) -> Verdict | None:
        """issue 17: E702 when no outcomes within the measures' ranges satisfy the assumptions, with
        the assumptions that conflict (z3's unsat core, made minimal); None when they can hold."""
        started = time.perf_counter()
        sym = _Sym(self.contract, "a!")
        held = {id(h) for _, h in sym.assumed}
        own = OwnContextSolver()  # the core found depends on the contract only, not the process's z3 history
        solver = own.solver
        solver.set("rlimit", _rlimit(self.timeout))
        solver.set("core.minimize", True)
        own.add(*[d for d in sym.domain if id(d) not in held])
        labels: dict[str, m.Assumption] = {}
        for i, (assumption, condition) in enumerate(sym.assumed):
            label = z3.Bool(f"assumption!{i}", own.ctx)
            labels[str(label)] = assumption
            solver.assert_and_track(condition.translate(own.ctx), label)
        if solver.check() != z3.unsat:
            return None
        conflicting: list[m.Assumption] = []
        for label in solver.unsat_core():
            assumption = labels[str(label)]
            if assumption not in conflicting:
                conflicting.append(assumption)
        conflicting.sort(key=lambda a: a.clause.line)

        def cite(lang: str) -> str:  # " line 9 (`sen_within`)", " lines 9 (`sen_within`), 10 and 11"
            items = [f"{a.clause.line}" + ("" if a.clause.name.startswith("assumption_") else f" (`{a.clause.name}`)")
                     for a in conflicting]
            word = {"en": ("line", "lines", "and"), "sv": ("rad", "raderna", "och")}[lang]
            if len(items) == 1:
                return f" {word[0]} {items[0]}"
            return f" {word[1]} {', '.join(items[:-1])} {word[2]} {items[-1]}"

        en, sv = cite("en"), cite("sv")
        one = len(conflicting) == 1
        words = {
            "en": (f"no outcomes within the measures' ranges satisfy the assumption on{en}" if one else
                   f"the assumptions on{en} contradict each other: no outcomes within the measures' ranges "
                   "satisfy them all") + "; every promise would hold vacuously, so none is reported proved",
            "sv": (f"inga utfall inom måttens intervall uppfyller antagandet på{sv}" if one else
                   f"antagandena på{sv} motsäger varandra: inga utfall inom måttens intervall uppfyller dem "
                   "alla") + "; varje löfte skulle gälla tomt, så inget redovisas som bevisat",
        }
        first = conflicting[0] if conflicting else self.contract.assumptions[0]
        return Verdict("assumptions", "the assumptions can hold together", VIOLATED,
                       time.perf_counter() - started, words["en"], clause=first.clause,
                       line=first.clause.line, words=words)

    def prove(self, prop: _Property) -> Verdict:
        started = time.perf_counter()
        try:
            verdict = self._prove(prop)
        except _Undefined as err:
            verdict = attrs.evolve(_unknown(prop, "encoding", self.timeout),
                                   reason=f"{_unknown(prop, 'encoding', self.timeout).reason} ({err})")
        except z3.Z3Exception as err:
            verdict = attrs.evolve(_unknown(prop, "encoding", self.timeout),
                                   reason=f"{_unknown(prop, 'encoding', self.timeout).reason} ({err})")
        return attrs.evolve(verdict, seconds=time.perf_counter() - started, clause=prop.clause)

    def _context(self, prop: _Property, abstract: bool = False):
        """The symbolic copies and a solver holding their domains, shared by properties of the same
        shape (one copy; two copies differing in the same measures) so z3 reuses what it learnt."""
        key = (prop.copies, prop.fresh, prop.key == "defined", abstract)
        if key not in self._contexts:
            first = _Sym(self.contract, "a!", abstract=abstract)
            copies = [_SymSettlement(self.contract, first)]
            if prop.copies == 2:
                second = _Sym(self.contract, "b!", shared=first.inputs, fresh=prop.fresh, abstract=abstract)
                copies.append(_SymSettlement(self.contract, second))
            solver = OwnContextSolver()
            for c in copies:
                solver.add(*c.sym.domain)
                if prop.key != "defined":
                    solver.add(c.all_defined)
            if abstract:
                solver.add(*pair_roundings(copies[0].sym, copies[1].sym))
            self._contexts[key] = (copies, solver)
        return self._contexts[key]

    def _bounds(self):
        """The settlement run on intervals (bounds.py), once per contract: with every yes/no
        measure either value, and once per combination of them (`bounds.cases`, up to four)."""
        if self._bounds_run is None:
            from .bounds import bounds, recorded_cases

            # one run when there are no yes/no measures to hold; the dead clauses read the same runs
            program, each = recorded_cases(self.contract)
            self._bounds_run = (bounds(self.contract, program), each) if len(each) > 1 else (each[0], [])
        return self._bounds_run

    def _by_bounds(self, prop: _Property) -> bool:
        """The property follows from the bounds of every line (bounds.py): proved without the
        solver, by the one run or by every case of the yes/no measures (together they cover every
        outcome: Norrköping's floor holds where the programme was carried out, and does not apply
        where it was not). False only means "not decided here": z3 then proves it on the full problem."""
        one, each = self._bounds()
        return self._by_bounds_in(one, prop) or bool(each) and all(self._by_bounds_in(b, prop) for b in each)

    def _by_bounds_in(self, b, prop: _Property) -> bool:
        if prop.key == "defined":
            return b.defined
        if prop.key.startswith("nonnegative:"):
            return b.nonnegative(prop.key.split(":", 1)[1])
        if prop.key.startswith("guarantee:") and prop.copies == 1:
            guarantee = next((g for g in self.contract.guarantees if f"guarantee:{_name(g.clause)}" == prop.key
                              and not g.monotone), None)
            if guarantee is None:
                return False
            if guarantee.when is not None and b.value(guarantee.when)[0] is False:
                return True  # it never applies (in this case of the yes/no measures): the claim's premise fails
            holds, _ = b.value(guarantee.expr)
            return holds is True  # the claim is "defined ⇒ holds"; true wherever it is defined
        if prop.key.startswith("cap:") and prop.clause is not None:
            cap = next((c for c in self.contract.caps if c.clause == prop.clause), None)
            return cap is not None and _cap_by_bounds(b, cap)
        if prop.key.startswith("floor-below-cap:"):
            _, floor_name, cap_name = prop.key.split(":")
            floor = next((f for f in self.contract.floors if _name(f.clause) == floor_name), None)
            cap = next((c for c in self.contract.caps if _name(c.clause) == cap_name), None)
            if floor is None or cap is None:
                return False
            same = (floor.target == "total" and cap.kind == "total") or \
                   (cap.kind == "payment" and floor.target == cap.target)
            # only the same-level property of `properties`; across levels (verify_checks, the same
            # key) the claim is another one, left to z3
            return same and _floor_below_cap_by_bounds(b, floor, cap)
        if prop.key.startswith("floor:") and prop.clause is not None:
            floor = next((f for f in self.contract.floors if f.clause == prop.clause), None)
            return floor is not None and _floor_by_bounds(b, floor)
        if prop.key.startswith("gate:") and prop.clause is not None:
            gate = next((g for g in self.contract.gates if g.clause == prop.clause), None)
            return gate is not None and _gate_by_bounds(b, gate)
        if prop.key.startswith("return:") and prop.clause is not None:
            limit = next((r for r in self.contract.return_limits if r.clause == prop.clause), None)
            return limit is not None and _return_by_bounds(b, limit)
        return False

    def _by_structure(self, prop: _Property) -> bool:
        """A monotonicity that follows from the shape of the settlement (monotone.py): proved
        without the solver, however non-linear (a price × a count). False: not decided here."""
        if prop.monotone is None:
            return False
        from .monotone import proves

        growing, direction, expr = prop.monotone
        return proves(self.contract, growing, direction, expr)

    def _prove(self, prop: _Property) -> Verdict:
        if prop.copies == 1 and self.use_bounds and self._by_bounds(prop):
            return Verdict(prop.key, prop.description, PROVED, 0.0, BY_BOUNDS, method="bounds",
                           words=dict(BY_BOUNDS_WORDS))
        if prop.copies == 2 and self.use_bounds and self._by_structure(prop):
            return Verdict(prop.key, prop.description, PROVED, 0.0, BY_STRUCTURE, method="structure",
                           words=dict(BY_STRUCTURE_WORDS))
        if prop.copies == 2 and self._abstract_proof(prop):
            return Verdict(prop.key, prop.description, PROVED, 0.0)
        copies, solver = self._context(prop)
        premise, claim = prop.build(copies)
        solver.set("rlimit", _rlimit(self.timeout))
        solver.push()
        try:
            solver.add(premise, z3.Not(claim))
            # a draft's parameters fixed first: a price × a count is linear once the price is a
            # number, and z3's work on the non-linear problem can be far above its limit's worth
            holding = self._split_on_parameters(prop, copies, premise, claim)
            if holding is None:
                result = solver.check()
                if result == z3.unsat:
                    return Verdict(prop.key, prop.description, PROVED, 0.0)
                if result == z3.unknown:
                    return _unknown(prop, "limit", self.timeout)
                holding = solver
            files = self._files(copies, self._readable(copies, holding) or holding.model(), holding)
            # for which agreed values a promise holds: searched for one settlement's promises (a
            # monotonicity's two copies make each question of the search non-linear)
            ranges = self._parameter_ranges(prop, copies, solver) if files is not None and prop.copies == 1 else []
        finally:
            solver.pop()
        if files is None:
            return _unknown(prop, "decimals", self.timeout)
        verdict = self._confirm(prop, files)
        if verdict.status == VIOLATED and ranges:
            words = {lang: verdict.words.get(lang, verdict.reason) + "".join(r[lang] for r in ranges)
                     for lang in ("en", "sv")}
            verdict = attrs.evolve(verdict, words=words, reason=words["en"])
        return verdict

    def _split_on_parameters(self, prop: _Property, copies, premise, claim) -> OwnContextSolver | None:
        """The search for a violation with the draft's parameters fixed at a few agreed values (the
        ends of each range, then its middle on the parameter's grid), each substituted into the
        problem, so a price × a count becomes linear. A violation found so is a real one (the
        values are in the range): a solver holding it is returned. Proofs never come from here."""
        read = {n.name for e, _ in m.expressions(self.contract) for n in m.walk(e) if isinstance(n, m.Input)}
        numeric = [(name, p) for name, p in self.contract.parameters.items()
                   if p.lower is not None and name not in prop.fresh and name in read]
        if not numeric:
            return None
        terms = [d for c in copies for d in c.sym.domain]
        if prop.key != "defined":
            terms += [c.all_defined for c in copies]
        terms += [premise, z3.Not(claim)]
        for which in ("upper", "lower", "middle"):
            pairs = []
            for name, parameter in numeric:
                step = _parameter_step(parameter)
                value = {"upper": parameter.upper, "lower": parameter.lower,
                         "middle": (parameter.lower + parameter.upper) / 2 // step * step}[which]
                pairs.append((copies[0].sym.inputs[(name, None)], _real(value)))
            holding = OwnContextSolver()
            holding.set("rlimit", _rlimit(self.timeout))
            holding.add(*[z3.substitute(t, *pairs) for t in terms], *[var == value for var, value in pairs])
            if holding.check() == z3.sat:
                return holding
        return None

    def _parameter_ranges(self, prop: _Property, copies, solver) -> list[dict]:
        """issue 17: for each numeric parameter of a draft, the values for which the property fails,
        in words: the largest value up to which it holds for every outcome and the smallest from
        which it holds again (on the parameter's grid: whole currency units, whole counts, 0.01 %
        of a share, 0.01 of a number), by bisection with the solver holding the violation. A search
        the solver cannot finish within its work limit says nothing."""
        from .verify_checks import _fmt as fmt  # the one way verdict words write a value

        read = {n.name for e, _ in m.expressions(self.contract) for n in m.walk(e) if isinstance(n, m.Input)}
        solver.set("rlimit", _rlimit(min(self.timeout, 2.0)))  # each question of the search: a small budget
        result = []
        for name, parameter in self.contract.parameters.items():
            if parameter.lower is None or name in prop.fresh or name not in read:
                continue  # yes/no; the very value a monotonicity compares; a parameter nothing reads
            step = _parameter_step(parameter)
            try:
                found = _agreed_values(solver, copies[0].sym.inputs[(name, None)], parameter, step)
            except _Undefined:
                continue
            if found is None:
                continue
            holds_below, holds_above = found
            cur = self.contract.currency
            span = {lang: f"{fmt(parameter.lower, parameter.ty, cur, lang)}–{fmt(parameter.upper, parameter.ty, cur, lang)}"
                    for lang in ("en", "sv")}
            if holds_below is None and holds_above is None:
                en = f"; it fails for some outcomes whatever `{name}` is agreed within {span['en']}"
                sv = f"; det brister för några utfall vilket värde på `{name}` som än avtalas inom {span['sv']}"
            else:
                parts_en, parts_sv = [], []
                if holds_below is not None:
                    parts_en.append(f"{fmt(holds_below, parameter.ty, cur, 'en')} or less")
                    parts_sv.append(f"högst {fmt(holds_below, parameter.ty, cur, 'sv')}")
                if holds_above is not None:
                    parts_en.append(f"{fmt(holds_above, parameter.ty, cur, 'en')} or more")
                    parts_sv.append(f"minst {fmt(holds_above, parameter.ty, cur, 'sv')}")
                en = (f"; it holds for every outcome only if `{name}` ({span['en']}) is agreed at "
                      + " or at ".join(parts_en))
                sv = (f"; det håller för varje utfall bara om `{name}` ({span['sv']}) avtalas till "
                      + " eller ".join(parts_sv))
            result.append({"en": en, "sv": sv})
        return result

    def _readable(self, copies, solver) -> z3.ModelRef | None:
        """The counterexample made round and minimal (counterexample.py), under its own deterministic
        budget; None keeps the solver's first model."""
        from .counterexample import readable_model

        inputs = [(self.contract.input(name), term) for c in copies for (name, _), term in c.sym.inputs.items()]
        return readable_model(solver, inputs, first_rlimit=_rlimit(self.timeout))

    def _abstract_proof(self, prop: _Property) -> bool:
        """Monotonicity first with rounding abstracted (any value within a step, monotone across the
        two copies): that over-approximates the exact rounding, so `unsat` is a proof, and it avoids
        the integer floors that make two-copy problems hard. Otherwise the exact encoding decides."""
        copies, solver = self._context(prop, abstract=True)
        premise, claim = prop.build(copies)
        solver.set("rlimit", _rlimit(min(self.timeout, 5.0)))
        solver.push()
        try:
            solver.add(premise, z3.Not(claim))
            return solver.check() == z3.unsat
        finally:
            solver.pop()

    def _files(self, copies, model, solver) -> list[dict] | None:
        values = [_model_value(model, t) for c in copies for t in c.sym.inputs.values()
                  if not z3.is_bool(t)]
        if all(is_exact_decimal(v) for v in values if isinstance(v, Fraction)):
            return [_outcome_file(self.contract, c.sym, model) for c in copies]
        solver.set("rlimit", _rlimit(min(GRID_SECONDS, self.timeout)))  # integer grids: slow per unit
        for digits in (2, 4, 8):
            solver.push()
            for c in copies:
                solver.add(*_grid(c.sym, digits))
            if solver.check() == z3.sat:
                model = solver.model()
                solver.pop()
                return [_outcome_file(self.contract, c.sym, model) for c in copies]
            solver.pop()
        return None

    def _confirm(self, prop: _Property, files: list[dict]) -> Verdict:
        """Run the real evaluator on the counterexample: a violation is reported only if it reproduces."""
        from .outcomes import load_outcomes  # here only: a check whose properties all hold reads no outcome file

        outcomes, settlements = [], []
        for data in files:
            text = json.dumps(data, ensure_ascii=False)
            values = load_outcomes(self.contract, text=text, name="counterexample.json")
            outcomes.append(values)
            try:
                settlements.append(self.evaluator.evaluate(values))
            except EvaluationError as err:
                if prop.key == "defined":
                    span = err.diagnostic.span
                    line = span.line if span else 0
                    where = {"en": f" (line {line})", "sv": f" (rad {line})"} if line else {"en": "", "sv": ""}
                    return Verdict(prop.key, prop.description, VIOLATED, 0.0, err.diagnostic.message,
                                   tuple(files), (), line=line,
                                   words={"en": f"a formula divides by zero for these outcomes{where['en']}",
                                          "sv": f"en formel delar med noll för dessa utfall{where['sv']}"})
                return attrs.evolve(_unknown(prop, "unconfirmed", self.timeout),
                                    reason=f"the counterexample fails to evaluate: {err.diagnostic.message}")
        if prop.key == "defined":
            return _unknown(prop, "unconfirmed", self.timeout)
        if prop.concrete is not None and not prop.concrete(outcomes, settlements):
            from .counterexample import that_matter
            from .verify_checks import words

            said = words(self.contract, prop.key, outcomes, settlements)
            reason = said.text["en"] if said is not None else _explain(prop, settlements)
            text = said.text if said is not None else {"en": reason, "sv": reason}
            return Verdict(prop.key, prop.description, VIOLATED, 0.0, reason,
                           tuple(files), tuple(settlements), line=said.line if said is not None else 0,
                           words=text, shown=tuple(that_matter(self.contract, files)))
        return _unknown(prop, "unconfirmed", self.timeout)


def _parameter_step(parameter: m.Measure) -> Fraction:
    """The grid a contract writes a parameter's value on: whole currency units, whole counts and
    days, 0.01 % of a share, 0.01 of a number."""
    return {MONEY: Fraction(1), COUNT: Fraction(1), DAYS: Fraction(1), SHARE: Fraction(1, 10000)}.get(
        parameter.ty.kind, Fraction(1, 100))


def _agreed_values(solver, term, parameter: m.Measure, step: Fraction):
    """issue 17: (the largest value on the grid up to which no outcome breaks the property held by
    `solver`, the smallest from which none does), each None when there is none; None when no value
    in the range breaks it. Raises _Undefined when a question exceeds the solver's work limit."""
    low, high = -((-parameter.lower) // step), parameter.upper // step  # the grid within the range

    def fails(condition) -> bool:
        solver.push()
        solver.add(condition)
        try:
            answer = solver.check()
        finally:
            solver.pop()
        if answer == z3.unknown:
            raise _Undefined("parameter search")
        return answer == z3.sat

    def least(pred) -> int | None:  # the least k in [low, high] with pred(k), pred monotone in k
        if not pred(high):
            return None
        lo, hi = low, high
        while lo < hi:
            mid = (lo + hi) // 2
            lo, hi = (lo, mid) if pred(mid) else (mid + 1, hi)
        return lo

    first = least(lambda k: fails(term <= _real(k * step)))  # a violation at or below k
    if first is None:
        return None
    last = least(lambda k: not fails(term >= _real(k * step)))  # none at or above k
    return ((first - 1) * step if first > low else None,
            last * step if last is not None and last <= high else None)



def _cap_by_bounds(b, cap: m.Cap) -> bool:
    """A cap's property from bounds: what it limits is at most its level for every outcome, at
    every step of its clause (the same claim `properties` states to z3)."""
    steps = b.steps_of(cap.clause)
    if not steps:
        return False
    for v in steps:
        level = v.level.lo if v.level is not None else None
        if level is None:
            return False
        if cap.kind in ("total", "participant"):
            high = b.total.hi
        elif cap.kind == "payment":
            high = b.lines[v.step.line].hi
        elif cap.kind in ("stream", "payer", "recipient", "series"):
            high = b.sum_hi(v.step.group)
        else:
            return False
        if high is None or high > level:
            return False
    return True


def _floor_by_bounds(b, floor: m.Floor) -> bool:
    """A floor's property from bounds: wherever it applies, what it holds up has a lower end at
    least the floor's level (after every later cut: a cap that may cut it leaves it to z3)."""
    steps = b.steps_of(floor.clause)
    if not steps:
        return False
    for v in steps:
        if v.condition is False:
            continue  # never applies
        level = v.level.hi if v.level is not None else None
        if level is None:
            return False
        if v.step.kind is StepKind.TOTAL_FLOOR:
            low = b.total.lo
        elif v.step.kind is StepKind.STREAM_FLOOR:
            los = [b.lines[j].lo for j in v.step.group]
            low = None if None in los else sum(los, Fraction(0))
        elif v.step.kind is StepKind.FLOOR:
            low = b.lines[v.step.line].lo
        else:
            return False
        if low is None or low < level:
            return False
    return True


def _gate_by_bounds(b, gate: m.Gate) -> bool:
    """A gate's property from bounds (the claim `properties` states): wherever its condition may
    fail, the total is at most its level (the total's upper end at most the level's lower end), or
    the gated line is nothing (its interval [0, 0]) after every step."""
    from .bounds import ZERO as nothing

    steps = b.steps_of(gate.clause)
    if not steps:
        return False
    for v in steps:
        if v.condition is True:
            continue  # it never fails here
        if v.step.kind is StepKind.TOTAL_GATE:
            if v.level is None or v.level.lo is None or b.total.hi is None or b.total.hi > v.level.lo:
                return False
        elif v.step.kind is StepKind.GATE:
            if b.lines[v.step.line] != nothing:
                return False
        else:
            return False
    return True


def _return_by_bounds(b, limit: m.ReturnLimit) -> bool:
    """A return limit's property from bounds (the claim `_return_limit_property` states): what it
    limits has an upper end at most the limit — the lines' sum by `Bounds.sum_hi`, and a present
    value Σ w·a by its terms' upper ends or, where every line is ≥ 0 and every weight too, by
    max(w) × the sum's upper end."""
    steps = b.steps_of(limit.clause)
    if not steps:
        return False
    for v in steps:
        if v.step.takes:
            continue  # within a waterfall: the claim is true (the step after the waterfall binds)
        if v.level is None or v.level.lo is None:
            return False
        group = v.step.group
        if v.step.weights:
            weights = v.step.weights
            if min(weights) < 0:
                return False
            his = [b.lines[j].hi for j in group]
            high = None if None in his else sum((Fraction(w) * h for w, h in zip(weights, his)), Fraction(0))
            whole = b.sum_hi(group)
            if whole is not None and all(b.lines[j].lo is not None and b.lines[j].lo >= 0 for j in group):
                alt = Fraction(max(weights)) * whole
                high = alt if high is None else min(high, alt)
        else:
            high = b.sum_hi(group)
        if high is None or high > v.level.lo:
            return False
    return True


def _floor_below_cap_by_bounds(b, floor: m.Floor, cap: m.Cap) -> bool:
    """A floor's level is at most a cap's, on every line they share, wherever the floor applies
    (the claim `properties` states): the floor level's upper end at most the cap level's lower end."""
    for f in b.steps_of(floor.clause):
        for k in b.steps_of(cap.clause):
            if not (f.step.kind is StepKind.TOTAL_FLOOR or f.step.line == k.step.line) or f.condition is False:
                continue
            if f.level is None or k.level is None or f.level.hi is None or k.level.lo is None \
                    or f.level.hi > k.level.lo:
                return False
    return True


def _unknown(prop: _Property, cause: str, timeout: float) -> Verdict:
    """An `unknown` verdict in plain words: what could not be decided and what the user can do."""
    from .counterexample import unknown_words

    said = unknown_words(cause, timeout)
    return Verdict(prop.key, prop.description, UNKNOWN, 0.0, said["en"], words=said)


def _explain(prop: _Property, settlements: list[Settlement]) -> str:
    """What the counterexample's settlement shows, in words."""
    from .report import format_amount

    first = settlements[0]

    def money(value) -> str:
        return format_amount(value, first.currency)

    if prop.key.startswith("nonnegative:"):
        return "; ".join(f"`{ln.payment}`" + (f" for {ln.period}" if ln.period else "") + f" is {money(ln.amount)}"
                         for ln in first.lines if ln.amount < 0)
    if len(settlements) == 2:
        return f"the total goes from {money(first.total)} to {money(settlements[1].total)} when the outcome improves"
    paid = [ln for ln in first.lines if ln.amount]
    detail = ", ".join(f"`{ln.payment}`" + (f" for {ln.period}" if ln.period else "") + f" {money(ln.amount)}"
                       for ln in paid)
    return f"the total is {money(first.total)}" + (f" ({detail})" if detail else "")


def verify_contract(contract: m.Contract, timeout: float = DEFAULT_TIMEOUT,
                    only: Iterable[str] | None = None) -> list[Verdict]:
    return Verifier(contract, timeout).verify(only)


def unreachable_branches(contract: m.Contract, keys: Iterable[tuple], timeout: float = 5.0) -> set[tuple]:
    """The clause branches (as in sibdsl.coverage) that no outcome can take, proved by z3: a cap
    that can never be reached, a floor that is never needed. A branch without a proof is kept."""
    sym = _Sym(contract, "r!")
    settlement = _SymSettlement(contract, sym)
    solver = OwnContextSolver()
    solver.set("rlimit", _rlimit(timeout))
    solver.add(*sym.domain, settlement.all_defined)
    result = set()
    for key in keys:
        conditions = settlement.events.get(key)
        if not conditions:
            continue
        solver.push()
        solver.add(z3.Or(conditions))
        if solver.check() == z3.unsat:
            result.add(key)
        solver.pop()
    return result


def verdict_record(v: Verdict) -> dict:
    """A verdict as plain data: what the proof cache keeps and `sibc check` reports."""
    return {"key": v.key, "description": v.description, "status": v.status, "reason": v.reason,
            "counterexample": list(v.counterexample),
            "line": v.line or (v.clause.line if v.clause is not None else 0)}


def verdict_json(v: Verdict) -> dict:
    """A verdict for machines; a violation carries its outcomes and the settlements they produce."""
    from .report import settlement_json

    return {
        "property": v.key, "description": v.description, "verdict": v.status,
        "seconds": round(v.seconds, 3), "reason": v.reason, "method": v.method,
        "counterexample": list(v.counterexample) or None,
        "outcomes_that_matter": list(v.shown) or None,
        "words": dict(v.words) or None,  # the verdict in plain words, "en" and "sv"
        "line": v.line or (v.clause.line if v.clause is not None else None),
        "settlements": [settlement_json(s) for s in v.settlements] or None,
    }


# the names verify_checks.py builds its properties from
Property = _Property
SymbolicInputs = _Sym
SymbolicSettlement = _SymSettlement
concrete_value = _value
dependencies = _dependencies
name_of = _name
where_of = _where


def z3_version() -> str:
    return z3.get_version_string()


__all__ = ["PROVED", "UNKNOWN", "VIOLATED", "Verdict", "Verifier", "properties", "verify_contract",
           "verdict_json", "sym_round"]
