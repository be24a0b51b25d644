"""`sibc eval --why` (issue 17): for each payment not paid, cut, or below what other outcomes pay,
the smallest change of the measured outcomes that would have paid it more, decided by z3 and
settled by the evaluator; words in Swedish and English."""

from __future__ import annotations

import json
from fractions import Fraction

import attrs
import pytest

from sibdsl import check_source, load_contract, load_outcomes
from sibdsl.evaluate import compile_contract
from sibdsl.source import Source
from sibdsl.why import why_not_paid

from .conftest import ROOT

NK, RIKERS = ROOT / "contracts" / "norrkoping.sib", ROOT / "contracts" / "nyc_rikers.sib"


def why(path, outcomes: dict, languages=("en",)):
    contract = load_contract(path) if not isinstance(path, str) else _contract(path)
    values = load_outcomes(contract, text=json.dumps(outcomes), name="outcomes.json")
    settlement = compile_contract(contract).evaluate(values)
    return {(w.payment, w.period): w for w in why_not_paid(contract, values, settlement, languages=languages)}


def flat(text: str) -> str:
    """The words with ordinary spaces (amounts are kept on one line with no-break spaces)."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def _contract(text: str):
    contract, diagnostics = check_source(Source("c.sib", text))
    assert contract is not None, diagnostics
    return contract


def test_norrkoping_bonus_cut_by_the_school_gate():
    """Savings of 15 MSEK but no better school results: the gate on the total takes the bonus; the
    smallest change is the school results, not undoing the programme (a yes turned to no counts double)."""
    found = why(NK, {"actual_costs": "45 000 000 SEK", "reference_costs": "61 000 000 SEK",
                     "school_improved": False, "completed": True}, ("sv", "en"))
    assert list(found) == [("bonus", None)]
    bonus = found[("bonus", None)]
    assert (bonus.status, bonus.amount, bonus.cut_by, bonus.reachable, bonus.exact) == (
        "reduced", 0, ("school_gate",), True, True)
    assert [(c.measure, c.before, c.after) for c in bonus.changes] == [("school_improved", False, True)]
    assert bonus.would_pay == 2_000_000
    assert flat(bonus.words["en"]) == ("“Additional payment” was cut to SEK 0 by “The school condition”: it would have "
                                 "paid more had “Improved school results” been yes instead of no; it would then "
                                 "have paid SEK 2,000,000")
    assert flat(bonus.words["sv"]) == ("”Tilläggsersättning” begränsades till 0 kr av ”Skolvillkoret”: den hade gett "
                                 "mer om ”Förbättrade skolresultat” hade varit ja i stället för nej; den hade då gett "
                                 "2 000 000 kr")


def test_norrkoping_published_result_needs_lower_costs():
    """No savings: the outcome payment needs costs below the 60 MSEK baseline, the bonus below
    break-even (50 MSEK), to the krona (60 % of 1 SEK saved rounds to 1 SEK)."""
    found = why(NK, {"actual_costs": "62 000 000 SEK", "reference_costs": "61 000 000 SEK",
                     "school_improved": True, "completed": True})
    assert set(found) == {("outcome", None), ("bonus", None)}  # the activity payment was paid in full
    outcome, bonus = found[("outcome", None)], found[("bonus", None)]
    assert [(c.measure, c.after) for c in outcome.changes] == [("actual_costs", 59_999_999)]
    assert [(c.measure, c.after) for c in bonus.changes] == [("actual_costs", 49_999_999)]
    assert outcome.status == bonus.status == "unpaid" and outcome.would_pay == bonus.would_pay == 1
    assert "(SEK 12,000,001 lower)" in flat(bonus.words["en"])


def test_words_beside_a_settlement_write_amounts_as_its_tables():
    """The studio shows the answer under the settlement's line: its amounts as the settlement writes
    them (lang.money, issue 20), not as prose does; in Swedish the two are the same."""
    from sibdsl.why import words

    found = why(NK, {"actual_costs": "62 000 000 SEK", "reference_costs": "61 000 000 SEK",
                     "school_improved": True, "completed": True}, ("sv", "en"))
    bonus = found[("bonus", None)]
    tables = words(load_contract(NK), bonus, ("sv", "en"), tables=True)
    assert tables["en"] == ("“Additional payment” was not paid: it would have paid more had “Costs of the target "
                            "group” been 49 999 999 SEK instead of 62 000 000 SEK (12 000 001 SEK lower); it would "
                            "then have paid 1 SEK")
    assert flat(bonus.words["en"]).endswith("(SEK 12,000,001 lower); it would then have paid SEK 1")  # prose
    assert tables["sv"] == flat(bonus.words["sv"]) and "49 999 999 kr i stället för 62 000 000 kr" in tables["sv"]


def test_nyc_rikers_tiers_not_reached():
    at_nine = why(RIKERS, {"bed_day_reduction": "9 %"})[("success", None)]
    assert at_nine.status == "partial" and at_nine.amount == 4_800_000
    assert [(c.before, c.after) for c in at_nine.changes] == [(Fraction(9, 100), Fraction(10, 100))]
    assert at_nine.would_pay == 9_600_000
    assert "10 per cent instead of 9 per cent (1 percentage point higher)" in flat(at_nine.words["en"])
    at_zero = why(RIKERS, {"bed_day_reduction": "0 %"})[("success", None)]
    assert [c.after for c in at_zero.changes] == [Fraction(85, 1000)] and at_zero.would_pay == 4_800_000
    assert why(RIKERS, {"bed_day_reduction": "20 %"}) == {}  # the top tier: paid in full


def test_a_cap_that_no_outcome_can_lift():
    found = why(CAPPED, {"savings": "3 000 000 SEK"}, ("en", "sv"))[("p", None)]
    assert (found.status, found.reachable, found.cut_by, found.changes) == ("reduced", False, ("cap_1",), ())
    assert flat(found.words["en"]) == "“Utfallsersättning” was cut to SEK 1,000,000 by “cap_1”: no outcome can make it pay more (proved)"
    assert found.words["sv"].endswith("inget utfall kan ge mer (bevisat)")


CAPPED = """contract "Exempel" @en "Example"
  languages sv, en
  currency SEK
  rounding 1 SEK half up
