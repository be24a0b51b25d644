"""Scenarios, `sibc test`, clause coverage and the plain-language explanation."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from decimal import Decimal
from fractions import Fraction

import pytest

from sibdsl import SibError, compile_contract, load_contract
from sibdsl.coverage import measure
from sibdsl.explain_text import explain_settlement
from sibdsl.scenarios import load_scenarios, run_scenarios, scenario_path

from .conftest import ROOT

CONTRACTS = sorted((ROOT / "contracts").rglob("*.sib"))

CONTRACT = '''contract "Scenarier"
  currency SEK
  rounding 1 SEK half up
party city "Staden": payer
party fund "Fonden": investor
term 2020-01-01 to 2022-12-31
periods year: y2021 2021-01-01 to 2021-12-31, y2022 2022-01-01 to 2022-12-31
measure savings: money better higher
measure rate: percentage
measure events: count per year better lower
payment outcome "Utfall" = 50 % of savings from city to fund
payment yearly = max(10 - events, 0) * 1 000 SEK from city to fund per year
cap ceiling "Taket": total at 1 000 000 SEK
'''


@pytest.fixture
def contract(tmp_path):
    path = tmp_path / "c.sib"
    path.write_text(CONTRACT, encoding="utf-8")
    return path


@pytest.mark.parametrize("path", CONTRACTS, ids=lambda p: p.name)
def test_every_contract_ships_passing_scenarios_that_cover_every_reachable_branch(path):
    contract = load_contract(path)
    scenarios = load_scenarios(contract, scenario_path(path))
    results = run_scenarios(contract, scenarios)
    assert results and all(r.passed for r in results), [r.scenario.name for r in results if not r.passed]
    coverage = measure(contract, scenarios, results)
    assert coverage.percent == 100, [(b.clause, b.label) for b in coverage.missing]


def test_published_figures_are_scenarios():
    names = {s.name for s in load_scenarios(load_contract(ROOT / "contracts/norrkoping.sib"),
                                              ROOT / "contracts/norrkoping.scenarios.csv")}
    assert "Publicerat utfall" in names


def test_amounts_written_as_in_a_swedish_spreadsheet(contract):
    text = ("\ufeffscenario;savings;rate;events[y2021];events[y2022];expect total;expect yearly[y2021];"
            "expect to fund\nA;1 000 000,50 kr;12,5 %;3;12;507 000 kr;7 000;507 000 SEK\n")
    (scenario,) = load_scenarios(load_contract(contract), text=text, name="s.csv")
    assert scenario.outcomes == {"savings": Fraction(2_000_001, 2), "rate": Fraction(1, 8),
                                 "events": {"y2021": 3, "y2022": 12}}
    [result] = run_scenarios(load_contract(contract), [scenario])
    assert result.passed, result.checks


def test_problems_in_a_scenario_file_are_reported_at_once_with_places(contract):
    text = ("scenario,savings,rate,events[y2021],events[y2022],expect totl\n"
            "A,5 EUR,150 %,1,2,1 SEK\nA,1 SEK,1 %,1,2,x\n")
    with pytest.raises(SibError) as info:
        load_scenarios(load_contract(contract), text=text, name="s.csv")
    assert [(d.code, d.span.line) for d in info.value.diagnostics] == [("E832", 1)]
    text = text.replace("expect totl", "expect total")
    with pytest.raises(SibError) as info:
        load_scenarios(load_contract(contract), text=text, name="s.csv")
    assert sorted((d.span.line, d.span.column, d.code) for d in info.value.diagnostics) == [
        (2, 3, "E506"), (2, 9, "E505"), (3, 1, "E834"), (3, 17, "E833")]


def test_a_failing_scenario_shows_expected_actual_and_how_it_arose(contract, run, tmp_path):
    (tmp_path / "c.scenarios.csv").write_text(
        "scenario;savings;rate;events[y2021];events[y2022];expect total;expect outcome\n"
        "Stor besparing;3 000 000 kr;0 %;0;0;1 020 000 kr;1 500 000 kr\n", encoding="utf-8")
    result = run("test", str(contract), "--lang", "en")
    assert result.exit_code == 1
    assert "  FAIL  Stor besparing (row 2)" in result.stdout
    assert "total: expected 1 020 000 SEK, actual 1 000 000 SEK" in result.stdout
    assert "outcome: expected 1 500 000 SEK, actual 1 000 000 SEK" in result.stdout
    assert "  0 passed, 1 failed" in result.stdout
    swedish = run("test", str(contract), "--lang", "sv")
    assert swedish.exit_code == 1
    assert "  FEL  Stor besparing (rad 2)" in swedish.stdout
    assert "totalt: förväntat 1 020 000 kr, faktiskt 1 000 000 kr" in swedish.stdout
    assert "outcome: förväntat 1 500 000 kr, faktiskt 1 000 000 kr" in swedish.stdout
    assert "så uppstår de faktiska beloppen:" in swedish.stdout and "  0 godkända, 1 underkända" in swedish.stdout
    assert "Taket: beloppet 1 500 000 kr begränsas till 1 000 000 kr: totalt betalas högst 1 000 000 kr." in swedish.stdout
    english_words = {"expected", "actual", "passed", "failed", "row", "from", "how", "total "}
    assert not [w for w in english_words if w in swedish.stdout.replace(str(tmp_path), "")]


def test_junit_and_json_reports(contract, run, tmp_path):
    (tmp_path / "c.scenarios.csv").write_text(
        'scenario,savings,rate,events[y2021],events[y2022],expect total\n'
        '"<b>&""quoted""</b>",1 000 SEK,0 %,10,10,1 SEK\nok,2 SEK,0 %,10,10,1 SEK\n', encoding="utf-8")
    junit = run("test", str(contract), "--format", "junit")
    assert junit.exit_code == 1
    root = ET.fromstring(junit.stdout)
    cases = root.findall("./testsuite/testcase")
    assert [c.get("name") for c in cases] == ['<b>&"quoted"</b>', "ok"]
    assert cases[0].find("failure").get("message") == "total: expected 1 SEK, actual 500 SEK"
    assert cases[1].find("failure") is None
    data = json.loads(run("test", str(contract), "--format", "json").stdout)
    assert [s["passed"] for s in data[0]["scenarios"]] == [False, True]


def test_min_coverage(contract, run, tmp_path):
    (tmp_path / "c.scenarios.csv").write_text(
        "scenario,savings,rate,events[y2021],events[y2022],expect total\nA,2 SEK,0 %,10,10,1 SEK\n",
        encoding="utf-8")
    result = run("test", str(contract), "--min-coverage", "90")
    assert result.exit_code == 1
    assert "clause coverage: 1 of 2 reachable branches (50.0 %)" in result.stdout
    assert "✗ line  13  cap ceiling “Taket”: the cap limits the amount  — no scenario" in result.stdout
    assert "below --min-coverage 90.0 %" in result.stdout
    assert run("test", str(contract), "--min-coverage", "50").exit_code == 0


def test_coverage_names_table_rows_and_proves_unreachable_caps():
    contract = load_contract(ROOT / "contracts/nyc_rikers.sib")
    scenarios = load_scenarios(contract, ROOT / "contracts/nyc_rikers.scenarios.csv")
    coverage = measure(contract, scenarios[:1], run_scenarios(contract, scenarios[:1]))
    labels = {b.label for b in coverage.missing}
    assert {"from 8.5 %", "from 20 %"} <= labels  # the tiers' rows no scenario reached
    assert {b.label for b in coverage.branches if b.key in coverage.unreachable} == {"the cap limits the amount"}


@pytest.mark.parametrize("lang, line", [
    ("sv", "  - Taket: beloppet 1 500 000 kr begränsas till 1 000 000 kr: totalt betalas högst 1 000 000 kr."),
    ("en", "  - Taket: the amount of SEK 1,500,000 is limited to SEK 1,000,000: at most SEK 1,000,000 is paid in all."),
])
def test_explanation_in_plain_language(contract, lang, line):
    model = load_contract(contract)
    settlement = compile_contract(model).evaluate(
        {"savings": Fraction(3_000_000), "rate": Fraction(0), "events": {"y2021": Fraction(10), "y2022": Fraction(10)}})
    text = explain_settlement(model, settlement, lang)
    assert line in text.splitlines()
    assert settlement.total == Decimal(1_000_000)


def test_eval_explain(run):
    result = run("eval", "contracts/norrkoping.sib", "--outcomes", "contracts/norrkoping.outcomes.json",
                 "--explain", "--lang", "sv")
    assert result.exit_code == 0
    assert "Så beräknas ersättningen" in result.stdout
    assert "  - § 7 Ersättning, Aktivitetsersättning: enligt formeln blir beloppet 4 000 000 kr." in result.stdout
    assert "Totalt betalas 4 000 000 kr." in result.stdout
