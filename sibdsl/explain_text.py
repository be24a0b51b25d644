"""A settlement explained step by step in plain Swedish or English, citing the clauses.

    § 8 Villkor, golv och tak, Taket: beloppet 12 600 000 kr begränsas till 12 000 000 kr.

Used by `sibc eval --explain` and by failing scenarios in `sibc test`. Amounts, percentages and
dates are written by `sibdsl.lang` (Babel), the same way the council document writes them.
(`sibdsl/explain.py` is a different thing: `sibc explain CODE` prints a diagnostic's page.)
"""

from __future__ import annotations

from decimal import Decimal

from . import model as m
from .lang import format_money
from .settlement import Detail, Line, Settlement, Step, decimal
from .source import visible

_WORDS = {
    "sv": {
        "title": "Så beräknas ersättningen",
        "line": "{who} betalar {amount} till {to}",
        "period": " för perioden {period}",
        "computed": "enligt formeln blir beloppet {after}",
        "rounded": " (avrundat)",
        "gate passed": "villkoret är uppfyllt; beloppet {after} betalas",
        "gate failed": "villkoret är inte uppfyllt: beloppet {before} sätts ned till {after}",
        "floor": "beloppet {before} höjs till golvet {after}",
        "floor top-up": "summan höjs till golvet: {after} betalas som tillägg",
        "cap": "beloppet {before} begränsas till {after}",
        "period cap": "beloppet {before} begränsas till {after} (taket för perioden)",
        "participant cap": "beloppet {before} begränsas till {after} (taket per deltagare)",
        "return limit": "beloppet {before} begränsas till {after} (avkastningstaket)",
        "limit released": "beloppet {before} höjs till {after}: det som avkastningstaket för {investor} höll inne "
                          "går vidare till vattenfallets senare steg",
        "limit kept": "beloppet {before} höjs till {after}: det som avkastningstaket för {investor} höll inne "
                      "stannar hos {kept}, eftersom inget senare steg i vattenfallet finns kvar som kan betala det",
        "waterfall": "vattenfallets steg betalar {after}",
        "waterfall paid on": "av {before} betalar vattenfallets steg {paid} vidare; {after} återstår",
        "class": "klassen {name}",
        "total": "Totalt betalas {total}.",
        "nothing": "Ingen ersättning betalas.",
    },
    "en": {
        "title": "How the payment is calculated",
        "line": "{who} pays {amount} to {to}",
        "period": " for the period {period}",
        "computed": "the formula gives {after}",
        "rounded": " (rounded)",
        "gate passed": "the condition is met; {after} is paid",
        "gate failed": "the condition is not met: the amount of {before} is reduced to {after}",
        "floor": "the amount of {before} is raised to the floor of {after}",
        "floor top-up": "the total is raised to the floor: {after} is paid in addition",
        "cap": "the amount of {before} is limited to {after}",
        "period cap": "the amount of {before} is limited to {after} (the cap for the period)",
        "participant cap": "the amount of {before} is limited to {after} (the cap per participant)",
        "return limit": "the amount of {before} is limited to {after} (the return limit)",
        "limit released": "the amount of {before} is raised to {after}: what {investor}'s return limit held back "
                          "passes on to the waterfall's later steps",
        "limit kept": "the amount of {before} is raised to {after}: what {investor}'s return limit held back "
                      "stays with {kept}, as no later step of the waterfall is left to pay it",
        "waterfall": "the waterfall's step pays {after}",
        "waterfall paid on": "of {before}, the waterfall's step pays {paid} on; {after} remains",
        "class": "class {name}",
        "total": "In total {total} is paid.",
        "nothing": "Nothing is paid.",
    },
}


def section_heading(contract: m.Contract, heading: str, lang: str) -> str:
    """A clause's heading (`ClauseRef.heading`, in the contract's first language) as the document in
    `lang` writes it: `§ 8 Villkor, golv och tak` or `§ 8 Conditions, floors and caps`."""
    for section in contract.sections:
        if section.title is not None and heading == f"§ {section.number} {section.title.text}":
            return f"§ {section.number} {section.title.get(lang)}"
    return heading


