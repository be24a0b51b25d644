"""Presentation of values and settlements: plain-text tables and JSON (no computation here)."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal
from fractions import Fraction

from .settlement import Settlement
from .source import visible
from .units import BOOL, DATE, DAYS, MONEY, SHARE, Type
from .unparse import number
from .values import to_decimal


def group(amount: Decimal) -> str:
    """12000000.50 → '12 000 000.50' (spaces group thousands, as in the language)."""
    return number(amount)


def format_amount(value: Fraction | Decimal, currency: str) -> str:
    amount = to_decimal(value) if isinstance(value, Fraction) else value
    return f"{group(amount)} {currency}"


def format_value(value: object, ty: Type | None = None) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Fraction):
        value = to_decimal(value)
    if ty is not None and ty.kind == SHARE and isinstance(value, Decimal):
        return f"{group((value * 100).normalize())} %"
    if ty is not None and ty.kind == MONEY and isinstance(value, Decimal):
        return format_amount(value, ty.currency or "")
    if ty is not None and ty.kind == DAYS:
        return f"{group(value)} days"
    if isinstance(value, Decimal):
        return group(value)
    return str(value)


def vehicles(settlement: Settlement | None = None, contract=None) -> dict[str, str]:
    """A waterfall step's clause (`NAME.N`) → the vehicle it distributes from (issue 14): from the
    contract's waterfalls where the model is at hand, else from what the settlement's steps paid."""
    if contract is not None:
        return {f"{wf.clause.name}.{tier.number}": wf.vehicle for wf in contract.waterfalls for tier in wf.tiers}
    if settlement is None or not any(ln.clause.kind == "waterfall" for ln in settlement.lines):
        return {}  # no trail is read for a settlement without a waterfall
    return {w.step: w.vehicle for w in settlement.waterfalls}


def paid_from(line, vehicles: dict[str, str]) -> str:
    """Whom a line's money comes from, as a settlement shows it (its `from`): the line's payer, but
    for a line a waterfall's step paid, the vehicle the step distributes from — the payer paid the
    vehicle, which passes the money on. The line is still the payer's in the totals (`by_payer`, the
    budget by year, `expect` in a scenario file): the payer's cost is unchanged by a waterfall."""
    return vehicles.get(line.clause.name, line.payer) if line.clause.kind == "waterfall" else line.payer


def _table(rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = []
    for row in rows:
        cells = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))]
        out.append("  ".join(cells).rstrip())
    return out


