"""The vectorised evaluator equals the scalar one exactly, line by line, on random scenarios."""

from __future__ import annotations

import datetime
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sibdsl import Source, check_source, compile_contract, load_contract
from sibdsl import model as m
from sibdsl.evaluate import EvaluationError
from sibdsl.units import BOOL, COUNT, DATE, DAYS, MONEY, SHARE
from sibdsl.values import Rounding
from sibdsl.vector import R, compile_vector, inputs_from_outcomes, round_to, to_rational

from .conftest import HEADER, model

ROOT = Path(__file__).resolve().parent.parent
CONTRACTS = sorted([*ROOT.glob("contracts/*.sib"), *ROOT.glob("contracts/variants/*.sib"),
                    ROOT / "tests/corpus/valid/all_constructs.sib"])


def _value(measure, draw):
    kind = measure.ty.kind
    lo = measure.lower if measure.lower is not None else None
    hi = measure.upper if measure.upper is not None else None
    if kind == BOOL:
        return draw(st.booleans())
    if kind == DATE:
        return draw(st.dates(datetime.date(2015, 1, 1), datetime.date(2022, 12, 31)))
    if kind == SHARE:
        return Fraction(draw(st.integers(0, 10**6)), 10**6)
    if kind in (COUNT, DAYS):
        return Fraction(draw(st.integers(int(lo or 0), int(hi if hi is not None else 20_000))))
    if kind == MONEY:
        # amounts near the contract's thresholds matter most: öre anywhere in 0..200 MSEK
        return Fraction(draw(st.one_of(st.integers(0, 2 * 10**10), st.integers(5 * 10**9, 7 * 10**9))), 100)
    return Fraction(draw(st.integers(-10**6, 10**6)), draw(st.sampled_from([1, 3, 100, 1000])))


@st.composite
def scenarios(draw, contract, n):
    rows = []
    for _ in range(n):
        row = {}
        for name, measure in contract.measures.items():
            if measure.ty.series:
                row[name] = {p.name: _value(measure, draw) for p in contract.series[measure.ty.series].periods}
            else:
                row[name] = _value(measure, draw)
        rows.append(row)
    return rows


def assert_same(contract, rows):
    scalar = compile_contract(contract)
    vector = compile_vector(contract)(inputs_from_outcomes(contract, rows), len(rows))
    for i, row in enumerate(rows):
        try:
            s = scalar.evaluate(row)
        except EvaluationError:
            assert vector.failed[i]
            continue
        assert not vector.failed[i]
        expected: dict = {}
        for ln in s.lines:
            key = (ln.payment, ln.period) if ln.clause.kind in m.PAYMENT_CLAUSES else ("floor", ln.payment, ln.recipient)
            expected[key] = expected.get(key, 0) + Fraction(ln.amount)
        got = {}
        for ln in vector.lines:
            key = (ln.payment, ln.period) if ln.key[0] == "payment" else ("floor", ln.payment, ln.recipient)
            got[key] = got.get(key, 0) + ln.amount.value_at(i)
        # a top-up line that pays nothing: absent, or lifted and then cut back to zero by a cap
        got = {k: v for k, v in got.items() if v != 0 or k[0] != "floor"}
        expected = {k: v for k, v in expected.items() if v != 0 or k[0] != "floor"}
        assert got == expected, (i, row)
        assert vector.total.value_at(i) == Fraction(s.total)
        assert bool(vector.negative[i]) == bool(s.diagnostics)
        for r in s.returns:
            assert vector.received(r.investor).value_at(i) == Fraction(r.received)
        # öre: exact integer minor units
        assert int(vector.minor(vector.total)[i]) == int(Fraction(s.total) * 100)


@pytest.mark.parametrize("path", CONTRACTS, ids=lambda p: p.name)
def test_vector_equals_scalar_on_random_scenarios(path):
    contract = load_contract(path)

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(scenarios(contract, 8))
    def run(rows):
        assert_same(contract, rows)

    run()


