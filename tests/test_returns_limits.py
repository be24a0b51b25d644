"""Return limits that mean a rate of return (issue 14): investments as dated drawdowns, limits that
bind whom they name, the weighted cut, the reports, the proofs, and an independent IRR.

- Worked by hand: a loan of 1 000 repaid 600 + 600 a year apart, limited to 8 % a year.
- Exactness: discount factors are exact where rational and bounded in the safe direction where not.
- Property: for random contracts with investors, drawdowns and payments at random dates, the IRR of
  the settled flows, computed here independently (bisection on Fractions), never exceeds the rate.
- Whom a limit binds: a limit for one class does not cut another (the bug the issue reports).
- The three back ends agree on contracts where a weighted cut acts; `sibc verify` proves the limit
  as the present-value inequality; eval reports per investor and class in text and JSON.
"""

from __future__ import annotations

import datetime
import json
from decimal import Decimal
from fractions import Fraction

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sibdsl import Source, check_source, compile_contract
from sibdsl.cli import main
from sibdsl.parser import parse_text
from sibdsl.semantics.program import StepKind, lower
from sibdsl.semantics.returnlimits import discount, simplest_between, true_discount, year_fraction
from sibdsl.unparse import unparse
from sibdsl.verify import PROVED, verify_contract

from .test_semantics import assert_z3_same
from .test_vector import assert_same
from .conftest import ROOT as ROOT_DIR

HEAD = """contract "Returns"
  currency SEK
  rounding 1 SEK half up
party city "City": payer
party inv "Investor": investor
party other "Other": investor
measure x "X": money between 0 SEK and 5 000 SEK
"""


def checked(text: str):
    contract, diagnostics = check_source(Source("t.sib", text))
    assert contract is not None and not [d for d in diagnostics if d.is_error], [d.message for d in diagnostics]
    return contract


def settle(text: str, **outcomes):
    return compile_contract(checked(text)).evaluate({k: Fraction(v) for k, v in outcomes.items()})


TWO_PAYMENTS = HEAD + """investment loan: 1 000 SEK from inv on 2020-01-01
payment p1 = x from city to inv due 2021-01-01
payment p2 = x from city to inv due 2022-01-01
"""


# ---------------------------------------------------------------- worked by hand
def test_a_rate_of_return_cuts_the_last_payment_in_present_value():
    # 600/1.08^(366/365) + 600/1.08^2 > 1 000: the excess in present value, carried to 2022-01-01,
    # is 81.8…; rounded up to 82, so p2 = 518 and the IRR is below 8 %
    s = settle(TWO_PAYMENTS + "return limit r: 8 % per year\n", x=600)
    assert [ln.exact for ln in s.lines] == [600, 518]
    assert [st.kind for st in s.lines[1].steps] == ["computed", "return limit"]
    assert s.returns[0].irr < Decimal("0.08") and s.returns[0].limits == ("r",)
    # one krona more would break it
    pv = 600 * true_discount_of("compound", "2021-01-01") + 519 * true_discount_of("compound", "2022-01-01")
    assert pv > 1000


def true_discount_of(kind: str, date: str) -> Decimal:
    contract = checked(TWO_PAYMENTS + f"return limit r: 8 % per year {kind}\n")
    return true_discount(contract.return_limits[0], datetime.date(2020, 1, 1), datetime.date.fromisoformat(date))


def test_simple_interest_is_exact():
    # 600/(1 + 0.08·366/365) + a/(1.16) ≤ 1 000 → a ≤ 515.28…: p2 = 515
    s = settle(TWO_PAYMENTS + "return limit r: 8 % per year simple\n", x=600)
    assert [ln.exact for ln in s.lines] == [600, 515]
    limit = checked(TWO_PAYMENTS + "return limit r: 8 % per year simple\n").return_limits[0]
    assert discount(limit, datetime.date(2020, 1, 1), datetime.date(2022, 1, 1), upper=True) == \
        1 / (1 + Fraction(8, 100) * Fraction(731, 365))


def test_a_limit_that_is_not_reached_changes_nothing():
    s = settle(TWO_PAYMENTS + "return limit r: 8 % per year\n", x=500)
    assert [ln.exact for ln in s.lines] == [500, 500] and s.returns[0].limits == ()


