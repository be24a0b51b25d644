"""Issue 15, two-dimensional periods: values and payments `per cohorts × years`, sums over one of
the two series (`sum(x over years)`), a value per one series read in each cell, `previous` and
running totals along the second series, `during` and caps per period on cells, outcome files
with a column per series, interim settlements — and the misuses, each with its code.

Every oracle is worked out by hand and settled by all three back ends (scalar, vectorised, z3).
"""

from __future__ import annotations

import json
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sibdsl import Source, check_source
from sibdsl.evaluate import Evaluator
from sibdsl.outcomes import load_outcomes
from sibdsl.parser import parse
from sibdsl.semantics.program import lower
from sibdsl.testing import outcomes
from sibdsl.unparse import unparse
from sibdsl.verify import verify_contract

from .test_semantics import assert_z3_same
from .test_vector import assert_same

HEAD = """contract "Cohorts"
  languages en, sv
  currency SEK
  rounding 1 SEK half up
party city "City": payer
party fund "Fund": investor
term 2020-01-01 to 2023-12-31
periods cohorts "Cohort" @sv "Kohort":
  k1 2020-01-01 to 2020-06-30,
  k2 2020-07-01 to 2020-12-31
periods years "School year" @sv "Läsår":
  y1 2021-01-01 to 2021-12-31,
  y2 2022-01-01 to 2022-12-31
"""

BODY = """measure ready "Children ready": count per cohorts × years between 0 and 100
measure size "Cohort size": count per cohorts between 1 and 100
define rate = ready / size
payment yearly = ready * 1 000 SEK + max(ready - previous(ready), 0) * 100 SEK
  from city to fund per cohorts × years due 90 days after end
payment per_cohort = if sum(ready over years) >= size / 5 then 5 000 SEK else 0 SEK
  from city to fund per cohorts due 2023-06-30
payment per_year = sum(ready over cohorts) * 10 SEK from city to fund per years due 60 days after end
payment pooled = if sum(ready) > 20 then 10 000 SEK else 0 SEK from city to fund due 2023-06-30
payment running = if to_date(yearly) >= 3 000 SEK then 500 SEK else 0 SEK
  from city to fund per cohorts by years during y2 due 90 days after end
payment share = if rate >= 10 % then 700 SEK else 0 SEK from city to fund per cohorts × years
  due 90 days after end
cap yearly_per_year "Per school year": per years at 7 000 SEK
"""


def checked(body: str = BODY):
    contract, diagnostics = check_source(Source("cohorts.sib", HEAD + body))
    errors = [d for d in diagnostics if d.is_error]
    assert contract is not None and not errors, [(d.code, d.message) for d in errors]
    return contract


def codes(body: str) -> list[str]:
    return [d.code for d in check_source(Source("cohorts.sib", HEAD + body))[1]]


def settle(contract, row) -> dict:
    settlement = Evaluator(contract).evaluate(row)
    got = {"total": Fraction(settlement.total)}
    for ln in settlement.lines:
        got[ln.payment, ln.period] = got.get((ln.payment, ln.period), 0) + Fraction(ln.amount)
    return got


ROW = {"ready": {"k1 × y1": 3, "k1 × y2": 5, "k2 × y1": 2, "k2 × y2": 1}, "size": {"k1": 20, "k2": 40}}


def test_a_cell_is_a_period_of_each_series():
    contract = checked()
    cells = contract.series["cohorts × years"]
    assert [p.name for p in cells.periods] == ["k1 × y1", "k1 × y2", "k2 × y1", "k2 × y2"]
    assert cells.periods[1].end == contract.series["years"].periods[1].end  # a cell has its year's dates
    assert cells.label.get("sv") == "Kohort × Läsår"
    program = lower(contract)
    assert [ln.period for ln in program.lines if ln.payment == "running"] == ["k1 × y2", "k2 × y2"]


