"""Why a payment was not paid, or not in full: the smallest change of the measured outcomes that
would have paid it (more), decided by z3 (`sibc eval --why`).

For each payment line of a settlement that could have paid more — unpaid (a gate or condition
that failed, a tier not reached, a formula at 0), reduced (a gate, a cap, a limit cut it), or
below what other outcomes pay — the contract's settlement program runs on z3 terms (the same
meaning as `sibc verify` and the evaluator), and the solver looks for the outcomes nearest to the
measured ones at which the line pays more. "Nearest" is a normalised distance: each number's
change divided by its range (`between`), else by its measured value (a relative change), a
yes/no that flips counts as a whole range; a change for the worse (against the measure's `better`,
or a yes turned to no) counts double, so that "had the results improved" comes before "had the
programme not been carried out". It is minimised by the search of optimum.py under z3's
deterministic resource limit (never wall time), down to one unit of each measure (1 SEK, 0.01 %,
one person), so the answer is exact and the same on every machine; the outcomes found are then
settled by the evaluator, and what the line would have paid is shown. A line no outcome can raise
says so: it can never be paid (more), with the clause that cut it.

The words are in sibdsl/texts/why.json (sv and en).
"""

from __future__ import annotations

import datetime
from fractions import Fraction

import attrs
import z3

from . import model as m
from .semantics.program import StepKind
from .units import BOOL, COUNT, DATE, DAYS, MONEY, SHARE

DEFAULT_TIMEOUT = 3.0  # the work limit of each question, in verify's "seconds" (a deterministic rlimit)
# trail steps that take from a line: a payment's cap and every step that cuts a group (a gate on
# the total, the caps per period, participant, stream, party and rate card, a return limit)
CUTS = tuple(dict.fromkeys(("cap", *(k.trail for k in StepKind if k.cuts))))
COUNTED = 1000  # the changes of one whole count `--why` settles by the evaluator before it asks the solver
AGAINST = 2  # a change against a measure's `better` direction, or a yes turned to no, counts this many times


@attrs.frozen
class Change:
    measure: str
    period: str | None
    before: object  # the measured value (Fraction or bool)
    after: object


@attrs.frozen
class Why:
    payment: str
    period: str | None
    status: str  # "unpaid", "reduced" (a clause cut it), "partial" (other outcomes pay more)
    amount: Fraction  # what it paid
    reachable: bool | None  # some outcome pays it more / none does (proved) / undecided
    changes: tuple[Change, ...] = ()  # the smallest change that pays more
    would_pay: Fraction | None = None  # what the line pays after the change (the evaluator's figure)
    distance: Fraction | None = None  # the normalised size of the change
    exact: bool = True  # the change is proved the smallest (to one unit of each measure)
    cut_by: tuple[str, ...] = ()  # the clauses that took from it (names)
    words: dict = attrs.field(factory=dict, eq=False)  # per language
    # the line's recipient and clause: a waterfall makes several lines of one payment and period
    # (one per step and party), each explained on its own (see interim.line_key)
    to: str | None = None
    clause: str | None = None
    shared: bool = False  # other lines have the same payment and period: name the recipient and step


def _weight(measure: m.Measure, measured) -> Fraction | None:
    """1 / the scale of a change of this measure (None: not varied)."""
    kind = measure.ty.kind
    if kind in (BOOL, DATE):
        return None
    if measure.lower is not None and measure.upper is not None and measure.upper > measure.lower:
        return 1 / (measure.upper - measure.lower)
    if kind == SHARE:
        return Fraction(1)
    size = abs(Fraction(measured)) if measured is not None else Fraction(0)
    return 1 / size if size else Fraction(1, 1000) if kind == MONEY else Fraction(1, 100)


def _unit(measure: m.Measure, contract: m.Contract) -> Fraction:
    kind = measure.ty.kind
    if kind == MONEY:
        return Fraction(contract.rounding.step)
    if kind == SHARE:
        return Fraction(1, 10000)
    if kind in (COUNT, DAYS):
        return Fraction(1)
    return Fraction(1, 100)


