"""The settlement program: the order of application of a contract, lowered once.

In: a checked contract (model.py). Out: a `Program` — the payment lines a settlement has and
the steps that give them their amounts, in the order the language fixes (docs/language.md,
"Order of application"):

1. each payment's formula, rounded by the contract's rounding rule (`COMPUTE`), per period
   where the payment has periods;
2. the payment's gates (`GATE`: a failed gate makes the line zero);
3. the payment's floors, then its caps (`FLOOR`, `CAP`);
4. caps per period of a series, then per participant (`PERIOD_CAP`, `PARTICIPANT_CAP`);
5. gates on the total (`TOTAL_GATE`: `total above L requires C` cuts the total back to L);
6. floors on the total (`TOTAL_FLOOR`: a top-up line from the floor clause);
7. caps on the total (`TOTAL_CAP`);
8. return limits, on the lines paid to each investor (`RETURN_LIMIT`).

Steps 4, 5, 7 and 8 *cut*: they take an excess from a group of lines, last declared first
(semantics/run.py, the one place the cut is written). Every step cites its clause. The program
is data: the scalar evaluator, the vectorised evaluator and the z3 encoding run it (run.py);
coverage, `explain` and the council document read it.
"""

from __future__ import annotations

import datetime
import enum
from fractions import Fraction

import attrs

from .. import model as m
from ..values import Rounding, exact, growth_factor, to_decimal, year_fraction


class StepKind(enum.Enum):
    """A kind of step. `trail` is what the audit trail calls the step when it acts; `cuts` says
    the step takes an excess from a group of lines."""

    COMPUTE = "computed"
    GATE = "gate"
    FLOOR = "floor"
    CAP = "cap"
    PERIOD_CAP = "period cap"
    PARTICIPANT_CAP = "participant cap"
    TOTAL_GATE = "total gate"
    TOTAL_FLOOR = "floor top-up"
    TOTAL_CAP = "total cap"
    RETURN_LIMIT = "return limit"
    CARD_CAP = "rate card cap"  # issue 15: a rate card's caps, right after its lines are computed

    @property
    def cuts(self) -> bool:
        return self in _CUTS

    @property
    def trail(self) -> str:
        """The step's name in a settlement's audit trail (settlement.Step.kind)."""
        return _TRAIL.get(self, self.value)

    @property
    def branches(self) -> tuple[str, str]:
        """What a clause of this kind can do, as coverage lists it (the branches it counts)."""
        return _BRANCHES[self]

    def branch(self, acted: bool) -> str:
        """The branch a step took: whether it acted (a gate acts when its condition fails)."""
        holds, fails = _BRANCHES[self]
        if self in (StepKind.GATE, StepKind.TOTAL_GATE):
            return fails if acted else holds
        return holds if acted else fails


_CUTS = frozenset({StepKind.PERIOD_CAP, StepKind.PARTICIPANT_CAP, StepKind.TOTAL_GATE, StepKind.TOTAL_CAP,
                   StepKind.RETURN_LIMIT, StepKind.CARD_CAP})
_TRAIL = {StepKind.TOTAL_GATE: "gate failed", StepKind.TOTAL_CAP: "cap"}
_GATE = ("the condition holds", "the condition fails")
_FLOOR = ("the floor raises the amount", "the floor is not needed")
_CAP = ("the cap limits the amount", "the cap is not reached")
_BRANCHES = {StepKind.GATE: _GATE, StepKind.TOTAL_GATE: _GATE, StepKind.FLOOR: _FLOOR,
             StepKind.TOTAL_FLOOR: _FLOOR, StepKind.CAP: _CAP, StepKind.PERIOD_CAP: _CAP,
             StepKind.PARTICIPANT_CAP: _CAP, StepKind.TOTAL_CAP: _CAP,
             StepKind.RETURN_LIMIT: ("the limit cuts the return", "the limit is not reached"),
             StepKind.COMPUTE: ("computed", "computed"), StepKind.CARD_CAP: _CAP}


@attrs.frozen
class Line:
    """A line of the settlement: a payment in one of its periods, or a floor's top-up."""

    index: int
    key: tuple  # ("payment", name, period) or ("floor", clause name, index)
    payment: str  # the payment's name, or the floor clause's for a top-up
    clause: m.ClauseRef
    payer: str
    recipient: str
    period: str | None
    due: datetime.date | None
    top_up: bool = False


