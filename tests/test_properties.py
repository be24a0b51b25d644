"""Properties: any text gives a tree or diagnostics (never a crash); payout laws over random outcomes."""

from __future__ import annotations

import json
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sibdsl import SibError, Source, check_source, compile_contract, load_contract, load_outcomes, parse

from .conftest import ROOT

NORRKOPING = (ROOT / "contracts" / "norrkoping.sib").read_text(encoding="utf-8")
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def outcome_of_text(text: str) -> str:
    """'tree' or 'diagnostics'; anything else (an exception) fails the test."""
    try:
        parse(Source("fuzz.sib", text))
        contract, diagnostics = check_source(Source("fuzz.sib", text))
    except SibError as err:
        assert err.diagnostics and all(d.code for d in err.diagnostics)
        return "diagnostics"
    assert contract is not None or diagnostics
    return "tree"


@FAST
@given(st.text(alphabet=st.sampled_from(list('abcSEK§%"@:=+-*/()<>{},.0123456789 \n#_åäö')), max_size=200))
def test_any_text_gives_a_tree_or_diagnostics(text):
    outcome_of_text(text)


@FAST
@given(st.data())
def test_mutated_contracts_never_crash(data):
    lines = NORRKOPING.splitlines(keepends=True)
    action = data.draw(st.sampled_from(["delete", "duplicate", "truncate", "flip"]))
    i = data.draw(st.integers(0, len(lines) - 1))
    if action == "delete":
        text = "".join(lines[:i] + lines[i + 1:])
    elif action == "duplicate":
        text = "".join(lines[: i + 1] + lines[i:])
    elif action == "truncate":
        text = NORRKOPING[: data.draw(st.integers(0, len(NORRKOPING)))]
    else:
        at = data.draw(st.integers(0, len(NORRKOPING) - 1))
        char = data.draw(st.characters(blacklist_categories=("Cs",)))
        text = NORRKOPING[:at] + char + NORRKOPING[at + 1:]
    outcome_of_text(text)


def money(low: int, high: int):
    return st.integers(low, high).map(lambda n: f"{n} SEK")


NORRKOPING_OUTCOMES = st.fixed_dictionaries({
    "actual_costs": money(0, 150_000_000),
    "reference_costs": money(0, 150_000_000),
    "school_improved": st.booleans(),
    "completed": st.booleans(),
})


def settle(path: str, outcomes: dict):
    contract = load_contract(ROOT / path)
    return compile_contract(contract).evaluate(load_outcomes(contract, text=json.dumps(outcomes)))


@FAST
@given(NORRKOPING_OUTCOMES, st.sampled_from(["contracts/norrkoping.sib", "contracts/variants/norrkoping_indigo.sib"]))
def test_payout_laws(outcomes, path):
    s = settle(path, outcomes)
    assert all(line.amount >= 0 for line in s.lines)  # never negative
    assert sum((line.amount for line in s.lines), Decimal(0)) == s.total  # lines sum to the total
    assert s.total <= 12_000_000  # the cap
    if outcomes["completed"]:
        assert s.total >= 4_000_000  # the floor
    if not outcomes["school_improved"]:
        assert s.total <= 10_000_000  # the gate
    assert all(line.amount == line.amount.to_integral_value() for line in s.lines)  # whole kronor
    assert s == settle(path, outcomes)  # deterministic
