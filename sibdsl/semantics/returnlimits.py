"""Return limits as the rates of return they state: discount factors and whom a limit binds.

In: a checked contract and one of its return limits. Out: `Bound`s — for each investor (or class)
the limit binds, the investors, the budget in present value and the discount weight of each date,
which program.lower turns into a RETURN_LIMIT step (run.py applies it: the weighted cut).

"At most R a year" (no dates) means: the receipts, discounted at R to the start (the first drawdown, or the
window's start), do not exceed the drawdowns discounted the same way,

    Σ receiptⱼ · d(tⱼ) ≤ Σ drawdownₖ · d(sₖ),   d(t) = (1 + R)^(−τ(t))  or  1 / (1 + R·τ(t)) (simple)

with τ the year fraction of the stated day count (ACT/365 unless the contract says otherwise).
That is the same as "the IRR of the flows is at most R". Where d is rational (simple interest; a
whole number of years) it is used exactly; where it is irrational, receipts get a rational *upper*
bound and drawdowns a *lower* bound (within 10⁻¹⁴, the simplest fraction in the interval, so that
the numbers stay small), so the inequality with the bounds implies the true one: the limit is never
exceeded.

"R a year from D1 to D2" is a rate over a stated period (Norrköping: "upp till 8 procent på
årsbasis under projekttiden"): each drawdown grows at R from its date (D1 at the earliest) to D2,
and what is received may not exceed that — a ceiling in money, rounded down. It bounds the rate
over the period, not the IRR of money paid back before D2 (docs/language.md says which to write).

"R in total" and "R times drawn|committed" are plain ceilings on what is received (weights 1).
"""

from __future__ import annotations

import datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, localcontext
from fractions import Fraction

import attrs

from .. import model as m
from ..values import Rounding, exact, to_decimal

_EPS = Fraction(1, 10**14)


@attrs.frozen
class Bound:
    """One limit on one investor or class: `investors` whose lines it cuts; `level` what their
    receipts may be worth (present value for a rate, nominal otherwise); `weight(date)` the weight
    of a receipt due on that date (None: a plain ceiling, every weight 1)."""

    limit: m.ReturnLimit
    who: str  # the investor, or "class NAME"
    investors: tuple[str, ...]
    level: Fraction
    start: datetime.date | None  # the date the present values are taken at
    basis: str

    @property
    def weighted(self) -> bool:
        """A rate of return on the dated flows (no window): the cut weighs each line."""
        return self.limit.kind in ("simple", "compound") and self.limit.start is None

    def weight(self, date: datetime.date | None) -> Fraction:
        """An upper bound of the discount factor of a receipt on `date` (1 for a plain ceiling)."""
        if not self.weighted or date is None or self.start is None:
            return Fraction(1)
        return discount(self.limit, self.start, date, upper=True)


def year_fraction(day_count: str, start: datetime.date, end: datetime.date) -> Fraction:
    """Years from start to end in a day count: act/365 (fixed), act/360, 30e/360 (Eurobond basis)."""
    if day_count == "act/360":
        return Fraction((end - start).days, 360)
    if day_count == "30e/360":
        d1, d2 = min(start.day, 30), min(end.day, 30)
        days = 360 * (end.year - start.year) + 30 * (end.month - start.month) + (d2 - d1)
        return Fraction(days, 360)
    return Fraction((end - start).days, 365)


def _clamp(limit: m.ReturnLimit, date: datetime.date) -> datetime.date:
    if limit.start is not None and date < limit.start:
        date = limit.start
    if limit.end is not None and date > limit.end:
        date = limit.end
    return date


def discount(limit: m.ReturnLimit, start: datetime.date, date: datetime.date, *, upper: bool) -> Fraction:
    """The discount factor of `date` back to `start` at the limit's rate: exact where it is rational,
    else an upper (`upper`) or lower bound within 10⁻¹⁴."""
    tau = year_fraction(limit.day_count, start, _clamp(limit, date))
    rate = limit.rate
    if limit.kind == "simple":
        return 1 / (1 + rate * tau)
    if tau.denominator == 1:
        return Fraction(1) / (1 + rate) ** tau.numerator if tau >= 0 else (1 + rate) ** (-tau.numerator)
    with localcontext() as ctx:
        ctx.prec = 60
        one = Decimal(1) + Decimal(rate.numerator) / Decimal(rate.denominator)
        power = (-(Decimal(tau.numerator) / Decimal(tau.denominator)) * one.ln()).exp()  # error < 10⁻⁵⁰
        ctx.rounding = ROUND_CEILING if upper else ROUND_FLOOR
        q = Decimal(1).scaleb(-40)
        near = Fraction(power.quantize(q))
    pad = Fraction(1, 10**39)  # beyond what ln/exp at 60 digits could be off by
    lo, hi = (near, near + _EPS) if upper else (near - _EPS, near)
    lo, hi = (lo + pad, hi) if upper else (lo, hi - pad)
    return simplest_between(lo, hi)


