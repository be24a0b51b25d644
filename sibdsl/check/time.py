"""Issue 15, time in the checker: stream caps and floors (a payment, or several, over all their
periods), caps on what a payer pays or a recipient receives, per-period caps named as such,
payments paid only in a range of their periods (`during y1 through y3`), and the period-aware
expressions — the period's index, dates and year of the term, `previous(x)`, `to_date(x)` and
`cumulative(x)` (a mixin of `Checker`).

Diagnostics: E440–E449, W440–W442 (docs/diagnostics/). The expressions are `model.Op` nodes
with the names in `PERIOD_VALUES` and `WINDOWS`; their meaning is in semantics/expr.py.
"""

from __future__ import annotations

import attrs

from .. import model as m
from .. import syntax as s
from ..diagnostics import did_you_mean
from ..syntax import SEP
from ..units import COUNT, DATE, MONEY, Type, unify, within
from .common import Invalid

# the values of the period an expression is read in: name → its kind
PERIOD_VALUES = {"period_index": COUNT, "period_start": DATE, "period_end": DATE, "contract_year": COUNT}
# values of other periods of a series: previous(x[, default]), to_date(x), cumulative(x)
WINDOWS = ("previous", "to_date", "cumulative")


class Time:
    """Streams, payers, ranges of periods and the period-aware expressions (a mixin of `Checker`)."""

    # ------------------------------------------------------------ payments in a range of periods
    def check_during(self, option: s.Option | None, series: str | None, payment: str) -> tuple[str, ...]:
        """The periods of `during FIRST [through LAST]`, in order; () for every period."""
        if option is None:
            return ()
        idents = option.value
        if series is None or series not in self.series:
            self.error("E442", f"`during` restricts the periods of a per-period payment, but `{payment}` "
                       "has no periods", option.span,
                       hint="add `per SERIES` to the payment, or remove `during`")
            return ()
        if SEP in series:  # issue 15: a range of the periods of one of the two series
            return self.during_cells(idents, option, series)
        periods = [p.name for p in self.series[series].periods]
        positions = []
        for ident in idents:
            if ident.name not in periods:
                self.error("E443", f"`{series}` has no period called `{ident.name}`", ident.span,
                           hint=did_you_mean(ident.name, periods) or f"the periods are: {', '.join(periods)}")
                return ()
            positions.append(periods.index(ident.name))
        first, last = positions[0], positions[-1]
        if last < first:
            self.error("E444", f"the range of periods runs backwards: `{idents[-1].name}` comes before "
                       f"`{idents[0].name}`", option.span,
                       hint=f"write `during {idents[-1].name} through {idents[0].name}`")
            return ()
        return tuple(periods[first:last + 1])

    def during_cells(self, idents, option: s.Option, series: str) -> tuple[str, ...]:
        """`during` on a payment per two series: a range of the periods of one of them (the one whose
        period is named first); the cells of every period of the other in that range."""
        parts = series.split(SEP)
        names = [[p.name for p in self.series[part].periods] for part in parts]
        where = [next((k for k, periods in enumerate(names) if i.name in periods), None) for i in idents]
        if where[0] is None or where[-1] is None:
            wrong = idents[0] if where[0] is None else idents[-1]
            every = names[0] + names[1]
            self.error("E443", f"neither `{parts[0]}` nor `{parts[1]}` has a period called `{wrong.name}`",
                       wrong.span, hint=did_you_mean(wrong.name, every) or
                       f"the periods are: {', '.join(every)}")
            return ()
        if where[0] != where[-1]:
            self.error("E594", f"the range runs from a period of `{parts[where[0]]}` to one of "
                       f"`{parts[where[-1]]}`", option.span,
                       hint=f"a range of a payment per `{series}` is of one of the two series: "
                       f"`during {names[0][0]} through {names[0][-1]}` ({parts[0]}) or "
                       f"`during {names[1][0]} through {names[1][-1]}` ({parts[1]})")
            return ()
        k = where[0]
        periods = names[k]
        first, last = periods.index(idents[0].name), periods.index(idents[-1].name)
        if last < first:
            self.error("E444", f"the range of periods runs backwards: `{idents[-1].name}` comes before "
                       f"`{idents[0].name}`", option.span,
                       hint=f"write `during {idents[-1].name} through {idents[0].name}`")
            return ()
        chosen = set(periods[first:last + 1])
        return tuple(p.name for p in self.series[series].periods if p.name.split(SEP)[k] in chosen)

    # ------------------------------------------------------------ the targets of stream clauses
    def stream_targets(self, target: s.Target, payments) -> tuple[str, ...] | None:
        """The payments of `A, B over all periods`, in the order written; None (reported) if one is
        not a payment or is named twice."""
        names: list[str] = []
        for ident in target.names:
            entry = self.lookup(ident, m.PAYMENT_CLAUSES, "payment")  # issue 14: a coupon, … is one
            if entry is None or ident.name not in payments:
                return None
            if ident.name in names:
                self.error("E441", f"the payment `{ident.name}` is named twice in the stream", ident.span,
                           hint="name each payment of the stream once")
                return None
            names.append(ident.name)
        return tuple(names)

    def per_period_target(self, target: s.Target, payments, what: str) -> tuple[str, str | None] | None:
        """The payment of `X per period` and its series; None (reported) if it has no periods."""
        if (found := self.target_payment(target, payments)) is None:
            return None
        name, series = found
        if series is None:
            self.error("E440", f"`{name}` is paid once, not per period", target.span,
                       hint=f"write `{what} {name} at …`; `per period` applies to a payment declared `per SERIES`")
            return None
        return found

    def party_target(self, target: s.Target, payments, parties) -> str | None:
        """The party of `payments from P` / `payments to P`; None if there is no such party."""
        ident = target.name
        if self.lookup(ident, ("party",), "party") is None:
            return None
        side = "payer" if target.kind == "payer" else "recipient"
        if not any(getattr(p, side) == ident.name for p in payments.values()):
            word = "from" if side == "payer" else "to"
            self.error("W442", f"no payment is made {word} `{ident.name}`, so this cap limits nothing",
                       target.span, hint=f"check the party's name; the payments {word} a party are capped by "
                       f"`cap payments {word} PARTY at …`")
        return ident.name

    def implicit_per_period(self, what: str, name: str, series: str | None, target: s.Target) -> None:
        """W440/W441: `cap X at` / `floor X at` on a per-period payment applies to each period apart."""
        if series is None:
            return
        code = "W440" if what == "cap" else "W441"
        self.error(code, f"this {what} applies to each period of `{name}` separately, not to the sum of its "
                   "periods", target.span,
                   hint=f"write `{what} {name} per period at …` to say so, or `{what} {name} over all periods at …` "
                   "for a limit on what the payment pays over the whole contract")

    # ------------------------------------------------------------ period-aware expressions
    def period_series(self, node, name: str, arg: s.Expr | None) -> str:
        """The series a period value is read in: the one named, or the contract's only series."""
        if arg is not None:
            if not isinstance(arg, s.Ref) or arg.name not in self.series:
                self.error("E446", f"`{name}(…)` takes the name of a period series", arg.span,
                           hint=did_you_mean(getattr(arg, "name", ""), list(self.series)) or
                           f"e.g. `{name}({next(iter(self.series), 'year')})`")
                raise Invalid()
            return arg.name
        declared = [n for n in self.series if SEP not in n]  # not the cells of two (issue 15)
        if len(declared) != 1:
            listing = ", ".join(declared) or "none"
            self.error("E446", f"`{name}` needs to know which period series it is read in "
                       f"(this contract has {len(declared)}: {listing})", node.span,
                       hint=f"name the series: `{name}(SERIES)`" if declared else
                       "declare the periods first: `periods year: y1 2021-01-01 to 2021-12-31, …`")
            raise Invalid()
        return declared[0]

    def period_value(self, node, name: str, arg: s.Expr | None) -> m.Expr:
        """`period_index`, `period_start`, `period_end`, `contract_year` (bare, or with a series)."""
        series = self.period_series(node, name, arg)
        if name == "contract_year" and not self.items_of(s.Term):
            self.error("E447", "`contract_year` counts the years of the term, but the contract has no term",
                       node.span, hint="declare it: `term 2020-01-01 to 2024-12-31`")
            raise Invalid()
        return m.Op(name, (), Type(PERIOD_VALUES[name], series=series), span=node.span)

    def paid_window(self, e: s.Call, g, ref: s.Ref) -> m.Expr:
        """`to_date(P)`, `previous(P)`, `cumulative(P)` of a per-period payment P: what P was paid so
        far, read in a later payment's formula or `when` (or P's own, for earlier periods)."""
        name, payment = e.func.name, ref.name
        reader = getattr(self, "reading_payment", None)
        # issue 14: a coupon, a repayment or a redemption is a payment, settled in source order with the rest
        order = [n for n, entry in self.names.items() if entry.kind in m.PAYMENT_CLAUSES]
        if g or reader is None or self.in_progress:
            self.error("E449", f"what `{payment}` was paid so far can only be read in a payment's formula or "
                       "its `when`", e.span,
                       hint="in a guarantee a payment's name is already its total over all periods; a definition "
                       "cannot read a payment, so compute the payment's share in the payment itself")
            raise Invalid()
        if order.index(payment) > order.index(reader) or (payment == reader and name == "cumulative"):
            what = "is declared after" if payment != reader else "is"
            self.error("E449", f"`{name}({payment})` reads a payment that {what} `{reader}`, which is not yet "
                       "settled when this line is computed", e.span,
                       hint=f"declare `{payment}` before `{reader}`" if payment != reader else
                       f"use `to_date({payment})`: what it was paid in the periods before this one")
            raise Invalid()
        node = self.names[payment].node
        per = next((o.value.name for o in node.options if o.key == "per"), None)
        if per is None or per not in self.series:
            self.error("E445", f"`{name}` reads other periods of a payment, but `{payment}` has no periods",
                       ref.span, hint=f"declare `{payment}` per a series")
            raise Invalid()
        ty = Type(MONEY, self.currency, per)
        args: tuple[m.Expr, ...] = (m.PaymentRef(payment, ty, span=ref.span),)
        if name == "previous":
            default = m.Const(0, ty.plain(), span=e.span)
            if len(e.args) == 2:
                default = self.expr(e.args[1], guarantee=g)
                if unify(default.ty.plain(), ty.plain()) is None or not within(default.ty.series, per):
                    self.error("E448", f"the value for the first period is {default.ty.describe()}, but "
                               f"`previous({payment})` is {ty.describe()}", e.args[1].span,
                               hint=f"give an amount, e.g. `previous({payment}, 0 {self.currency})`")
                    raise Invalid()
            args += (default,)
        return m.Op(name, args, ty, span=e.span)

    def window(self, e: s.Call, g) -> m.Expr:
        """`previous(x[, default])`, `to_date(x)`, `cumulative(x)` of a per-period value."""
        name = e.func.name
        most = 2 if name == "previous" else 1
        first = e.args[0] if e.args else None
        if isinstance(first, s.Ref) and getattr(self.names.get(first.name), "kind", None) in m.PAYMENT_CLAUSES and \
                len(e.args) <= most:
            return self.paid_window(e, g, first)
        if not 1 <= len(e.args) <= most:
            example = {"previous": "`previous(placements)` or `previous(met, false)`",
                       "to_date": "`to_date(placements)`", "cumulative": "`cumulative(placements)`"}[name]
            self.error("E209", f"`{name}` takes {'one or two arguments' if most == 2 else 'one argument'}, "
                       f"not {len(e.args)}", e.span, hint=f"e.g. {example}")
            raise Invalid()
        arg = self.expr(e.args[0], guarantee=g)
        if not arg.ty.series:
            self.error("E445", f"`{name}` reads other periods of a value, but this value has no periods",
                       e.args[0].span, hint="use it on a measure or definition declared `per` a series")
            raise Invalid()
        if name != "previous" or len(e.args) == 1:
            if not arg.ty.numeric:
                what = "adds up" if name != "previous" else "starts from zero for"
                self.error("E448", f"`{name}` {what} numbers and amounts, not {arg.ty.describe()}",
                           e.args[0].span, hint="give a value for the first period: `previous(x, false)`"
                           if name == "previous" else "add up a number or an amount")
                raise Invalid()
            zero = m.Const(0, arg.ty.plain(), span=e.span)
            args = (arg, zero) if name == "previous" else (arg,)
        else:
            default = self.expr(e.args[1], guarantee=g)
            plain = arg.ty.plain()
            if unify(default.ty.plain(), plain) is None:
                self.error("E448", f"the value for the first period is {default.ty.describe()}, but "
                           f"`previous` gives {arg.ty.describe()}", e.args[1].span,
                           hint="give a value of the same kind, e.g. `previous(costs, 0 SEK)`")
                raise Invalid()
            if default.ty.series and default.ty.series != arg.ty.series:
                self.series_of(arg, default, e)
            args = (arg, default)
        return m.Op(name, args, attrs.evolve(arg.ty), span=e.span)
