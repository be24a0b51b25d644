"""Named tables, whole-number powers and rate cards (issue 15): syntax → checked model.

A mixin of `Checker`, like the stages it extends. Nothing here adds to the semantics: a table's
use `NAME(x)` is lowered to the model's own `Steps` / `Interp` / `Cond`, a power `b ^ n` to a
product of n factors, and a rate card to one measure and one payment per outcome (both called
`card.outcome`, per the card's periods) plus the card itself (`m.RateCard`), whose caps the
settlement program turns into cut steps (semantics/program.py).
"""

from __future__ import annotations

from fractions import Fraction

import attrs

from .. import model as m
from .. import syntax as s
from ..units import COUNT, MONEY, NUMBER, SHARE, Type, UnitError, combine, comparable, unify
from .common import T_BOOL, T_NUMBER, T_SHARE, Invalid

MAX_EXPONENT = 100  # `(1 + r) ^ n`: a hundred years of growth, or periods of a long contract


class Cards:
    """Named tables, powers and rate cards (a mixin of `Checker`)."""

    # ------------------------------------------------------------ named tables
    def named_table(self, name: str) -> m.Table | None:
        """The table called `name`, checked the first time it is needed (a definition may use a
        table declared after it); None, reported once, if it is malformed."""
        cache = self.__dict__.setdefault("_tables", {})
        if name not in cache:
            cache[name] = None  # a table whose rows use the table itself finds it malformed
            entry = self.names[name]
            try:
                cache[name] = self._table(entry.node, entry.clause)
            except Invalid:
                pass
        return cache[name]

    def check_tables(self) -> dict[str, m.Table]:
        result = {}
        for name, _ in self.declared("table"):
            table = self.named_table(name)
            if table is not None:
                result[name] = table
        return result

    def _table(self, node: s.Table, clause: m.ClauseRef) -> m.Table:
        self._table_size(len(node.rows) + 1, node)
        linear = node.kind == "linear"
        keys, values, key_ty, ty = [], [], None, None
        for row in node.rows:
            x_node, y_node = (row.x, row.y) if linear else (row.threshold, row.value)
            x_typed = self.expr(x_node)
            key_ty = x_typed.ty.plain() if key_ty is None else key_ty
            if not comparable(key_ty, x_typed.ty.plain()):
                self.error("E308", f"the rows of table `{node.name.name}` are read at {key_ty.describe()} and "
                           f"at {x_typed.ty.describe()}", x_node.span,
                           hint="every row of a table starts at the same kind of value")
                raise Invalid()
            y_typed = self.expr(y_node)
            joined = y_typed.ty.plain() if ty is None else unify(ty, y_typed.ty.plain())
            if joined is None or not joined.numeric:
                self.error("E308", f"table values differ: {ty.describe() if ty else 'nothing'} and "
                           f"{y_typed.ty.describe()}", y_node.span,
                           hint="every row of a table gives the same kind of number or amount")
                raise Invalid()
            ty = joined
            x = self.constant(x_node, key_ty, "a table threshold")
            y = self.constant(y_node, ty, "a table value")
            if x is None or y is None:
                raise Invalid()
            if keys and x <= keys[-1]:
                self.error("E308", "table thresholds must increase from row to row", x_node.span,
                           hint="order the rows from the lowest threshold to the highest")
                raise Invalid()
            keys.append(x)
            values.append(y)
        if linear and len(keys) < 2:
            self.error("E308", "a linear table needs at least two points", node.span,
                       hint="add a second point, or use a `step` table for one threshold")
            raise Invalid()
        below = self._bound(node, node.below, key_ty, ty, keys[0], "below")
        above = self._bound(node, node.above, key_ty, ty, keys[-1], "above")
        if not linear and below is None:  # the grammar requires it; a step table says its value below
            below = Fraction(0)
        return m.Table(node.name.name, node.label, node.kind, key_ty, ty, tuple(keys), tuple(values),
                       below, above, clause)

    def _bound(self, node: s.Table, bound: s.TableBound | None, key_ty: Type, ty: Type, edge: Fraction,
               side: str) -> Fraction | None:
        if bound is None:
            return None
        if bound.threshold is not None:
            at = self.constant(bound.threshold, key_ty, "a table threshold")
            if at is not None and at != edge:
                which = "first" if side == "below" else "last"
                self.error("E313", f"`{side}` names {unparse_number(at, key_ty)}, but the table's {which} row "
                           f"is at {unparse_number(edge, key_ty)}", bound.threshold.span,
                           hint=f"write `{side} {unparse_number(edge, key_ty)}:` or leave the threshold out "
                           f"(`{side}:`): it is the {which} row's")
        value = self.constant(bound.value, ty, f"the value {side} the table")
        if value is None:
            raise Invalid()
        return value

    def table_call(self, e: s.Call, g: bool) -> m.Expr:
        """`NAME(x)`: the table read at x, as the model's own tables (see the module docstring)."""
        name = e.func.name
        self.used.add(name)
        if len(e.args) != 1:
            self.error("E311", f"the table `{name}` is read at one value, not {len(e.args)}", e.span,
                       hint=f"e.g. `{name}(attainment)`")
            raise Invalid()
        table = self.named_table(name)
        subject = self.expr(e.args[0], guarantee=g)
        if table is None:
            raise Invalid()
        if not comparable(subject.ty.plain(), table.key):
            self.error("E312", f"the table `{name}` is read at {table.key.describe()}, not at "
                       f"{subject.ty.describe()}", e.args[0].span,
                       labels=(self.also(self.names[name].span, "the table is declared here"),),
                       hint="give it a value of the kind its rows start at")
            raise Invalid()
        ty = attrs.evolve(table.ty, series=subject.ty.series)
        plain = table.ty

        def const(v):
            return m.Const(v, plain, span=e.span)

        if table.kind == "step":
            return m.Steps(subject, const(table.below), table.thresholds,
                           tuple(const(v) for v in table.values), ty, span=e.span)
        result: m.Expr = m.Interp(subject, table.thresholds, table.values, ty, span=e.span)
        if table.below is not None:  # a jump: its own value under the first point
            result = m.Steps(subject, const(table.below), table.thresholds[:1], (result,), ty, span=e.span)
        if table.above is not None:  # and over the last one
            over = m.Op(">", (subject, m.Const(table.thresholds[-1], table.key)),
                        attrs.evolve(T_BOOL, series=subject.ty.series), span=e.span)
            result = m.Cond(over, const(table.above), result, ty, span=e.span)
        return result

    # ------------------------------------------------------------ powers
    def expr_Power(self, e: s.Power, g) -> m.Expr:
        base = self.expr(e.base, guarantee=g)
        if base.ty.kind not in (NUMBER, SHARE, COUNT):
            self.error("E315", f"a power of {base.ty.describe()} has no meaning", e.base.span,
                       hint="raise a growth factor or a number to a power: `(1 + 3 %) ^ 5`, then multiply "
                       "the amount by it")
            raise Invalid()
        n = self.constant(e.exponent, T_NUMBER, "an exponent")
        if n is None:
            raise Invalid()
        if n.denominator != 1 or abs(n) > MAX_EXPONENT:
            self.error("E314", f"the exponent must be a whole number from -{MAX_EXPONENT} to {MAX_EXPONENT}, "
                       f"not {unparse_number(n, T_NUMBER)}", e.exponent.span,
                       hint="a power is exact only with a whole exponent: compound per whole year or period")
            raise Invalid()
        k = abs(int(n))
        if k == 0:
            return m.Const(Fraction(1), T_NUMBER, span=e.span)
        result = base
        for _ in range(k - 1):  # the same node each time: every back end computes it once
            try:
                ty = combine("*", result.ty, base.ty)
            except UnitError as err:  # pragma: no cover - numbers and shares multiply
                self.error(err.code, err.message, e.span, hint=err.hint)
                raise Invalid() from None
            result = m.Op("*", (result, base), ty, span=e.span)
        if n < 0:
            result = m.Op("/", (m.Const(Fraction(1), T_NUMBER, span=e.span), result), result.ty, span=e.span)
        return result

    # ------------------------------------------------------------ rate cards
    def card_total(self, e: s.Ref, g: bool) -> m.Expr:
        """A card's name in a guarantee: the sum of its payments over all their periods."""
        if not g:
            self.error("E309", f"the rate card `{e.name}` can only be referred to in a guarantee", e.span,
                       hint="a guarantee can say e.g. `guarantee within: care <= 3 000 000 GBP`")
            raise Invalid()
        card = self.__dict__.get("cards", {}).get(e.name)
        if card is None:
            raise Invalid()  # the card has an error of its own, reported
        money = Type(MONEY, self.currency)
        refs = [m.PaymentRef(o.payment, money, span=e.span) for o in card.outcomes]
        result: m.Expr = refs[0]
        for ref in refs[1:]:
            result = m.Op("+", (result, ref), money, span=e.span)
        return result

    def check_rate_cards(self, parties, term, payments: dict[str, m.Payment]) -> dict[str, m.RateCard]:
        """Each card's measures (into self.measures) and payments (into `payments`), and the cards."""
        cards = {}
        for name, entry in self.declared("ratecard"):
            node: s.RateCard = entry.node
            card = self._rate_card(name, node, entry.clause, parties, term, payments)
            if card is not None:
                cards[name] = card
        self.cards = cards  # for guarantees that name a card (card_total)
        return cards

    def _rate_card(self, name, node: s.RateCard, clause, parties, term, payments) -> m.RateCard | None:
        options = self.options(node.options, node)
        series = self.per_series(options)
        payer, recipient = self.payer_and_recipient(options, parties, f"the rate card `{name}`", node.name.span,
                                                    "add e.g. `from council to investor` before the colon")
        due = self.due(options.get("due"), series)
        money = Type(MONEY, self.currency)
        outcomes, seen, ok = [], {}, True
        count = Type(COUNT, None, series)
        terms = self.options(node.terms, node)
        factors, index_rate, index_from = self._indexation(terms.get("indexed"), series, name)
        if factors is False:
            ok, factors = False, None
        for o in node.outcomes:
            self.check_text(o.label)
            if o.name.name in seen:
                self.error("E460", f"the outcome `{o.name.name}` is in the rate card `{name}` twice", o.name.span,
                           labels=(self.also(seen[o.name.name].span, "first listed here"),),
                           hint="list each outcome once, with its price")
                ok = False
                continue
            seen[o.name.name] = o.name
            price = self.constant(o.price, money, f"the price of `{o.name.name}`")
            cap = self.constant(o.up_to, money, f"the cap of `{o.name.name}`") if o.up_to is not None else None
            if price is None or (o.up_to is not None and cap is None):
                ok = False
                continue
            if price < 0:
                self.error("E461", f"the price of `{o.name.name}` is negative", o.price.span,
                           hint="a rate card pays for outcomes; a deduction is a payment of its own")
                ok = False
                continue
            if cap is not None and cap < price:
                self.error("W460", f"the cap of `{o.name.name}` is below its price: not one outcome is paid "
                           "in full", o.up_to.span,
                           hint="the cap is an amount over all periods; did you mean a number of outcomes "
                           "× the price?")
            key = f"{name}.{o.name.name}"
            label = o.label
            oclause = m.ClauseRef("payment", key, label, clause.heading, o.span.line)
            self.measures[key] = m.Measure(key, label, count, None, None, None, None, None, oclause)
            self.used.add(key)
            unit_price: m.Expr = m.Const(price, money, span=o.price.span)
            if factors is not None:  # the price indexed for each period
                unit_price = m.PerPeriod(series, tuple((p, price * f) for p, f in factors), money, span=o.price.span)
            expr = m.Op("*", (unit_price, m.Input(key, count, span=o.span)),
                        attrs.evolve(money, series=series), span=o.span)
            payments[key] = m.Payment(key, label, expr, payer, recipient, due, series, oclause)
            outcomes.append(m.RateOutcome(o.name.name, label, price, cap, key, key))
        participant_cap = cohort = None
        size = 0
        if "participant" in terms:
            participant_cap = self.constant(terms["participant"].value, money, "a cap per participant")
            cohorts = [n for n, _ in self.declared("cohort")]
            if len(cohorts) != 1:  # as `cap per participant at …` (check/rules.py)
                self.error("E411", f"a cap per participant needs exactly one cohort; the contract declares "
                           f"{len(cohorts)}", terms["participant"].span,
                           hint="declare the group the card pays for: `cohort young_people: size 300`")
                ok = False
            else:
                cohort = cohorts[0]
                size = int(self.constants.get(cohort, 0))
        total_cap, order = None, "declaration"
        if "total" in terms:
            amount, order = terms["total"].value
            total_cap = self.constant(amount, money, "the rate card's total cap")
        if not ok:
            return None
        return m.RateCard(name, node.label, series, tuple(outcomes), participant_cap, cohort, size, total_cap,
                          order, index_rate, index_from, clause)

    def _indexation(self, option: s.Option | None, series: str | None, name: str):
        """(factor per period, rate, date) of a card's `indexed R per year from D`: (1 + R) to the
        power of the whole years from D to the period's start (none before D); (None, None, None)
        without indexation; (False, …) when it is wrong (reported)."""
        if option is None:
            return None, None, None
        rate_expr, date = option.value
        rate = self.constant(rate_expr, T_SHARE, "an indexation rate")
        if series is None:
            self.error("E462", f"the rate card `{name}` is indexed but has no periods", option.span,
                       hint="index the prices of a card paid per period: add `per SERIES` before the colon")
            return False, None, None
        if rate is None:
            return False, None, None
        factors = []
        for period in self.series[series].periods:
            start, since = period.start, date.value
            years = start.year - since.year - ((start.month, start.day) < (since.month, since.day))
            factors.append((period.name, (1 + rate) ** max(years, 0)))
        return tuple(factors), rate, date.value


def unparse_number(value: Fraction, ty: Type) -> str:
    from ..unparse import number
    from ..values import to_decimal

    if ty.kind == SHARE:
        return f"{number(to_decimal(value * 100))} %"
    return number(to_decimal(value)) + (f" {ty.currency}" if ty.currency else "")
