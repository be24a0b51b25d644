"""INDIGO interchange: a contract's pricing in the INDIGO data standard's shape, and a draft
contract made from an INDIGO project's outcome pricings.

The INDIGO data standard (International Network for Data on Impact and Government Outcomes, the
Government Outcomes Lab, University of Oxford) describes an impact-bond project as a JSON object
(`schema/project.json` of INDIGO-Initiative/indigo-data-standard) whose lists include
`outcome_metrics`, `outcome_pricings`, `outcome_payment_commitments` and `investments`; the
published dataset flattens each list into a CSV file (`original_projects_outcome_pricings.csv`,
one row per priced metric, keyed by `Project ID`).

In:  a checked contract (export) / an INDIGO CSV file or folder, or a project JSON (import).
Out: a project JSON or pricing CSV rows (export) / the text of a draft .sib that `sibc check`
accepts (import), or SibError with E570–E576 pointing at the file, row and cell.

Amounts are Decimals from end to end: JSON numbers are written from their exact decimal text,
never through a float.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import re
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path

import attrs

from . import model as m
from .diagnostics import Diagnostic, SibError
from .source import Source, Span
from .unparse import number, string

# ---------------------------------------------------------------- the dataset's CSV columns
PROJECT = "Project ID"
METRIC = "Outcome Metric Id - (Value)"
CURRENCY = "Currency - (Value)"
PRICE = "Price Per Unit - Amount - (Value)"
PRICE_USD = "Price Per Unit - Amount USD - (Value)"
MAXIMUM = "Maximum Price if all targets achieved - Amount - (Value)"
INCREASES = "Contracted increases to outcome pricing - (Value)"
DESCRIPTION = "Price Description - (Value)"
PRICING_COLUMNS = (PROJECT, METRIC, CURRENCY, PRICE, PRICE_USD, MAXIMUM, INCREASES, DESCRIPTION, "Sources", "Notes")
REQUIRED = (PROJECT, METRIC, PRICE)

PRICINGS_FILE = "original_projects_outcome_pricings.csv"
SIBLINGS = {  # what the importer also reads when it sits beside the pricings
    "projects": "original_projects.csv",
    "metrics": "original_projects_outcome_metrics.csv",
    "investments": "original_projects_investments.csv",
    "commitments": "original_projects_outcome_payment_commitments.csv",
}

_ID = re.compile(r"^INDIGO-POJ-\d{4}$")


# ---------------------------------------------------------------- export
def _exact(value: Fraction | Decimal | int) -> Decimal:
    """A fixed amount of a contract as an exact decimal (money in a contract has finite decimals;
    a third of a krona would print as the nearest 28 digits, which export never meets)."""
    if isinstance(value, Fraction):
        if value.denominator == 1:
            return Decimal(value.numerator)
        return Decimal(value.numerator) / Decimal(value.denominator)
    return Decimal(value)


def _fixed_money(expr: m.Expr, contract: m.Contract) -> Decimal | None:
    """The amount of an expression fixed at signing (a constant, a definition of one, an
    investment), or None."""
    seen = 0
    while isinstance(expr, m.Var) and seen < 100:
        seen += 1
        if expr.name in contract.investments:
            return _exact(contract.investments[expr.name].amount)
        definition = contract.definitions.get(expr.name)
        if definition is None:
            return None
        expr = definition.expr
    if isinstance(expr, m.Const) and expr.ty.kind == "money" and not isinstance(expr.value, bool):
        return _exact(expr.value)
    return None


def _unit_price(expr: m.Expr, contract: m.Contract) -> tuple[Decimal, str] | None:
    """(price, metric name) when a payment is a count of outcomes times a fixed price, also under
    an `if` whose other branch pays nothing: the shape INDIGO calls a price per unit."""
    if isinstance(expr, m.Cond):
        zero = _fixed_money(expr.otherwise, contract)
        return _unit_price(expr.then, contract) if zero == 0 else None
    if isinstance(expr, m.Op) and expr.op == "*" and len(expr.args) == 2:
        for price_side, count_side in (expr.args, expr.args[::-1]):
            price = _fixed_money(price_side, contract)
            if price is not None and isinstance(count_side, (m.Input, m.Var)) \
                    and count_side.ty.kind in ("count", "number", "days"):
                return price, count_side.name
    return None


def _maximum_of(payment: m.Payment, contract: m.Contract) -> Decimal | None:
    """The most one payment can pay: its cap (or its rate card outcome's), else the top of a
    payment grid of fixed amounts."""
    caps = [_fixed_money(c.amount, contract) for c in contract.caps if c.kind == "payment" and c.target == payment.name]
    caps = [c for c in caps if c is not None]
    caps += [_exact(o.cap) for card in contract.rate_cards.values() for o in card.outcomes
             if o.payment == payment.name and o.cap is not None]
    if caps:
        return min(caps)
    if isinstance(payment.expr, m.Steps) and payment.series is None:
        values = [_fixed_money(v, contract) for v in (payment.expr.below, *payment.expr.values)]
        if all(v is not None for v in values):
            return max(values)
    return None


def _card_maximum(card: m.RateCard) -> Decimal | None:
    """The most a rate card pays in all: its total cap, or its cap per participant × the cohort."""
    caps = [_exact(card.total_cap)] if card.total_cap is not None else []
    if card.participant_cap is not None:
        caps.append(_exact(card.participant_cap * card.cohort_size))
    return min(caps) if caps else None


def _total_cap(contract: m.Contract) -> Decimal | None:
    """The most the contract pays in all: a cap on the total, or, when rate cards make every
    payment and each card is capped, the sum of the cards' caps."""
    caps = [_fixed_money(c.amount, contract) for c in contract.caps if c.kind == "total"]
    caps = [c for c in caps if c is not None]
    cards = list(contract.rate_cards.values())
    on_cards = {o.payment for card in cards for o in card.outcomes}
    maxima = [_card_maximum(card) for card in cards]
    if cards and on_cards == set(contract.payments) and all(x is not None for x in maxima):
        caps.append(sum(maxima, Decimal(0)))
    return min(caps) if caps else None


def _v(value) -> dict:
    return {"value": value}


def _label(text, name: str) -> str:
    return text.text if text is not None else name


def _open_terms(payment: m.Payment, contract: m.Contract) -> str:
    """issue 17: a draft's price that reads a `parameter` is not a price yet — INDIGO's price per
    unit is one amount, so none is written, and the description says which terms are still open
    and over which range ("; `price` is not yet agreed: between 10 000 SEK and 30 000 SEK")."""
    from .verify_checks import _fmt

    read: list[str] = []
    for node in m.walk(payment.expr):
        if isinstance(node, m.Input) and node.name in contract.parameters and node.name not in read:
            read.append(node.name)
    said = []
    for name in read:
        p = contract.parameters[name]
        if p.lower is None:
            said.append(f"`{name}` is not yet agreed: yes or no")
        else:
            said.append(f"`{name}` is not yet agreed: between {_fmt(p.lower, p.ty, contract.currency, 'en')} "
                        f"and {_fmt(p.upper, p.ty, contract.currency, 'en')}")
    return "".join(f"; {s}" for s in said)


def _formula(payment: m.Payment, source: Source | None, card_lines: frozenset[str] = frozenset()) -> str:
    span = payment.expr.span
    if isinstance(payment.expr, m.Op) and payment.name in card_lines:
        # a rate card's line: its price (as written) × the count of its outcome
        price = payment.expr.args[0].span
        if source is not None and price is not None and not price.empty:
            return f"{' '.join(source.excerpt(price).split())} × {payment.name}"
    if source is not None and span is not None and not span.empty:
        return " ".join(source.excerpt(span).split())
    return payment.name


def export_project(contract: m.Contract, source: Source | None = None) -> dict:
    """The contract's pricing as an INDIGO project object (schema/project.json): name, dates,
    overall finance, one outcome metric and one outcome pricing per payment, the payers'
    commitments and the investments. Parties are named by their names in the contract, where the
    dataset has INDIGO-ORG ids."""
    cur = contract.currency
    payments = list(contract.payments.values())
    metrics, pricings = [], []
    used: set[str] = set()
    card_lines = frozenset(o.payment for card in contract.rate_cards.values() for o in card.outcomes)
    for n, payment in enumerate(payments, 1):
        unit = _unit_price(payment.expr, contract)
        measure = contract.measures.get(unit[1]) if unit else None
        # a measure that cites its INDIGO metric (as drafts from INDIGO do) keeps that metric's id
        cited = re.findall(r"\boutcomemetric\d+\b", measure.source.text) if measure and measure.source else []
        metric_id = cited[0] if len(cited) == 1 and cited[0] not in used else f"outcomemetric{n}"
        while metric_id in used:
            metric_id += "_"
        used.add(metric_id)
        metric = {"id": metric_id,
                  "definition": _v(_label(payment.label, payment.name)
                                   + (f": {_label(measure.label, measure.name)}" if measure
                                      and _label(measure.label, measure.name) != _label(payment.label, payment.name)
                                      else "")),
                  # the heading is the section as written ("§ 7 Ersättning"): it carries its own §
                  "notes": f"sibdsl payment `{payment.name}`, {payment.clause.heading or 'no section'}"
                           f" line {payment.clause.line}"}
        if measure is not None and measure.description is not None:
            metric["outcome_metric_target"] = _v(measure.description.text)
        if measure is not None and measure.source is not None:
            metric["data_source_for_outcome_validation"] = _v(measure.source.text)
        metrics.append(metric)
        pricing = {"outcome_metric_id": _v(metric_id), "currency": _v(cur),
                   "price_description": _v(_formula(payment, source, card_lines) + _open_terms(payment, contract))}
        if unit is not None:
            pricing["price_per_unit"] = {"amount": _v(unit[0])}
        maximum = _maximum_of(payment, contract)
        if maximum is not None:
            pricing["maximum_price_if_all_targets_achieved"] = {"amount": _v(maximum)}
        pricings.append(pricing)

    total_cap = _total_cap(contract)
    commitments = []
    for payer in contract.parties_with_role("payer"):
        own = [p for p in payments if p.payer == payer.name]
        if not own:
            continue
        commitment = {"organisation_id": _v(payer.name), "organisation_role_category": _v("outcome payer")}
        maxima = [_maximum_of(p, contract) for p in own]
        payers = {p.payer for p in payments}
        maximum = total_cap if total_cap is not None and payers == {payer.name} else \
            (sum(maxima, Decimal(0)) if all(x is not None for x in maxima) else None)
        if total_cap is not None and maximum is not None:
            maximum = min(maximum, total_cap)
        if maximum is not None:
            commitment["maximum_potential_outcome_payment"] = {"currency": _v(cur), "amount": _v(maximum)}
        commitments.append(commitment)

    def committed(i):  # the commitment is the facility where the contract states one (issue 14)
        return i.committed if i.committed is not None else i.amount

    investments = []
    for investment in contract.investments.values():
        drawn = "" if investment.committed is None else \
            f", {_exact(investment.amount)} {cur} of it drawn"
        investments.append({"id": investment.name, "organisation_id": _v(investment.investor),
                            "investment_commitment": {"currency": _v(cur),
                                                      "amount": {"exact": _v(_exact(committed(investment)))}},
                            "notes": f"{_label(investment.label, investment.name)}, paid in on "
                                     f"{investment.date.isoformat()}{drawn}"})

    finance: dict = {}
    if contract.investments:
        finance["total_investment_commitment"] = {
            "currency": _v(cur),
            "amount": {"exact": _v(sum((_exact(committed(i)) for i in contract.investments.values()), Decimal(0)))}}
    overall_max = total_cap
    if overall_max is None and commitments and all("maximum_potential_outcome_payment" in c for c in commitments):
        overall_max = sum((c["maximum_potential_outcome_payment"]["amount"]["value"] for c in commitments), Decimal(0))
    if overall_max is not None:
        finance["maximum_potential_outcome_payment_v2"] = {"currency": _v(cur), "amount": _v(overall_max)}
    if contract.return_limits:
        words = []
        for limit in contract.return_limits:
            rate = format(_exact(limit.rate * 100).normalize(), "f")
            words.append(f"{rate} % in total" if limit.kind == "total" else f"{rate} % per year {limit.kind}")
        finance["maximum_potential_return_type"] = _v("capped return")
        finance["maximum_potential_return"] = _v("; ".join(words))

    # what INDIGO's pricing fields cannot hold (floors, gates, caps per period or participant), in
    # the contract's own words, so that a reader of the export knows the prices are not all of it
    rules = [*(f for f in contract.floors), *(g for g in contract.gates),
             *(c for c in contract.caps if c.kind in ("series", "participant"))]
    if rules and source is not None:
        finance["notes"] = "Also in the contract: " + "; ".join(dict.fromkeys(  # a clause once (issue 14:
            " ".join(source.line_text(r.clause.line).split()) for r in rules))  # a redemption gates several)
    project: dict = {"id": contract.id or "", "name": _v(contract.title.text)}
    dates = {}
    if contract.signed is not None:
        dates["outcomes_contract_signed"] = _v(contract.signed.isoformat())
    if contract.term is not None:
        dates["start_date_of_service_provision"] = _v(contract.term[0].isoformat())
        dates["anticipated_end_date_of_service_provision"] = _v(contract.term[1].isoformat())
    if dates:
        project["dates"] = dates
    if finance:
        project["overall_project_finance"] = finance
    cohorts = list(contract.cohorts.values())
    if len(cohorts) == 1:
        project["service_and_beneficiaries"] = {
            "target_population": _v(_label(cohorts[0].label, cohorts[0].name)),
            "targeted_number_service_users_or_beneficiaries_total": _v(cohorts[0].size)}
    project["organisations"] = [{"id": p.name, "name": _v(p.label.text), "roles": list(p.roles)}
                                for p in contract.parties.values()]
    project["outcome_payment_commitments"] = commitments
    project["investments"] = investments
    project["outcome_metrics"] = metrics
    project["outcome_pricings"] = pricings
    return project


_MARK = "\u0001dec:"


def dumps(value) -> str:
    """JSON text with every Decimal written as an exact JSON number (never through a float)."""
    def mark(v):
        if isinstance(v, Decimal):
            text = format(v.normalize() if v == v.to_integral_value() else v, "f")
            return _MARK + text
        if isinstance(v, dict):
            return {k: mark(x) for k, x in v.items()}
        if isinstance(v, list):
            return [mark(x) for x in v]
        return v

    text = json.dumps(mark(value), ensure_ascii=False, indent=2)
    return re.sub(r'"\\u0001dec:(-?[0-9.]+)"', r"\1", text) + "\n"


def export_csv(contract: m.Contract, source: Source | None = None) -> str:
    """The outcome pricings as rows of the dataset's `original_projects_outcome_pricings.csv`
    (its header, one row per payment), so a spreadsheet of INDIGO rows can take them."""
    project = export_project(contract, source)
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(PRICING_COLUMNS)
    for p in project["outcome_pricings"]:
        price = p.get("price_per_unit", {}).get("amount", {}).get("value")
        maximum = p.get("maximum_price_if_all_targets_achieved", {}).get("amount", {}).get("value")
        writer.writerow([project["id"], p["outcome_metric_id"]["value"], p["currency"]["value"],
                         "" if price is None else format(price, "f"), "",
                         "" if maximum is None else format(maximum, "f"), "", p["price_description"]["value"],
                         "", "exported by sibc from the contract"])
    return out.getvalue()


# ---------------------------------------------------------------- import: reading with positions
@attrs.frozen
class Cell:
    text: str
    span: Span


@attrs.frozen
class Row:
    cells: dict[str, Cell]
    span: Span  # the record's first line

    def get(self, column: str) -> str:
        cell = self.cells.get(column)
        return cell.text.strip() if cell is not None else ""

    def where(self, column: str) -> Span:
        cell = self.cells.get(column)
        return cell.span if cell is not None else self.span


def _records(source: Source) -> list[list[tuple[str, int, int]]]:
    """CSV records (RFC 4180: quoted cells may hold commas, quotes and line breaks) with the
    offsets of each cell, so a diagnostic can point at a cell however many lines a record spans."""
    text, records, record, i, n = source.text, [], [], 0, len(source.text)
    cell_start, value, quoted = 0, [], False
    while i <= n:
        ch = text[i] if i < n else "\n"
        if quoted:
            if i == n:
                raise SibError([Diagnostic("E570", "a quoted cell is never closed", source,
                                           source.span(cell_start, min(cell_start + 1, n)),
                                           hint="a quote (\") that opens a cell must close it")])
            if ch == '"':
                if i + 1 < n and text[i + 1] == '"':
                    value.append('"')
                    i += 2
                    continue
                quoted = False
            else:
                value.append(ch)
            i += 1
            continue
        if ch == '"' and not value and i == cell_start:
            quoted = True
        elif ch == ",":
            record.append(("".join(value), cell_start, i))
            value, cell_start = [], i + 1
        elif ch == "\n":
            record.append(("".join(value), cell_start, i))
            if any(cell for cell, _, _ in record) or len(record) > 1:
                records.append(record)
            record, value, cell_start = [], [], i + 1
        else:
            value.append(ch)
        i += 1
    return records


def _table(source: Source, required: tuple[str, ...] = ()) -> list[Row]:
    records = _records(source)
    if not records:
        raise SibError([Diagnostic("E570", f"{source.name} is empty", source, source.span(0, 0),
                                   hint="export the INDIGO table with its header row")])
    header = [cell.strip() for cell, _, _ in records[0]]
    missing = [c for c in required if c not in header]
    if missing:
        start, end = records[0][0][1], records[0][-1][2]
        raise SibError([Diagnostic(
            "E570", f"{source.name} is not an INDIGO outcome pricings table: no column "
            + ", ".join(f"`{c}`" for c in missing), source, source.span(start, end),
            hint=f"use {PRICINGS_FILE} of the INDIGO dataset (or the folder holding it), "
                 "or a project JSON as `sibc export --indigo` writes it")])
    rows = []
    for record in records[1:]:
        cells = {name: Cell(value, source.span(start, max(end, start + 1)))
                 for name, (value, start, end) in zip(header, record)}
        first = record[0][1]
        rows.append(Row(cells, source.span(first, max(first + 1, record[-1][2]))))
    return rows


def _read(path: Path) -> Source:
    from .outcomes import read_data_file

    source, _notice = read_data_file(path, "INDIGO")
    return source


# ---------------------------------------------------------------- import: the project
@attrs.frozen
class Pricing:
    metric: str
    price: Decimal | None
    maximum: Decimal | None
    currency: str
    description: str
    notes: str
    row: Row | None
    increases: str = ""


@attrs.frozen
class Project:
    id: str
    name: str
    currency: str
    pricings: tuple[Pricing, ...]
    definitions: dict[str, str]  # metric id → its definition, when the dataset has exactly one
    start: datetime.date | None = None
    end: datetime.date | None = None
    investment: Decimal | None = None
    maximum: Decimal | None = None
    payers: tuple[str, ...] = ()
    investors: tuple[str, ...] = ()
    source_name: str = ""
    commitments: tuple[tuple[str, Decimal | None], ...] = ()  # payer → its maximum, where given


_AMOUNT = re.compile(r"^[$£€]?\s*(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$")


def _amount(text: str) -> Decimal | None:
    """An INDIGO amount: digits with an optional decimal part, thousands commas and a leading
    currency sign as the dataset sometimes has them (`$7,500,000`); None for anything else."""
    text = text.strip()
    if not _AMOUNT.match(text):
        return None
    try:
        return Decimal(text.lstrip("$£€").strip().replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
        return None


def _month(text: str, last: bool) -> datetime.date | None:
    """`2018-10`, `2018-10-15` or `2018` as the first (or last) day it names."""
    text = text.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return datetime.date.fromisoformat(text)
        if re.fullmatch(r"\d{4}-\d{2}", text):
            year, month = int(text[:4]), int(text[5:])
            if not last:
                return datetime.date(year, month, 1)
            following = datetime.date(year + month // 12, month % 12 + 1, 1)
            return following - datetime.timedelta(days=1)
        if re.fullmatch(r"\d{4}", text):
            return datetime.date(int(text), 12, 31) if last else datetime.date(int(text), 1, 1)
    except ValueError:
        return None
    return None


def _near(wanted: str, known: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(wanted, known, n=3, cutoff=0.6)
    if close:
        return "did you mean " + " or ".join(close) + "?"
    if known:
        shown = ", ".join(known[:5]) + (" …" if len(known) > 5 else "")
        return f"the file has {len(known)} project{'s' if len(known) != 1 else ''}: {shown}"
    return "the file has no projects"


def _currency(text: str, row: Row, column: str, source: Source, override: str | None) -> str:
    if override:
        return override
    if re.fullmatch(r"[A-Z]{3}", text):
        return text
    raise SibError([Diagnostic(
        "E573", f"the currency `{text or '(empty)'}` is not a three-letter currency code", source,
        row.where(column), label="here",
        hint="give the currency with --currency (e.g. --currency SEK); a contract has one currency")])


def read_project(path: str | Path, project_id: str, currency: str | None = None) -> Project:
    """The project's outcome pricings (and what the files beside them say of it) from the INDIGO
    dataset: `path` is the pricings CSV, the folder holding the dataset's CSV files, or a project
    JSON in the standard's shape."""
    p = Path(path)
    if p.is_dir():
        p = p / PRICINGS_FILE
    if p.suffix.lower() == ".json":
        return _read_json(p, project_id, currency)
    source = _read(p)
    rows = _table(source, REQUIRED)
    ids = sorted({r.get(PROJECT) for r in rows if r.get(PROJECT)})
    mine = [r for r in rows if r.get(PROJECT) == project_id]
    if not mine:
        shape = "" if _ID.match(project_id) else " (INDIGO projects are named INDIGO-POJ-0000)"
        raise SibError([Diagnostic("E571", f"no outcome pricings for project {project_id} in {source.name}{shape}",
                                   source, source.span(0, 0), hint=_near(project_id, ids))])
    errors: list[Diagnostic] = []
    pricings: list[Pricing] = []
    seen: dict[str, Row] = {}
    currencies: dict[str, Row] = {}
    for row in mine:
        metric = row.get(METRIC) or f"row{row.span.line}"
        if metric in seen:
            errors.append(Diagnostic("E575", f"outcome metric {metric} of {project_id} is priced twice",
                                     source, row.where(METRIC), label="again here",
                                     hint=f"the first price is on line {seen[metric].span.line}; keep one row "
                                          "per metric (a second price for a sub-group is a separate metric)"))
            continue
        seen[metric] = row
        price_text, maximum_text = row.get(PRICE), row.get(MAXIMUM)
        price = _amount(price_text) if price_text else None
        if price_text and price is None:
            errors.append(Diagnostic("E572", f"the price of {metric} is not a number: `{price_text}`", source,
                                     row.where(PRICE), label="not an amount",
                                     hint="write the amount in digits (12635 or 12,635.50); leave it empty "
                                          "when the price is not known"))
            continue
        if price is not None and price <= 0:
            errors.append(Diagnostic("E576", f"the price of {metric} is {price_text}, not a positive amount",
                                     source, row.where(PRICE), label="not positive",
                                     hint="a price per outcome is paid for each outcome achieved: give the "
                                          "amount paid, or leave it empty when it is not known"))
            continue
        maximum = _amount(maximum_text) if maximum_text else None
        if maximum_text and maximum is None:
            errors.append(Diagnostic("E572", f"the maximum price of {metric} is not a number: `{maximum_text}`",
                                     source, row.where(MAXIMUM), label="not an amount",
                                     hint="write the amount in digits, or leave the cell empty"))
            continue
        if maximum is not None and maximum <= 0:
            errors.append(Diagnostic("E576", f"the maximum price of {metric} is {maximum_text}, not a positive "
                                     "amount", source, row.where(MAXIMUM), label="not positive",
                                     hint="leave the cell empty when the metric has no maximum"))
            continue
        code = row.get(CURRENCY)
        if price is not None:
            try:
                code = _currency(code, row, CURRENCY, source, currency)
            except SibError as err:
                errors += err.diagnostics
                continue
            currencies.setdefault(code, row)
        pricings.append(Pricing(metric, price, maximum, code, row.get(DESCRIPTION), row.get("Notes"), row,
                               row.get(INCREASES)))
    if len(currencies) > 1:
        (first, first_row), (second, second_row) = list(currencies.items())[:2]
        errors.append(Diagnostic("E573", f"the prices of {project_id} are in {first} and in {second}", source,
                                 second_row.where(CURRENCY), label=f"{second} here",
                                 hint=f"a contract has one currency; {first} is on line {first_row.span.line}. "
                                      "Convert the prices, or give the contract's currency with --currency"))
    if errors:
        raise SibError(errors)
    if not any(pr.price is not None for pr in pricings):
        raise SibError([Diagnostic("E574", f"project {project_id} has no outcome metric with a price per unit",
                                   source, mine[0].span,
                                   hint="a draft needs at least one price; add `Price Per Unit - Amount` to a "
                                        "row, or start from a template: sibc new --template rate-card")])
    cur = next(iter(currencies))
    project = Project(project_id, project_id, cur, tuple(pricings), {}, source_name=str(p))
    return _siblings(project, p.parent)


def _rows_of(path: Path, project_id: str, required: tuple[str, ...]) -> list[Row] | None:
    if not path.is_file():
        return None
    return [r for r in _table(_read(path), required) if r.get(required[0]) == project_id]


def _siblings(project: Project, folder: Path) -> Project:
    """Name, dates, investment and maximum payment from the dataset's other tables, when they sit
    beside the pricings (each is optional: a draft without them is still a draft)."""
    changes: dict = {}
    rows = _rows_of(folder / SIBLINGS["projects"], project.id, ("ID",))
    if rows:
        row = rows[0]
        changes["name"] = row.get("Impact Bond Name - (Value)") or project.id
        changes["start"] = _month(row.get("Dates - Start date of service provision - (Value)"), last=False)
        for column in ("Dates - Actual end date of service provision - (Value)",
                       "Dates - Anticipated end date of service provision - (Value)"):
            end = _month(row.get(column), last=True)
            if end is not None and (changes["start"] is None or end > changes["start"]):
                changes["end"] = end
                break
        if row.get("Overall project finance - Total investment commitment - Currency - (Value)") == project.currency:
            changes["investment"] = _amount(
                row.get("Overall project finance - Total investment commitment - Amount - Exact - (Value)"))
        if row.get("Overall project finance - Maximum potential outcome payment - Currency - (Value)") in ("", project.currency):
            changes["maximum"] = _amount(
                row.get("Overall project finance - Maximum potential outcome payment - Amount - (Value)"))
    metrics = _rows_of(folder / SIBLINGS["metrics"], project.id, (PROJECT, "Id"))
    if metrics:
        by_id: dict[str, list[str]] = {}
        for row in metrics:
            by_id.setdefault(row.get("Id"), []).append(row.get("Outcome Definition - (Value)"))
        changes["definitions"] = {k: v[0] for k, v in by_id.items() if len(v) == 1 and v[0]}
    commitments = _rows_of(folder / SIBLINGS["commitments"], project.id, (PROJECT,))
    if commitments:
        changes["payers"] = tuple(r.get("Organisation ID - (Value)") for r in commitments if r.get("Organisation ID - (Value)"))
        changes["commitments"] = tuple((r.get("Organisation ID - (Value)") or "?",
                                        _amount(r.get("Maximum potential Outcome payment - Amount - (Value)")))
                                       for r in commitments)
        if changes.get("maximum") is None:
            amounts = [_amount(r.get("Maximum potential Outcome payment - Amount - (Value)")) for r in commitments]
            currencies = {r.get("Maximum potential Outcome payment - Currency - (Value)") for r in commitments}
            if amounts and all(a is not None for a in amounts) and currencies <= {"", project.currency}:
                changes["maximum"] = sum(amounts, Decimal(0))
    investments = _rows_of(folder / SIBLINGS["investments"], project.id, (PROJECT,))
    if investments:
        changes["investors"] = tuple(r.get("Organisation ID - (Value)") for r in investments
                                     if r.get("Organisation ID - (Value)"))
        if changes.get("investment") is None:
            amounts = [_amount(r.get("Investment Commitment - Amount - Exact - (Value)")) for r in investments]
            currencies = {r.get("Investment Commitment - Currency - (Value)") for r in investments}
            if amounts and all(a is not None for a in amounts) and currencies == {project.currency}:
                changes["investment"] = sum(amounts, Decimal(0))
    return attrs.evolve(project, **{k: v for k, v in changes.items() if v is not None})


def _read_json(path: Path, project_id: str, currency: str | None) -> Project:
    source = _read(path)
    try:
        data = json.loads(source.text, parse_float=Decimal, parse_int=Decimal)
    except json.JSONDecodeError as err:
        at = min(err.pos, len(source.text))
        raise SibError([Diagnostic("E570", f"the INDIGO file is not valid JSON: {err.msg}", source,
                                   source.span(at, min(at + 1, len(source.text))),
                                   hint="check for a missing comma, quote or brace near here")]) from None
    projects = data.get("projects", [data]) if isinstance(data, dict) else data
    if not isinstance(projects, list) or not all(isinstance(p, dict) for p in projects):
        raise SibError([Diagnostic("E570", "the INDIGO file is not a project object or a list of them", source,
                                   source.span(0, min(1, len(source.text))),
                                   hint="use a project JSON as `sibc export --indigo` writes it")])
    ids = [str(p.get("id", "")) for p in projects]
    mine = [p for p in projects if str(p.get("id", "")) == project_id]
    if not mine:
        raise SibError([Diagnostic("E571", f"no project {project_id} in {source.name}", source,
                                   source.span(0, min(1, len(source.text))), hint=_near(project_id, ids))])
    project = mine[0]

    def value(obj, *keys):
        for key in keys:
            obj = obj.get(key) if isinstance(obj, dict) else None
        return obj.get("value") if isinstance(obj, dict) else None

    def at(key: str) -> Span:
        found = source.text.find(f'"{key}"')
        return source.span(found, found + len(key) + 2) if found >= 0 else source.span(0, min(1, len(source.text)))

    pricings, currencies, errors = [], set(), []
    for item in project.get("outcome_pricings") or []:
        metric = str(value(item, "outcome_metric_id") or "")
        price = value(item, "price_per_unit", "amount")
        maximum = value(item, "maximum_price_if_all_targets_achieved", "amount")
        price = _amount(str(price)) if price is not None else None
        maximum = _amount(str(maximum)) if maximum is not None else None
        code = currency or str(value(item, "currency") or "")
        if price is not None and not re.fullmatch(r"[A-Z]{3}", code):
            errors.append(Diagnostic("E573", f"the currency `{code}` of {metric} is not a three-letter code",
                                     source, at("currency"), hint="give the currency with --currency"))
            continue
        if price is not None:
            currencies.add(code)
        pricings.append(Pricing(metric, price, maximum, code, str(value(item, "price_description") or ""),
                                str(item.get("notes") or ""), None))
    if errors:
        raise SibError(errors)
    if len(currencies) > 1:
        raise SibError([Diagnostic("E573", f"the prices of {project_id} are in {' and '.join(sorted(currencies))}",
                                   source, at("outcome_pricings"), hint="a contract has one currency")])
    if not currencies:
        raise SibError([Diagnostic("E574", f"project {project_id} has no outcome metric with a price per unit",
                                   source, at("outcome_pricings"), hint="add a price_per_unit to a pricing")])
    definitions = {str(mt.get("id")): str(value(mt, "definition") or "") for mt in project.get("outcome_metrics") or []}
    dates = project.get("dates") or {}
    finance = project.get("overall_project_finance") or {}
    investment = value(finance, "total_investment_commitment", "amount", "exact")
    maximum = value(finance, "maximum_potential_outcome_payment_v2", "amount")
    return Project(project_id, str(value(project, "name") or project_id), next(iter(currencies)), tuple(pricings),
                   {k: v for k, v in definitions.items() if v},
                   start=_month(str(value(dates, "start_date_of_service_provision") or ""), last=False),
                   end=_month(str(value(dates, "anticipated_end_date_of_service_provision") or ""), last=True),
                   investment=_amount(str(investment)) if investment is not None else None,
                   maximum=_amount(str(maximum)) if maximum is not None else None,
                   payers=tuple(str(value(c, "organisation_id")) for c in project.get("outcome_payment_commitments") or []
                                if value(c, "organisation_id")),
                   investors=tuple(str(value(i, "organisation_id")) for i in project.get("investments") or []
                                   if value(i, "organisation_id")),
                   source_name=str(path))


# ---------------------------------------------------------------- import: the draft
def _name(metric: str, used: set[str]) -> str:
    digits = re.fullmatch(r"outcomemetric(\d+)", metric)
    base = f"metric_{digits.group(1)}" if digits else "metric_" + (re.sub(r"[^a-z0-9]+", "_", metric.lower()).strip("_") or "x")
    name, n = base, 2
    while name in used:
        name, n = f"{base}_{n}", n + 1
    used.add(name)
    return name


def _short(text: str, limit: int = 90) -> str:
    line = " ".join(text.split("\n")[0].split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def _comment(text: str) -> str:
    return " ".join(text.split())


def draft(project: Project, *, start: datetime.date | None = None, years: int | None = None,
          title: str | None = None, payer: str | None = None, investor: str | None = None) -> str:
    """The text of a draft contract: one count measure and one payment (count × price) per priced
    outcome metric, a cap per metric where INDIGO gives a maximum, the total capped at the maximum
    outcome payment, and a comment for each metric without a price. A lawyer completes it."""
    cur = project.currency
    begin = start or project.start or datetime.date(datetime.date.today().year, 1, 1)
    end = project.end if project.end is not None and project.end > begin and start is None and years is None else None
    if end is None:
        from .new import _anniversary

        end = _anniversary(begin, years or 4) - datetime.timedelta(days=1)
    amounts = [pr.price for pr in project.pricings if pr.price is not None]
    whole = all(a == a.to_integral_value() for a in amounts)
    step = "1" if whole else "0.01"

    def money(amount: Decimal) -> str:
        return f"{number(amount if not whole or amount != amount.to_integral_value() else amount.quantize(Decimal(1)))} {cur}"

    import itertools

    section = itertools.count(1)
    payer = payer or "Outcome payer" + (f" ({', '.join(project.payers)})" if project.payers else "")
    investor = investor or "Investor" + (f" ({', '.join(project.investors)})" if project.investors else "")
    out = [f"# A draft made with `sibc new --from-indigo` from INDIGO project {project.id}",
           f"# ({Path(project.source_name).name}, the Government Outcomes Lab's INDIGO dataset).",
           "# INDIGO records prices, not the contract: before this is signed, check every figure against",
           "# the outcome contract, name the parties, and add what INDIGO does not record (gates, floors,",
           "# per-period payments, payment dates, return limits, guarantees).",
           f"contract {string(title or _short(project.name, 200))}",
           f"  id {string(project.id)}",
           "  languages en",
           f"  currency {cur}",
           f"  rounding {step} {cur} half up",
           "",
           f'§ {next(section)} "Parties"',
           f"party payer {string(payer)}: payer",
           f"party investor {string(investor)}: investor",
           "",
           f'§ {next(section)} "Term"',
           f"term {begin.isoformat()} to {end.isoformat()}"]
    if project.start is None or project.end is None or start is not None or years is not None:
        out.append("# the term is assumed (INDIGO gives no dates, or they were overridden): set the real one")
    if project.investment is not None:
        out += ["", f'§ {next(section)} "Investment"',
                f"investment capital \"Investment\": {money(project.investment)} from investor on {begin.isoformat()}"]
    out += ["", f'§ {next(section)} "Outcomes and prices"',
            string("One payment per outcome metric: the number of outcomes achieved times the price per outcome "
                   "(INDIGO's outcome pricings).")]
    used: set[str] = set()
    payments = []
    for pricing in project.pricings:
        definition = project.definitions.get(pricing.metric, "")
        if pricing.price is None:
            out += ["", f"# {pricing.metric}: INDIGO gives no price per unit"
                    + (f" ({_comment(_short(definition, 60))})" if definition else "")
                    + "; add its measure and payment from the contract"]
            continue
        name = _name(pricing.metric, used)
        digits = re.fullmatch(r"outcomemetric(\d+)", pricing.metric)
        label = _short(definition) if definition else \
            f"INDIGO outcome metric {digits.group(1) if digits else pricing.metric}"
        out.append("")
        for note in (pricing.description, pricing.increases, pricing.notes):
            if note:
                out.append(f"# INDIGO: {_comment(note)}")
        out += [f"measure {name} {string(label)}: count",
                f"  source {string(f'{project.id}, {pricing.metric}')}",
                f"payment pay_{name} {string('Payment: ' + _short(label, 70))} = {name} * {money(pricing.price)}",
                f"  from payer to investor due {end.isoformat()}"]
        if pricing.maximum is not None:
            out.append(f"cap pay_{name} at {money(pricing.maximum)}")
        payments.append(name)
    if project.maximum is not None:
        out += ["", f'§ {next(section)} "Limits"',
                f"cap overall \"Maximum outcome payment\": total at {money(project.maximum)}",
                "", f'§ {next(section)} "Assurances"',
                f"guarantee within_maximum \"Never more than the maximum outcome payment\": total <= {money(project.maximum)}"]
    elif project.commitments:
        given = "; ".join(f"{org} {money(a) if a is not None else 'not given'}" for org, a in project.commitments)
        out += ["", f"# INDIGO's maximum outcome payments per payer: {given}.",
                "# The total is not known from them: add `cap total at …` from the contract."]
    return "\n".join(out) + "\n"


def summary_of(project: Project) -> str:
    priced = sum(p.price is not None for p in project.pricings)
    unpriced = len(project.pricings) - priced
    return (f"{priced} priced outcome metric{'s' if priced != 1 else ''}"
            + (f", {unpriced} without a price left as comments" if unpriced else ""))
