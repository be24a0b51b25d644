"""The meaning of an expression, written once: model expressions → a back end's primitives.

In: a model expression (model.py) and the period of each series it is read in. Out: the back
end's value for it — a closure of the scalar evaluator, an array step of the vectorised one, a z3
term — built only from the back end's primitives (`Primitives` below). What an expression means
lives here and nowhere else: a definition read in its own period and indexed, a sum over the
periods of a series, a `tiers` table and an `interpolate` table as the first of several
conditions that holds, dates moved by whole days (a fraction of a day is cut towards zero),
and which divisions lie on the path taken (`and`/`or` read their right side only when needed,
an `if` only the branch it takes).

The walk is iterative (an explicit stack, not recursion), and chains of `+`/`-`, `and` and `or`
are read as one n-ary operation, so neither a chain of 5,000 definitions nor a flat sum of
5,000 terms reaches Python's recursion limit — in the walk here or in the back end's values.

A back end that computes every branch for every input (vectorised, z3) keeps, next to each
value, where it is *undefined* (`tracks_failure`): a division by zero that lies on the path
taken. This module says how those masks combine; the back end only supplies boolean primitives.
The scalar back end evaluates lazily and raises instead (E602).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any, Protocol

from .. import model as m
from ..syntax import SEP
from ..units import BOOL, DATE

V = Any  # a back end's value
Period = tuple[tuple[str, str], ...]  # the period of each series in scope, sorted


class UnknownName(KeyError):
    """An expression names a definition the interpreter was not given (a constant evaluated at
    signing may only use the definitions known to be constant)."""


class Primitives(Protocol):
    """What a back end implements to give expressions their meaning (and nothing else).

    Numbers are exact rationals whatever the representation; dates are a day number
    (`datetime.date.toordinal`) or a date, as the back end chooses, behind `const`, `shift_date`
    and `days_between`."""

    tracks_failure: bool  # keep undefinedness as values (below) instead of raising
    FALSE: V  # the constant false of the back end's booleans, for failure masks

    def const(self, value: Fraction | int | bool | datetime.date) -> V: ...
    def input(self, node: m.Input, period: str | None) -> V: ...
    def linear(self, terms: Sequence[tuple[int, V]]) -> V: ...  # Σ sign·value, signs ±1
    def mul(self, a: V, b: V) -> V: ...
    def div(self, a: V, b: V, node: m.Op) -> tuple[V, V | None]: ...  # (a / b, where b == 0)
    def neg(self, a: V) -> V: ...
    def absolute(self, a: V) -> V: ...
    def extreme(self, op: str, values: Sequence[V]) -> V: ...  # "min" / "max"
    def compare(self, op: str, a: V, b: V) -> V: ...  # numbers and dates
    def bequal(self, op: str, a: V, b: V) -> V: ...  # == / != of two booleans
    def bnot(self, a: V) -> V: ...
    def all_(self, values: Sequence[V]) -> V: ...  # left to right, stops at the first false
    def any_(self, values: Sequence[V]) -> V: ...  # left to right, stops at the first true
    def first(self, conds: Sequence[V], values: Sequence[V], default: V, record=None) -> V: ...
    def shift_date(self, date: V, days: V, sign: int) -> V: ...  # date ± the whole days of `days`
    def days_between(self, a: V, b: V) -> V: ...
    def let(self, key: tuple, value: V) -> V: ...  # a definition's value, computed once
    def settled(self, node: m.PaymentRef | m.Total) -> V: ...  # a settled amount (guarantees)
    # issue 15: what the lines of these (payment, period) keys hold at this point of the settlement
    def paid(self, keys: Sequence[tuple[str, str]]) -> V: ...
    # failure masks (only when tracks_failure)
    def bor(self, a: V, b: V) -> V: ...
    def band(self, a: V, b: V) -> V: ...
    def bwhere(self, c: V, t: V, o: V) -> V: ...


class Interpreter:
    """Gives a contract's expressions their meaning over one back end's primitives.

    `value(expr, period)` returns `(value, failed)`; `failed` is None when no division on the
    path taken can fail (always None for a back end that raises instead). Definitions are
    computed once per (name, period of their own series) for the interpreter's lifetime.

    `record(node, position)` — the branch of an `if`, a `tiers` row or an `interpolate` segment
    an evaluation takes — is passed to `first` for the back ends that report coverage."""

    def __init__(self, contract: m.Contract | None, prims: Primitives,
                 definitions: Mapping[str, m.Definition] | None = None,
                 constants: Mapping[str, Fraction] | None = None, record: bool = False):
        self.contract = contract
        self.p = prims
        self.definitions = contract.definitions if definitions is None else definitions
        self.constants = dict(constants or {})
        if contract is not None:
            self.constants.update({n: i.amount for n, i in contract.investments.items()})
            self.constants.update({n: Fraction(c.size) for n, c in contract.cohorts.items()})
        self.record = record
        self.defs: dict[tuple, tuple[V, V | None]] = {}
        self.cells: dict[str, frozenset[str]] = {}  # the applicable cells of each product series
        self.tracks = prims.tracks_failure

    # ------------------------------------------------------------ failure masks
    def _or(self, a, b):
        if a is None:
            return b
        if b is None:
            return a
        return self.p.bor(a, b)

    def _and(self, c, bad):
        return None if bad is None else self.p.band(c, bad)

    def _where(self, c, t, o):
        if t is None and o is None:
            return None
        false = self.p.FALSE
        return self.p.bwhere(c, false if t is None else t, false if o is None else o)

    # ------------------------------------------------------------ the walk
    def value(self, e: m.Expr, period: Mapping[str, str] | None = None) -> tuple[V, V | None]:
        """The back end's value of `e` in `period`, and where it is undefined (see the class)."""
        root = (e, _key(period) if period else ())
        results: dict[tuple[int, Period], tuple[V, V | None]] = {}
        stack: list[tuple[m.Expr, Period, list | None]] = [(root[0], root[1], None)]
        while stack:
            node, pk, deps = stack.pop()
            key = (id(node), pk)
            if key in results:
                continue
            if deps is None:
                deps = self._deps(node, pk)
                missing = [d for d in deps if (id(d[0]), d[1]) not in results]
                if missing:
                    stack.append((node, pk, deps))
                    stack.extend((child, cpk, None) for child, cpk in missing)
                    continue
            results[key] = self._apply(node, pk, [results[(id(c), cpk)] for c, cpk in deps])
        return results[(id(root[0]), root[1])]

    def definition(self, name: str, period: Mapping[str, str] | None = None) -> tuple[V, V | None]:
        """A definition's value in the period of its own series (read from `period`)."""
        return self.value(m.Var(name, self.definitions[name].ty), period)

    def _def_key(self, name: str, pk: Period) -> tuple[tuple, Period]:
        series = self.definitions[name].ty.series
        if not series:
            return (name, None), ()
        current = at(pk, series)
        return (name, current), _key({series: current})

    def _deps(self, node, pk: Period) -> list[tuple[m.Expr, Period]]:
        if isinstance(node, m.Op) and node.op in _PERIODIC:
            return self._period_deps(node, pk)
        if isinstance(node, m.Op):
            if _linear(node):
                return [(t, pk) for _, t in _chain(node, ("+", "-"))]
            if node.op in ("and", "or"):
                return [(t, pk) for _, t in _chain(node, (node.op,))]
            return [(a, pk) for a in node.args]
        if isinstance(node, m.Var):
            if node.name in self.constants:
                return []
            if node.name not in self.definitions:
                raise UnknownName(node.name)
            key, inner = self._def_key(node.name, pk)
            return [] if key in self.defs else [(self.definitions[node.name].expr, inner)]
        if isinstance(node, m.Cond):
            return [(node.cond, pk), (node.then, pk), (node.otherwise, pk)]
        if isinstance(node, m.Sum):
            periods = self.contract.series[node.series].periods if self.contract is not None else ()
            keys = (_with(pk, node.series, p.name) for p in periods)
            return [(node.operand, key) for key in keys if self._applies(node.operand.ty.series, key)]
        if isinstance(node, m.At):  # issue 15: in one period of its series
            return [(node.operand, _with(pk, node.series, node.period))]
        if isinstance(node, m.Steps):
            return [(node.subject, pk), (node.below, pk), *((v, pk) for v in node.values)]
        if isinstance(node, m.Interp):
            return [(node.subject, pk)]
        return []

    def _apply(self, node, pk: Period, args: list[tuple[V, V | None]]) -> tuple[V, V | None]:
        p = self.p
        if isinstance(node, m.Const):
            return p.const(node.value), None
        if isinstance(node, m.PerPeriod):  # issue 15: a value fixed for each period (an indexed price)
            return p.const(dict(node.values)[at(pk, node.series)]), None
        if isinstance(node, m.Input):
            series = node.ty.series
            return p.input(node, at(pk, series) if series else None), None
        if isinstance(node, m.Var):
            return self._var(node, pk, args)
        if isinstance(node, m.Cond):
            (c, cb), (t, tb), (o, ob) = args
            record = (node, (0,), 1) if self.record else None
            return p.first([c], [t], o, record), self._or(cb, self._where(c, tb, ob))
        if isinstance(node, m.Sum):
            bad = None
            for _, b in args:
                bad = self._or(bad, b)
            return p.linear([(1, v) for v, _ in args]), bad
        if isinstance(node, m.At):
            return args[0]
        if isinstance(node, m.Steps):
            return self._steps(node, args)
        if isinstance(node, m.Interp):
            return self._interp(node, args[0])
        if isinstance(node, (m.PaymentRef, m.Total)):
            return self._settled(node), None
        if node.op in _PERIODIC:
            return self._periodic(node, pk, args)
        return self._op(node, args)

    def _settled(self, node):
        return self.p.settled(node)

    def _var(self, node: m.Var, pk: Period, args) -> tuple[V, V | None]:
        if node.name in self.constants:
            return self.p.const(self.constants[node.name]), None
        key, _ = self._def_key(node.name, pk)
        if key not in self.defs:
            (value, bad), = args
            definition = self.definitions[node.name]
            if definition.indexation is not None:
                ix = definition.indexation
                value = self.p.mul(value, self.p.const((1 + ix.rate) ** ix.years))
            self.defs[key] = (self.p.let(key, value), bad)
        return self.defs[key]

    def _steps(self, node: m.Steps, args) -> tuple[V, V | None]:
        """`below` under thresholds[0]; values[i] from thresholds[i] (inclusive) up: the highest
        threshold reached wins."""
        p = self.p
        (x, xb), (below, bb), *rows = args
        conds = [p.compare(">=", x, p.const(t)) for t in reversed(node.thresholds)]
        values = [v for v, _ in reversed(rows)]
        n = len(node.thresholds)
        record = (node, tuple(range(n, 0, -1)), 0) if self.record else None
        bad = bb
        for c, (_, vb) in zip(reversed(conds), rows):  # the nested choice, from the lowest row up
            bad = self._where(c, vb, bad)
        return p.first(conds, values, below, record), self._or(xb, bad)

    def _interp(self, node: m.Interp, subject) -> tuple[V, V | None]:
        """Linear through (xs[i], ys[i]); flat outside [xs[0], xs[-1]]. Segment i (x in
        (xs[i-1], xs[i]]) is ys[i-1] + slope_i·(x − xs[i-1])."""
        p = self.p
        x, xb = subject
        xs, ys = node.xs, node.ys
        conds = [p.compare("<=", x, p.const(xi)) for xi in xs]
        values = [p.const(ys[0])]
        for i in range(1, len(xs)):
            slope = Fraction(ys[i] - ys[i - 1]) / (xs[i] - xs[i - 1])
            offset = p.linear([(1, x), (-1, p.const(xs[i - 1]))])
            values.append(p.linear([(1, p.const(ys[i - 1])), (1, p.mul(p.const(slope), offset))]))
        record = (node, tuple(range(len(xs))), len(xs)) if self.record else None
        return p.first(conds, values, p.const(ys[-1]), record), xb

    # ------------------------------------------------------------ issue 15: periods and windows
    def _periods(self, node: m.Op, pk: Period) -> tuple[tuple, int]:
        """The periods of the node's series and the position of the one it is read in. For a value
        per two series (`cohorts × years`, issue 15) the periods of the second, within the cell's
        period of the first: `previous` is the same cohort's year before."""
        if self.contract is None:  # a value fixed at signing is read in no period
            raise UnknownName(node.op)
        series = along(node.ty.series)
        periods = tuple(p for p in self.contract.series[series].periods
                        if self._applies(node.ty.series, _with(pk, series, p.name)))
        current = at(pk, series)
        return periods, next(i for i, p in enumerate(periods) if p.name == current)

    def _applies(self, series: str | None, pk: Period) -> bool:
        """Whether the period key names a cell of `series` that is applicable: always for one series;
        for two, not a cell before its cohort starts (model.Series.not_applicable), which is read
        nowhere — a sum leaves it out, and `previous` in a cohort's first cell is its default."""
        if not series or SEP not in series:
            return True
        cells = self.cells.get(series)
        if cells is None:
            cells = self.cells[series] = frozenset(p.name for p in self.contract.series[series].periods)
        return at(pk, series) in cells

    def _period_deps(self, node: m.Op, pk: Period) -> list[tuple[m.Expr, Period]]:
        """`previous` reads its operand in the period before (its default in the first period);
        `to_date` in every earlier period; `cumulative` in those and this one."""
        if node.op not in _WINDOWS:
            return []
        periods, k = self._periods(node, pk)
        series, x = along(node.ty.series), node.args[0]
        if isinstance(x, m.PaymentRef):  # paid so far: read from the lines (the primitive `paid`)
            return [(node.args[1], pk)] if node.op == "previous" and not k else []
        if node.op == "previous":
            return [(x, _with(pk, series, periods[k - 1].name))] if k else [(node.args[1], pk)]
        last = k if node.op == "to_date" else k + 1
        return [(x, _with(pk, series, p.name)) for p in periods[:last]]

    def _periodic(self, node: m.Op, pk: Period, args) -> tuple[V, V | None]:
        p, op = self.p, node.op
        if op in _WINDOWS and isinstance(node.args[0], m.PaymentRef):
            return self._paid(node, pk, args)
        if op in _WINDOWS:
            if op == "previous":
                return args[0]
            return p.linear([(1, v) for v, _ in args]) if args else p.const(0), self._any_bad(args)
        periods, k = self._periods(node, pk)
        period = periods[k]
        if op == "period_index":
            return p.const(k + 1), None
        if op == "period_start":
            return p.const(period.start), None
        if op == "period_end":
            return p.const(period.end), None
        assert op == "contract_year", op
        start = self.contract.term[0]
        years = period.start.year - start.year - ((period.start.month, period.start.day) < (start.month, start.day))
        return p.const(years + 1), None

    def _paid(self, node: m.Op, pk: Period, args) -> tuple[V, V | None]:
        """What a payment was paid (its lines as they stand when this is read) in the period before
        (`previous`), the periods before (`to_date`) or up to this one (`cumulative`)."""
        periods, k = self._periods(node, pk)
        name = node.args[0].name
        if node.op == "previous":
            if not k:
                return args[0]
            chosen = [periods[k - 1]]
        else:
            chosen = periods[:k] if node.op == "to_date" else periods[:k + 1]
        series, inner = node.ty.series, along(node.ty.series)
        return self.p.paid([(name, at(_with(pk, inner, p.name), series)) for p in chosen]), None

    def _op(self, node: m.Op, args) -> tuple[V, V | None]:
        if node.op in _PERIODIC:
            raise AssertionError(node.op)  # read by _apply with its period
        p, op = self.p, node.op
        if _linear(node):
            signs = [s for s, _ in _chain(node, ("+", "-"))]
            return p.linear([(s, v) for s, (v, _) in zip(signs, args)]), self._any_bad(args)
        if op in ("and", "or"):
            return self._logic(op, args)
        values = [v for v, _ in args]
        bad = self._any_bad(args)
        if op == "neg":
            return p.neg(values[0]), bad
        if op == "not":
            return p.bnot(values[0]), bad
        if op == "abs":
            return p.absolute(values[0]), bad
        if op in ("min", "max"):
            return p.extreme(op, values), bad
        a, b = values
        if op in ("<", "<=", ">", ">=", "==", "!="):
            if node.args[0].ty.kind == BOOL:
                return p.bequal(op, a, b), bad
            return p.compare(op, a, b), bad
        if op in ("+", "-"):
            if node.ty.kind != DATE:  # date − date: the days between
                return p.days_between(a, b), bad
            sign = 1 if op == "+" else -1  # a date moved by a number of days, cut towards zero
            if node.args[0].ty.kind == DATE:
                return p.shift_date(a, b, sign), bad
            return p.shift_date(b, a, sign), bad
        if op in ("*", "of"):
            return p.mul(a, b), bad
        if op == "/":
            value, zero = p.div(a, b, node)
            return value, self._or(bad, zero)
        raise AssertionError(op)

    def _logic(self, op: str, args) -> tuple[V, V | None]:
        """`and`/`or` read left to right: a later operand is on the path taken only while every
        earlier one is true (`and`) or false (`or`)."""
        p = self.p
        values = [v for v, _ in args]
        bad = args[0][1]
        if self.tracks and any(b is not None for _, b in args[1:]):
            reached = values[0] if op == "and" else p.bnot(values[0])
            for i in range(1, len(args)):
                bad = self._or(bad, self._and(reached, args[i][1]))
                step = values[i] if op == "and" else p.bnot(values[i])
                reached = p.band(reached, step)
        return (p.all_(values) if op == "and" else p.any_(values)), bad

    def _any_bad(self, args):
        bad = None
        for _, b in args:
            bad = self._or(bad, b)
        return bad


