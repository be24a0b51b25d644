"""The checked model: a contract whose names are resolved, whose types and units agree
and whose contract rules hold. Produced by `check.check`; consumed by `evaluate`,
the renderers and the verifier. It never refers back to the grammar or lark.
"""

from __future__ import annotations

import datetime
from fractions import Fraction

import attrs

from .nodes import node
from .source import NO_SPAN, Span
from .syntax import Text
from .units import Type
from .values import Rounding, Value


def _span():
    return attrs.field(default=NO_SPAN, eq=False, repr=False, kw_only=True)


# ---------------------------------------------------------------- clauses
@node
class ClauseRef:
    """The clause a value or a payment line comes from: what an audit trail cites."""

    kind: str  # payment, gate, floor, cap, return limit, define, baseline, …
    name: str
    label: Text | None = None
    heading: str = ""  # "§ 5 Ersättning", the heading the declaration stands under
    line: int = 0

    def cite(self, lang: str | None = None) -> str:
        label = f" “{self.label.get(lang)}”" if self.label else ""
        where = f"{self.heading}, " if self.heading else ""
        return f"{where}{self.kind} {self.name}{label} (line {self.line})"


# ---------------------------------------------------------------- expressions
class _Leaf:
    """An expression without sub-expressions."""

    __slots__ = ()

    def children(self) -> tuple[Expr, ...]:
        return ()


@node
class Const(_Leaf):
    value: Value
    ty: Type
    span: Span = _span()


@node
class _Name(_Leaf):
    """A value referred to by its name: the fields of Input, Var and PaymentRef."""

    name: str
    ty: Type
    span: Span = _span()


@node
class Input(_Name):
    """A measured outcome supplied by the evaluator."""


@node
class Var(_Name):
    """A definition, baseline, investment or cohort size."""


@node
class PaymentRef(_Name):
    """The settled amount of a payment (guarantees only)."""


@node
class Total(_Leaf):
    """The settled total payout (guarantees only)."""

    ty: Type
    span: Span = _span()


@node
class Op:
    """Operators and functions: + - * / of neg not and or < <= > >= == != min max abs."""

    op: str
    args: tuple[Expr, ...]
    ty: Type
    span: Span = _span()

    def children(self) -> tuple[Expr, ...]:
        return self.args


@node
class Cond:
    cond: Expr
    then: Expr
    otherwise: Expr
    ty: Type
    span: Span = _span()

    def children(self) -> tuple[Expr, ...]:
        return (self.cond, self.then, self.otherwise)


@node
class Sum:
    """Sum of a per-period value over every period of its series."""

    operand: Expr
    series: str
    ty: Type
    span: Span = _span()

    def children(self) -> tuple[Expr, ...]:
        return (self.operand,)


@node
class At:
    """issue 15: a per-period value read in one period of one of its series (`ready[c2014]`)."""

    operand: Expr
    series: str
    period: str
    ty: Type
    span: Span = _span()

    def children(self) -> tuple[Expr, ...]:
        return (self.operand,)


@node
class Steps:
    """Step table: `below` under thresholds[0]; values[i] from thresholds[i] (inclusive) up."""

    subject: Expr
    below: Expr
    thresholds: tuple[Fraction, ...]
    values: tuple[Expr, ...]
    ty: Type
    span: Span = _span()

    def children(self) -> tuple[Expr, ...]:
        return (self.subject, self.below, *self.values)


@node
class Interp:
    """Linear interpolation through (xs[i], ys[i]); flat outside [xs[0], xs[-1]]."""

    subject: Expr
    xs: tuple[Fraction, ...]
    ys: tuple[Fraction, ...]
    ty: Type
    span: Span = _span()

    def children(self) -> tuple[Expr, ...]:
        return (self.subject,)


@node
class PerPeriod(_Leaf):
    """A number fixed at signing for each period of a series: a rate card's price indexed by date
    (issue 15). `values` are (period, value) in the series' order."""

    series: str
    values: tuple[tuple[str, Fraction], ...]
    ty: Type
    span: Span = _span()


