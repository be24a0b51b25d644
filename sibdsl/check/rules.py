"""Stage 4, contract rules: gates, floors, caps, return limits and guarantees, and the rules between
them (a floor above a cap, parties in their roles, measures never used)."""

from __future__ import annotations

import datetime
from fractions import Fraction

from .. import limits
from .. import model as m
from .. import syntax as s
from ..diagnostics import did_you_mean, has_errors
from ..units import (
    BOOL,
)
from .common import GUARANTEE_SERIES_HINT, PAYING_ROLES, RECEIVING_ROLES, T_SHARE


class Rules:
    """The contract rules (a mixin of `Checker`)."""

    # ------------------------------------------------------------ payments and their rules
    def party_role(self, ident: s.Ident, parties, roles: tuple[str, ...], code: str, doing: str) -> None:
        party = parties.get(ident.name)
        if party is None:
            self.lookup(ident, ("party",), "party")
            return
        if not set(party.roles) & set(roles):
            self.error(code, f"`{ident.name}` {doing}, but its roles ({', '.join(party.roles) or 'none'}) "
                       f"do not allow it", ident.span,
                       labels=(self.also(self.names[ident.name].span, "the party is declared here"),),
                       hint=f"a party that {doing.split()[0]} needs one of the roles: {', '.join(roles)}")

    def target_payment(self, target: s.Target, payments) -> tuple[str, str | None] | None:
        """The payment a clause applies to and its series, or None (reported) if there is none."""
        entry = self.lookup(target.name, m.PAYMENT_CLAUSES, "payment")  # issue 14: a coupon, … is one
        if entry is None or target.name.name not in payments:
            return None
        return target.name.name, payments[target.name.name].series

    def check_gates(self, payments) -> tuple[m.Gate, ...]:
        gates = list(self.inline_gates)
        for node in self.items_of(s.Gate):
            clause = self.clauses[id(node)]
            target, level, series = "total", None, None
            if node.target.kind == "payment":
                if (found := self.target_payment(node.target, payments)) is None:
                    continue
                target, series = found
            else:
                level = self.money(node.target.level, "the level of a gate")
                if level is None:
                    continue
            condition = self.condition(node.condition, series)
            during = self.clause_during(node.during, target, series, "a gate on the total" if target == "total" else None)
            self.during_unpaid(node.during, during, [target] if target in payments else [], payments, "gate")
            if condition is not None and during is not None:
                gates.append(m.Gate(clause, target, level, condition, during=during))
        return tuple(gates)

    def clause_during(self, option: s.Option | None, target: str | None, series: str | None, whole: str | None,
                      what: str = "cap") -> tuple[str, ...] | None:
        """issue 15: the periods of a gate's, a floor's or a cap's `during` (() without one); None if
        reported. `whole` names a clause on every line of the contract (E580), None for one on payments."""
        if option is None:
            return ()
        if whole is not None:
            self.error("E580", f"`during` restricts a clause to some periods, but {whole} applies to every "
                       "line of the contract, whatever its period", option.span,
                       hint=f"put the clause on the payments paid per period: `{what} c: p per period at … during y1 "
                            f"through y3`, `{what} c: p over all periods at … during y1 through y3`"
                            + (" or `cap per year at … during y1 through y3`" if what == "cap" else ""))
            return None
        during = self.check_during(option, series, target)
        return during or None

    def check_floors(self, payments, parties) -> tuple[m.Floor, ...]:
        floors = []
        for node in self.items_of(s.Floor):
            clause = self.clauses[id(node)]
            options = self.options(node.options, node)
            target, series = "total", None
            targets, per_period = (), False
            if node.target.kind == "payment":
                if (found := self.target_payment(node.target, payments)) is None:
                    continue
                target, series = found
                self.implicit_per_period("floor", target, series, node.target)
            elif node.target.kind == "per period":  # issue 15: the same floor, named as such
                if (found := self.per_period_target(node.target, payments, "floor")) is None:
                    continue
                (target, series), per_period = found, True
            elif node.target.kind == "stream":
                if (targets := self.stream_targets(node.target, payments)) is None:
                    continue
                target = m.STREAM
            amount = self.money(node.amount, "a floor", series)
            when = self.condition(options["when"].value, series) if "when" in options else None
            payer = options["from"].value.name if "from" in options else None
            recipient = options["to"].value.name if "to" in options else None
            if "from" in options:
                self.party_role(options["from"].value, parties, PAYING_ROLES, "E407", "pays")
            if "to" in options:
                self.party_role(options["to"].value, parties, RECEIVING_ROLES, "E406", "receives payments")
            if target == "total" and (payer is None or recipient is None):
                pairs = {(p.payer, p.recipient) for p in payments.values()}
                if len(pairs) == 1:
                    (pair,) = pairs
                    payer = payer or pair[0]
                    recipient = recipient or pair[1]
                elif pairs:
                    self.error("E408", "the floor does not say who pays the top-up, and the payments "
                               "have different payers or recipients", node.span,
                               hint="add `from PAYER to RECIPIENT` to the floor")
                    continue
            if target == m.STREAM and ("from" in options or "to" in options or "due" in options):
                self.error("E210", "a floor on a stream is paid with the stream's last line, by its parties",
                           node.span, hint="remove `from`/`to`/`due` from this floor")
            elif target != "total" and ("from" in options or "to" in options):
                self.error("E210", "a floor on a payment is paid by that payment's parties", node.span,
                           hint="remove `from`/`to` from this floor")
            due = self.due(options.get("due"), series) if "due" in options else None
            # issue 15: a floor in a range of periods, as a gate or a cap
            kind = "stream" if target == m.STREAM else "total" if target == "total" else "payment"
            during = self._cap_during(options.get("during"), kind, target, series, targets, payments, "floor")
            if kind != "total":
                self.during_unpaid(options.get("during"), during, list(targets) or [target], payments, "floor")
            if amount is not None and during is not None and (not options.get("when") or when is not None):
                floors.append(m.Floor(clause, target, amount, when, payer, recipient, due, targets=targets,
                                      per_period=per_period, during=during))
        return tuple(floors)

    def check_caps(self, payments, parties=None) -> tuple[m.Cap, ...]:
        parties = parties or {}
        caps = []
        for node in self.items_of(s.Cap):
            clause = self.clauses[id(node)]
            kind, target, series = node.target.kind, None, None
            targets, per_period = (), False
            if kind == "payment":
                if (found := self.target_payment(node.target, payments)) is None:
                    continue
                target, series = found
                self.implicit_per_period("cap", target, series, node.target)
            elif kind == "per period":  # issue 15: the same cap, named as such
                if (found := self.per_period_target(node.target, payments, "cap")) is None:
                    continue
                (target, series), kind, per_period = found, "payment", True
            elif kind == "stream":
                if (targets := self.stream_targets(node.target, payments)) is None:
                    continue
                target = targets[0]
            elif kind in ("payer", "recipient"):
                if (target := self.party_target(node.target, payments, parties)) is None:
                    continue
            elif kind == "series":
                if not self.lookup(node.target.name, ("series",), "period series"):
                    continue
                target = node.target.name.name
            elif kind == "participant":
                cohorts = [n for n, e in self.names.items() if e.kind == "cohort"]
                if len(cohorts) != 1:
                    self.error("E411", "a cap per participant needs exactly one cohort "
                               f"(this contract has {len(cohorts)})", node.target.span,
                               hint="declare the cohort: `cohort youths: size 60`")
                    continue
                target = cohorts[0]
            amount = self.money(node.amount, "a cap", series)
            during = self._cap_during(node.during, kind, target, series, targets, payments)
            if kind in ("payment", "stream"):
                self.during_unpaid(node.during, during, list(targets) or [target], payments, "cap")
            if amount is not None and during is not None:
                caps.append(m.Cap(clause, kind, target, amount, targets=targets, per_period=per_period,
                                  during=during))
        return tuple(caps)

    def during_unpaid(self, option: s.Option | None, during, names, payments, what: str) -> None:
        """W580: a gate's, a floor's or a cap's `during` names only periods in which none of its payments has a
        line (each is paid `during` other periods): the clause can never act."""
        if not during or not names:
            return
        paid = set()
        for name in names:
            payment = payments[name]
            paid |= set(payment.during) if payment.during else set(during)
        if not paid & set(during):
            shown = ", ".join(f"`{n}` during {' through '.join(dict.fromkeys((payments[n].during[0], payments[n].during[-1])))}"
                              for n in names)
            self.error("W580", f"the {what} applies during {' through '.join(dict.fromkeys((during[0], during[-1])))}, "
                       f"but {shown} has no line then: it never acts", option.span,
                       hint="name the periods the payment is paid in, or remove `during`")

    def _cap_during(self, option, kind, target, series, targets, payments, what: str = "cap") -> tuple[str, ...] | None:
        """issue 15: a cap's (or a floor's) `during`: on a payment (its periods), per period of a
        series, or on a stream (the stream over those periods; its payments share one series, else E581)."""
        whole = {"total": f"a {what} on the total", "participant": "a cap per participant",
                 "payer": "a cap on what a party pays", "recipient": "a cap on what a party receives"}
        if option is None or kind not in ("stream", "series"):
            return self.clause_during(option, target, series, whole.get(kind), what)
        if kind == "series":
            return self.check_during(option, target, f"per {target}") or None
        kinds = {payments[t].series for t in targets}
        if len(kinds) != 1 or None in kinds:
            self.error("E581", "`during` on a stream needs its payments paid per period of one series; "
                       + ", ".join(f"`{t}` is {'per ' + payments[t].series if payments[t].series else 'paid once'}"
                                   for t in targets), option.span,
                       hint=f"{'cap' if what == 'cap' else 'put a floor on'} the payments of each series in a stream "
                       "of its own, or remove `during`")
            return None
        return self.check_during(option, kinds.pop(), target) or None

    def check_floor_cap(self, floors, caps) -> None:
        from ..compiler import EvaluationError, NotConstant, constant_value

        def value(expr):
            try:
                return constant_value(expr, self.definitions, self.constants)
            except (NotConstant, ZeroDivisionError, EvaluationError):
                return None

        for floor in floors:
            for cap in caps:
                same = (cap.kind == "payment" and cap.target == floor.target) or (
                    cap.kind in ("total",) and floor.target == "total") or (
                    cap.kind == "stream" and floor.target == m.STREAM and set(cap.targets) == set(floor.targets))
                if not same or not _meet(floor, cap):
                    continue
                low, high = value(floor.amount), value(cap.amount)
                if low is not None and high is not None and low > high:
                    self.error("E403", f"the floor ({money_text(low, self.currency)}) is above the cap "
                               f"({money_text(high, self.currency)})", floor.amount.span,
                               labels=(self.also(cap.amount.span, "the cap"),),
                               hint="a floor above a cap cannot both hold; lower the floor or raise the cap")

    def check_return_limits(self, investments, payments=None, term=None, series=None) -> tuple[m.ReturnLimit, ...]:
        result = self.check_return_limits_v1(investments)
        if payments is not None:
            self.check_investment_dates(investments, payments, term, series or {})
        return result

    def check_return_limits_v1(self, investments) -> tuple[m.ReturnLimit, ...]:
        result = []
        for node in self.items_of(s.ReturnLimit):
            clause = self.clauses[id(node)]
            rate = self.constant(node.rate, T_SHARE, "a return rate")
            if not investments:
                self.error("E404", "a return limit needs an investment to measure the return on",
                           node.span, hint="declare it: `investment loan: 10 000 000 SEK from investor on "
                           "2016-08-01`")
                continue
            if node.start and node.end and node.end.value <= node.start.value:
                self.error("E409", "the return period ends before it starts", node.span)
                continue
            if node.start and node.end and (node.end.value - node.start.value).days > 366 * limits.MAX_RETURN_YEARS:
                self.error("E111", f"a return period of more than {limits.MAX_RETURN_YEARS} years", node.span,
                           hint="state the return over the contract's own years")
                continue
            if rate is not None and rate < 0:
                self.error("E210", "a return limit cannot be negative", node.rate.span,
                           hint="write the highest return the investor may receive, e.g. `8 % per year …`")
                continue
            whom = self.return_limit_whom(node, investments)
            if whom is None:
                continue
            if node.day_count is not None and node.kind in ("total", "multiple"):
                self.error("E426", f"a day count applies to a rate per year, not to a return "
                           f"{'in total' if node.kind == 'total' else 'as a multiple'}", node.span,
                           hint="remove `day count …`, or state the limit as a rate: `8 % per year`")
                continue
            if rate is not None:
                result.append(m.ReturnLimit(clause, rate, "compound" if node.kind == "annual" else node.kind,
                                            node.start.value if node.start else None,
                                            node.end.value if node.end else None,
                                            investor=whom[0], klass=whom[1], day_count=node.day_count or "act/365",
                                            capital=node.capital))
        return tuple(result)

    def return_limit_whom(self, node: s.ReturnLimit, investments) -> tuple[str | None, str | None] | None:
        """Whom a return limit binds: (investor, class); (None, None) for each investor separately.
        A named investor must have an investment (E420), a named class an investor in it (E421)."""
        investors = sorted({i.investor for i in investments.values()})
        classes = sorted({i.klass for i in investments.values() if i.klass})
        if node.investor is not None and node.klass is not None:
            self.error("E425", "a return limit binds one investor or one class, not both", node.klass.span,
                       labels=(self.also(node.investor.span, "the investor"),),
                       hint="write two limits, one `for INVESTOR` and one `for class NAME`")
            return None
        if node.investor is not None and node.investor.name not in investors:
            self.error("E420", f"`{node.investor.name}` has no investment, so it has no return to limit",
                       node.investor.span,
                       hint=did_you_mean(node.investor.name, investors) or
                       f"investors with an investment: {', '.join(investors)}")
            return None
        if node.klass is not None and node.klass.name not in classes:
            self.error("E421", f"no investment is in class `{node.klass.name}`", node.klass.span,
                       hint=did_you_mean(node.klass.name, classes) or (
                           f"classes: {', '.join(classes)}" if classes else
                           "give investments a class: `investment loan: … class senior`"))
            return None
        return (node.investor.name if node.investor else None, node.klass.name if node.klass else None)

    def check_investment_dates(self, investments, payments, term, series) -> None:
        """W420: a return limit's window ends before the last payment to whom it binds (that payment
        earns nothing after the window); W421: a drawdown after the last payment to its investor."""
        def due_date(due: m.Due, period):  # as semantics.program.due_date
            if due.date is not None or due.days_after_end is None:
                return due.date
            end = period.end if period else (term[1] if term else None)
            return end + datetime.timedelta(days=due.days_after_end) if end else None

        last: dict[str, object] = {}
        for p in payments.values():
            periods = series[p.series].periods if p.series and p.series in series else (None,)
            for period in periods:
                due = due_date(p.due, period)
                if due is not None and (p.recipient not in last or due > last[p.recipient]):
                    last[p.recipient] = due
        classes: dict[str, m.Investment] = {}
        for inv in investments.values():  # payments go to investors: one class per investor (E427)
            first = classes.setdefault(inv.investor, inv)
            if (inv.klass or None) != (first.klass or None):
                self.error("E427", f"`{inv.investor}` invests in class `{inv.klass or 'none'}` here and in "
                           f"class `{first.klass or 'none'}` in `{first.name}`", self.names[inv.name].span,
                           labels=(self.also(self.names[first.name].span, "the other investment"),),
                           hint="payments are made to investors, not to classes: give each class its own "
                           "investor (party), or put both investments in one class")
        for inv in investments.values():
            final = last.get(inv.investor)
            late = [d for d, _ in inv.flows if final is not None and d > final]
            if late:
                self.error("W421", f"`{inv.name}` is drawn on {late[0]}, after the last payment to "
                           f"`{inv.investor}` ({final})", self.names[inv.name].span,
                           hint="a drawdown after the last payment can never be repaid; check the dates")
        for node in self.items_of(s.ReturnLimit):
            if node.end is None or node.kind in ("total", "multiple"):
                continue
            bound = [i.investor for i in investments.values()
                     if (node.investor is None or i.investor == node.investor.name)
                     and (node.klass is None or i.klass == node.klass.name)]
            dues = [last[x] for x in bound if x in last]
            if dues and max(dues) > node.end.value:
                self.error("W420", f"the return limit's period ends on {node.end.value}, before the last "
                           f"payment to whom it binds ({max(dues)})", node.end.span,
                           hint="a payment after the period is held to what the money grew to by its end: "
                           "end the period at the last payment, or leave out `from … to …` (a rate of "
                           "return on the dated flows)")

    def check_guarantees(self) -> tuple[m.Guarantee, ...]:
        result = []
        for node in self.items_of(s.Guarantee):
            clause = self.clauses[id(node)]
            typed = self.typed(node.expr, guarantee=True)
            if typed is None:
                continue
            when = None
            if node.when is not None:
                when = self.typed(node.when, guarantee=True)
                if when is None:
                    continue
                if when.ty.kind != BOOL:
                    self.error("E304", f"expected a yes/no condition, found {when.ty.describe()}",
                               node.when.span)
                    continue
                if when.ty.series:
                    self.error("E307", f"the condition depends on values per `{when.ty.series}`",
                               node.when.span, hint=GUARANTEE_SERIES_HINT)
                    continue
            if node.monotone:
                if not typed.ty.numeric:
                    self.error("E305", f"only numbers and amounts can be {node.monotone}", node.expr.span)
                    continue
                entry = self.lookup(node.monotone_in, ("measure", "define", "baseline", "parameter"),
                                    "measure, definition or parameter")
                if entry is None:
                    continue
                self.used.add(node.monotone_in.name)
            elif typed.ty.kind != BOOL:
                self.error("E304", f"a guarantee states a yes/no property, found {typed.ty.describe()}",
                           node.expr.span, hint="e.g. `guarantee never_above: total <= 12 000 000 SEK`")
                continue
            elif typed.ty.series:
                self.error("E307", f"the guarantee depends on values per `{typed.ty.series}`",
                           node.expr.span, hint=GUARANTEE_SERIES_HINT)
                continue
            result.append(m.Guarantee(clause, typed, when, node.monotone,
                                      node.monotone_in.name if node.monotone_in else None))
        return tuple(result)

    def check_unused(self, measures, payments) -> None:
        if has_errors(self.diagnostics):
            return  # an error may be why a measure looks unused: report it once it is fixed
        for name in measures:
            if name not in self.used:
                self.error("W401", f"the measure `{name}` is never used", self.names[name].span,
                           hint="use it in a definition, payment, gate or guarantee, or remove it")
        if not payments:
            self.error("W402", "the contract has no payments", self.source.span(0, 0),
                       hint="declare one: `payment outcome = … from PAYER to INVESTOR`")


def money_text(value: Fraction, currency: str) -> str:
    from ..report import format_amount

    return format_amount(value, currency)


def _meet(floor: m.Floor, cap: m.Cap) -> bool:
    """Whether a floor and a cap on the same target can contradict each other, by their `during`
    (issue 15): on a payment, they share a period; on a stream, the cap's periods hold the floor's
    (a stream floor over y1–y2 above a cap over y3 alone is no contradiction)."""
    if cap.kind == "stream":
        return not cap.during or bool(floor.during) and set(floor.during) <= set(cap.during)
    return not floor.during or not cap.during or bool(set(floor.during) & set(cap.during))
