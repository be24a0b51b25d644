"""The vectorised back end's steps: a contract's settlement program run on array plans → a `Plan`.

In: a checked contract and the signature of a call's inputs (`prepare` in __init__.py). Out: the
plan (plan.py). The order of application is not written here: the program (semantics/program.py)
is run by the one driver (semantics/run.py), and `_Order` supplies the step primitives over
plan values, the expressions' meaning coming from semantics/expr.py over the primitives of
expr.Compiler.

What this back end adds is what it proves about values it has not seen. Besides each line's
bounds, the bounds of the total of all lines are carried through the steps (`extra`, `after`):
interval arithmetic alone forgets that the lines of a total move together, while a cap's result
is at most the cap whatever the lines. That is what shows that Norrköping's cap and return limit
cannot act, so that they cost no step. A cut is one fused kernel over its group of lines
(kernels.cut, tested against semantics.run.cut) that stops as soon as no excess is left in any
scenario of the block.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from fractions import Fraction

import numpy as np

from .. import model as m
from . import rarray as ra
from . import kernels as k
from ..semantics.expr import Interpreter
from ..semantics.program import Program, StepKind, lower
from ..semantics import run as driver
from ..semantics.run import run
from ..values import Rounding
from .expr import FALSE, TRUE, ZERO, Bool, Compiler, Num, Primitives, Size, _divide_varying, const, fits_int64
from .plan import Plan


_EVENT = {StepKind.GATE: "gate", StepKind.TOTAL_GATE: "gate", StepKind.FLOOR: "floor",
          StepKind.TOTAL_FLOOR: "floor", StepKind.RETURN_LIMIT: "return limit", StepKind.STREAM_FLOOR: "floor",
          StepKind.COVER: "cover", StepKind.WATERFALL: "waterfall"}


def compile_plan(contract: m.Contract, signature: Mapping[tuple, tuple], program: Program | None = None) -> Plan:
    """The plan of a contract for inputs of this signature: its settlement program run on array
    steps (see the module docstring)."""
    cp = Compiler(contract, signature)
    program = program or lower(contract)
    order = _Order(contract, cp)
    settled = run(program, order)
    return order.finish(program.lines, settled.amounts)


ASSUMPTION_EVENT = "assumption "  # the event of the scenarios that break an assumption, by its name


class _Order:
    """semantics.run.Backend over plan steps: the values are `Num`/`Bool` descriptions of arrays;
    besides them it keeps the event masks, the failure mask and what the steps prove about the
    bounds of the total (`extra`)."""

    ZERO, TRUE = ZERO, TRUE
    KEEP = False

    def __init__(self, contract: m.Contract, cp: Compiler):
        self.contract, self.cp = contract, cp
        self.interp = Interpreter(contract, Primitives(cp))
        self.events: dict[str, Bool] = {}
        self.failed = FALSE
        # bounds of the total of all lines known from the steps so far (a cap's result is at
        # most the cap): interval arithmetic alone forgets that the lines of a total move together.
        # They are about the lines as the step that proved them left them (`extra_of`, the very
        # values): a line computed later (a rate card's, a later period's) or changed by a step
        # that proves nothing of the total is not in them, and they then say nothing (`known`)
        self.extra: tuple[Fraction | None, Fraction | None] = (None, None)
        self.extra_of: tuple[Num, ...] | None = None

    # ------------------------------------------------------------ the primitives of a step
    def live(self, index, amounts) -> None:  # issue 15: the lines a payment's paid-to-date reads
        self.cp.live = (index, amounts)

    def expr(self, step, which: str, guard: Bool | None = None):
        value, bad = self.interp.value(getattr(step, which), dict(step.period))
        if bad is not None:  # where the step reads it (`guard`), a division by zero fails the scenario
            self.failed = self.cp.bor(self.failed, bad if guard is None else self.cp.band(guard, bad))
        return value

    def const(self, value):
        return Bool(value) if isinstance(value, bool) else const(value)

    def round(self, x: Num) -> Num:
        return self.cp.round(x)

    def round_down(self, x: Num) -> Num:
        return self.cp.round(x, Rounding(self.contract.rounding.step, "down"))

    def linear(self, terms):
        return self.cp.linear(terms)

    def sub(self, a: Num, b: Num) -> Num:
        return self.cp.add(a, b, -1)

    def mul(self, a: Num, b: Num) -> Num:
        return self.cp.mul(a, b)

    def extreme(self, op: str, values):
        return self.cp.extreme_of(op, values)

    def compare(self, op: str, a: Num, b: Num) -> Bool:
        return self.cp.compare(a, b, op)

    def select(self, c: Bool, t, o):
        return self.cp.choose(c, t, o)

    def band(self, a: Bool, b: Bool) -> Bool:
        return self.cp.band(a, b)

    def bnot(self, a: Bool) -> Bool:
        return self.cp.bnot(a)

    @staticmethod
    def never(c: Bool) -> bool:
        return c.const is False

    def total(self, amounts, everyone: bool) -> Num:
        t = self.cp.linear([(1, a) for a in amounts])
        return self.cp.narrow(t, self.known(amounts)) if everyone else t

    def cut(self, step, amounts, excess: Num):
        return _cut(self.cp, list(amounts), excess)

    def weighted_cut(self, step, amounts, weights, excess: Num):
        return driver.weighted_cut(self, amounts, weights, excess)

    def pro_rata(self, step, amounts, excess: Num):
        return driver.pro_rata(self, amounts, excess)

    def part(self, a: Num, level: Num, total: Num) -> Num:
        """round_down(a × level ÷ total) where total > 0 (issue 15: a cut in proportion); elsewhere the
        driver does not read it, so the divisor is 1 there and no division can fail."""
        cp = self.cp
        divisor = cp.choose(cp.compare(total, ZERO, ">"), total, const(1))
        scaled = cp.mul(a, level)
        if divisor.const is not None:
            quotient = cp.mul(scaled, const(1 / divisor.const))
        else:
            quotient, _ = cp.general(_divide_varying, scaled, divisor, kinds=("num", "bool"))
        return self.round_down(quotient)

    def trace(self, step, line, before, after, acted, level) -> None:
        pass  # the audit trail is the scalar evaluator's

    def event(self, step, acted: Bool, condition: Bool | None = None) -> None:
        name = f"{_EVENT.get(step.kind, 'cap')} {step.clause.name}"
        self.events[name] = self.cp.bor(self.events[name], acted) if name in self.events else acted

    # ------------------------------------------------------------ what a step proves of the total
    def known(self, lines) -> tuple[Fraction | None, Fraction | None]:
        """The proved bounds of the total of `lines` (all lines, as they stand): `extra` where these
        are the very values it was proved for, else none — the total was bounded before a line
        was added or changed, e.g. a rate card's lines computed after a stream cap (they were once
        left out of a later cap's total, which then could not act)."""
        of = self.extra_of
        if of is not None and len(of) == len(lines) and all(a is b for a, b in zip(of, lines)):
            return self.extra
        return (None, None)

    def total_bounds(self, lines) -> tuple[Fraction, Fraction] | None:
        b = total_of_bounds(lines)
        if b is None:
            return None
        lo, hi = self.known(lines)
        return (b[0] if lo is None else max(b[0], lo)), (b[1] if hi is None else min(b[1], hi))

    def after(self, step, facts: dict) -> None:
        before = self.total_bounds(facts["lines"])  # what was known before the step
        self.extra_of = tuple(facts["now"]) if "now" in facts else None  # what the new bounds are about
        if step.kind in (StepKind.STREAM_FLOOR, StepKind.COVER, StepKind.WATERFALL):  # a line was raised (a cover's added):
            # the bounds come from the lines again
            self.extra = (None, None)
            return
        if step.kind is StepKind.TOTAL_FLOOR:
            lowb, when = facts["low"].bounds(), facts["when"]
            if before is None or lowb is None:
                self.extra = (None, None)
            else:  # the total becomes max(total, low) where the floor applies
                self.extra = (max(before[0], lowb[0]) if when.const is True else before[0],
                              max(before[1], lowb[1]))
            return
        level, condition = facts["level"], facts["condition"]
        if condition is not None and condition.const is not False:  # a gate: cut back where it fails
            lb = level.bounds()
            self.extra = (None, None) if before is None or lb is None else (min(before[0], lb[0]), before[1])
        elif facts["everyone"]:
            self.capped(before, level)
        else:
            self.cut_part(before, facts["excess"])

    def capped(self, before, level: Num) -> None:
        """The total after a cut of the excess over `level` from all lines: at least
        min(total, level); at most the total and at most max(level, 0) — the cut stops at the
        level, or when no positive line is left."""
        lb = level.bounds()
        if before is None or lb is None:
            self.extra = (None, None)
        else:
            self.extra = (min(before[0], lb[0]), min(before[1], max(lb[1], 0)))

    def cut_part(self, before, excess: Num) -> None:
        """The total after a cut from some of the lines: down by at most the excess."""
        eb = excess.bounds()
        self.extra = (None, None) if before is None or eb is None else (before[0] - max(eb[1], 0), before[1])

    def finish(self, lines, amounts) -> Plan:
        cp = self.cp
        for assumption in self.contract.assumptions:  # issue 17: the scenarios that break it (simulate: E473)
            series = assumption.series
            broken = FALSE
            for period in ([{series: p.name} for p in self.contract.series[series].periods] if series else [{}]):
                held, bad = self.interp.value(assumption.expr, period)
                broken = cp.bor(broken, cp.bnot(held) if bad is None else cp.bor(cp.bnot(held), bad))
            self.events[ASSUMPTION_EVENT + assumption.clause.name] = broken
        negative = FALSE
        for amount in amounts:
            negative = cp.bor(negative, cp.compare(amount, ZERO, "<"))
        total = self.total(amounts, True)
        return cp.finish(lines, amounts, total, self.events, self.failed, negative)


