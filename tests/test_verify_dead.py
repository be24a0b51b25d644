"""Issue 17: `sibc check` warns about every clause no outcome can make act (W410) and every branch
or table row no outcome reaches (W411), with the proof's reason in one line; a deliberate safeguard
is acknowledged with `# sibc: allow W410`; `--no-verify` skips the analysis."""

from __future__ import annotations

import os
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sibdsl import load_contract
from sibdsl.verify_checks import DEAD_RLIMIT, FastPath, _Symbolic, dead_clauses

from .conftest import ROOT
from .contractgen import generated

NORRKOPING = ROOT / "contracts" / "norrkoping.sib"
# a table whose top row no outcome reaches, behind a gate whose condition always holds
GRID = """contract "Döda klausuler"
  currency SEK
  rounding 1 SEK half up
party city "Staden": payer
party fund "Fonden": investor
measure reduction: percentage between 0 % and 30 % better higher
measure served: count between 10 and 100
payment grid = tiers(reduction) {
  below: 0 SEK,
  from 10 %: 1 000 000 SEK,
  from 40 %: 2 000 000 SEK
} from city to fund
gate grid requires served >= 5
"""


def _without_allowances(path, tmp_path):
    text = path.read_text(encoding="utf-8")
    bare = "\n".join(line for line in text.splitlines() if "sibc: allow" not in line) + "\n"
    target = tmp_path / path.name
    target.write_text(bare, encoding="utf-8")
    return target


def test_norrkopings_belt_and_braces_clauses_are_found_with_their_reasons():
    records = dead_clauses(load_contract(NORRKOPING))
    assert [(r["code"], r["line"], r["words"]["en"]) for r in records] == [
        ("W410", 83, "the floor `activity_floor` “Garantin” of 4 000 000 SEK (line 83) can never act: whenever it "
                     "applies, the payments add up to at least 4 000 000 SEK"),
        ("W410", 84, "the cap `ceiling` “Taket” of 12 000 000 SEK (line 84) can never act: the payments it limits "
                     "add up to at most 12 000 000 SEK"),
        # a rate of return, paid on one date: the ceiling it equals on that date (semantics/program.py)
        ("W410", 85, "the return limit `max_return` “Avkastningstaket” (for `lsv`, at most 12 512 409 SEK) (line 85) "
                     "can never act: the payments it limits add up to at most 12 000 000 SEK"),
        ("W410", 86, "the return limit `total_return` “Högsta totala avkastning” (for `lsv`, at most 12 000 000 SEK) "
                     "(line 86) can never act: the payments it limits add up to at most 12 000 000 SEK"),
    ]
    assert records[1]["words"]["sv"] == ("taket `ceiling` “Taket” på 12 000 000 kr (rad 84) kan aldrig verka: "
                                         "betalningarna det begränsar uppgår till högst 12 000 000 kr")


def test_the_reasons_do_not_depend_on_what_the_process_solved_before():
    from sibdsl.verify import verify_contract

    contract = load_contract(NORRKOPING)
    first = dead_clauses(contract)
    verify_contract(contract)
    verify_contract(load_contract(ROOT / "contracts" / "peterborough.sib"))
    assert dead_clauses(contract) == first


def test_check_warns_unless_acknowledged(run, tmp_path):
    bare = _without_allowances(NORRKOPING, tmp_path)
    result = run("check", str(bare))
    assert result.exit_code == 0
    assert re.findall(r"warning\[(W\d+)\]", result.stderr) == ["W410"] * 4
    assert result.stdout.endswith("ok — 3 payments, 4 measures, 4 guarantees, 16 properties proved, 4 warnings\n")
    assert "# sibc: allow W410: why" in result.stderr  # the hint says how to acknowledge one
    # the shipped contract acknowledges all four in one comment naming them
    shipped = run("check", str(NORRKOPING))
    assert shipped.exit_code == 0 and "W410" not in shipped.stderr
    # --no-verify: no proofs, so no dead-clause analysis either
    quick = run("check", "--no-verify", str(bare))
    assert "W410" not in quick.stderr