def test_the_oracle_on_all_three_back_ends():
    contract = checked()
    got = settle(contract, {k: {p: Fraction(v) for p, v in d.items()} for k, d in ROW.items()})
    # yearly: ready × 1 000 plus 100 per child more than the same cohort's year before (k1: 3 → 5)
    assert got["yearly", "k1 × y1"] == 3_000 + 300  # previous is 0 in the first year
    assert got["yearly", "k1 × y2"] == 5_000 + 200
    assert got["yearly", "k2 × y1"] == 2_000 + 200
    assert got["yearly", "k2 × y2"] == 1_000  # fewer than the year before: no increase paid
    assert got["per_cohort", "k1"] == 5_000  # 3 + 5 = 8 ≥ 20 / 5
    assert got["per_cohort", "k2"] == 0  # 2 + 1 = 3 < 40 / 5
    assert got["per_year", "y1"] == 50 and got["per_year", "y2"] == 60  # over cohorts
    assert got["pooled", None] == 0  # 11 ≤ 20
    # running, only in y2, reads what yearly paid in the same cohort's earlier years: k1 3 300, k2 2 200
    assert got["running", "k1 × y2"] == 500 and got["running", "k2 × y2"] == 0
    # share: the rate of each cell, with its cohort's size: k1 3/20, 5/20; k2 2/40, 1/40
    assert got["share", "k1 × y1"] == 700 and got["share", "k2 × y1"] == 0 and got["share", "k2 × y2"] == 0
    # the cap per school year takes every cohort's cell of y2 and the per-year line: 5 200 + 1 000
    # + 60 + 500 + 700 = 7 460, 460 over; share (declared last) gives first
    assert got["share", "k1 × y2"] == 700 - 460
    assert sum(v for k, v in got.items() if k != "total" and k[1] and k[1].endswith("y2")) == 7_000
    assert got["total"] == 3_300 + 5_200 + 2_200 + 1_000 + 5_000 + 50 + 60 + 500 + 700 + 240
    assert_same(contract, [ROW])
    assert_z3_same(contract, [ROW])


def agree_on_generated(data, contract) -> list[dict]:
    """Draw one to four outcome rows for `contract` and check that the scalar, vector and z3 back
    ends settle each the same; the rows, for further checks."""
    rows = data.draw(st.lists(outcomes(contract), min_size=1, max_size=4))
    assert_same(contract, rows)
    assert_z3_same(contract, rows)
    return rows


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_the_back_ends_agree_on_cells(data):
    agree_on_generated(data, checked())


def test_verify_proves_the_contract_over_cells():
    body = BODY + 'guarantee most "At most": total <= 1 000 000 SEK\n' \
        'guarantee not_so "Not so": total <= 20 000 SEK\n'
    verdicts = {r.key: r.status for r in verify_contract(checked(body))}
    assert verdicts.pop("guarantee:not_so") == "violated"
    assert set(verdicts.values()) == {"proved"}, verdicts
    # monotone in a measure per two series (without the cap per school year, which leaves the
    # solver at `unknown` within its rlimit: see the progress notes)
    body = BODY.split("cap yearly_per_year")[0] + \
        'guarantee more "More ready pays more": total nondecreasing in ready\n'
    assert {r.key: r.status for r in verify_contract(checked(body))}["guarantee:more"] == "proved"


def test_outcome_files_have_a_column_per_series(tmp_path):
    contract = checked()
    nested = tmp_path / "o.json"
    nested.write_text(json.dumps({"ready": {"k1": {"y1": 3, "y2": 5}, "k2": {"y1": 2, "y2": 1}},
                                  "size": {"k1": 20, "k2": 40}}))
    rows = ["measure;cohorts;years;value", "ready;k1;y1;3", "ready;k1;y2;5", "ready;k2;y1;2",
            "ready;k2;y2;1", "size;k1;;20", "size;k2;;40"]
    table = tmp_path / "o.csv"
    table.write_text("\n".join(rows) + "\n")
    flat = tmp_path / "flat.json"
    flat.write_text(json.dumps(ROW))
    import openpyxl

    workbook = openpyxl.Workbook()
    for row in rows:
        measure, cohort, year, value = row.split(";")
        workbook.active.append([measure, cohort, year, int(value) if value.isdigit() else value])
    sheet = tmp_path / "o.xlsx"
    workbook.save(sheet)
    expected = settle(contract, load_outcomes(contract, nested))
    assert settle(contract, load_outcomes(contract, table)) == expected
    assert settle(contract, load_outcomes(contract, sheet)) == expected
    assert settle(contract, load_outcomes(contract, flat)) == expected  # as a counterexample writes it


