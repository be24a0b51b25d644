"""The settlement program: the order of application of a contract, lowered once.

In: a checked contract (model.py). Out: a `Program` — the payment lines a settlement has and
the steps that give them their amounts, in the order the language fixes (docs/language.md,
"Order of application"):

1. each payment's formula, rounded by the contract's rounding rule (`COMPUTE`), per period
   where the payment has periods (within its `during`);
2. the payment's gates (`GATE`: a failed gate makes the line zero);
3. the payment's floors, then its caps (`FLOOR`, `CAP`);
4. floors, then caps, on streams: a payment, or several, over all their periods (`STREAM_FLOOR`:
   the shortfall is added to the stream's last line; `STREAM_CAP`);
5. caps per period of a series, then per participant (`PERIOD_CAP`, `PARTICIPANT_CAP`);
6. gates on the total (`TOTAL_GATE`: `total above L requires C` cuts the total back to L);
7. floors on the total (`TOTAL_FLOOR`: a top-up line from the floor clause);
8. caps on the total and on what one party pays or receives (`TOTAL_CAP`, `PARTY_CAP`), in the
   order they are declared;
9. waterfalls (`WATERFALL`, issue 14): what a vehicle is paid is distributed, line by line in the
   order it is paid, step by step of the waterfall, to new lines of the same payment to investors,
   classes or other parties; the vehicle's line keeps what no step paid;
10. return limits, on the lines paid to each investor (`RETURN_LIMIT`); a limit on a party a waterfall
   pays also applies within the waterfall, right after each of its steps (9), on the lines that step
   paid the party: what it cuts goes back to the vehicle's line, for the later steps (a senior
   lender's cap releases the excess to the next class);
11. first-loss cover (`COVER`, issue 14): a line from the guarantor to the investor of a share of
   what the investor lost (drawn less received, if positive), at most the cover's ceiling.

An investor's coupons, repayments of principal and early redemptions (issue 14) are no steps of
their own: the checker lowers each to a payment (check/coupon.py, check/principal.py) — a coupon's
formula reads the capital accrued in each period as a value fixed at signing — and a redemption to
gates on the investor's later payments, so they are settled here as steps 1–2.

Steps 4 (caps), 5, 6, 8 and 10 *cut*: they take an excess from a group of lines, last declared first
except on a stream, whose lines are in the order they are paid (`stream_lines`): earlier periods
are paid first (semantics/run.py, the one place the cut is written). Every step cites its clause. The program
is data: the scalar evaluator, the vectorised evaluator and the z3 encoding run it (run.py);
coverage, `explain` and the council document read it.
"""

from __future__ import annotations

import datetime
import enum
from fractions import Fraction

import attrs

from .. import model as m
from ..syntax import SEP
from ..values import Rounding, exact, growth_factor, year_fraction


class StepKind(enum.Enum):
    """A kind of step. `trail` is what the audit trail calls the step when it acts; `cuts` says
    the step takes an excess from a group of lines."""

    COMPUTE = "computed"
    GATE = "gate"
    FLOOR = "floor"
    CAP = "cap"
    PERIOD_CAP = "period cap"
    PARTICIPANT_CAP = "participant cap"
    STREAM_FLOOR = "stream floor"  # issue 15: a payment (or several) over all its periods
    STREAM_CAP = "stream cap"
    PARTY_CAP = "party cap"  # issue 15: what one payer pays, or one recipient receives
    TOTAL_GATE = "total gate"
    TOTAL_FLOOR = "floor top-up"
    TOTAL_CAP = "total cap"
    RETURN_LIMIT = "return limit"
    CARD_CAP = "rate card cap"  # issue 15: a rate card's caps, right after its lines are computed
    COVER = "first-loss cover"  # issue 14: a guarantor pays (a share of) the investor's loss
    WATERFALL = "waterfall"  # issue 14: one step of a waterfall on one line the vehicle is paid

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
                   StepKind.RETURN_LIMIT, StepKind.STREAM_CAP, StepKind.PARTY_CAP,
                   StepKind.CARD_CAP})
