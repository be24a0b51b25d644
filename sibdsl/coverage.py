"""Clause coverage: which clauses and branches of a contract the scenarios exercise.

A branch is something a clause can do: a gate passes or fails, a floor raises a payment or is not
needed, a cap limits or is not reached, a return limit binds or not, each arm of `if … then … else`,
each row of a `tiers` table and each segment of an `interpolate` table. `sibc test --coverage`
lists every branch with the scenarios that exercise it, and the ones none does.
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction

import attrs

from . import model as m
from .compiler import Ctx, EvaluationError
from .evaluate import Evaluator
from .scenarios import Result, Scenario
from .units import SHARE
from .values import to_decimal


@attrs.frozen
class Branch:
    key: tuple  # (site id, branch label)
    clause: str  # what it belongs to, as people read it
    line: int
    label: str


@attrs.define
class Coverage:
    branches: list[Branch]
    hits: dict[tuple, list[str]]  # branch key → scenario names
    unreachable: set[tuple] = attrs.field(factory=set)  # branches no outcome can take (proved)

    @property
    def reachable(self) -> list[Branch]:
        return [b for b in self.branches if b.key not in self.unreachable]

    @property
    def covered(self) -> list[Branch]:
        return [b for b in self.branches if self.hits.get(b.key)]

    @property
    def missing(self) -> list[Branch]:
        return [b for b in self.reachable if not self.hits.get(b.key)]

    @property
    def percent(self) -> Fraction:
        """Covered branches among those some outcome can take."""
        reachable = self.reachable
        if not reachable:
            return Fraction(100)
        return Fraction(100 * sum(bool(self.hits.get(b.key)) for b in reachable), len(reachable))


def _describe(clause: m.ClauseRef) -> str:
    label = f" “{clause.label.text}”" if clause.label else ""
    return f"{clause.kind} {clause.name}{label}"


def _walk(e) -> Iterator:
    yield e
    children = []
    if isinstance(e, m.Op):
        children = list(e.args)
    elif isinstance(e, m.Cond):
        children = [e.cond, e.then, e.otherwise]
    elif isinstance(e, m.Sum):
        children = [e.operand]
    elif isinstance(e, m.Steps):
        children = [e.subject, e.below, *e.values]
    elif isinstance(e, m.Interp):
        children = [e.subject]
    for child in children:
        yield from _walk(child)


def _expression_sites(contract: m.Contract) -> list[tuple[m.Expr, m.ClauseRef]]:
    roots: list[tuple[m.Expr, m.ClauseRef]] = []
    roots += [(d.expr, d.clause) for d in contract.definitions.values()]
    roots += [(p.expr, p.clause) for p in contract.payments.values()]
    roots += [(g.condition, g.clause) for g in contract.gates] + [(g.level, g.clause) for g in contract.gates if g.level]
    roots += [(f.amount, f.clause) for f in contract.floors] + [(f.when, f.clause) for f in contract.floors if f.when]
    roots += [(c.amount, c.clause) for c in contract.caps]
    sites, seen = [], set()
    for root, clause in roots:
        for node in _walk(root):
            if isinstance(node, (m.Cond, m.Steps, m.Interp)) and id(node) not in seen:
                seen.add(id(node))
                sites.append((node, clause))
    return sites


def _labels(node) -> list[str]:
    """The branches of a condition or table, in the order of the evaluator's branch index."""
    if isinstance(node, m.Cond):
        return ["then", "else"]
    share = node.subject.ty.kind == SHARE

    def show(v: Fraction) -> str:
        return f"{to_decimal(v * 100)} %" if share else str(to_decimal(v))
    if isinstance(node, m.Steps):
        return ["below", *(f"from {show(t)}" for t in node.thresholds)]
    xs = node.xs
    return [f"at or below {show(xs[0])}",
            *(f"between {show(a)} and {show(b)}" for a, b in zip(xs, xs[1:])),
            f"above {show(xs[-1])}"]


def branches(contract: m.Contract) -> list[Branch]:
    result: list[Branch] = []

    def add(clause: m.ClauseRef, *labels: str, site=None) -> None:
        for label in labels:
            result.append(Branch((site or (clause.kind, clause.name, clause.line), label), _describe(clause),
                                 clause.line, label))

    for gate in contract.gates:
        add(gate.clause, "the condition holds", "the condition fails")
    for floor in contract.floors:
        add(floor.clause, "the floor raises the amount", "the floor is not needed")
    for cap in contract.caps:
        add(cap.clause, "the cap limits the amount", "the cap is not reached")
    for limit in contract.return_limits:
        add(limit.clause, "the limit cuts the return", "the limit is not reached")
    for node, clause in _expression_sites(contract):
        kind = {m.Cond: "if", m.Steps: "tiers", m.Interp: "interpolate"}[type(node)]
        for index, label in enumerate(_labels(node)):
            result.append(Branch((id(node), index), f"{_describe(clause)}, `{kind}` at line {node.span.line}",
                                 node.span.line or clause.line, label))
    return result


def measure(contract: m.Contract, scenarios: list[Scenario], results: list[Result],
            prove_unreachable: bool = True) -> Coverage:
    """Run the scenarios with a recording evaluator and collect the branches they take; branches
    no scenario takes are checked with z3, and those no outcome can take are marked unreachable."""
    hits: dict[tuple, list[str]] = {}
    current: list[str] = []

    def hit(key: tuple) -> None:
        names = hits.setdefault(key, [])
        if current[0] not in names:
            names.append(current[0])

    def record(node, index: int) -> None:
        hit((id(node), index))

    evaluator = Evaluator(contract, recorder=record)
    for scenario in scenarios:
        current[:] = [scenario.name]
        try:
            settlement = evaluator.evaluate(scenario.outcomes)
        except EvaluationError:
            continue
        steps = [(ln, st) for ln in settlement.lines for st in ln.steps]

        def applied(clause: m.ClauseRef, *kinds: str) -> bool:
            return any(st.kind in kinds and st.clause == clause for _, st in steps)

        def site(clause):
            return (clause.kind, clause.name, clause.line)

        for gate, cond, _ in evaluator.gates:
            if gate.target == "total":
                try:
                    holds = bool(cond(Ctx(scenario.outcomes, {}, {})))
                except EvaluationError:
                    continue
                hit((site(gate.clause), "the condition holds" if holds else "the condition fails"))
                continue
            if applied(gate.clause, "gate passed"):  # a payment's gate, per period where it has periods
                hit((site(gate.clause), "the condition holds"))
            if applied(gate.clause, "gate failed"):
                hit((site(gate.clause), "the condition fails"))
        for floor in contract.floors:
            raised = applied(floor.clause, "floor", "floor top-up")
            hit((site(floor.clause), "the floor raises the amount" if raised else "the floor is not needed"))
        for cap in contract.caps:
            cut = applied(cap.clause, "cap", "period cap", "participant cap")
            hit((site(cap.clause), "the cap limits the amount" if cut else "the cap is not reached"))
        for limit in contract.return_limits:
            cut = applied(limit.clause, "return limit")
            hit((site(limit.clause), "the limit cuts the return" if cut else "the limit is not reached"))
    found = branches(contract)
    unreachable: set[tuple] = set()
    if prove_unreachable:
        from .verify import unreachable_branches

        unreachable = unreachable_branches(contract, [b.key for b in found if not hits.get(b.key)])
    return Coverage(found, hits, unreachable)
