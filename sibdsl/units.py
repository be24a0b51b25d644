"""Types and units of the language and the rules for combining them.

A type is a kind (money, share, count, number, days, date, bool) plus, for money, the
currency, plus the period series a value is indexed by (`per cohorts`), if any.
`combine` gives the result of an operator or the reason it is not allowed.
"""

from __future__ import annotations

import attrs

from .syntax import SEP

MONEY, SHARE, COUNT, NUMBER, DAYS, DATE, BOOL = "money", "share", "count", "number", "days", "date", "bool"

# measure types an author may write, and what they mean
MEASURE_TYPES = {
    "money": MONEY,
    "share": SHARE,
    "percentage": SHARE,
    "count": COUNT,
    "number": NUMBER,
    "days": DAYS,
    "date": DATE,
    "boolean": BOOL,
    "yesno": BOOL,
}

KIND_NAMES = {
    MONEY: "money",
    SHARE: "a share (percentage)",
    COUNT: "a count",
    NUMBER: "a number",
    DAYS: "a number of days",
    DATE: "a date",
    BOOL: "a yes/no value",
}


@attrs.frozen
class Type:
    kind: str
    currency: str | None = None
    series: str | None = None

    def describe(self) -> str:
        text = KIND_NAMES[self.kind]
        if self.kind == MONEY and self.currency:
            text = f"money ({self.currency})"
        if self.series:
            text += f" per {self.series}"
        return text

    def plain(self) -> Type:
        return attrs.evolve(self, series=None)

    @property
    def numeric(self) -> bool:
        return self.kind in (MONEY, SHARE, COUNT, NUMBER, DAYS)


class UnitError(Exception):
    """The operator is not allowed for these types: code and message for a diagnostic."""

    def __init__(self, code: str, message: str, hint: str = ""):
        super().__init__(message)
        self.code, self.message, self.hint = code, message, hint


def within(inner: str | None, outer: str | None) -> bool:
    """Whether a value per `inner` can be read in a period of `outer`: it has no periods, or the same
    series, or (issue 15) `outer` is two series `A × B` and `inner` one of them — a value per cohort
    is read in each cell of its cohort."""
    return not inner or inner == outer or (outer is not None and SEP in outer and inner in outer.split(SEP))


def join_series(a: Type, b: Type) -> str | None:
    if within(a.series, b.series):
        return b.series or a.series
    if within(b.series, a.series):
        return a.series
    if a.series and b.series and a.series != b.series:
        raise UnitError(
            "E307",
            f"values per `{a.series}` and per `{b.series}` cannot be combined",
            "combine values of the same period series, or sum one of them with sum(…)",
        )
    return a.series or b.series


_DIMENSIONLESS = (SHARE, NUMBER)


def _same_money(a: Type, b: Type) -> None:
    if a.currency != b.currency:
        raise UnitError("E302", f"cannot combine {a.currency} with {b.currency}",
                        "a contract is written in one currency")


def combine(op: str, a: Type, b: Type) -> Type:
    """Result type of `a op b` for + - * / of; raises UnitError."""
    series = join_series(a, b)
    k1, k2 = a.kind, b.kind

    def result(kind: str, currency: str | None = None) -> Type:
        return Type(kind, currency, series)

    if op in ("+", "-"):
        if k1 == MONEY and k2 == MONEY:
            _same_money(a, b)
            return result(MONEY, a.currency)
        if k1 == k2 and k1 in (SHARE, COUNT, NUMBER, DAYS):
            return result(k1)
        if {k1, k2} == {SHARE, NUMBER}:
            return result(SHARE)
        if {k1, k2} == {COUNT, NUMBER}:
            return result(NUMBER)
        if k1 == DATE and k2 == DAYS:
            return result(DATE)
        if op == "+" and k1 == DAYS and k2 == DATE:
            return result(DATE)
        if op == "-" and k1 == DATE and k2 == DATE:
            return result(DAYS)
        hint = ""
        if MONEY in (k1, k2) and NUMBER in (k1, k2):
            hint = "write the amount with its currency, e.g. `5 000 SEK`"
        elif MONEY in (k1, k2) and SHARE in (k1, k2):
            hint = "to take a percentage of an amount, write `40 % of amount`"
        elif DAYS in (k1, k2) and NUMBER in (k1, k2):
            hint = "write a duration with its unit, e.g. `90 days`"
        raise UnitError("E301", f"cannot {'add' if op == '+' else 'subtract'} "
                        f"{b.describe()} {'to' if op == '+' else 'from'} {a.describe()}", hint)

    if op in ("*", "of"):
        if op == "of" and k1 not in _DIMENSIONLESS:
            raise UnitError("E301", f"`of` takes a share on its left, not {a.describe()}",
                            "write `40 % of amount`")
        if COUNT in (k1, k2) and SHARE in (k1, k2):
            raise UnitError(
                "E303", "a percentage of a count is not a number of people or events",
                "compare ratios instead, e.g. `events / baseline_events <= 90 %`",
            )
        kinds = {k1, k2}
        if MONEY in kinds:
            other = k2 if k1 == MONEY else k1
            if other == MONEY:
                raise UnitError("E301", "cannot multiply money by money")
            if other in (SHARE, NUMBER, COUNT, DAYS):  # days: a day rate × a number of days
                return result(MONEY, a.currency if k1 == MONEY else b.currency)
        if DAYS in kinds:
            other = k2 if k1 == DAYS else k1
            if other in _DIMENSIONLESS:
                return result(DAYS)
        if kinds <= {SHARE, NUMBER}:
            return result(SHARE if SHARE in kinds else NUMBER)
        if kinds == {COUNT}:
            return result(COUNT)
        if kinds == {COUNT, NUMBER}:
            return result(NUMBER)
        raise UnitError("E301", f"cannot multiply {a.describe()} by {b.describe()}")

    if op == "/":
        if k1 == MONEY and k2 == MONEY:
            _same_money(a, b)
            return result(SHARE)
        if k1 == MONEY and k2 in (SHARE, NUMBER, COUNT, DAYS):  # days: an amount per day
            return result(MONEY, a.currency)
        if k1 == k2 and k1 in (COUNT, DAYS, SHARE):
            return result(SHARE)
        if k1 == DAYS and k2 in _DIMENSIONLESS:
            return result(DAYS)
        if k1 in (SHARE, NUMBER, COUNT) and k2 in (SHARE, NUMBER, COUNT):
            return result(SHARE if SHARE in (k1, k2) else NUMBER)
        raise UnitError("E301", f"cannot divide {a.describe()} by {b.describe()}")
    raise AssertionError(op)


def comparable(a: Type, b: Type) -> bool:
    if a.kind == MONEY and b.kind == MONEY:
        return a.currency == b.currency
    if a.kind == b.kind:
        return True
    return {a.kind, b.kind} in ({SHARE, NUMBER}, {COUNT, NUMBER})


def unify(a: Type, b: Type) -> Type | None:
    """The common type of two branches / min-max arguments, or None."""
    if not (within(a.series, b.series) or within(b.series, a.series)):
        return None
    series = b.series if within(a.series, b.series) else a.series
    if not comparable(a, b):
        return None
    if a.kind == b.kind:
        return attrs.evolve(a, series=series)
    kind = a.kind if a.kind != NUMBER else b.kind
    return Type(kind, None, series)