def test_an_allowance_directly_above_the_clause_covers_that_clause_only(run, tmp_path):
    bare = _without_allowances(NORRKOPING, tmp_path).read_text(encoding="utf-8")
    text = bare.replace('cap ceiling "Taket"', '# sibc: allow W410: the 12 MSEK ceiling is in the agreement\n'
                                                 'cap ceiling "Taket"')
    path = tmp_path / "one.sib"
    path.write_text(text, encoding="utf-8")
    result = run("check", str(path))
    assert result.stderr.count("warning[W410]") == 3 and "`ceiling`" not in result.stderr
    # an allowance for another code, or naming another clause, does not count
    other = bare + "# sibc: allow W411 for ceiling\n# sibc: allow W410 for bonus\n"
    path.write_text(other, encoding="utf-8")
    assert run("check", str(path)).stderr.count("warning[W410]") == 4


def test_every_shipped_contract_acknowledges_its_dead_clauses():
    """(The dead-clause analysis alone: `sibc check` of each shipped contract would prove all its
    properties again, which test_verify does.)"""
    from sibdsl.allowances import acknowledged
    from sibdsl.source import Source

    for path in sorted((ROOT / "contracts").rglob("*.sib")):
        source = Source(str(path), path.read_text(encoding="utf-8"))
        unacknowledged = [r["reason"] for r in dead_clauses(load_contract(path)) if not acknowledged(source, r)]
        assert not unacknowledged, (path, unacknowledged)


def test_a_gate_that_always_holds_and_an_unreachable_row(tmp_path):
    path = tmp_path / "dead.sib"
    path.write_text(GRID + """floor grid at 0 SEK
payment per_head = if served > 200 then 1 000 SEK else 500 SEK from city to fund
""", encoding="utf-8")
    records = {(r["code"], r["line"]): r["words"]["en"] for r in dead_clauses(load_contract(path))}
    assert records == {
        ("W411", 11): "the row `from 40 %` of the `tiers` table at line 8 can never be reached: no outcome within "
                      "the measures' ranges leads there",
        ("W410", 13): "the gate `gate_1` (line 13) can never act: its condition holds for every outcome",
        ("W410", 14): "the floor `floor_1` of 0 SEK (line 14) can never act: whenever it applies, `grid` is at "
                      "least 0 SEK",
        ("W411", 15): "the branch `then` of the `if` at line 15 can never be reached: no outcome within the "
                      "measures' ranges leads there",
    }


def test_a_cap_that_binds_is_not_dead():
    records = dead_clauses(load_contract(ROOT / "tests" / "corpus" / "wrong" / "floor_cut_by_cap.sib"))
    assert records == []


def test_a_rate_of_return_limit_that_never_acts_shows_its_present_value_as_money(tmp_path):
    """W410 printed a rate of return's level — an exact fraction, 7 330 029 200 000 / 7 906 037 SEK —
    with twelve decimals (`927 143.295686574702 SEK`), and as if it were nominal. It is what the
    receipts may be worth in present value at the first drawdown: to the cent below it, and said so."""
    text = (ROOT / "contracts" / "variants" / "coupon_loan.sib").read_text(encoding="utf-8")
    path = tmp_path / "coupon.sib"
    path.write_text(text + "return limit huge: 50 % per year\n", encoding="utf-8")
    contract = load_contract(path)
    (record,) = [r for r in dead_clauses(contract) if r["name"] == "huge"]
    from fractions import Fraction

    from sibdsl.semantics.program import StepKind, lower

    (step,) = [st for st in lower(contract).steps if st.kind is StepKind.RETURN_LIMIT and st.clause.name == "huge"]
    assert step.weights and step.limit == Fraction(7_330_029_200_000, 7_906_037)  # 927 143.2956…
    words = record["words"]
    assert words["en"].startswith("the return limit `huge` (for `bank`, at most 927 143.29 SEK in present value on "
                                  "2021-01-01) (line ")
    assert words["sv"].startswith("avkastningsgränsen `huge` (för `bank`, högst 927 143,29 kr i nuvärde per "
                                  "2021-01-01) (rad ")
    for said in words.values():
        assert not re.search(r"\d[.,]\d{3}", said), said  # no amount beyond the cent


def test_an_amount_in_a_proofs_words_is_shown_to_the_cent():
    from fractions import Fraction

    from sibdsl.counterexample import money

    assert money(Fraction(7_330_029_200_000, 7_906_037), "SEK", "en") == "927 143.30 SEK"
    assert money(Fraction(7_330_029_200_000, 7_906_037), "SEK", "sv") == "927 143,30 kr"
    assert money(Fraction(3, 2), "SEK", "en") == "1.50 SEK"
    assert money(12_000_000, "SEK", "en") == "12 000 000 SEK"


