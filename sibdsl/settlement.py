"""The result of evaluating a contract: payment lines, each with its clause and its steps."""

from __future__ import annotations

import datetime
import functools
from decimal import Decimal

import attrs

from .diagnostics import Diagnostic
from .model import ClauseRef


@attrs.frozen
class Step:
    """One thing that happened to a line: computed, rounded, gate passed, floor lifted, cap cut…"""

    kind: str
    clause: ClauseRef
    before: Decimal | None
    after: Decimal
    detail: str = ""


@attrs.frozen
class Line:
    payment: str
    clause: ClauseRef
    payer: str
    recipient: str
    period: str | None
    due: datetime.date | None
    amount: Decimal
    steps: tuple[Step, ...]


@attrs.frozen(slots=False)
class InvestorReturn:
    investor: str
    invested: Decimal
    received: Decimal
    net: Decimal
    total_return: Decimal | None  # net / invested
    annual_simple: Decimal | None  # total_return / years, from the first investment to the last payment
    limit: Decimal | None  # the most the return limits allowed the investor to receive
    cashflows: tuple = attrs.field(default=(), eq=False, repr=False)  # (date, amount): out negative, in positive

    @functools.cached_property
    def irr(self) -> Decimal | None:
        """The annual internal rate of return of the investor's cash flows (sibdsl/returns.py),
        computed when first asked for: reports show it, a settlement in a loop need not pay for it."""
        from .returns import irr

        return irr(self.cashflows)


@attrs.frozen
class GuaranteeCheck:
    clause: ClauseRef
    holds: bool | None  # None: see `reason`
    reason: str = ""  # why there is no verdict: "monotone", "condition"


@attrs.frozen
class Settlement:
    contract: str
    currency: str
    lines: tuple[Line, ...]
    total: Decimal
    by_recipient: dict[str, Decimal]
    by_payer: dict[str, Decimal]
    returns: tuple[InvestorReturn, ...]
    values: dict[str, object]  # every definition's value, for the audit trail
    guarantees: tuple[GuaranteeCheck, ...]
    diagnostics: tuple[Diagnostic, ...] = ()
