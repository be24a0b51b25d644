"""The compiled plans (vector_plan.py) equal the scalar evaluator on what the compiler decides:
block boundaries, value ranges near the int64 limits, negative amounts, every rounding mode,
cuts that act in some scenarios of a block only, event masks, and plans reused across calls."""

from __future__ import annotations

import datetime
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sibdsl import compile_contract, load_contract
from sibdsl import model as m
from sibdsl.evaluate import EvaluationError
from sibdsl.units import BOOL, DATE
from sibdsl.values import Rounding
from sibdsl.vector import R, _coarse, _covers, _hull, compile_vector, inputs_from_outcomes, to_rational
from sibdsl.vector import kernels as vector_kernels

from .conftest import model
from .test_vector import CONTRACTS, VARIABLE_DIVISION, scenarios

ROOT = Path(__file__).resolve().parent.parent
EVENT = {"gate failed": "gate", "floor": "floor", "floor top-up": "floor", "cap": "cap",
         "period cap": "cap", "participant cap": "cap", "return limit": "return limit",
         "stream floor": "floor", "stream cap": "cap", "party cap": "cap",  # issue 15
         "rate card cap": "cap",  # issue 15: a card's caps are events of its clause too
         "first-loss cover": "cover", "waterfall": "waterfall"}  # issue 14
SLOW = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def header(rounding: str = "1 SEK half up") -> str:
    return f"""contract "Test"
  languages en
  currency SEK
  rounding {rounding}
party city "City": payer
party fund "Fund": investor
party ngo "NGO": provider
"""


def rows_of(contract, inputs: dict, n: int) -> list[dict]:
    """Outcome mappings for the scalar evaluator from columns (R, bool arrays, datetime64)."""
    rows = [{} for _ in range(n)]
    for name, measure in contract.measures.items():
        col = inputs[name]
        for i in range(n):
            if measure.ty.kind == BOOL:
                rows[i][name] = bool(col[i])
            elif measure.ty.kind == DATE:
                rows[i][name] = col[i].astype(datetime.date)
            else:
                rows[i][name] = Fraction(int(col.num[i]), col.den)
    return rows


def assert_matches(contract, rows: list[dict], out) -> None:
    """Line by line, the total, the investors, öre, negative, failed and every event mask."""
    scalar = compile_contract(contract)
    assert len(out.failed) == len(out.negative) == len(rows)
    for i, row in enumerate(rows):
        try:
            s = scalar.evaluate(row)  # exact in any Decimal context (values.EXACT), near 2**63 too
        except EvaluationError:
            assert out.failed[i], i
            continue
        assert not out.failed[i], i
        expected: dict = {}
        for ln in s.lines:
            key = (ln.payment, ln.period) if ln.clause.kind in m.PAYMENT_CLAUSES else ("floor", ln.payment)
            expected[key] = expected.get(key, 0) + Fraction(ln.amount)
        got: dict = {}
        for ln in out.lines:
            key = (ln.payment, ln.period) if ln.key[0] == "payment" else ("floor", ln.payment)
            got[key] = got.get(key, 0) + ln.amount.value_at(i)
        got = {k: v for k, v in got.items() if v != 0 or k[0] != "floor"}
        assert got == expected, (i, row)
        assert out.total.value_at(i) == Fraction(s.total), (i, row)
        assert bool(out.negative[i]) == bool(s.diagnostics), (i, row)
        for r in s.returns:
            assert out.received(r.investor).value_at(i) == Fraction(r.received)
        acted = {f"{EVENT[step.kind]} {step.clause.name}" for ln in s.lines for step in ln.steps
                 if step.kind in EVENT}
        assert {name for name, mask in out.events.items() if mask[i]} == acted, (i, row)
    if 100 % out.total.den == 0 and all(abs(out.total.value_at(i)) * 100 < 2**63 for i in range(len(rows))):
        ore = out.minor(out.total)  # int64 öre; amounts that do not fit raise OverflowError instead
        assert [Fraction(int(v), 100) for v in ore] == [out.total.value_at(i) for i in range(len(rows))]


