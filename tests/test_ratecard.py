"""Rate cards (issue 15): price × count per outcome and period, caps per outcome, per participant
and in total, cut in the order the card states; outcome files; fmt; verify."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest
import z3
from hypothesis import given, settings
from hypothesis import strategies as st

from sibdsl import SibError, check_source
from sibdsl.evaluate import Evaluator
from sibdsl.outcomes import load_outcomes
from sibdsl.parser import parse_text
from sibdsl.semantics.program import StepKind, lower
from sibdsl.source import Source
from sibdsl.syntax import same
from sibdsl.unparse import unparse
from sibdsl.verify import cut_lemmas as verify_lemmas
from sibdsl.verify import verify_contract

CARD = """contract "Care leavers"
  currency GBP
  rounding 1 GBP half up
party council "Council": payer
party fund "Fund": investor
periods quarters: q1 2020-01-01 to 2020-03-31, q2 2020-04-01 to 2020-06-30
cohort young_people "Care leavers": size 10
ratecard care "Rate card" per quarters from council to fund due 30 days after end: {
  soft "Soft outcome": 220 GBP,
  level1 "Level 1 qualification": 1 760 GBP cap 10 000 GBP,
  employment "Entered employment": 660 GBP,
  cap per participant 8 200 GBP,
  total cap %s GBP in %s order,
}
guarantee capped: total <= %s GBP
guarantee card_capped: care <= 20 000 GBP
"""


def checked(text):
    model, diagnostics = check_source(Source("card.sib", text))
    assert model is not None, [d.message for d in diagnostics]
    return model, diagnostics


def settle(model, row):
    return Evaluator(model).evaluate(row)


ROW = {"care.soft": {"q1": Fraction(10), "q2": Fraction(10)},
       "care.level1": {"q1": Fraction(4), "q2": Fraction(3)},
       "care.employment": {"q1": Fraction(2), "q2": Fraction(20)}}


def amounts(settlement):
    return {(ln.payment, ln.period): Fraction(ln.amount) for ln in settlement.lines}


def test_a_card_pays_price_times_count_and_cuts_the_latest_claims_first():
    model, _ = checked(CARD % ("20 000", "claim", "20 000"))
    got = amounts(settle(model, ROW))
    # level1: 7 040 + 5 280 capped at 10 000 → q2 gives 2 320; per participant 82 000 does not bind;
    # total: 2 200 + 7 040 + 1 320 (q1) + 2 200 + 2 960 + 13 200 (q2) = 28 920 → 8 920 from q2, last first
    assert got[("care.soft", "q1")] == 2200 and got[("care.level1", "q1")] == 7040
    assert got[("care.employment", "q1")] == 1320
    assert got[("care.employment", "q2")] == 13200 - 8920
    assert got[("care.level1", "q2")] == 2960 and got[("care.soft", "q2")] == 2200
    assert sum(got.values()) == 20000


def test_declaration_order_cuts_the_outcome_listed_last_first():
    model, _ = checked(CARD % ("20 000", "declaration", "20 000"))
    got = amounts(settle(model, ROW))
    assert got[("care.employment", "q2")] == 13200 - 8920 and got[("care.employment", "q1")] == 1320
    assert sum(got.values()) == 20000
    assert got[("care.soft", "q1")] + got[("care.soft", "q2")] == 4400  # listed first: kept whole


def test_the_trail_says_which_cap_cut_and_in_which_order():
    model, _ = checked(CARD % ("20 000", "claim", "20 000"))
    text = json.dumps([ln.steps for ln in settle(model, ROW).lines], default=str)
    assert "later claims first" in text and "outcome level1, later periods first" in text


def test_the_program_has_one_card_step_per_cap():
    model, _ = checked(CARD % ("20 000", "claim", "20 000"))
    program = lower(model)
    kinds = [st.kind for st in program.steps]
    assert kinds.count(StepKind.CARD_CAP) == 3  # level1's cap, per participant, total
    assert [ln.payment for ln in program.lines][:2] == ["care.soft", "care.soft"]


def test_counts_come_from_the_outcome_file_per_outcome_and_period_and_must_be_whole():
    model, _ = checked(CARD % ("20 000", "claim", "20 000"))
    good = json.dumps({"care.soft": {"q1": 1, "q2": 2}, "care.level1": {"q1": 0, "q2": 0},
                       "care.employment": {"q1": 0, "q2": 0}})
    values = load_outcomes(model, text=good, name="o.json")
    assert settle(model, values).total == 660
    bad = good.replace('"q1": 1', '"q1": 2.5')
    with pytest.raises(SibError) as info:
        load_outcomes(model, text=bad, name="o.json")
    [problem] = info.value.diagnostics
    assert problem.code == "E504"
    assert problem.message == "`care.soft for q1` is a count and must be a whole number, not `2.5`"
    assert (problem.span.line, problem.span.column) == (1, 16)  # the 2.5 in the file


def test_fmt_round_trips_a_card():
    text = CARD % ("20 000", "claim", "20 000")
    tree = parse_text(text)
    assert same(parse_text(unparse(tree)), tree)


def test_verify_proves_the_total_cap_of_a_card():
    model, _ = checked(CARD % ("20 000", "claim", "20 000"))
    verdicts = verify_contract(model, timeout=30)
    assert verdicts and all(v.status == "proved" for v in verdicts), [(v.status, v.message) for v in verdicts]


def test_misuses_have_codes():
    text = CARD % ("20 000", "claim", "20 000")
    dup = text.replace('  employment "Entered employment": 660 GBP,', '  soft: 660 GBP,')
    _, diagnostics = check_source(Source("card.sib", dup))
    assert "E460" in {d.code for d in diagnostics}
    negative = text.replace("660 GBP", "-660 GBP")
    _, diagnostics = check_source(Source("card.sib", negative))
    assert "E461" in {d.code for d in diagnostics}
    outside = text + "define spent = care\n"  # a card's name means its total only in a guarantee
    _, diagnostics = check_source(Source("card.sib", outside))
    assert "E309" in {d.code for d in diagnostics}
    low = text.replace("cap 10 000 GBP", "cap 100 GBP")
    _, diagnostics = check_source(Source("card.sib", low))
    assert "W460" in {d.code for d in diagnostics}


def test_the_shipped_care_leavers_contracts_are_one_card_each_and_the_same_card():
    """contracts/care_leavers_*.sib: 23 outcomes, one DfE card per project (~25 lines of .sib each,
    where 23 measures and 23 payments took ~130); INDIGO's actual payments ÷ price are the counts,
    and each project's published total is settled (I-Aspire £2,165,460, Reboot West £1,871,540,
    Apollo £848,540). The card is the same card: the same outcomes at the same prices."""
    from sibdsl import load_contract

    from .conftest import ROOT

    cards = {}
    for stem, published in (("care_leavers_i_aspire", 2_165_460), ("care_leavers_reboot_west", 1_871_540),
                            ("care_leavers_apollo", 848_540)):
        model = load_contract(ROOT / "contracts" / f"{stem}.sib")
        assert list(model.rate_cards) == ["outcomes"] and len(model.rate_cards["outcomes"].outcomes) == 23
        assert set(model.payments) == {o.payment for o in model.rate_cards["outcomes"].outcomes}
        text = (ROOT / "contracts" / f"{stem}.sib").read_text(encoding="utf-8")
        card = text[text.index("\nratecard "):text.index("\n}\n") + 2]
        assert len(card.strip().splitlines()) <= 32  # one card of 23 outcomes, its 5 group comments and its cap
        outcomes = load_outcomes(model, ROOT / "contracts" / f"{stem}.outcomes.json")
        assert settle(model, outcomes).total == published
        cards[stem] = [(o.name, o.price) for o in model.rate_cards["outcomes"].outcomes]
    assert len({tuple(c) for c in cards.values()}) == 1
    # Apollo's maximum is its card's total cap: 400 outcomes at £2,750 are cut to it
    apollo = load_contract(ROOT / "contracts" / "care_leavers_apollo.sib")
    counts = dict.fromkeys(load_outcomes(apollo, ROOT / "contracts" / "care_leavers_apollo.outcomes.json"), Fraction(0))
    counts["outcomes.earns_8155"] = Fraction(400)
    assert settle(apollo, counts).total == apollo.rate_cards["outcomes"].total_cap == 1_083_550


def test_indexed_prices_rise_for_each_whole_year_from_the_date():
    text = """contract "Indexed"
  currency GBP
  rounding 1 GBP half up
