"""Syntax tree → checked model: names, types and units, contract rules.

`check(tree, source)` returns `(model, diagnostics)`; `model` is None when an error was
found. Every error of the stage is collected before it returns (collect, then fail once).
"""

from __future__ import annotations

import hashlib
import re
from decimal import Decimal
from fractions import Fraction

import attrs

from . import limits
from . import model as m
from . import syntax as s
from .diagnostics import Diagnostic, Label, did_you_mean, has_errors
from .gcpause import paused
from .source import Source, Span
from .units import (
    BOOL,
    COUNT,
    DATE,
    DAYS,
    MEASURE_TYPES,
    MONEY,
    NUMBER,
    SHARE,
    Type,
    UnitError,
    combine,
    comparable,
    unify,
)
from .values import ROUNDING_MODES, Rounding

_GUARANTEE_SERIES_HINT = ("a guarantee is about the whole settlement: add the periods up with sum(…), "
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


class _Invalid(Exception):
    """An expression could not be typed; its diagnostic is already recorded."""


@attrs.define
class _Entry:
    kind: str  # party, series, cohort, investment, measure, define, baseline, payment, clause
    node: object
    span: Span
    clause: m.ClauseRef


@paused()
def check(tree: s.Contract, source: Source) -> tuple[m.Contract | None, list[Diagnostic]]:
    far = _far_dates(tree, source)
    if far:  # refused before any stage (this one included) computes with them: no date overflows
        return None, far
    checker = _Checker(tree, source)
    contract = checker.run()
    diagnostics = sorted(checker.diagnostics, key=lambda d: (d.span.start if d.span else -1, d.code))
    return (None if has_errors(diagnostics) else contract), diagnostics


def _far_dates(tree: s.Contract, source: Source) -> list[Diagnostic]:
    """E111 for each date outside limits.MIN_YEAR–MAX_YEAR (`to 9999-12-31` + `due 1 days after
    end` overflowed Python's calendar in eval, render and verify); the tree is walked iteratively."""
    found, stack = [], [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, s.DateLit):
            if not limits.MIN_YEAR <= node.value.year <= limits.MAX_YEAR:
                found.append(Diagnostic(
                    "E111", f"the date {node.value.isoformat()} is outside the years a contract may use "
                    f"({limits.MIN_YEAR}–{limits.MAX_YEAR})", source, node.span,
                    hint="check the year; dates later computed from it (due dates, returns) must stay in the calendar"))
        elif isinstance(node, (tuple, list)):
            stack.extend(reversed(node))
        elif attrs.has(type(node)) and not isinstance(node, Span):
            stack.extend(getattr(node, f.name) for f in reversed(attrs.fields(type(node))))
    return found


class _Checker:
    def __init__(self, tree: s.Contract, source: Source):
        self.tree = tree
        self.source = source
        self.diagnostics: list[Diagnostic] = []
        self.names: dict[str, _Entry] = {}
        self.currency = "SEK"
        self.languages: tuple[str, ...] = ()
        self.definitions: dict[str, m.Definition] = {}
        self.in_progress: list[str] = []
        self.used: set[str] = set()
        self.series: dict[str, m.Series] = {}
        self.clauses: dict[int, m.ClauseRef] = {}  # id(syntax node) → its clause
        self.inline_gates: list[m.Gate] = []
        self.measures: dict[str, m.Measure] = {}
        self.constants: dict[str, Fraction] = {}  # investments and cohort sizes, fixed at signing
        self.hints: dict[tuple, str] = {}  # see missing_hint

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
        cohorts = self.check_cohorts()
        investments = self.check_investments(parties)
        for name in self.definition_order():
            self.definition(name)
        payments = self.check_payments(parties, term)
        gates = self.check_gates(payments)
        floors = self.check_floors(payments, parties)
        caps = self.check_caps(payments)
        self.check_floor_cap(floors, caps)
        limits = self.check_return_limits(investments)
        guarantees = self.check_guarantees()
        self.check_unused(measures, payments)
        if not has_errors(self.diagnostics) and len(payments) != sum(
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
            source_name=self.source.name,
            source_sha256=hashlib.sha256(self.source.text.encode("utf-8", "surrogatepass")).hexdigest(),
        )

    # ------------------------------------------------------------ header
    def check_header(self, header: s.Header | None):
        if header is None:
            self.error("E401", "the contract has no header", self.source.span(0, 0),
                       hint='start the file with `contract "Title"` and its currency and rounding rule')
            return None
        fields: dict[str, s.HeaderField] = {}
        for f in header.fields:
            if f.key in fields:
                self.error("E402", f"`{f.key}` is given twice in the header", f.span,
                           labels=(self.also(fields[f.key].span, "first given here"),),
                           hint="keep one of them")
            else:
                fields[f.key] = f
        currency = "SEK"
        if "currency" not in fields:
            self.error("E401", "the header does not say the contract's currency", header.span,
                       hint="add e.g. `currency SEK` to the header")
        else:
            ident = fields["currency"].value
            currency = ident.name
            if not re.fullmatch(r"[A-Z]{3}", currency):
                self.error("E401", f"`{currency}` is not a three-letter currency code", ident.span,
                           hint="use an ISO 4217 code such as SEK, EUR, GBP or USD")
        self.currency = currency
        languages: tuple[str, ...] = ("en",)
        if "languages" in fields:
            idents = fields["languages"].value
            for ident in idents:
                if ident.name not in LANGUAGES:
                    self.error("E208", f"unknown language `{ident.name}`", ident.span,
                               hint=did_you_mean(ident.name, LANGUAGES) or
                               f"supported languages: {', '.join(LANGUAGES)}")
            languages = tuple(i.name for i in idents)  # unknown ones included: reported once, above
        self.languages = languages
        rounding = Rounding()
        if "rounding" not in fields:
            self.error("E401", "the header does not state a rounding rule", header.span,
                       hint="add e.g. `rounding 1 SEK half up`: amounts are rounded to whole kronor")
        else:
            r: s.Rounding = fields["rounding"].value
            if r.currency.name != currency:
                self.error("E302", f"the rounding rule is in {r.currency.name}, the contract in {currency}",
                           r.currency.span, hint=f"write `rounding {r.step} {currency} {r.mode}`")
            if r.step <= 0:
                self.error("E410", "the rounding step must be greater than zero", r.span,
                           hint=f"e.g. `rounding 1 {currency} half up` or `rounding 0.01 {currency} half up`")
            else:
                rounding = Rounding(r.step, r.mode)
            assert r.mode in ROUNDING_MODES
        self.check_text(header.title)
        signed = fields["signed"].value.value if "signed" in fields else None
        return (
            header.title,
            fields["id"].value if "id" in fields else None,
            fields["version"].value if "version" in fields else None,
            languages, currency, rounding, signed,
        )

    def check_text(self, text: s.Text | None) -> None:
        if text is None:
            return
        for (tag, _), span in zip(text.translations, text.tag_spans):
            if tag not in self.languages[1:]:
                declared = ", ".join(self.languages)
                self.error("E208", f"a translation to `{tag}`, which is not a further language of the contract",
                           span, hint=f"the header declares `languages {declared}`; the first one is the "
                           "language of the main text")

    # ------------------------------------------------------------ names
    def collect_names(self) -> None:
        heading = ""
        for item in self.tree.items:
            if isinstance(item, s.Heading):
                heading = f"§ {item.number} {item.title.text}"
                self.check_text(item.title)
                continue
            if isinstance(item, s.Prose):
                self.check_text(item.text)
                continue
            kind, ident, label = _declaration(item)
            self.check_text(label)
            if ident is None:
                continue
            clause = m.ClauseRef(kind, ident.name, label, heading, item.span.line)
            self.clauses[id(item)] = clause
            if ident.name in self.names:
                first = self.names[ident.name]
                self.error("E202", f"`{ident.name}` is defined twice", ident.span,
                           label="defined again here",
                           labels=(self.also(first.span, f"first defined here (as a {first.kind})"),),
                           hint="give each party, measure, definition, payment and clause its own name")
                continue
            self.names[ident.name] = _Entry(kind, item, ident.span, clause)
        # unnamed clauses get a stable name from their kind and position
        counters: dict[str, int] = {}
        heading = ""
        for item in self.tree.items:
            if isinstance(item, s.Heading):
                heading = f"§ {item.number} {item.title.text}"
            elif isinstance(item, (s.Gate, s.Floor, s.Cap)) and item.decl is None:
                kind = type(item).__name__.lower()
                counters[kind] = counters.get(kind, 0) + 1
                clause = m.ClauseRef(kind, f"{kind}_{counters[kind]}", None, heading, item.span.line)
                self.clauses[id(item)] = clause

    def lookup(self, ident: s.Ident | s.Ref, wanted: tuple[str, ...], what: str) -> _Entry | None:
        entry = self.names.get(ident.name)
        if entry is None:
            self.error("E201", f"no {what} is called `{ident.name}`", ident.span, label="not defined",
                       hint=self.missing_hint(ident.name, wanted, what))
            return None
        if entry.kind not in wanted:
            self.error("E204", f"`{ident.name}` is a {entry.kind}, not a {what}", ident.span,
                       labels=(self.also(entry.span, f"the {entry.kind} is declared here"),),
                       hint=_kind_hint(entry.kind, what))
            return None
        return entry

    def missing_hint(self, name: str, wanted: tuple[str, ...], what: str) -> str:
        """The hint for a name nobody declared. Remembered per name: "did you mean" compares it with
        every declared name, and a name used in thousands of places made checking quadratic."""
        key = (name, wanted, what)
        if key not in self.hints:
            candidates = [n for n, e in self.names.items() if e.kind in wanted]
            hint = did_you_mean(name, candidates)
            if not hint and what == "value":
                hint = (f"declare it first, e.g. `measure {name}: boolean` for a measured outcome "
                        f"or `define {name} = …` for a derived value")
            elif not hint:
                plural = {"party": "parties", "period series": "period series"}.get(what, what + "s")
                hint = (f"the {plural} are: {', '.join(sorted(candidates)[:8])}" if candidates
                        else f"declare the {what} first")
            self.hints[key] = hint
        return self.hints[key]

    # ------------------------------------------------------------ parties, term, periods, cohorts
    def check_parties(self) -> dict[str, m.Party]:
        parties = {}
        for name, entry in self.names.items():
            if entry.kind != "party":
                continue
            node: s.Party = entry.node
            roles = []
            for role in node.roles:
                if role.name not in ROLES:
                    self.error("E205", f"unknown role `{role.name}`", role.span,
                               hint=did_you_mean(role.name, ROLES) or f"roles are: {', '.join(ROLES)}")
                elif role.name in roles:
                    self.error("E402", f"role `{role.name}` is given twice", role.span)
                else:
                    roles.append(role.name)
            parties[name] = m.Party(name, node.label, tuple(roles), entry.clause)
        return parties

    def _items(self, kind):
        return [i for i in self.tree.items if isinstance(i, kind)]

    def check_term(self):
        terms = self._items(s.Term)
        for extra in terms[1:]:
            self.error("E402", "the term is given twice", extra.span,
                       labels=(self.also(terms[0].span, "first given here"),))
        if not terms:
            return None
        t = terms[0]
        if t.end.value < t.start.value:
            self.error("E409", "the term ends before it starts", t.span,
                       hint=f"swap the dates: `term {t.end.value} to {t.start.value}`")
        return (t.start.value, t.end.value)

    def check_series(self, term) -> dict[str, m.Series]:
        result = {}
        for name, entry in self.names.items():
            if entry.kind != "series":
                continue
            node: s.Periods = entry.node
            periods, seen = [], {}
            if len(node.periods) > limits.MAX_PERIODS:
                self.error("E112", f"a series of {len(node.periods):,} periods; the limit is {limits.MAX_PERIODS:,}",
                           node.span)
                continue
            for p in node.periods:
                if p.end.value < p.start.value:
                    self.error("E409", f"period `{p.name.name}` ends before it starts", p.span,
                               hint="periods are written `name START to END`")
                if p.name.name in seen:
                    self.error("E202", f"period `{p.name.name}` is defined twice in `{name}`", p.name.span,
                               labels=(self.also(seen[p.name.name].span, "first defined here"),))
                    continue
                for other in seen.values():
                    if p.start.value <= other.end.value and other.start.value <= p.end.value:
                        self.error("E405", f"period `{p.name.name}` overlaps period `{other.name.name}`",
                                   p.span, labels=(self.also(other.span, "overlapping period"),),
                                   hint="periods of one series must not share a day; "
                                   "declare overlapping periods in separate series")
                if term and (p.start.value < term[0] or p.end.value > term[1]):
                    wholly = p.end.value < term[0] or p.start.value > term[1]
                    self.error("W403", f"period `{p.name.name}` lies {'' if wholly else 'partly '}outside "
                               f"the term {term[0]} to {term[1]}", p.span,
                               hint="check the dates of the period and of the term")
                seen[p.name.name] = p
                periods.append(m.Period(p.name.name, p.start.value, p.end.value))
            periods.sort(key=lambda x: x.start)
            result[name] = m.Series(name, node.label, tuple(periods), entry.clause)
        self.series = result
        return result

    def check_cohorts(self) -> dict[str, m.Cohort]:
        result = {}
        for name, entry in self.names.items():
            if entry.kind == "cohort":
                node: s.Cohort = entry.node
                size = node.size.value
                if size > limits.MAX_COHORT_SIZE:
                    self.error("E111", f"a cohort of {size} people; the limit is {limits.MAX_COHORT_SIZE:,}",
                               node.size.span)
                elif size != size.to_integral_value() or size <= 0:
                    self.error("E210", "a cohort size is a whole number of people, greater than zero",
                               node.size.span, hint="e.g. `size 60`")
                self.check_text(node.eligibility)
                result[name] = m.Cohort(name, node.label, int(size), node.eligibility, entry.clause)
                self.constants[name] = Fraction(int(size))
        return result

    def check_investments(self, parties) -> dict[str, m.Investment]:
        result = {}
        for name, entry in self.names.items():
            if entry.kind != "investment":
                continue
            node: s.Investment = entry.node
            amount = self.constant(node.amount, Type(MONEY, self.currency), "an investment amount")
            self.party_role(node.investor, parties, ("investor",), "E406", "invests")
            if amount is not None:
                self.constants[name] = amount
            result[name] = m.Investment(name, node.label, amount if amount is not None else Fraction(0),
                                        node.investor.name, node.date.value, entry.clause)
        return result

    # ------------------------------------------------------------ measures and definitions
    def check_measures(self) -> dict[str, m.Measure]:
        result = {}
        for name, entry in self.names.items():
            if entry.kind != "measure":
                continue
            node: s.Measure = entry.node
            kind = MEASURE_TYPES.get(node.type.name)
            if kind is None:
                self.error("E206", f"unknown measure type `{node.type.name}`", node.type.span,
                           hint=did_you_mean(node.type.name, MEASURE_TYPES) or
                           f"types are: {', '.join(MEASURE_TYPES)}")
                kind = NUMBER
            options = self.options(node.options, node)
            series = None
            if "per" in options:
                ident = options["per"].value
                if self.lookup(ident, ("series",), "period series"):
                    series = ident.name
            ty = Type(kind, self.currency if kind == MONEY else None, series)
            better = None
            if "better" in options:
                ident = options["better"].value
                if ident.name not in ("higher", "lower"):
                    self.error("E210", f"`better {ident.name}` is not a direction", ident.span,
                               hint="write `better higher` or `better lower`")
                elif kind in (BOOL, DATE):
                    self.error("E210", f"a {node.type.name} measure has no direction", ident.span,
                               hint="`better` applies to numeric measures; a yes/no measure is better when yes")
                else:
                    better = ident.name
            lower = upper = None
            if "between" in options:
                lo, hi = options["between"].value
                lower = self.constant(lo, ty.plain(), "a bound of a measure")
                upper = self.constant(hi, ty.plain(), "a bound of a measure")
                if lower is not None and upper is not None and lower > upper:
                    self.error("E210", "the lower bound is above the upper bound", options["between"].span,
                               hint="write the range from low to high: `between LOW and HIGH`")
            source = options["source"].value if "source" in options else None
            description = options["description"].value if "description" in options else None
            self.check_text(source)
            self.check_text(description)
            result[name] = m.Measure(name, node.label, ty, better, lower, upper, source, description,
                                     entry.clause)
        self.measures = result
        return result

    def options(self, options: tuple[s.Option, ...], node) -> dict[str, s.Option]:
        seen: dict[str, s.Option] = {}
        for o in options:
            if o.key in seen:
                self.error("E402", f"`{o.key}` is given twice", o.span,
                           labels=(self.also(seen[o.key].span, "first given here"),),
                           hint=f"keep one `{o.key}`; to combine conditions, write `when A and B`"
                           if o.key == "when" else f"keep one `{o.key}`")
            else:
                seen[o.key] = o
        return seen

    def definition_order(self) -> list[str]:
        """The definitions and baselines in the order in which `definition`, called for each in
        declaration order, would finish them: every one after those it refers to, depth first, in
        the order its formulas name them. Called in this order, each finds what it needs already
        checked, so a chain of thousands of definitions written top-down is checked without
        recursing through the chain (which ran out of stack at ≈ 140). With a cycle: declaration
        order, and `definition` reports the cycle as before."""
        kinds = ("define", "baseline")
        declared = [name for name, entry in self.names.items() if entry.kind in kinds]
        declared_set = set(declared)
        refers = {name: [r for r in _refs(self.names[name].node) if r in declared_set] for name in declared}
        order: list[str] = []
        state: dict[str, bool] = {}  # False while its references are being visited, True when done
        for root in declared:
            if root in state:
                continue
            state[root] = False
            stack = [(root, iter(refers[root]))]
            while stack:
                name, references = stack[-1]
                for ref in references:
                    if ref not in state:
                        state[ref] = False
                        stack.append((ref, iter(refers[ref])))
                        break
                    if state[ref] is False:
                        return declared  # a cycle
                else:
                    stack.pop()
                    state[name] = True
                    order.append(name)
        return order

    def definition(self, name: str) -> m.Definition | None:
        if name in self.definitions:
            return self.definitions[name]
        entry = self.names[name]
        if name in self.in_progress:
            cycle = self.in_progress[self.in_progress.index(name):] + [name]
            self.error("E203", f"`{name}` depends on itself: {' → '.join(cycle)}", entry.span,
                       hint="a definition cannot use its own value, directly or through others")
            raise _Invalid()
        self.in_progress.append(name)
        try:
            node = entry.node
            ty_expr = self.expr(node.expr)
            indexation = None
            source = description = None
            if isinstance(node, s.Baseline):
                options = self.options(node.options, node)
                if "indexed" in options:
                    index: s.Indexation = options["indexed"].value
                    rate = self.constant(index.rate, T_SHARE, "an indexation rate")
                    if index.unit.name not in ("year", "years"):
                        self.error("E207", f"unknown unit `{index.unit.name}`", index.unit.span,
                                   hint="indexation is counted in whole years: `for 3 years`")
                    years = index.years.value
                    if years != years.to_integral_value():
                        self.error("E210", "indexation runs for a whole number of years", index.years.span,
                                   hint="e.g. `indexed 2 % per year for 3 years`")
                    if years > limits.MAX_INDEXATION_YEARS:
                        self.error("E111", f"indexation for {years} years; the limit is "
                                   f"{limits.MAX_INDEXATION_YEARS}", index.years.span,
                                   hint="index a baseline over the contract's own years")
                        years = Decimal(0)
                    if ty_expr.ty.kind != MONEY:
                        self.error("E306", "only an amount of money can be indexed", node.expr.span)
                    indexation = m.Indexation(rate or Fraction(0), int(years))
                source = options["source"].value if "source" in options else None
                description = options["description"].value if "description" in options else None
            definition = m.Definition(name, node.label, ty_expr, ty_expr.ty, entry.clause,
                                      baseline=isinstance(node, s.Baseline), indexation=indexation,
                                      source=source, description=description)
        except _Invalid:
            definition = None
        finally:
            self.in_progress.pop()
        if definition is not None:
            self.definitions[name] = definition
        else:
            self.definitions[name] = None  # type: ignore[assignment]  # reported once
        return definition

    def constant(self, expr: s.Expr, ty: Type, what: str) -> Fraction | None:
        """Type-check an expression that must be known when the contract is signed, and its value."""
        from .compiler import NotConstant, constant_value

        try:
            typed = self.expr(expr)
        except _Invalid:
            return None
        if not comparable(typed.ty, ty) or typed.ty.series:
            self.error("E305" if ty.kind != MONEY else "E306",
                       f"{what} must be {ty.describe()}, not {typed.ty.describe()}", expr.span)
            return None
        try:
            value = constant_value(typed, self.definitions, self.constants)
        except NotConstant as nc:
            self.error("E310", f"{what} must be fixed when the contract is signed, but it depends on "
                       f"the measure `{nc.name}`", expr.span,
                       hint="use numbers, dates and definitions that do not depend on measures")
            return None
        except ZeroDivisionError:
            self.error("E602", f"{what} divides by zero", expr.span)
            return None
        return value

    # ------------------------------------------------------------ expressions
    def expr(self, e: s.Expr, *, guarantee: bool = False) -> m.Expr:
        method = getattr(self, "expr_" + type(e).__name__)
        return method(e, guarantee)

    def expr_Quantity(self, e: s.Quantity, g) -> m.Expr:
        value = Fraction(e.value)
        unit = e.unit
        if unit is None:
            return m.Const(value, T_NUMBER, span=e.span)
        if unit == "%":
            return m.Const(value / 100, T_SHARE, span=e.span)
        if unit == self.currency:
            return m.Const(value, Type(MONEY, self.currency), span=e.span)
        if unit in DAY_UNITS:
            return m.Const(value, T_DAYS, span=e.span)
        if re.fullmatch(r"[A-Z]{3}", unit):
            self.error("E302", f"`{unit}` is not the contract's currency ({self.currency})", e.unit_span,
                       hint=did_you_mean(unit, [self.currency]) or
                       f"write amounts in {self.currency}, as the header says")
            raise _Invalid()
        known = [self.currency, "%", "days"]
        lowered = unit.lower()
        if lowered.upper() == self.currency:
            hint = f"currency codes are written in capitals: `{self.currency}`"
        elif lowered in ("kr", "kronor", "krona", "sek", "msek", "mkr", "tkr", "ksek", "million", "miljoner"):
            hint = (f"write the whole amount in {self.currency}, e.g. `10 000 000 {self.currency}`"
                    " (there are no million or thousand suffixes)")
        elif lowered in ("procent", "percent", "pct"):
            hint = "write percentages with `%`, e.g. `40 %`"
        elif lowered in ("dagar", "dag"):
            hint = "write durations in `days`, e.g. `90 days`"
        else:
            hint = did_you_mean(unit, known) or f"units are {self.currency}, % and days"
        self.error("E207", f"unknown unit `{unit}`", e.unit_span, hint=hint)
        raise _Invalid()

    def expr_DateLit(self, e: s.DateLit, g) -> m.Expr:
        return m.Const(e.value, T_DATE, span=e.span)

    def expr_BoolLit(self, e: s.BoolLit, g) -> m.Expr:
        return m.Const(e.value, T_BOOL, span=e.span)

    def expr_TotalRef(self, e: s.TotalRef, g) -> m.Expr:
        if not g:
            self.error("E309", "`total` (the settled payout) can only be used in a guarantee", e.span,
                       hint="caps, floors and gates on the total are written `cap total at …`")
            raise _Invalid()
        return m.Total(Type(MONEY, self.currency), span=e.span)

    def expr_Ref(self, e: s.Ref, g) -> m.Expr:
        wanted = ("measure", "define", "baseline", "investment", "cohort", "payment")
        entry = self.lookup(e, wanted, "value")
        if entry is None:
            raise _Invalid()
        self.used.add(e.name)
        kind = entry.kind
        if kind == "measure":
            measure = self.measure_type(e.name)
            if measure is None:
                raise _Invalid()
            return m.Input(e.name, measure, span=e.span)
        if kind in ("define", "baseline"):
            d = self.definition(e.name)
            if d is None:
                raise _Invalid()
            return m.Var(e.name, d.ty, span=e.span)
        if kind == "investment":
            return m.Var(e.name, Type(MONEY, self.currency), span=e.span)
        if kind == "cohort":
            return m.Var(e.name, T_COUNT, span=e.span)
        # payment
        if not g:
            self.error("E309", f"the payment `{e.name}` can only be referred to in a guarantee", e.span,
                       hint="compute shared amounts with `define` and use them in both payments")
            raise _Invalid()
        return m.PaymentRef(e.name, Type(MONEY, self.currency), span=e.span)

    def measure_type(self, name: str) -> Type | None:
        measure = self.measures.get(name)
        return measure.ty if measure else None

    def expr_Unary(self, e: s.Unary, g) -> m.Expr:
        operand = self.expr(e.operand, guarantee=g)
        if e.op == "not":
            self.want_bool(operand, e.operand)
            return m.Op("not", (operand,), operand.ty, span=e.span)
        if not operand.ty.numeric:
            self.error("E301", f"cannot negate {operand.ty.describe()}", e.span)
            raise _Invalid()
        return m.Op("neg", (operand,), operand.ty, span=e.span)

    def want_bool(self, typed: m.Expr, node: s.Expr) -> None:
        if typed.ty.kind != BOOL:
            self.error("E304", f"expected a yes/no condition, found {typed.ty.describe()}", node.span,
                       hint="compare it, e.g. `savings > 0 SEK`")
            raise _Invalid()

    def expr_Binary(self, e: s.Binary, g) -> m.Expr:
        left = self.expr(e.left, guarantee=g)
        right = self.expr(e.right, guarantee=g)
        if e.op in ("and", "or"):
            self.want_bool(left, e.left)
            self.want_bool(right, e.right)
            return m.Op(e.op, (left, right), attrs.evolve(T_BOOL, series=self.series_of(left, right, e)),
                        span=e.span)
        if e.op in ("<", "<=", ">", ">=", "==", "!="):
            ok = comparable(left.ty, right.ty)
            if ok and left.ty.kind == BOOL and e.op not in ("==", "!="):
                ok = False
            if not ok:
                self.error("E305", f"cannot compare {left.ty.describe()} with {right.ty.describe()}",
                           e.span, hint=_compare_hint(left.ty, right.ty))
                raise _Invalid()
            return m.Op(e.op, (left, right), attrs.evolve(T_BOOL, series=self.series_of(left, right, e)),
                        span=e.span)
        try:
            ty = combine(e.op, left.ty, right.ty)
        except UnitError as err:
            self.error(err.code, err.message, e.span, hint=err.hint)
            raise _Invalid() from None
        return m.Op(e.op, (left, right), ty, span=e.span)

    def series_of(self, a: m.Expr, b: m.Expr, node) -> str | None:
        if a.ty.series and b.ty.series and a.ty.series != b.ty.series:
            self.error("E307", f"values per `{a.ty.series}` and per `{b.ty.series}` cannot be combined",
                       node.span)
            raise _Invalid()
        return a.ty.series or b.ty.series

    def expr_If(self, e: s.If, g) -> m.Expr:
        cond = self.expr(e.cond, guarantee=g)
        self.want_bool(cond, e.cond)
        then = self.expr(e.then, guarantee=g)
        other = self.expr(e.otherwise, guarantee=g)
        ty = unify(then.ty, other.ty)
        if ty is None:
            self.error("E305", f"the two branches differ: {then.ty.describe()} and {other.ty.describe()}",
                       e.span, hint="both branches of `if … then … else …` must give the same kind of value")
            raise _Invalid()
        series = self.series_of(cond, m.Const(0, ty), e)
        return m.Cond(cond, then, other, attrs.evolve(ty, series=series), span=e.span)

    def expr_Call(self, e: s.Call, g) -> m.Expr:
        name = e.func.name
        if name not in FUNCTIONS:
            self.error("E209", f"unknown function `{name}`", e.func.span,
                       hint=did_you_mean(name, FUNCTIONS) or f"functions are: {', '.join(FUNCTIONS)}")
            raise _Invalid()
        low, high = FUNCTIONS[name]
        if len(e.args) < low or (high is not None and len(e.args) > high):
            wanted = f"{low}" if low == high else f"at least {low}"
            self.error("E209", f"`{name}` takes {wanted} argument{'s' if low > 1 else ''}, "
                       f"not {len(e.args)}", e.span, hint={
                           "min": "e.g. `min(60 % of savings, 6 000 000 SEK)`",
                           "max": "e.g. `max(savings, 0 SEK)`",
                           "abs": "e.g. `abs(change)`", "sum": "e.g. `sum(events)`"}[name])
            raise _Invalid()
        args = tuple(self.expr(a, guarantee=g) for a in e.args)
        if name == "sum":
            (arg,) = args
            if not arg.ty.series:
                self.error("E307", "sum(…) adds up a value over its periods, but this value has no periods",
                           e.args[0].span, hint="use sum on a measure or definition declared `per` a series")
                raise _Invalid()
            if not arg.ty.numeric:
                self.error("E301", f"cannot add up {arg.ty.describe()}", e.args[0].span)
                raise _Invalid()
            return m.Sum(arg, arg.ty.series, arg.ty.plain(), span=e.span)
        if name == "abs":
            if not args[0].ty.numeric:
                self.error("E301", f"abs of {args[0].ty.describe()}", e.span)
                raise _Invalid()
            return m.Op("abs", args, args[0].ty, span=e.span)
        ty = args[0].ty
        for arg, node in zip(args[1:], e.args[1:]):
            joined = unify(ty, arg.ty)
            if joined is None:
                self.error("E305", f"`{name}` of {ty.describe()} and {arg.ty.describe()}", node.span,
                           hint=f"all values in `{name}(…)` must be of one kind"
                           + (" — did you forget a currency?" if MONEY in (ty.kind, arg.ty.kind) else ""))
                raise _Invalid()
            ty = joined
        if not ty.numeric and ty.kind != DATE:
            self.error("E301", f"`{name}` of {ty.describe()}", e.span)
            raise _Invalid()
        return m.Op(name, args, ty, span=e.span)

    def _table_size(self, rows: int, e) -> None:
        if rows > limits.MAX_TABLE_ROWS:
            self.error("E112", f"a table with {rows:,} rows; the limit is {limits.MAX_TABLE_ROWS:,}", e.span,
                       hint="a payment grid this large belongs in a measure the evaluator reports")
            raise _Invalid()

    def expr_Tiers(self, e: s.Tiers, g) -> m.Expr:
        self._table_size(len(e.rows) + 1, e)
        subject = self.expr(e.subject, guarantee=g)
        below = self.expr(e.below, guarantee=g)
        thresholds, values, ty = [], [], below.ty
        for row in e.rows:
            key = self.constant(row.threshold, subject.ty.plain(), "a table threshold")
            value = self.expr(row.value, guarantee=g)
            joined = unify(ty, value.ty)
            if joined is None:
                self.error("E308", f"table values differ: {ty.describe()} and {value.ty.describe()}",
                           row.value.span, hint="every row of a table gives the same kind of value")
                raise _Invalid()
            ty = joined
            if key is not None and thresholds and key <= thresholds[-1]:
                self.error("E308", "table thresholds must increase from row to row", row.threshold.span,
                           hint="order the `from` rows from the lowest threshold to the highest")
                raise _Invalid()
            if key is None:
                raise _Invalid()
            thresholds.append(key)
            values.append(value)
        series = subject.ty.series or ty.series
        return m.Steps(subject, below, tuple(thresholds), tuple(values), attrs.evolve(ty, series=series),
                       span=e.span)

    def expr_Interpolate(self, e: s.Interpolate, g) -> m.Expr:
        subject = self.expr(e.subject, guarantee=g)
        if len(e.points) < 2:
            self.error("E308", "interpolation needs at least two points", e.span)
            raise _Invalid()
        self._table_size(len(e.points), e)
        xs, ys, ty = [], [], None
        for point in e.points:
            x = self.constant(point.x, subject.ty.plain(), "an interpolation point")
            y_typed = self.expr(point.y)
            ty = y_typed.ty if ty is None else unify(ty, y_typed.ty)
            if ty is None or not ty.numeric:
                self.error("E308", "interpolation values must be numbers or amounts of one kind",
                           point.y.span)
                raise _Invalid()
            y = self.constant(point.y, ty, "an interpolation value")
            if x is None or y is None:
                raise _Invalid()
            if xs and x <= xs[-1]:
                self.error("E308", "interpolation points must increase from left to right", point.x.span)
                raise _Invalid()
            xs.append(x)
            ys.append(y)
        if not subject.ty.numeric:
            self.error("E308", f"cannot interpolate over {subject.ty.describe()}", e.subject.span)
            raise _Invalid()
        return m.Interp(subject, tuple(xs), tuple(ys), attrs.evolve(ty, series=subject.ty.series),
                        span=e.span)

    def typed(self, expr: s.Expr, *, guarantee: bool = False) -> m.Expr | None:
        try:
            return self.expr(expr, guarantee=guarantee)
        except _Invalid:
            return None

    def money(self, expr: s.Expr, what: str, series: str | None = None) -> m.Expr | None:
        typed = self.typed(expr)
        if typed is None:
            return None
        if typed.ty.kind != MONEY:
            self.error("E306", f"{what} must be an amount of money, not {typed.ty.describe()}", expr.span,
                       hint=f"write amounts with the currency, e.g. `5 000 000 {self.currency}`")
            return None
        if typed.ty.series and typed.ty.series != series:
            self.error("E307", f"{what} depends on values per `{typed.ty.series}`", expr.span,
                       hint=f"add `per {typed.ty.series}` to the payment, or add up with sum(…)")
            return None
        return typed

    def condition(self, expr: s.Expr, series: str | None = None) -> m.Expr | None:
        typed = self.typed(expr)
        if typed is None:
            return None
        if typed.ty.kind != BOOL:
            self.error("E304", f"expected a yes/no condition, found {typed.ty.describe()}", expr.span,
                       hint="compare it, e.g. `savings > 0 SEK`, or use a yes/no measure")
            return None
        if typed.ty.series and typed.ty.series != series:
            self.error("E307", f"the condition depends on values per `{typed.ty.series}`", expr.span)
            return None
        return typed

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

    def due(self, option: s.Option | None, series: str | None) -> m.Due:
        if option is None:
            return m.Due()
        value = option.value
        if isinstance(value, s.DueDate):
            return m.Due(date=value.date.value)
        days = value.amount.value
        if value.unit.name not in DAY_UNITS:
            self.error("E207", f"unknown unit `{value.unit.name}`", value.unit.span,
                       hint="write the delay in days: `due 90 days after end`")
        if days != days.to_integral_value():
            self.error("E210", "the delay is a whole number of days", value.amount.span,
                       hint="e.g. `due 90 days after end`")
        if days > limits.MAX_DUE_DAYS:
            self.error("E111", f"a payment due {days} days after the end; the limit is {limits.MAX_DUE_DAYS:,}",
                       value.amount.span)
            return m.Due()
        return m.Due(days_after_end=int(days))

    def check_payments(self, parties, term) -> dict[str, m.Payment]:
        result = {}
        for name, entry in self.names.items():
            if entry.kind != "payment":
                continue
            node: s.Payment = entry.node
            options = self.options(node.options, node)
            series = None
            if "per" in options:
                ident = options["per"].value
                if self.lookup(ident, ("series",), "period series"):
                    series = ident.name
            expr = self.money(node.expr, f"the payment `{name}`", series)
            payer = recipient = ""
            if "from" not in options or "to" not in options:
                missing = " and ".join(k for k in ("from", "to") if k not in options)
                self.error("E408", f"the payment `{name}` does not say who pays and who receives it",
                           node.name.span, label=f"`{missing}` missing",
                           hint="add e.g. `from municipality to investor` with the parties' names")
            if "from" in options:
                payer = options["from"].value.name
                self.party_role(options["from"].value, parties, PAYING_ROLES, "E407", "pays")
            if "to" in options:
                recipient = options["to"].value.name
                self.party_role(options["to"].value, parties, RECEIVING_ROLES, "E406", "receives payments")
            due = self.due(options.get("due"), series)
            if due.date and term and not (term[0] <= due.date <= term[1]):
                self.error("W403", f"the payment `{name}` is due {due.date}, outside the term "
                           f"{term[0]} to {term[1]}", options["due"].span)
            if "when" in options:
                condition = self.condition(options["when"].value, series)
                if condition is not None:
                    self.inline_gates.append(m.Gate(entry.clause, name, None, condition))
            if expr is not None:
                result[name] = m.Payment(name, node.label, expr, payer, recipient, due, series, entry.clause)
        return result

    def target_payment(self, target: s.Target, payments) -> str | None:
        entry = self.lookup(target.name, ("payment",), "payment")
        if entry is None:
            return None
        return target.name.name if target.name.name in payments else None

    def check_gates(self, payments) -> tuple[m.Gate, ...]:
        gates = list(self.inline_gates)
        for node in self._items(s.Gate):
            clause = self.clauses[id(node)]
            target, level, series = "total", None, None
            if node.target.kind == "payment":
                target = self.target_payment(node.target, payments)
                if target is None:
                    continue
                series = payments[target].series
            else:
                level = self.money(node.target.level, "the level of a gate")
                if level is None:
                    continue
            condition = self.condition(node.condition, series)
            if condition is not None:
                gates.append(m.Gate(clause, target, level, condition))
        return tuple(gates)

    def check_floors(self, payments, parties) -> tuple[m.Floor, ...]:
        floors = []
        for node in self._items(s.Floor):
            clause = self.clauses[id(node)]
            options = self.options(node.options, node)
            series = None
            if node.target.kind == "payment":
                target = self.target_payment(node.target, payments)
                if target is None:
                    continue
                series = payments[target].series
            else:
                target = "total"
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
            if target != "total" and ("from" in options or "to" in options):
                self.error("E210", "a floor on a payment is paid by that payment's parties", node.span,
                           hint="remove `from`/`to` from this floor")
            due = self.due(options.get("due"), series) if "due" in options else None
            if amount is not None and (not options.get("when") or when is not None):
                floors.append(m.Floor(clause, target, amount, when, payer, recipient, due))
        return tuple(floors)

    def check_caps(self, payments) -> tuple[m.Cap, ...]:
        caps = []
        for node in self._items(s.Cap):
            clause = self.clauses[id(node)]
            kind, target, series = node.target.kind, None, None
            if kind == "payment":
                target = self.target_payment(node.target, payments)
                if target is None:
                    continue
                series = payments[target].series
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
            if amount is not None:
                caps.append(m.Cap(clause, kind, target, amount))
        return tuple(caps)

    def check_floor_cap(self, floors, caps) -> None:
        from .compiler import NotConstant, constant_value

        def value(expr):
            try:
                return constant_value(expr, self.definitions, self.constants)
            except (NotConstant, ZeroDivisionError):
                return None

        for floor in floors:
            for cap in caps:
                same = (cap.kind == "payment" and cap.target == floor.target) or (
                    cap.kind in ("total",) and floor.target == "total")
                if not same:
                    continue
                low, high = value(floor.amount), value(cap.amount)
                if low is not None and high is not None and low > high:
                    self.error("E403", f"the floor ({_money(low, self.currency)}) is above the cap "
                               f"({_money(high, self.currency)})", floor.amount.span,
                               labels=(self.also(cap.amount.span, "the cap"),),
                               hint="a floor above a cap cannot both hold; lower the floor or raise the cap")

    def check_return_limits(self, investments) -> tuple[m.ReturnLimit, ...]:
        result = []
        for node in self._items(s.ReturnLimit):
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
            if rate is not None:
                result.append(m.ReturnLimit(clause, rate, node.kind,
                                            node.start.value if node.start else None,
                                            node.end.value if node.end else None))
        return tuple(result)

    def check_guarantees(self) -> tuple[m.Guarantee, ...]:
        result = []
        for node in self._items(s.Guarantee):
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
                               node.when.span, hint=_GUARANTEE_SERIES_HINT)
                    continue
            if node.monotone:
                if not typed.ty.numeric:
                    self.error("E305", f"only numbers and amounts can be {node.monotone}", node.expr.span)
                    continue
                entry = self.lookup(node.monotone_in, ("measure", "define", "baseline"), "measure or definition")
                if entry is None:
                    continue
                self.used.add(node.monotone_in.name)
            elif typed.ty.kind != BOOL:
                self.error("E304", f"a guarantee states a yes/no property, found {typed.ty.describe()}",
                           node.expr.span, hint="e.g. `guarantee never_above: total <= 12 000 000 SEK`")
                continue
            elif typed.ty.series:
                self.error("E307", f"the guarantee depends on values per `{typed.ty.series}`",
                           node.expr.span, hint=_GUARANTEE_SERIES_HINT)
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

    def sections(self) -> tuple[m.Section, ...]:
        sections, number, title, prose, clauses = [], "", None, [], []
        for item in self.tree.items:
            if isinstance(item, s.Heading):
                if number or prose or clauses:
                    sections.append(m.Section(number, title, tuple(prose), tuple(clauses)))
                number, title, prose, clauses = item.number, item.title, [], []
            elif isinstance(item, s.Prose):
                prose.append(item.text)
            elif id(item) in self.clauses:
                clauses.append(self.clauses[id(item)])
        if number or prose or clauses:
            sections.append(m.Section(number, title, tuple(prose), tuple(clauses)))
        return tuple(sections)