def why_not_paid(contract: m.Contract, outcomes: dict, settlement, timeout: float = DEFAULT_TIMEOUT,
                 languages: tuple[str, ...] = ("en",), tables: bool = False) -> list[Why]:
    """For each payment line that could have paid more, or that a clause cut, why — see the module.
    The words' amounts as prose writes them (`sibc eval --why`), or with `tables` as `lang.money`
    does (the studio, beside the settlement's amounts)."""
    from .evaluate import EvaluationError, compile_contract
    from .optimum import EXACT, WITHIN, Optimum, maximise, number, real, round_model
    from .semantics.program import lower
    from .verify import _rlimit, _Sym, _SymSettlement, solver_of_its_own

    program = lower(contract)
    sym = _Sym(contract, "w!")
    settled = _SymSettlement(contract, sym, program)
    solver = solver_of_its_own(*sym.domain, settled.all_defined)  # the answer depends on the contract and outcomes only
    ctx = solver.ctx
    rlimit = _rlimit(timeout)
    solver.set("rlimit", rlimit)
    inputs = {key: term.translate(ctx) for key, term in sym.inputs.items()}
    # the same outcomes without the settlement: where a line's own formula bounds what it can pay
    # (see `ceiling`), the smallest change is proved here, on a question a few variables wide
    relaxed = z3.Solver(ctx=ctx)
    relaxed.set("rlimit", rlimit)
    domain = [(t, _constants(t)) for t in (d.translate(ctx) for d in sym.domain)]

    def measured(name: str, period: str | None):
        value = outcomes.get(name)
        return value.get(period) if isinstance(value, dict) else value

    # by the input's term id: the term, its part of the distance and how far that lets it move
    distance_terms, prefer, grain = {}, {}, None
    for (name, period), term in inputs.items():
        value = measured(name, period)
        if value is None:
            continue
        if name in contract.parameters:  # a term the parties agreed (--param), not an outcome: held at its value
            held = term == (z3.BoolVal(bool(value), ctx) if z3.is_bool(term) else real(Fraction(value), ctx))
            solver.add(held)
            relaxed.add(held)
            continue
        measure = contract.measures[name]
        if measure.ty.kind == DATE:  # dates are not varied: they say when, not how well
            day = value.toordinal() if isinstance(value, datetime.date) else value
            solver.add(term == real(Fraction(day), ctx))
            relaxed.add(term == real(Fraction(day), ctx))
            continue
        if measure.ty.kind == BOOL:  # a yes turned to no (a success undone) counts double
            prefer[term.get_id()] = bool(value)
            cost = Fraction(AGAINST if value else 1)
            distance_terms[term.get_id()] = (term, z3.If(term == z3.BoolVal(bool(value), ctx), real(Fraction(0), ctx),
                                                         real(cost, ctx)), (bool(value), cost))
            grain = Fraction(1) if grain is None else grain
            continue
        weight = _weight(measure, value)
        prefer[term.get_id()] = Fraction(value)
        here = real(Fraction(value), ctx)
        up, down = (weight, weight * AGAINST) if measure.better == "higher" else \
            (weight * AGAINST, weight) if measure.better == "lower" else (weight, weight)
        distance_terms[term.get_id()] = (term, z3.If(term >= here, (term - here) * real(up, ctx),
                                                     (here - term) * real(down, ctx)), (Fraction(value), up, down))
        unit = _unit(measure, contract) * weight
        grain = unit if grain is None else min(grain, unit)
    distance = z3.Sum([d for _, d, _ in distance_terms.values()]) if distance_terms else real(Fraction(0), ctx)
    discrete = all(z3.is_bool(t) or z3.is_to_real(t) for t, _, _ in distance_terms.values())

    def within(v: Fraction) -> list:
        """What a change of distance below `v` allows each outcome: a box around the measured values
        (implied by the distance, stated so that the solver fixes at once what cannot move)."""
        box = []
        for term, _, how in distance_terms.values():
            if len(how) == 2:  # a yes/no: it flips only if flipping costs less
                if how[1] >= v:
                    box.append(term == z3.BoolVal(how[0], ctx))
                continue
            value, up, down = how
            box += [term < real(value + v / up, ctx), term > real(value - v / down, ctx)]
        return box
    grain = grain or Fraction(1, 10 ** 6)

    def pins(free: str) -> list:
        """Every outcome but `free` as measured."""
        result = []
        for (name, period), term in inputs.items():
            value = measured(name, period)
            if name == free or value is None or contract.input(name).ty.kind == DATE:
                continue
            result.append(term == (z3.BoolVal(bool(value), ctx) if z3.is_bool(term) else real(Fraction(value), ctx)))
        return result

    poured, together = _poured(contract)
    evaluator = None

    def counted(name: str, line, amount: Fraction):
        """The smallest change of one whole count (a rate card's outcome, days) that pays `line`
        more, the other outcomes as measured: each count tried by the evaluator in the order of
        its distance (the distance grows with the change on each side), the one found confirmed
        by the solver against the measures' ranges and assumptions (the pins are on `solver`).
        None where the outcome is not one whole number or none within COUNTED steps pays more:
        the search of optimum.py decides it."""
        key = (name, None)
        if name not in contract.measures or key not in inputs or len([k for k in inputs if k[0] == name]) != 1:
            return None
        term = inputs[key]
        entry = distance_terms.get(term.get_id())
        if entry is None or not z3.is_to_real(term) or measured(name, None) is None:
            return None
        value, up, down = entry[2]
        measure = contract.measures[name]
        steps = sorted([(k * up, value + k) for k in range(1, COUNTED + 1)] +
                       [(k * down, value - k) for k in range(1, COUNTED + 1)], key=lambda x: (x[0], -x[1]))
        for cost, count in steps:
            if cost > COUNTED * min(up, down):  # a change beyond the counts tried may cost less
                return None
            if count < 0 or (measure.lower is not None and count < measure.lower) or \
                    (measure.upper is not None and count > measure.upper):
                continue
            try:
                again = evaluator.evaluate({**outcomes, name: int(count)})
            except EvaluationError:
                continue
            if sum((Fraction(ln.exact) for ln in again.lines if together(ln, line)), Fraction(0)) <= amount:
                continue
            solver.push()
            solver.add(term == real(count, ctx))
            found = solver.check()
            model = solver.model() if found == z3.sat else None
            solver.pop()
            if model is not None:
                return Optimum(EXACT, -cost, -cost, model)
            if found == z3.unknown:
                return None
        return None

    result: list[Why] = []
    for index, line, _paid, amount, cut_by, status, whose in questions(contract, settlement, program):
        term = (settled.lines[index].amount if line.payment not in poured else
                z3.Sum([settled.lines[j].amount for j, other in enumerate(program.lines)
                        if together(other, line)])).translate(ctx)
        solver.push()
        solver.add(term > real(amount, ctx))
        # a bound no change can beat, from the line's own formula: a change that reaches it is the
        # smallest, proved without the whole settlement (a rate card's line under its caps)
        bound = None
        top = ceiling(program, settled, index) if line.payment not in poured else None
        if top is not None:
            # only the outcomes the bound reads count: every other part of the distance is at least 0
            top = top.translate(ctx)
            read = _constants(top)
            near = [d for t, d, _ in distance_terms.values() if _constants(t) & read]
            relaxed.push()  # of the outcomes' ranges and assumptions, those on what the bound reads alone
            relaxed.add(top > real(amount, ctx), *(t for t, on in domain if on <= read))
            least = maximise(relaxed, -z3.Sum(near) if near else real(Fraction(0), ctx), grain, rlimit)
            relaxed.pop()
            bound = None if least is None else least.value if least.status == EXACT else \
                least.bound if least.status == WITHIN else None
        # first each outcome the payment's formula reads, alone (the others as measured): easy
        # questions with one free value, whose best answer starts the search over all outcomes
        seed, free = None, None
        if evaluator is None:
            evaluator = compile_contract(contract)
        for name in reads(contract, contract.payments[line.payment].expr):
            solver.push()
            solver.add(*pins(name))
            alone = counted(name, line, amount) or maximise(solver, -distance, grain, rlimit)
            solver.pop()
            if alone is not None and (seed is None or alone.value > seed.value):
                seed, free = alone, name
        if seed is None:  # no change of one outcome pays it more: can any change?
            answer = solver.check()
            if answer != z3.sat:
                solver.pop()
                if answer == z3.unsat and status == "partial":
                    continue  # paid in full: no outcome pays it more
                why = Why(line.payment, line.period, status, amount, None if answer == z3.unknown else False,
                          cut_by=cut_by, **whose)
                result.append(attrs.evolve(why, words=words(contract, why, languages, tables)))
                continue
        if seed is not None and (bound is None or seed.value < bound):
            # is any change smaller than the seed's? One question, each outcome boxed by the seed's distance
            solver.push()
            solver.add(distance < real(-seed.value, ctx), *within(-seed.value))
            if solver.check() == z3.unsat:
                bound = seed.value
            solver.pop()
        if seed is not None and bound is not None and seed.value >= bound:
            best, exact = seed, True
        else:
            best = maximise(solver, -distance, grain, rlimit,
                            model=seed.model if seed is not None else solver.model())
            exact = best.status in (EXACT, WITHIN) or (bound is not None and best.value >= bound)
        # the change of one outcome is the answer: the others stay as measured
        held = pins(free) if seed is not None and best.value <= seed.value else []
        solver.push()
        solver.add(*held)
        # within one unit of the smallest: room to write each outcome as an outcome file holds it —
        # none where every outcome is a whole number or a yes/no (a count, days: a rate card), whose
        # smallest change is already as written, and one unit more would be another, larger change
        solver.add(-distance >= real(best.value - (0 if discrete else grain), ctx))
        model = round_model(solver, [(contract.input(n), t) for (n, _), t in inputs.items()], prefer,
                            rlimit, best.model)
        solver.pop()
        solver.pop()
        changes, after = [], {}
        for (name, period), t in inputs.items():
            value = measured(name, period)
            found = model.eval(t, model_completion=True)
            if z3.is_bool(t):
                new = z3.is_true(found)
            elif contract.input(name).ty.kind == DATE:
                new = value
            else:
                new = number(model, t)
            if value is not None and new != value and not (isinstance(value, datetime.date)):
                changes.append(Change(name, period, value, new))
            if period is None:
                after[name] = new if value is None or not isinstance(value, datetime.date) else value
            else:
                after.setdefault(name, {})[period] = new

        def pays(values: dict, evaluator=evaluator, line=line) -> Fraction | None:
            try:
                again = evaluator.evaluate({**outcomes, **values})
            except EvaluationError:  # the solver's outcomes did not settle: no figure
                return None
            return sum((Fraction(ln.exact) for ln in again.lines if together(ln, line)), Fraction(0))

        # a change the payment does not need (room the rounding left) is undone, checked by settling
        for c in list(changes):
            back = {k: (dict(v) if isinstance(v, dict) else v) for k, v in after.items()}
            if c.period is None:
                back[c.measure] = c.before
            else:
                back[c.measure][c.period] = c.before
            if len(changes) > 1 and (pays(back) or 0) > amount:
                changes.remove(c)
                after = back
        would = pays(after)
        why = Why(line.payment, line.period, status, amount, True, tuple(changes), would, -best.value, exact, cut_by,
                  **whose)
        result.append(attrs.evolve(why, words=words(contract, why, languages, tables)))
    return result