def test_a_missing_cell_is_named_by_both_periods(tmp_path):
    from sibdsl.diagnostics import SibError

    contract = checked()
    path = tmp_path / "o.json"
    path.write_text(json.dumps({"ready": {"k1": {"y1": 3, "y2": 5}, "k2": {"y1": 2}}, "size": {"k1": 20, "k2": 40}}))
    with pytest.raises(SibError) as err:
        load_outcomes(contract, path)
    assert [(d.code, d.message) for d in err.value.diagnostics] == [
        ("E507", "no value of `ready` for period `k2 × y2`")]


def test_an_interim_settlement_waits_for_the_cells_not_yet_measured(tmp_path):
    import datetime

    from sibdsl import interim

    contract = checked()
    path = tmp_path / "o.csv"
    path.write_text("measure;cohorts;years;value\nready;k1;y1;3\nready;k2;y1;2\nsize;k1;;20\nsize;k2;;40\n")
    as_of = datetime.date(2022, 6, 30)
    pending: set = set()
    values = load_outcomes(contract, path, as_of=as_of, pending=pending)
    assert pending == {("ready", "k1 × y2"), ("ready", "k2 × y2")}
    settled = interim.settle(Evaluator(contract), values, pending, as_of)
    status = {(ln.payment, ln.period): (ln.status, ln.waits_for) for ln in settled.lines}
    assert status["yearly", "k1 × y1"][0] == interim.SETTLED
    assert status["per_year", "y1"][0] == interim.SETTLED
    assert status["per_cohort", "k1"][1] == (("ready", "k1 × y2"),)  # its cohort's second year


@pytest.mark.parametrize(("body", "code"), [
    ("measure a: count per years × years\n", "E590"),
    ("measure a: count per cohorts × years\ndefine b = sum(a over nothing)\n", "E591"),
    ("measure a: count per years\ndefine b = sum(a over years)\n", "E591"),
    ("measure a: count per cohorts × years\ndefine b = max(a over years)\n", "E593"),
    ("measure a: count per cohorts × years\n"
     + "payment p = a * 1 SEK from city to fund per cohorts due 2023-06-30\n", "E592"),
    ("measure a: count per cohorts × years\n"
     + "payment p = a * 1 SEK from city to fund per cohorts × years during k1 through y2 due 2023-06-30\n", "E594"),
    ("measure a: count per cohorts × years\n"
     + "payment p = a * 1 SEK from city to fund per years due 2023-06-30\n", "E592"),
    ("measure a: count per cohorts × nothing\n", "E201"),
])
def test_misuses_have_codes(body, code):
    assert code in codes(body)


def test_the_formatter_and_the_parser_agree_on_two_series():
    text = HEAD + BODY
    tree = parse(Source("cohorts.sib", text))
    again = unparse(tree)
    assert "per cohorts × years" in again and "sum(ready over years)" in again
    assert "per cohorts by years" not in again  # `by` is written as ×
    assert parse(Source("again.sib", again)) == tree


def test_the_editor_knows_both_series_of_a_cell():
    from sibdsl.lsp_analysis import analyse
    from sibdsl.lsp_features import completion

    text = HEAD + BODY
    uses = [(o.start, o.end) for o in analyse("c.sib", text).index.occurrences if o.name == "years"]
    per = text.index("per cohorts × years") + len("per cohorts × ")
    over = text.index("sum(ready over years)") + len("sum(ready over ")
    assert (per, per + len("years")) in uses and (over, over + len("years")) in uses  # renamed with the series
    for start in ("measure m: count per cohorts × ", "measure m: count per cohorts by ",
                  "measure m: count per cohorts × years\ndefine d = sum(m over "):
        partial = HEAD + start
        assert {c.label for c in completion(analyse("c.sib", partial), partial, len(partial))[:2]} == \
            {"cohorts", "years"}


# ---------------------------------------------------------------- the shipped variant
VARIANT = "contracts/variants/chicago_cpc_cohorts.sib"


