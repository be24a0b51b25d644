"""Principal repaid on an outcome condition with a minimum share, and early redemption (issue 14)."""

from __future__ import annotations

import datetime
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sibdsl import Source, check_source, compile_contract, load_contract
from sibdsl import model as m
from sibdsl.semantics.program import StepKind, lower
from sibdsl.verify import verify_contract

from .conftest import ROOT

VARIANT = ROOT / "contracts" / "variants" / "principal_at_risk.sib"


def checked(text: str) -> m.Contract:
    model, diagnostics = check_source(Source("p.sib", text))
    assert model is not None, [d.message for d in diagnostics]
    return model


def codes(text: str) -> list[str]:
    return [d.code for d in check_source(Source("p.sib", text))[1]]


def settle(outcomes: dict):
    return compile_contract(load_contract(VARIANT)).evaluate(outcomes)


def paid(s) -> dict:
    return {(ln.payment, ln.period): ln.exact for ln in s.lines}


@pytest.mark.parametrize("reduction, principal", [
    (Fraction(45, 100), 1_000_000),  # in full
    (Fraction(40, 100), 1_000_000),  # the threshold is met
    (Fraction(39, 100), 780_000),  # twice the reduction, above the minimum
    (Fraction(30, 100), 750_000),  # twice the reduction is 60 %: the minimum, 75 %
    (Fraction(0), 750_000),
])
def test_the_principal_is_repaid_in_full_on_the_outcome_else_a_share_never_below_the_minimum(reduction, principal):
    s = settle({"reduction": reduction, "terminated": False})
    assert paid(s)[("principal", None)] == principal
    assert paid(s)[("early", None)] == 0
    assert [paid(s)[("interest", y)] for y in ("y2013", "y2014", "y2015")] == [50_000, 50_000, 50_000]


def test_an_early_redemption_pays_its_share_and_ends_every_later_payment_to_the_investor():
    s = settle({"reduction": Fraction(45, 100), "terminated": True})
    lines = paid(s)
    assert lines[("early", None)] == 800_000
    assert lines[("interest", "y2013")] == 50_000  # due 2013-12-31, before the redemption (2014-06-30)
    assert lines[("interest", "y2014")] == lines[("interest", "y2015")] == lines[("principal", None)] == 0
    gates = [st for ln in s.lines for st in ln.steps if st.clause.name == "early" and st.kind != "computed"]
    assert {st.kind for st in gates} >= {"gate failed"}
    (lender,) = s.returns
    assert lender.received == 850_000  # the IRR report counts the redemption as received


def test_a_redemption_is_lowered_to_a_payment_and_gates_from_its_clause():
    program = lower(load_contract(VARIANT))
    gates = [st for st in program.steps if st.kind == StepKind.GATE]
    assert {program.lines[st.line].payment for st in gates} == {"interest", "principal"}
    assert {st.clause.kind for st in gates} == {"redemption"}
    assert {st.kind for st in program.steps} == {StepKind.COMPUTE, StepKind.GATE}


shares = st.fractions(min_value=0, max_value=1, max_denominator=1000)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(shares, st.booleans())
def test_the_protected_share_is_always_paid(reduction, terminated):
    lines = paid(settle({"reduction": reduction, "terminated": terminated}))
    back = lines[("principal", None)] + lines[("early", None)]
    assert back >= 750_000
    if not terminated:
        expected = 1_000_000 if reduction >= Fraction(2, 5) else max(min(2 * reduction, 1), Fraction(3, 4)) * 1_000_000
        assert lines[("principal", None)] == round(expected)  # whole dollars, half up (never a half here)


def test_the_variant_verifies_without_unknowns():
    verdicts = {v.key: v.status for v in verify_contract(load_contract(VARIANT))}
    assert verdicts and set(verdicts.values()) == {"proved"}
    assert verdicts["guarantee:protected"] == verdicts["guarantee:full"] == "proved"