# the steps that never raise a line past max(its formula's value, 0): a gate keeps it or pays 0; a
# cap, a limit, a card's cap in an order or in proportion take at most what the line holds
# (semantics/run.py: cut, pro_rata, weighted_cut)
_LOWERING = frozenset({StepKind.GATE, StepKind.CAP}) | {k for k in StepKind if k.cuts}


def ceiling(program, settled, index: int):
    """A z3 term no settlement of line `index` exceeds: max(the line's formula, rounded; 0), where
    every later step that touches the line only lowers it (`_LOWERING`, and no cut passes what it
    took back to it); None where a floor, a waterfall or a cover could raise it."""
    computed = None
    for v in settled.values:
        step = v.step
        if step.kind is StepKind.COMPUTE and step.line == index:
            computed = v.level
        elif step.line == index and (step.kind not in _LOWERING or step.takes):
            return None
    if computed is None:
        return None
    return z3.If(computed > 0, computed, z3.RealVal(0, computed.ctx))


def _constants(term) -> set:
    """The variables a z3 term reads (by id)."""
    found, seen, stack = set(), set(), [term]
    while stack:
        t = stack.pop()
        if t.get_id() in seen:
            continue
        seen.add(t.get_id())
        if z3.is_const(t) and t.decl().kind() == z3.Z3_OP_UNINTERPRETED:
            found.add(t.get_id())
        stack.extend(t.children())
    return found