party city "City": payer
party fund "Fund": investor
periods years: y1 2020-01-01 to 2020-12-31, y2 2021-01-01 to 2021-12-31, y3 2022-01-01 to 2022-12-31
ratecard care per years from city to fund due 30 days after end: {
  soft: 220 GBP,
  level1: 1 760 GBP cap 5 000 GBP,
  indexed 10 % per year from 2020-06-30,
  total cap 7 000 GBP in claim order,
}
"""
    model, _ = checked(text)
    one = {"y1": Fraction(1), "y2": Fraction(1), "y3": Fraction(1)}
    got = amounts(settle(model, {"care.soft": one, "care.level1": one}))
    # y2 starts half a year after the date: no whole year yet; y3 one whole year: +10 %
    assert got[("care.soft", "y2")] == 220 and got[("care.soft", "y3")] == 242
    assert got[("care.level1", "y3")] == 5000 - 1760 - 1760  # 1 936 GBP, cut by the outcome's cap
    assert same(parse_text(unparse(parse_text(text))), parse_text(text))
    unindexed = text.replace("  indexed 10 % per year from 2020-06-30,\n", "").replace("per years ", "")
    _, diagnostics = check_source(Source("i.sib", text.replace("per years ", "")))
    assert "E462" in {d.code for d in diagnostics}
    assert checked(unindexed)[0] is not None


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-50, 200), min_size=0, max_size=8), st.integers(-100, 600))
def test_the_lemmas_verify_states_about_a_cut_are_identities(amounts, excess):
    """verify.cut_lemmas: a cut takes min(excess, what the lines have) when the excess is positive,
    and leaves each line between min(its amount, 0) and its amount — on the reference cut."""
    from sibdsl.evaluate import _Concrete
    from sibdsl.semantics.run import cut

    out, _ = cut(_Concrete, amounts, excess)
    has = sum(a for a in amounts if a > 0)
    assert sum(out) == sum(amounts) - (min(excess, has) if excess > 0 else 0)
    assert all(min(a, 0) <= o <= a for o, a in zip(out, amounts))
    lemmas = z3.And(verify_lemmas([z3.RealVal(a) for a in amounts], z3.RealVal(excess),
                                  [z3.RealVal(o) for o in out]) or [z3.BoolVal(True)])
    assert z3.is_true(z3.simplify(lemmas))


def test_a_card_of_20_outcomes_by_4_periods_verifies_without_unknowns():
    import sys

    sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent.parent / "benchmarks"))
    import ratecard

    model, _ = checked(ratecard.contract(20, 4))
    verdicts = verify_contract(model)
    assert len(verdicts) == 22 and all(v.status == "proved" for v in verdicts), [
        (v.key, v.status) for v in verdicts if v.status != "proved"]


def test_coverage_counts_a_card_s_cap_as_two_branches(tmp_path):
    """`sibc test --coverage`: a card's total cap acts or does not, like a cap on the total; a
    scenario file that never reaches it leaves a branch uncovered."""
    import shutil

    from click.testing import CliRunner

    from sibdsl.cli import main

    from .conftest import ROOT

    for suffix in (".sib", ".outcomes.json", ".scenarios.csv"):
        shutil.copy(ROOT / "contracts" / f"care_leavers_apollo{suffix}", tmp_path / f"c{suffix}")
    out = CliRunner().invoke(main, ["test", "--coverage", str(tmp_path / "c.sib")])
    assert out.exit_code == 0, out.output
    assert "2 of 2 reachable branches (100.0 %)" in out.output
    assert "ratecard outcomes" in out.output and "the cap limits the amount  (The maximum)" in out.output
    rows = (tmp_path / "c.scenarios.csv").read_text(encoding="utf-8").splitlines()
    (tmp_path / "c.scenarios.csv").write_text("\n".join(r for r in rows if not r.startswith("The maximum")) + "\n",
                                             encoding="utf-8")
    out = CliRunner().invoke(main, ["test", "--coverage", str(tmp_path / "c.sib")])
    assert "1 of 2 reachable branches (50.0 %)" in out.output, out.output


# ---------------------------------------------------------------- a total cap in proportion (pro rata)
PRO_RATA = (CARD % ("20 000", "claim", "20 000")).replace("in claim order", "in proportion")


def test_in_proportion_scales_every_line_by_cap_over_total_rounded_down():
    model, _ = checked(PRO_RATA)
    got = amounts(settle(model, ROW))
    # level1's own cap first (7 040 + 5 280 → q2 gives 2 320), then 28 920 claimed against 20 000:
    # every line × 20 000 / 28 920, rounded down to 1 GBP; the 3 GBP the rounding leaves is not paid
    claimed = {("care.soft", "q1"): 2200, ("care.soft", "q2"): 2200, ("care.level1", "q1"): 7040,
               ("care.level1", "q2"): 2960, ("care.employment", "q1"): 1320, ("care.employment", "q2"): 13200}
    assert sum(claimed.values()) == 28920
    assert got == {k: Fraction(v * 20000 // 28920) for k, v in claimed.items()}
    assert got[("care.soft", "q1")] == 1521 and got[("care.employment", "q2")] == 9128
    assert sum(got.values()) == 19997


def test_in_proportion_changes_nothing_under_the_cap():
    model, _ = checked(PRO_RATA.replace("20 000 GBP in proportion", "90 000 GBP in proportion"))
    got = amounts(settle(model, ROW))
    assert sum(got.values()) == 28920 and got[("care.employment", "q2")] == 13200


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 10_000), min_size=1, max_size=8), st.integers(0, 20_000),
       st.sampled_from([Fraction(1), Fraction(1, 100), Fraction(50)]))
def test_a_cut_in_proportion_never_pays_more_than_the_level_and_leaves_under_a_step_a_line(amounts_, level, unit):
    """semantics.run.pro_rata on numbers: within the level, each line between 0 and what it was, a
    multiple of the step, and the remainder under one step per line; equal claims get equal lines.
    The facts verify states to z3 about it (verify.pro_rata_lemmas) are identities."""
    from sibdsl.evaluate import _Concrete
    from sibdsl.semantics.run import pro_rata
    from sibdsl.values import rounder
    from sibdsl.verify import pro_rata_lemmas

    kernel = _Concrete()
    kernel.round_down = rounder(unit, "down")
    lines = [a * unit for a in amounts_]
    level = level * unit
    total = sum(lines)
    out, acted = kernel.pro_rata(None, lines, total - level)
    if total <= level:
        assert out == lines and acted is False
    else:
        assert acted is True
        assert sum(out) <= level and level - sum(out) < unit * len(lines)
        assert all(0 <= o <= a and (o / unit).denominator == 1 for o, a in zip(out, lines))
        assert all(o == p for a, o in zip(lines, out) for b, p in zip(lines, out) if a == b)
        assert out == pro_rata(kernel, lines, total - level)[0]
    z = [z3.RealVal(str(x)) for x in lines]
    facts = pro_rata_lemmas(z, z3.RealVal(str(max(min(level, total), 0))), [z3.RealVal(str(o)) for o in out],
                            z3.BoolVal(bool(acted)), unit)
    assert z3.is_true(z3.simplify(z3.And(facts)))


def test_the_trail_and_the_program_say_in_proportion():
    model, _ = checked(PRO_RATA)
    program = lower(model)
    cards = [st for st in program.steps if st.kind is StepKind.CARD_CAP]
    assert [st.pro_rata for st in cards] == [False, True, True]  # level1's cap, per participant, total
    text = json.dumps([ln.steps for ln in settle(model, ROW).lines], default=str, ensure_ascii=False)
    assert "in proportion: each line × the cap ÷ the lines' total, rounded down" in text


def test_the_trail_shows_the_factor_of_a_cut_in_proportion():
    """Each line a cut in proportion changed shows the factor (the cap ÷ the lines' total) exactly and
    as a percentage, in the text and, as numbers, in --format json."""
    from sibdsl.report import settlement_json

    model, _ = checked(PRO_RATA)
    settlement = settle(model, ROW)
    cut = [(ln, step) for ln in settlement.lines for step in ln.steps if step.factor is not None]
    assert len(cut) == 6  # every line of the card, each × 20 000 ÷ 28 920 (level1's own cap first)
    for _ln, step in cut:
        assert step.factor == Fraction(20_000, 28_920) == Fraction(500, 723)
        assert step.detail.endswith("; factor 20 000 ÷ 28 920 = 500/723 ≈ 69.1563 %"), step.detail
        assert step.after == int(Fraction(step.before) * step.factor)  # the line: its claim × the factor, rounded down
    steps = [st for ln in settlement_json(settlement)["lines"] for st in ln["steps"] if "factor" in st]
    assert [st["factor"] for st in steps] == [{"exact": "500/723", "percent": "69.1563"}] * 6
    # a cap that cuts in an order has no factor
    model, _ = checked(CARD % ("20 000", "claim", "20 000"))
    assert not [st for ln in settle(model, ROW).lines for st in ln.steps if st.factor is not None]


def test_fmt_round_trips_a_card_in_proportion():
    tree = parse_text(PRO_RATA)
    printed = unparse(tree)
    assert "total cap 20 000 GBP in proportion" in printed
    assert same(parse_text(printed), tree)


def test_verify_proves_a_card_in_proportion_by_bounds_without_the_solver():
    """The cut's z3 encoding is nonlinear (a division by the symbolic total): the card's cap and
    "never negative" are proved by bounds (bounds.py), so there is no unknown."""
    model, _ = checked(PRO_RATA)
    verdicts = verify_contract(model, timeout=30)
    assert verdicts and all(v.status == "proved" for v in verdicts), [(v.key, v.status) for v in verdicts]
    by = {v.key: v.method for v in verdicts}
    assert by["guarantee:capped"] == "bounds" and by["nonnegative:care.employment"] == "bounds"


SMALL = """contract "Small card"
  currency GBP
  rounding 1 GBP half up
party council "Council": payer
party fund "Fund": investor
ratecard card from council to fund due 2021-01-31: {
  a: 3 GBP,
  b: 3 GBP,
  total cap 10 GBP in proportion,
}
guarantee steps: card == 0 GBP or card == 3 GBP or card == 6 GBP or card >= 9 GBP
guarantee whole: card >= 10 GBP or card <= 8 GBP
"""


def test_the_solver_reads_a_cut_in_proportion_exactly():
    """What bounds cannot decide goes to z3, which has the exact cut: above the cap the card pays
    more than the cap less a step a line (so 9 or 10 GBP, never 7 or 8: `steps` is proved), and 9
    GBP is paid (`whole` is violated, with the outcomes that show it)."""
    model, _ = checked(SMALL)
    verdicts = {v.key: v for v in verify_contract(model, timeout=30)}
    assert verdicts["guarantee:steps"].status == "proved" and verdicts["guarantee:steps"].method == "solver"
    whole = verdicts["guarantee:whole"]
    assert whole.status == "violated" and whole.shown
    shown = whole.shown[0]
    assert 3 * (shown.get("card.a", 0) + shown.get("card.b", 0)) >= 9


def test_an_interim_settlement_of_a_card_in_proportion_waits_for_every_claim():
    """A line of a card cut in proportion depends on every line of the card (the factor is the cap
    over all of them): none is settled while a count of the card is not yet measured."""
    from sibdsl.semantics.pending import waiting

    model, _ = checked(PRO_RATA)
    program = lower(model)
    waits = waiting(program, [("care.employment", "q2")])
    assert all(("care.employment", "q2") in w for w in waits)
    claim, _ = checked(CARD % ("20 000", "claim", "20 000"))
    waits = waiting(lower(claim), [("care.employment", "q2")])
    assert not waits[0]  # in claim order, q1's soft outcomes are settled now


def test_the_staged_evaluator_folds_and_stages_the_part_of_a_cut_in_proportion():
    from sibdsl.evaluate import _Stager, compile_contract

    model, _ = checked(PRO_RATA)
    stager = _Stager(compile_contract(model))
    k = stager.part(stager.const(100), stager.const(150), stager.const(310))
    assert stager.known[k] == 48  # 100 × 150 / 310 = 48.39…, rounded down
    unknown = stager._new()
    staged = stager.part(unknown, stager.const(150), stager.const(310))
    assert staged not in stager.known
    registers = list(stager.values)
    registers[unknown] = 10
    stager.ops[-1][0](registers)
    assert registers[staged] == 4
