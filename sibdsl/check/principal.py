"""issue 14: principal repaid on an outcome condition with a minimum share, and early redemption at a
stated share — checked and lowered to `model.Repayment` / `model.Redemption` and to a payment each
(codes E485–E488, W482–W483).

    repayment NAME: principal of INVESTMENT from P [due D] [in full when C] [otherwise S] [at least M]
      → the payment NAME = (if C then 100 % else max(min(S, 100 %), M)) × the capital drawn
    redemption NAME: SHARE of INVESTMENT [plus accrued COUPON] from P when C [due D]
      → the payment NAME = if C then SHARE × the capital drawn [+ the interest COUPON accrued to D
        and did not pay: sum over its periods of max(rate, minimum) × capital × years to D] else 0

Both are paid by P to the investment's investor, due on D (without `due`: at the end of the term).
As payments they are settled, proved, bounded and reported by every back end as written; they are
receipts of the investor for its return limits, its IRR and a first-loss cover's loss."""

from __future__ import annotations

import datetime
from fractions import Fraction

import attrs

from .. import model as m
from .. import syntax as s
from ..units import BOOL as BOOL_KIND
from ..units import MONEY, SHARE, Type
from .common import T_SHARE, Invalid, investment_named
from .coupon import COUPON_PAYERS, _fixed, _pct, accrual, drawn_by, interest


def check_principal(checker, investments: dict[str, m.Investment], parties: dict[str, m.Party],
                    payments: dict[str, m.Payment], term,
                    coupons: tuple[m.Coupon, ...] = ()) -> tuple[tuple[m.Repayment, ...], tuple[m.Redemption, ...]]:
    """Each repayment and redemption, checked, with its payment added to `payments` (a redemption
    `plus accrued COUPON` with the coupon's interest accrued to its date)."""
    repayments, redemptions = [], []
    for kind, collect, make in (("repayment", repayments, _repayment), ("redemption", redemptions, _redemption)):
        for name, entry in checker.declared(kind):
            try:
                made = make(checker, name, entry.node, entry.clause, investments, parties)
            except Invalid:
                continue
            if made is not None:
                item, payment = made
                option = next((o for o in entry.node.options if o.key == "accrued"), None)
                if option is not None:
                    made = _plus_accrued(checker, item, payment, option, payments, coupons, investments, term)
                    if made is None:
                        continue
                    item, payment = made
                payments[name] = payment
                collect.append(item)
    for r in redemptions:
        _late_redemption(checker, r, payments, term)
        _ends_later_payments(checker, r, payments, term)
    return tuple(repayments), tuple(redemptions)


def _investment(checker, ident: s.Ident, investments, what: str) -> m.Investment | None:
    return investment_named(checker, ident, investments, "E485", f"the {what} is of",
                            "declare the investment whose capital is repaid: `investment loan: 1 000 000 "
                            f"{checker.currency} from bank on 2020-01-01`")


def _payer(checker, options, name: str, what: str, inv: m.Investment | None, parties, node) -> str | None:
    if "from" not in options:
        checker.error("E408", f"the {what} `{name}` does not say who pays it", node.name.span, label="`from` missing",
                      hint="add e.g. `from city` (the investor of the investment receives it)")
        return None
    ident = options["from"].value
    party = parties.get(ident.name)
    if party is None:
        checker.lookup(ident, ("party",), "party")
        return None
    if not set(party.roles) & set(COUPON_PAYERS) or (inv is not None and party.name == inv.investor):
        why = ("would pay itself" if inv is not None and party.name == inv.investor else
               f"has the roles {', '.join(party.roles)}, none of which pays")
        checker.error("E487", f"`{party.name}` pays the {what}, but {why}", ident.span,
                      labels=(checker.also(checker.names[party.name].span, "the party is declared here"),),
                      hint="the capital is paid back by a payer or by the investors' vehicle (role `payer` or "
                      "`intermediary`), to the investor")
        return None
    return party.name


