"""Interim settlements and reconciliation (issue 15): `sibc eval --as-of DATE --paid FILE`.

In: a compiled contract (evaluate.Evaluator), the outcomes measured so far, the inputs not yet
measured (outcomes.load_outcomes(..., as_of=, pending=)), an as-of date (None: the final
settlement) and what was paid before, per line. Out: an `Interim` — each line of the settlement
with its status and what to pay now.

The rule (docs/outcomes.md, "Interim settlements"):

* A line is **settled** when it is due on or before the as-of date and its final amount does not
  depend on any value not yet measured — through its formula, definitions, sums over periods,
  running totals, and every gate, floor and cap that reaches it. What it depends on is computed by
  running the one settlement program on sets of inputs (semantics/pending.py). A cap over all
  periods (a stream, the total, a party) takes its excess from the line paid or declared last
  first, so an earlier period's amount is final once it and the lines before it are measured:
  what a cap consumed in period 1 is not available to period 2.
* Its amount is then exactly what the final settlement will pay it, for any values the missing
  data turn out to have: an interim settlement never pays more than the final one, and the
  final settlement with `--paid` pays the rest. It is computed by the scalar evaluator with each
  missing value set to a placeholder that, by the rule above, cannot change it.
* A line that is due but depends on a missing value is **waiting**, with the values it waits for;
  a line due after the as-of date is **not due** (its amount is shown when it is already known).
* A line is known by its payment, period, recipient and clause (`line_key`): a waterfall makes
  several lines of one payment and period, one per step (`NAME.N`) and party (issue 14). A step's
  line is settled once the vehicle's line and what the step's target received before are known.
* **Reconciliation**: with what was paid before on each line, a settled line pays the difference.
  Nothing is clawed back (the language has no clawback clause): where more was paid before than
  the line now gives, the difference is an **overpayment**, reported (W550), never a negative line.
"""

from __future__ import annotations

import datetime
from collections.abc import Collection, Mapping
from decimal import Decimal
from fractions import Fraction

import attrs

from . import model as m
from .compiler import EvaluationError
from .semantics.pending import waiting
from .settlement import Exact, Line, Settlement, decimal
from .units import BOOL, COUNT, DATE, DAYS, SHARE
from .values import whole

SETTLED, WAITING, NOT_DUE = "settled", "waiting", "not due"


@attrs.frozen
class InterimLine:
    payment: str
    clause: m.ClauseRef
    payer: str
    recipient: str
    period: str | None
    due: datetime.date | None
    status: str  # SETTLED, WAITING or NOT_DUE
    amount: Exact | None  # the line's final amount, where no missing value can change it
    waits_for: tuple[tuple[str, str | None], ...]  # (measure, period) not yet measured
    paid_before: Exact
    pay_now: Exact  # what this settlement pays (never negative)
    overpaid: Exact  # what was paid before beyond the amount (never clawed back)
    line: Line | None  # the settled line with its audit trail

    @property
    def key(self) -> tuple[str, str | None, str, str]:
        """(payment, period, recipient, clause name): see `line_key`."""
        return line_key(self)

    @property
    def paid_to_date(self) -> Exact:
        return whole(self.paid_before + self.pay_now)


@attrs.frozen
class Interim:
    contract: str
    currency: str
    as_of: datetime.date | None  # None: the final settlement, reconciled with what was paid
    lines: tuple[InterimLine, ...]
    pending: tuple[tuple[str, str | None], ...]  # every value not yet measured
    settlement: Settlement  # the evaluator's settlement (missing values at their placeholders)
    model: m.Contract | None = attrs.field(default=None, eq=False, repr=False)  # its headings, for the trail's citations

    @property
    def pay_now(self) -> Exact:
        return whole(sum((ln.pay_now for ln in self.lines), 0))

    @property
    def paid_before(self) -> Exact:
        return whole(sum((ln.paid_before for ln in self.lines), 0))

    @property
    def paid_to_date(self) -> Exact:
        return whole(sum((ln.paid_to_date for ln in self.lines), 0))

    @property
    def overpaid(self) -> Exact:
        return whole(sum((ln.overpaid for ln in self.lines), 0))

    def by_status(self, status: str) -> tuple[InterimLine, ...]:
        return tuple(ln for ln in self.lines if ln.status == status)


