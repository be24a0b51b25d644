"""issue 17: assumptions — `assume [NAME ["label"]:] CONDITION` — checked and lowered to
`model.Assumption` (codes E470–E472).

An assumption states what the parties take as given about the measured outcomes (`assume flagged
<= served`). It may read measures, definitions made of them and values fixed at signing, never a
payment or the total (E470: what is paid is the contract's to prove, not to assume); it is a yes/no
condition (E471) and reads at least one measure (E472: one that reads none is always true or
never). Whether the assumptions can hold together is the solver's question (E702, verify.py)."""

from __future__ import annotations

from .. import model as m
from .. import syntax as s
from ..units import BOOL


def check_assumptions(checker) -> tuple[m.Assumption, ...]:
    result = []
    for node in checker.items_of(s.Assume):
        clause = checker.clauses[id(node)]
        paid = [e for e in s.walk(node.expr) if isinstance(e, s.TotalRef) or (
            isinstance(e, s.Ref) and getattr(checker.names.get(e.name), "kind", None) in ("payment", "ratecard"))]
        if paid:
            what = "the total" if isinstance(paid[0], s.TotalRef) else f"the payment `{paid[0].name}`"
            checker.error("E470", f"an assumption is about the measured outcomes, but this one reads {what}",
                          paid[0].span, label="not a measure",
                          hint="what the contract pays is proved, not assumed: state it as a guarantee, "
                          "e.g. `guarantee within_budget: total <= 12 000 000 SEK`")
            continue
        typed = checker.typed(node.expr)
        if typed is None:
            continue
        if typed.ty.kind != BOOL:
            checker.error("E471", f"an assumption is a yes/no condition, not {typed.ty.describe()}",
                          node.expr.span, label="not yes/no",
                          hint="compare measures, e.g. `assume flagged <= served`")
            continue
        if not _reads_measure(checker, typed):
            checker.error("E472", "the assumption reads no measure, so it is always true or never",
                          node.expr.span, label="no measure",
                          hint="an assumption states what the parties take as given about the measured "
                          "outcomes, e.g. `assume flagged <= served`")
            continue
        result.append(m.Assumption(clause, typed, typed.ty.series))
    return tuple(result)


def _reads_measure(checker, expr: m.Expr) -> bool:
    seen: set[str] = set()
    stack = [expr]
    while stack:
        for node in m.walk(stack.pop()):
            if isinstance(node, m.Input):
                return True
            if isinstance(node, m.Var) and node.name in checker.definitions and node.name not in seen:
                seen.add(node.name)
                stack.append(checker.definitions[node.name].expr)
    return False
