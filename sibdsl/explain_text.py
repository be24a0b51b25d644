"""A settlement explained step by step in plain Swedish or English, citing the clauses.

    § 8 Villkor, golv och tak, Taket: beloppet 12 600 000 kr begränsas till 12 000 000 kr.

Used by `sibc eval --explain` and by failing scenarios in `sibc test`. Amounts, percentages and
dates are written by `sibdsl.lang` (Babel), the same way the council document writes them.
(`sibdsl/explain.py` is a different thing: `sibc explain CODE` prints a diagnostic's page.)
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from . import model as m
from .lang import format_money, format_percent
from .semantics.program import StepKind
from .settlement import Detail, Line, Settlement, Step, decimal
from .source import visible

_WORDS = {
    "sv": {
        "title": "Så beräknas ersättningen",
        "line": "{who} betalar {amount} till {to}",
        "period": " för perioden {period}",
        "computed": "enligt formeln blir beloppet {after}",
        "rounded": " (avrundat)",
        "computed terms": "enligt villkoren blir beloppet {after}: {terms}",
        "rounded word": "avrundat",
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
        "total cap": "beloppet {before} begränsas till {after}: totalt betalas högst {level}",
        "period cap terms": "beloppet {before} begränsas till {after}: högst {level} betalas för perioden {period}",
        "participant cap terms": "beloppet {before} begränsas till {after}: högst {level} betalas totalt ({per} per "
                                 "deltagare för {scale} deltagare)",
        "return limit terms": "beloppet {before} begränsas till {after}: avkastningstaket för {investor} tillåter "
                              "högst {limit} totalt",
        "return limit rate": "beloppet {before} begränsas till {after}: det {investor} tar emot, diskonterat med "
                             "avkastningstakets ränta till dragningarna, får inte överstiga det som dragits",
        "total gate": "villkoret för summan är inte uppfyllt: det som betalas utöver {level} totalt betalas inte; "
                      "beloppet {before} sätts ned till {after}",
        "stream floor": "beloppet {before} höjs till {after}, så att betalningen över alla sina perioder når golvet "
                        "{level}",
        "stream cap": "beloppet {before} begränsas till {after}: betalningen får över alla sina perioder vara högst "
                      "{level}, och den period som betalas sist minskas först",
        "party cap payer": "beloppet {before} begränsas till {after}: {party} betalar högst {level} totalt",
        "party cap recipient": "beloppet {before} begränsas till {after}: {party} tar emot högst {level} totalt",
        "card cap outcome": "beloppet {before} begränsas till {after}: prislistan betalar högst {level} för utfallet "
                            "{outcome} över alla perioder, och den senaste perioden minskas först",
        "card cap participant": "beloppet {before} begränsas till {after}: prislistan betalar högst {level} totalt "
                                "({per} per deltagare för {size} deltagare); {order}",
        "card cap total": "beloppet {before} begränsas till {after}: prislistan betalar högst {level} totalt; {order}",
        "order declaration": "det utfall som står sist i prislistan minskas först",
        "order claim": "de senaste anspråken minskas först",
        "order proportion": "varje belopp i prislistan minskas med samma faktor, taket delat med värdet av alla "
                            "utfall, avrundat nedåt",
        "order proportion factor": "varje belopp i prislistan minskas med samma faktor, taket delat med värdet av "
                                   "alla utfall ({level} / {total}), avrundat nedåt",
        "cover": "{guarantor} betalar {after} av förlusten för {investor} på {investment}",
        "cover loss": "{guarantor} betalar {after} av förlusten för {investor} på {investment}: {drawn} har "
                      "dragits och {received} har tagits emot enligt avtalet, en förlust på {loss}",
        "cover share": "; garantin täcker {share} av förlusten",
        "cover ceiling": "; garantin betalar högst {ceiling}",
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
        "computed terms": "the terms give {after}: {terms}",
        "rounded word": "rounded",
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
        "total cap": "the amount of {before} is limited to {after}: at most {level} is paid in all",
        "period cap terms": "the amount of {before} is limited to {after}: at most {level} is paid in the period "
                            "{period}",
        "participant cap terms": "the amount of {before} is limited to {after}: at most {level} is paid in all ({per} "
                                 "per participant for {scale} participants)",
        "return limit terms": "the amount of {before} is limited to {after}: {investor}'s return limit allows at most "
                              "{limit} in all",
        "return limit rate": "the amount of {before} is limited to {after}: what {investor} receives, discounted at the "
                             "limit's rate to the drawdowns, may not exceed what was drawn",
        "total gate": "the condition on the total is not met: what is paid above {level} in all is not paid; the "
                      "amount of {before} is reduced to {after}",
        "stream floor": "the amount of {before} is raised to {after}, so that the payment over all its periods reaches "
                        "the floor of {level}",
        "stream cap": "the amount of {before} is limited to {after}: the payment over all its periods may be at most "
                      "{level}, and the period paid last is reduced first",
        "party cap payer": "the amount of {before} is limited to {after}: {party} pays at most {level} in all",
        "party cap recipient": "the amount of {before} is limited to {after}: {party} receives at most {level} in all",
        "card cap outcome": "the amount of {before} is limited to {after}: the rate card pays at most {level} for the "
                            "outcome {outcome} over all periods, and the latest period is reduced first",
        "card cap participant": "the amount of {before} is limited to {after}: the rate card pays at most {level} in "
                                "all ({per} per participant for {size} participants); {order}",
        "card cap total": "the amount of {before} is limited to {after}: the rate card pays at most {level} in all; "
                          "{order}",
        "order declaration": "the outcome listed last on the card is reduced first",
        "order claim": "the latest claims are reduced first",
        "order proportion": "every amount on the card is reduced by the same factor, the cap divided by the value "
                            "of all outcomes, rounded down",
        "order proportion factor": "every amount on the card is reduced by the same factor, the cap divided by the "
                                   "value of all outcomes ({level} / {total}), rounded down",
        "cover": "{guarantor} pays {after} of {investor}'s loss on {investment}",
        "cover loss": "{guarantor} pays {after} of {investor}'s loss on {investment}: {drawn} was drawn and "
                      "{received} received under the contract, a loss of {loss}",
        "cover share": "; the cover pays {share} of the loss",
        "cover ceiling": "; the cover pays at most {ceiling}",
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


def _card_cap(contract: m.Contract, step: Step, level, basis: str, totals: dict | None, lang: str) -> tuple[str, dict]:
    """A rate card's cap: on one outcome (its clause is the outcome's, `CARD.OUTCOME`), per participant
    or on the card's total (semantics/program.card_steps writes which first in `basis`), and the
    order the card is cut in; in proportion, the factor when the settlement gives the lines' total."""
    words = _WORDS[lang]
    card_name, _, outcome = step.clause.name.partition(".")
    card = contract.rate_cards.get(card_name)
    if outcome and card is not None:
        found = next((o for o in card.outcomes if o.name == outcome), None)
        label = found.label.get(lang) if found is not None and found.label else outcome
        return words["card cap outcome"], {"outcome": label}
    order = card.order if card is not None else "declaration"
    total = (totals or {}).get((step.clause.name, basis)) if order == "proportion" else None
    said = (words["order proportion factor"].format(level="{level}", total=_money(contract, total, lang))
            if total is not None else words[f"order {order}"])
    if basis.startswith("per participant") and card is not None:
        return (words["card cap participant"].replace("{order}", said),
                {"per": _money(contract, card.participant_cap, lang), "size": card.cohort_size})
    return words["card cap total"].replace("{order}", said), {}


