"""INDIGO interchange: `sibc export --indigo` and `sibc new --from-indigo`, on rows of the public
INDIGO dataset (tests/fixtures/indigo/SOURCE.md says where they come from)."""

from __future__ import annotations

import csv
import json
from decimal import Decimal

import pytest
from click.testing import CliRunner

from sibdsl import check_source, load_contract, read_source
from sibdsl.cli import main
from sibdsl.diagnostics import SibError, render_gnu
from sibdsl.indigo import PRICING_COLUMNS, _unit_price, draft, dumps, export_csv, export_project, read_project
from sibdsl.source import Source

from .conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "indigo"
BAD = FIXTURES / "bad"


def _pricings(project: str) -> list[dict]:
    with open(FIXTURES / "original_projects_outcome_pricings.csv", encoding="utf-8", newline="") as f:
        return [r for r in csv.DictReader(f) if r["Project ID"] == project]


def _checked(text: str):
    contract, diagnostics = check_source(Source("draft.sib", text))
    assert diagnostics == [] and contract is not None, diagnostics
    return contract


# ---------------------------------------------------------------- import
def test_a_draft_from_apollo_has_one_payment_per_priced_metric_at_indigo_s_price():
    project = read_project(FIXTURES, "INDIGO-POJ-0123")
    contract = _checked(draft(project))
    rows = _pricings("INDIGO-POJ-0123")
    assert len(rows) == len(contract.payments) == len(contract.measures) == 23
    for n, row in enumerate(rows, 1):
        payment = contract.payments[f"pay_metric_{n}"]
        assert payment.expr.op == "*"
        assert payment.expr.args[1].value == Decimal(row["Price Per Unit - Amount - (Value)"])
        assert contract.measures[f"metric_{n}"].ty.kind == "count"
    assert contract.title.text == "Project Apollo" and contract.id == "INDIGO-POJ-0123"
    assert contract.currency == "GBP"
    # original_projects.csv: service from 2018-10 to 2022-03
    assert [d.isoformat() for d in contract.term] == ["2018-10-01", "2022-03-31"]
    # one payer of two gave a maximum: no total cap is invented, the draft says so
    assert not contract.caps
    text = draft(project)
    assert "INDIGO-ORG-0123 1 083 550 GBP; INDIGO-ORG-0006 not given" in text


def test_a_draft_from_buenos_aires_keeps_per_metric_maxima_notes_and_the_total_cap():
    project = read_project(FIXTURES / "original_projects_outcome_pricings.csv", "INDIGO-POJ-0001")
    text = draft(project)
    contract = _checked(text)
    rows = _pricings("INDIGO-POJ-0001")
    priced = [r for r in rows if r["Price Per Unit - Amount - (Value)"]]
    assert len(contract.payments) == len(priced)
    caps = {c.target: c.amount.value for c in contract.caps if c.kind == "payment"}
    for n, row in enumerate(rows, 1):
        if row["Maximum Price if all targets achieved - Amount - (Value)"]:
            assert caps[f"pay_metric_{n}"] == Decimal(row["Maximum Price if all targets achieved - Amount - (Value)"])
    total = [c for c in contract.caps if c.kind == "total"]
    assert len(total) == 1 and total[0].amount.value == 48_400_000  # the city's commitment (ARS)
    assert "# INDIGO: Contract cap: no more than 40% of participants" in text
    assert contract.measures["metric_2"].label.text == "Job placement (vulnerable person)"


def test_the_cli_writes_a_draft_that_passes_sibc_check_and_its_proofs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    made = runner.invoke(main, ["new", "draft.sib", "--from-indigo", str(FIXTURES), "--project", "INDIGO-POJ-0001"])
    assert made.exit_code == 0, made.output
    assert made.stdout == "draft.sib: a draft from INDIGO-POJ-0001 (9 priced outcome metrics); next: sibc check draft.sib\n"
    checked = runner.invoke(main, ["check", "draft.sib"])
    assert checked.exit_code == 0, checked.output
    assert checked.stdout.startswith("draft.sib: ok — 9 payments, 9 measures, 1 guarantee,")


