"""Issue 17: assumptions about the measured outcomes — `assume flagged <= served`.

Verification proves every property under them (and refuses to prove anything when they contradict
each other, E702); evaluation refuses outcomes that break one (E473); the checker refuses
assumptions about payments (E470), that are not conditions (E471) or that read no measure (E472)."""

from __future__ import annotations

import json

import pytest

from sibdsl import check_source, compile_contract, load_outcomes
from sibdsl.compiler import EvaluationError
from sibdsl.fmt import format_text
from sibdsl.parser import parse
from sibdsl.source import Source
from sibdsl.syntax import same
from sibdsl.verify import PROVED, VIOLATED, verify_contract
from sibdsl.verify_checks import dead_clauses

HEAD = """contract "Särskolan" @en "Special education"
  languages sv, en
  currency SEK
  rounding 1 SEK half up
party city "Staden": payer
party fund "Fonden": investor
measure flagged "Flaggade barn": count
measure sen "Barn i särskolan": count
"""


def _check(text: str):
    return check_source(Source("draft.sib", text))


def _contract(text: str):
    contract, diagnostics = _check(text)
    assert contract is not None, [d.message for d in diagnostics]
    return contract


def _verdicts(text: str) -> dict:
    return {v.key: v for v in verify_contract(_contract(text))}


def _codes(text: str) -> list[str]:
    return [d.code for d in _check(text)[1]]


NEGATIVE = HEAD + "payment avoided = 10 000 SEK * (flagged - sen) from city to fund\n"


def test_an_assumption_is_a_hypothesis_of_every_proof():
    without = _verdicts(NEGATIVE)["nonnegative:avoided"]
    assert without.status == VIOLATED
    assert without.counterexample[0]["sen"] > without.counterexample[0]["flagged"]
    with_it = _verdicts(NEGATIVE + "assume sen <= flagged\n")["nonnegative:avoided"]
    assert with_it.status == PROVED


def test_a_counterexample_respects_the_assumptions():
    """The issue's "110 children using special education out of 0 flagged": with the assumption
    stated, a counterexample to a promise that fails anyway has at least as many flagged."""
    text = HEAD + ("payment avoided = 10 000 SEK * sen from city to fund\n"
                   "guarantee budget: total <= 1 000 000 SEK\n")
    broken = _verdicts(text)["guarantee:budget"]
    assert broken.status == VIOLATED
    example = broken.counterexample[0]
    assert example["sen"] > example["flagged"]  # without the assumption: more in special education than flagged
    assumed = _verdicts(text + "assume sen <= flagged\n")["guarantee:budget"]
    assert assumed.status == VIOLATED
    example = assumed.counterexample[0]
    assert example["sen"] > 100 and example["flagged"] >= example["sen"]


def test_dead_clause_analysis_reads_the_assumptions():
    text = NEGATIVE + "floor avoided at 0 SEK\n"
    assert not any(r["key"] == "dead:floor_1" for r in dead_clauses(_contract(text)))
    dead = [r for r in dead_clauses(_contract(text + "assume sen <= flagged\n")) if r["key"] == "dead:floor_1"]
    assert len(dead) == 1 and dead[0]["code"] == "W410"


def test_a_range_assumption_bounds_a_measure():
    text = HEAD + ("payment avoided = 10 000 SEK * flagged from city to fund\n"
                   "cap total at 5 000 000 SEK\n")
    assert any(r["key"] == "dead:cap_1" for r in dead_clauses(_contract(text + "assume flagged <= 500\n")))
    assert not any(r["key"] == "dead:cap_1" for r in dead_clauses(_contract(text + "assume flagged <= 501\n")))