def test_the_chicago_variant_pays_cohort_1_as_published():
    import datetime

    from sibdsl import interim, load_contract

    contract = load_contract(VARIANT)
    as_of = datetime.date(2015, 12, 31)
    pending: set = set()
    values = load_outcomes(contract, VARIANT.replace(".sib", ".as-of-2015-12-31.json"), as_of=as_of, pending=pending)
    settled = interim.settle(Evaluator(contract), values, pending, as_of)
    paying = [(ln.payment, ln.period, ln.pay_now) for ln in settled.lines if ln.status == interim.SETTLED]
    assert paying == [("readiness", "c2014", 498_800)]  # 172 children × $2,900: the published $500,000
    cells = contract.series["cohorts × school_years"]
    # a school year before a cohort's pre-school year is not applicable: c2016 and c2017 in 2015–16,
    # c2017 in 2016–17
    assert [p.name for p in cells.not_applicable] == ["c2016 × sy2016", "c2017 × sy2016", "c2017 × sy2017"]
    assert len(cells.periods) == 4 * 16 - 3


@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_the_chicago_variant_pays_what_the_one_account_contract_pays(data):
    from sibdsl import load_contract

    variant = load_contract(VARIANT)
    shipped = load_contract("contracts/chicago_cpc.sib")
    # counts within the shipped contract's ranges over all cells (2 618 children; 31 416 years),
    # large enough that both payers' maxima cut
    row = {name: {p.name: Fraction(data.draw(st.integers(0, 654 if name != "special_ed_years_avoided" else 490)))
                  for p in variant.series[measure.ty.series].periods}
           for name, measure in variant.measures.items()}
    counts = {name: sum(row[name].values()) for name in variant.measures}
    def by_payer(settlement):
        paid = {"city": Fraction(0), "cps": Fraction(0)}
        for ln in settlement.lines:
            paid[ln.payer] += Fraction(ln.amount)
        return paid

    cells = Evaluator(variant).evaluate(row)
    one_account = Evaluator(shipped).evaluate(counts)
    assert by_payer(cells) == by_payer(one_account)  # each payer, its maximum included
    assert cells.total == one_account.total


def test_a_value_per_cohort_with_one_per_year_is_one_per_cell():
    body = """measure size "Cohort size": count per cohorts between 1 and 1 000
measure price "Price": money per years between 0 SEK and 10 000 SEK
define expected = price * size
payment yearly = expected from city to fund per cohorts × years due 90 days after end
"""
    contract = checked(body)
    assert contract.definitions["expected"].ty.series == "cohorts × years"
    row = {"size": {"k1": Fraction(10), "k2": Fraction(20)}, "price": {"y1": Fraction(100), "y2": Fraction(1_000)}}
    got = settle(contract, row)
    assert [got["yearly", c] for c in ("k1 × y1", "k1 × y2", "k2 × y1", "k2 × y2")] == [1_000, 10_000, 2_000, 20_000]
    assert_same(contract, [row])
    assert_z3_same(contract, [row])
    # without a declaration per both series, the two cannot be combined: which would be the cells?
    assert "E307" in codes(body.replace("per cohorts × years", "per cohorts"))


def test_a_cell_knows_the_period_of_each_series():
    body = """measure ready: count per cohorts × years between 0 and 100
payment p = ready * 10 SEK * period_index(years) + 1 SEK * period_index(cohorts) from city to fund
  per cohorts × years due 90 days after end
"""
    contract = checked(body)
    row = {"ready": {"k1 × y1": Fraction(1), "k1 × y2": Fraction(1), "k2 × y1": Fraction(2), "k2 × y2": Fraction(2)}}
    got = settle(contract, row)
    assert [got["p", c] for c in ("k1 × y1", "k1 × y2", "k2 × y1", "k2 × y2")] == [11, 21, 22, 42]
    assert_same(contract, [row])
    errors = [d for d in check_source(Source("c.sib", HEAD + body.replace("period_index(years)", "period_index")))[1]]
    assert [(d.code, d.message) for d in errors] == [
        ("E446", "`period_index` needs to know which period series it is read in (this contract has 2: cohorts, years)")]


def test_a_wrong_row_or_cell_in_an_outcome_file_names_its_series(tmp_path):
    from sibdsl.diagnostics import SibError

    contract = checked()
    path = tmp_path / "o.json"
    path.write_text(json.dumps({"ready": {"k1": {"y1": 3, "y2": 5, "y3": 1}, "k3": {"y1": 2}, "k2": 4},
                                "size": {"k1": 20, "k2": 40}}))
    with pytest.raises(SibError) as err:
        load_outcomes(contract, path)
    assert sorted((d.code, d.message) for d in err.value.diagnostics) == [
        ("E504", "`ready` for `k2` needs one value per period of `years`"),  # and not each of its cells missing
        ("E507", "`cohorts` has no period `k3`"),
        ("E507", "`years` has no period `y3` (`ready` for `k1`)"),
    ]


