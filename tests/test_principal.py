"""Principal repaid on an outcome condition with a minimum share, and early redemption (issue 14)."""

from __future__ import annotations

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