def settlement_text(settlement: Settlement, *, trace: bool = True) -> str:
    cur = settlement.currency
    lines = [f"Settlement: {settlement.contract}", ""]
    rows = [["payment", "period", "from", "to", "due", "amount"]]
    through = vehicles(settlement)
    for ln in settlement.lines:
        rows.append([ln.payment, ln.period or "", paid_from(ln, through), ln.recipient,
                     ln.due.isoformat() if ln.due else "", format_amount(ln.amount, cur)])
    rows.append(["total", "", "", "", "", format_amount(settlement.total, cur)])
    table = _table(rows, {5})
    rule = "-" * len(table[0])
    lines += [table[0], rule, *table[1:-1], rule, table[-1]]
    if settlement.not_applicable:  # issue 15: cells before their cohort starts: no value, no line
        cells: dict[str, list[str]] = {}
        for payment, cell in settlement.not_applicable:
            cells.setdefault(payment, []).append(cell)
        lines += ["", "Not applicable (a period before its cohort starts: nothing measured, nothing paid)"]
        lines += [f"  {payment}: {', '.join(names)}" for payment, names in cells.items()]
    if settlement.returns:
        lines += ["", "Investor return"]
        for r in (*settlement.returns, *settlement.class_returns):
            lines += _return_text(r, cur)
    if settlement.waterfalls:  # issue 14: what each waterfall step paid to whom
        lines += ["", "Waterfall"]
        for w in settlement.waterfalls:
            paid = ", ".join(f"{format_amount(a, cur)} to {r}" for r, a in w.paid)
            lines.append(f"  {w.step} ({w.terms}): {paid}")
    if settlement.guarantees:
        lines += ["", "Guarantees for these outcomes"]
        for g in settlement.guarantees:
            verdict = {True: "holds", False: "VIOLATED"}.get(g.holds) or {
                "monotone": "a property of all outcomes: `sibc verify` proves it",
                "condition": "does not apply (its `when` condition does not hold)",
            }[g.reason]
            lines.append(f"  {g.clause.name}: {verdict}")
    if trace:
        lines += ["", "Audit trail (clause by clause)"]
        for ln in settlement.lines:
            period = f" [{ln.period}]" if ln.period else ""
            if ln.trail and ln.trail[0][0] == "waterfall":  # issue 14: a line a waterfall paid on
                period += f" → {ln.recipient}"
            lines.append(f"  {ln.payment}{period}: {format_amount(ln.amount, cur)}")
            for step in ln.steps:
                change = (f"{format_amount(step.before, cur)} → {format_amount(step.after, cur)}"
                          if step.before is not None and step.before != step.after
                          else format_amount(step.after, cur))
                detail = f"; {step.detail}" if step.detail else ""
                lines.append(f"    {step.kind:<16} {change}  ({step.clause.cite()}{detail})")
    return visible("\n".join(lines)) + "\n"  # labels and titles are contract text: shown, never acted on


def _pct(value: Decimal | None) -> str:
    return "–" if value is None else f"{group((value * 100).quantize(Decimal('0.01')))} %"


def _return_text(r, cur: str) -> list[str]:
    """An investor's (or a class's) line of the returns: drawn (of committed), received, net, the
    return, IRR and multiple, the loss, and what the limits did."""
    drawn = format_amount(r.invested, cur) + (f" of {format_amount(r.committed, cur)} committed"
                                              if r.committed is not None else "")
    annual = f", {_pct(r.annual_simple)} a year (simple)" if r.annual_simple is not None else ""
    if r.irr is not None:
        annual += f", IRR {_pct(r.irr)} a year"
    multiple = f", multiple {r.multiple.normalize():f}" if r.multiple is not None else ""
    limit = f"; the return limits allow at most {format_amount(r.limit, cur)}" if r.limit is not None else ""
    out = [f"  {r.investor}: drawn {drawn}, received {format_amount(r.received, cur)}, net "
           f"{format_amount(r.net, cur)} ({_pct(r.total_return)}{annual}{multiple}){limit}"]
    tail = []
    if r.covered:  # issue 14: the loss before and after first-loss cover
        tail.append(f"loss before cover {format_amount(r.loss_before_cover, cur)}, covered "
                    f"{format_amount(r.covered, cur)} by {', '.join(r.covers)}, loss after cover "
                    f"{format_amount(r.loss, cur)}")
    elif r.loss:
        tail.append(f"loss {format_amount(r.loss, cur)}")
    if r.waterfall_steps:
        tail.append("paid by waterfall step" + ("s " if len(r.waterfall_steps) > 1 else " ")
                    + ", ".join(r.waterfall_steps))
    if r.limits:
        tail.append("cut by the return limit" + ("s " if len(r.limits) > 1 else " ") + ", ".join(r.limits))
    if tail:
        out.append("    " + "; ".join(tail))
    return out


def _return_json(r) -> dict:
    return {"investor": r.investor, "invested": str(r.invested), "received": str(r.received),
            "net": str(r.net), "total_return": _jsonable(r.total_return),
            "annual_simple": _jsonable(r.annual_simple), "limit": _jsonable(r.limit),
            "irr": _jsonable(r.irr), "drawn": str(r.invested),
            "committed": _jsonable(r.committed), "class": r.klass,
            "multiple": _jsonable(r.multiple), "loss": str(r.loss), "limits_acted": list(r.limits),
            **({"waterfall_steps": list(r.waterfall_steps)} if r.waterfall_steps else {}),
            **({"loss_before_cover": str(r.loss_before_cover), "covered": str(r.covered),
                "covers": list(r.covers)} if r.covered else {})}


