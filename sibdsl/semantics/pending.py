"""What each line of a settlement waits for: the settlement program run on *sets of inputs*.

In: a `Program` and the measured values that are not yet measured — a set of (measure, period)
keys (period None for a measure without periods). Out: for each line, the set of those keys its
final amount depends on. An empty set means the line's amount is the same whatever the missing
values turn out to be: it can be settled now (sibdsl/interim.py, `sibc eval --as-of`).

This is a fourth back end of the one settlement program (semantics/run.py): each primitive's value
is the union of what its operands wait for. It reads every branch of an `if` and both sides of
`and`/`or` (what a condition decides depends on all of them), so it never says "known" of an
amount that could change. Only the cut is sharper than the union, and that is what lets an earlier
period be settled under a cap over all periods:

**A cut is settled in order.** A cut takes its excess from the lines of its group, the line
declared (or, on a stream, paid) last first (`run.giving_order`). So what the line at position k
keeps is `a_k − clamp(a_1 + … + a_k − level, 0, a_k)`: it depends on the level and on the lines
*up to and including* it, never on the ones after it (amounts are not negative: a negative line is
E601, an error in any settlement). What a cap consumed in period 1 is not available in period 2,
and what period 2 will need does not change period 1. A return limit's weighted cut is the same
in weighted units (each line gives `min(a, excess / w)` until the excess is gone). Every other
step (a gate on the total, a floor's top-up, first-loss cover, a stream's floor on its last line,
a rate card's cap `in proportion`) reads all of its lines, as the union says.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from .. import model as m
from .expr import Interpreter
from .program import Program, Step, StepKind
from .run import run

Waits = frozenset  # of (measure, period | None)
NONE: Waits = frozenset()


def _union(values) -> Waits:
    out = NONE
    for v in values:
        if v:
            out = out | v
    return out


class _Prims:
    """semantics.expr.Primitives over sets of inputs not yet measured."""

    tracks_failure = False
    FALSE = NONE

    def __init__(self, pending: Collection[tuple[str, str | None]], backend: PendingBackend):
        self.pending = frozenset(pending)
        self.b = backend

    def const(self, value) -> Waits:
        return NONE

    def input(self, node: m.Input, period: str | None) -> Waits:
        key = (node.name, period)
        return frozenset({key}) if key in self.pending else NONE

    def linear(self, terms) -> Waits:
        return _union(v for _, v in terms)

    def mul(self, a, b) -> Waits:
        return a | b

    def div(self, a, b, node) -> tuple[Waits, None]:
        return a | b, None

    def neg(self, a) -> Waits:
        return a

    absolute = bnot = neg

    def extreme(self, op, values) -> Waits:
        return _union(values)

    def compare(self, op, a, b) -> Waits:
        return a | b

    bequal = compare

    def all_(self, values) -> Waits:
        return _union(values)

    any_ = all_

    def first(self, conds, values, default, record=None) -> Waits:
        return _union([*conds, *values, default])

    def shift_date(self, date, days, sign) -> Waits:
        return date | days

    def days_between(self, a, b) -> Waits:
        return a | b

    def let(self, key, value) -> Waits:
        return value

    def settled(self, node) -> Waits:  # a settled total (guarantees): everything that waits
        return self.pending

    def paid(self, keys) -> Waits:
        return self.b.lines_of(keys)

    def bor(self, a, b) -> Waits:
        return a | b

    band = bor

    def bwhere(self, c, t, o) -> Waits:
        return c | t | o


class PendingBackend:
    """semantics.run.Backend over sets of inputs not yet measured (see the module docstring)."""

    ZERO = NONE
    TRUE = NONE
    KEEP = False
    after = event = None

    def __init__(self, program: Program, pending: Collection[tuple[str, str | None]]):
        self.program = program
        self.prims = _Prims(pending, self)
        self.interp = Interpreter(program.contract, self.prims)
        self._index: dict = {}
        self._amounts: list = []

    # ------------------------------------------------------------ reading expressions
    def expr(self, step: Step, which: str, guard=None) -> Waits:
        e = step.amount if which == "amount" else step.condition
        if e is None:
            return NONE
        return self.interp.value(e, dict(step.period))[0]

    def live(self, index: dict, amounts: list) -> None:
        self._index, self._amounts = index, amounts

    def lines_of(self, keys) -> Waits:
        return _union(self._amounts[self._index[k]] or NONE for k in keys if k in self._index)

    # ------------------------------------------------------------ step primitives: the union
    def const(self, value) -> Waits:
        return NONE

    def round(self, x) -> Waits:
        return x

    round_down = round

    def linear(self, terms) -> Waits:
        return _union(v for _, v in terms)

    def sub(self, a, b) -> Waits:
        return a | b

    mul = sub

    def extreme(self, op, values) -> Waits:
        return _union(values)

    def compare(self, op, a, b) -> Waits:
        return a | b

    def select(self, c, t, o) -> Waits:
        return c | t | o

    def band(self, a, b) -> Waits:
        return a | b

    def bnot(self, a) -> Waits:
        return a

    def never(self, c) -> bool:
        return False  # every path is read

    def total(self, amounts, everyone) -> Waits:
        return _union(amounts)

    def trace(self, step, line, before, after, acted, level) -> None:
        pass

    # ------------------------------------------------------------ the cut: settled in order
    def _level(self, step: Step) -> Waits:
        level = self.expr(step, "amount")
        if step.kind is StepKind.TOTAL_GATE:
            level = level | self.expr(step, "condition")
        return level

    def cut(self, step: Step, amounts: Sequence[Waits], excess: Waits) -> tuple[list[Waits], Waits]:
        """`amounts` in the order they give (the last declared first): each keeps what depends on
        the level and on the lines declared before it and itself."""
        level = self._level(step)
        if step.takes:  # a limit within a waterfall measures lines it does not cut: all it reads
            level = level | excess
        declared = list(reversed(amounts))
        out, seen = [], level
        for a in declared:
            seen = seen | a
            out.append(seen)
        return list(reversed(out)), seen

    def weighted_cut(self, step, amounts, weights, excess):
        return self.cut(step, amounts, excess)

    def pro_rata(self, step: Step, amounts: Sequence[Waits], excess: Waits) -> tuple[list[Waits], Waits]:
        """A cut in proportion (issue 15) is not settled in order: every line is scaled by the level
        over the total of all of them, so each waits for the level and every line of its group."""
        everything = self._level(step) | _union(amounts)
        return [everything for _ in amounts], everything

    def part(self, a: Waits, level: Waits, total: Waits) -> Waits:
        """run.pro_rata's primitive (the method above settles the whole cut at once): a line's
        share waits for everything it is computed from."""
        return a | level | total


def waiting(program: Program, pending: Collection[tuple[str, str | None]]) -> tuple[Waits, ...]:
    """For each line of `program`, the inputs not yet measured that its final amount depends on."""
    if not pending:
        return tuple(NONE for _ in program.lines)
    backend = PendingBackend(program, pending)
    amounts = run(program, backend).amounts
    return tuple(a or NONE for a in amounts)