def _share(checker, expr: s.Expr, what: str, *, positive: bool) -> m.Expr | None:
    """A share of the principal: a share, not per period, and — where it is fixed at signing — from
    0 % (above it, if `positive`) to 100 % (E486)."""
    typed = checker.typed(expr)
    if typed is None:
        return None
    if typed.ty.kind != SHARE:
        checker.error("E305", f"{what} must be a share of the principal (e.g. `75 %`), not {typed.ty.describe()}",
                      expr.span, hint="write the share with `%`")
        return None
    if typed.ty.series:
        checker.error("E307", f"{what} depends on values per `{typed.ty.series}`", expr.span,
                      hint=f"add up with sum(…) over `{typed.ty.series}`: the principal is repaid once")
        return None
    fixed = _fixed(checker, typed)
    if fixed is not None and (fixed > 1 or fixed < 0 or (positive and fixed == 0)):
        checker.error("E486", f"{what} is {_pct(fixed)} % of the principal", expr.span,
                      hint="a share of the capital drawn is " + ("above 0 %" if positive else "at least 0 %")
                      + " and at most 100 %; more than the principal is a return, paid as a payment of its own")
        return None
    return typed


def _due(checker, options) -> m.Due:
    return checker.due(options["due"], None) if "due" in options else m.Due(days_after_end=0)


def _repayment(checker, name, node: s.Repayment, clause, investments, parties):
    options = checker.options(node.options, node)
    inv = _investment(checker, node.investment, investments, "repayment")
    payer = _payer(checker, options, name, "repayment", inv, parties, node)
    full = checker.condition(options["full"].value) if "full" in options else None
    otherwise = _share(checker, options["otherwise"].value, "the share repaid otherwise", positive=False) \
        if "otherwise" in options else None
    minimum = _share(checker, options["at least"].value[0], "the minimum share repaid", positive=True) \
        if "at least" in options else None
    bad = ("full" in options and full is None) or ("otherwise" in options and otherwise is None) or (
        "at least" in options and minimum is None)
    if inv is None or payer is None or bad:
        return None
    if "full" in options and otherwise is None and minimum is None:
        checker.error("E488", f"the repayment `{name}` says when the principal is repaid in full, but not what "
                      "is repaid otherwise", node.name.span, label="`otherwise` or `at least` missing",
                      hint="add `otherwise SHARE` (what is repaid when the condition fails) or `at least SHARE` "
                      "(the minimum share); `otherwise 0 %` if nothing is")
        return None
    lo, hi = (_fixed(checker, x) if x is not None else None for x in (otherwise, minimum))
    if lo is not None and hi is not None and lo >= hi:
        checker.error("W483", f"the share repaid otherwise ({_pct(lo)} %) is never below the minimum "
                      f"({_pct(hi)} %)", options["at least"].span, label="never acts",
                      hint="a minimum matters when the share repaid otherwise is read from outcomes; remove one")
    share_ty = T_SHARE
    one = m.Const(Fraction(1), share_ty, span=node.span)
    zero = m.Const(Fraction(0), share_ty, span=node.span)
    partial: m.Expr = m.Op("min", (otherwise, one), share_ty, span=node.span) if otherwise is not None else zero
    if minimum is not None:
        partial = m.Op("max", (partial, minimum), share_ty, span=node.span)
    share: m.Expr = m.Cond(full, one, partial, share_ty, span=node.span) if full is not None else (
        partial if otherwise is not None or minimum is not None else one)
    money = Type(MONEY, checker.currency)
    expr = m.Op("*", (share, m.Var(inv.name, money, span=node.investment.span)), money, span=node.span)
    due = _due(checker, options)
    checker.used.add(inv.name)
    payment = m.Payment(name, node.label, expr, payer, inv.investor, due, None, clause)
    return m.Repayment(clause, inv.name, inv.investor, payer, full, otherwise, minimum, due, name), payment