def placeholders(contract: m.Contract, pending: Collection[tuple[str, str | None]], which: int = 0) -> dict:
    """A value for each input not yet measured, within its measure's range: the lowest (`which`
    0), the highest or one (1), or a value in between (2). By semantics/pending.py no settled line
    can depend on them; several are tried only so that a division by zero on a waiting line's path
    does not stop the evaluation."""
    values: dict[str, object] = {}
    for name, period in pending:
        measure = contract.measures[name]
        kind = measure.ty.kind
        if kind == BOOL:
            value: object = which == 1
        elif kind == DATE:
            value = contract.term[which % 2] if contract.term else datetime.date(2000, 1, 1)
        else:
            lo = measure.lower if measure.lower is not None else Fraction(0)
            hi = measure.upper if measure.upper is not None else (Fraction(1) if kind == SHARE else lo + 1)
            value = [lo, hi, (lo + hi) / 2][which]
            if kind in (COUNT, DAYS):
                value = Fraction(int(value))
        if period is None:
            values[name] = value
        else:
            values.setdefault(name, {})[period] = value
    return values


def _merge(outcomes: Mapping[str, object], extra: Mapping[str, object]) -> dict[str, object]:
    merged = dict(outcomes)
    for name, value in extra.items():
        if isinstance(value, dict):
            merged[name] = {**value, **merged.get(name, {})}
        else:
            merged[name] = value
    return merged


LineKey = tuple[str, str | None, str, str]  # (payment, period, recipient, clause name)


def line_key(line) -> LineKey:
    """What tells a line of a settlement apart from every other (a program's, a settlement's or an
    interim line): its payment, period, recipient and clause. A waterfall makes several lines of
    one payment and period, one per step and party: each cites its step (`NAME.N`) and its party."""
    return line.payment, line.period, line.recipient, line.clause.name


def lines_of(program, payment: str, period: str | None = None, recipient: str | None = None,
             clause: str | None = None, *, any_period: bool = False) -> list:
    """The lines of `program` that match: a payment, its period (unless `any_period`), and, where
    given, the recipient and the clause (a waterfall's step, `NAME.N`)."""
    return [ln for ln in program.lines if ln.payment == payment and (any_period or ln.period == period)
            and (recipient is None or ln.recipient == recipient)
            and (clause is None or ln.clause.name == clause)]


def resolve_paid(program, paid: Mapping | None) -> dict[LineKey, Exact]:
    """`paid` keyed by `line_key`. A key may also be (payment, period), as before waterfalls were
    settled in parts (issue 14), where it names one line only; a key that names several lines
    raises ValueError (a file of what was paid is read by `load_paid`, which says E558 instead)."""
    out: dict[LineKey, Exact] = {}
    for key, amount in (paid or {}).items():
        if len(key) == 2:
            matches = lines_of(program, *key)
            if len(matches) > 1:
                raise ValueError(f"{key} names {len(matches)} lines: key them by (payment, period, recipient, "
                                 "clause)")
            if not matches:
                continue
            key = line_key(matches[0])
        out[key] = out.get(key, 0) + amount
    return out


def _settled_lines(program, settlement: Settlement) -> list:
    """For each line of `program`, its line in `settlement`, or None: the settlement leaves out a
    floor's top-up that did not act and a waterfall step's line that paid nothing, and keeps the
    program's order otherwise."""
    out, k = [], 0
    lines = settlement.lines
    for spec in program.lines:
        if k < len(lines) and line_key(lines[k]) == line_key(spec):
            out.append(lines[k])
            k += 1
        else:
            out.append(None)
    return out


