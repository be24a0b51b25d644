"""The scalar back end stages the driver: `run()` is called once, when the contract is compiled,
over registers (evaluate._Stager), and a settlement only runs the operations it left.

Staging must not change the meaning: settled on generated contracts, the staged evaluator gives
the same lines, amounts and audit trail as the driver run directly on numbers, step by step, and
the same coverage events. What is known at signing is worked out then; what the outcomes decide
is left to them (`never` is a shortcut, never a decision).
"""

from __future__ import annotations

import os
from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sibdsl import Source, check_source, compile_contract, load_contract
from sibdsl.compiler import Ctx, EvaluationError, Failed
from sibdsl.evaluate import Evaluator, _Concrete, _factor, _record, _Stager
from sibdsl.semantics import run as driver
from sibdsl.semantics.program import StepKind
from sibdsl.testing import outcomes

from .contractgen import generated


class OnNumbers(_Concrete):
    """The driver's reference run on plain numbers: each step when it happens, no staging."""

    def __init__(self, ev: Evaluator, ctx: Ctx, events: list | None = None):
        self.ev, self.ctx, self.round = ev, ctx, ev.round
        self.trails = [[] for _ in ev.program.lines]
        self.shares: dict[int, tuple] = {}  # a cut in proportion → its lines and excess, for its factor
        if events is not None:
            self.event = lambda step, acted, condition=None: events.append(
                (step, bool(acted) if condition is None else not condition))

    def expr(self, step, which, guard=None):
        if guard is False:
            return 0
        return (self.ev._amount if which == "amount" else self.ev._condition)[id(step)](self.ctx)

    def cut(self, step, amounts, excess):
        return driver.cut(self, amounts, excess)  # the reference itself, no shortcut

    def weighted_cut(self, step, amounts, weights, excess):
        return driver.weighted_cut(self, amounts, weights, excess)  # the reference itself, no shortcut

    def pro_rata(self, step, amounts, excess):
        self.shares[id(step)] = (list(amounts), excess)  # its factor, in the trail of each line it cuts
        return driver.pro_rata(self, amounts, excess)  # the reference itself, no shortcut

    def round_down(self, x):
        return self.ev.round_down(x)

    def live(self, index, amounts):  # the lines as they stand, for what was paid so far (issue 15)
        self.ctx.lines, self.ctx.index = amounts, index

    def trace(self, step, line, before, after, acted, level):
        shares = self.shares.get(id(step)) if step.pro_rata else None
        factor = _factor(*shares) if shares is not None else None  # a cut in proportion shows its factor
        record = _record(self.ev, step, before, after, acted, level, line=line, factor=factor)
        if record is not None:
            self.trails[line].append(record)


def on_numbers(ev: Evaluator, row: dict, events: list | None = None):
    """(amount, trail) of every line the unstaged driver settles for `row`, top-ups that lift nothing left out."""
    ctx = Ctx(row, {}, {})
    for key, fn in ev._prelude:
        if key not in ctx.cache:
            try:
                fn(ctx)
            except EvaluationError as err:
                ctx.cache[key] = Failed(err)
    b = OnNumbers(ev, ctx, events)
    settled = driver.run(ev.program, b)
    return [(amount, tuple(trail)) for spec, amount, trail in zip(ev.program.lines, settled.amounts, b.trails)
            if not ((spec.top_up or spec.key[0] == "waterfall") and not trail)]  # a waterfall line that got nothing: none


def checked(text: str):
    contract, diagnostics = check_source(Source("generated.sib", text))
    assert contract is not None, [d.message for d in diagnostics]
    return contract


EXAMPLES = int(os.environ.get("SIB_DIFF_EXAMPLES", "40"))  # as tests/test_semantics.py: more for a long run


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_the_staged_settlement_is_the_driver_run_on_numbers(data):
    contract = checked(data.draw(generated(), label="contract"))
    rows = data.draw(st.lists(outcomes(contract), min_size=1, max_size=6), label="outcomes")
    staged = compile_contract(contract)
    for row in rows:
        try:
            expected = on_numbers(staged, row)
        except EvaluationError as err:
            try:
                staged.evaluate(row)
            except EvaluationError as again:  # the same division by zero, at the same place
                assert again.diagnostic.span == err.diagnostic.span
                continue
            raise AssertionError(f"the staged settlement settles what the driver cannot: {row}") from None
        settlement = staged.evaluate(row)
        assert [(ln.exact, ln.trail) for ln in settlement.lines] == expected
        assert [type(ln.exact) for ln in settlement.lines] == [type(a) for a, _ in expected]  # ints stay ints


