"""Outcome files (JSON or CSV) → validated outcomes for `Evaluator.evaluate`.

Every value is checked against the contract's measures: missing, unknown, wrongly typed,
out of range, in the wrong currency, for an unknown period. Problems are collected and
raised together as a SibError whose diagnostics name the file, line and field.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import re
import sys
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import attrs

from . import model as m
from .diagnostics import Diagnostic, SibError, did_you_mean
from .limits import MAX_DIGITS, MAX_OUTCOME_BYTES
from .numbers import NumberFormatError, parse_date, parse_quantity
from .source import Source, Span
from .syntax import SEP
from .units import BOOL, COUNT, DATE, DAYS, MONEY, NUMBER, SHARE
from .values import to_decimal
from .xlsx import is_workbook

_TRUE = {"true", "yes", "ja", "sant", "1"}
_FALSE = {"false", "no", "nej", "falskt", "0"}
#: the words that say a value is not yet measured (issue 15), in English and Swedish, as well as
#: JSON `null` and an empty cell in a CSV file or a workbook: see docs/outcomes.md
PENDING_WORDS = ("pending", "not measured", "not yet measured", "ej mätt", "inte mätt", "ännu ej mätt",
                 "inte mätt än")


def is_pending(raw: object) -> bool:
    """A raw value that says "not yet measured": null, an empty cell, or one of PENDING_WORDS."""
    if raw is None:
        return True
    if isinstance(raw, str):
        return " ".join(raw.split()).lower() in PENDING_WORDS or not raw.strip()
    return False


NOT_APPLICABLE_WORDS = ("n/a", "not applicable", "ej tillämplig", "ej tillämpligt")


def is_not_applicable(raw: object) -> bool:
    """A raw value that says "not applicable" (issue 15: a cell before its cohort starts)."""
    return isinstance(raw, str) and " ".join(raw.split()).lower() in NOT_APPLICABLE_WORDS


class Located:
    """A raw value with the span it came from."""

    def __init__(self, value: object, span: Span | None):
        self.value, self.span = value, span


class Loader:
    def __init__(self, contract: m.Contract, source: Source, sheet=None, as_of: datetime.date | None = None):
        self.contract = contract
        self.source = source
        self.sheet = sheet
        self.as_of = as_of  # issue 15: an interim settlement: values may be not yet measured
        self.pending: set[tuple[str, str | None]] = set()  # (measure, period) not yet measured
        self.diagnostics: list[Diagnostic] = []
        self.notices: list[Diagnostic] = []  # warnings (W552)

    def error(self, code: str, message: str, span: Span | None, hint: str = "") -> None:
        self.diagnostics.append(Diagnostic(code, message, self.source, span, hint=hint))

    # ------------------------------------------------------------ reading
    def read(self) -> dict[str, object] | None:
        name = self.source.name.lower()
        if self.sheet is not None:
            return self.read_xlsx(self.sheet)
        if name.endswith(".csv") or (name == "<stdin>" and not self.source.text.lstrip().startswith(("{", "["))):
            return self.read_csv()
        return self.read_json()

    def locate(self, key: str, after: int = 0) -> Span:
        needle = json.dumps(key, ensure_ascii=False)
        at = self.source.text.find(needle, after)
        if at < 0:
            at = self.source.text.find(json.dumps(key), after)
        if at < 0:
            return self.source.span(0, 0)
        return self.source.span(at, at + len(needle))

    def _text(self, hint: str) -> str | None:
        """The file's text; None, with E501, when there is none."""
        text = self.source.text
        if not text.strip():
            self.error("E501", "the outcome file is empty", self.source.span(0, 0), hint=hint)
            return None
        return text

    def read_json(self) -> dict[str, object] | None:
        text = self._text('write one value per measure: {"actual_costs": "48 000 000 SEK"}')
        if text is None:
            return None
        duplicates: list[str] = []

        def pairs(items):
            seen = {}
            for key, value in items:
                if key in seen:
                    duplicates.append(key)
                seen[key] = value
            return seen

        def constant(name):
            raise ValueError(f"{name} is not a number")

        try:
            data = json.loads(text, parse_float=Decimal, parse_int=Decimal, object_pairs_hook=pairs,
                              parse_constant=constant)
        except RecursionError:
            self.error("E501", "the outcome file is nested too deeply to be an outcome file",
                       self.source.span(0, 1), hint='an outcome file is one object: {"measure": value, …}')
            return None
        except json.JSONDecodeError as err:
            self.error("E501", f"the outcome file is not valid JSON: {err.msg}",
                       self.source.span(err.pos, err.pos + 1),
                       hint="check for a missing comma, quote or brace near here")
            return None
        except ValueError as err:
            at = max(text.find("NaN"), text.find("Infinity"))
            self.error("E504", f"{err}: measured values must be finite numbers", self.source.span(
                max(at, 0), max(at, 0) + 3), hint="leave no value as NaN or Infinity; every measure needs a number")
            return None
        for key in dict.fromkeys(duplicates):
            first = self.locate(key)
            second = self.locate(key, self.source.offsets(first)[1])
            self.error("E508", f"`{key}` is given twice", second, hint="keep one value per measure")
        if not isinstance(data, dict):
            self.error("E501", "the outcome file must be a JSON object of measure names and values",
                       self.source.span(0, 1), hint='e.g. {"actual_costs": "48 000 000 SEK"}')
            return None
        result = {}
        cursor = 0
        for key, value in data.items():
            if key.startswith("_"):  # "_comment", "_source": notes for people, ignored
                continue
            span = self.locate(key, cursor)
            cursor = self.source.offsets(span)[1] or cursor
            if isinstance(value, dict):
                per = {}
                inner = cursor
                for period, v in value.items():
                    pspan = self.locate(period, inner)
                    inner = self.source.offsets(pspan)[1] or inner
                    if isinstance(v, dict):  # issue 15: a value per two series, a row per period of the first
                        row = {}
                        for cell, w in v.items():
                            cspan = self.locate(cell, inner)
                            inner = self.source.offsets(cspan)[1] or inner
                            row[cell] = Located(w, cspan)
                        v = row
                    per[period] = Located(v, pspan)
                result[key] = Located(per, span)
            else:
                result[key] = Located(value, span)
        return result

    def read_csv(self) -> dict[str, object] | None:
        text = self._text("the first line names the columns: measure,value (or measure,period,value)")
        if text is None:
            return None
        try:
            rows, delimiter = csv_rows(self.source)
        except CsvError as err:
            self.error("E501", err.message, err.span, hint=err.hint)
            return None
        spans = [self.source.span(start, start + len(self.source.line_text(i + 1)))
                 for i, start in enumerate(line_starts(self.source.text))]
        return self.read_table(rows, spans, "line", "e.g. `measure,period,value`")

    def read_xlsx(self, sheet) -> dict[str, object] | None:
        if not sheet.rows:
            self.error("E501", f"the sheet {sheet.name} is empty", None,
                       hint="the first row names the columns: measure, value (or measure, period, value)")
            return None
        rows = [list(row) + [""] * (3 - len(row)) for row in sheet.rows]
        return self.read_table(rows, sheet.line_spans, "row", "e.g. measure | period | value in cells A1:C1",
                               sheet=sheet)

    def read_table(self, rows: list[list], spans: list[Span], what: str, example: str,
                   sheet=None) -> dict[str, object] | None:
        header = [str(h).strip().lower() for h in rows[0]]
        if "measure" not in header or "value" not in header:
            self.error("E501", f"the first {what} must name the columns `measure` and `value` "
                       "(and `period` for values per period)", spans[0], hint=example)
            return None
        col = {name: header.index(name) for name in ("measure", "period", "value") if name in header}
        # issue 15: a column per series, for values per two series (`cohort;year;value`)
        dims = {name: header.index(name.lower()) for name in self.contract.series
                if SEP not in name and name.lower() in header and name.lower() not in col}
        result: dict[str, object] = {}
        for number, row in enumerate(rows[1:], start=2):
            if not any(str(cell).strip() for cell in row):
                continue
            span = spans[number - 1] if number - 1 < len(spans) else self.source.span(0, 0)
            if sheet is None and len(row) < len(header):
                self.error("E501", f"line {number} has {len(row)} columns, the header has {len(header)}",
                           span, hint="every row needs a value in each column")
                continue
            row = list(row) + [""] * (len(header) - len(row))
            name = str(row[col["measure"]]).strip()
            value = row[col["value"]]
            value = value.strip() if isinstance(value, str) else value
            period = str(row[col["period"]]).strip() if "period" in col else ""
            if not period and dims:
                period = self.cell_of(name, row, dims)
            if sheet is not None:  # the caret under the value's cell, not the whole row
                cells = sheet.spans[number - 1]
                located = Located(value, cells[col["value"]] if col["value"] < len(cells) else span)
            else:
                located = Located(value, span)
            if period:
                per = result.setdefault(name, Located({}, span))
                if not isinstance(per.value, dict):
                    self.error("E508", f"`{name}` is given both with and without a period", span)
                    continue
                if period in per.value:
                    self.error("E508", f"`{name}` for period `{period}` is given twice", span)
                    continue
                per.value[period] = located
            else:
                if name in result:
                    self.error("E508", f"`{name}` is given twice", span, hint="keep one value per measure")
                    continue
                result[name] = located
        return result

    # ------------------------------------------------------------ validating
    def validate(self, raw: dict[str, Located], params: dict[str, object] | None = None) -> dict[str, object]:
        measures = self.contract.measures
        parameters = self.contract.parameters
        result: dict[str, object] = {}
        for name, located in raw.items():
            if name not in measures and name not in parameters:
                self.error("E503", f"the contract has no measure `{name}`", located.span,
                           hint=did_you_mean(name, measures) or f"measures: {', '.join(measures)}")
        for name, measure in measures.items():
            if name not in raw and self.as_of is not None and measure.ty.series:
                raw = {**raw, name: Located({}, self.source.span(0, 0))}  # its periods, each as below
            if name not in raw:
                self.error("E502", f"no value for the measure `{name}` ({measure.ty.describe()})",
                           self.source.span(0, 0),
                           hint=f'add it, e.g. "{name}": {_example(measure, self.contract.currency)}')
                continue
            located = raw[name]
            series = self.contract.series.get(measure.ty.series) if measure.ty.series else None
            if series is None:
                if isinstance(located.value, dict):
                    self.error("E504", f"`{name}` is one value, not one per period", located.span,
                               hint=f'write "{name}": {_example(measure, self.contract.currency)}')
                    continue
                if self.not_yet(name, None, located):
                    continue
                value = self.value(measure, located, name)
                if value is not None:
                    result[name] = value
                continue
            if is_pending(located.value):  # the whole series not yet measured
                if self.as_of is None:
                    self.not_yet(name, None, located)
                else:
                    self.pending.update((name, p.name) for p in series.periods)
                    result[name] = {}
                continue
            if not isinstance(located.value, dict):
                periods = ", ".join(p.name for p in series.periods)
                self.error("E504", f"`{name}` needs one value per period of `{series.name}` ({periods})",
                           located.span, hint=f'write "{name}": {{"{series.periods[0].name}": …}}')
                continue
            reported: set[str] = set()
            if SEP in series.name:  # issue 15: {"k1": {"y2021": …}} — a cell `k1 × y2021`
                located, reported = self.cells(name, series, located)
            per = {}
            for period, value in located.value.items():
                if series.period(period) is None and series.inapplicable(period) is not None:
                    self.not_applicable(name, series, period, value)
                    continue
                if series.period(period) is None:
                    self.error("E507", f"`{series.name}` has no period `{period}`", value.span,
                               hint=did_you_mean(period, [p.name for p in series.periods]) or
                               f"periods: {', '.join(p.name for p in series.periods)}")
                    continue
                if self.not_yet(name, period, value):
                    continue
                if self.as_of is not None and series.period(period).end > self.as_of:
                    self.error("E553", f"`{name}` for period `{period}` is given, but the period ends "
                               f"{series.period(period).end.isoformat()}, after the as-of date "
                               f"{self.as_of.isoformat()}", value.span,
                               hint=f"a period is measured after it ends: write `{name}` for `{period}` as "
                               "not yet measured (null, or leave it out), or settle as of a later date")
                    continue
                parsed = self.value(measure, value, f"{name} for {period}")
                if parsed is not None:
                    per[period] = parsed
            for p in series.periods:
                if p.name not in located.value and p.name not in reported:
                    if self.as_of is not None and p.end > self.as_of:  # not over yet: not yet measured
                        self.pending.add((name, p.name))
                        continue
                    self.error("E507", f"no value of `{name}` for period `{p.name}`", located.span,
                               hint=f"give a value for every period of `{series.name}`"
                               + ("; one not yet measured is written as null (JSON) or `pending` (CSV)"
                                  if self.as_of is not None else ""))
            result[name] = per
        result.update(self.parameter_values(raw, params or {}))
        return result

    def not_applicable(self, name: str, series: m.Series, cell: str, located: Located) -> None:
        """A value for a cell that is not applicable (a cohort's period before it starts): nothing is
        read in it, so a value given for it is a mistake (E582) — most often a table filled with 0
        in every cell, or a value in the wrong row. Left out, null or `n/a`, it needs nothing."""
        if is_pending(located.value) or is_not_applicable(located.value):
            return
        first, second = series.name.split(SEP)
        outer, inner = cell.split(SEP)
        starts = self.contract.series[first].period(outer).start
        ends = series.inapplicable(cell).end
        self.error("E582", f"`{name}` is given for `{cell}`, a cell that is not applicable: `{inner}` ends "
                   f"{ends.isoformat()}, before `{outer}` starts ({starts.isoformat()})", located.span,
                   hint=f"leave the cell out (or write n/a): a period of `{second}` that ends before the "
                   f"cell's period of `{first}` starts is not measured, and nothing is paid in it")

    def cell_of(self, name: str, row: list, dims: dict[str, int]) -> str:
        """The period of a row from its columns named after series: the cell `a × b` of a measure
        per two series, the period of a measure per one of them; "" when the columns are empty."""
        measure = self.contract.measures.get(name)
        series = measure.ty.series if measure is not None else None
        if not series:
            return ""
        names = [str(row[dims[part]]).strip() if part in dims else "" for part in series.split(SEP)]
        return SEP.join(names) if all(names) else ""

    def cells(self, name: str, series: m.Series, located: Located) -> tuple[Located, set[str]]:
        """A measure per two series as one object per period of the first, holding one value per
        period of the second (JSON); a key already `a × b` (a CSV or workbook row, or a flat
        object) is kept as it is. Also the cells already reported (a row of a period the first
        series does not have, a row that is not an object): not reported missing as well."""
        first, second = series.name.split(SEP)
        outers = [p.name for p in self.contract.series[first].periods]
        inners = [p.name for p in self.contract.series[second].periods]
        flat: dict[str, Located] = {}
        reported: set[str] = set()
        for outer, value in located.value.items():
            if SEP in outer:
                flat[outer] = value
                continue
            if outer not in outers:
                self.error("E507", f"`{first}` has no period `{outer}`", value.span,
                           hint=did_you_mean(outer, outers) or f"periods: {', '.join(outers)}")
                continue
            row = [f"{outer}{SEP}{inner}" for inner in inners]
            if is_pending(value.value):  # the whole row not yet measured
                flat.update(dict.fromkeys(row, value))
                continue
            if not isinstance(value.value, dict):
                self.error("E504", f"`{name}` for `{outer}` needs one value per period of `{second}`",
                           value.span, hint=f'write "{outer}": {{"{inners[0]}": …, …}}: a value for each period '
                           f"of `{second}` in the period `{outer}` of `{first}`")
                reported.update(row)
                continue
            for inner, cell in value.value.items():
                if inner not in inners:
                    self.error("E507", f"`{second}` has no period `{inner}` (`{name}` for `{outer}`)", cell.span,
                               hint=did_you_mean(inner, inners) or f"periods: {', '.join(inners)}")
                    continue
                flat[f"{outer}{SEP}{inner}"] = cell
        return Located(flat, located.span), reported

    def parameter_values(self, raw: dict[str, Located], params: dict[str, object]) -> dict[str, object]:
        """issue 17: the value of each of a draft's parameters — from `params` (`--param NAME=VALUE`),
        else from the outcome file (a counterexample carries them): E476 for one with none, E478 for
        a `--param` the contract does not have."""
        parameters = self.contract.parameters
        given: dict[str, tuple[Source, Located]] = {}  # each --param as a source of its own, for the caret
        meant: set[str] = set()  # parameters a misspelt --param stands for: not reported missing as well
        for name, value in params.items():
            option = Source("--param", f"{name}={value}")
            given[name] = (option, Located(value, option.span(len(name) + 1, len(option.text))))
            if name not in parameters:
                suggestion = did_you_mean(name, [p for p in parameters if p not in params])
                if suggestion:
                    meant.add(suggestion.split("`")[1])
                self.diagnostics.append(Diagnostic(
                    "E478", f"the contract has no parameter `{name}`", option, option.span(0, len(name)),
                    label="not a parameter", hint=suggestion or (
                        f"parameters: {', '.join(parameters)}" if parameters else
                        "only a draft with `parameter` declarations takes --param")))
        result = {}
        for name, parameter in parameters.items():
            source, located = given.get(name, (self.source, raw.get(name)))
            if located is None and name in meant:
                continue
            if located is None:
                bounds = _bounds(parameter, parameter.lower, parameter.upper, self.contract.currency) \
                    if parameter.lower is not None else "yes or no"
                self.error("E476", f"no value for the parameter `{name}` ({bounds}): the contract is a draft "
                           "whose terms are not fixed yet", self.source.span(0, 0),
                           hint=f"give a value the parties may agree on (`--param {name}={_param_example(parameter)}`, "
                           f"or `{name}` in the outcome or scenario file), or fix the term in the contract "
                           f"(`define {name} = …`)")
                continue
            outcome_file, self.source = self.source, source
            try:
                value = self.value(parameter, located, name)
            finally:
                self.source = outcome_file
            if value is not None:
                result[name] = value
        return result

    def not_yet(self, name: str, period: str | None, located: Located) -> bool:
        """Whether the value is marked not yet measured: kept in `pending` in an interim settlement
        (`as_of`), E550 in a settlement that needs every value."""
        if not is_pending(located.value):
            return False
        if self.as_of is None:
            what = f"`{name}`" + (f" for period `{period}`" if period else "")
            self.error("E550", f"{what} is not yet measured", located.span,
                       hint="settle what is due so far with `sibc eval --as-of DATE`, or give the measured value")
        else:
            self.pending.add((name, period))
        return True

    def value(self, measure: m.Measure, located: Located, what: str):
        value = self._value(measure, located, what)
        if self.as_of is not None and isinstance(value, datetime.date) and value > self.as_of:
            self.notices.append(Diagnostic(
                "W552", f"`{what}` is {value.isoformat()}, after the as-of date {self.as_of.isoformat()}",
                self.source, located.span,
                hint="a date measured by the as-of date lies on or before it; if it is planned, not yet "
                "measured, write it as not yet measured (null or `pending`)"))
        return value

    def _value(self, measure: m.Measure, located: Located, what: str):
        raw, span = located.value, located.span
        kind = measure.ty.kind
        currency = self.contract.currency
        expected = _example(measure, currency)
        if kind == BOOL:
            if isinstance(raw, bool):
                return raw
            if isinstance(raw, str) and raw.strip().lower() in _TRUE | _FALSE:
                return raw.strip().lower() in _TRUE
            self.error("E504", f"`{what}` must be yes or no, not {_show(raw)}", span,
                       hint="write true or false")
            return None
        if kind == DATE:
            if isinstance(raw, datetime.datetime) and raw.time() == datetime.time(0):
                return raw.date()
            if isinstance(raw, datetime.date) and not isinstance(raw, datetime.datetime):
                return raw
            try:
                return parse_date(str(raw))
            except NumberFormatError as err:
                self.error("E504", f"`{what}` must be a date: {err.reason}", span, hint=err.hint)
                return None
        if isinstance(raw, bool) or raw is None or isinstance(raw, (dict, list, datetime.date)):
            self.error("E504", f"`{what}` must be {measure.ty.plain().describe()}, not {_show(raw)}", span,
                       hint=f"e.g. {expected}")
            return None
        if isinstance(raw, Decimal):
            number, unit = raw, None
        else:
            try:
                quantity = parse_quantity(str(raw), currency=currency)
            except NumberFormatError as err:
                self.error("E504", f"`{what}`: {err.reason}", span, hint=err.hint)
                return None
            number, unit = quantity.number, quantity.unit
        if not number.is_finite():
            self.error("E504", f"`{what}` must be a finite number", span)
            return None
        if number != 0 and (number.adjusted() >= MAX_DIGITS or len(number.as_tuple().digits) > MAX_DIGITS):
            self.error("E505", f"`{what}` has more than {MAX_DIGITS} digits", span,
                       hint="check the figure; measured values need at most 30 digits")
            return None
        value = Fraction(number)
        if kind == MONEY:
            if unit is not None and unit != currency:
                code = "E506" if re.fullmatch(r"[A-Z]{3}", unit) else "E504"
                self.error(code, f"`{what}` is in {unit}, the contract in {currency}", span,
                           hint=f"convert the amount to {currency} before evaluating")
                return None
        elif kind == SHARE:
            if unit == "%":
                value /= 100
            elif unit is not None:
                self.error("E504", f"`{what}` is a share; `{unit}` is not its unit", span, hint="write 12 % or 0.12")
                return None
        elif kind == DAYS:
            if unit not in (None, "day", "days", "dag", "dagar"):
                self.error("E504", f"`{what}` is a number of days; `{unit}` is not its unit", span)
                return None
        elif unit is not None:
            self.error("E504", f"`{what}` is {measure.ty.plain().describe()}; `{unit}` is not its unit", span,
                       hint=f"e.g. {expected}")
            return None
        if kind == COUNT and value.denominator != 1:
            self.error("E504", f"`{what}` is a count and must be a whole number, not {_show(raw)}", span)
            return None
        if kind == DAYS and value.denominator != 1:  # issue 15: days are counted whole, as in the calendar
            self.error("E504", f"`{what}` is a number of days and must be a whole number, not {_show(raw)}", span,
                       hint="count whole days; a measure that can be fractional (an average) is a `number`")
            return None
        lower, upper = measure.lower, measure.upper
        if lower is None and upper is None:
            lower = Fraction(0) if kind in (MONEY, COUNT, DAYS, SHARE) else None
            upper = Fraction(1) if kind == SHARE else None
        if (lower is not None and value < lower) or (upper is not None and value > upper):
            bounds = _bounds(measure, lower, upper, currency)
            if kind == SHARE and unit is None and 1 < value <= 100:
                hint = (f"a share without `%` is a fraction of 1: write \"{_show(raw).strip('`')} %\" "
                        f"or {to_decimal(value / 100)}")
            elif measure.lower is not None or measure.upper is not None:
                hint = "check the figure; the contract declares the range with `between`"
            else:
                hint = "negative counts, amounts and days are impossible; shares lie between 0 % and 100 %"
            self.error("E505", f"`{what}` is {_show(raw)}, outside {bounds}", span, hint=hint)
            return None
        return value