def settle(evaluator, outcomes: Mapping[str, object], pending: Collection[tuple[str, str | None]] = (),
           as_of: datetime.date | None = None,
           paid: Mapping[tuple, Exact] | None = None) -> Interim:
    """The interim settlement as of `as_of` (None: everything is due), reconciled with `paid`
    (`line_key` → what was paid on that line before; a key (payment, period) is taken where it
    names one line; see the module docstring and `resolve_paid`)."""
    contract, program = evaluator.contract, evaluator.program
    paid = resolve_paid(program, paid)
    pending = frozenset(pending)
    waits = waiting(program, pending)
    error, settlement = None, None
    for which in range(3 if pending else 1):
        try:
            tried = evaluator.evaluate(_merge(outcomes, placeholders(contract, pending, which)))
        except EvaluationError as err:
            error = error or err
            continue
        settlement = settlement or tried
        if not tried.diagnostics:  # no line negative (a cut is settled in order only then)
            settlement = tried
            break
    if settlement is None:
        raise error
    found = _settled_lines(program, settlement)
    measures = {name: k for k, name in enumerate(contract.measures)}
    periods = {(s.name, p.name): k for s in contract.series.values() for k, p in enumerate(s.periods)}

    def order(key: tuple[str, str | None]) -> tuple[int, int]:  # as declared: measures, then periods
        name, period = key
        series = contract.measures[name].ty.series
        return measures[name], periods.get((series, period), -1)

    rows = []
    for spec, wait, line in zip(program.lines, waits, found):
        before = whole(paid.pop(line_key(spec), 0))
        known = not wait
        amount = (line.exact if line is not None else 0) if known else None
        if spec.top_up and known and line is None and not before:
            continue  # the floor did not lift the total: no top-up line, as in the settlement
        due = as_of is None or spec.due is None or spec.due <= as_of
        status = (SETTLED if known else WAITING) if due else NOT_DUE
        pay_now = overpaid = 0
        if status == SETTLED:
            difference = whole(amount - before)
            pay_now, overpaid = (difference, 0) if difference >= 0 else (0, -difference)
        rows.append(InterimLine(spec.payment, spec.clause, spec.payer, spec.recipient, spec.period, spec.due,
                                status, amount, tuple(sorted(wait, key=order)), before, pay_now, overpaid,
                                line if status == SETTLED else None))
    return Interim(contract.title.text, contract.currency, as_of, tuple(rows),
                   tuple(sorted(pending, key=order)), settlement, contract)


def _order(key: tuple[str, str | None]) -> tuple[str, str]:
    return key[0], key[1] or ""


__all__ = ["NOT_DUE", "SETTLED", "WAITING", "Interim", "InterimLine", "LineKey", "decimal", "line_key", "lines_of",
           "placeholders", "resolve_paid", "settle"]


# ------------------------------------------------------------ what was paid before: --paid FILE
class Paid(dict):
    """`line_key` (payment, period, recipient, clause) → what was paid on that line before; `source` and `spans` say where each
    line was read (for W550)."""

    source = None
    spans: dict

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.spans = {}


def load_paid(contract: m.Contract, program, path, *, text: str | None = None, name: str | None = None,
              warnings: list | None = None) -> Paid:
    """What was paid before on each line: the JSON of an earlier `sibc eval --format json` (with or
    without `--as-of`: a line's `paid_to_date` where it has one, else its `amount`) or a CSV with
    the columns `payment`, `period` and `paid`, and optionally `recipient` and `clause` (a waterfall's
    step, `NAME.N`), which tell apart the lines of one payment and period a waterfall makes. A line
    named without them is taken where it is the only one; where it is not, E558. Raises SibError
    with every problem (E554–E556, E558);
    W551 (the file names another contract) goes to `warnings`."""
    from pathlib import Path

    from .diagnostics import SibError
    from .outcomes import read_data_file
    from .source import Source

    if text is None:
        source, notice = read_data_file(Path(path), "paid")
        if notice is not None and warnings is not None:
            warnings.append(notice)
    else:
        source = Source(name or str(path), text)
    reader = _PaidReader(contract, program, source)
    rows = reader.rows()
    result = reader.validate(rows) if rows is not None else Paid()
    result.source = source
    if any(d.code.startswith("E") for d in reader.diagnostics):
        raise SibError([d for d in reader.diagnostics if d.code.startswith("E")])
    if warnings is not None:
        warnings.extend(reader.diagnostics)
    return result


