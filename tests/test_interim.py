"""Interim settlements and reconciliation (issue 15): `sibc eval --as-of DATE --paid FILE`.

The property that makes an interim settlement safe: a line settled while some values are not yet
measured has exactly the amount the final settlement gives it, whatever those values turn out to
be — on generated contracts with every step kind (tests/contractgen.py) and on Peterborough at
random as-of dates — so an interim never pays more than the final settlement, and interim
settlements followed by the final one with `--paid` pay the full settlement exactly.
"""

from __future__ import annotations

import datetime
import json
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sibdsl import compile_contract, load_contract, load_outcomes
from sibdsl.diagnostics import SibError
from sibdsl.evaluate import EvaluationError
from sibdsl.interim import NOT_DUE, SETTLED, WAITING, interim_json, line_key, load_paid, settle
from sibdsl.semantics.pending import waiting
from sibdsl.semantics.program import lower
from sibdsl.testing import outcomes

from .contractgen import generated
from .test_semantics import checked

ROOT = Path(__file__).resolve().parent.parent
PETERBOROUGH = ROOT / "contracts" / "peterborough.sib"


def _inputs(contract) -> list[tuple[str, str | None]]:
    keys = []
    for name, measure in contract.measures.items():
        if measure.ty.series:
            keys += [(name, p.name) for p in contract.series[measure.ty.series].periods]
        else:
            keys.append((name, None))
    return keys


def _without(row: dict, pending) -> dict:
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in row.items()}
    for name, period in pending:
        if period is None:
            out.pop(name, None)
        else:
            out[name].pop(period, None)
    return out


def _final(settlement) -> dict:
    return {line_key(ln): ln.exact for ln in settlement.lines}


def _paid(interim) -> dict:
    return {ln.key: ln.paid_to_date for ln in interim.lines if ln.paid_to_date}


def _assert_reconciles(evaluator, row, interims, final) -> None:
    """Each interim pays no line more than the final settlement gives it; the final settlement
    with what was paid pays the rest: the sum is the full settlement, line by line."""
    expected = _final(final)
    paid: dict = {}
    for interim in interims:
        for ln in interim.lines:
            key = ln.key
            assert ln.paid_before == paid.get(key, 0)
            if ln.status == SETTLED:
                assert ln.amount == expected.get(key, 0), key
            assert ln.paid_to_date <= expected.get(key, 0), key
            assert ln.overpaid == 0
        paid = _paid(interim)
    last = settle(evaluator, row, (), None, paid)
    assert all(ln.status == SETTLED and not ln.waits_for and not ln.overpaid for ln in last.lines)
    for ln in last.lines:
        assert ln.paid_to_date == expected.get(ln.key, 0)
    assert sum(i.pay_now for i in interims) + last.pay_now == sum(expected.values())


@settings(max_examples=int(__import__("os").environ.get("SIB_DIFF_EXAMPLES", "40")), deadline=None,
          suppress_health_check=list(HealthCheck))
@given(st.data())
def test_a_line_that_waits_for_nothing_has_its_final_amount(data):
    _interim_then_final(data, data.draw(generated(), label="contract"))


@settings(max_examples=int(__import__("os").environ.get("SIB_DIFF_EXAMPLES", "40")), deadline=None,
          suppress_health_check=list(HealthCheck))
@given(st.data())
def test_a_waterfall_is_settled_in_parts_line_by_line(data):
    """issue 14: the same on contracts that always have a waterfall: each step's line to each party
    is settled apart, and interim + final with --paid add up to the full settlement line by line."""
    contract = checked(data.draw(generated(waterfall=True), label="contract"))
    assert contract.waterfalls
    _interim_then_final(data, contract)


def _interim_then_final(data, contract) -> None:
    if isinstance(contract, str):
        contract = checked(contract)
    row = data.draw(outcomes(contract), label="outcomes")
    keys = _inputs(contract)
    pending = frozenset(data.draw(st.lists(st.sampled_from(keys), unique=True), label="not yet measured"))
    evaluator = compile_contract(contract)
    try:
        final = evaluator.evaluate(row)
        interim = settle(evaluator, _without(row, pending), pending, None)
    except EvaluationError:
        assume(False)
    assume(not final.diagnostics and not interim.settlement.diagnostics)  # a negative line is E601 anyway
    _assert_reconciles(evaluator, row, [interim], final)
    if not pending:
        assert all(ln.status == SETTLED for ln in interim.lines)


def test_the_cut_is_settled_in_order():
    """A cap over all periods: the first period's line is final before the second is measured;
    the second waits for its own value and for the first's (what the cap has left)."""
    contract = checked("""contract "Stream"
  languages en
  currency SEK
  rounding 1 SEK half up
party city "City": payer
party fund "Fund": investor
term 2021-01-01 to 2023-12-31
periods year: y1 2021-01-01 to 2021-12-31, y2 2022-01-01 to 2022-12-31, y3 2023-01-01 to 2023-12-31
measure visits: count per year between 0 and 100
payment p = visits * 1 000 SEK from city to fund per year due 30 days after end
cap s: p over all periods at 120 000 SEK
""")
    program = lower(contract)
    waits = waiting(program, {("visits", "y2"), ("visits", "y3")})
    assert [sorted(w) for w in waits] == [[], [("visits", "y2")], [("visits", "y2"), ("visits", "y3")]]
    evaluator = compile_contract(contract)
    row = {"visits": {"y1": Fraction(90), "y2": Fraction(50), "y3": Fraction(10)}}
    first = settle(evaluator, {"visits": {"y1": Fraction(90)}}, {("visits", "y2"), ("visits", "y3")},
                   datetime.date(2022, 3, 1))
    assert [(ln.status, ln.amount, ln.pay_now) for ln in first.lines] == [
        (SETTLED, 90_000, 90_000), (NOT_DUE, None, 0), (NOT_DUE, None, 0)]
    second = settle(evaluator, {"visits": {"y1": Fraction(90), "y2": Fraction(50)}}, {("visits", "y3")},
                    datetime.date(2023, 3, 1), _paid(first))
    assert [(ln.status, ln.amount, ln.pay_now) for ln in second.lines] == [
        (SETTLED, 90_000, 0), (SETTLED, 30_000, 30_000), (NOT_DUE, None, 0)]  # the cap left 30 000
    _assert_reconciles(evaluator, row, [first, second], evaluator.evaluate(row))