@attrs.frozen
class Step:
    """One step of the order of application.

    `line` is the line a step sets or changes (COMPUTE, GATE, FLOOR, CAP; the new top-up line of
    TOTAL_FLOOR); `group` the lines a cut takes from, in declaration order. `amount` is the
    expression of the formula, floor, cap or level, read in `period` and rounded by the
    contract's rule (times `scale` first: the cohort size of a cap per participant);
    `condition` the gate's condition or the floor's `when`. A return limit's `limit` is fixed
    at signing (already rounded down)."""

    kind: StepKind
    clause: m.ClauseRef
    line: int | None = None
    group: tuple[int, ...] = ()
    amount: m.Expr | None = None
    condition: m.Expr | None = None
    period: tuple[tuple[str, str], ...] = ()  # (series, period) the expressions are read in
    scale: int = 1
    limit: Fraction | None = None
    investor: str | None = None
    basis: str = ""  # a return limit's terms, for the audit trail

    @property
    def period_name(self) -> str | None:
        return self.period[0][1] if self.period else None


@attrs.frozen
class Program:
    """A contract's settlement as data: its lines and the ordered steps that settle them."""

    contract: m.Contract
    lines: tuple[Line, ...]
    steps: tuple[Step, ...]


def due_date(contract: m.Contract, due: m.Due, period: m.Period | None) -> datetime.date | None:
    """A line's payment date: fixed, or a number of days after the end of its period (of the
    contract's term for a line without one)."""
    if due.date is not None:
        return due.date
    if due.days_after_end is not None:
        end = period.end if period else (contract.term[1] if contract.term else None)
        return end + datetime.timedelta(days=due.days_after_end) if end else None
    return None


def principals(contract: m.Contract) -> dict[str, Fraction]:
    """What each investor has put in: the sum of its investments, by investor, in declaration order."""
    result: dict[str, Fraction] = {}
    for inv in contract.investments.values():
        result[inv.investor] = result.get(inv.investor, Fraction(0)) + inv.amount
    return result


def return_limit_amount(contract: m.Contract, limit: m.ReturnLimit, principal: Fraction) -> Fraction:
    """The most an investor with this principal may receive under the limit: principal × growth,
    rounded *down* to the contract's rounding step, so that the limit is never exceeded."""
    if limit.kind == "total":
        factor = 1 + limit.rate
    else:
        factor = growth_factor(limit.rate, year_fraction(limit.start, limit.end), limit.kind == "compound")
    return exact(Rounding(contract.rounding.step, "down").apply(principal * factor))