def test_the_term_can_be_given_when_indigo_has_none(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["new", "d.sib", "--from-indigo", str(FIXTURES), "--project", "INDIGO-POJ-0123",
                                       "--start", "2019-01-01", "--years", "3"])
    assert result.exit_code == 0, result.output
    text = (tmp_path / "d.sib").read_text(encoding="utf-8")
    assert "term 2019-01-01 to 2021-12-31" in text and "the term is assumed" in text


def test_from_indigo_needs_a_project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["new", "d.sib", "--from-indigo", str(FIXTURES)])
    assert result.exit_code == 2 and "--project" in result.output
    assert not (tmp_path / "d.sib").exists()


def _error(path, project="INDIGO-POJ-0123", currency=None) -> list[str]:
    with pytest.raises(SibError) as err:
        read_project(path, project, currency)
    return [render_gnu(d) for d in err.value.diagnostics]


@pytest.mark.parametrize("name, project, expected", [
    ("E570_not_pricings.csv", "INDIGO-POJ-0123",
     ["{f}:1:1: error[E570]: {f} is not an INDIGO outcome pricings table: no column `Project ID`, "
      "`Outcome Metric Id - (Value)`, `Price Per Unit - Amount - (Value)` (hint: use "
      "original_projects_outcome_pricings.csv of the INDIGO dataset (or the folder holding it), or a project "
      "JSON as `sibc export --indigo` writes it)"]),
    ("E572_price_not_a_number.csv", "INDIGO-POJ-0123",
     ["{f}:3:36: error[E572]: the price of outcomemetric2 is not a number: `£2 20` (hint: write the amount in "
      "digits (12635 or 12,635.50); leave it empty when the price is not known)",
      "{f}:4:36: error[E572]: the price of outcomemetric3 is not a number: `=D41-D36` (hint: write the amount "
      "in digits (12635 or 12,635.50); leave it empty when the price is not known)"]),
    ("E573_currency_name.csv", "INDIGO-POJ-0077",
     ["{f}:2:32: error[E573]: the currency `Swedish` is not a three-letter currency code (hint: give the "
      "currency with --currency (e.g. --currency SEK); a contract has one currency)"]),
    ("E573_two_currencies.csv", "INDIGO-POJ-0123",
     ["{f}:3:32: error[E573]: the prices of INDIGO-POJ-0123 are in GBP and in EUR (hint: a contract has one "
      "currency; GBP is on line 2. Convert the prices, or give the contract's currency with --currency)"]),
    ("E574_no_price.csv", "INDIGO-POJ-0083",
     ["{f}:2:1: error[E574]: project INDIGO-POJ-0083 has no outcome metric with a price per unit (hint: a draft "
      "needs at least one price; add `Price Per Unit - Amount` to a row, or start from a template: sibc new "
      "--template rate-card)"]),
    ("E575_priced_twice.csv", "INDIGO-POJ-0123",
     ["{f}:3:17: error[E575]: outcome metric outcomemetric1 of INDIGO-POJ-0123 is priced twice (hint: the first "
      "price is on line 2; keep one row per metric (a second price for a sub-group is a separate metric))"]),
    ("E576_zero_price.csv", "INDIGO-POJ-0123",
     ["{f}:2:36: error[E576]: the price of outcomemetric1 is 0, not a positive amount (hint: a price per outcome "
      "is paid for each outcome achieved: give the amount paid, or leave it empty when it is not known)"]),
])
def test_bad_indigo_rows_are_coded_diagnostics_at_their_row_and_cell(name, project, expected):
    path = BAD / name
    assert _error(path, project) == [e.format(f=path) for e in expected]


def test_a_currency_given_on_the_command_line_replaces_a_name_indigo_wrote_in_words():
    project = read_project(BAD / "E573_currency_name.csv", "INDIGO-POJ-0077", currency="SEK")
    assert project.currency == "SEK"
    assert "= metric_1 * 10 000 000 SEK" in draft(project)


