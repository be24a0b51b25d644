"""The scalar back end's primitives: model expressions → Python closures (no text is eval'ed).

Each closure also says what it computes (`shaped`: `fn.shape`), so that generated.py can write
the same computation inline in a contract's generated settlement function.

What an expression means is written once, in semantics/expr.py; this module supplies the
primitives it is built from, as closures over an evaluation context (`Ctx`: the outcomes and a
cache of definitions). `Compiler(contract, definitions, source).compile(expr, period)` returns
the closure of an expression read in `period` (the period of each series in scope). It is built
once per contract; evaluating it never needs the model or the grammar again.

Numbers are exact. A value is a Python `int` while it is whole and a `Fraction` otherwise
(`values.whole` turns a whole Fraction back into an int after every operation), so the common case
— whole kronor, counts, percentages of whole amounts — runs on machine-speed integers and
only genuinely fractional values (`reference_costs * 60 / 61`) pay for rational arithmetic.
`/` is `values.divide`, which never produces a float. Callers outside the evaluator get Fractions
(`values.exact`), as before. Evaluation is lazy: only the branch an `if` takes is computed, and a
division by zero on that path raises `EvaluationError` (E602).

Sub-expressions that use no measure are computed once, when the contract is compiled
(constant folding: `40 % of loan` is the integer 4 000 000 at evaluation time), unless the
compiler records branches for coverage, which needs every branch to run.
"""

from __future__ import annotations

import datetime
import operator
from collections.abc import Callable, Mapping, Sequence
from fractions import Fraction

import attrs

from . import model as m
from .diagnostics import Diagnostic
from .semantics.expr import Interpreter, UnknownName
from .source import Source
from .units import BOOL
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
    period: dict[str, str]  # kept for callers; closures know their period when compiled
    cache: dict
    payments: dict[str, object] | None = None
    total: object = None
    lines: list | None = None  # issue 15: the settlement's lines as they stand (semantics.run)
    index: dict | None = None  # (payment, period) → line


Fn = Callable[[Ctx], object]

_COMPARE = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
            "==": operator.eq, "!=": operator.ne}


class Failed:
    """A definition that could not be computed for these outcomes: raised again where it is read."""

    __slots__ = ("error",)

    def __init__(self, error: EvaluationError):
        self.error = error


_MISSING = object()


def shaped(fn: Fn, *shape) -> Fn:
    """`fn`, told what it computes (`fn.shape`): the generated settlement function (generated.py)
    writes the same computation inline; a closure without a shape is called from there as it is."""
    fn.shape = shape
    return fn