def _jsonable(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime.date,)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def _clause_json(clause) -> dict:
    return {"kind": clause.kind, "name": clause.name, "heading": clause.heading, "line": clause.line,
            "label": clause.label.text if clause.label else None}


def step_json(st, detail=None) -> dict:
    """One step of a line's audit trail (`detail`: its words in another language, interim.trail_details);
    a cut in proportion's (issue 15) with its factor, exactly (`"250/341"`) and as a percentage to 4 places."""
    out = {"kind": st.kind, "before": None if st.before is None else str(st.before),
           "after": str(st.after), "detail": st.detail if detail is None else detail,
           "clause": _clause_json(st.clause)}
    if st.factor is not None:
        out["factor"] = {"exact": f"{st.factor.numerator}/{st.factor.denominator}",
                         "percent": str(to_decimal(st.factor * 100, 4))}
    return out


def settlement_json(settlement: Settlement, lang: str | None = None) -> dict:
    """A stable JSON form: amounts as decimal strings (never floats). The audit trail's details in
    `lang` (`sv`: as the interim settlement words them, interim.trail_details); without it, as the
    evaluator wrote them (English)."""
    from .interim import trail_details

    through = vehicles(settlement)
    return {
        "contract": settlement.contract,
        "currency": settlement.currency,
        "total": str(settlement.total),
        "lines": [
            {
                "payment": ln.payment, "period": ln.period, "periods": settlement.periods(ln.payment, ln.period),
                "from": paid_from(ln, through), "to": ln.recipient,
                **({"payer": ln.payer} if ln.clause.kind == "waterfall" else {}),  # whose payment the vehicle passed on
                "due": ln.due.isoformat() if ln.due else None, "amount": str(ln.amount),
                "clause": _clause_json(ln.clause),
                "steps": [step_json(st, detail) for st, detail in zip(ln.steps, trail_details(ln, settlement.currency, lang))],
            }
            for ln in settlement.lines
        ],
        **({"not_applicable": [{"payment": payment, "period": cell, "periods": settlement.periods(payment, cell)}
                               for payment, cell in settlement.not_applicable]}
           if settlement.not_applicable else {}),
        "by_recipient": {k: str(v) for k, v in settlement.by_recipient.items()},
        "by_payer": {k: str(v) for k, v in settlement.by_payer.items()},
        "returns": [_return_json(r) for r in settlement.returns],
        "class_returns": [_return_json(r) for r in settlement.class_returns],
        **({"waterfalls": [{"step": w.step, "terms": w.terms, "vehicle": w.vehicle,
                            "paid": {r: str(a) for r, a in w.paid}} for w in settlement.waterfalls]}
           if settlement.waterfalls else {}),
        "guarantees": [{"name": g.clause.name, "holds": g.holds, "reason": g.reason}
                       for g in settlement.guarantees],
        "values": _jsonable(settlement.values),
    }


def settlement_json_text(settlement: Settlement) -> str:
    return json.dumps(settlement_json(settlement), ensure_ascii=False, indent=2) + "\n"


__all__ = ["format_amount", "format_value", "settlement_text", "settlement_json", "settlement_json_text",
           "BOOL", "DATE"]