Expr = Const | Input | Var | PaymentRef | Total | Op | Cond | Sum | At | Steps | Interp | PerPeriod


def walk(*roots: Expr):
    """Every node of the expressions, each root's nodes in pre-order (a node before its children,
    children left to right), without recursion: the one walk over model expressions, however deep."""
    stack = list(reversed(roots))
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(node.children()))


def expressions(contract: Contract):
    """(expression, clause) for every formula a contract's clauses hold, in declaration order:
    definitions, payments, gates, floors, caps, guarantees."""
    for d in contract.definitions.values():
        yield d.expr, d.clause
    for p in contract.payments.values():
        yield p.expr, p.clause
    for g in contract.gates:
        yield g.condition, g.clause
        if g.level is not None:
            yield g.level, g.clause
    for f in contract.floors:
        yield f.amount, f.clause
        if f.when is not None:
            yield f.when, f.clause
    for c in contract.caps:
        yield c.amount, c.clause
    for g in contract.guarantees:
        yield g.expr, g.clause
        if g.when is not None:
            yield g.when, g.clause


# ---------------------------------------------------------------- declarations
@node
class Party:
    name: str
    label: Text
    roles: tuple[str, ...]
    clause: ClauseRef


@node
class Period:
    name: str
    start: datetime.date
    end: datetime.date


@node
class Series:
    name: str
    label: Text | None
    periods: tuple[Period, ...]
    clause: ClauseRef
    # issue 15: the cells of two series that are not applicable (a period of the second that ends
    # before the cell's period of the first starts: a cohort has no outcome before it starts), kept
    # out of `periods` — nothing is measured, paid or read in them — and named here so that an
    # outcome file giving a value for one is told why (E582), not that the cell does not exist
    not_applicable: tuple[Period, ...] = ()

    def period(self, name: str) -> Period | None:
        return next((p for p in self.periods if p.name == name), None)

    def inapplicable(self, name: str) -> Period | None:
        """The cell `name` if it is one of the series' cells not applicable."""
        return next((p for p in self.not_applicable if p.name == name), None)


@node
class Cohort:
    name: str
    label: Text | None
    size: int
    eligibility: Text | None
    clause: ClauseRef


@node
class Investment:
    """An investment: `amount` drawn in `drawdowns` (dated, fixed at signing; one on `date`
    when the contract says `on DATE`), of a facility of `committed` (None: what was drawn),
    by `investor`, in class `klass` (None: no class)."""

    name: str
    label: Text | None
    amount: Fraction  # drawn, in total
    investor: str
    date: datetime.date  # the first drawdown
    clause: ClauseRef
    drawdowns: tuple[tuple[datetime.date, Fraction], ...] = ()
    committed: Fraction | None = None
    klass: str | None = None

    @property
    def flows(self) -> tuple[tuple[datetime.date, Fraction], ...]:
        """The drawdowns as (date, amount), in date order."""
        return tuple(sorted(self.drawdowns)) if self.drawdowns else ((self.date, self.amount),)


@node
class Measure:
    name: str
    label: Text | None
    ty: Type
    better: str | None  # "higher" / "lower"
    lower: Fraction | None
    upper: Fraction | None
    source: Text | None
    description: Text | None
    clause: ClauseRef


@node
class Indexation:
    rate: Fraction
    years: int


@node
class Definition:
    name: str
    label: Text | None
    expr: Expr
    ty: Type
    clause: ClauseRef
    baseline: bool = False
    indexation: Indexation | None = None
    source: Text | None = None
    description: Text | None = None


@node
class Due:
    """A payment date: fixed, or a number of days after the end of the line's period."""

    date: datetime.date | None = None
    days_after_end: int | None = None


