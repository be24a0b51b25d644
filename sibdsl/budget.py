"""The payer's budget by fiscal year (issue 15): councils budget by year, not by contract.

A settlement line belongs to the fiscal year of its due date: the calendar year of that date (a
line without a due date is "undated", shown apart). From the settlement program's lines
(semantics/program.py: each carries its payer and due date) this module gives, per payer and year:

- `settled`: what a settlement pays (`sibc eval`);
- `proved_maxima`: the most any outcome within the measures' ranges can make the payer pay in
  that year, proved by z3 over the symbolic settlement (verify.py) — found by bisection on the
  contract's rounding grid, each question under a deterministic resource limit, so the same
  contract gets the same figures on a busy and on a quiet machine. Where the solver cannot say,
  or the amount has no bound, the figure is None and the reports say "not proved";
- `YearKey`s for `sibc simulate` (simulate.py keeps one array of exact minor units per payer and
  year and reports the mean, the 90th percentile and the worst scenario seen).

Every amount is exact (Fraction, Decimal); nothing here passes through a float.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from fractions import Fraction

import z3

from . import model as m
from .semantics.program import Program, lower

UNDATED = "undated"
RLIMIT = 20_000_000  # per question to the solver (deterministic: z3's resource units, not seconds)
_DOUBLINGS = 80  # searching for an upper bound: beyond 2^80 × the first value the amount is unbounded
QUESTIONS = 600  # per contract: a contract of many years stops asking (the rest "not proved"), never hangs


def fiscal_year(due: datetime.date | None) -> str:
    """The fiscal year a line is budgeted in: the calendar year of its due date."""
    return str(due.year) if due is not None else UNDATED


def _order(year: str) -> tuple:
    return (year == UNDATED, year)


def line_years(program: Program) -> dict[tuple[str, str], list[int]]:
    """(payer, fiscal year) → the indexes of the program's lines due then, payers and years in order."""
    groups: dict[tuple[str, str], list[int]] = {}
    for ln in program.lines:
        groups.setdefault((ln.payer, fiscal_year(ln.due)), []).append(ln.index)
    return dict(sorted(groups.items(), key=lambda kv: (kv[0][0], _order(kv[0][1]))))


def nest(flat: dict[tuple[str, str], object]) -> dict[str, dict[str, object]]:
    """(payer, year) → x as payer → year → x, in the same order."""
    out: dict[str, dict[str, object]] = {}
    for (payer, year), value in flat.items():
        out.setdefault(payer, {})[year] = value
    return out


def settled(settlement) -> dict[str, dict[str, Decimal]]:
    """What a settlement makes each payer pay in each fiscal year (exact decimals)."""
    flat: dict[tuple[str, str], Fraction] = {}
    for ln in settlement.lines:
        key = (ln.payer, fiscal_year(ln.due))
        flat[key] = flat.get(key, Fraction(0)) + Fraction(ln.exact)
    ordered = dict(sorted(flat.items(), key=lambda kv: (kv[0][0], _order(kv[0][1]))))
    return nest({k: _decimal(v) for k, v in ordered.items()})


def _decimal(value: Fraction) -> Decimal:
    from .values import to_decimal

    return Decimal(value.numerator) if value.denominator == 1 else to_decimal(value)


def _number(term) -> Fraction | None:
    value = z3.simplify(term)
    if z3.is_int_value(value):
        return Fraction(value.as_long())
    if z3.is_rational_value(value):
        return Fraction(value.numerator_as_long(), value.denominator_as_long())
    return None


def _val(value: Fraction) -> z3.ArithRef:
    return z3.RealVal(f"{value.numerator}/{value.denominator}")


class _Budget:
    """A count of the questions still allowed (deterministic, like the rlimit of each)."""

    def __init__(self, questions: int):
        self.left = questions

    def check(self, solver: z3.Solver):
        if self.left <= 0:
            return z3.unknown
        self.left -= 1
        return solver.check()


