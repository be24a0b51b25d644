"""Model expressions → Python closures: the formulas of the evaluation function (no text is eval'ed).

`Compiler(contract, definitions, source).compile(expr)` returns a function of an evaluation
context (`Ctx`: the outcomes, the current period of each series, a cache of definitions).
It is built once per contract; evaluating it never needs the model or the grammar again.

Numbers are exact. A value is a Python `int` while it is whole and a `Fraction` otherwise
(`values.whole` turns a whole Fraction back into an int after every operation), so the common case
— whole kronor, counts, percentages of whole amounts — runs on machine-speed integers and
only genuinely fractional values (`reference_costs * 60 / 61`) pay for rational arithmetic.
`/` is `values.divide`, which never produces a float. Callers outside the evaluator get Fractions
(`values.exact`), as before.

Sub-expressions that use no measure are computed once, when the contract is compiled
(constant folding: `40 % of loan` is the integer 4 000 000 at evaluation time), unless the
compiler records branches for coverage, which needs every branch to run.
"""

from __future__ import annotations

import datetime
import operator
from collections.abc import Callable, Mapping
from fractions import Fraction

import attrs

from . import model as m
from .diagnostics import Diagnostic
from .source import Source
from .values import divide, exact, whole

Outcomes = Mapping[str, object]  # measure → value, or measure → {period: value}


class NotConstant(Exception):
    """An expression that had to be fixed at signing uses the measure `name`."""

    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


class EvaluationError(Exception):
    """The contract cannot be settled for these outcomes (E602: a division by zero)."""

    def __init__(self, diagnostic: Diagnostic):
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


@attrs.define
class Ctx:
    inputs: Outcomes
    period: dict[str, str]
    cache: dict
    payments: dict[str, object] | None = None
    total: object = None


Fn = Callable[[Ctx], object]


_COMPARE = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
            "==": operator.eq, "!=": operator.ne}
_ARITH = {"+": operator.add, "-": operator.sub, "*": operator.mul, "of": operator.mul}


def _add_days(date: datetime.date, days) -> datetime.date:
    if isinstance(days, datetime.date):  # days + date
        date, days = days, date
    return date + datetime.timedelta(days=int(days))