def _peterborough_outcomes(as_of: datetime.date | None) -> tuple[dict, set]:
    data = json.loads((ROOT / "contracts" / "peterborough.outcomes.json").read_text(encoding="utf-8"))
    contract = load_contract(PETERBOROUGH)
    if as_of is not None:
        ends = {p.name: p.end for p in contract.series["cohorts"].periods}
        for name in ("pilot_events", "comparison_events"):  # reconvictions are known two years after a cohort
            data[name] = {p: v if ends[p] + datetime.timedelta(days=730) <= as_of else None
                          for p, v in data[name].items() if ends[p] <= as_of}
    pending: set = set()
    row = load_outcomes(contract, text=json.dumps(data), name="o.json", as_of=as_of, pending=pending)
    return row, pending


def test_peterborough_interim_then_final():
    contract = load_contract(PETERBOROUGH)
    evaluator = compile_contract(contract)
    row, pending = _peterborough_outcomes(datetime.date(2014, 7, 1))  # cohort 1 published 2014-08-07
    assert pending == {("pilot_events", "cohort_2"), ("comparison_events", "cohort_2")}
    first = settle(evaluator, row, pending, datetime.date(2014, 7, 1))
    status = {(ln.payment, ln.period): (ln.status, ln.waits_for) for ln in first.lines}
    assert status[("cohort_payment", "cohort_1")] == (SETTLED, ())  # 8.4 %: below the cohort threshold
    waits = (("pilot_events", "cohort_2"), ("comparison_events", "cohort_2"))  # as the contract declares them
    assert status[("cohort_payment", "cohort_2")] == (NOT_DUE, waits)
    assert status[("final_payment", None)][1] == waits  # the pooled trigger reads cohort 2
    full, _ = _peterborough_outcomes(None)
    final = evaluator.evaluate(full)
    second = settle(evaluator, full, (), datetime.date(2016, 7, 1), _paid(first))
    assert [(ln.payment, ln.status) for ln in second.lines] == [
        ("cohort_payment", SETTLED), ("cohort_payment", SETTLED), ("final_payment", NOT_DUE)]
    _assert_reconciles(evaluator, full, [first, second], final)
    assert second.pay_now + settle(evaluator, full, (), None, _paid(second)).pay_now == 5_600_000


@settings(max_examples=30, deadline=None)
@given(st.lists(st.dates(datetime.date(2010, 9, 9), datetime.date(2018, 9, 8)), min_size=1, max_size=4))
def test_peterborough_at_random_as_of_dates_reconciles(dates):
    evaluator = compile_contract(load_contract(PETERBOROUGH))
    full, _ = _peterborough_outcomes(None)
    interims, paid = [], {}
    for as_of in sorted(dates):
        row, pending = _peterborough_outcomes(as_of)
        interim = settle(evaluator, row, pending, as_of, paid)
        for ln in interim.lines:
            assert (ln.status == NOT_DUE) == (ln.due > as_of)
            assert ln.status != WAITING or ln.waits_for
        interims.append(interim)
        paid = _paid(interim)
    _assert_reconciles(evaluator, full, interims, evaluator.evaluate(full))


# ---------------------------------------------------------------- outcome files: not yet measured
CONTRACT = """contract "Exempel"
  languages sv, en
  currency SEK
  rounding 1 SEK half up
party city "Staden": payer
party fund "Fonden": investor
term 2020-01-01 to 2023-12-31
periods year "År": y2021 2021-01-01 to 2021-12-31, y2022 2022-01-01 to 2022-12-31
measure costs "Kostnader": money better lower
measure placements "Placeringar": count per year better lower
measure finished "Genomförd": boolean
payment outcome = 10 % of costs from city to fund due 2023-06-30 when finished
payment yearly = max(20 - placements, 0) * 10 000 SEK from city to fund per year due 90 days after end
"""


@pytest.mark.parametrize("text, name", [
    ('{"costs": null, "placements": {"y2021": 12, "y2022": null}, "finished": "pending"}', "o.json"),
    ("measure;period;value\ncosts;;\nplacements;y2021;12\nplacements;y2022;ej mätt\nfinished;;Inte  mätt\n",
     "o.csv"),
    ("measure,period,value\ncosts,,not yet measured\nplacements,y2021,12\nfinished,,\n", "o.csv"),
])
def test_values_not_yet_measured(text, name, tmp_path):
    contract = checked(CONTRACT)
    pending: set = set()
    row = load_outcomes(contract, text=text, name=name, as_of=datetime.date(2022, 6, 30), pending=pending)
    assert pending == {("costs", None), ("placements", "y2022"), ("finished", None)}
    assert row == {"placements": {"y2021": 12}}
    with pytest.raises(SibError) as err:
        load_outcomes(contract, text=text, name=name)
    codes = [d.code for d in err.value.diagnostics]
    assert "E550" in codes and set(codes) <= {"E550", "E507"}