# ---------------------------------------------------------------- blocks
@pytest.mark.parametrize("path", CONTRACTS, ids=lambda p: p.name)
def test_every_block_size_gives_the_scalar_settlement(path):
    """n not a multiple of the block, one scenario per block, one block for all."""
    contract = load_contract(path)

    @SLOW
    @given(st.integers(1, 13).flatmap(lambda n: scenarios(contract, n)), st.sampled_from([1, 2, 3, 5, 64]))
    def run(rows, block):
        inputs = inputs_from_outcomes(contract, rows)
        out = compile_vector(contract, block=block)(inputs, len(rows))
        assert_matches(contract, rows, out)
        whole = compile_vector(contract)(inputs, len(rows))
        for a, b in zip(out.lines, whole.lines):
            n = len(rows)
            assert [a.amount.value_at(i) for i in range(n)] == [b.amount.value_at(i) for i in range(n)]
        for name in whole.events:
            assert np.array_equal(out.events[name], whole.events[name])

    run()


def test_no_scenarios():
    contract = load_contract(ROOT / "contracts/norrkoping.sib")
    empty = R(np.zeros(0, dtype=np.int64), 100)
    out = compile_vector(contract)({"actual_costs": empty, "reference_costs": empty,
                                    "school_improved": np.zeros(0, bool), "completed": np.zeros(0, bool)}, 0)
    assert out.minor(out.total).shape == (0,) and out.failed.shape == (0,)
    assert all(mask.shape == (0,) for mask in out.events.values())


def test_a_cut_that_acts_in_some_scenarios_of_a_block_and_not_others():
    """The school gate cuts only where savings exceed the loan without better school results;
    blocks of 3 hold none, one or several such scenarios, and the cut reaches the second line
    (the outcome payment) only when the bonus is not enough."""
    contract = load_contract(ROOT / "contracts/norrkoping.sib")
    costs = [62_000_000, 0, 40_000_000, 60_000_000, 30_000_000, 45_000_000, 10_000_000, 50_000_000,
             20_000_000, 5_000_000, 61_000_000]
    n = len(costs)
    school = np.array([True, True, False, True, False, True, False, False, True, False, False])
    inputs = {"actual_costs": R(np.array(costs, dtype=np.int64) * 100, 100),
              "reference_costs": R(np.full(n, 61_000_000_00, dtype=np.int64), 100),
              "school_improved": school, "completed": np.arange(n) % 4 != 3}
    for block in (1, 2, 3, 4, n, 1000):
        out = compile_vector(contract, block=block)(inputs, n)
        assert_matches(contract, rows_of(contract, inputs, n), out)
        assert 0 < out.events["gate school_gate"].sum() < n


# ---------------------------------------------------------------- value ranges
SIGNS = """
measure x: money
measure y: money
measure r: number
measure ok: boolean
investment loan: 1 000 SEK from fund on 2020-01-01
define d = x - y
payment a = d * 3 / 7 from city to fund due 2021-01-01
payment b = min(d, 0 SEK) / 3 from city to fund due 2021-01-01
payment c = max(d, 0 SEK) * 5 / 12 from city to ngo due 2021-01-01
payment e = r * x / 1000 from city to fund due 2021-01-01 when ok
payment f = if x > y then 2 SEK else -(y / 9) from city to fund due 2021-01-01
floor c at 1 SEK when ok
cap c at 1 000 SEK
gate total above 2 000 SEK requires ok
floor fl: total at 10 SEK when not ok
  from city to fund
cap total at 5 000 SEK
return limit rl: 10 % in total
"""

MODES = ["half up", "half down", "half even", "up", "down"]
STEPS = ["1", "0.01", "0.5", "0.25", "100"]


def columns(nums_x, nums_y, nums_r, ok, den=100):
    return {"x": R(np.array(nums_x, dtype=np.int64), den), "y": R(np.array(nums_y, dtype=np.int64), den),
            "r": R(np.array(nums_r, dtype=np.int64), 1000), "ok": np.array(ok, dtype=bool)}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("step", STEPS)
def test_negative_amounts_and_every_rounding_mode(mode, step):
    """Amounts of either sign, known signs (min(…, 0), max(…, 0)) and unknown, every mode."""
    contract = model(SIGNS, header(f"{step} SEK {mode}"))
    money = st.integers(-10**8, 10**8)

    @SLOW
    @given(st.lists(st.tuples(money, money, st.integers(-10**6, 10**6), st.booleans()),
                    min_size=1, max_size=12), st.sampled_from([1, 4, 1000]))
    def run(data, block):
        xs, ys, rs, ok = zip(*data)
        inputs = columns(xs, ys, rs, ok)
        out = compile_vector(contract, block=block)(inputs, len(data))
        assert_matches(contract, rows_of(contract, inputs, len(data)), out)

    run()