class Compiler:
    """Turns model expressions into closures over a context.

    `constant=True` compiles expressions that must be fixed at signing: a measure raises
    NotConstant. `recorder(expr, branch)` is told which branch of every condition, tiers table
    and interpolation each evaluation takes (`sibc test --coverage`); recording turns constant
    folding off, since a folded branch would never be reported."""

    def __init__(self, contract: m.Contract | None, definitions: Mapping[str, m.Definition],
                 source: Source | None, constant: bool = False,
                 constants: Mapping[str, Fraction] | None = None,
                 recorder: Callable[[m.Expr, int], None] | None = None):
        self.contract = contract
        self.recorder = recorder
        self.definitions = definitions
        self.constants = dict(constants or {})
        if contract is not None:
            self.constants.update({n: i.amount for n, i in contract.investments.items()})
            self.constants.update({n: Fraction(c.size) for n, c in contract.cohorts.items()})
        self.source = source
        self.constant = constant
        self.compiled: dict[str, Fn] = {}
        self.folded: dict[Fn, object] = {}  # closures whose value is known: fn → value

    def fail(self, code: str, message: str, expr, hint: str = "") -> EvaluationError:
        return EvaluationError(Diagnostic(code, message, self.source, getattr(expr, "span", None), hint=hint))

    # ------------------------------------------------------------ constants
    def const(self, value) -> Fn:
        value = whole(value)
        fn = lambda ctx: value  # noqa: E731
        self.folded[fn] = value
        return fn

    def _fold(self, fn: Fn, parts: list[Fn]) -> Fn:
        """`fn` itself, or its value computed now when every part it reads is known. A part that
        cannot be computed (a division by zero in a branch no outcome may take) stays a closure,
        so the error appears only if an evaluation reaches it, as without folding."""
        if self.recorder is not None or not all(p in self.folded for p in parts):
            return fn
        try:
            value = fn(Ctx({}, {}, {}))
        except EvaluationError:
            return fn
        return self.const(value)

    # ------------------------------------------------------------ names
    def var(self, name: str) -> Fn:
        if name in self.compiled:
            return self.compiled[name]
        if name in self.constants:  # investments and cohort sizes
            fn = self.const(self.constants[name])
        else:
            definition = self.definitions.get(name)
            if definition is None:
                raise NotConstant(name)
            inner = self.compile(definition.expr)
            if definition.indexation is not None:
                factor = whole((1 + definition.indexation.rate) ** definition.indexation.years)
                base = inner
                inner = self._fold(lambda ctx: whole(base(ctx) * factor), [base])
            series = definition.ty.series
            if inner in self.folded:
                fn = inner
            elif series:
                def fn(ctx, inner=inner, name=name, series=series):
                    key = (name, ctx.period.get(series))
                    cache = ctx.cache
                    if key not in cache:
                        cache[key] = inner(ctx)
                    return cache[key]
            else:
                def fn(ctx, inner=inner, name=name):
                    cache = ctx.cache
                    if name not in cache:
                        cache[name] = inner(ctx)
                    return cache[name]
        self.compiled[name] = fn
        return fn

    # ------------------------------------------------------------ expressions
    def compile(self, e: m.Expr) -> Fn:
        fn = self._compile(e)
        if self.recorder is not None and isinstance(e, (m.Cond, m.Steps, m.Interp)):
            fn = self._recording(e, fn)
        return fn

    def _recording(self, e: m.Cond | m.Steps | m.Interp, fn: Fn) -> Fn:
        """Report which branch of a condition or which row of a table each evaluation takes, as
        an index (`sibc test --coverage` names them); the value is computed as without recording."""
        record = self.recorder
        if isinstance(e, m.Cond):
            cond = self.compile(e.cond)
            branch = lambda ctx: 0 if cond(ctx) else 1  # noqa: E731  (then, else)
        else:
            subject = self.compile(e.subject)
            if isinstance(e, m.Steps):  # 0: below the first threshold; i: from the i-th
                def branch(ctx):
                    x = subject(ctx)
                    return sum(1 for t in e.thresholds if x >= t)
            else:  # 0: at or below the first point; i: between points i-1 and i; last: above
                def branch(ctx):
                    x = subject(ctx)
                    return next((i for i, xi in enumerate(e.xs) if x <= xi), len(e.xs))

        def recorded(ctx):
            result = fn(ctx)
            record(e, branch(ctx))
            return result
        return recorded

    def _compile(self, e: m.Expr) -> Fn:
        if isinstance(e, m.Const):
            return self.const(e.value)
        if isinstance(e, m.Input):
            if self.constant:
                raise NotConstant(e.name)
            name, series = e.name, e.ty.series
            if series:
                return lambda ctx: whole(ctx.inputs[name][ctx.period[series]])
            return lambda ctx: whole(ctx.inputs[name])
        if isinstance(e, m.Var):
            return self.var(e.name)
        if isinstance(e, m.PaymentRef):
            name = e.name
            return lambda ctx: ctx.payments[name]
        if isinstance(e, m.Total):
            return lambda ctx: ctx.total
        if isinstance(e, m.Cond):
            c, t, o = self.compile(e.cond), self.compile(e.then), self.compile(e.otherwise)
            if c in self.folded and self.recorder is None:  # the branch is known when signing
                return t if self.folded[c] else o
            return self._fold(lambda ctx: t(ctx) if c(ctx) else o(ctx), [c, t, o])
        if isinstance(e, m.Sum):
            return self._sum(e)
        if isinstance(e, m.Steps):
            return self._steps(e)
        if isinstance(e, m.Interp):
            return self._interp(e)
        assert isinstance(e, m.Op), e
        return self._op(e)

    def _sum(self, e: m.Sum) -> Fn:
        inner, series = self.compile(e.operand), e.series
        periods = [p.name for p in self.contract.series[series].periods] if self.contract else []

        def total(ctx):
            saved = ctx.period.get(series)
            acc = 0
            for p in periods:
                ctx.period[series] = p
                acc += inner(ctx)
            if saved is None:
                ctx.period.pop(series, None)
            else:
                ctx.period[series] = saved
            return whole(acc)
        return self._fold(total, [inner])

    def _steps(self, e: m.Steps) -> Fn:
        subject, below = self.compile(e.subject), self.compile(e.below)
        values = [self.compile(v) for v in e.values]
        rows = list(zip([whole(t) for t in e.thresholds], values))[::-1]

        def steps(ctx):
            x = subject(ctx)
            for threshold, value in rows:
                if x >= threshold:
                    return value(ctx)
            return below(ctx)
        return self._fold(steps, [subject, below, *values])

    def _interp(self, e: m.Interp) -> Fn:
        subject = self.compile(e.subject)
        xs = [whole(x) for x in e.xs]
        first, last = whole(e.ys[0]), whole(e.ys[-1])
        # segment i (x in (xs[i-1], xs[i]]): ys[i-1] + slope_i · (x − xs[i-1])
        segments = [(xs[i], xs[i - 1], e.ys[i - 1], (e.ys[i] - e.ys[i - 1]) / (e.xs[i] - e.xs[i - 1]))
                    for i in range(1, len(xs))]

        def interp(ctx):
            x = subject(ctx)
            if x <= xs[0]:
                return first
            for upper, lower, y0, slope in segments:
                if x <= upper:
                    return whole(y0 + slope * (x - lower))
            return last
        return self._fold(interp, [subject])

    def _op(self, e: m.Op) -> Fn:
        args = [self.compile(a) for a in e.args]
        op = e.op
        if op in ("neg", "not", "abs"):
            (a,) = args
            f = {"neg": operator.neg, "not": operator.not_, "abs": abs}[op]
            return self._fold(lambda ctx: f(a(ctx)), args)
        if op in ("min", "max"):
            f = min if op == "min" else max
            if len(args) == 2:
                a, b = args
                if b in self.folded:  # min(x, 6 000 000): the constant is read once, here
                    k = self.folded[b]
                    return self._fold(lambda ctx: f(a(ctx), k), args)
                return self._fold(lambda ctx: f(a(ctx), b(ctx)), args)
            return self._fold(lambda ctx: f([g(ctx) for g in args]), args)
        a, b = args
        if op == "and":
            return self._fold(lambda ctx: a(ctx) and b(ctx), args)
        if op == "or":
            return self._fold(lambda ctx: a(ctx) or b(ctx), args)
        if op in _COMPARE:
            cmp = _COMPARE[op]
            return self._fold(lambda ctx: cmp(a(ctx), b(ctx)), args)
        if e.ty.kind == "date":  # date + days, days + date, date − days
            if op == "+":
                return self._fold(lambda ctx: _add_days(a(ctx), b(ctx)), args)
            return self._fold(lambda ctx: _add_days(a(ctx), -b(ctx)), args)
        if op == "-" and e.args[0].ty.kind == "date":  # date − date: days
            return self._fold(lambda ctx: (a(ctx) - b(ctx)).days, args)
        if op in _ARITH:
            f = _ARITH[op]
            if b in self.folded:
                k = self.folded[b]
                return self._fold(lambda ctx: whole(f(a(ctx), k)), args)
            return self._fold(lambda ctx: whole(f(a(ctx), b(ctx))), args)
        if op == "/":
            def quotient(ctx):
                denominator = b(ctx)
                if denominator == 0:
                    raise self.fail("E602", "division by zero for these outcomes", e,
                                    "guard the division, e.g. `if n > 0 then … / n else 0 SEK`")
                return divide(a(ctx), denominator)
            return self._fold(quotient, args)
        raise AssertionError(op)


def constant_value(expr: m.Expr, definitions: Mapping[str, m.Definition | None],
                   constants: Mapping[str, Fraction] | None = None) -> object:
    """The value of an expression that uses no measures; raises NotConstant naming the measure.

    `constants` are the investments and cohort sizes known so far. Numbers come back as Fractions."""
    usable = {k: v for k, v in definitions.items() if v is not None}
    fn = Compiler(None, usable, None, constant=True, constants=constants).compile(expr)
    return exact(fn(Ctx({}, {}, {})))
