"""One semantics, three back ends: the settlement program and the expression interpreter give the
scalar evaluator, the vectorised evaluator and the z3 encoding the same meaning.

- Differential: contracts generated with every step kind (tests/contractgen.py) and random
  outcomes settle to the same öre on all three back ends — the z3 encoding evaluated at the
  concrete outcomes — including where a division by zero makes the settlement undefined.
- Oracles: small contracts whose settlement is worked out by hand, one for each pair of
  neighbouring steps in the order of application and one for the direction of the cut.
- Mutations: every swap of two neighbouring step kinds in the program, and a reversed cut in the
  driver or in any one back end, is caught by the oracles or by the differential test — or is
  shown to be an equivalent mutant (two cuts of the same lines to levels that do not depend on
  each other commute).
- Depth: a chain of 5,000 definitions and a flat sum of 5,000 terms check, evaluate, vectorise
  and encode without reaching Python's recursion limit.
"""

from __future__ import annotations

import os
from fractions import Fraction

import attrs
import pytest
import z3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sibdsl import Source, check_source, compile_contract
from sibdsl import model as m
from sibdsl.vector import settle as vector_settle
from sibdsl import verify as sym
from sibdsl.evaluate import EvaluationError, Evaluator, _Concrete
from sibdsl.semantics import run as driver
from sibdsl.semantics.program import Program, StepKind, lower, paid_reads
from sibdsl.testing import outcomes
from sibdsl.verify import verify_contract
from sibdsl.units import BOOL, DATE

from .contractgen import generated
from .test_vector import assert_same

EXAMPLES = int(os.environ.get("SIB_DIFF_EXAMPLES", "50"))
K = StepKind


def checked(text: str):
    contract, diagnostics = check_source(Source("generated.sib", text))
    errors = [d for d in diagnostics if d.code.startswith("E")]
    assert contract is not None and not errors, [d.message for d in errors]
    return contract


# ---------------------------------------------------------------- the z3 encoding at a concrete point
class Encoding:
    """The z3 settlement of a contract, evaluated at concrete outcomes."""

    def __init__(self, contract, program: Program | None = None):
        self.contract = contract
        self.sym = sym._Sym(contract, "t!")
        self.settlement = sym._SymSettlement(contract, self.sym, program)
        self.solver = z3.Solver()

    def settle(self, row: dict):
        """(defined, total, amount per line) of the encoding where the inputs are `row`."""
        self.solver.push()
        try:
            for (name, period), term in self.sym.inputs.items():
                value = row[name][period] if period is not None else row[name]
                kind = self.contract.measures[name].ty.kind
                if kind == BOOL:
                    self.solver.add(term == z3.BoolVal(bool(value)))
                elif kind == DATE:
                    self.solver.add(term == value.toordinal())
                else:
                    self.solver.add(term == z3.RealVal(f"{value.numerator}/{value.denominator}"))
            assert self.solver.check() == z3.sat
            model = self.solver.model()
            defined = z3.is_true(model.eval(self.settlement.all_defined, model_completion=True))
            total = sym._model_value(model, self.settlement.total)
            lines = [sym._model_value(model, ln.amount) for ln in self.settlement.lines]
            return defined, total, lines
        finally:
            self.solver.pop()