def _redemption(checker, name, node: s.Redemption, clause, investments, parties):
    options = checker.options(node.options, node)
    amount = node.amount
    if not (isinstance(amount, s.Binary) and amount.op == "of" and isinstance(amount.right, s.Ref)):
        checker.error("E485", "an early redemption pays back a share of an investment's capital", amount.span,
                      label="not `SHARE of INVESTMENT`",
                      hint="write e.g. `redemption early: 80 % of loan from city when terminated`")
        return None
    inv = _investment(checker, s.Ident(amount.right.name, span=amount.right.span), investments, "redemption")
    payer = _payer(checker, options, name, "redemption", inv, parties, node)
    share_typed = _share(checker, amount.left, "the share redeemed", positive=True)
    share = _fixed(checker, share_typed) if share_typed is not None else None
    if share_typed is not None and share is None:
        checker.error("E486", "the share redeemed must be fixed when the contract is signed", amount.left.span,
                      hint="state the share, e.g. `80 % of loan`; what is paid on outcomes is a payment of its own")
    if "when" not in options or "due" not in options:
        missing = " and ".join(k for k in ("when", "due") if k not in options)
        what = "when the contract is ended early" if "when" not in options else "on which date it is paid"
        checker.error("E488", f"the redemption `{name}` does not say {what}",
                      node.name.span, label=f"`{missing}` missing",
                      hint="add the yes/no measure that decides it and the date it is paid: `when terminated due "
                      "2018-06-30` (with `measure terminated: boolean`)")
        return None
    condition = checker.condition(options["when"].value)
    if inv is None or payer is None or share is None or condition is None:
        return None
    money = Type(MONEY, checker.currency)
    due = _due(checker, options)
    # the capital drawn on the redemption's date: a drawdown dated after it is not repaid before it is
    # drawn (the investment's name, all of it, where nothing is drawn later)
    by_then = drawn_by(inv, due.date)
    capital = m.Var(inv.name, money, span=amount.right.span) if by_then == inv.amount else \
        m.Const(by_then, money, span=amount.right.span)
    drawn = m.Op("*", (m.Const(share, T_SHARE, span=amount.left.span), capital), money, span=amount.span)
    expr = m.Cond(condition, drawn, m.Const(Fraction(0), money, span=node.span), money, span=node.span)
    checker.used.add(inv.name)
    payment = m.Payment(name, node.label, expr, payer, inv.investor, due, None, clause)
    return m.Redemption(clause, inv.name, inv.investor, payer, share, condition, due, name), payment


def _plus_accrued(checker, r: m.Redemption, payment: m.Payment, option: s.Option, payments, coupons, investments,
                  term):
    """`plus accrued COUPON`: the redemption also pays the interest the coupon accrued and did not pay
    — on each of the coupon's periods whose line the redemption cancels (due after its date), the
    capital drawn before the date × the years from the period's start (or the drawdown) to the date
    (or the period's end), at the period's rate and minimum: "to, but excluding, the redemption
    date", as notes and loan agreements say. (E466 for a name that is no coupon of the investment.)"""
    ident: s.Ident = option.value
    coupon = next((k for k in coupons if k.payment == ident.name), None)
    entry = checker.names.get(ident.name)
    if coupon is None:
        if entry is None:
            checker.lookup(ident, ("coupon",), "coupon")
        elif entry.kind != "coupon":  # (a coupon with an error of its own is reported there)
            checker.error("E466", f"`{ident.name}` is a {entry.kind}, not a coupon", ident.span, label="not a coupon",
                          labels=(checker.also(entry.node.name.span, f"the {entry.kind} is declared here"),),
                          hint="`plus accrued` names the coupon whose interest accrued to the redemption's date is "
                          "paid with it: `plus accrued interest` with `coupon interest: 5 % per year on loan …`")
        return None
    problem = hint = None
    if coupon.investment != r.investment:
        problem = (f"the coupon `{coupon.payment}` is interest on `{coupon.investment}`, but the redemption "
                   f"pays back `{r.investment}`")
        hint = f"name a coupon on `{r.investment}`, or redeem `{coupon.investment}`"
    elif r.due.date is None:
        problem = "the interest accrued is counted to the redemption's date, but it has none"
        hint = "give the date it is paid: `due 2018-06-30`"
    elif any(isinstance(n, m.Op) and n.op in ("previous", "to_date", "cumulative") and n.args
             and isinstance(n.args[0], m.PaymentRef) for n in m.walk(coupon.rate)):
        problem = f"the rate of `{coupon.payment}` reads what a payment was paid so far, which an early end leaves open"
        hint = "pay the accrued interest as a payment of its own, or state the coupon's rate without `to_date`"
    if problem is not None:
        checker.error("E466", problem, ident.span, labels=(checker.also(
            checker.names[coupon.payment].node.name.span, "the coupon is declared here"),), hint=hint)
        return None
    date = r.due.date
    cancelled = {x for x, d in _due_dates(checker, payments[coupon.payment], term) if d is None or d > date}
    periods = checker.series[coupon.series].periods
    investment = investments[r.investment]
    years = [(p.name, sum((amount * y for amount, _, y in accrual(investment, p, coupon.day_count, until=date)),
                          Fraction(0)) if p.name in cancelled else Fraction(0)) for p in periods]
    span = option.span
    money = Type(MONEY, checker.currency)
    accrued = m.Sum(interest(coupon, periods, tuple(years), checker.currency, span), coupon.series, money, span=span)
    cond: m.Cond = payment.expr  # if C then SHARE × drawn else 0 (_redemption)
    expr = attrs.evolve(cond, then=m.Op("+", (cond.then, accrued), money, span=span))
    return attrs.evolve(r, accrued=coupon.payment), attrs.evolve(payment, expr=expr)


