"""Issue 17: verification a lawyer can act on — undecided properties fail the run in plain words,
leaking gates and floors above caps across levels are caught, counterexamples are round and say
which promise broke and by how much (sv and en), the monotonicity message states the direction
and points at the table row, a negative payment points at the sub-expression."""

from __future__ import annotations

import json
from fractions import Fraction

from sibdsl import load_contract
from sibdsl.verify import PROVED, UNKNOWN, VIOLATED, verify_contract

from .conftest import ROOT

WRONG = ROOT / "tests" / "corpus" / "wrong"


def _verdicts(path, **kw) -> dict:
    return {v.key: v for v in verify_contract(load_contract(path), **kw)}


# a contract whose properties need the solver (Norrköping's are all decided by intervals or structure
# since issue 21's sixth round): Massachusetts' "never negative" lines run through its waterfall's rounding
NEEDS_THE_SOLVER = "contracts/massachusetts_jj.sib"


def test_an_undecided_property_fails_the_run_in_plain_words(run):
    result = run("verify", NEEDS_THE_SOLVER, "--timeout", "0.01")
    assert result.exit_code == 1
    assert " unknown" in result.stdout and ", 0 unknown" not in result.stdout
    assert "sibc could not decide this within its work limit (--timeout 0.01, the same on every machine)" \
        in result.stdout
    assert "`sibc verify --timeout 60`" in result.stdout
    for jargon in ("canceled", "gave up", "rlimit", "solver gave"):
        assert jargon not in result.stdout
    swedish = run("verify", NEEDS_THE_SOLVER, "--timeout", "0.01", "--lang", "sv")
    assert swedish.exit_code == 1 and "sibc kunde inte avgöra detta inom sin arbetsgräns" in swedish.stdout
    # --strict is kept for old scripts and means nothing more now
    assert run("verify", NEEDS_THE_SOLVER, "--timeout", "0.01", "--strict").exit_code == 1
    assert run("verify", NEEDS_THE_SOLVER).exit_code == 0


def test_unknown_verdicts_carry_both_languages():
    verdicts = verify_contract(load_contract(ROOT / NEEDS_THE_SOLVER), timeout=0.01)
    unknown = [v for v in verdicts if v.status == UNKNOWN]
    assert unknown
    for v in unknown:
        assert set(v.words) == {"en", "sv"} and v.reason == v.words["en"]


def test_a_second_payment_that_grows_above_the_loan_leaks_past_the_gate():
    verdicts = _verdicts(WRONG / "leak_through_second_payment.sib")
    assert verdicts["gate:gate_1"].status == PROVED  # the gated payment itself is zero: the old check passed
    leak = verdicts["leak:gate_1"]
    assert leak.status == VIOLATED
    before, after = leak.counterexample
    assert before["school_improved"] is False and after["school_improved"] is False
    assert leak.words["en"] == (
        "with the condition of the gate (line 16) not met, `bonus` would grow from 1 000 000 SEK to "
        "2 000 000 SEK and the gate withholds it, but `premium` grows from 100 000 SEK to 300 000 SEK: the "
        "total rises by 200 000 SEK. Gate `premium` on the same condition, or gate the total instead")
    assert leak.words["sv"].startswith("när villkoret (rad 16) inte är uppfyllt skulle `bonus` växa från "
                                       "1 000 000 kr till 2 000 000 kr")


def test_a_gate_on_every_growing_payment_does_not_leak(tmp_path):
    text = (WRONG / "leak_through_second_payment.sib").read_text(encoding="utf-8")
    fixed = tmp_path / "fixed.sib"
    fixed.write_text(text + "gate premium requires school_improved\n", encoding="utf-8")
    verdicts = _verdicts(fixed)
    assert verdicts["leak:gate_1"].status == PROVED
    assert {v.status for v in verdicts.values()} == {PROVED}


