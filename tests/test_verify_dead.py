"""Issue 17: `sibc check` warns about every clause no outcome can make act (W410) and every branch
or table row no outcome reaches (W411), with the proof's reason in one line; a deliberate safeguard
is acknowledged with `# sibc: allow W410`; `--no-verify` skips the analysis."""

from __future__ import annotations

import re

from sibdsl import load_contract
from sibdsl.verify_checks import dead_clauses

from .conftest import ROOT

NORRKOPING = ROOT / "contracts" / "norrkoping.sib"


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
    path.write_text("""contract "Döda klausuler"
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
floor grid at 0 SEK
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