def test_norrkoping_event_masks():
    contract = load_contract(ROOT / "contracts/norrkoping.sib")
    out = compile_vector(contract)({
        "actual_costs": to_rational([62_000_000, 0, 40_000_000, 60_000_000]),
        "reference_costs": to_rational([61_000_000, 61_000_000, 61_000_000, 61_000_000]),
        "school_improved": np.array([True, True, False, True]),
        "completed": np.array([True, True, True, False]),
    }, 4)
    # no savings; 60 MSEK saved (4 + 6 + 2 MSEK, exactly the cap); 20 MSEK saved without better
    # school results (cut back to the loan by the gate); not carried out (no activity payment)
    assert list(out.minor(out.total) // 100) == [4_000_000, 12_000_000, 10_000_000, 0]
    assert list(out.events["gate activity"]) == [False, False, False, True]
    assert list(out.events["gate school_gate"]) == [False, False, True, False]
    assert not out.events["cap ceiling"].any() and not out.events["floor activity_floor"].any()


@pytest.mark.parametrize("mode", ["half up", "half even", "half down", "up", "down"])
@given(st.lists(st.integers(-10**9, 10**9), min_size=1, max_size=30), st.sampled_from([1, 2, 3, 7, 200, 1000]),
       st.sampled_from(["1", "0.01", "0.5", "100"]))
def test_round_to_matches_scalar_rounding(mode, nums, den, step):
    from decimal import Decimal
    rounding = Rounding(Decimal(step), mode)
    r = round_to(R(np.array(nums, dtype=np.int64), den), rounding)
    assert [r.value_at(i) for i in range(len(nums))] == [rounding.apply(Fraction(n, den)) for n in nums]


VARIABLE_DIVISION = """
measure n: count
measure spent: money
measure ok: boolean
define per = if n > 0 then spent / n else 0 SEK
payment p = min(per, 1 000 000 SEK) * 3 / 7 from city to fund due 2020-01-01
payment q = 10 SEK / n from city to fund due 2020-01-01 when ok
"""


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 10**9), st.booleans()), min_size=1, max_size=10))
def test_division_by_a_measure_falls_back_to_exact_fractions(rows):
    contract = model(VARIABLE_DIVISION, HEADER)
    data = [{"n": Fraction(n), "spent": Fraction(s, 100), "ok": ok} for n, s, ok in rows]
    assert_same(contract, data)


def test_overflowing_products_switch_to_python_ints():
    big = R(np.array([2**40, -(2**40)], dtype=np.int64), 1)
    from sibdsl.vector import mul
    prod = mul(big, big)
    assert prod.bound is None and [prod.value_at(0), prod.value_at(1)] == [2**80, 2**80]


def test_benchmark_script_runs_and_its_comparisons_agree():
    """benchmarks/bench.py --smoke: every benchmark asserts both sides compute the same result
    before timing; no timing is checked here."""
    import subprocess
    import sys

    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench.py"), "--smoke"],
                            capture_output=True, text=True, cwd=ROOT, timeout=900, check=False)  # a bound, not a timing
    assert result.returncode == 0, result.stderr
    for heading in ("scalar evaluation", "vectorised evaluation", "sibc check of a generated", "CLI start-up",
                    "sibc simulate", "sibc verify", "check of a flat sum"):
        assert heading in result.stdout


@pytest.mark.parametrize("args, code, said", [
    (["--help"], 0, "parts: scalar, vector, check, startup, simulate, verify, budget, hostile, diff, edit, keystrokes, collector"),
    (["nosuch"], 1, "no part 'nosuch'"),
])
def test_benchmark_script_says_its_usage_rather_than_running(args, code, said):
    """`bench.py --help` printed nothing and ran every benchmark (minutes); a part it does not have
    was a KeyError's traceback."""
    import subprocess
    import sys

    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench.py"), *args],
                            capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)
    assert result.returncode == code
    assert said in result.stdout + result.stderr and "Traceback" not in result.stderr
    assert "ratio" not in result.stdout and "×" not in result.stdout  # no benchmark ran


