"""Stage 3, lowering: the declarations of the syntax tree → the nodes of the checked model (header,
parties, term and periods, cohorts, investments, measures, definitions, payments, sections)."""

from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING

from .. import limits
from .. import model as m
from .. import syntax as s
from ..diagnostics import did_you_mean
from ..syntax import SEP, Text
from ..units import (
    BOOL,
    DATE,
    MEASURE_TYPES,
    MONEY,
    NUMBER,
    Type,
)
from ..values import ROUNDING_MODES, Rounding
from .common import DAY_UNITS, LANGUAGES, PAYING_ROLES, RECEIVING_ROLES, ROLES, T_SHARE, Invalid
from .rules import money_text

if TYPE_CHECKING:
    from .memo import Kept


class Lower:
    """Declarations lowered to the model (a mixin of `Checker`)."""

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

    # ------------------------------------------------------------ parties, term, periods, cohorts
    def check_parties(self) -> dict[str, m.Party]:
        parties = {}
        for name, entry in self.declared("party"):
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

    def items_of(self, kind):
        """The declarations of a syntax class, in source order (the items scanned once, by class:
        no syntax class derives from another)."""
        if self.items_by_type is None:
            by_type: dict[type, list] = {}
            for item in self.tree.items:
                by_type.setdefault(type(item), []).append(item)
            self.items_by_type = by_type
        return list(self.items_by_type.get(kind, ()))

    def per_series(self, options: dict) -> str | None:
        """The series of a declaration's `per SERIES` option, if it has one that exists; for `per A × B`
        (issue 15) the product of two series, added to `self.series` the first time it is named."""
        ident = options["per"].value if "per" in options else None
        if ident is not None and SEP in ident.name:
            return self.product_series(ident)
        return ident.name if ident is not None and self.lookup(ident, ("series",), "period series") else None

    def product_series(self, ident: s.Ident) -> str | None:
        """`A × B`: a cell for each period of A and each period of B, A's periods outer (cohort 1 in
        each year, then cohort 2 in each year …). A cell is named `a × b` and has the dates of b,
        the period it is measured in. A cell whose period of B ends before its period of A starts
        (a school year before the cohort's first) is not applicable: it is not a period of the
        product (nothing is measured, paid or read in it), and is kept in `not_applicable`."""
        first, second = ident.name.split(SEP)
        span = ident.span
        found = [self.lookup(part, ("series",), "period series") for part in s.series_names(ident)]
        if None in found:
            return None
        if first == second:
            self.error("E590", f"`{first}` is named twice: two-dimensional periods are two different series",
                       span, hint=f"write `per {first}` for one value per period, or name another series, "
                       f"e.g. `per cohorts × {first}`")
            return None
        if ident.name not in self.series:
            size = len(self.series[first].periods) * len(self.series[second].periods)
            if size > limits.MAX_PERIODS:
                self.error("E112", f"{size:,} cells of `{first}` × `{second}`; the limit is "
                           f"{limits.MAX_PERIODS:,}", span)
                return None
            grid = [(m.Period(f"{a.name}{SEP}{b.name}", b.start, b.end), b.end < a.start)
                    for a in self.series[first].periods for b in self.series[second].periods]
            cells = tuple(cell for cell, before in grid if not before)
            declared = self.series[first]
            label = None
            if declared.label is not None and self.series[second].label is not None:
                a, b = declared.label, self.series[second].label
                label = Text(f"{a.text}{SEP}{b.text}",
                             tuple((tag, f"{a.get(tag)}{SEP}{b.get(tag)}") for tag, _ in a.translations))
            self.series[ident.name] = m.Series(ident.name, label, cells, declared.clause,
                                               tuple(cell for cell, before in grid if before))
        return ident.name

    def declared(self, kind: str):
        """(name, entry) for every declared name of a kind (party, series, measure, …), in source order
        (kept by kind as the table of names was made: collect_names)."""
        if self.frames:  # as reading the whole table (check/memo.py)
            self.frames[-1].names_wide = True
        return list(self.by_kind.get(kind, ()))

    def check_term(self):
        terms = self.items_of(s.Term)
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
        for name, entry in self.declared("series"):
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
        for item in self.tree.items:  # issue 15: every product named by `per A × B`, before any formula
            for option in getattr(item, "options", ()):
                if option.key == "per" and isinstance(option.value, s.Ident) and SEP in option.value.name:
                    first, second = option.value.name.split(SEP)
                    if first != second and first in result and second in result:
                        self.product_series(option.value)
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
        for name, entry in self.declared("investment"):
            node: s.Investment = entry.node
            amount = self.constant(node.amount, Type(MONEY, self.currency), "an investment amount")
            self.party_role(node.investor, parties, ("investor",), "E406", "invests")
            if amount is not None:
                self.constants[name] = amount
            drawdowns, committed = self.investment_terms(node, amount)
            date = node.date.value if node.date is not None else min(d for d, _ in drawdowns)
            result[name] = m.Investment(name, node.label, amount if amount is not None else Fraction(0),
                                        node.investor.name, date, entry.clause, drawdowns=drawdowns,
                                        committed=committed, klass=node.klass.name if node.klass else None)
        return result

    def investment_terms(self, node: s.Investment, amount: Fraction | None):
        """An investment's drawdowns and commitment (issue 14): each drawdown a positive amount fixed
        at signing (E424), adding up to the investment (E423); the commitment at least what is drawn
        (E422)."""
        money = Type(MONEY, self.currency)
        drawdowns = []
        for dd in node.drawdowns:
            value = self.constant(dd.amount, money, "a drawdown")
            if value is not None and value <= 0:
                self.error("E424", "a drawdown is a positive amount", dd.amount.span,
                           hint="list only the amounts actually drawn, e.g. `drawn 2 400 000 USD on 2012-09-01`")
            if value is not None:
                drawdowns.append((dd.date.value, value))
        if node.drawdowns and amount is not None and len(drawdowns) == len(node.drawdowns) \
                and sum(v for _, v in drawdowns) != amount:
            total = sum(v for _, v in drawdowns)
            self.error("E423", f"the drawdowns add up to {money_text(total, self.currency)}, not the investment's "
                       f"{money_text(amount, self.currency)}", node.amount.span,
                       labels=tuple(self.also(dd.span, "drawn here") for dd in node.drawdowns[:3]),
                       hint="the amount after `:` is what is drawn in total; make the drawdowns add up to it")
        committed = None
        if node.committed is not None:
            committed = self.constant(node.committed, money, "a commitment")
            if committed is not None and amount is not None and committed < amount:
                self.error("E422", f"the commitment ({money_text(committed, self.currency)}) is less than what "
                           f"is drawn ({money_text(amount, self.currency)})", node.committed.span,
                           labels=(self.also(node.amount.span, "drawn"),),
                           hint="`committed` is the whole facility; the amount after `:` is the part drawn")
        if not drawdowns and node.date is None:  # drawdowns given but none valid: keep a date for the model
            drawdowns = [(dd.date.value, Fraction(0)) for dd in node.drawdowns[:1]]
        return tuple(drawdowns) if node.date is None else (), committed

    # ------------------------------------------------------------ measures and definitions
    def check_measures(self) -> dict[str, m.Measure]:
        result = {}
        for name, entry in self.declared("measure"):
            node: s.Measure = entry.node
            kind = MEASURE_TYPES.get(node.type.name)
            if kind is None:
                self.error("E206", f"unknown measure type `{node.type.name}`", node.type.span,
                           hint=did_you_mean(node.type.name, MEASURE_TYPES) or
                           f"types are: {', '.join(MEASURE_TYPES)}")
                kind = NUMBER
            options = self.options(node.options, node)
            series = self.per_series(options)
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

    def definition(self, name: str) -> m.Definition | None:
        if name in self.definitions:
            result = self.definitions[name]
            if self.frames:  # only with a memo, so self.kept_checks is check/memo.py
                self.frames[-1].dependencies.setdefault(name, self.kept_checks.reading(result))
            return result
        if self.memo is None:
            return self._definition(name)
        return self._definition_kept(name)

    def _definition_kept(self, name: str) -> m.Definition | None:
        """`definition` with a memo (check/memo.py): the last check's result replayed when nothing
        it read has changed, else checked with what it reads recorded."""
        kept_checks = self.kept_checks  # check/memo.py (Checker.__init__)
        kept = None
        if self.memo_usable:  # the last check's, else the one before (an edit undone: the text before it again)
            first, second = self.last_kept.get(name), self.older_kept.get(name)
            if first is not None and second is not None and first.node is not second.node:
                entry = dict.get(self.names, name)
                if entry is not None and second.node is entry.node:
                    # the very node of the check before the last (a line break typed and deleted):
                    # replayed as it was, rather than the last check's moved back
                    first, second = second, first
            if first is not None:
                kept = self._still_valid(name, first)
            if kept is None and second is not None:
                kept = self._still_valid(name, second)
        if kept is not None:
            if kept.diagnostics:
                self.diagnostics.extend(kept_checks.with_source(d, self.source) for d in kept.diagnostics)
            if self.frames:
                for used in kept.used:
                    self.used.add(used)
            else:  # no frame records them (Used.add): the set's own update
                set.update(self.used, kept.used)
            self.definitions[name] = kept.result
            self.kept[name] = kept
            self.reused += 1
            for outer in self.frames:  # replayed inside another's check: the order was not definition_order's
                outer.keep = False
            return kept.result
        for outer in self.frames:  # it computes another definition's check inside its own: not kept
            outer.keep = False
        frame = kept_checks.Frame()
        frame.diagnostics = len(self.diagnostics)
        self.frames.append(frame)
        try:
            result = self._definition(name)
        finally:
            self.frames.pop()
        self.checked += 1
        if frame.keep:
            entry = dict.__getitem__(self.names, name)
            origin = self.memo.origin
            lookups = tuple((n, e.node, origin(e.node), e.kind) if e is not None else (n, None, None, None)
                            for n, e in frame.lookups.items())
            self.kept[name] = kept_checks.Kept(entry.node, origin(entry.node), entry.clause, lookups,
                                               tuple(frame.dependencies.items()),
                                               self.names.key() if frame.names_wide else None, result,
                                               tuple(self.diagnostics[frame.diagnostics:]), tuple(frame.used))
        if self.frames:
            self.frames[-1].dependencies.setdefault(name, kept_checks.reading(result))
        return result

    def _still_valid(self, name: str, kept: Kept) -> Kept | None:
        """`kept` when replaying it is exact, or its copy moved with its declaration (a line break
        typed or deleted above it: memo.moved), else None."""
        reading = self.kept_checks.reading
        names = self.names
        entry = dict.get(names, name)
        if entry is None or name in self.in_progress:
            return None
        node, moved = entry.node, False
        if node is not kept.node:
            if self.memo.origin(node) is not kept.origin:
                return None
            moved = True  # the same text, moved by lines: its spans and clause line follow (below)
        elif entry.clause is not kept.clause and entry.clause != kept.clause:
            return None
        for n, looked, origin, kind in kept.lookups:
            e = dict.get(names, n)
            if e is None:
                if looked is not None:
                    return None
            elif e.kind != kind:
                return None
            elif e.node is not looked:
                if self.memo.origin(e.node) is not origin:
                    return None
                moved = True  # a declaration it read moved: a span of it in the check is not kept (memo.moved)
        definitions = self.definitions
        for n, read in kept.dependencies:
            if n not in definitions:
                return None
            now = reading(definitions[n])
            if now is not read and now != read:  # the very type object when the dependency was replayed
                return None
        if kept.names is not None:
            if self.names_key is None:
                self.names_key = names.key()
            if kept.names != self.names_key:
                return None
        if moved:
            lookups = tuple((n, e.node, origin, kind) if (e := dict.get(names, n)) is not None else (n, None, None, None)
                            for n, _, origin, kind in kept.lookups)
            return self.kept_checks.moved(kept, node, entry.clause, lookups)
        return kept

    def _definition(self, name: str) -> m.Definition | None:
        entry = self.names[name]
        if name in self.in_progress:
            cycle = self.in_progress[self.in_progress.index(name):] + [name]
            self.error("E203", f"`{name}` depends on itself: {' → '.join(cycle)}", entry.span,
                       hint="a definition cannot use its own value, directly or through others")
            raise Invalid()
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
        except Invalid:
            definition = None
        finally:
            self.in_progress.pop()
        if definition is not None:
            self.definitions[name] = definition
        else:
            self.definitions[name] = None  # type: ignore[assignment]  # reported once
        return definition

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

    def payer_and_recipient(self, options, parties, what: str, span, hint: str) -> tuple[str, str]:
        """Who pays and who receives what `options` (`from`, `to`) belong to: each must be a party in a
        role that pays (E407) or receives (E406); a missing one is E408. Names, or "" where missing."""
        if "from" not in options or "to" not in options:
            missing = " and ".join(k for k in ("from", "to") if k not in options)
            self.error("E408", f"{what} does not say who pays and who receives it", span,
                       label=f"`{missing}` missing", hint=hint)
        payer = recipient = ""
        if "from" in options:
            payer = options["from"].value.name
            self.party_role(options["from"].value, parties, PAYING_ROLES, "E407", "pays")
        if "to" in options:
            recipient = options["to"].value.name
            self.party_role(options["to"].value, parties, RECEIVING_ROLES, "E406", "receives payments")
        return payer, recipient

    def check_payments(self, parties, term) -> dict[str, m.Payment]:
        result = {}
        for name, entry in self.declared("payment"):
            node: s.Payment = entry.node
            options = self.options(node.options, node)
            series = self.per_series(options)
            self.reading_payment = name  # issue 15: what a payment was paid so far may be read here
            expr = self.money(node.expr, f"the payment `{name}`", series)
            payer, recipient = self.payer_and_recipient(options, parties, f"the payment `{name}`", node.name.span,
                                                        "add e.g. `from municipality to investor` with the parties' names")
            due = self.due(options.get("due"), series)
            if due.date and term and not (term[0] <= due.date <= term[1]):
                self.error("W403", f"the payment `{name}` is due {due.date}, outside the term "
                           f"{term[0]} to {term[1]}", options["due"].span)
            if "when" in options:
                condition = self.condition(options["when"].value, series)
                if condition is not None:
                    self.inline_gates.append(m.Gate(entry.clause, name, None, condition))
            self.reading_payment = None
            during = self.check_during(options.get("during"), series, name)  # issue 15
            if expr is not None:
                result[name] = m.Payment(name, node.label, expr, payer, recipient, due, series, entry.clause,
                                         during=during)
        return result

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
