"""The scalar back end: measured outcomes in, a Settlement with its audit trail out.

`compile_contract(model)` builds the evaluation function once: the contract is lowered to its
settlement program (semantics/program.py), every expression a step reads becomes a closure
(compiler.py; no text is ever eval'ed), and everything that does not depend on the outcomes is
worked out then. `Evaluator.evaluate(outcomes)` is pure: it runs the program
(semantics/run.py) on exact Python numbers and writes each line's audit trail as the steps act.
The order of application is the program's, documented in docs/language.md.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from fractions import Fraction

from . import model as m
from .compiler import Compiler, Ctx, EvaluationError, Failed, Outcomes
from .diagnostics import Diagnostic
from .report import format_amount
from .semantics.program import Program, Step, StepKind, lower, principals, return_limit_amount
from .semantics.run import cut, run
from .settlement import Detail, GuaranteeCheck, Investor, Line, Settlement, StepRecord, decimal
from .source import Source
from .values import Rounding, exact, rounder, to_decimal, whole

__all__ = ["Evaluator", "compile_contract", "principals", "return_limit_amount", "EvaluationError"]

_COMPARE = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
            "==": operator.eq, "!=": operator.ne}
K = StepKind


def rounded_text(raw, mode: str) -> str:
    return f"exact {to_decimal(raw, 6)}, rounded {mode}"


_STEP_TEXT = {
    K.FLOOR: "raised to the floor of {level}",
    K.CAP: "limited to {level}",
    K.TOTAL_FLOOR: "the total is raised to the floor of {level}",
    K.PERIOD_CAP: "at most {level} in period {period}",
    K.PARTICIPANT_CAP: "at most {level} for {scale} participants",
    K.TOTAL_GATE: "the part above {level} is not paid",
    K.TOTAL_CAP: "the total is limited to {level}",
    K.RETURN_LIMIT: "{investor} receives at most {limit} ({basis})",
    K.CARD_CAP: "the rate card pays at most {level} ({basis})",
}


def step_text(kind: StepKind, level, currency: str, period, scale, investor, limit, basis) -> str:
    """What a floor, a cap or a cut says in the audit trail of a line it changed. (Plain values, not
    the step: a Detail compares and hashes its arguments, and a step holds whole expressions.)"""
    return _STEP_TEXT[kind].format(
        level=format_amount(exact(level), currency), period=period, scale=scale, investor=investor,
        limit=format_amount(exact(limit), currency) if limit is not None else "", basis=basis)


class _Concrete:
    """semantics.run.Backend over exact Python numbers, for one evaluation: it also writes the
    audit trail (`trace`) and tells the coverage recorder what each step did (`event`)."""

    ZERO = 0
    TRUE = True
    KEEP = False
    after = None

    __slots__ = ("ev", "ctx", "trails", "round")

    def __init__(self, ev: Evaluator, ctx: Ctx):
        self.ev, self.ctx = ev, ctx
        self.trails: list[list[StepRecord]] = [[] for _ in ev.program.lines]
        self.round = ev.round

    def expr(self, step: Step, which: str, guard=None):
        if guard is False:  # not read: the guard says the step does not use it here
            return 0
        return (self.ev._amount if which == "amount" else self.ev._condition)[id(step)](self.ctx)

    # the arithmetic of exact Python numbers (a whole value stays an int: values.whole)
    const = staticmethod(lambda value: value if isinstance(value, bool) else whole(value))
    sub = staticmethod(lambda a, b: whole(a - b))
    mul = staticmethod(lambda a, b: whole(a * b))
    extreme = staticmethod(lambda op, values: min(values) if op == "min" else max(values))
    compare = staticmethod(lambda op, a, b: _COMPARE[op](a, b))
    select = staticmethod(lambda c, t, o: t if c else o)
    band = staticmethod(lambda a, b: a and b)
    bnot = never = staticmethod(operator.not_)
    total = staticmethod(lambda amounts, everyone: whole(sum(amounts)))

    @staticmethod
    def linear(terms):
        acc = 0
        for sign, value in terms:
            acc = acc + value if sign > 0 else acc - value
        return whole(acc)

    def cut(self, step, amounts, excess):
        return cut(self, amounts, excess)

    event = None  # told only when coverage asks (_Covered)

    def trace(self, step: Step, line: int, before, after, acted, level) -> None:
        """The audit trail: what a step did to a line, in the words of settlement.Step (the
        words are written when the trail is first read: `Detail`)."""
        kind, clause, ev = step.kind, step.clause, self.ev
        if kind is K.COMPUTE:
            raw = level
            detail = "" if after == raw else Detail(rounded_text, raw, ev.rounding.mode)
            record = ("computed", clause, None, after, detail)
        elif kind is K.GATE:
            record = ("gate failed", clause, before, after, "the condition does not hold") if acted else \
                ("gate passed", clause, before, after, "")
        elif not (acted if acted is not None else after != before):
            return
        else:
            record = (kind.trail, clause, before, after, Detail(
                step_text, kind, level, ev.contract.currency, step.period_name, step.scale, step.investor,
                step.limit, step.basis))
        self.trails[line].append(record)


class _Covered(_Concrete):
    """_Concrete that also tells coverage what each step did."""

    __slots__ = ()

    def event(self, step: Step, acted, condition=None) -> None:  # a gate by its condition
        self.ev.on_step(step, bool(acted) if condition is None else not condition)


class Evaluator:
    """The compiled contract. `evaluate(outcomes)` is pure: same outcomes, same Settlement.

    Everything that does not depend on the outcomes is worked out here, once: the settlement
    program, the closures of every expression a step reads (constants folded), the definitions
    in dependency order, return-limit amounts, what each investor put in. `on_step(step, acted)`
    is told, for each step an evaluation runs, whether the step acted (coverage)."""

    def __init__(self, contract: m.Contract, source: Source | None = None,
                 recorder: Callable[[m.Expr, int], None] | None = None,
                 on_step: Callable[[Step, bool], None] | None = None, program: Program | None = None):
        self.contract = contract
        self.source = source
        self.on_step = on_step
        self.rounding: Rounding = contract.rounding
        self.round = rounder(contract.rounding.step, contract.rounding.mode)
        self.program: Program = program or lower(contract)
        comp = self._c = Compiler(contract, contract.definitions, source, recorder=recorder)
        # every definition, per period of its series, in dependency order: computed first, so
        # that reading one is never deeper than one definition (a chain of 5,000 is fine)
        self._defs: list[tuple[str, list[tuple[str | None, Callable]]]] = []
        self._prelude: list[tuple[tuple, Callable]] = []
        for name, definition in contract.definitions.items():
            series = definition.ty.series
            periods = [p.name for p in contract.series[series].periods] if series else [None]
            fns = [(p, comp.var(name, {series: p} if series else None)) for p in periods]
            self._defs.append((name, fns))
            self._prelude += [((name, p), fn) for p, fn in fns if fn not in comp.folded]
        self._amount: dict[int, Callable] = {}  # id(step) → the closure of what it reads
        self._condition: dict[int, Callable] = {}
        for step in self.program.steps:
            period = dict(step.period)
            if step.amount is not None:
                self._amount[id(step)] = comp.compile(step.amount, period)
            if step.condition is not None:
                self._condition[id(step)] = comp.compile(step.condition, period)
        self.guarantees = [(g, comp.compile(g.expr), comp.compile(g.when) if g.when else None)
                           for g in contract.guarantees]
        allowed: dict[str, Fraction] = {}
        for step in self.program.steps:
            if step.kind is K.RETURN_LIMIT:
                allowed[step.investor] = min(allowed.get(step.investor, step.limit), step.limit)
        self._investors = tuple(
            Investor(investor, tuple((i.date, -whole(i.amount)) for i in investments),
                     whole(sum(i.amount for i in investments)), min(i.date for i in investments),
                     allowed.get(investor))
            for investor, investments in self._invested().items())

    def evaluate(self, outcomes: Outcomes) -> Settlement:
        """Settle the contract for validated outcomes (see `outcomes.load_outcomes`)."""
        ctx = Ctx(outcomes, {}, {})
        cache = ctx.cache
        for key, fn in self._prelude:
            if key not in cache:
                try:
                    fn(ctx)
                except EvaluationError as err:
                    cache[key] = Failed(err)
        backend = (_Concrete if self.on_step is None else _Covered)(self, ctx)
        settled = run(self.program, backend)
        lines = []
        for spec, amount, trail in zip(self.program.lines, settled.amounts, backend.trails):
            if spec.top_up and not trail:
                continue  # the floor did not lift the total: no top-up line
            lines.append(Line(spec.payment, spec.clause, spec.payer, spec.recipient, spec.period, spec.due,
                              amount, tuple(trail)))
        by_payment: dict[str, int | Fraction] = {}
        for line in lines:
            if line.payment in self.contract.payments:
                by_payment[line.payment] = by_payment.get(line.payment, 0) + line.exact
        ctx.payments = {name: whole(v) for name, v in by_payment.items()}
        ctx.total = whole(sum(line.exact for line in lines))
        guarantees = self._check_guarantees(ctx)
        values = self._values(ctx)
        diagnostics = [self._negative(line) for line in lines if line.exact < 0]
        return Settlement(self.contract.title.text, self.contract.currency, tuple(lines), values, guarantees,
                          tuple(diagnostics), self._investors)

    def _negative(self, line: Line) -> Diagnostic:
        currency = self.contract.currency
        return Diagnostic(
            "E601", f"payment `{line.payment}`"
            + (f" for period {line.period}" if line.period else "")
            + f" is negative ({format_amount(exact(line.exact), currency)}) for these outcomes",
            self.source, getattr(line.clause, "span", None) or self._decl_span(line.clause),
            hint="bound the formula, e.g. `max(…, 0 " + currency + ")`, "
            "or add a floor of 0 on the payment")

    def _decl_span(self, clause: m.ClauseRef):
        if self.source is None or not clause.line:
            return None
        start = self.source.line_start(clause.line)  # lines as the parser counts them (a lone CR too)
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
        for name, fns in self._defs:
            if fns[0][0] is None:
                values[name] = value(fns[0][1])
            else:
                values[name] = {p: value(fn) for p, fn in fns}
        return values


def _public(value: object) -> object:
    return decimal(value) if type(value) is int or isinstance(value, Fraction) else value


def compile_contract(contract: m.Contract, source: Source | None = None) -> Evaluator:
    return Evaluator(contract, source)