def test_the_python_example_in_docs_simulate_runs():
    import re

    text = (ROOT / "docs" / "simulate.md").read_text(encoding="utf-8")
    (code,) = re.findall(r"^```python\n(.*?)^```$", text, flags=re.MULTILINE | re.DOTALL)
    namespace: dict = {}
    import os

    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        exec(compile(code, "docs/simulate.md", "exec"), namespace)  # noqa: S102 — our own doc
    finally:
        os.chdir(cwd)
    assert list(namespace["totals"]) == [4_000_000_00, 12_000_000_00]


# A generated contract (found by test_semantics' three back ends) whose 8 % a year return limit
# brings an exact discount factor with a long denominator into a sum with a value that is 0 in every
# scenario: the value's bounds fit int64, the kernel's factor did not (OverflowError in numpy).
_LONG_FACTOR = """contract "Generated"
  languages en
  currency SEK
  rounding 1 SEK half up
party city "City": payer
party fund "Fund": investor
party bank "Bank": investor
party ngo "Provider": provider
term 2020-01-01 to 2023-12-31
periods year:
  y1 2021-01-01 to 2021-12-31,
  y2 2022-01-01 to 2022-12-31
cohort group: size 40
investment loan_a: 400 000 SEK from fund on 2020-01-01
measure spent: money between 0 SEK and 2 000 000 SEK
measure base: money between 0 SEK and 2 000 000 SEK
measure rate: share
measure ok: boolean
measure people: count between 0 and 200
measure visits: count per year between 0 and 60
measure started: date between 2020-01-01 and 2023-12-31
measure waited: days between 0 days and 400 days
define saved = max(base - spent, 0 SEK)
define per_visit = if visits > 0 then 12 000 SEK / visits else 0 SEK
baseline indexed_base = base
  indexed 2 % per year for 3 years
table coupon "Coupon": step { below 40 %: 0 %, from 40 %: 2 %, from 75 %: 3.5 % }
table bonus: linear { below: 0 SEK, 20 %: 10 000 SEK, 60 %: 90 000 SEK, above: 120 000 SEK }
payment p0 = spent
  from city to fund due 2023-06-30
payment p1 = spent
  from city to fund due 2023-06-30
ratecard card from city to fund per year due 30 days after end: {
  o0: 220 SEK,
}
gate g_p0: p0 requires ok
floor f_p0: p0 at 1 000 SEK
cap c_p0: p0 at spent
floor f_p1: p1 at 5 % of spent when ok
cap pc: payments from city at 250 000 SEK
cap per participant at 9 000 SEK
return limit r1: 8 % per year
"""


def test_a_kernel_factor_beyond_int64_goes_to_the_exact_path():
    contract, diagnostics = check_source(Source("g.sib", _LONG_FACTOR))
    assert contract is not None, diagnostics
    zero = {"y1": Fraction(0), "y2": Fraction(0)}
    row = {"spent": Fraction(0), "base": Fraction(0), "rate": Fraction(0), "ok": False, "people": Fraction(0),
           "visits": dict(zero), "started": datetime.date(2000, 1, 1), "waited": Fraction(0), "card.o0": dict(zero)}
    assert_same(contract, [row])


# A stream cap whose payment's paid-so-far is read acts right after that payment's line, before the
# rate card's lines are computed; the bound it proved of the total of the lines then existing
# (1 000 SEK) was once kept as a bound of the total of all lines, so the cap on payments from city
# could not act in a batch where the card's lines may be 0 (the seed's failure in test_semantics).
_STALE_TOTAL = """periods year:
  y1 2021-01-01 to 2021-12-31,
  y2 2022-01-01 to 2022-12-31
payment p = 1 000 SEK from city to fund per year during y2 due 2023-06-30
payment q = 10 % of to_date(p) from city to fund per year due 2023-06-30
ratecard card from city to fund per year due 30 days after end: {
  o0: 220 SEK,
}
cap s: p over all periods at 120 000 SEK
cap pc: payments from city at 250 000 SEK
"""