def test_a_period_that_has_ended_must_be_given_or_marked():
    contract = checked(CONTRACT)
    text = '{"costs": 1, "placements": {}, "finished": true}'
    with pytest.raises(SibError) as err:
        load_outcomes(contract, text=text, name="o.json", as_of=datetime.date(2022, 6, 30), pending=set())
    (d,) = err.value.diagnostics
    assert d.code == "E507" and "y2021" in d.message and "null" in d.hint


def test_a_value_for_a_period_not_yet_over_is_refused():
    contract = checked(CONTRACT)
    text = '{"costs": 1, "placements": {"y2021": 3, "y2022": 4}, "finished": true}'
    with pytest.raises(SibError) as err:
        load_outcomes(contract, text=text, name="o.json", as_of=datetime.date(2022, 6, 30), pending=set())
    (d,) = err.value.diagnostics
    assert d.code == "E553" and "y2022" in d.message and "2022-12-31" in d.message


# ---------------------------------------------------------------- what was paid before
def _program():
    contract = checked(CONTRACT)
    return contract, lower(contract)


@pytest.mark.parametrize("text, name, code, words", [
    ("", "p.json", "E554", "empty"),
    ("[1]", "p.json", "E554", "list `lines`"),
    ('{"lines": [{"period": "y2021"}]}', "p.json", "E554", "needs a `payment`"),
    ('{"lines": [{"payment": "yeraly", "period": "y2021", "amount": "1"}]}', "p.json", "E555", "yeraly"),
    ('{"lines": [{"payment": "yearly", "period": "y2031", "amount": "1"}]}', "p.json", "E555", "y2031"),
    ('{"lines": [{"payment": "yearly", "period": "y2021", "amount": "-1"}]}', "p.json", "E556", "negative"),
    ('{"lines": [{"payment": "yearly", "period": "y2021", "amount": "1 EUR"}]}', "p.json", "E556", "EUR"),
    ('{"currency": "EUR", "lines": []}', "p.json", "E556", "EUR"),
    ('{"lines": [{"payment": "yearly", "period": "y2021", "amount": true}]}', "p.json", "E556", "not an amount"),
    ('{"lines": [{"payment": "outcome", "amount": "1"}, {"payment": "outcome", "amount": "2"}]}', "p.json",
     "E554", "twice"),
    ("payment;period;paid\nyearly;y2021;1\nyearly;y2040;1\n", "p.csv", "E555", "y2040"),
    ("payment;value\nyearly;1\n", "p.csv", "E554", "columns"),
])
def test_a_bad_file_of_what_was_paid(text, name, code, words):
    contract, program = _program()
    with pytest.raises(SibError) as err:
        load_paid(contract, program, name, text=text, name=name)
    assert any(d.code == code and words in d.message for d in err.value.diagnostics), \
        [(d.code, d.message) for d in err.value.diagnostics]


def test_what_was_paid_is_read_from_csv_and_json():
    contract, program = _program()
    csv = "payment;period;paid\nyearly;y2021;80 000 kr\noutcome;;0\n"
    assert load_paid(contract, program, "p.csv", text=csv, name="p.csv") == {
        ("yearly", "y2021", "fund", "yearly"): 80_000, ("outcome", None, "fund", "outcome"): 0}
    evaluator = compile_contract(contract)
    interim = settle(evaluator, {"placements": {"y2021": Fraction(12)}},
                     {("costs", None), ("finished", None), ("placements", "y2022")}, datetime.date(2022, 6, 30))
    text = json.dumps(interim_json(interim))
    assert load_paid(contract, program, "p.json", text=text, name="p.json") == {
        ln.key: ln.paid_to_date for ln in interim.lines}
    warnings: list = []
    load_paid(contract, program, "p.json", text='{"contract": "Another", "lines": []}', name="p.json",
              warnings=warnings)
    assert [d.code for d in warnings] == ["W551"]


def test_an_overpayment_is_reported_never_clawed_back():
    contract = checked(CONTRACT)
    evaluator = compile_contract(contract)
    row = {"costs": Fraction(1_000_000), "placements": {"y2021": Fraction(12), "y2022": Fraction(9)},
           "finished": True}
    result = settle(evaluator, row, (), None, {("yearly", "y2021"): 90_000})
    line = next(ln for ln in result.lines if ln.period == "y2021")
    assert (line.amount, line.pay_now, line.overpaid, line.paid_to_date) == (80_000, 0, 10_000, 90_000)
    assert all(ln.pay_now >= 0 for ln in result.lines)
    assert result.pay_now == 100_000 + 110_000