def _cut(cp: Compiler, amounts: list[Num], excess: Num) -> tuple[list[Num], Bool]:
    """semantics.run.cut as one fused kernel (kernels.cut) over the lines that may give
    something; `amounts` are in the order they give (last declared first)."""
    if excess.general or any(a.general for a in amounts):
        return _cut_general(cp, amounts, excess)
    # the lines that may give something: the excess may still be positive there, and the
    # line's amount may be positive
    e_lo, e_hi = excess.bounds()
    take = []
    for i, a in enumerate(amounts):
        if e_hi <= 0:
            break
        a_lo, a_hi = a.bounds()
        if a_hi <= 0:
            continue
        take.append((i, min(a_lo, 0), a_hi))  # what is left of the line: [min(lo, 0), hi]
        e_lo, e_hi = min(e_lo, 0), max(Fraction(0), e_hi - max(a_lo, 0))
    amounts = list(amounts)
    if not take:
        return amounts, FALSE
    if excess.const is not None and all(amounts[i].const is not None for i, _, _ in take):
        e, any_cut = excess.const, False
        for i, _, _ in take:
            if e <= 0:
                break
            c = min(amounts[i].const, e)
            if c > 0:
                amounts[i], e, any_cut = const(amounts[i].const - c), e - c, True
        return amounts, Bool(any_cut)
    den = math.lcm(excess.den, *(amounts[i].den for i, _, _ in take))
    parts = [cp.operand(excess, den)] + [cp.operand(amounts[i], den) for i, _, _ in take]
    if not fits_int64(*(b for lo, hi, _, _ in parts for b in (lo, hi))):
        return _cut_general(cp, amounts, excess)
    ins = [s for _, _, _, s in parts if s is not None]
    outs = cp.emit(k.cut(parts[0][2], [p[2] for p in parts[1:]]), ins, "cut", len(take) + 1)
    for (i, lo, hi), s in zip(take, outs):
        amounts[i] = Num(den, math.ceil(lo * den), math.floor(hi * den), slot=s)
    left = Num(den, math.ceil(e_lo * den), math.floor(e_hi * den), slot=outs[-1])
    return amounts, cp.compare(left, excess, "<")  # the excess fell: something was cut