def _show(raw) -> str:
    if isinstance(raw, Located):
        raw = raw.value
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if raw is None:
        return "null"
    text = str(raw)
    return f"`{text[:40]}`"


def _bounds(measure: m.Measure, lower, upper, currency) -> str:
    from .report import format_value

    lo = format_value(lower, measure.ty) if lower is not None else "−∞"
    hi = format_value(upper, measure.ty) if upper is not None else "∞"
    return f"{lo} to {hi}"


def _param_example(parameter: m.Measure) -> str:
    if parameter.lower is None:
        return "yes"
    middle = (parameter.lower + parameter.upper) / 2
    if parameter.ty.kind in (COUNT, DAYS, MONEY):
        middle = Fraction(int(middle))
    if parameter.ty.kind == SHARE:
        return f"{to_decimal(middle * 100)}%"
    return str(to_decimal(middle))


def _example(measure: m.Measure, currency: str) -> str:
    return {
        MONEY: f'"1 000 000 {currency}"', SHARE: '"12 %"', COUNT: "12", NUMBER: "1.5",
        DAYS: "30", DATE: '"2018-12-31"', BOOL: "true",
    }[measure.ty.kind]


def load_outcomes(contract: m.Contract, path: str | Path | None = None, *,
                  text: str | None = None, name: str | None = None,
                  warnings: list[Diagnostic] | None = None, as_of: datetime.date | None = None,
                  pending: set | None = None, params: dict[str, object] | None = None) -> dict[str, object]:
    """Read and validate an outcome file (JSON, CSV or an .xlsx workbook); raise SibError with
    every problem found. Warnings (W501: a CSV read as Windows-1252) go to `warnings`.

    With `as_of` (an interim settlement, issue 15), a value may be not yet measured (null, an empty
    cell, `pending`, `ej mätt`), and a period that ends after `as_of` may be left out; each such
    (measure, period) is added to `pending` (period None for a measure without periods), and the
    value is absent from the outcomes returned. A value for a period that ends after `as_of` is E553.
    Without `as_of` a value not yet measured is E550."""
    sheet = None
    if text is None:
        assert path is not None
        p = Path(path)
        if str(p) != "-" and is_workbook(p):
            from .xlsx import read_sheet

            _check_size(p)
            sheet = read_sheet(p, "E501")
            source = sheet.source
        else:
            source, notice = read_data_file(p, "outcome")
            if notice is not None and warnings is not None:
                warnings.append(notice)
    else:
        source = Source(name or str(path or "<outcomes>"), text)
    loader = Loader(contract, source, sheet, as_of=as_of)
    located = sheet.locate if sheet is not None else list
    raw = loader.read()
    if raw is None or loader.diagnostics:
        raise SibError(located(loader.diagnostics))
    outcomes = loader.validate(raw, params)
    if loader.diagnostics:
        raise SibError(located(loader.diagnostics))
    if pending is not None:
        pending.update(loader.pending)
    if warnings is not None:
        warnings.extend(located(loader.notices))
    return outcomes


