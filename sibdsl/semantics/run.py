"""Running a settlement program on a back end: the one definition of what each step does.

In: a `Program` (program.py) and a back end — scalar values (evaluate.py), arrays of scenarios
(vector/settle.py) or z3 terms (verify.py). Out: a `Run`: every line's final amount, in the back
end's values, and what each step computed (its level, its condition), for readers such as the
verifier's properties.

Each step is written here once, in terms of the back end's primitives (`Backend`). So is the cut
(`cut`): an excess taken from a group of lines, **last declared first**, never more than a line
has. A back end may supply a fused kernel for it (`Backend.cut`), tested against `cut` here. A rate
card's cap `in proportion` (issue 15) does not cut in an order: `pro_rata` scales every line of
its group by the same factor, each rounded down (the one new primitive it needs is `part`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any, Protocol

import attrs

from .program import Program, Step, StepKind

V = Any


class Backend(Protocol):
    """What a back end supplies to run a program (see also semantics.expr.Primitives)."""

    ZERO: V
    TRUE: V
    KEEP: bool  # keep what each step computed in the Run (the verifier reads it)

    def expr(self, step: Step, which: str, guard: V | None = None) -> V: ...  # step.amount / step.condition
    def const(self, value) -> V: ...
    def round(self, x: V) -> V: ...
    def round_down(self, x: V) -> V: ...  # to the contract's step, toward −∞ (a return limit's cut)
    def linear(self, terms: Sequence[tuple[int, V]]) -> V: ...
    def sub(self, a: V, b: V) -> V: ...
    def mul(self, a: V, b: V) -> V: ...
    def extreme(self, op: str, values: Sequence[V]) -> V: ...
    def compare(self, op: str, a: V, b: V) -> V: ...
    def select(self, c: V, t: V, o: V) -> V: ...
    def band(self, a: V, b: V) -> V: ...
    def bnot(self, a: V) -> V: ...
    def never(self, c: V) -> bool: ...  # the condition is known to be false (a shortcut, never a meaning)
    def total(self, amounts: Sequence[V], everyone: bool) -> V: ...
    def cut(self, step: Step, amounts: Sequence[V], excess: V) -> tuple[list[V], V]: ...
    # the same for a cut in weighted units (a rate of return): a fused `weighted_cut`, or the reference
    def weighted_cut(self, step: Step, amounts: Sequence[V], weights: Sequence, excess: V) -> tuple[list[V], V]: ...
    # issue 15: a cut in proportion — `pro_rata` below, or a back end's own encoding of it
    def pro_rata(self, step: Step, amounts: Sequence[V], excess: V) -> tuple[list[V], V]: ...
    def part(self, a: V, level: V, total: V) -> V: ...  # round_down(a × level ÷ total), read only where total > 0
    def trace(self, step: Step, line: int, before: V | None, after: V, acted: V, level: V | None) -> None: ...
    # what a step did (a gate's condition too), for coverage and event counts, or None
    event: Callable[[Step, V, V | None], None] | None
    # what a step did to the total (for bounds), or None. The facts: "lines", the lines as they stood
    # before the step; "now", as they stand after it (a total floor's and a cut's), the lines a
    # bound on the total proved by the step is about (a line added or changed later breaks it)
    after: Callable[[Step, dict], None] | None


@attrs.frozen
class StepValues:
    """What one step computed: its (rounded) level and its condition, in the back end's values."""

    step: Step
    level: V = None
    condition: V = None
    acted: V = None


@attrs.frozen
class Run:
    program: Program
    amounts: tuple[V, ...]  # per line, final
    values: tuple[StepValues, ...]  # per step


def cut(b, amounts: Sequence[V], excess: V) -> tuple[list[V], V]:
    """Take `excess` from `amounts`, which are in the order they give: each gives what it has
    (nothing if it has nothing), until the excess is gone. Returns the new amounts and where
    something was taken. The reference every back end's cut is tested against."""
    zero = b.ZERO
    if not amounts:
        return [], b.const(False)
    acted = b.band(b.compare(">", excess, zero), b.compare(">", b.extreme("max", list(amounts)), zero))
    out = []
    for k, a in enumerate(amounts):
        positive = b.compare(">", excess, zero)
        if b.never(positive):  # nothing left to take: the rest keep theirs
            out += amounts[k:]
            break
        take = b.select(positive, b.extreme("max", [b.extreme("min", [a, excess]), zero]), zero)
        out.append(b.sub(a, take))
        excess = b.sub(excess, take)
    return out, acted


