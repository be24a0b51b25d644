"""Scenarios: named examples of outcomes and the payout a lawyer expects, run as tests.

A scenario file is a table (CSV, as a spreadsheet saves it) beside the contract,
`NAME.scenarios.csv` for `NAME.sib`. One row per scenario:

    scenario;description;actual_costs;reference_costs;school_improved;completed;expect total;expect bonus
    Publicerat utfall;RISE slutrapport;62 000 000 kr;61 000 000 kr;ja;ja;4 000 000 kr;0 kr

Columns (in any order; `;` or `,` between them, decided by the first line):
    scenario              the scenario's name (required, unique)
    description           free text (optional)
    MEASURE               a measured value, written as in an outcome file; MEASURE[PERIOD] for a
                          measure with one value per period
    expect total          the expected total payout
    expect PAYMENT        the expected amount of a payment line (PAYMENT[PERIOD] for one period of
                          a payment per period; a floor's top-up line by the floor's name)
    expect to PARTY       the expected sum paid to a party
An empty expectation cell is not checked. Amounts may be written `4 000 000 SEK`, `4 000 000 kr`
or `4000000`; with `;` between columns a decimal comma (`0,5`) is read as a decimal point.
Problems are diagnostics with the file, row and column: E831–E834, and the outcome-file codes
E502–E508 for the measured values.
"""

from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import attrs

from . import model as m
from .diagnostics import Diagnostic, SibError, did_you_mean
from .evaluate import EvaluationError, Evaluator
from .limits import MAX_SCENARIOS
from .numbers import NumberFormatError, currency_symbols, parse_quantity
from .outcomes import CsvError, Loader, Located, csv_rows, line_starts, read_data_file
from .settlement import Settlement
from .source import Source, Span
from .xlsx import is_workbook

# a rate card's counts are measures `card.outcome` (issue 15)
_COLUMN = re.compile(r"^(?P<name>[^\W\d]\w*(?:\.[^\W\d]\w*)?)(?:\[(?P<period>[^\]]+)\])?$")


@attrs.frozen
class Expectation:
    target: str  # "total", a payment or top-up line name, or a party
    kind: str  # "total", "line", "party"
    period: str | None
    amount: Fraction
    span: Span


@attrs.frozen
class Scenario:
    name: str
    description: str
    row: int
    outcomes: dict
    expectations: tuple[Expectation, ...]
    span: Span


@attrs.frozen
class Check:
    """One expectation against the settlement."""

    expectation: Expectation
    actual: Fraction | None  # None: the settlement has no such line

    @property
    def ok(self) -> bool:
        return self.actual == self.expectation.amount


@attrs.frozen
class Result:
    scenario: Scenario
    settlement: Settlement | None
    checks: tuple[Check, ...]
    error: Diagnostic | None = None

    @property
    def passed(self) -> bool:
        return self.error is None and all(c.ok for c in self.checks)


def scenario_path(contract_path: str | Path) -> Path:
    """The scenario file beside NAME.sib: NAME.scenarios.xlsx if there is one, else
    NAME.scenarios.ods, else NAME.scenarios.csv."""
    p = Path(contract_path)
    stem = p.name[: -len(p.suffix)] if p.suffix else p.name
    for suffix in (".xlsx", ".ods"):
        workbook = p.with_name(stem + ".scenarios" + suffix)
        if workbook.exists():
            return workbook
    return p.with_name(stem + ".scenarios.csv")


def load_scenarios(contract: m.Contract, path: str | Path | None = None, *, text: str | None = None,
                   name: str | None = None, warnings: list[Diagnostic] | None = None) -> list[Scenario]:
    """Read and validate a scenario file (CSV or an .xlsx workbook); raise SibError with every
    problem found. Warnings (W501: a CSV read as Windows-1252) go to `warnings`."""
    if text is None:
        if str(path) != "-" and is_workbook(path):
            from .xlsx import read_sheet

            sheet = read_sheet(path, "E831")
            reader = _Reader(contract, sheet.source, sheet)
            try:
                return reader.read()
            except SibError as err:
                raise SibError(sheet.locate(err.diagnostics)) from None
        source, notice = read_data_file(Path(path), "scenario")
        if notice is not None and warnings is not None:
            warnings.append(notice)
    else:
        source = Source(name or str(path or "<scenarios>"), text.removeprefix("\ufeff"))
    return _Reader(contract, source).read()


