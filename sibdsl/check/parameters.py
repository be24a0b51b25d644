"""issue 17: negotiable parameters of a draft — `parameter price "Pris": money between 1 000 SEK and
2 000 SEK` — checked and lowered to `model.Measure`s kept in `Contract.parameters` (codes E474, E475).

A parameter is read in formulas as a value fixed at signing (an `Input` the settlement is given, as a
measure's value is, but one value for the whole contract). Verification treats it as a variable over
its range, so a property is proved for every value the parties may still agree on; a settlement
needs a value (E476, outcomes.py) and a council document refuses a contract that still has one
(E477, cli/render.py)."""

from __future__ import annotations

from .. import model as m
from .. import syntax as s
from ..diagnostics import did_you_mean
from ..units import BOOL, DATE, MEASURE_TYPES, MONEY, NUMBER, Type


def check_parameters(checker) -> dict[str, m.Measure]:
    result = {}
    for name, entry in checker.declared("parameter"):
        node: s.Parameter = entry.node
        kind = MEASURE_TYPES.get(node.type.name)
        if kind is None:
            checker.error("E206", f"unknown type `{node.type.name}`", node.type.span,
                          hint=did_you_mean(node.type.name, MEASURE_TYPES) or f"types are: {', '.join(MEASURE_TYPES)}")
            kind = NUMBER
        elif kind == DATE:
            checker.error("E475", "a parameter is an amount, a rate, a number or yes/no, not a date",
                          node.type.span, label="a date",
                          hint="fix dates in the draft; negotiate amounts and rates: `parameter price: money "
                          f"between 1 000 {checker.currency} and 2 000 {checker.currency}`")
            continue
        options = checker.options(node.options, node)
        ty = Type(kind, checker.currency if kind == MONEY else None, None)
        lower = upper = None
        if "between" in options:
            if kind == BOOL:
                checker.error("E475", "a yes/no parameter has no range", options["between"].span,
                              hint="leave out `between …`: the proof covers both yes and no")
                continue
            lo, hi = options["between"].value
            lower = checker.constant(lo, ty, "a bound of a parameter")
            upper = checker.constant(hi, ty, "a bound of a parameter")
            if lower is None or upper is None:
                continue
            if lower > upper:
                checker.error("E210", "the lower bound is above the upper bound", options["between"].span,
                              hint="write the range from low to high: `between LOW and HIGH`")
                continue
        elif kind != BOOL:
            checker.error("E474", f"the parameter `{name}` has no range", node.name.span, label="no range",
                          hint="say what may still be agreed, e.g. `between 1 000 "
                          f"{checker.currency} and 2 000 {checker.currency}`: the proofs cover every value in it")
            continue
        source = options["source"].value if "source" in options else None
        description = options["description"].value if "description" in options else None
        checker.check_text(source)
        checker.check_text(description)
        result[name] = m.Measure(name, node.label, ty, None, lower, upper, source, description, entry.clause)
    checker.parameters = result
    return result
