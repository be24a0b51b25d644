"""Coupons (issue 14): interest on drawn capital, lowered to a payment per period."""

from __future__ import annotations

import datetime
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sibdsl import Source, check_source, compile_contract, load_contract
from sibdsl import model as m
from sibdsl.check.coupon import accrued
from sibdsl.returns import irr
from sibdsl.semantics.program import StepKind, lower
from sibdsl.values import Rounding, exact

from .conftest import ROOT

VARIANT = ROOT / "contracts" / "variants" / "coupon_loan.sib"

CONTRACT = '''contract "Coupon"
  currency SEK
  rounding 1 SEK half up
party city "City": payer
party vehicle "Vehicle": intermediary
party bank "Bank": investor
term 2020-01-01 to 2023-12-31
periods year "Years": y2020 2020-01-01 to 2020-12-31, y2021 2021-01-01 to 2021-12-31,
  y2022 2022-01-01 to 2022-12-31
investment loan: 1 000 000 SEK from bank drawn 700 000 SEK on 2020-01-01, 300 000 SEK on 2020-10-01
measure attainment: share per year between 0 % and 100 %
table coupon_rate: step { below: 0 %, from 40 %: 3 %, from 60 %: 6 % }
payment principal = 1 000 000 SEK from city to bank due 2022-12-31
coupon interest: coupon_rate(attainment) per year on loan per year from vehicle
  at least 2 % during y2020 through y2021
'''


def checked(text: str) -> m.Contract:
    model, diagnostics = check_source(Source("coupon.sib", text))
    assert model is not None, [d.message for d in diagnostics]
    return model


def codes(text: str) -> list[str]:
    return [d.code for d in check_source(Source("coupon.sib", text))[1]]


def test_the_variant_settles_its_coupons_with_the_minimum_and_the_drawdowns():
    s = compile_contract(load_contract(VARIANT)).evaluate(
        {"attainment": {"y2021": Fraction(1, 10), "y2022": Fraction(1, 2), "y2023": Fraction(7, 10)}})
    coupons = {ln.period: ln.exact for ln in s.lines if ln.payment == "interest"}
    # 2021: 2 % (the table gives 0 %) on 600 000 for the year and 400 000 for half of it (30E/360)
    assert coupons == {"y2021": 16_000, "y2022": 30_000, "y2023": 60_000}
    due = {ln.period: ln.due for ln in s.lines if ln.payment == "interest"}
    assert due["y2021"] == datetime.date(2022, 1, 30)  # due 30 days after the period's end
    (bank,) = s.returns
    assert bank.received == 1_106_000  # the coupons are receipts of the investor


def test_a_coupon_is_a_payment_of_the_settlement_program_not_a_new_step():
    program = lower(checked(CONTRACT))
    assert [ln.period for ln in program.lines if ln.payment == "interest"] == ["y2020", "y2021", "y2022"]
    assert {ln.payer for ln in program.lines if ln.payment == "interest"} == {"vehicle"}
    assert {ln.recipient for ln in program.lines if ln.payment == "interest"} == {"bank"}
    assert {st.kind for st in program.steps} == {StepKind.COMPUTE}
    assert {st.clause.kind for st in program.steps if program.lines[st.line].payment == "interest"} == {"coupon"}


@pytest.mark.parametrize("day_count, expected", [
    ("act/365", Fraction(366, 365)),  # 2020 is a leap year: 366 days at 1/365 each
    ("act/360", Fraction(366, 360)),
    ("30e/360", Fraction(1)),
])
def test_the_capital_accrued_in_a_period_follows_the_day_count(day_count, expected):
    inv = m.Investment("loan", None, Fraction(100), "bank", datetime.date(2020, 1, 1), m.ClauseRef("investment", "loan"))
    period = m.Period("y2020", datetime.date(2020, 1, 1), datetime.date(2020, 12, 31))
    assert accrued(inv, period, day_count) == 100 * expected


def test_capital_drawn_within_a_period_accrues_from_its_drawdown():
    contract = checked(CONTRACT)
    (coupon,) = contract.coupons
    accrual = dict(coupon.accrued)
    # 700 000 for the year (366/365) and 300 000 from 1 October (92 days to the year's end)
    assert accrual["y2020"] == Fraction(700_000 * 366 + 300_000 * 92, 365)
    assert accrual["y2021"] == 1_000_000


