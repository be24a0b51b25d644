"""`sibc eval --explain` (sibdsl/explain_text.py) on waterfalls: a waterfall's steps and a return
limit's release are told as what really happens, in Swedish and English (issue 14)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from sibdsl import compile_contract
from sibdsl.explain_text import explain_settlement, explain_step
from sibdsl.settlement import Detail

from .test_semantics import checked
from .test_time15 import HEAD
from .test_waterfall import CONTRACT, SAME_INVESTOR

PASSES_ON = {
    "en": "the amount of SEK 0 is raised to SEK 1,000: what Lender's return limit held back passes on to the "
          "waterfall's later steps.",
    "sv": "beloppet 0 kr höjs till 1 000 kr: det som avkastningstaket för Lender höll inne går vidare till "
          "vattenfallets senare steg.",
}
KEPT = {
    "en": "the amount of SEK 0 is raised to SEK 1,000: what Lender's return limit held back stays with Fund, as "
          "no later step of the waterfall is left to pay it.",
    "sv": "beloppet 0 kr höjs till 1 000 kr: det som avkastningstaket för Lender höll inne stannar hos Fund, "
          "eftersom inget senare steg i vattenfallet finns kvar som kan betala det.",
}


def _explained(text: str, outcomes: dict, lang: str) -> list[str]:
    contract = checked(text)
    return explain_settlement(contract, compile_contract(contract).evaluate(outcomes), lang).splitlines()


@pytest.mark.parametrize("lang", ["en", "sv"])
def test_a_release_before_the_last_step_passes_on_and_after_it_stays_with_the_vehicle(lang):
    """One lender paid by steps 1 and 2: its limit cuts step 1, and what that holds back passes on to
    step 2; step 2 pays the same lender and is cut too, and with no step left, the vehicle keeps it.
    The text said 'passes on to the later steps' in both places."""
    lines = _explained(SAME_INVESTOR, {"fees": Fraction(459_000), "savings": Fraction(2_000)}, lang)
    released = [ln.removeprefix("  - r: ") for ln in lines
                if ln.startswith("  - r: ") and ("raised to" in ln or "höjs till" in ln)]
    assert released == [PASSES_ON[lang], KEPT[lang]]


@pytest.mark.parametrize("lang, words", [
    ("en", ["  - repayment.1: of SEK 3,000,000, the waterfall's step pays SEK 1,185,975 on; SEK 1,814,025 remains.",
            ("  - junior_cap: the amount of SEK 0 is raised to SEK 1,091,282: what class junior's return limit held "
            "back stays with Fund, as no later step of the waterfall is left to pay it."),
            "  - repayment.1: the waterfall's step pays SEK 1,185,975."]),
    ("sv", ["  - repayment.1: av 3 000 000 kr betalar vattenfallets steg 1 185 975 kr vidare; 1 814 025 kr återstår.",
            ("  - junior_cap: beloppet 0 kr höjs till 1 091 282 kr: det som avkastningstaket för klassen junior höll "
            "inne stannar hos Fund, eftersom inget senare steg i vattenfallet finns kvar som kan betala det."),
            "  - repayment.1: vattenfallets steg betalar 1 185 975 kr."]),
])
def test_a_limit_on_the_last_steps_class_keeps_its_cut_with_the_vehicle(lang, words):
    """A limit on the class the last step pays: nothing is left to pass its cut on to; the text says
    the vehicle keeps it (and names the class as the document does), and no release says 'passes on'."""
    text = CONTRACT + "return limit junior_cap: 20 % in total for class junior\n"
    lines = _explained(text, {"savings": Fraction(3_000_000)}, lang)
    for line in words:
        assert line in lines, line
    assert not any("passes on" in ln or "går vidare" in ln for ln in lines)


# ------------------------------------------------- caps, rate cards and first-loss cover (issues 14, 15)
def _shipped(path: str, outcomes: dict | None = None, text: str | None = None):
    """A shipped contract (or `text`, a variant of it) settled for `outcomes` (default: its own
    outcome file), through the outcome file's own reader."""
    import json

    from sibdsl import Source, check_source
    from sibdsl.outcomes import load_outcomes

    contract, diagnostics = check_source(Source(path, text if text is not None else Path(path).read_text()))
    assert contract is not None and not [d for d in diagnostics if d.is_error]
    if outcomes is None:
        outcomes = json.loads(Path(path.removesuffix(".sib") + ".outcomes.json").read_text())
    row = load_outcomes(contract, text=json.dumps(outcomes), name="outcomes.json")
    return contract, compile_contract(contract).evaluate(row)