def test_an_empty_workbook_cell_is_not_yet_measured(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    for row in [["measure", "period", "value"], ["costs", None, None], ["placements", "y2021", 12],
                ["placements", "y2022", "ej mätt"], ["finished", None, "pending"]]:
        ws.append(row)
    wb.save(tmp_path / "u.xlsx")
    pending: set = set()
    row = load_outcomes(checked(CONTRACT), tmp_path / "u.xlsx", as_of=datetime.date(2023, 1, 31), pending=pending)
    assert row == {"placements": {"y2021": 12}}
    assert pending == {("costs", None), ("placements", "y2022"), ("finished", None)}


# ---------------------------------------------------------------- the command line
def test_interim_then_final_on_the_command_line(run, tmp_path):
    """An interim settlement's JSON is the next settlement's --paid: together they pay the full one."""
    data = json.loads((ROOT / "contracts" / "peterborough.outcomes.json").read_text(encoding="utf-8"))
    data["pilot_events"]["cohort_2"] = data["comparison_events"]["cohort_2"] = None
    (tmp_path / "partial.json").write_text(json.dumps(data), encoding="utf-8")
    interim = run("eval", str(PETERBOROUGH), "--outcomes", str(tmp_path / "partial.json"), "--as-of", "2015-01-01",
                  "--format", "json", "-o", str(tmp_path / "paid.json"))
    assert interim.exit_code == 0, interim.output
    paid = json.loads((tmp_path / "paid.json").read_text(encoding="utf-8"))
    assert paid["as_of"] == "2015-01-01"
    waits = [{"measure": name, "period": "cohort_2", "periods": {"cohorts": "cohort_2"}}
             for name in ("pilot_events", "comparison_events")]
    assert [(ln["status"], ln["waits_for"]) for ln in paid["lines"]] == [
        ("settled", []), ("not due", waits), ("not due", waits)]
    final = run("eval", str(PETERBOROUGH), "--outcomes", str(ROOT / "contracts" / "peterborough.outcomes.json"),
                "--paid", str(tmp_path / "paid.json"), "--format", "json")
    assert final.exit_code == 0, final.output
    result = json.loads(final.stdout)
    full = json.loads((ROOT / "contracts" / "peterborough.settlement.json").read_text(encoding="utf-8"))
    assert Fraction(result["paid_to_date"]) == Fraction(full["total"])
    assert [ln["paid_to_date"] for ln in result["lines"]] == [ln["amount"] for ln in full["lines"]]
    assert Fraction(paid["pay_now"]) + Fraction(result["pay_now"]) == Fraction(full["total"])
    text = run("eval", str(PETERBOROUGH), "--outcomes", str(tmp_path / "partial.json"), "--as-of", "2015-01-01")
    assert "Waiting for data" in text.stdout and "pilot_events for cohort_2" in text.stdout


def test_interim_text_in_swedish(run, tmp_path):
    """--lang sv: the interim settlement's words in Swedish (sibdsl/texts/interim.json), the figures
    and names as in English; English is the default; a waterfall's lines show their step."""
    from sibdsl.interim import interim_text

    data = json.loads((ROOT / "contracts" / "peterborough.outcomes.json").read_text(encoding="utf-8"))
    data["pilot_events"]["cohort_2"] = data["comparison_events"]["cohort_2"] = None
    (tmp_path / "partial.json").write_text(json.dumps(data), encoding="utf-8")
    args = ("eval", str(PETERBOROUGH), "--outcomes", str(tmp_path / "partial.json"), "--as-of", "2015-01-01")
    english, swedish = run(*args), run(*args, "--lang", "sv")
    assert english.exit_code == swedish.exit_code == 0, swedish.output
    assert english.stdout.startswith("Interim settlement as of 2015-01-01: ")
    assert swedish.stdout.startswith("Delavräkning per 2015-01-01: ")
    for words in ("betalning", "förfaller", "avräknad", "ej förfallen", "betalt tidigare", "betalas nu",
                  "Väntar på data (ännu inte uppmätt)", "pilot_events för cohort_2", "betalt hittills",
                  "Revisionsspår", "beräknat"):
        assert words in swedish.stdout, words
    assert "Waiting for data" not in swedish.stdout and " settled " not in swedish.stdout
    # the same table, word for word apart: as many lines, the same amounts
    assert len(english.stdout.splitlines()) == len(swedish.stdout.splitlines())
    amounts = __import__("re").compile(r"\d[\d ]* GBP")
    assert amounts.findall(english.stdout) == amounts.findall(swedish.stdout)
    # a waterfall: the step column and each line's recipient and step in the lists
    _, evaluator = _waterfall()
    interim = settle(evaluator, {"placements": {"y2017": Fraction(8)}},
                     {("placements", "y2018"), ("placements", "y2019")}, datetime.date(2018, 6, 30))
    text = interim_text(interim, lang="sv")
    assert "steg" in text.splitlines()[2] and "repayment.3" in text
    assert "outcome [y2017] → foundation, repayment.3: 0 kr" in text and "vattenfall" in text  # kronor in Swedish
    assert "step" not in interim_text(settle(compile_contract(checked(CONTRACT)), {"placements": {}},
                                             {("costs", None), ("finished", None), ("placements", "y2021"),
                                              ("placements", "y2022")}, datetime.date(2021, 6, 30))).splitlines()[2]
    with pytest.raises(ValueError):
        interim_text(interim, lang="de")


def test_interim_options_refuse_xlsx_and_explain(run):
    outcomes = str(ROOT / "contracts" / "peterborough.outcomes.json")
    result = run("eval", str(PETERBOROUGH), "--outcomes", outcomes, "--as-of", "2016-01-01", "--explain")
    assert result.exit_code == 2 and "text or json" in result.stderr


def test_a_value_not_yet_measured_without_as_of_is_refused(run, tmp_path):
    (tmp_path / "o.json").write_text('{"pilot_events": {"cohort_1": 1420, "cohort_2": null}, '
                                     '"comparison_events": {"cohort_1": 1550, "cohort_2": 1550}}', encoding="utf-8")
    result = run("eval", str(PETERBOROUGH), "--outcomes", str(tmp_path / "o.json"))
    assert result.exit_code == 1 and "error[E550]" in result.stderr and result.stdout == ""
    assert "--as-of" in result.stderr


@settings(max_examples=200, deadline=None)
@given(st.one_of(
    st.text(max_size=300),
    st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=12)),
                 lambda inner: st.one_of(st.lists(inner, max_size=4),
                                         st.dictionaries(st.sampled_from(["lines", "payment", "period", "amount",
                                                                          "paid_to_date", "currency", "contract",
                                                                          "to", "clause", "recipient"]),
                                                         inner, max_size=5)),
                 max_leaves=20).map(json.dumps)),
       st.sampled_from(["p.json", "p.csv"]))