def test_a_cap_per_participant_below_a_total_floor_names_both():
    verdicts = _verdicts(WRONG / "participant_cap_below_floor.sib")
    conflict = verdicts["floor-below-cap:floor_1:cap_1"]
    assert conflict.status == VIOLATED
    assert conflict.words["en"] == (
        "the floor `floor_1` (line 12) is 5 000 000 SEK, but the cap per participant `cap_1` (line 13) allows at "
        "most 3 000 000 SEK: both cannot hold; the floor is 2 000 000 SEK above the cap")
    assert "taket per deltagare `cap_1` (rad 13) tillåter högst 3 000 000 kr" in conflict.words["sv"]
    assert verdicts["cap:cap_1"].words["en"] == (
        "the total is 5 000 000 SEK, 2 000 000 SEK above the cap per participant of 3 000 000 SEK (line 13)")


def test_a_payment_floor_above_a_period_cap_is_a_conflict(tmp_path):
    path = tmp_path / "period.sib"
    path.write_text("""contract "Perioder"
  currency SEK
  rounding 1 SEK half up
party city "Staden": payer
party fund "Fonden": investor
term 2020-01-01 to 2022-12-31
periods year: y2021 2021-01-01 to 2021-12-31, y2022 2022-01-01 to 2022-12-31
measure served: count per year
payment yearly = 1 000 SEK * served from city to fund per year due 30 days after end
floor yearly at 200 000 SEK
cap per year at 150 000 SEK
""", encoding="utf-8")
    conflict = _verdicts(path)["floor-below-cap:floor_1:cap_1"]
    assert conflict.status == VIOLATED
    assert "the floor `floor_1` (line 10) is 200 000 SEK for y2021, but the cap per period of `year`" \
        in conflict.words["en"]


def test_counterexamples_are_round_and_show_only_what_matters():
    compounding = _verdicts(WRONG / "compounding_breaks_the_limit.sib")["guarantee:simple_interest"]
    assert compounding.counterexample == ({"savings": "15000000 SEK"},)  # not 14 699 723.01 SEK
    negative = _verdicts(WRONG / "negative_on_a_bad_year.sib")["nonnegative:yearly"]
    ((data,),) = [negative.counterexample]
    assert data == {"costs": {"y2021": "0 SEK", "y2022": "3000000 SEK"}}
    leaky = _verdicts(WRONG / "leaky_gate.sib")["gate:gate_1"]
    assert leaky.counterexample == ({"savings": "0 SEK", "school_improved": False},)
    assert leaky.shown == ({"school_improved": False},)
    for verdicts in (_verdicts(p) for p in sorted(WRONG.glob("*.sib"))):
        for v in verdicts.values():
            for data in v.counterexample:
                for value in (x for d in [data] for x in d.values()):
                    for number in (value.values() if isinstance(value, dict) else [value]):
                        if isinstance(number, str) and number.endswith(" SEK"):
                            assert Fraction(number.removesuffix(" SEK")).denominator == 1, (v.key, data)


def test_the_monotonicity_message_states_the_direction_and_points_at_the_row(tmp_path):
    v = _verdicts(WRONG / "table_not_monotone.sib")["monotone:reduction"]
    assert v.words["en"] == (
        "when `reduction` improves from 15 % to 20 % (higher is better), the total falls from 1 500 000 SEK to "
        "1 200 000 SEK: 300 000 SEK less for a better outcome; the table at line 10 pays less in its row "
        "`from 20 %` (line 14) than in the row `from 15 %`")
    assert v.line == 14  # the row, not the measure
    # lower is better: a cost table that pays more when costs rise is stated the right way round
    path = tmp_path / "costs.sib"
    path.write_text("""contract "Kostnader"
  currency SEK
  rounding 1 SEK half up
party city "Staden": payer
party fund "Fonden": investor
measure costs: money better lower
payment grid = tiers(costs) {
  below: 2 500 000 SEK,
  from 1 000 000 SEK: 2 000 000 SEK,
  from 2 000 000 SEK: 2 500 000 SEK
} from city to fund
""", encoding="utf-8")
    v = _verdicts(path)["monotone:costs"]
    assert v.status == VIOLATED
    assert v.words["en"].startswith("when `costs` improves from 2 000 000 SEK to 1 000 000 SEK (lower is better), "
                                    "the total falls from 2 500 000 SEK to 2 000 000 SEK")
    assert "the table at line 7 pays less in its row `from 1 000 000 SEK` (line 9) than in the row " \
        "`from 2 000 000 SEK`" in v.words["en"]
    assert v.line == 9
    assert v.words["sv"].startswith("när `costs` förbättras från")