def assert_z3_same(contract, rows, program: Program | None = None) -> None:
    evaluator = Evaluator(contract, program=program)
    encoding = Encoding(contract, program)
    for row in rows:
        defined, total, lines = encoding.settle(row)
        try:
            settlement = evaluator.evaluate(row)
        except EvaluationError:
            assert not defined, row
            continue
        assert defined, row
        assert total == Fraction(settlement.total), (row, total, settlement.total)
        paid = {}
        for ln in settlement.lines:  # a waterfall's line (issue 14) is kept only when its step paid
            key = (ln.payment, ln.period, ln.recipient, ln.clause.kind in m.PAYMENT_CLAUSES)
            paid[key] = paid.get(key, 0) + Fraction(ln.amount)
        encoded = {}
        specs = (program or lower(contract)).lines
        for ln, spec, amount in zip(encoding.settlement.lines, specs, lines):
            key = (ln.payment, ln.period, ln.recipient, not ln.top_up and spec.key[0] != "waterfall")
            encoded[key] = encoded.get(key, 0) + amount
        # a top-up line that pays nothing: absent, or lifted and then cut back to zero by a cap
        assert {k: v for k, v in encoded.items() if v or k[3]} == {k: v for k, v in paid.items() if v or k[3]}, row


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_three_back_ends_agree_on_generated_contracts(data):
    contract = checked(data.draw(generated(), label="contract"))
    rows = data.draw(st.lists(outcomes(contract), min_size=1, max_size=6), label="outcomes")
    assert_same(contract, rows)  # vectorised = scalar, line by line, to the öre
    assert_z3_same(contract, rows)  # z3 encoding at the point = scalar


# The failing example of --hypothesis-seed=129412685095498490544328522794638087645 (first found, not
# shrunk): a rate card with counts up to 45,320,951 at 4 730.50 SEK, indexed 3.5 %, rounding 0.5 SEK
# half down. Not an overflow: the vector plan narrowed the total of all lines by a bound an earlier
# step had proved when fewer lines existed (sg runs after each line of p1, whose paid-so-far pr reads,
# issue 15), so sg was skipped as unable to act in the first scenario (246 513 SEK, not 234 373).
# tests/test_vector.py has the smallest contract that shows it.
SEED_CONTRACT = """contract "Generated"
  languages en
  currency SEK
  rounding 0.5 SEK half down
party city "City": payer
party fund "Fund": investor
party bank "Bank": investor
party ngo "Provider": provider
term 2020-01-01 to 2023-12-31
periods year:
  y1 2021-01-01 to 2021-12-31,
  y2 2022-01-01 to 2022-12-31
cohort group: size 40
investment loan_a: 400 000 SEK from fund drawn 150 000 SEK on 2020-01-01, 250 000 SEK on 2021-03-01
  committed 500 000 SEK
  class senior
measure spent: money between 0 SEK and 2 000 000 SEK
measure base: money between 0 SEK and 2 000 000 SEK
measure rate: share
measure ok: boolean
measure people: count between 0 and 200
measure visits: count per year between 0 and 60
measure started: date between 2020-01-01 and 2023-12-31
measure waited: days between 0 days and 400 days
define saved = max(base - spent, 0 SEK)
define per_visit = if visits > 0 then 12 000 SEK / visits else 0 SEK
baseline indexed_base = base
  indexed 2 % per year for 3 years
table coupon "Coupon": step { below 40 %: 0 %, from 40 %: 2 %, from 75 %: 3.5 % }
table bonus: linear { below: 0 SEK, 20 %: 10 000 SEK, 60 %: 90 000 SEK, above: 120 000 SEK }
payment p0 = min(visits * 2 500 SEK, 90 000 SEK)
  from city to ngo per year during y2 due 2023-06-30
payment p1 = (period_end - period_start) * 10 SEK
  from city to ngo per year during y1 through y2 due 2023-06-30
payment p2 = to_date(visits) * 300 SEK
  from city to ngo per year due 2023-06-30
payment p3 = (interpolate(rate) { 10 %: 0 SEK, 50 %: 90 000 SEK, 90 %: 100 000 SEK }) + (indexed_base / 4)
  from city to ngo due 2021-06-30
payment pr = if to_date(p1) > 20 000 SEK then 10 % of previous(p1) else 1 000 SEK
  from city to ngo per year due 2023-06-30
ratecard card from city to fund per year due 30 days after end: {
  o0: 4 730.50 SEK cap 9 999 SEK,
  cap per participant 1 500 SEK,
  indexed 3.5 % per year from 2020-07-01,
}
party guarantor "Guarantor": payer
cap s_p0: p0 over all periods at 30 % of spent
floor sf_p1: p1 over all periods at 2 % of base
cap sg: p0, p2, p3, pr, p1 over all periods at 150 000 SEK
cap per year at 70 000 SEK
cap per participant at 9 000 SEK
floor tf: total at 60 000 SEK when ok
  from city to fund due 2023-12-31
cap tc: total at 700 000 SEK
cover c1: loss of loan_a up to 90 000 SEK from guarantor
cover c2: loss of loan_a up to 10 000 SEK from city
"""
# spent, base, rate, ok, people, visits (y1, y2), started, waited, card.o0 (y1, y2); a pair is a fraction
SEED_ROWS = [
    ((1901, 4), (1846148, 25), 1, False, 193, (25, 40), "2030-09-26", 169, (308105, 1669)),
    ((13435833, 100), (56589, 25), 0, True, 30, (22, 42), "2000-01-24", 149, (45320951, 699)),
    (2000000, (8521103, 100), (443, 5000), True, 133, (15, 15), "2031-04-26", 10, (0, 348658)),
    ((539, 25), 0, 0, False, 191, (53, 2), "2016-01-20", 23, (1073, 5592)),
    ((4881027, 50), (5729, 100), 0, True, 14, (54, 40), "2036-08-04", 289, (1460477, 6049)),
    (0, (3942, 25), 0, False, 49, (13, 1), "2017-06-18", 337, (1000001, 261146)),
]


