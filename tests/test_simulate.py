"""sibc simulate: spec validation, sampling, reproducibility, and a hand-written cross-check."""

from __future__ import annotations

import json
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from scipy import stats

from sibdsl import load_contract
from sibdsl.cli import main
from sibdsl.diagnostics import SibError
from sibdsl.simulate import Sampler, load_spec, run

ROOT = Path(__file__).resolve().parent.parent
NORRKOPING = ROOT / "contracts/norrkoping.sib"
ALL = ROOT / "tests/corpus/valid/all_constructs.sib"

SPEC = {
    "seed": 2016,
    "measures": {
        "actual_costs": {"distribution": "normal", "mean": 50_000_000, "sd": 10_000_000, "lower": 0},
        "reference_costs": {"distribution": "uniform", "low": 58_000_000, "high": 64_000_000},
        "school_improved": {"distribution": "bernoulli", "p": 0.6},
        "completed": {"distribution": "bernoulli", "p": 0.95},
    },
    "correlations": [{"measures": ["actual_costs", "school_improved"], "rho": -0.5}],
}

SPEC_TOML = """seed = 2016

[measures.actual_costs]
distribution = "normal"
mean = 50_000_000
sd = 10_000_000
lower = 0

[measures.reference_costs]
distribution = "uniform"
low = 58_000_000
high = 64_000_000

[measures.school_improved]
distribution = "bernoulli"
p = 0.6

[measures.completed]
distribution = "bernoulli"
p = 0.95

[[correlations]]
measures = ["actual_costs", "school_improved"]
rho = -0.5
"""


def write(tmp_path, data, name="spec.json") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data, indent=2), encoding="utf-8")
    return path


