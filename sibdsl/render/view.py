"""The council document's content, computed once from the checked model: every value a template
shows, as plain text (templates only format and escape). Examples and the chart are computed by
the same evaluation function that settles the contract, so text and numbers cannot disagree."""

from __future__ import annotations

import hashlib
import json
from fractions import Fraction
from pathlib import Path

from .. import __version__
from .. import model as m
from ..diagnostics import SibError
from ..compiler import constant_value
from ..evaluate import EvaluationError, compile_contract
from ..lang import texts
from ..outcomes import load_outcomes
from ..units import BOOL, COUNT, DATE, MONEY, SHARE
from . import chart
from .breakpoints import breakpoints
from .clauses import clause_table, order_of_application, sentence
from .words import Words, listing

T = texts("document")  # the document's own words, per language (sibdsl/texts/document.json)


# clauses whose label is printed as a run-in heading ("Taket. Den sammanlagda ersättningen …"):
# their sentence does not name them, unlike a payment or a measure
_RUN_IN = ("gate", "floor", "cap", "return limit", "guarantee", "waterfall")


def fingerprint(data: bytes) -> str:
    """The SHA-256 of the exact bytes of a contract file (what `sibc fingerprint` prints)."""
    return hashlib.sha256(data).hexdigest()


def money_constants(contract: m.Contract) -> list[Fraction]:
    """The amounts a contract names: its investments, and the money constants and table values of its
    definitions, payments and caps (where a payout is likely to change course)."""
    found = [i.amount for i in contract.investments.values()]
    roots = [*(d.expr for d in contract.definitions.values()), *(p.expr for p in contract.payments.values()),
             *(c.amount for c in contract.caps)]
    for node in m.walk(*roots):
        if isinstance(node, m.Const) and node.ty.kind == MONEY:
            found.append(Fraction(node.value))
        elif isinstance(node, m.Interp) and node.ty.kind == MONEY:
            found.extend(Fraction(y) for y in node.ys)
    return found


def _default(measure: m.Measure):
    kind = measure.ty.kind
    if kind == BOOL:
        return True
    if kind == DATE:
        return None
    return measure.lower if measure.lower is not None and measure.lower > 0 else Fraction(0)