def _seed_value(x):
    return Fraction(*x) if isinstance(x, tuple) else Fraction(x)


def test_three_back_ends_agree_on_the_seeds_rate_card():
    import datetime

    contract = checked(SEED_CONTRACT)
    rows = [{"spent": _seed_value(spent), "base": _seed_value(base), "rate": _seed_value(rate), "ok": ok,
              "people": Fraction(people), "visits": {"y1": Fraction(visits[0]), "y2": Fraction(visits[1])},
              "started": datetime.date.fromisoformat(started), "waited": Fraction(waited),
              "card.o0": {"y1": Fraction(card[0]), "y2": Fraction(card[1])}}
             for spent, base, rate, ok, people, visits, started, waited, card in SEED_ROWS]
    assert_same(contract, rows)
    assert_z3_same(contract, rows)


# ---------------------------------------------------------------- oracles: worked out by hand
HEAD = """contract "Oracle"
  languages en
  currency SEK
  rounding 1 SEK half up
party city "City": payer
party fund "Fund": investor
party ngo "Provider": provider
periods year:
  y1 2021-01-01 to 2021-12-31,
  y2 2022-01-01 to 2022-12-31
cohort group: size 1
"""


def fr(x) -> Fraction:
    return Fraction(x)


@attrs.frozen
class Oracle:
    """A contract, outcomes and what the settlement must be: the total and some lines."""

    name: str
    body: str
    row: dict
    total: int
    lines: dict = attrs.field(factory=dict)  # (payment, period) or (payment, period, recipient) → amount
    pair: tuple = ()  # the neighbouring step kinds whose order it pins