def settlement_xlsx(settlement: Settlement, destination, lang: str = "en", contract=None) -> None:
    """The settlement as a workbook for a finance department: a sheet of payment lines, one of
    totals per party and one of the audit trail. Amounts are numbers (exact decimals in the file)
    with the contract's currency as their number format, not text; labels are plain text cells
    (a label that starts with `=` stays text, never a formula). In `lang` (`--lang`, the studio's
    language): the sheets' names and headings, the clauses as the document in `lang` cites them
    (with `contract`, its headings in `lang`), each step's kind and detail as the interim settlement
    words them (interim.trail_details), the currency's number format (`#,##0 "kr"` in Swedish)."""
    from .interim import _cite, _words, trail_details
    from .xlsx import write_workbook

    w = _words(lang)
    book, kinds = w["workbook"], w["kinds"]

    def cite(clause) -> str:
        return clause.cite() if lang == "en" else _cite(clause, contract, lang, w)

    cur = settlement.currency
    lines = [list(book["lines"])]
    through = vehicles(settlement, contract)
    for ln in settlement.lines:
        lines.append([ln.payment, cite(ln.clause), ln.period or "", paid_from(ln, through), ln.recipient,
                      ln.due or "", ln.amount])
    lines.append([book["total"], "", "", "", "", "", settlement.total])
    parties = [list(book["parties"])]
    for party in sorted(set(settlement.by_recipient) | set(settlement.by_payer)):
        parties.append([party, settlement.by_recipient.get(party, Decimal(0)),
                        settlement.by_payer.get(party, Decimal(0))])
    trail = [list(book["trail"])]
    for ln in settlement.lines:
        for step, detail in zip(ln.steps, trail_details(ln, cur, lang)):
            trail.append([ln.payment, ln.period or "", kinds.get(step.kind, step.kind), cite(step.clause),
                          "" if step.before is None else step.before, step.after, detail])
    money = {"currency": cur, "lang": lang}
    settled, who, audit = book["sheets"]
    write_workbook(destination, [
        (settled, lines, {"money": {6}, **money, "widths": {0: 24, 1: 36, 6: 18}}),
        (who, parties, {"money": {1, 2}, **money, "widths": {0: 24, 1: 18, 2: 18}}),
        (audit, trail, {"money": {4, 5}, **money, "widths": {0: 24, 3: 36, 4: 18, 5: 18, 6: 40}}),
    ])


def simulation_parts(report: dict, payment: str, lang: str) -> list[tuple[str, dict]]:
    """How a waterfall distributed a payment of `sibc simulate`'s components, in words: each step's
    part, then what the vehicle kept (left out where it never kept anything)."""
    from .lang import word

    parts = report.get("distributed", {}).get(payment, {})
    return [(word(lang, "wf_kept") if part == "kept" else word(lang, "wf_part", step=part), summary)
            for part, summary in parts.items() if part != "kept" or Decimal(summary["max"] or 0) != 0]