class _Reader:
    def __init__(self, contract: m.Contract, source: Source, sheet=None):
        self.contract, self.source, self.sheet = contract, source, sheet
        self.diagnostics: list[Diagnostic] = []

    def error(self, code, message, span, hint=""):
        self.diagnostics.append(Diagnostic(code, message, self.source, span, hint=hint))

    def read(self) -> list[Scenario]:
        text = self.source.text
        if not text.strip():
            raise SibError([Diagnostic("E831", "the scenario file is empty", self.source, self.source.span(0, 0),
                                       hint="the first line names the columns: scenario;MEASURE…;expect total")])
        if self.sheet is not None:
            rows = [[c for c in row] for row in self.sheet.rows]
            width = len(rows[0]) if rows else 0
            rows = [row + [""] * (width - len(row)) if len(row) < width else row for row in rows]
            self.delimiter = "\t"
        else:
            try:
                rows, self.delimiter = csv_rows(self.source)
            except CsvError as err:
                raise SibError([Diagnostic("E831", err.message, self.source, err.span, hint=err.hint)]) from None
        starts = line_starts(text)
        if len(rows) - 1 > MAX_SCENARIOS:
            raise SibError([Diagnostic("E831", f"the scenario file has {len(rows) - 1:,} rows; the limit is "
                                       f"{MAX_SCENARIOS:,}", self.source, self.source.span(0, 0),
                                       hint="split the scenarios over several files (sibc test --scenarios)")])

        def cells(row_index: int, row: list) -> list[Span]:
            """The span of each cell in a line (quotes included), for carets under a cell."""
            if self.sheet is not None:
                spans = self.sheet.spans[row_index]
                return [spans[j] if j < len(spans) else self.sheet.line_spans[row_index] for j in range(len(row))]
            start = starts[row_index]
            line = self.source.line_text(row_index + 1)
            spans, at = [], 0
            for cell in row:
                found = line.find(cell, at) if cell else at
                found = at if found < 0 else found
                spans.append(self.source.span(start + found, start + found + max(len(cell), 1)))
                at = found + len(cell) + 1
            return spans

        header = rows[0]
        header_spans = cells(0, header)
        columns = self.columns(header, header_spans)
        if columns is None:
            raise SibError(self.diagnostics)
        scenarios, seen = [], {}
        for index, row in enumerate(rows[1:], start=1):
            if not any(str(c).strip() for c in row):
                continue
            spans = cells(index, row)
            line_span = self.source.span(starts[index], starts[index] + len(self.source.line_text(index + 1)))
            if self.sheet is not None and len(row) > len(header):
                self.error("E831", f"row {index + 1} has a value beyond the last column with a heading",
                           spans[len(header)], hint="give the column a heading in row 1, or clear the cell")
                continue
            if len(row) != len(header):
                self.error("E831", f"row {index + 1} has {len(row)} cells, the header has {len(header)}", line_span,
                           hint=f"separate cells with `{self.delimiter}`; quote a cell that contains one")
                continue
            scenario = self.scenario(index + 1, row, spans, columns, line_span)
            if scenario is None:
                continue
            if scenario.name in seen:
                self.error("E834", f"the scenario `{scenario.name}` is given twice (rows {seen[scenario.name]} "
                           f"and {index + 1})", spans[columns["scenario"]], hint="give every scenario its own name")
                continue
            seen[scenario.name] = index + 1
            scenarios.append(scenario)
        if self.diagnostics:
            raise SibError(self.diagnostics)
        return scenarios

    def columns(self, header: list[str], spans: list[Span]) -> dict | None:
        result: dict = {"measures": [], "expect": []}
        known = set(self.contract.measures) | set(self.contract.parameters)  # issue 17: a draft's terms too
        lines = set(self.contract.payments) | {f.clause.name for f in self.contract.floors if f.target == "total"} \
            | {c.clause.name for c in self.contract.covers}  # issue 14: a cover's line, by its name
        for i, raw in enumerate(header):
            title = str(raw).strip()
            low = title.lower()
            if low in ("scenario", "description"):
                if low in result:
                    self.error("E831", f"the column `{title}` is given twice", spans[i])
                result[low] = i
                continue
            if low.startswith("expect "):
                target = title[7:].strip()
                if target.lower() == "total":
                    result["expect"].append((i, "total", "total", None))
                    continue
                if target.lower().startswith("to "):
                    party = target[3:].strip()
                    if party not in self.contract.parties:
                        self.error("E832", f"the contract has no party `{party}`", spans[i],
                                   hint=did_you_mean(party, self.contract.parties) or
                                   f"parties: {', '.join(self.contract.parties)}")
                    result["expect"].append((i, "party", party, None))
                    continue
                match = _COLUMN.match(target)
                if not match or match.group("name") not in lines:
                    self.error("E832", f"`{target}` is not a payment of the contract", spans[i],
                               hint=did_you_mean(match.group("name") if match else target, [*lines, "total"])
                               or "expect total, expect PAYMENT or expect to PARTY")
                    continue
                result["expect"].append((i, "line", match.group("name"), match.group("period")))
                continue
            match = _COLUMN.match(title)
            if not match or match.group("name") not in known:
                self.error("E832", f"the column `{title}` is neither a measure nor an expectation", spans[i],
                           hint=did_you_mean(match.group("name") if match else title, known)
                           or "measure columns are named after measures; expectations start with `expect `")
                continue
            result["measures"].append((i, match.group("name"), match.group("period")))
        if "scenario" not in result:
            self.error("E831", "the scenario file has no `scenario` column", spans[0] if spans else None,
                       hint="name each row in a column called `scenario`")
        if self.diagnostics:
            return None
        return result

    def normalise(self, cell) -> object:
        """A cell as the outcome loader reads it: text stripped; a spreadsheet's number, date or
        yes/no cell as it is (numbers already exact)."""
        return cell.strip() if isinstance(cell, str) else cell

    def scenario(self, row_number, row, spans, columns, line_span) -> Scenario | None:
        name = str(row[columns["scenario"]]).strip()
        if not name:
            self.error("E831", f"row {row_number} has no scenario name", spans[columns["scenario"]],
                       hint="write a short name in the `scenario` column")
            return None
        raw: dict[str, Located] = {}
        for i, measure, period in columns["measures"]:
            value = Located(self.normalise(row[i]), spans[i])
            if period:
                raw.setdefault(measure, Located({}, spans[i])).value[period] = value
            else:
                raw[measure] = value
        for measure in self.contract.measures:
            raw.setdefault(measure, None)
        loader = Loader(self.contract, self.source)
        present = {k: v for k, v in raw.items() if v is not None and not (
            isinstance(v.value, str) and v.value == "")}
        missing = [k for k in self.contract.measures if k not in present]
        for k in missing:
            self.error("E502", f"scenario `{name}` has no value for the measure `{k}`", line_span,
                       hint=f"add a column `{k}` and fill it in on every row")
        outcomes = loader.validate({k: v for k, v in present.items()}) if not missing else {}
        self.diagnostics += [d for d in loader.diagnostics if d.code != "E502"]
        expectations = []
        for i, kind, target, period in columns["expect"]:
            cell = self.normalise(row[i])
            if isinstance(cell, str) and not cell:
                continue
            amount = self.amount(cell, spans[i])
            if amount is not None:
                expectations.append(Expectation(target, kind, period, amount, spans[i]))
        description = str(row[columns["description"]]).strip() if "description" in columns else ""
        return Scenario(name, description, row_number, outcomes, tuple(expectations), line_span)

    def amount(self, cell, span: Span) -> Fraction | None:
        currency = self.contract.currency
        written = " or ".join(f"`4 000 000 {symbol}`" for symbol in currency_symbols(currency)[:2])
        if isinstance(cell, Decimal):
            return Fraction(cell)
        try:
            quantity = parse_quantity(str(cell), currency=currency)
        except NumberFormatError as err:
            generic = err.reason.endswith("is not a number")
            self.error("E833", f"`{cell}` is not an amount" + ("" if generic else f" ({err.reason})"), span,
                       hint=f"write e.g. {written}" if generic else err.hint)
            return None
        if quantity.unit not in (None, currency):
            message = (f"`{cell}` is in {quantity.unit}, the contract in {currency}"
                       if re.fullmatch(r"[A-Z]{3}", quantity.unit) else f"`{cell}` is not an amount")
            self.error("E833", message, span, hint=f"write the expected amount in {currency}, e.g. {written}")
            return None
        return Fraction(quantity.number)


