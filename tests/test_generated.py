"""Issue 21: the scalar settlement as one generated Python function per contract (sibdsl/generated.py).

The function is the staged program written out (registers as locals, expressions inline), so it must
settle exactly as the staged program does — amounts, lines, the audit trail written later, the
guarantees, the definitions' values, errors — on every shipped contract and on generated contracts.
Its tree is made by sibc alone: every name in it is made by the generator, and nothing the contract
says (a name, an amount, a date) is written into it as a constant, however the contract names things.
"""

from __future__ import annotations

import ast
import pickle
import re
from datetime import date
from decimal import Decimal
from fractions import Fraction

import cloudpickle
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sibdsl import check_source, compile_contract, load_contract
from sibdsl.compiler import EvaluationError
from sibdsl.evaluate import _NOT_YET, Evaluator
from sibdsl.generated import _BUILTINS, _HELPERS, _LOCALS, DENOMINATOR, GENERATED_NAME, NUMERATOR, generate
from sibdsl.source import Source
from sibdsl.testing import outcomes

from .conftest import ROOT, SHIPPED
from .contractgen import generated
from .test_staging import EXAMPLES


def settled(ev: Evaluator, row: dict, generated_: bool):
    """What a reader sees of `ev`'s settlement of `row`, settled by the generated function or by
    the staged program; or the error (its diagnostic) it raises."""
    saved = ev._generated
    if not generated_:
        ev._generated = None  # the staged program
    try:
        s = ev.evaluate(row)
    except EvaluationError as err:
        return ("error", err.diagnostic.code, err.diagnostic.message, err.diagnostic.span)
    finally:
        if not generated_:
            ev._generated = saved
    return ([(ln.payment, ln.period, ln.exact, type(ln.exact), ln.trail, ln.steps) for ln in s.lines],
            s.guarantees, s.values, s.diagnostics, s.total, s.returns)


def _same(ev: Evaluator, row: dict) -> None:
    expected = settled(ev, row, False)
    assert ev._generated is not None, "the generator wrote no function for this contract"
    assert settled(ev, row, True) == expected


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_the_generated_function_settles_every_shipped_contract_as_the_staged_program(shipped, data):
    contract, ev = shipped
    _same(ev, data.draw(outcomes(contract), label="outcomes"))
    assert callable(ev._generated)  # every shipped contract is generated: none falls back


@pytest.mark.parametrize("path", [p for p in SHIPPED if p.with_suffix(".outcomes.json").exists()],
                         ids=lambda p: p.name)
def test_every_shipped_contract_settles_its_own_outcome_file_alike(path):
    from sibdsl import load_outcomes

    contract = load_contract(path)
    _same(compile_contract(contract), load_outcomes(contract, path.with_suffix(".outcomes.json")))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_the_generated_function_settles_generated_contracts_as_the_staged_program(data):
    contract, diagnostics = check_source(Source("generated.sib", data.draw(generated(), label="contract")))
    assert contract is not None, [d.message for d in diagnostics]
    ev = compile_contract(contract)
    for row in data.draw(st.lists(outcomes(contract), min_size=1, max_size=5), label="outcomes"):
        expected = settled(ev, row, False)
        if ev._generated is _NOT_YET:
            ev._generate()
        if ev._generated is None:  # a contract the generator does not write: the staged program, alike
            assert settled(ev, row, True) == expected
            continue
        assert settled(ev, row, True) == expected


# ------------------------------------------------------------------ the tree: sibc's names only

HOSTILE = {  # Python builtins, the generator's own names and its helpers', as the contract's names
    "actual_costs": "inputs", "reference_costs": "r0", "school_improved": "type", "completed": "exists",
    "baseline_costs": "Fraction", "savings": "k0", "outcome": "divide", "bonus": "f0", "activity": "ctx",
    "ceiling": "reraise", "loan": "min",
}


def hostile_norrkoping():
    text = (ROOT / "contracts" / "norrkoping.sib").read_text()
    for old, new in HOSTILE.items():
        text = re.sub(rf"\b{old}\b", new, text)
    text = text.replace('"Socialt utfallskontrakt – Norrköping"', '"__import__(\'os\').system(\'x\')"')
    contract, diagnostics = check_source(Source("hostile.sib", text))
    assert contract is not None, [d.message for d in diagnostics]
    return contract


def test_hostile_names_are_contracts_the_checker_accepts():
    contract = hostile_norrkoping()
    assert {"inputs", "r0", "type", "exists"} <= set(contract.measures)
    assert {"Fraction", "k0"} <= set(contract.definitions)
    assert {"divide", "f0", "ctx"} <= set(contract.payments)


