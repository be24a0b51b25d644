"""Monotonicity by structure (sibdsl/monotone.py): the settlement program run on (interval,
direction) pairs, asked before z3 for every `monotone:MEASURE` and `… nondecreasing in …`.

Sound: on generated contracts, for two outcomes that differ only in one measure (the second no
lower), the total and each payment move the way the structure says, and z3 refutes no
monotonicity it proves. Useful: a price × count — non-linear in two copies — is proved without
the solver; a table that pays less for a better outcome is still found by z3."""

from __future__ import annotations

import os
from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sibdsl import Source, check_source, load_contract
from sibdsl.evaluate import EvaluationError, Evaluator
from sibdsl.monotone import DOWN, FLAT, UP, moves
from sibdsl.testing import outcomes, value
from sibdsl.units import BOOL
from sibdsl.verify import PROVED, VIOLATED, Verifier

from .contractgen import generated
from .test_bounds import in_domain

EXAMPLES = int(os.environ.get("SIB_DIFF_EXAMPLES", "25"))

DRAFT = """contract "Utkast" @en "Draft"
  languages sv, en
  currency SEK
  rounding 1 SEK half up
party city "Staden": payer
party fund "Fonden": investor
parameter price "Pris per plats" @en "Price per place": money between 10 000 SEK and 30 000 SEK
measure avoided "Undvikna platser" @en "Avoided places": count between 0 and 200 better higher
payment outcome "Ersättning" @en "Outcome payment" = price * avoided from city to fund
"""


def checked(text: str):
    contract, diagnostics = check_source(Source("monotone.sib", text))
    errors = [d for d in diagnostics if d.code.startswith("E")]
    assert contract is not None and not errors, [d.message for d in errors]
    return contract


def verdicts(text: str, **options) -> dict:
    verifier = Verifier(checked(text), **options)
    return {v.key: v for v in verifier.verify()}


def _moved(direction, before: Fraction, after: Fraction) -> bool:
    return (direction != UP or after >= before) and (direction != DOWN or after <= before) and \
        (direction != FLAT or after == before)


def _payments(contract, settlement) -> dict:
    sums: dict = {}
    for ln in settlement.lines:
        if ln.payment in contract.payments:
            sums[ln.payment] = sums.get(ln.payment, Fraction(0)) + Fraction(ln.amount)
    return sums


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_the_settlement_moves_as_the_structure_says(data):
    _moves_as_the_structure_says(data, data.draw(generated(), label="contract"))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_a_waterfall_moves_as_the_structure_says(data):
    """issue 21: a waterfall moves what the vehicle is paid to its new lines, the total unchanged
    (monotone.py keeps that sum as a fact, as bounds.py does) — on contracts that always have one."""
    _moves_as_the_structure_says(data, data.draw(generated(waterfall=True), label="contract"))


def test_massachusetts_waterfall_leaves_its_monotonicities_to_structure():
    """Its three `monotone:` properties went to z3 (≈ 0.4 s each of `sibc verify`): the waterfall's
    new lines had no direction, though together with the vehicle's line they are what it was paid."""
    contract = load_contract("contracts/massachusetts_jj.sib")
    verifier = Verifier(contract)
    monotone = [p for p in verifier.properties if p.key.startswith("monotone:")]
    assert len(monotone) == 3
    for prop in monotone:
        verdict = verifier.prove(prop)
        assert (verdict.status, verdict.method) == (PROVED, "structure"), prop.key


def _moves_as_the_structure_says(data, text):
    contract = checked(text)
    evaluator = Evaluator(contract)
    growing = data.draw(st.sampled_from([n for n, ms in contract.measures.items() if ms.ty.kind != BOOL]),
                        label="growing")
    found = moves(contract, growing)
    measure = contract.measures[growing]
    for _ in range(4):
        row = data.draw(outcomes(contract), label="outcomes")
        if measure.ty.series:
            pairs = {p: sorted([row[growing][p], data.draw(value(measure))]) for p in row[growing]}
            low = dict(row, **{growing: {p: a for p, (a, _) in pairs.items()}})
            high = dict(row, **{growing: {p: b for p, (_, b) in pairs.items()}})
        else:
            a, b = sorted([row[growing], data.draw(value(measure), label="other value")])
            low, high = dict(row, **{growing: a}), dict(row, **{growing: b})
        if not (in_domain(contract, low) and in_domain(contract, high)):
            continue
        try:
            first, second = evaluator.evaluate(low), evaluator.evaluate(high)
        except EvaluationError:
            continue  # a monotonicity is claimed where the settlement is defined
        assert _moved(found.total.d, Fraction(first.total), Fraction(second.total)), \
            (growing, found.total, low, high, first.total, second.total)
        before, after = _payments(contract, first), _payments(contract, second)
        for name, moved in found.payments.items():
            if name in before:
                assert _moved(moved.d, before[name], after[name]), (growing, name, moved, before, after)