REBOOT = "contracts/care_leavers_reboot_west.sib"
PRO_RATA = "contracts/variants/care_leavers_reboot_west_pro_rata.sib"


def _reboot_twice() -> dict:
    """Twice the outcomes Reboot West achieved (GBP 3,743,080 at the card's prices): over its total cap."""
    import json

    outcomes = json.loads(Path("contracts/care_leavers_reboot_west.outcomes.json").read_text())
    return {k: v * 2 for k, v in outcomes.items() if not k.startswith("_")}


def _steps(contract, settlement, lang: str, payment: str) -> list[str]:
    """The explained steps of `payment`'s lines, beyond the formula and the gates that passed."""
    out, inside = [], False
    for text in explain_settlement(contract, settlement, lang).splitlines():
        if not text.startswith("  - "):
            inside = any(ln.payment == payment and text.startswith(f"{ln.clause.label.get(lang)}: ")
                         for ln in settlement.lines if ln.clause.label)
        elif inside and not any(w in text for w in ("the formula gives", "enligt formeln", "condition is met",
                                                    "villkoret är uppfyllt")):
            out.append(text.removeprefix("  - "))
    return out


CARD = "§ 3 The rate card, The Department for Education's Care Leavers rate card: "


@pytest.mark.parametrize("lang, order, said", [
    ("en", "declaration", ("the amount of GBP 627,000 is limited to GBP 321,920: the rate card pays at most "
                          "GBP 2,250,000 in all; the outcome listed last on the card is reduced first.")),
    ("sv", "declaration", ("beloppet 627 000 GBP begränsas till 321 920 GBP: prislistan betalar högst 2 250 000 GBP "
                          "totalt; det utfall som står sist i prislistan minskas först.")),
    ("en", "claim", ("the amount of GBP 627,000 is limited to GBP 321,920: the rate card pays at most GBP 2,250,000 "
                    "in all; the latest claims are reduced first.")),
    ("sv", "claim", ("beloppet 627 000 GBP begränsas till 321 920 GBP: prislistan betalar högst 2 250 000 GBP totalt; "
                    "de senaste anspråken minskas först.")),
])
def test_a_rate_cards_total_cap_says_its_level_and_the_order_it_cuts_in(lang, order, said):
    """Reboot West's card over its cap: the Department's maximum, and which claims give first."""
    text = Path(REBOOT).read_text().replace("in declaration order", f"in {order} order")
    contract, settlement = _shipped(REBOOT, _reboot_twice(), text)
    assert _steps(contract, settlement, lang, "outcomes.earns_768") == [CARD + said]


@pytest.mark.parametrize("lang, factor", [
    ("en", ("every amount on the card is reduced by the same factor, the cap divided by the value of all outcomes "
           "(GBP 2,250,000 / GBP 3,743,080), rounded down.")),
    ("sv", ("varje belopp i prislistan minskas med samma faktor, taket delat med värdet av alla utfall "
           "(2 250 000 GBP / 3 743 080 GBP), avrundat nedåt.")),
])
def test_a_rate_card_cut_in_proportion_says_its_factor_and_every_line_is_cut_by_it(lang, factor):
    """The pro rata variant: each line's sentence gives the factor (the cap over the lines' total
    before the cut), and that factor is the one the line was cut by, rounded down to the pound."""
    contract, settlement = _shipped(PRO_RATA, _reboot_twice())
    cut = [(ln, st) for ln in settlement.lines for st in ln.steps if st.kind == "rate card cap"]
    assert len(cut) == len(settlement.lines) == 23
    assert sum(Fraction(st.before) for _, st in cut) == 3_743_080
    for ln, st in cut:
        assert Fraction(st.after) == int(Fraction(st.before) * 2_250_000 / 3_743_080)
        said = _steps(contract, settlement, lang, ln.payment)
        assert len(said) == 1 and said[0].startswith(CARD) and said[0].endswith(factor), said