# issue 15: values of the period an expression is read in, and of other periods of its series
_WINDOWS = frozenset({"previous", "to_date", "cumulative"})
_PERIODIC = _WINDOWS | {"period_index", "period_start", "period_end", "contract_year"}


def _key(period: Mapping[str, str]) -> Period:
    """The period key of a mapping series → period: a cell of two series (`cohorts × years` →
    `k1 × y2021`, issue 15) is kept as the period of each of the two, so that a value per one of
    them is read in it, and a sum over one of them moves only that one."""
    flat: dict[str, str] = {}
    for series, name in period.items():
        if SEP in series:
            flat.update(zip(series.split(SEP), name.split(SEP)))
        else:
            flat[series] = name
    return tuple(sorted(flat.items()))


def at(pk: Period | Mapping[str, str], series: str) -> str:
    """The period of `series` in a period key: for two series the cell `a × b`."""
    current = dict(pk)
    if SEP in series:
        return SEP.join(current[part] for part in series.split(SEP))
    return current[series]


def along(series: str) -> str:
    """The series `previous`, `to_date` and `cumulative` run along: for two series the second."""
    return series.split(SEP)[-1]


def _with(pk: Period, series: str, period: str) -> Period:
    return _key({**dict(pk), series: period})


def _linear(node: m.Op) -> bool:
    """A sum or difference of numbers (not a date moved by days, nor the days between dates)."""
    return node.op in ("+", "-") and node.ty.kind != DATE and node.args[0].ty.kind != DATE


def _chain(node: m.Op, ops: tuple[str, ...]) -> list[tuple[int, m.Expr]]:
    """The operands of a left-leaning chain of `ops` (a + b − c + …) with their signs, without
    recursion: the parser builds a flat sum as a tree as deep as it is long."""
    terms: list[tuple[int, m.Expr]] = []
    linear = ops == ("+", "-")
    while isinstance(node, m.Op) and node.op in ops and (not linear or _linear(node)):
        terms.append((-1 if node.op == "-" else 1, node.args[1]))
        node = node.args[0]
    terms.append((1, node))
    terms.reverse()
    return terms