class _PaidReader:
    def __init__(self, contract: m.Contract, program, source):
        self.contract, self.program, self.source = contract, program, source
        self.diagnostics: list = []

    def error(self, code: str, message: str, span, hint: str = "") -> None:
        from .diagnostics import Diagnostic

        self.diagnostics.append(Diagnostic(code, message, self.source, span, hint=hint))

    def span_of(self, needle: str, after: int = 0):
        at = self.source.text.find(needle, after)
        if at < 0:
            return self.source.span(0, 0)
        return self.source.span(at, at + len(needle))

    def rows(self) -> list[tuple] | None:
        """(payment, period, recipient, clause, amount, span) for each line of the file (recipient
        and clause None where not given), or None (E554)."""
        import json
        from decimal import Decimal

        text = self.source.text
        example = 'the JSON of `sibc eval --format json`, or a CSV with the columns payment, period, paid'
        if not text.strip():
            self.error("E554", "the file of what was paid is empty", self.source.span(0, 0), hint=example)
            return None
        if self.source.name.lower().endswith(".csv"):
            return self.csv_rows(example)
        try:
            data = json.loads(text, parse_float=Decimal, parse_int=Decimal)
        except (ValueError, RecursionError) as err:
            pos = getattr(err, "pos", 0) or 0
            self.error("E554", f"the file of what was paid is not valid JSON: {getattr(err, 'msg', err)}",
                       self.source.span(pos, pos + 1), hint=example)
            return None
        if not isinstance(data, dict) or not isinstance(data.get("lines"), list):
            self.error("E554", "the file of what was paid must be a JSON object with a list `lines`",
                       self.source.span(0, 1), hint=example)
            return None
        currency = data.get("currency")
        if currency is not None and currency != self.contract.currency:
            shown = currency if isinstance(currency, str) else json.dumps(currency, default=str)
            self.error("E556", f"the file of what was paid is in {shown[:40]}, the contract in "
                       f"{self.contract.currency}", self.span_of('"currency"'),
                       hint="name the file of the settlement of this contract")
        title = data.get("contract")
        if isinstance(title, str) and title != self.contract.title.text:
            self.error("W551", f"the file of what was paid is from the contract \"{title[:60]}\", not "
                       f"\"{self.contract.title.text}\"", self.span_of(json.dumps(title, ensure_ascii=False)),
                       hint="check that it is the earlier settlement of this contract")
        rows = []
        cursor = max(text.find('"lines"'), 0)
        for line in data["lines"]:
            if not isinstance(line, dict) or not isinstance(line.get("payment"), str):
                first = self.program.lines[0] if self.program.lines else None
                example = json.dumps({"payment": first.payment, "period": first.period, "paid_to_date": "0"},
                                     ensure_ascii=False) if first else '{"payment": …, "period": …, "paid_to_date": …}'
                self.error("E554", "each line of what was paid needs a `payment`", self.span_of("{", cursor),
                           hint=f"e.g. {example}")
                continue
            payment = line["payment"]
            at = text.find('"payment"', cursor)
            span = self.span_of(json.dumps(payment, ensure_ascii=False), at if at >= 0 else cursor)
            cursor = max(cursor, self.source.offsets(span)[1])
            amount = line.get("paid_to_date", line.get("amount"))
            clause = line.get("clause")
            if isinstance(clause, dict):  # as `sibc eval --format json` writes it
                clause = clause.get("name")
            rows.append((payment, line.get("period"), line.get("to", line.get("recipient")), clause, amount, span))
        return rows

    def csv_rows(self, example: str):
        from .outcomes import CsvError, csv_rows, line_starts

        try:
            table, _ = csv_rows(self.source)
        except CsvError as err:
            self.error("E554", err.message, err.span, hint=err.hint)
            return None
        header = [h.strip().lower() for h in table[0]]
        amount = "paid" if "paid" in header else "amount"
        if "payment" not in header or amount not in header:
            first = self.source.span(0, len(self.source.line_text(1)))
            self.error("E554", "the first line must name the columns `payment` and `paid` (and `period`)",
                       first, hint=example)
            return None
        starts = line_starts(self.source.text)
        rows = []
        for number, row in enumerate(table[1:], start=2):
            if not any(c.strip() for c in row):
                continue
            row = row + [""] * (len(header) - len(row))
            cells = dict(zip(header, (c.strip() for c in row)))
            span = self.source.span(starts[number - 1], starts[number - 1] + len(self.source.line_text(number)))
            rows.append((cells["payment"], cells.get("period") or None,
                         cells.get("recipient", cells.get("to")) or None, cells.get("clause") or None,
                         cells[amount], span))
        return rows

    def validate(self, rows) -> Paid:
        from decimal import Decimal

        from .diagnostics import did_you_mean
        from .limits import MAX_DIGITS
        from .numbers import NumberFormatError, parse_quantity

        lines = {(ln.payment, ln.period) for ln in self.program.lines}
        payments = {ln.payment for ln in self.program.lines}
        result = Paid()
        for payment, period, recipient, clause, raw, span in rows:
            if period is not None and not isinstance(period, str):
                self.error("E554", f"the period of `{payment}` must be a name, not {period!r}", span)
                continue
            odd = next(((what, v) for what, v in (("recipient", recipient), ("clause", clause))
                        if v is not None and not isinstance(v, str)), None)
            if odd is not None:
                self.error("E554", f"the {odd[0]} of `{payment}` must be a name, not {odd[1]!r}", span)
                continue
            if payment not in payments:
                self.error("E555", f"the contract has no payment `{payment}`", span,
                           hint=did_you_mean(payment, sorted(payments)) or f"payments: {', '.join(sorted(payments))}")
                continue
            if (payment, period) not in lines:
                periods = [p for n, p in sorted(lines, key=_order) if n == payment]
                what = f"for period `{period}`" if period else "without a period"
                self.error("E555", f"the payment `{payment}` has no line {what}", span,
                           hint=did_you_mean(period or "", [p for p in periods if p]) if period and any(periods)
                           else "its lines: " + ", ".join(p or "(no period)" for p in periods))
                continue
            matches = lines_of(self.program, payment, period, recipient, clause)
            if not matches:
                self.no_such_line(payment, period, recipient, clause, span)
                continue
            if len(matches) > 1:
                self.ambiguous(payment, period, recipient, clause, matches, span)
                continue
            key = line_key(matches[0])
            if key in result:
                self.error("E554", f"{_line_words(matches[0])} is given twice", span,
                           hint="give what was paid on each line once, in total")
                continue
            try:
                if isinstance(raw, Decimal):
                    number, unit = raw, None
                elif isinstance(raw, str):
                    q = parse_quantity(raw, currency=self.contract.currency)
                    number, unit = q.number, q.unit
                else:
                    raise NumberFormatError(f"{raw!r} is not an amount", "write the amount, e.g. \"80 000\"")
            except NumberFormatError as err:
                self.error("E556", f"what was paid on `{payment}`: {err.reason}", span, hint=err.hint)
                continue
            if unit is not None and unit != self.contract.currency:
                self.error("E556", f"what was paid on `{payment}` is in {unit}, the contract in "
                           f"{self.contract.currency}", span, hint=f"give amounts in {self.contract.currency}")
                continue
            if not number.is_finite() or number < 0 or (number != 0 and number.adjusted() >= MAX_DIGITS):
                self.error("E556", f"what was paid on `{payment}` is {raw}: an amount paid is a finite "
                           "number, not negative", span, hint="give what was paid on the line, e.g. \"80 000\"")
                continue
            result[key] = whole(Fraction(number))
            result.spans[key] = span
        return result

    def no_such_line(self, payment, period, recipient, clause, span) -> None:
        """E555: the payment has a line in that period, but none to that recipient or of that clause."""
        from .diagnostics import did_you_mean

        near = lines_of(self.program, payment, period)
        if recipient is not None and not lines_of(self.program, payment, period, recipient):
            names = sorted({ln.recipient for ln in near})
            what, hint = f"to `{recipient}`", did_you_mean(recipient, names) or "its lines go to " + ", ".join(
                f"`{n}`" for n in names)
        else:
            names = sorted({ln.clause.name for ln in lines_of(self.program, payment, period, recipient)})
            what, hint = f"of the clause `{clause}`", did_you_mean(clause, names) or "its lines' clauses: " + ", ".join(
                f"`{n}`" for n in names)
        when = f" for period `{period}`" if period else ""
        self.error("E555", f"the payment `{payment}` has no line{when} {what}", span, hint=hint)

    def ambiguous(self, payment, period, recipient, clause, matches, span) -> None:
        """E558: a line named by its payment and period (and recipient) where a waterfall makes several."""
        when = f" for period `{period}`" if period else ""
        to = f" to `{recipient}`" if recipient else ""
        shown = ", ".join(f"to `{ln.recipient}` by `{ln.clause.name}`" for ln in matches[:4])
        shown += ", …" if len(matches) > 4 else ""
        if self.source.name.lower().endswith(".csv"):
            columns = "the column `clause`" if recipient else "the columns `recipient` and `clause`"
            hint = f"add {columns} (the waterfall's step, e.g. `{matches[-1].clause.name}`) and give each " \
                   "line on a row of its own"
        else:
            hint = "give each line its `to` and `clause` as `sibc eval --format json` writes them, e.g. " \
                   f"\"to\": \"{matches[-1].recipient}\", \"clause\": \"{matches[-1].clause.name}\""
        self.error("E558", f"`{payment}`{when}{to} is {len(matches)} lines of the settlement ({shown}): "
                   "which one was paid?", span, hint=hint)