@pytest.mark.parametrize("lang, words", [
    ("en", [("§ 3 The rate card, Earns £768: the amount of GBP 627,000 is limited to GBP 100,000: the rate card pays "
            "at most GBP 100,000 for the outcome Earns £768 over all periods, and the latest period is reduced first."),
            CARD + "the amount of GBP 104,060 is limited to GBP 35,580: the rate card pays at most GBP 1,600,000 in "
                   "all (GBP 8,000 per participant for 200 participants); the outcome listed last on the card is "
                   "reduced first."]),
    ("sv", [("§ 3 The rate card, Earns £768: beloppet 627 000 GBP begränsas till 100 000 GBP: prislistan betalar högst "
            "100 000 GBP för utfallet Earns £768 över alla perioder, och den senaste perioden minskas först."),
            CARD + "beloppet 104 060 GBP begränsas till 35 580 GBP: prislistan betalar högst 1 600 000 GBP totalt "
                   "(8 000 GBP per deltagare för 200 deltagare); det utfall som står sist i prislistan minskas "
                   "först."]),
])
def test_a_rate_cards_cap_on_one_outcome_and_per_participant(lang, words):
    """An outcome's own cap names the outcome; the cap per participant gives the price per head and the
    cohort's size, so a reader can see where the card's maximum comes from."""
    text = (Path(REBOOT).read_text().replace('"Earns £768": 2 750 GBP,', '"Earns £768": 2 750 GBP cap 100 000 GBP,')
            .replace("  total cap", "  cap per participant 8 000 GBP,\n  total cap"))
    contract, settlement = _shipped(REBOOT, _reboot_twice(), text)
    assert _steps(contract, settlement, lang, "outcomes.earns_768")[0] == words[0]
    assert _steps(contract, settlement, lang, "outcomes.level_3") == [words[1]]


@pytest.mark.parametrize("lang, said", [
    ("en", ("§ 7 Guarantee, Bloomberg Philanthropies' guarantee: Bloomberg Philanthropies (guarantor) pays USD 6,000,000 "
           "of Goldman Sachs Bank USA (Urban Investment Group)'s loss on Loan: USD 7,200,000 was drawn and USD 0 "
           "received under the contract, a loss of USD 7,200,000; the cover pays at most USD 6,000,000.")),
    ("sv", ("§ 7 Guarantee, Bloomberg Philanthropies' guarantee: Bloomberg Philanthropies (guarantor) betalar "
           "6 000 000 USD av förlusten för Goldman Sachs Bank USA (Urban Investment Group) på Loan: 7 200 000 USD har "
           "dragits och 0 USD har tagits emot enligt avtalet, en förlust på 7 200 000 USD; garantin betalar högst "
           "6 000 000 USD.")),
])
def test_first_loss_cover_says_whose_loss_how_large_and_its_ceiling(lang, said):
    """NYC Rikers as published: the City paid nothing, so the lender's loss was all it drew, and
    Bloomberg's guarantee paid its ceiling; the lender kept the rest of the loss."""
    contract, settlement = _shipped("contracts/nyc_rikers.sib")
    assert _steps(contract, settlement, lang, "first_loss") == [said]