def test_a_scenario_names_a_cell_in_its_columns(tmp_path):
    from click.testing import CliRunner

    from sibdsl.cli import main

    (tmp_path / "c.sib").write_text(HEAD + BODY, encoding="utf-8")
    cells = ["k1 × y1", "k1 × y2", "k2 × y1", "k2 × y2"]
    header = ["scenario", *(f"ready[{c}]" for c in cells), "size[k1]", "size[k2]",
              "expect total", "expect share[k1 × y2]", "expect per_cohort[k1]"]
    row = ["published", "3", "5", "2", "1", "20", "40", "18 250 SEK", "240 SEK", "5 000 SEK"]
    (tmp_path / "c.scenarios.csv").write_text(",".join(header) + "\n" + ",".join(row) + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["test", str(tmp_path / "c.sib"), "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "1 passed, 0 failed" in result.output


def test_a_value_in_one_period_of_its_series():
    body = """measure ready: count per cohorts × years between 0 and 100
measure size: count per cohorts between 1 and 100
payment first_year = ready[y1] * 100 SEK from city to fund per cohorts due 2023-06-30
payment cohort_one = if size[k1] > 5 then sum(ready[k1]) * 10 SEK else 0 SEK from city to fund due 2023-06-30
"""
    contract = checked(body)
    assert contract.payments["first_year"].expr.args[0].ty.series == "cohorts"  # ready[y1]: per cohort
    row = {"ready": {"k1 × y1": Fraction(3), "k1 × y2": Fraction(5), "k2 × y1": Fraction(2), "k2 × y2": Fraction(1)},
           "size": {"k1": Fraction(20), "k2": Fraction(40)}}
    got = settle(contract, row)
    assert (got["first_year", "k1"], got["first_year", "k2"], got["cohort_one", None]) == (300, 200, 80)
    assert_same(contract, [row])
    assert_z3_same(contract, [row])
    text = HEAD + body
    assert "ready[y1] * 100 SEK" in unparse(parse(Source("c.sib", text)))
    assert "E595" in codes(body.replace("ready[y1]", "ready[y9]"))
    assert "E595" in codes(body.replace("size[k1]", "size[y1]"))  # a period of the other series


# ---------------------------------------------------------------- cells before the cohort starts
LATE = HEAD.replace("""  k1 2020-01-01 to 2020-06-30,
  k2 2020-07-01 to 2020-12-31""", """  k1 2020-07-01 to 2020-12-31,
  k2 2022-01-01 to 2022-06-30""") + """measure ready "Children ready": count per cohorts × years between 0 and 100
payment yearly = ready * 1 000 SEK + max(ready - previous(ready), 0) * 100 SEK + (if to_date(yearly) >= 1 000 SEK then 1 SEK else 0 SEK)
  from city to fund per cohorts × years due 90 days after end
payment per_cohort = sum(ready over years) * 10 SEK from city to fund per cohorts due 2023-06-30
payment per_year = sum(ready over cohorts) * 1 SEK from city to fund per years due 60 days after end
payment pooled = sum(ready) * 2 SEK from city to fund due 2023-06-30
cap yearly_per_year "Per school year": per years at 5 000 SEK
guarantee most "At most": total <= 100 000 SEK
guarantee more "More ready never pays less": per_cohort nondecreasing in ready
"""
# the second cohort starts in 2022: its cell of y1 (2021) is before it, not applicable
LATE_ROW = {"ready": {"k1 × y1": Fraction(3), "k1 × y2": Fraction(5), "k2 × y2": Fraction(2)}}


def late():
    contract, diagnostics = check_source(Source("late.sib", LATE))
    assert contract is not None and not [d for d in diagnostics if d.is_error], diagnostics
    return contract


def test_a_cell_before_its_cohort_starts_is_not_applicable():
    contract = late()
    cells = contract.series["cohorts × years"]
    assert [p.name for p in cells.periods] == ["k1 × y1", "k1 × y2", "k2 × y2"]
    assert [p.name for p in cells.not_applicable] == ["k2 × y1"]
    got = settle(contract, LATE_ROW)
    assert ("yearly", "k2 × y1") not in got  # no line: nothing paid, not 0 measured
    settlement = Evaluator(contract).evaluate(LATE_ROW)
    computed = {(ln.payment, ln.period): Fraction(ln.trail[0][3]) for ln in settlement.lines}
    # k2's first cell is y2: previous is 0 there (not the value of a cell before the cohort), and
    # to_date(yearly) 0 (k1's earlier cell is not k2's)
    assert computed["yearly", "k2 × y2"] == 2_000 + 200
    assert computed["yearly", "k1 × y2"] == 5_000 + 200 + 1  # to_date(yearly) of k1: 3 300
    assert got["per_cohort", "k1"] == 80 and got["per_cohort", "k2"] == 20  # sums leave the cell out
    assert got["per_year", "y1"] == 3 and computed["per_year", "y2"] == 7
    assert got["pooled", None] == 20
    # the cap of 5 000 a year takes y2's cells of both cohorts and its per-year line: 5 201 + 2 200
    # + 7 is 2 408 over; per_year (declared later) gives first, then the later cohort's cell
    assert (got["per_year", "y2"], got["yearly", "k2 × y2"], got["yearly", "k1 × y2"]) == (0, 0, 5_000)
    assert settlement.not_applicable == (("yearly", "k2 × y1"),)
    assert_same(contract, [LATE_ROW])
    assert_z3_same(contract, [LATE_ROW])


@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_the_back_ends_agree_with_a_cell_not_applicable(data):
    rows = agree_on_generated(data, late())
    assert all("k2 × y1" not in row["ready"] for row in rows)  # the generator asks nothing for it


def test_verify_reads_no_cell_before_its_cohort():
    verdicts = {r.key: r.status for r in verify_contract(late())}
    assert set(verdicts.values()) == {"proved"}, verdicts


def test_a_value_for_a_cell_not_applicable_is_an_error_in_the_outcome_file(tmp_path):
    from sibdsl.diagnostics import SibError

    contract = late()
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"ready": {"k1": {"y1": 3, "y2": 5}, "k2": {"y1": "n/a", "y2": 2}}}))
    assert settle(contract, load_outcomes(contract, good)) == settle(contract, LATE_ROW)  # n/a: accepted
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"ready": {"k1": {"y1": 3, "y2": 5}, "k2": {"y1": 0, "y2": 2}}}))
    with pytest.raises(SibError) as err:
        load_outcomes(contract, bad)
    (d,) = err.value.diagnostics
    assert d.code == "E582"
    assert d.message == ("`ready` is given for `k2 × y1`, a cell that is not applicable: "
                         "`y1` ends 2021-12-31, before `k2` starts (2022-01-01)")
    column = bad.read_text().index("\"k2\": {\"y1\"") + len("\"k2\": {") + 1  # the cell k2 × y1
    assert (d.span.line, d.span.column) == (1, column) and "leave the cell out" in d.hint
    table = tmp_path / "bad.csv"
    table.write_text("measure;cohorts;years;value\nready;k1;y1;3\nready;k1;y2;5\nready;k2;y1;0\nready;k2;y2;2\n")
    with pytest.raises(SibError) as err:
        load_outcomes(contract, table)
    assert [(d.code, d.span.line) for d in err.value.diagnostics] == [("E582", 4)]