def test_contradictory_assumptions_prove_nothing_and_name_the_conflict():
    text = NEGATIVE + "assume sen_within: sen <= flagged\nassume flagged <= 100\nassume sen >= 200\n" \
        "assume flagged >= 1\n"
    verdicts = verify_contract(_contract(text))
    assert [v.key for v in verdicts] == ["assumptions"]
    (v,) = verdicts
    assert v.status == VIOLATED
    # the smallest conflicting set: lines 10–12, not the harmless `flagged >= 1` on line 13
    assert v.words["en"].startswith("the assumptions on lines 10 (`sen_within`), 11 and 12 contradict each other")
    assert v.words["sv"].startswith("antagandena på raderna 10 (`sen_within`), 11 och 12 motsäger varandra")
    # `sibc check` reports it as E702, and no dead-clause warnings on top of it
    from sibdsl.proofcache import diagnostic, verify_cached

    source = Source("draft.sib", text)
    records = verify_cached(_contract(text), source, use_cache=False)
    assert [r["key"] for r in records] == ["assumptions"]
    d = diagnostic(records[0], source)
    assert d.code == "E702" and d.span.line == 10


def test_one_assumption_against_a_measure_range():
    text = HEAD.replace("measure sen \"Barn i särskolan\": count",
                        "measure sen \"Barn i särskolan\": count between 0 and 50") + \
        "payment p = 1 000 SEK * sen from city to fund\nassume sen >= 60\n"
    (v,) = verify_contract(_contract(text))
    assert v.words["en"].startswith("no outcomes within the measures' ranges satisfy the assumption on line 10")


@pytest.mark.parametrize("line, code", [
    ("assume p <= 5 000 000 SEK", "E470"),
    ("assume total <= 5 000 000 SEK", "E470"),
    ("assume sen / max(flagged, 1)", "E471"),
    ("assume 1 <= 2", "E472"),
    ("assume sen <= floged", "E201"),
    ("assume sen <= 5 SEK", "E305"),
])
def test_assumptions_the_checker_refuses(line, code):
    codes = _codes(HEAD + "payment p = 10 000 SEK * sen + 0 SEK * flagged from city to fund\n" + line + "\n")
    assert code in codes, codes


def test_an_assumption_may_read_a_definition_of_measures():
    text = HEAD + "define spare = flagged - sen\nassume spare >= 0\n" \
        "payment p = 10 000 SEK * (flagged - sen) from city to fund\n"
    assert _verdicts(text)["nonnegative:p"].status == PROVED


def test_settling_on_outcomes_that_break_an_assumption_is_an_error():
    text = NEGATIVE + "assume sen_within: sen <= flagged\n"
    contract = _contract(text)
    evaluator = compile_contract(contract, Source("draft.sib", text))
    outcomes = load_outcomes(contract, text=json.dumps({"flagged": 0, "sen": 110}), name="o.json")
    with pytest.raises(EvaluationError) as err:
        evaluator.evaluate(outcomes)
    d = err.value.diagnostic
    assert d.code == "E473" and d.span.line == 10
    assert d.message == "the outcomes break the assumption `sen_within` (line 10): `sen` = 110, `flagged` = 0"
    fine = load_outcomes(contract, text=json.dumps({"flagged": 200, "sen": 110}), name="o.json")
    assert evaluator.evaluate(fine).total == 900_000


def test_an_assumption_per_period_holds_in_each_period():
    text = HEAD.replace("measure flagged \"Flaggade barn\": count", "periods year: y1 2020-01-01 to 2020-12-31, "
                        "y2 2021-01-01 to 2021-12-31\nmeasure flagged \"Flaggade barn\": count per year") \
        .replace("measure sen \"Barn i särskolan\": count", "measure sen \"Barn i särskolan\": count per year") + \
        "payment avoided = 10 000 SEK * (flagged - sen) per year from city to fund\nassume sen <= flagged\n"
    contract = _contract(text)
    assert contract.assumptions[0].series == "year"
    assert {v.key: v for v in verify_contract(contract)}["nonnegative:avoided"].status == PROVED
    outcomes = load_outcomes(contract, text=json.dumps(
        {"flagged": {"y1": 5, "y2": 3}, "sen": {"y1": 2, "y2": 4}}), name="o.json")
    with pytest.raises(EvaluationError) as err:
        compile_contract(contract, Source("draft.sib", text)).evaluate(outcomes)
    assert "for period y2: `sen` = 4, `flagged` = 3" in err.value.diagnostic.message