def simulation_text(report: dict, lang: str = "en") -> str:
    """`sibc simulate`'s report as a plain-text table, every word in `lang` (lang.WORDS)."""
    from .lang import format_money, format_number, word

    cur = report["currency"]

    def money(text):
        return "–" if text is None else format_money(Decimal(text), cur, lang, plain=True)

    def pct(text):
        return format_number(Decimal(text) * 100, lang, max_decimals=2, plain=True) + " %"

    cols = ["mean", "p5", "p25", "p50", "p75", "p95"]
    rows = [["", word(lang, "mean"), *cols[1:]]]

    def row(name, summary):
        rows.append([name, *[money(summary.get(c)) for c in cols]])

    row(word(lang, "total_payout"), report["total"])
    for name, summary in report["components"].items():
        row(f"  {name}", summary)
        for part, summary_ in simulation_parts(report, name, lang):
            row(f"    {part}", summary_)
    for name, data in report["investors"].items():
        row(word(lang, "received_by", name=name), data["received"])
    widths = [max(len(r[i]) for r in rows) for i in range(len(cols) + 1)]
    lines = [word(lang, "simulation", contract=report["contract"]),
             word(lang, "sim_scenarios", n=format_number(report["scenarios"], lang, plain=True), seed=report["seed"]),
             ""]
    for r in rows:
        lines.append("  ".join([r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:], widths[1:])]).rstrip())
    if report["events"]:
        lines += ["", word(lang, "probability_of")]
        for name, p in report["events"].items():
            lines.append(f"  {name}: {pct(p)}")
    for name, data in report["investors"].items():
        irr = data["irr"]
        lines += ["", word(lang, "investor", name=name, amount=money(data["invested"])),
                  f"  {word(lang, 'p_loss')}: {pct(data['p_loss'])}"]
        if irr.get("mean") is not None:
            lines.append(f"  {word(lang, 'irr')} " + pct(irr["mean"]) + ", "
                         + ", ".join(f"{q} {pct(irr[q])}" for q in ("p5", "p50", "p95")))
    for name, steps in report.get("waterfalls", {}).items():  # issue 14
        lines += ["", word(lang, "waterfall", name=name)]
        for step, data in steps.items():
            key = "wf_last" if data["p_filled"] is None else "wf_step"
            lines.append("  " + word(lang, key, step=step, terms=data["terms"], paid=pct(data["p_paid"]),
                                     filled=pct(data["p_filled"]) if data["p_filled"] is not None else ""))
            lines.append(f"    {word(lang, 'wf_amounts')}: " + ", ".join(
                f"{c} {money(data['paid'].get(c))}" for c in ("mean", "p5", "p50", "p95")))
    for name, data in report.get("classes", {}).items():
        lines += ["", word(lang, "class_shortfall", name=name, amount=money(data["drawn"]), p=pct(data["p_short"])),
                  f"  {word(lang, 'shortfall')}: " + ", ".join(
                      f"{c} {money(data['shortfall'].get(c))}" for c in ("mean", "p50", "p95", "max"))]
    if report["payers"]:
        lines += ["", word(lang, "expected_cost")]
        for name, data in report["payers"].items():
            lines.append(f"  {name}: {money(data['expected_cost'])} ({word(lang, 'p95_of', amount=money(data['p95']))})")
    lines += simulation_budget_lines(report, lang)
    if report["negative"]:
        lines += ["", word(lang, "negative", n=report["negative"])]
    return "\n".join(lines) + "\n"


def simulation_xlsx(report: dict, destination, lang: str = "en") -> None:
    """`sibc simulate --format xlsx`: percentiles of every amount as numbers in the currency's
    format, probabilities as percentages, in a sheet a finance department can chart."""
    from .lang import word
    from .xlsx import write_workbook

    cols = ["mean", "p5", "p25", "p50", "p75", "p95"]

    def amounts(summary: dict) -> list:
        return [Decimal(summary[c]) if summary.get(c) is not None else "" for c in cols]

    rows = [["", word(lang, "mean"), *cols[1:]], [word(lang, "total_payout"), *amounts(report["total"])]]
    for name, summary in report["components"].items():
        rows.append([name, *amounts(summary)])
        for part, summary_ in simulation_parts(report, name, lang):
            rows.append([f"  {part}", *amounts(summary_)])
    for name, data in report["investors"].items():
        rows.append([word(lang, "received_by", name=name), *amounts(data["received"])])
    events = [[word(lang, "probability_of"), ""]]
    for name, p in report["events"].items():
        events.append([name, Decimal(p)])
    for name, data in report["investors"].items():
        events.append([f"{name}: {word(lang, 'p_loss')}", Decimal(data["p_loss"])])
    budget = [[word(lang, k) for k in ("budget_payer", "budget_year", "budget_expected", "budget_p90", "budget_worst",
                                       "budget_proved", "budget_kind")]]
    for payer, years in report.get("budget", {}).items():  # issue 15: each figure with the kind of its proof
        for year, data in years.items():
            budget.append([payer, word(lang, "budget_total") if year == "total" else year,
                           *[Decimal(data[k]) if data.get(k) is not None else "" for k in
                             ("expected", "p90", "worst", "proved_bound")],
                           word(lang, f"budget_kind_{data['proved']}") if data.get("proved") else ""])
    write_workbook(destination, [
        (word(lang, "simulation", contract="")[:-2] or "Simulation", rows,
         {"money": set(range(1, 7)), "currency": report["currency"], "widths": {0: 32, **{j: 16 for j in range(1, 7)}}}),
        (word(lang, "probability_of")[:31], events, {"percent": {1}, "widths": {0: 40, 1: 14}}),
        *([(word(lang, "budget_sheet"), budget, {"money": set(range(2, 6)), "currency": report["currency"],
                                                 "widths": {0: 16, 1: 12, **{j: 16 for j in range(2, 6)}, 6: 26}})]
          if len(budget) > 1 else []),
    ])