_TRAIL = {StepKind.TOTAL_GATE: "gate failed", StepKind.TOTAL_CAP: "cap"}
_GATE = ("the condition holds", "the condition fails")
_FLOOR = ("the floor raises the amount", "the floor is not needed")
_CAP = ("the cap limits the amount", "the cap is not reached")
_BRANCHES = {StepKind.GATE: _GATE, StepKind.TOTAL_GATE: _GATE, StepKind.FLOOR: _FLOOR,
             StepKind.TOTAL_FLOOR: _FLOOR, StepKind.CAP: _CAP, StepKind.PERIOD_CAP: _CAP,
             StepKind.PARTICIPANT_CAP: _CAP, StepKind.TOTAL_CAP: _CAP, StepKind.STREAM_FLOOR: _FLOOR,
             StepKind.STREAM_CAP: _CAP, StepKind.PARTY_CAP: _CAP,
             StepKind.RETURN_LIMIT: ("the limit cuts the return", "the limit is not reached"),
             StepKind.COMPUTE: ("computed", "computed"), StepKind.CARD_CAP: _CAP,
             StepKind.COVER: ("the cover pays part of a loss", "there is no loss to cover"),
             StepKind.WATERFALL: ("the step pays", "the step pays nothing")}


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
    period_end: datetime.date | None = None  # the end of its period (issue 15: the order a stream is paid in)


@attrs.frozen
class Distribution:
    """How one waterfall step distributes one line the vehicle is paid (issue 14). The step's flow is
    everything left on the line (`rest`), else at most what its target still needs: `level` less what
    the target has received (`reads`, each × its `read_weights`: the discount factor of its due date,
    a lower bound, for a rate; 1 otherwise), divided by the line's own weight `weight`, rounded up to
    the rounding step; a step that splits pays its `target` recipient exactly that when its share of
    what is left covers it (run.distribute). The flow is split by `shares` (one per recipient) and
    each recipient's part by its members' `members` shares: every part but the last rounded down,
    the last takes the rest."""

    rest: bool
    shares: tuple[Fraction, ...]
    members: tuple[tuple[Fraction, ...], ...]
    level: Fraction = Fraction(0)
    reads: tuple[int, ...] = ()
    read_weights: tuple[Fraction, ...] = ()
    weight: Fraction = Fraction(1)
    target_share: Fraction = Fraction(1)
    targets: tuple[int, ...] = ()  # the step's own lines that count toward its target (for proofs)
    target: int = -1  # the recipient whose drawn capital is the target (-1: an amount, or rest)
    # per recipient, per member: the lines this step paid the member on earlier vehicle lines (a class
    # is split pro rata on what the step has paid it in all, so rounding does not drift line by line)
    paid: tuple[tuple[tuple[int, ...], ...], ...] = ()


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
    # a return limit that states a rate: each line's discount weight (in `group` order), `limit`
    # then the budget in present value (semantics/returnlimits.py; run.weighted_cut)
    weights: tuple[Fraction, ...] = ()
    # a first-loss cover (COVER): `limit` is the capital drawn, `share` of the loss is paid, at
    # most `ceiling` (None: no ceiling); `group` the lines paid to the investor before it
    share: Fraction = Fraction(1)
    ceiling: Fraction | None = None
    # a waterfall's step on one line the vehicle is paid (WATERFALL): `line` the vehicle's line,
    # `group` the new lines it pays, `plan` how (see Distribution)
    plan: Distribution | None = None
    # a return limit inside a waterfall (RETURN_LIMIT right after a WATERFALL step, issue 14): `group`
    # is every line so far to whom the limit binds (what it measures), `takes` the lines the waterfall
    # step just paid them (the only ones it cuts), `line` the vehicle's line, which gets back what it
    # cut: the waterfall's later steps distribute it (run._cut_step)
    takes: tuple[int, ...] = ()
    # a rate card's cap `in proportion` (issue 15): the lines are not cut in an order but each scaled
    # by level ÷ their total, rounded down (run.pro_rata); the rounding remainder is not paid
    pro_rata: bool = False

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
    """The most an investor with this principal may receive under a limit in total or a multiple
    (rounded *down* to the contract's rounding step, so that the limit is never exceeded); for a
    rate a year, what the principal grows to over the limit's window (a figure for the document:
    the limit itself binds the rate of return of the dated flows, semantics/returnlimits.py)."""
    if limit.kind == "total":
        factor = 1 + limit.rate
    elif limit.kind == "multiple":
        factor = limit.rate
    else:
        factor = growth_factor(limit.rate, year_fraction(limit.start, limit.end), limit.kind == "compound") \
            if limit.start is not None and limit.end is not None else Fraction(1)
    return exact(Rounding(contract.rounding.step, "down").apply(principal * factor))


