"""The payer's budget by fiscal year (issue 15): settled, simulated and proved per payer and year."""

from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from sibdsl import budget, check_source, compile_contract, load_outcomes, read_source

CONTRACTS = Path(__file__).parent.parent / "contracts"


def _contract(name: str):
    contract, diagnostics = check_source(read_source(CONTRACTS / f"{name}.sib"))
    assert contract is not None, diagnostics
    return contract


def _max(amount) -> budget.Figure:
    return budget.Figure(Fraction(amount), budget.MAXIMUM)


def _bound(amount) -> budget.Figure:
    return budget.Figure(Fraction(amount), budget.BOUND)


def _settle(name: str):
    contract = _contract(name)
    return compile_contract(contract).evaluate(load_outcomes(contract, CONTRACTS / f"{name}.outcomes.json"))


def test_norrkoping_one_year_settled_and_proved():
    assert budget.settled(_settle("norrkoping")) == {"norrkoping": {"2019": Decimal(4000000)}}
    assert budget.proved_maxima(_contract("norrkoping")) == {
        "norrkoping": {"2019": _max(12_000_000), "total": _max(12_000_000)}}


def test_peterborough_several_years_total_below_sum_of_years():
    assert budget.settled(_settle("peterborough")) == {
        "moj": {"2014": Decimal(0), "2016": Decimal(0), "2017": Decimal(5600000)}}
    proved = budget.proved_maxima(_contract("peterborough"))
    # each year could on its own reach the contract's cap of £8m, but all years together cannot pass it
    assert proved == {"moj": {"2014": _max(8_000_000), "2016": _max(8_000_000),
                              "2017": _max(8_000_000), "total": _max(8_000_000)}}


def test_settled_years_add_up_to_the_payers_total():
    s = _settle("peterborough")
    assert sum(budget.settled(s)["moj"].values()) == s.by_payer["moj"]


def test_fiscal_year_of_an_undated_line():
    import datetime

    assert budget.fiscal_year(None) == budget.UNDATED
    assert budget.fiscal_year(datetime.date(2020, 12, 31)) == "2020"


def test_maximum_of_an_unbounded_amount_is_not_proved():
    import z3

    x = z3.Real("x")
    solver = z3.Solver()
    solver.add(x >= 0)
    assert budget.maximum(solver, x, Fraction(1, 100)) is None
    solver.add(x <= Fraction(7, 2).numerator / 2)
    assert budget.maximum(solver, x, Fraction(1, 100)) == Fraction(7, 2)


# ------------------------------------------------------------------ sibc simulate and sibc eval
import json

from click.testing import CliRunner

from sibdsl.cli import main

PETERBOROUGH_SPEC = {"seed": 2010, "measures": {
    "comparison_events": {"distribution": "uniform", "low": 1300, "high": 1500},
    "pilot_events": {"distribution": "normal", "mean": 1260, "sd": 80, "lower": 0}}}


def _simulate(tmp_path, name, spec, *args):
    path = tmp_path / f"{name}.scenarios.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    result = CliRunner().invoke(main, ["simulate", str(CONTRACTS / f"{name}.sib"), "--scenarios", str(path),
                                       "-n", "4000", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_simulate_budget_per_year_is_exact_and_within_the_proved_maximum(tmp_path):
    report = json.loads(_simulate(tmp_path, "peterborough", PETERBOROUGH_SPEC, "--format", "json"))
    moj = report["budget"]["moj"]
    assert list(moj) == ["2014", "2016", "2017", "total"]
    assert {y: moj[y]["proved_max"] for y in moj} == {y: "8000000.00" for y in moj}
    assert {y: (moj[y]["proved"], moj[y]["proved_bound"]) for y in moj} == {y: ("maximum", "8000000.00") for y in moj}
    for year, data in moj.items():
        expected, p90, worst = (Fraction(data[k]) for k in ("expected", "p90", "worst"))
        assert expected <= worst and p90 <= worst <= Fraction(data["proved_max"]), year
    # the years add up to the payer's cost, scenario by scenario, so their means add up exactly
    years = sum(Fraction(moj[y]["expected"]) for y in ("2014", "2016", "2017"))
    assert years == Fraction(moj["total"]["expected"]) == Fraction(report["payers"]["moj"]["expected_cost"])
    # the payer's total in the budget is the same distribution as the report's payer figures
    assert moj["total"]["worst"] == report["total"]["max"]