# ---------------------------------------------------------------- issue 21: the solver asked less
def _solver_questions(monkeypatch) -> list:
    import z3

    asked = []
    check = z3.Solver.check

    def counted(self, *args):
        asked.append(1)
        return check(self, *args)

    monkeypatch.setattr(z3.Solver, "check", counted)
    return asked


def _agrees_with_the_solver(contract, rlimit=DEAD_RLIMIT, witnesses=False) -> tuple[set, set]:
    """What the fast path concludes without the solver (FastPath), held to z3's answer: a clause or
    row the intervals call dead is one z3 finds no outcome for; none is also shown acting or
    reached by a settlement; with `witnesses`, z3 does not call dead what a settlement showed.
    Returns the clauses and rows the intervals decided dead."""
    import z3

    fast = FastPath(contract)
    z = _Symbolic(contract, fast.program, rlimit)
    dead = {c for c in fast.by_clause if fast.dead(c)}
    unreached = {k for k in fast.rows if fast.unreached(k)}
    assert not dead & fast.acting and not unreached & fast.reached
    for clause in dead:
        assert z.acts(clause) != z3.sat, clause
    for key in unreached:
        assert z.reaches(key) != z3.sat, key
    if witnesses:
        for clause in fast.acting & set(fast.by_clause):
            assert z.acts(clause) != z3.unsat, clause
        for key in fast.reached & fast.rows:
            assert z.reaches(key) != z3.unsat, key
    return dead, unreached


def test_what_the_intervals_call_dead_the_solver_does_too_on_every_shipped_contract():
    decided = {}
    for path in sorted((ROOT / "contracts").rglob("*.sib")):
        dead, unreached = _agrees_with_the_solver(load_contract(path))
        decided[path.name] = sorted(c.name for c in dead)
    # not vacuous: New York's city cap and overall cap are found dead by the intervals alone
    assert decided["nyc_rikers.sib"] == ["city_cap", "overall"]


@settings(max_examples=int(os.environ.get("SIB_DIFF_EXAMPLES", "25")), deadline=None,
          suppress_health_check=list(HealthCheck))
@given(st.data())
def test_what_the_intervals_call_dead_the_solver_does_too_on_generated_contracts(data):
    from sibdsl import Source, check_source

    contract, diagnostics = check_source(Source("gen.sib", data.draw(generated(), label="contract")))
    assert contract is not None, [d.message for d in diagnostics if d.is_error]
    _agrees_with_the_solver(contract, rlimit=2_000_000, witnesses=True)


def test_a_gate_always_holding_and_an_unreachable_row_are_found_without_the_solver(tmp_path, monkeypatch):
    path = tmp_path / "dead.sib"
    path.write_text(GRID + """cap grid at 3 000 000 SEK
""", encoding="utf-8")
    contract = load_contract(path)
    asked = _solver_questions(monkeypatch)
    records = dead_clauses(contract, shown=lambda record: False)
    assert [r["key"] for r in records] == ["dead:gate_1", "dead:cap_1", "dead-row:8:2"]
    assert asked == []  # the intervals decide all three; no reason is read, so none is worked out
    # nobody reads it: the cap's reason in words that need no solver
    assert records[1]["words"]["en"] == ("the cap `cap_1` of 3 000 000 SEK (line 14) can never act: no outcome makes "
                                         "the payments it limits exceed it")
    # shown, it says how far the payments go — the intervals' end, confirmed by two questions
    shown = dead_clauses(contract)
    assert shown[1]["words"]["en"] == ("the cap `cap_1` of 3 000 000 SEK (line 14) can never act: the payments it "
                                       "limits add up to at most 1 000 000 SEK")
    assert len(asked) == 2


def test_south_carolinas_tables_are_settled_by_witnesses_not_by_the_solver(monkeypatch):
    """Its 22 table rows and 7.5 M cap went to z3, ten of them to the end of their work limit
    ("unknown", minutes of a `sibc check`): a settlement at a table's threshold shows each row
    taken, and one at every measure's better end shows the cap act."""
    contract = load_contract(ROOT / "contracts" / "sc_nurse_family_partnership.sib")
    asked = _solver_questions(monkeypatch)
    assert dead_clauses(contract) == []
    assert asked == []