@node
class Payment:
    name: str
    label: Text | None
    expr: Expr
    payer: str
    recipient: str
    due: Due
    series: str | None
    clause: ClauseRef
    during: tuple[str, ...] = ()  # issue 15: the periods it is paid in, when not all of its series'

    def periods(self, contract: Contract) -> tuple[Period, ...]:
        """The periods the payment has a line in (its series' periods, within `during`)."""
        if not self.series:
            return ()
        periods = contract.series[self.series].periods
        return tuple(p for p in periods if p.name in self.during) if self.during else periods


STREAM = "over all periods"  # the target of a stream floor (not a name: it has spaces)


@node
class Gate:
    clause: ClauseRef
    target: str  # a payment name, or "total"
    level: Expr | None  # for `total above LEVEL`
    condition: Expr
    # issue 15: the periods it applies in (`during y2 through y3`), when not all; out of repr (digests)
    during: tuple[str, ...] = attrs.field(default=(), repr=False)


@node
class Floor:
    clause: ClauseRef
    target: str  # a payment name, "total", or STREAM (issue 15: `targets` over all their periods)
    amount: Expr
    when: Expr | None
    payer: str | None
    recipient: str | None
    due: Due | None
    targets: tuple[str, ...] = ()  # the payments of a stream floor
    per_period: bool = False  # written `floor X per period at …`
    # issue 15: the periods it applies in (`during y1 through y3`), when not all; out of repr (digests)
    during: tuple[str, ...] = attrs.field(default=(), repr=False)


@node
class Cap:
    clause: ClauseRef
    kind: str  # "payment", "total", "series", "participant"; issue 15: "stream", "payer", "recipient"
    target: str | None  # payment, series, cohort or party name (the first payment of a stream)
    amount: Expr
    targets: tuple[str, ...] = ()  # the payments of a stream cap
    per_period: bool = False  # written `cap X per period at …`
    # issue 15: the periods it applies in (`during y1 through y3`), when not all; out of repr (digests)
    during: tuple[str, ...] = attrs.field(default=(), repr=False)


@node
class ReturnLimit:
    """A return limit. `kind`: "compound" / "simple" (a rate a year: the IRR of the dated flows,
    sibdsl/returns_limit.py), "total" (`R in total`), "multiple" (`R times drawn|committed`,
    `capital`). It binds `investor`, or the investors of class `klass`, or (both None) each
    investor separately; `start`/`end` is the window the rate accrues in (optional)."""

    clause: ClauseRef
    rate: Fraction
    kind: str  # simple, compound, total, multiple
    start: datetime.date | None
    end: datetime.date | None
    investor: str | None = None
    klass: str | None = None
    day_count: str = "act/365"
    capital: str | None = None  # "drawn" / "committed" for a multiple


@node
class Guarantee:
    clause: ClauseRef
    expr: Expr
    when: Expr | None
    monotone: str | None
    monotone_in: str | None


# ---------------------------------------------------------------- named tables and rate cards (issue 15)
@node
class Table:
    """A named table, fixed at signing; each use `NAME(x)` is lowered to the model's `Steps` /
    `Interp` (with a `Cond` for a value above a linear table's last point), so every back end
    reads it as it reads an inline table. Kept here for the document and the reference.

    step: `below` applies under thresholds[0], values[i] from thresholds[i] (inclusive) up.
    linear: through (thresholds[i], values[i]); `below` under the first point and `above` over
    the last one (None: flat, the nearest point's value)."""

    name: str
    label: Text | None
    kind: str  # "step" / "linear"
    key: Type  # what the table is read at (a share, a count, an amount…)
    ty: Type  # what it gives
    thresholds: tuple[Fraction, ...]
    values: tuple[Fraction, ...]
    below: Fraction | None
    above: Fraction | None
    clause: ClauseRef


@node
class RateOutcome:
    """One outcome of a rate card: its price, its cap over all periods, the measure that counts
    it (`card.outcome`) and the payment that pays it (also `card.outcome`)."""

    name: str
    label: Text | None
    price: Fraction
    cap: Fraction | None
    measure: str
    payment: str