def pro_rata(b, amounts: Sequence[V], excess: V) -> tuple[list[V], V]:
    """A cut in proportion (a rate card's cap `in proportion`, issue 15): where the lines' total S
    exceeds the level C = S − excess, every line a becomes a × C ÷ S rounded *down* to the contract's
    step (`part`), so no line is favoured by its position and the lines never add up to more than C.
    What the rounding leaves (less than one step per line) is not paid: the cap is the most the
    payer pays, and each line can be checked on its own (docs/language.md, "Rate cards"). Nothing
    changes where the excess is not positive or the lines hold nothing (S ≤ 0; a level below 0 is
    read as 0, as a cut empties the lines). The reference every back end runs or is tested against."""
    zero = b.ZERO
    if not amounts:
        return [], b.const(False)
    total = b.linear([(1, a) for a in amounts])
    acted = b.band(b.compare(">", excess, zero), b.compare(">", total, zero))
    if b.never(acted):
        return list(amounts), acted
    level = b.extreme("max", [b.sub(total, excess), zero])
    return [b.select(acted, b.part(a, level, total), a) for a in amounts], acted


def weighted_cut(b, amounts: Sequence[V], weights: Sequence, excess: V) -> tuple[list[V], V]:
    """A cut of an excess measured in weighted units (a return limit's present value): the lines,
    in the order they give, each with its weight w > 0, give nominal min(amount, excess / w),
    rounded up to the contract's step (the line's new amount rounded *down*: `round_down`), and the
    excess falls by what was given × w. A line with nothing gives nothing. The reference every
    back end runs (written with the primitives only)."""
    zero = b.ZERO
    if not amounts:
        return [], b.const(False)
    acted = b.band(b.compare(">", excess, zero), b.compare(">", b.extreme("max", list(amounts)), zero))
    out = []
    for k, (a, w) in enumerate(zip(amounts, weights)):
        positive = b.compare(">", excess, zero)
        if b.never(positive):  # nothing left to take: the rest keep theirs
            out += amounts[k:]
            break
        give = b.extreme("max", [b.extreme("min", [a, b.mul(excess, b.const(1 / w))]), zero])
        new = b.select(positive, b.round_down(b.sub(a, give)), a)
        out.append(new)
        excess = b.sub(excess, b.mul(b.sub(a, new), b.const(w)))
    return out, acted


def round_up(b, x: V) -> V:
    """To the contract's step, toward +∞: −round_down(−x)."""
    return b.sub(b.ZERO, b.round_down(b.sub(b.ZERO, x)))


def distribute(b, step: Step, amounts: list) -> V:
    """One waterfall step on one line the vehicle is paid (issue 14; program.Distribution): sets the
    step's new lines in `amounts` and returns its flow, what it took from the vehicle's line (never
    below 0, never above what the line has left).

    A step that pays one party pays min(what is left, what its target still needs). A step that
    splits by shares until one party's target: if that party's share of what is left (rounded down)
    covers what it still needs, it gets exactly that and the step pays that ÷ its share (rounded up,
    at most what is left), the others sharing the difference; else the step pays everything left,
    split by the shares. A step to an amount, or `rest`, splits its flow by the shares."""
    d = step.plan
    avail = b.extreme("max", [amounts[step.line], b.ZERO])
    parts = None
    if d.rest:
        flow = avail
    else:
        received = b.linear([(1, b.mul(amounts[j], b.const(w))) for j, w in zip(d.reads, d.read_weights)]) \
            if d.reads else b.ZERO
        remaining = b.extreme("max", [b.sub(b.const(d.level), received), b.ZERO])
        need = round_up(b, b.mul(remaining, b.const(1 / d.weight)))  # what the target itself still needs
        if d.target < 0 or len(d.shares) == 1:
            flow = b.extreme("min", [avail, need])
        else:
            share = d.shares[d.target]
            whole = b.compare("<=", need, b.round_down(b.mul(avail, b.const(share))))
            flow = b.select(whole, b.extreme("min", [avail, round_up(b, b.mul(need, b.const(1 / share)))]), avail)
            mine = b.select(whole, need, b.round_down(b.mul(avail, b.const(share))))
            others = [s for k, s in enumerate(d.shares) if k != d.target]
            rest = _split(b, b.sub(flow, mine), tuple(s / sum(others) for s in others))
            parts = rest[:d.target] + [mine] + rest[d.target:]
    group = iter(step.group)
    for k, (part, members) in enumerate(zip(parts or _split(b, flow, d.shares), d.members)):
        paid = d.paid[k] if d.paid else ()
        for amount in (_pro_rata(b, part, members, paid, amounts) if len(members) > 1 and paid else
                       _split(b, part, members)):
            amounts[next(group)] = amount
    return flow