def lower(contract: m.Contract) -> Program:
    """The contract's settlement program (see the module docstring): the one place where the
    order of application is written."""
    lines: list[Line] = []
    steps: list[Step] = []
    K = StepKind
    running = _running_streams(contract)
    # 1-3: each payment, per period where it has one
    for payment in contract.payments.values():
        periods = payment.periods(contract) if payment.series else (None,)
        for period in periods:
            at = ((payment.series, period.name),) if period is not None else ()
            name = period.name if period else None
            i = len(lines)
            lines.append(Line(i, ("payment", payment.name, name), payment.name, payment.clause, payment.payer,
                              payment.recipient, name, due_date(contract, payment.due, period),
                              period_end=period.end if period is not None else None))
            steps.append(Step(K.COMPUTE, payment.clause, i, amount=payment.expr, period=at))
            steps += [Step(K.GATE, g.clause, i, condition=g.condition, period=at)
                      for g in contract.gates if g.target == payment.name and applies(g, name)]
            steps += [Step(K.FLOOR, f.clause, i, amount=f.amount, condition=f.when, period=at)
                      for f in contract.floors if f.target == payment.name and applies(f, name)]
            steps += [Step(K.CAP, c.clause, i, amount=c.amount, period=at)
                      for c in contract.caps if c.kind == "payment" and c.target == payment.name and applies(c, name)]
            # issue 15: a stream whose payments' paid-so-far a formula reads is capped as it is paid
            steps += [Step(K.STREAM_CAP, c.clause, group=stream_lines(lines, c.targets, c.during), amount=c.amount)
                      for c in running if payment.name in c.targets and applies(c, name)]
    everyone = lambda: tuple(range(len(lines)))  # noqa: E731  (the lines so far)
    # 3b: the caps of each rate card, on its own lines (issue 15)
    steps += card_steps(contract, lines)
    # 4 (issue 15): floors, then caps, on streams — one payment or several over all their periods
    steps += _streams(contract, lines)
    # 5: caps per period of a series, then per participant
    for cap in contract.caps:
        if cap.kind == "series":
            for period in contract.series[cap.target].periods:
                if not applies(cap, period.name):
                    continue
                group = tuple(ln.index for ln in lines if in_period(contract, ln, cap.target, period.name))
                steps.append(Step(K.PERIOD_CAP, cap.clause, group=group, amount=cap.amount,
                                  period=((cap.target, period.name),)))
        elif cap.kind == "participant":
            steps.append(Step(K.PARTICIPANT_CAP, cap.clause, group=everyone(), amount=cap.amount,
                              scale=contract.cohorts[cap.target].size))
    # 6: gates on the total
    steps += [Step(K.TOTAL_GATE, g.clause, group=everyone(), amount=g.level, condition=g.condition)
              for g in contract.gates if g.target == "total"]
    # 7: floors on the total, each with its top-up line
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
    # 8: caps on the total, and (issue 15) on what one party pays or receives, in declaration order
    for c in contract.caps:
        if c.kind == "total":
            steps.append(Step(K.TOTAL_CAP, c.clause, group=everyone(), amount=c.amount))
        elif c.kind in ("payer", "recipient"):
            steps.append(Step(K.PARTY_CAP, c.clause, amount=c.amount, investor=c.target, basis=c.kind,
                              group=tuple(ln.index for ln in lines if getattr(ln, c.kind) == c.target)))
    # 9 (issue 14): waterfalls, each line the vehicle is paid in the order it is paid
    steps += waterfall_steps(contract, lines)
    # 9: return limits, on the lines paid to whom each binds (each investor, one, or a class)
    steps += return_limit_steps(contract, lines)
    # 10 (issue 14): first-loss cover, each with its line from the guarantor to the investor
    steps += cover_steps(contract, lines)
    return Program(contract, tuple(lines), tuple(steps))


