"""The contract in words: every clause and formula as a sentence in Swedish or English.

The output is plain text; templates escape it for the output format. Amounts, percentages and
dates are written by `sibdsl.lang` (Babel): "12 000 000 kr", "8 procent", "1 januari 2016".
Names of measures and definitions appear as the contract's labels, in quotation marks, as
defined terms appear in a legal text: 60 procent av ”Besparing”.
"""

from __future__ import annotations

import datetime
from fractions import Fraction

from .. import model as m
from ..lang import format_date, format_money, format_number, format_percent
from ..units import BOOL, DATE, DAYS, MONEY, SHARE

W = {
    "sv": {
        "quote": ("”", "”"), "+": "plus", "-": "minus", "*": "gånger", "/": "delat med", "of": "{a} av {b}",
        "neg": "minus {a}", "not": "inte {a}", "and": "och", "or": "eller", "abs": "absolutbeloppet av {a}",
        "min": "det minsta av {items}", "max": "det största av {items}", "sum": "summan av {a} för alla perioder",
        "<": "{a} är mindre än {b}", "<=": "{a} är högst {b}", ">": "{a} är större än {b}", ">=": "{a} är minst {b}",
        "==": "{a} är lika med {b}", "!=": "{a} är skilt från {b}", "if": "om {c}: {t}, annars {o}",
        "tiers": "enligt trappan för {x}: {rows}", "below": "under {t}: {v}", "from": "från {t}: {v}",
        "interp": "linjärt mellan punkterna för {x}: {points}", "total": "den sammanlagda ersättningen",
        "true": "ja", "false": "nej", "list_and": "och", "days": "{n} dagar",
        "roles": {"payer": "betalare", "investor": "investerare", "provider": "utförare",
                  "intermediary": "mellanhand", "evaluator": "utvärderare"},
        "kinds": {MONEY: "belopp i {cur}", SHARE: "andel i procent", "count": "antal", "number": "tal",
                  DAYS: "antal dagar", DATE: "datum", BOOL: "ja eller nej"},
    },
    "en": {
        "quote": ("“", "”"), "+": "plus", "-": "minus", "*": "times", "/": "divided by", "of": "{a} of {b}",
        "neg": "minus {a}", "not": "not {a}", "and": "and", "or": "or", "abs": "the absolute value of {a}",
        "min": "the smallest of {items}", "max": "the largest of {items}", "sum": "the sum of {a} over all periods",
        "<": "{a} is less than {b}", "<=": "{a} is at most {b}", ">": "{a} is more than {b}", ">=": "{a} is at least {b}",
        "==": "{a} equals {b}", "!=": "{a} differs from {b}", "if": "if {c}: {t}, otherwise {o}",
        "tiers": "by the table for {x}: {rows}", "below": "below {t}: {v}", "from": "from {t}: {v}",
        "interp": "on straight lines between the points for {x}: {points}", "total": "the total payout",
        "true": "yes", "false": "no", "list_and": "and", "days": "{n} days",
        "roles": {"payer": "payer", "investor": "investor", "provider": "service provider",
                  "intermediary": "intermediary", "evaluator": "evaluator"},
        "kinds": {MONEY: "an amount in {cur}", SHARE: "a percentage", "count": "a count", "number": "a number",
                  DAYS: "a number of days", DATE: "a date", BOOL: "yes or no"},
    },
}

_PRECEDENCE = {"or": 1, "and": 2, "not": 3, "<": 4, "<=": 4, ">": 4, ">=": 4, "==": 4, "!=": 4,
               "+": 5, "-": 5, "*": 6, "/": 6, "of": 6, "neg": 7}


def listing(items: list[str], lang: str) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {W[lang]['list_and']} " + items[-1]


class Words:
    """Formulas and values of one contract in one language."""

    def __init__(self, contract: m.Contract, lang: str):
        self.contract, self.lang, self.w = contract, lang, W[lang]

    def quoted(self, text: str) -> str:
        left, right = self.w["quote"]
        return f"{left}{text}{right}"

    def label(self, name: str) -> str:
        c = self.contract
        for table in (c.measures, c.definitions, c.payments, c.investments, c.cohorts):
            item = table.get(name)
            if item is not None and item.label is not None:
                return self.quoted(item.label.get(self.lang))
        return self.quoted(name)

    def party(self, name: str) -> str:
        party = self.contract.parties.get(name)
        return party.label.get(self.lang) if party is not None else name

    def money(self, value) -> str:
        return format_money(Fraction(value), self.contract.currency, self.lang, plain=True)

    def value(self, value, kind: str | None) -> str:
        if isinstance(value, bool):
            return self.w["true" if value else "false"]
        if isinstance(value, datetime.date):
            return format_date(value, self.lang)
        if kind == MONEY:
            return self.money(value)
        if kind == SHARE:
            return format_percent(Fraction(value), self.lang, plain=True)
        if kind == DAYS:
            return self.w["days"].format(n=format_number(Fraction(value), self.lang, plain=True))
        return format_number(Fraction(value), self.lang, plain=True)

    def expr(self, e: m.Expr, outer: int = 0) -> str:
        w = self.w
        if isinstance(e, m.Const):
            return self.value(e.value, e.ty.kind)
        if isinstance(e, (m.Input, m.Var, m.PaymentRef)):
            return self.label(e.name)
        if isinstance(e, m.Total):
            return w["total"]
        if isinstance(e, m.Cond):
            text = w["if"].format(c=self.expr(e.cond, 1), t=self.expr(e.then, 1), o=self.expr(e.otherwise, 1))
            return f"({text})" if outer else text
        if isinstance(e, m.Sum):
            return w["sum"].format(a=self.expr(e.operand, 8))
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
        if op in ("min", "max"):
            return w[op].format(items=listing([self.expr(a, 1) for a in e.args], self.lang))
        if op == "abs":
            return w["abs"].format(a=self.expr(e.args[0], 8))
        mine = _PRECEDENCE.get(op, 8)
        if op in ("neg", "not"):
            text = w[op].format(a=self.expr(e.args[0], mine))
        elif op in ("<", "<=", ">", ">=", "==", "!=", "of"):
            text = w[op].format(a=self.expr(e.args[0], mine), b=self.expr(e.args[1], mine + 1))
        else:
            text = f"{self.expr(e.args[0], mine)} {w[op]} {self.expr(e.args[1], mine + 1)}"
        return f"({text})" if mine < outer else text

    def kind(self, ty) -> str:
        return self.w["kinds"][ty.kind].format(cur=self.contract.currency)

    def roles(self, roles) -> str:
        return listing([self.w["roles"][r] for r in roles], self.lang)