def test_an_interim_settlement_waits_for_no_cell_before_its_cohort(tmp_path):
    import datetime

    from sibdsl import interim

    contract = late()
    path = tmp_path / "o.json"
    path.write_text(json.dumps({"ready": {"k1": {"y1": 3}}}))
    as_of = datetime.date(2022, 6, 30)  # y1's lines are due, y2 is still running
    pending: set = set()
    values = load_outcomes(contract, path, as_of=as_of, pending=pending)
    assert pending == {("ready", "k1 × y2"), ("ready", "k2 × y2")}  # not k2 × y1: nothing to wait for
    settled = interim.settle(Evaluator(contract), values, pending, as_of)
    status = {(ln.payment, ln.period): ln.status for ln in settled.lines}
    assert status["yearly", "k1 × y1"] == interim.SETTLED and ("yearly", "k2 × y1") not in status
    assert status["per_year", "y1"] == interim.SETTLED  # y1 has k1's cell only: all measured


def test_reading_a_cell_before_its_cohort_is_an_error():
    body = LATE.replace("payment pooled = sum(ready) * 2 SEK", "payment pooled = sum(ready[y1]) * 2 SEK")
    diagnostics = [d for d in check_source(Source("late.sib", body))[1] if d.is_error]
    assert [(d.code, d.message) for d in diagnostics] == [
        ("E583", "`[y1]` reads 1 cell that is not applicable: `k2 × y1`")]
    assert "`[y2]`" in diagnostics[0].hint