ORACLES = [
    Oracle("a failed gate, then the floor", """
measure x: money
measure ok: boolean
payment p = x from city to fund due 2020-01-01
gate g: p requires ok
floor f: p at 10 SEK
""", {"x": fr(50), "ok": False}, 10, pair=(K.GATE, K.FLOOR)),
    Oracle("a payment's floor, then its cap", """
measure x: money
payment p = x from city to fund due 2020-01-01
floor f: p at 100 SEK
cap c: p at x / 2
""", {"x": fr(50)}, 25, pair=(K.FLOOR, K.CAP)),
    Oracle("a payment's cap, then the cap per period", """
measure v: count per year
payment p = v * 10 SEK from city to fund per year due 2023-01-01
payment q = 60 SEK from city to ngo per year due 2023-01-01
cap c: p at 50 SEK
cap per year at 80 SEK
""", {"v": {"y1": fr(10), "y2": fr(0)}}, 80 + 60, {("p", "y1"): 50, ("q", "y1"): 30, ("q", "y2"): 60},
           pair=(K.CAP, K.PERIOD_CAP)),
    Oracle("a payment's cap, then the cap per participant", """
measure x: money
payment p = x from city to fund due 2020-01-01
payment q = 60 SEK from city to ngo due 2020-01-01
cap c: p at 50 SEK
cap per participant at 80 SEK
""", {"x": fr(100)}, 80, {("p", None): 50, ("q", None): 30}, pair=(K.CAP, K.PARTICIPANT_CAP)),
    Oracle("the cap per period, then the cap per participant", """
measure v: count per year
payment a = v * 10 SEK from city to fund per year due 2023-01-01
payment b = (10 - v) * 10 SEK from city to fund per year due 2023-01-01
cap per year at 60 SEK
cap per participant at 100 SEK
""", {"v": {"y1": fr(10), "y2": fr(0)}}, 100, {("a", "y1"): 60, ("b", "y2"): 40},
           pair=(K.PERIOD_CAP, K.PARTICIPANT_CAP)),
    Oracle("a gate on the total, then a floor on the total", """
measure x: money
measure ok: boolean
payment p = x from city to fund due 2020-01-01
gate total above 100 SEK requires ok
floor tf: total at 150 SEK
  from city to fund
""", {"x": fr(300), "ok": False}, 150, pair=(K.TOTAL_GATE, K.TOTAL_FLOOR)),
    Oracle("a floor on the total, then a cap on the total (issue 13's example)", """
measure x: money
payment p = x from city to fund due 2020-01-01
floor tf: total at 100 SEK
  from city to fund
cap tc: total at x / 2
""", {"x": fr(50)}, 25, pair=(K.TOTAL_FLOOR, K.TOTAL_CAP)),
    Oracle("a cap on the total, then a return limit", """
measure x: money
investment loan: 300 SEK from fund on 2020-01-01
payment p1 = 400 SEK from city to fund due 2020-06-01
payment p2 = x from city to ngo due 2020-06-01
cap tc: total at 1 000 SEK
return limit r: 10 % in total
""", {"x": fr(800)}, 930, {("p1", None): 330, ("p2", None): 600}, pair=(K.TOTAL_CAP, K.RETURN_LIMIT)),
    # issue 14: the cover pays the loss left after the return limit cut (drawn 300, limit 150, the
    # cover pays the other 150); applied before the limit it would see a loss of 50 only
    Oracle("a return limit, then a first-loss cover", """
measure x: money
investment loan: 300 SEK from fund on 2020-01-01
payment p1 = x from city to fund due 2020-06-01
return limit r: 0.5 times drawn
cover c: loss of loan up to 200 SEK from city
""", {"x": fr(250)}, 300, {("p1", None): 150, ("c", None): 150}, pair=(K.RETURN_LIMIT, K.COVER)),
    Oracle("a cut takes from the line declared last", """
measure x: money
payment first = x from city to fund due 2020-01-01
payment second = x from city to ngo due 2020-01-01
cap tc: total at 150 SEK
""", {"x": fr(100)}, 150, {("first", None): 100, ("second", None): 50}),
    Oracle("a rate card's total cap, then the cap per period (issue 15)", """
ratecard card from city to fund per year due 30 days after end: {
  o: 10 SEK,
  total cap 150 SEK in claim order,
}
cap per year at 80 SEK
""", {"card.o": {"y1": fr(10), "y2": fr(10)}}, 130, {("card.o", "y1"): 80, ("card.o", "y2"): 50},
           pair=(K.CARD_CAP, K.PERIOD_CAP)),
    Oracle("a rate card in claim order cuts the latest period first", """
ratecard card from city to fund per year due 30 days after end: {
  a: 10 SEK,
  b: 100 SEK,
  total cap 150 SEK in claim order,
}
""", {"card.a": {"y1": fr(1), "y2": fr(10)}, "card.b": {"y1": fr(1), "y2": fr(1)}}, 150,
           {("card.a", "y1"): 10, ("card.b", "y1"): 100, ("card.a", "y2"): 40, ("card.b", "y2"): 0}),
    Oracle("a rate card in declaration order cuts the outcome listed last first", """
ratecard card from city to fund per year due 30 days after end: {
  a: 10 SEK,
  b: 100 SEK,
  total cap 150 SEK in declaration order,
}
""", {"card.a": {"y1": fr(1), "y2": fr(10)}, "card.b": {"y1": fr(1), "y2": fr(1)}}, 150,
           {("card.a", "y1"): 10, ("card.a", "y2"): 100, ("card.b", "y1"): 40, ("card.b", "y2"): 0}),
    Oracle("a rate card in proportion scales every line by cap ÷ total, rounded down", """
ratecard card from city to fund per year due 30 days after end: {
  a: 10 SEK,
  b: 100 SEK,
  total cap 150 SEK in proportion,
}
""", {"card.a": {"y1": fr(1), "y2": fr(10)}, "card.b": {"y1": fr(1), "y2": fr(1)}}, 148,
           # 310 claimed: each line × 150/310, rounded down (10 → 4.84 → 4; 100 → 48.39 → 48); 2 SEK unpaid
           {("card.a", "y1"): 4, ("card.a", "y2"): 48, ("card.b", "y1"): 48, ("card.b", "y2"): 48}),
    Oracle("a rate card's outcome cap, then its cap per participant", """
ratecard card from city to fund per year due 30 days after end: {
  a: 10 SEK cap 120 SEK,
  b: 100 SEK,
  cap per participant 150 SEK,
}
""", {"card.a": {"y1": fr(10), "y2": fr(10)}, "card.b": {"y1": fr(0), "y2": fr(1)}}, 150,
           {("card.a", "y1"): 100, ("card.a", "y2"): 20, ("card.b", "y2"): 30}),
]