def waterfall_steps(contract: m.Contract, lines: list[Line]) -> list[Step]:
    """The WATERFALL steps and their lines (appended to `lines`): for each waterfall, for each line its
    vehicle is paid (in the order paid: `stream_lines`), for each of its steps, a line of the same
    payment to each party the step pays (a class: to each of its investors)."""
    steps: list[Step] = []
    limits = [(limit, bound) for limit in contract.return_limits for bound in _bounds(contract, limit)]
    for wf in contract.waterfalls:
        mine: list[int] = []  # the lines this waterfall has made so far
        for source in stream_lines(lines, wf.payments):
            src = lines[source]
            for tier in wf.tiers:
                clause = tier_clause(wf, tier)
                group = []
                for r in tier.recipients:
                    for party, _ in r.members:
                        i = len(lines)
                        lines.append(Line(i, ("waterfall", wf.clause.name, tier.number, r.who, party, source),
                                          src.payment, clause, src.payer, party, src.period, src.due,
                                          period_end=src.period_end))
                        group.append(i)
                plan = _distribution(contract, wf, tier, lines, mine, src, tuple(group))
                paid = tuple(tuple(tuple(j for j in mine if lines[j].clause == clause and lines[j].key[3] == r.who
                                         and lines[j].recipient == party) for party, _ in r.members)
                             for r in tier.recipients)
                plan = attrs.evolve(plan, paid=paid)
                steps.append(Step(StepKind.WATERFALL, clause, source, group=tuple(group), plan=plan,
                                  basis=tier_text(tier, contract.currency), investor=wf.vehicle))
                mine += group
                # a return limit on a party this step pays: right away, and what it cuts passes on
                for limit, bound in limits:
                    takes = tuple(j for j in group if lines[j].recipient in bound.investors)
                    if takes:
                        measured = tuple(ln.index for ln in lines if ln.recipient in bound.investors)
                        steps.append(attrs.evolve(_limit_step(contract, lines, limit, bound, measured),
                                                  line=source, takes=takes))
    return steps


def _bounds(contract: m.Contract, limit: m.ReturnLimit) -> list:
    from .returnlimits import bounds

    return bounds(contract, limit)


def _limit_step(contract: m.Contract, lines: list[Line], limit: m.ReturnLimit, bound, group: tuple[int, ...]) -> Step:
    """A RETURN_LIMIT step of `bound` over `group` (semantics/returnlimits.py): a rate a year is a
    weighted cut (`weights`), unless every line falls due on one date."""
    weights = tuple(bound.weight(lines[j].due) for j in group) if bound.weighted else ()
    level, basis = bound.level, bound.basis
    if weights and len(set(weights)) == 1:
        # every line falls due on one date: receipts · w ≤ level is receipts ≤ level / w, a
        # ceiling in money on that date (rounded down, so the rate is never exceeded) and a
        # plain cut — the same amounts, in the words a reader expects
        due = lines[group[0]].due
        level = exact(Rounding(contract.rounding.step, "down").apply(level / weights[0]))
        basis, weights = f"{basis}, all due on {due}", ()
    return Step(StepKind.RETURN_LIMIT, limit.clause, group=group, limit=level, investor=bound.who, basis=basis,
                weights=weights)


def tier_clause(wf: m.Waterfall, tier: m.WaterfallTier) -> m.ClauseRef:
    """The clause a waterfall's step cites: the waterfall's, named `NAME.N`."""
    return attrs.evolve(wf.clause, name=f"{wf.clause.name}.{tier.number}")


