"""The expression compiler: exact ints and Fractions (never a float), constant folding that changes
no value, and the settlement's views derived from the exact result."""

from __future__ import annotations

import json
from decimal import Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sibdsl import compile_contract, load_contract, load_outcomes
from sibdsl.compiler import Compiler, Ctx, EvaluationError
from sibdsl.values import divide, whole
from sibdsl.testing import outcomes as outcome_strategy

from .conftest import ROOT, model

CONTRACTS = sorted([*ROOT.glob("contracts/*.sib"), *ROOT.glob("contracts/variants/*.sib"),
                    ROOT / "tests/corpus/valid/all_constructs.sib"])
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))

numbers = st.one_of(st.integers(-10**40, 10**40),
                    st.fractions(max_denominator=10**12).filter(lambda f: f.denominator != 1))


def _canonical(value) -> bool:
    """The evaluator's number invariant: a whole value is an int, a Fraction is never whole."""
    return type(value) is int or (type(value) is Fraction and value.denominator != 1)


@given(numbers, numbers.filter(lambda x: x != 0))
def test_divide_is_exact_canonical_and_never_a_float(a, b):
    q = divide(a, b)
    assert _canonical(q)
    assert Fraction(q) == Fraction(a) / Fraction(b)


@given(numbers)
def test_whole_makes_whole_fractions_ints(x):
    assert _canonical(whole(Fraction(x))) and whole(Fraction(x)) == x
    assert whole(True) is True  # booleans are not numbers here


def _folding_off(contract):
    """The same contract compiled with a branch recorder: constant folding is off, every closure runs."""
    return Compiler(contract, contract.definitions, None, recorder=lambda e, i: None)


@pytest.mark.parametrize("path", CONTRACTS, ids=lambda p: p.stem)
def test_folding_changes_no_value_and_every_value_is_exact(path):
    contract = load_contract(path)
    folded = Compiler(contract, contract.definitions, None)
    plain = _folding_off(contract)
    exprs = [*(d.expr for d in contract.definitions.values()), *(p.expr for p in contract.payments.values()),
             *(c.amount for c in contract.caps), *(f.amount for f in contract.floors)]
    pairs = []  # closures know the period they read: one pair per expression and period
    for e in exprs:
        for period in contract.series[e.ty.series].periods if e.ty.series else [None]:
            where = {e.ty.series: period.name} if period else {}
            pairs.append((folded.compile(e, where), plain.compile(e, where), e))

    @SETTINGS
    @given(outcome_strategy(contract))
    def check(values):
        for fast, slow, e in pairs:
            try:
                expected = slow(Ctx(values, {}, {}))
            except EvaluationError:
                with pytest.raises(EvaluationError):
                    fast(Ctx(values, {}, {}))
                continue
            got = fast(Ctx(values, {}, {}))
            assert got == expected, (e, values)
            assert not isinstance(got, float)
            if isinstance(got, (int, Fraction)) and not isinstance(got, bool):
                assert _canonical(got), got
    check()


def test_constants_are_computed_once_when_compiling():
    m = model("investment loan: 10 000 000 SEK from fund on 2016-08-01\n"
              "measure v: money\npayment p = min(v, 40 % of loan) from city to fund\n")
    comp = Compiler(m, m.definitions, None)
    payment = m.payments["p"]
    comp.compile(payment.expr)
    assert 4_000_000 in comp.folded.values()  # 40 % of loan, an int, before any outcome is known
    assert not any(isinstance(v, Fraction) and v.denominator == 1 for v in comp.folded.values())


def test_a_constant_division_by_zero_fails_only_where_it_is_reached():
    body = ("measure ok: boolean\ndefine zero = 0\n"
            "payment p = if ok then 100 SEK / zero else 5 SEK from city to fund\n")
    m = model(body)
    evaluator = compile_contract(m)  # compiling does not fail: the branch may never be taken
    assert evaluator.evaluate(load_outcomes(m, text='{"ok": false}', name="o.json")).total == 5
    with pytest.raises(EvaluationError) as info:
        evaluator.evaluate(load_outcomes(m, text='{"ok": true}', name="o.json"))
    assert info.value.diagnostic.code == "E602"


# ---------------------------------------------------------------- the settlement's derived views
def test_settlement_views_are_derived_once_and_equality_uses_the_exact_data():
    contract = load_contract(ROOT / "contracts/norrkoping.sib")
    outcomes = load_outcomes(contract, text=json.dumps({
        "actual_costs": "40 000 000 SEK", "reference_costs": "61 000 000 SEK",
        "school_improved": False, "completed": True}))
    first, second = (compile_contract(contract).evaluate(outcomes) for _ in range(2))
    line = first.lines[1]
    assert line.amount is line.amount and line.steps is line.steps  # computed once, kept
    assert line.amount == Decimal(line.exact) and [s.after for s in line.steps][-1] == line.amount
    assert first == second and first.total == second.total == Decimal(10_000_000)
    assert first.returns[0].received == Decimal(10_000_000) and first.returns[0].net == 0
    assert first.returns[0].limit == Decimal(12_000_000)  # the tighter of 8 % a year to 2019-06-30 and 20 % in total
    assert first.by_recipient == {"lsv": Decimal(10_000_000)}


def test_settlement_sums_do_not_depend_on_the_decimal_context_they_are_read_in():
    m = model("measure v: money\npayment p = v from city to fund\npayment q = v * 3 from city to fund\n")
    big = "123 456 789 012 345 678 901 234 567 SEK"  # 27 digits: the sum needs 28, the context gets 5
    settlement = compile_contract(m).evaluate(load_outcomes(m, text=json.dumps({"v": big}), name="o.json"))
    with localcontext() as ctx:
        ctx.prec = 5
        total, by_payer = settlement.total, settlement.by_payer
    expected = Decimal(big.replace(" ", "").removesuffix("SEK")) * 4
    assert total == expected and by_payer == {"city": expected}