def norrkoping_by_hand(costs_oere, reference_oere, school, completed):
    """The Norrköping formula written directly in numpy on öre integers (the judge's Monte Carlo)."""
    loan = 10_000_000_00
    baseline_num = reference_oere * 60  # / 61, kept exact by comparing in 61ths
    savings61 = np.maximum(baseline_num - costs_oere * 61, 0)  # savings × 61, in öre
    activity = np.where(completed, 4_000_000_00, 0)
    # outcome = min(60 % of savings, 6 MSEK), rounded half up to whole SEK:
    # 0.6 · savings61 / 61 öre = 6 · savings61 / 610 öre → in SEK: 6 · savings61 / 61000
    outcome_exact_num, outcome_den = 6 * savings61, 61_000
    outcome = np.minimum((2 * outcome_exact_num + outcome_den) // (2 * outcome_den), 6_000_000) * 100
    # bonus = min(max(savings − loan, 0), 2 MSEK), rounded half up to whole SEK
    bonus_num = np.maximum(savings61 - loan * 61, 0)  # öre × 61
    bonus = np.minimum((2 * bonus_num + 6100) // 12200, 2_000_000) * 100
    total = activity + outcome + bonus
    total = np.where(~school & (total > loan), loan, total)  # gate: total above loan requires school
    total = np.where(completed & (total < 4_000_000_00), 4_000_000_00, total)  # floor
    total = np.minimum(total, 12_000_000_00)  # cap
    most = 12_329_863_00  # 8 % a year simple, 2016-08-01 to 2019-06-30, rounded down
    return np.minimum(total, most)


def test_totals_equal_a_hand_written_monte_carlo_on_the_same_draws(tmp_path):
    contract = load_contract(NORRKOPING)
    spec = load_spec(contract, write(tmp_path, SPEC))
    inputs, _ = Sampler(contract, spec, 2016).draw(0, 50_000)
    from sibdsl.vector import compile_vector

    out = compile_vector(contract)(inputs, 50_000)
    costs = inputs["actual_costs"]
    reference = inputs["reference_costs"]
    assert costs.den == reference.den == 100
    expected = norrkoping_by_hand(costs.num, reference.num, inputs["school_improved"], inputs["completed"])
    assert np.array_equal(out.minor(out.total), expected)


def test_percentiles_match_an_independent_monte_carlo(tmp_path):
    """Sampled with scipy directly (not through sibdsl's sampler), settled by hand: the median and
    90th percentile agree within sampling error."""
    spec = dict(SPEC, correlations=[])
    contract = load_contract(NORRKOPING)
    acc = run(contract, load_spec(contract, write(tmp_path, spec)), 100_000, chunk=50_000)
    ours = np.sort(acc.total_oere())
    rng = np.random.default_rng(99)
    n = 100_000
    costs = np.rint(stats.truncnorm(-5, np.inf, loc=50e6, scale=10e6).rvs(n, random_state=rng) * 100).astype(np.int64)
    ref = np.rint(rng.uniform(58e6, 64e6, n) * 100).astype(np.int64)
    theirs = np.sort(norrkoping_by_hand(costs, ref, rng.random(n) < 0.6, rng.random(n) < 0.95))
    for q in (0.25, 0.5, 0.9):
        a, b = ours[int(q * n)], theirs[int(q * n)]
        assert abs(a - b) <= 0.01 * 12_000_000_00, (q, a, b)
    assert abs(ours.mean() - theirs.mean()) < 0.01 * 12_000_000_00


def test_same_seed_same_bits_and_toml_equals_json(tmp_path):
    contract = load_contract(NORRKOPING)
    a = run(contract, load_spec(contract, write(tmp_path, SPEC)), 30_000, chunk=10_000)
    b = run(contract, load_spec(contract, write(tmp_path, SPEC_TOML, "spec.toml")), 30_000, chunk=10_000)
    assert np.array_equal(a.total_oere(), b.total_oere())
    assert np.array_equal(a.irr_values()["lsv"], b.irr_values()["lsv"], equal_nan=True)
    c = run(contract, load_spec(contract, write(tmp_path, SPEC)), 30_000, chunk=10_000, seed=1)
    assert not np.array_equal(a.total_oere(), c.total_oere())


def test_draws_respect_bounds_and_correlation(tmp_path):
    contract = load_contract(NORRKOPING)
    spec = dict(SPEC, measures=dict(SPEC["measures"], actual_costs={
        "distribution": "normal", "mean": 50_000_000, "sd": 30_000_000, "lower": 40_000_000, "upper": 70_000_000}))
    inputs, floats = Sampler(contract, load_spec(contract, write(tmp_path, spec)), 5).draw(0, 20_000)
    costs = inputs["actual_costs"].num
    assert costs.min() >= 40_000_000_00 and costs.max() <= 70_000_000_00
    # rho = −0.5 on the copula: higher costs go with fewer school improvements
    assert stats.spearmanr(floats["actual_costs"], floats["school_improved"]).statistic < -0.2
    assert 0.55 < floats["school_improved"].mean() < 0.65


def test_shares_counts_series_dates_and_empirical_data(tmp_path):
    (tmp_path / "spent.csv").write_text("year,spent\n2019,1000000\n2020,1 500 000.50\n2021,2000000\n",
                                        encoding="utf-8")
    contract = load_contract(ALL)
    spec = {"measures": {
        "events": {"distribution": "poisson", "lambda": 200, "upper": 10_000},
        "rate": {"distribution": "beta", "alpha": 2, "beta": 5},
        "spent": {"distribution": "empirical", "csv": "spent.csv", "column": "spent"},
        "days_in_care": {"distribution": "uniform", "low": 0, "high": 4000},
        "finished": {"distribution": "bernoulli", "p": 0.8},
        "started_on": {"value": "2018-03-01"},
    }}
    spec_path = write(tmp_path, spec)
    inputs, _ = Sampler(contract, load_spec(contract, spec_path), 3).draw(0, 5_000)
    rate = inputs["rate"]
    assert rate.den == 10**6 and rate.num.min() >= 0 and rate.num.max() <= 10**6
    assert set(inputs["events"]) == {"y2018", "y2019"} and inputs["events"]["y2018"].den == 1
    assert set(np.unique(inputs["spent"].num)) <= {100_000_000, 150_000_050, 200_000_000}
    acc = run(contract, load_spec(contract, spec_path), 5_000)
    report = acc.report(load_spec(contract, spec_path), 0, 100_000)
    assert report["failed"] == 0 and set(report["components"]) >= {"per_year", "table", "service", "fee"}
    assert 0 < float(report["events"]["gate g1"]) < 1


@pytest.mark.parametrize("spec, code, where", [
    ('{"measures": {"actual_costs": {"distribution": "normal", "mean": 1, "sd": 0}}}', "E804", '"sd"'),
    ('{"measures": {"actual_cost": {"value": 1}}}', "E802", '"actual_cost"'),
    ('{"measures": {"school_improved": {"distribution": "poisson", "lambda": 2}}}', "E803", '"distribution"'),
])
def test_bad_specs_have_coded_diagnostics_with_positions(tmp_path, spec, code, where):
    contract = load_contract(NORRKOPING)
    with pytest.raises(SibError) as err:
        load_spec(contract, write(tmp_path, spec))
    found = [d for d in err.value.diagnostics if d.code == code]
    assert found and found[0].span is not None
    assert (found[0].span.line, found[0].span.column) == (1, spec.index(where) + 1)


def test_share_distribution_outside_0_1_and_impossible_correlations(tmp_path):
    contract = load_contract(ALL)
    base = {"events": {"value": 1}, "spent": {"value": 1}, "days_in_care": {"value": 1},
            "finished": {"value": True}, "started_on": {"value": "2018-01-01"}}
    spec = {"measures": dict(base, rate={"distribution": "uniform", "low": 0, "high": 25})}
    with pytest.raises(SibError) as err:
        load_spec(contract, write(tmp_path, spec))
    assert [d.code for d in err.value.diagnostics] == ["E804"] and "0..1" in err.value.diagnostics[0].message
    contract = load_contract(NORRKOPING)
    three = dict(SPEC, correlations=[
        {"measures": ["actual_costs", "reference_costs"], "rho": 0.9},
        {"measures": ["reference_costs", "school_improved"], "rho": 0.9},
        {"measures": ["actual_costs", "school_improved"], "rho": -0.9}])
    with pytest.raises(SibError) as err:
        run(contract, load_spec(contract, write(tmp_path, three)), 10)
    assert [d.code for d in err.value.diagnostics] == ["E806"]


def test_toml_syntax_error_points_at_its_line(tmp_path):
    contract = load_contract(NORRKOPING)
    with pytest.raises(SibError) as err:
        load_spec(contract, write(tmp_path, 'seed = 1\n[measures.completed\nvalue = true\n', "s.toml"))
    (d,) = err.value.diagnostics
    assert d.code == "E801" and d.span.line == 2


def test_cli_json_table_progress_and_deterministic_charts(tmp_path, monkeypatch):
    spec = write(tmp_path, SPEC)
    runner = CliRunner()
    args = ["simulate", str(NORRKOPING), "--scenarios", str(spec), "-n", "2000"]
    out = runner.invoke(main, [*args, "--format", "json"], catch_exceptions=False)
    assert out.exit_code == 0, out.output
    report = json.loads(out.stdout)
    assert report["scenarios"] == 2000 and report["seed"] == 2016
    total = report["total"]
    assert Fraction(total["p5"]) <= Fraction(total["p50"]) <= Fraction(total["p95"]) <= 12_000_000
    assert set(report["events"]) == {"gate activity", "gate school_gate", "floor activity_floor", "cap ceiling",
                                     "return limit max_return", "return limit total_return"}
    assert report["investors"]["lsv"]["invested"] == "10000000.00"
    table = runner.invoke(main, [*args, "--lang", "sv", "--progress", "--chart-dir", str(tmp_path / "a")],
                          catch_exceptions=False)
    assert table.exit_code == 0 and "simulerar" in table.stderr  # --lang sv: every word Swedish
    assert "Sannolikhet för" in table.stdout and "kr" in table.stdout and "Probability" not in table.stdout
    runner.invoke(main, [*args, "--chart-dir", str(tmp_path / "b")], catch_exceptions=False)
    for name in ("payout.svg", "returns.svg", "curve.svg"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert b"<svg" in (tmp_path / "a" / "payout.svg").read_bytes()


def test_cli_bad_spec_exits_1_with_the_code(tmp_path):
    spec = write(tmp_path, {"measures": {"completed": {"value": True}}})
    out = CliRunner().invoke(main, ["simulate", str(NORRKOPING), "--scenarios", str(spec)], catch_exceptions=False)
    assert out.exit_code == 1 and "error[E805]" in out.stderr and "Traceback" not in out.output


def test_chunks_settled_separately_and_in_any_order_equal_the_run(tmp_path):
    """The unit a distributed engine schedules (docs/performance.md): settle_chunk per index."""
    from sibdsl.simulate import settle_chunk

    contract = load_contract(NORRKOPING)
    spec = load_spec(contract, write(tmp_path, SPEC))
    whole = run(contract, spec, 5_000, chunk=2_000).total_oere()
    sizes = [2_000, 2_000, 1_000]
    parts = {i: settle_chunk(contract, spec, 2016, i, size)[0] for i, size in reversed(list(enumerate(sizes)))}
    joined = np.concatenate([parts[i].minor(parts[i].total) for i in range(3)])
    assert np.array_equal(whole, joined)


def test_division_by_zero_in_some_scenarios_is_counted_and_points_at_the_division(tmp_path):
    contract = tmp_path / "div.sib"
    contract.write_text('contract "Div"\n  currency SEK\n  rounding 1 SEK half up\nparty city "City": payer\n'
                        'party fund "Fund": investor\nmeasure n: count\npayment p = 100 SEK / n from city to fund\n',
                        encoding="utf-8")
    spec = write(tmp_path, {"measures": {"n": {"distribution": "poisson", "lambda": 1}}})
    out = CliRunner().invoke(main, ["simulate", str(contract), "--scenarios", str(spec), "-n", "1000",
                                    "--format", "json", "--diagnostics", "gnu"], catch_exceptions=False)
    report = json.loads(out.stdout)
    assert out.exit_code == 1 and 300 < report["failed"] < 420  # P(n = 0) = e⁻¹ ≈ 0.37
    assert report["evaluated"] == 1000 - report["failed"]
    assert f"{contract}:7:13: error[E602]" in out.stderr


class _Reversed:
    """An executor that runs the jobs last first (as a cluster may finish them) and hands the
    results back in order, as `Executor.map` does."""

    def map(self, fn, jobs):
        jobs = list(jobs)
        done = {i: fn(job) for i, job in reversed(list(enumerate(jobs)))}
        return (done[i] for i in range(len(jobs)))


def test_a_process_pool_or_any_executor_gives_the_same_report_bit_for_bit(tmp_path):
    from concurrent.futures import ProcessPoolExecutor

    contract = load_contract(NORRKOPING)
    spec = load_spec(contract, write(tmp_path, SPEC))
    here = run(contract, spec, 25_000, chunk=4_000, curve_measure="actual_costs")
    with ProcessPoolExecutor(2) as pool:
        pooled = run(contract, spec, 25_000, chunk=4_000, curve_measure="actual_costs", executor=pool)
    backwards = run(contract, spec, 25_000, chunk=4_000, curve_measure="actual_costs", executor=_Reversed())
    for other in (pooled, backwards):
        assert other.report(spec, 2016, 4_000) == here.report(spec, 2016, 4_000)
        assert np.array_equal(other.total_oere(), here.total_oere())
        assert np.array_equal(np.concatenate(other.curve), np.concatenate(here.curve))
        assert all(np.array_equal(a, b, equal_nan=True)
                   for a, b in zip(other.irr_values().values(), here.irr_values().values()))


def test_cli_workers_change_nothing_but_the_speed(tmp_path):
    spec = write(tmp_path, SPEC)
    args = ["simulate", str(NORRKOPING), "--scenarios", str(spec), "-n", "30000", "--chunk", "7000", "--format", "json"]
    one = CliRunner().invoke(main, args, catch_exceptions=False)
    two = CliRunner().invoke(main, [*args, "--workers", "2"], catch_exceptions=False)
    assert one.exit_code == two.exit_code == 0 and one.stdout == two.stdout


def test_a_sib_error_crosses_a_process_boundary_whole():
    import pickle

    from sibdsl.diagnostics import Diagnostic

    error = SibError([Diagnostic("E806", "the correlations cannot all hold at once", None, None)])
    again = pickle.loads(pickle.dumps(error))
    assert again.diagnostics == error.diagnostics and str(again) == str(error)


@pytest.mark.parametrize("kind, params, lower, upper", [
    ("normal", {"mean": 50_000_000.0, "sd": 10_000_000.0}, 0.0, None),
    ("normal", {"mean": -3.5, "sd": 0.25}, None, None),
    ("normal", {"mean": 12.0, "sd": 3.0}, 5.0, 14.0),
    ("uniform", {"low": 58_000_000.0, "high": 64_000_000.0}, None, None),
    ("uniform", {"low": 0.0, "high": 1.0}, 0.25, 0.5),
    ("uniform", {"low": -7.0, "high": 3.0}, -100.0, 100.0),
])
def test_normal_and_uniform_draws_are_scipy_stats_bit_for_bit(kind, params, lower, upper):
    """simulate draws the normal and the uniform without importing scipy.stats (issue 21: its
    import was a third of `simulate -n 1000000`); the floats are the ones scipy.stats gives."""
    from sibdsl.simulate import Marginal

    marginal = Marginal(None, kind, params, lower, upper)
    dist = (stats.norm(params["mean"], params["sd"]) if kind == "normal"
            else stats.uniform(params["low"], params["high"] - params["low"]))
    lo = -np.inf if lower is None else lower
    hi = np.inf if upper is None else upper
    assert marginal.cdf_range() == (float(dist.cdf(lo)), float(dist.cdf(hi)))
    u = np.concatenate([np.random.default_rng(7).random(100_000), [1e-16, 0.5, 1 - 1e-16, 0.0, 1.0]])
    a, b = marginal.cdf_range()
    ours, theirs = marginal.ppf(u), dist.ppf(a + u * (b - a))
    if lower is not None:
        theirs = np.maximum(theirs, lower)
    if upper is not None:
        theirs = np.minimum(theirs, upper)
    assert ours.dtype == theirs.dtype and np.array_equal(ours, theirs)
    assert np.array_equal(ours.view(np.int64), theirs.view(np.int64))  # the same bits, -0.0 included


# ---------------------------------------------------------------- issue 14: the waterfall section
JJ = ROOT / "contracts/massachusetts_jj.sib"
JJ_SPEC = {
    "seed": 2014,
    "measures": {
        "bed_day_reduction": {"distribution": "uniform", "low": 0, "high": 0.5},
        "ready_quarters": {"distribution": "uniform", "low": 2000, "high": 9000},
        "employed_quarters": {"distribution": "uniform", "low": 0, "high": 3000},
    },
}


def _jj_drawn(tmp_path, n: int):
    """Massachusetts simulated over n draws: the contract, the report, the draws, and the scalar
    evaluator to settle them one by one."""
    from sibdsl import compile_contract

    contract = load_contract(JJ)
    spec = load_spec(contract, write(tmp_path, JJ_SPEC))
    report = run(contract, spec, n).report(spec, 2014, 4096)
    inputs, _ = Sampler(contract, spec, 2014).draw(0, n)
    return contract, report, inputs, compile_contract(contract)


def test_the_waterfall_section_equals_the_scalar_settlements_of_the_same_draws(tmp_path):
    """Each step's payments, how often it pays and is filled, and each class's shortfall, recomputed
    scenario by scenario with the scalar evaluator on the same draws."""
    n = 80
    contract, report, inputs, evaluator = _jj_drawn(tmp_path, n)
    steps = [f"repayment.{k}" for k in range(1, 6)]
    paid = {s: [] for s in steps}
    short = {"senior": [], "junior": [], "grant": []}
    for i in range(n):
        row = {name: Fraction(int(r.num[i]), int(r.den)) for name, r in inputs.items()}
        settlement = evaluator.evaluate(row)
        for s in steps:
            paid[s].append(sum(Fraction(ln.amount) for ln in settlement.lines if ln.clause.name == s))
        for klass, values in short.items():
            invs = [v for v in contract.investments.values() if v.klass == klass]
            drawn = sum(v.amount for v in invs)
            got = sum(Fraction(ln.amount) for ln in settlement.lines if ln.recipient in {v.investor for v in invs})
            values.append(max(drawn - got, 0))
    section = report["waterfalls"]["repayment"]
    for k, s in enumerate(steps):
        assert abs(Fraction(section[s]["paid"]["mean"]) - sum(paid[s]) / n) <= Fraction(1, 200)  # to the cent
        assert Fraction(section[s]["p_paid"]) == Fraction(sum(1 for a in paid[s] if a > 0), n)
        if k < len(steps) - 1:
            later = [sum(paid[t][i] for t in steps[k + 1:]) for i in range(n)]
            assert Fraction(section[s]["p_filled"]) == Fraction(sum(1 for a in later if a > 0), n)
    assert section["repayment.5"]["p_filled"] is None  # `rest`: no target
    for klass, values in short.items():
        data = report["classes"][klass]
        assert abs(Fraction(data["shortfall"]["mean"]) - sum(values) / n) <= Fraction(1, 200)
        assert Fraction(data["p_short"]) == Fraction(sum(1 for v in values if v > 0), n)


def _percentile(values: list, q: int) -> Fraction:
    ordered = sorted(values)
    return ordered[max(-(-q * len(ordered) // 100) - 1, 0)]


def test_a_payment_a_waterfall_distributes_is_what_its_payer_pays_on_it(tmp_path):
    """The components table showed 0 for a payment a waterfall distributes (its own line is what the
    vehicle keeps). Each component is now what the payer pays on the payment — its own line and every
    line a step pays from it — and under it what each step paid from it and what the vehicle kept,
    recomputed scenario by scenario with the scalar evaluator on the same draws; the components add up
    to the total, and each step's parts to the waterfall section's step."""
    n = 80
    _, report, inputs, evaluator = _jj_drawn(tmp_path, n)
    payments, steps = ["bed_days", "job_readiness", "employment"], [f"repayment.{k}" for k in range(1, 6)]
    paid = {p: [] for p in payments}
    parts = {(p, part): [] for p in payments for part in [*steps, "kept"]}
    for i in range(n):
        settlement = evaluator.evaluate({name: Fraction(int(r.num[i]), int(r.den)) for name, r in inputs.items()})
        lines = settlement.lines
        assert sum(Fraction(ln.amount) for ln in lines if ln.payment in payments) == settlement.total  # they add up
        for p in payments:
            paid[p].append(sum(Fraction(ln.amount) for ln in lines if ln.payment == p))
            for part in steps:
                parts[p, part].append(sum(Fraction(ln.amount) for ln in lines
                                          if ln.payment == p and ln.clause.name == part))
            parts[p, "kept"].append(sum(Fraction(ln.amount) for ln in lines if ln.payment == p and ln.clause.name == p))
    assert sum(paid["bed_days"]) > 0  # the case that showed 0
    for p in payments:
        got = report["components"][p]
        assert abs(Fraction(got["mean"]) - sum(paid[p]) / n) <= Fraction(1, 200)  # to the cent
        assert [Fraction(got[q]) for q in ("p5", "p50", "p95")] == [_percentile(paid[p], q) for q in (5, 50, 95)]
        distributed = report["distributed"][p]
        assert list(distributed) == [*steps, "kept"]
        for part, summary in distributed.items():
            assert abs(Fraction(summary["mean"]) - sum(parts[p, part]) / n) <= Fraction(1, 200), (p, part)
            assert Fraction(summary["max"]) == max(parts[p, part]), (p, part)
    for step in steps:  # the same money as the waterfall section's, step by step
        section = Fraction(report["waterfalls"]["repayment"][step]["paid"]["mean"])
        assert abs(sum(sum(parts[p, step]) for p in payments) / n - section) <= Fraction(1, 200)


@pytest.mark.parametrize("lang, rows", [("en", ["  bed_days ", "    → step repayment.1 "]),
                                        ("sv", ["  bed_days ", "    → steg repayment.1 "])])
def test_the_components_table_shows_each_steps_part(tmp_path, lang, rows):
    from sibdsl.report import simulation_text

    contract = load_contract(JJ)
    spec = load_spec(contract, write(tmp_path, JJ_SPEC))
    report = run(contract, spec, 50).report(spec, 2014, 4096)
    table = simulation_text(report, lang).split("\n\n")[1].splitlines()
    for start in rows:
        line = next(ln for ln in table if ln.startswith(start))
        mean = __import__("re").split(r"\s{2,}", line.strip())[1]
        assert mean not in ("USD 0", "0 USD") and "USD" in mean, line  # the case that showed 0
    bed_days = next(k for k, ln in enumerate(table) if ln.startswith("  bed_days "))
    assert [ln.split()[2] for ln in table[bed_days + 1:bed_days + 6]] == [f"repayment.{k}" for k in range(1, 6)]
    assert not any("kept" in ln or "kvar hos" in ln for ln in table)  # step 5 takes the rest: nothing kept


def test_the_workbook_has_each_steps_part_under_its_payment(tmp_path):
    """`--format xlsx`: the same rows as the table, each step's part under its payment, as numbers."""
    import openpyxl

    from sibdsl.report import simulation_xlsx

    _, report, _, _ = _jj_drawn(tmp_path, 50)
    simulation_xlsx(report, tmp_path / "jj.xlsx", "en")
    rows = [[c.value for c in row] for row in openpyxl.load_workbook(tmp_path / "jj.xlsx").worksheets[0].iter_rows()]
    at = next(k for k, r in enumerate(rows) if r[0] == "bed_days")
    assert [r[0] for r in rows[at:at + 7]] == ["bed_days", *[f"  → step repayment.{k}" for k in range(1, 6)],
                                               "job_readiness"]
    assert rows[at][1] == Decimal(report["components"]["bed_days"]["mean"])
    assert rows[at + 1][1] == Decimal(report["distributed"]["bed_days"]["repayment.1"]["mean"]) > 0


@pytest.mark.parametrize("lang, words", [("en", ["Waterfall repayment", "its target met in", "class senior"]),
                                         ("sv", ["Fördelningsordning (vattenfall) repayment", "målet nås i",
                                                 "klass senior"])])
def test_the_waterfall_section_in_text(tmp_path, lang, words):
    from sibdsl.report import simulation_text

    contract = load_contract(JJ)
    spec = load_spec(contract, write(tmp_path, JJ_SPEC))
    text = simulation_text(run(contract, spec, 50).report(spec, 2014, 4096), lang)
    assert all(w in text for w in words), text
    norrkoping = load_contract(NORRKOPING)  # no waterfall: no section
    plain = run(norrkoping, load_spec(norrkoping, write(tmp_path, SPEC)), 20).report(spec, 2016, 4096)
    assert "waterfalls" not in plain and "classes" not in plain
