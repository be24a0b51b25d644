"""The order of application compiled into plan steps: a contract and an input signature → a `Plan`.

In: a checked contract and the signature of a call's inputs (vector.prepare). Out: the plan
(vector_plan.py). The steps follow the scalar evaluator (evaluate.py) clause by clause —
1. each payment's formula, rounded; 2. its gates; 3. its floors, then its caps; 4. caps per
series, then per participant; 5. gates on the total; 6. floors on the total; 7. caps on the
total; 8. return limits — with the expressions compiled by vector_expr.Compiler.

Besides each line's bounds, the bounds of the total of all lines are carried through the steps
(`extra`): interval arithmetic alone forgets that the lines of a total move together, while a
cap's result is at most the cap whatever the lines. That is what shows that Norrköping's cap and
return limit cannot act, so that they cost no step. A cut is one kernel over its group of lines
(vector_kernels.cut) that stops as soon as no excess is left in any scenario of the block.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Mapping
from fractions import Fraction

import attrs
import numpy as np

from . import model as m
from . import rarray as ra
from . import vector_kernels as k
from .evaluate import principals, return_limit_amount
from .vector_expr import FALSE, TRUE, ZERO, Bool, Compiler, Num, _fits, _Size, const
from .vector_plan import Plan


@attrs.define
class _Line:
    key: tuple
    payment: str
    payer: str
    recipient: str
    period: str | None
    due: datetime.date | None
    amount: Num


def compile_plan(contract: m.Contract, signature: Mapping[tuple, tuple]) -> Plan:
    """The plan of a contract for inputs of this signature (see the module docstring)."""
    order = _Order(contract, Compiler(contract, signature))
    order.payments()  # 1-3
    order.caps_per_series_and_participant()  # 4
    order.gates_on_total()  # 5
    order.floors_on_total()  # 6
    order.caps_on_total()  # 7
    order.return_limits()  # 8
    return order.finish()


class _Order:
    """The lines, event masks and failures of the settlement being compiled, step by step."""

    def __init__(self, contract: m.Contract, cp: Compiler):
        self.contract, self.cp = contract, cp
        self.lines: list[_Line] = []
        self.events: dict[str, Bool] = {}
        self.failed = FALSE
        # bounds of the total of all lines known from the steps so far (a cap's result is at
        # most the cap): interval arithmetic alone forgets that the lines of a total move together
        self.extra: tuple[Fraction | None, Fraction | None] = (None, None)

    # ------------------------------------------------------------ bookkeeping
    def fail(self, bad: Bool) -> None:
        self.failed = self.cp.bor(self.failed, bad)

    def event(self, name: str, mask: Bool) -> None:
        self.events[name] = self.cp.bor(self.events[name], mask) if name in self.events else mask

    def everyone(self) -> list[int]:
        return list(range(len(self.lines)))

    def total_of(self, group: list[int]) -> Num:
        t = ZERO
        for i in group:
            t = self.cp.add(t, self.lines[i].amount)
        return self.cp.narrow(t, self.extra) if len(group) == len(self.lines) else t

    def total_bounds(self) -> tuple[Fraction, Fraction] | None:
        b = total_of_bounds([ln.amount for ln in self.lines])
        if b is None:
            return None
        lo, hi = self.extra
        return (b[0] if lo is None else max(b[0], lo)), (b[1] if hi is None else min(b[1], hi))

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

    def cut(self, group: list[int], excess: Num, name: str) -> None:
        _cut(self.cp, self.lines, group, excess, name, self.event)

    def rounded(self, expr: m.Expr) -> Num:
        value, bad = self.cp.expr(expr)
        self.fail(bad)
        return self.cp.round(value)

    # ------------------------------------------------------------ the steps
    def payments(self) -> None:
        """1-3: each payment's formula, rounded, then its gates, floors and caps."""
        contract, cp = self.contract, self.cp
        for payment in contract.payments.values():
            periods = contract.series[payment.series].periods if payment.series else (None,)
            for period in periods:
                if period is not None:
                    cp.period[payment.series] = period.name
                amount = self.rounded(payment.expr)
                for gate in contract.gates:
                    if gate.target == payment.name:
                        c, cb = cp.expr(gate.condition)
                        self.fail(cb)
                        self.event(f"gate {gate.clause.name}", cp.bnot(c))
                        amount = cp.where(c, amount, ZERO)
                for fl in contract.floors:
                    if fl.target == payment.name:
                        amount = self.payment_floor(fl, amount)
                for cap in contract.caps:
                    if cap.kind == "payment" and cap.target == payment.name:
                        hi = self.rounded(cap.amount)
                        over = cp.compare(amount, hi, ">")
                        self.event(f"cap {cap.clause.name}", over)
                        before, hib = amount.bounds(), hi.bounds()
                        amount = cp.where(over, hi, amount)
                        if before and hib:  # min(amount, cap)
                            amount = cp.narrow(amount, (min(before[0], hib[0]), min(before[1], hib[1])))
                name = period.name if period else None
                self.lines.append(_Line(("payment", payment.name, name), payment.name, payment.payer,
                                        payment.recipient, name, _due(contract, payment.due, period), amount))
            if payment.series:
                cp.period.pop(payment.series, None)

    def payment_floor(self, fl: m.Floor, amount: Num) -> Num:
        cp = self.cp
        applies = TRUE
        if fl.when is not None:
            applies, wb = cp.expr(fl.when)
            self.fail(wb)
        low, lb = cp.expr(fl.amount)
        self.fail(cp.band(applies, lb))  # the amount counts only where the floor applies
        low = cp.round(low)
        lift = cp.band(applies, cp.compare(amount, low, "<"))
        self.event(f"floor {fl.clause.name}", lift)
        before, lowb = amount.bounds(), low.bounds()
        amount = cp.where(lift, low, amount)
        if before and lowb:  # raised to the floor where it applies: max(amount, low)
            floor_lo = max(before[0], lowb[0]) if applies.const is True else before[0]
            amount = cp.narrow(amount, (floor_lo, max(before[1], lowb[1])))
        return amount

    def caps_per_series_and_participant(self) -> None:
        """4: caps per period series, then per participant."""
        contract, cp = self.contract, self.cp
        for cap in contract.caps:
            if cap.kind == "series":
                for period in contract.series[cap.target].periods:
                    cp.period[cap.target] = period.name
                    in_period = [i for i, ln in enumerate(self.lines) if ln.period == period.name]
                    hi = self.rounded(cap.amount)
                    before = self.total_bounds()
                    excess = cp.add(self.total_of(in_period), hi, -1)
                    self.cut(in_period, excess, f"cap {cap.clause.name}")
                    if len(in_period) == len(self.lines):
                        self.capped(before, hi)
                    else:
                        self.cut_part(before, excess)
                cp.period.pop(cap.target, None)
            elif cap.kind == "participant":
                size = contract.cohorts[cap.target].size
                hi, hb = cp.expr(cap.amount)
                self.fail(hb)
                hi = cp.round(cp.mul(hi, const(size)))
                before = self.total_bounds()
                everyone = self.everyone()
                self.cut(everyone, cp.add(self.total_of(everyone), hi, -1), f"cap {cap.clause.name}")
                self.capped(before, hi)

    def gates_on_total(self) -> None:
        """5: `total above L requires C` cuts the total back to L where C fails."""
        cp = self.cp
        for gate in self.contract.gates:
            if gate.target != "total":
                continue
            c, cb = cp.expr(gate.condition)
            self.fail(cb)
            level, lb = cp.expr(gate.level)
            self.fail(cp.bwhere(c, FALSE, lb))  # the level counts only where the condition fails
            level = cp.round(level)
            before = self.total_bounds()
            everyone = self.everyone()
            excess = cp.where(c, ZERO, cp.add(self.total_of(everyone), level, -1))
            self.cut(everyone, excess, f"gate {gate.clause.name}")
            if c.const is False:
                self.capped(before, level)
            elif before is None or level.bounds() is None:
                self.extra = (None, None)
            else:  # cut back to the level where the condition fails: at least min(total, level)
                self.extra = (min(before[0], level.bounds()[0]), before[1])

    def floors_on_total(self) -> None:
        """6: a top-up line from the floor clause where the total is below the floor."""
        cp, lines = self.cp, self.lines
        for fl in self.contract.floors:
            if fl.target != "total":
                continue
            applies = TRUE
            if fl.when is not None:
                applies, wb = cp.expr(fl.when)
                self.fail(wb)
            low, lb = cp.expr(fl.amount)
            self.fail(cp.band(applies, lb))
            low = cp.round(low)
            before = self.total_bounds()
            shortfall = cp.add(low, self.total_of(self.everyone()), -1)
            lift = cp.band(applies, cp.compare(shortfall, ZERO, ">"))
            self.event(f"floor {fl.clause.name}", lift)
            due = _due(self.contract, fl.due, None) if fl.due else max(
                (ln.due for ln in lines if ln.due), default=None)
            top_up = cp.narrow(cp.where(lift, shortfall, ZERO), (Fraction(0), None))  # lifted: shortfall > 0
            lines.append(_Line(("floor", fl.clause.name, len(lines)), fl.clause.name, fl.payer or "",
                               fl.recipient or "", None, due, top_up))
            lowb = low.bounds()
            if before is None or lowb is None:
                self.extra = (None, None)
            else:  # the total becomes max(total, low) where the floor applies
                self.extra = (max(before[0], lowb[0]) if applies.const is True else before[0],
                              max(before[1], lowb[1]))

    def caps_on_total(self) -> None:
        """7: caps on the total."""
        for cap in self.contract.caps:
            if cap.kind == "total":
                hi = self.rounded(cap.amount)
                before = self.total_bounds()
                everyone = self.everyone()
                self.cut(everyone, self.cp.add(self.total_of(everyone), hi, -1), f"cap {cap.clause.name}")
                self.capped(before, hi)

    def return_limits(self) -> None:
        """8: return limits, on the lines paid to each investor."""
        contract = self.contract
        for investor, principal in principals(contract).items():
            for limit in contract.return_limits:
                most = const(return_limit_amount(contract, limit, principal))
                group = [i for i, ln in enumerate(self.lines) if ln.recipient == investor]
                before = self.total_bounds()
                excess = self.cp.add(self.total_of(group), most, -1)
                self.cut(group, excess, f"return limit {limit.clause.name}")
                if len(group) == len(self.lines):
                    self.capped(before, most)
                else:
                    self.cut_part(before, excess)

    def finish(self) -> Plan:
        negative = FALSE
        for ln in self.lines:
            negative = self.cp.bor(negative, self.cp.compare(ln.amount, ZERO, "<"))
        total = self.total_of(self.everyone())
        return self.cp.finish(self.lines, total, self.events, self.failed, negative)