def test_simulate_budget_text_in_swedish(tmp_path):
    text = _simulate(tmp_path, "peterborough", PETERBOROUGH_SPEC, "--lang", "sv")
    assert "Vad betalaren kan behöva betala varje budgetår" in text
    assert "bevisat" in text and "övre gräns" not in text  # every figure the maximum: no note on bounds
    row = next(line for line in text.splitlines() if line.strip().startswith("moj") and "totalt" in line)
    assert row.split()[-6:] == ["8", "000", "000", "GBP", "(största", "möjliga)"]


def test_simulate_budget_norrkoping_one_year(tmp_path):
    """One fiscal year: the year is the whole contract, and nothing passes the ceiling of 12 MSEK."""
    spec = json.loads((Path(__file__).parent.parent / "docs" / "simulate.md").read_text(encoding="utf-8")
                      .split("```json file=norrkoping.scenarios.json\n", 1)[1].split("```", 1)[0])
    budget_ = json.loads(_simulate(tmp_path, "norrkoping", spec, "--format", "json"))["budget"]
    assert list(budget_) == ["norrkoping"] and list(budget_["norrkoping"]) == ["2019", "total"]
    year, total = budget_["norrkoping"]["2019"], budget_["norrkoping"]["total"]
    assert year == total
    assert year["proved_max"] == "12000000.00" and year["worst"] == "12000000.00"
    assert year["p90"] == "12000000.00"


def test_eval_by_year_text_and_json():
    args = ["eval", str(CONTRACTS / "peterborough.sib"), "--outcomes", str(CONTRACTS / "peterborough.outcomes.json"),
            "--by-year"]
    text = CliRunner().invoke(main, [*args, "--no-trace"])
    assert text.exit_code == 0, text.output
    table = text.output.split("By payer and fiscal year", 1)[1].splitlines()
    assert [line.split()[:2] for line in table[3:]] == [["moj", "2014"], ["moj", "2016"], ["moj", "2017"],
                                                         ["moj", "total"]]
    assert table[5].split()[2:] == ["5", "600", "000", "GBP"]
    data = json.loads(CliRunner().invoke(main, [*args, "--format", "json"]).output)
    assert data["by_payer_year"] == {"moj": {"2014": "0", "2016": "0", "2017": "5600000", "total": "5600000"}}


def test_eval_without_by_year_keeps_the_golden_settlement():
    result = CliRunner().invoke(main, ["eval", str(CONTRACTS / "norrkoping.sib"), "--outcomes",
                                       str(CONTRACTS / "norrkoping.outcomes.json"), "--format", "json"])
    assert result.output == (CONTRACTS / "norrkoping.settlement.json").read_text(encoding="utf-8")


# ------------------------------------------------------------------ the council document
from sibdsl import load_contract
from sibdsl.render import render


def _document(name: str, lang: str, fmt: str = "md") -> str:
    path = CONTRACTS / f"{name}.sib"
    return render(load_contract(path), path.read_bytes(), lang, fmt, path=path).decode().replace("\u00a0", " ")


def test_council_document_budget_table_norrkoping_sv_and_en():
    sv = _document("norrkoping", "sv")
    assert "## Vad betalaren kan behöva betala varje år\n" in sv
    assert "| Betalare | År | Värsta fall (bevisat) |\n|---|---|---:|\n" \
           "| Norrköpings kommun | 2019 | 12 000 000 kr (största möjliga, bevisat) |\n" \
           "| Norrköpings kommun | Hela avtalet | 12 000 000 kr (största möjliga, bevisat) |\n" in sv
    en = _document("norrkoping", "en")
    assert "| Norrköpings kommun | 2019 | SEK 12,000,000 (largest possible, proved) |\n" \
           "| Norrköpings kommun | Whole contract | SEK 12,000,000 (largest possible, proved) |" in en
    # before the worked examples, which are unchanged
    assert en.index("## What the payer may pay each year") < en.index("## Worked examples")


