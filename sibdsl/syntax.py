"""The syntax tree: what the author wrote, as frozen nodes with spans.

Produced by `parser.parse`, consumed by `check.check`. Spans are excluded from
equality, so two trees of the same text laid out differently compare equal.
"""

from __future__ import annotations

import datetime
import functools
from decimal import Decimal

import attrs

from .nodes import node
from .source import NO_SPAN, Span


def _span():
    return attrs.field(default=NO_SPAN, eq=False, repr=False, kw_only=True)


def walk(*roots):
    """Every node below the roots, each in pre-order (a node, then its fields in declaration order,
    a tuple's items in order), without recursion: the one walk over syntax trees, however deep."""
    stack = list(reversed(roots))
    while stack:
        item = stack.pop()
        if isinstance(item, tuple):
            stack.extend(reversed(item))
            continue
        fields = _fields_of(type(item))
        if fields is None:  # a value: a string, a number, a date, a span
            continue
        yield item
        stack.extend(getattr(item, name) for name in fields)


def same(a, b) -> bool:
    """Structural equality of two syntax trees, spans left out, as `==` is — but without recursion,
    so a flat sum of any length compares (attrs' generated `__eq__` recurses once per level)."""
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        if type(x) is not type(y):
            return False
        if isinstance(x, tuple):
            if len(x) != len(y):
                return False
            stack.extend(zip(x, y))
            continue
        fields = _fields_of(type(x))
        if fields is None:
            if x != y:
                return False
            continue
        stack.extend((getattr(x, name), getattr(y, name)) for name in fields)
    return True


@functools.cache
def _fields_of(cls: type) -> tuple[str, ...] | None:
    """The fields of a node class that take part in equality (spans do not), last first."""
    if not attrs.has(cls) or cls is Span:
        return None
    return tuple(f.name for f in reversed(attrs.fields(cls)) if f.eq)


#: issue 15: what joins two series of two-dimensional periods (`per cohorts × years`) into the name
#: of their product, and the names of two periods into the name of a cell (`cohort_1 × sy2016`)
SEP = " × "


@node
class Ident:
    name: str
    span: Span = _span()


def series_names(ident: Ident) -> tuple[Ident, ...]:
    """The series a `per` option names: one, or (issue 15) the two of `per A × B`, each with the
    span of its own name (the option's ident spans both)."""
    if SEP not in ident.name:
        return (ident,)
    first, second = ident.name.split(SEP)
    span = ident.span
    return (Ident(first, span=attrs.evolve(span, end_line=span.line, end_column=span.column + len(first))),
            Ident(second, span=attrs.evolve(span, line=span.end_line, column=span.end_column - len(second))))


@node
class Text:
    """A text in the contract's first language, with translations keyed by language tag."""

    text: str
    translations: tuple[tuple[str, str], ...] = ()
    span: Span = _span()
    # spans of the translation tags, for diagnostics
    tag_spans: tuple[Span, ...] = attrs.field(default=(), eq=False, repr=False)

    def get(self, lang: str | None = None) -> str:
        for tag, value in self.translations:
            if tag == lang:
                return value
        return self.text


# ---------------------------------------------------------------- expressions
@node
class Quantity:
    """A number literal with an optional unit: 12 000 000 SEK, 40 %, 90 days, 0.5."""

    value: Decimal
    unit: str | None
    span: Span = _span()
    unit_span: Span | None = attrs.field(default=None, eq=False, repr=False)


@node
class DateLit:
    value: datetime.date
    span: Span = _span()


@node
class BoolLit:
    value: bool
    span: Span = _span()


@node
class Ref:
    name: str
    span: Span = _span()


@node
class TotalRef:
    span: Span = _span()


@node
class Call:
    func: Ident
    args: tuple[Expr, ...]
    span: Span = _span()


@node
class SumOver:
    """issue 15: `sum(x over SERIES)`: a value per two series (`per cohorts × years`) added up over
    one of them, a value per the other."""

    func: Ident  # `sum` (E590 for any other function)
    operand: Expr
    over: Ident
    span: Span = _span()