NEAR = st.one_of(st.integers(-(2**63) + 1, 2**63 - 1), st.integers(2**62 - 2**20, 2**62 + 2**20),
                 st.integers(-(2**62) - 2**20, -(2**62) + 2**20), st.integers(-(2**40), 2**40),
                 st.sampled_from([0, 1, -1, 2**63 - 1, -(2**63) + 1, 2**61, -(2**61)]))


@pytest.mark.parametrize("mode", MODES)
def test_values_near_the_int64_limits_stay_exact(mode):
    """Inputs anywhere in int64: sums, products and rounding that would overflow int64 take the
    general path (object arrays) — the result equals the scalar evaluator's exact Fractions."""
    contract = model(SIGNS, header(f"0.01 SEK {mode}"))

    @SLOW
    @given(st.lists(st.tuples(NEAR, NEAR, NEAR, st.booleans()), min_size=1, max_size=8),
           st.sampled_from([1, 3, 64]))
    def run(data, block):
        xs, ys, rs, ok = zip(*data)
        inputs = columns(xs, ys, rs, ok)
        out = compile_vector(contract, block=block)(inputs, len(data))
        assert_matches(contract, rows_of(contract, inputs, len(data)), out)

    run()


def test_a_plan_is_chosen_by_the_inputs_range():
    """The same compiled contract settles small values, then values near 2**63, then small ones
    again: the plan for the small range (all int64) is not used for the large values."""
    contract = model(SIGNS, header())
    vc = compile_vector(contract)
    for scale in (1, 2**60, 1):
        inputs = columns([5 * scale, -3 * scale, 7], [2 * scale, 11, -scale], [999, -1000, 3 * scale],
                         [True, False, True])
        assert_matches(contract, rows_of(contract, inputs, 3), vc(inputs, 3))
    assert len(vc._plans) == 2


def test_a_plan_for_wider_ranges_serves_narrower_ones():
    x = (("x", None), ("int", 100, 0, 1000))
    assert _covers((x,), ((("x", None), ("int", 100, 10, 999)),))
    assert not _covers((x,), ((("x", None), ("int", 100, -1, 999)),))  # a sign the plan did not expect
    assert not _covers((x,), ((("x", None), ("int", 1, 10, 999)),))  # another denominator
    # the hull of two chunks' ranges, unless it would more than double a bound or change its sign
    def col(lo, hi):
        return ((("x", None), ("int", 100, lo, hi)),)
    assert _hull(col(50, 2000), col(60, 1500)) == col(50, 2000)
    assert _hull(col(50, 5000), col(60, 1500)) == col(60, 1500)
    assert _hull(col(-5, 1000), col(60, 1500)) == col(60, 1500)
    assert _hull(col(0, 1000), col(60, 1500)) == col(60, 1500)


def test_chunks_with_drifting_ranges_share_plans_and_stay_exact():
    """Chunks whose extremes differ a little reuse a plan compiled for a range covering them."""
    contract = load_contract(ROOT / "contracts/norrkoping.sib")
    vc = compile_vector(contract, block=16)
    rng = np.random.default_rng(3)
    for _ in range(8):
        n = 40
        costs = np.rint(rng.normal(50e6, 10e6, n).clip(0) * 100).astype(np.int64)
        inputs = {"actual_costs": R(costs, 100),
                  "reference_costs": R(np.rint(rng.uniform(58e6, 64e6, n) * 100).astype(np.int64), 100),
                  "school_improved": rng.random(n) < 0.6, "completed": rng.random(n) < 0.95}
        assert_matches(contract, rows_of(contract, inputs, n), vc(inputs, n))
    assert len({id(plan) for plan in vc._plans.values()}) < 8


def test_a_compiled_contract_pickles_and_serves_threads():
    """A process pool or Dask pickles the compiled contract (its plans are left out and compiled
    again); threads may share one (the plan cache is locked)."""
    import pickle
    from concurrent.futures import ThreadPoolExecutor

    contract = load_contract(ROOT / "contracts/norrkoping.sib")
    vc = compile_vector(contract, block=7)

    def settle(seed):
        rng = np.random.default_rng(seed)
        n = 30
        inputs = {"actual_costs": R(rng.integers(0, 10**10 * (seed + 1), n), 100),
                  "reference_costs": R(rng.integers(0, 10**10, n), 100),
                  "school_improved": rng.random(n) < 0.5, "completed": rng.random(n) < 0.9}
        return inputs, vc(inputs, n)

    settle(0)
    again = pickle.loads(pickle.dumps(vc))
    assert again.block == 7 and not again._plans
    with ThreadPoolExecutor(4) as pool:
        for inputs, out in pool.map(settle, range(10)):
            assert_matches(contract, rows_of(contract, inputs, 30), out)