def _heading(contract: m.Contract, clause: m.ClauseRef, lang: str) -> str:
    """The clause as the contract names it in `lang`: `§ 8 Taket` or `§ 8 The cap`."""
    heading = section_heading(contract, clause.heading, lang)
    label = clause.label.get(lang) if clause.label else clause.name
    return f"{heading}, {label}" if heading else label


def _party(contract: m.Contract, name: str, lang: str) -> str:
    party = contract.parties.get(name)
    return party.label.get(lang) if party is not None and party.label else name


def _bound(contract: m.Contract, name: str, lang: str) -> str:
    """Whom a return limit binds, in words: a party's name, or `klassen senior` / `class senior`."""
    if name.startswith("class "):
        return _WORDS[lang]["class"].format(name=name.removeprefix("class "))
    return _party(contract, name, lang)


def _template(contract: m.Contract, step: Step, recorded, lang: str) -> tuple[str, dict]:
    """The words for a step and the blanks beyond its amounts. A waterfall's step and a return limit's
    release in a waterfall read what the evaluator recorded (the arguments of `waterfall_text` and
    `released_text`): whether the step pays on from the vehicle's line, whom the limit binds, and who
    keeps what it held back where no later step is left to pay it (the vehicle, not a later step)."""
    from .evaluate import released_text, waterfall_text

    words = _WORDS[lang]
    fn = recorded.fn if isinstance(recorded, Detail) else None
    if fn is released_text:
        investor, *_, kept = recorded.args
        return (words["limit kept" if kept else "limit released"],
                {"investor": _bound(contract, investor, lang), "kept": kept and _party(contract, kept, lang)})
    if fn is waterfall_text and recorded.args[-1]:  # on the vehicle's line: what the step paid on
        return words["waterfall paid on"], {"paid": recorded.args[3]}
    return words.get(step.kind, "{after}"), {}


def explain_step(contract: m.Contract, step: Step, lang: str, recorded) -> str:
    """One step in words; `recorded` is the step's record in the line's trail (its `Detail`), which
    says more than the step's text for a return limit's release in a waterfall."""
    words = _WORDS[lang]
    currency = contract.currency

    def money(value: Decimal | None) -> str:
        return format_money(value if value is not None else Decimal(0), currency, lang, plain=True)

    template, blanks = _template(contract, step, recorded, lang)
    if "paid" in blanks:
        blanks["paid"] = money(decimal(blanks["paid"]))
    text = template.format(before=money(step.before), after=money(step.after), **blanks)
    if step.kind == "computed" and step.detail:
        text += words["rounded"]
    return f"{_heading(contract, step.clause, lang)}: {text}."


def explain_line(contract: m.Contract, line: Line, lang: str) -> list[str]:
    words = _WORDS[lang]
    head = words["line"].format(who=_party(contract, line.payer, lang),
                                amount=format_money(line.amount, contract.currency, lang, plain=True),
                                to=_party(contract, line.recipient, lang))
    if line.period:
        head += words["period"].format(period=line.period)
    title = line.clause.label.get(lang) if line.clause.label else line.payment
    return [visible(f"{title}: {head}.")] + [visible(f"  - {explain_step(contract, step, lang, recorded)}")
                                              for step, (*_, recorded) in zip(line.steps, line.trail)]


def explain_settlement(contract: m.Contract, settlement: Settlement, lang: str) -> str:
    if lang not in _WORDS:
        raise ValueError(f"unsupported language {lang!r}")
    words = _WORDS[lang]
    out = [words["title"], ""]
    for line in settlement.lines:
        out += explain_line(contract, line, lang)
    out.append("")
    out.append(words["total"].format(total=format_money(settlement.total, contract.currency, lang, plain=True))
               if settlement.total else words["nothing"])
    return visible("\n".join(out)) + "\n"