def test_any_file_of_what_was_paid_is_read_or_refused_with_a_code(text, name):
    contract, program = _program()
    try:
        paid = load_paid(contract, program, name, text=text, name=name)
    except SibError as err:
        assert err.diagnostics and all(d.code in {"E554", "E555", "E556", "E558"} for d in err.diagnostics)
        return
    assert all(isinstance(v, int | Fraction) and v >= 0 for v in paid.values())


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=30))
def test_any_as_of_is_a_date_or_a_coded_error(run, text):
    outcomes = str(ROOT / "contracts" / "peterborough.outcomes.json")
    result = run("eval", str(PETERBOROUGH), "--outcomes", outcomes, "--as-of", text, "--no-trace")
    assert "Traceback" not in result.output and "E900" not in result.output
    assert result.exit_code in (0, 1, 2), result.output


def test_a_full_settlement_paid_in_full_leaves_nothing_to_pay():
    """The JSON of a plain `sibc eval --format json` is a file of what was paid too (its `amount`s)."""
    contract = load_contract(PETERBOROUGH)
    evaluator = compile_contract(contract)
    paid = load_paid(contract, evaluator.program, ROOT / "contracts" / "peterborough.settlement.json")
    assert sum(paid.values()) == 5_600_000
    full, _ = _peterborough_outcomes(None)
    again = settle(evaluator, full, (), None, paid)
    assert again.pay_now == 0 and again.overpaid == 0 and again.paid_to_date == 5_600_000


WATERFALL = """contract "Familjestöd Norrköping"
  languages sv, en
  currency SEK
  rounding 1 SEK half up
party city "Norrköpings kommun": payer
party vehicle "Fonden": intermediary
party bank "Banken": investor
party foundation "Stiftelsen": investor
term 2017-01-01 to 2019-12-31
periods year: y2017 2017-01-01 to 2017-12-31, y2018 2018-01-01 to 2018-12-31, y2019 2019-01-01 to 2019-12-31
investment loan: 1 000 000 SEK from bank on 2017-01-01
investment grant: 500 000 SEK from foundation on 2017-01-01
measure placements "Placements in care": count per year between 0 and 100
payment outcome = max(20 - placements, 0) * 60 000 SEK from city to vehicle per year due 90 days after end
waterfall repayment: outcome
  1. to bank until drawn
  2. to bank until 100 000 SEK
  3. rest 50 % to bank, 50 % to foundation
"""


def _waterfall():
    contract = checked(WATERFALL)
    return contract, compile_contract(contract)


def test_a_waterfall_is_settled_year_by_year_and_reconciled():
    """issue 14: each step's line to each party is a line of its own in an interim settlement; a
    year's lines are final once that year and the years before it are measured (what step 1 needs
    later depends on what it was paid before), and the final settlement with --paid pays the rest."""
    _, evaluator = _waterfall()
    full = {"placements": {"y2017": Fraction(8), "y2018": Fraction(5), "y2019": Fraction(2)}}
    first = settle(evaluator, {"placements": {"y2017": Fraction(8)}},
                   {("placements", "y2018"), ("placements", "y2019")}, datetime.date(2018, 6, 30))
    settled = {ln.key: ln.amount for ln in first.lines if ln.status == SETTLED}
    # 12 × 60 000 = 720 000 for 2017: all of it to step 1, which needs 1 000 000
    assert settled == {("outcome", "y2017", "vehicle", "outcome"): 0,
                       ("outcome", "y2017", "bank", "repayment.1"): 720_000,
                       ("outcome", "y2017", "bank", "repayment.2"): 0,
                       ("outcome", "y2017", "bank", "repayment.3"): 0,
                       ("outcome", "y2017", "foundation", "repayment.3"): 0}
    assert first.pay_now == 720_000
    assert {ln.status for ln in first.lines if ln.period != "y2017"} == {NOT_DUE}
    second = settle(evaluator, {"placements": {"y2017": Fraction(8), "y2018": Fraction(5)}},
                    {("placements", "y2019")}, datetime.date(2019, 6, 30), _paid(first))
    got = {ln.key: (ln.amount, ln.pay_now) for ln in second.lines if ln.period == "y2018"}
    # 15 × 60 000 = 900 000: 280 000 ends step 1, 100 000 step 2, 520 000 split in step 3
    assert got[("outcome", "y2018", "bank", "repayment.1")] == (280_000, 280_000)
    assert got[("outcome", "y2018", "bank", "repayment.2")] == (100_000, 100_000)
    assert got[("outcome", "y2018", "bank", "repayment.3")] == (260_000, 260_000)
    assert got[("outcome", "y2018", "foundation", "repayment.3")] == (260_000, 260_000)
    assert second.pay_now == 900_000
    _assert_reconciles(evaluator, full, [first, second], evaluator.evaluate(full))