def simplest_between(lo: Fraction, hi: Fraction) -> Fraction:
    """The fraction with the smallest denominator in [lo, hi] (0 < lo ≤ hi), by continued fractions."""
    if lo.denominator == 1 or (lo.numerator // lo.denominator) < (hi.numerator // hi.denominator):
        whole = -((-lo.numerator) // lo.denominator)  # ⌈lo⌉
        return Fraction(whole)
    whole = lo.numerator // lo.denominator
    rest_lo, rest_hi = lo - whole, hi - whole  # in [0, 1)
    if rest_lo == 0:
        return Fraction(whole)
    return whole + 1 / simplest_between(1 / rest_hi, 1 / rest_lo)


def bounds(contract: m.Contract, limit: m.ReturnLimit) -> list[Bound]:
    """The investors and classes `limit` binds, each with its budget (see the module docstring)."""
    by_investor: dict[str, list[m.Investment]] = {}
    for inv in contract.investments.values():
        by_investor.setdefault(inv.investor, []).append(inv)
    if limit.klass is not None:
        members = [i for i in contract.investments.values() if i.klass == limit.klass]
        groups = [(f"class {limit.klass}", members)] if members else []
    elif limit.investor is not None:
        groups = [(limit.investor, by_investor.get(limit.investor, []))]
    else:
        groups = list(by_investor.items())
    rounding_down = Rounding(contract.rounding.step, "down")
    result = []
    for who, invs in groups:
        if not invs:
            continue
        investors = tuple(dict.fromkeys(i.investor for i in invs))
        flows = [f for i in invs for f in i.flows]
        drawn = sum((a for _, a in flows), Fraction(0))
        if limit.kind in ("simple", "compound") and limit.start is None:
            start = min(d for d, _ in flows)
            level = sum((a * discount(limit, start, d, upper=False) for d, a in flows), Fraction(0))
        elif limit.kind in ("simple", "compound"):  # over a stated period: each drawdown grown to its end
            start = None
            grown = sum((a / discount(limit, _clamp(limit, d), limit.end, upper=True) for d, a in flows), Fraction(0))
            level = exact(rounding_down.apply(grown))
        else:
            start = None
            capital = drawn
            if limit.kind == "multiple" and limit.capital == "committed":
                capital = sum((i.committed if i.committed is not None else i.amount for i in invs), Fraction(0))
            factor = limit.rate if limit.kind == "multiple" else 1 + limit.rate
            level = exact(rounding_down.apply(capital * factor))
        result.append(Bound(limit, who, investors, level, start, describe(limit)))
    return result


def describe(limit: m.ReturnLimit) -> str:
    """The limit's terms in a few words, for the audit trail."""
    pct = to_decimal(limit.rate * 100)
    if limit.kind == "total":
        return f"{pct} % in total"
    if limit.kind == "multiple":
        return f"{to_decimal(limit.rate)} times {limit.capital}"
    words = f"{pct} % a year, " + ("simple interest" if limit.kind == "simple" else "compounded yearly")
    words += f", {limit.day_count.upper()}"
    if limit.start is not None:
        words += f", {limit.start} to {limit.end}"
    return words


def true_discount(limit: m.ReturnLimit, start: datetime.date, date: datetime.date) -> Decimal:
    """The discount factor itself, to 50 significant digits (for checks, never for amounts)."""
    tau = year_fraction(limit.day_count, start, _clamp(limit, date))
    with localcontext() as ctx:
        ctx.prec = 50
        r = Decimal(limit.rate.numerator) / Decimal(limit.rate.denominator)
        t = Decimal(tau.numerator) / Decimal(tau.denominator)
        if limit.kind == "simple":
            return 1 / (1 + r * t)
        return (-t * (1 + r).ln()).exp()


def breaches(contract: m.Contract, limit: m.ReturnLimit, settlement) -> list[str]:
    """Whom `limit` binds and whose settled flows break it, recomputed from the settlement's lines
    and the investments (the discount factors themselves, not the bounds the cut used)."""
    found = []
    for bound in bounds(contract, limit):
        lines = [ln for ln in settlement.lines if ln.recipient in bound.investors]
        received = sum((Fraction(ln.amount) for ln in lines), Fraction(0))
        if not bound.weighted:
            if received > bound.level:
                found.append(bound.who)
            continue
        invs = [i for i in contract.investments.values() if i.investor in bound.investors
                and (limit.klass is None or i.klass == limit.klass)]
        with localcontext() as ctx:
            ctx.prec = 50
            drawn = sum((Decimal(a.numerator) / Decimal(a.denominator) * true_discount(limit, bound.start, d)
                         for i in invs for d, a in i.flows), Decimal(0))
            worth = sum((Decimal(ln.amount) * true_discount(limit, bound.start, ln.due)
                         for ln in lines if ln.due is not None), Decimal(0))
            worth += sum((Decimal(ln.amount) for ln in lines if ln.due is None), Decimal(0))
            if worth > drawn + Decimal("1e-30"):
                found.append(bound.who)
    return found