def _distribution(contract: m.Contract, wf: m.Waterfall, tier: m.WaterfallTier, lines: list[Line],
                  mine: list[int], src: Line, group: tuple[int, ...]) -> Distribution:
    from .returnlimits import discount

    shares = tuple(r.share for r in tier.recipients)
    members = tuple(tuple(f for _, f in r.members) for r in tier.recipients)
    if tier.target == "rest":
        return Distribution(True, shares, members)
    if tier.target == "amount":  # what this step has paid so far, from earlier lines
        reads = tuple(j for j in mine if lines[j].clause.name == tier_clause(wf, tier).name)
        return Distribution(False, shares, members, tier.amount, reads, tuple(Fraction(1) for _ in reads),
                            targets=group)
    target = tier.recipients[tier.target_of]
    parties = {p for p, _ in target.members}
    before = sum(len(r.members) for r in tier.recipients[:tier.target_of])
    targets = group[before:before + len(target.members)]
    reads = tuple(j for j in mine if lines[j].recipient in parties)
    invs = [i for i in contract.investments.values()
            if (i.klass == target.name if target.klass else i.investor == target.name)]
    flows = [f for i in invs for f in i.flows]
    if tier.rate is None:
        level = sum((a for _, a in flows), Fraction(0))
        return Distribution(False, shares, members, level, reads, tuple(Fraction(1) for _ in reads),
                            target_share=target.share, targets=targets, target=tier.target_of)
    limit = m.ReturnLimit(wf.clause, tier.rate, tier.compounding, None, None)
    start = min(d for d, _ in flows)
    # whole when the receipts' present value reaches the drawdowns': receipts at a lower bound of
    # their discount factor, drawdowns at an upper bound, so "whole" is never declared too early
    level = sum((a * discount(limit, start, d, upper=True) for d, a in flows), Fraction(0))

    def weight(date):
        return Fraction(1) if date is None else discount(limit, start, date, upper=False)
    return Distribution(False, shares, members, level, reads, tuple(weight(lines[j].due) for j in reads),
                        weight(src.due), target.share, targets, tier.target_of)


def tier_text(tier: m.WaterfallTier, currency: str) -> str:
    """A waterfall step's terms as the contract writes them (the audit trail's words)."""
    from ..values import to_decimal

    def pct(x):
        return f"{to_decimal(x * 100)} %"

    if len(tier.recipients) == 1 and tier.recipients[0].share == 1:
        split = f"to {tier.recipients[0].who}"
    else:
        split = ", ".join(f"{pct(r.share)} to {r.who}" for r in tier.recipients)
    if tier.target == "rest":
        return f"rest {split}"
    if tier.target == "amount":
        from ..report import format_amount

        return f"{split} until {format_amount(tier.amount, currency)}"
    who = tier.recipients[tier.target_of].who
    whose = "" if len(tier.recipients) == 1 else f"{who} "
    rate = "" if tier.rate is None else f" plus {pct(tier.rate)} per year" + (
        " simple" if tier.compounding == "simple" else "")
    return f"{split} until {whose}drawn{rate}"


def cover_steps(contract: m.Contract, lines: list[Line]) -> list[Step]:
    """The COVER steps and their lines (appended to `lines`), in declaration order: each reads
    what the investor was paid by every line before it (a later cover sees an earlier one's payment,
    so a second-loss cover follows a first-loss one)."""
    steps = []
    for cover in contract.covers:
        due = due_date(contract, cover.due, None) if cover.due else max(
            (ln.due for ln in lines if ln.due), default=None)
        i = len(lines)
        group = tuple(ln.index for ln in lines if ln.recipient == cover.investor)
        steps.append(Step(StepKind.COVER, cover.clause, i, group=group, limit=cover.drawn, investor=cover.investor,
                          share=cover.share, ceiling=cover.ceiling, basis=cover.investment))
        lines.append(Line(i, ("cover", cover.clause.name, i), cover.clause.name, cover.clause, cover.guarantor,
                          cover.investor, None, due, top_up=True))
    return steps


def return_limit_steps(contract: m.Contract, lines: list[Line]) -> list[Step]:
    """The RETURN_LIMIT steps: per limit, per investor (or class) it binds, in declaration order
    of the limits (semantics/returnlimits.py). A rate a year is a weighted cut (`weights`)."""
    from .returnlimits import bounds

    steps = []
    for limit in contract.return_limits:
        for bound in bounds(contract, limit):
            group = tuple(ln.index for ln in lines if ln.recipient in bound.investors)
            steps.append(_limit_step(contract, lines, limit, bound, group))
    return steps


def in_period(contract: m.Contract, ln: Line, series: str, period: str) -> bool:
    """Whether a line is paid in a period of a series: its own period, or (issue 15) a cell of
    two series one of which is `series` — a cap per year takes every cohort's cell of that year."""
    if ln.period == period:
        return True
    payment = contract.payments.get(ln.payment)
    if ln.period is None or payment is None or not payment.series or SEP not in payment.series:
        return False
    parts = payment.series.split(SEP)
    return series in parts and ln.period.split(SEP)[parts.index(series)] == period


def applies(clause: m.Gate | m.Floor | m.Cap, period: str | None) -> bool:
    """A gate, a floor or a cap applies in this period: it has no `during`, or names the period (issue 15)."""
    return not clause.during or period in clause.during