def test_a_negative_payment_points_at_the_subtraction_that_needs_a_bound():
    v = _verdicts(WRONG / "negative_on_a_bad_year.sib")["nonnegative:yearly"]
    assert v.words["en"] == (
        "`yearly` for y2022 is -500 000 SEK, 500 000 SEK below zero: `baseline_costs - costs` (line 13, column 27) "
        "is -1 000 000 SEK; bound it, e.g. max(baseline_costs - costs, 0 SEK)")
    assert v.line == 13


def test_json_carries_the_words_and_the_outcomes_that_matter(run):
    result = run("verify", str(WRONG / "leaky_gate.sib"), "--format", "json")
    assert result.exit_code == 1
    (entry,) = [p for p in json.loads(result.stdout)["files"][0]["properties"] if p["verdict"] == VIOLATED]
    assert entry["words"]["sv"] == "villkoret (rad 12) är inte uppfyllt, ändå är `bonus` 100 000 kr i stället för 0 kr"
    assert entry["outcomes_that_matter"] == [{"school_improved": False}]
    assert entry["line"] == 12


def test_a_broken_monotone_guarantee_states_its_direction(tmp_path):
    path = tmp_path / "guarantee.sib"
    path.write_text("""contract "Utfästelse"
  currency SEK
  rounding 1 SEK half up
party city "Staden": payer
party fund "Fonden": investor
measure savings: money
payment p = if savings > 1 000 000 SEK then 100 000 SEK else 200 000 SEK from city to fund
guarantee grows: total nondecreasing in savings
""", encoding="utf-8")
    v = _verdicts(path)["guarantee:grows"]
    assert v.status == VIOLATED
    assert v.words["en"].startswith("when `savings` grows from ")
    assert v.words["en"].endswith("the guaranteed quantity falls from 200 000 SEK to 100 000 SEK: 100 000 SEK "
                                  "less, although the guarantee (line 8) says it never falls")
    assert "minskar den garanterade storheten från 200 000 kr till 100 000 kr" in v.words["sv"]


def test_the_same_counterexample_whatever_the_process_solved_before():
    """The readable counterexample is searched in a z3 context of its own: the same in a test run
    as in a fresh `sibc verify`."""
    path = WRONG / "leak_through_second_payment.sib"
    first = _verdicts(path)["leak:gate_1"].counterexample
    for other in sorted(WRONG.glob("*.sib")):
        _verdicts(other)
    # work in z3's main context that changes its term ids and learned state, as the budget's
    # proofs or a long-running server do
    import z3
    busy = z3.Solver()
    xs = [z3.Real(f"x{i}") for i in range(40)]
    busy.add(*(a + 2 * b >= i for i, (a, b) in enumerate(zip(xs, xs[1:]))), z3.Sum(xs) <= 7)
    busy.set("rlimit", 200_000)
    busy.check()
    assert _verdicts(path)["leak:gate_1"].counterexample == first == (
        {"savings": "11000000 SEK", "school_improved": False}, {"savings": "13000000 SEK", "school_improved": False})


def test_every_seeded_violation_has_words_in_both_languages():
    for path in sorted(WRONG.glob("*.sib")):
        for v in _verdicts(path).values():
            if v.status == VIOLATED:
                assert set(v.words) == {"en", "sv"} and v.words["en"] != v.words["sv"], (path.name, v.key)
    guarantee = _verdicts(WRONG / "compounding_breaks_the_limit.sib")["guarantee:simple_interest"]
    assert guarantee.words["sv"] == ("utfästelsen `simple_interest` “Högst 8 procent om året, enkel ränta” (rad 13) "
                                     "gäller inte för dessa utfall: summan är 14 699 478 kr (`outcome` 14 699 478 kr)")
