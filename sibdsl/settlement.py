"""The result of evaluating a contract: payment lines, each with its clause and its steps.

A settlement keeps what the evaluator computed, exactly: each line's amount as an int or a
Fraction and its trail as compact records. What people and reports read — `Decimal`
amounts, `Step` objects, sums per party, investor returns — is derived from those on first
read and kept (`derived`): a settlement computed in a loop that only looks at the total does
not pay for the rest, and every view is the same on every read, whatever Decimal context is
current then (sums run in `values.EXACT`). Equality compares the exact data the views are
derived from.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from decimal import Decimal
from fractions import Fraction

import attrs

from .diagnostics import Diagnostic
from .model import ClauseRef
from .syntax import SEP
from .values import EXACT, divide, to_decimal

Exact = Fraction | int  # a whole amount is an int (see compiler.py)


class derived:
    """A view computed on first read and kept in the instance: `functools.cached_property`
    without its per-read lock (Python 3.11), which cost more than the views themselves. The
    instances are immutable, so a view computed twice by two threads is the same value."""

    def __init__(self, fn):
        self.fn = fn
        self.__doc__ = fn.__doc__

    def __set_name__(self, owner, name: str) -> None:
        self.name = name

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        value = instance.__dict__[self.name] = self.fn(instance)  # later reads find it first
        return value


def decimal(value: Exact) -> Decimal:
    """An exact amount as Decimal (most amounts are whole: the int case is the hot one)."""
    return Decimal(value) if type(value) is int else to_decimal(value)


@attrs.frozen
class Step:
    """One thing that happened to a line: computed, rounded, gate passed, floor lifted, cap cut…"""

    kind: str
    clause: ClauseRef
    before: Decimal | None
    after: Decimal
    detail: str = ""
    factor: Fraction | None = None  # issue 15: a cut in proportion's factor (the cap ÷ the lines' total)


class Detail:
    """A step's audit text, written when it is first read: `fn(*args)`. Most settlements computed
    in a loop are never read as text, and formatting amounts costs more than computing them.
    Equal when the function and its arguments are."""

    __slots__ = ("fn", "args", "factor")

    def __init__(self, fn, *args, factor: Fraction | None = None):
        self.fn, self.args = fn, args
        self.factor = factor  # a cut in proportion's (issue 15): a number for JSON, beside the words

    def __str__(self) -> str:
        return self.fn(*self.args)

    def __eq__(self, other) -> bool:
        return isinstance(other, Detail) and (self.fn, self.args) == (other.fn, other.args)

    def __hash__(self) -> int:
        return hash((self.fn, self.args))


# (kind, clause, before, after, detail) with exact amounts: a Step before it is read
StepRecord = tuple[str, ClauseRef, "Exact | None", Exact, "str | Detail"]


class Trails:
    """Every line's audit trail of one settlement, written when one is first read (issue 21): the
    evaluator hands over what its run computed (`registers`) and the operations that write the
    records from them (`write`); most settlements computed in a loop are never read that way.
    `write` does not change `registers`, so two threads reading at once write the same records."""

    __slots__ = ("made", "registers", "write")

    def __init__(self, write: Callable[[list], list[tuple[StepRecord, ...]]], registers: list):
        self.write, self.registers, self.made = write, registers, None

    def line(self, index: int) -> tuple[StepRecord, ...]:
        made = self.made
        if made is None:
            made = self.made = self.write(self.registers)
        return made[index]


@attrs.frozen(slots=False, eq=False)  # slots=False: the cached views live in the instance dict
class Line:
    payment: str
    clause: ClauseRef
    payer: str
    recipient: str
    period: str | None
    due: datetime.date | None
    exact: Exact  # the amount, exactly as the evaluator computed it
    # the audit trail's records (`trail`), or the settlement's `Trails` that writes them on first read
    _trail: tuple[StepRecord, ...] | Trails = attrs.field(alias="trail", repr=False)
    _at: int = attrs.field(default=0, alias="at", repr=False)  # this line's place in `Trails`

    @classmethod
    def made(cls, fields: dict, exact: Exact, trail: tuple[StepRecord, ...] | Trails, at: int) -> Line:
        """A line from `fields` (its payment, clause, payer, recipient, period and due date, fixed
        when the contract is compiled) without attrs' checked, field-by-field frozen `__init__`:
        the evaluator makes a few per settlement, and that `__init__` cost more than the rest of
        the line (issue 21). The same instance `Line(**fields, exact=…, trail=…, at=…)` makes."""
        line = object.__new__(cls)
        state = line.__dict__
        state.update(fields)
        state["exact"], state["_trail"], state["_at"] = exact, trail, at
        return line

    @classmethod
    def prototype(cls, fields: dict, at: int) -> dict:
        """The instance dict `made(fields, exact, trail, at)` fills, its amount and trail left None:
        the generated settlement function (generated.py) makes a line by copying this into a new
        instance's dict and setting those two, the same instance without a call per line."""
        return {**fields, "exact": None, "_trail": None, "_at": at}

    @derived
    def trail(self) -> tuple[StepRecord, ...]:
        made = self._trail
        return made if type(made) is tuple else made.line(self._at)

    def _key(self) -> tuple:
        return (self.payment, self.clause, self.payer, self.recipient, self.period, self.due, self.exact, self.trail)

    def __eq__(self, other) -> bool:  # the records, however they were made (eagerly or on first read)
        return self._key() == other._key() if type(other) is Line else NotImplemented

    def __hash__(self) -> int:
        return hash(self._key())

    def __getstate__(self) -> dict:  # pickled with its records written (`Trails` holds functions)
        state = dict(self.__dict__)
        state["_trail"], state["_at"] = self.trail, 0
        return state

    @derived
    def amount(self) -> Decimal:
        return decimal(self.exact)

    @derived
    def steps(self) -> tuple[Step, ...]:
        return tuple(Step(kind, clause, None if before is None else decimal(before), decimal(after), str(detail),
                          getattr(detail, "factor", None))
                     for kind, clause, before, after, detail in self.trail)


