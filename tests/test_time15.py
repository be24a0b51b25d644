"""Issue 15, time: stream caps and floors, caps on what a party pays or receives, per-period caps
named as such, payments during a range of periods, and the period-aware values (`period_index`,
`period_start`, `period_end`, `contract_year`, `previous`, `to_date`, `cumulative`).

Each oracle is worked out by hand and settled by all three back ends (scalar, vectorised, z3);
the swap of a new step with its neighbour in the order of application is caught by an oracle.
"""

from __future__ import annotations

from fractions import Fraction

import attrs
import pytest

from sibdsl import Source, check_source
from sibdsl.evaluate import Evaluator
from sibdsl.semantics.program import StepKind, lower
from sibdsl.verify import verify_contract

from .test_semantics import assert_z3_same
from .test_vector import assert_same

K = StepKind
HEAD = """contract "Time"
  languages en
  currency SEK
  rounding 1 SEK half up
party city "City": payer
party state "State": payer
party fund "Fund": investor
party ngo "Provider": provider
term 2020-07-01 to 2023-12-31
periods year:
  y1 2021-01-01 to 2021-12-31,
  y2 2022-01-01 to 2022-12-31,
  y3 2023-01-01 to 2023-12-31
"""


def checked(body: str):
    contract, diagnostics = check_source(Source("time.sib", HEAD + body))
    errors = [d for d in diagnostics if d.is_error]
    assert contract is not None and not errors, [d.message for d in errors]
    return contract


def codes(body: str) -> list[str]:
    return [d.code for d in check_source(Source("time.sib", HEAD + body))[1]]


def settle(contract, row, program=None) -> dict:
    settlement = Evaluator(contract, program=program).evaluate(row)
    got = {"total": Fraction(settlement.total)}
    for ln in settlement.lines:
        got[ln.payment, ln.period] = got.get((ln.payment, ln.period), 0) + Fraction(ln.amount)
    return got


def per_year(*values) -> dict:
    return {f"y{i + 1}": Fraction(v) for i, v in enumerate(values)}


@attrs.frozen
class Oracle:
    name: str
    body: str
    row: dict
    expect: dict  # "total" and (payment, period) → amount