def test_an_acknowledged_clause_costs_no_question_for_its_reason(monkeypatch):
    """Norrköping acknowledges its four dead clauses: the intervals prove them dead (a cut leaves at
    least min(Σ, level), the floor's top-up line makes Σ max(Σ, level): bounds.py's lower facts) and a
    settlement shows its school gate cut a line, so no question is asked, and the reasons nobody
    reads ask none either (the bisection behind them was most of a cold `sibc check`)."""
    from sibdsl.allowances import acknowledged
    from sibdsl.source import Source

    contract = load_contract(NORRKOPING)
    source = Source(str(NORRKOPING), NORRKOPING.read_text(encoding="utf-8"))
    asked = _solver_questions(monkeypatch)
    quiet = dead_clauses(contract, shown=lambda record: not acknowledged(source, record))
    assert [r["key"] for r in quiet] == ["dead:activity_floor", "dead:ceiling", "dead:max_return", "dead:total_return"]
    assert asked == []
    assert quiet[1]["words"]["en"] == ("the cap `ceiling` “Taket” of 12 000 000 SEK (line 84) can never act: no outcome "
                                       "makes the payments it limits exceed it")
    asked.clear()
    dead_clauses(contract)  # every reason worked out: two questions each (the bounds' end is the answer)
    assert len(asked) == 4 * 2


def test_an_unread_reason_is_worked_out_only_when_read(tmp_path, monkeypatch):
    """An acknowledged clause's words format amounts (babel's locale data, a fifth of a cold check's
    proofs): its record holds them only once read, and then they are what an eager record says. The
    proofs' cache stores it without them — safe, since the cache's key is the whole text, allow
    comments included: the record read back is acknowledged again, and shows nothing."""
    import json

    from sibdsl import proofcache
    from sibdsl.allowances import acknowledged
    from sibdsl.source import Source

    text = NORRKOPING.read_text(encoding="utf-8")
    source = Source(str(NORRKOPING), text)
    contract = load_contract(NORRKOPING)
    quiet = dead_clauses(contract, shown=lambda record: not acknowledged(source, record))
    assert len(quiet) == 4 and not any({"description", "reason", "words"} & set(r) for r in quiet)
    assert json.loads(json.dumps(quiet))[1] == {"key": "dead:ceiling", "name": "ceiling", "status": "dead",
                                                "code": "W410", "line": 84, "counterexample": []}
    words = [r.get("words") for r in quiet]  # read: worked out now, without the solver
    assert words[1]["en"] == ("the cap `ceiling` “Taket” of 12 000 000 SEK (line 84) can never act: no outcome "
                              "makes the payments it limits exceed it")
    assert words[1]["sv"].startswith("taket `ceiling` “Taket” på 12 000 000 kr (rad 84) kan aldrig verka")
    assert [r["reason"] for r in quiet] == [r["description"] for r in quiet] == [w["en"] for w in words]
    assert all({"description", "reason", "words"} <= set(r) for r in quiet)  # read once, every key is there
    with pytest.raises(KeyError):
        quiet[0]["nothing"]
    # the cache: stored without the words, shown as nothing when read back; another allow set is another key
    monkeypatch.setenv("SIBDSL_CACHE_DIR", str(tmp_path))
    stored = proofcache.verify_cached(contract, source)
    assert [r["key"] for r in proofcache.load(text) if r["status"] == "dead"] == [r["key"] for r in quiet]
    assert not any("words" in r for r in proofcache.load(text) if r["status"] == "dead")
    assert [proofcache.diagnostic(r, source) for r in proofcache.load(text)] == [None] * len(stored)
    assert proofcache._key(text.replace("sibc: allow W410", "sibc: allow W411")) != proofcache._key(text)


def test_an_unread_reason_pickles_as_the_eager_record():
    """The server checks in a worker process and sends the records back pickled: an unread record
    (whose words are a closure's, not picklable) arrives as a plain record with the words it would
    have said when read (the solver-free ones of an acknowledged clause). Found merging the lazy
    words with `sibc serve`: `/v1/check` of Peterborough answered E900 ("Can't pickle local
    object")."""
    import pickle

    from sibdsl.allowances import acknowledged
    from sibdsl.source import Source

    source = Source(str(NORRKOPING), NORRKOPING.read_text(encoding="utf-8"))
    contract = load_contract(NORRKOPING)
    quiet = dead_clauses(contract, shown=lambda record: not acknowledged(source, record))
    again = dead_clauses(contract, shown=lambda record: not acknowledged(source, record))
    for record, twin in zip(quiet, again, strict=True):
        back = pickle.loads(pickle.dumps(record))
        assert type(back) is dict and {"description", "reason", "words"} <= set(back), record["key"]
        assert back == {**twin, "words": twin["words"], "reason": twin["reason"], "description": twin["description"]}