def test_council_document_budget_table_peterborough_years():
    en = _document("peterborough", "en")
    rows = en.split("| Payer | Year | Worst case (proved) |\n|---|---|---:|\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert rows == [f"| Ministry of Justice | {year} | GBP 8,000,000 (largest possible, proved) |"
                    for year in ("2014", "2016", "2017", "Whole contract")]
    html = _document("peterborough", "sv", "html")
    assert '<tr><td>Ministry of Justice</td><th scope="row">Hela avtalet</th>' \
           '<td class="amount">8 000 000 GBP (största möjliga, bevisat)</td></tr>' in html


def test_simulate_budget_chart_per_payer(tmp_path):
    _simulate(tmp_path, "peterborough", PETERBOROUGH_SPEC, "--chart-dir", str(tmp_path / "charts"), "--lang", "en")
    svg = (tmp_path / "charts" / "budget-moj.svg").read_text(encoding="utf-8")
    assert "<title id=\"chart-title\">What moj may pay each year</title>" in svg
    assert svg.count("<rect") > 10  # background, bars, legend
    desc = svg.split('<desc id="chart-desc">', 1)[1].split("</desc>", 1)[0]
    # every year's four figures, the proved one last, said as what is proved of it
    for year in ("2014", "2016", "2017"):
        assert f"{year}: " in desc
    assert desc.rstrip(".").endswith("GBP 8,000,000 (largest possible)")
    again = tmp_path / "again"
    _simulate(tmp_path, "peterborough", PETERBOROUGH_SPEC, "--chart-dir", str(again), "--lang", "en")
    assert (again / "budget-moj.svg").read_text(encoding="utf-8") == svg  # same data, same bytes


def test_a_budget_of_questions_ends_in_a_proved_bound():
    """A contract with too many years for the solver's question budget gets proved upper bounds
    where the maxima are not reached, never hangs, and never calls a bound the maximum."""
    questions = budget.Questions(3)
    proved = budget.proved_maxima(_contract("peterborough"), questions)
    # 2014: the cap is confirmed (nothing passes it) and reached, two questions; 2016: confirmed by
    # the third, but whether some outcome reaches it is not asked — a bound the solver proved, not
    # a maximum; 2017: no question left, the interval bound of its own line (bounds.py); the total:
    # the cap over the three lines, which the interval run keeps as a fact about their sum
    assert proved == {"moj": {"2014": _max(8_000_000), "2016": _bound(8_000_000), "2017": _bound(800_000_000),
                              "total": _bound(8_000_000)}}
    assert questions.asked == 3 and questions.left == 0


# ------------------------------------------------------------------ the proofs: bounded, their own, cached
SMALL = """contract "Budget"
  languages en
  currency SEK
  rounding 1 SEK half up

party council "The council": payer
party fund "The fund": investor

measure attendance "Attendance": percentage
measure pupils "Pupils": count between 0 and 40
payment early "Early payment" = interpolate(attendance) { 70 %: 0 SEK, 90 %: 300 000 SEK }
  from council to fund due 2025-06-30
payment late "Late payment" = pupils * 10 000 SEK
  from council to fund due 2026-06-30
cap ceiling "The cap": total at 1 000 000 SEK
"""


def _small(text: str = SMALL):
    from sibdsl.source import Source

    contract, diagnostics = check_source(Source("budget.sib", text))
    assert contract is not None, diagnostics
    return contract


def test_static_bound_is_read_from_the_caps_fixed_at_signing():
    from sibdsl.semantics.program import lower

    program = lower(_contract("peterborough"))  # a cap on what moj pays, over all three lines
    assert [budget.static_bound(program, [i]) for i in range(3)] == [Fraction(8_000_000)] * 3
    assert budget.static_bound(program, [0, 1, 2]) == Fraction(8_000_000)
    koto = lower(_contract("koto_sib"))  # no cap: a price × a count, half a gain
    assert budget.static_bound(koto, [0, 1]) is None


def test_a_cap_that_is_not_reached_is_searched_below():
    """The cap (1 MSEK) bounds each year, but 2025 reaches only 300 000 and 2026 only 400 000 — the
    solver finds each year's maximum below the candidate, and the contract's 700 000."""
    questions = budget.Questions()
    assert budget.proved_maxima(_small(), questions) == {"council": {
        "2025": _max(300_000), "2026": _max(400_000), "total": _max(700_000)}}
    assert questions.asked < budget.QUESTIONS