@settings(max_examples=max(15, EXAMPLES // 3), deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_staged_coverage_events_are_the_drivers(data):
    contract = checked(data.draw(generated(), label="contract"))
    rows = data.draw(st.lists(outcomes(contract), min_size=1, max_size=4), label="outcomes")
    told: list = []
    ev = Evaluator(contract, on_step=lambda step, acted: told.append((step, acted)))
    for row in rows:
        told.clear()
        expected: list = []
        try:
            on_numbers(ev, row, expected)
        except EvaluationError:
            continue
        ev.evaluate(row)
        assert told == expected


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-50, 200) | st.fractions(-50, 200), max_size=6),
       st.integers(-100, 600) | st.fractions(-100, 600))
def test_the_scalar_cut_kernel_is_the_reference_cut(amounts, excess):
    """The kernel skips a cut whose excess is not positive: the reference's answer then too."""
    out, acted = _Concrete().cut(None, amounts, excess)
    reference, reference_acted = driver.cut(_Concrete, amounts, excess)
    assert out == reference and bool(acted) == bool(reference_acted)


def test_what_is_known_at_signing_is_worked_out_when_compiling():
    ev = compile_contract(load_contract("contracts/norrkoping.sib"))
    # the activity payment is 40 % of the loan: computed, rounded and written in the trail at compile time
    assert ev._prefix[0] == [("computed", ev.program.steps[0].clause, None, 4_000_000, "")]
    # the return limit's level and the cap are constants: registers known when compiling
    limit = next(s for s in ev.program.steps if s.kind is StepKind.RETURN_LIMIT)
    assert Fraction(limit.limit) in [Fraction(v) for v in ev._registers if isinstance(v, int)]
    # and a settlement runs a short list of operations, not the program's steps one primitive at a time
    # (35 since Norrköping states two return limits, one a rate of return weighing each line)
    assert len(ev._ops) <= 40, len(ev._ops)


def test_never_is_false_unless_the_condition_is_known():
    contract = load_contract("contracts/norrkoping.sib")
    stager = _Stager(compile_contract(contract))
    unknown = stager._new()
    assert stager.never(unknown) is False
    assert stager.never(stager.const(False)) is True
    assert stager.never(stager.const(True)) is False
    # a comparison of an unknown value is staged, not decided
    assert stager.never(stager.compare(">", unknown, stager.ZERO)) is False


def test_the_stager_supplies_every_primitive_of_the_backend_protocol():
    """A primitive added to semantics.run.Backend needs its staged form in evaluate._Stager (folded
    with _Concrete's arithmetic when its arguments are known): this says which one is missing."""
    wanted = {name for name in vars(driver.Backend) if not name.startswith("_")}
    wanted |= set(driver.Backend.__annotations__)
    missing = {name for name in wanted if not hasattr(_Stager, name) and name not in ("ZERO", "TRUE")}
    assert not missing, f"evaluate._Stager has no staged {sorted(missing)}"


def test_every_back_end_supplies_every_primitive_of_the_backend_protocol():
    """Every back end that runs the settlement program (the evaluator's stager and kernel, the
    vector, z3, interval, monotonicity and interim ones) answers every primitive of
    semantics.run.Backend: a primitive added for one construct (a rate card's cut in proportion)
    and missing from one back end fails only on contracts that use it, as monotone.py's did."""
    from sibdsl import bounds, monotone, verify
    from sibdsl.semantics import pending
    from sibdsl.vector import settle

    wanted = {name for name in vars(driver.Backend) if not name.startswith("_")}
    wanted |= set(driver.Backend.__annotations__)
    wanted -= {"ZERO", "TRUE"}
    back_ends = [bounds._Run, monotone._Run, verify._SymSettlement, pending.PendingBackend, settle._Order]
    missing = {b.__module__ + "." + b.__name__: sorted(n for n in wanted if not hasattr(b, n)) for b in back_ends}
    assert not {k: v for k, v in missing.items() if v}, missing


def test_the_instruction_count_script_runs():
    """benchmarks/instructions.py (docs/performance.md) runs its workloads; callgrind only counts them."""
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parent.parent / "benchmarks" / "instructions.py"
    for args in (["settle", "5"], ["reference", "5"], ["check", "0"]):
        done = subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr


def _run(stager: _Stager, ctx: Ctx, registers: dict | None = None) -> list:
    template, ops, *_ = stager.program([])  # the operations that settle (the audit trail's are written later)
    r = template[:]
    r[0], r[1] = ctx, [[] for _ in stager.prefix]
    for k, v in (registers or {}).items():
        r[k] = v
    for op in ops:
        op(r)
    return r


def test_round_down_is_staged_like_round():
    """`round_down` (toward −∞, to the contract's step) folds a known value and stages an unknown one."""
    stager = _Stager(compile_contract(load_contract("contracts/norrkoping.sib")))  # 1 SEK steps
    assert stager.known[stager.round_down(stager.const(Fraction(7, 2)))] == 3
    assert stager.known[stager.round_down(stager.const(Fraction(-7, 2)))] == -4
    x = stager._new()
    down, nearest = stager.round_down(x), stager.round(x)
    stager.ops = [(op, out, reads, True, role) for op, out, reads, _, role in stager.ops]
    r = _run(stager, Ctx({}, {}, {}), {x: Fraction(5, 2)})
    assert (r[down], r[nearest]) == (2, 3)


def test_an_expression_reading_the_lines_reads_them_at_its_own_step():
    """`live(index, amounts)`: the driver's lines as they stand. Each staged expression is given the
    lines' values as they were when the driver read it, not as they end."""
    ev = compile_contract(load_contract("contracts/norrkoping.sib"))
    step = ev.program.steps[2]  # the outcome payment's formula, here made to read the lines
    ev._amount[id(step)] = lambda ctx: sum(v for v in ctx.lines if v is not None) + len(ctx.index)
    ev._c.reads_lines = True  # as if compiled from `to_date(P)` (compiler.paid)
    stager = _Stager(ev)
    amounts = [None, None]
    stager.live({("a", None): 0, ("b", None): 1}, amounts)
    first = amounts[0] = stager._new()
    early = stager.expr(step, "amount")  # line 0 set, line 1 not yet
    amounts[0], amounts[1] = stager.const(100), stager.const(20)
    late = stager.expr(step, "amount")
    r = _run(stager, Ctx({}, {}, {}), {first: 7})
    assert (r[early], r[late]) == (7 + 2, 120 + 2)


def test_the_lines_are_handed_only_to_a_contract_that_reads_them():
    """Issue 21: giving an expression the lines as they stand costs a list per read; a contract
    none of whose formulas reads what was paid so far (`to_date(P)`, `previous(P)`,
    `cumulative(P)`) is staged without it, one that reads it with it."""
    plain = compile_contract(load_contract("contracts/norrkoping.sib"))
    assert not plain._c.reads_lines
    stager = _Stager(plain)
    stager.live({("a", None): 0}, [None])
    assert stager.lines is None
    # `to_date(housing)`, `previous(housing)`: a payment's paid-so-far (tests/corpus/valid)
    reading = compile_contract(load_contract("tests/corpus/valid/time_constructs.sib"))
    assert reading._c.reads_lines
    stager = _Stager(reading)
    stager.live({("a", None): 0}, [None])
    assert stager.lines == [None]


def test_the_definitions_values_are_made_on_first_read():
    """Issue 21: `Settlement.values` (every definition's value, for the audit trail) is made when it
    is first read, once; equality still compares it."""
    contract = load_contract("contracts/norrkoping.sib")
    ev = compile_contract(contract)
    made = []
    real = ev._values
    ev._values = lambda ctx: made.append(ctx) or real(ctx)
    outcomes = {"actual_costs": Fraction(50_000_000), "reference_costs": Fraction(61_000_000),
                "school_improved": True, "completed": True}
    settlement = ev.evaluate(outcomes)
    assert made == [] and settlement.total == 10_000_000
    assert settlement.values == {"baseline_costs": 60_000_000, "savings": 10_000_000}
    assert settlement.values is settlement.values and len(made) == 1
    other = ev.evaluate(dict(outcomes, actual_costs=Fraction(50_000_001)))
    assert other.lines != settlement.lines or other.values != settlement.values
    assert settlement == ev.evaluate(outcomes) and settlement != other
    import pickle

    fresh = ev.evaluate(outcomes)  # values not made yet: pickling makes them
    again = pickle.loads(pickle.dumps(fresh))
    assert again == settlement and again.values == settlement.values