def test_a_bound_of_the_total_proved_before_later_lines_does_not_bound_them():
    contract = model(_STALE_TOTAL)
    rows = [{"card.o0": {"y1": Fraction(0), "y2": Fraction(n)}} for n in (1_200, 0, 1_100)]
    out = compile_vector(contract)(inputs_from_outcomes(contract, rows), len(rows))
    card = next(ln for ln in out.lines if ln.payment == "card.o0" and ln.period == "y2")
    # 1 000 + 264 000 SEK is 15 000 over the cap: the card, declared last, gives it; 1 000 + 242 000 is under
    assert [card.amount.value_at(i) for i in range(3)] == [249_000, 0, 242_000]
    assert list(out.events["cap pc"]) == [True, False, False]
    assert list(out.minor(out.total) // 100) == [250_000, 1_000, 243_000]
    assert_same(contract, rows)
    for row in rows:  # and each alone: the answer does not depend on the rest of the batch
        assert_same(contract, [row])


# Hypothesis found it (test_semantics.py::test_three_back_ends_agree_on_generated_contracts): `pr` reads
# `to_date(p0)`, so the stream cap `sg` also runs after each of its lines, while `pr`'s lines are not yet
# computed; the bounds of the total it proved (at most 52 000) were then read as the bounds of the total of
# every line at the total floor, which took max(shortfall, 0) to be the shortfall: a top-up of -200 SEK.
RUNNING_STREAM_THEN_TOTAL_FLOOR = """contract "Generated"
  languages en
  currency SEK
  rounding 1 SEK half up
party city "City": payer
party fund "Fund": investor
party bank "Bank": investor
party ngo "Provider": provider
term 2020-01-01 to 2023-12-31
periods year:
  y1 2021-01-01 to 2021-12-31,
  y2 2022-01-01 to 2022-12-31
cohort group: size 40
investment loan_a: 400 000 SEK from fund on 2020-01-01
measure spent: money between 0 SEK and 2 000 000 SEK
measure base: money between 0 SEK and 2 000 000 SEK
measure rate: share
measure ok: boolean
measure people: count between 0 and 200
measure visits: count per year between 0 and 60
measure started: date between 2020-01-01 and 2023-12-31
measure waited: days between 0 days and 400 days
define saved = max(base - spent, 0 SEK)
define per_visit = if visits > 0 then 12 000 SEK / visits else 0 SEK
baseline indexed_base = base
  indexed 2 % per year for 3 years
table coupon "Coupon": step { below 40 %: 0 %, from 40 %: 2 %, from 75 %: 3.5 % }
table bonus: linear { below: 0 SEK, 20 %: 10 000 SEK, 60 %: 90 000 SEK, above: 120 000 SEK }
payment p0 = visits * 1 000 SEK
  from city to fund per year due 2023-06-30
payment p1 = spent
  from city to fund due 2023-06-30
payment pr = if to_date(p0) > 20 000 SEK then 10 % of previous(p0) else 1 000 SEK
  from city to ngo per year due 2023-06-30
gate g_p0: p0 requires not ok during y1
floor f_p0: p0 at 1 000 SEK
gate g_p1: p1 requires ok
floor f_p1: p1 at 1 000 SEK
floor f_pr: pr at 1 000 SEK
cap sg: p0, p1 over all periods at 150 000 SEK
cap pc: payments from city at 250 000 SEK
cap per participant at 9 000 SEK
floor tf: total at 60 000 SEK
  from city to fund due 2023-12-31
"""


@pytest.mark.parametrize("visits", [(52, 0), (0, 0), (60, 60), (10, 50)])
def test_a_total_floor_after_a_running_stream_cap_sees_every_line(visits):
    contract, diagnostics = check_source(Source("g.sib", RUNNING_STREAM_THEN_TOTAL_FLOOR))
    assert contract is not None, [d.message for d in diagnostics]
    row = {"spent": Fraction(0), "base": Fraction(0), "rate": Fraction(0), "ok": False, "people": Fraction(0),
           "visits": {"y1": Fraction(visits[0]), "y2": Fraction(visits[1])},
           "started": datetime.date(2000, 1, 1), "waited": Fraction(0)}
    assert_same(contract, [row])
    if visits == (52, 0):  # the total is 60 200 SEK: above the floor, so no top-up
        s = compile_contract(contract).evaluate(row)
        assert s.total == 60_200 and not [ln for ln in s.lines if ln.payment == "tf" and ln.amount]