class View:
    """Everything the templates show, in one language."""

    def __init__(self, contract: m.Contract, source_bytes: bytes, lang: str, contract_path: str | Path | None = None,
                 vary: str | None = None, outcomes_path: str | Path | None = None):
        self.contract, self.lang = contract, lang
        self.t = T[lang]
        self.words = Words(contract, lang)
        self.fingerprint = fingerprint(source_bytes)
        self.version = __version__
        self.title = contract.title.get(lang)
        # the PDF's Author: the parties who sign, payer first
        self.author = ", ".join(p.label.get(lang) for p in sorted(contract.parties.values(),
                                                                   key=lambda p: "payer" not in p.roles))
        self.meta = [(self.t[k], v) for k, v in (("id", contract.id), ("version", contract.version),
                     ("signed", self.words.date(contract.signed) if contract.signed else None),
                     ("currency", contract.currency)) if v]
        # the running header of every PDF page: the title, then the id and version, as the council cites it
        self.running = [v for v in (contract.id, f"{self.t['version']} {contract.version}" if contract.version else None) if v]
        self.sections = [self._section(s) for s in contract.sections]
        # the files beside the contract that the worked examples come from: not part of the contract's
        # fingerprint, so the document names them with their own (issue 22: same fingerprint, other examples)
        self.side_files: list[tuple[str, str]] = []
        self.scenarios_note = ""
        self.order, self.order_cuts = order_of_application(contract, lang)
        self.budget = self._budget()
        self.path = Path(contract_path) if contract_path else None
        self.examples = self._examples(vary, outcomes_path)
        self.scenarios = self._scenarios()

    def _seal(self, path: Path) -> None:
        try:
            digest = fingerprint(path.read_bytes())
        except OSError:
            return
        self.side_files.append((self.t["side_fingerprint"].format(file=path.name), digest))

    def _section(self, section: m.Section) -> dict:
        title = section.title.get(self.lang) if section.title else ""
        heading = f"§ {section.number} {title}".strip() if section.number else title
        sentences = [{"label": c.label.get(self.lang) if c.label is not None and c.kind in _RUN_IN else "", "text": text,
                      "table": clause_table(self.contract, c, self.lang)}
                     for c in section.clauses if (text := sentence(self.contract, c, self.lang))]
        return {"heading": heading, "prose": [p.get(self.lang) for p in section.prose], "clauses": sentences}

    # ------------------------------------------------------------ worked examples and chart
    def _base(self, outcomes_path) -> tuple[dict | None, bool]:
        candidates = [Path(outcomes_path)] if outcomes_path else []
        if self.path is not None:
            candidates.append(self.path.with_name(self.path.stem + ".outcomes.json"))
        for candidate in candidates:
            if candidate.exists():
                try:
                    base = load_outcomes(self.contract, candidate)
                except SibError:
                    continue
                self._seal(candidate)
                return base, True
        base = {}
        for name, measure in self.contract.measures.items():
            value = _default(measure)
            if value is None:
                return None, False
            if measure.ty.series:
                value = {p.name: value for p in self.contract.series[measure.ty.series].periods}
            base[name] = value
        return base, False

    def _examples(self, vary: str | None, outcomes_path) -> dict | None:
        contract = self.contract
        numeric = [n for n, msr in contract.measures.items() if msr.ty.kind in (MONEY, SHARE, COUNT, "number", "days")]
        name = vary if vary in numeric else next((n for n in numeric if contract.measures[n].better), None)
        if name is None and numeric:
            name = numeric[0]
        base, from_file = self._base(outcomes_path)
        if name is None or base is None:
            return None
        measure = contract.measures[name]
        kind = measure.ty.kind
        lo = measure.lower if measure.lower is not None else Fraction(0)
        if measure.upper is not None:
            hi = measure.upper
        elif kind == SHARE:
            hi = Fraction(1)
        else:
            scale = [abs(Fraction(v)) for v in money_constants(contract)] if kind == MONEY else \
                [Fraction(c.size) for c in contract.cohorts.values()]
            current = base[name]
            scale += [abs(Fraction(v)) for v in (current.values() if isinstance(current, dict) else [current])]
            hi = lo + (max(scale, default=Fraction(100)) * Fraction(3, 2) or Fraction(100))
        evaluator = compile_contract(contract)

        def settle(x: Fraction):
            values = dict(base)
            values[name] = {p: x for p in base[name]} if isinstance(base[name], dict) else x
            try:
                return evaluator.evaluate(values)
            except EvaluationError:
                return None

        payments = list(contract.payments) + [f.clause.name for f in contract.floors if f.target == "total"] \
            + [c.clause.name for c in contract.covers]  # issue 14: a cover's line is a column too

        seen: dict[Fraction, tuple[Fraction, ...] | None] = {}

        def course(x: Fraction) -> tuple[Fraction, ...] | None:
            if x not in seen:  # the grid, its refinements and each payment's bisection meet at points
                seen[x] = _course(x)
            return seen[x]

        def _course(x: Fraction) -> tuple[Fraction, ...] | None:
            settlement = settle(x)
            if settlement is None:
                return None
            by_line = dict.fromkeys(payments, Fraction(0))
            for line in settlement.lines:
                by_line[line.payment] = by_line.get(line.payment, Fraction(0)) + Fraction(line.amount)
            return (Fraction(settlement.total), *(by_line[p] for p in payments))

        # the worked examples sit where the payout changes its course: at the kinks and steps of the
        # curve, found by evaluating it (the same function that settles the contract) and located exactly
        tolerance = Fraction(contract.rounding.step) * (len(contract.payments) + len(contract.floors)
                                                     + len(contract.covers) + 2)
        points_found = breakpoints(course, lo, hi, tolerance, integer=kind == COUNT)
        if points_found:
            first, last = points_found[0], points_found[-1]
            pad = max((last - first) / 4, (hi - lo) / 40)
            lo_shown = max(lo, first - pad)
            hi_shown = min(hi, last + pad)
            start, end, _ = chart.ticks(lo_shown, hi_shown, 5)  # the axis ends on its ticks
            lo, hi = max(lo, start), min(hi, end)
        if kind == COUNT:
            lo, hi = Fraction(int(lo)), Fraction(-int(-hi))
        table_xs = sorted({lo, *points_found, hi})
        if not points_found:  # a straight line (or no effect): a few round values show its course
            table_xs = sorted({lo, hi, *(x for x in chart.ticks(lo, hi, 5)[2] if lo <= x <= hi)})
        rows, columns = [], {p: [] for p in payments}
        for x in table_xs:
            settlement = settle(x)
            if settlement is None:
                continue
            by_line = {}
            for line in settlement.lines:
                by_line[line.payment] = by_line.get(line.payment, Fraction(0)) + Fraction(line.amount)
            for p in payments:
                columns[p].append(by_line.get(p, Fraction(0)))
            rows.append({"outcome": self.words.value(x, kind), "total": self.words.money(settlement.total),
                         "amounts": [by_line.get(p, Fraction(0)) for p in payments]})
        # a column that is 0 in every example says nothing: it is left out, and the text says so
        dead = [p for p in payments if rows and not any(columns[p])]
        shown = [i for i, p in enumerate(payments) if p not in dead]
        for row in rows:
            row["amounts"] = [self.words.money(row["amounts"][i]) for i in shown]
        samples = 120
        xs = sorted({lo + (hi - lo) * i / samples for i in range(samples + 1)} | set(points_found))
        if kind == COUNT:
            xs = sorted({Fraction(int(x)) for x in xs})
        points = [(x, values[0]) for x in xs if (values := course(x)) is not None]
        marks = []
        for cap in contract.caps:
            if cap.kind == "total" and (value := self._constant(cap.amount)) is not None:
                marks.append(("h", value, self._mark(cap.clause, "cap", cap.amount, value)))
        for floor in contract.floors:
            if floor.target == "total" and (value := self._constant(floor.amount)) is not None:
                marks.append(("h", value, self._mark(floor.clause, "floor", floor.amount, value)))
        for gate in contract.gates:
            if gate.target == "total" and gate.level is not None and (value := self._constant(gate.level)) is not None:
                marks.append(("h", value, self._mark(gate.clause, "gate", gate.level, value)))
        _, _, x_values = chart.ticks(lo, hi, 5)
        x_ticks = [(x, self.words.value(x, kind)) for x in x_values if lo <= x <= hi]
        top = max([y for _, y in points] + [v for _, v, _ in marks] + [Fraction(1)])
        bottom = min([y for _, y in points] + [Fraction(0)])
        _, _, y_values = chart.ticks(bottom, top, 6)
        y_ticks = [(y, self.words.money(y)) for y in y_values]
        label = self.words.label(name)
        ys = [y for _, y in points]
        alt = self.t["alt"].format(
            measure=label, xlo=self.words.value(lo, kind), xhi=self.words.value(hi, kind),
            ylo=self.words.money(min(ys, default=0)), yhi=self.words.money(max(ys, default=0)),
            marks="".join(f"; {text}" for _, _, text in marks))
        svg = chart.svg(points, label, self.t["payout"], x_ticks, y_ticks, marks, title=self.t["chart"], desc=alt)
        headers = [self.words.label(p) for p in payments if p not in dead]
        note = self.t["dead"].format(names=listing([self.words.label(p) for p in dead], self.lang),
                                     zero=self.words.money(0)) if dead else ""
        return {"alt": alt, "measure": label, "note": note, "intro": self.t["examples_intro"].format(
                    measure=label, basis=self.t["basis_file" if from_file else "basis_default"]),
                "headers": headers, "rows": rows, "svg": svg}

    def _mark(self, clause: m.ClauseRef, kind: str, expr: m.Expr, value: Fraction) -> str:
        """A threshold's label in the chart, in words: "Taket 12 000 000 kr", "Skolvillkoret: ”Lånet” 10 000 000 kr"."""
        name = clause.label.get(self.lang) if clause.label is not None else self.t[kind]
        amount = self.words.money(value)
        if isinstance(expr, m.Const):
            return f"{name} {amount}"
        return f"{name}: {self.words.expr(expr)}, {amount}"

    def _constant(self, expr: m.Expr) -> Fraction | None:
        try:
            value = constant_value(expr, self.contract.definitions,
                                   {n: i.amount for n, i in self.contract.investments.items()})
        except Exception:  # noqa: BLE001 — depends on outcomes: no fixed line to draw
            return None
        return Fraction(value) if not isinstance(value, bool) else None

    def _scenarios(self) -> list[dict]:
        if self.path is None:
            return []
        from ..scenarios import load_scenarios, run_scenarios, scenario_path

        path = scenario_path(self.path)
        if not path.exists():
            return []
        try:
            scenarios = load_scenarios(self.contract, path)
        except SibError:
            return []
        out = []
        self._seal(path)
        first = self.contract.languages[0] if self.contract.languages else None
        # a scenario file has one language, the contract's first: a document in another says so
        self.scenarios_note = self.t["scenarios_untranslated"].format(file=path.name) if self.lang != first else ""
        for result in run_scenarios(self.contract, scenarios):
            if not result.passed or result.settlement is None:
                continue  # only passing scenarios are printed: every printed example is a passing test
            s = result.scenario
            values = []
            for name, value in s.outcomes.items():
                msr = self.contract.measures[name]
                if isinstance(value, dict):
                    shown = ", ".join(f"{self.words.period_named(msr.ty.series, p)}: {self.words.value(v, msr.ty.kind)}"
                                      for p, v in value.items())
                else:
                    shown = self.words.value(value, msr.ty.kind)
                values.append(f"{self.words.label(name)} {shown}")
            lines = [f"{self.words.label(ln.payment) if ln.payment in self.contract.payments else ln.payment}"
                     + (f" ({self.words.period_named(None, ln.period)})" if ln.period else "")
                     + (self.t["paid_through"].format(party=self.words.party(ln.recipient))  # issue 14: a waterfall's line
                        if ln.trail and ln.trail[0][0] == "waterfall" else "") + f": {self.words.money(ln.amount)}"
                     for ln in result.settlement.lines if ln.amount]
            out.append({"name": s.name, "description": s.description, "outcomes": "; ".join(values),
                        "lines": lines, "total": self.words.money(result.settlement.total)})
        return out

    def _budget(self) -> dict | None:
        """Issue 15: per payer and calendar year, the most the payer may have to pay, and over the
        whole contract (sibdsl/budget.py), each figure said as what is proved of it: the largest
        possible amount, "at most" a proved upper bound, or no proved upper limit and the measures
        that have none; None for a contract without lines."""
        from ..budget import BOUND, MAXIMUM, UNDATED, listed, proved

        maxima = proved(self.contract)
        if not maxima:
            return None
        t = self.t

        def said(figure) -> str:
            if figure.kind == MAXIMUM:
                return t["budget_largest"].format(amount=self.words.money(figure.amount))
            if figure.kind == BOUND:
                return t["budget_bound"].format(amount=self.words.money(figure.amount))
            if not figure.unbounded_by:
                return t["budget_unbounded_plain"]
            return t["budget_unbounded"].format(
                measures=listed([self.words.label(n) for n in figure.unbounded_by], t["budget_more"]))

        rows = []
        for payer, years in maxima.items():
            for year, figure in years.items():
                label = t["budget_total"] if year == "total" else t["budget_undated"] if year == UNDATED else year
                rows.append([self.words.party(payer), label, said(figure)])
        return {"intro": t["budget_intro"], "headers": [t["budget_payer"], t["budget_year"], t["budget_max"]],
                "rows": rows}

    def as_json(self) -> str:
        return json.dumps({"title": self.title, "sections": self.sections}, ensure_ascii=False, indent=2)
