"""Checked model → evaluation function: measured outcomes in, a Settlement out.

`compile_contract(model)` builds the function once from closures (no text is ever
eval'ed); `Evaluator.evaluate(outcomes)` is pure. The order in which the clauses apply is
fixed by the language (docs/language.md, "Order of application"):

1. each payment's formula, rounded by the contract's rounding rule;
2. the payment's gates (a failed gate makes it zero);
3. the payment's floors, then its caps;
4. caps per period series, then per participant;
5. gates on the total (`total above L requires C` cuts the total back to L);
6. floors on the total (a top-up line from the floor clause);
7. caps on the total;
8. return limits, on the lines paid to each investor.
Cuts in steps 4, 5, 7 and 8 are taken from the lines in reverse order of declaration.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from decimal import Decimal
from fractions import Fraction

import attrs

from . import model as m
from .diagnostics import Diagnostic
from .report import format_amount
from .returns import investor_cashflows
from .settlement import GuaranteeCheck, InvestorReturn, Line, Settlement, Step
from .source import Source
from .values import Rounding, growth_factor, to_decimal, year_fraction

Outcomes = Mapping[str, object]  # measure → value, or measure → {period: value}


class NotConstant(Exception):
    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


class EvaluationError(Exception):
    def __init__(self, diagnostic: Diagnostic):
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


@attrs.define
class _Ctx:
    inputs: Outcomes
    period: dict[str, str]
    cache: dict
    payments: dict[str, Fraction] | None = None
    total: Fraction | None = None


_Fn = Callable[[_Ctx], object]


def _compare(op: str) -> Callable[[object, object], bool]:
    return {
        "<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b, "==": lambda a, b: a == b, "!=": lambda a, b: a != b,
    }[op]


class _Compiler:
    """Turns model expressions into closures over a context."""

    def __init__(self, contract: m.Contract | None, definitions: Mapping[str, m.Definition],
                 source: Source | None, constant: bool = False,
                 constants: Mapping[str, Fraction] | None = None,
                 recorder: Callable[[m.Expr, str], None] | None = None):
        self.contract = contract
        self.recorder = recorder
        self.definitions = definitions
        self.constants = dict(constants or {})
        if contract is not None:
            self.constants.update({n: i.amount for n, i in contract.investments.items()})
            self.constants.update({n: Fraction(c.size) for n, c in contract.cohorts.items()})
        self.source = source
        self.constant = constant
        self.compiled: dict[str, _Fn] = {}

    def fail(self, code: str, message: str, expr, hint: str = "") -> EvaluationError:
        return EvaluationError(Diagnostic(code, message, self.source, getattr(expr, "span", None), hint=hint))

    def var(self, name: str) -> _Fn:
        if name in self.compiled:
            return self.compiled[name]
        if name in self.constants:  # investments and cohort sizes
            value = self.constants[name]
            fn = lambda ctx: value  # noqa: E731
        else:
            definition = self.definitions.get(name)
            if definition is None:
                raise NotConstant(name)
            inner = self.compile(definition.expr)
            if definition.indexation is not None:
                factor = (1 + definition.indexation.rate) ** definition.indexation.years
                base = inner
                inner = lambda ctx: base(ctx) * factor  # noqa: E731
            series = definition.ty.series
            if series:
                def fn(ctx, inner=inner, name=name, series=series):
                    key = (name, ctx.period.get(series))
                    if key not in ctx.cache:
                        ctx.cache[key] = inner(ctx)
                    return ctx.cache[key]
            else:
                def fn(ctx, inner=inner, name=name):
                    if name not in ctx.cache:
                        ctx.cache[name] = inner(ctx)
                    return ctx.cache[name]
        self.compiled[name] = fn
        return fn

    def compile(self, e: m.Expr) -> _Fn:
        fn = self._compile(e)
        if self.recorder is not None and isinstance(e, (m.Cond, m.Steps, m.Interp)):
            fn = self._recording(e, fn)
        return fn

    def _recording(self, e: m.Cond | m.Steps | m.Interp, fn: _Fn) -> _Fn:
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

    def _compile(self, e: m.Expr) -> _Fn:
        if isinstance(e, m.Const):
            value = e.value
            return lambda ctx: value
        if isinstance(e, m.Input):
            if self.constant:
                raise NotConstant(e.name)
            name, series = e.name, e.ty.series
            if series:
                return lambda ctx: ctx.inputs[name][ctx.period[series]]
            return lambda ctx: ctx.inputs[name]
        if isinstance(e, m.Var):
            return self.var(e.name)
        if isinstance(e, m.PaymentRef):
            name = e.name
            return lambda ctx: ctx.payments[name]
        if isinstance(e, m.Total):
            return lambda ctx: ctx.total
        if isinstance(e, m.Cond):
            c, t, o = self.compile(e.cond), self.compile(e.then), self.compile(e.otherwise)
            return lambda ctx: t(ctx) if c(ctx) else o(ctx)
        if isinstance(e, m.Sum):
            inner, series = self.compile(e.operand), e.series
            periods = [p.name for p in self.contract.series[series].periods] if self.contract else []

            def total(ctx):
                saved = ctx.period.get(series)
                acc = Fraction(0)
                for p in periods:
                    ctx.period[series] = p
                    acc += inner(ctx)
                if saved is None:
                    ctx.period.pop(series, None)
                else:
                    ctx.period[series] = saved
                return acc
            return total
        if isinstance(e, m.Steps):
            subject, below = self.compile(e.subject), self.compile(e.below)
            rows = list(zip(e.thresholds, [self.compile(v) for v in e.values]))[::-1]

            def steps(ctx):
                x = subject(ctx)
                for threshold, value in rows:
                    if x >= threshold:
                        return value(ctx)
                return below(ctx)
            return steps
        if isinstance(e, m.Interp):
            subject, xs, ys = self.compile(e.subject), e.xs, e.ys

            def interp(ctx):
                x = subject(ctx)
                if x <= xs[0]:
                    return ys[0]
                for i in range(1, len(xs)):
                    if x <= xs[i]:
                        return ys[i - 1] + (ys[i] - ys[i - 1]) * (x - xs[i - 1]) / (xs[i] - xs[i - 1])
                return ys[-1]
            return interp
        assert isinstance(e, m.Op), e
        args = [self.compile(a) for a in e.args]
        op = e.op
        if op == "neg":
            (a,) = args
            return lambda ctx: -a(ctx)
        if op == "not":
            (a,) = args
            return lambda ctx: not a(ctx)
        if op == "abs":
            (a,) = args
            return lambda ctx: abs(a(ctx))
        if op == "min":
            return lambda ctx: min(f(ctx) for f in args)
        if op == "max":
            return lambda ctx: max(f(ctx) for f in args)
        a, b = args
        if op == "and":
            return lambda ctx: a(ctx) and b(ctx)
        if op == "or":
            return lambda ctx: a(ctx) or b(ctx)
        if op in ("<", "<=", ">", ">=", "==", "!="):
            cmp = _compare(op)
            return lambda ctx: cmp(a(ctx), b(ctx))
        if op == "+":
            if e.ty.kind == "date":
                return lambda ctx: _add_days(a(ctx), b(ctx))
            return lambda ctx: a(ctx) + b(ctx)
        if op == "-":
            if e.ty.kind == "date":
                return lambda ctx: _add_days(a(ctx), -b(ctx))
            if e.args[0].ty.kind == "date":
                return lambda ctx: Fraction((a(ctx) - b(ctx)).days)
            return lambda ctx: a(ctx) - b(ctx)
        if op in ("*", "of"):
            return lambda ctx: a(ctx) * b(ctx)
        if op == "/":
            def divide(ctx):
                denominator = b(ctx)
                if denominator == 0:
                    raise self.fail("E602", "division by zero for these outcomes", e,
                                    "guard the division, e.g. `if n > 0 then … / n else 0 SEK`")
                return a(ctx) / denominator
            return divide
        raise AssertionError(op)


def _add_days(date: datetime.date, days: Fraction) -> datetime.date:
    if isinstance(days, datetime.date):  # days + date
        date, days = days, date
    return date + datetime.timedelta(days=int(days))


def constant_value(expr: m.Expr, definitions: Mapping[str, m.Definition | None],
                   constants: Mapping[str, Fraction] | None = None) -> object:
    """The value of an expression that uses no measures; raises NotConstant naming the measure.

    `constants` are the investments and cohort sizes known so far."""
    usable = {k: v for k, v in definitions.items() if v is not None}
    fn = _Compiler(None, usable, None, constant=True, constants=constants).compile(expr)
    return fn(_Ctx({}, {}, {}))


def principals(contract: m.Contract) -> dict[str, Fraction]:
    """What each investor has put in: the sum of its investments, by investor, in declaration order."""
    result: dict[str, Fraction] = {}
    for inv in contract.investments.values():
        result[inv.investor] = result.get(inv.investor, Fraction(0)) + inv.amount
    return result


def return_limit_amount(contract: m.Contract, limit: m.ReturnLimit, principal: Fraction) -> Fraction:
    """The most an investor with this principal may receive under the limit: principal × growth,
    rounded *down* to the contract's rounding step (step 8 of the order of application). The one
    definition the evaluator, the vectorised evaluator and the verifier all use."""
    if limit.kind == "total":
        factor = 1 + limit.rate
    else:
        factor = growth_factor(limit.rate, year_fraction(limit.start, limit.end), limit.kind == "compound")
    return Rounding(contract.rounding.step, "down").apply(principal * factor)


# ---------------------------------------------------------------- the evaluation function
@attrs.define
class _Line:
    payment: str
    clause: m.ClauseRef
    payer: str
    recipient: str
    period: str | None
    due: datetime.date | None
    amount: Fraction
    steps: list[Step]


class Evaluator:
    """The compiled contract. `evaluate(outcomes)` is pure: same outcomes, same Settlement."""

    def __init__(self, contract: m.Contract, source: Source | None = None,
                 recorder: Callable[[m.Expr, str], None] | None = None):
        self.contract = contract
        self.source = source
        self.rounding: Rounding = contract.rounding
        comp = _Compiler(contract, contract.definitions, source, recorder=recorder)
        self._c = comp
        self.payments = [(p, comp.compile(p.expr)) for p in contract.payments.values()]
        self.gates = [(g, comp.compile(g.condition), comp.compile(g.level) if g.level else None)
                      for g in contract.gates]
        self.floors = [(f, comp.compile(f.amount), comp.compile(f.when) if f.when else None)
                       for f in contract.floors]
        self.caps = [(c, comp.compile(c.amount)) for c in contract.caps]
        self.definitions = [(name, comp.var(name)) for name in contract.definitions]
        self.guarantees = [(g, comp.compile(g.expr), comp.compile(g.when) if g.when else None)
                           for g in contract.guarantees]
        # return limits are fixed when the contract is signed: (investor, limit, most it allows)
        self._limits = [(investor, limit, return_limit_amount(contract, limit, principal))
                        for investor, principal in principals(contract).items()
                        for limit in contract.return_limits]

    # helpers
    def money(self, value: Fraction) -> Decimal:
        return to_decimal(value)

    def amount_text(self, value: Fraction) -> str:
        """An amount as the audit trail writes it: `1 000 000 SEK`."""
        return format_amount(value, self.contract.currency)

    def round(self, value: Fraction) -> Fraction:
        return self.rounding.apply(value)

    def _due(self, due: m.Due, period: m.Period | None) -> datetime.date | None:
        if due.date is not None:
            return due.date
        if due.days_after_end is not None:
            end = period.end if period else (self.contract.term[1] if self.contract.term else None)
            return end + datetime.timedelta(days=due.days_after_end) if end else None
        return None

    def _step(self, line: _Line, kind: str, clause: m.ClauseRef, before: Fraction | None,
              after: Fraction, detail: str = "") -> None:
        line.steps.append(Step(kind, clause, None if before is None else self.money(before),
                               self.money(after), detail))
        line.amount = after

    def _cut(self, lines: list[_Line], excess: Fraction, kind: str, clause: m.ClauseRef, detail: str) -> None:
        for line in reversed(lines):
            if excess <= 0:
                break
            cut = min(line.amount, excess)
            if cut > 0:
                self._step(line, kind, clause, line.amount, line.amount - cut, detail)
                excess -= cut

    def evaluate(self, outcomes: Outcomes) -> Settlement:
        """Settle the contract for validated outcomes (see `outcomes.load_outcomes`)."""
        contract = self.contract
        ctx = _Ctx(outcomes, {}, {})
        lines: list[_Line] = []
        by_payment: dict[str, list[_Line]] = {}
        diagnostics: list[Diagnostic] = []
        try:
            # 1-3: each payment, per period where it has one
            for payment, fn in self.payments:
                periods = contract.series[payment.series].periods if payment.series else (None,)
                for period in periods:
                    if period is not None:
                        ctx.period[payment.series] = period.name
                    raw = fn(ctx)
                    line = _Line(payment.name, payment.clause, payment.payer, payment.recipient,
                                 period.name if period else None, self._due(payment.due, period),
                                 Fraction(0), [])
                    rounded = self.round(raw)
                    detail = "" if rounded == raw else f"exact {to_decimal(raw, 6)}, rounded {self.rounding.mode}"
                    self._step(line, "computed", payment.clause, None, rounded, detail)
                    self._apply_payment_rules(line, ctx, payment)
                    lines.append(line)
                    by_payment.setdefault(payment.name, []).append(line)
                ctx.period.pop(payment.series, None) if payment.series else None
            # 4: caps per series and per participant
            for cap, fn in self.caps:
                if cap.kind == "series":
                    for period in contract.series[cap.target].periods:
                        ctx.period[cap.target] = period.name
                        in_period = [ln for ln in lines if ln.period == period.name]
                        limit = self.round(fn(ctx))
                        excess = sum((ln.amount for ln in in_period), Fraction(0)) - limit
                        self._cut(in_period, excess, "period cap", cap.clause,
                                  f"at most {self.amount_text(limit)} in period {period.name}")
                    ctx.period.pop(cap.target, None)
                elif cap.kind == "participant":
                    size = contract.cohorts[cap.target].size
                    limit = self.round(fn(ctx) * size)
                    self._cut(lines, self._total(lines) - limit, "participant cap", cap.clause,
                              f"at most {self.amount_text(limit)} for {size} participants")
            # 5: gates on the total
            for gate, cond, level in self.gates:
                if gate.target == "total" and not cond(ctx):
                    cut_to = self.round(level(ctx))
                    self._cut(lines, self._total(lines) - cut_to, "gate failed", gate.clause,
                              f"the part above {self.amount_text(cut_to)} is not paid")
            # 6: floors on the total
            for floor, amount, when in self.floors:
                if floor.target != "total" or (when is not None and not when(ctx)):
                    continue
                minimum = self.round(amount(ctx))
                shortfall = minimum - self._total(lines)
                if shortfall > 0:
                    due = self._due(floor.due, None) if floor.due else max(
                        (ln.due for ln in lines if ln.due), default=None)
                    top_up = _Line(floor.clause.name, floor.clause, floor.payer or "", floor.recipient or "",
                                   None, due, Fraction(0), [])
                    self._step(top_up, "floor top-up", floor.clause, Fraction(0), shortfall,
                               f"the total is raised to the floor of {self.amount_text(minimum)}")
                    lines.append(top_up)
            # 7: caps on the total
            for cap, fn in self.caps:
                if cap.kind == "total":
                    limit = self.round(fn(ctx))
                    self._cut(lines, self._total(lines) - limit, "cap", cap.clause,
                              f"the total is limited to {self.amount_text(limit)}")
            # 8: return limits
            limits = self._apply_return_limits(lines)
            payments = {name: sum((ln.amount for ln in group), Fraction(0))
                        for name, group in by_payment.items()}
            ctx.payments, ctx.total = payments, self._total(lines)
            guarantees = self._check_guarantees(ctx)
            values = self._values(ctx)
        except EvaluationError as error:
            raise error
        for line in lines:
            if line.amount < 0:
                diagnostics.append(Diagnostic(
                    "E601", f"payment `{line.payment}`"
                    + (f" for period {line.period}" if line.period else "")
                    + f" is negative ({format_amount(line.amount, contract.currency)}) for these outcomes",
                    self.source, getattr(line.clause, "span", None) or self._decl_span(line.clause),
                    hint="bound the formula, e.g. `max(…, 0 " + contract.currency + ")`, "
                    "or add a floor of 0 on the payment"))
        return self._settlement(lines, limits, guarantees, values, diagnostics)

    def _decl_span(self, clause: m.ClauseRef):
        if self.source is None or not clause.line:
            return None
        start = sum(len(line) + 1 for line in self.source.text.split("\n")[: clause.line - 1])
        return self.source.span(start, start + len(self.source.line_text(clause.line)))

    @staticmethod
    def _total(lines: list[_Line]) -> Fraction:
        return sum((ln.amount for ln in lines), Fraction(0))

    def _apply_payment_rules(self, line: _Line, ctx: _Ctx, payment: m.Payment) -> None:
        for gate, cond, _ in self.gates:
            if gate.target != payment.name:
                continue
            if cond(ctx):
                self._step(line, "gate passed", gate.clause, line.amount, line.amount)
            else:
                self._step(line, "gate failed", gate.clause, line.amount, Fraction(0),
                           "the condition does not hold")
        for floor, amount, when in self.floors:
            if floor.target != payment.name or (when is not None and not when(ctx)):
                continue
            minimum = self.round(amount(ctx))
            if line.amount < minimum:
                self._step(line, "floor", floor.clause, line.amount, minimum,
                           f"raised to the floor of {self.amount_text(minimum)}")
        for cap, fn in self.caps:
            if cap.kind != "payment" or cap.target != payment.name:
                continue
            limit = self.round(fn(ctx))
            if line.amount > limit:
                self._step(line, "cap", cap.clause, line.amount, limit, f"limited to {self.amount_text(limit)}")

    def _invested(self) -> dict[str, list[m.Investment]]:
        invested: dict[str, list[m.Investment]] = {}
        for inv in self.contract.investments.values():
            invested.setdefault(inv.investor, []).append(inv)
        return invested

    def _apply_return_limits(self, lines: list[_Line]) -> dict[str, Fraction]:
        allowed: dict[str, Fraction] = {}
        for investor, limit, most in self._limits:
            if limit.kind == "total":
                basis = f"{to_decimal(limit.rate * 100)} % in total"
            else:
                basis = f"{to_decimal(limit.rate * 100)} % a year {limit.kind}, {limit.start} to {limit.end}"
            allowed[investor] = min(allowed.get(investor, most), most)
            to_investor = [ln for ln in lines if ln.recipient == investor]
            excess = self._total(to_investor) - most
            self._cut(to_investor, excess, "return limit", limit.clause,
                      f"{investor} receives at most {self.amount_text(most)} ({basis})")
        return allowed

    def _check_guarantees(self, ctx: _Ctx) -> tuple[GuaranteeCheck, ...]:
        checks = []
        for guarantee, fn, when in self.guarantees:
            if guarantee.monotone:
                checks.append(GuaranteeCheck(guarantee.clause, None, "monotone"))
            elif when is not None and not when(ctx):
                checks.append(GuaranteeCheck(guarantee.clause, None, "condition"))
            else:
                checks.append(GuaranteeCheck(guarantee.clause, bool(fn(ctx))))
        return tuple(checks)

    def _values(self, ctx: _Ctx) -> dict[str, object]:
        """Every definition's value for the audit trail. A definition the payout did not need may
        be undefined for these outcomes (a division guarded by an `if`): it is shown, not fatal."""

        def value(fn):
            try:
                return _public(fn(ctx))
            except EvaluationError as err:
                return f"undefined ({err.diagnostic.message})"

        values: dict[str, object] = {}
        for name, fn in self.definitions:
            series = self.contract.definitions[name].ty.series
            if series:
                per = {}
                for period in self.contract.series[series].periods:
                    ctx.period[series] = period.name
                    per[period.name] = value(fn)
                ctx.period.pop(series, None)
                values[name] = per
            else:
                values[name] = value(fn)
        return values

    def _settlement(self, lines, limits, guarantees, values, diagnostics) -> Settlement:
        contract = self.contract
        frozen = tuple(Line(ln.payment, ln.clause, ln.payer, ln.recipient, ln.period, ln.due,
                            self.money(ln.amount), tuple(ln.steps)) for ln in lines)
        total = sum((ln.amount for ln in frozen), Decimal(0))
        by_recipient: dict[str, Decimal] = {}
        by_payer: dict[str, Decimal] = {}
        for ln in frozen:
            by_recipient[ln.recipient] = by_recipient.get(ln.recipient, Decimal(0)) + ln.amount
            by_payer[ln.payer] = by_payer.get(ln.payer, Decimal(0)) + ln.amount
        returns = []
        for investor, investments in self._invested().items():
            invested = sum((i.amount for i in investments), Fraction(0))
            received = sum((Fraction(ln.amount) for ln in frozen if ln.recipient == investor), Fraction(0))
            net = received - invested
            share = net / invested if invested else None
            annual = None
            dates = [ln.due for ln in frozen if ln.recipient == investor and ln.due]
            if share is not None and dates:
                years = year_fraction(min(i.date for i in investments), max(dates))
                annual = share / years if years > 0 else None
            returns.append(InvestorReturn(
                investor, self.money(invested), self.money(received), self.money(net),
                to_decimal(share, 6) if share is not None else None,
                to_decimal(annual, 6) if annual is not None else None,
                self.money(limits[investor]) if investor in limits else None,
                tuple(investor_cashflows(investments, frozen, investor))))
        return Settlement(contract.title.text, contract.currency, frozen, total, by_recipient, by_payer,
                          tuple(returns), values, guarantees, tuple(diagnostics))


def _public(value: object) -> object:
    return to_decimal(value) if isinstance(value, Fraction) else value


def compile_contract(contract: m.Contract, source: Source | None = None) -> Evaluator:
    return Evaluator(contract, source)