def _cover(contract: m.Contract, step: Step, investor: str, investment: str, drawn, received,
           lang: str) -> tuple[str, dict]:
    """First-loss cover: who pays whose loss, and (where the settlement says what the investor had
    received before the cover) the loss itself; then the cover's share of it and its ceiling."""
    words = _WORDS[lang]
    cover = next((c for c in contract.covers if c.clause.name == step.clause.name), None)
    blanks = {"guarantor": _party(contract, cover.guarantor, lang) if cover else step.clause.name,
              "investor": _party(contract, investor, lang), "investment": _investment(contract, investment, lang)}
    template = words["cover"]
    if received is not None:
        template = words["cover loss"]
        blanks |= {"drawn": _money(contract, drawn, lang), "received": _money(contract, received, lang),
                   "loss": _money(contract, max(Fraction(drawn) - Fraction(received), Fraction(0)), lang)}
    if cover is not None and cover.share != 1:
        template += words["cover share"].format(share=format_percent(cover.share, lang, plain=True))
    if cover is not None and cover.ceiling is not None:
        template += words["cover ceiling"].format(ceiling=_money(contract, cover.ceiling, lang))
    return template, blanks


def _investment(contract: m.Contract, name: str, lang: str) -> str:
    investment = contract.investments.get(name)
    return investment.label.get(lang) if investment is not None and investment.label else name