def test_norrkoping_cap_and_return_limit_are_decided_when_compiling():
    """The bounds of the total show that the 12 MSEK cap and the 8 % return limit cannot act for
    amounts in öre of any size: the plan has no step for them and their events are constant."""
    contract = load_contract(ROOT / "contracts/norrkoping.sib")
    vc = compile_vector(contract)
    n = 300
    rng = np.random.default_rng(7)
    inputs = {"actual_costs": R(rng.integers(0, 10**11, n), 100),
              "reference_costs": R(rng.integers(0, 10**11, n), 100),
              "school_improved": rng.random(n) < 0.5, "completed": rng.random(n) < 0.9}
    out = vc(inputs, n)
    (plan,) = vc._plans.values()
    events = dict(plan.events)
    for name in ("cap ceiling", "return limit max_return"):
        assert plan.outs[events[name]].slot is None and not out.events[name].any()
    assert plan.outs[plan.total].kind == "num"  # int64 throughout
    assert_matches(contract, rows_of(contract, inputs, n), out)


# ---------------------------------------------------------------- the pieces
@pytest.mark.parametrize("mode", MODES)
@given(st.lists(st.integers(-10**12, 10**12), min_size=1, max_size=40), st.sampled_from([1, 3, 7, 100, 6100]),
       st.sampled_from(["1", "0.01", "0.5", "0.25", "100", "5"]), st.sampled_from([1, 0, -1]))
def test_rounding_kernel_is_rounding_apply(mode, nums, den, step, sign):
    """p·round(x·q / (den·p)) for a step p/q, with the sign the plan knows (1: x ≥ 0, -1: x ≤ 0)."""
    if sign:
        nums = [abs(x) * sign for x in nums]
    rounding = Rounding(Decimal(step), mode)
    s = Fraction(Decimal(step))
    kernel = vector_kernels.rounding(mode, s.denominator, den * s.numerator, s.numerator, sign)
    x = np.array(nums, dtype=np.int64)
    got = kernel(x)
    assert list(x) == nums  # the argument is never written
    assert [Fraction(int(v), s.denominator) for v in got] == [rounding.apply(Fraction(v, den)) for v in nums]


@given(st.integers(-(2**64), 2**64), st.integers(0, 2**64))
def test_coarse_ranges_contain_the_range_and_keep_signs(lo, width):
    hi = lo + width
    clo, chi = _coarse(lo, hi)
    assert clo <= lo and chi >= hi
    assert (clo < 0) == (lo < 0) and (chi > 0) == (hi > 0)
    for v in (clo, chi):
        assert abs(v) >> max(0, abs(v).bit_length() - 4) << max(0, abs(v).bit_length() - 4) == abs(v)


def test_minor_units_of_narrow_integer_arrays_do_not_wrap():
    from sibdsl.vector import VectorSettlement
    settled = VectorSettlement(3, [], {}, np.zeros(3, bool), np.zeros(3, bool), Fraction(1))
    amounts = R(np.array([30_000_000, 1, -2], dtype=np.int32), 1)  # SEK; 3·10⁹ öre is beyond int32
    assert list(settled.minor(amounts)) == [3_000_000_000, 100, -200]


def test_to_rational_of_no_values():
    r = to_rational([])
    assert r.num.shape == (0,) and r.num.dtype == np.int64


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(-10**9, 10**9), st.booleans()),
                min_size=1, max_size=10), st.sampled_from([1, 2, 1000]))
def test_division_by_a_measure_in_blocks(rows, block):
    """The Fraction fallback per block; E602 only where the division is on the path taken."""
    contract = model(VARIABLE_DIVISION + "cap total at 500 000 SEK\n", header("0.01 SEK half even"))
    data = [{"n": Fraction(n), "spent": Fraction(s, 100), "ok": ok} for n, s, ok in rows]
    out = compile_vector(contract, block=block)(inputs_from_outcomes(contract, data), len(data))
    assert_matches(contract, data, out)
    zero = any(n == 0 for n, _, _ in rows)
    assert bool(out.divisions) == bool(out.failed.any())
    if not zero:
        assert not out.failed.any()