party kommun "Kommunen": payer
party fond "Fonden": investor
measure savings: money
payment p "Utfallsersättning" = 50 % of savings from kommun to fond due 2025-06-30
cap total at 1 000 000 SEK
"""


def test_eval_why_text_and_json(run, tmp_path):
    outcomes = tmp_path / "o.json"
    outcomes.write_text(json.dumps({"bed_day_reduction": "9 %"}), encoding="utf-8")
    result = run("eval", str(RIKERS), "--outcomes", str(outcomes), "--why", "--no-trace")
    assert result.exit_code == 0
    assert "Why not paid (the smallest change of the measured outcomes that would have paid more)" in result.stdout
    assert "  success: “Success payment” paid USD 4,800,000: it would have paid more had" in result.stdout
    data = json.loads(run("eval", str(RIKERS), "--outcomes", str(outcomes), "--why", "--format", "json").stdout)
    assert data["why"][0]["smallest_change"] == [{"measure": "bed_day_reduction", "period": None,
                                                   "from": "9 %", "to": "10 %"}]
    assert data["why"][0]["would_pay"] == "9600000" and data["why"][0]["proved_smallest"] is True
    plain = json.loads(run("eval", str(RIKERS), "--outcomes", str(outcomes), "--format", "json").stdout)
    assert "why" not in plain  # only when asked


def test_a_payment_no_outcome_can_trigger():
    """A condition no outcome meets (savings are never negative): it can never be paid, proved."""
    text = CAPPED.replace("cap total at 1 000 000 SEK\n", "") + (
        "payment never \"Aldrig\" @en \"Never\" = 100 SEK from kommun to fond due 2025-06-30\n"
        "  when savings < 0 SEK\n")
    found = why(text, {"savings": "3 000 000 SEK"}, ("en", "sv"))
    assert list(found) == [("never", None)]
    never = found[("never", None)]
    assert (never.status, never.reachable, never.changes) == ("unpaid", False, ())
    assert flat(never.words["en"]) == "“Never” was not paid: no outcome pays it (proved)"
    assert flat(never.words["sv"]) == "”Aldrig” betalades inte ut: inget utfall ger någon utbetalning (bevisat)"


CPC = ROOT / "contracts" / "chicago_cpc.sib"


def test_a_payment_a_waterfall_distributes_is_explained_whole():
    """Chicago CPC's payments go to the vehicle and its waterfall passes them on to the lenders: the
    vehicle's line is at 0 by design and each step's line is a share, so the question is what the
    payer pays — the vehicle's and every step's lines of the payment together. Special education
    unpaid: one year avoided (9 100 USD) pays it, not the 1 803 years that would leave something
    with the vehicle once the lenders are whole; the early-outcomes payment, paid, is not "unpaid"."""
    found = why(CPC, {"kindergarten_ready": 172, "reading_at_grade": 0, "special_ed_years_avoided": 0}, ("en", "sv"))
    assert list(found) == [("special_education", None)]
    special = found[("special_education", None)]
    assert (special.status, special.amount, special.reachable, special.would_pay) == ("unpaid", 0, True, 9100)
    assert [(c.measure, c.before, c.after) for c in special.changes] == [("special_ed_years_avoided", 0, 1)]
    assert (special.to, special.shared) == ("iff", False)
    assert "→" not in special.words["en"]  # the payment, not one party's share of it


def test_why_json_names_each_lines_recipient_and_clause(run, tmp_path):
    outcomes = tmp_path / "o.json"
    outcomes.write_text(json.dumps({"kindergarten_ready": 172, "reading_at_grade": 0,
                                    "special_ed_years_avoided": 0}), encoding="utf-8")
    data = json.loads(run("eval", str(CPC), "--outcomes", str(outcomes), "--why", "--format", "json").stdout)
    assert [(x["payment"], x["to"], x["clause"]) for x in data["why"]] == [
        ("special_education", "iff", "special_education")]


CARD = """contract "Kort" @en "Card"
  languages sv, en
  currency SEK
  rounding 1 SEK half up