def _trees():
    contracts = [(p.name, load_contract(p)) for p in SHIPPED] + [("hostile", hostile_norrkoping())]
    for name, contract in contracts:
        ev = compile_contract(contract)
        fn = ev._generate()
        assert fn is not None, name
        yield name, contract, ev, fn


def test_every_name_in_the_generated_tree_is_made_by_the_generator():
    fixed = set(_HELPERS) | set(_BUILTINS) | set(_LOCALS)
    for name, _contract, _ev, fn in _trees():
        names = {n.id for n in ast.walk(fn.tree) if isinstance(n, ast.Name)}
        args = {a.arg for n in ast.walk(fn.tree) if isinstance(n, ast.arguments) for a in n.args}
        handlers = {n.name for n in ast.walk(fn.tree) if isinstance(n, ast.ExceptHandler) and n.name}
        for ident in names | args | handlers:
            assert ident in fixed or re.fullmatch(GENERATED_NAME, ident), (name, ident)
        attributes = {n.attr for n in ast.walk(fn.tree) if isinstance(n, ast.Attribute)}
        assert attributes <= {NUMERATOR, DENOMINATOR, "append", "__dict__", "update"}, (name, attributes)
        # the function's globals: the generator's names, and only the builtins the code uses
        assert set(fn.__globals__["__builtins__"]) == set(_BUILTINS) == {"type", "min", "max", "abs", "int"}
        for key in fn.__globals__:
            assert key == "__builtins__" or key in _HELPERS or re.fullmatch(GENERATED_NAME, key), key
        assert fn.__code__.co_filename.startswith("<sibc generated: ")


def test_nothing_the_contract_says_is_a_constant_of_the_generated_tree():
    """Amounts, names, periods, dates, Fractions reach the function through its globals (`k` names):
    the tree's constants are None, True and False."""
    for name, contract, _ev, fn in _trees():
        for node in ast.walk(fn.tree):
            if not isinstance(node, ast.Constant):
                continue
            assert type(node.value) in (type(None), bool), (name, node.value)
        strings = {v for v in fn.__globals__.values() if isinstance(v, str)}
        assert set(contract.measures) & strings  # the measures' names are read through the globals
        source = ast.unparse(fn.tree)
        for word in set(contract.measures) | set(contract.definitions) | set(contract.payments):
            if not re.fullmatch(GENERATED_NAME, word) and word not in _HELPERS and word not in _BUILTINS \
                    and word not in _LOCALS:
                assert not re.search(rf"\b{re.escape(word)}\b", source), (name, word)