@node
class Index:
    """issue 15: `x[PERIOD]`, a value per period read in one period of its series (for a value per
    two series, one of either)."""

    operand: Expr
    period: Ident
    span: Span = _span()


@node
class Unary:
    op: str  # "-" or "not"
    operand: Expr
    span: Span = _span()


@node
class Binary:
    op: str  # + - * / of and or < <= > >= == !=
    left: Expr
    right: Expr
    span: Span = _span()
    op_span: Span = attrs.field(default=NO_SPAN, eq=False, repr=False)


@node
class If:
    cond: Expr
    then: Expr
    otherwise: Expr
    span: Span = _span()


@node
class Tier:
    threshold: Expr
    value: Expr
    span: Span = _span()


@node
class Tiers:
    """Step table: `below` applies under the first threshold, each `from` row at or above it."""

    subject: Expr
    below: Expr
    rows: tuple[Tier, ...]
    span: Span = _span()


@node
class Point:
    x: Expr
    y: Expr
    span: Span = _span()


@node
class Interpolate:
    """Piecewise-linear table through the points, flat beyond the first and last."""

    subject: Expr
    points: tuple[Point, ...]
    span: Span = _span()


@node
class Power:
    """`base ^ exponent`: a power with a whole-number exponent fixed at signing (issue 15)."""

    base: Expr
    exponent: Expr
    span: Span = _span()


Expr = Quantity | DateLit | BoolLit | Ref | TotalRef | Call | SumOver | Index | Unary | Binary | If | Tiers | Interpolate | Power


# ---------------------------------------------------------------- header
@node
class Rounding:
    step: Decimal
    currency: Ident
    mode: str  # "half up", "half even", "half down", "up", "down"
    span: Span = _span()


@node
class HeaderField:
    key: str  # id, version, languages, currency, rounding, signed
    value: object  # str | tuple[Ident, ...] | Ident | Rounding | datetime.date
    span: Span = _span()


@node
class Header:
    title: Text
    fields: tuple[HeaderField, ...]
    span: Span = _span()


# ---------------------------------------------------------------- declarations
@node
class Heading:
    number: str  # "§ 4", "4.2"
    title: Text
    span: Span = _span()


@node
class Prose:
    text: Text
    span: Span = _span()


@node
class DeclName:
    name: Ident
    label: Text | None


@node
class Party:
    name: Ident
    label: Text
    roles: tuple[Ident, ...]
    span: Span = _span()


@node
class Term:
    start: DateLit
    end: DateLit
    span: Span = _span()


@node
class PeriodDef:
    name: Ident
    start: DateLit
    end: DateLit
    span: Span = _span()


@node
class Periods:
    name: Ident
    label: Text | None
    periods: tuple[PeriodDef, ...]
    span: Span = _span()


@node
class Cohort:
    name: Ident
    label: Text | None
    size: Quantity
    eligibility: Text | None
    span: Span = _span()


@node
class Drawdown:
    """One dated drawdown of an investment: `2 400 000 USD on 2012-09-01`."""

    amount: Expr
    date: DateLit
    span: Span = _span()


@node
class Investment:
    """`investment NAME: AMOUNT from INVESTOR on DATE`, or `… drawn A on D, B on E`; optionally
    `committed C` (the facility, of which AMOUNT is drawn) and `class NAME` (the tranche)."""

    name: Ident
    label: Text | None
    amount: Expr
    investor: Ident
    date: DateLit | None  # `on DATE`; None where the drawdowns are listed
    span: Span = _span()
    drawdowns: tuple[Drawdown, ...] = ()
    committed: Expr | None = None
    klass: Ident | None = None


@node
class Option:
    """A keyword option of a declaration: `per cohorts`, `better lower`, `when completed`…"""

    key: str
    value: object
    span: Span = _span()


@node
class Measure:
    name: Ident
    label: Text | None
    type: Ident
    options: tuple[Option, ...]
    span: Span = _span()