# ---------------------------------------------------------------- per cohort and per year in min, max, if
MIXED = """measure ready: count per cohorts × years between 0 and 100
measure size "Cohort size": count per cohorts between 1 and 100
measure places "Places in the year": count per years between 0 and 100
define most = max(size, places)
define least = min(places, size, 30)
define either = if size > 20 then places else size
define chosen = if places >= ready then size else places
payment yearly = (most + least + either + chosen) * 1 SEK from city to fund per cohorts × years
  due 90 days after end
"""


def test_min_max_and_if_read_a_value_per_year_in_each_cohort_cell():
    contract = checked(MIXED)
    for name in ("most", "least", "either", "chosen"):
        assert contract.definitions[name].ty.series == "cohorts × years", name
    row = {"ready": {"k1 × y1": Fraction(5), "k1 × y2": Fraction(50), "k2 × y1": Fraction(5), "k2 × y2": Fraction(50)},
           "size": {"k1": Fraction(10), "k2": Fraction(40)}, "places": {"y1": Fraction(25), "y2": Fraction(35)}}
    got = settle(contract, row)
    # k1 × y1: max(10, 25) + min(25, 10, 30) + size 10 (≤ 20) + (25 ≥ 5: size 10) = 25 + 10 + 10 + 10
    assert got["yearly", "k1 × y1"] == 55
    # k1 × y2: 35 + 10 + 10 + (35 < 50: places 35)
    assert got["yearly", "k1 × y2"] == 90
    # k2 × y1: 40 + 25 + places 25 (size 40 > 20) + size 40
    assert got["yearly", "k2 × y1"] == 130
    # k2 × y2: 40 + 30 + 35 + 35
    assert got["yearly", "k2 × y2"] == 140
    assert_same(contract, [row])
    assert_z3_same(contract, [row])


@pytest.mark.parametrize(("formula", "message"), [
    ("max(size, quarterly)", "`max` of values per `cohorts` and per `quarters`: which periods would the value have?"),
    ("if size > 1 then size else quarterly",
     "the two branches are per `cohorts` and per `quarters`: which periods would the value have?"),
    ("min(ready, quarterly)", "`min` of values per `cohorts × years` and per `quarters`: which periods would the value have?"),
])
def test_min_max_and_if_of_series_with_no_common_cells_are_e307(formula, message):
    body = ("periods quarters: q1 2021-01-01 to 2021-03-31\nmeasure quarterly: count per quarters\n"
            "measure ready: count per cohorts × years\nmeasure size: count per cohorts\n"
            f"define d = {formula}\n")
    errors = [d for d in check_source(Source("c.sib", HEAD + body))[1] if d.is_error]
    assert [(d.code, d.message) for d in errors] == [("E307", message)]
    # the hint says how to make it one value per cell, where that is what was probably meant
    assert ("per cohorts × quarters" in errors[0].hint) == ("ready" not in formula)


def test_a_scenario_file_gives_no_value_for_a_cell_before_its_cohort(tmp_path):
    from click.testing import CliRunner

    from sibdsl.cli import main

    (tmp_path / "late.sib").write_text(LATE, encoding="utf-8")
    header = "scenario,ready[k1 × y1],ready[k1 × y2],ready[k2 × y1],ready[k2 × y2],expect total\n"
    (tmp_path / "late.scenarios.csv").write_text(header + "one,1,1,0,1,3 240 SEK\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["test", str(tmp_path / "late.sib")])
    assert result.exit_code == 1 and "error[E582]" in result.output and "k2 × y1" in result.output
    (tmp_path / "late.scenarios.csv").write_text(header + "one,1,1,n/a,1,3 240 SEK\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["test", str(tmp_path / "late.sib")])
    assert result.exit_code == 0 and "1 passed, 0 failed" in result.output, result.output
