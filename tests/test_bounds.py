"""Proofs by bounds (sibdsl/bounds.py): the settlement program run on intervals.

Sound: on generated contracts every settled line lies within its interval, and every property the
bounds prove is not violated when z3 is given the full problem. Not a shortcut: a property the
bounds cannot decide (a subtraction, a guarantee tighter than the card's cap) still goes to z3,
which finds it violated."""

from __future__ import annotations

import itertools
import os
from fractions import Fraction
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sibdsl import Source, check_source
from sibdsl.bounds import bounds
from sibdsl.evaluate import EvaluationError, Evaluator
from sibdsl.semantics.program import lower
from sibdsl.testing import outcomes
from sibdsl.units import DATE
from sibdsl.verify import PROVED, VIOLATED, Verifier

from .contractgen import generated

EXAMPLES = int(os.environ.get("SIB_DIFF_EXAMPLES", "25"))
ROOT = Path(__file__).resolve().parent.parent


def checked(text: str):
    contract, diagnostics = check_source(Source("bounds.sib", text))
    errors = [d for d in diagnostics if d.code.startswith("E")]
    assert contract is not None and not errors, [d.message for d in errors]
    return contract


def within(value, interval) -> bool:
    v = Fraction(value)
    return (interval.lo is None or interval.lo <= v) and (interval.hi is None or v <= interval.hi)


def in_domain(contract, row) -> bool:
    for name, measure in contract.measures.items():
        if measure.ty.kind != DATE:
            continue
        values = row[name].values() if isinstance(row[name], dict) else [row[name]]
        for v in values:
            if (measure.lower is not None and v < measure.lower) or (measure.upper is not None and v > measure.upper):
                return False
    return True


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_every_settled_line_lies_within_its_bounds(data):
    contract = checked(data.draw(generated(), label="contract"))
    b = bounds(contract)
    program = lower(contract)
    # a waterfall's lines are the same payment and period, to other recipients, one per step (issue 14)
    where = {(ln.payment, ln.period, ln.recipient, ln.clause.name): b.lines[ln.index]
             for ln in program.lines if not ln.top_up}
    rows = data.draw(st.lists(outcomes(contract), min_size=1, max_size=6), label="outcomes")
    evaluator = Evaluator(contract)
    for row in rows:
        if not in_domain(contract, row):  # the generator draws dates from any year; bounds hold on the domain
            continue
        try:
            settlement = evaluator.evaluate(row)
        except EvaluationError:
            assert not b.defined, row  # a division failed: the bounds must not have proved it cannot
            continue
        for ln in settlement.lines:
            key = (ln.payment, ln.period, ln.recipient, ln.clause.name)
            if key in where and ln.payment in contract.payments:
                assert within(ln.amount, where[key]), (*key, ln.amount)
        assert within(settlement.total, b.total), (settlement.total, b.total)