attainments = st.fractions(min_value=0, max_value=1, max_denominator=100)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.tuples(attainments, attainments, attainments))
def test_a_coupon_is_never_below_its_minimum_and_is_the_table_rate_above_it(values):
    contract = checked(CONTRACT)
    (coupon,) = contract.coupons
    accrual = dict(coupon.accrued)
    periods = ("y2020", "y2021", "y2022")
    s = compile_contract(contract).evaluate({"attainment": dict(zip(periods, values))})
    paid = {ln.period: ln.exact for ln in s.lines if ln.payment == "interest"}
    half_up = Rounding(Fraction(1), "half up")
    for period, a in zip(periods, values):
        table = Fraction(6, 100) if a >= Fraction(6, 10) else Fraction(3, 100) if a >= Fraction(4, 10) else 0
        minimum = Fraction(2, 100) if period != "y2022" else 0
        assert paid[period] == exact(half_up.apply(max(table, minimum) * accrual[period]))
        assert paid[period] >= exact(half_up.apply(minimum * accrual[period]))
    # the investor's IRR is computed from flows that include every coupon
    (bank,) = s.returns
    assert sorted(a for d, a in bank.cashflows if a > 0) == sorted([1_000_000, *(a for a in paid.values() if a > 0)])
    assert irr(bank.cashflows) is not None


def test_a_return_limit_cuts_the_coupons_it_counts_as_receipts():
    text = CONTRACT + "return limit two: 2 % in total\n"
    s = compile_contract(checked(text)).evaluate(
        {"attainment": {"y2020": Fraction(7, 10), "y2021": Fraction(7, 10), "y2022": Fraction(7, 10)}})
    (bank,) = s.returns
    assert bank.received == 1_020_000
    assert sum(ln.exact for ln in s.lines if ln.payment == "interest") == 20_000


def test_the_variant_verifies_without_unknowns():
    from sibdsl.verify import verify_contract

    results = verify_contract(load_contract(VARIANT))
    verdicts = {r.key: r.status for r in results}
    assert verdicts and set(verdicts.values()) == {"proved"}
    assert verdicts["guarantee:minimum_coupon"] == "proved"


@pytest.mark.parametrize("change, code", [
    (("on loan per", "on lone per"), "E480"),
    (("from vehicle", "from bank"), "E481"),
    (("coupon_rate(attainment) per year", "120 % per year"), "E482"),
    (("at least 2 %", "at least 0 %"), "E483"),
    (("on loan per year from", "on loan from"), "E484"),
    (("coupon_rate(attainment) per year", "5 % per year"), "W480"),
    (("300 000 SEK on 2020-10-01", "300 000 SEK on 2023-03-01"), "W481"),
])
def test_bad_coupons_get_their_code(change, code):
    text = CONTRACT.replace(*change)
    assert text != CONTRACT
    assert code in codes(text)


def test_a_coupon_may_not_be_read_in_a_formula_only_in_a_guarantee():
    (d,) = check_source(Source("coupon.sib", CONTRACT + "payment extra = interest from city to bank due 2022-12-31\n"))[1]
    assert d.code == "E309"
    assert d.hint == "in a formula, read what the coupon was paid so far: `to_date(interest)` or `previous(interest)`"
    assert codes(CONTRACT + "guarantee paid: interest >= 0 SEK\n") == []


def test_a_cap_names_a_coupon_as_it_names_a_payment():
    text = CONTRACT + "cap ci: interest per period at 20 000 SEK\n"
    s = compile_contract(checked(text)).evaluate(
        {"attainment": {"y2020": Fraction(7, 10), "y2021": Fraction(7, 10), "y2022": Fraction(1, 10)}})
    paid = {ln.period: ln.exact for ln in s.lines if ln.payment == "interest"}
    assert paid == {"y2020": 20_000, "y2021": 20_000, "y2022": 0}  # 6 % of ≈ 1 M, capped; 0 % in 2022


def test_a_minimum_then_a_day_count_leaves_a_number_of_days_a_quantity():
    """`at least` takes a percentage, not a formula: `day count` may follow it, and the lexer must still
    read `1 day` in any formula as a quantity (a formula there made `day` a keyword after a number)."""
    text = CONTRACT.replace("  at least 2 % during y2020 through y2021\n",
                            "  at least 2 %\n  day count act/360\n") + (
        "measure waited: days between 0 days and 400 days\n"
        "payment p = waited * 100 SEK / 1 day from city to bank due 2022-12-31\n")
    contract = checked(text)
    assert contract.coupons[0].day_count == "act/360" and contract.coupons[0].minimum == Fraction(2, 100)