def reads(contract: m.Contract, expr: m.Expr) -> list[str]:
    """The measures a formula reads, itself or through definitions, in declaration order."""
    seen: set[str] = set()
    found: set[str] = set()
    stack = [expr]
    while stack:
        for node in m.walk(stack.pop()):
            if isinstance(node, m.Input):
                found.add(node.name)
            elif isinstance(node, m.Var) and node.name in contract.definitions and node.name not in seen:
                seen.add(node.name)
                stack.append(contract.definitions[node.name].expr)
    return [n for n in contract.measures if n in found and contract.measures[n].ty.kind != DATE]


def _poured(contract: m.Contract):
    """The payments a waterfall distributes, and `together(ln, line)`: `ln` (of a program, a settlement
    or a settlement again) is part of what `line` explains — its own line, or, for a payment a waterfall
    distributes, every line of that payment and period (the vehicle's and each step's), explained
    together as one payment to the payer."""
    from .interim import line_key

    poured = {name for waterfall in contract.waterfalls for name in waterfall.payments}

    def together(ln, line) -> bool:
        return (ln.payment, ln.period) == (line.payment, line.period) and (
            line.payment in poured or line_key(ln) == line_key(line))

    return poured, together


def questions(contract: m.Contract, settlement, program=None):
    """The lines `why_not_paid` asks about, decided before any solving: each payment line (for a
    payment a waterfall distributes, the vehicle's line, for the whole payment) that is unpaid, that a
    clause cut ("reduced"), or that pays something but less than a step of its formula could
    ("partial": a tier not reached; a formula that grows steadily with the outcomes is left out).
    Yields (index in the program, program line, settled line, amount, the clauses that cut it, status,
    the line's recipient and clause for `Why`). Whether some outcome pays it more is the solver's to
    say (a partial line paid in full gets no answer)."""
    from .interim import line_key

    if program is None:
        from .semantics.program import lower

        program = lower(contract)
    by_key, groups = {}, {}  # line_key → its settled line; (payment, period) → its settled lines, in order
    for ln in settlement.lines:
        by_key[line_key(ln)] = ln
        groups.setdefault((ln.payment, ln.period), []).append(ln)
    poured = {name for waterfall in contract.waterfalls for name in waterfall.payments}
    steps: dict[str, bool] = {}  # payment → its formula has steps (`stepped`), asked once per payment
    for index, line in enumerate(program.lines):
        if line.top_up or line.payment not in contract.payments:
            continue
        paid = by_key.get(line_key(line))
        if paid is None:
            continue
        if line.payment in poured and paid.trail and paid.trail[0][0] == "waterfall":
            continue  # a step's share of a payment a waterfall distributes: the payment is explained whole
        mine = groups[(line.payment, line.period)] if line.payment in poured else [paid]  # as `together` says
        amount = Fraction(sum((ln.exact for ln in mine), 0))
        own = contract.payments[line.payment].clause  # its `when`: not paid, rather than cut
        cut_by = tuple(dict.fromkeys(step[1].name or f"line {step[1].line}" for ln in mine for step in ln.trail
                                     if step[0] in CUTS and step[2] is not None and step[3] < step[2]
                                     and step[1] != own))
        status = "reduced" if cut_by else "unpaid" if amount == 0 else "partial"
        if status == "partial" and line.payment not in steps:
            steps[line.payment] = stepped(contract, contract.payments[line.payment].expr)
        if status == "partial" and not steps[line.payment]:
            continue  # it grows steadily with the outcomes: more pays more, there is nothing to explain
        alone = line.payment in poured or len(groups[(paid.payment, paid.period)]) == 1
        yield index, line, paid, amount, cut_by, status, {"to": paid.recipient, "clause": paid.clause.name,
                                                          "shared": not alone}


