"""issue 14: coupons — `coupon NAME: RATE per year on INVESTMENT from PAYER per SERIES [at least R
[during A through B]] [day count D] [due …]` checked and lowered to `model.Coupon` and to a payment
per period (codes E480–E484, W480–W481).

A coupon is not a new kind of step: it becomes the payment NAME from PAYER to the investor, per
SERIES, whose formula is `max(RATE, the minimum of the period) × the capital accrued in the period`,
the last a value fixed at signing for each period (`model.PerPeriod`): each drawdown × the years
from the later of its date and the period's start to the day after the period's end, in the day
count. So the settlement program, every back end, the audit trail, return limits (a coupon is a
receipt of the investor), pending and interim settlements, bounds and proofs take it as they take
any payment."""

from __future__ import annotations

import datetime
from fractions import Fraction

import attrs

from .. import model as m
from .. import syntax as s
from ..semantics.returnlimits import year_fraction
from ..units import MONEY, SHARE, Type
from .common import PAYING_ROLES, T_SHARE, Invalid, investment_named

COUPON_PAYERS = (*PAYING_ROLES, "intermediary")  # a payer, or the investors' vehicle


def accrual(investment: m.Investment, period: m.Period, day_count: str,
            until: datetime.date | None = None) -> tuple[tuple[Fraction, datetime.date, Fraction], ...]:
    """Each drawdown of `investment` made by the end of `period`: (its amount, the date it accrues
    from — the drawdown's, or the period's start if later —, the years from then to the day after
    the period's end in the day count). The audit trail shows these (evaluate.coupon_text). With
    `until` (an early redemption's date, check/principal.py), to that day instead if it is earlier,
    and only the drawdowns before it."""
    end = period.end + datetime.timedelta(days=1)
    if until is not None:
        end = min(end, until)
    return tuple((amount, start, year_fraction(day_count, start, end))
                 for date, amount in investment.flows
                 for start in (max(date, period.start),) if start < end)


def accrued(investment: m.Investment, period: m.Period, day_count: str) -> Fraction:
    """The capital drawn on `investment` × the years it is out during `period` (its end included):
    what a rate a year is paid on for the period."""
    return sum((amount * years for amount, _, years in accrual(investment, period, day_count)), Fraction(0))


def drawn_by(investment: m.Investment, date: datetime.date | None) -> Fraction:
    """The capital of `investment` drawn on or before `date` (all of it, without a date)."""
    if date is None:
        return investment.amount
    return sum((amount for day, amount in investment.flows if day <= date), Fraction(0))


def trail_terms(contract: m.Contract) -> dict[tuple[m.ClauseRef, str], tuple]:
    """(the coupon's clause, period) → what the audit trail of its line shows, fixed at signing:
    (the minimum rate in the period or None, the capital accrued, each drawdown's (amount, from,
    days, days a year), the day count). evaluate.coupon_text writes them with the period's rate.
    And (a redemption's clause, None) → (its share, the capital drawn, the coupon, the date) for a
    redemption `plus accrued COUPON` (evaluate.redemption_text)."""
    terms = {}
    for coupon in contract.coupons:
        investment = contract.investments[coupon.investment]
        a_year = 360 if coupon.day_count in ("act/360", "30e/360") else 365
        for period in contract.series[coupon.series].periods:
            minimum = coupon.minimum if coupon.minimum is not None and (
                not coupon.minimum_during or period.name in coupon.minimum_during) else None
            parts = tuple((amount, start, int(years * a_year), a_year)
                          for amount, start, years in accrual(investment, period, coupon.day_count))
            terms[coupon.clause, period.name] = (minimum, dict(coupon.accrued)[period.name], parts,
                                                 coupon.day_count.upper())
    for r in contract.redemptions:  # `plus accrued COUPON` (check/principal.py): its share and capital
        if r.accrued is not None:
            terms[r.clause, None] = (r.share, drawn_by(contract.investments[r.investment], r.due.date), r.accrued,
                                      r.due.date)
    return terms


def check_coupons(checker, investments: dict[str, m.Investment], parties: dict[str, m.Party],
                  payments: dict[str, m.Payment]) -> tuple[m.Coupon, ...]:
    """Each coupon, checked, with its payment added to `payments`. A coupon with an error is left
    out (the error is reported)."""
    result = []
    for name, entry in checker.declared("coupon"):
        node: s.Coupon = entry.node
        try:
            coupon = _coupon(checker, name, node, entry.clause, investments, parties)
        except Invalid:
            continue
        if coupon is None:
            continue
        coupon, payment = coupon
        payments[name] = payment
        result.append(coupon)
    return tuple(result)