@pytest.mark.parametrize("name", ["massachusetts_jj", "chicago_cpc"])
def test_shipped_contracts_with_waterfalls_settle_in_parts(name):
    """The two shipped contracts with tranches settle as of a date and reconcile later, line by line."""
    from sibdsl import Source, check_source

    path = ROOT / "contracts" / f"{name}.sib"
    source = Source(str(path), path.read_text(encoding="utf-8"))
    contract, _ = check_source(source)
    evaluator = compile_contract(contract, source)
    full = load_outcomes(contract, ROOT / "contracts" / f"{name}.outcomes.json")
    keys = _inputs(contract)
    pending = frozenset(keys[1:])  # the first value measured, the rest not yet
    first = settle(evaluator, _without(full, pending), pending, None)
    assert len({ln.key for ln in first.lines}) == len(first.lines)
    assert any(ln.clause.name.startswith("repayment.") for ln in first.lines)
    _assert_reconciles(evaluator, full, [first], evaluator.evaluate(full))
    again = settle(evaluator, full, (), None, load_paid(contract, evaluator.program, "p.json", name="p.json",
                   text=json.dumps(interim_json(settle(evaluator, full, (), None)))))
    assert again.pay_now == 0 and again.overpaid == 0


@pytest.mark.parametrize("text, name, words", [
    # by payment and period only: five lines of one payment and period
    ("payment,period,paid\noutcome,y2017,720000\n", "p.csv", "is 5 lines"),
    # to the bank: three steps pay it
    ("payment,period,recipient,paid\noutcome,y2017,bank,720000\n", "p.csv", "to `bank` is 3 lines"),
    ('{"lines": [{"payment": "outcome", "period": "y2017", "to": "bank", "paid_to_date": "1"}]}', "p.json",
     "to `bank` is 3 lines"),
])
def test_a_waterfall_line_named_ambiguously_is_E558(text, name, words):
    contract, evaluator = _waterfall()
    with pytest.raises(SibError) as err:
        load_paid(contract, evaluator.program, name, text=text, name=name)
    [d] = err.value.diagnostics
    assert d.code == "E558" and words in d.message and d.span is not None
    assert ("`clause`" in d.hint) and "repayment.3" in d.hint


def test_a_waterfall_line_is_named_by_its_recipient_and_clause():
    contract, evaluator = _waterfall()
    csv = ("payment,period,recipient,clause,paid\noutcome,y2017,bank,repayment.1,720000\n"
           "outcome,y2017,foundation,,0\noutcome,y2017,vehicle,,0\n")
    assert load_paid(contract, evaluator.program, "p.csv", text=csv, name="p.csv") == {
        ("outcome", "y2017", "bank", "repayment.1"): 720_000,
        ("outcome", "y2017", "foundation", "repayment.3"): 0,
        ("outcome", "y2017", "vehicle", "outcome"): 0}
    for bad, words in [("outcome,y2017,bnak,,1", "to `bnak`"), ("outcome,y2017,bank,repayment.7,1", "repayment.7")]:
        with pytest.raises(SibError) as err:
            load_paid(contract, evaluator.program, "p.csv", text="payment,period,recipient,clause,paid\n" + bad + "\n",
                      name="p.csv")
        [d] = err.value.diagnostics
        assert d.code == "E555" and words in d.message, d.message


def test_the_swedish_trail_cites_clauses_as_the_swedish_document_does(run):
    """--lang sv on a shipped waterfall contract: every clause the audit trail cites is cited as the
    Swedish document names it (its section `§ N` and title as the document writes them, the kind,
    label and line in Swedish), the waterfall's steps are worded in Swedish, and a step that paid a
    party nothing still cites its clause — in English too."""
    contract = ROOT / "contracts" / "massachusetts_jj.sib"
    args = ("eval", str(contract), "--outcomes", str(contract.with_suffix(".outcomes.json")),
            "--as-of", "2022-01-01")
    swedish, english = run(*args, "--lang", "sv"), run(*args)
    assert swedish.exit_code == english.exit_code == 0, swedish.output
    trail = swedish.stdout.split("Revisionsspår för de avräknade raderna (klausul för klausul)\n", 1)[1]
    cites = [ln for ln in trail.splitlines() if ln.startswith("    ") and "(" in ln]
    assert cites and all("(§ " in ln for ln in cites), [ln for ln in cites if "(§ " not in ln]
    for english_word in ("(line ", "waterfall repayment", "payment bed_days", "paid on from", "paid through",
                         "step 1", "“"):
        assert english_word not in trail, english_word
    assert ("(§ 7 Repayment, vattenfall repayment.1 ”Order of repayment” (rad 121); vattenfallet repayment, "
            "steg 1 (to class senior until drawn plus 5 % per year): 12 965 370 USD förs vidare från ysi)") in trail
    assert ("(§ 5 Success payments, betalning bed_days ”Success payment: bed-days avoided” (rad 109))") in trail
    assert "betalas genom ysi" in trail
    # arnold's step 3 paid nothing from the bed-day payment: its clause is cited all the same
    arnold = trail.split("  bed_days → arnold, repayment.3: 0 USD\n", 1)[1].splitlines()[0]
    assert arnold == ("    vattenfall       0 USD  (§ 7 Repayment, vattenfall repayment.3 ”Order of repayment” "
                      "(rad 121); steget betalade inget)")
    assert ("    waterfall        0 USD  (§ 7 Repayment, waterfall repayment.3 “Order of repayment” (line 121); "
            "the step paid nothing)") in english.stdout
    # the same trail, word for word apart: as many lines, the same amounts
    assert len(english.stdout.splitlines()) == len(swedish.stdout.splitlines())
    amounts = __import__("re").compile(r"\d[\d ]* USD")
    assert amounts.findall(english.stdout) == amounts.findall(swedish.stdout)