BASE = '''contract "P"
  currency SEK
  rounding 1 SEK half up
party city "City": payer
party ngo "Provider": provider
party bank "Bank": investor
term 2021-01-01 to 2023-12-31
investment loan: 1 000 000 SEK from bank on 2021-01-01
measure reduction: percentage
measure terminated: boolean
payment success = if reduction >= 40 % then 200 000 SEK else 0 SEK from city to bank due 2023-06-30
repayment principal: principal of loan from city due 2023-12-31
  in full when reduction >= 40 %
  at least 75 %
redemption early: 80 % of loan from city when terminated due 2022-06-30
'''


def test_the_base_checks_clean():
    assert codes(BASE) == []


@pytest.mark.parametrize("change, code", [
    (("principal of loan", "principal of lone"), "E485"),
    (("80 % of loan", "80 % of reduction"), "E485"),
    (("80 % of loan", "80 %"), "E485"),
    (("80 % of loan", "120 % of loan"), "E486"),
    (("at least 75 %", "at least 0 %"), "E486"),
    (("at least 75 %", "otherwise 110 %"), "E486"),
    (("80 % of loan", "reduction of loan"), "E486"),  # a redemption's share is fixed at signing
    (("principal of loan from city", "principal of loan from ngo"), "E487"),
    (("80 % of loan from city", "80 % of loan from bank"), "E487"),
    (("  at least 75 %\n", ""), "E488"),
    ((" due 2022-06-30", ""), "E488"),
    (("when terminated ", ""), "E488"),
    (("due 2022-06-30", "due 2024-01-31"), "W482"),
    (("  at least 75 %\n", "  otherwise 80 %\n  at least 75 %\n"), "W483"),
])
def test_bad_repayments_and_redemptions_get_their_code(change, code):
    text = BASE.replace(*change)
    assert text != BASE
    assert code in codes(text)


def test_a_repayment_without_a_condition_repays_everything():
    contract = checked(BASE.replace("  in full when reduction >= 40 %\n  at least 75 %\n", ""))
    s = compile_contract(contract).evaluate({"reduction": Fraction(0), "terminated": False})
    assert paid(s)[("principal", None)] == 1_000_000


# ---------------------------------------------------------------- a redemption plus accrued interest
ACCRUED = '''contract "Redeemed" @en "Redeemed"
  languages sv, en
  currency SEK
  rounding 1 SEK half up
party city "Staden" @en "The city": payer
party bank "Banken" @en "The bank": investor
term 2021-01-01 to 2023-12-31
periods year "År" @en "Years":
  y2021 2021-01-01 to 2021-12-31,
  y2022 2022-01-01 to 2022-12-31,
  y2023 2023-01-01 to 2023-12-31
investment loan "Lånet" @en "The loan": 1 000 000 SEK from bank
  drawn 600 000 SEK on 2021-01-01, 400 000 SEK on 2021-07-01
measure attainment: share per year between 0 % and 100 %
measure terminated: boolean
table coupon_rate: step { below: 0 %, from 40 %: 3 %, from 60 %: 6 % }
coupon interest "Ränta" @en "Interest": coupon_rate(attainment) per year on loan
  per year from city
  at least 2 % during y2021 through y2022
  due 30 days after end
redemption early "Förtida inlösen" @en "Early redemption": 80 % of loan
  plus accrued interest
  from city
  when terminated
  due 2022-01-20
guarantee back: early >= 800 000 SEK when terminated
'''
ROWS = [{"attainment": {"y2021": Fraction(1, 10), "y2022": Fraction(7, 10), "y2023": Fraction(1, 2)},
         "terminated": True},
        {"attainment": {"y2021": Fraction(7, 10), "y2022": Fraction(0), "y2023": Fraction(1)}, "terminated": True},
        {"attainment": {"y2021": Fraction(1, 10), "y2022": Fraction(7, 10), "y2023": Fraction(1, 2)},
         "terminated": False}]


def _days(a: str, b: str) -> int:
    return (datetime.date.fromisoformat(b) - datetime.date.fromisoformat(a)).days