def _plain(recorded):
    """A step's record as the cap wrote it: a cut in proportion's (evaluate.pro_rata_text) wraps the
    cap's own words with its factor, which the sentence says from the settlement itself (`_context`)."""
    from .evaluate import pro_rata_text

    return recorded.args[0] if isinstance(recorded, Detail) and recorded.fn is pro_rata_text else recorded


def _template(contract: m.Contract, step: Step, recorded, lang: str, context: dict) -> tuple[str, dict]:
    """The words for a step and the blanks beyond its amounts. A waterfall's step and a return limit's
    release in a waterfall read what the evaluator recorded (the arguments of `waterfall_text` and
    `released_text`): whether the step pays on from the vehicle's line, whom the limit binds, and who
    keeps what it held back where no later step is left to pay it (the vehicle, not a later step).
    The caps and the cover of issues 14 and 15 read `step_text`'s: the level, the party, the terms;
    `context` what only the whole settlement says (a proportional cut's total, what a covered
    investor received: `_context`)."""
    from .evaluate import coupon_text, redemption_text, released_text, step_text, waterfall_text
    from .interim import _words as interim_words

    words = _WORDS[lang]
    recorded = _plain(recorded)
    fn = recorded.fn if isinstance(recorded, Detail) else None
    if fn in (coupon_text, redemption_text):  # the rate × capital × days, the share + interest (interim.json's words)
        terms = fn(*recorded.args, words=interim_words(lang)["coupon"], rounded=lambda *_: words["rounded word"],
                   money=lambda value, _: _money(contract, value, lang))  # as every other amount of the sentence
        return words["computed terms"], {"terms": terms}
    if fn is released_text:
        investor, *_, kept = recorded.args
        return (words["limit kept" if kept else "limit released"],
                {"investor": _bound(contract, investor, lang), "kept": kept and _party(contract, kept, lang)})
    if fn is waterfall_text and recorded.args[-1]:  # on the vehicle's line: what the step paid on
        return words["waterfall paid on"], {"paid": _money(contract, recorded.args[3], lang)}
    if fn is step_text:
        kind, level, _, period, scale, investor, limit, basis = recorded.args
        blanks = {"level": _money(contract, level, lang)}
        if kind is StepKind.PERIOD_CAP:
            return words["period cap terms"], blanks | {"period": period}
        if kind is StepKind.PARTICIPANT_CAP:
            return words["participant cap terms"], blanks | {"scale": scale,
                                                             "per": _money(contract, Fraction(level) / scale, lang)}
        if kind is StepKind.RETURN_LIMIT:  # a limit in total, or (no `limit`) a rate of return
            return (words["return limit terms" if limit is not None else "return limit rate"],
                    blanks | {"investor": _bound(contract, investor, lang), "limit": _money(contract, limit, lang)})
        if kind is StepKind.PARTY_CAP:
            return words[f"party cap {basis}"], blanks | {"party": _party(contract, investor, lang)}
        if kind is StepKind.CARD_CAP:
            template, more = _card_cap(contract, step, level, basis, context.get("totals"), lang)
            return template, blanks | more
        if kind is StepKind.COVER:
            template, more = _cover(contract, step, investor, basis, limit, context.get("received"), lang)
            return template, blanks | more
        return words.get(kind.value, words.get(step.kind, "{after}")), blanks  # a cap on the total: "total cap"
    return words.get(step.kind, "{after}"), {}