def _check_size(p: Path) -> None:
    try:
        if p.stat().st_size > MAX_OUTCOME_BYTES:
            raise SibError([Diagnostic("E501", f"{p} is larger than {MAX_OUTCOME_BYTES:,} bytes",
                                       Source(str(p), ""), None)])
    except OSError as err:
        raise SibError([read_error(str(p), err)]) from None


#: the encodings tried, in order, for a data file that is not UTF-8: what Excel writes on
#: Windows in Western Europe (CSV without "UTF-8"), then ISO-8859-1 for the five bytes
#: Windows-1252 leaves undefined
LEGACY_ENCODINGS = (("cp1252", "Windows-1252"), ("latin-1", "ISO-8859-1 (Latin-1)"))


def read_data_file(p: Path, kind: str) -> tuple[Source, Diagnostic | None]:
    """A CSV or JSON data file as text: UTF-8 with or without a BOM; a file that is not UTF-8
    but decodes as Windows-1252 is read so, with a W501 naming the encoding assumed (never
    mojibake: UTF-8 is always tried first, and a zip or UTF-16 file is refused). `-` is stdin.
    Line breaks are LF, CRLF or a lone CR (old Mac Excel): all are read as line breaks."""
    name = str(p)
    try:
        if name == "-":
            data = sys.stdin.buffer.read(MAX_OUTCOME_BYTES + 1)
            name = "<stdin>"
        else:
            with open(p, "rb") as handle:
                data = handle.read(MAX_OUTCOME_BYTES + 1)
        if len(data) > MAX_OUTCOME_BYTES:
            raise SibError([Diagnostic("E501", f"{name} is larger than {MAX_OUTCOME_BYTES:,} bytes",
                                       Source(name, ""), None)])
        notice = None
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as err:
            if data[:4].startswith(b"PK\x03\x04") or data[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in data:
                raise
            text = None
            for codec, label in LEGACY_ENCODINGS:
                try:
                    text = data.decode(codec)
                except UnicodeDecodeError:
                    continue
                bad = err.start
                line = data.count(b"\n", 0, bad) + 1
                notice = Diagnostic(
                    "W501", f"the {kind} file is not UTF-8; it was read as {label}", Source(name, ""), None,
                    hint=f"byte 0x{data[bad]:02X} on line {line} is not UTF-8; in Excel save as "
                    "\"CSV UTF-8\" to be sure that å, ä and ö read as written")
                break
            if text is None:  # pragma: no cover - latin-1 decodes every byte
                raise
    except (OSError, UnicodeDecodeError) as err:
        raise SibError([read_error(name, err)]) from None
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    source = Source(name, text)
    if notice is not None:
        notice = attrs.evolve(notice, source=source)
    return source, notice


class CsvError(Exception):
    def __init__(self, message: str, span: Span, hint: str):
        super().__init__(message)
        self.message, self.span, self.hint = message, span, hint


#: the longest cell a CSV may hold (Python's csv default); longer is an unclosed quote or not a table
MAX_CELL = 131_072


def line_starts(text: str) -> list[int]:
    starts = [0]
    for line in text.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    return starts


def csv_rows(source: Source) -> tuple[list[list[str]], str]:
    """The rows of a CSV text and its delimiter (`;` or `,`, whichever the first line has more
    of); CsvError for a cell over MAX_CELL characters (an unclosed quote, usually) or a quote
    that breaks the format."""
    text = source.text
    first = text.splitlines()[0] if text else ""
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[list[str]] = []
    starts = line_starts(text)
    try:
        for row in reader:
            rows.append(row)
    except csv.Error as err:
        line = max(1, len(rows) + 1)
        where = starts[min(len(rows), len(starts) - 1)]
        quote = text.find('"', where)
        at = quote if quote >= 0 else where
        span = source.span(at, at + 1)
        if "field larger" in str(err):
            raise CsvError(f"a cell starting on line {source.position(at)[0]} is longer than {MAX_CELL:,} "
                           "characters", span,
                           "a quote (\") that opens a cell must close it; check this line for a lone quote") from None
        raise CsvError(f"line {line} is not valid CSV: {err}", span,
                       "quote a cell that contains the delimiter, a quote or a line break") from None
    return rows, delimiter


def read_error(name: str, err: Exception) -> Diagnostic:
    """E001 for a file that cannot be read, with the reason in words."""
    if isinstance(err, UnicodeDecodeError):
        reason, hint = "it is not UTF-8 text", "save the file as UTF-8 (in Excel: CSV UTF-8)"
        head = err.object[:4] if isinstance(err.object, bytes) else b""
        if head.startswith(b"PK\x03\x04") and name.lower().endswith((".ods", ".numbers")):
            reason, hint = "it is a spreadsheet sibc does not read (OpenDocument or Numbers)", \
                "save it as .xlsx (LibreOffice: File → Save as → Excel 2007-365) or as CSV UTF-8"
        elif head.startswith(b"PK\x03\x04"):
            reason, hint = "it is a spreadsheet workbook or another zip file, not text", \
                "name a workbook with the ending .xlsx (it is read as a spreadsheet), or save it as CSV UTF-8"
        elif head[:2] in (b"\xff\xfe", b"\xfe\xff"):
            reason, hint = "it is UTF-16 text", "save the file as UTF-8 (in Excel: CSV UTF-8)"
    elif isinstance(err, FileNotFoundError):
        reason, hint = "it does not exist", "check the path"
    elif isinstance(err, IsADirectoryError):
        reason, hint = "it is a directory", "name a file"
    elif isinstance(err, PermissionError):
        reason, hint = "permission denied", "check the file's permissions"
    else:
        reason, hint = getattr(err, "strerror", None) or str(err), ""
    return Diagnostic("E001", f"cannot read {name}: {reason}", Source(name, ""), None, hint=hint)