# issue 14: a waterfall distributes what is left after the caps on the total, and the return limits
# then cut what it paid an investor
ORACLES += [
    Oracle("a cap on the total, then the waterfall", """
measure x: money
party bank "Bank": investor
payment p = x from city to ngo due 2021-01-01
cap tc: total at 150 SEK
waterfall w: p
  1. to fund until 100 SEK
  2. rest to bank
""", {"x": fr(300)}, 150, {("p", None): 150}, pair=(K.TOTAL_CAP, K.WATERFALL)),
    # issue 14: the limit acts within the waterfall, and what it cuts passes to the next step (applied
    # before the waterfall, it would find nothing to cut: fund 200, bank 100)
    Oracle("the waterfall, then a return limit", """
measure x: money
party bank "Bank": investor
investment loan: 100 SEK from fund on 2020-01-01
payment p = x from city to ngo due 2021-01-01
waterfall w: p
  1. to fund until 200 SEK
  2. rest to bank
return limit r: 20 % in total for fund
""", {"x": fr(300)}, 300, {("p", None, "fund"): 120, ("p", None, "bank"): 180}, pair=(K.WATERFALL, K.RETURN_LIMIT)),
]


def oracle_holds(oracle: Oracle, program_of=None) -> bool:
    contract = checked(HEAD + oracle.body)
    program = program_of(contract) if program_of else None
    settlement = Evaluator(contract, program=program).evaluate(oracle.row)
    got = {}  # (payment, period) → amount, and (payment, period, recipient) → amount
    for ln in settlement.lines:
        for key in ((ln.payment, ln.period), (ln.payment, ln.period, ln.recipient)):
            got[key] = got.get(key, 0) + Fraction(ln.amount)
    return Fraction(settlement.total) == oracle.total and all(
        got.get(key, 0) == value for key, value in oracle.lines.items())


@pytest.mark.parametrize("oracle", ORACLES, ids=lambda o: o.name)
def test_oracle(oracle):
    assert oracle_holds(oracle)
    contract = checked(HEAD + oracle.body)
    assert_same(contract, [oracle.row])
    assert_z3_same(contract, [oracle.row])


# ---------------------------------------------------------------- mutations
ORDER = [K.COMPUTE, K.GATE, K.FLOOR, K.CAP, K.CARD_CAP, K.PERIOD_CAP, K.PARTICIPANT_CAP, K.TOTAL_GATE, K.TOTAL_FLOOR,
         K.TOTAL_CAP, K.WATERFALL, K.RETURN_LIMIT, K.COVER]