def test_a_redemption_pays_the_coupon_accrued_to_its_date_and_not_paid():
    """Redeemed on 2022-01-20: the 2021 coupon, due 2022-01-30, is not paid (the redemption ends
    every later payment), so the interest accrued in all of 2021 is paid with the redemption, and
    that of 2022 to, but excluding, 2022-01-20 — at each year's rate, the minimum included."""
    s = compile_contract(checked(ACCRUED)).evaluate(ROWS[0])
    lines = paid(s)
    assert [lines[("interest", y)] for y in ("y2021", "y2022", "y2023")] == [0, 0, 0]
    y2021 = Fraction(2, 100) * (600_000 * Fraction(_days("2021-01-01", "2022-01-01"), 365)
                                + 400_000 * Fraction(_days("2021-07-01", "2022-01-01"), 365))  # the minimum
    y2022 = Fraction(6, 100) * 1_000_000 * Fraction(_days("2022-01-01", "2022-01-20"), 365)  # 19 days at 6 %
    exact_amount = 800_000 + y2021 + y2022
    # 80 % of 1 000 000; 2 % of 600 000 for the year and of 400 000 for 184 days; 6 % of 1 000 000 for 19 days
    assert exact_amount == 800_000 + 12_000 + Fraction(1_472_000, 365) + Fraction(1_140_000, 365)
    assert lines[("early", None)] == int(exact_amount + Fraction(1, 2)) == 819_156  # rounded half up, once
    # 6 % in 2021 (above the minimum); in 2022 the table gives 0 %, the minimum 2 %
    s = compile_contract(checked(ACCRUED)).evaluate(ROWS[1])
    expected = 800_000 + Fraction(6, 100) * (600_000 + 400_000 * Fraction(184, 365)) + \
        Fraction(2, 100) * 1_000_000 * Fraction(19, 365)
    assert paid(s)[("early", None)] == int(expected + Fraction(1, 2))
    # not redeemed: the coupons are paid and the redemption pays nothing, accrued interest included
    s = compile_contract(checked(ACCRUED)).evaluate(ROWS[2])
    assert paid(s)[("early", None)] == 0 and paid(s)[("interest", "y2021")] == 16_033


def test_a_redemption_after_a_coupon_line_is_due_does_not_pay_it_twice():
    text = ACCRUED.replace("due 2022-01-20", "due 2022-02-15")  # the 2021 coupon was due 2022-01-30: paid
    s = compile_contract(checked(text)).evaluate(ROWS[0])
    assert paid(s)[("interest", "y2021")] == 16_033
    expected = 800_000 + Fraction(6, 100) * 1_000_000 * Fraction(_days("2022-01-01", "2022-02-15"), 365)
    assert paid(s)[("early", None)] == int(expected + Fraction(1, 2))


def test_a_redemption_plus_accrued_interest_agrees_in_every_back_end_and_verifies():
    from .test_semantics import assert_z3_same
    from .test_vector import assert_same

    contract = checked(ACCRUED)
    assert contract.redemptions[0].accrued == "interest"
    assert_same(contract, ROWS)
    assert_z3_same(contract, ROWS)
    verdicts = {r.key: r.status for r in verify_contract(contract)}
    assert verdicts["guarantee:back"] == "proved"


@pytest.mark.parametrize("lang, words", [
    ("en", ("pays The bank 80 per cent of the capital drawn of “The loan”, the “Early redemption”, on 20 January "
           "2022, together with the interest under the “Interest” accrued to that day and not yet paid, and no "
           "payment to The bank due after that day is made.")),
    ("sv", ("betalar Banken 80 procent av det kapital som har betalats ut av ”Lånet”, ”Förtida inlösen”, den 20 "
           "januari 2022, jämte den ränta enligt ”Ränta” som har upplupit till den dagen och ännu inte betalats, och "
           "inga betalningar till Banken som förfaller efter den dagen görs.")),
])
def test_the_document_says_the_accrued_interest_is_paid(lang, words):
    from sibdsl.render.clauses import sentence

    contract = checked(ACCRUED)
    said = sentence(contract, contract.redemptions[0].clause, lang).replace("\u00a0", " ")
    assert words in said, said