def budget_text(by_year: dict, currency: str) -> str:
    """What each payer pays in each fiscal year (issue 15; budget.settled): a table, a total per payer."""
    rows = [["payer", "year", "amount"]]
    for payer, years in by_year.items():
        for year, amount in years.items():
            rows.append([payer, year, format_amount(amount, currency)])
        rows.append([payer, "total", format_amount(sum(years.values(), Decimal(0)), currency)])
    table = _table(rows, {2})
    return visible("\n".join(["By payer and fiscal year (the calendar year of each line's due date)",
                              table[0], "-" * len(table[0]), *table[1:]])) + "\n"


def budget_json(by_year: dict) -> dict:
    """budget.settled as JSON: payer → year → amount as a decimal string, with each payer's total."""
    return {payer: {**{year: str(amount) for year, amount in years.items()},
                    "total": str(sum(years.values(), Decimal(0)))}
            for payer, years in by_year.items()}


def simulation_budget_lines(report: dict, lang: str = "en") -> list[str]:
    """The simulation report's table of the payer's budget by fiscal year (issue 15; simulate._budget):
    expected, 90th percentile, worst scenario seen and what is proved, with its kind — the largest
    possible amount, or "at most" a proved upper bound, or no upper limit (and why, below the table)."""
    from .budget import listed
    from .lang import WORDS, format_money, word

    if not report.get("budget"):
        return []
    cur = report["currency"]
    words = WORDS[lang if lang in WORDS else "en"]

    def money(text):
        return words["budget_unproved"] if text is None else format_money(Decimal(text), cur, lang, plain=True)

    rows = [[words[k] for k in ("budget_payer", "budget_year", "budget_expected", "budget_p90", "budget_worst",
                                "budget_proved")]]
    why = []
    for payer, years in report["budget"].items():
        for year, data in years.items():
            shown = words["budget_total"] if year == "total" else year
            rows.append([payer, shown, *[money(data[k]) for k in ("expected", "p90", "worst")],
                         proved_words(data, words, money)])
            if data.get("proved") == "unbounded" and data.get("unbounded_by"):
                why.append("  " + words["budget_why"].format(payer=payer, year=shown, measures=listed(
                    data["unbounded_by"], words["budget_more"])))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["", word(lang, "budget_by_year")] + [
        "  " + "  ".join([r[0].ljust(widths[0]), r[1].ljust(widths[1])]
                         + [c.rjust(w) for c, w in zip(r[2:], widths[2:])]).rstrip() for r in rows] + [
        *(["  " + words["budget_note"]] if any(d.get("proved") == "bound" for y in report["budget"].values()
                                              for d in y.values()) else []), *why]


def proved_words(data: dict, words: dict, money) -> str:
    """A figure of simulate._budget in words: "X (largest possible)", "at most X (upper bound)" or
    "no upper limit" (`words`: reports.json or charts.json in one language)."""
    kind = data.get("proved")
    if kind == "maximum":
        return words["budget_max"].format(amount=money(data["proved_bound"]))
    if kind == "bound":
        return words["budget_bound"].format(amount=money(data["proved_bound"]))
    return words["budget_unbounded"]