@node
class Define:
    name: Ident
    label: Text | None
    expr: Expr
    span: Span = _span()


@node
class Baseline:
    name: Ident
    label: Text | None
    expr: Expr
    options: tuple[Option, ...]
    span: Span = _span()


@node
class Indexation:
    rate: Expr
    years: Quantity
    unit: Ident
    span: Span = _span()


@node
class DueDate:
    date: DateLit
    span: Span = _span()


@node
class DueAfterEnd:
    amount: Quantity
    unit: Ident
    span: Span = _span()


@node
class Payment:
    name: Ident
    label: Text | None
    expr: Expr
    options: tuple[Option, ...]
    span: Span = _span()


@node
class Target:
    """What a gate, floor or cap applies to."""

    kind: str  # "payment", "total", "total above", "series", "participant"; issue 15: "per period",
    # "stream" (`names` over all periods), "payer" and "recipient" (`payments from/to NAME`)
    name: Ident | None = None
    level: Expr | None = None
    span: Span = _span()
    names: tuple[Ident, ...] = ()  # the payments of a stream


@node
class Gate:
    decl: DeclName | None
    target: Target
    condition: Expr
    span: Span = _span()
    # issue 15: `during FIRST [through LAST]` (an Option), or None; left out of repr (the parser's digests)
    during: Option | None = attrs.field(default=None, repr=False, kw_only=True)


@node
class Floor:
    decl: DeclName | None
    target: Target
    amount: Expr
    options: tuple[Option, ...]
    span: Span = _span()


@node
class Cap:
    decl: DeclName | None
    target: Target
    amount: Expr
    span: Span = _span()
    during: Option | None = attrs.field(default=None, repr=False, kw_only=True)  # issue 15, as Gate's


@node
class ReturnLimit:
    decl: DeclName
    rate: Expr
    kind: str  # "simple", "compound", "total", "multiple"; "annual" = per year, compounding not stated
    start: DateLit | None
    end: DateLit | None
    span: Span = _span()
    capital: str | None = None  # a multiple's base: "drawn" / "committed"
    investor: Ident | None = None  # `for INVESTOR`
    klass: Ident | None = None  # `for class NAME`
    day_count: str | None = None  # `day count act/365` (None: not stated)


@node
class Guarantee:
    decl: DeclName
    expr: Expr
    when: Expr | None
    monotone: str | None  # "nondecreasing" / "nonincreasing"
    monotone_in: Ident | None
    span: Span = _span()


# ---------------------------------------------------------------- named tables and rate cards (issue 15)
@node
class TableBound:
    """A named table's value outside its rows: `below: 0 %` / `below 50 %: 0 %` / `above: 3 %`."""

    threshold: Expr | None
    value: Expr
    span: Span = _span()


@node
class Table:
    """`table NAME "label": step { … }` or `linear { … }`, used as `NAME(x)` in any formula.
    A step table's rows are `Tier`s, a linear table's `Point`s."""

    name: Ident
    label: Text | None
    kind: str  # "step" / "linear"
    below: TableBound | None
    rows: tuple[Tier | Point, ...]
    above: TableBound | None
    span: Span = _span()


@node
class RateOutcome:
    """`NAME "label": PRICE cap CAP`, a row of a rate card."""

    name: Ident
    label: Text | None
    price: Expr
    up_to: Expr | None
    span: Span = _span()


@node
class RateCard:
    """`ratecard NAME "label" per SERIES from PAYER to RECIPIENT: { outcome: price cap …, total cap … }`.
    `options` are the payment options (from, to, due, per); `terms` the card's caps
    (`participant`: the amount per participant of the contract's cohort, `total`: (amount, order),
    `indexed`: (yearly rate, date from which whole years are counted))."""

    name: Ident
    label: Text | None
    options: tuple[Option, ...]
    outcomes: tuple[RateOutcome, ...]
    terms: tuple[Option, ...]
    span: Span = _span()


