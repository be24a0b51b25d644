"""Named tables and whole-number powers (issue 15): declared once, used in several formulas, with a
jump below the first row and a value above the last; `(1 + r) ^ n` exact."""

from __future__ import annotations

from fractions import Fraction

import pytest

from sibdsl import check_source
from sibdsl.evaluate import Evaluator
from sibdsl.parser import parse_text
from sibdsl.source import Source
from sibdsl.syntax import same
from sibdsl.unparse import unparse

HEAD = """contract "Tables"
  currency SEK
  rounding 0.01 SEK half up
party city "City": payer
party fund "Fund": investor
measure attainment: percentage
measure years: count between 0 and 10
"""
TABLES = """table coupon_rate "Coupon": step { below 50 %: 0 %, from 50 %: 2 %, from 75 %: 4 % }
table bonus: linear { below: 0 SEK, 50 %: 100 SEK, 100 %: 300 SEK, above: 1 000 SEK }
payment coupon = coupon_rate(attainment) of 1 000 000 SEK from city to fund
payment coupon_again = coupon_rate(attainment) of 500 000 SEK from city to fund
payment extra = bonus(attainment) from city to fund
payment grown = 1 000 SEK * (1 + 3 %) ^ 5 from city to fund
"""


def settle(text, row):
    model, diagnostics = check_source(Source("t.sib", text))
    assert model is not None, [d.message for d in diagnostics]
    return {ln.payment: Fraction(ln.amount) for ln in Evaluator(model).evaluate(row).lines}


@pytest.mark.parametrize("attainment, coupon, extra", [
    ("0.49", 0, 0),          # below the first row: the jump, nothing
    ("0.5", 20000, 100),     # at the first row
    ("0.75", 40000, 200),    # at a threshold: from it, inclusive; linear in between
    ("1", 40000, 300),       # the last point
    ("1.2", 40000, 1000),    # above the last point: its own value
])
def test_a_named_table_is_declared_once_and_used_twice(attainment, coupon, extra):
    got = settle(HEAD + TABLES, {"attainment": Fraction(attainment), "years": Fraction(0)})
    assert got["coupon"] == coupon and got["coupon_again"] == coupon / 2 and got["extra"] == extra


def test_a_power_with_a_whole_exponent_is_exact():
    got = settle(HEAD + TABLES, {"attainment": Fraction(0), "years": Fraction(5)})
    assert got["grown"] == Fraction("1159.27")  # 1 000 × 1.03⁵ = 1 159.274 07, to the öre


def test_a_negative_exponent_divides():
    text = HEAD + "payment p = 1 000 SEK * (1 + 25 %) ^ -2 from city to fund\n"
    assert settle(text, {"attainment": Fraction(0), "years": Fraction(0)})["p"] == 640


@pytest.mark.parametrize("body, code", [
    ("payment p = coupon_rate(attainment, years) of 1 SEK from city to fund", "E311"),
    ("payment p = coupon_rate(years) of 1 SEK from city to fund", "E312"),
    ("table t2: step { below 40 %: 0 %, from 50 %: 1 % }", "E313"),
    ("payment p = 1 SEK * (1 + 3 %) ^ 2.5 from city to fund", "E314"),
    ("payment p = 1 SEK * (1 + 3 %) ^ years from city to fund", "E310"),
    ("payment p = (2 SEK) ^ 2 from city to fund", "E315"),
    ("table t3: step { below: 0 %, from 50 %: 1 %, from 40 %: 2 % }", "E308"),
])
def test_misuses_have_codes(body, code):
    text = HEAD + TABLES.splitlines()[0] + "\n" + body + "\n"
    _, diagnostics = check_source(Source("t.sib", text))
    assert code in {d.code for d in diagnostics}, [(d.code, d.message) for d in diagnostics]


def test_fmt_round_trips_tables_and_powers():
    tree = parse_text(HEAD + TABLES + "define z = -2 ^ 2 ^ 3 + (2 ^ 3) ^ 2\n")
    assert same(parse_text(unparse(tree)), tree)
    assert "-2 ^ 2 ^ 3 + (2 ^ 3) ^ 2" in unparse(tree)


def test_inline_tiers_stay_valid():
    text = HEAD + "payment p = tiers(attainment) { below: 0 SEK, from 50 %: 10 SEK } from city to fund\n"
    assert settle(text, {"attainment": Fraction("0.6"), "years": Fraction(0)})["p"] == 10


# ---------------------------------------------------------------- whole numbers: counts and days
DAYS = """contract "Days"
  currency SEK
  rounding 1 SEK half up
party city "City": payer
party fund "Fund": investor
measure waited: days between 0 days and 400 days
payment p = waited * 100 SEK / 1 day from city to fund
guarantee exact: p == waited * 100 SEK / 1 day
"""


def test_a_number_of_days_is_whole_in_outcome_files():
    from sibdsl.diagnostics import SibError
    from sibdsl.outcomes import load_outcomes

    model, _ = check_source(Source("d.sib", DAYS))
    assert load_outcomes(model, text='{"waited": 30}', name="o.json")["waited"] == 30
    with pytest.raises(SibError) as err:
        load_outcomes(model, text='{"waited": 2.5}', name="o.json")
    assert "E504" in str(err.value) and "whole number" in str(err.value)


def test_verify_knows_days_are_whole():
    """With fractional days the rounded payment could differ from the exact product by half a krona;
    a number of days is whole, so the guarantee is proved (no one-öre counterexample)."""
    from sibdsl.verify import verify_contract

    model, _ = check_source(Source("d.sib", DAYS))
    verdicts = {v.key: v.status for v in verify_contract(model, timeout=30)}
    assert verdicts["guarantee:exact"] == "proved", verdicts
