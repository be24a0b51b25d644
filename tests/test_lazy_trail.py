"""Issue 21: what only a reader of a settlement needs is made when it is first read.

The audit trail is written from the registers the settlement left (evaluate._Stager.program), and
the guarantees are checked on first read where none of them can fail. Neither may change what a
reader sees: for every shipped contract, on random outcomes, the trail written later is the one the
driver writes as each step acts (tests/test_staging.py's `on_numbers`, an independent eager run),
whichever line is read first; the verdicts are those checked at once; a pickled settlement
carries them all.
"""

from __future__ import annotations

import copy
import pickle
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sibdsl import check_source, compile_contract, load_contract
from sibdsl.outcomes import load_outcomes
from sibdsl.source import Source
from sibdsl.testing import outcomes

from .conftest import ROOT, SHIPPED
from .test_staging import on_numbers


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_the_trail_written_on_first_read_is_the_one_written_as_the_steps_act(shipped, data):
    contract, ev = shipped
    row = data.draw(outcomes(contract), label="outcomes")
    expected = on_numbers(ev, row)
    settlement = ev.evaluate(row)
    assert [ln.exact for ln in settlement.lines] == [amount for amount, _ in expected]
    order = data.draw(st.permutations(range(len(settlement.lines))), label="order of reading")
    for i in order:  # whichever line is read first, every line's trail is its own
        assert settlement.lines[i].trail == expected[i][1]
    again = ev.evaluate(row)
    assert again == settlement  # equality reads the trails (and the guarantees) of both
    assert again.guarantees == ev._check_guarantees(_ctx(ev, row), again.lines)  # checked at once
    revived = pickle.loads(pickle.dumps(ev.evaluate(row)))
    assert revived == settlement
    assert [ln.steps for ln in revived.lines] == [ln.steps for ln in settlement.lines]


def _ctx(ev, row):
    """A context with the definitions computed as `evaluate` computes them."""
    from sibdsl.compiler import Ctx, EvaluationError, Failed

    ctx = Ctx(row, {}, {})
    for key, fn in ev._prelude:
        try:
            fn(ctx)
        except EvaluationError as err:
            ctx.cache[key] = Failed(err)
    return ctx


def test_nothing_is_written_until_a_trail_is_read():
    contract = load_contract(ROOT / "contracts" / "norrkoping.sib")
    ev = compile_contract(contract)
    written: list = []
    real = ev._trails
    ev._trails = lambda r: written.append(r) or real(r)
    settlement = ev.evaluate({"actual_costs": 30_000_000, "reference_costs": 50_000_000, "school_improved": False,
                              "completed": True})
    assert settlement.total == 10_000_000  # the school gate cut it: a cut that cut, written later
    assert written == []
    steps = [[st.kind for st in ln.steps] for ln in settlement.lines]
    assert len(written) == 1  # once, for every line
    # the bonus (2 000 000 SEK above the loan) is what the school gate takes: a cut that cut
    assert steps == [["computed", "gate passed"], ["computed"], ["computed", "gate failed"]]
    assert [ln.trail for ln in settlement.lines] and len(written) == 1


def test_a_guarantee_that_can_fail_is_checked_by_evaluate():
    """A division in a guarantee (or in a definition it reads) may fail for some outcomes (E602):
    that is an error of the evaluation, raised by `evaluate` as before, not by a later read."""
    text = (ROOT / "contracts" / "norrkoping.sib").read_text()
    text = text.replace("total <= 12 000 000 SEK", "total <= 12 000 000 SEK * 61 / reference_costs * 1 SEK",
                        1)
    contract, diagnostics = check_source(Source("divides.sib", text))
    assert contract is not None, [d.message for d in diagnostics]
    ev = compile_contract(contract)
    assert not ev._checked_later
    from sibdsl.compiler import EvaluationError

    with pytest.raises(EvaluationError) as err:
        ev.evaluate({"actual_costs": 0, "reference_costs": 0, "school_improved": True, "completed": True})
    assert err.value.diagnostic.code == "E602"
    assert compile_contract(load_contract(ROOT / "contracts" / "norrkoping.sib"))._checked_later