def test_eval_on_the_command_line(run, tmp_path):
    (tmp_path / "draft.sib").write_text(NEGATIVE + "assume sen <= flagged\n", encoding="utf-8")
    (tmp_path / "o.json").write_text('{"flagged": 0, "sen": 110}', encoding="utf-8")
    result = run("eval", str(tmp_path / "draft.sib"), "--outcomes", str(tmp_path / "o.json"))
    assert result.exit_code == 1
    assert "error[E473]" in result.stderr and "`sen` = 110, `flagged` = 0" in result.stderr
    assert "avoided" not in result.stdout  # no settlement is printed


@pytest.mark.parametrize("line", ["assume sen <= flagged", "assume sen_within: sen <= flagged",
                                  "assume sen <= flagged and flagged <= 5 000"])
def test_fmt_round_trips_an_assumption(line):
    text = NEGATIVE + line + "\n"
    formatted = format_text(Source("draft.sib", text))
    assert line in formatted
    assert same(parse(Source("a.sib", text)), parse(Source("b.sib", formatted)))


def test_an_unnamed_assumption_followed_by_prose_parses():
    text = NEGATIVE + "assume sen <= flagged\n\"Kommunen intygar uppgifterna.\"\n"
    assert len(_contract(text).assumptions) == 1


@pytest.mark.parametrize("lang, words", [
    ("sv", ("Parterna utgår från att ”Barn i särskolan” är högst ”Flaggade barn”. Avtalet avräknas inte på "
            "uppgifter där detta inte gäller")),
    ("en", ("The parties take as given that “Special education” is at most “Flagged”. The contract is not "
            "settled on figures for which this does not hold")),
])
def test_the_council_document_states_the_assumptions(run, tmp_path, lang, words):
    text = NEGATIVE.replace('"Flaggade barn"', '"Flaggade barn" @en "Flagged"') \
        .replace('"Barn i särskolan"', '"Barn i särskolan" @en "Special education"') + "assume sen <= flagged\n"
    (tmp_path / "draft.sib").write_text(text, encoding="utf-8")
    (tmp_path / "draft.outcomes.json").write_text('{"flagged": 200, "sen": 110}', encoding="utf-8")
    out = tmp_path / f"draft.{lang}.md"
    result = run("render", str(tmp_path / "draft.sib"), "--lang", lang, "-o", str(out))
    assert result.exit_code == 0, result.output
    document = out.read_text(encoding="utf-8")
    assert words in document
    # the worked examples lie where the assumption holds: no row with fewer flagged than the 110 in
    # special education (those outcomes are refused, E473)
    rows = [line for line in document.splitlines() if line.startswith("| ") and line[2].isdigit()]
    assert rows and all(int(row.split("|")[1].strip().replace(" ", "").replace("\u00a0", "")) >= 110 for row in rows)


def test_generated_outcomes_satisfy_the_assumptions():
    from hypothesis import given, settings

    from sibdsl.testing import outcomes

    contract = _contract(NEGATIVE + "assume sen <= flagged\n")

    @settings(max_examples=50, deadline=None)
    @given(outcomes(contract))
    def check(values):
        assert values["sen"] <= values["flagged"]
    check()


def test_simulate_reports_scenarios_that_break_an_assumption(run, tmp_path):
    (tmp_path / "draft.sib").write_text(NEGATIVE + "assume sen_within: sen <= flagged\n", encoding="utf-8")
    spec = {"seed": 1, "measures": {"flagged": {"distribution": "uniform", "low": 0, "high": 300},
                                    "sen": {"distribution": "uniform", "low": 0, "high": 100}}}
    (tmp_path / "loose.json").write_text(json.dumps(spec), encoding="utf-8")
    loose = run("simulate", str(tmp_path / "draft.sib"), "--scenarios", str(tmp_path / "loose.json"), "-n", "1000",
                "--format", "json")
    assert loose.exit_code == 1
    broken = json.loads(loose.stdout)["assumptions_broken"]["sen_within"]
    assert 100 < broken < 250  # P(sen > flagged) = 1/6 for these two uniforms
    assert f"error[E473]: {broken} of 1000 simulated scenarios break the assumption `sen_within` (line 10)" \
        in loose.stderr
    spec["measures"]["flagged"]["low"] = 100
    (tmp_path / "tight.json").write_text(json.dumps(spec), encoding="utf-8")
    tight = run("simulate", str(tmp_path / "draft.sib"), "--scenarios", str(tmp_path / "tight.json"), "-n", "1000",
                "--format", "json")
    assert tight.exit_code == 0, tight.output
    report = json.loads(tight.stdout)
    assert "assumptions_broken" not in report and not any(k.startswith("assumption") for k in report["events"])