def test_fmt_keeps_plus_accrued():
    from sibdsl.parser import parse
    from sibdsl.unparse import unparse

    text = unparse(parse(Source("p.sib", ACCRUED)))
    assert "  plus accrued interest\n" in text
    assert checked(text).redemptions[0].accrued == "interest"


@pytest.mark.parametrize("change, code, message", [
    (("plus accrued interest", "plus accrued terminated"), "E466", "`terminated` is a measure, not a coupon"),
    (("plus accrued interest", "plus accrued intrest"), "E201", "no coupon is called `intrest`"),
    (("due 2022-01-20", "due 30 days after end"), "E466",
     "the interest accrued is counted to the redemption's date, but it has none"),
])
def test_plus_accrued_names_a_coupon_of_the_investment(change, code, message):
    text = ACCRUED.replace(*change)
    assert text != ACCRUED
    found = [d for d in check_source(Source("p.sib", text))[1] if d.is_error]
    assert [d.code for d in found][:1] == [code], [(d.code, d.message) for d in found]
    assert found[0].message == message
    if code == "E201":
        assert "interest" in found[0].hint  # did you mean


def test_plus_accrued_of_a_coupon_on_another_investment_is_refused():
    text = ACCRUED.replace('investment loan "Lånet"', 'investment other: 10 SEK from bank on 2021-01-01\n'
                           'investment loan "Lånet"').replace("on loan\n  per year", "on other\n  per year")
    (d,) = [d for d in check_source(Source("p.sib", text))[1] if d.is_error]
    assert (d.code, d.message) == ("E466", ("the coupon `interest` is interest on `other`, but the redemption pays "
                                           "back `loan`"))


def test_the_trail_of_a_redemption_plus_accrued_shows_its_two_parts():
    s = compile_contract(checked(ACCRUED)).evaluate(ROWS[0])
    (early,) = [ln for ln in s.lines if ln.payment == "early"]
    (_, clause, _, amount, detail), = early.trail
    assert (clause.kind, amount) == ("redemption", 819_156)
    assert str(detail) == ("80 % × 1 000 000 SEK drawn + 19 156.16 SEK (to the cent) interest of `interest` accrued "
                           "to 2022-01-20 and not paid (its lines' rates × the capital drawn × the days to "
                           "2022-01-20); exact 819156.164384, rounded half up")
    # the rate of each cancelled line is in its own trail: computed at 2 %, then ended by the redemption
    (y2021,) = [ln for ln in s.lines if ln.payment == "interest" and ln.period == "y2021"]
    assert str(y2021.trail[0][4]).startswith("2 % a year (the minimum: at least 2 % in this period)")
    assert y2021.trail[-1][0] == "gate failed" and y2021.trail[-1][1].kind == "redemption"
    not_redeemed = compile_contract(checked(ACCRUED)).evaluate(ROWS[2])
    (early,) = [ln for ln in not_redeemed.lines if ln.payment == "early"]
    assert str(early.trail[0][4]) == "not redeemed: nothing paid, accrued interest included"


def test_the_accrued_interest_is_no_leak_of_the_coupon_it_cancels_but_another_payment_still_is():
    """The gate a redemption puts on its coupon withholds interest the redemption pays as accrued
    interest: by design, not a leak (E701 said it was). A payment to another party that grows with
    the same outcome while the coupon is withheld still is."""
    verdicts = {v.key: v.status for v in verify_contract(checked(ACCRUED))}
    assert verdicts and set(verdicts.values()) == {"proved"}, verdicts
    leaking = ACCRUED.replace('party bank "Banken"', 'party ngo "Utföraren": provider\nparty bank "Banken"') + (
        "payment sneak = if terminated then sum(attainment) * 10 000 SEK else 0 SEK from city to ngo due 2023-06-30\n")
    verdicts = {v.key: v.status for v in verify_contract(checked(leaking))}
    assert [k for k, status in verdicts.items() if status != "proved"] == ["leak:early"], verdicts


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.dates(min_value=datetime.date(2021, 1, 2), max_value=datetime.date(2024, 3, 1)),
       st.tuples(*[st.sampled_from([Fraction(0), Fraction(1, 2), Fraction(7, 10)])] * 3))