def stepped(contract: m.Contract, expr: m.Expr) -> bool:
    """Whether a formula has steps — a tier table, a condition, a comparison — itself or through
    the definitions it reads: a payment below what other outcomes pay is then a tier not reached."""
    seen: set[str] = set()
    stack = [expr]
    while stack:
        for node in m.walk(stack.pop()):
            if isinstance(node, (m.Steps, m.Cond)) or (
                    isinstance(node, m.Op) and node.op in ("<", "<=", ">", ">=", "==", "!=")):
                return True
            if isinstance(node, m.Var) and node.name in contract.definitions and node.name not in seen:
                seen.add(node.name)
                stack.append(contract.definitions[node.name].expr)
    return False


# ---------------------------------------------------------------- words
def words(contract: m.Contract, why: Why, languages, tables: bool = False) -> dict[str, str]:
    from .lang import texts
    from .render.words import Words, number

    table = texts("why")
    said = {}
    for lang in languages:
        t, w = table[lang], Words(contract, lang, tables)

        def value(name: str, v, w=w) -> str:
            return w.value(v, contract.measures[name].ty.kind)

        payment = w.label(why.payment) + (f" ({w.period_named(contract.payments[why.payment].series, why.period)})"
                                           if why.period else "") + (f" → {w.label(why.to)}" if why.shared else "")
        clauses = ", ".join(w.label(c) for c in why.cut_by)
        head = t[why.status].format(payment=payment, amount=w.money(why.amount), clauses=clauses)
        if why.reachable is None:
            said[lang] = head + t["undecided"]
            continue
        if why.reachable is False:
            said[lang] = head + (t["never_more"] if why.amount or why.cut_by else t["never"])
            continue
        parts = []
        for c in why.changes:
            name = w.label(c.measure) + (f" ({w.period_named(contract.measures[c.measure].ty.series, c.period)})"
                                         if c.period else "")
            if isinstance(c.before, bool):
                parts.append(t["flip"].format(measure=name, after=value(c.measure, c.after),
                                              before=value(c.measure, c.before)))
                continue
            kind = contract.measures[c.measure].ty.kind
            gap = abs(Fraction(c.after) - Fraction(c.before))
            by = (w.money(gap) if kind == MONEY else t["point" if gap == Fraction(1, 100) else "points"].format(
                n=number(gap * 100, lang))
                  if kind == SHARE else value(c.measure, gap))
            parts.append(t["change"].format(measure=name, after=value(c.measure, c.after),
                                            before=value(c.measure, c.before), by=by,
                                            direction=t["higher" if c.after > c.before else "lower"]))
        joined = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + t["and"] + parts[-1] if parts else ""
        sentence = head + t["would"].format(changes=joined)
        if why.would_pay is not None:
            sentence += t["then"].format(amount=w.money(why.would_pay))
        if not why.exact:
            sentence += t["not_smallest"]
        said[lang] = sentence
    # plain spaces: the words go to a terminal and to JSON, not to a typeset page
    return {lang: text.replace("\u00a0", " ").replace("\u202f", " ") for lang, text in said.items()}