@pytest.mark.parametrize("lang, said", [
    ("en", [("§ 6 Limits, Maximum outcome payments: the amount of GBP 17,000,000 is limited to GBP {}: Ministry of "
            "Justice pays at most GBP 8,000,000 in all.")]),
    ("sv", [("§ 6 Limits, Maximum outcome payments: beloppet 17 000 000 GBP begränsas till {}: Ministry of Justice "
            "betalar högst 8 000 000 GBP totalt.")]),
])
def test_a_cap_on_what_a_party_pays_names_the_party(lang, said):
    """Peterborough's GBP 8m cap on what the Ministry pays, reached by halving the reconvictions: both
    cohorts' payments are cut, and each sentence names the payer and the cap, not only the amount."""
    contract, settlement = _shipped("contracts/peterborough.sib", {
        "pilot_events": {"cohort_1": 700, "cohort_2": 700}, "comparison_events": {"cohort_1": 1550, "cohort_2": 1550}})
    amounts = ["8,000,000", "0"] if lang == "en" else ["8 000 000 GBP", "0 GBP"]
    assert _steps(contract, settlement, lang, "cohort_payment") == [said[0].format(a) for a in amounts]


STREAMS = HEAD + """
measure v: count per year
payment a "Housing" = v * 100 SEK from city to fund per year
payment b "Jobs" = v * 100 SEK from city to fund per year
floor lowest "Lowest for housing": a over all periods at 900 SEK
cap most "Most for jobs": b over all periods at 400 SEK
"""


@pytest.mark.parametrize("lang, floor, cap", [
    ("en", ("Lowest for housing: the amount of SEK 300 is raised to SEK 700, so that the payment over all its periods reaches the floor "
           "of SEK 900."),
     ("Most for jobs: the amount of SEK 300 is limited to SEK 200: the payment over all its periods may be at most SEK 400, and the "
     "period paid last is reduced first.")),
    ("sv", "Lowest for housing: beloppet 300 kr höjs till 700 kr, så att betalningen över alla sina perioder når golvet 900 kr.",
     ("Most for jobs: beloppet 300 kr begränsas till 200 kr: betalningen får över alla sina perioder vara högst 400 kr, och den "
     "period som betalas sist minskas först.")),
])
def test_a_streams_floor_and_cap_say_the_level_over_all_periods(lang, floor, cap):
    """A stream floor lifts the last period by the shortfall; a stream cap takes from the last period first."""
    lines = _explained(STREAMS, {"v": {"y1": Fraction(1), "y2": Fraction(1), "y3": Fraction(3)}}, lang)
    assert f"  - {floor}" in lines
    assert f"  - {cap}" in lines


def _records(kind):
    """The records a step of `kind` writes in a line's audit trail (evaluate._record): its trail
    name and what the evaluator recorded for it, every variant the words depend on."""
    from sibdsl.evaluate import released_text, step_text, waterfall_text
    from sibdsl.semantics.program import StepKind as K

    def detail(basis="", investor="goldman", limit=None):
        return Detail(step_text, kind, Fraction(800), "USD", "y1", 1, investor, limit, basis)

    if kind is K.COMPUTE:
        return [("computed", "")]
    if kind is K.GATE:
        return [("gate passed", ""), ("gate failed", "the condition does not hold")]
    if kind is K.WATERFALL:
        return [(kind.trail, Detail(waterfall_text, "repayment.1", "to goldman", "vehicle", Fraction(800), "USD", s))
                for s in (True, False)]
    if kind is K.PARTY_CAP:
        return [(kind.trail, detail("payer")), (kind.trail, detail("recipient"))]
    if kind is K.CARD_CAP:
        return [(kind.trail, detail("total, later claims first"))]
    if kind is K.COVER:
        return [(kind.trail, detail("loan", limit=Fraction(7_200_000)))]
    records = [(kind.trail, detail("8 % in total", limit=Fraction(800)))]
    if kind is K.RETURN_LIMIT:  # a rate of return: no amount, the receipts discounted at the rate
        records.append((kind.trail, detail("8 % a year", limit=None)))
    if kind is K.RETURN_LIMIT:
        records += [("limit released", Detail(released_text, "goldman", "8 % in total", "USD", Fraction(200), k))
                    for k in (None, "goldman")]
    return records


