"""`sibc verify`: every shipped contract is proved; every seeded mistake is found, with outcomes
that the real evaluator reproduces; the symbolic encoding agrees with the evaluator."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest
import z3
from hypothesis import given, settings
from hypothesis import strategies as st

from sibdsl import compile_contract, load_contract
from sibdsl.evaluate import EvaluationError
from sibdsl.semantics.program import lower
from sibdsl.testing import contract_test, outcomes
from sibdsl.values import ROUNDING_MODES, Rounding
from sibdsl.verify import PROVED, VIOLATED, _Sym, _SymSettlement, sym_round, verify_contract

from .conftest import ROOT

CONTRACTS = sorted((ROOT / "contracts").rglob("*.sib"))
WRONG = ROOT / "tests" / "corpus" / "wrong"

# each deliberately wrong contract, the property it breaks, and what its settlement must show
SEEDED = {
    "floor_cut_by_cap": "floor:floor_1",
    "leaky_gate": "gate:gate_1",
    "negative_on_a_bad_year": "nonnegative:yearly",
    "compounding_breaks_the_limit": "guarantee:simple_interest",
    "table_not_monotone": "monotone:reduction",
    "division_by_zero": "defined",
    "floor_above_gate": "gate:gate_1",
    "leak_through_second_payment": "leak:gate_1",
    "participant_cap_below_floor": "floor-below-cap:floor_1:cap_1",
}
# the same mistake seen by a second property too (a floor above a cap breaks the floor or the cap)
ALSO = {
    "floor_cut_by_cap": {"floor-below-cap:floor_1:cap_1"},
    "participant_cap_below_floor": {"cap:cap_1"},
}


@pytest.mark.parametrize("path", CONTRACTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_shipped_contract_is_proved(path):
    verdicts = verify_contract(load_contract(path))
    assert verdicts and {v.status for v in verdicts} == {PROVED}, \
        [(v.key, v.status, v.reason) for v in verdicts if v.status != PROVED]


def test_the_wrong_corpus_is_complete():
    assert sorted(p.stem for p in WRONG.glob("*.sib")) == sorted(SEEDED)


@pytest.mark.parametrize("name", sorted(SEEDED))
def test_seeded_mistake_is_found_and_reproduces(name, run, tmp_path):
    path = WRONG / f"{name}.sib"
    verdicts = {v.key: v for v in verify_contract(load_contract(path))}
    assert verdicts[SEEDED[name]].status == VIOLATED
    others = {k: v.status for k, v in verdicts.items()
              if k != SEEDED[name] and k not in ALSO.get(name, ()) and v.status != PROVED}
    assert all(verdicts[k].status == VIOLATED for k in ALSO.get(name, ()))
    assert not others, f"only the seeded mistake is reported: {others}"

    # the CLI writes the counterexample as outcome files, and `sibc eval` shows the violation
    result = run("verify", str(path), "--counterexamples", str(tmp_path), "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    (entry,) = [p for p in report["files"][0]["properties"] if p["property"] == SEEDED[name]]
    if name != "division_by_zero":  # a division by zero has no settlement to show
        assert len(entry["settlements"]) == len(entry["counterexample"])
        assert entry["settlements"][0]["lines"]
    files = [Path(f) for f in entry["files"]]
    assert files and all(f.exists() for f in files)
    settled = []
    for f in files:
        out = run("eval", str(path), "--outcomes", str(f), "--format", "json", "--diagnostics", "json")
        settled.append((json.loads(f.read_text()), out))
    _assert_shows_the_mistake(name, settled)


def _lines(out) -> dict:
    return {(ln["payment"], ln["period"]): Fraction(ln["amount"]) for ln in json.loads(out.stdout)["lines"]}


def _assert_shows_the_mistake(name: str, settled) -> None:
    values, out = settled[0]
    if name == "division_by_zero":
        assert out.exit_code == 1 and "E602" in out.stderr
        return
    lines, total = _lines(out), Fraction(json.loads(out.stdout)["total"])
    if name == "floor_cut_by_cap":
        assert lines[("activity", None)] < 5_000_000  # below its floor
    elif name == "leaky_gate":
        assert values["school_improved"] is False and lines[("bonus", None)] > 0
    elif name == "negative_on_a_bad_year":
        assert out.exit_code == 1 and "E601" in out.stderr and min(lines.values()) < 0
    elif name == "compounding_breaks_the_limit":
        assert total > 10_000_000 * Fraction(140, 100)  # more than 8 % a year simple over 5 years
    elif name == "table_not_monotone":
        (after_values, after) = settled[1]
        assert Fraction(after_values["reduction"].rstrip(" %")) > Fraction(values["reduction"].rstrip(" %"))
        assert Fraction(json.loads(after.stdout)["total"]) < total
    elif name == "floor_above_gate":
        assert values["school_improved"] is False and total > 10_000_000
    elif name == "leak_through_second_payment":  # more savings above the loan, no school results: more paid
        (after_values, after) = settled[1]
        assert values["school_improved"] is False and after_values["school_improved"] is False
        assert _lines(after)[("premium", None)] > lines[("premium", None)]
        assert Fraction(json.loads(after.stdout)["total"]) > total
    elif name == "participant_cap_below_floor":
        assert total == 5_000_000  # the floor tops up past the cap of 60 × 50 000 SEK
    else:
        raise AssertionError(name)


def test_verify_output_and_exit_codes(run):
    ok = run("verify", "contracts/nyc_rikers.sib")
    assert ok.exit_code == 0
    assert ok.stdout.splitlines()[0] == "contracts/nyc_rikers.sib:"
    assert "  proved " in ok.stdout and ok.stdout.rstrip().endswith("8 proved, 0 violated, 0 unknown")
    bad = run("verify", "contracts/nyc_rikers.sib", str(WRONG / "leaky_gate.sib"))
    assert bad.exit_code == 1
    # the savings are 0 in the counterexample: only the outcome that matters is shown, in plain words
    assert "violated" in bad.stdout
    assert 'outcomes that matter: {"school_improved": false} (the others 0 or their lowest value)' in bad.stdout
    assert "the condition of the gate (line 12) is not met, yet `bonus` is 100 000 SEK instead of 0 SEK" in bad.stdout
    broken = run("verify", "nope.sib")
    assert broken.exit_code == 1 and "E001" in broken.stderr


@settings(max_examples=300, deadline=None)
@given(st.fractions(min_value=-10_000, max_value=10_000, max_denominator=1000),
       st.sampled_from(sorted(ROUNDING_MODES)), st.sampled_from(["1", "0.01", "100", "0.5"]))
def test_symbolic_rounding_is_the_rounding_rule(x, mode, step):
    from decimal import Decimal

    rounding = Rounding(Decimal(step), mode)
    term = z3.simplify(sym_round(z3.RealVal(f"{x.numerator}/{x.denominator}"), rounding))
    assert Fraction(term.numerator_as_long(), term.denominator_as_long()) == rounding.apply(x)


def _concrete(term) -> Fraction:
    value = z3.simplify(term)
    return Fraction(value.numerator_as_long(), value.denominator_as_long())


@pytest.mark.parametrize("path", [*CONTRACTS, ROOT / "tests" / "corpus" / "valid" / "all_constructs.sib"],
                         ids=lambda p: p.name)
def test_the_encoding_settles_like_the_evaluator(path):
    """The formula z3 reasons about, with concrete outcomes substituted, gives the evaluator's lines."""
    contract = load_contract(path)
    evaluator = compile_contract(contract)
    sym = _Sym(contract, "t!")
    settlement = _SymSettlement(contract, sym)

    @settings(max_examples=40, deadline=None)
    @given(outcomes(contract))
    def agree(values):
        try:
            expected = evaluator.evaluate(values)
        except EvaluationError:  # a division by zero: `defined` is false there
            return
        substitution = []
        for (name, period), var in sym.inputs.items():
            v = values[name][period] if period else values[name]
            if isinstance(v, bool):
                substitution.append((var, z3.BoolVal(v)))
            else:
                raw = var.arg(0) if z3.is_to_real(var) else var
                if hasattr(v, "toordinal"):
                    v = v.toordinal()
                f = Fraction(v)
                const = z3.IntVal(int(f)) if z3.is_int(raw) else z3.RealVal(f"{f.numerator}/{f.denominator}")
                substitution.append((raw, const))
        amounts = [(ln.payment, _concrete(z3.substitute(ln.amount, *substitution))) for ln in settlement.lines]
        # the symbolic settlement always has a floor's top-up line (0 when the floor is not needed)
        # … and a waterfall's line (issue 14), which the evaluator keeps only when its step paid
        specs = lower(contract).lines
        got = [(name, a) for (name, a), ln, spec in zip(amounts, settlement.lines, specs)
               if (not ln.top_up and spec.key[0] != "waterfall") or a != 0]
        want = [(ln.payment, Fraction(ln.amount)) for ln in expected.lines]
        assert got == want

    agree()