def test_an_unknown_project_suggests_the_nearest():
    [message] = _error(FIXTURES, project="INDIGO-POJ-0124")
    assert "error[E571]: no outcome pricings for project INDIGO-POJ-0124" in message
    assert "(hint: did you mean INDIGO-POJ-0123" in message
    [message] = _error(FIXTURES, project="apollo")
    assert "(INDIGO projects are named INDIGO-POJ-0000)" in message
    assert "the file has 2 projects: INDIGO-POJ-0001, INDIGO-POJ-0123" in message


def test_bad_rows_through_the_cli_exit_1_with_the_diagnostic_and_write_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["new", "d.sib", "--from-indigo", str(BAD / "E575_priced_twice.csv"),
                                       "--project", "INDIGO-POJ-0123", "--diagnostics", "gnu"])
    assert result.exit_code == 1
    assert "E575_priced_twice.csv:3:17: error[E575]" in result.stderr
    assert not (tmp_path / "d.sib").exists()


def test_a_quote_never_closed_is_e570_not_a_traceback(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text(",".join(PRICING_COLUMNS) + '\nINDIGO-POJ-0123,"outcomemetric1,GBP,220\n', encoding="utf-8")
    [message] = _error(path)
    assert message.startswith(f"{path}:2:17: error[E570]: a quoted cell is never closed")


def test_a_multi_line_cell_keeps_the_line_numbers_of_later_rows(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text(",".join(PRICING_COLUMNS) + '\nINDIGO-POJ-0123,outcomemetric1,GBP,220,,,,"two\nlines",,\n'
                    "INDIGO-POJ-0123,outcomemetric2,GBP,lots,,,,,,\n", encoding="utf-8")
    [message] = _error(path)
    assert message.startswith(f"{path}:4:36: error[E572]: the price of outcomemetric2 is not a number")


# ---------------------------------------------------------------- export
def test_export_of_nyc_rikers_in_indigo_s_shape():
    source = read_source(ROOT / "contracts" / "nyc_rikers.sib")
    contract, _ = check_source(source)
    project = export_project(contract, source)
    assert project["id"] == "US-NYC-DOC-ABLE-2012"
    assert project["name"] == {"value": "NYC ABLE Project for Incarcerated Youth (Rikers Island)"}
    finance = project["overall_project_finance"]
    assert finance["total_investment_commitment"]["amount"]["exact"]["value"] == 9_600_000
    assert finance["maximum_potential_outcome_payment_v2"]["amount"]["value"] == 11_712_000
    (success,) = project["outcome_pricings"]
    # a payment grid has no price per unit; its top is the maximum (and its cap says the same)
    assert "price_per_unit" not in success
    assert success["maximum_price_if_all_targets_achieved"]["amount"]["value"] == 11_712_000
    assert success["price_description"]["value"] == "city_amount"
    assert project["investments"] == [{"id": "loan", "organisation_id": {"value": "goldman"},
                                       "investment_commitment": {"currency": {"value": "USD"},
                                                                 "amount": {"exact": {"value": Decimal(9_600_000)}}},
                                       "notes": "Loan, paid in on 2012-08-02, 7200000 USD of it drawn"}]
    city = [c for c in project["outcome_payment_commitments"] if c["organisation_id"]["value"] == "city"]
    assert city[0]["maximum_potential_outcome_payment"]["amount"]["value"] == 11_712_000
    assert [m["id"] for m in project["outcome_metrics"]] == ["outcomemetric1"]  # the cover is not an outcome price


def test_exported_json_writes_amounts_exactly_never_through_a_float():
    text = dumps({"a": Decimal("0.1"), "b": Decimal("12000000"), "c": [Decimal("1234567890123456789.01")]})
    assert json.loads(text, parse_float=Decimal) == {"a": Decimal("0.1"), "b": 12000000,
                                                       "c": [Decimal("1234567890123456789.01")]}
    assert '"b": 12000000,' in text and "1234567890123456789.01" in text


def test_the_cli_exports_json_and_csv(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    runner = CliRunner()
    out = runner.invoke(main, ["export", "--indigo", "contracts/nyc_rikers.sib"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["outcome_pricings"][0]["currency"] == {"value": "USD"}
    target = tmp_path / "rikers.csv"
    out = runner.invoke(main, ["export", "--indigo", "contracts/nyc_rikers.sib", "--format", "csv", "-o", str(target)])
    assert out.exit_code == 0, out.output
    rows = list(csv.reader(target.open(encoding="utf-8", newline="")))
    with open(FIXTURES / "original_projects_outcome_pricings.csv", encoding="utf-8", newline="") as f:
        assert rows[0] == next(csv.reader(f)) == list(PRICING_COLUMNS)  # the dataset's own header
    assert rows[1][:6] == ["US-NYC-DOC-ABLE-2012", "outcomemetric1", "USD", "", "", "11712000"]


def test_export_of_a_broken_contract_reports_its_diagnostics(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.sib").write_text('contract "X"\n  currency SEK\n  rounding 1 SEK half up\n'
                                    "payment p = nothing from a to b\n", encoding="utf-8")
    out = CliRunner().invoke(main, ["export", "--indigo", "x.sib"])
    assert out.exit_code == 1 and "error[E201]" in out.stderr and out.stdout == ""


def test_export_needs_a_standard(monkeypatch):
    monkeypatch.chdir(ROOT)
    out = CliRunner().invoke(main, ["export", "contracts/nyc_rikers.sib"])
    assert out.exit_code == 2 and "--indigo" in out.output


# ---------------------------------------------------------------- the care leavers contracts and INDIGO
CARE_LEAVERS = [("care_leavers_reboot_west", "INDIGO-POJ-0121", 1_871_540),
                ("care_leavers_i_aspire", "INDIGO-POJ-0122", 2_165_460),
                ("care_leavers_apollo", "INDIGO-POJ-0123", 848_540)]


def _actual_payments(project: str) -> dict[str, Decimal]:
    with open(FIXTURES / "original_projects_outcome_payments.csv", encoding="utf-8", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["Project ID"] == project]
    assert {r["Type - (Value)"] for r in rows} <= {"Actual"}
    return {r["Outcome Metric Id - (Value)"]: Decimal(r["Payments - Amount - (Value)"]) for r in rows}


@pytest.mark.parametrize("stem, project, published", CARE_LEAVERS, ids=lambda v: str(v))
def test_care_leavers_settlements_pay_what_indigo_records_line_by_line(stem, project, published):
    # REAL_CONTRACTS.md 5d: I-Aspire £2,165,460 and Apollo £848,540 (INDIGO outcome payments, Actual)
    from sibdsl import compile_contract, load_outcomes

    contract = load_contract(ROOT / "contracts" / f"{stem}.sib")
    settlement = compile_contract(contract).evaluate(load_outcomes(contract, ROOT / "contracts" / f"{stem}.outcomes.json"))
    actual = _actual_payments(project)
    assert sum(actual.values()) == settlement.total == published
    for n, line in enumerate(settlement.lines, 1):
        assert line.amount == actual[f"outcomemetric{n}"], line.payment


@pytest.mark.parametrize("stem, project, published", CARE_LEAVERS, ids=lambda v: str(v))
def test_care_leavers_round_trip_through_indigo_keeps_every_price(stem, project, published, tmp_path):
    source = read_source(ROOT / "contracts" / f"{stem}.sib")
    contract, _ = check_source(source)
    exported = tmp_path / f"{stem}.json"
    exported.write_text(dumps(export_project(contract, source)), encoding="utf-8")
    pricings = tmp_path / "original_projects_outcome_pricings.csv"
    pricings.write_text(export_csv(contract, source), encoding="utf-8")
    assert contract.rate_cards  # one DfE rate card: each outcome's price is its line's price per unit
    for path in (exported, pricings):
        again = _checked(draft(read_project(path, project)))
        assert _prices(again) == _prices(contract) and len(_prices(contract)) == 23
    # the card's total cap (the Department's maximum) comes back as the draft's cap on the total
    cap = [card.total_cap for card in contract.rate_cards.values() if card.total_cap is not None]
    again = _checked(draft(read_project(exported, project)))
    assert [c.amount.value for c in again.caps if c.kind == "total"] == cap
    assert settle_outcomes(again, stem) == published  # the draft settles INDIGO's counts to the same total


def _prices(contract) -> list[Decimal]:
    """The price per unit of each payment, in order (a card's line or `count * price`)."""
    return [_unit_price(p.expr, contract)[0] for p in contract.payments.values()]


def settle_outcomes(contract, stem: str):
    """The contract settled with the counts of the shipped contract's outcome file, by position
    (a draft names its measures after INDIGO's metrics, the card `outcomes.NAME`)."""
    from fractions import Fraction

    from sibdsl import compile_contract

    counts = [v for k, v in json.loads((ROOT / "contracts" / f"{stem}.outcomes.json").read_text(encoding="utf-8")).items()
              if not k.startswith("_")]
    units = [_unit_price(p.expr, contract)[1] for p in contract.payments.values()]
    return compile_contract(contract).evaluate({u: Fraction(c) for u, c in zip(units, counts)}).total


def test_the_care_leavers_prices_are_indigo_s():
    for stem, project, _ in CARE_LEAVERS[2:]:  # Apollo's pricings are in the fixture
        contract = load_contract(ROOT / "contracts" / f"{stem}.sib")
        prices = [Decimal(r["Price Per Unit - Amount - (Value)"]) for r in _pricings(project)]
        assert _prices(contract) == prices == [o.price for o in contract.rate_cards["outcomes"].outcomes]


def test_export_keeps_the_indigo_metric_ids_a_draft_cites(tmp_path):
    rows = [r for r in _pricings("INDIGO-POJ-0123") if r["Outcome Metric Id - (Value)"] in
            ("outcomemetric1", "outcomemetric9", "outcomemetric19")]
    path = tmp_path / "original_projects_outcome_pricings.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(PRICING_COLUMNS), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    text = draft(read_project(path, "INDIGO-POJ-0123"))
    contract = _checked(text)
    project = export_project(contract, Source("draft.sib", text))
    assert [p["outcome_metric_id"]["value"] for p in project["outcome_pricings"]] == \
           ["outcomemetric1", "outcomemetric9", "outcomemetric19"]
    assert [p["price_per_unit"]["amount"]["value"] for p in project["outcome_pricings"]] == [220, 1760, 660]


def test_names_given_on_the_command_line_replace_indigo_s_and_a_template_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    made = runner.invoke(main, ["new", "d.sib", "--from-indigo", str(FIXTURES), "--project", "INDIGO-POJ-0123",
                                "--title", "Apollo \"Sheffield\"", "--payer", "Department for Education",
                                "--investor", "Big Issue Invest"])
    assert made.exit_code == 0, made.output
    contract = _checked((tmp_path / "d.sib").read_text(encoding="utf-8"))
    assert contract.title.text == 'Apollo "Sheffield"'
    assert [p.label.text for p in contract.parties.values()] == ["Department for Education", "Big Issue Invest"]
    refused = runner.invoke(main, ["new", "e.sib", "--from-indigo", str(FIXTURES), "--project", "INDIGO-POJ-0123",
                                   "--template", "rate-card"])
    assert refused.exit_code == 2 and "leave out --template" in refused.output and not (tmp_path / "e.sib").exists()


def test_a_spreadsheet_s_bom_and_crlf_line_ends_read_as_the_dataset(tmp_path):
    source = (FIXTURES / "original_projects_outcome_pricings.csv").read_text(encoding="utf-8")
    path = tmp_path / "original_projects_outcome_pricings.csv"
    path.write_bytes(b"\xef\xbb\xbf" + source.replace("\n", "\r\n").encode("utf-8"))
    assert read_project(path, "INDIGO-POJ-0123") == attrs_evolve_source(read_project(FIXTURES, "INDIGO-POJ-0123"), path)


def attrs_evolve_source(project, path):
    """The same project read from another file: only where it was read from differs (and what the
    files beside the dataset's pricings add, which the copy does not have)."""
    import attrs

    return attrs.evolve(project, source_name=str(path), name=project.id, start=None, end=None, payers=(),
                        investors=(), commitments=(), definitions={})


def test_export_names_the_rules_indigo_s_prices_cannot_hold():
    source = read_source(ROOT / "contracts" / "norrkoping.sib")
    contract, _ = check_source(source)
    notes = export_project(contract, source)["overall_project_finance"]["notes"]
    assert notes.startswith("Also in the contract: floor activity_floor")
    assert "gate school_gate" in notes


def _paths(value, prefix: str = "") -> set[str]:
    out = {prefix} if prefix else set()
    if isinstance(value, dict):
        for key, item in value.items():
            out |= _paths(item, f"{prefix}/{key}")
    elif isinstance(value, list):
        for item in value:
            out |= _paths(item, f"{prefix}/[]")
    return out


@pytest.mark.parametrize("path", sorted((ROOT / "contracts").rglob("*.sib")), ids=lambda p: p.stem)
def test_export_uses_the_indigo_standard_s_field_names(path):
    lines = (FIXTURES / "project_schema_paths.txt").read_text(encoding="utf-8").splitlines()
    schema = {line for line in lines if line and not line.startswith("#")}
    source = read_source(path)
    contract, _ = check_source(source)
    used = _paths(export_project(contract, source))
    # the two keys the standard keeps outside a project record: its id and the organisations it names
    extensions = {p for p in used if p == "/id" or p.startswith("/organisations")}
    assert used - extensions <= schema, sorted(used - extensions - schema)


def test_a_rate_card_exports_each_outcome_s_price_per_unit_its_cap_and_the_card_s_maximum():
    text = """contract "Card"
  id "X-1"
  currency GBP
  rounding 1 GBP half up
party city "City": payer
party fund "Fund": provider
cohort young "Young people": size 10
ratecard care "Card" from city to fund due 2022-12-31: {
  soft "Soft outcome": 220 GBP,
  level1 "Level 1": 1 760 GBP cap 10 000 GBP,
  cap per participant 500 GBP,
  total cap 9 000 GBP,
}
"""
    source = Source("card.sib", text)
    contract, diagnostics = check_source(source)
    assert contract is not None, diagnostics
    project = export_project(contract, source)
    pricings = project["outcome_pricings"]
    assert [p["price_per_unit"]["amount"]["value"] for p in pricings] == [220, 1760]
    assert [p["price_description"]["value"] for p in pricings] == ["220 GBP × care.soft", "1 760 GBP × care.level1"]
    assert "maximum_price_if_all_targets_achieved" not in pricings[0]
    assert pricings[1]["maximum_price_if_all_targets_achieved"]["amount"]["value"] == 10000
    assert [m["definition"]["value"] for m in project["outcome_metrics"]] == ["Soft outcome", "Level 1"]
    # the card pays at most min(9 000, 500 × 10) = 5 000: the contract's maximum and the payer's
    finance = project["overall_project_finance"]["maximum_potential_outcome_payment_v2"]["amount"]["value"]
    assert finance == project["outcome_payment_commitments"][0]["maximum_potential_outcome_payment"]["amount"]["value"] == 5000
    uncapped = text.replace("  cap per participant 500 GBP,\n  total cap 9 000 GBP,\n", "")
    contract, _ = check_source(Source("card.sib", uncapped))
    assert "overall_project_finance" not in export_project(contract, Source("card.sib", uncapped))


# ---------------------------------------------------------------- contracts16: Portugal, South Carolina, Cambodia
def _commitment(project: str) -> dict[str, str]:
    with open(FIXTURES / "original_projects_outcome_payment_commitments.csv", encoding="utf-8", newline="") as f:
        (row,) = [r for r in csv.DictReader(f) if r["Project ID"] == project]
    return row


def _money(cell: str) -> Decimal:
    return Decimal(cell.replace("$", "").replace(",", ""))


@pytest.mark.parametrize("stem, project", [("junior_code_academy", "INDIGO-POJ-0063"),
                                           ("sc_nurse_family_partnership", "INDIGO-POJ-0090")])
def test_the_contracts_maximum_is_indigo_s_maximum_potential_outcome_payment(stem, project):
    contract = load_contract(ROOT / "contracts" / f"{stem}.sib")
    maximum = _money(_commitment(project)["Maximum potential Outcome payment - Amount - (Value)"])
    assert [c.amount.value for c in contract.caps if c.kind == "total" and c.clause.name == "maximum"] == [maximum]


def test_junior_code_academy_indigo_records_31000_paid_which_the_contract_does_not_reproduce():
    # the contract's header says why: the outcomes' weights are not published (nearest reading: a third)
    from sibdsl import compile_contract, load_outcomes

    assert _money(_commitment("INDIGO-POJ-0063")["Total outcome payments made - Amount - (Value)"]) == 31_000
    contract = load_contract(ROOT / "contracts" / "junior_code_academy.sib")
    settlement = compile_contract(contract).evaluate(load_outcomes(contract, ROOT / "contracts" / "junior_code_academy.outcomes.json"))
    assert settlement.total == Decimal("41666.67") != 31_000


def test_cambodia_round_1_pays_what_indigo_records_for_2019_11_to_2021_03():
    from sibdsl import compile_contract, load_outcomes

    (paid,) = _actual_payments("INDIGO-POJ-0014").values()
    contract = load_contract(ROOT / "contracts" / "cambodia_sanitation_dib.sib")
    settlement = compile_contract(contract).evaluate(load_outcomes(contract, ROOT / "contracts" / "cambodia_sanitation_dib.outcomes.json"))
    first = [line for line in settlement.lines if line.period == "round_1"]
    assert [line.amount for line in first] == [paid] == [3_125_000]
    assert contract.series["round"].periods[0].start.isoformat()[:7] == "2019-11"
    assert contract.series["round"].periods[0].end.isoformat()[:7] == "2021-03"
    # INDIGO's maximum, $10,000,000, is USAID's $9,999,999 rounded (the contract keeps USAID's)
    assert _money(_commitment("INDIGO-POJ-0014")["Maximum potential Outcome payment - Amount - (Value)"]) == 10_000_000


def test_export_of_a_draft_writes_the_open_price_as_its_range_not_as_a_price():
    # issue 17: `price * avoided` with `price` a parameter is not a price per unit yet
    text = ('contract "Utkast"\n  currency SEK\n  rounding 1 SEK half up\nparty city "Staden": payer\n'
            'party fund "Fonden": investor\n'
            'parameter price: money between 10 000 SEK and 30 000 SEK\n'
            'measure avoided: count between 0 and 200\n'
            'payment outcome = price * avoided from city to fund\n'
            'payment fixed = 20 000 SEK * avoided from city to fund\n')
    source = Source("draft.sib", text)
    contract, diagnostics = check_source(source)
    assert contract is not None, diagnostics
    open_, fixed = export_project(contract, source)["outcome_pricings"]
    assert open_["price_description"]["value"] == \
        "price * avoided; `price` is not yet agreed: between 10 000 SEK and 30 000 SEK"
    assert "price_per_unit" not in open_
    assert fixed["price_per_unit"]["amount"]["value"] == Decimal(20000)
    assert "not yet agreed" not in fixed["price_description"]["value"]
    row = next(r for r in csv.reader(export_csv(contract, source).splitlines()) if "price * avoided" in r[7])
    assert row[3] == "" and row[7].endswith("between 10 000 SEK and 30 000 SEK")


def test_a_metric_s_notes_cite_the_section_as_written():
    """The heading already reads "§ 7 Ersättning": the notes cite it once, not as "§ § 7"."""
    source = read_source(ROOT / "contracts" / "norrkoping.sib")
    contract, _ = check_source(source)
    metrics = export_project(contract, source)["outcome_metrics"]
    notes = {m["notes"] for m in metrics}
    assert "sibdsl payment `outcome`, § 7 Ersättning line 76" in notes
    assert not any("§ §" in n for n in notes)