def _line_words(line) -> str:
    """A line in words: `payment` for period `p` to `r` by `clause` (the last two where a waterfall's)."""
    words = f"`{line.payment}`" + (f" for `{line.period}`" if line.period else "")
    if line.clause.name != line.payment:
        words += f" to `{line.recipient}` by `{line.clause.name}`"
    return words


# ------------------------------------------------------------ words
def _words(lang: str) -> Mapping:
    """The interim settlement's and the trail's words in `lang` (lang.texts reads the file once)."""
    from .lang import texts

    table = texts("interim")
    if lang not in table:
        raise ValueError(f"unsupported language {lang!r}; expected one of {', '.join(sorted(table))}")
    return table[lang]


def _waits_text(waits, w: dict) -> str:
    return ", ".join(w["for_period"].format(measure=name, period=period) if period else name for name, period in waits)


def _label(ln: InterimLine) -> str:
    """A line in a list: payment [period], and for a waterfall's line → recipient (step)."""
    label = ln.payment + (f" [{ln.period}]" if ln.period else "")
    if ln.clause.name != ln.payment:
        label += f" → {ln.recipient}, {ln.clause.name}"
    return label


def _cite(clause: m.ClauseRef, contract: m.Contract | None, lang: str, w: dict) -> str:
    """A clause cited as the document in `lang` names it: `§ 7 Återbetalning, vattenfall repayment.1
    ”Återbetalningsordning” (rad 121)` — its heading, kind and label in `lang`."""
    from .explain_text import section_heading
    from .lang import clause_kind

    heading = section_heading(contract, clause.heading, lang) if contract is not None else clause.heading
    return w["cite"].format(heading=f"{heading}, " if heading else "", kind=clause_kind(clause.kind, lang),
                            name=clause.name, label=w["label"].format(label=clause.label.get(lang)) if clause.label
                            else "", line=clause.line)


