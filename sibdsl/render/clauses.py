"""Each declaration of the contract as a sentence (Swedish or English), from the checked model."""

from __future__ import annotations

from .. import model as m
from ..semantics.program import Program, StepKind, lower
from ..units import BOOL
from .words import Words, listing, money, number, percent

S = {
    "sv": {
        "party": "{name} är {roles} i avtalet.",
        "term": "Avtalet gäller från och med {start} till och med {end}.",
        "series": "{label} omfattar perioderna {periods}.",
        "series_one": "{label} är perioden {period}.",
        "cohort": "Målgruppen, {label}, omfattar {size} personer.",
        "eligibility": " Villkor för att ingå: {text}",
        "investment": "{investor} investerar {amount} den {date} ({label}).",
        "measure": "{label} mäts som {kind}{per}.",
        "per": " för varje period i {series}",
        "better_higher": " Ett högre värde är ett bättre utfall.",
        "better_lower": " Ett lägre värde är ett bättre utfall.",
        "between": " Värdet ligger mellan {low} och {high}.",
        "source": " Källa: {text}.",
        "define": "{label} är {formula}.",
        "define_bool": "{label} gäller när {formula}.",
        "baseline": "Jämförelsenivån {label} är {formula}.",
        "indexed": " Den räknas upp med {rate} per år i {years} år.",
        "payment": "{payer} betalar {label} till {recipient}: {formula}{per}.",
        "payment_per": ", för varje period i {series}",
        "due": " Betalningen förfaller den {date}.",
        "due_after": " Betalningen förfaller {days} dagar efter periodens slut.",
        "when": " Den betalas endast om {cond}.",
        "gate_payment": "{target} betalas endast om {cond}.",
        "gate_total": "Den sammanlagda ersättningen överstiger {level} endast om {cond}.",
        "floor_payment": "{target} är minst {amount}{when}.",
        "floor_total": "Den sammanlagda ersättningen är minst {amount}{when}; ett eventuellt tillägg betalas av {payer} till {recipient}.",
        "floor_when": " när {cond}",
        "cap_payment": "{target} är högst {amount}.",
        "cap_total": "Den sammanlagda ersättningen är högst {amount}.",
        "cap_series": "Ersättningen för varje period i {series} är sammanlagt högst {amount}.",
        "cap_participant": "Den sammanlagda ersättningen är högst {amount} per deltagare i målgruppen.",
        "return_annual": "Vad varje investerare får är högst den investerade summan med en avkastning om {rate} per år ({kind}) från {start} till {end}.",
        "return_total": "Vad varje investerare får är högst den investerade summan med en avkastning om {rate} totalt.",
        "simple": "enkel ränta", "compound": "ränta på ränta",
        "guarantee": "Utfästelse: {text}.",
        "guarantee_when": " (när {cond})",
        "nondecreasing": "{expr} minskar aldrig när {name} ökar",
        "nonincreasing": "{expr} ökar aldrig när {name} ökar",
        "order_cuts": "När ett belopp ska minskas tas minskningen från ersättningarna i omvänd ordning mot hur de anges i avtalet.",
        "rounding": {"half up": "avrundning till närmaste {step}, hälften uppåt", "half even": "avrundning till närmaste {step}, hälften till jämnt",
                     "half down": "avrundning till närmaste {step}, hälften nedåt", "up": "avrundning uppåt till {step}",
                     "down": "avrundning nedåt till {step}"},
    },
    "en": {
        "party": "{name} is {roles} under the contract.",
        "term": "The contract runs from {start} to {end}, both days included.",
        "series": "{label} comprises the periods {periods}.",
        "series_one": "{label} is the period {period}.",
        "cohort": "The target group, {label}, comprises {size} people.",
        "eligibility": " Eligibility: {text}",
        "investment": "{investor} invests {amount} on {date} ({label}).",
        "measure": "{label} is measured as {kind}{per}.",
        "per": " for each period of {series}",
        "better_higher": " A higher value is a better outcome.",
        "better_lower": " A lower value is a better outcome.",
        "between": " The value lies between {low} and {high}.",
        "source": " Source: {text}.",
        "define": "{label} is {formula}.",
        "define_bool": "{label} holds when {formula}.",
        "baseline": "The baseline {label} is {formula}.",
        "indexed": " It is indexed by {rate} a year for {years} years.",
        "payment": "{payer} pays {label} to {recipient}: {formula}{per}.",
        "payment_per": ", for each period of {series}",
        "due": " The payment is due on {date}.",
        "due_after": " The payment is due {days} days after the end of the period.",
        "when": " It is paid only if {cond}.",
        "gate_payment": "{target} is paid only if {cond}.",
        "gate_total": "The total payout exceeds {level} only if {cond}.",
        "floor_payment": "{target} is at least {amount}{when}.",
        "floor_total": "The total payout is at least {amount}{when}; any top-up is paid by {payer} to {recipient}.",
        "floor_when": " when {cond}",
        "cap_payment": "{target} is at most {amount}.",
        "cap_total": "The total payout is at most {amount}.",
        "cap_series": "The payments for each period of {series} together are at most {amount}.",
        "cap_participant": "The total payout is at most {amount} per participant in the target group.",
        "return_annual": "What each investor receives is at most the amount invested with a return of {rate} a year ({kind}) from {start} to {end}.",
        "return_total": "What each investor receives is at most the amount invested with a return of {rate} in total.",
        "simple": "simple interest", "compound": "compound interest",
        "guarantee": "Assurance: {text}.",
        "guarantee_when": " (when {cond})",
        "nondecreasing": "{expr} never falls when {name} rises",
        "nonincreasing": "{expr} never rises when {name} rises",
        "order_cuts": "Where an amount must be reduced, the reduction is taken from the payments in the reverse of the order in which the contract lists them.",
        "rounding": {"half up": "rounding to the nearest {step}, halves up", "half even": "rounding to the nearest {step}, halves to even",
                     "half down": "rounding to the nearest {step}, halves down", "up": "rounding up to {step}",
                     "down": "rounding down to {step}"},
    },
}