@attrs.frozen(slots=False)
class InvestorReturn:
    investor: str
    invested: Decimal
    received: Decimal
    net: Decimal
    total_return: Decimal | None  # net / invested
    annual_simple: Decimal | None  # total_return / years, from the first investment to the last payment
    limit: Decimal | None  # the most the return limits allowed the investor to receive
    cashflows: tuple = attrs.field(default=(), eq=False, repr=False)  # (date, amount): out negative, in positive
    committed: Decimal | None = None  # the facility, where larger than what was drawn
    klass: str | None = None  # "class NAME" for a class's figures; the investor's class otherwise
    limits: tuple[str, ...] = ()  # the return limits that cut what it received (clause names)
    covered: Decimal = Decimal(0)  # issue 14: what first-loss cover paid it (part of `received`)
    covers: tuple[str, ...] = ()  # the covers that paid it (clause names)
    waterfall_steps: tuple[str, ...] = ()  # issue 14: the waterfall steps that paid it (`NAME.N`)

    @property
    def loss_before_cover(self) -> Decimal:
        """What was drawn and not received back from anyone but the guarantors (0 when it was)."""
        return max(self.invested - (self.received - self.covered), Decimal(0))

    @property
    def multiple(self) -> Decimal | None:
        """Received ÷ drawn (the multiple of capital), to 4 places."""
        return to_decimal(Fraction(self.received) / Fraction(self.invested), 4) if self.invested else None

    @property
    def loss(self) -> Decimal:
        """What was drawn and not received back (0 when it was)."""
        return max(self.invested - self.received, Decimal(0))

    @derived
    def irr(self) -> Decimal | None:
        """The annual internal rate of return of the investor's cash flows (sibdsl/returns.py),
        computed when first asked for: reports show it, a settlement in a loop need not pay for it."""
        from .returns import irr

        return irr(self.cashflows)


@attrs.frozen
class GuaranteeCheck:
    clause: ClauseRef
    holds: bool | None  # None: see `reason`
    reason: str = ""  # why there is no verdict: "monotone", "condition"


@attrs.frozen
class Investor:
    """What an investor put in, fixed when the contract is signed (for `Settlement.returns`)."""

    name: str
    cashflows: tuple[tuple[datetime.date, Exact], ...]  # the investments, as negative flows
    invested: Exact
    first: datetime.date  # the date of the first investment
    limit: Exact | None  # the most the return limits allow, if any
    committed: Exact | None = None  # the facility (None: what was drawn)
    klass: str | None = None  # its class (the first declared, where its investments name one)