def _pro_rata(b, part: V, shares, paid, amounts) -> list:
    """A class's part split among its investors pro rata to `shares`, on what the step has paid the
    class in all (`paid`: each investor's earlier lines): each but the last gets its share of that
    total rounded down, less what it already had (never below 0, never more than is left of the
    part); the last gets the rest. So the split is exact to a rounding step however many lines the
    vehicle is paid, not off by a step per line."""
    before = [b.linear([(1, amounts[j]) for j in lines]) if lines else b.ZERO for lines in paid]
    total = b.linear([(1, part)] + [(1, x) for x in before])
    out, left = [], part
    for share, had in zip(shares[:-1], before[:-1]):
        due = b.sub(b.round_down(b.mul(total, b.const(share))), had)
        amount = b.extreme("max", [b.extreme("min", [due, left]), b.ZERO])
        out.append(amount)
        left = b.sub(left, amount)
    return out + [left]


def _split(b, amount: V, shares) -> list:
    """`amount` by `shares` (adding up to 1): each but the last rounded down, the last the rest."""
    if len(shares) == 1:
        return [amount]
    parts = [b.round_down(b.mul(amount, b.const(s))) for s in shares[:-1]]
    return parts + [b.linear([(1, amount)] + [(-1, p) for p in parts])]


def giving_order(group: tuple[int, ...]) -> tuple[int, ...]:
    """The order in which the lines of a group give to a cut: the line declared last first."""
    return tuple(reversed(group))


def run(program: Program, b: Backend) -> Run:
    """Settle `program` on back end `b` (see the module docstring)."""
    K = StepKind
    amounts: list[V] = [None] * len(program.lines)
    values: list[StepValues] = []
    keep = b.KEEP  # what each step computed, for readers (the verifier)
    unit = Fraction(program.contract.rounding.step)  # the contract's rounding step
    nlines = 0  # lines that exist so far (a top-up line exists from its step on)
    live = getattr(b, "live", None)
    if live is not None:  # issue 15: what a payment was paid so far is read from the lines as they stand
        live({ln.key[1:]: ln.index for ln in program.lines if not ln.top_up}, amounts)
    enter = getattr(b, "enter", None)  # told each step before it runs (bounds.py: the sums it keeps)
    for step in program.steps:
        if enter is not None:
            enter(step)
        kind = step.kind
        i = step.line
        before, condition = (amounts[i] if i is not None else None), None
        if kind is K.COMPUTE:
            level = b.expr(step, "amount")  # the formula's exact value, for the audit trail
            after = b.round(level)
            acted, before, nlines = b.TRUE, None, max(nlines, i + 1)
        elif kind is K.GATE:
            condition = b.expr(step, "condition")
            after, acted, level = b.select(condition, before, b.ZERO), b.bnot(condition), None
        elif kind is K.FLOOR:
            condition = when = b.TRUE if step.condition is None else b.expr(step, "condition")
            level = b.round(b.expr(step, "amount", guard=when))
            acted = b.band(when, b.compare("<", before, level))
            after = b.select(when, b.extreme("max", [before, level]), before)
        elif kind is K.CAP:
            level = b.round(b.expr(step, "amount"))
            acted, after = b.compare(">", before, level), b.extreme("min", [before, level])
        elif kind is K.STREAM_FLOOR:  # issue 15: the stream's last line takes its shortfall
            condition = when = b.TRUE if step.condition is None else b.expr(step, "condition")
            level = b.round(b.expr(step, "amount", guard=when))
            shortfall = b.sub(level, b.total([amounts[j] for j in step.group], len(step.group) == nlines))
            acted = b.band(when, b.compare(">", shortfall, b.ZERO))
            after = b.select(acted, b.linear([(1, before), (1, shortfall)]), before)
            if b.after is not None:  # what the total was proved to be no longer holds
                b.after(step, {"lines": amounts[:nlines]})
        elif kind is K.TOTAL_FLOOR:  # its top-up line
            lines = amounts[:nlines] if b.after is not None else None
            condition = when = b.TRUE if step.condition is None else b.expr(step, "condition")
            level = b.round(b.expr(step, "amount", guard=when))
            shortfall = b.sub(level, b.total([amounts[j] for j in step.group], True))
            acted = b.band(when, b.compare(">", shortfall, b.ZERO))
            before, after, nlines = b.ZERO, b.select(when, b.extreme("max", [shortfall, b.ZERO]), b.ZERO), i + 1
            if b.after is not None:
                b.after(step, {"lines": lines, "low": level, "when": when, "now": [*amounts[:i], after]})
        elif kind is K.COVER:  # issue 14: its line, from the guarantor: share × loss, at most the ceiling
            lines = amounts[:nlines] if b.after is not None else None
            received = b.total([amounts[j] for j in step.group], len(step.group) == nlines)
            loss = b.extreme("max", [b.sub(b.const(step.limit), received), b.ZERO])
            level = loss if step.share == 1 else b.round(b.mul(loss, b.const(step.share)))
            if step.ceiling is not None:
                level = b.extreme("min", [level, b.const(step.ceiling)])
            acted = b.compare(">", level, b.ZERO)
            before, after, nlines = b.ZERO, level, i + 1
            if b.after is not None:
                b.after(step, {"lines": lines, "level": level})
        elif kind is K.WATERFALL:  # issue 14: its new lines, from the vehicle's line
            lines = amounts[:nlines] if b.after is not None else None
            flow = distribute(b, step, amounts)
            nlines = max(nlines, step.group[-1] + 1)
            for j in step.group:
                b.trace(step, j, b.ZERO, amounts[j], b.compare(">", amounts[j], b.ZERO), flow)
            acted = b.compare(">", flow, b.ZERO)
            after, level = b.sub(before, flow), flow
            if b.after is not None:
                b.after(step, {"lines": lines, "level": level})
        else:  # the steps that cut
            done = _cut_step(b, step, amounts, nlines, keep, unit)
            if keep:
                values.append(done)
            continue
        amounts[i] = after
        b.trace(step, i, before, after, acted, level)
        if kind is not K.COMPUTE and b.event is not None:  # a gate is told its condition too
            b.event(step, acted, condition if kind is K.GATE else None)
        if keep:
            values.append(StepValues(step, after if kind is K.COMPUTE else level, condition, acted))
    return Run(program, tuple(amounts), tuple(values))


