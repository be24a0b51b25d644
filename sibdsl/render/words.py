"""The contract in words: every clause and formula as a sentence in Swedish or English.

The output is plain text; templates escape it for the output format. Amounts, percentages and
dates are written by `sibdsl.lang` (Babel): "12 000 000 kr", "8 procent", "1 januari 2016".
Names of measures and definitions appear as the contract's labels, in quotation marks, as
defined terms appear in a legal text: 60 procent av ”Besparing”.

Typography follows the Swedish language council (Språkrådet): the spaces inside an amount, a
percentage and a date are no-break spaces (U+00A0), so "60 procent" or "30 juni 2019" is never
split over two lines. Nested `min`/`max` read as a lawyer writes them: the quantity first, then
its bounds ("”Besparing” minus ”Lånet”, dock lägst 0 kr och högst 20 procent av ”Lånet”"), and a
yes/no value used as a condition reads as a clause ("villkoret ”Insatsen genomförd” är uppfyllt").
"""

from __future__ import annotations

import datetime
from contextlib import contextmanager
from decimal import localcontext
from fractions import Fraction

from .. import model as m
from ..lang import format_date, format_money, format_number, format_percent, texts
from ..units import BOOL, DAYS, MONEY, SHARE

NBSP = "\u00a0"
_PERIODIC = frozenset({"period_index", "period_start", "period_end", "contract_year", "previous", "to_date",
                       "cumulative"})

# the words of formulas and clauses, per language (sibdsl/texts/contract_words.json); a quote is a pair
W = {lang: dict(words, quote=tuple(words["quote"])) for lang, words in texts("contract_words").items()}

_PRECEDENCE = {"or": 1, "and": 2, "not": 3, "<": 4, "<=": 4, ">": 4, ">=": 4, "==": 4, "!=": 4,
               "+": 5, "-": 5, "*": 6, "/": 6, "of": 6, "neg": 7}


def listing(items: list[str], lang: str) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {W[lang]['list_and']} " + items[-1]


@contextmanager
def _wide():
    """Formatting in a context wide enough for any amount the language allows (30 digits and more):
    Babel quantizes in the current decimal context, whose default 28 digits fail on larger values."""
    with localcontext() as ctx:
        ctx.prec = 200
        yield


def nbsp(text: str) -> str:
    """Text that must stay on one line: the spaces of an amount, a percentage or a date."""
    return text.replace(" ", NBSP).replace("\u202f", NBSP)


def date(day: datetime.date, lang: str) -> str:
    return nbsp(format_date(day, lang))


def period(start: datetime.date, end: datetime.date, lang: str) -> str:
    """A period as dates, not as its identifier: "2017" for a calendar year, else "1 januari 2017 – 31 december 2018"."""
    if (start.month, start.day, end.month, end.day) == (1, 1, 12, 31) and start.year == end.year:
        return str(start.year)
    return f"{date(start, lang)}{NBSP}– {date(end, lang)}"


def money(value, currency: str, lang: str) -> str:
    with _wide():
        return format_money(Fraction(value), currency, lang)


def percent(value, lang: str) -> str:
    with _wide():
        return format_percent(Fraction(value), lang)


def number(value, lang: str) -> str:
    with _wide():
        return format_number(Fraction(value), lang)


def _is_bool(e: m.Expr) -> bool:
    return getattr(e.ty, "kind", None) == BOOL