# ---------------------------------------------------------------- a coupon's running values
RUNNING = CONTRACT + '''payment bonus = if to_date(interest) >= 40 000 SEK then 10 % of previous(interest) else 0 SEK
  from city to bank per year
guarantee bonus_small: bonus <= 10 % of interest
'''
HIGH = {"attainment": {"y2020": Fraction(7, 10), "y2021": Fraction(7, 10), "y2022": Fraction(7, 10)}}
LOW = {"attainment": {"y2020": Fraction(1, 10), "y2021": Fraction(1, 10), "y2022": Fraction(1, 10)}}


def test_what_a_coupon_was_paid_so_far_is_read_like_a_payments():
    """`to_date(COUPON)` and `previous(COUPON)` are the coupon's lines as paid: a coupon is a payment
    per period (it was E309 before, as if it were read as a total)."""
    contract = checked(RUNNING)
    interest = dict(contract.coupons[0].accrued)
    s = compile_contract(contract).evaluate(HIGH)
    paid = {ln.period: ln.exact for ln in s.lines if ln.payment == "interest"}
    bonus = {ln.period: ln.exact for ln in s.lines if ln.payment == "bonus"}
    # 6 % of 700 000 × 366/365 + 300 000 × 92/365 in 2020 (act/365)
    assert paid["y2020"] == exact(Rounding(Fraction(1), "half up").apply(Fraction(6, 100) * interest["y2020"]))
    assert paid["y2020"] == 46_652  # 6 % × (701 917.81 + 75 616.44)
    # 2020: nothing before; 2021: 46 652 paid to date ≥ 40 000, so 10 % of it; 2022: 10 % of 2021's
    assert bonus == {"y2020": 0, "y2021": exact(Rounding(Fraction(1), "half up").apply(Fraction(paid["y2020"], 10))),
                     "y2022": exact(Rounding(Fraction(1), "half up").apply(Fraction(paid["y2021"], 10)))}
    low = compile_contract(contract).evaluate(LOW)  # 2 % minimum, 0 % in 2022: 20 000 a year at most
    assert {ln.period: ln.exact for ln in low.lines if ln.payment == "bonus"} == {"y2020": 0, "y2021": 0,
                                                                                   "y2022": 0}


def test_a_coupons_running_values_agree_in_every_back_end():
    from sibdsl.verify import verify_contract

    from .test_semantics import assert_z3_same
    from .test_vector import assert_same

    contract = checked(RUNNING)
    mid = {"attainment": {"y2020": Fraction(1, 2), "y2021": Fraction(9, 10), "y2022": Fraction(0)}}
    assert_same(contract, [HIGH, LOW, mid])  # vectorised = scalar
    assert_z3_same(contract, [HIGH, LOW, mid])  # z3 = scalar
    verdicts = {r.key: r.status for r in verify_contract(contract)}
    assert verdicts["guarantee:bonus_small"] == "proved"


def test_a_coupons_rate_may_read_what_an_earlier_payment_paid():
    text = CONTRACT.replace("coupon interest: coupon_rate(attainment) per year",
                            "payment fee = 1 000 SEK from city to bank per year\n"
                            "coupon interest: (if to_date(fee) > 0 SEK then 6 % else 3 %) per year")
    contract = checked(text)
    s = compile_contract(contract).evaluate(LOW)
    accrual = dict(contract.coupons[0].accrued)
    paid = {ln.period: ln.exact for ln in s.lines if ln.payment == "interest"}
    half_up = Rounding(Fraction(1), "half up")
    assert paid == {"y2020": exact(half_up.apply(Fraction(3, 100) * accrual["y2020"])),
                    "y2021": exact(half_up.apply(Fraction(6, 100) * accrual["y2021"])),
                    "y2022": exact(half_up.apply(Fraction(6, 100) * accrual["y2022"]))}
    from .test_semantics import assert_z3_same
    from .test_vector import assert_same

    assert_same(contract, [LOW, HIGH])
    assert_z3_same(contract, [LOW, HIGH])


@pytest.mark.parametrize("extra, code", [
    # read before it is settled: the coupon is declared after the payment that reads it
    (("payment early = to_date(later) from city to bank per year\n"
      "coupon later: 5 % per year on loan per year from city\n"), "E449"),
    # a repayment is paid once: it has no periods to add up
    (("repayment back: principal of loan from city due 2022-12-31\n"
      "payment after = to_date(back) from city to bank per year\n"), "E445"),
])
def test_a_running_value_of_an_instrument_read_too_early_or_without_periods_is_refused(extra, code):
    assert code in codes(CONTRACT + extra)