def _card_basis(basis: str, w: dict) -> str:
    """A rate card cap's basis in the words of `w`. semantics/program.py writes it in the English of
    interim.json (`card_basis`, `card_order`): it is read back by those templates and said again with
    `w`'s; a basis no template matches is kept as written."""
    import re

    en = _words("en")
    fields = {"name": r"(?P<name>.+?)", "size": r"(?P<size>\d+)", "how": r"(?P<how>.+)"}
    for key, template in en["card_basis"].items():
        pattern = re.escape(template)
        for field, group in fields.items():
            pattern = pattern.replace(re.escape("{" + field + "}"), group)
        found = re.fullmatch(pattern, basis)
        if found:
            parts = found.groupdict()
            if "how" in parts:
                order = next((k for k, text in en["card_order"].items() if text == parts["how"]), None)
                parts["how"] = w["card_order"][order] if order else parts["how"]
            return w["card_basis"][key].format(**parts)
    return basis


def _amounts(lang: str):
    """How the trail and the interim settlement write an amount in `lang`, (value, currency) → text:
    in English exactly as the evaluator's trail does (`398 987.5 SEK`: the English trail is its words,
    trail_details), in another language as sibc writes amounts in it (lang.money: `398 987,50 kr`)."""
    from .lang import money
    from .report import format_amount

    def exact(value) -> Decimal:
        return value if isinstance(value, Decimal) else decimal(value)

    if lang == "en":
        return lambda value, currency: format_amount(exact(value), currency)
    return lambda value, currency: money(exact(value), currency, lang)


def _detail(detail, cur: str, lang: str) -> str:
    """A step's audit text in `lang`, from what the evaluator recorded (a `Detail`'s function and
    arguments): what a floor, cap or limit did, a rounding, a waterfall's step and a return limit's
    release; a text the evaluator wrote itself only where `lang` has no words for it. Every amount
    and number is written as `lang` writes it (lang.money, lang.format_number), in Swedish `1 234,50 kr`."""
    from .evaluate import (coupon_text, factor_text, pro_rata_text, redemption_text, released_text, rounded_text,
                           step_text, waterfall_text)
    from .lang import format_number
    from .values import to_decimal

    w = _words(lang)
    format_amount = _amounts(lang)

    def number(value) -> str:
        return format_number(value, lang, max_decimals=6, plain=True)

    steps = w["steps"]
    if isinstance(detail, str):  # a gate that failed: a fixed text
        return steps["gate failed"] if detail == "the condition does not hold" else detail
    if detail.fn is step_text:
        kind, level, _, period, scale, investor, limit, basis = detail.args
        key = kind.value  # not kind.trail: a cap on the total is a "cap" in the trail, but says "the total …"
        if key == "return limit" and limit is None:  # a rate of return (semantics/returnlimits.py)
            key = "return limit rate"
        if key == "party cap":  # its basis says which side: the payer pays, the recipient receives
            basis = steps.get(f"party cap {basis}", basis)
        if key == "rate card cap":  # which cap of the card, and which of its lines give first
            basis = _card_basis(basis, w)
        if key in steps:
            return steps[key].format(level=format_amount(decimal(level), cur), period=period, scale=scale,
                                     investor=investor, basis=basis,
                                     limit=format_amount(decimal(limit), cur) if limit is not None else "")
    def rounded(raw, mode) -> str:
        exact = to_decimal(raw, 6)  # six places, as the evaluator's English writes it: `exact 1234.500000`
        return steps["rounded"].format(raw=exact if lang == "en" else number(exact),
                                       mode=w["rounding_modes"].get(mode, mode))

    if detail.fn is rounded_text:
        return rounded(*detail.args)
    if detail.fn is pro_rata_text:  # issue 15: the cap's words, then its factor
        text, level, total = detail.args
        return f"{_detail(text, cur, lang)}; {factor_text(level, total, w['factor'], None if lang == 'en' else number)}"
    if detail.fn in (coupon_text, redemption_text):  # issue 14: rate × capital × days; share + interest
        return detail.fn(*detail.args, words=w["coupon"], rounded=rounded, money=format_amount)
    if detail.fn is waterfall_text:
        waterfall, basis, vehicle, level, _, source = detail.args
        name, number = waterfall.rsplit(".", 1)
        return w["waterfall_paid_on" if source else "waterfall_through"].format(
            name=name, number=number, basis=basis, vehicle=vehicle, amount=format_amount(decimal(level), cur))
    if detail.fn is released_text:
        investor, basis, _, amount, kept = detail.args
        return w["released_kept" if kept is not None else "released"].format(
            amount=format_amount(decimal(amount), cur), investor=investor, basis=basis, kept=kept)
    return str(detail)


