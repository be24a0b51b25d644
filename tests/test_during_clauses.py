"""Gates and caps in a range of periods (issue 15): `during FIRST [through LAST]` after a gate or a
cap, as after a payment — "in years 1–3 the cap is X", "a gate that applies only from year 2"."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sibdsl import check_source
from sibdsl.evaluate import Evaluator
from sibdsl.parser import parse_text
from sibdsl.render.clauses import sentence
from sibdsl.semantics.program import StepKind, lower
from sibdsl.source import Source
from sibdsl.syntax import same
from sibdsl.unparse import unparse
from sibdsl.verify import verify_contract

from .test_semantics import assert_z3_same
from .test_vector import assert_same

HEAD = """contract "During"
  languages en, sv
  currency SEK
  rounding 1 SEK half up
party city "City": payer
party fund "Fund": investor
periods year "Year": y1 2021-01-01 to 2021-12-31, y2 2022-01-01 to 2022-12-31, y3 2023-01-01 to 2023-12-31
measure housed "Housed": count per year
measure stable "Stable": boolean per year
payment p = housed * 1 000 SEK from city to fund per year due 30 days after end
payment q = housed * 500 SEK from city to fund per year due 30 days after end
"""
CLAUSES = """gate g: p requires stable during y2 through y3
cap c: p per period at 50 000 SEK
  during y1
