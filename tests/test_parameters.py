"""Issue 17: negotiable parameters of a draft — `parameter price: money between 10 000 SEK and 30 000 SEK`.

Verification proves every property for every value in the ranges and, for a promise that breaks,
says for which agreed values it would hold; a settlement needs values (`--param`, the outcome or
scenario file; E476, E478); a council document refuses a draft (E477); misuse is refused (E474,
E475, E479)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from sibdsl import check_source, compile_contract, load_outcomes
from sibdsl.diagnostics import SibError
from sibdsl.fmt import format_text
from sibdsl.parser import parse
from sibdsl.source import Source
from sibdsl.syntax import same
from sibdsl.verify import PROVED, VIOLATED, verify_contract

DRAFT = """contract "Utkast" @en "Draft"
  languages sv, en
  currency SEK
  rounding 1 SEK half up
party city "Staden": payer
party fund "Fonden": investor
parameter price "Pris per plats" @en "Price per place": money between 10 000 SEK and 30 000 SEK
measure avoided "Undvikna platser" @en "Avoided places": count between 0 and 200
payment outcome "Ersättning" @en "Outcome payment" = price * avoided from city to fund
"""


def _contract(text: str):
    contract, diagnostics = check_source(Source("draft.sib", text))
    assert contract is not None, [d.message for d in diagnostics]
    return contract


def _verdicts(text: str) -> dict:
    return {v.key: v for v in verify_contract(_contract(text))}


def _codes(text: str) -> list[str]:
    return [d.code for d in check_source(Source("draft.sib", text))[1]]


def test_a_parameter_is_an_input_over_its_range():
    contract = _contract(DRAFT)
    price = contract.parameters["price"]
    assert (price.lower, price.upper, price.ty.kind) == (10_000, 30_000, "money")
    assert "price" not in contract.measures


def test_a_cap_is_proved_for_every_value_in_the_range():
    verdicts = _verdicts(DRAFT + "cap total at 6 000 000 SEK\nguarantee most: total <= 6 000 000 SEK\n")
    assert verdicts["guarantee:most"].status == PROVED


def test_a_broken_promise_says_for_which_agreed_values_it_would_hold():
    v = _verdicts(DRAFT + "guarantee budget: total <= 5 000 000 SEK\n")["guarantee:budget"]
    assert v.status == VIOLATED
    assert v.counterexample[0]["price"] == "30000 SEK"  # the counterexample names the parameter's value
    assert v.words["en"].endswith("; it holds for every outcome only if `price` (10 000 SEK–30 000 SEK) is "
                                  "agreed at 25 000 SEK or less")
    assert v.words["sv"].endswith("; det håller för varje utfall bara om `price` (10 000 kr–30 000 kr) avtalas "
                                  "till högst 25 000 kr")


def test_a_promise_that_needs_a_high_enough_price():
    v = _verdicts(DRAFT + "guarantee enough: total >= 200 000 SEK when avoided >= 10\n")["guarantee:enough"]
    assert v.status == VIOLATED
    assert v.words["en"].endswith("is agreed at 20 000 SEK or more")


def test_a_promise_no_agreed_value_saves():
    v = _verdicts(DRAFT + "guarantee tiny: total <= 1 000 000 SEK\n")["guarantee:tiny"]
    assert v.status == VIOLATED
    assert v.words["en"].endswith("it fails for some outcomes whatever `price` is agreed within "
                                  "10 000 SEK–30 000 SEK")


def test_monotone_in_a_parameter():
    # a fee per case plus a fixed fee: linear in the parameter (price × count is a product of two
    # unknowns, which the two-copy comparison may not decide within its work limit)
    fee = DRAFT + "payment fixed_fee = 10 * price from city to fund\n"
    assert _verdicts(fee + "guarantee g: fixed_fee nondecreasing in price\n")["guarantee:g"].status == PROVED
    v = _verdicts(fee + "guarantee g: fixed_fee nonincreasing in price\n")["guarantee:g"]
    assert v.status == VIOLATED, (v.reason, v.seconds)
    before, after = v.counterexample
    assert before["avoided"] == after["avoided"] and before["price"] != after["price"]


def test_a_measure_monotonicity_keeps_the_parameter_fixed():
    text = DRAFT.replace("count between 0 and 200", "count between 0 and 200 better higher")
    assert _verdicts(text)["monotone:avoided"].status == PROVED


@pytest.mark.parametrize("line, code", [
    ("parameter rate: percentage", "E474"),
    ("parameter start: date between 2025-01-01 and 2025-12-31", "E475"),
    ("parameter extra: boolean between 0 and 1", "E475"),
    ("parameter rate: percentage between 20 % and 10 %", "E210"),
    ("parameter rate: percentage between 10 SEK and 20 SEK", "E305"),
    ("parameter rate: ratio between 1 and 2", "E206"),
    (("parameter threshold: count between 50 and 150\n"
      "payment bonus = tiers(avoided) { below: 0 SEK, from threshold: 100 000 SEK } from city to fund"), "E479"),
])
def test_parameters_the_checker_refuses(line, code):
    assert code in _codes(DRAFT + line + "\n")


def test_a_yes_no_parameter_needs_no_range():
    contract = _contract(DRAFT + "parameter bonus_on: boolean\n"
                         "payment bonus = if bonus_on then 10 000 SEK else 0 SEK from city to fund\n")
    assert contract.parameters["bonus_on"].lower is None


def _load(text: str, data: dict, params=None):
    contract = _contract(text)
    return contract, load_outcomes(contract, text=json.dumps(data), name="o.json", params=params)


def test_a_settlement_needs_a_value():
    with pytest.raises(SibError) as err:
        _load(DRAFT, {"avoided": 150})
    (d,) = err.value.diagnostics
    assert d.code == "E476" and "`--param price=20000`" in d.hint
    contract, outcomes = _load(DRAFT, {"avoided": 150}, {"price": "20000"})
    assert compile_contract(contract).evaluate(outcomes).total == 3_000_000
    contract, outcomes = _load(DRAFT, {"avoided": 150, "price": "12 000 SEK"})  # as a counterexample file has it
    assert compile_contract(contract).evaluate(outcomes).total == 1_800_000
    # --param wins over the file
    contract, outcomes = _load(DRAFT, {"avoided": 150, "price": "12 000 SEK"}, {"price": "10000"})
    assert compile_contract(contract).evaluate(outcomes).total == 1_500_000


def test_param_errors_point_into_the_option():
    with pytest.raises(SibError) as err:
        _load(DRAFT, {"avoided": 150}, {"pris": "20000"})
    (d,) = err.value.diagnostics  # E478 alone: the misspelt option is not also reported missing (E476)
    assert d.code == "E478" and d.source.name == "--param" and d.hint == "did you mean `price`?"
    with pytest.raises(SibError) as err:
        _load(DRAFT, {"avoided": 150}, {"price": "40 000 SEK"})
    (d,) = err.value.diagnostics
    assert d.code == "E505" and d.source.text == "price=40 000 SEK" and d.span.column == 7


def test_eval_on_the_command_line(run, tmp_path):
    (tmp_path / "draft.sib").write_text(DRAFT, encoding="utf-8")
    (tmp_path / "o.json").write_text('{"avoided": 150}', encoding="utf-8")
    missing = run("eval", str(tmp_path / "draft.sib"), "--outcomes", str(tmp_path / "o.json"))
    assert missing.exit_code == 1 and "error[E476]" in missing.stderr
    ok = run("eval", str(tmp_path / "draft.sib"), "--outcomes", str(tmp_path / "o.json"), "--param", "price=20000",
             "--format", "json")
    assert ok.exit_code == 0 and json.loads(ok.stdout)["total"] == "3000000"
    bad = run("eval", str(tmp_path / "draft.sib"), "--outcomes", str(tmp_path / "o.json"), "--param", "price")
    assert bad.exit_code == 2 and "write NAME=VALUE" in bad.stderr


def test_a_counterexample_reproduces_with_its_parameter_value(run, tmp_path):
    (tmp_path / "draft.sib").write_text(DRAFT + "guarantee budget: total <= 5 000 000 SEK\n", encoding="utf-8")
    result = run("verify", str(tmp_path / "draft.sib"), "--counterexamples", str(tmp_path / "cex"))
    assert result.exit_code == 1
    (file,) = (tmp_path / "cex").glob("*.json")
    assert json.loads(file.read_text())["price"] == "30000 SEK"
    again = run("eval", str(tmp_path / "draft.sib"), "--outcomes", str(file), "--format", "json")
    assert json.loads(again.stdout)["total"] == "6000000"


def test_the_council_document_refuses_a_draft(run, tmp_path):
    (tmp_path / "draft.sib").write_text(DRAFT, encoding="utf-8")
    result = run("render", str(tmp_path / "draft.sib"), "-o", str(tmp_path / "draft.md"))
    assert result.exit_code == 1 and "error[E477]" in result.stderr
    assert "its parameter `price` is still open" in result.stderr
    assert not (tmp_path / "draft.md").exists()
    fixed = DRAFT.replace('parameter price "Pris per plats" @en "Price per place": money between 10 000 SEK and '
                          '30 000 SEK', 'define price "Pris per plats" @en "Price per place" = 20 000 SEK')
    (tmp_path / "fixed.sib").write_text(fixed, encoding="utf-8")
    assert run("render", str(tmp_path / "fixed.sib"), "-o", str(tmp_path / "fixed.md")).exit_code == 0


def test_the_studio_api_refuses_a_draft_document():
    from sibdsl.render.complete import open_parameters

    d = open_parameters(_contract(DRAFT), None)
    assert d.code == "E477"
    assert open_parameters(_contract(DRAFT.replace("price", "7 SEK").replace(
        'parameter 7 SEK "Pris per plats" @en "Price per place": money between 10 000 SEK and 30 000 SEK\n', "")),
        None) is None


def test_simulate_takes_the_parameter_from_the_scenario_file(run, tmp_path):
    (tmp_path / "draft.sib").write_text(DRAFT, encoding="utf-8")
    spec = {"seed": 1, "measures": {"avoided": {"value": 100}}}
    (tmp_path / "missing.json").write_text(json.dumps(spec), encoding="utf-8")
    missing = run("simulate", str(tmp_path / "draft.sib"), "--scenarios", str(tmp_path / "missing.json"), "-n", "10")
    assert missing.exit_code == 1 and "error[E476]" in missing.stderr
    spec["measures"]["price"] = {"value": 20000}
    (tmp_path / "spec.json").write_text(json.dumps(spec), encoding="utf-8")
    result = run("simulate", str(tmp_path / "draft.sib"), "--scenarios", str(tmp_path / "spec.json"), "-n", "10",
                 "--format", "json")
    assert result.exit_code == 0, result.output
    assert "2000000" in result.stdout.replace(" ", "")


def test_scenarios_take_the_parameter_as_a_column(run, tmp_path):
    (tmp_path / "draft.sib").write_text(DRAFT, encoding="utf-8")
    (tmp_path / "s.csv").write_text("scenario,avoided,price,expect total\nA,100,20000,2 000 000 SEK\n"
                                    "B,100,10000,1 000 000 SEK\n", encoding="utf-8")
    result = run("test", str(tmp_path / "draft.sib"), "--scenarios", str(tmp_path / "s.csv"))
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("line", [
    'parameter price "Pris": money between 10 000 SEK and 30 000 SEK',
    "parameter rate: percentage between 5 % and 10 %",
    "parameter bonus_on: boolean",
])
def test_fmt_round_trips_a_parameter(line):
    text = DRAFT + line.replace("price", "p2") + "\n"
    formatted = format_text(Source("draft.sib", text))
    assert same(parse(Source("a.sib", text)), parse(Source("b.sib", formatted)))
    assert format_text(Source("again.sib", formatted)) == formatted


def test_diff_of_two_drafts_varies_their_parameter(run, tmp_path):
    (tmp_path / "a.sib").write_text(DRAFT, encoding="utf-8")
    (tmp_path / "b.sib").write_text(DRAFT.replace("price * avoided", "price * avoided + 1 000 SEK"), encoding="utf-8")
    result = run("diff", str(tmp_path / "a.sib"), str(tmp_path / "b.sib"))
    assert result.exit_code == 1, result.output  # the drafts pay differently
    # decided over every outcome and every agreed price in the range: the change adds exactly 1 000 SEK
    assert "Money: decided by the solver for every outcome" in result.stdout and "error" not in result.output
    assert "largest increase 1 000 SEK (proved the largest)" in result.stdout
    assert "largest decrease" not in result.stdout


def test_why_holds_an_agreed_parameter_at_its_value_and_changes_only_outcomes(run, tmp_path):
    """`sibc eval --why` explains with the measured outcomes; a parameter is an agreed term, held at
    its `--param` value: the bonus of one price would have been paid had the report been approved."""
    bonus = ('measure approved "Godkänd" @en "Approved": boolean\n'
             'payment bonus "Bonus" @en "Bonus" = price from city to fund\n  when approved\n')
    (tmp_path / "draft.sib").write_text(DRAFT + bonus, encoding="utf-8")
    (tmp_path / "o.json").write_text('{"avoided": 10, "approved": false}', encoding="utf-8")
    result = run("eval", str(tmp_path / "draft.sib"), "--outcomes", str(tmp_path / "o.json"),
                 "--param", "price=20000", "--why", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert Decimal(data["total"]) == 200_000
    [item] = data["why"]
    assert item["payment"] == "bonus" and [c["measure"] for c in item["smallest_change"]] == ["approved"]
    assert Decimal(item["would_pay"]) == 20_000 and item["proved_smallest"]


def test_verify_says_which_values_the_proofs_range_over(run, tmp_path):
    (tmp_path / "draft.sib").write_text(DRAFT + "parameter bonus_on: boolean\n"
                                        "payment bonus = if bonus_on then 1 SEK else 0 SEK from city to fund\n",
                                        encoding="utf-8")
    text = run("verify", str(tmp_path / "draft.sib"))
    assert "  for every value of: `price` 10 000 SEK–30 000 SEK (line 7); `bonus_on` (yes or no) (line 10)\n" \
        in text.stdout
    swedish = run("verify", str(tmp_path / "draft.sib"), "--lang", "sv")
    assert "  för varje värde på: `price` 10 000 kr–30 000 kr (rad 7); `bonus_on` (ja eller nej) (rad 10)\n" \
        in swedish.stdout
    data = json.loads(run("verify", str(tmp_path / "draft.sib"), "--format", "json").stdout)
    assert data["files"][0]["parameters"][0] == {
        "name": "price", "line": 7, "range": {"en": "10 000 SEK–30 000 SEK", "sv": "10 000 kr–30 000 kr"}}


def test_check_counts_the_open_parameters(run, tmp_path):
    (tmp_path / "draft.sib").write_text(DRAFT, encoding="utf-8")
    result = run("check", str(tmp_path / "draft.sib"))
    assert result.exit_code == 0
    assert result.stdout.endswith("ok — 1 payment, 1 measure, 0 guarantees, 1 open parameter, 2 properties proved\n")