@node
class Cover:
    """issue 14: `cover NAME: [P % of the] loss of INVESTMENT [up to AMOUNT] from GUARANTOR [due D]` —
    a guarantor pays the investor (a share of) what it lost on the investment, at most AMOUNT."""

    decl: DeclName
    share: Quantity | None
    investment: Ident
    ceiling: Expr | None
    guarantor: Ident
    due: object | None  # a DueDate / DueAfterEnd
    span: Span = _span()


@node
class Parameter:
    """issue 17: `parameter NAME ["label"]: TYPE between LOW and HIGH` — a negotiable term of a draft."""

    name: Ident
    label: Text | None
    type: Ident
    options: tuple[Option, ...]
    span: Span = _span()


@node
class WaterfallParty:
    """issue 14: whom a waterfall step pays — an investor (or any party that receives), or `class NAME`."""

    name: Ident
    klass: bool = False
    span: Span = _span()


@node
class Assume:
    """issue 17: `assume [NAME ["label"]:] CONDITION` — what the parties take as given about the
    measured outcomes (`assume flagged <= served`): a hypothesis of every proof, checked against
    the data when the contract is settled."""

    decl: DeclName | None
    expr: Expr
    span: Span = _span()


@node
class WaterfallShare:
    """`P % to PARTY` in a step that splits, or `to PARTY` (share None: all of the step's flow)."""

    share: Quantity | None
    party: WaterfallParty
    span: Span = _span()


@node
class WaterfallTarget:
    """`until [PARTY] drawn [plus R per year [simple|compound]]` (kind "drawn"), or `until AMOUNT` ("amount")."""

    kind: str
    who: WaterfallParty | None = None
    rate: Quantity | None = None
    compounding: str | None = None  # "simple", "compound", None (not stated: compound)
    amount: Expr | None = None
    span: Span = _span()


@node
class WaterfallTier:
    """`N. SPLIT until TARGET` or `N. rest SPLIT`."""

    number: Quantity
    rest: bool
    shares: tuple[WaterfallShare, ...]
    target: WaterfallTarget | None
    span: Span = _span()


@node
class Waterfall:
    """issue 14: `waterfall NAME: P1, P2 <tiers>` — what the payments' recipient (the vehicle) is paid,
    distributed step by step."""

    decl: DeclName
    payments: tuple[Ident, ...]
    tiers: tuple[WaterfallTier, ...]
    span: Span = _span()


@node
class Coupon:
    """issue 14: `coupon NAME "label": RATE per year on INVESTMENT [from P] [per S] [at least R [during A
    through B]] [day count D] [due …]` — interest on the investment's drawn capital, paid per period.
    `options` holds from, per, due, `at least` (value: (rate, during option or None)) and `day count` (str)."""

    name: Ident
    label: Text | None
    rate: Expr
    investment: Ident
    options: tuple[Option, ...]
    span: Span = _span()


@node
class Repayment:
    """issue 14: `repayment NAME "label": principal of INVESTMENT [from P] [due D] [in full when C]
    [otherwise SHARE] [at least MIN]` — the investment's drawn capital repaid in full when C holds,
    else SHARE of it, never less than MIN of it. `options`: from, due, full (expr), otherwise, at least."""

    name: Ident
    label: Text | None
    investment: Ident
    options: tuple[Option, ...]
    span: Span = _span()


@node
class Redemption:
    """issue 14: `redemption NAME "label": SHARE of INVESTMENT [from P] [when C] [due D]` — early
    redemption: SHARE of the drawn capital paid back when C holds. `options`: from, when, due."""

    name: Ident
    label: Text | None
    amount: Expr  # `SHARE of INVESTMENT`, as written (check/principal.py takes it apart)
    options: tuple[Option, ...]
    span: Span = _span()


Decl = (
    Heading | Prose | Party | Term | Periods | Cohort | Investment | Measure | Define | Baseline
    | Payment | Gate | Floor | Cap | ReturnLimit | Guarantee | Table | RateCard | Cover | Assume | Parameter
    | Waterfall | Coupon | Repayment | Redemption
)


@node
class Contract:
    header: Header | None
    items: tuple[Decl, ...]
    span: Span = _span()
