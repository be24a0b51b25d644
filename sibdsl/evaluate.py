"""Checked model → evaluation function: measured outcomes in, a Settlement out.

`compile_contract(model)` builds the function once: the formulas become closures
(compiler.py; no text is ever eval'ed) and everything that does not depend on the outcomes
is worked out then. `Evaluator.evaluate(outcomes)` is pure. The order in which the clauses apply is
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
from collections.abc import Callable
from fractions import Fraction

import attrs

from . import model as m
from .compiler import Compiler, Ctx, EvaluationError, Outcomes
from .diagnostics import Diagnostic
from .report import format_amount
from .settlement import GuaranteeCheck, Investor, Line, Settlement, StepRecord, decimal
from .source import Source
from .values import Rounding, exact, growth_factor, rounder, to_decimal, whole, year_fraction

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
    return exact(Rounding(contract.rounding.step, "down").apply(principal * factor))


# ---------------------------------------------------------------- the evaluation function
class _Line:
    """A payment line while the rules apply to it; frozen into a `settlement.Line` at the end."""

    __slots__ = ("payment", "clause", "payer", "recipient", "period", "due", "amount", "steps")

    def __init__(self, payment: str, clause: m.ClauseRef, payer: str, recipient: str, period: str | None,
                 due: datetime.date | None):
        self.payment, self.clause, self.payer, self.recipient = payment, clause, payer, recipient
        self.period, self.due = period, due
        self.amount: Fraction | int = 0
        self.steps: list[StepRecord] = []


_Fn = Callable[[Ctx], object]


@attrs.frozen
class _PaymentPlan:
    """A payment with what applies to it, found once when the contract is compiled."""

    payment: m.Payment
    formula: _Fn
    lines: tuple[tuple[m.Period | None, datetime.date | None], ...]  # (period, due date) per line
    gates: tuple[tuple[m.Gate, _Fn], ...]
    floors: tuple[tuple[m.Floor, _Fn, _Fn | None], ...]
    caps: tuple[tuple[m.Cap, _Fn], ...]


class Evaluator:
    """The compiled contract. `evaluate(outcomes)` is pure: same outcomes, same Settlement.

    Everything that does not depend on the outcomes is worked out here, once: the formulas
    (closures, constants folded), which gates, floors and caps apply to which payment, due
    dates, return-limit amounts, what each investor put in."""

    def __init__(self, contract: m.Contract, source: Source | None = None,
                 recorder: Callable[[m.Expr, int], None] | None = None):
        self.contract = contract
        self.source = source
        self.rounding: Rounding = contract.rounding
        self.round = rounder(contract.rounding.step, contract.rounding.mode)
        comp = Compiler(contract, contract.definitions, source, recorder=recorder)
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
        self._plans = tuple(_PaymentPlan(
            payment, fn,
            tuple((period, self._due(payment.due, period))
                  for period in (contract.series[payment.series].periods if payment.series else (None,))),
            tuple((g, cond) for g, cond, _ in self.gates if g.target == payment.name),
            tuple(f for f in self.floors if f[0].target == payment.name),
            tuple(c for c in self.caps if c[0].kind == "payment" and c[0].target == payment.name),
        ) for payment, fn in self.payments)
        self._group_caps = [(c, fn) for c, fn in self.caps if c.kind in ("series", "participant")]
        self._total_gates = [(g, cond, level) for g, cond, level in self.gates if g.target == "total"]
        self._total_floors = [f for f in self.floors if f[0].target == "total"]
        self._total_caps = [(c, fn) for c, fn in self.caps if c.kind == "total"]
        # return limits are fixed when the contract is signed: (investor, limit, most it allows, why)
        self._limits = []
        for investor, principal in principals(contract).items():
            for limit in contract.return_limits:
                most = return_limit_amount(contract, limit, principal)
                if limit.kind == "total":
                    basis = f"{to_decimal(limit.rate * 100)} % in total"
                else:
                    basis = f"{to_decimal(limit.rate * 100)} % a year {limit.kind}, {limit.start} to {limit.end}"
                self._limits.append((investor, limit, most,
                                     f"{investor} receives at most {self.amount_text(most)} ({basis})"))
        allowed: dict[str, Fraction] = {}
        for investor, _, most, _ in self._limits:
            allowed[investor] = min(allowed.get(investor, most), most)
        self._investors = tuple(
            Investor(investor, tuple((i.date, -whole(i.amount)) for i in investments),
                     whole(sum(i.amount for i in investments)), min(i.date for i in investments),
                     allowed.get(investor))
            for investor, investments in self._invested().items())

    # helpers
    def amount_text(self, value: Fraction | int) -> str:
        """An amount as the audit trail writes it: `1 000 000 SEK`."""
        return format_amount(exact(value), self.contract.currency)

    def _due(self, due: m.Due, period: m.Period | None) -> datetime.date | None:
        if due.date is not None:
            return due.date
        if due.days_after_end is not None:
            end = period.end if period else (self.contract.term[1] if self.contract.term else None)
            return end + datetime.timedelta(days=due.days_after_end) if end else None
        return None

    @staticmethod
    def _step(line: _Line, kind: str, clause: m.ClauseRef, before: Fraction | int | None,
              after: Fraction | int, detail: str = "") -> None:
        line.steps.append((kind, clause, before, after, detail))
        line.amount = after

    def _cut(self, lines: list[_Line], excess: Fraction | int, kind: str, clause: m.ClauseRef, detail) -> None:
        """Take `excess` from the lines, last first. `detail` is the audit text, or a function
        that makes it: most evaluations cut nothing and never need the text."""
        if excess <= 0:
            return
        for line in reversed(lines):
            if excess <= 0:
                break
            cut = min(line.amount, excess)
            if cut > 0:
                self._step(line, kind, clause, line.amount, line.amount - cut,
                           detail if isinstance(detail, str) else detail())
                excess -= cut

    def evaluate(self, outcomes: Outcomes) -> Settlement:
        """Settle the contract for validated outcomes (see `outcomes.load_outcomes`)."""
        contract = self.contract
        rnd, step, text = self.round, self._step, self.amount_text
        ctx = Ctx(outcomes, {}, {})
        lines: list[_Line] = []
        by_payment: dict[str, list[_Line]] = {}
        # 1-3: each payment, per period where it has one
        for plan in self._plans:
            payment = plan.payment
            group = by_payment[payment.name] = []
            for period, due in plan.lines:
                if period is not None:
                    ctx.period[payment.series] = period.name
                raw = plan.formula(ctx)
                line = _Line(payment.name, payment.clause, payment.payer, payment.recipient,
                             period.name if period else None, due)
                rounded = rnd(raw)
                detail = "" if rounded == raw else f"exact {to_decimal(raw, 6)}, rounded {self.rounding.mode}"
                step(line, "computed", payment.clause, None, rounded, detail)
                for gate, cond in plan.gates:
                    if cond(ctx):
                        step(line, "gate passed", gate.clause, line.amount, line.amount)
                    else:
                        step(line, "gate failed", gate.clause, line.amount, 0, "the condition does not hold")
                for floor, amount, when in plan.floors:
                    if when is not None and not when(ctx):
                        continue
                    minimum = rnd(amount(ctx))
                    if line.amount < minimum:
                        step(line, "floor", floor.clause, line.amount, minimum,
                             f"raised to the floor of {text(minimum)}")
                for cap, fn in plan.caps:
                    limit = rnd(fn(ctx))
                    if line.amount > limit:
                        step(line, "cap", cap.clause, line.amount, limit, f"limited to {text(limit)}")
                lines.append(line)
                group.append(line)
            if payment.series:
                ctx.period.pop(payment.series, None)
        # 4: caps per series and per participant
        for cap, fn in self._group_caps:
            if cap.kind == "series":
                for period in contract.series[cap.target].periods:
                    ctx.period[cap.target] = period.name
                    in_period = [ln for ln in lines if ln.period == period.name]
                    limit = rnd(fn(ctx))
                    self._cut(in_period, _total(in_period) - limit, "period cap", cap.clause,
                              lambda: f"at most {text(limit)} in period {period.name}")
                ctx.period.pop(cap.target, None)
            else:
                size = contract.cohorts[cap.target].size
                limit = rnd(fn(ctx) * size)
                self._cut(lines, _total(lines) - limit, "participant cap", cap.clause,
                          lambda: f"at most {text(limit)} for {size} participants")
        # 5: gates on the total
        for gate, cond, level in self._total_gates:
            if not cond(ctx):
                cut_to = rnd(level(ctx))
                self._cut(lines, _total(lines) - cut_to, "gate failed", gate.clause,
                          lambda: f"the part above {text(cut_to)} is not paid")
        # 6: floors on the total
        for floor, amount, when in self._total_floors:
            if when is not None and not when(ctx):
                continue
            minimum = rnd(amount(ctx))
            shortfall = minimum - _total(lines)
            if shortfall > 0:
                due = self._due(floor.due, None) if floor.due else max(
                    (ln.due for ln in lines if ln.due), default=None)
                top_up = _Line(floor.clause.name, floor.clause, floor.payer or "", floor.recipient or "",
                               None, due)
                step(top_up, "floor top-up", floor.clause, 0, shortfall,
                     f"the total is raised to the floor of {text(minimum)}")
                lines.append(top_up)
        # 7: caps on the total
        for cap, fn in self._total_caps:
            limit = rnd(fn(ctx))
            self._cut(lines, _total(lines) - limit, "cap", cap.clause,
                      lambda: f"the total is limited to {text(limit)}")
        # 8: return limits
        for investor, limit, most, detail in self._limits:
            to_investor = [ln for ln in lines if ln.recipient == investor]
            self._cut(to_investor, _total(to_investor) - most, "return limit", limit.clause, detail)
        ctx.payments = {name: _total(group) for name, group in by_payment.items()}
        ctx.total = _total(lines)
        guarantees = self._check_guarantees(ctx)
        values = self._values(ctx)
        diagnostics = [self._negative(line) for line in lines if line.amount < 0]
        return self._settlement(lines, guarantees, values, diagnostics)

    def _negative(self, line: _Line) -> Diagnostic:
        currency = self.contract.currency
        return Diagnostic(
            "E601", f"payment `{line.payment}`"
            + (f" for period {line.period}" if line.period else "")
            + f" is negative ({format_amount(exact(line.amount), currency)}) for these outcomes",
            self.source, getattr(line.clause, "span", None) or self._decl_span(line.clause),
            hint="bound the formula, e.g. `max(…, 0 " + currency + ")`, "
            "or add a floor of 0 on the payment")

    def _decl_span(self, clause: m.ClauseRef):
        if self.source is None or not clause.line:
            return None
        start = sum(len(line) + 1 for line in self.source.text.split("\n")[: clause.line - 1])
        return self.source.span(start, start + len(self.source.line_text(clause.line)))

    def _invested(self) -> dict[str, list[m.Investment]]:
        invested: dict[str, list[m.Investment]] = {}
        for inv in self.contract.investments.values():
            invested.setdefault(inv.investor, []).append(inv)
        return invested

    def _check_guarantees(self, ctx: Ctx) -> tuple[GuaranteeCheck, ...]:
        checks = []
        for guarantee, fn, when in self.guarantees:
            if guarantee.monotone:
                checks.append(GuaranteeCheck(guarantee.clause, None, "monotone"))
            elif when is not None and not when(ctx):
                checks.append(GuaranteeCheck(guarantee.clause, None, "condition"))
            else:
                checks.append(GuaranteeCheck(guarantee.clause, bool(fn(ctx))))
        return tuple(checks)

    def _values(self, ctx: Ctx) -> dict[str, object]:
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

    def _settlement(self, lines: list[_Line], guarantees, values, diagnostics) -> Settlement:
        frozen = tuple([Line(ln.payment, ln.clause, ln.payer, ln.recipient, ln.period, ln.due, ln.amount,
                             tuple(ln.steps)) for ln in lines])
        return Settlement(self.contract.title.text, self.contract.currency, frozen, values, guarantees,
                          tuple(diagnostics), self._investors)


def _total(lines: list[_Line]) -> Fraction | int:
    return whole(sum(ln.amount for ln in lines))


def _public(value: object) -> object:
    return decimal(value) if type(value) is int or isinstance(value, Fraction) else value


def compile_contract(contract: m.Contract, source: Source | None = None) -> Evaluator:
    return Evaluator(contract, source)