PER_LINE = {K.COMPUTE, K.GATE, K.FLOOR, K.CAP}
# issue 15: steps placed between the phases above; their order with their neighbours is pinned by
# the oracles of tests/test_time15.py (a cap on a party shares the phase of caps on the total)
BETWEEN = {K.STREAM_FLOOR: ORDER.index(K.CARD_CAP) + 0.3, K.STREAM_CAP: ORDER.index(K.CARD_CAP) + 0.6,
           K.PARTY_CAP: ORDER.index(K.TOTAL_CAP)}


def swapped(program: Program, a: StepKind, b: StepKind) -> Program:
    """The program with the steps of kinds `a` and `b` (neighbours in the order, `a` first) applied
    the other way round: within each line for two per-line kinds, else as whole phases."""
    rank: dict[StepKind, float] = {k: i for i, k in enumerate(ORDER)} | BETWEEN
    if a in PER_LINE and b not in PER_LINE:
        rank[a] = rank[b] + 0.1  # taken out of the lines, applied right after the phase of `b` (before BETWEEN's)
    else:
        rank[a], rank[b] = rank[b], rank[a]

    # a stream cap whose payments' paid-so-far a formula reads is also applied after each line of its
    # stream (program.py, issue 15): those steps (every occurrence of the clause but its last, the phase)
    # stay with the line they follow
    last = {step.clause: i for i, step in enumerate(program.steps) if step.kind is K.STREAM_CAP}
    line_of, current = {}, -1
    for i, step in enumerate(program.steps):
        if step.kind is K.COMPUTE:
            current = step.line
        if step.kind is K.STREAM_CAP and last[step.clause] != i:
            line_of[i] = current

    def key(item):
        index, step = item
        if index in line_of:  # after the line's own steps, wherever they are applied
            return (0, line_of[index], len(PER_LINE) - 0.5, index)
        if step.kind in PER_LINE and rank[step.kind] < len(PER_LINE):  # still applied line by line
            return (0, step.line, rank[step.kind], index)
        if step.takes and (a, b) != (K.WATERFALL, K.RETURN_LIMIT):  # a limit within a waterfall stays in it
            return (rank[K.WATERFALL], 0, 0, index)
        return (rank[step.kind], 0, 0, index)
    steps, made = [], set()
    for _, step in sorted(enumerate(program.steps), key=key):
        if step.kind in (K.COMPUTE, K.TOTAL_FLOOR, K.COVER):
            made.add(step.line)
        if step.kind is K.WATERFALL:  # issue 14: its group is the lines it makes
            made.update(step.group)
        elif step.group:
            if step.takes and not set(step.takes) <= made:  # a limit within a waterfall, moved before it
                step = attrs.evolve(step, takes=(), line=None)  # a total reaches the lines that exist when its step runs
            step = attrs.evolve(step, group=tuple(i for i in step.group if i in made and (
                i != step.line or step.kind is K.STREAM_FLOOR)))  # a stream floor's line is in its stream
        steps.append(step)
    return attrs.evolve(program, steps=tuple(steps))


# neighbours in the order, and a payment's cap with the cap per participant (neighbours when a
# contract has no cap per period)
PAIRS = [*zip(ORDER[1:], ORDER[2:]), (K.CAP, K.PARTICIPANT_CAP), (K.CAP, K.PERIOD_CAP),  # … and without a rate card
         (K.TOTAL_CAP, K.RETURN_LIMIT)]  # neighbours in a contract without a waterfall (issue 14)
# two cuts of all the lines, to independent levels; a payment's cap and a rate card's caps (issue 15), on
# lines of their own
EQUIVALENT = {(K.PARTICIPANT_CAP, K.TOTAL_GATE), (K.CAP, K.CARD_CAP)}