@attrs.frozen(slots=False, eq=False)
class Settlement:
    contract: str
    currency: str
    lines: tuple[Line, ...]
    # every definition's value, for the audit trail: a dict, or a function that makes it on first
    # read of `values` (issue 21: a settlement computed in a loop seldom reads them)
    _values: dict[str, object] | Callable[[], dict[str, object]] = attrs.field(alias="values", repr=False)
    # the guarantees' verdicts, or (issue 21) a function that checks them on first read
    _guarantees: tuple[GuaranteeCheck, ...] | Callable[[], tuple[GuaranteeCheck, ...]] = attrs.field(
        alias="guarantees")
    diagnostics: tuple[Diagnostic, ...] = ()
    investors: tuple[Investor, ...] = attrs.field(default=(), repr=False)
    # issue 15: the series of each payment and measure that has one (how a line's period, or a
    # cell `k1 × y2`, is named per series in reports), and the cells a payment per two series has
    # no line in because they are not applicable (before the cohort starts): (payment, cell)
    series: Mapping[str, str] = attrs.field(factory=dict, repr=False)
    not_applicable: tuple[tuple[str, str], ...] = attrs.field(default=(), repr=False)

    def periods(self, name: str, period: str | None) -> dict[str, str] | None:
        """The period of a line (or a measure's value) per series: `{"cohorts": "k1", "years": "y2"}`
        for the cell `k1 × y2`, `{"years": "y2"}` for one series; None without a period."""
        if period is None:
            return None
        series = self.series.get(name)
        if series is None:
            return None
        return dict(zip(series.split(SEP), period.split(SEP)))

    @classmethod
    def made(cls, prototype: dict, lines: tuple[Line, ...], values, guarantees, diagnostics) -> Settlement:
        """A settlement from `prototype(fields)` (its contract, currency and investors, the same for
        every settlement of a contract) without attrs' field-by-field frozen `__init__`, as
        `Line.made`: the instance `Settlement(**fields, lines=…, values=…, guarantees=…,
        diagnostics=…)` makes. The prototype holds every key already, so the four set here replace
        a value rather than add a key (issue 21)."""
        settlement = object.__new__(cls)
        state = settlement.__dict__
        state.update(prototype)
        state["lines"] = lines
        state["_values"] = values
        state["_guarantees"] = guarantees
        if diagnostics:
            state["diagnostics"] = diagnostics
        return settlement

    @staticmethod
    def prototype(fields: dict) -> dict:
        """The instance dict `made` starts from: `fields`, and the settlement's own four keys."""
        return {**fields, "lines": (), "_values": None, "_guarantees": None, "diagnostics": ()}

    @derived
    def values(self) -> dict[str, object]:
        return self._made("_values")

    @derived
    def guarantees(self) -> tuple[GuaranteeCheck, ...]:
        return self._made("_guarantees")

    def _made(self, field: str):
        made = self.__dict__[field]
        if callable(made):
            made = made()
            self.__dict__[field] = made  # what it read (the outcomes) is no longer held
        return made

    def _key(self) -> tuple:
        return (self.contract, self.currency, self.lines, self.values, self.guarantees, self.diagnostics,
                self.investors)

    def __eq__(self, other) -> bool:  # the exact data, with the values made (as when they were a field)
        return self._key() == other._key() if type(other) is Settlement else NotImplemented

    __hash__ = None  # as before: a settlement holds dicts

    def __getstate__(self) -> dict:  # pickled with its values made (a function of the outcomes is not)
        self.values, self.guarantees  # noqa: B018
        return self.__dict__

    @derived
    def total(self) -> Decimal:
        total = Decimal(0)
        for ln in self.lines:
            total = EXACT.add(total, ln.amount)
        return total

    @derived
    def by_recipient(self) -> dict[str, Decimal]:
        return self._by("recipient")

    @derived
    def by_payer(self) -> dict[str, Decimal]:
        return self._by("payer")

    def _by(self, party: str) -> dict[str, Decimal]:
        sums: dict[str, Decimal] = {}
        for ln in self.lines:
            key = getattr(ln, party)
            sums[key] = EXACT.add(sums.get(key, Decimal(0)), ln.amount)
        return sums

    @derived
    def returns(self) -> tuple[InvestorReturn, ...]:
        """Each investor's money in and out, its return, and the cash flows its IRR is computed from."""
        returns = []
        for inv in self.investors:
            to_investor = [ln for ln in self.lines if ln.recipient == inv.name]
            received = sum(ln.exact for ln in to_investor)
            net = received - inv.invested
            share = annual = None
            if inv.invested:
                share = divide(net, inv.invested)
                last = max((ln.due for ln in to_investor if ln.due), default=None)
                days = (last - inv.first).days if last else 0
                if days > 0:  # share / years, years = days / 365 (actual/365, values.year_fraction)
                    annual = divide(net * 365, inv.invested * days)
            flows = inv.cashflows + tuple((ln.due, ln.exact) for ln in to_investor if ln.due is not None)
            returns.append(InvestorReturn(
                inv.name, decimal(inv.invested), decimal(received), decimal(net),
                None if share is None else to_decimal(share, 6),
                None if annual is None else to_decimal(annual, 6),
                None if inv.limit is None else decimal(inv.limit), flows,
                None if inv.committed is None else decimal(inv.committed), inv.klass, _acted(to_investor),
                *_covered(to_investor), _through(to_investor)))
        return tuple(returns)

    @derived
    def waterfalls(self) -> tuple[WaterfallPaid, ...]:
        """issue 14: what each waterfall step paid to whom."""
        return waterfall_paid(self.lines)

    @derived
    def class_returns(self) -> tuple[InvestorReturn, ...]:
        """The same figures per class of investors (tranche): their flows together."""
        classes: dict[str, list[InvestorReturn]] = {}
        for r in self.returns:
            if r.klass:
                classes.setdefault(r.klass, []).append(r)
        out = []
        for name, members in classes.items():
            invested = sum((r.invested for r in members), Decimal(0))
            received = sum((r.received for r in members), Decimal(0))
            committed = sum((r.committed if r.committed is not None else r.invested for r in members), Decimal(0))
            net = received - invested
            share = to_decimal(Fraction(net) / Fraction(invested), 6) if invested else None
            limits = tuple(dict.fromkeys(x for r in members for x in r.limits))
            through = tuple(dict.fromkeys(x for r in members for x in r.waterfall_steps))
            out.append(InvestorReturn(f"class {name}", invested, received, net, share, None, None,
                                      tuple(f for r in members for f in r.cashflows),
                                      committed if committed != invested else None, name, limits,
                                      waterfall_steps=through))
        return tuple(out)