class _Staged:
    """semantics.expr.Primitives over closures, with constant folding."""

    tracks_failure = False
    FALSE = None

    def __init__(self, compiler: Compiler):
        self.c = compiler
        self.folded = compiler.folded

    # ------------------------------------------------------------ constants
    def const(self, value) -> Fn:
        value = whole(value) if not isinstance(value, (bool, datetime.date)) else value
        fn = lambda ctx: value  # noqa: E731
        self.folded[fn] = value
        return fn

    def _fold(self, fn: Fn, parts: Sequence[Fn]) -> Fn:
        """`fn` itself, or its value computed now when every part it reads is known. A part that
        cannot be computed (a division by zero in a branch no outcome may take) stays a closure,
        so the error appears only if an evaluation reaches it, as without folding."""
        if self.c.recorder is not None or not all(p in self.folded for p in parts):
            return fn
        try:
            value = fn(Ctx({}, {}, {}))
        except EvaluationError:
            return fn
        return self.const(value)

    # ------------------------------------------------------------ names
    def input(self, node: m.Input, period: str | None) -> Fn:
        if self.c.constant:
            raise NotConstant(node.name)
        name = node.name
        if node.ty.kind == BOOL:  # read as it is (`whole` leaves a bool so): no call on the hot path
            if period is not None:
                return shaped(lambda ctx: ctx.inputs[name][period], "input", name, period, True)
            return shaped(lambda ctx: ctx.inputs[name], "input", name, period, True)
        if period is not None:
            def read(ctx):
                v = ctx.inputs[name][period]
                return v.numerator if type(v) is Fraction and v.denominator == 1 else v  # values.whole
        else:
            def read(ctx):
                v = ctx.inputs[name]
                return v.numerator if type(v) is Fraction and v.denominator == 1 else v  # values.whole
        return shaped(read, "input", name, period, False)

    def let(self, key: tuple, fn: Fn) -> Fn:
        if fn in self.folded:
            return fn

        def cached(ctx):
            cache = ctx.cache
            value = cache.get(key, _MISSING)
            if value is _MISSING:
                value = cache[key] = fn(ctx)
            elif type(value) is Failed:
                raise value.error
            return value
        return shaped(cached, "let", key, fn)

    def paid(self, keys) -> Fn:
        """What the lines of `keys` hold at this point of the settlement (issue 15)."""
        keys = tuple(keys)
        self.c.reads_lines = True  # evaluate._Stager hands the lines only to a contract that reads them

        def fn(ctx):
            return whole(sum((ctx.lines[ctx.index[k]] for k in keys if k in ctx.index), 0))
        return fn

    def settled(self, node) -> Fn:
        if isinstance(node, m.Total):
            return lambda ctx: ctx.total
        name = node.name
        return lambda ctx: ctx.payments[name]

    # ------------------------------------------------------------ arithmetic
    def linear(self, terms) -> Fn:
        folded = self.folded
        k = 0
        rest = []
        for sign, fn in terms:
            if fn in folded and self.c.recorder is None:
                k = k + folded[fn] if sign > 0 else k - folded[fn]
            else:
                rest.append((sign, fn))
        if not rest:
            return self.const(k)
        if len(rest) == 1:
            (sign, a), = rest
            if k == 0 and sign > 0:
                return a
            if sign > 0:
                return shaped(lambda ctx: whole(a(ctx) + k), "linear", k, ((1, a),))
            return shaped(lambda ctx: whole(k - a(ctx)), "linear", k, ((-1, a),))
        if len(rest) == 2 and k == 0:
            (sa, a), (sb, b) = rest
            if sa > 0 and sb > 0:
                return shaped(lambda ctx: whole(a(ctx) + b(ctx)), "linear", 0, ((1, a), (1, b)))
            if sa > 0:
                return shaped(lambda ctx: whole(a(ctx) - b(ctx)), "linear", 0, ((1, a), (-1, b)))
            if sb > 0:
                return shaped(lambda ctx: whole(b(ctx) - a(ctx)), "linear", 0, ((1, b), (-1, a)))
        plus = tuple(fn for s, fn in rest if s > 0)
        minus = tuple(fn for s, fn in rest if s < 0)

        def total(ctx):
            acc = k
            for f in plus:
                acc += f(ctx)
            for f in minus:
                acc -= f(ctx)
            return whole(acc)
        shaped(total, "linear", k, tuple((1, f) for f in plus) + tuple((-1, f) for f in minus))
        return self._fold(total, [fn for _, fn in rest])

    def mul(self, a: Fn, b: Fn) -> Fn:
        folded = self.folded
        if b in folded:  # `60 % of savings`: the constant read once, here, and `whole` written out
            k = folded[b]

            def times(ctx):
                v = a(ctx) * k
                return v.numerator if type(v) is Fraction and v.denominator == 1 else v
            return self._fold(shaped(times, "mul", a, b), [a, b])
        if a in folded:
            k = folded[a]
            return self._fold(shaped(lambda ctx: whole(k * b(ctx)), "mul", a, b), [a, b])
        return shaped(lambda ctx: whole(a(ctx) * b(ctx)), "mul", a, b)

    def div(self, a: Fn, b: Fn, node: m.Op):
        fail = self.c.fail
        if b in self.folded and self.folded[b] != 0:  # `… / 61`: a divisor that cannot be zero
            k = self.folded[b]
            return self._fold(shaped(lambda ctx: divide(a(ctx), k), "div", a, b, None), [a, b]), None

        def zero():
            return fail("E602", "division by zero for these outcomes", node,
                        "guard the division, e.g. `if n > 0 then … / n else 0 SEK`")

        def quotient(ctx):
            denominator = b(ctx)
            if denominator == 0:
                raise zero()
            return divide(a(ctx), denominator)
        return self._fold(shaped(quotient, "div", a, b, zero), [a, b]), None

    def neg(self, a: Fn) -> Fn:
        return self._fold(shaped(lambda ctx: -a(ctx), "neg", a), [a])

    def absolute(self, a: Fn) -> Fn:
        return self._fold(shaped(lambda ctx: abs(a(ctx)), "abs", a), [a])

    def extreme(self, op: str, values: Sequence[Fn]) -> Fn:
        f = min if op == "min" else max
        if len(values) == 2:
            a, b = values
            if b in self.folded:  # min(x, 6 000 000): the constant is read once, here
                k = self.folded[b]
                return self._fold(shaped(lambda ctx: f(a(ctx), k), "extreme", op, values), values)
            return self._fold(shaped(lambda ctx: f(a(ctx), b(ctx)), "extreme", op, values), values)
        values = tuple(values)
        return self._fold(shaped(lambda ctx: f([g(ctx) for g in values]), "extreme", op, values), values)

    def compare(self, op: str, a: Fn, b: Fn) -> Fn:
        cmp = _COMPARE[op]
        if b in self.folded:
            k = self.folded[b]
            return self._fold(shaped(lambda ctx: cmp(a(ctx), k), "compare", op, a, b), [a, b])
        return self._fold(shaped(lambda ctx: cmp(a(ctx), b(ctx)), "compare", op, a, b), [a, b])

    bequal = compare

    def bnot(self, a: Fn) -> Fn:
        return self._fold(shaped(lambda ctx: not a(ctx), "not", a), [a])

    def all_(self, values: Sequence[Fn]) -> Fn:
        if len(values) == 2:
            a, b = values
            return self._fold(shaped(lambda ctx: a(ctx) and b(ctx), "and", values), values)
        return self._fold(shaped(lambda ctx, fs=tuple(values): all(f(ctx) for f in fs), "all", values), values)

    def any_(self, values: Sequence[Fn]) -> Fn:
        if len(values) == 2:
            a, b = values
            return self._fold(shaped(lambda ctx: a(ctx) or b(ctx), "or", values), values)
        return self._fold(shaped(lambda ctx, fs=tuple(values): any(f(ctx) for f in fs), "any", values), values)

    def first(self, conds: Sequence[Fn], values: Sequence[Fn], default: Fn, record=None) -> Fn:
        """The value of the first condition that holds, else `default`; only that one is computed."""
        folded = self.folded
        if record is not None and self.c.recorder is not None:
            node, positions, otherwise = record
            rec = self.c.recorder
            pairs = tuple(zip(conds, values, positions))

            def recorded(ctx):
                for c, v, pos in pairs:
                    if c(ctx):
                        result = v(ctx)
                        rec(node, pos)
                        return result
                result = default(ctx)
                rec(node, otherwise)
                return result
            return recorded
        pairs = []
        for c, v in zip(conds, values):
            if c in folded:  # the branch is known when signing
                if folded[c]:
                    default = v
                    break
                continue
            pairs.append((c, v))
        if not pairs:
            return default
        if len(pairs) == 1:
            (c, t), = pairs
            o = default
            return self._fold(shaped(lambda ctx: t(ctx) if c(ctx) else o(ctx), "first", ((c, t),), o), [c, t, o])
        pairs = tuple(pairs)

        def choose(ctx):
            for c, v in pairs:
                if c(ctx):
                    return v(ctx)
            return default(ctx)
        shaped(choose, "first", pairs, default)
        return self._fold(choose, [f for pair in pairs for f in pair] + [default])

    def shift_date(self, date: Fn, days: Fn, sign: int) -> Fn:
        return self._fold(lambda ctx: date(ctx) + datetime.timedelta(days=sign * int(days(ctx))), [date, days])

    def days_between(self, a: Fn, b: Fn) -> Fn:
        return self._fold(lambda ctx: (a(ctx) - b(ctx)).days, [a, b])


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
        self.source = source
        self.constant = constant
        self.folded: dict[Fn, object] = {}  # closures whose value is known: fn → value
        self.reads_lines = False  # whether an expression compiled so far reads what was paid so far
        self.prims = _Staged(self)
        self.interp = Interpreter(contract, self.prims, definitions, constants, record=recorder is not None)

    def fail(self, code: str, message: str, expr, hint: str = "") -> EvaluationError:
        return EvaluationError(Diagnostic(code, message, self.source, getattr(expr, "span", None), hint=hint))

    def compile(self, e: m.Expr, period: Mapping[str, str] | None = None) -> Fn:
        """The closure of `e` read in `period` (the period of each series in scope)."""
        return self.interp.value(e, period)[0]

    def var(self, name: str, period: Mapping[str, str] | None = None) -> Fn:
        """A definition's closure (cached per evaluation context), or an investment's constant."""
        if name in self.interp.constants:
            return self.prims.const(self.interp.constants[name])
        if name not in self.definitions:
            raise NotConstant(name)
        return self.interp.definition(name, period)[0]


def constant_value(expr: m.Expr, definitions: Mapping[str, m.Definition | None],
                   constants: Mapping[str, Fraction] | None = None) -> object:
    """The value of an expression that uses no measures; raises NotConstant naming the measure.

    `constants` are the investments and cohort sizes known so far. Numbers come back as Fractions."""
    usable = {k: v for k, v in definitions.items() if v is not None}
    try:
        fn = Compiler(None, usable, None, constant=True, constants=constants).compile(expr)
    except UnknownName as err:  # a definition not (yet) usable: not known at signing
        raise NotConstant(str(err.args[0])) from None
    return exact(fn(Ctx({}, {}, {})))