ORACLES = [
    Oracle("a stream cap takes from the period paid last: earlier periods are paid first", """
measure v: count per year
payment housing = v * 100 SEK from city to fund per year
cap housing over all periods at 1 000 SEK
""", {"v": per_year(6, 3, 5)}, {"total": 1000, ("housing", "y1"): 600, ("housing", "y2"): 300,
                                ("housing", "y3"): 100}),
    Oracle("a stream of two payments: the later period gives first, whatever was declared first", """
measure v: count per year
payment a = v * 100 SEK from city to fund per year
payment b = v * 50 SEK from city to ngo per year
cap both: a, b over all periods at 1 000 SEK
""", {"v": per_year(4, 4, 4)}, {"total": 1000, ("a", "y1"): 400, ("b", "y1"): 200, ("a", "y2"): 400,
                                ("b", "y2"): 0, ("a", "y3"): 0, ("b", "y3"): 0}),
    Oracle("a stream floor tops up the stream's last line", """
measure v: count per year
payment a = v * 100 SEK from city to fund per year
floor a over all periods at 1 000 SEK
""", {"v": per_year(2, 1, 0)}, {"total": 1000, ("a", "y1"): 200, ("a", "y2"): 100, ("a", "y3"): 700}),
    Oracle("a stream floor with a condition that fails adds nothing", """
measure v: count per year
measure done: boolean
payment a = v * 100 SEK from city to fund per year
floor a over all periods at 1 000 SEK when done
""", {"v": per_year(2, 1, 0), "done": False}, {"total": 300, ("a", "y3"): 0}),
    Oracle("a cap on what a payer pays, the line declared last first", """
measure x: money
payment a = x from city to fund due 2023-06-30
payment b = x from state to fund due 2023-06-30
payment c = x from city to ngo due 2023-06-30
cap payments from city at 150 SEK
""", {"x": Fraction(100)}, {"total": 250, ("a", None): 100, ("b", None): 100, ("c", None): 50}),
    Oracle("a cap on what a recipient receives", """
measure x: money
payment a = x from city to fund due 2023-06-30
payment b = x from state to fund due 2023-06-30
payment c = x from city to ngo due 2023-06-30
cap payments to fund at 120 SEK
""", {"x": Fraction(100)}, {"total": 220, ("a", None): 100, ("b", None): 20, ("c", None): 100}),
    Oracle("a payment during a range of periods has lines in those periods only", """
measure v: count per year
payment a = v * 100 SEK from city to fund per year during y2 through y3
""", {"v": per_year(9, 1, 2)}, {"total": 300, ("a", "y2"): 100, ("a", "y3"): 200}),
    Oracle("the period's index, dates and year of the term", """
payment a = period_index * 1 000 SEK + contract_year * 10 SEK + (period_end - period_start) * 1 SEK
  from city to fund per year
""", {}, {("a", "y1"): 1000 + 10 + 364, ("a", "y2"): 2000 + 20 + 364, ("a", "y3"): 3000 + 30 + 364}),
    Oracle("previous, to_date and cumulative of a measure", """
measure v: count per year
payment a = previous(v) * 100 SEK + to_date(v) * 10 SEK + cumulative(v) * 1 SEK from city to fund per year
""", {"v": per_year(5, 7, 2)}, {("a", "y1"): 0 + 0 + 5, ("a", "y2"): 500 + 50 + 12,
                                ("a", "y3"): 700 + 120 + 14}),
    Oracle("previous of a yes/no value, with its value for the first period", """
measure met: boolean per year
payment a = if previous(met, true) and met then 100 SEK else 0 SEK from city to fund per year
""", {"met": {"y1": True, "y2": False, "y3": True}}, {("a", "y1"): 100, ("a", "y2"): 0, ("a", "y3"): 0}),
    Oracle("what a payment was paid so far is read after its stream cap", """
measure v: count per year
payment housing = v * 1 000 SEK from city to fund per year
payment bonus = if to_date(housing) >= 3 000 SEK then 10 % of previous(housing) else 0 SEK
  from city to fund per year
cap housing over all periods at 5 000 SEK
""", {"v": per_year(3, 4, 1)}, {"total": 5000 + 300 + 200, ("housing", "y2"): 2000, ("housing", "y3"): 0,
                                ("bonus", "y1"): 0, ("bonus", "y2"): 300, ("bonus", "y3"): 200}),
    Oracle("a payment capped by what it was paid before: the same as its stream cap", """
measure v: count per year
payment p = min(v * 100 SEK, max(700 SEK - to_date(p), 0 SEK)) from city to fund per year
payment q = cumulative(p) / 10 from city to ngo per year
""", {"v": per_year(5, 4, 3)}, {"total": 700 + 50 + 70 + 70, ("p", "y1"): 500, ("p", "y2"): 200,
                                ("p", "y3"): 0, ("q", "y2"): 70}),
    # the order: a payment's cap, then its stream cap, then the cap per period
    Oracle("a payment's cap, then its stream cap", """
measure v: count per year
payment a = v * 100 SEK from city to fund per year
cap a per period at 400 SEK
cap a over all periods at 700 SEK
""", {"v": per_year(5, 5, 5)}, {"total": 700, ("a", "y1"): 400, ("a", "y2"): 300, ("a", "y3"): 0}),
    Oracle("a stream cap, then the cap per period", """
measure v: count per year
payment p = v * 10 SEK from city to fund per year
payment q = 60 SEK from city to ngo per year
cap p over all periods at 50 SEK
cap per year at 80 SEK
""", {"v": per_year(6, 0, 0)}, {"total": 50 + 30 + 60 + 60, ("p", "y1"): 50, ("q", "y1"): 30}),
    Oracle("a stream floor, then the stream cap", """
measure v: count per year
measure most: money
payment a = v * 100 SEK from city to fund per year
floor a over all periods at 900 SEK
cap a over all periods at most
""", {"v": per_year(1, 1, 1), "most": Fraction(500)}, {"total": 500, ("a", "y3"): 300}),
    Oracle("caps on what a payer pays and on the total, in the order they are declared", """
measure x: money
payment a = x from city to fund due 2023-06-30
payment b = x from state to fund due 2023-06-30
cap payments from city at 80 SEK
cap total at 150 SEK
""", {"x": Fraction(100)}, {"total": 150, ("a", None): 80, ("b", None): 70}),
]


@pytest.mark.parametrize("oracle", ORACLES, ids=lambda o: o.name)
def test_oracle_on_all_three_back_ends(oracle):
    contract = checked(oracle.body)
    got = settle(contract, oracle.row)
    for key, value in oracle.expect.items():
        assert got.get(key, 0) == value, (key, got)
    assert_same(contract, [oracle.row])  # vectorised = scalar
    assert_z3_same(contract, [oracle.row])  # z3 = scalar