class Words:
    """Formulas and values of one contract in one language. Amounts as prose writes them
    (`SEK 12,000,000`, `12 000 000 kr`), or with `tables` as the settlement's tables do (`lang.money`:
    `12 000 000 SEK`, `12 000 000 kr`), for words shown beside them."""

    def __init__(self, contract: m.Contract, lang: str, tables: bool = False):
        self.contract, self.lang, self.w, self.tables = contract, lang, W[lang], tables

    def quoted(self, text: str) -> str:
        left, right = self.w["quote"]
        return f"{left}{text}{right}"

    def text(self, text) -> str:
        """A text of the contract in this language (the first language where it has no translation;
        `sibc render` reports those with W720)."""
        return text.get(self.lang) if text is not None else ""

    def label(self, name: str) -> str:
        c = self.contract
        for table in (c.measures, c.definitions, c.payments, c.investments, c.cohorts, c.series):
            item = table.get(name)
            if item is not None and item.label is not None:
                return self.quoted(item.label.get(self.lang))
        for clause in (*c.gates, *c.floors, *c.caps, *c.return_limits, *c.guarantees, *c.covers,
                       *c.waterfalls):
            if clause.clause.name == name and clause.clause.label is not None:
                return self.quoted(clause.clause.label.get(self.lang))
        return self.quoted(name)

    def defined(self, name: str) -> str:
        """A defined term as the object of a sentence: in English with its article ("pays the
        “Outcome payment”"), unless the label has one ("“The loan”"); Swedish needs none."""
        text = self.label(name)
        if self.lang == "en" and not text[1:].lower().startswith(("the ", "a ", "an ")):
            return f"the {text}"
        return text

    def party(self, name: str) -> str:
        party = self.contract.parties.get(name)
        return party.label.get(self.lang) if party is not None else name

    def money(self, value) -> str:
        if self.tables:
            from ..lang import money as table_money

            return table_money(Fraction(value), self.contract.currency, self.lang)
        return money(value, self.contract.currency, self.lang)

    def date(self, day: datetime.date) -> str:
        return date(day, self.lang)

    def period(self, p: m.Period) -> str:
        return period(p.start, p.end, self.lang)

    def period_named(self, series: str | None, name: str) -> str:
        """The period called `name` (in an outcome or scenario file) as its dates."""
        for s in ([self.contract.series[series]] if series in self.contract.series else self.contract.series.values()):
            for p in s.periods:
                if p.name == name:
                    return self.period(p)
        return name

    def value(self, value, kind: str | None) -> str:
        if isinstance(value, bool):
            return self.w["true" if value else "false"]
        if isinstance(value, datetime.date):
            return self.date(value)
        if kind == MONEY:
            return self.money(value)
        if kind == SHARE:
            return percent(value, self.lang)
        if kind == DAYS:
            return self.w["days"].format(n=number(value, self.lang)).replace(" ", NBSP)
        return number(value, self.lang)

    def constant(self, e: m.Expr) -> Fraction | None:
        """The value of an expression fixed at signing (constants, investments, cohort sizes), else None."""
        from ..compiler import NotConstant, constant_value
        from ..evaluate import EvaluationError

        c = self.contract
        constants = {n: i.amount for n, i in c.investments.items()}
        constants.update({n: Fraction(k.size) for n, k in c.cohorts.items()})
        try:
            value = constant_value(e, c.definitions, constants)
        except (NotConstant, EvaluationError, ArithmeticError):  # depends on outcomes, or cannot be computed
            return None
        return None if isinstance(value, bool) or not isinstance(value, (int, Fraction)) else Fraction(value)

    def condition(self, e: m.Expr) -> str:
        """A yes/no expression as a clause that can follow "om"/"if": a yes/no value alone reads
        "villkoret ”X” är uppfyllt", its negation "villkoret ”X” inte är uppfyllt"."""
        if isinstance(e, (m.Input, m.Var)) and _is_bool(e):
            return self.w["holds"].format(a=self.label(e.name))
        if isinstance(e, m.Op) and e.op == "not" and isinstance(e.args[0], (m.Input, m.Var)) and _is_bool(e.args[0]):
            return self.w["fails"].format(a=self.label(e.args[0].name))
        if isinstance(e, m.Op) and e.op in ("and", "or"):
            parts = [self.condition(a) if not (isinstance(a, m.Op) and a.op in ("and", "or") and a.op != e.op)
                     else f"({self.condition(a)})" for a in e.args]
            return f" {self.w[e.op]} ".join(parts)
        return self.expr(e)

    def _bounds(self, e: m.Expr) -> tuple[m.Expr, list[m.Expr], list[m.Expr], bool, str]:
        """(quantity, lower bounds, upper bounds, ordered) of a nest of min/max: `min(max(x, a), b)` is
        x between a and b. `ordered` is False when the bounds could cross (not all constants), so the
        text must say which applies last."""
        lows: list[m.Expr] = []
        highs: list[m.Expr] = []
        order: list[str] = []
        while isinstance(e, m.Op) and e.op in ("min", "max"):
            args = list(e.args)
            pick = next((i for i, a in enumerate(args) if not isinstance(a, m.Const)), 0)
            base = args.pop(pick)
            (highs if e.op == "min" else lows)[0:0] = args
            order.append(e.op)
            e = base
        crossing = False
        if lows and highs:
            low, high = [self.constant(b) for b in lows], [self.constant(b) for b in highs]
            crossing = None in low + high or max(low) > min(high)
        return e, lows, highs, not crossing, order[0] if order else ""

    def expr(self, e: m.Expr, outer: int = 0) -> str:
        w = self.w
        if isinstance(e, m.Const):
            return self.value(e.value, e.ty.kind)
        if isinstance(e, (m.Input, m.Var, m.PaymentRef)):
            return self.label(e.name)
        if isinstance(e, m.Total):
            return w["total"]
        if isinstance(e, m.Cond):
            text = w["if"].format(c=self.condition(e.cond), t=self.expr(e.then, 1), o=self.expr(e.otherwise, 1))
            return f"({text})" if outer else text
        if isinstance(e, m.Sum):
            if e.series != e.operand.ty.series:  # issue 15: over one of two series
                return w["sum_over"].format(a=self.expr(e.operand, 8), s=self.label(e.series))
            return w["sum"].format(a=self.expr(e.operand, 8))
        if isinstance(e, m.At):  # issue 15
            return w["at"].format(a=self.expr(e.operand, 8), p=self.period_named(e.series, e.period))
        if isinstance(e, m.Steps):
            kind = e.subject.ty.kind
            rows = [w["below"].format(t=self.value(e.thresholds[0], kind), v=self.expr(e.below, 1))]
            rows += [w["from"].format(t=self.value(t, kind), v=self.expr(v, 1)) for t, v in zip(e.thresholds, e.values)]
            return w["tiers"].format(x=self.expr(e.subject, 8), rows="; ".join(rows))
        if isinstance(e, m.Interp):
            kind = e.subject.ty.kind
            points = [f"({self.value(x, kind)}, {self.value(y, e.ty.kind)})" for x, y in zip(e.xs, e.ys)]
            return w["interp"].format(x=self.expr(e.subject, 8), points=", ".join(points))
        assert isinstance(e, m.Op)
        op = e.op
        if op in _PERIODIC:  # issue 15
            return self._periodic(e)
        if op in ("min", "max"):
            base, lows, highs, ordered, outermost = self._bounds(e)
            x = self.expr(base, 1)
            if ordered or not (lows and highs):
                bounds = [w["at_least"].format(a=listing([self.expr(a, 2) for a in lows], self.lang))] if lows else []
                bounds += [w["at_most"].format(a=listing([self.expr(a, 2) for a in highs], self.lang))] if highs else []
                text = w["bounded"].format(x=x, bounds=f" {w['and']} ".join(bounds))
            else:  # the bound applied last wins where they cross: say which that is
                key = "then_at_most" if outermost == "min" else "then_at_least"
                text = w[key].format(x=x, low=w["at_least"].format(a=listing([self.expr(a, 2) for a in lows], self.lang)),
                                     high=w["at_most"].format(a=listing([self.expr(a, 2) for a in highs], self.lang)))
            return f"({text})" if outer > 1 else text
        if op == "abs":
            return w["abs"].format(a=self.expr(e.args[0], 8))
        mine = _PRECEDENCE.get(op, 8)
        if op in ("neg", "not"):
            text = w[op].format(a=self.expr(e.args[0], mine))
        elif op in ("<", "<=", ">", ">=", "==", "!=", "of"):
            text = w[op].format(a=self.expr(e.args[0], mine), b=self.expr(e.args[1], mine + 1))
        else:  # a left-leaning chain of operators of this precedence (a flat sum), read without recursion
            rights, node = [], e
            while isinstance(node, m.Op) and len(node.args) == 2 and node.op in w and \
                    node.op not in ("<", "<=", ">", ">=", "==", "!=", "of") and _PRECEDENCE.get(node.op, 8) == mine:
                rights.append(f"{w[node.op]} {self.expr(node.args[1], mine + 1)}")
                node = node.args[0]
            text = " ".join([self.expr(node, mine), *reversed(rights)])
        return f"({text})" if mine < outer else text

    def _periodic(self, e: m.Op) -> str:
        """The period's own values and other periods (issue 15) in words."""
        w, op = self.w, e.op
        if not e.args:
            return w[op]
        a = self.expr(e.args[0], 8)
        if isinstance(e.args[0], m.PaymentRef):  # what a payment was paid so far
            return w[f"paid_{op}"].format(a=a)
        if op == "previous":
            first = e.args[1]
            if isinstance(first, m.Const) and first.value == 0 and first.ty.kind != BOOL:
                return w["previous"].format(a=a)
            return w["previous_first"].format(a=a, d=self.expr(first, 1))
        return w[op].format(a=a)

    TABLE_ROWS = 4  # a table or interpolation with this many rows is printed as a table, not a sentence

    def as_table(self, e: m.Expr) -> dict | None:
        """A step table or interpolation that makes up a whole formula, as a table the sentence refers
        to ("enligt trappan för ”X” i tabellen nedan"): {"ref", "headers", "rows"}; None otherwise."""
        w = self.w
        if isinstance(e, m.Steps) and len(e.thresholds) + 1 >= self.TABLE_ROWS:
            kind = e.subject.ty.kind
            rows = [(w["below_head"].format(t=self.value(e.thresholds[0], kind)), self.expr(e.below, 1))]
            rows += [(w["from_head"].format(t=self.value(t, kind)), self.expr(v, 1)) for t, v in zip(e.thresholds, e.values)]
            ref = w["tiers_table"].format(x=self.expr(e.subject, 8))
        elif isinstance(e, m.Interp) and len(e.xs) >= self.TABLE_ROWS:
            kind = e.subject.ty.kind
            rows = [(self.value(x, kind), self.value(y, e.ty.kind)) for x, y in zip(e.xs, e.ys)]
            ref = w["interp_table"].format(x=self.expr(e.subject, 8))
        else:
            return None
        return {"ref": ref, "headers": [self.expr(e.subject, 8), w["value_head"]], "rows": rows}

    def kind(self, ty) -> str:
        return self.w["kinds"][ty.kind].format(cur=self.contract.currency)

    def roles(self, roles) -> str:
        return listing([self.w["roles"][r] for r in roles], self.lang)