party kommun "Kommunen": payer
party fond "Fonden": provider
ratecard card "Prislista" @en "Rate card" from kommun to fond due 2025-06-30: {
  job "Arbete" @en "Job": 1 000 SEK,
  course "Kurs" @en "Course": 300 SEK,
  total cap 10 000 SEK in ORDER,
}
"""


def test_rate_card_outcomes_never_achieved_need_one_more_proved_smallest():
    """Project Apollo (a rate card under a total cap in declaration order): the outcomes counted 0
    times were not paid; one more of each pays its price, and no smaller change does — proved from
    the line's own price × count (its cap only lowers it), not left as "a smaller change may exist"."""
    contract = load_contract(ROOT / "contracts" / "care_leavers_apollo.sib")
    path = ROOT / "contracts" / "care_leavers_apollo.outcomes.json"
    values = load_outcomes(contract, text=path.read_text(encoding="utf-8"), name=path.name)
    found = why_not_paid(contract, values, compile_contract(contract).evaluate(values))
    assert [w.payment for w in found] == ["outcomes.consistent_relationship", "outcomes.begins_he",
                                          "outcomes.he_year_1", "outcomes.he_year_2", "outcomes.completes_he"]
    assert all(w.status == "unpaid" and w.exact for w in found)
    assert [[(c.measure, c.before, c.after) for c in w.changes] for w in found] == [
        [(w.payment, 0, 1)] for w in found]
    assert [w.would_pay for w in found] == [220, 660, 2750, 2750, 4730]
    assert all("a smaller change" not in w.words["en"] for w in found)