def test_maximum_with_a_candidate_above_and_below():
    import z3

    x = z3.Real("x")
    solver = z3.Solver()
    solver.add(x >= 0, x <= 7)
    assert budget.maximum(solver, x, Fraction(1), budget.Questions(), bound=Fraction(7)) == 7
    assert budget.maximum(solver, x, Fraction(1), budget.Questions(), bound=Fraction(100)) == 7
    assert budget.maximum(solver, x, Fraction(1), budget.Questions(), bound=Fraction(3)) == 7  # a wrong candidate
    asked = budget.Questions()
    assert budget.maximum(solver, x, Fraction(1), asked, bound=Fraction(7)) == 7 and asked.asked == 2


def test_the_figures_do_not_depend_on_earlier_z3_work_in_the_process():
    """The proofs run in a z3 context of their own: the same figures after the main context has
    solved other problems (a verification of another contract, a nonlinear problem) as before."""
    import z3

    from sibdsl.verify import verify_contract

    first = budget.proved_maxima(_contract("peterborough"))
    verify_contract(_contract("koto_sib"))
    a, b = z3.Reals("a b")
    dirty = z3.Solver()
    dirty.add(a * a * b > 3, a + b < 5, b * b < a, a > 0)
    assert dirty.check() in (z3.sat, z3.unknown)
    for name in ("norrkoping", "chicago_cpc", "care_leavers_i_aspire"):
        budget.proved_maxima(_contract(name))
    again = budget.proved_maxima(_contract("peterborough"))
    assert first == again == {"moj": {"2014": _max(8_000_000), "2016": _max(8_000_000),
                                      "2017": _max(8_000_000), "total": _max(8_000_000)}}