@node
class RateCard:
    """A rate card: outcomes × price × count, per period of `series` where it has one. Its caps
    cut its own lines right after they are computed (semantics/program.py): each outcome's cap
    (later periods first), then the cap per participant (× the cohort's size) and the total cap,
    in `order`: "declaration" (the outcome declared last gives first), "claim" (the claims of
    the latest period give first) or "proportion" (pro rata: every line × cap ÷ the lines' total,
    rounded down; semantics/run.pro_rata)."""

    name: str
    label: Text | None
    series: str | None
    outcomes: tuple[RateOutcome, ...]
    participant_cap: Fraction | None  # per participant
    cohort: str | None
    cohort_size: int
    total_cap: Fraction | None
    order: str  # "declaration" / "claim" / "proportion"
    index_rate: Fraction | None
    index_from: datetime.date | None
    clause: ClauseRef


@node
class Cover:
    """issue 14: first-loss cover. `guarantor` pays `investor` `share` of its loss on `investment`
    — the amount drawn (`drawn`) less what the investor received under the contract, if positive
    — at most `ceiling` (None: no ceiling), after every other step (semantics/program.py)."""

    clause: ClauseRef
    investment: str
    investor: str
    guarantor: str
    drawn: Fraction
    share: Fraction = Fraction(1)
    ceiling: Fraction | None = None
    due: Due | None = None


# the kinds of clause whose settlement lines are a payment's (issue 14: coupons, repayments and
# redemptions are payments too, each citing its own clause); a line of any other clause is a top-up,
# a waterfall's or a cover's
PAYMENT_CLAUSES = ("payment", "coupon", "repayment", "redemption")


@node
class Coupon:
    """issue 14: interest to the investor of `investment` on its drawn capital, paid per period of
    `series` by `payer`: `rate` (a share a year, fixed or read from outcomes per period), at least
    `minimum` in the periods `minimum_during` (all of them when empty), accrued from each drawdown
    (or the period's start, if later) to the period's end by `day_count`. Lowered to the payment
    `payment` (its formula: max(rate, minimum) × the accrued capital of each period, a value fixed
    at signing per period), so every back end settles it as any payment."""

    clause: ClauseRef
    investment: str
    investor: str
    payer: str
    series: str
    rate: Expr
    minimum: Fraction | None
    minimum_during: tuple[str, ...]
    day_count: str
    due: Due
    payment: str
    accrued: tuple[tuple[str, Fraction], ...]  # (period, drawn capital × years accrued in it)


@node
class Repayment:
    """issue 14: the capital drawn on `investment` repaid by `payer` to `investor`: in full when `full`
    holds (always, without it), else `otherwise` of it (0 without it), never less than `minimum` of it.
    Lowered to the payment `payment` (check/principal.py)."""

    clause: ClauseRef
    investment: str
    investor: str
    payer: str
    full: Expr | None
    otherwise: Expr | None
    minimum: Expr | None
    due: Due
    payment: str


@node
class Redemption:
    """issue 14: early redemption — `share` of the capital drawn on `investment` paid back by `payer`
    to `investor` when `condition` holds, with the coupon `accrued`'s interest accrued to the date and
    not paid. Lowered to the payment `payment` (check/principal.py)."""

    clause: ClauseRef
    investment: str
    investor: str
    payer: str
    share: Fraction
    condition: Expr
    due: Due
    payment: str
    accrued: str | None = None  # `plus accrued COUPON`: the coupon's interest accrued to `due` and not paid


@node
class Assumption:
    """issue 17: `assume CONDITION` — what the parties take as given about the measured outcomes.
    Every proof holds under it (verify.py); a settlement refuses outcomes that break it (E473).
    `series`: the condition reads values per period of this series and must hold in each."""

    clause: ClauseRef
    expr: Expr
    series: str | None = None


