"""Hypothesis strategies and ready-made property tests for contracts.

For a law firm's own test file, three lines are enough:

    from sibdsl.testing import contract_test

    test_my_contract = contract_test("contracts/my_contract.sib")

`pytest` then settles the contract for many generated sets of outcomes (within every measure's
type and bounds) and checks, for each, the same properties `sibc verify` proves: caps, floors,
gates, return limits, non-negative payments, the contract's guarantees and, with pairs of
outcomes, that the payout never falls when an outcome improves. A failure shows the outcomes.
`sibc verify` proves these for all outcomes; this is the independent, example-based check of the
same promises against the evaluator that actually settles the contract.

`outcomes(contract)` is the strategy on its own: validated outcomes, as `load_outcomes` returns
them, ready for `compile_contract(contract).evaluate(...)`; `outcome_files(contract)` gives the
same as JSON-ready dictionaries in the outcome-file format.
"""

from __future__ import annotations

import datetime
from fractions import Fraction
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from . import model as m
from .units import BOOL, COUNT, DATE, DAYS, MONEY, SHARE

_DEFAULT_SPAN = Fraction(100_000_000)  # money and numbers without declared bounds: 0 … 100 million


def _bounds(measure: m.Measure) -> tuple[Fraction | None, Fraction | None]:
    lower, upper = measure.lower, measure.upper
    if lower is None and upper is None:
        lower = Fraction(0) if measure.ty.kind in (MONEY, COUNT, DAYS, SHARE) else None
        upper = Fraction(1) if measure.ty.kind == SHARE else None
    return lower, upper


def value(measure: m.Measure) -> st.SearchStrategy:
    """Values of one measure: exact, within its type and declared bounds, on a decimal grid (as an
    outcome file can write them), with the bounds themselves and round numbers favoured."""
    kind = measure.ty.kind
    if kind == BOOL:
        return st.booleans()
    if kind == DATE:
        return st.dates(datetime.date(2000, 1, 1), datetime.date(2040, 12, 31))
    lower, upper = _bounds(measure)
    lo = lower if lower is not None else (upper - _DEFAULT_SPAN if upper is not None else -_DEFAULT_SPAN)
    hi = upper if upper is not None else lo + _DEFAULT_SPAN
    if kind in (COUNT, DAYS):  # whole numbers (issue 15: a number of days is whole, as a count is)
        return st.integers(int(-(-lo // 1)), int(hi // 1)).map(Fraction)
    scale = 10_000 if kind == SHARE else 100  # 0.01 %, 0.01 SEK
    low_units, high_units = int(-(-lo * scale // 1)), int(hi * scale // 1)
    grid = st.integers(low_units, high_units).map(lambda n: Fraction(n, scale))
    specials = [v for v in (lo, hi, Fraction(0)) if lo <= v <= hi]
    return st.one_of(st.sampled_from(specials), grid) if specials else grid


def outcomes(contract: m.Contract) -> st.SearchStrategy[dict]:
    """Validated outcomes for every measure (one value per period for measures per period) that
    satisfy the contract's assumptions (issue 17: a settlement refuses any others, E473)."""
    fields = {}
    for name, measure in contract.measures.items():
        if measure.ty.series:
            periods = [p.name for p in contract.series[measure.ty.series].periods]
            fields[name] = st.fixed_dictionaries({p: value(measure) for p in periods})
        else:
            fields[name] = value(measure)
    strategy = st.fixed_dictionaries(fields)
    if not contract.assumptions:
        return strategy
    from .evaluate import EvaluationError, compile_contract

    evaluator = compile_contract(contract)

    def assumed(values: dict) -> bool:
        try:
            return evaluator.broken_assumption(values) is None
        except EvaluationError:  # an assumption that divides by zero for these outcomes does not hold
            return False
    return strategy.filter(assumed)


def to_file(contract: m.Contract, values: dict) -> dict:
    """Validated outcomes written as an outcome file (the format `sibc eval --outcomes` reads)."""
    from .values import to_decimal

    def one(measure: m.Measure, v):
        kind = measure.ty.kind
        if kind == BOOL:
            return bool(v)
        if kind == DATE:
            return v.isoformat()
        if kind in (COUNT, DAYS):
            return int(v)
        if kind == MONEY:
            return f"{to_decimal(v)} {contract.currency}"
        if kind == SHARE:
            return f"{to_decimal(v * 100)} %"
        return str(to_decimal(v))

    data: dict = {}
    for name, v in values.items():
        measure = contract.measures[name]
        data[name] = {p: one(measure, x) for p, x in v.items()} if isinstance(v, dict) else one(measure, v)
    return data


def outcome_files(contract: m.Contract) -> st.SearchStrategy[dict]:
    return outcomes(contract).map(lambda v: to_file(contract, v))


def raised(contract: m.Contract, values: dict, name: str) -> st.SearchStrategy[dict]:
    """The same outcomes with measure `name` as high or higher (in every period), within bounds:
    the second outcome set of a monotonicity check (`better lower` means the payout must not rise)."""
    measure = contract.measures[name]
    lower, upper = _bounds(measure)
    sign = 1
    scale = 1 if measure.ty.kind == COUNT else 100

    def move(x: Fraction, step: int) -> Fraction:
        y = x + sign * Fraction(step, scale)
        if upper is not None:
            y = min(y, upper)
        if lower is not None:
            y = max(y, lower)
        return y if (y - x) * sign >= 0 else x

    def build(steps):
        current = values[name]
        if isinstance(current, dict):
            new = {p: move(x, steps[i % len(steps)]) for i, (p, x) in enumerate(current.items())}
        else:
            new = move(current, steps[0])
        return {**values, name: new}

    return st.lists(st.integers(0, 10_000_000), min_size=1, max_size=4).map(build)


def check_outcomes(contract: m.Contract, values: dict, raised_values: dict | None = None) -> list[str]:
    """The properties that fail for these outcomes (and, for monotonicity, with each measure raised)."""
    from .evaluate import EvaluationError, compile_contract
    from .verify import properties

    evaluator = compile_contract(contract)
    try:
        settlement = evaluator.evaluate(values)
    except EvaluationError:
        return []  # division by zero: `sibc verify` reports it as the property `defined`
    failed = []
    for prop in properties(contract):
        if prop.concrete is None:
            continue
        if prop.copies == 2:
            name = prop.key.split(":", 1)[1]
            if raised_values is None or prop.key != f"monotone:{name}" or name not in raised_values:
                continue
            try:
                after = evaluator.evaluate(raised_values[name])
            except EvaluationError:
                continue
            if not prop.concrete([values, raised_values[name]], [settlement, after]):
                failed.append(prop.key)
        elif not prop.concrete([values], [settlement]):
            failed.append(prop.key)
    return failed


def contract_test(path: str | Path, max_examples: int = 100):
    """A pytest test function that checks the contract's properties for generated outcomes."""
    from . import load_contract

    contract = load_contract(path)
    monotone = [n for n, msr in contract.measures.items() if msr.better]

    @st.composite
    def cases(draw):
        values = draw(outcomes(contract))
        better = {name: draw(raised(contract, values, name)) for name in monotone}
        return values, better

    @settings(max_examples=max_examples, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(cases())
    def test(case):
        values, better = case
        failed = check_outcomes(contract, values, better)
        assert not failed, f"{Path(path).name}: {failed} fail for outcomes {to_file(contract, values)}"

    test.__name__ = f"test_{Path(path).stem}"
    return test
