"""Investor IRR: exact-rational flows, Decimal powers, bisection to a stated precision."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal, localcontext
from fractions import Fraction

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sibdsl import compile_contract, load_contract, load_outcomes
from sibdsl.report import settlement_json
from sibdsl.returns import PLACES, irr, irr_many

D0 = datetime.date(2016, 8, 1)
UNIT = Decimal(1).scaleb(-PLACES)


def closed_form(invested: Fraction, received: Fraction, days: int) -> Decimal:
    """One flow out, one flow in: (received / invested)^(365/days) − 1."""
    with localcontext() as ctx:
        ctx.prec = 50
        ratio = Decimal(received.numerator) / Decimal(received.denominator) / (
            Decimal(invested.numerator) / Decimal(invested.denominator))
        return (ratio.ln() * 365 / days).exp() - 1


def test_ten_percent_over_one_year_is_exactly_ten_percent():
    assert irr([(D0, Fraction(-100)), (D0 + datetime.timedelta(365), Fraction(110))]) == Decimal("0.1")


def test_nothing_back_is_minus_one_and_nothing_invested_has_no_irr():
    assert irr([(D0, Fraction(-100)), (D0 + datetime.timedelta(365), Fraction(0))]) == -1
    assert irr([(D0, Fraction(100))]) is None


@given(st.integers(1, 10**9), st.integers(1, 3 * 10**9), st.integers(30, 3650))
def test_two_flows_match_the_closed_form(invested, received, days):
    got = irr([(D0, -Fraction(invested, 100)), (D0 + datetime.timedelta(days), Fraction(received, 100))])
    expected = closed_form(Fraction(invested), Fraction(received), days)
    if expected < Decimal("999"):  # near −100 %: −1 to 8 places
        assert abs(got - expected) <= UNIT


@settings(max_examples=50)
@given(st.lists(st.tuples(st.integers(1, 2000), st.integers(0, 10**7)), min_size=1, max_size=5),
       st.integers(10**5, 10**7))
def test_npv_changes_sign_across_the_reported_rate(flows, invested):
    cash = [(D0, Fraction(-invested))] + [(D0 + datetime.timedelta(d), Fraction(a)) for d, a in flows]
    r = irr(cash)
    if r is None or r < Decimal("-0.99") or r > 900:
        return

    def npv(rate: Decimal) -> Decimal:
        with localcontext() as ctx:
            ctx.prec = 50
            return sum((Decimal(a.numerator) * (-(Decimal((d - D0).days) / 365) * (1 + rate).ln()).exp()
                        for d, a in cash), Decimal(0))
    # the NPV falls with the rate for these flows: positive just below, negative just above
    assert npv(r - 2 * UNIT) >= 0 >= npv(r + 2 * UNIT)


def test_vectorised_irr_agrees_with_the_exact_one():
    times = [0.0, 1063 / 365]
    received = np.array([[0.0, 4e6], [0.0, 12e6], [0.0, 0.0], [0.0, 10e6]])
    got = irr_many(times, [10e6, 0.0], received)
    for row, value in zip(received, got):
        exact = irr([(D0, Fraction(-10_000_000)), (datetime.date(2019, 6, 30), Fraction(int(row[1])))])
        assert abs(Decimal(float(value)) - exact) < Decimal("1e-7")


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 3 * 10**7), min_size=1, max_size=20), st.integers(30, 3000),
       st.booleans())
def test_vectorised_irr_both_ways_agrees_with_the_exact_one(amounts, days, two_dates):
    """One date in and one out: the closed form; money back at two dates: bisection. Both agree
    with the exact Decimal IRR (rounded to 8 places) to one unit of its last place, and nothing back
    is −100 %."""
    later = D0 + datetime.timedelta(days=days)
    times = [0.0, days / 365, (days + 200) / 365]
    received = np.array([[0.0, a, 1e6 if two_dates else 0.0] for a in amounts])
    got = irr_many(times, [10e6, 0.0, 0.0], received)
    for row, value in zip(received, got):
        flows = [(D0, Fraction(-10_000_000)), (later, Fraction(int(row[1])))]
        if two_dates:
            flows.append((later + datetime.timedelta(days=200), Fraction(1_000_000)))
        exact = irr(flows)
        if exact is None or exact <= Decimal("-0.999999") or exact >= 1000:
            assert np.isnan(value) or (value == -1.0 and row.sum() == 0)
        else:
            assert abs(Decimal(float(value)) - exact) <= UNIT, (row, value, exact)


def test_eval_reports_the_irr_for_norrkoping():
    contract = load_contract("contracts/norrkoping.sib")
    outcomes = load_outcomes(contract, "contracts/norrkoping.outcomes.json")
    data = settlement_json(compile_contract(contract).evaluate(outcomes))
    (lsv,) = data["returns"]
    expected = closed_form(Fraction(10_000_000), Fraction(4_000_000), (datetime.date(2019, 6, 30) - D0).days)
    assert abs(Decimal(lsv["irr"]) - expected) <= UNIT
    assert json.loads(json.dumps(data))["returns"][0]["irr"].startswith("-0.2699")
