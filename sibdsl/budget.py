"""The payer's budget by fiscal year (issue 15): councils budget by year, not by contract.

A settlement line belongs to the fiscal year of its due date: the calendar year of that date (a
line without a due date is "undated", shown apart). From the settlement program's lines
(semantics/program.py: each carries its payer and due date) this module gives, per payer and year:

- `settled`: what a settlement pays (`sibc eval`);
- `proved_maxima`: per payer and year a `Figure`, what is proved about the most any outcome within
  the measures' ranges can make the payer pay then. Two proofs, the better one kept:
  - the *largest possible* amount (MAXIMUM: some outcome reaches it, none passes it), by z3 over
    the symbolic settlement (verify.py): the caps fixed at signing give a candidate
    (`static_bound`), which two questions confirm and reach; elsewhere a search on the rounding
    grid. All of a contract's questions share one small deterministic budget (below) and a z3
    context of their own, so the same contract gets the same figures on a busy and on a quiet
    machine and whatever z3 did before in the process;
  - a *proved upper bound* (BOUND: no outcome passes it, but none may reach it), by interval
    arithmetic over the same settlement program (bounds.py), which needs no solver and so holds
    for a contract too large for the solver's budget or where the solver cannot decide; z3 starts
    from it, so where the bound is reached one question makes it the maximum.
  Where neither proves a finite figure (UNBOUNDED) the figure names the measures without an upper
  limit the year's payments read — the reason, in words, why nothing bounds it. `proved` keeps
  the figures, with their kinds, in sibc's cache, so the council document pays for them once per
  contract text;
- `fiscal_year` for `sibc simulate` (simulate.py keeps one array of exact minor units per payer and
  year and reports the mean, the 90th percentile and the worst scenario seen).

Every amount is exact (Fraction, Decimal); nothing here passes through a float.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from fractions import Fraction

import attrs

from . import model as m
from .semantics.program import Program, lower

UNDATED = "undated"

MAXIMUM = "maximum"  # the largest possible amount: some outcome reaches it, none passes it
BOUND = "bound"  # a proved upper bound: no outcome passes it (whether one reaches it is not known)
UNBOUNDED = "unbounded"  # no finite bound proved: the measures in `unbounded_by` have no upper limit


@attrs.frozen
class Figure:
    """What is proved about the most a payer can have to pay in a year, or over the contract: the
    amount and its kind (MAXIMUM, BOUND or UNBOUNDED, when the amount is None). A bound is never
    reported as the maximum: the reports, the council document and the cache keep the kind."""

    amount: Fraction | None
    kind: str
    unbounded_by: tuple[str, ...] = ()  # UNBOUNDED: the measures read without an upper limit

    @property
    def maximum(self) -> Fraction | None:
        """The amount when it is the proved maximum, else None."""
        return self.amount if self.kind == MAXIMUM else None


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


# ------------------------------------------------------------------ the proved maxima
#
# What the council document prints, so rendering a contract pays for it: the questions are few
# and bounded. Each figure starts from the settlement program's static bound (`static_bound`: the
# caps with a level fixed at signing, on a line, a stream, a rate card, a period, a party or the
# total), which the solver is asked to confirm (nothing passes it) and to reach (some outcome
# gets there) — two questions where a cap bounds the amount, which on the shipped contracts is
# every figure. Only where no cap bounds the amount, or the cap is not reached, does it search, by
# doubling and then bisection on the rounding grid, within what is left of the contract's budget;
# a search the budget cuts short is "not proved".
# The questions run in a z3 context of their own, made afresh for each contract (z3's heuristics
# follow the history of their context), each under a share of one deterministic resource budget
# (z3's rlimit units, not seconds), so the figures depend on the contract only: the same on a busy
# machine and a quiet one, and whatever the process asked z3 before.

RESOURCES = 3_000_000  # rlimit units for all of a contract's questions (≈ 1 s of z3 at most, verify.py)
RLIMIT = 1_000_000  # at most this many for one question
QUESTIONS = 64  # and at most this many questions for a contract
# z3 spends time beyond its resource units on taking in a large settlement (translating, asserting,
# internalising: ≈ 3 ms a unit of `program_size` on the reference machine), so a contract larger
# than this is not asked at all: its figures are "not proved", and rendering it stays quick
SIZE = 400
_DOUBLINGS = 64  # searching for an upper bound: beyond 2^64 × the first value the amount is unbounded


def _number(term) -> Fraction | None:
    import z3

    value = z3.simplify(term)
    if z3.is_int_value(value):
        return Fraction(value.as_long())
    if z3.is_rational_value(value):
        return Fraction(value.numerator_as_long(), value.denominator_as_long())
    return None


def _val(value: Fraction, ctx=None):
    import z3

    return z3.RealVal(f"{value.numerator}/{value.denominator}", ctx)


class Questions:
    """What a contract may still ask the solver: a number of questions and a total of z3's
    resource units (deterministic, like everything here). A question past either is `unknown`."""

    def __init__(self, questions: int = QUESTIONS, resources: int = RESOURCES, per_question: int = RLIMIT):
        self.left = questions
        self.resources = resources
        self.per_question = per_question
        self.asked = 0

    def check(self, solver):
        import z3

        if self.left <= 0 or self.resources <= 0:
            return z3.unknown
        self.left -= 1
        self.asked += 1
        before = _used(solver)
        solver.set("rlimit", max(1, min(self.per_question, self.resources)))
        result = solver.check()
        self.resources -= max(_used(solver) - before, 1)
        return result


def _used(solver) -> int:
    """The resource units the solver's context has spent so far ("rlimit count", cumulative)."""
    import z3

    try:
        return int(solver.statistics().get_key_value("rlimit count"))
    except z3.Z3Exception:  # nothing asked yet in this context
        return 0


