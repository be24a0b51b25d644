"""The largest value of a term the solver can reach, found by search on a grid under z3's
deterministic resource limit (never wall time): `sibc diff` (the largest increase and decrease of
the money two drafts pay, and the outcomes where they differ) and `sibc eval --why` (the smallest
change of the measured outcomes that would have paid more) share it.

z3's `Optimize` does not bound its work by rlimit on the mixed integer problems that rounding gives
(an integer floor per rounded amount), and answers `oo` or nothing. A search of yes/no questions
("can the term exceed v?") does: each question is one `check` with its own rlimit, so the same
contract gets the same answer on every machine, and an answer the solver could not give leaves an
honest interval — the best value found and the least value proved out of reach — instead of a
guess. The search gallops up from the first value found (doubling the step), then halves the
interval between what is reached and what is proved unreachable down to `step` (the contract's
rounding step for money), and last asks whether anything above the best value is reachable at all.
"""

from __future__ import annotations

from fractions import Fraction

import attrs
import z3

EXACT, WITHIN, UNBOUNDED, PARTIAL = "exact", "within", "unbounded", "partial"
LIMIT = Fraction(10) ** 15  # above this, a value "grows without limit" (more than any amount in a contract)


@attrs.frozen
class Optimum:
    """The largest value of a term: `value` is reached (at `model`), `bound` is proved: no outcome
    gives more (None when unbounded or not proved)."""

    status: str  # exact: value is the maximum; within: the maximum is in (value, bound]; unbounded;
    #              partial: the solver's work limit ended the search: value is reached, bound is as proved
    value: Fraction
    bound: Fraction | None
    model: z3.ModelRef
    checks: int = 0


def number(model: z3.ModelRef, term) -> Fraction:
    value = model.eval(term, model_completion=True)
    if z3.is_int_value(value):
        return Fraction(value.as_long())
    if z3.is_rational_value(value):
        return Fraction(value.numerator_as_long(), value.denominator_as_long())
    if z3.is_algebraic_value(value):  # an irrational point (a product of two measures): its lower approximation
        approx = value.approx(20)
        return Fraction(approx.numerator_as_long(), approx.denominator_as_long())
    raise ValueError(f"not a number: {value}")


def real(value: Fraction, ctx=None) -> z3.ArithRef:
    value = Fraction(value)
    return z3.RealVal(f"{value.numerator}/{value.denominator}", ctx)