def test_the_mutations_cover_every_neighbouring_pair():
    pinned = {o.pair for o in ORACLES if o.pair}
    assert set(PAIRS) == pinned | EQUIVALENT


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: f"{p[0].name}-{p[1].name}")
def test_swapping_two_steps_of_the_order_is_caught(pair):
    a, b = pair
    mutant = lambda contract: swapped(lower(contract), a, b)  # noqa: E731
    caught = [o.name for o in ORACLES if not oracle_holds(o, mutant)]
    if pair in EQUIVALENT:
        assert not caught  # an equivalent mutant: shown below to settle the same on generated inputs
    else:
        assert caught, f"no oracle notices {a.name} and {b.name} applied the other way round"


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_equivalent_mutants_settle_the_same(data):
    contract = checked(data.draw(generated()))
    rows = data.draw(st.lists(outcomes(contract), min_size=1, max_size=4))
    evaluator = compile_contract(contract)
    for a, b in EQUIVALENT:
        if a in PER_LINE and paid_reads(contract):
            continue  # a formula reads what a payment was paid so far: moving a payment's own step out of
            #           its line changes what the later lines read, so the pair is not equivalent there
        mutant = Evaluator(contract, program=swapped(lower(contract), a, b))
        for row in rows:
            try:
                expected = evaluator.evaluate(row)
            except EvaluationError:
                continue
            assert [ln.exact for ln in mutant.evaluate(row).lines] == [ln.exact for ln in expected.lines]


CUT_ORACLE = next(o for o in ORACLES if o.name == "a rate card's outcome cap, then its cap per participant")


def test_reversing_the_cut_in_the_driver_is_caught(monkeypatch):
    monkeypatch.setattr(driver, "giving_order", lambda group: tuple(group))
    assert not oracle_holds(CUT_ORACLE)


def test_reversing_the_cut_in_the_vector_back_end_is_caught(monkeypatch):
    real = vector_settle._cut
    monkeypatch.setattr(vector_settle, "_cut", lambda cp, amounts, excess: (
        lambda out: (out[0][::-1], out[1]))(real(cp, amounts[::-1], excess)))
    contract = checked(HEAD + CUT_ORACLE.body)
    with pytest.raises(AssertionError):
        assert_same(contract, [CUT_ORACLE.row])


def test_reversing_the_cut_in_the_z3_back_end_is_caught(monkeypatch):
    monkeypatch.setattr(sym._SymSettlement, "cut", lambda self, step, amounts, excess: (
        lambda out: (out[0][::-1], out[1]))(driver.cut(self, amounts[::-1], excess)))
    contract = checked(HEAD + CUT_ORACLE.body)
    with pytest.raises(AssertionError):
        assert_z3_same(contract, [CUT_ORACLE.row])


def test_reversing_the_cut_in_the_scalar_back_end_is_caught(monkeypatch):
    monkeypatch.setattr(_Concrete, "cut", lambda self, step, amounts, excess: (
        lambda out: (out[0][::-1], out[1]))(driver.cut(self, amounts[::-1], excess)))
    contract = checked(HEAD + CUT_ORACLE.body)
    with pytest.raises(AssertionError):
        assert_same(contract, [CUT_ORACLE.row])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-50, 200), min_size=0, max_size=6), st.integers(-100, 600))
def test_the_scalar_cut_is_the_reference_cut(amounts, excess):
    """A cut on numbers: each line gives what it has, in order, until the excess is gone."""
    out, acted = driver.cut(_Concrete, amounts, excess)
    left = excess
    expected = []
    for a in amounts:
        take = max(0, min(a, left)) if left > 0 else 0
        expected.append(a - take)
        left -= take
    assert out == expected
    assert acted == (excess > 0 and any(a > 0 for a in amounts))


# ---------------------------------------------------------------- depth
def test_a_chain_of_5000_definitions_checks_evaluates_and_verifies():
    chain = ["measure x: money", "define d0 = x"]
    chain += [f"define d{i} = d{i - 1} + 1 SEK" for i in range(1, 5000)]
    body = "\n".join(chain) + "\npayment p = d4999 from city to fund due 2020-01-01\n"
    contract = checked(HEAD + body)
    row = {"x": fr(7)}
    assert [Fraction(ln.amount) for ln in compile_contract(contract).evaluate(row).lines] == [7 + 4999]
    assert_same(contract, [row])
    assert_z3_same(contract, [row])
    verdicts = {v.key: v.status for v in verify_contract(contract)}
    assert verdicts["defined"] == "proved" and verdicts["nonnegative:p"] == "proved"