@settings(max_examples=max(5, EXAMPLES // 5), deadline=None, suppress_health_check=list(HealthCheck))
@given(generated(), st.sampled_from(["spent", "base", "rate", "people", "visits", "waited"]),
       st.sampled_from(["nondecreasing", "nonincreasing"]))
def test_what_the_structure_proves_z3_does_not_refute(text, growing, direction):
    contract = checked(text + f"\nguarantee m: total {direction} in {growing}\n")
    by_structure = Verifier(contract, timeout=2.0)
    solver = Verifier(contract, timeout=2.0, bounds=False)
    (prop,) = [p for p in by_structure.properties if p.key == "guarantee:m"]
    if by_structure._by_structure(prop):
        verdict = solver.prove(prop)
        assert verdict.method == "solver"
        assert verdict.status != VIOLATED, (growing, direction, verdict.reason)


def test_price_times_count_is_proved_without_the_solver():
    # a product of two unknowns compared in two copies: non-linear for z3, a product rule here
    v = verdicts(DRAFT + "guarantee g: outcome nondecreasing in price\n"
                 "guarantee h: total nondecreasing in price\n")
    for key in ("monotone:avoided", "guarantee:g", "guarantee:h"):
        assert (v[key].status, v[key].method) == (PROVED, "structure"), key
    assert "proved by structure" in v["guarantee:g"].reason
    assert "bevisat av formen" in v["guarantee:g"].words["sv"]


def test_price_times_count_the_wrong_way_is_still_violated_by_z3():
    v = verdicts(DRAFT + "guarantee g: outcome nonincreasing in price\n")["guarantee:g"]
    assert (v.status, v.method) == (VIOLATED, "solver")
    before, after = v.counterexample
    assert before["avoided"] == after["avoided"] and before["price"] != after["price"]
    assert Fraction(v.settlements[1].total) > Fraction(v.settlements[0].total)


def test_price_times_count_with_rounding_and_a_cap():
    text = DRAFT.replace("1 SEK half up", "1 000 SEK half even") \
        .replace("price * avoided", "price * avoided * 7 / 12") + "cap total at 3 000 000 SEK\n"
    v = verdicts(text + "guarantee g: total nondecreasing in price\n")
    assert all(x.status == PROVED for x in v.values()), {k: x.status for k, x in v.items()}
    assert v["guarantee:g"].method == v["monotone:avoided"].method == "structure"


def test_a_table_that_pays_less_for_more_is_left_to_z3():
    text = DRAFT.replace("price * avoided", "price * avoided + tiers(avoided) { below: 0 SEK, "
                         "from 100: 900 000 SEK, from 150: 0 SEK }")
    v = verdicts(text)["monotone:avoided"]
    assert (v.status, v.method) == (VIOLATED, "solver")


def test_a_cut_keeps_the_sum_of_its_group():
    # a cap on the total cuts the last line first: the bonus falls as the outcome payment grows,
    # yet the total never does (the cut's group sums to min(sum, level))
    text = DRAFT + ("payment bonus = 50 000 SEK * avoided from city to fund\n"
                    "cap total at 4 000 000 SEK\n"
                    "guarantee b: bonus nondecreasing in avoided\n")
    contract = checked(text)
    assert moves(contract, "avoided").total.d == UP
    assert moves(contract, "avoided").payments["bonus"].d is None
    v = verdicts(text)
    assert (v["monotone:avoided"].status, v["monotone:avoided"].method) == (PROVED, "structure")
    assert v["guarantee:b"].method == "solver"


def test_norrkoping_by_structure():
    verifier = Verifier(load_contract("contracts/norrkoping.sib"))
    found = {v.key: v for v in verifier.verify()}
    for key in ("monotone:actual_costs", "guarantee:grows_with_savings"):
        assert (found[key].status, found[key].method) == (PROVED, "structure"), key
    assert all(v.status == PROVED for v in found.values())


PRO_RATA = """contract "Pro rata"
  currency SEK
  rounding 1 SEK half up
party city "City": payer
party fund "Fund": investor
cohort group: size 40
periods year:
  y1 2021-01-01 to 2021-12-31,
  y2 2022-01-01 to 2022-12-31
measure spent: money between 0 SEK and 2 000 000 SEK
measure ok: boolean
payment p0 = spent
  from city to fund due 2023-06-30
ratecard card from city to fund per year due 30 days after end: {
  o0: 220 SEK,
  total cap 50 000 SEK in proportion
}
gate g_p0: p0 requires ok
cap per participant at 9 000 SEK
"""


def test_a_rate_card_cut_in_proportion_is_read_by_structure():
    """A card's cap `in proportion` (issue 15) is a cut of its own in the settlement program; the
    structure reads it as a cut (each line within [0, a], direction unknown; the group's sum at most
    the level), where before it stopped with an AttributeError (found by the generated contracts)."""
    contract = checked(PRO_RATA)
    found = moves(contract, "spent")  # before: AttributeError, '_Run' object has no attribute 'pro_rata'
    evaluator = Evaluator(contract)
    row = {"ok": True, "card.o0": {"y1": 300, "y2": 0}}  # 300 × 220 SEK = 66 000 SEK, cut to 50 000 SEK
    low, high = (evaluator.evaluate({**row, "spent": Fraction(v)}) for v in (0, 5000))
    assert (Fraction(low.total), Fraction(high.total)) == (50000, 55000)
    assert found.total.d in (UP, None)  # never claimed to fall
    text = PRO_RATA + "guarantee m: total nondecreasing in spent\n"
    verdict = verdicts(text)["guarantee:m"]
    assert (verdict.status, verdict.method) == (PROVED, "structure")