def _cut_step(b, step: Step, amounts: list, nlines: int, keep: bool, unit=1) -> StepValues | None:
    K = StepKind
    group = step.group
    everyone = len(group) == nlines
    lines = amounts[:nlines] if b.after is not None else None
    condition = None
    if step.kind is K.RETURN_LIMIT:
        level = b.const(step.limit)
    elif step.kind is K.TOTAL_GATE:
        condition = b.expr(step, "condition")
        level = b.round(b.expr(step, "amount", guard=b.bnot(condition)))
    elif step.kind is K.PARTICIPANT_CAP:
        level = b.round(b.mul(b.expr(step, "amount"), b.const(step.scale)))
    else:
        level = b.round(b.expr(step, "amount"))
    if step.weights:  # a rate of return: the receipts' present value against the budget
        weight = dict(zip(group, step.weights))
        before = b.linear([(1, b.mul(amounts[j], b.const(weight[j]))) for j in group])
    else:
        before = b.total([amounts[j] for j in group], everyone)
    excess = b.sub(before, level)
    if condition is not None:  # the gate cuts only where its condition fails
        excess = b.select(condition, b.ZERO, excess)
    if b.never(b.compare(">", excess, b.ZERO)):  # nothing to take (a shortcut: the cut would take nothing)
        acted = b.const(False)
    else:
        order = giving_order(step.takes or group)  # a limit within a waterfall cuts the step's lines only
        olds = [amounts[j] for j in order]
        if step.weights:
            news, acted = b.weighted_cut(step, olds, [weight[j] for j in order], excess)
        elif step.pro_rata:
            news, acted = b.pro_rata(step, olds, excess)
        else:
            news, acted = b.cut(step, olds, excess)
        for j, old, new in zip(order, olds, news):
            amounts[j] = new
            b.trace(step, j, old, new, None, level)
        if step.takes:  # what it cut goes back to the vehicle's line, for the waterfall's later steps
            vehicle = amounts[step.line]
            released = b.linear([(1, vehicle)] + [t for old, new in zip(olds, news) for t in ((1, old), (-1, new))])
            amounts[step.line] = released
            b.trace(step, step.line, vehicle, released, b.compare(">", released, vehicle), level)
    if b.after is not None:
        given = excess
        if step.weights:  # what the lines give, in money: at most excess / (smallest weight) and one step
            given = b.linear([(1, b.mul(excess, b.const(1 / min(step.weights)))), (1, b.const(unit))])
        elif step.pro_rata:  # in proportion: the excess and what rounding down leaves, under a step a line
            given = b.linear([(1, excess), (1, b.const(unit * len(group)))])
            everyone = False  # the total may end below the level (by that remainder): not a plain cap
        b.after(step, {"lines": lines, "level": level, "excess": given, "everyone": everyone,
                       "condition": condition, "now": amounts[:nlines]})
    if b.event is not None:
        b.event(step, acted, condition)
    return StepValues(step, level, condition, acted) if keep else None
