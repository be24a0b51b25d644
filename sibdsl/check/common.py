"""What the stages of the checker share: the roles, languages and functions of the language, the
types of literals, how an untypable expression is signalled, and an entry of the name table."""

from __future__ import annotations

import attrs

from .. import model as m
from ..diagnostics import did_you_mean
from ..source import Span
from ..units import (
    BOOL,
    COUNT,
    DATE,
    DAYS,
    NUMBER,
    SHARE,
    Type,
)

GUARANTEE_SERIES_HINT = ("a guarantee is about the whole settlement: add the periods up with sum(…), "
                          "e.g. `sum(if met then 1 else 0) == 0` for \"no period met\"")

ROLES = ("payer", "investor", "provider", "evaluator", "intermediary")
RECEIVING_ROLES = ("investor", "provider", "intermediary")
PAYING_ROLES = ("payer",)
LANGUAGES = ("sv", "en")
FUNCTIONS = {"min": (2, None), "max": (2, None), "abs": (1, 1), "sum": (1, 1)}
DAY_UNITS = ("day", "days")

T_BOOL, T_DATE, T_NUMBER, T_SHARE, T_COUNT, T_DAYS = (
    Type(BOOL), Type(DATE), Type(NUMBER), Type(SHARE), Type(COUNT), Type(DAYS),
)


class Invalid(Exception):
    """An expression could not be typed; its diagnostic is already recorded."""


@attrs.frozen
class Entry:  # frozen: the memo's checks share an unmoved declaration's entry (names.collect_names)
    kind: str  # party, series, cohort, investment, measure, define, baseline, payment, clause
    node: object
    span: Span
    clause: m.ClauseRef


def investment_named(checker, ident, investments: dict, code: str, said: str, declare: str) -> m.Investment | None:
    """The investment a clause names (a cover's, a coupon's, a repayment's), or None after the error
    `code`: "<said> `NAME`, which is a KIND, not an investment", with a did-you-mean, the list of
    investments, or (there are none) `declare`: how to declare the one the clause needs."""
    inv = investments.get(ident.name)
    if inv is None:
        names = sorted(investments)
        known = checker.names.get(ident.name)
        which = f"which is a {known.kind}, not an investment" if known else "but no investment is called that"
        checker.error(code, f"{said} `{ident.name}`, {which}", ident.span, label="not an investment",
                      hint=did_you_mean(ident.name, names) or (f"investments: {', '.join(names)}" if names else declare))
    return inv