@pytest.mark.parametrize("lang", ["en", "sv"])
def test_every_kind_of_step_has_a_sentence_in_both_languages(lang):
    """Every kind of step a settlement program has (semantics.program.StepKind, so a kind added later
    is checked too) is told in words beyond its amount, and in the language asked for."""
    from sibdsl import model as m
    from sibdsl.semantics.program import StepKind
    from sibdsl.settlement import Step

    contract, _ = _shipped("contracts/nyc_rikers.sib")
    clause = m.ClauseRef("cap", "clause")
    other = "en" if lang == "sv" else "sv"
    for kind in StepKind:
        for trail, recorded in _records(kind):
            step = Step(trail, clause, None if trail == "computed" else Decimal(1000), Decimal(900), str(recorded))
            said = explain_step(contract, step, lang, recorded)
            amount = "USD 900" if lang == "en" else "900 USD"
            assert said != f"clause: {amount}." and amount in said, (kind, trail, said)  # not the bare amount
            assert len(said.removeprefix("clause: ").replace(amount, "").split()) >= 3, (kind, trail, said)
            assert said != explain_step(contract, step, other, recorded), (kind, trail, said)


COUPON = "contracts/variants/principal_at_risk.sib"


@pytest.mark.parametrize("lang, drawn, said", [
    ("en", "1 000 000", ("§ 5 Payments, Interest: the terms give USD 50,000: 5 % a year × USD 1,000,000 accrued "
                        "(USD 1,000,000 × 365/365 from 2013-01-01, ACT/365).")),
    ("sv", "1 000 000", ("§ 5 Betalningar, Ränta: enligt villkoren blir beloppet 50 000 USD: 5 % per år × 1 000 000 USD "
                        "upplupet (1 000 000 USD × 365/365 från 2013-01-01, ACT/365).")),
    ("en", "1 000 001", ("§ 5 Payments, Interest: the terms give USD 50,000: 5 % a year × USD 1,000,001 accrued "
                        "(USD 1,000,001 × 365/365 from 2013-01-01, ACT/365); rounded.")),
    ("sv", "1 000 001", ("§ 5 Betalningar, Ränta: enligt villkoren blir beloppet 50 000 USD: 5 % per år × 1 000 001 USD "
                        "upplupet (1 000 001 USD × 365/365 från 2013-01-01, ACT/365); avrundat.")),
])
def test_a_coupon_says_its_rate_and_capital_and_is_rounded_only_when_it_was(lang, drawn, said):
    """A coupon's line said 'the formula gives USD 50,000 (rounded)' for an exact 5 % of 1 000 000: any
    recorded terms were taken for a rounding. It now gives the rate × the capital × the days, and says
    'rounded' only where the exact amount (50 000.05) was rounded. Every amount of the sentence in one
    format (the English terms said '1 000 000 USD' beside 'USD 50,000'), lang.format_money's."""
    text = Path(COUPON).read_text().replace("1 000 000 USD from lender", f"{drawn} USD from lender")
    contract, settlement = _shipped(COUPON, {"reduction": "45 %", "terminated": False}, text)
    interest = _steps(contract, settlement, lang, "interest")
    assert interest[0] == said
    assert not any("(rounded)" in s or "(avrundat)" in s for s in interest)


PER_PERIOD = HEAD + """cohort youth "Youth": size 3
measure v: count per year
payment a "Housing" = v * 100 SEK from city to fund per year
cap yearly "Most a year": per year at 250 SEK
cap heads "Most per head": per participant at 200 SEK
"""