def run_scenarios(contract: m.Contract, scenarios: list[Scenario], source: Source | None = None,
                  evaluator: Evaluator | None = None) -> list[Result]:
    """Settle every scenario and compare with its expectations."""
    evaluator = evaluator or Evaluator(contract, source)
    covers = frozenset(c.clause.name for c in contract.covers)
    results = []
    for scenario in scenarios:
        try:
            settlement = evaluator.evaluate(scenario.outcomes)
        except EvaluationError as err:
            results.append(Result(scenario, None, (), err.diagnostic))
            continue
        checks = tuple(Check(e, _actual(settlement, e, covers)) for e in scenario.expectations)
        results.append(Result(scenario, settlement, checks))
    return results


def _actual(settlement: Settlement, e: Expectation, covers: frozenset[str] = frozenset()) -> Fraction | None:
    if e.kind == "total":
        return Fraction(settlement.total)
    if e.kind == "party":
        return Fraction(settlement.by_recipient.get(e.target, Decimal(0)))
    lines = [ln for ln in settlement.lines if ln.payment == e.target and (e.period is None or ln.period == e.period)]
    if not lines:  # issue 14: a cover with no loss to pay has no line: it paid nothing
        return Fraction(0) if e.target in covers else None
    return sum((Fraction(ln.amount) for ln in lines), Fraction(0))