def _cut(cp: Compiler, lines: list[_Line], group: list[int], excess: Num, name: str, event) -> None:
    """Cut `excess` from the lines of `group`, last-declared first (evaluate.Evaluator._cut)."""
    if excess.general or any(lines[i].amount.general for i in group):
        return _cut_general(cp, lines, group, excess, name, event)
    # the lines that may give something: the excess may still be positive there, and the
    # line's amount may be positive
    e_lo, e_hi = excess.bounds()
    take = []
    for i in reversed(group):
        if e_hi <= 0:
            break
        a_lo, a_hi = lines[i].amount.bounds()
        if a_hi <= 0:
            continue
        take.append((i, min(a_lo, 0), a_hi))  # what is left of the line: [min(lo, 0), hi]
        e_lo, e_hi = min(e_lo, 0), max(Fraction(0), e_hi - max(a_lo, 0))
    if not take:
        event(name, FALSE)
        return
    if excess.const is not None and all(lines[i].amount.const is not None for i, _, _ in take):
        e, any_cut = excess.const, False
        for i, _, _ in take:
            if e <= 0:
                break
            c = min(lines[i].amount.const, e)
            if c > 0:
                lines[i].amount, e, any_cut = const(lines[i].amount.const - c), e - c, True
        event(name, Bool(any_cut))
        return
    den = math.lcm(excess.den, *(lines[i].amount.den for i, _, _ in take))
    parts = [cp.operand(excess, den)] + [cp.operand(lines[i].amount, den) for i, _, _ in take]
    if not _fits(*(b for lo, hi, _, _ in parts for b in (lo, hi))):
        return _cut_general(cp, lines, group, excess, name, event)
    ins = [s for _, _, _, s in parts if s is not None]
    outs = cp.emit(k.cut(parts[0][2], [p[2] for p in parts[1:]]), ins, f"cut {name}", len(take) + 1)
    for (i, lo, hi), s in zip(take, outs):
        lines[i].amount = Num(den, math.ceil(lo * den), math.floor(hi * den), slot=s)
    left = Num(den, math.ceil(e_lo * den), math.floor(e_hi * den), slot=outs[-1])
    event(name, cp.compare(left, excess, "<"))  # the excess fell: something was cut