def stream_lines(lines, payments: tuple[str, ...], during: tuple[str, ...] = ()) -> tuple[int, ...]:
    """The lines of a stream in the order they are paid: by the end of their period (a line
    without one, by its due date, else last), then in declaration order. A cut on the stream
    takes from the line paid last first, so what period 1 was paid is never taken back to pay
    period 2: earlier periods are paid first. `during`: only the lines of those periods (issue 15)."""
    def when(ln: Line):
        return (ln.due or datetime.date.max) if ln.period_end is None else ln.period_end

    chosen = [ln for ln in lines if ln.payment in payments and not ln.top_up and (not during or ln.period in during)]
    return tuple(ln.index for ln in sorted(chosen, key=lambda ln: (when(ln), ln.index)))


def paid_reads(contract: m.Contract) -> set[str]:
    """The payments whose paid-so-far (`to_date(P)`, `previous(P)`, `cumulative(P)`) a formula reads."""
    roots = [p.expr for p in contract.payments.values()] + [g.condition for g in contract.gates]
    return {node.args[0].name for node in m.walk(*roots)
            if isinstance(node, m.Op) and node.args and isinstance(node.args[0], m.PaymentRef)}


def _running_streams(contract: m.Contract) -> list[m.Cap]:
    """The stream caps that also apply after each line of their stream (issue 15): those on a
    payment whose paid-so-far is read, so that what it reads is what was paid after the cap.
    (Earlier periods are paid first, so this settles exactly as the one cap after every line does.)"""
    read = paid_reads(contract)
    return [c for c in contract.caps if c.kind == "stream" and read & set(c.targets)] if read else []


def _streams(contract: m.Contract, lines: list[Line]) -> list[Step]:
    """Floors, then caps, on streams (issue 15), each in declaration order. A stream floor raises
    the stream's last line by what the stream falls short of the floor."""
    K = StepKind
    steps = []
    for floor in contract.floors:
        if floor.target == m.STREAM:
            group = stream_lines(lines, floor.targets, floor.during)
            if group:
                steps.append(Step(K.STREAM_FLOOR, floor.clause, group[-1], group=group, amount=floor.amount,
                                  condition=floor.when))
    for cap in contract.caps:
        if cap.kind == "stream":
            group = stream_lines(lines, cap.targets, cap.during)
            if group:
                steps.append(Step(K.STREAM_CAP, cap.clause, group=group, amount=cap.amount))
    return steps



def card_steps(contract: m.Contract, lines: list[Line]) -> list[Step]:
    """A rate card's caps, as cuts of its own lines (their group in the order they give, reversed:
    run.giving_order takes from the group's end first): each outcome's cap over its periods
    (the latest period first); then the cap per participant and the total cap, in the card's
    order — "declaration": the outcome listed last gives first, its latest period first;
    "claim": the claims of the latest period give first, within a period the outcome listed last;
    "proportion": no order, every line is scaled by the same factor (Step.pro_rata, run.pro_rata).
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
        elif card.order == "proportion":
            ordered = sorted(mine, key=lambda ln: (position[ln.payment], rank.get(ln.period, 0)))
            how = "in proportion: each line × the cap ÷ the lines' total, rounded down"
        else:
            ordered = sorted(mine, key=lambda ln: (position[ln.payment], rank.get(ln.period, 0)))
            how = "the outcome listed last first"
        group = tuple(ln.index for ln in ordered)
        if card.participant_cap is not None:
            steps.append(Step(K.CARD_CAP, card.clause, group=group,
                              amount=m.Const(card.participant_cap * card.cohort_size, _money(contract)),
                              basis=f"per participant, {card.cohort_size} participants, {how}",
                              pro_rata=card.order == "proportion"))
        if card.total_cap is not None:
            steps.append(Step(K.CARD_CAP, card.clause, group=group, amount=m.Const(card.total_cap, _money(contract)),
                              basis=f"total, {how}", pro_rata=card.order == "proportion"))
    return steps


def _money(contract: m.Contract):
    from ..units import MONEY, Type

    return Type(MONEY, contract.currency)


def _outcome_clause(card: m.RateCard, outcome: m.RateOutcome) -> m.ClauseRef:
    return attrs.evolve(card.clause, name=f"{card.name}.{outcome.name}", label=outcome.label)