def trail_details(line, currency: str, lang: str | None) -> list[str]:
    """Each step's detail of a settlement line's audit trail (`line.steps`, one for one) in `lang`,
    worded from what the evaluator recorded as the interim settlement words it; without `lang`, or
    in English, the evaluator's own text, as `sibc eval --format json` has always written it."""
    if lang is None or lang == "en":
        return [step.detail for step in line.steps]
    return [_detail(recorded, currency, lang) if step.detail else step.detail
            for step, (*_, recorded) in zip(line.steps, line.trail)]


def interim_text(interim: Interim, *, trace: bool = True, lang: str = "en") -> str:
    """The interim settlement as a table: every line with its status, what was paid before and
    what is paid now; then what the waiting lines wait for, overpayments and the audit trail. In
    English or Swedish (`lang`; the words are in sibdsl/texts/interim.json). A contract with a
    waterfall gets a column `step`: the clause of each line (a waterfall's step `NAME.N`)."""
    from .report import _table, paid_from, vehicles, visible

    cur = interim.currency
    w = _words(lang)
    status = w["status"]
    format_amount = _amounts(lang)

    def money(value) -> str:
        return "" if value is None else format_amount(decimal(value), cur)

    title = (w["title_as_of"].format(date=interim.as_of.isoformat(), contract=interim.contract) if interim.as_of
             else w["title_final"].format(contract=interim.contract))
    out = [title, ""]
    steps = any(ln.clause.name != ln.payment for ln in interim.lines)
    keep = [k for k in range(10) if steps or k != 2]  # the column `step` only where a line has one
    header = w["columns"]
    rows = [[header[k] for k in keep]]
    through = vehicles(interim.settlement, interim.model)
    for ln in interim.lines:
        cells = [ln.payment, ln.period or "", ln.clause.name if ln.clause.name != ln.payment else "",
                 paid_from(ln, through),
                 ln.recipient, ln.due.isoformat() if ln.due else "", status[ln.status], money(ln.amount),
                 money(ln.paid_before), money(ln.pay_now) if ln.status == SETTLED else ""]
        rows.append([cells[k] for k in keep])
    last = [w["total"], "", "", "", "", "", "", "", money(interim.paid_before), money(interim.pay_now)]
    rows.append([last[k] for k in keep])
    n = len(keep)
    table = _table(rows, {n - 3, n - 2, n - 1})
    rule = "-" * max(len(r) for r in table)
    out += [table[0], rule, *table[1:-1], rule, table[-1]]
    out.append(w["paid_to_date"].format(amount=money(interim.paid_to_date)))
    waiting = [ln for ln in interim.lines if ln.waits_for]
    if waiting:
        out += ["", w["waiting_title"]]
        for ln in waiting:
            out.append(f"  {_label(ln)} ({status[ln.status]}): {_waits_text(ln.waits_for, w)}")
    over = [ln for ln in interim.lines if ln.overpaid]
    if over:
        out += ["", w["overpaid_title"]]
        for ln in over:
            out.append(f"  {_label(ln)}: " + w["overpaid_line"].format(
                paid=money(ln.paid_before), amount=money(ln.amount), overpaid=money(ln.overpaid)))
    if trace:
        settled = [ln for ln in interim.lines if ln.status == SETTLED]
        if settled:
            out += ["", w["trail_title"]]
        kinds = w["kinds"]
        for ln in settled:
            out.append(f"  {_label(ln)}: {money(ln.amount)}")
            trail = ln.line.trail if ln.line is not None else ()
            for step, (*_, recorded) in zip(ln.line.steps if ln.line is not None else (), trail):
                change = (f"{format_amount(step.before, cur)} → {format_amount(step.after, cur)}"
                          if step.before is not None and step.before != step.after
                          else format_amount(step.after, cur))
                detail = f"; {_detail(recorded, cur, lang)}" if step.detail else ""
                out.append(f"    {kinds.get(step.kind, step.kind):<16} {change}  "
                           f"({_cite(step.clause, interim.model, lang, w)}{detail})")
            if not trail and ln.clause.kind == "waterfall":  # a step that paid nothing: still its clause
                out.append(f"    {kinds['waterfall']:<16} {money(ln.amount)}  "
                           f"({_cite(ln.clause, interim.model, lang, w)}; {w['step_paid_nothing']})")
            if ln.paid_before:
                out.append(f"    {w['paid_before']:<16} {money(ln.paid_before)}  (--paid)")
            if ln.overpaid:
                out.append(f"    {w['overpaid']:<16} {money(ln.overpaid)}  ({w['not_clawed_back']})")
            else:
                out.append(f"    {w['pay_now']:<16} {money(ln.pay_now)}")
    return visible("\n".join(out)) + "\n"