def _reorder(program, first, second):
    """The program with every step of kind `first` moved after the last step of kind `second`."""
    steps = list(program.steps)
    moving = [s for s in steps if s.kind is first]
    rest = [s for s in steps if s.kind is not first]
    at = max(i for i, s in enumerate(rest) if s.kind is second) + 1
    return attrs.evolve(program, steps=tuple(rest[:at] + moving + rest[at:]))


@pytest.mark.parametrize("name, first, second", [
    ("a payment's cap, then its stream cap", K.CAP, K.STREAM_CAP),
    ("a stream cap, then the cap per period", K.STREAM_CAP, K.PERIOD_CAP),
    ("a stream floor, then the stream cap", K.STREAM_FLOOR, K.STREAM_CAP),
    ("caps on what a payer pays and on the total, in the order they are declared", K.PARTY_CAP, K.TOTAL_CAP),
])
def test_swapping_a_new_step_with_its_neighbour_is_caught(name, first, second):
    oracle = next(o for o in ORACLES if o.name == name)
    contract = checked(oracle.body)
    program = lower(contract)
    assert [s.kind for s in program.steps].index(first) < [s.kind for s in program.steps].index(second)
    got = settle(contract, oracle.row, _reorder(program, first, second))
    assert any(got.get(k, 0) != v for k, v in oracle.expect.items())


def test_a_stream_cap_is_proved_and_its_breach_found():
    body = """
measure v: count per year between 0 and 100
payment housing = v * 100 SEK from city to fund per year
cap housing over all periods at 1 000 SEK
guarantee under: housing <= 1 000 SEK
guarantee also: sum(housing) <= 1 000 SEK
guarantee not_so: housing <= 900 SEK
"""
    verdicts = {r.key: r.status for r in verify_contract(checked(body))}
    assert verdicts["cap:cap_1"] == "proved"
    assert verdicts["guarantee:under"] == "proved" and verdicts["guarantee:also"] == "proved"
    assert verdicts["guarantee:not_so"] == "violated"
    assert "unknown" not in verdicts.values()


def test_the_per_period_form_is_the_old_cap_without_its_warning():
    implicit = "measure v: count per year\npayment a = v * 100 SEK from city to fund per year\ncap a at 400 SEK\n"
    explicit = implicit.replace("cap a at", "cap a per period at")
    assert codes(implicit) == ["W440"]
    assert codes(explicit) == []
    row = {"v": per_year(5, 1, 9)}
    assert settle(checked(implicit), row) == settle(checked(explicit), row)
    assert codes(implicit.replace("cap a at", "floor a at")) == ["W441"]


@pytest.mark.parametrize("body, code", [
    ("payment a = 1 SEK from city to fund\ncap a per period at 5 SEK\n", "E440"),
    ("measure v: count per year\npayment a = v * 1 SEK from city to fund per year\n"
     "cap a, a over all periods at 5 SEK\n", "E441"),
    ("payment a = 1 SEK from city to fund during y1\n", "E442"),
    ("payment a = 1 SEK from city to fund per year during y4\n", "E443"),
    ("payment a = 1 SEK from city to fund per year during y3 through y1\n", "E444"),
    ("measure x: count\npayment a = previous(x) * 1 SEK from city to fund\n", "E445"),
    ("periods half: h1 2021-01-01 to 2021-06-30\npayment a = period_index * 1 SEK from city to fund per year\n",
     "E446"),
    ("payment a = period_index(city) * 1 SEK from city to fund per year\n", "E446"),
    ("measure ok: boolean per year\npayment a = if previous(ok) then 1 SEK else 0 SEK from city to fund per year\n",
     "E448"),
    ("measure v: money per year\npayment a = previous(v, 3) from city to fund per year\n", "E448"),
    ("payment a = 1 SEK from city to fund\ncap payments from state at 5 SEK\n", "W442"),
    ("measure v: count per year\npayment a = v * 1 SEK from city to fund per year\n"
     "define d = to_date(a)\npayment b = d from city to fund per year\n", "E449"),
    ("measure v: count per year\npayment b = to_date(a) from city to fund per year\n"
     "payment a = v * 1 SEK from city to fund per year\n", "E449"),
    ("measure v: count per year\npayment a = v * 1 SEK + cumulative(a) from city to fund per year\n", "E449"),
    ("measure v: count per year\npayment a = v * 1 SEK from city to fund per year\n"
     "guarantee g: to_date(a) <= 5 SEK\n", "E449"),
    ("payment a = 1 SEK from city to fund\npayment b = to_date(a) from city to fund per year\n", "E445"),
])
def test_misuses_have_codes(body, code):
    assert code in codes(body)