def maximum(solver: z3.Solver, term, step: Fraction, questions: _Budget | None = None) -> Fraction | None:
    """The largest value of `term` under the solver's constraints, on the grid of `step`, or None
    when the solver cannot say (or the term has no bound). Some outcome reaches it, none passes it."""
    ask = (questions or _Budget(10_000)).check
    if ask(solver) != z3.sat:
        return None
    low = _number(solver.model().eval(term, model_completion=True))
    if low is None:
        return None
    # an upper bound: double until no outcome passes it
    high = None
    probe = max(low, step)
    for _ in range(_DOUBLINGS):
        probe = probe * 2
        solver.push()
        solver.add(term > _val(probe))
        result = ask(solver)
        found = _number(solver.model().eval(term, model_completion=True)) if result == z3.sat else None
        solver.pop()
        if result == z3.unsat:
            high = probe
            break
        if result != z3.sat or found is None:
            return None
        low = max(low, found)
    if high is None:
        return None
    high = (high // step) * step  # every amount is on the grid: nothing above `high` on it
    while high > low:
        middle = low + -((-(high - low) / 2) // step) * step  # on the grid, above `low`
        solver.push()
        solver.add(term >= _val(middle))
        result = ask(solver)
        found = _number(solver.model().eval(term, model_completion=True)) if result == z3.sat else None
        solver.pop()
        if result == z3.sat and found is not None:
            low = max(middle, found)
        elif result == z3.unsat:
            high = middle - step
        else:
            return None
    solver.push()
    solver.add(term > _val(low))
    result = ask(solver)
    solver.pop()
    return low if result == z3.unsat else None


def proved_maxima(contract: m.Contract, rlimit: int = RLIMIT,
                  questions: int = QUESTIONS) -> dict[str, dict[str, Fraction | None]]:
    """Per payer: per fiscal year the proved most the payer can have to pay, and under "total" the
    proved most over the contract (not the sum of the years' maxima, which one outcome may not
    reach together). None where the solver cannot say within `rlimit` per question."""
    from .verify import _Sym, _SymSettlement

    program = lower(contract)
    sym = _Sym(contract, "budget!")
    settlement = _SymSettlement(contract, sym, program)
    solver = z3.Solver()
    solver.set("rlimit", rlimit)
    solver.add(*sym.domain, settlement.all_defined)
    step = Fraction(contract.rounding.step)
    grid = step if step > 0 else Fraction(1, 100)
    budget = _Budget(questions)
    out: dict[str, dict[str, Fraction | None]] = {}
    by_payer: dict[str, list[int]] = {}
    for (payer, year), indexes in line_years(program).items():
        by_payer.setdefault(payer, []).extend(indexes)
        term = z3.Sum([settlement.lines[i].amount for i in indexes])
        out.setdefault(payer, {})[year] = _maximum(solver, term, grid, budget)
    for payer, indexes in by_payer.items():
        years = out[payer]
        if len(years) == 1:
            years["total"] = next(iter(years.values()))
        else:
            years["total"] = _maximum(solver, z3.Sum([settlement.lines[i].amount for i in indexes]), grid, budget)
    return out


def _maximum(solver: z3.Solver, term, grid: Fraction, budget: _Budget) -> Fraction | None:
    try:
        return maximum(solver, term, grid, budget)
    except z3.Z3Exception:
        return None


_PROVED: dict[tuple[str, str], dict] = {}


def proved(contract: m.Contract) -> dict[str, dict[str, Fraction | None]]:
    """`proved_maxima`, once per contract text in a process (simulate's report and the council
    document ask for it again and again; the figures depend only on the contract)."""
    key = (contract.source_name, contract.source_sha256)
    if not key[1]:
        return proved_maxima(contract)
    if key not in _PROVED:
        if len(_PROVED) > 32:
            _PROVED.clear()
        _PROVED[key] = proved_maxima(contract)
    return _PROVED[key]