def test_the_figures_are_kept_in_sibcs_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("SIBDSL_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(budget, "_PROVED", {})
    contract = _contract("norrkoping")
    figures = budget.proved(contract)
    assert figures == {"norrkoping": {"2019": _max(12_000_000), "total": _max(12_000_000)}}
    assert len(list(tmp_path.glob("*/budget-*.json"))) == 1  # in its generation's folder (sibdsl/cache.py)
    monkeypatch.setattr(budget, "_PROVED", {})  # a new process: from the disk, the solver is not asked

    def asked(*args, **kwargs):
        raise AssertionError("the solver was asked again")

    monkeypatch.setattr(budget, "proved_maxima", asked)
    assert budget.proved(contract) == figures
    with pytest.raises(AssertionError, match="asked again"):
        budget.proved(contract, use_cache=False)


def test_an_unbounded_amount_names_its_measures_and_the_question_budget_holds():
    questions = budget.Questions()
    figures = budget.proved_maxima(_contract("care_leavers_i_aspire"), questions)
    # the counts of the rate card have no upper limit and nothing caps the card: the figures say so
    counts = figures["dfe"]["2022"].unbounded_by
    assert figures == {"dfe": {"2022": budget.Figure(None, budget.UNBOUNDED, counts),
                               "total": budget.Figure(None, budget.UNBOUNDED, counts)}}
    assert len(counts) == 23 and counts[0] == "outcomes.agrees_education" and counts[-1] == "outcomes.earns_8155"
    assert questions.asked <= budget.QUESTIONS and questions.resources >= 0 or questions.left == 0


def _ratecard(outcomes: int, periods: int):
    import importlib.util

    from sibdsl.source import Source

    spec = importlib.util.spec_from_file_location("ratecard", Path(__file__).parent.parent / "benchmarks" / "ratecard.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    contract, diagnostics = check_source(Source("card.sib", module.contract(outcomes, periods)))
    assert contract is not None, diagnostics
    return contract


def test_a_contract_too_large_for_the_budget_is_not_asked():
    """z3 takes in a large settlement in time its resource units do not count, so a contract past
    budget.SIZE is not asked at all (rendering it stays quick): every figure is the upper bound
    interval arithmetic proves (bounds.py), the card's total cap, called a bound."""
    from sibdsl.semantics.program import lower

    small, large = _ratecard(10, 5), _ratecard(20, 5)
    assert budget.program_size(lower(small)) <= budget.SIZE < budget.program_size(lower(large))
    questions = budget.Questions()
    figures = budget.proved_maxima(large, questions)
    assert questions.asked == 0
    assert list(figures) == ["council"] and set(figures["council"].values()) == {_bound(2_000_000)}
    assert "total" in figures["council"] and len(figures["council"]) > 2  # each year, and the whole contract
    asked = budget.Questions()
    budget.proved_maxima(small, asked)
    assert asked.asked > 0


# ------------------------------------------------------------------ proved upper bounds where the solver gives up
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sibdsl.evaluate import EvaluationError, Evaluator
from sibdsl.testing import outcomes

from .contractgen import generated
from .test_bounds import in_domain

COHORTS = CONTRACTS / "variants" / "chicago_cpc_cohorts.sib"
EXAMPLES = int(os.environ.get("SIB_DIFF_EXAMPLES", "25"))


def _checked(path: Path):
    contract, diagnostics = check_source(read_source(path))
    assert contract is not None, diagnostics
    return contract


def _within(contract, figures, row) -> None:
    """Every payer's yearly totals and contract total in the scalar settlement of `row` are at
    most the proved figures (a maximum or a bound); a maximum is never passed either."""
    if not in_domain(contract, row):  # the generator draws dates from any year; the proofs hold on the domain
        return
    try:
        settlement = Evaluator(contract).evaluate(row)
    except EvaluationError:
        return
    for payer, years in budget.settled(settlement).items():
        for year, amount in years.items():
            figure = figures[payer][year]
            assert figure.amount is None or Fraction(amount) <= figure.amount, (payer, year, amount, figure)
        total = figures[payer]["total"]
        assert total.amount is None or sum(years.values()) <= total.amount, (payer, sum(years.values()), total)


def test_the_cohort_variant_gets_a_bound_where_the_solver_gives_up():
    """4 cohorts × 16 school years: the solver's work runs out on the Board's years and on the City's
    total, which show the bound interval arithmetic proves (the caps over all periods: $4.5m for the
    City, $30m for the Board), called a bound; the years the solver decides are maxima (the City's
    every year, since the cells before a cohort starts are no longer in the table)."""
    figures = budget.proved_maxima(_checked(COHORTS))
    city, cps = figures["city"], figures["cps"]
    assert city["2015"] == _max(4_500_000) and city["2019"] == _max(1_963_500)  # 2 618 children × $750
    assert city["2017"] == _max(4_500_000) and city["total"] == _bound(4_500_000)
    assert list(cps) == [str(y) for y in range(2016, 2032)] + ["total"]
    assert {cps[y] for y in cps} == {_bound(30_000_000)}
    kinds = {f.kind for years in figures.values() for f in years.values()}
    assert kinds == {budget.MAXIMUM, budget.BOUND}  # none unbounded, none "not proved"


@pytest.mark.parametrize("which", ["cohorts", "rate card"])
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_no_sampled_settlement_passes_a_proved_figure(which, data):
    """The cohort variant (the solver gives up on most years) and a rate card too large for the
    solver (every figure the interval bound: the card's total cap)."""
    contract = _checked(COHORTS) if which == "cohorts" else _ratecard(20, 5)
    figures = budget.proved(contract)
    for row in data.draw(st.lists(outcomes(contract), min_size=1, max_size=6), label="outcomes"):
        _within(contract, figures, row)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_interval_bounds_of_generated_contracts_hold_for_every_sampled_settlement(data):
    """No question asked (Questions(0)): the figures are bounds.py's alone, with waterfalls too
    (their conservation fact), and no settlement of a generated contract passes them."""
    from sibdsl.source import Source

    contract, diagnostics = check_source(Source("gen.sib", data.draw(generated(), label="contract")))
    assert contract is not None, [d.message for d in diagnostics]
    questions = budget.Questions(0)
    figures = budget.proved_maxima(contract, questions)
    assert questions.asked == 0
    assert all(f.kind in (budget.BOUND, budget.UNBOUNDED) for years in figures.values() for f in years.values())
    for row in data.draw(st.lists(outcomes(contract), min_size=1, max_size=6), label="outcomes"):
        _within(contract, figures, row)


def test_a_waterfall_keeps_its_payers_cap():
    """Chicago: the Board's $30m cap applies to its payment, which a waterfall then shares among
    three lenders; the lines' intervals alone add up to $62.6m, the waterfall's conservation fact
    keeps $30m, which the solver shows reached (it gave up before: no candidate to start from)."""
    from sibdsl.bounds import bounds
    from sibdsl.semantics.program import lower

    contract = _contract("chicago_cpc")
    program = lower(contract)
    cps = budget.line_years(program)[("cps", "2032")]
    proof = bounds(contract, program)
    assert sum(proof.lines[i].hi for i in cps) > 60_000_000
    assert proof.sum_hi(cps) == 30_000_000
    assert budget.proved_maxima(contract)["cps"] == {"2032": _max(30_000_000), "total": _max(30_000_000)}


def test_every_shipped_contract_has_a_proved_figure_for_every_year():
    """Issue 15: no year says "not proved": each figure is the largest possible or a proved upper
    bound, unless no bound exists — then the measures that leave it open are named."""
    paths = sorted(CONTRACTS.glob("*.sib")) + sorted(CONTRACTS.glob("*/*.sib"))
    assert len(paths) >= 18
    open_ = {}
    for path in paths:
        for payer, years in budget.proved(_checked(path)).items():
            for year, figure in years.items():
                assert figure.kind in (budget.MAXIMUM, budget.BOUND, budget.UNBOUNDED), (path.name, payer, year)
                if figure.kind == budget.UNBOUNDED:
                    assert figure.amount is None and figure.unbounded_by, (path.name, payer, year)
                    open_[path.stem] = figure.unbounded_by
                else:
                    assert figure.amount is not None and figure.amount >= 0, (path.name, payer, year)
    assert list(open_) == ["care_leavers_i_aspire"]  # a rate card with no cap, its counts without a maximum


def test_simulate_labels_a_bound_in_text_json_and_xlsx(tmp_path):
    spec = {"seed": 7, "measures": {
        "kindergarten_ready": {"distribution": "uniform", "low": 0, "high": 2618},
        "reading_at_grade": {"distribution": "uniform", "low": 0, "high": 2618},
        "special_ed_years_avoided": {"distribution": "uniform", "low": 0, "high": 400}}}
    path = tmp_path / "cohorts.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    base = ["simulate", str(COHORTS), "--scenarios", str(path), "-n", "500"]
    report = json.loads(CliRunner().invoke(main, [*base, "--format", "json"]).output)
    year = report["budget"]["cps"]["2016"]
    assert (year["proved"], year["proved_bound"], year["proved_max"]) == ("bound", "30000000.00", None)
    assert Fraction(year["worst"]) <= Fraction(year["proved_bound"])
    reached = report["budget"]["city"]["2017"]
    assert (reached["proved"], reached["proved_max"], reached["proved_bound"]) == ("maximum", "4500000.00", "4500000.00")
    en = CliRunner().invoke(main, base).output
    row = next(line for line in en.splitlines() if line.split()[:2] == ["cps", "2016"])
    assert row.endswith("at most USD 30,000,000 (upper bound)")
    assert next(line for line in en.splitlines() if line.split()[:2] == ["city", "2017"]).endswith(
        "USD 4,500,000 (largest possible)")
    assert "upper bound: no outcome passes it, none is shown to reach it" in en
    sv = CliRunner().invoke(main, [*base, "--lang", "sv"]).output
    row = next(line for line in sv.splitlines() if line.split()[:2] == ["cps", "2016"])
    assert row.endswith("högst 30 000 000 USD (övre gräns)")
    assert "övre gräns: inget utfall överskrider beloppet, det är inte visat att något når det" in sv
    out = tmp_path / "cohorts.xlsx"
    result = CliRunner().invoke(main, [*base, "--format", "xlsx", "-o", str(out)])
    assert result.exit_code == 0, result.output
    from openpyxl import load_workbook

    sheet = load_workbook(out)["Budget by year"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0] == ["payer", "year", "expected", "90th pct", "worst seen", "proved", "proved as"]
    cps_2016 = next(r for r in rows if r[:2] == ["cps", "2016"])
    assert cps_2016[5] == 30_000_000 and cps_2016[6] == "proved upper bound"
    assert next(r for r in rows if r[:2] == ["city", "2017"])[5:] == [4_500_000, "largest possible, proved"]


def test_council_document_says_bound_and_unbounded_in_both_languages():
    path = COHORTS
    sv = render(load_contract(path), path.read_bytes(), "sv", "md", path=path).decode().replace("\u00a0", " ")
    en = render(load_contract(path), path.read_bytes(), "en", "md", path=path).decode().replace("\u00a0", " ")
    board = "Chicago Board of Education (Chicago Public Schools)"
    assert f"| {board} | 2016 | högst 30 000 000 USD (övre gräns, bevisad) |" in sv
    assert "| City of Chicago | 2017 | 4 500 000 USD (största möjliga, bevisat) |" in sv
    assert f"| {board} | 2016 | at most USD 30,000,000 (proved upper bound) |" in en
    assert "| City of Chicago | 2017 | USD 4,500,000 (largest possible, proved) |" in en
    assert "“At most … (proved upper bound)” means that it is proved that no outcome passes the amount" in en
    assert "”Högst … (övre gräns, bevisad)” betyder att det är bevisat att inget utfall överskrider" in sv
    aspire_en, aspire_sv = _document("care_leavers_i_aspire", "en"), _document("care_leavers_i_aspire", "sv")
    assert "| HM Department for Education | 2022 | no proved upper limit: “Agrees education or training is right " \
           "for them”, “Has at least one consistent relationship”, “Feels safe” and 20 more have no upper limit " \
           "in the contract |" in aspire_en
    assert "| HM Department for Education | Hela avtalet | ingen bevisad övre gräns: ”Agrees education or training " \
           "is right for them”, ”Has at least one consistent relationship”, ”Feels safe” och 20 till har ingen " \
           "övre gräns i avtalet |" in aspire_sv
    assert "not proved" not in aspire_en and "inte bevisat" not in aspire_sv


def test_the_cache_keeps_each_figures_kind(monkeypatch, tmp_path):
    monkeypatch.setenv("SIBDSL_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(budget, "_PROVED", {})
    contract = _checked(COHORTS)
    figures = budget.proved(contract)
    (stored,) = tmp_path.glob("*/budget-*.json")
    monkeypatch.setattr(budget, "_PROVED", {})

    def asked(*args, **kwargs):
        raise AssertionError("the solver was asked again")

    monkeypatch.setattr(budget, "proved_maxima", asked)
    again = budget.proved(contract)
    assert again == figures and again["cps"]["2016"] == _bound(30_000_000)  # a bound read back is a bound
    # an entry in the earlier shape (a bare amount, no kind) is not taken for a figure: computed again
    text = stored.read_text(encoding="utf-8")
    old = json.dumps([["city", [["2015", [4500000, 1]]]]])
    stored.write_text(old, encoding="utf-8")
    monkeypatch.setattr(budget, "_PROVED", {})
    with pytest.raises(AssertionError, match="asked again"):
        budget.proved(contract)
    stored.write_text(text, encoding="utf-8")
    assert budget._decode(json.loads(old)) is None
    assert budget._decode([["city", [["2015", "maximum", None, []]]]]) is None  # a maximum without an amount


# ------------------------------------------------------------------ the cohort variant's check
def test_a_clause_a_settlement_shows_acting_is_not_asked_of_the_solver(monkeypatch):
    """`sibc check` looks for clauses no outcome can make act (W410). The Board's cap over 64
    cohort × year cells took z3 its whole budget to answer "unknown" (≈ 1 s of the check's 1.9 s);
    the settlement at the measures' upper ends shows it act, so it is not asked. A witness never
    makes a clause dead: the clauses the solver is still asked about, and the warnings, are the same."""
    from sibdsl import verify_checks

    from .test_verify_dead import _solver_questions

    contract = _checked(COHORTS)
    acting = {c.name for c in verify_checks._acting(contract)}
    assert {"city_maximum", "cps_maximum"} <= acting
    asked = _solver_questions(monkeypatch)
    assert verify_checks.dead_clauses(contract) == []
    assert asked == []  # every clause shown acting, no row unreachable to ask about
    # a clause that cannot act is still found by the solver: caps above anything the payments reach
    # (the late payment pays at most 400 000, both at most 700 000 against the total cap's 1 000 000)
    from sibdsl.source import Source

    text = SMALL + "cap never \"Never reached\": late at 500 000 SEK\n"
    small, diagnostics = check_source(Source("budget.sib", text))
    assert small is not None, diagnostics
    assert [r["key"] for r in verify_checks.dead_clauses(small)] == ["dead:never", "dead:ceiling"]
    assert not {"never", "ceiling"} & {c.name for c in verify_checks._acting(small)}
