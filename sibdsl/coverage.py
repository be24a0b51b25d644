"""Clause coverage: which clauses and branches of a contract the scenarios exercise.

A branch is something a clause can do: a gate passes or fails, a floor raises a payment or is not
needed, a cap limits or is not reached, a return limit binds or not, each arm of `if … then … else`,
each row of a `tiers` table and each segment of an `interpolate` table. `sibc test --coverage`
lists every branch with the scenarios that exercise it, and the ones none does.
"""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING

import attrs

from . import model as m
from .compiler import EvaluationError
from .evaluate import Evaluator
from .semantics.program import Program, StepKind, lower
from .units import SHARE
from .values import to_decimal

if TYPE_CHECKING:  # `sibc check` reads row_labels only: the scenario files' reader is `sibc test`'s
    from .scenarios import Result, Scenario


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


def _expression_sites(contract: m.Contract) -> list[tuple[m.Expr, m.ClauseRef]]:
    sites, seen = [], set()
    for root, clause in m.expressions(contract):
        if clause.kind == "guarantee":
            continue
        for node in m.walk(root):
            if isinstance(node, (m.Cond, m.Steps, m.Interp)) and id(node) not in seen:
                seen.add(id(node))
                sites.append((node, clause))
    return sites


def row_labels(node) -> list[str]:
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


def branches(contract: m.Contract, program: Program | None = None) -> list[Branch]:
    """Every branch of the contract: what each clause of the settlement program can do, in the
    order of declaration (gates, floors, caps, return limits), then the branches of its
    expressions."""
    program = program or lower(contract)
    result: list[Branch] = []
    kinds: dict[m.ClauseRef, StepKind] = {}
    for step in program.steps:
        if step.kind is not StepKind.COMPUTE:
            kinds.setdefault(step.clause, step.kind)
    clauses = [*(g.clause for g in contract.gates), *(f.clause for f in contract.floors),
               *(c.clause for c in contract.caps), *(r.clause for r in contract.return_limits)]
    # a rate card's caps (each outcome's, the card's per participant and total): acted or not
    for step in program.steps:  # … and (issue 14) each waterfall step: paid something or nothing
        if step.kind in (StepKind.CARD_CAP, StepKind.WATERFALL) and step.clause not in clauses:
            clauses.append(step.clause)
    for clause in clauses:
        if clause in kinds:
            for label in kinds[clause].branches:
                result.append(Branch((_site(clause), label), _describe(clause), clause.line, label))
    for node, clause in _expression_sites(contract):
        kind = {m.Cond: "if", m.Steps: "tiers", m.Interp: "interpolate"}[type(node)]
        for index, label in enumerate(row_labels(node)):
            result.append(Branch((id(node), index), f"{_describe(clause)}, `{kind}` at line {node.span.line}",
                                 node.span.line or clause.line, label))
    return result


def _site(clause: m.ClauseRef) -> tuple:
    return (clause.kind, clause.name, clause.line)


def measure(contract: m.Contract, scenarios: list[Scenario], results: list[Result],
            prove_unreachable: bool = True) -> Coverage:
    """Run the scenarios with a recording evaluator and collect the branches they take: each
    step of the settlement program says whether it acted, each condition and table which branch
    it took. Branches no scenario takes are checked with z3, and those no outcome can take are
    marked unreachable."""
    hits: dict[tuple, list[str]] = {}
    taken: list[tuple] = []  # the branches of the scenario being run

    def record(node, index: int) -> None:
        taken.append((id(node), index))

    def on_step(step, acted: bool) -> None:
        taken.append((_site(step.clause), step.kind.branch(acted)))

    evaluator = Evaluator(contract, recorder=record, on_step=on_step)
    for scenario in scenarios:
        taken.clear()
        try:
            evaluator.evaluate(scenario.outcomes)
        except EvaluationError:
            continue
        for key in taken:
            names = hits.setdefault(key, [])
            if scenario.name not in names:
                names.append(scenario.name)
    found = branches(contract, evaluator.program)
    unreachable: set[tuple] = set()
    if prove_unreachable:
        from .verify import unreachable_branches

        unreachable = unreachable_branches(contract, [b.key for b in found if not hits.get(b.key)])
    return Coverage(found, hits, unreachable)