def _money(contract: m.Contract, value, lang: str) -> str:
    """An amount (a settlement's Decimal, or an exact value the evaluator recorded) in words."""
    if value is None:
        value = Decimal(0)
    return format_money(value if isinstance(value, Decimal) else decimal(value), contract.currency, lang, plain=True)


def explain_step(contract: m.Contract, step: Step, lang: str, recorded, context: dict | None = None) -> str:
    """One step in words; `recorded` is the step's record in the line's trail (its `Detail`), which
    says more than the step's text for a return limit's release in a waterfall, a cap or a cover;
    `context` what the whole settlement says about the step (`_context`), when it is at hand."""
    from .evaluate import rounded_text

    words = _WORDS[lang]
    template, blanks = _template(contract, step, recorded, lang, context or {})
    blanks.setdefault("level", "")
    text = template.format(before=_money(contract, step.before, lang), after=_money(contract, step.after, lang),
                           **blanks)
    if step.kind == "computed" and (recorded.fn is rounded_text if isinstance(recorded, Detail) else step.detail):
        text += words["rounded"]  # a coupon's terms say themselves whether they were rounded
    return f"{_heading(contract, step.clause, lang)}: {text}."


def _context(settlement: Settlement | None, line: Line, recorded, seen: dict) -> dict:
    """What only the whole settlement says about a step of `line`: the total of the lines a rate card's
    cap cut in proportion, before the cut (`totals`, by the cap's clause and terms; worked out once
    per settlement, in `seen`), and what a covered investor received before the cover's
    line (`received`)."""
    from .evaluate import step_text

    recorded = _plain(recorded)
    if settlement is None or not isinstance(recorded, Detail) or recorded.fn is not step_text:
        return {}
    kind, *_ = recorded.args
    if kind is StepKind.CARD_CAP:
        if "totals" not in seen:
            totals: dict = {}
            for ln in settlement.lines:
                for st, (*_, rec) in zip(ln.steps, ln.trail):
                    rec = _plain(rec)
                    if st.kind == kind.trail and isinstance(rec, Detail) and rec.fn is step_text:
                        key = (st.clause.name, rec.args[-1])
                        totals[key] = totals.get(key, Fraction(0)) + Fraction(st.before)
            seen["totals"] = totals
        return {"totals": seen["totals"]}
    if kind is StepKind.COVER:
        investor = recorded.args[5]
        place = next(k for k, ln in enumerate(settlement.lines) if ln is line)
        return {"received": sum((Fraction(ln.exact) for ln in settlement.lines[:place] if ln.recipient == investor),
                                Fraction(0))}
    return {}


def explain_line(contract: m.Contract, line: Line, lang: str, settlement: Settlement | None = None,
                 seen: dict | None = None) -> list[str]:
    """A line and each step of its audit trail in words; with the `settlement` it is a line of, the
    steps that depend on other lines say their figures too (a proportional cut's factor, a loss).
    `seen`: what was worked out from the settlement for its other lines (explain_settlement shares it,
    so a card's total is summed once, not once a line)."""
    from .report import paid_from, vehicles

    words = _WORDS[lang]
    head = words["line"].format(who=_party(contract, paid_from(line, vehicles(contract=contract)), lang),
                                amount=format_money(line.amount, contract.currency, lang, plain=True),
                                to=_party(contract, line.recipient, lang))
    if line.period:
        head += words["period"].format(period=line.period)
    title = line.clause.label.get(lang) if line.clause.label else line.payment
    seen = {} if seen is None else seen
    return [visible(f"{title}: {head}.")] + [
        visible(f"  - {explain_step(contract, step, lang, recorded, _context(settlement, line, recorded, seen))}")
        for step, (*_, recorded) in zip(line.steps, line.trail)]


def explain_settlement(contract: m.Contract, settlement: Settlement, lang: str) -> str:
    if lang not in _WORDS:
        raise ValueError(f"unsupported language {lang!r}")
    words = _WORDS[lang]
    out, seen = [words["title"], ""], {}
    for line in settlement.lines:
        out += explain_line(contract, line, lang, settlement, seen)
    out.append("")
    out.append(words["total"].format(total=format_money(settlement.total, contract.currency, lang, plain=True))
               if settlement.total else words["nothing"])
    return visible("\n".join(out)) + "\n"