def test_a_flat_sum_of_5000_terms_evaluates_vectorises_and_encodes():
    """The parser builds `x + 1 SEK + x + 3 SEK + …` as a tree 5,000 levels deep; the interpreter
    reads it as one sum. (Built on the model here: the parser's own limit is tests/test_hostile's.)"""
    contract = checked(HEAD + "measure x: money\npayment q = x + 1 SEK from city to ngo due 2020-01-01\n")
    q = contract.payments["q"]
    x, one = q.expr.args
    expr = x
    for i in range(1, 5000):
        term = x if i % 2 == 0 else attrs.evolve(one, value=Fraction(i))
        expr = m.Op("+", (expr, term), q.expr.ty)
    contract = attrs.evolve(contract, payments={"q": attrs.evolve(q, expr=expr)})
    row = {"x": fr(7)}
    expected = 2500 * 7 + sum(range(1, 5000, 2))
    assert [Fraction(ln.amount) for ln in compile_contract(contract).evaluate(row).lines] == [expected]
    assert_same(contract, [row])
    assert_z3_same(contract, [row])
    from sibdsl.render.words import Words

    text = Words(contract, "en").expr(expr)  # the document reads it too, without recursion
    assert text.count(" plus ") == 4999 and text.endswith("SEK\xa04,999")  # a no-break space


# ---------------------------------------------------------------- readers of the program
@pytest.mark.parametrize("lang", ["sv", "en"])
def test_the_documents_order_of_calculation_is_the_programs(lang):
    from sibdsl.render.clauses import ORDER, order_of_application

    contract = checked(HEAD + ORACLES[2].body)  # payment caps and a cap per period
    items, cuts = order_of_application(contract, lang)
    kinds = list(dict.fromkeys(step.kind for step in lower(contract).steps))
    assert kinds == [K.COMPUTE, K.CAP, K.PERIOD_CAP]
    assert [item.rstrip(";.") for item in items] == [
        ORDER[k.name][lang].format(rounding=items[0].split("(", 1)[1][:-2]) if k is K.COMPUTE
        else ORDER[k.name][lang] for k in kinds]
    assert items[-1].endswith(".") and cuts  # the cap per period cuts
    contract = checked(HEAD + ORACLES[1].body)  # a floor and a cap on one payment: nothing cuts
    items, cuts = order_of_application(contract, lang)
    assert len(items) == 3 and cuts == ""


def test_a_flat_sum_of_5000_terms_as_text_through_every_command(tmp_path, monkeypatch):
    """The parser, the checker, the proofs, the settlement, the formatter and the document each read
    a sum of 5,000 terms written out in a contract."""
    from click.testing import CliRunner

    from sibdsl.cli import main

    flat = " + ".join(f"{i} SEK" if i % 2 else "x" for i in range(5000))
    (tmp_path / "flat.sib").write_text(HEAD + f"measure x: money\npayment q = {flat} from city to ngo\n"
                                       "cap tc: total at 100 000 000 SEK\n", encoding="utf-8")
    (tmp_path / "flat.json").write_text('{"x": "7 SEK"}', encoding="utf-8")

    def run(*args):
        result = CliRunner().invoke(main, [*args], catch_exceptions=False)
        assert "E106" not in result.output and "E900" not in result.output, result.output
        return result

    monkeypatch.chdir(tmp_path)
    assert run("check", "--no-cache", "flat.sib").exit_code == 0
    assert "6 267 500 SEK" in run("eval", "flat.sib", "--outcomes", "flat.json", "--no-trace").output
    assert run("fmt", "flat.sib").exit_code == 0
    assert run("check", "--no-cache", "flat.sib").exit_code == 0  # the formatted text means the same
    assert run("render", "flat.sib", "-o", "flat.md").exit_code == 0
    assert (tmp_path / "flat.md").read_text(encoding="utf-8").count(" plus ") >= 4999