def maximum(solver, term, step: Fraction, questions: Questions | None = None,
            bound: Fraction | None = None, proved: Fraction | None = None) -> Fraction | None:
    """The largest value of `term` under the solver's constraints, on the grid of `step`: some
    outcome reaches it, none passes it. None when that is not proved (`search`)."""
    return search(solver, term, step, questions, bound, proved)[0]


def search(solver, term, step: Fraction, questions: Questions | None = None,
           bound: Fraction | None = None, proved: Fraction | None = None) -> tuple[Fraction | None, Fraction | None]:
    """(the largest value of `term` under the solver's constraints, on the grid of `step`; the least
    upper bound of `term` proved on the way). The maximum is None when it is not proved — the term
    has no bound, the solver cannot say, or the questions ran out first (a bound proved but not
    shown reached is not a maximum, and the reports call the figure the maximum); the bound is None
    when nothing bounds the term that the solver or `proved` showed.

    `bound` is a candidate (budget.static_bound): asked first, it usually settles the figure in two
    questions. `proved` is an upper bound already proved (bounds.py: no outcome passes it), so the
    search starts below it and one question ("is it reached?") can settle it. Every amount of a
    settlement is a whole number of rounding steps (`step`), so "below x" is "at most x − step"."""
    import z3

    ctx = solver.ctx
    ask = (questions or Questions()).check
    term = term if term.ctx == ctx else term.translate(ctx)

    def value():
        return _number(solver.model().eval(term, model_completion=True))

    def holds(condition):
        solver.push()
        solver.add(condition)
        result = ask(solver)
        found = value() if result == z3.sat else None
        solver.pop()
        return result, found

    low = None  # some outcome reaches `low`; none passes `high`
    high = None if proved is None else (proved // step) * step
    if bound is not None and (high is None or bound < high):
        candidate = (bound // step) * step
        result, found = holds(term > _val(candidate, ctx))
        if result == z3.unsat:
            high = candidate
        elif result == z3.sat and found is not None:
            low = found
        else:
            return None, high
    if high is not None and low is None:  # is the bound reached?
        result, found = holds(term >= _val(high, ctx))
        if result == z3.sat:
            return high, high
        if result == z3.unsat:
            high = high - step
        else:
            return None, high  # never passed, but whether it is reached the solver cannot say
    if low is None:
        result = ask(solver)
        if result != z3.sat:
            return None, high
        low = value()
        if low is None:
            return None, high
    if high is None:  # double until no outcome passes it
        probe = max(low, step)
        for _ in range(_DOUBLINGS):
            probe = probe * 2
            result, found = holds(term > _val(probe, ctx))
            if result == z3.unsat:
                high = (probe // step) * step
                break
            if result != z3.sat or found is None:
                return None, None
            low = max(low, found)
        if high is None:
            return None, None
    while high > low:
        middle = low + -((-(high - low) / 2) // step) * step  # on the grid, above `low`
        result, found = holds(term >= _val(middle, ctx))
        if result == z3.sat and found is not None:
            low = max(middle, found)
        elif result == z3.unsat:
            high = middle - step
        else:
            return None, high
    return high, high


def static_bound(program: Program, indexes, static=None) -> Fraction | None:
    """An upper bound on the sum of these lines read from the program alone, without the solver:
    the caps whose level is fixed at signing (on a line, a stream, a rate card, a period, a party,
    the total, and return limits in money), each cut group bounding what its lines add up to.
    A candidate only — `maximum` has the solver prove it — so it may assume what is usually true
    (a line is not negative); None where no cap bounds some line. Greedy, in time linear in the
    groups × the lines: the groups by level, lowest first, each taken where its level is less than
    what its lines still left would add up to. `static` is `_static(program)`, when already read."""
    lines, groups = static if static is not None else _static(program)
    rest = set(indexes)
    found = Fraction(0)
    for members, level in sorted(groups, key=lambda g: g[1]):
        mine = rest & members
        if not mine:
            continue
        alone = [lines[i] for i in mine]
        if None in alone or level < sum(alone, Fraction(0)):
            found += level
            rest -= mine
    alone = [lines[i] for i in rest]
    return None if None in alone else found + sum(alone, Fraction(0))


def _static(program: Program) -> tuple[list[Fraction | None], list[tuple[frozenset, Fraction]]]:
    """Per line, a bound on its amount (None: none known), and the cut groups with a fixed level
    that hold at the end of the settlement (`static_bound`), from the program's steps in order."""
    from .semantics.program import StepKind as K

    contract = program.contract
    ub: list[Fraction | None] = [None] * len(program.lines)
    groups: list[tuple[frozenset, Fraction]] = []

    def fixed(step) -> Fraction | None:
        if step.amount is None:
            return None
        value = _constant(contract, step.amount)
        return None if value is None else value * step.scale

    for step in program.steps:
        kind = step.kind
        if kind is K.COMPUTE:
            ub[step.line] = _constant(contract, step.amount)
        elif kind in (K.FLOOR, K.TOTAL_FLOOR, K.STREAM_FLOOR):
            level = fixed(step)
            old = ub[step.line] if kind is not K.TOTAL_FLOOR else Fraction(0)
            ub[step.line] = None if level is None or old is None else max(old, level)
            if kind is K.STREAM_FLOOR:  # the stream's last line is raised: a group it is in may pass its level
                groups = [(g, v) for g, v in groups if step.line not in g]
        elif kind is K.CAP:
            level = fixed(step)
            if level is not None:
                ub[step.line] = level if ub[step.line] is None else min(ub[step.line], level)
        elif kind is K.COVER:
            most = step.share * step.limit if step.limit is not None else None
            ub[step.line] = step.ceiling if most is None else most if step.ceiling is None else min(most, step.ceiling)
        elif kind.cuts and kind is not K.TOTAL_GATE and not step.weights:
            level = step.limit if kind is K.RETURN_LIMIT else fixed(step)
            if level is not None and step.group:
                groups.append((frozenset(step.group), level))
                for j in step.group:
                    ub[j] = level if ub[j] is None else min(ub[j], level)
    return ub, groups


def _fixed(contract: m.Contract, expr: m.Expr) -> bool:
    """Whether an expression reads nothing measured: constants, investments, cohort sizes and the
    definitions made of them only (constant_value reads a sum over a series as empty, so a formula
    that reads measures is not asked)."""
    seen: set[str] = set()
    todo = [expr]
    while todo:
        for node in m.walk(todo.pop()):
            if isinstance(node, m.Var):
                if node.name in contract.investments or node.name in contract.cohorts or node.name in seen:
                    continue
                definition = contract.definitions.get(node.name)
                if definition is None or definition.baseline or definition.indexation is not None:
                    return False
                seen.add(node.name)
                todo.append(definition.expr)
            elif not isinstance(node, (m.Const, m.Op, m.Cond)):
                return False
    return True


def _constant(contract: m.Contract, expr: m.Expr | None) -> Fraction | None:
    """An expression's value when it is fixed at signing (render/words.Words.constant), else None."""
    from .compiler import NotConstant, constant_value
    from .evaluate import EvaluationError

    if expr is None or not _fixed(contract, expr):
        return None
    constants = {n: i.amount for n, i in contract.investments.items()}
    constants.update({n: Fraction(k.size) for n, k in contract.cohorts.items()})
    try:
        value = constant_value(expr, contract.definitions, constants)
    except (NotConstant, EvaluationError, ArithmeticError):
        return None
    return None if isinstance(value, bool) or not isinstance(value, (int, Fraction)) else Fraction(value)


def program_size(program: Program, limit: int = SIZE) -> int:
    """How large the symbolic settlement would be, counted on the model, not built (stops counting
    past `limit`): every line each step reads or writes, and the nodes of each payment's formula
    and each definition, once per period they are read in."""
    contract = program.contract
    size = sum(max(1, len(step.group)) for step in program.steps)

    def periods(ty) -> int:
        series = getattr(ty, "series", None)
        return len(contract.series[series].periods) if series in contract.series else 1

    for ln in program.lines:
        if size > limit:
            return size
        payment = contract.payments.get(ln.payment)
        if payment is not None and not ln.top_up:
            size += sum(1 for _ in m.walk(payment.expr))
    for definition in contract.definitions.values():
        if size > limit:
            return size
        size += sum(1 for _ in m.walk(definition.expr)) * periods(definition.expr.ty)
    return size


def proved_maxima(contract: m.Contract, questions: Questions | None = None) -> dict[str, dict[str, Figure]]:
    """Per payer: per fiscal year a `Figure` for the most the payer can have to pay, and under
    "total" the same over the contract (not the sum of the years' figures, which one outcome may
    not reach together). The maximum where the solver proves it within the contract's `questions`
    (`search`), else the least upper bound proved — by the solver on the way, or by interval
    arithmetic over the settlement program (bounds.py), which holds however large the contract —
    else UNBOUNDED, with the measures that leave it so."""
    import z3

    from .bounds import bounds

    program = lower(contract)
    proof = bounds(contract, program)
    groups = line_years(program)
    by_payer: dict[str, list[int]] = {}
    for (payer, _), indexes in groups.items():
        by_payer.setdefault(payer, []).extend(indexes)
    step = Fraction(contract.rounding.step)
    grid = step if step > 0 else Fraction(1, 100)

    def bounded(indexes: list[int]) -> Fraction | None:  # bounds.py's proved upper end, on the grid
        hi = proof.sum_hi(indexes)
        return None if hi is None else (hi // grid) * grid

    def figure(indexes: list[int], found: tuple[Fraction | None, Fraction | None]) -> Figure:
        best, high = found
        if best is not None:
            return Figure(best, MAXIMUM)
        known = [h for h in (high, bounded(indexes)) if h is not None]
        if known:
            return Figure(min(known), BOUND)
        return Figure(None, UNBOUNDED, _unbounded_by(contract, program, proof, indexes))

    if program_size(program) > SIZE or (questions is not None and questions.left <= 0):
        # too large to ask within the budget, or nothing may be asked: bounds.py's proof alone
        out: dict[str, dict[str, Figure]] = {}
        for (payer, year), indexes in groups.items():
            out.setdefault(payer, {})[year] = figure(indexes, (None, None))
        for payer, indexes in by_payer.items():
            out[payer]["total"] = _total(out[payer], figure(indexes, (None, None)))
        return out

    from .verify import _Sym, _SymSettlement, solver_of_its_own

    sym = _Sym(contract, "budget!")
    settlement = _SymSettlement(contract, sym, program)
    solver = solver_of_its_own(*sym.domain, settlement.all_defined)  # the answers depend on the contract only
    ctx = solver.ctx
    questions = questions or Questions()
    out = {}
    static_bounds = _static(program)

    def most(indexes: list[int], bound: Fraction | None = None) -> Figure:
        term = z3.Sum([settlement.lines[i].amount for i in indexes]) if indexes else z3.RealVal(0)
        static = static_bound(program, indexes, static_bounds)
        if static is not None:
            bound = static if bound is None else min(bound, static)
        try:
            found = search(solver, term.translate(ctx), grid, questions, bound, bounded(indexes))
        except z3.Z3Exception:
            found = (None, None)
        return figure(indexes, found)

    for (payer, year), indexes in groups.items():
        out.setdefault(payer, {})[year] = most(indexes)
    for payer, indexes in by_payer.items():
        years = out[payer]
        if len(years) == 1:
            years["total"] = next(iter(years.values()))
        else:  # the years' figures added up bound the total too (one outcome may not reach them all)
            amounts = [f.amount for f in years.values()]
            years["total"] = _total(years, most(indexes, None if None in amounts else sum(amounts, Fraction(0))))
    return out


def _total(years: dict[str, Figure], total: Figure) -> Figure:
    """The contract's figure for a payer: `total`, or the years' proved figures added up where
    that is less (every year bounded; a bound, since one outcome may not reach them all)."""
    if len(years) == 1:
        return next(iter(years.values()))
    amounts = [f.amount for f in years.values()]
    if total.kind == MAXIMUM or None in amounts:
        return total
    added = sum(amounts, Fraction(0))
    return total if total.amount is not None and total.amount <= added else Figure(added, BOUND)


def _unbounded_by(contract: m.Contract, program: Program, proof, indexes) -> tuple[str, ...]:
    """The measures without an upper limit that the lines with no proved upper end read (through
    definitions too), in the contract's order: why nothing bounds what the payer pays."""
    open_lines = {i for i in indexes if proof.lines[i].hi is None}
    from .why import reads

    read = {name for st in program.steps if st.line in open_lines or open_lines & set(st.group)
            for e in (st.amount, st.condition) if e is not None for name in reads(contract, e)}
    domains = proof.prims.domains
    return tuple(name for name in domains if name in read and getattr(domains[name], "hi", 0) is None)


_PROVED: dict[tuple[str, str], dict] = {}


def proved(contract: m.Contract, *, use_cache: bool = True) -> dict[str, dict[str, Figure]]:
    """`proved_maxima`, once per contract text: in this process (simulate's report and the council
    document ask for it again and again), and in sibc's cache on disk (cache.py, as proofcache.py
    keeps `sibc verify`'s verdicts), each figure with its kind, so a contract already rendered or
    simulated answers at once and a bound read back is still a bound, never a maximum.
    The figures depend only on the contract's text, sibc and z3's version (all in the key)."""
    digest = contract.source_sha256
    if not digest:
        return proved_maxima(contract)
    key = (contract.source_name, digest)
    if key in _PROVED and use_cache:
        return _PROVED[key]
    from . import cache
    from .proofcache import _z3_version

    name = "budget-" + cache.key("budget", digest.encode(), _z3_version())
    stored = cache.load(name) if use_cache else None
    figures = _decode(stored) if stored is not None else None
    if figures is None:
        figures = proved_maxima(contract)
        if use_cache:
            cache.store(name, _encode(figures))
    if len(_PROVED) > 32:
        _PROVED.clear()
    _PROVED[key] = figures
    return figures


def _encode(figures: dict) -> list:
    return [[payer, [[year, f.kind, None if f.amount is None else [f.amount.numerator, f.amount.denominator],
                      list(f.unbounded_by)] for year, f in years.items()]]
            for payer, years in figures.items()]


def _decode(data) -> dict | None:
    """The cache's figures, or None (computed again) for anything not written by `_encode`."""
    try:
        out = {}
        for payer, years in data:
            out[payer] = {}
            for year, kind, amount, why in years:
                value = None if amount is None else Fraction(int(amount[0]), int(amount[1]))
                if kind not in (MAXIMUM, BOUND, UNBOUNDED) or (value is None) != (kind == UNBOUNDED):
                    return None
                out[payer][str(year)] = Figure(value, kind, tuple(str(w) for w in why))
        return out
    except (TypeError, ValueError, ZeroDivisionError, IndexError):
        return None


def listed(names, more: str, limit: int = 3) -> str:
    """Names for a sentence: all of them when few, else the first `limit` and how many more
    (`more`, e.g. "{names} and {n} more"): a rate card's 23 counts do not make a sentence."""
    names = list(names)
    if len(names) <= limit + 1:
        return ", ".join(names)
    return more.format(names=", ".join(names[:limit]), n=len(names) - limit)