def test_the_hostile_contract_settles_as_the_staged_program():
    contract = hostile_norrkoping()
    ev = compile_contract(contract)
    original = compile_contract(load_contract(ROOT / "contracts" / "norrkoping.sib"))
    for costs, school, completed in [(0, True, True), (30_000_000, False, True), (90_000_000, True, False)]:
        row = {"inputs": Fraction(costs // 3), "r0": Fraction(costs), "type": school, "exists": completed}
        _same(ev, row)
        named = {"actual_costs": row["inputs"], "reference_costs": row["r0"], "school_improved": school,
                 "completed": completed}
        assert ev.evaluate(row).total == original.evaluate(named).total


# ------------------------------------------------------------------ errors, fallback, laziness, pickling

def _divides():
    text = (ROOT / "contracts" / "norrkoping.sib").read_text()
    text = text.replace("payment bonus", "define per_head = reference_costs / actual_costs\n"
                        "payment bonus", 1)
    text = text.replace("min(max(savings - loan, 0 SEK), 20 % of loan)",
                        "min(max(savings - loan, 0 SEK), 20 % of loan) + per_head * 0 SEK", 1)
    contract, diagnostics = check_source(Source("divides.sib", text))
    assert contract is not None, [d.message for d in diagnostics]
    return contract


def test_a_division_by_zero_is_the_same_error_at_the_same_place():
    ev = compile_contract(_divides())
    row = {"actual_costs": 0, "reference_costs": 5, "school_improved": True, "completed": True}
    staged = settled(ev, row, False)
    assert staged[0] == "error" and staged[1] == "E602"
    assert settled(ev, row, True) == staged
    assert callable(ev._generated)
    _same(ev, dict(row, actual_costs=Fraction(7, 3)))


def test_a_broken_assumption_is_the_same_error():
    text = (ROOT / "contracts" / "norrkoping.sib").read_text() + \
        "\nassume costs_known: actual_costs <= reference_costs\n"
    contract, diagnostics = check_source(Source("assumes.sib", text))
    assert contract is not None, [d.message for d in diagnostics]
    ev = compile_contract(contract)
    row = {"actual_costs": 9, "reference_costs": 5, "school_improved": True, "completed": True}
    staged = settled(ev, row, False)
    assert staged[0] == "error" and staged[1] == "E473"
    assert settled(ev, row, True) == staged


def test_an_operation_the_generator_does_not_write_leaves_the_staged_program(monkeypatch):
    """The fallback: an operation without a shape (a kind the generator does not know yet) makes
    `generate` answer None, and the contract settles by the staged program, the same settlement."""
    contract = load_contract(ROOT / "contracts" / "chicago_cpc.sib")
    ev = compile_contract(contract)
    reference = compile_contract(contract)
    ev._ops = list(ev._ops)
    shapeless = ev._ops[-1]
    ev._ops[-1] = lambda r: shapeless(r)  # the same operation, told nothing of what it computes
    assert ev._generate() is None and ev._generated is None
    row = {name: value for name, value in outcomes_of(contract).items()}
    assert ev.evaluate(row) == reference.evaluate(row)
    assert callable(reference._generated)
    assert [ln.steps for ln in ev.evaluate(row).lines] == [ln.steps for ln in reference.evaluate(row).lines]


def outcomes_of(contract):
    from sibdsl import load_outcomes

    return load_outcomes(contract, ROOT / "contracts" / "chicago_cpc.outcomes.json")


def test_a_contract_reading_what_was_paid_so_far_settles_by_the_staged_program():
    """An expression reading the lines as they stand (`to_date`, issue 15) is handed them per step:
    the generator does not write that (yet), so such a contract keeps the staged program."""
    for path in SHIPPED:
        ev = compile_contract(load_contract(path))
        if ev._c.reads_lines:
            assert ev._generated is None
    ev = compile_contract(load_contract(ROOT / "contracts" / "norrkoping.sib"))
    assert ev._generated is _NOT_YET


def test_a_recorder_or_an_observer_keeps_the_staged_program():
    contract = load_contract(ROOT / "contracts" / "norrkoping.sib")
    assert Evaluator(contract, recorder=lambda e, b: None)._generated is None
    assert Evaluator(contract, on_step=lambda s, a: None)._generated is None


def test_the_function_is_made_on_the_first_evaluation_not_when_compiling():
    contract = load_contract(ROOT / "contracts" / "norrkoping.sib")
    ev = compile_contract(contract)
    assert ev._generated is _NOT_YET
    row = {"actual_costs": 1, "reference_costs": 5, "school_improved": True, "completed": True}
    ev.evaluate(row)
    fn = ev._generated
    assert callable(fn)
    ev.evaluate(row)
    assert ev._generated is fn  # once


def test_settlements_and_evaluators_pickle():
    contract = load_contract(ROOT / "contracts" / "norrkoping.sib")
    ev = compile_contract(contract)
    row = {"actual_costs": Fraction(3, 7), "reference_costs": Fraction(50_000_001), "school_improved": False,
           "completed": True}
    s = ev.evaluate(row)
    revived = pickle.loads(pickle.dumps(s))
    assert revived == s and [ln.steps for ln in revived.lines] == [ln.steps for ln in s.lines]
    again = cloudpickle.loads(cloudpickle.dumps(ev))  # a Dask worker receives it so
    assert again._generated is _NOT_YET  # made again in the process that unpickles it
    assert again.evaluate(row) == s and callable(again._generated)


def test_generate_of_no_operations_makes_the_lines_of_the_known_amounts():
    """No operations: each line is made of its register's known value, `Line.made`'s instance; an
    optional line only where its template says it exists; a negative amount is said."""
    from sibdsl.settlement import Line

    a, b = {"payment": "a", "clause": None, "payer": "p", "recipient": "q", "period": None, "due": None}, \
        {"payment": "b", "clause": None, "payer": "p", "recipient": "q", "period": "y1", "due": date(2020, 1, 1)}
    lines = [(a, 2, False), (b, 3, True)]
    fn = generate([], {2: 5}, [None, None, 5, -1], {}, set(), lines, [None, False], Line, "0")
    made, negative, kept = fn(None, {}, "w")
    assert type(made) is tuple and [vars(ln) for ln in made] == [vars(Line.made(a, 5, "w", 0))] and negative
    fn = generate([], {2: 5}, [None, None, 5, -1], {}, set(), lines, [None, True], Line, "0")
    made, negative, kept = fn(None, {}, "w")
    assert [vars(ln) for ln in made] == [vars(Line.made(a, 5, "w", 0)), vars(Line.made(b, -1, "w", 1))]
    assert [list(vars(ln)) for ln in made] == [list(vars(Line.made(b, -1, "w", 1)))] * 2  # the same dict, in order
    assert all(type(ln) is Line for ln in made) and made[0].amount == 5
    assert fn.kept == kept == () and not fn.reads_ctx
    positive = generate([], {2: 5}, [None, None, 5], {}, set(), [(a, 2, False)], [None], Line, "0")
    assert not positive(None, {}, "w")[1]


def test_many_optional_lines_are_a_list_in_order():
    """More than `_SEGMENTS` optional lines: appended to a list (the evaluator makes it a tuple)."""
    from sibdsl.generated import _SEGMENTS
    from sibdsl.settlement import Line

    n = 2 * _SEGMENTS  # two thirds of them optional: more than _SEGMENTS
    fields = [{"payment": f"p{i}", "clause": None, "payer": "p", "recipient": "q", "period": None, "due": None}
              for i in range(n)]
    lines = [(fields[i], 2, i % 3 != 0) for i in range(n)]
    there = [None if i % 3 == 0 else i % 2 == 0 for i in range(n)]
    fn = generate([], {2: 5}, [None, None, 5], {}, set(), lines, there, Line, "0")
    made = fn(None, {}, "w")[0]
    assert type(made) is list
    assert [ln.payment for ln in made] == [f"p{i}" for i in range(n) if there[i] is None or there[i]]
    assert [ln._at for ln in made] == [i for i in range(n) if there[i] is None or there[i]]


def test_every_constant_kind_a_contract_gives_reaches_the_function_whole():
    """Dates, Decimals, Fractions and strings are `k` names bound to the very values."""
    from sibdsl.generated import _Writer

    w = _Writer({}, [], {})
    values = [date(2019, 6, 30), Decimal("0.5"), Fraction(1, 3), "x' + '", 7, [1, 2]]
    names = [w.const(v).id for v in values]
    assert all(re.fullmatch(GENERATED_NAME, n) for n in names)
    assert [w.env[n] for n in names] == values


# ------------------------------------------------------------------ rounding written out

def _rounding_function(rnd):
    """The generated function of two operations: read the measure `x` as it is, round it by `rnd`."""
    from sibdsl.compiler import shaped
    from sibdsl.settlement import Line

    read = shaped(lambda ctx: ctx.inputs["x"], "input", "x", None, True)
    ops = [shaped(lambda r: None, "expr", 2, read, None), shaped(lambda r: None, "round", 3, rnd, 2, False)]
    fn = generate(ops, {}, [None] * 4, {}, set(), [({}, 3, False)], [None], Line, "0")
    assert fn is not None
    return lambda value: fn(None, {"x": value}, None)[0][0].exact


STEPS = [Decimal("1"), Decimal("5"), Decimal("0.01"), Decimal("0.05"), Decimal("2.5")]
EDGES = [0, 1, -1, 7, -7, 10, -10, Fraction(1, 2), Fraction(-1, 2), Fraction(5, 2), Fraction(-5, 2),
         Fraction(15, 2), Fraction(-15, 2), Fraction(1, 3), Fraction(-2, 3), Fraction(1, 200), Fraction(-3, 200),
         Fraction(1, 40), Fraction(-1, 40), Fraction(25, 4), Fraction(-25, 4), Fraction(123456789, 100)]


@pytest.mark.parametrize("mode", ["half up", "half down", "half even", "up", "down"])
@pytest.mark.parametrize("step", STEPS, ids=str)
def test_a_rounding_written_out_rounds_as_values_rounder(mode, step):
    """generated.py writes `values.rounder`'s `apply` out for the contract's step and mode (no call
    per payment): the same amount and the same type (an int where whole) on halves, on both sides of
    zero, on and off the grid."""
    from sibdsl.values import rounder

    rnd = rounder(step, mode)
    inline = _rounding_function(rnd)
    for value in EDGES + [v * Fraction(step) for v in EDGES]:
        assert (inline(value), type(inline(value))) == (rnd(value), type(rnd(value))), (value, step, mode)


@settings(max_examples=200, deadline=None)
@given(st.fractions(max_denominator=1000), st.sampled_from(STEPS),
       st.sampled_from(["half up", "half down", "half even", "up", "down"]))
def test_a_rounding_written_out_rounds_any_amount_as_values_rounder(value, step, mode):
    from sibdsl.values import rounder

    rnd = rounder(step, mode)
    value = value.numerator if value.denominator == 1 else value  # as the registers hold it (values.whole)
    got = _rounding_function(rnd)(value)
    assert (got, type(got)) == (rnd(value), type(rnd(value)))


def test_a_rounding_without_its_rule_is_called():
    calls = []

    def rnd(x):
        calls.append(x)
        return 42
    assert _rounding_function(rnd)(Fraction(1, 3)) == 42 and calls == [Fraction(1, 3)]