def _declaration(item) -> tuple[str, s.Ident | None, s.Text | None]:
    """(kind, name, label) of a named declaration."""
    kinds = {s.Party: "party", s.Periods: "series", s.Cohort: "cohort", s.Investment: "investment",
             s.Measure: "measure", s.Define: "define", s.Baseline: "baseline", s.Payment: "payment"}
    for cls, kind in kinds.items():
        if isinstance(item, cls):
            return kind, item.name, item.label
    if isinstance(item, (s.Gate, s.Floor, s.Cap, s.ReturnLimit, s.Guarantee)):
        kind = {s.Gate: "gate", s.Floor: "floor", s.Cap: "cap", s.ReturnLimit: "return limit",
                s.Guarantee: "guarantee"}[type(item)]
        if item.decl is None:
            return kind, None, None
        return kind, item.decl.name, item.decl.label
    return "term", None, None


def _refs(node: s.Define | s.Baseline) -> list[str]:
    """The names a definition's formulas refer to, in the order the checker meets them."""
    roots = [node.expr] + [o.value.rate for o in getattr(node, "options", ()) if o.key == "indexed"]
    names, stack = [], roots[::-1]
    while stack:
        e = stack.pop()
        if isinstance(e, s.Ref):
            names.append(e.name)
        elif isinstance(e, s.Binary):
            stack += (e.right, e.left)
        elif isinstance(e, s.Unary):
            stack.append(e.operand)
        elif isinstance(e, s.If):
            stack += (e.otherwise, e.then, e.cond)
        elif isinstance(e, s.Call):
            stack += e.args[::-1]
        elif isinstance(e, s.Tiers):
            stack += [x for row in e.rows[::-1] for x in (row.value, row.threshold)] + [e.below, e.subject]
        elif isinstance(e, s.Interpolate):
            stack += [x for point in e.points[::-1] for x in (point.y, point.x)] + [e.subject]
    return names


def _money(value: Fraction, currency: str) -> str:
    from .report import format_amount

    return format_amount(value, currency)


def _compare_hint(a: Type, b: Type) -> str:
    if MONEY in (a.kind, b.kind) and NUMBER in (a.kind, b.kind):
        return "write the amount with its currency, e.g. `0 SEK`"
    if SHARE in (a.kind, b.kind) and NUMBER in (a.kind, b.kind):
        return ""
    return "compare values of the same kind"


def _kind_hint(kind: str, wanted: str) -> str:
    if wanted == "value" and kind == "party":
        return "parties are named in `from` and `to`; amounts come from measures, definitions and investments"
    if wanted == "payment":
        return "gates, floors and caps apply to a payment by its name, or to `total`"
    if wanted == "party":
        return "`from` and `to` name parties declared with `party`"
    return f"use a {wanted} here"