def _due_dates(checker, p: m.Payment, term) -> list[tuple[str | None, datetime.date | None]]:
    """(period, due date) of each line of a payment (None: no date)."""
    if p.due.date is not None:
        periods = [x.name for x in checker.series[p.series].periods] if p.series in checker.series else [None]
        return [(x, p.due.date) for x in periods]
    days = p.due.days_after_end
    if p.series and p.series in checker.series:
        return [(x.name, None if days is None else x.end + datetime.timedelta(days=days))
                for x in checker.series[p.series].periods]
    end = term[1] if term else None
    return [(None, None if days is None or end is None else end + datetime.timedelta(days=days))]


def _ends_later_payments(checker, r: m.Redemption, payments: dict[str, m.Payment], term) -> None:
    """A redemption ends the investment early: each payment to its investor due after the redemption's
    date (a line without a date counts as after it) is paid only when the redemption's condition
    fails — a gate from the redemption's clause on the payment; on a payment per period, only on its
    periods due after the date (a value fixed at signing per period: 1 for a period due by then)."""
    date = r.due.date
    if date is None:
        return
    money_none = Type(SHARE)
    redeemed = r.condition
    for p in list(payments.values()):
        if p.recipient != r.investor or p.name == r.payment:
            continue
        dues = _due_dates(checker, p, term)
        later = [(x, d) for x, d in dues if d is None or d > date]
        if not later:
            continue
        span = redeemed.span
        if p.series and len(later) < len(dues):
            before = m.PerPeriod(p.series, tuple((x, Fraction(0 if (d is None or d > date) else 1)) for x, d in dues),
                                 Type(SHARE, series=p.series), span=span)
            one = m.Const(Fraction(1), money_none, span=span)
            kept = m.Op("==", (before, one), Type(BOOL_KIND, series=p.series), span=span)
            condition = m.Op("or", (m.Op("not", (redeemed,), redeemed.ty, span=span), kept),
                             Type(BOOL_KIND, series=p.series), span=span)
        else:
            condition = m.Op("not", (redeemed,), redeemed.ty, span=span)
        checker.inline_gates.append(m.Gate(r.clause, p.name, None, condition))


def _late_redemption(checker, r: m.Redemption, payments: dict[str, m.Payment], term) -> None:
    """W482: a redemption due after the last payment to the investor is no early redemption."""
    def due(p: m.Payment) -> datetime.date | None:  # its last line's
        return max((d for _, d in _due_dates(checker, p, term) if d is not None), default=None)

    mine = due(payments[r.payment])
    others = [d for p in payments.values() if p.recipient == r.investor and p.name != r.payment
              and (d := due(p)) is not None]
    if mine is not None and others and mine > max(others):
        node = checker.names[r.payment].node
        checker.error("W482", f"the redemption `{r.payment}` is due {mine}, after the last payment to "
                      f"`{r.investor}` ({max(others)}): it ends nothing early", node.name.span,
                      hint="an early redemption falls due before the contract's own payments; check `due`")