def _on_grid(value: Fraction, step: Fraction, up: bool) -> Fraction:
    units = value / step
    whole = -((-units.numerator) // units.denominator) if up else units.numerator // units.denominator
    return whole * step


def maximise(solver: z3.Solver, term: z3.ArithRef, step: Fraction, rlimit: int,
             model: z3.ModelRef | None = None, ceiling: Fraction | None = None) -> Optimum | None:
    """The largest value of `term` over the solver's assertions, to within `step`; None when the
    assertions cannot be met (or the solver could not say that they can). `model`: one already
    found. `ceiling`: a value known to be out of reach (saves the gallop)."""
    solver.set("rlimit", rlimit)
    checks = 0
    if model is None:
        checks += 1
        if solver.check() != z3.sat:
            return None
        model = solver.model()
    best = number(model, term)
    bound = ceiling

    def above(v: Fraction):
        """A model where the term exceeds v, False when proved impossible, None when undecided."""
        nonlocal checks
        checks += 1
        solver.push()
        try:
            solver.add(term > real(v, term.ctx))
            result = solver.check()
            if result == z3.sat:
                return solver.model()
            return False if result == z3.unsat else None
        finally:
            solver.pop()

    if bound is None:  # more than any amount in a contract: unbounded, in one question
        found = above(LIMIT)
        if found is None:
            return Optimum(PARTIAL, best, None, model, checks)
        if found is not False:
            return Optimum(UNBOUNDED, number(found, term), None, found, checks)
    gap = step
    while bound is None:  # gallop: how far up can it go?
        probe = _on_grid(best + gap, step, up=True)
        if probe > LIMIT:
            bound = LIMIT
            break
        found = above(probe)
        if found is None:
            return Optimum(PARTIAL, best, None, model, checks)
        if found is False:
            bound = probe
            break
        model, best = found, max(best, number(found, term))
        gap = max(gap * 2, best - probe)
    while bound - best > step:  # halve the interval between reached and proved out of reach
        probe = _on_grid((best + bound) / 2, step, up=False)
        if probe <= best:
            probe = best + (bound - best) / 2
        found = above(probe)
        if found is None:
            return Optimum(PARTIAL, best, bound, model, checks)
        if found is False:
            bound = probe
        else:
            model, best = found, max(best, number(found, term))
    found = above(best)  # is the best value the largest?
    if found is False:
        return Optimum(EXACT, best, best, model, checks)
    if found is None:
        return Optimum(PARTIAL, best, bound, model, checks)
    model, best = found, max(best, number(found, term))
    return Optimum(EXACT if best >= bound else WITHIN, best, bound, model, checks)


__all__ = ["EXACT", "PARTIAL", "UNBOUNDED", "WITHIN", "Optimum", "maximise", "number", "real"]


def fix_greedily(fix, items: list) -> list:
    """The items whose condition `fix` could not add, asking as one question a run of conditions
    that hold together (issue 17: a rate card's 23 outcomes at their published values cost 23
    questions, one per outcome; most hold together). The same conditions are added as by asking
    them one by one in order — a run that holds is a run of which each holds after the ones before
    it — with one question for each run that holds and two halves for one that does not."""
    if not items:
        return []
    if len(items) == 1:
        return [] if fix(items[0][1]) else [items[0][0]]
    if fix(z3.And([condition for _, condition in items])):
        return []
    half = len(items) // 2
    failed = fix_greedily(fix, items[:half])
    return failed + fix_greedily(fix, items[half:])


def round_model(solver: z3.Solver, inputs, prefer: dict, rlimit: int, model: z3.ModelRef) -> z3.ModelRef:
    """A model of the solver's assertions (satisfiable: `model` is one) with its inputs as plausible
    and round as the assertions allow: each input first at its preferred value (`prefer`, by the
    term's id: the published or measured outcomes) or its neutral one (0, the lower bound), else
    the roundest value near the one found (counterexample.py's scales). Asked of the same solver,
    which keeps what it learnt: the questions are the same for the same contracts, in the same
    order, so the answer is the same on every machine. `inputs`: (measure, term) pairs."""
    from .counterexample import _neutral, _round_near, _scales
    from .units import DATE

    solver.set("rlimit", rlimit)
    solver.push()
    try:
        def fix(condition) -> bool:
            nonlocal model
            solver.push()
            solver.add(condition)
            if solver.check() == z3.sat:
                model = solver.model()
                solver.pop()
                solver.add(condition)
                return True
            solver.pop()
            return False

        seen: set = set()
        todo = []
        for measure, term in inputs:
            if term.get_id() in seen or measure.ty.kind == DATE:
                continue
            seen.add(term.get_id())
            wanted = prefer.get(term.get_id())
            if z3.is_bool(term):
                if isinstance(wanted, bool):
                    fix(term == z3.BoolVal(wanted, term.ctx))
                continue
            todo.append((measure, term))
        rest, wanted_at = [], []
        for measure, term in todo:  # 1. at the preferred (or neutral) value where it can be
            wanted = prefer.get(term.get_id(), _neutral(measure))
            if isinstance(wanted, bool) or wanted is None:
                rest.append((measure, term))
            else:
                wanted_at.append(((measure, term), term == real(wanted, term.ctx)))
        rest += fix_greedily(fix, wanted_at)
        for measure, term in rest:  # 2. the rest as round as it can be, near the value found so far
            for candidate in _round_near(number(model, term), _scales(measure)):
                if fix(term == real(candidate, term.ctx)):
                    break
        return model
    finally:
        solver.pop()