def test_every_shipped_contract_is_found():
    assert len(SHIPPED) > 10 and all(isinstance(p, Path) for p in SHIPPED)


def test_two_threads_reading_the_trail_at_once_read_the_same_records():
    """The records are written from the settlement's registers without changing them: a trail read
    by two threads at once (the HTTP server's workers) is written twice, alike, never mixed."""
    import threading

    contract = load_contract(ROOT / "contracts" / "norrkoping.sib")
    ev = compile_contract(contract)
    row = {"actual_costs": 30_000_000, "reference_costs": 50_000_000, "school_improved": False, "completed": True}
    expected = [ln.trail for ln in ev.evaluate(row).lines]
    for _ in range(20):
        settlement = ev.evaluate(row)
        seen: list = []
        start = threading.Barrier(2)

        def read(s=settlement, seen=seen, start=start):
            start.wait()
            seen.append([ln.trail for ln in s.lines])
        threads = [threading.Thread(target=read) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert seen == [expected, expected]
    written = ev.evaluate(row).lines[0]._trail  # the generated function's: its outcomes and registers
    held = (dict(written.outcomes), written.kept)
    written.line(0)
    assert (written.outcomes, written.kept) == held  # unchanged by writing


def test_a_recorder_is_told_the_guarantees_branches_by_evaluate():
    """`sibc test --coverage` records the branches each evaluation takes (Evaluator(recorder=…)):
    a guarantee's `if` is among them as the evaluation runs, so its verdict is not left for later."""
    from sibdsl.evaluate import Evaluator

    text = (ROOT / "contracts" / "norrkoping.sib").read_text()
    text = text.replace("total <= 12 000 000 SEK", "total <= (if completed then 12 000 000 SEK else 13 000 000 SEK)", 1)
    contract, diagnostics = check_source(Source("branches.sib", text))
    assert contract is not None, [d.message for d in diagnostics]
    assert compile_contract(contract)._checked_later  # no recorder: checked on first read
    taken: list = []
    ev = Evaluator(contract, recorder=lambda node, branch: taken.append(branch))
    assert not ev._checked_later
    ev.evaluate({"actual_costs": 0, "reference_costs": 0, "school_improved": True, "completed": False})
    assert taken  # the guarantee's `if`, told while evaluating (Norrköping as shipped has no branch)
    plain: list = []
    Evaluator(load_contract(ROOT / "contracts" / "norrkoping.sib"), recorder=lambda node, branch: plain.append(
        branch)).evaluate({"actual_costs": 0, "reference_costs": 0, "school_improved": True, "completed": False})
    assert plain == []


def test_what_is_read_later_is_of_the_outcomes_as_they_were_settled():
    """The trail, the values and the guarantees are made when first read: from the outcomes given to
    `evaluate`, not from the caller's dict changed afterwards (a per-period dict included)."""
    contract = load_contract(ROOT / "contracts" / "norrkoping.sib")
    evaluator = compile_contract(contract)
    outcomes = load_outcomes(contract, ROOT / "contracts" / "norrkoping.outcomes.json")
    outcomes = outcomes[0] if isinstance(outcomes, tuple) else outcomes
    mine = copy.deepcopy(outcomes)
    settlement = evaluator.evaluate(mine)
    for name, value in mine.items():  # every measure changed after settling
        if isinstance(value, dict):
            for period in value:
                value[period] = value[period] * 3 if not isinstance(value[period], (bool, date)) else value[period]
        elif isinstance(value, bool):
            mine[name] = not value
        elif not isinstance(value, date):
            mine[name] = value * 3 + 1
    again = evaluator.evaluate(outcomes)
    assert settlement.values == again.values
    assert [ln.trail for ln in settlement.lines] == [ln.trail for ln in again.lines]
    assert settlement.guarantees == again.guarantees