@node
class WaterfallRecipient:
    """issue 14: whom one step of a waterfall pays: a party (`klass` False) or a class, with its `share`
    of the step's flow; `members` the parties it is paid to and their share of it (a class: pro rata
    to what each drew; the last one listed takes what rounding leaves)."""

    name: str
    klass: bool
    share: Fraction
    members: tuple[tuple[str, Fraction], ...]

    @property
    def who(self) -> str:
        return f"class {self.name}" if self.klass else self.name


@node
class WaterfallTier:
    """One step of a waterfall, numbered `number`: `recipients` split its flow by their shares; it pays
    until its `target` is met — "drawn": recipient `target_of` has received what its investments drew
    (grown at `rate` a year, `compounding` simple or compound, ACT/365, from each drawdown), counted
    in present value at that rate; "amount": the step has paid `amount` in all; "rest": everything left."""

    number: int
    recipients: tuple[WaterfallRecipient, ...]
    target: str  # "drawn", "amount", "rest"
    target_of: int = 0
    rate: Fraction | None = None
    compounding: str = "compound"
    amount: Fraction | None = None


@node
class Waterfall:
    """issue 14: what `vehicle` is paid by `payments` is distributed by `tiers`, in order, each line as it
    is paid (earlier periods first); what no step pays stays with the vehicle."""

    clause: ClauseRef
    payments: tuple[str, ...]
    vehicle: str
    tiers: tuple[WaterfallTier, ...]


@node
class Section:
    """A heading with the prose and declarations under it, in source order (for documents)."""

    number: str
    title: Text | None
    prose: tuple[Text, ...]
    clauses: tuple[ClauseRef, ...]


@node
class Contract:
    title: Text
    id: str | None
    version: str | None
    languages: tuple[str, ...]
    currency: str
    rounding: Rounding
    signed: datetime.date | None
    term: tuple[datetime.date, datetime.date] | None
    parties: dict[str, Party]
    series: dict[str, Series]
    cohorts: dict[str, Cohort]
    investments: dict[str, Investment]
    measures: dict[str, Measure]
    definitions: dict[str, Definition]  # in dependency order
    payments: dict[str, Payment]  # in declaration order
    gates: tuple[Gate, ...]
    floors: tuple[Floor, ...]
    caps: tuple[Cap, ...]
    return_limits: tuple[ReturnLimit, ...]
    guarantees: tuple[Guarantee, ...]
    sections: tuple[Section, ...]
    source_name: str = ""
    source_sha256: str = ""
    # issue 15: named tables and rate cards, in declaration order (left out of repr: the digests of
    # contracts without them, tests/test_parser.py, stay)
    tables: dict[str, Table] = attrs.field(factory=dict, repr=False)
    rate_cards: dict[str, RateCard] = attrs.field(factory=dict, repr=False)
    covers: tuple[Cover, ...] = ()  # issue 14: first-loss cover, in declaration order
    # issue 17: assumptions about the measured outcomes (left out of repr: the digests stay)
    assumptions: tuple[Assumption, ...] = attrs.field(default=(), repr=False)
    # issue 17: a draft's negotiable terms, each an input over its range (a Measure whose clause kind
    # is "parameter"); a settlement needs their values, a proof covers every value in the ranges
    parameters: dict[str, Measure] = attrs.field(factory=dict, repr=False)
    waterfalls: tuple[Waterfall, ...] = ()  # issue 14: waterfalls, in declaration order
    coupons: tuple[Coupon, ...] = attrs.field(default=(), repr=False)  # issue 14 (repr: the digests stay)
    repayments: tuple[Repayment, ...] = attrs.field(default=(), repr=False)  # issue 14
    redemptions: tuple[Redemption, ...] = attrs.field(default=(), repr=False)  # issue 14

    def input(self, name: str) -> Measure:
        """The measure or parameter an `Input` of this name reads."""
        return self.measures[name] if name in self.measures else self.parameters[name]

    def parties_with_role(self, role: str) -> list[Party]:
        return [p for p in self.parties.values() if role in p.roles]
