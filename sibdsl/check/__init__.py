"""Syntax tree → checked model, in four stages, each a module: names (names.py), types and units
(types.py), lowering to the model (lower.py), contract rules (rules.py); common.py holds what they
share.

`check(tree, source)` returns `(model, diagnostics)`; `model` is None when an error was
found. Every error of the stage is collected before it returns (collect, then fail once). The
stages are the mixins of one `Checker`, which runs them in order (`Checker.run`): they share the
table of names, the definitions checked so far and the diagnostics.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import TYPE_CHECKING

from .. import model as m
from .. import syntax as s
from ..diagnostics import Diagnostic, Label, has_errors
from ..gcpause import paused
from ..source import Source, Span
from .assume import check_assumptions
from .cards import Cards
from .common import Entry
from .coupon import check_coupons
from .cover import check_covers
from .principal import check_principal
from .lower import Lower
from .names import Names
from .parameters import check_parameters
from .rules import Rules
from .time import Time
from .types import Types
from .waterfall import check_waterfalls

if TYPE_CHECKING:  # check/memo.py is imported by a check with a memo (the incremental one), not by `sibc check`
    from .memo import Frame, Kept, Memo

try:  # CPython's own SHA-256: the same digest as hashlib's, without loading OpenSSL (hashlib ≈ 11 M instructions)
    from _sha256 import sha256 as _sha256  # Python 3.11
except ImportError:  # pragma: no cover — 3.12 renamed it; a build without it has hashlib's
    try:
        from _sha2 import sha256 as _sha256
    except ImportError:
        from hashlib import sha256 as _sha256


@paused()
def check(tree: s.Contract, source: Source, memo: Memo | None = None) -> tuple[m.Contract | None, list[Diagnostic]]:
    """`memo`, kept by the caller for one document across its versions (incremental.Parser's),
    replays the definitions' checks that nothing changed since the last check (check/memo.py)."""
    far = _far_dates(tree, source)
    if far:  # refused before any stage (this one included) computes with them: no date overflows
        return None, far
    checker = Checker(tree, source, memo)
    contract = checker.run()
    if memo is not None:
        # one assignment: a check in another thread sees one or the other; the last check's are
        # kept as the older ones when they were made with the same declarations before the definitions
        memo.last = (checker.before, checker.kept, checker.last_kept if checker.memo_usable else {})
        memo.reused, memo.checked = checker.reused, checker.checked
    diagnostics = sorted(checker.diagnostics, key=lambda d: ((d.span.line, d.span.column) if d.span else (0, 0), d.code))
    return (None if has_errors(diagnostics) else contract), diagnostics


def _far_dates(tree: s.Contract, source: Source) -> list[Diagnostic]:
    """E111 for each date outside limits.MIN_YEAR–MAX_YEAR (`to 9999-12-31` + `due 1 days after
    end` overflowed Python's calendar in eval, render and verify); the tree is walked iteratively.
    Every date of the tree is written in its source as YYYY-MM-DD (the grammar's DATE): a source
    with no such text outside the years needs no walk (≈ 5 % of checking a large contract)."""
    from .. import limits

    if all(limits.MIN_YEAR <= int(year) <= limits.MAX_YEAR for year in _DATE_TEXT.findall(source.text)):
        return []
    return [Diagnostic("E111", f"the date {node.value.isoformat()} is outside the years a contract may use "
                       f"({limits.MIN_YEAR}–{limits.MAX_YEAR})", source, node.span,
                       hint="check the year; dates later computed from it (due dates, returns) must stay in "
                       "the calendar")
            for node in s.walk(tree)
            if isinstance(node, s.DateLit) and not limits.MIN_YEAR <= node.value.year <= limits.MAX_YEAR]


_DATE_TEXT = re.compile(r"(?=([0-9]{4})-[0-9]{2}-[0-9]{2})")  # the year of every date-like text, overlaps too


class Checker(Names, Types, Lower, Rules, Time, Cards):
    """The checker of one contract: the state its stages share, reporting, and the order of the stages."""

    def __init__(self, tree: s.Contract, source: Source, memo: Memo | None = None):
        self.tree = tree
        self.source = source
        self.diagnostics: list[Diagnostic] = []
        self.names: dict[str, Entry] = {}
        self.by_kind: dict[str, list[tuple[str, Entry]]] = {}  # kind → (name, entry), in the table's order
        self.definition_names: list[str] = []  # the definitions and baselines, in the table's order
        self.items_by_type: dict[type, list] | None = None  # syntax class → its items (items_of)
        # incremental checking (check/memo.py): the last check's definitions, and this one's
        self.memo = memo
        self.frames: list[Frame] = []  # the definitions being checked, innermost last, with what they read
        self.kept: dict[str, Kept] = {}
        self.reused = self.checked = 0
        self.names_key: tuple | None = None
        self.before: tuple = ()
        self.memo_usable = False
        self.last_kept: dict[str, Kept] = {}
        self.older_kept: dict[str, Kept] = {}  # the check's before the last (an edit undone replays them)
        self.currency = "SEK"
        self.languages: tuple[str, ...] = ()
        self.definitions: dict[str, m.Definition] = {}
        self.in_progress: list[str] = []
        self.used: set[str] = set()
        self.series: dict[str, m.Series] = {}
        self.clauses: dict[int, m.ClauseRef] = {}  # id(syntax node) → its clause
        self.inline_gates: list[m.Gate] = []
        self.measures: dict[str, m.Measure] = {}
        self.parameters: dict[str, m.Measure] = {}  # issue 17: a draft's negotiable terms
        self.constants: dict[str, Fraction] = {}  # investments and cohort sizes, fixed at signing
        self.hints: dict[tuple, str] = {}  # see missing_hint
        self.kept_checks = None  # check/memo.py, with a memo: imported once here, read by Lower's methods
        if memo is not None:
            from . import memo as kept_checks

            self.kept_checks = kept_checks
            self.names, self.used = kept_checks.Names(self.frames), kept_checks.Used(self.frames)
            before, self.last_kept, self.older_kept = memo.last
            self.before = kept_checks.before_items(tree)
            self.memo_usable = kept_checks.same(self.before, before)

    # ------------------------------------------------------------ reporting
    def error(self, code: str, message: str, span: Span | None, *, label: str = "", hint: str = "",
              labels: tuple[Label, ...] = (), notes: tuple[str, ...] = ()) -> None:
        self.diagnostics.append(Diagnostic(code, message, self.source, span, label=label, hint=hint,
                                           labels=labels, notes=notes))

    def also(self, span: Span, message: str) -> Label:
        return Label(self.source, span, message)

    # ------------------------------------------------------------ driver
    def run(self) -> m.Contract | None:
        header = self.check_header(self.tree.header)
        self.collect_names()
        parties = self.check_parties()
        term = self.check_term()
        series = self.check_series(term)
        measures = self.check_measures()  # first: every expression below may refer to a measure
        parameters = check_parameters(self)  # … or to a parameter (issue 17)
        cohorts = self.check_cohorts()
        investments = self.check_investments(parties)
        for name in self.definition_order():
            self.definition(name)
        payments = self.check_payments(parties, term)
        cards = self.check_rate_cards(parties, term, payments)  # issue 15: their measures and payments too
        coupons = check_coupons(self, investments, parties, payments)  # issue 14: each a payment too
        repayments, redemptions = check_principal(self, investments, parties, payments, term, coupons)  # issue 14: too
        payments = dict(sorted(payments.items(), key=lambda item: item[1].clause.line))  # source order
        tables = self.check_tables()
        gates = self.check_gates(payments)
        floors = self.check_floors(payments, parties)
        caps = self.check_caps(payments, parties)
        self.check_floor_cap(floors, caps)
        limits = self.check_return_limits(investments, payments, term, series)
        guarantees = self.check_guarantees()
        covers = check_covers(self, investments, parties)
        assumptions = check_assumptions(self)
        waterfalls = check_waterfalls(self, investments, parties, payments)
        self.check_unused(measures, payments)
        if not has_errors(self.diagnostics) and len(payments) - sum(len(c.outcomes) for c in cards.values()) - len(coupons) - len(repayments) - len(redemptions) != sum(
                e.kind == "payment" for e in self.names.values()):
            self.error("E900", "a payment was dropped without a diagnostic", self.source.span(0, 0),
                       hint="this is a bug in sibc; please report it with this contract")
        if header is None:
            return None
        title, ident, version, languages, currency, rounding, signed = header
        return m.Contract(
            title=title, id=ident, version=version, languages=languages, currency=currency,
            rounding=rounding, signed=signed, term=term, parties=parties, series=series,
            cohorts=cohorts, investments=investments, measures=measures,
            definitions=dict(self.definitions), payments=payments, gates=gates, floors=floors,
            caps=caps, return_limits=limits, guarantees=guarantees, sections=self.sections(),
            source_name=self.source.name, covers=covers, waterfalls=waterfalls, coupons=coupons,
            repayments=repayments, redemptions=redemptions,
            # surrogatepass: an editor may send a lone surrogate (issue 22 item 13); it hashes, it does not raise
            source_sha256=_sha256(self.source.text.encode("utf-8", "surrogatepass")).hexdigest(),
            tables=tables, rate_cards=cards, assumptions=assumptions, parameters=parameters,
        )