@pytest.mark.parametrize("order", ["declaration order", "claim order", "proportion"])
def test_rate_card_cut_by_its_total_cap(order):
    """9 jobs (9 000 SEK) and 5 courses (1 500 SEK) against a cap of 10 000 SEK. By hand: in an order
    the course gives first and is cut to 1 000 SEK; in proportion each line × 10 000 / 10 500, rounded
    down (8 571 and 1 428 SEK). Either way one job fewer (a change of 1/9) pays the course more
    (1 500 SEK, under the cap), and is smaller than one course more (1/5), which the cap would take
    again or share: the answer names the job, not the course, proved smallest."""
    found = why(CARD.replace("ORDER", order), {"card.job": 9, "card.course": 5}, ("en", "sv"))
    course = found[("card.course", None)]
    assert (course.status, course.cut_by, course.exact) == ("reduced", ("card",), True)
    assert course.amount == (1428 if order == "proportion" else 1000)
    assert [(c.measure, c.before, c.after) for c in course.changes] == [("card.job", 9, 8)]
    assert course.would_pay == 1500 and course.distance == Fraction(1, 9)
    assert "had “Job” been 8 instead of 9 (1 lower); it would then have paid SEK 1,500" in flat(course.words["en"])
    assert "(en mindre ändring" not in course.words["sv"]
    if order == "proportion":  # the job is shared down too: one job more raises its share
        job = found[("card.job", None)]
        assert (job.amount, job.would_pay, job.exact) == (8571, 8695, True)
        assert [(c.measure, c.after) for c in job.changes] == [("card.job", 10)]
    else:  # the job is paid in full: it gives only after the course
        assert ("card.job", None) not in found


def test_rate_card_outcome_not_achieved_in_each_order():
    """No course at all: one course pays 300 SEK, proved smallest whatever the order."""
    for order in ("declaration order", "claim order", "proportion"):
        course = why(CARD.replace("ORDER", order), {"card.job": 9, "card.course": 0})[("card.course", None)]
        assert (course.status, course.exact, course.would_pay) == ("unpaid", True, 300)
        assert [(c.measure, c.before, c.after) for c in course.changes] == [("card.course", 0, 1)]


def test_why_says_when_a_smaller_change_may_exist():
    """Where the search could not prove its change the smallest (the solver's work limit), the
    answer found is still given, with the plain warning in both languages and
    `proved_smallest: false` in JSON."""
    from sibdsl.why import Change, Why, why_json, words

    contract = _contract(CARD.replace("ORDER", "proportion"))
    found = Why("card.course", None, "reduced", Fraction(1428), True, (Change("card.job", None, 9, 8),),
                Fraction(1500), Fraction(1, 9), False, ("card",))
    said = words(contract, found, ("en", "sv"))
    assert said["en"].endswith("(a smaller change could not be ruled out within the work limit: raise --timeout)")
    assert said["sv"].endswith("(en mindre ändring kunde inte uteslutas inom arbetsgränsen: höj --timeout)")
    assert why_json([attrs.evolve(found, words=said)], contract)[0]["proved_smallest"] is False


@pytest.mark.parametrize("order", ["declaration order", "claim order", "proportion"])
def test_rate_card_smallest_change_matches_every_change_by_hand(order):
    """Every change of the card's two counts within reach (0–24 each), settled by the evaluator:
    the smallest that pays a line more is the distance `--why` reports as proved (each count's change
    over its measured value; over 100 when it was 0)."""
    contract = _contract(CARD.replace("ORDER", order))
    evaluator = compile_contract(contract)

    def paid(job: int, course: int) -> dict:
        values = load_outcomes(contract, text=json.dumps({"card.job": job, "card.course": course}), name="o.json")
        return {ln.payment: Fraction(ln.exact) for ln in evaluator.evaluate(values).lines}

    grid = {(j, c): paid(j, c) for j in range(25) for c in range(25)}
    for job, course in [(9, 5), (9, 0), (3, 2), (12, 1)]:
        found = why(CARD.replace("ORDER", order), {"card.job": job, "card.course": course})
        here = grid[(job, course)]
        for payment in ("card.job", "card.course"):
            smallest = min((abs(Fraction(j - job, job or 100)) + abs(Fraction(c - course, course or 100))
                            for (j, c), lines in grid.items() if lines[payment] > here[payment]), default=None)
            w = found.get((payment, None))
            if w is None:  # not explained: paid its price × count in full, more of it pays more
                count = {"card.job": job, "card.course": course}[payment]
                assert here[payment] == {"card.job": 1000, "card.course": 300}[payment] * count > 0
                continue
            assert w.exact and w.distance == smallest, (order, job, course, payment, w.distance, smallest)
