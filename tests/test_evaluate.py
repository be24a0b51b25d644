"""Checked model → Settlement: formulas, the fixed order of application, and the audit trail."""

from __future__ import annotations

import json
from decimal import Decimal
from fractions import Fraction

import pytest

from sibdsl import compile_contract, evaluate, load_outcomes
from sibdsl.evaluate import EvaluationError
from sibdsl.values import Rounding, growth_factor, to_decimal

from .conftest import HEADER, model


def settle(body: str, outcomes: dict | None = None, header: str = HEADER):
    m = model(body, header)
    values = load_outcomes(m, text=json.dumps(outcomes or {}), name="o.json")
    return evaluate(m, values)


def amounts(settlement) -> dict[str, str]:
    return {f"{ln.payment}{'@' + ln.period if ln.period else ''}": str(ln.amount) for ln in settlement.lines}


def kinds(settlement, payment: str) -> list[str]:
    line = next(ln for ln in settlement.lines if ln.payment == payment)
    return [step.kind for step in line.steps]


def test_rounding_is_applied_to_each_formula_result():
    s = settle("payment p = 1 000 SEK / 3 from city to fund\npayment q = 2.5 SEK from city to fund")
    assert amounts(s) == {"p": "333", "q": "3"}
    assert s.lines[0].steps[0].detail == "exact 333.333333, rounded half up"
    assert s.total == Decimal(336)


@pytest.mark.parametrize("mode, expected", [
    ("half up", ["3", "-3", "2"]), ("half even", ["2", "-2", "2"]), ("half down", ["2", "-2", "2"]),
    ("up", ["3", "-2", "3"]), ("down", ["2", "-3", "2"]),
])
def test_rounding_modes(mode, expected):
    rule = Rounding(Decimal(1), mode)
    assert [str(to_decimal(rule.apply(Fraction(x)))) for x in ("2.5", "-2.5", "2.25")] == expected


def test_rounding_to_a_step():
    assert rule_apply("0.05", "half up", "1.234") == "1.25"
    assert rule_apply("1000", "down", "12345") == "12000"


def rule_apply(step, mode, value):
    return str(to_decimal(Rounding(Decimal(step), mode).apply(Fraction(Decimal(value)))))


def test_payment_gate_floor_and_cap_in_order():
    body = ("measure ok: boolean\nmeasure v: money\n"
            "payment p = v from city to fund when ok\n"
            "floor p at 100 SEK\ncap p at 500 SEK\n")
    assert amounts(settle(body, {"ok": True, "v": "50 SEK"})) == {"p": "100"}
    assert kinds(settle(body, {"ok": True, "v": "50 SEK"}), "p") == ["computed", "gate passed", "floor"]
    assert amounts(settle(body, {"ok": True, "v": "900 SEK"})) == {"p": "500"}
    # a failed gate makes the payment zero, then the floor still lifts it: gate, then floor
    failed = settle(body, {"ok": False, "v": "900 SEK"})
    assert amounts(failed) == {"p": "100"}
    assert kinds(failed, "p") == ["computed", "gate failed", "floor"]


def test_total_rules_cut_the_latest_lines_first_and_floor_adds_a_line():
    body = ("measure v: money\nmeasure ok: boolean\n"
            "payment a = 40 % of v from city to fund\n"
            "payment b = 60 % of v from city to fund\n"
            "gate g: total above 1 000 SEK requires ok\n"
            "floor f: total at 300 SEK\n"
            "cap c: total at 1 200 SEK\n")
    # cap: 2 000 → 1 200, cut from b (declared last) first
    s = settle(body, {"v": "2 000 SEK", "ok": True})
    assert amounts(s) == {"a": "800", "b": "400"}
    assert s.lines[1].steps[-1].kind == "cap" and s.lines[1].steps[-1].clause.name == "c"
    # gate fails: cut back to 1 000, again from b first
    assert amounts(settle(body, {"v": "2 000 SEK", "ok": False})) == {"a": "800", "b": "200"}
    # floor: 100 → 300 with a top-up line named after the floor clause
    s = settle(body, {"v": "100 SEK", "ok": True})
    assert amounts(s) == {"a": "40", "b": "60", "f": "200"}
    assert s.lines[-1].steps[0].kind == "floor top-up" and s.total == 300


def test_gate_on_total_applies_before_the_floor():
    body = ("measure v: money\nmeasure ok: boolean\n"
            "payment a = v from city to fund\n"
            "gate g: total above 1 000 SEK requires ok\n"
            "floor f: total at 1 500 SEK when ok\n")
    assert settle(body, {"v": "5 000 SEK", "ok": False}).total == 1000
    assert settle(body, {"v": "100 SEK", "ok": True}).total == 1500


def test_per_period_payments_and_period_caps():
    body = ("periods year: y2017 2017-01-01 to 2017-12-31, y2018 2018-01-01 to 2018-12-31\n"
            "term 2017-01-01 to 2019-12-31\n"
            "measure events: count per year better lower\n"
            "define price = 1 000 SEK\n"
            "payment p = max(10 - events, 0) * price from city to fund per year due 90 days after end\n"
            "cap per year at 5 000 SEK\n")
    s = settle(body, {"events": {"y2017": 8, "y2018": 2}})
    assert amounts(s) == {"p@y2017": "2000", "p@y2018": "5000"}
    assert [str(ln.due) for ln in s.lines] == ["2018-03-31", "2019-03-31"]
    assert s.lines[1].steps[-1].kind == "period cap"
    assert s.values["price"] == Decimal(1000)