# ---------------------------------------------------------------- the coupon's audit trail
def _recompute(detail: str) -> Fraction:
    """The amount a reader works out from a coupon line's trail: rate × the drawdowns × their days."""
    import re

    rate = Fraction(re.match(r"([\d.]+) % a year", detail).group(1)) / 100
    parts = re.findall(r"([\d ]+) SEK × (\d+)/(\d+) from \d{4}-\d\d-\d\d", detail)
    return rate * sum(Fraction(a.replace(" ", "")) * Fraction(int(d), int(b)) for a, d, b in parts)


def test_a_coupon_lines_trail_shows_rate_capital_days_and_the_minimum_when_it_acted():
    s = compile_contract(load_contract(VARIANT)).evaluate(
        {"attainment": {"y2021": Fraction(1, 10), "y2022": Fraction(1, 2), "y2023": Fraction(7, 10)}})
    trail = {ln.period: ln.trail for ln in s.lines if ln.payment == "interest"}
    (kind, clause, _, amount, detail), = trail["y2021"]
    assert (kind, clause.kind, amount) == ("computed", "coupon", 16_000)
    # the table's rate is 0 %: the minimum is what was paid, and the trail says so
    assert str(detail) == ("2 % a year (the minimum: at least 2 % in this period) × 800 000 SEK accrued "
                           "(600 000 SEK × 360/360 from 2021-01-01 + 400 000 SEK × 180/360 from 2021-07-01, 30E/360)")
    # 2022: the table's 3 % is above the minimum, which is not mentioned
    assert str(trail["y2022"][0][4]).startswith("3 % a year × 1 000 000 SEK accrued (600 000 SEK × 360/360 from "
                                                "2022-01-01 + 400 000 SEK × 360/360 from 2022-01-01, 30E/360)")
    for period, steps in trail.items():
        assert _recompute(str(steps[0][4])) == steps[0][3], period


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.tuples(attainments, attainments, attainments))
def test_any_coupon_line_is_recomputed_from_its_trail(values):
    """act/365 and a leap year: the trail's figures give the exact amount before rounding, and the
    rounding it states gives the amount paid."""
    import re

    contract = checked(CONTRACT)
    s = compile_contract(contract).evaluate({"attainment": dict(zip(("y2020", "y2021", "y2022"), values))})
    half_up = Rounding(Fraction(1), "half up")
    for ln in (ln for ln in s.lines if ln.payment == "interest"):
        (_, _, _, amount, detail), *_ = ln.trail
        said = str(detail)
        raw = _recompute(said)
        assert exact(half_up.apply(raw)) == amount == ln.exact, said
        assert ("rounded half up" in said) == (raw != amount), said
        assert not re.search(r"\d[.]\d{3}\d* SEK", said), said  # money to the cent at most
        minimum = Fraction(2, 100) if ln.period != "y2022" else None
        assert ("(the minimum: at least 2 % in this period)" in said) == (
            minimum is not None and raw == minimum * dict(contract.coupons[0].accrued)[ln.period]), said


def test_a_coupon_period_before_any_drawdown_says_nothing_accrued():
    text = CONTRACT.replace("drawn 700 000 SEK on 2020-01-01, 300 000 SEK on 2020-10-01",
                            "drawn 1 000 000 SEK on 2021-03-01")
    s = compile_contract(checked(text)).evaluate(HIGH)
    (line,) = [ln for ln in s.lines if ln.payment == "interest" and ln.period == "y2020"]
    assert line.exact == 0 and str(line.trail[0][4]) == "nothing drawn by the period's end: no capital accrued"


def test_eval_json_carries_the_coupons_trail(tmp_path):
    import json

    from click.testing import CliRunner

    from sibdsl.cli import main

    (tmp_path / "o.json").write_text(json.dumps({"attainment": {"y2021": 0.1, "y2022": 0.5, "y2023": 0.7}}))
    result = CliRunner().invoke(main, ["eval", str(VARIANT), "--outcomes", str(tmp_path / "o.json"),
                                       "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    (line,) = [ln for ln in data["lines"] if ln["payment"] == "interest" and ln["period"] == "y2021"]
    assert line["steps"][0]["detail"].startswith("2 % a year (the minimum: at least 2 % in this period) × 800 000 SEK")