def _find(items, clause):
    return next((i for i in items if i.clause == clause), None)


def sentence(contract: m.Contract, clause: m.ClauseRef, lang: str) -> str | None:
    """The declaration behind `clause` in words; None for a clause with nothing to say."""
    words, s, c = Words(contract, lang), S[lang], contract
    kind = clause.kind

    def cap(text: str) -> str:
        return text[:1].upper() + text[1:]

    if kind in ("table", "ratecard"):  # issue 15
        from .cards import sentence as card_sentence

        return card_sentence(contract, clause, lang)
    if kind == "party":
        p = c.parties[clause.name]
        return s["party"].format(name=p.label.get(lang), roles=words.roles(p.roles))
    if kind == "term":
        if c.term is None:
            return None
        return s["term"].format(start=words.date(c.term[0]), end=words.date(c.term[1]))
    if kind == "series":
        series = c.series[clause.name]
        label = words.label(series.name)
        if len(series.periods) == 1:
            return cap(s["series_one"].format(label=label, period=words.period(series.periods[0])))
        return cap(s["series"].format(label=label, periods=listing([words.period(p) for p in series.periods], lang)))
    if kind == "cohort":
        cohort = c.cohorts[clause.name]
        text = s["cohort"].format(label=cohort.label.get(lang) if cohort.label else cohort.name,
                                  size=number(cohort.size, lang))
        if cohort.eligibility:
            text += s["eligibility"].format(text=cohort.eligibility.get(lang))
        return text
    if kind == "investment":
        inv = c.investments[clause.name]
        return s["investment"].format(investor=words.party(inv.investor), amount=words.money(inv.amount),
                                      date=words.date(inv.date),
                                      label=words.label(inv.name))
    if kind == "measure":
        msr = c.measures[clause.name]
        per = s["per"].format(series=words.label(msr.ty.series)) if msr.ty.series else ""
        text = cap(s["measure"].format(label=words.label(msr.name), kind=words.kind(msr.ty), per=per))
        if msr.better:
            text += s[f"better_{msr.better}"]
        if msr.lower is not None and msr.upper is not None:
            text += s["between"].format(low=words.value(msr.lower, msr.ty.kind), high=words.value(msr.upper, msr.ty.kind))
        if msr.source:
            text += s["source"].format(text=msr.source.get(lang))
        if msr.description:
            text += " " + msr.description.get(lang)
        return text
    if kind in ("define", "baseline"):
        d = c.definitions[clause.name]
        key = "baseline" if d.baseline else ("define_bool" if d.ty.kind == BOOL else "define")
        table = words.as_table(d.expr)
        formula = words.condition(d.expr) if d.ty.kind == BOOL else table["ref"] if table else words.expr(d.expr)
        text = cap(s[key].format(label=words.label(d.name), formula=formula))
        if d.indexation is not None:
            text += s["indexed"].format(rate=percent(d.indexation.rate, lang), years=d.indexation.years)
        if d.source:
            text += s["source"].format(text=d.source.get(lang))
        if d.description:
            text += " " + d.description.get(lang)
        return text
    if kind == "payment":
        p = c.payments[clause.name]
        per = s["payment_per"].format(series=words.label(p.series)) if p.series else ""
        text = s["payment"].format(payer=words.party(p.payer), label=words.defined(p.name),
                                   recipient=words.party(p.recipient), formula=table["ref"] if (table := words.as_table(
                                       p.expr)) else words.expr(p.expr), per=per)
        if p.due.date is not None:
            text += s["due"].format(date=words.date(p.due.date))
        elif p.due.days_after_end is not None:
            text += s["due_after"].format(days=p.due.days_after_end)
        gate = next((g for g in c.gates if g.target == p.name and g.clause == clause), None)
        if gate is not None:  # the payment's own `when`
            text += s["when"].format(cond=words.condition(gate.condition))
        return text
    if kind == "gate":
        g = _find(c.gates, clause)
        if g.target == "total":
            return s["gate_total"].format(level=words.expr(g.level), cond=words.condition(g.condition))
        return cap(s["gate_payment"].format(target=words.label(g.target), cond=words.condition(g.condition)))
    if kind == "floor":
        f = _find(c.floors, clause)
        when = s["floor_when"].format(cond=words.condition(f.when)) if f.when is not None else ""
        if f.target == "total":
            return s["floor_total"].format(amount=words.expr(f.amount), when=when,
                                           payer=words.party(f.payer or ""), recipient=words.party(f.recipient or ""))
        return cap(s["floor_payment"].format(target=words.label(f.target), amount=words.expr(f.amount), when=when))
    if kind == "cap":
        k = _find(c.caps, clause)
        amount = words.expr(k.amount)
        if k.kind == "total":
            return s["cap_total"].format(amount=amount)
        if k.kind == "series":
            return s["cap_series"].format(series=words.label(k.target), amount=amount)
        if k.kind == "participant":
            return s["cap_participant"].format(amount=amount)
        return cap(s["cap_payment"].format(target=words.label(k.target), amount=amount))
    if kind == "return limit":
        r = _find(c.return_limits, clause)
        rate = percent(r.rate, lang)
        if r.kind == "total":
            return s["return_total"].format(rate=rate)
        return s["return_annual"].format(rate=rate, kind=s[r.kind], start=words.date(r.start), end=words.date(r.end))
    if kind == "guarantee":
        g = _find(c.guarantees, clause)
        if g.monotone:
            text = s[g.monotone].format(expr=words.expr(g.expr), name=words.label(g.monotone_in))
        else:
            text = words.condition(g.expr)
            if g.when is not None:
                text += s["guarantee_when"].format(cond=words.condition(g.when))
        return s["guarantee"].format(text=text)  # its label is the run-in heading (view.py)
    return None