def test_a_rate_over_a_period_keeps_the_old_ceiling_with_exact_compounding():
    text = HEAD + """investment loan: 1 000 000 SEK from inv on 2020-01-01
payment p = x * 1000 from city to inv due 2022-07-01
return limit r: 8 % per year from 2020-01-01 to 2022-07-01
"""
    # 1 000 000 × 1.08^(912/365), rounded down: a ceiling in money
    step = next(s for s in lower(checked(text)).steps if s.kind is StepKind.RETURN_LIMIT)
    assert not step.weights
    exact_growth = Decimal(1000000) / true_discount(checked(text).return_limits[0], datetime.date(2020, 1, 1),
                                                    datetime.date(2022, 7, 1))
    assert step.limit == int(exact_growth)
    assert settle(text, x=5000).total == int(exact_growth)


def test_day_counts():
    a, b = datetime.date(2020, 1, 31), datetime.date(2021, 3, 31)
    assert year_fraction("act/365", a, b) == Fraction(425, 365)
    assert year_fraction("act/360", a, b) == Fraction(425, 360)
    assert year_fraction("30e/360", a, b) == Fraction(360 + 60, 360)


# ---------------------------------------------------------------- exactness of the factors
@given(st.integers(1, 30), st.integers(1, 3000))
@settings(max_examples=60, deadline=None)
def test_irrational_factors_are_bounded_in_the_safe_direction(percent, days):
    contract = checked(TWO_PAYMENTS + f"return limit r: {percent} % per year\n")
    limit = contract.return_limits[0]
    start = datetime.date(2020, 1, 1)
    date = start + datetime.timedelta(days=days)
    true = true_discount(limit, start, date)
    up, down = discount(limit, start, date, upper=True), discount(limit, start, date, upper=False)
    if days % 365 == 0:  # whole years: exact
        assert up == down == Fraction(100, 100 + percent) ** (days // 365)
        return
    assert Decimal(down.numerator) / down.denominator < true < Decimal(up.numerator) / up.denominator
    assert up - down < Fraction(1, 10**13)


@given(st.fractions(min_value=Fraction(1, 1000), max_value=100), st.fractions(min_value=0, max_value=1))
def test_the_simplest_fraction_lies_in_the_interval(lo, width):
    hi = lo + width
    f = simplest_between(lo, hi)
    assert lo <= f <= hi
    assert all(not (lo <= Fraction(n, d) <= hi) for d in range(1, min(f.denominator, 40)) for n in
               range(int(lo * d), int(hi * d) + 2))


# ---------------------------------------------------------------- an independent IRR
def independent_irr(flows: list[tuple[datetime.date, Fraction]], basis: int = 365) -> Fraction:
    """The IRR by bisection on exact rationals: NPV(r) = Σ a·(1+r)^(−t), with (1+r)^t for
    fractional t bounded by exact rational powers of a finely bisected r (floats never decide)."""
    start = min(d for d, _ in flows)
    from decimal import localcontext

    def npv(r: Decimal) -> Decimal:
        with localcontext() as ctx:
            ctx.prec = 50
            log = (1 + r).ln()
            return sum((Decimal(a.numerator) / a.denominator * (-(Decimal((d - start).days) / basis) * log).exp()
                        for d, a in flows), Decimal(0))

    lo, hi = Decimal("-0.99"), Decimal(10)
    for _ in range(80):
        mid = (lo + hi) / 2
        if npv(mid) > 0:
            lo = mid
        else:
            hi = mid
    return Fraction(hi)


DATES = [datetime.date(2020, 1, 1) + datetime.timedelta(days=d) for d in (0, 45, 200, 365, 500, 800, 1100, 1461)]


@st.composite
def investor_contracts(draw):
    draws = sorted(draw(st.lists(st.sampled_from(DATES[:4]), min_size=1, max_size=3, unique=True)))
    amounts = [draw(st.integers(1, 40)) * 25_000 for _ in draws]
    total = sum(amounts)
    drawn = ", ".join(f"{a} SEK on {d}" for a, d in zip(amounts, draws))
    # conventional flows (all money out before any comes back): the IRR is unique, and the limit's
    # present-value statement is the same as "the IRR is at most R"
    pays = sorted(draw(st.lists(st.sampled_from([d for d in DATES if d > draws[-1]]), min_size=1, max_size=4,
                                unique=True)))
    rate = draw(st.sampled_from([2, 5, 8, 13]))
    kind = draw(st.sampled_from(["", " compound", " simple"]))
    text = HEAD.replace("between 0 SEK and 5 000 SEK", "between 0 SEK and 3 000 000 SEK") + \
        f"investment loan: {total} SEK from inv drawn {drawn}\n"
    for i, d in enumerate(pays):
        text += f"payment p{i} = x * {draw(st.integers(1, 3))} / 3 from city to inv due {d}\n"
    text += f"return limit r: {rate} % per year{kind}\n"
    return text, rate, kind.strip() or "compound", draws, amounts


@given(investor_contracts(), st.integers(0, 3_000_000))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_the_irr_of_the_settled_flows_never_exceeds_the_limit(case, x):
    text, rate, kind, draws, amounts = case
    settlement = settle(text, x=x)
    flows = [(d, -Fraction(a)) for d, a in zip(draws, amounts)] + [(ln.due, Fraction(ln.exact)) for ln in settlement.lines]
    if not any(a > 0 for _, a in flows):
        return
    R = Fraction(rate, 100)
    if kind == "compound":
        assert independent_irr(flows) <= R + Fraction(1, 10**12)
    else:  # simple: Σ receipts / (1 + R·t) ≤ Σ drawdowns / (1 + R·t), exactly
        start = draws[0]

        def pv(d, a):
            return a / (1 + R * Fraction((d - start).days, 365))
        assert sum(pv(d, a) for d, a in flows) <= 0
    # and the cut takes no more than it must: one krona more on the last cut line breaks the limit
    cut = [ln for ln in settlement.lines if any(s.kind == "return limit" for s in ln.steps)]
    if cut and kind == "compound":
        more = [(d, a + (1 if d == cut[0].due else 0)) for d, a in flows]
        assert independent_irr(more) > R - Fraction(1, 10**9)


# ---------------------------------------------------------------- whom a limit binds
CLASSES = HEAD + """investment protected: 1 000 SEK from inv on 2020-01-01
  class senior
investment at_risk: 1 000 SEK from other on 2020-01-01
  class junior
payment p1 = x from city to inv due 2022-01-01
payment p2 = x from city to other due 2022-01-01
return limit senior_limit: 2 % per year for class senior
return limit junior_limit: 20 % per year for class junior
"""


def test_a_limit_for_one_class_does_not_cut_another():
    s = settle(CLASSES, x=1300)
    assert [ln.exact for ln in s.lines] == [1040, 1300]  # 1 000 × 1.02^(731/365) = 1 040.4…
    by = {r.investor: r for r in s.returns}
    assert by["inv"].limits == ("senior_limit",) and by["other"].limits == ()
    assert [r.investor for r in s.class_returns] == ["class senior", "class junior"]


def test_a_class_limit_binds_the_class_flows_together():
    text = HEAD + """investment a: 1 000 SEK from inv on 2020-01-01
  class senior
investment b: 1 000 SEK from other on 2020-01-01
  class senior
payment p1 = x from city to inv due 2021-01-01
payment p2 = x from city to other due 2021-01-01
return limit pool: 10 % in total for class senior
"""
    s = settle(text, x=1500)
    assert [ln.exact for ln in s.lines] == [1500, 700]  # together at most 2 200: the later line gives
    assert s.class_returns[0].received == 2200


# ---------------------------------------------------------------- the back ends and the proofs
ACTING = HEAD.replace("between 0 SEK and 5 000 SEK", "between 0 SEK and 2 000 SEK") + """\
investment loan: 1 000 SEK from inv drawn 400 SEK on 2020-01-01, 600 SEK on 2020-07-01
  committed 1 500 SEK
payment p1 = x from city to inv due 2021-01-01
payment p2 = x / 3 from city to inv due 2022-06-30
payment p3 = 100 SEK from city to other due 2021-01-01
return limit r: 7 % per year
return limit m: 1.3 times committed for inv
"""


def test_the_three_back_ends_agree_where_the_weighted_cut_acts():
    contract = checked(ACTING)
    rows = [{"x": Fraction(v)} for v in (0, 500, 900, 1234, 1900, 2000)]
    assert_same(contract, rows)
    assert_z3_same(contract, rows)
    assert settle(ACTING, x=1900).returns[0].limits == ("r",)


def test_verify_proves_the_rate_and_the_multiple():
    verdicts = {v.key: v for v in verify_contract(checked(ACTING))}
    assert verdicts["return:r"].status == PROVED and "rate of return" in verdicts["return:r"].description
    assert verdicts["return:m"].status == PROVED


def test_verify_finds_a_limit_the_settlement_breaks(monkeypatch):
    # a cut that does nothing: verify must find outcomes where the rate is exceeded, and the
    # evaluator (with the same broken cut) must reproduce it
    from sibdsl.semantics import run as driver

    monkeypatch.setattr(driver, "weighted_cut", lambda b, amounts, weights, excess: (list(amounts), b.const(False)))
    verdicts = {v.key: v for v in verify_contract(checked(ACTING))}
    assert verdicts["return:r"].status == "violated"


# ---------------------------------------------------------------- syntax and reports
def test_the_new_syntax_survives_formatting():
    tree = parse_text(ACTING + CLASSES.split("payment p1", 1)[0].split("\n", 7)[-1])
    assert parse_text(unparse(tree)) == tree


def test_eval_reports_investors_and_classes(tmp_path):
    (tmp_path / "c.sib").write_text(CLASSES, encoding="utf-8")
    (tmp_path / "o.json").write_text('{"x": 1300}', encoding="utf-8")
    runner = CliRunner()
    text = runner.invoke(main, ["eval", str(tmp_path / "c.sib"), "--outcomes", str(tmp_path / "o.json"),
                                "--no-trace"])
    assert text.exit_code == 0, text.output
    assert "inv: drawn 1 000 SEK, received 1 040 SEK, net 40 SEK (4.00 %" in text.output
    assert "IRR 1.98 % a year, multiple 1.04)" in text.output
    assert "cut by the return limit senior_limit" in text.output
    assert "class junior: drawn 1 000 SEK, received 1 300 SEK" in text.output
    out = runner.invoke(main, ["eval", str(tmp_path / "c.sib"), "--outcomes", str(tmp_path / "o.json"),
                               "--format", "json"])
    data = json.loads(out.output)
    inv = data["returns"][0]
    assert (inv["drawn"], inv["received"], inv["multiple"], inv["loss"], inv["limits_acted"], inv["class"]) == \
        ("1000", "1040", "1.0400", "0", ["senior_limit"], "senior")
    assert Decimal(inv["irr"]) <= Decimal("0.02")
    assert [c["investor"] for c in data["class_returns"]] == ["class senior", "class junior"]


def test_loss_and_commitment_in_the_report():
    s = settle(ACTING, x=0)
    r = s.returns[0]
    assert (r.invested, r.committed, r.received, r.loss, r.irr) == (1000, 1500, 0, 1000, Decimal(-1))


@pytest.mark.parametrize("code, text", [
    ("E420", "return limit r: 8 % per year for nobody\n"),
    ("E421", "return limit r: 8 % per year for class nobody\n"),
    ("E426", "return limit r: 1.2 times drawn day count act/360\n"),
])
def test_bad_limits_are_refused(code, text):
    _, diagnostics = check_source(Source("t.sib", TWO_PAYMENTS + text))
    assert code in {d.code for d in diagnostics}


def test_simulate_reports_the_multiple_and_keeps_the_irr_under_the_rate(tmp_path):
    from .test_simulate import SPEC_TOML

    text = (ROOT_DIR / "contracts" / "norrkoping.sib").read_text(encoding="utf-8").replace(
        ": 8 % per year\n", ": 5 % per year\n")
    assert ": 5 % per year\n" in text  # the limit the test is about is the one replaced
    (tmp_path / "c.sib").write_text(text, encoding="utf-8")
    (tmp_path / "s.toml").write_text(SPEC_TOML, encoding="utf-8")
    out = CliRunner().invoke(main, ["simulate", str(tmp_path / "c.sib"), "--scenarios", str(tmp_path / "s.toml"),
                                    "-n", "4000", "--format", "json"], catch_exceptions=False)
    report = json.loads(out.stdout)
    lsv = report["investors"]["lsv"]
    assert Decimal(lsv["irr"]["p99"]) <= Decimal("0.05")  # the limit acts: the rate, never above it
    assert Decimal(report["events"]["return limit max_return"]) > 0
    assert Decimal(lsv["multiple"]["p50"]) == (Decimal(lsv["received"]["p50"]) / Decimal(lsv["invested"])).quantize(
        Decimal("0.0001"))
    assert lsv["class"] is None


def test_the_weighted_cut_takes_from_the_last_declared_line_first(monkeypatch):
    from sibdsl.semantics import run as driver

    assert [ln.exact for ln in settle(TWO_PAYMENTS + "return limit r: 8 % per year\n", x=600).lines] == [600, 518]
    monkeypatch.setattr(driver, "giving_order", lambda group: tuple(group))  # a reversed cut is caught
    assert [ln.exact for ln in settle(TWO_PAYMENTS + "return limit r: 8 % per year\n", x=600).lines] != [600, 518]