def test_sum_over_periods():
    body = ("periods year: y1 2017-01-01 to 2017-12-31, y2 2018-01-01 to 2018-12-31\n"
            "measure events: count per year\n"
            "payment p = sum(events) * 10 SEK from city to fund\n")
    assert settle(body, {"events": {"y1": 3, "y2": 4}}).total == 70


def test_tiers_boundaries_are_inclusive_from_the_threshold():
    body = ("measure r: share\n"
            "payment p = tiers(r) { below: 0 SEK, from 10 %: 100 SEK, from 20 %: 300 SEK } from city to fund\n")
    got = [settle(body, {"r": x}).total for x in ("9.99 %", "10 %", "19 %", "20 %", "100 %")]
    assert got == [0, 100, 100, 300, 300]


def test_interpolation_is_linear_and_flat_outside():
    body = ("measure r: share\n"
            "payment p = interpolate(r) { 10 %: 0 SEK, 20 %: 1 000 SEK, 30 %: 1 500 SEK } from city to fund\n")
    got = [settle(body, {"r": x}).total for x in ("0 %", "10 %", "15 %", "25 %", "30 %", "90 %")]
    assert got == [0, 0, 500, 1250, 1500, 1500]


def test_return_limit_cuts_investor_lines_and_reports_the_return():
    body = ("term 2016-01-01 to 2020-12-31\n"
            "investment loan: 1 000 SEK from fund on 2016-01-01\n"
            "measure v: money\n"
            "payment p = v from city to fund due 2018-01-01\n"
            "return limit r: 10 % per year simple from 2016-01-01 to 2018-01-01\n")
    s = settle(body, {"v": "5 000 SEK"})
    # 731 days = 2.0027 years: 1 000 × (1 + 0.10 × 731/365) = 1 200.27 → rounded down to 1 200
    assert s.total == 1200 and s.lines[0].steps[-1].kind == "return limit"
    (ret,) = s.returns
    assert (ret.invested, ret.received, ret.net, ret.limit) == (1000, 1200, 200, 1200)
    assert ret.total_return == Decimal("0.2")


def test_compound_growth_is_exact():
    assert growth_factor(Fraction(1, 10), Fraction(2), True) == Fraction(121, 100)
    assert growth_factor(Fraction(1, 10), Fraction(5, 2), True) == Fraction(121, 100) * Fraction(21, 20)
    assert growth_factor(Fraction(1, 10), Fraction(5, 2), False) == Fraction(5, 4)


def test_negative_payment_is_reported_not_hidden():
    s = settle("measure v: money\npayment p = 100 SEK - v from city to fund", {"v": "300 SEK"})
    assert s.total == -200
    assert [d.code for d in s.diagnostics] == ["E601"]


def test_division_by_zero_is_a_diagnostic():
    m = model("measure n: count\npayment p = 100 SEK / n from city to fund")
    values = load_outcomes(m, text='{"n": 0}', name="o.json")
    with pytest.raises(EvaluationError) as info:
        evaluate(m, values)
    assert info.value.diagnostic.code == "E602"


def test_guarantees_are_evaluated_for_the_outcome():
    body = ("measure v: money\npayment p = v from city to fund\n"
            "guarantee small: total <= 100 SEK\nguarantee mono: total nondecreasing in v\n")
    s = settle(body, {"v": "500 SEK"})
    assert [(g.clause.name, g.holds, g.reason) for g in s.guarantees] == [
        ("small", False, ""), ("mono", None, "monotone")]


def test_evaluation_is_deterministic():
    body = "measure v: money\npayment p = v / 7 from city to fund\ncap total at 50 SEK"
    assert settle(body, {"v": "1 000 SEK"}) == settle(body, {"v": "1 000 SEK"})


def test_a_guarded_division_does_not_fail_the_settlement():
    body = ("measure n: count\ndefine per_head = 1 000 SEK / n\n"
            "payment p = if n > 0 then per_head else 0 SEK from city to fund\n")
    s = settle(body, {"n": 0})
    assert s.total == 0
    assert s.values["per_head"] == "undefined (division by zero for these outcomes)"


def test_a_negative_payment_is_located_on_its_line_after_a_lone_cr():
    """E601 points at the payment's line as the parser counts lines (issue 22: a lone CR ends a line)."""
    from sibdsl import Source, check_source

    text = HEADER.replace("\n", "\r") + "measure v: money\rpayment p = v - 300 SEK from city to fund\r"
    contract, diagnostics = check_source(Source("cr.sib", text))
    assert contract is not None, [d.message for d in diagnostics]
    settlement = compile_contract(contract, Source("cr.sib", text)).evaluate({"v": Fraction(100)})
    (d,) = settlement.diagnostics
    assert d.code == "E601" and d.span.line == text.count("\r", 0, text.index("payment")) + 1 and d.span.column == 1
    assert Source("cr.sib", text).line_text(d.span.line).startswith("payment p")