# the order of calculation: one item per step kind a contract's settlement program has, in its order
ORDER = {
    StepKind.COMPUTE: ("varje ersättning beräknas enligt sin formel och avrundas enligt avtalets avrundningsregel ({rounding})",
                       "each payment is calculated by its formula and rounded by the contract's rounding rule ({rounding})"),
    StepKind.GATE: ("villkor för en enskild ersättning tillämpas (är villkoret inte uppfyllt blir ersättningen noll)",
                    "conditions on a single payment apply (a payment whose condition is not met is zero)"),
    StepKind.FLOOR: ("golv för en enskild ersättning tillämpas", "floors on a single payment apply"),
    StepKind.CAP: ("tak för en enskild ersättning tillämpas", "caps on a single payment apply"),
    StepKind.PERIOD_CAP: ("tak per period tillämpas", "caps per period apply"),
    StepKind.PARTICIPANT_CAP: ("tak per deltagare tillämpas", "caps per participant apply"),
    StepKind.TOTAL_GATE: ("villkor för den sammanlagda ersättningen tillämpas", "conditions on the total payout apply"),
    StepKind.TOTAL_FLOOR: ("golv för den sammanlagda ersättningen tillämpas (genom ett tillägg)",
                           "floors on the total payout apply (by a top-up)"),
    StepKind.TOTAL_CAP: ("tak för den sammanlagda ersättningen tillämpas", "caps on the total payout apply"),
    StepKind.RETURN_LIMIT: ("avkastningstak tillämpas på det som betalas till varje investerare",
                            "return limits apply to what is paid to each investor"),
    StepKind.CARD_CAP: ("varje prislistas tak tillämpas: först taket för varje utfall, sedan taket per deltagare "
                        "och det sammanlagda taket, i den ordning prislistan anger",
                        "each rate card's caps apply: first the cap of each outcome, then the cap per participant "
                        "and the total cap, in the order the rate card states"),
}


def order_of_application(contract: m.Contract, lang: str, program: Program | None = None) -> tuple[list[str], str]:
    """The order of calculation as the document states it: one item per kind of step the
    contract's settlement program has, in the program's order (semantics/program.py), and the
    sentence on cuts when a step cuts."""
    s = S[lang]
    program = program or lower(contract)
    step = money(contract.rounding.step, contract.currency, lang)
    rounding = s["rounding"][contract.rounding.mode].format(step=step)
    kinds = list(dict.fromkeys([StepKind.COMPUTE, *(st.kind for st in program.steps)]))
    items = [ORDER[kind][("sv", "en").index(lang)].format(rounding=rounding) for kind in kinds]
    items = [item + (";" if i < len(items) - 1 else ".") for i, item in enumerate(items)]
    return items, (s["order_cuts"] if any(kind.cuts for kind in kinds) else "")


def clause_table(contract: m.Contract, clause: m.ClauseRef, lang: str) -> dict | None:
    """The table a definition's or payment's sentence refers to ("i tabellen nedan"), if any."""
    words = Words(contract, lang)
    if clause.kind in ("define", "baseline") and clause.name in contract.definitions:
        table = words.as_table(contract.definitions[clause.name].expr)
    elif clause.kind == "payment" and clause.name in contract.payments:
        table = words.as_table(contract.payments[clause.name].expr)
    else:
        return None
    if table is not None:  # the value column is the defined term itself
        table["headers"][1] = words.label(clause.name)
    return table