def interim_json(interim: Interim, lang: str | None = None) -> dict:
    """A stable JSON form (amounts as decimal strings). Read back by `--paid`: each line's
    `paid_to_date` is what was paid on it after this settlement. The audit trail's details in
    `lang` (trail_details)."""
    from .report import _clause_json, paid_from, step_json, vehicles

    def money(value) -> str | None:
        return None if value is None else str(decimal(value))

    periods = interim.settlement.periods
    through = vehicles(interim.settlement, interim.model)

    return {
        "contract": interim.contract,
        "currency": interim.currency,
        "as_of": interim.as_of.isoformat() if interim.as_of else None,
        "pay_now": money(interim.pay_now),
        "paid_before": money(interim.paid_before),
        "paid_to_date": money(interim.paid_to_date),
        "overpaid": money(interim.overpaid),
        "lines": [
            {
                "payment": ln.payment, "period": ln.period, "periods": periods(ln.payment, ln.period),
                "from": paid_from(ln, through), "to": ln.recipient,
                **({"payer": ln.payer} if ln.clause.kind == "waterfall" else {}),  # whose payment the vehicle passed on
                "due": ln.due.isoformat() if ln.due else None,
                "status": ln.status,
                "amount": money(ln.amount), "paid_before": money(ln.paid_before), "pay_now": money(ln.pay_now),
                "paid_to_date": money(ln.paid_to_date), "overpaid": money(ln.overpaid),
                "waits_for": [{"measure": n, "period": p, "periods": periods(n, p)} for n, p in ln.waits_for],
                "clause": _clause_json(ln.clause),
                "steps": [step_json(st, detail) for st, detail in
                          (zip(ln.line.steps, trail_details(ln.line, interim.currency, lang))
                           if ln.line is not None else ())],
            }
            for ln in interim.lines
        ],
        "not_yet_measured": [{"measure": n, "period": p, "periods": periods(n, p)} for n, p in interim.pending],
    }


def overpayments(interim: Interim, paid: Mapping | None = None) -> list:
    """W550 for each line on which more was paid before than the settlement gives, at the line
    of the file of what was paid (`paid`, as load_paid read it)."""
    from .diagnostics import Diagnostic
    from .report import format_amount

    cur = interim.currency
    out = []
    for ln in interim.lines:
        if ln.overpaid:
            what = f"`{ln.payment}`" + (f" for period `{ln.period}`" if ln.period else "")
            if ln.clause.name != ln.payment:  # a waterfall's line: its party and step
                what += f" to `{ln.recipient}` by `{ln.clause.name}`"
            out.append(Diagnostic(
                "W550", f"{what} was paid {format_amount(decimal(ln.paid_before), cur)} before; the settlement gives "
                f"{format_amount(decimal(ln.amount), cur)}: {format_amount(decimal(ln.overpaid), cur)} overpaid",
                getattr(paid, "source", None), getattr(paid, "spans", {}).get(ln.key),
                hint="nothing is clawed back (the contract has no clawback clause); the overpayment is "
                "for the parties to settle outside the contract"))
    return out