def _cut_general(cp: Compiler, lines: list[_Line], group: list[int], excess: Num, name: str,
                 event) -> None:
    *outs, any_cut = cp.general(_general_cut, _Size, excess, *[lines[i].amount for i in group],
                                kinds=("num",) * len(group) + ("bool",))
    for i, value in zip(group, outs):
        lines[i].amount = value
    event(name, any_cut)


def total_of_bounds(amounts: list[Num]) -> tuple[Fraction, Fraction] | None:
    lo = hi = Fraction(0)
    for a in amounts:
        b = a.bounds()
        if b is None:
            return None
        lo, hi = lo + b[0], hi + b[1]
    return lo, hi


def _due(contract: m.Contract, due: m.Due, period: m.Period | None):
    if due.date is not None:
        return due.date
    if due.days_after_end is not None:
        end = period.end if period else (contract.term[1] if contract.term else None)
        return end + datetime.timedelta(days=due.days_after_end) if end else None
    return None


def _general_cut(size: int, excess: ra.R, *amounts: ra.R):
    """evaluate.Evaluator._cut on R values: returns the new amounts and where anything was cut."""
    zero = ra.R.const(0)
    amounts = list(amounts)
    any_cut = np.zeros(size, dtype=bool)
    for j in range(len(amounts) - 1, -1, -1):
        positive = ra.compare(excess, zero, ">")
        if not np.any(positive):  # nothing (left) to cut in any scenario
            break
        c = ra.minimum(amounts[j], excess)
        c = ra.where(positive & ra.compare(c, zero, ">"), c, zero)
        any_cut = any_cut | ra.compare(c, zero, ">")
        amounts[j] = ra.add(amounts[j], c, -1)
        excess = ra.add(excess, c, -1)
    return (*amounts, any_cut)