def test_the_trail_cites_a_section_by_its_title_in_the_language_asked_for():
    """A Swedish-first contract: the English trail cites `§ 2 Repayment`, the Swedish `§ 2 Återbetalning`
    (the section's title as each document writes it), and each clause's label in that language."""
    from sibdsl.interim import interim_text

    text = WATERFALL.replace("waterfall repayment: outcome",
                             '§ 2 "Återbetalning" @en "Repayment"\n'
                             'waterfall repayment "Återbetalningsordning" @en "Order of repayment": outcome')
    text = text.replace("measure placements", '§ 1 "Ersättning" @en "Payment"\nmeasure placements')
    evaluator = compile_contract(checked(text))
    interim = settle(evaluator, {"placements": {"y2017": Fraction(8)}},
                     {("placements", "y2018"), ("placements", "y2019")}, datetime.date(2018, 6, 30))
    sv, en = interim_text(interim, lang="sv"), interim_text(interim, lang="en")
    assert "(§ 2 Återbetalning, vattenfall repayment.1 ”Återbetalningsordning” (rad " in sv
    assert "(§ 2 Repayment, waterfall repayment.1 “Order of repayment” (line " in en
    assert "(§ 1 Ersättning, betalning outcome (rad " in sv and "(§ 1 Payment, payment outcome (line " in en
    assert "Återbetalning" not in en and "Repayment" not in sv


def _trail_details(settlement, lang: str) -> list[tuple[str, str]]:
    """(the evaluator's own text, the interim trail's words in `lang`) for each step with a detail."""
    from sibdsl.interim import _detail

    return [(step.detail, _detail(recorded, settlement.currency, lang)) for ln in settlement.lines
            for step, (*_, recorded) in zip(ln.steps, ln.trail) if step.detail]


ENGLISH = ("limited to", "raised to", "at most", "receives", "the condition does not hold", "rounded",
           "paid on from", "paid through", "passes on", "stays with", "the total is", "the stream",
           "a year ×", "accrued", "the minimum", "to the cent", "from 20", "interest of", "not redeemed",
           "later", "in proportion", "participants", "listed last", "total,")


def _assert_worded(settlement) -> None:
    for own, english in _trail_details(settlement, "en"):
        assert english == own  # interim.json's English says what the evaluator says, word for word
    for own, swedish in _trail_details(settlement, "sv"):
        assert not [w for w in ENGLISH if w in swedish], (own, swedish)


@pytest.mark.parametrize("name", ["norrkoping", "massachusetts_jj", "chicago_cpc", "nyc_rikers", "peterborough",
                                  "koto_sib", "care_leavers_reboot_west"])
def test_each_step_of_the_trail_is_worded_in_swedish_and_as_the_evaluator_in_english(name):
    """The interim trail words each step (a floor, a cap, a limit, a rounding, a waterfall's step, a
    release) from what the evaluator recorded: in English exactly the evaluator's text, in Swedish
    without an English phrase left (names, amounts and the contract's own terms stay as written)."""
    contract = load_contract(ROOT / "contracts" / f"{name}.sib")
    outcomes = load_outcomes(contract, ROOT / "contracts" / f"{name}.outcomes.json")
    outcomes = outcomes[0] if isinstance(outcomes, tuple) else outcomes
    _assert_worded(compile_contract(contract).evaluate(outcomes))


COUPON = """contract "Coupon"
  languages en, sv
  currency SEK
  rounding 1 SEK half up
party city "City": payer
party fund "Fund": investor
term 2020-01-01 to 2023-12-31
periods year:
  y1 2021-01-01 to 2021-12-31,
  y2 2022-01-01 to 2022-12-31
investment loan_a: 400 000 SEK from fund on 2020-01-01
measure ok: boolean
payment base = 1 000 SEK
  from city to fund due 2023-06-30
coupon cp: 5 % per year on loan_a
  per year from city at least 4 % during y1 through y1
  day count act/360
redemption early: 80 % of loan_a plus accrued cp from city when ok due 2022-07-01
"""


@pytest.mark.parametrize("ok", [False, True])
def test_a_coupons_and_a_redemptions_trail_is_worded_in_swedish(ok):
    """Found by the generated contracts' test when coupons' trails (rate × capital × days) met the
    Swedish interim trail: a coupon's line was left in English ('5 % a year × 405 555.56 SEK accrued
    …, rounded half up'). Its words are in interim.json beside the other steps'."""
    settlement = compile_contract(checked(COUPON)).evaluate({"ok": ok})
    details = _trail_details(settlement, "sv")
    assert any("% per år" in sv and "upplupet" in sv for _, sv in details), details
    assert not ok or any("upplupen och obetald ränta" in sv for _, sv in details), details
    _assert_worded(settlement)


def test_a_cap_on_the_total_is_worded_as_the_total():
    """Found by the test below: a cap on the total is a `cap` in the trail (its kind's trail name),
    and was worded as a cap on the line ('limited to 0 SEK', not 'the total is limited to 0 SEK')."""
    text = WATERFALL.split("waterfall repayment")[0] + "cap tc: total at 500 000 SEK\n"
    settlement = compile_contract(checked(text)).evaluate({"placements": {"y2017": Fraction(0), "y2018": Fraction(0),
                                                                           "y2019": Fraction(0)}})
    details = _trail_details(settlement, "en")
    assert ("the total is limited to 500 000 SEK", "the total is limited to 500 000 SEK") in details
    assert ("the total is limited to 500 000 SEK", "summan begränsas till 500 000 kr") in [
        (own, sv) for (own, _), (_, sv) in zip(details, _trail_details(settlement, "sv"))]
    _assert_worded(settlement)