def _coupon(checker, name: str, node: s.Coupon, clause: m.ClauseRef, investments, parties):
    options = checker.options(node.options, node)
    ok = True
    inv = investment_named(checker, node.investment, investments, "E480", "the coupon is paid on",
                           "declare the investment it pays interest on: `investment loan: 1 000 000 "
                           f"{checker.currency} from bank on 2020-01-01`")
    if inv is None:
        ok = False
    payer = ""
    if "from" not in options:
        ok = False
        checker.error("E408", f"the coupon `{name}` does not say who pays it", node.name.span,
                      label="`from` missing", hint="add e.g. `from council` (the investor of the investment receives it)")
    else:
        ident = options["from"].value
        party = parties.get(ident.name)
        if party is None:
            ok = False
            checker.lookup(ident, ("party",), "party")
        elif not set(party.roles) & set(COUPON_PAYERS):
            ok = False
            checker.error("E481", f"`{party.name}` pays the coupon, but its roles ({', '.join(party.roles)}) do not "
                          "allow it to pay", ident.span,
                          labels=(checker.also(checker.names[party.name].span, "the party is declared here"),),
                          hint=f"a coupon is paid by a payer or by the investors' vehicle: give `{party.name}` the "
                          "role `payer` or `intermediary`")
        elif inv is not None and party.name == inv.investor:
            ok = False
            checker.error("E481", f"`{party.name}` would pay a coupon to itself", ident.span,
                          hint="name the party that pays the investor its interest")
        else:
            payer = party.name
    series = checker.per_series(options)
    if "per" not in options:
        ok = False
        checker.error("E484", f"the coupon `{name}` has no periods to be paid in", node.name.span,
                      label="`per` missing",
                      hint="a coupon is paid per period: add `per SERIES`, e.g. `per years` with "
                      "`periods years: y1 … to …, y2 …`")
    elif series is None:
        ok = False
    checker.reading_payment = name  # its rate may read what a payment was paid so far, as a payment's formula may
    try:
        rate = _rate(checker, node.rate, series, "the coupon's rate")
    finally:
        checker.reading_payment = None
    if rate is None:
        ok = False
    minimum, during = None, ()
    if "at least" in options:
        low, during_option = options["at least"].value
        minimum = checker.constant(low, T_SHARE, "a coupon's minimum rate")
        if minimum is None:
            ok = False
        elif not 0 < minimum <= 1:
            ok = False
            checker.error("E483", f"a minimum coupon of {_pct(minimum)} % a year", low.span,
                          hint="a minimum rate is above 0 % and at most 100 % a year, e.g. `at least 2 %`")
        if during_option is not None:
            during = checker.check_during(during_option, series, name)
            if not during:
                ok = False
        if ok and rate is not None and minimum is not None:
            fixed = _fixed(checker, rate)
            if fixed is not None and fixed >= minimum:
                checker.error("W480", f"the rate is {_pct(fixed)} % a year in every period, never below the minimum "
                              f"of {_pct(minimum)} %", options["at least"].span, label="never acts",
                              hint="a minimum matters for a rate read from outcomes; remove `at least …` or "
                              "correct the rate")
    day_count = options["day count"].value if "day count" in options else "act/365"
    due = checker.due(options["due"], series) if "due" in options else m.Due(days_after_end=0)
    if not ok or inv is None:
        return None
    periods = checker.series[series].periods
    late = [(d, a) for d, a in inv.flows if d > periods[-1].end]
    if late:
        what = "a drawdown" if len(late) == 1 else f"{len(late)} drawdowns"
        checker.error("W481", f"{what} of `{inv.name}` after the coupon's last period (`{periods[-1].name}`, to "
                      f"{periods[-1].end}) earn{'s' if len(late) == 1 else ''} no coupon", node.investment.span,
                      labels=(checker.also(checker.names[inv.name].span, "the investment is declared here"),),
                      hint="check the drawdown dates, or extend the series the coupon is paid in")
    accrual = tuple((p.name, accrued(inv, p, day_count)) for p in periods)
    coupon = m.Coupon(clause, inv.name, inv.investor, payer, series, rate, minimum, during, day_count, due,
                      name, accrual)
    payment = m.Payment(name, node.label, interest(coupon, periods, accrual, checker.currency, node.span), payer, inv.investor,
                        due, series, clause)
    checker.used.add(inv.name)
    return coupon, payment


def interest(coupon: m.Coupon, periods, capital: tuple[tuple[str, Fraction], ...], currency: str, span) -> m.Expr:
    """max(the rate, the minimum of the period) × `capital` (per period: drawn capital × years), the
    coupon's formula — and, on the years to an early redemption's date, the interest it accrued
    (check/principal.py)."""
    series = coupon.series
    effective: m.Expr = coupon.rate
    if coupon.minimum is not None:
        during = coupon.minimum_during
        floor = m.PerPeriod(series, tuple((p.name, coupon.minimum if not during or p.name in during else Fraction(0))
                                          for p in periods), attrs.evolve(T_SHARE, series=series), span=span)
        effective = m.Op("max", (coupon.rate, floor), attrs.evolve(T_SHARE, series=series), span=span)
    money = Type(MONEY, currency, series)
    base = m.PerPeriod(series, capital, money, span=span)
    return m.Op("*", (effective, base), money, span=span)


def _rate(checker, expr: s.Expr, series: str | None, what: str) -> m.Expr | None:
    typed = checker.typed(expr)
    if typed is None:
        return None
    if typed.ty.kind != SHARE:
        checker.error("E305", f"{what} must be a rate a year (a share, e.g. `5 %`), not {typed.ty.describe()}",
                      expr.span, hint="write the rate with `%`, or read it from a table of rates: `coupon_rate(x)`")
        return None
    if typed.ty.series and typed.ty.series != series:
        checker.error("E307", f"{what} depends on values per `{typed.ty.series}`", expr.span,
                      hint=f"pay the coupon `per {typed.ty.series}`")
        return None
    fixed = _fixed(checker, typed)
    if fixed is not None and not 0 <= fixed <= 1:
        checker.error("E482", f"a coupon of {_pct(fixed)} % a year", expr.span,
                      hint="a coupon's rate is at least 0 % and at most 100 % a year")
        return None
    return typed


def _fixed(checker, typed: m.Expr) -> Fraction | None:
    """The rate's value if it is fixed at signing, else None."""
    from ..compiler import EvaluationError, NotConstant, constant_value

    if typed.ty.series or any(isinstance(n, (m.Input, m.PerPeriod)) for n in m.walk(typed)):
        return None  # read from outcomes (or per period)
    try:
        return Fraction(constant_value(typed, checker.definitions, checker.constants))
    except (NotConstant, ZeroDivisionError, EvaluationError):
        return None


def _pct(x: Fraction) -> str:
    from ..values import to_decimal

    return str(to_decimal(x * 100))