@pytest.mark.parametrize("lang, words", [
    ("en", ["  - Most a year: the amount of SEK 300 is limited to SEK 250: at most SEK 250 is paid in the period y3.",
            ("  - Most per head: the amount of SEK 250 is limited to SEK 100: at most SEK 600 is paid in all "
             "(SEK 200 per participant for 3 participants).")]),
    ("sv", ["  - Most a year: beloppet 300 kr begränsas till 250 kr: högst 250 kr betalas för perioden y3.",
            ("  - Most per head: beloppet 250 kr begränsas till 100 kr: högst 600 kr betalas totalt "
             "(200 kr per deltagare för 3 deltagare).")]),
])
def test_a_cap_per_period_names_the_period_and_a_cap_per_participant_the_cohort(lang, words):
    """The cap per period said only '(the cap for the period)', the cap per participant not how its
    maximum arises: now the period, and the price per head × the cohort's size."""
    lines = _explained(PER_PERIOD, {"v": {y: Fraction(3) for y in ("y1", "y2", "y3")}}, lang)
    for line in words:
        assert line in lines, line


@pytest.mark.parametrize("lang, limit, said", [
    ("en", "20 % in total", ("§ 8 Conditions, floor and cap, The highest total return: the amount of SEK 2,000,000 "
                             "is limited to SEK 1,000,000: Leksell Social Ventures AB's return limit allows at most "
                             "SEK 11,000,000 in all.")),
    ("sv", "20 % in total", ("§ 8 Villkor, golv och tak, Högsta totala avkastning: beloppet 2 000 000 kr begränsas "
                             "till 1 000 000 kr: avkastningstaket för Leksell Social Ventures AB tillåter högst "
                             "11 000 000 kr totalt.")),
])
def test_a_return_limit_says_whom_it_binds_and_how_much_it_allows(lang, limit, said):
    """Norrköping with the total return limited to 10 % of the 10 MSEK loan: the additional payment
    is cut so that the investor receives 11 MSEK in all."""
    text = Path("contracts/norrkoping.sib").read_text().replace(limit, "10 % in total")
    contract, settlement = _shipped("contracts/norrkoping.sib", {
        "actual_costs": "10 000 000 SEK", "reference_costs": "61 000 000 SEK", "school_improved": True,
        "completed": True}, text)
    assert _steps(contract, settlement, lang, "bonus") == [said]


# the contract language's notation (`1 000 000 USD`, `12 000 000.50 SEK`), which the English prose
# must not mix with its own (`USD 1,000,000`), and Swedish prose writes as `12 000 000 kr`
SIB_NOTATION = r"\d{1,3}(?: \d{3})+(?:\.\d+)? [A-Z]{3}\b|\b\d+(?:\.\d+)? [A-Z]{3}\b"


@pytest.mark.parametrize("path", ["contracts/variants/principal_at_risk.sib", "contracts/variants/coupon_loan.sib",
                                  "contracts/chicago_cpc.sib", "contracts/variants/care_leavers_reboot_west_pro_rata.sib",
                                  "contracts/norrkoping.sib"])
def test_an_explanation_writes_every_amount_in_its_languages_one_format(path):
    """`--explain` of a coupon wrote its capital as the evaluator's trail does (`1 000 000 USD`)
    beside the sentence's own `USD 50,000`: every amount of an explanation is now lang.format_money's,
    over every scenario of contracts with coupons, redemptions, a waterfall and a cut in proportion."""
    import re

    from sibdsl import load_contract
    from sibdsl.scenarios import load_scenarios, run_scenarios

    contract = load_contract(path)
    results = [r for r in run_scenarios(contract, load_scenarios(contract, Path(path).with_suffix(".scenarios.csv")))
               if r.settlement is not None]
    assert results
    for r in results:
        english = explain_settlement(contract, r.settlement, "en")
        assert not re.findall(SIB_NOTATION, english), (r.scenario.name, re.findall(SIB_NOTATION, english))
        swedish = explain_settlement(contract, r.settlement, "sv")
        assert not re.findall(r"\d [A-Z]{3}\b.*\b[A-Z]{3} \d|\bSEK\b", swedish), r.scenario.name
        assert not re.findall(r"\b(?:USD|EUR|GBP|SEK|JPY) \d", swedish), r.scenario.name  # the English order