# the coupon contract's parties, periods and loan; a cohort and a rate card with every kind of cap
CARD = COUPON[:COUPON.index("measure ok")] + """cohort group: size 40
ratecard card from city to fund per year due 30 days after end: {
  o0: 220 SEK cap 9 999 SEK,
  o1: 1 760 SEK,
  cap per participant 1 500 SEK,
  total cap 50 000 SEK ORDER
}
"""


@pytest.mark.parametrize("order, english, swedish", [
    ("in proportion", "in proportion: each line × the cap ÷ the lines' total, rounded down",
     "i proportion: varje rad × taket ÷ radernas summa, avrundat nedåt"),
    ("in claim order", "later claims first", "senare anspråk först"),
    ("in declaration order", "the outcome listed last first", "det sist listade utfallet först"),
])
def test_a_rate_cards_caps_say_their_basis_in_swedish(order, english, swedish):
    """A rate card's caps say which cap acts and which lines give first; the Swedish trail (the studio's
    Swedish settlement view, `sibc eval --as-of … --lang sv`) left that basis in English (the
    generated-contracts test below found `(total, in proportion: … rounded down)`)."""
    settlement = compile_contract(checked(CARD.replace("ORDER", order))).evaluate(
        {"card.o0": {"y1": Fraction(30), "y2": Fraction(40)}, "card.o1": {"y1": Fraction(20), "y2": Fraction(25)}})
    said = [(own, sv) for (own, _), (_, sv) in zip(_trail_details(settlement, "en"), _trail_details(settlement, "sv"))]
    if order == "in proportion":  # the cut's factor after its words (its own test is below)
        assert all(("; factor " in own) == ("; faktor " in sv) for own, sv in said) and any("; factor " in o for o, _ in said)
        said = [(own.split("; factor ")[0], sv.split("; faktor ")[0]) for own, sv in said]
    assert (f"the rate card pays at most 50 000 SEK (total, {english})",
            f"prislistan betalar högst 50 000 kr (totalt, {swedish})") in said
    assert (f"the rate card pays at most 60 000 SEK (per participant, 40 participants, {english})",
            f"prislistan betalar högst 60 000 kr (per deltagare, 40 deltagare, {swedish})") in said
    assert ("the rate card pays at most 9 999 SEK (outcome o0, later periods first)",
            "prislistan betalar högst 9 999 kr (utfallet o0, senare perioder först)") in said
    _assert_worded(settlement)  # and in English exactly the evaluator's words


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_the_trail_of_generated_contracts_is_worded_in_both_languages(data):
    """The same on generated contracts with every kind of step (tests/contractgen.py). Outcomes the
    contract cannot be settled for (a division by zero, E602: contractgen writes one on purpose) have
    no trail to word."""
    contract = checked(data.draw(generated(), label="contract"))
    chosen = data.draw(outcomes(contract), label="outcomes")
    try:
        settlement = compile_contract(contract).evaluate(chosen)
    except EvaluationError as err:
        assert err.diagnostic.code == "E602", err.diagnostic
        return
    _assert_worded(settlement)


def test_a_card_cut_in_proportion_is_worded_in_swedish_with_its_factor():
    """Found by the generated contracts' test when the factor of a card cut in proportion (cohort15)
    met the Swedish trail (wf14): the factor and the card's order were left in English."""
    path = ROOT / "contracts" / "variants" / "care_leavers_reboot_west_pro_rata.sib"
    contract = load_contract(path)
    outcomes = load_outcomes(contract, path.with_name("care_leavers_reboot_west_pro_rata@over_maximum.outcomes.json"))
    outcomes = outcomes[0] if isinstance(outcomes, tuple) else outcomes
    settlement = compile_contract(contract).evaluate(outcomes)
    swedish = [sv for _, sv in _trail_details(settlement, "sv")]
    assert any("i proportion: varje rad × taket ÷ radernas summa, avrundat nedåt" in sv and "; faktor " in sv
               for sv in swedish), swedish
    _assert_worded(settlement)


def test_the_swedish_trail_writes_amounts_and_numbers_as_swedish_text_does():
    """The Swedish trail wrote its amounts in the contract language's notation (`398 987.5 SEK`,
    `≈ 99.6810 %`) beside Swedish words: it writes them as every Swedish text of sibc does now
    (lang.money: `398 987,50 kr`, a decimal comma), and the English trail stays the evaluator's."""
    from sibdsl.evaluate import pro_rata_text, rounded_text, step_text
    from sibdsl.interim import _detail
    from sibdsl.semantics.program import StepKind
    from sibdsl.settlement import Detail

    cap = Detail(step_text, StepKind.CAP, Fraction(39_898_750, 100), "SEK", None, None, None, None, None)
    assert _detail(cap, "SEK", "sv") == "begränsat till 398 987,50 kr"
    assert _detail(cap, "SEK", "en") == str(cap) == "limited to 398 987.5 SEK"
    cut = Detail(pro_rata_text, cap, Fraction(50_000), Fraction(50_160))
    assert _detail(cut, "SEK", "sv") == "begränsat till 398 987,50 kr; faktor 50 000 ÷ 50 160 = 625/627 ≈ 99,681 %"
    assert _detail(cut, "SEK", "en") == str(cut)
    rounding = Detail(rounded_text, Fraction(12_345_678, 1000), "half up")
    assert _detail(rounding, "SEK", "sv") == "exakt 12 345,678, avrundat hälften uppåt"
    assert _detail(rounding, "SEK", "en") == str(rounding)