def test_verify_says_what_the_proofs_rest_on(run, tmp_path):
    (tmp_path / "draft.sib").write_text(NEGATIVE + "assume sen_within: sen <= flagged\nassume flagged <= 5 000\n",
                                        encoding="utf-8")
    text = run("verify", str(tmp_path / "draft.sib"))
    assert text.exit_code == 0
    assert "  under the assumptions: `sen <= flagged` (line 10); `flagged <= 5 000` (line 11)\n" in text.stdout
    swedish = run("verify", str(tmp_path / "draft.sib"), "--lang", "sv")
    assert "  under antagandena: `sen <= flagged` (rad 10); `flagged <= 5 000` (rad 11)\n" in swedish.stdout
    data = json.loads(run("verify", str(tmp_path / "draft.sib"), "--format", "json").stdout)
    assert data["files"][0]["assumptions"] == [
        {"name": "sen_within", "line": 10, "condition": "sen <= flagged"},
        {"name": "assumption_1", "line": 11, "condition": "flagged <= 5 000"}]


def test_check_counts_the_assumptions(run, tmp_path):
    (tmp_path / "draft.sib").write_text(NEGATIVE + "assume sen <= flagged\n", encoding="utf-8")
    result = run("check", str(tmp_path / "draft.sib"))
    assert result.exit_code == 0
    assert result.stdout.endswith("ok — 1 payment, 2 measures, 0 guarantees, 1 assumption, 2 properties proved\n")


W702_DRAFT = """contract "Särskolan" @en "Special education"
  languages sv, en
  currency SEK
  rounding 1 SEK half up
party city "Staden": payer
party fund "Fonden": investor
measure flagged "Flaggade barn": count between 0 and 200
measure sen "Barn i särskolan": count between 0 and 50
assume sen <= flagged
assume sen <= 100
assume per_child: flagged * 2 >= sen + sen
payment avoided = 10 000 SEK * max(flagged - sen, 0) from city to fund
"""


def test_an_assumption_the_ranges_already_guarantee_is_w702():
    from sibdsl.proofcache import diagnostic, verify_cached

    source = Source("draft.sib", W702_DRAFT)
    contract, _ = check_source(source)
    records = verify_cached(contract, source, use_cache=False)
    said = [d for d in (diagnostic(r, source) for r in records) if d is not None]
    assert [(d.code, d.span.line) for d in said] == [("W702", 10)]  # not line 9: sen may exceed flagged
    (record,) = [r for r in records if r.get("code") == "W702"]
    assert record["words"]["en"] == ("the assumption on line 10 always holds: `sen` is between 0 and 50, so it "
                                     "adds nothing the ranges do not already say")
    assert record["words"]["sv"].startswith("antagandet på rad 10 gäller alltid: `sen` är mellan 0 och 50")
    # acknowledged on purpose: no warning
    kept = W702_DRAFT.replace("assume sen <= 100", "# sibc: allow W702: the agreement's words\nassume sen <= 100")
    source = Source("draft.sib", kept)
    contract, _ = check_source(source)
    assert not [r for r in verify_cached(contract, source, use_cache=False)
                if diagnostic(r, source) is not None]


def test_an_assumption_that_no_outcome_meets_is_still_e702():
    # the opposite mistake, an assumption that excludes every outcome of `sen`'s range, stays E702
    text = W702_DRAFT.replace("assume sen <= 100", "assume sen >= 100")
    assert [v.key for v in verify_contract(_contract(text))] == ["assumptions"]
