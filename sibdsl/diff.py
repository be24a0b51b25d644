"""What changed between two drafts of a contract: in clauses, and in money.

`clause_changes` compares the declarations of the two drafts by what they are (a party, a
measure, a payment… and its name; a gate, floor or cap by its name or its target), ignoring
layout, comments and order, and prints each changed declaration canonically, old and new.
`money_effect` settles both drafts over the same grid of outcomes with the real evaluator and
reports, for the total and each payment line, the largest increase and decrease and the outcomes
where they occur: what the revision does to the money.
"""

from __future__ import annotations

import datetime

import itertools
import random
from fractions import Fraction

import attrs

from . import model as m
from . import syntax as s
from .evaluate import EvaluationError, compile_contract
from .unparse import header, declaration
from .units import BOOL, COUNT, DATE, MONEY, SHARE


@attrs.frozen
class Change:
    kind: str  # "added", "removed", "changed"
    what: str  # "payment bonus", "header", "gate on total"
    old: str | None
    new: str | None


def _key(item) -> tuple[str, str] | None:
    kind = type(item).__name__.lower()
    if isinstance(item, (s.Heading, s.Prose)):
        return None  # headings and prose are compared as text below
    if isinstance(item, s.Term):
        return ("term", "")
    name = getattr(item, "name", None)
    if isinstance(name, s.Ident):
        return (kind, name.name)
    decl = getattr(item, "decl", None)
    if decl is not None:
        return (kind, decl.name.name)
    target = getattr(item, "target", None)
    if target is not None:
        level = f" above {declaration_text(target.level)}" if getattr(target, "level", None) is not None else ""
        label = {"payment": lambda: target.name.name, "total": lambda: "total", "total above": lambda: "total",
                 "series": lambda: f"per {target.name.name}", "participant": lambda: "per participant",
                 # issue 15
                 "per period": lambda: f"{target.name.name} per period",
                 "stream": lambda: f"{', '.join(n.name for n in target.names)} over all periods",
                 "payer": lambda: f"payments from {target.name.name}",
                 "recipient": lambda: f"payments to {target.name.name}"}[target.kind]()
        return (kind, f"on {label}{level}")
    return (kind, "")


def declaration_text(e) -> str:
    from .unparse import expr

    return expr(e)


def _items(tree: s.Contract) -> dict[tuple[str, str], str]:
    result: dict[tuple[str, str], str] = {}
    for item in tree.items:
        key = _key(item)
        if key is None:
            continue
        while key in result:  # two unnamed rules on the same target: keep both
            key = (key[0], key[1] + "'")
        result[key] = declaration(item).strip()
    return result


def clause_changes(old: s.Contract, new: s.Contract) -> list[Change]:
    changes: list[Change] = []
    if old.header != new.header:
        before = header(old.header).split("\n") if old.header else []
        after = header(new.header).split("\n") if new.header else []
        changes.append(Change("changed", "header",  # only the lines that differ
                              "\n".join(x.strip() for x in before if x not in after) or None,
                              "\n".join(x.strip() for x in after if x not in before) or None))
    a, b = _items(old), _items(new)
    for key in list(a) + [k for k in b if k not in a]:
        what = f"{key[0]} {key[1]}".strip()
        if key not in b:
            changes.append(Change("removed", what, a[key], None))
        elif key not in a:
            changes.append(Change("added", what, None, b[key]))
        elif a[key] != b[key]:
            changes.append(Change("changed", what, a[key], b[key]))
    texts = [[declaration(i).strip() for i in t.items if isinstance(i, (s.Heading, s.Prose))] for t in (old, new)]
    if texts[0] != texts[1]:
        removed = [t for t in texts[0] if t not in texts[1]]
        added = [t for t in texts[1] if t not in texts[0]]
        changes.append(Change("changed", "headings and prose", "\n".join(removed) or None, "\n".join(added) or None))
    return changes


# ---------------------------------------------------------------- the effect on money
@attrs.frozen
class Extreme:
    amount: Fraction  # new − old
    outcomes: dict


@attrs.frozen
class Effect:
    line: str  # "total" or a payment
    increase: Extreme | None  # the largest new − old > 0
    decrease: Extreme | None  # the most negative new − old < 0
    differing: int  # how many grid points differ


@attrs.frozen
class MoneyEffect:
    points: int
    only_old: tuple[str, ...]  # measures in one draft only (held at a default in the other's grid)
    only_new: tuple[str, ...]
    effects: tuple[Effect, ...]
    failed: int  # grid points where one draft could not be settled (a division by zero)


def _values(measure: m.Measure, constants: list[Fraction], steps: int) -> list:
    kind = measure.ty.kind
    if kind == BOOL:
        return [False, True]
    if kind == DATE:
        return []
    lo = measure.lower if measure.lower is not None else Fraction(0)
    if measure.upper is not None:
        hi = measure.upper
    elif kind == SHARE:
        hi = Fraction(1)
    elif kind == MONEY:
        hi = max(constants, default=Fraction(1_000_000)) * 2
    else:
        hi = max(lo + 100, Fraction(100))
    points = sorted({lo + (hi - lo) * i / (steps - 1) for i in range(steps)} | ({Fraction(0)} if lo <= 0 <= hi else set()))
    if kind == COUNT:
        points = sorted({Fraction(int(p)) for p in points})
    return points