@attrs.frozen
class WaterfallPaid:
    """issue 14: what one step of a waterfall paid, in all, to each party (for reports)."""

    step: str  # `NAME.N`
    terms: str  # the step's terms, as the audit trail words them
    vehicle: str
    paid: tuple[tuple[str, Decimal], ...]  # (recipient, amount), in the order first paid


def waterfall_paid(lines) -> tuple[WaterfallPaid, ...]:
    """What each waterfall step paid to whom: the lines a waterfall step made (their first record is
    the step's), summed by step and recipient."""
    steps: dict[str, tuple[str, str, dict[str, Fraction]]] = {}
    for ln in lines:
        if not ln.trail or ln.trail[0][0] != "waterfall":
            continue
        detail = ln.trail[0][4]
        args = getattr(detail, "args", ("", "", ""))
        paid = steps.setdefault(ln.clause.name, (args[1], args[2], {}))[2]
        paid[ln.recipient] = paid.get(ln.recipient, Fraction(0)) + ln.exact
    return tuple(WaterfallPaid(name, terms, vehicle, tuple((r, decimal(a)) for r, a in paid.items()))
                 for name, (terms, vehicle, paid) in steps.items())


def _through(lines) -> tuple[str, ...]:
    """The waterfall steps that paid these lines (issue 14), by clause name."""
    return tuple(dict.fromkeys(ln.clause.name for ln in lines if ln.trail and ln.trail[0][0] == "waterfall"))


def _covered(lines) -> tuple[Decimal, tuple[str, ...]]:
    """What first-loss cover paid on these lines, and by which clauses (issue 14)."""
    cover = [ln for ln in lines if any(st.kind == "first-loss cover" for st in ln.steps)]
    return (decimal(sum((ln.exact for ln in cover), Fraction(0))),
            tuple(dict.fromkeys(ln.clause.name for ln in cover)))


def _acted(lines) -> tuple[str, ...]:
    """The return limits that cut these lines, by clause name, in the order they acted."""
    return tuple(dict.fromkeys(st.clause.name or f"line {st.clause.line}" for ln in lines for st in ln.steps
                               if st.kind == "return limit"))