def _cut_general(cp: Compiler, amounts: list[Num], excess: Num) -> tuple[list[Num], Bool]:
    *outs, any_cut = cp.general(_general_cut, Size, excess, *amounts,
                                kinds=("num",) * len(amounts) + ("bool",))
    return list(outs), any_cut


def total_of_bounds(amounts: list[Num]) -> tuple[Fraction, Fraction] | None:
    lo = hi = Fraction(0)
    for a in amounts:
        b = a.bounds()
        if b is None:
            return None
        lo, hi = lo + b[0], hi + b[1]
    return lo, hi


def _general_cut(size: int, excess: ra.R, *amounts: ra.R):
    """evaluate.Evaluator._cut on R values: returns the new amounts and where anything was cut."""
    zero = ra.R.const(0)
    amounts = list(amounts)
    any_cut = np.zeros(size, dtype=bool)
    for j in range(len(amounts)):  # in the order they give (last declared first)
        positive = ra.compare(excess, zero, ">")
        if not np.any(positive):  # nothing (left) to cut in any scenario
            break
        c = ra.minimum(amounts[j], excess)
        c = ra.where(positive & ra.compare(c, zero, ">"), c, zero)
        any_cut = any_cut | ra.compare(c, zero, ">")
        amounts[j] = ra.add(amounts[j], c, -1)
        excess = ra.add(excess, c, -1)
    return (*amounts, any_cut)