cap s: p, q over all periods at 60 000 SEK during y1 through y2
cap py: per year at 70 000 SEK during y3
"""
ROW = {"housed": {"y1": Fraction(100), "y2": Fraction(100), "y3": Fraction(100)},
       "stable": {"y1": False, "y2": False, "y3": True}}


def checked(text):
    model, diagnostics = check_source(Source("d.sib", text))
    assert model is not None and not diagnostics, [d.message for d in diagnostics]
    return model


def lines(model, row=ROW):
    return {(ln.payment, ln.period): ln.amount for ln in Evaluator(model).evaluate(row).lines}


def test_a_gate_and_caps_apply_only_in_their_periods():
    got = lines(checked(HEAD + CLAUSES))
    # y1: the gate does not apply (stable fails, p is paid); p's cap per period applies: 100 000 → 50 000
    assert got[("p", "y1")] == 50_000
    # y2: the gate applies and fails: p is 0. The stream y1–y2 (50 000 + 50 000 + 0 + 50 000) is cut
    # to 60 000 from the line paid last: q in y2 gives 50 000, q in y1 40 000
    assert got[("p", "y2")] == 0 and got[("q", "y2")] == 0 and got[("q", "y1")] == 10_000
    # y3: the gate holds; the cap per year applies only in y3: 150 000 → 70 000, q (declared last) first
    assert got[("p", "y3")] == 70_000 and got[("q", "y3")] == 0


def test_without_during_the_same_clauses_apply_in_every_period():
    plain = CLAUSES.replace(" during y2 through y3", "").replace("\n  during y1", "").replace(
        " during y1 through y2", "").replace(" during y3", "")
    got = lines(checked(HEAD + plain))
    assert got[("p", "y1")] == 0  # the gate applies in y1 too, and fails
    assert sum(got.values()) == 60_000  # the stream cap now takes every period: 200 000 → 60 000


def test_the_program_has_steps_only_in_the_periods():
    program = lower(checked(HEAD + CLAUSES))
    gates = [st.period_name for st in program.steps if st.kind is StepKind.GATE]
    caps = [st.period_name for st in program.steps if st.kind is StepKind.CAP]
    per_year = [st.period_name for st in program.steps if st.kind is StepKind.PERIOD_CAP]
    assert gates == ["y2", "y3"] and caps == ["y1"] and per_year == ["y3"]
    (stream,) = [st for st in program.steps if st.kind is StepKind.STREAM_CAP]
    assert [(program.lines[j].payment, program.lines[j].period) for j in stream.group] == [
        ("p", "y1"), ("q", "y1"), ("p", "y2"), ("q", "y2")]


def test_fmt_round_trips_during_on_gates_and_caps():
    tree = parse_text(HEAD + CLAUSES)
    printed = unparse(tree)
    assert "gate g: p requires stable\n  during y2 through y3" in printed
    assert same(parse_text(printed), tree)
    assert not same(parse_text(printed.replace("during y2 through y3", "during y3")), tree)


@pytest.mark.parametrize("lang, words", [
    ("en", ["This applies only in the periods 2022 to 2023 of “Year”.",
            "“p” and “q” together are at most SEK 60,000 over the periods 2021 to 2022 of “Year”",
            "This applies only in the period 2023 of “Year”."]),
    ("sv", ["Detta gäller endast perioderna 2022 till 2023 i ”Year”.",
            "”p” och ”q” är sammanlagt högst 60 000 kr för perioderna 2021 till 2022 i ”Year”",
            "Detta gäller endast perioden 2023 i ”Year”."]),
])
def test_the_document_says_in_which_periods(lang, words):
    model = checked(HEAD + CLAUSES)
    text = " ".join(sentence(model, c.clause, lang) for c in (*model.gates, *model.caps))
    text = text.replace("\xa0", " ").replace("\u202f", " ")  # the no-break spaces of amounts
    for w in words:
        assert w in text, text


def test_verify_proves_the_caps_in_their_periods():
    verdicts = {v.key: v.status for v in verify_contract(checked(HEAD + CLAUSES), timeout=30)}
    assert verdicts["cap:c"] == verdicts["cap:s"] == verdicts["cap:py"] == "proved"
    assert verdicts["gate:g"] == "proved"


@pytest.mark.parametrize("clause, code", [
    ("cap t: total at 1 SEK during y1", "E580"),
    ("gate gt: total above 1 SEK requires true during y1", "E580"),
    ("cap per participant at 1 SEK during y1", "E580"),
    ("cap s2: p, q over all periods at 1 SEK during y3 through y1", "E444"),
    ("gate g2: p requires stable during y9", "E443"),
    ("payment r = 1 SEK from city to fund due 2024-01-01\ncap r2: r at 1 SEK during y1", "E442"),
    ("payment r = 1 SEK from city to fund due 2024-01-01\ncap r3: p, r over all periods at 1 SEK during y1", "E581"),
])
def test_misuses_have_codes(clause, code):
    text = HEAD + "cohort people: size 10\n" + clause + "\n"
    _, diagnostics = check_source(Source("d.sib", text))
    assert [d.code for d in diagnostics] == [code], [d.message for d in diagnostics]


def test_a_clause_during_periods_its_payment_has_no_line_in_is_warned():
    text = HEAD.replace("per year due 30 days after end\npayment q", "per year during y2 through y3 due 30 days "
                        "after end\npayment q") + "gate g: p requires stable during y1\n"
    _, diagnostics = check_source(Source("d.sib", text))
    assert [d.code for d in diagnostics] == ["W580"], [d.message for d in diagnostics]
    assert "`p` during y2 through y3 has no line then" in diagnostics[0].message
    fine = text.replace("requires stable during y1", "requires stable during y2")
    assert check_source(Source("d.sib", fine))[1] == []


def test_a_gate_during_some_periods_is_no_leak_by_the_periods_it_does_not_apply_in():
    """verify's leak property reads a gate `during` some periods on the payment's lines in those
    periods only: the lines of the other periods are paid whatever the condition, by design."""
    text = HEAD.replace("payment q = housed * 500 SEK", "payment q = 500 SEK") + "gate g: p requires stable during y2\n"
    verdicts = {v.key: v.status for v in verify_contract(checked(text), timeout=30)}
    assert verdicts["leak:g"] == "proved"


# ---------------------------------------------------------------- on a payment per cohort × year
CELLS = """measure ready: count per cohorts × years between 0 and 100
measure stable: boolean per cohorts × years
payment p = ready * 1 000 SEK from city to fund per cohorts × years due 90 days after end
payment q = ready * 500 SEK from city to fund per cohorts × years due 90 days after end
gate g: p requires stable during y2
cap c: p per period at 4 000 SEK during k2
cap s: p, q over all periods at 20 000 SEK during y1
cap py: per years at 9 000 SEK during y2
"""
CELL_ROW = {"ready": {"k1 × y1": Fraction(10), "k1 × y2": Fraction(10), "k2 × y1": Fraction(10), "k2 × y2": Fraction(10)},
            "stable": {"k1 × y1": False, "k1 × y2": False, "k2 × y1": False, "k2 × y2": True}}


def test_during_on_gates_and_caps_of_a_payment_per_cell():
    """`during` a period of either series on a clause of a payment per two series: the cells of that
    period, every cohort's (or every year's) — on every back end."""
    from .test_cohorts15 import HEAD as COHORTS

    model = checked(COHORTS + CELLS)
    program = lower(model)
    assert [st.period_name for st in program.steps if st.kind is StepKind.GATE] == ["k1 × y2", "k2 × y2"]
    assert [st.period_name for st in program.steps if st.kind is StepKind.CAP] == ["k2 × y1", "k2 × y2"]
    (stream,) = [st for st in program.steps if st.kind is StepKind.STREAM_CAP]
    assert {program.lines[j].period for j in stream.group} == {"k1 × y1", "k2 × y1"}
    (per_year,) = [st for st in program.steps if st.kind is StepKind.PERIOD_CAP]
    assert per_year.period_name == "y2" and {program.lines[j].period for j in per_year.group} == {"k1 × y2", "k2 × y2"}
    got = lines(model, CELL_ROW)
    # the gate only in y2: p in k1 × y1 is paid whatever `stable`; in k1 × y2 it fails
    assert got["p", "k1 × y1"] == 10_000 and got["p", "k1 × y2"] == 0
    # the cap per period only in the cohort k2's cells
    assert got["p", "k2 × y1"] == got["p", "k2 × y2"] == 4_000
    # the stream cap over y1's cells: 10 000 + 4 000 + 5 000 + 5 000 = 24 000 → 20 000, from q in k2 × y1
    assert got["q", "k1 × y1"] == 5_000 and got["q", "k2 × y1"] == 1_000
    # the cap per year only in y2: 0 + 4 000 + 5 000 + 5 000 = 14 000 → 9 000, from q in k2 × y2
    assert got["q", "k1 × y2"] == 5_000 and got["q", "k2 × y2"] == 0
    assert_same(model, [CELL_ROW])
    assert_z3_same(model, [CELL_ROW])


@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_the_back_ends_agree_on_during_on_a_payment_per_cell(data):
    from .test_cohorts15 import HEAD as COHORTS
    from .test_cohorts15 import agree_on_generated

    agree_on_generated(data, checked(COHORTS + CELLS))


def test_verify_proves_during_clauses_of_a_payment_per_cell():
    from .test_cohorts15 import HEAD as COHORTS

    verdicts = {v.key: v.status for v in verify_contract(checked(COHORTS + CELLS), timeout=30)}
    # q pays for the same children as p, so when the gate fails in y2 more children still pay more:
    # a leak, rightly found in the cells of y2
    assert {k: v for k, v in verdicts.items() if k.split(":")[0] in ("cap", "gate", "leak")} == {
        "cap:c": "proved", "cap:s": "proved", "cap:py": "proved", "gate:g": "proved", "leak:g": "violated"}
    # with q a fixed amount nothing grows with p outside it: no leak, the cells of y1 (where the gate
    # does not apply) unchanged between the two outcomes compared
    fixed = CELLS.replace("payment q = ready * 500 SEK", "payment q = 500 SEK")
    verdicts = {v.key: v.status for v in verify_contract(checked(COHORTS + fixed), timeout=30)}
    assert verdicts["leak:g"] == "proved"


def test_an_interim_settlement_with_during_on_a_payment_per_cell(tmp_path):
    """y1 measured, y2 not yet: the lines of y1 settle (the stream cap over y1 waits for nothing of
    y2), those of y2 wait."""
    import datetime
    import json

    from sibdsl import interim
    from sibdsl.outcomes import load_outcomes

    from .test_cohorts15 import HEAD as COHORTS

    model = checked(COHORTS + CELLS)
    path = tmp_path / "o.json"
    path.write_text(json.dumps({"ready": {"k1": {"y1": 10}, "k2": {"y1": 10}},
                                "stable": {"k1": {"y1": False}, "k2": {"y1": False}}}))
    as_of = datetime.date(2022, 6, 30)
    pending: set = set()
    values = load_outcomes(model, path, as_of=as_of, pending=pending)
    settled = interim.settle(Evaluator(model), values, pending, as_of)
    status = {(ln.payment, ln.period): (ln.status, ln.pay_now) for ln in settled.lines}
    assert status["p", "k1 × y1"] == (interim.SETTLED, 10_000)
    assert status["q", "k2 × y1"] == (interim.SETTLED, 1_000)  # the stream cap of y1, as in the final settlement
    assert status["p", "k1 × y2"][0] != interim.SETTLED


# ---------------------------------------------------------------- floors in a range of periods
FLOORS = """floor f: p per period at 80 000 SEK when stable during y2 through y3
floor s: p, q over all periods at 150 000 SEK during y1 through y2
"""
FLOOR_ROW = {"housed": {"y1": Fraction(10), "y2": Fraction(10), "y3": Fraction(10)},
             "stable": {"y1": True, "y2": True, "y3": True}}


def test_floors_apply_only_in_their_periods():
    model = checked(HEAD + FLOORS)
    program = lower(model)
    assert [st.period_name for st in program.steps if st.kind is StepKind.FLOOR] == ["y2", "y3"]
    (stream,) = [st for st in program.steps if st.kind is StepKind.STREAM_FLOOR]
    assert [(program.lines[j].payment, program.lines[j].period) for j in stream.group] == [
        ("p", "y1"), ("q", "y1"), ("p", "y2"), ("q", "y2")]
    got = lines(model, FLOOR_ROW)
    # p is 10 000 a year; the floor per period lifts y2 and y3 to 80 000, not y1
    assert got["p", "y1"] == 10_000 and got["p", "y3"] == 80_000
    # the stream y1–y2: 10 000 + 5 000 + 80 000 + 5 000 = 100 000, 50 000 short of 150 000: paid with
    # the stream's last line in its range (q in y2), not with y3's
    assert got["q", "y2"] == 55_000 and got["q", "y3"] == 5_000 and got["p", "y2"] == 80_000
    plain = checked(HEAD + FLOORS.replace(" during y2 through y3", "").replace(" during y1 through y2", ""))
    got = lines(plain, FLOOR_ROW)
    assert got["p", "y1"] == 80_000  # without `during`: every period
    assert_same(model, [FLOOR_ROW])
    assert_z3_same(model, [FLOOR_ROW])


@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_the_back_ends_agree_on_floors_in_a_range(data):
    from .test_cohorts15 import agree_on_generated

    agree_on_generated(data, checked(HEAD + FLOORS))


def test_verify_proves_floors_in_their_periods():
    verdicts = {v.key: v.status for v in verify_contract(checked(HEAD + FLOORS), timeout=30)}
    assert verdicts["floor:f"] == verdicts["floor:s"] == "proved"


def test_fmt_round_trips_during_on_floors():
    tree = parse_text(HEAD + FLOORS)
    printed = unparse(tree)
    assert "floor f: p per period at 80 000 SEK\n  when stable\n  during y2 through y3" in printed
    assert "floor s: p, q over all periods at 150 000 SEK during y1 through y2\n" in printed  # short: one line
    assert same(parse_text(printed), tree)
    assert not same(parse_text(printed.replace("during y2 through y3", "during y3")), tree)


@pytest.mark.parametrize("lang, words", [
    ("en", ["“p” is at least SEK 80,000 in each period when the condition “Stable” is met.",
            "This applies only in the periods 2022 to 2023 of “Year”.",
            "“p” and “q” together are at least SEK 150,000 over the periods 2021 to 2022 of “Year”;",
            "any shortfall is paid with the payment of the last of those periods."]),
    ("sv", ["”p” är minst 80 000 kr för varje period när villkoret ”Stable” är uppfyllt.",
            "Detta gäller endast perioderna 2022 till 2023 i ”Year”.",
            "”p” och ”q” är sammanlagt minst 150 000 kr för perioderna 2021 till 2022 i ”Year”;",
            "ett underskott betalas med ersättningen för den sista av dessa perioder."]),
])
def test_the_document_says_in_which_periods_a_floor_applies(lang, words):
    model = checked(HEAD + FLOORS)
    text = " ".join(sentence(model, f.clause, lang) for f in model.floors)
    text = text.replace("\xa0", " ").replace("\u202f", " ")
    for w in words:
        assert w in text, text


@pytest.mark.parametrize("clause, code", [
    ("floor t: total at 1 SEK from city to fund during y1", "E580"),
    ("floor s2: p, q over all periods at 1 SEK during y3 through y1", "E444"),
    ("floor g2: p per period at 1 SEK during y9", "E443"),
    ("payment r = 1 SEK from city to fund due 2024-01-01\nfloor r2: r at 1 SEK during y1", "E442"),
    ("payment r = 1 SEK from city to fund due 2024-01-01\nfloor r3: p, r over all periods at 1 SEK during y1", "E581"),
])
def test_misuses_of_during_on_floors_have_codes(clause, code):
    _, diagnostics = check_source(Source("d.sib", HEAD + clause + "\n"))
    assert [d.code for d in diagnostics if d.code != "W401"] == [code], [d.message for d in diagnostics]


def test_a_floor_during_periods_its_payment_has_no_line_in_is_warned():
    text = HEAD.replace("per year due 30 days after end\npayment q", "per year during y2 through y3 due 30 days "
                        "after end\npayment q") + "floor f: p per period at 1 SEK during y1\n"
    _, diagnostics = check_source(Source("d.sib", text))
    assert [d.code for d in diagnostics if d.code != "W401"] == ["W580"]
    assert diagnostics[-1].message.startswith("the floor applies during y1")


def test_a_floor_and_a_cap_in_different_periods_do_not_contradict():
    cap_y1 = "cap c: p per period at 50 000 SEK during y1\n"
    assert [d.code for d in check_source(Source("d.sib", HEAD + FLOORS + cap_y1))[1] if d.code != "W401"] == []
    cap_y3 = "cap c: p per period at 50 000 SEK during y3\n"  # y3: floor 80 000 above cap 50 000
    assert "E403" in [d.code for d in check_source(Source("d.sib", HEAD + FLOORS + cap_y3))[1]]
    stream_all = "cap k: p, q over all periods at 100 000 SEK\n"  # over y1–y3, below the floor over y1–y2
    assert "E403" in [d.code for d in check_source(Source("d.sib", HEAD + FLOORS + stream_all))[1]]
    stream_y3 = "cap k: p, q over all periods at 100 000 SEK during y3\n"
    assert "E403" not in [d.code for d in check_source(Source("d.sib", HEAD + FLOORS + stream_y3))[1]]


def test_the_editor_offers_during_and_the_periods_after_a_floor():
    from sibdsl.lsp_analysis import analyse
    from sibdsl.lsp_features import completion

    for start, wanted in (("floor f: p per period at 1 SEK\n  ", "during"),
                          ("floor f: p per period at 1 SEK during ", "y1"),
                          ("cap c: p per period at 1 SEK during y1 through ", "y3"),
                          ("gate g: p requires stable during ", "y2")):
        text = HEAD + start
        assert wanted in {c.label for c in completion(analyse("d.sib", text), text, len(text))}, start


def test_the_gate_property_read_on_a_settlement_skips_the_periods_the_gate_does_not_apply_in():
    """verify's concrete check of `gate:g` (used on generated outcomes and to confirm a counterexample)
    read every line of the payment: p is paid in y1, where `stable` fails but the gate does not
    apply, and that was taken for a breach."""
    from sibdsl.verify import properties

    model = checked(HEAD + CLAUSES)
    gate = next(p for p in properties(model) if p.key == "gate:g")
    settlement = Evaluator(model).evaluate(ROW)
    assert [ln.amount for ln in settlement.lines if (ln.payment, ln.period) == ("p", "y1")] == [50_000]
    assert gate.concrete([ROW], [settlement])
    failing = {**ROW, "stable": {**ROW["stable"], "y3": False}}  # in y3 the gate applies and fails: p is 0
    assert gate.concrete([failing], [Evaluator(model).evaluate(failing)])
