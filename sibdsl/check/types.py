"""Stage 2, types and units: syntax expressions → typed model expressions, with the unit algebra
(units.py), series, tables and functions; constants fixed at signing."""

from __future__ import annotations

import re
from fractions import Fraction

import attrs

from .. import limits
from .. import model as m
from .. import syntax as s
from ..diagnostics import did_you_mean
from ..syntax import SEP
from ..units import (
    BOOL,
    DATE,
    MONEY,
    NUMBER,
    SHARE,
    Type,
    UnitError,
    combine,
    comparable,
    unify,
    within,
)
from ..unparse import number as unparse_number
from .common import DAY_UNITS, FUNCTIONS, T_BOOL, T_COUNT, T_DATE, T_DAYS, T_NUMBER, T_SHARE, Invalid
from .time import PERIOD_VALUES, WINDOWS


class Types:
    """Types and units of expressions (a mixin of `Checker`)."""

    def constant(self, expr: s.Expr, ty: Type, what: str) -> Fraction | None:
        """Type-check an expression that must be known when the contract is signed, and its value."""
        from ..compiler import EvaluationError, NotConstant, constant_value

        try:
            typed = self.expr(expr)
        except Invalid:
            return None
        if not comparable(typed.ty, ty) or typed.ty.series:
            self.error("E305" if ty.kind != MONEY else "E306",
                       f"{what} must be {ty.describe()}, not {typed.ty.describe()}", expr.span)
            return None
        if self.frames and any(isinstance(n, m.Var) and n.name in self.definitions for n in m.walk(typed)):
            self.kept_checks.values_read(self.frames)  # a definition's value, and those it reads: not a `reading` (check/memo.py)
        try:
            value = constant_value(typed, self.definitions, self.constants)
        except NotConstant as nc:
            if nc.name in self.parameters:  # issue 17: a draft's open term where a fixed value is needed
                self.error("E479", f"{what} must be fixed when the contract is signed, but it depends on the "
                           f"parameter `{nc.name}`, which the draft leaves open", expr.span, label="still open",
                           hint=f"fix the term here (`define {nc.name} = …`), or write the rule as a formula "
                           f"that reads `{nc.name}`, e.g. `if … >= {nc.name} then … else …`")
                return None
            self.error("E310", f"{what} must be fixed when the contract is signed, but it depends on "
                       f"the measure `{nc.name}`", expr.span,
                       hint="use numbers, dates and definitions that do not depend on measures")
            return None
        except (ZeroDivisionError, EvaluationError):  # the second: a division by zero inside a definition read
            self.error("E602", f"{what} divides by zero", expr.span)
            return None
        return value

    # ------------------------------------------------------------ expressions
    def expr(self, e: s.Expr, *, guarantee: bool = False) -> m.Expr:
        method = getattr(self, "expr_" + type(e).__name__)
        return method(e, guarantee)

    def expr_Quantity(self, e: s.Quantity, g) -> m.Expr:
        value = Fraction(e.value)
        unit = e.unit
        if unit is None:
            return m.Const(value, T_NUMBER, span=e.span)
        if unit == "%":
            return m.Const(value / 100, T_SHARE, span=e.span)
        if unit == self.currency:
            return m.Const(value, Type(MONEY, self.currency), span=e.span)
        if unit in DAY_UNITS:
            return m.Const(value, T_DAYS, span=e.span)
        if re.fullmatch(r"[A-Z]{3}", unit):
            self.error("E302", f"`{unit}` is not the contract's currency ({self.currency})", e.unit_span,
                       hint=did_you_mean(unit, [self.currency]) or
                       f"write amounts in {self.currency}, as the header says")
            raise Invalid()
        known = [self.currency, "%", "days"]
        lowered = unit.lower()
        if lowered.upper() == self.currency:
            hint = f"currency codes are written in capitals: `{self.currency}`"
        elif lowered in ("kr", "kronor", "krona", ":-"):  # the Swedish way of writing kronor
            amount = unparse_number(e.value)
            hint = (f"write kronor as the contract's currency code: `{amount} {self.currency}`"
                    if self.currency == "SEK" else f"this contract is in {self.currency}: write `{amount} "
                    f"{self.currency}` after converting the amount")
        elif lowered in ("sek", "msek", "mkr", "tkr", "ksek", "million", "miljoner"):
            hint = (f"write the whole amount in {self.currency}, e.g. `10 000 000 {self.currency}`"
                    " (there are no million or thousand suffixes)")
        elif lowered in ("procent", "percent", "pct"):
            hint = "write percentages with `%`, e.g. `40 %`"
        elif lowered in ("dagar", "dag"):
            hint = "write durations in `days`, e.g. `90 days`"
        else:
            hint = did_you_mean(unit, known) or f"units are {self.currency}, % and days"
        self.error("E207", f"unknown unit `{unit}`", e.unit_span, hint=hint)
        raise Invalid()

    def expr_DateLit(self, e: s.DateLit, g) -> m.Expr:
        return m.Const(e.value, T_DATE, span=e.span)

    def expr_BoolLit(self, e: s.BoolLit, g) -> m.Expr:
        return m.Const(e.value, T_BOOL, span=e.span)

    def expr_TotalRef(self, e: s.TotalRef, g) -> m.Expr:
        if not g:
            self.error("E309", "`total` (the settled payout) can only be used in a guarantee", e.span,
                       hint="caps, floors and gates on the total are written `cap total at …`")
            raise Invalid()
        return m.Total(Type(MONEY, self.currency), span=e.span)

    def expr_Ref(self, e: s.Ref, g) -> m.Expr:
        if e.name in PERIOD_VALUES and e.name not in self.names:  # issue 15: `period_index`, …
            return self.period_value(e, e.name, None)
        wanted = ("measure", "define", "baseline", "investment", "cohort", "payment", "ratecard", "parameter",
                  "coupon", "repayment", "redemption")
        entry = self.lookup(e, wanted, "value")
        if entry is None:
            raise Invalid()
        self.used.add(e.name)
        kind = entry.kind
        if kind == "measure":
            measure = self.measure_type(e.name)
            if measure is None:
                raise Invalid()
            return m.Input(e.name, measure, span=e.span)
        if kind == "parameter":  # issue 17: read as an input, one value for the whole contract
            parameter = self.parameters.get(e.name)
            if parameter is None:
                raise Invalid()
            return m.Input(e.name, parameter.ty, span=e.span)
        if kind in ("define", "baseline"):
            d = self.definition(e.name)
            if d is None:
                raise Invalid()
            return m.Var(e.name, d.ty, span=e.span)
        if kind == "investment":
            return m.Var(e.name, Type(MONEY, self.currency), span=e.span)
        if kind == "cohort":
            return m.Var(e.name, T_COUNT, span=e.span)
        if kind == "ratecard":  # issue 15: what the card pays in all, as a payment's name means (check/cards.py)
            return self.card_total(e, g)
        # a payment (issue 14: or a coupon, which is one)
        if not g:
            hint = ("compute shared amounts with `define` and use them in both payments" if kind != "coupon" else
                    f"in a formula, read what the coupon was paid so far: `to_date({e.name})` or `previous({e.name})`")
            self.error("E309", f"the {kind} `{e.name}` can only be referred to in a guarantee", e.span, hint=hint)
            raise Invalid()
        return m.PaymentRef(e.name, Type(MONEY, self.currency), span=e.span)

    def measure_type(self, name: str) -> Type | None:
        measure = self.measures.get(name)
        return measure.ty if measure else None

    def expr_Unary(self, e: s.Unary, g) -> m.Expr:
        operand = self.expr(e.operand, guarantee=g)
        if e.op == "not":
            self.want_bool(operand, e.operand)
            return m.Op("not", (operand,), operand.ty, span=e.span)
        if not operand.ty.numeric:
            self.error("E301", f"cannot negate {operand.ty.describe()}", e.span)
            raise Invalid()
        return m.Op("neg", (operand,), operand.ty, span=e.span)

    def want_bool(self, typed: m.Expr, node: s.Expr) -> None:
        if typed.ty.kind != BOOL:
            self.error("E304", f"expected a yes/no condition, found {typed.ty.describe()}", node.span,
                       hint="compare it, e.g. `savings > 0 SEK`")
            raise Invalid()

    def expr_Binary(self, e: s.Binary, g) -> m.Expr:
        """A binary operation; a left-leaning chain of them (`a + b − c + …`, `p and q and …`, as
        the parser builds a flat sum) is checked from its innermost operation outwards, without
        recursion, however long."""
        spine = [e]
        while isinstance(spine[-1].left, s.Binary):
            spine.append(spine[-1].left)
        left = self.expr(spine[-1].left, guarantee=g)
        for node in reversed(spine):
            left = self._binary(node, left, self.expr(node.right, guarantee=g))
        return left

    def _binary(self, e: s.Binary, left: m.Expr, right: m.Expr) -> m.Expr:
        if e.op in ("and", "or"):
            self.want_bool(left, e.left)
            self.want_bool(right, e.right)
            return m.Op(e.op, (left, right), attrs.evolve(T_BOOL, series=self.series_of(left, right, e)),
                        span=e.span)
        if e.op in ("<", "<=", ">", ">=", "==", "!="):
            ok = comparable(left.ty, right.ty)
            if ok and left.ty.kind == BOOL and e.op not in ("==", "!="):
                ok = False
            if not ok:
                self.error("E305", f"cannot compare {left.ty.describe()} with {right.ty.describe()}",
                           e.span, hint=compare_hint(left.ty, right.ty))
                raise Invalid()
            return m.Op(e.op, (left, right), attrs.evolve(T_BOOL, series=self.series_of(left, right, e)),
                        span=e.span)
        cells = self.cells_of(left.ty.series, right.ty.series)
        try:
            if cells:  # issue 15: a value per cohort with one per year, in each cell of the two
                ty = attrs.evolve(combine(e.op, left.ty.plain(), right.ty.plain()), series=cells)
            else:
                ty = combine(e.op, left.ty, right.ty)
        except UnitError as err:
            self.error(err.code, err.message, e.span, hint=err.hint)
            raise Invalid() from None
        return m.Op(e.op, (left, right), ty, span=e.span)

    def cells_of(self, a: str | None, b: str | None) -> str | None:
        """issue 15: the series of two series declared together (`per a × b` or `per b × a`, named
        somewhere in the contract), for a value per one of them combined with one per the other;
        None when there is no such product, or both orders are declared."""
        if not a or not b or a == b or SEP in a or SEP in b:
            return None
        found = [name for name in (f"{a}{SEP}{b}", f"{b}{SEP}{a}") if name in self.series]
        return found[0] if len(found) == 1 else None

    def series_of(self, a: m.Expr, b: m.Expr, node) -> str | None:
        cells = self.cells_of(a.ty.series, b.ty.series)
        if cells:
            return cells
        if within(a.ty.series, b.ty.series):
            return b.ty.series or a.ty.series
        if within(b.ty.series, a.ty.series):
            return a.ty.series
        if a.ty.series and b.ty.series and a.ty.series != b.ty.series:
            self.series_clash(a.ty, b.ty, node.span, f"values per `{a.ty.series}` and per `{b.ty.series}` "
                              "cannot be combined")
        return a.ty.series or b.ty.series

    def unify(self, a: Type, b: Type) -> Type | None:
        """The common type of two branches or min/max arguments (units.unify); issue 15: a value per
        one of two series with one per the other is a value per cell where the contract declares
        values per both (`per cohorts × years`), as in `a + b` — the value per year read in each
        cohort's cell of that year."""
        cells = self.cells_of(a.series, b.series)
        if cells:
            joined = unify(a.plain(), b.plain())
            return None if joined is None else attrs.evolve(joined, series=cells)
        return unify(a, b)

    def series_clash(self, a: Type, b: Type, span, message: str) -> None:
        """E307 (raised) for values of two series that have no common periods: with a hint that names
        the cells where the two are a cohort's series and a year's (issue 15)."""
        one, two = a.series, b.series
        if SEP not in one and SEP not in two and not self.cells_of(one, two):
            hint = (f"to read each value per `{one}` in each period of `{two}`, declare the payment (or a "
                    f"measure) `per {one} × {two}`: then the two make one value per cell; or add one of "
                    "them up with sum(…)")
        else:
            hint = "combine values of the same period series, or add one of them up with sum(… over …)"
        self.error("E307", message, span, hint=hint)
        raise Invalid()

    def expr_If(self, e: s.If, g) -> m.Expr:
        cond = self.expr(e.cond, guarantee=g)
        self.want_bool(cond, e.cond)
        then = self.expr(e.then, guarantee=g)
        other = self.expr(e.otherwise, guarantee=g)
        ty = self.unify(then.ty, other.ty)
        if ty is None and unify(then.ty.plain(), other.ty.plain()) is not None:
            self.series_clash(then.ty, other.ty, e.span, f"the two branches are per `{then.ty.series}` and per "
                              f"`{other.ty.series}`: which periods would the value have?")
        if ty is None:
            self.error("E305", f"the two branches differ: {then.ty.describe()} and {other.ty.describe()}",
                       e.span, hint="both branches of `if … then … else …` must give the same kind of value")
            raise Invalid()
        series = self.series_of(cond, m.Const(0, ty), e)
        return m.Cond(cond, then, other, attrs.evolve(ty, series=series), span=e.span)

    def cells_read(self, e: s.Index, series: str, part: str) -> None:
        """`x[P]` on a value per two series is read in every period of the other: each of those
        cells must be applicable (not before its cohort starts), or there is nothing to read (E583)."""
        k = series.split(SEP).index(part)
        missing = [c.name for c in self.series[series].not_applicable if c.name.split(SEP)[k] == e.period.name]
        if not missing:
            return
        other = series.split(SEP)[1 - k]
        applicable = [c.name.split(SEP)[k] for c in self.series[series].periods
                      if c.name.split(SEP)[1 - k] == missing[0].split(SEP)[1 - k]]
        hint = (f"`{missing[0]}` is before its cohort starts: read a period of `{part}` in which every period "
                f"of `{other}` has a cell"
                + (f" (e.g. `[{applicable[0]}]`)" if applicable else "")
                + f", or add up the cells there are with `sum(… over {part})`")
        self.error("E583", f"`[{e.period.name}]` reads {len(missing)} cell{'s' * (len(missing) > 1)} that "
                   f"{'are' if len(missing) > 1 else 'is'} not applicable: {', '.join(f'`{c}`' for c in missing)}",
                   e.period.span, hint=hint)
        raise Invalid()

    def expr_Index(self, e: s.Index, g) -> m.Expr:
        """issue 15: `x[P]` — x in the period P of its series: no longer per that series (for a
        value per two series, per the other one)."""
        arg = self.expr(e.operand, guarantee=g)
        series = arg.ty.series
        if isinstance(arg, m.PaymentRef) or not series:
            self.error("E595", "`[…]` reads a value in one of its periods, but this value has no periods",
                       e.period.span, hint="use it on a measure or definition declared `per` a series"
                       if not isinstance(arg, m.PaymentRef) else "a payment's name in a guarantee is its total")
            raise Invalid()
        parts = series.split(SEP)
        found = [p for p in parts if self.series[p].period(e.period.name) is not None]
        if not found:
            periods = [p.name for part in parts for p in self.series[part].periods]
            self.error("E595", f"`{series}` has no period `{e.period.name}`", e.period.span,
                       hint=did_you_mean(e.period.name, periods) or f"periods: {', '.join(periods)}")
            raise Invalid()
        rest = [p for p in parts if p != found[0]]
        if rest:
            self.cells_read(e, series, found[0])
        return m.At(arg, found[0], e.period.name, attrs.evolve(arg.ty, series=rest[0] if rest else None),
                    span=e.span)

    def expr_SumOver(self, e: s.SumOver, g) -> m.Expr:
        """issue 15: `sum(x over S)` — x per two series `A × S` (or `S × B`) added up over the periods
        of S: a value per the other series."""
        if e.func.name != "sum":
            self.error("E593", f"`over` adds up over one series, with `sum`; `{e.func.name}` cannot",
                       e.func.span, hint=f"add up with `sum(… over {e.over.name})`; `{e.func.name}` of several "
                       "values is written with each of them: `max(a, b)`")
            raise Invalid()
        arg = self.expr(e.operand, guarantee=g)
        series = arg.ty.series
        parts = series.split(SEP) if series and SEP in series else ()
        if e.over.name not in parts:
            if series and e.over.name == series:
                hint = f"`{series}` is the value's only series: write `sum(…)`"
            elif parts:
                hint = f"the value is per `{series}`: write `sum(… over {parts[0]})` or `sum(… over {parts[1]})`"
            else:
                hint = ("`over` picks one of two series of a value `per A × B`; "
                        + ("write `sum(…)`" if series else "this value has no periods"))
            self.error("E591", f"`sum(… over {e.over.name})` adds up a value per two series over `{e.over.name}`, "
                       + (f"but this value is per `{series}`" if series else "but this value has no periods"),
                       e.over.span, hint=hint)
            raise Invalid()
        if not arg.ty.numeric:
            self.error("E301", f"cannot add up {arg.ty.describe()}", e.operand.span)
            raise Invalid()
        other = next(p for p in parts if p != e.over.name)
        return m.Sum(arg, e.over.name, attrs.evolve(arg.ty, series=other), span=e.span)

    def expr_Call(self, e: s.Call, g) -> m.Expr:
        name = e.func.name
        if name in PERIOD_VALUES and len(e.args) == 1:  # issue 15: `period_index(year)`, …
            return self.period_value(e, name, e.args[0])
        if name in WINDOWS:  # issue 15: previous, to_date, cumulative
            return self.window(e, g)
        if name not in FUNCTIONS and getattr(self.names.get(name), "kind", None) == "table":
            return self.table_call(e, g)  # issue 15, check/cards.py
        if name not in FUNCTIONS:
            self.error("E209", f"unknown function `{name}`", e.func.span,
                       hint=did_you_mean(name, FUNCTIONS) or f"functions are: {', '.join(FUNCTIONS)}")
            raise Invalid()
        low, high = FUNCTIONS[name]
        if len(e.args) < low or (high is not None and len(e.args) > high):
            wanted = f"{low}" if low == high else f"at least {low}"
            self.error("E209", f"`{name}` takes {wanted} argument{'s' if low > 1 else ''}, "
                       f"not {len(e.args)}", e.span, hint={
                           "min": "e.g. `min(60 % of savings, 6 000 000 SEK)`",
                           "max": "e.g. `max(savings, 0 SEK)`",
                           "abs": "e.g. `abs(change)`", "sum": "e.g. `sum(events)`"}[name])
            raise Invalid()
        args = tuple(self.expr(a, guarantee=g) for a in e.args)
        if name == "sum":
            (arg,) = args
            if isinstance(arg, m.PaymentRef):  # a payment's name in a guarantee is already its sum
                return arg
            if not arg.ty.series:
                self.error("E307", "sum(…) adds up a value over its periods, but this value has no periods",
                           e.args[0].span, hint="use sum on a measure or definition declared `per` a series")
                raise Invalid()
            if not arg.ty.numeric:
                self.error("E301", f"cannot add up {arg.ty.describe()}", e.args[0].span)
                raise Invalid()
            return m.Sum(arg, arg.ty.series, arg.ty.plain(), span=e.span)
        if name == "abs":
            if not args[0].ty.numeric:
                self.error("E301", f"abs of {args[0].ty.describe()}", e.span)
                raise Invalid()
            return m.Op("abs", args, args[0].ty, span=e.span)
        ty = args[0].ty
        for arg, node in zip(args[1:], e.args[1:]):
            joined = self.unify(ty, arg.ty)
            if joined is None and unify(ty.plain(), arg.ty.plain()) is not None:
                self.series_clash(ty, arg.ty, node.span, f"`{name}` of values per `{ty.series}` and per "
                                  f"`{arg.ty.series}`: which periods would the value have?")
            if joined is None:
                self.error("E305", f"`{name}` of {ty.describe()} and {arg.ty.describe()}", node.span,
                           hint=f"all values in `{name}(…)` must be of one kind"
                           + (" — did you forget a currency?" if MONEY in (ty.kind, arg.ty.kind) else ""))
                raise Invalid()
            ty = joined
        if not ty.numeric and ty.kind != DATE:
            self.error("E301", f"`{name}` of {ty.describe()}", e.span)
            raise Invalid()
        return m.Op(name, args, ty, span=e.span)

    def _table_size(self, rows: int, e) -> None:
        if rows > limits.MAX_TABLE_ROWS:
            self.error("E112", f"a table with {rows:,} rows; the limit is {limits.MAX_TABLE_ROWS:,}", e.span,
                       hint="a payment grid this large belongs in a measure the evaluator reports")
            raise Invalid()

    def expr_Tiers(self, e: s.Tiers, g) -> m.Expr:
        self._table_size(len(e.rows) + 1, e)
        subject = self.expr(e.subject, guarantee=g)
        below = self.expr(e.below, guarantee=g)
        thresholds, values, ty = [], [], below.ty
        for row in e.rows:
            key = self.constant(row.threshold, subject.ty.plain(), "a table threshold")
            value = self.expr(row.value, guarantee=g)
            joined = unify(ty, value.ty)
            if joined is None:
                self.error("E308", f"table values differ: {ty.describe()} and {value.ty.describe()}",
                           row.value.span, hint="every row of a table gives the same kind of value")
                raise Invalid()
            ty = joined
            if key is not None and thresholds and key <= thresholds[-1]:
                self.error("E308", "table thresholds must increase from row to row", row.threshold.span,
                           hint="order the `from` rows from the lowest threshold to the highest")
                raise Invalid()
            if key is None:
                raise Invalid()
            thresholds.append(key)
            values.append(value)
        series = subject.ty.series or ty.series
        return m.Steps(subject, below, tuple(thresholds), tuple(values), attrs.evolve(ty, series=series),
                       span=e.span)

    def expr_Interpolate(self, e: s.Interpolate, g) -> m.Expr:
        subject = self.expr(e.subject, guarantee=g)
        if len(e.points) < 2:
            self.error("E308", "interpolation needs at least two points", e.span)
            raise Invalid()
        self._table_size(len(e.points), e)
        xs, ys, ty = [], [], None
        for point in e.points:
            x = self.constant(point.x, subject.ty.plain(), "an interpolation point")
            y_typed = self.expr(point.y)
            ty = y_typed.ty if ty is None else unify(ty, y_typed.ty)
            if ty is None or not ty.numeric:
                self.error("E308", "interpolation values must be numbers or amounts of one kind",
                           point.y.span)
                raise Invalid()
            y = self.constant(point.y, ty, "an interpolation value")
            if x is None or y is None:
                raise Invalid()
            if xs and x <= xs[-1]:
                self.error("E308", "interpolation points must increase from left to right", point.x.span)
                raise Invalid()
            xs.append(x)
            ys.append(y)
        if not subject.ty.numeric:
            self.error("E308", f"cannot interpolate over {subject.ty.describe()}", e.subject.span)
            raise Invalid()
        return m.Interp(subject, tuple(xs), tuple(ys), attrs.evolve(ty, series=subject.ty.series),
                        span=e.span)

    def typed(self, expr: s.Expr, *, guarantee: bool = False) -> m.Expr | None:
        try:
            return self.expr(expr, guarantee=guarantee)
        except Invalid:
            return None

    def money(self, expr: s.Expr, what: str, series: str | None = None) -> m.Expr | None:
        typed = self.typed(expr)
        if typed is None:
            return None
        if typed.ty.kind != MONEY:
            self.error("E306", f"{what} must be an amount of money, not {typed.ty.describe()}", expr.span,
                       hint=f"write amounts with the currency, e.g. `5 000 000 {self.currency}`")
            return None
        if not within(typed.ty.series, series):
            if self.one_of_two(typed, series, expr, what):
                return None
            self.error("E307", f"{what} depends on values per `{typed.ty.series}`", expr.span,
                       hint=f"add `per {typed.ty.series}` to the payment, or add up with sum(…)")
            return None
        return typed

    def one_of_two(self, typed: m.Expr, series: str | None, expr: s.Expr, what: str) -> bool:
        """issue 15: E592 (reported, True) when a value per two series is read per one of them."""
        if not series or not typed.ty.series or SEP not in typed.ty.series or series not in typed.ty.series.split(SEP):
            return False
        other = next(p for p in typed.ty.series.split(SEP) if p != series)
        self.error("E592", f"{what} is per `{series}`, but depends on values per `{typed.ty.series}`: one for each "
                   f"period of `{other}` as well", expr.span,
                   hint=f"add up the periods of `{other}` with `sum(… over {other})`, or declare it "
                   f"`per {typed.ty.series}`")
        return True

    def condition(self, expr: s.Expr, series: str | None = None) -> m.Expr | None:
        typed = self.typed(expr)
        if typed is None:
            return None
        if typed.ty.kind != BOOL:
            self.error("E304", f"expected a yes/no condition, found {typed.ty.describe()}", expr.span,
                       hint="compare it, e.g. `savings > 0 SEK`, or use a yes/no measure")
            return None
        if not within(typed.ty.series, series):
            if self.one_of_two(typed, series, expr, "the condition"):
                return None
            self.error("E307", f"the condition depends on values per `{typed.ty.series}`", expr.span)
            return None
        return typed


def compare_hint(a: Type, b: Type) -> str:
    if MONEY in (a.kind, b.kind) and NUMBER in (a.kind, b.kind):
        return "write the amount with its currency, e.g. `0 SEK`"
    if SHARE in (a.kind, b.kind) and NUMBER in (a.kind, b.kind):
        return ""
    return "compare values of the same kind"