def why_text(items: list[Why], languages) -> str:
    """The section `sibc eval --why` prints, in each language."""
    from .lang import texts

    table = texts("why")
    out = []
    for lang in languages:
        out.append(table[lang]["title"])
        if not items:
            out.append("  " + table[lang]["none"])
        for x in items:
            name = x.payment + (f" {x.period}" if x.period else "") + (f" → {x.to} ({x.clause})" if x.shared else "")
            out.append(f"  {name}: {x.words[lang]}")
        out.append("")
    return "\n".join(out)


def why_json(items: list[Why], contract: m.Contract) -> list[dict]:
    """For machines; outcomes as an outcome file writes them (`8.5 %`, `49999999 SEK`), amounts as
    exact decimal strings."""
    from .values import to_decimal
    from .verify import _format_input

    def plain(v):
        if isinstance(v, bool) or v is None:
            return v
        return str(v)

    def outcome(name: str, v):
        return v if isinstance(v, bool) else _format_input(contract.input(name), v, contract.currency)

    return [{"payment": x.payment, "period": x.period, "to": x.to, "clause": x.clause,
             "status": x.status, "amount": str(x.amount),
             "can_pay_more": x.reachable, "smallest_change": [
                 {"measure": c.measure, "period": c.period, "from": outcome(c.measure, c.before),
                  "to": outcome(c.measure, c.after)}
                 for c in x.changes] or None,
             "would_pay": plain(x.would_pay), "proved_smallest": x.exact,
             "distance": None if x.distance is None else format(to_decimal(x.distance, 6), "f"),
             "cut_by": list(x.cut_by), "words": x.words} for x in items]


__all__ = ["Change", "Why", "questions", "why_json", "why_not_paid", "why_text", "words"]