@pytest.mark.parametrize("path", CONTRACTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_contract_properties_hold_for_generated_outcomes(path):
    contract_test(path, max_examples=30)()


def _dirty_the_main_z3_context() -> None:
    """Work in z3's shared context of the kind a long process does before a verify (other proofs,
    the studio): terms, lemmas and a model the verifier must not depend on."""
    xs = [z3.Real(f"dirt{i}") for i in range(40)]
    solver = z3.Solver()
    solver.add(*(x * x + 3 * x >= i for i, x in enumerate(xs)), z3.Sum(xs) <= 7)
    assert solver.check() == z3.sat


def test_verify_answers_in_a_z3_context_of_its_own():
    """The verifier's solver is not z3's shared context, and its verdicts and counterexamples are
    the same after other z3 work in the process (within an rlimit, z3's answer depends on its
    context's history; results must depend on the contract only)."""
    from sibdsl.verify import OwnContextSolver, Verifier, verify_contract

    contract = load_contract("contracts/norrkoping.sib")
    verifier = Verifier(contract)
    solvers = [solver for _, solver in (verifier._context(p) for p in verifier.properties[:1])]
    assert solvers and all(isinstance(s, OwnContextSolver) and s.ctx is not z3.main_ctx() for s in solvers)
    first = [(v.key, v.status, v.counterexample) for v in verify_contract(contract)]
    _dirty_the_main_z3_context()
    again = [(v.key, v.status, v.counterexample) for v in verify_contract(contract)]
    assert first == again and len(first) > 5