def _held(contract: m.Contract, measure: m.Measure):
    """The value a measure is held at where the grid does not vary it: true, a date in the contract's
    term (a date measure is not varied), or its lower bound when positive, else 0."""
    kind = measure.ty.kind
    if kind == BOOL:
        return True
    if kind == DATE:
        return contract.term[0] if contract.term else (contract.signed or datetime.date(2000, 1, 1))
    return measure.lower if measure.lower is not None and measure.lower > 0 else Fraction(0)


def money_constants(contract: m.Contract) -> list[Fraction]:
    from .render.view import money_constants as constants

    return [abs(Fraction(v)) for v in constants(contract)]


def money_effect(old: m.Contract, new: m.Contract, steps: int = 11, limit: int = 4000,
                 seed: int = 0) -> MoneyEffect:
    """Settle both drafts on a grid of outcomes (all combinations, or a seeded sample of `limit`
    of them when there are more) and find where they differ most."""
    shared = [n for n in old.measures if n in new.measures] + [n for n in old.parameters if n in new.parameters]
    constants = money_constants(old) + money_constants(new)
    axes = {n: _values(new.input(n), constants, steps) for n in shared}  # a draft's parameter over its range too
    axes = {n: v for n, v in axes.items() if v}
    names = list(axes)
    total_points = 1
    for v in axes.values():
        total_points *= len(v)
    if total_points <= limit:
        grid = list(itertools.product(*(axes[n] for n in names)))
    else:
        rng = random.Random(seed)
        grid = [tuple(rng.choice(axes[n]) for n in names) for _ in range(limit)]
    evaluators = (compile_contract(old), compile_contract(new))
    lines = ["total"] + list(dict.fromkeys([*old.payments, *new.payments]))
    best: dict[str, list] = {line: [None, None, 0] for line in lines}
    failed = 0

    def outcomes_for(contract: m.Contract, point: dict) -> dict:
        values = {}
        for name, measure in (*contract.measures.items(), *contract.parameters.items()):
            value = point.get(name)
            if value is None:
                value = _held(contract, measure)
            if measure.ty.series:
                value = {p.name: value for p in contract.series[measure.ty.series].periods}
            values[name] = value
        return values

    for values in grid:
        point = dict(zip(names, values))
        try:
            a = evaluators[0].evaluate(outcomes_for(old, point))
            b = evaluators[1].evaluate(outcomes_for(new, point))
        except EvaluationError:
            failed += 1
            continue
        amounts = []
        for settlement in (a, b):
            by = {"total": Fraction(settlement.total)}
            for ln in settlement.lines:
                by[ln.payment] = by.get(ln.payment, Fraction(0)) + Fraction(ln.amount)
            amounts.append(by)
        for line in lines:
            delta = amounts[1].get(line, Fraction(0)) - amounts[0].get(line, Fraction(0))
            record = best[line]
            if delta:
                record[2] += 1
            if delta > 0 and (record[0] is None or delta > record[0].amount):
                record[0] = Extreme(delta, point)
            if delta < 0 and (record[1] is None or delta < record[1].amount):
                record[1] = Extreme(delta, point)
    effects = tuple(Effect(line, inc, dec, n) for line, (inc, dec, n) in best.items())
    return MoneyEffect(len(grid), tuple(n for n in old.measures if n not in new.measures),
                       tuple(n for n in new.measures if n not in old.measures), effects, failed)


def curve_chart(old: m.Contract, new: m.Contract, old_name: str, new_name: str, samples: int = 60,
                base: dict | None = None) -> str:
    """The total payout of both drafts against the new draft's main outcome (the first measure with
    `better`), other outcomes as in `base` (e.g. the published result) or at defaults, as SVG."""
    from .render import chart
    from .report import format_amount, format_value

    shared = [n for n in new.measures if n in old.measures and new.measures[n].ty.kind not in (BOOL, DATE)]
    main = next((n for n in shared if new.measures[n].better), shared[0] if shared else None)
    if main is None:
        return chart.svg([], "", "", [], [], [])
    scale = money_constants(old) + money_constants(new)
    if base is not None:  # the reported outcomes set the scale too (costs of 61 MSEK, not the 12 MSEK cap)
        scale += [abs(Fraction(v)) for v in base.values() if isinstance(v, Fraction)]
    values = _values(new.measures[main], [max(scale, default=Fraction(1)) * 3 / 4], samples + 1)
    curves = []
    for contract in (old, new):
        evaluator = compile_contract(contract)
        points = []
        for x in values:
            outcomes = {}
            for name, measure in (*contract.measures.items(), *contract.parameters.items()):
                if name != main and base is not None and name in base:
                    outcomes[name] = base[name]
                    continue
                value = x if name == main else (True if measure.ty.kind == BOOL else
                                                (measure.lower if measure.lower is not None and measure.lower > 0
                                                 else Fraction(0)))
                outcomes[name] = {p.name: value for p in contract.series[measure.ty.series].periods} \
                    if measure.ty.series else value
            try:
                points.append((x, Fraction(evaluator.evaluate(outcomes).total)))
            except EvaluationError:
                continue
        curves.append(points)
    top = max([y for points in curves for _, y in points] + [Fraction(1)])
    ticks = [values[i] for i in range(0, len(values), max(1, len(values) // 5))]
    kind = new.measures[main].ty.plain()
    return chart.svg(curves[0], main, "total", [(x, format_value(x, kind)) for x in ticks],
                     [(top * i / 4, format_amount(top * i / 4, new.currency)) for i in range(5)], [],
                     others=[(f"{new_name} (dashed) vs {old_name}", curves[1], "#c60")])