@settings(max_examples=max(5, EXAMPLES // 5), deadline=None, suppress_health_check=list(HealthCheck))
@given(generated())
def test_what_the_bounds_prove_z3_does_not_refute(text):
    contract = checked(text)
    by_bounds = Verifier(contract, timeout=2.0)
    solver = Verifier(contract, timeout=2.0, bounds=False)
    for prop in by_bounds.properties:
        if prop.copies != 1 or not by_bounds._by_bounds(prop):
            continue
        verdict = solver.prove(prop)
        assert verdict.method == "solver"
        assert verdict.status != VIOLATED, (prop.key, verdict.reason)


CARD = """contract "Card"
  currency GBP
  rounding 1 GBP half up
party council "Council": payer
party fund "Fund": investor
periods quarters: q1 2020-01-01 to 2020-03-31, q2 2020-04-01 to 2020-06-30
cohort young_people "Care leavers": size 10
ratecard care "Rate card" per quarters from council to fund due 30 days after end: {
  soft "Soft outcome": 220 GBP,
  level1 "Level 1 qualification": 1 760 GBP cap 10 000 GBP,
  cap per participant 8 200 GBP,
  total cap 20 000 GBP in claim order,
}
guarantee capped: total <= 20 000 GBP
guarantee tighter: total <= 15 000 GBP
"""


def test_a_rate_card_is_proved_by_bounds_and_a_tighter_guarantee_goes_to_z3():
    verdicts = {v.key: v for v in Verifier(checked(CARD)).verify()}
    for key in ("defined", "nonnegative:care.soft", "nonnegative:care.level1", "guarantee:capped"):
        assert verdicts[key].status == PROVED and verdicts[key].method == "bounds", key
        assert "proved by bounds" in verdicts[key].reason
    tighter = verdicts["guarantee:tighter"]  # the cap allows 20 000: bounds cannot prove 15 000
    assert tighter.method == "solver" and tighter.status == VIOLATED
    assert tighter.settlements and tighter.settlements[0].total > 15000


SUBTRACTION = """contract "Net"
  currency SEK
  rounding 1 SEK half up
party city "City": payer
party fund "Fund": investor
measure saved "Saved": money
measure spent "Spent": money
payment gross = saved from city to fund
payment net = saved - spent from city to fund
payment credit = -100 SEK from city to fund
"""


def test_a_subtraction_and_a_negative_price_go_to_z3_and_are_found_negative():
    verdicts = {v.key: v for v in Verifier(checked(SUBTRACTION)).verify()}
    assert verdicts["nonnegative:gross"].method == "bounds" and verdicts["nonnegative:gross"].status == PROVED
    for key in ("nonnegative:net", "nonnegative:credit"):
        assert verdicts[key].method == "solver", key
        assert verdicts[key].status == VIOLATED, (key, verdicts[key].reason)
        assert any(ln.amount < 0 for ln in verdicts[key].settlements[0].lines)


FLOORS = """contract "Floors"
  currency SEK
  rounding 1 SEK half up
party city "City": payer
party fund "Fund": investor
measure saved "Saved": money
payment base = saved from city to fund
floor kept: base at 1 000 SEK
payment bonus = saved / 2 from city to fund
floor cut: bonus at 50 000 SEK
cap ceiling: total at 40 000 SEK
"""


def test_a_floor_is_proved_by_bounds_unless_a_later_cut_may_take_from_it():
    contract = checked(FLOORS.replace("floor cut: bonus at 50 000 SEK\ncap ceiling: total at 40 000 SEK\n", ""))
    kept = {v.key: v for v in Verifier(contract).verify()}["floor:kept"]
    assert kept.status == PROVED and kept.method == "bounds"
    verdicts = {v.key: v for v in Verifier(checked(FLOORS)).verify()}
    assert verdicts["floor:cut"].method == "solver" and verdicts["floor:cut"].status == VIOLATED
    assert verdicts["cap:ceiling"].method == "bounds" and verdicts["cap:ceiling"].status == PROVED


def test_rounding_is_monotone_so_bounds_may_round_the_ends():
    from decimal import Decimal

    from sibdsl.values import ROUNDING_MODES, Rounding

    xs = [Fraction(n, 8) for n in range(-400, 401)]
    for mode in ROUNDING_MODES:
        for step in (Decimal(1), Decimal("0.5"), Decimal("0.01"), Decimal(100)):
            rounded = [Rounding(step, mode).apply(x) for x in xs]
            assert all(a <= b for a, b in itertools.pairwise(rounded)), (mode, step)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_every_settled_line_lies_within_the_bounds_of_its_case(data):
    """bounds.cases: the run with the outcome's yes/no measures held at their values bounds its
    settlement — the lower facts (a cut leaves at least min(Σ, level); a total floor's top-up makes
    Σ max(Σ, level)) and a gate's cut where its condition is known to fail included."""
    from sibdsl.bounds import cases
    from sibdsl.units import BOOL

    contract = checked(data.draw(generated(), label="contract"))
    program = lower(contract)
    runs = cases(contract, program)
    flags = [name for name, ms in contract.measures.items() if ms.ty.kind == BOOL and not ms.ty.series]
    rows = data.draw(st.lists(outcomes(contract), min_size=1, max_size=6), label="outcomes")
    evaluator = Evaluator(contract)
    for row in rows:
        if not in_domain(contract, row):
            continue
        if len(runs) > 1:
            b = runs[sum(1 << i for i, name in enumerate(flags) if row[name])]
        else:
            b = runs[0]
        try:
            settlement = evaluator.evaluate(row)
        except EvaluationError:
            continue
        where = {(ln.payment, ln.period, ln.recipient, ln.clause.name): b.lines[ln.index]
                 for ln in program.lines if not ln.top_up}
        for ln in settlement.lines:
            key = (ln.payment, ln.period, ln.recipient, ln.clause.name)
            if key in where and ln.payment in contract.payments:
                assert within(ln.amount, where[key]), (*key, ln.amount)
        assert within(settlement.total, b.total), (settlement.total, b.total)


def test_norrkopings_promises_are_proved_without_the_solver():
    """Its two gates, its floor and `floor_holds` where the programme was carried out, both return
    limits and the school gate's guarantee went to z3 (docs/performance.md, fourth round): each yes/no
    case and the lower facts decide them now, and z3, given each in full, proves each too."""
    from sibdsl import load_contract

    contract = load_contract(ROOT / "contracts" / "norrkoping.sib")
    verifier = Verifier(contract)
    verdicts = verifier.verify()
    assert {v.method for v in verdicts} == {"bounds", "structure"}
    assert all(v.status == PROVED for v in verdicts)
    solver = Verifier(contract, bounds=False)
    for key in ("gate:activity", "gate:school_gate", "floor:activity_floor", "return:max_return",
                "return:total_return", "guarantee:floor_holds", "guarantee:principal_gate"):
        prop = next(p for p in solver.properties if p.key == key)
        assert solver.prove(prop).status == PROVED, key


def test_what_the_bounds_prove_on_every_shipped_contract_z3_proves():
    from sibdsl import load_contract

    proved = 0
    for path in sorted((ROOT / "contracts").rglob("*.sib")):
        contract = load_contract(path)
        by_bounds = Verifier(contract)
        solver = Verifier(contract, bounds=False)
        for prop in by_bounds.properties:
            if prop.copies == 1 and by_bounds._by_bounds(prop):
                assert solver.prove(prop).status == PROVED, (path.name, prop.key)
                proved += 1
    assert proved > 100  # not vacuous: the rate cards' lines, Norrköping's gates, floors and limits


def test_a_cut_keeps_its_lines_above_the_level_and_a_later_cap_may_not():
    """The lower fact of a gate on the total: what it leaves is at least min(Σ, level), so a floor
    below the gate's level after it holds by bounds; a later cap on one of its lines breaks the fact,
    and z3, given the problem, finds the floor violated."""
    text = """contract "Kept"
  currency SEK
  rounding 1 SEK half up
party city "City": payer
party fund "Fund": investor
measure saved "Saved": money
measure ok "Ok": boolean
payment base = 1 000 SEK from city to fund
payment extra = saved from city to fund
gate g: total above 5 000 SEK requires ok
floor f: total at 1 000 SEK
"""
    verdicts = {v.key: v for v in Verifier(checked(text)).verify()}
    assert verdicts["floor:f"].status == PROVED and verdicts["floor:f"].method == "bounds"
    assert verdicts["gate:g"].status == PROVED and verdicts["gate:g"].method == "bounds"
    verdicts = {v.key: v for v in Verifier(checked(text + "cap c: total at saved\n")).verify()}
    assert verdicts["floor:f"].method == "solver" and verdicts["floor:f"].status == VIOLATED


def test_recording_changes_no_bound_so_one_run_serves_properties_and_dead_clauses():
    """bounds.recorded_cases hands the properties' proofs the runs the dead-clause analysis records
    in: recording only adds what each step read and which rows it may take, so every case's lines,
    payments, total, definedness, step values and facts are those of the run without it."""
    from sibdsl import load_contract
    from sibdsl.bounds import cases

    recorded_something = set()
    for path in sorted((ROOT / "contracts").glob("*.sib")):
        contract = load_contract(path)
        program = lower(contract)
        plain, recorded = cases(contract, program), cases(contract, program, record=True)
        assert plain == recorded, path.name
        assert all(r.values for r in recorded), path.name
        if any(r.before for r in recorded):
            recorded_something.add(path.name)
    assert "norrkoping.sib" in recorded_something  # the comparison is not of two plain runs


def test_a_check_runs_each_case_of_the_yes_no_measures_once(monkeypatch):
    """`sibc check` of Norrköping (two yes/no measures: four cases) proves its properties and looks
    for dead clauses on the same four runs, plus the one with both measures either value: five runs
    of the settlement on intervals, not nine."""
    from sibdsl import bounds as module, load_contract, proofcache
    from sibdsl.source import Source

    path = ROOT / "contracts" / "norrkoping.sib"
    contract = load_contract(path)
    runs = []
    real = module.bounds
    monkeypatch.setattr(module, "bounds", lambda *a, **k: runs.append(a[3:] or k.get("fixed")) or real(*a, **k))
    records = proofcache.verify_cached(contract, Source(str(path), path.read_text(encoding="utf-8")), use_cache=False)
    assert sum(r["status"] == "proved" for r in records) == 16 and sum(r["status"] == "dead" for r in records) == 4
    assert len(runs) == 5