def test_any_redemption_date_pays_exactly_the_interest_no_coupon_line_paid(date, attainment):
    """An independent count: for each year whose coupon (due 30 days after the year) falls due after
    the redemption, the days each drawdown was out in that year before the redemption, at the year's
    rate (the table's, at least 2 % in 2021 and 2022) — plus 80 % of the capital; the coupons due by
    the date are paid as coupons. Together: never the same day's interest twice, never a day lost.
    (80 % of the capital drawn by the date: the second drawdown, 2021-07-01, only from then.)"""
    text = ACCRUED.replace("due 2022-01-20", f"due {date}")
    years = ("y2021", "y2022", "y2023")
    row = {"attainment": dict(zip(years, attainment)), "terminated": True}
    s = compile_contract(checked(text)).evaluate(row)
    lines = paid(s)
    drawdowns = [(datetime.date(2021, 1, 1), 600_000), (datetime.date(2021, 7, 1), 400_000)]
    expected = Fraction(8, 10) * sum(amount for d, amount in drawdowns if d <= date)  # of what was drawn by then
    for k, (year, a) in enumerate(zip(years, attainment)):
        start, after = datetime.date(2021 + k, 1, 1), datetime.date(2022 + k, 1, 1)
        rate = max(Fraction(6, 100) if a >= Fraction(6, 10) else Fraction(3, 100) if a >= Fraction(4, 10) else 0,
                   Fraction(2, 100) if year != "y2023" else 0)
        due = after - datetime.timedelta(days=1) + datetime.timedelta(days=30)
        whole_year = rate * sum(amount * Fraction((after - max(d, start)).days, 365) for d, amount in drawdowns)
        if due <= date:  # paid as a coupon
            assert lines[("interest", year)] == int(whole_year + Fraction(1, 2))
            continue
        assert lines[("interest", year)] == 0
        end = min(date, after)
        expected += rate * sum(amount * Fraction((end - max(d, start)).days, 365)
                               for d, amount in drawdowns if max(d, start) < end)
    assert lines[("early", None)] == int(expected + Fraction(1, 2))


def test_a_redemption_repays_its_share_of_what_was_drawn_by_its_date():
    """The reference says SHARE of the capital drawn on D: a drawdown dated after the redemption is
    not repaid before it is drawn (it was: 80 % of all 1 000 000 SEK on 2022-06-30, when only
    600 000 SEK had been drawn). With plus accrued, the trail's capital is the same."""
    text = BASE.replace("investment loan: 1 000 000 SEK from bank on 2021-01-01",
                        "investment loan: 1 000 000 SEK from bank\n"
                        "  drawn 600 000 SEK on 2021-01-01, 400 000 SEK on 2022-09-01") \

    assert text != BASE
    s = compile_contract(checked(text)).evaluate({"reduction": Fraction(0), "terminated": True})
    assert paid(s)[("early", None)] == 480_000  # 80 % × 600 000 SEK
    late = text.replace("400 000 SEK on 2022-09-01", "400 000 SEK on 2022-03-01")
    s = compile_contract(checked(late)).evaluate({"reduction": Fraction(0), "terminated": True})
    assert paid(s)[("early", None)] == 800_000  # both drawn by 2022-06-30: 80 % of all of it
    accrued = ACCRUED.replace("400 000 SEK on 2021-07-01", "400 000 SEK on 2022-03-01")
    s = compile_contract(checked(accrued)).evaluate(ROWS[0])
    line = next(ln for ln in s.lines if ln.payment == "early")
    assert line.exact > 480_000 and line.exact < 500_000  # 80 % × 600 000 SEK + the interest accrued
    assert "80 % × 600 000 SEK drawn" in " ".join(str(step[4]) for step in line.trail)