def test_contract_year_needs_a_term():
    text = (HEAD.replace("term 2020-07-01 to 2023-12-31\n", "")
            + "payment a = contract_year * 1 SEK from city to fund per year\n")
    assert "E447" in [d.code for d in check_source(Source("t.sib", text))[1]]


def test_a_declared_name_wins_over_a_period_value():
    contract = checked("measure period_index: count\npayment a = period_index * 1 SEK from city to fund\n")
    assert settle(contract, {"period_index": Fraction(7)})["total"] == 7


def test_the_streams_lines_are_in_the_order_they_are_paid():
    contract = checked("""
measure v: count per year
payment once = 10 SEK from city to fund due 2021-06-30
payment b = v * 1 SEK from city to ngo per year
cap s: b, once over all periods at 100 SEK
""")
    step = next(s for s in lower(contract).steps if s.kind is K.STREAM_CAP)
    lines = lower(contract).lines
    assert [(lines[i].payment, lines[i].period) for i in step.group] == [
        ("once", None), ("b", "y1"), ("b", "y2"), ("b", "y3")]


def test_peterborough_caps_what_the_ministry_pays():
    from sibdsl import load_contract

    contract = load_contract("contracts/peterborough.sib")
    cap = next(c for c in contract.caps if c.clause.name == "outcome_cap")
    assert (cap.kind, cap.target) == ("payer", "moj")
    row = {"pilot_events": {"cohort_1": Fraction(0), "cohort_2": Fraction(0)},
           "comparison_events": {"cohort_1": Fraction(1550), "cohort_2": Fraction(1550)}}
    settlement = Evaluator(contract).evaluate(row)
    assert Fraction(settlement.total) == 8_000_000  # 3 100 events avoided × 20 000 GBP, capped
    paid = {(ln.payment, ln.period): ln.amount for ln in settlement.lines}
    assert paid[("cohort_payment", "cohort_1")] == 8_000_000 and paid[("cohort_payment", "cohort_2")] == 0
    assert all(any(step.kind == "party cap" for step in ln.steps) for ln in settlement.lines if ln.period)


def test_the_editor_completes_the_periods_of_a_range():
    from sibdsl.lsp_analysis import analyse
    from sibdsl.lsp_features import completion

    text = HEAD + "measure v: count per year\npayment a = v * 1 SEK from city to fund per year during "
    labels = [c.label for c in completion(analyse("t.sib", text), text, len(text))]
    assert labels[:3] == ["y1", "y2", "y3"] and "fund" not in labels
    text += "y1 through "
    assert [c.label for c in completion(analyse("t.sib", text), text, len(text))][:3] == ["y1", "y2", "y3"]


def test_renaming_a_payment_renames_it_in_every_stream():
    from sibdsl.lsp_analysis import analyse

    text = HEAD + ("measure v: count per year\npayment a = v * 1 SEK from city to fund per year during y1 through y2\n"
                   "payment b = v * 2 SEK from city to fund per year\ncap a, b over all periods at 5 SEK\n")
    uses = {(o.name, text[o.start:o.end]) for o in analyse("t.sib", text).index.occurrences}
    assert {("a", "a"), ("b", "b"), ("y1", "y1"), ("y2", "y2")} <= uses
    stream = text.index("cap a, b")
    assert any(o.name == "b" and o.start == stream + len("cap a, ") for o in analyse("t.sib", text).index.occurrences)


def test_simulate_counts_a_stream_floor_as_a_floor_and_a_stream_cap_as_a_cap():
    from sibdsl.vector import compile_vector, inputs_from_outcomes

    contract = checked("""
measure v: count per year
payment a = v * 100 SEK from city to fund per year
floor fa: a over all periods at 500 SEK
cap ca: a over all periods at 700 SEK
""")
    rows = [{"v": per_year(1, 1, 1)}, {"v": per_year(5, 5, 5)}]
    vc = compile_vector(contract)
    settled = vc(inputs_from_outcomes(contract, rows), len(rows))
    assert [bool(x) for x in settled.events["floor fa"]] == [True, False]
    assert [bool(x) for x in settled.events["cap ca"]] == [False, True]