def lower(contract: m.Contract) -> Program:
    """The contract's settlement program (see the module docstring): the one place where the
    order of application is written."""
    lines: list[Line] = []
    steps: list[Step] = []
    K = StepKind
    # 1-3: each payment, per period where it has one
    for payment in contract.payments.values():
        periods = contract.series[payment.series].periods if payment.series else (None,)
        for period in periods:
            at = ((payment.series, period.name),) if period is not None else ()
            name = period.name if period else None
            i = len(lines)
            lines.append(Line(i, ("payment", payment.name, name), payment.name, payment.clause, payment.payer,
                              payment.recipient, name, due_date(contract, payment.due, period)))
            steps.append(Step(K.COMPUTE, payment.clause, i, amount=payment.expr, period=at))
            steps += [Step(K.GATE, g.clause, i, condition=g.condition, period=at)
                      for g in contract.gates if g.target == payment.name]
            steps += [Step(K.FLOOR, f.clause, i, amount=f.amount, condition=f.when, period=at)
                      for f in contract.floors if f.target == payment.name]
            steps += [Step(K.CAP, c.clause, i, amount=c.amount, period=at)
                      for c in contract.caps if c.kind == "payment" and c.target == payment.name]
    everyone = lambda: tuple(range(len(lines)))  # noqa: E731  (the lines so far)
    # 3b: the caps of each rate card, on its own lines (issue 15)
    steps += card_steps(contract, lines)
    # 4: caps per period of a series, then per participant
    for cap in contract.caps:
        if cap.kind == "series":
            for period in contract.series[cap.target].periods:
                group = tuple(ln.index for ln in lines if ln.period == period.name)
                steps.append(Step(K.PERIOD_CAP, cap.clause, group=group, amount=cap.amount,
                                  period=((cap.target, period.name),)))
        elif cap.kind == "participant":
            steps.append(Step(K.PARTICIPANT_CAP, cap.clause, group=everyone(), amount=cap.amount,
                              scale=contract.cohorts[cap.target].size))
    # 5: gates on the total
    steps += [Step(K.TOTAL_GATE, g.clause, group=everyone(), amount=g.level, condition=g.condition)
              for g in contract.gates if g.target == "total"]
    # 6: floors on the total, each with its top-up line
    for floor in contract.floors:
        if floor.target != "total":
            continue
        due = due_date(contract, floor.due, None) if floor.due else max(
            (ln.due for ln in lines if ln.due), default=None)
        i = len(lines)
        steps.append(Step(K.TOTAL_FLOOR, floor.clause, i, group=everyone(), amount=floor.amount,
                          condition=floor.when))
        lines.append(Line(i, ("floor", floor.clause.name, i), floor.clause.name, floor.clause, floor.payer or "",
                          floor.recipient or "", None, due, top_up=True))
    # 7: caps on the total
    steps += [Step(K.TOTAL_CAP, c.clause, group=everyone(), amount=c.amount)
              for c in contract.caps if c.kind == "total"]
    # 8: return limits, on the lines paid to each investor
    for investor, principal in principals(contract).items():
        for limit in contract.return_limits:
            if limit.kind == "total":
                basis = f"{_percent(limit.rate)} % in total"
            else:
                basis = f"{_percent(limit.rate)} % a year {limit.kind}, {limit.start} to {limit.end}"
            steps.append(Step(K.RETURN_LIMIT, limit.clause,
                              group=tuple(ln.index for ln in lines if ln.recipient == investor),
                              limit=return_limit_amount(contract, limit, principal), investor=investor,
                              basis=basis))
    return Program(contract, tuple(lines), tuple(steps))


def card_steps(contract: m.Contract, lines: list[Line]) -> list[Step]:
    """A rate card's caps, as cuts of its own lines (their group in the order they give, reversed:
    run.giving_order takes from the group's end first): each outcome's cap over its periods
    (the latest period first); then the cap per participant and the total cap, in the card's
    order — "declaration": the outcome listed last gives first, its latest period first;
    "claim": the claims of the latest period give first, within a period the outcome listed last.
    The Step's `basis` says which, for the audit trail."""
    K = StepKind
    steps: list[Step] = []
    for card in contract.rate_cards.values():
        series = contract.series[card.series] if card.series else None
        rank = {p.name: k for k, p in enumerate(series.periods)} if series else {}
        mine = [ln for ln in lines if not ln.top_up and ln.payment in {o.payment for o in card.outcomes}]
        position = {o.payment: k for k, o in enumerate(card.outcomes)}
        for o in card.outcomes:
            if o.cap is None:
                continue
            group = tuple(ln.index for ln in mine if ln.payment == o.payment)
            steps.append(Step(K.CARD_CAP, _outcome_clause(card, o), group=group,
                              amount=m.Const(o.cap, _money(contract)), basis=f"outcome {o.name}, later periods first"))
        if card.order == "claim":
            ordered = sorted(mine, key=lambda ln: (rank.get(ln.period, 0), position[ln.payment]))
            how = "later claims first"
        else:
            ordered = sorted(mine, key=lambda ln: (position[ln.payment], rank.get(ln.period, 0)))
            how = "the outcome listed last first"
        group = tuple(ln.index for ln in ordered)
        if card.participant_cap is not None:
            steps.append(Step(K.CARD_CAP, card.clause, group=group,
                              amount=m.Const(card.participant_cap * card.cohort_size, _money(contract)),
                              basis=f"per participant, {card.cohort_size} participants, {how}"))
        if card.total_cap is not None:
            steps.append(Step(K.CARD_CAP, card.clause, group=group, amount=m.Const(card.total_cap, _money(contract)),
                              basis=f"total, {how}"))
    return steps


def _money(contract: m.Contract):
    from ..units import MONEY, Type

    return Type(MONEY, contract.currency)


def _outcome_clause(card: m.RateCard, outcome: m.RateOutcome) -> m.ClauseRef:
    return attrs.evolve(card.clause, name=f"{card.name}.{outcome.name}", label=outcome.label)


def _percent(rate: Fraction):
    return to_decimal(rate * 100)