EXPRESSIONS = """
measure start: date
measure finish: date
measure waited: days
measure x: money
measure y: money
measure k: count
measure ok: boolean
measure good: boolean
define late = finish + waited / 3 > 2021-06-30
define early = finish - waited / 2 < start
define back = finish + (waited - 200 days) / 7 < 2020-06-30
define span = finish - start
define same = (ok == good) != late
define flag = if ok then good else not late
define size = abs(x - y)
payment a = if 0 SEK < x - y and 1 000 SEK >= y then span * 10 SEK else size / 4
  from city to fund due 2021-01-01
payment b = if same or flag then -(x / 3) else x * 0 from city to fund due 2021-01-01
payment c = k * y / 7 - 3 SEK from city to fund due 2021-01-01 when early or not ok or back
payment d = if x == y then 5 SEK else if 2 SEK != x then 1 SEK else 0 SEK from city to fund due 2021-01-01
floor fl: total at 1 SEK when true == ok
cap total at 10 000 SEK
"""


def test_dates_booleans_and_constants_on_either_side():
    """Date ± (fractional) days, date − date, abs, bool == / != / if, constants on the left."""
    contract = model(EXPRESSIONS, header("0.01 SEK half even"))
    dates = st.dates(datetime.date(2019, 1, 1), datetime.date(2022, 12, 31))
    row = st.fixed_dictionaries({
        "start": dates, "finish": dates, "waited": st.integers(0, 400).map(Fraction),
        "x": st.integers(-10**6, 10**6).map(lambda v: Fraction(v, 100)),
        "y": st.sampled_from([Fraction(2), Fraction(0), Fraction(1000)]) | st.integers(-10**6, 10**6).map(
            lambda v: Fraction(v, 100)),
        "k": st.integers(0, 50).map(Fraction), "ok": st.booleans(), "good": st.booleans()})

    @SLOW
    @given(st.lists(row, min_size=1, max_size=12), st.sampled_from([1, 5, 1000]))
    def run(rows, block):
        rows = [dict(r, x=r["y"]) if i % 3 == 0 else r for i, r in enumerate(rows)]  # x == y sometimes
        out = compile_vector(contract, block=block)(inputs_from_outcomes(contract, rows), len(rows))
        assert_matches(contract, rows, out)

    run()


def test_scalar_inputs_are_constants_of_the_plan():
    """A measure given as one value (not an array) is the same in every scenario."""
    contract = load_contract(ROOT / "contracts/norrkoping.sib")
    costs = np.array([62_000_000, 0, 40_000_000, 60_000_000, 55_000_000], dtype=np.int64) * 100
    constants = ((61_000_000, True), (R(6_100_000_000, 100), False), (Fraction(122_000_001, 2), False))
    for reference, school in constants:
        inputs = {"actual_costs": R(costs, 100), "reference_costs": reference, "school_improved": school,
                  "completed": np.array([True, True, True, False, True])}
        out = compile_vector(contract)(inputs, 5)
        ref = Fraction(reference.num, reference.den) if isinstance(reference, R) else Fraction(reference)
        rows = [{"actual_costs": Fraction(int(c), 100), "reference_costs": ref, "school_improved": school,
                 "completed": bool(done)} for c, done in zip(costs, inputs["completed"])]
        assert_matches(contract, rows, out)


def test_cuts_of_constant_lines():
    """Lines fixed by the contract: the cap is applied when compiling; the gate on the total,
    whose condition varies, cuts constant lines in some scenarios only."""
    contract = model("""
measure ok: boolean
payment p = 600 SEK from city to fund due 2021-01-01
payment q = 700 SEK from city to fund due 2021-01-01
payment r = 300 SEK from city to fund due 2021-01-01
cap total at 1 400 SEK
gate total above 650 SEK requires ok
""", header())
    rows = [{"ok": ok} for ok in (True, False, False, True, False)]
    for block in (1, 2, 100):
        out = compile_vector(contract, block=block)(inputs_from_outcomes(contract, rows), len(rows))
        assert_matches(contract, rows, out)
    capped = model("""
measure ok: boolean
payment p = 600 SEK from city to fund due 2021-01-01
payment q = 700 SEK from city to fund due 2021-01-01
payment r = 300 SEK from city to fund due 2021-01-01
payment s = if ok then 0 SEK else 0 SEK from city to fund due 2021-01-01
cap total at 800 SEK
""", header())
    out = compile_vector(capped)(inputs_from_outcomes(capped, rows), len(rows))
    assert_matches(capped, rows, out)
