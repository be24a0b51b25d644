"""Each declaration of the contract as a sentence (Swedish or English), from the checked model."""

from __future__ import annotations

import attrs

from .. import model as m
from ..lang import texts
from ..semantics.program import Program, StepKind, lower
from ..syntax import SEP
from ..units import BOOL
from .words import Words, listing, money, number, percent

S = texts("clauses")  # each kind of declaration as a sentence, per language (sibdsl/texts/clauses.json)


_RETURNS = {
    "sv": {
        "each": "varje investerare", "class": "investerarna i klassen {name}", "one": "{name}",
        "irr": "Vad {whom} får, med varje betalning diskonterad med {rate} per år ({kind}, dagräkning {dc}) "
               "tillbaka till de dagar då pengarna betalades ut, är högst det utbetalda beloppet: "
               "internräntan är högst {rate} per år.",
        "period": "Vad {whom} får är högst det utbetalda beloppet med en avkastning om {rate} per år ({kind}) "
                  "från {start} till {end}.",
        "total": "Vad {whom} får är högst det utbetalda beloppet med en avkastning om {rate} totalt.",
        "multiple": "Vad {whom} får är högst {rate} gånger det {capital} kapitalet.",
        "drawn": "utbetalda", "committed": "utlovade",
        "both": " Alla avkastningstak gäller samtidigt; det som tillåter minst avgör. Med betalning {end} "
                "tillåter {annual} per år {grown}, {total} totalt {level}.",
    },
    "en": {
        "each": "each investor receives", "class": "the investors of class {name} receive",
        "one": "{name} receives",
        "irr": "What {whom}, each payment discounted at {rate} a year ({kind}, day count {dc}) back "
               "to the dates the money was drawn, is at most what was drawn: the internal rate of return is "
               "at most {rate} a year.",
        "period": "What {whom} is at most what was drawn with a return of {rate} a year ({kind}) "
                  "from {start} to {end}.",
        "total": "What {whom} is at most what was drawn with a return of {rate} in total.",
        "multiple": "What {whom} is at most {rate} times the capital {capital}.",
        "drawn": "drawn", "committed": "committed",
        "both": " All return limits apply at once; the one that allows less decides. Paid on {end}, {annual} "
                "a year allows {grown}, {total} in total {level}.",
    },
}


_INVESTMENTS = {
    "sv": {"drawn": "{investor} betalar ut {amount} ({label}): {parts}.", "on": "{amount} den {date}",
           "committed": " Det utlovade beloppet är {amount}; förluster, garantier och avkastning räknas på det "
                        "utbetalda.", "class": " Investeringen hör till klassen {name}."},
    "en": {"drawn": "{investor} draws {amount} ({label}): {parts}.", "on": "{amount} on {date}",
           "committed": " The commitment is {amount}; losses, guarantees and returns are computed on what is "
                        "drawn.", "class": " The investment is in class {name}."},
}


def investment_sentence(inv: m.Investment, lang: str, words: Words) -> str:
    """An investment with drawdowns, a commitment or a class, in words (issue 14)."""
    w = _INVESTMENTS.get(lang, _INVESTMENTS["en"])
    parts = listing([w["on"].format(amount=words.money(a), date=words.date(d)) for d, a in inv.flows], lang)
    text = w["drawn"].format(investor=words.party(inv.investor), amount=words.money(inv.amount),
                             label=words.label(inv.name), parts=parts)
    if inv.committed is not None:
        text += w["committed"].format(amount=words.money(inv.committed))
    if inv.klass:
        text += w["class"].format(name=inv.klass)
    return text


def return_limit_sentence(c: m.Contract, r: m.ReturnLimit, lang: str, words: Words) -> str:
    """A return limit in words (issue 14): whom it binds, and what its rate means; the last limit
    of a contract with a rate over a period and a limit in total also says how the two interact."""
    from ..semantics.returnlimits import bounds

    s, w = S[lang], _RETURNS.get(lang, _RETURNS["en"])
    rate = percent(r.rate, lang)
    whom = (w["one"].format(name=words.party(r.investor)) if r.investor else
            w["class"].format(name=r.klass) if r.klass else w["each"])
    if r.kind == "total":
        text = w["total"].format(whom=whom, rate=rate)
    elif r.kind == "multiple":
        text = w["multiple"].format(whom=whom, rate=number(r.rate, lang), capital=w[r.capital])
    elif r.start is None:
        text = w["irr"].format(whom=whom, rate=rate, kind=s[r.kind], dc=r.day_count.upper())
    else:
        text = w["period"].format(whom=whom, rate=rate, kind=s[r.kind], start=words.date(r.start),
                                  end=words.date(r.end))
    periodic = [x for x in c.return_limits if x.kind in ("simple", "compound")]
    totals = [x for x in c.return_limits if x.kind == "total"]
    if periodic and totals and r is c.return_limits[-1]:
        annual, total = periodic[0], totals[0]
        end, grown = _allowed_on_last_payment(c, annual)
        level = min((b.level for b in bounds(c, total)), default=None)
        if grown is not None and level is not None and end is not None:
            text += w["both"].format(end=words.date(end), annual=percent(annual.rate, lang),
                                     grown=money(grown, c.currency, lang), total=percent(total.rate, lang),
                                     level=money(level, c.currency, lang))
    return text


def _allowed_on_last_payment(c: m.Contract, limit: m.ReturnLimit):
    """What a rate limit allows in money, paid on one date: the end of its period, or, for a rate of
    return on the dated flows, the last date a payment to whom it binds falls due (the present value
    it allows grown back to that date, rounded down). (None, None) where there is no such date."""
    from ..semantics.program import lower
    from ..semantics.returnlimits import bounds, discount
    from ..values import Rounding, exact

    found = bounds(c, limit)
    if not found:
        return None, None
    if limit.start is not None:
        return limit.end, min(b.level for b in found)
    program = lower(c)
    allowed, last = [], None
    for b in found:
        dues = [ln.due for ln in program.lines if ln.recipient in b.investors and ln.due is not None]
        if not dues or b.start is None:
            return None, None
        end = max(dues)
        last = end if last is None else max(last, end)
        grown = b.level / discount(limit, b.start, end, upper=True)
        allowed.append(exact(Rounding(c.rounding.step, "down").apply(grown)))
    return last, min(allowed)


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
        if inv.drawdowns or inv.committed is not None or inv.klass:
            return investment_sentence(inv, lang, words)
        return s["investment"].format(investor=words.party(inv.investor), amount=words.money(inv.amount),
                                      date=words.date(inv.date),
                                      label=words.label(inv.name))
    if kind == "measure":
        msr = c.measures[clause.name]
        per = _per(s, words, msr.ty.series, "per")
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
        per = _per(s, words, p.series, "payment_per")
        if p.during:  # issue 15: a range of the series' periods
            first, last = (c.series[p.series].period(n) for n in (p.during[0], p.during[-1]))
            key = "payment_during_one" if len(p.during) == 1 else "payment_during"
            per = s[key].format(first=words.period(first), last=words.period(last), series=words.label(p.series))
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
    def during(item, series) -> str:  # issue 15: a gate's, a floor's or a cap's range of periods
        if not item.during:
            return ""
        first, last = (c.series[series].period(n) for n in (item.during[0], item.during[-1]))
        key = "during_range_one" if len(item.during) == 1 else "during_range"
        return s[key].format(first=words.period(first), last=words.period(last), series=words.label(series))

    if kind == "gate":
        g = _find(c.gates, clause)
        if g.target == "total":
            return s["gate_total"].format(level=words.expr(g.level), cond=words.condition(g.condition))
        only = s["only_during"].format(range=r) if (r := during(g, c.payments[g.target].series)) else ""
        return cap(s["gate_payment"].format(target=words.label(g.target), cond=words.condition(g.condition))) + only
    if kind == "floor":
        f = _find(c.floors, clause)
        when = s["floor_when"].format(cond=words.condition(f.when)) if f.when is not None else ""
        if f.during:  # issue 15: in a range of periods
            series = c.payments[f.targets[0] if f.target == m.STREAM else f.target].series
            if f.target == m.STREAM:
                return cap(s["floor_stream_during" + ("_one" if len(f.targets) == 1 else "")].format(
                    targets=listing([words.label(n) for n in f.targets], lang), amount=words.expr(f.amount),
                    range=during(f, series), when=when))
            plain = attrs.evolve(f, during=())
            text = sentence(attrs.evolve(c, floors=tuple(plain if x is f else x for x in c.floors)), clause, lang)
            return text + s["only_during"].format(range=during(f, series))
        if f.target == m.STREAM:  # issue 15
            return cap(s["floor_stream" + ("_one" if len(f.targets) == 1 else "")].format(targets=listing([words.label(n) for n in f.targets], lang),
                                                amount=words.expr(f.amount), when=when))
        if f.target != "total" and c.payments[f.target].series:  # issue 15: each period, named as such
            return cap(s["floor_payment_per"].format(target=words.label(f.target), amount=words.expr(f.amount),
                                                     when=when))
        if f.target == "total":
            return s["floor_total"].format(amount=words.expr(f.amount), when=when,
                                           payer=words.party(f.payer or ""), recipient=words.party(f.recipient or ""))
        return cap(s["floor_payment"].format(target=words.label(f.target), amount=words.expr(f.amount), when=when))
    if kind == "cap":
        k = _find(c.caps, clause)
        amount = words.expr(k.amount)
        if k.during:  # issue 15: in a range of periods
            series = k.target if k.kind == "series" else c.payments[k.targets[0] if k.kind == "stream" else k.target].series
            if k.kind == "stream":
                return cap(s["cap_stream_during"].format(targets=listing([words.label(n) for n in k.targets], lang),
                                                         amount=amount, range=during(k, series)))
            k_plain = attrs.evolve(k, during=())
            text = sentence(attrs.evolve(c, caps=tuple(k_plain if x is k else x for x in c.caps)), clause, lang)
            return text + s["only_during"].format(range=during(k, series))
        if k.kind == "total":
            return s["cap_total"].format(amount=amount)
        if k.kind == "series":
            return s["cap_series"].format(series=words.label(k.target), amount=amount)
        if k.kind == "participant":
            return s["cap_participant"].format(amount=amount)
        if k.kind == "stream":  # issue 15
            return cap(s["cap_stream" + ("_one" if len(k.targets) == 1 else "")].format(targets=listing([words.label(n) for n in k.targets], lang), amount=amount))
        if k.kind in ("payer", "recipient"):
            return s[f"cap_{k.kind}"].format(party=words.party(k.target), amount=amount)
        if c.payments[k.target].series:  # issue 15: each period, named as such
            return cap(s["cap_payment_per"].format(target=words.label(k.target), amount=amount))
        return cap(s["cap_payment"].format(target=words.label(k.target), amount=amount))
    if kind == "return limit":
        return return_limit_sentence(c, _find(c.return_limits, clause), lang, words)
    if kind == "guarantee":
        g = _find(c.guarantees, clause)
        if g.monotone:
            text = s[g.monotone].format(expr=words.expr(g.expr), name=words.label(g.monotone_in))
        else:
            text = words.condition(g.expr)
            if g.when is not None:
                text += s["guarantee_when"].format(cond=words.condition(g.when))
        return s["guarantee"].format(text=text)  # its label is the run-in heading (view.py)
    if kind == "assumption":  # issue 17
        a = _find(c.assumptions, clause)
        return s["assumption"].format(text=words.condition(a.expr), per=s["assumption_per"] if a.series else "")
    if kind == "cover":  # issue 14: first-loss cover
        v = _find(c.covers, clause)
        share = s["cover_share"].format(share=percent(v.share, lang)) if v.share != 1 else ""
        ceiling = s["cover_ceiling"].format(amount=money(v.ceiling, c.currency, lang)) if v.ceiling is not None else ""
        return cap(s["cover"].format(guarantor=words.party(v.guarantor), share=share, investor=words.party(v.investor),
                                     investment=words.label(v.investment), ceiling=ceiling))
    if kind == "repayment":  # issue 14: principal repaid on an outcome condition
        r = _find(c.repayments, clause)
        terms = []
        if r.full is not None:
            terms.append(s["rp_full"].format(cond=words.condition(r.full)))
        if r.otherwise is not None:
            terms.append(s["rp_otherwise" if r.full is not None else "rp_only"].format(share=words.expr(r.otherwise)))
        if r.minimum is not None and r.full is not None and r.otherwise is None:  # otherwise the minimum
            terms.append(s["rp_otherwise"].format(share=words.expr(r.minimum)))
        elif r.minimum is not None:
            terms.append(s["rp_minimum"].format(share=words.expr(r.minimum)))
        text = s["repayment"].format(payer=words.party(r.payer), investor=words.party(r.investor),
                                     investment=words.label(r.investment), label=words.defined(r.payment),
                                     terms=", ".join(terms) or s["rp_all"])
        if r.due.date is not None:
            text += s["due"].format(date=words.date(r.due.date))
        return cap(text)
    if kind == "redemption":  # issue 14: early redemption at a stated share
        r = _find(c.redemptions, clause)
        accrued = s["redemption_accrued"].format(coupon=words.defined(r.accrued)) if r.accrued else ""
        return s["redemption"].format(cond=words.condition(r.condition), payer=words.party(r.payer),
                                      investor=words.party(r.investor), share=percent(r.share, lang),
                                      investment=words.label(r.investment), label=words.defined(r.payment),
                                      date=words.date(r.due.date), accrued=accrued)
    if kind == "coupon":  # issue 14: a coupon, settled as the payment of the same name
        return coupon_sentence(c, _find(c.coupons, clause), lang, words)
    if kind == "waterfall":  # issue 14
        return waterfall_sentence(c, _find(c.waterfalls, clause), lang, words)
    return None


def coupon_sentence(c: m.Contract, k: m.Coupon, lang: str, words: Words) -> str:
    """A coupon in words (issue 14): who pays whom, on what, at what rate, with its minimum and day count."""
    s = S[lang]
    minimum = ""
    if k.minimum is not None and k.minimum_during:
        first, last = (c.series[k.series].period(n) for n in (k.minimum_during[0], k.minimum_during[-1]))
        minimum = s["coupon_minimum_during"].format(rate=percent(k.minimum, lang), first=words.period(first),
                                                    last=words.period(last))
    elif k.minimum is not None:
        minimum = s["coupon_minimum"].format(rate=percent(k.minimum, lang))
    text = s["coupon"].format(payer=words.party(k.payer), investor=words.party(k.investor),
                              label=words.defined(k.payment), investment=words.label(k.investment),
                              rate=table["ref"] if (table := words.as_table(k.rate)) else words.expr(k.rate),
                              minimum=minimum, series=words.label(k.series),
                              dc=k.day_count.upper())
    if k.due.date is not None:
        text += s["due"].format(date=words.date(k.due.date))
    elif k.due.days_after_end:
        text += s["due_after"].format(days=k.due.days_after_end)
    return text[:1].upper() + text[1:]


def waterfall_sentence(c: m.Contract, w: m.Waterfall, lang: str, words: Words) -> str:
    """A waterfall in words: who distributes what, its numbered steps, and who keeps the rest."""
    s = S[lang]

    def who(r: m.WaterfallRecipient) -> str:
        return s["wf_class"].format(name=r.name) if r.klass else words.party(r.name)

    steps = []
    for t in w.tiers:
        if len(t.recipients) == 1 and t.recipients[0].share == 1:
            split = s["wf_to"].format(who=who(t.recipients[0]))
        else:
            split = listing([s["wf_share"].format(share=percent(r.share, lang), who=who(r)) for r in t.recipients], lang)
        if t.target == "rest":
            steps.append(s["wf_rest"].format(number=t.number, split=split))
        elif t.target == "amount":
            steps.append(s["wf_amount"].format(number=t.number, split=split, amount=money(t.amount, c.currency, lang)))
        elif t.rate is None:
            steps.append(s["wf_drawn"].format(number=t.number, split=split, who=who(t.recipients[t.target_of])))
        else:
            steps.append(s["wf_drawn_rate"].format(number=t.number, split=split, who=who(t.recipients[t.target_of]),
                                                   rate=percent(t.rate, lang), compounding=s[t.compounding]))
    vehicle = words.party(w.vehicle)
    keeps = "" if any(t.target == "rest" for t in w.tiers) else s["waterfall_keeps"].format(vehicle=vehicle)
    text = s["waterfall"].format(vehicle=vehicle, payments=listing([words.label(p) for p in w.payments], lang),
                                 steps="; ".join(steps), keeps=keeps)
    return (text[:1].upper() + text[1:]).replace("..", ".")  # a last step to "Roca, Inc."


# the order of calculation: one item per step kind a contract's settlement program has, in its order
# (sibdsl/texts/order.json, by step kind and language)
ORDER = texts("order")


def order_of_application(contract: m.Contract, lang: str, program: Program | None = None) -> tuple[list[str], str]:
    """The order of calculation as the document states it: one item per kind of step the
    contract's settlement program has, in the program's order (semantics/program.py), and the
    sentence on cuts when a step cuts."""
    s = S[lang]
    program = program or lower(contract)
    step = money(contract.rounding.step, contract.currency, lang)
    rounding = s["rounding"][contract.rounding.mode].format(step=step)
    kinds = list(dict.fromkeys([StepKind.COMPUTE, *(st.kind for st in program.steps)]))
    items = [ORDER[kind.name][lang].format(rounding=rounding) for kind in kinds]
    if any(st.takes for st in program.steps):  # issue 14: a return limit within a waterfall
        at = kinds.index(StepKind.WATERFALL)
        items[at] += ORDER["WATERFALL_LIMIT"][lang]
    items = [item + (";" if i < len(items) - 1 else ".") for i, item in enumerate(items)]
    cuts = s["order_cuts"] if any(kind.cuts for kind in kinds) else ""
    if StepKind.STREAM_CAP in kinds:  # issue 15: a stream gives from the period paid last
        cuts += s["order_cuts_stream"]
    return items, cuts


def clause_table(contract: m.Contract, clause: m.ClauseRef, lang: str) -> dict | None:
    """The table a definition's or payment's sentence refers to ("i tabellen nedan"), if any."""
    words = Words(contract, lang)
    if clause.kind in ("define", "baseline") and clause.name in contract.definitions:
        table = words.as_table(contract.definitions[clause.name].expr)
    elif clause.kind == "payment" and clause.name in contract.payments:
        table = words.as_table(contract.payments[clause.name].expr)
    elif clause.kind == "coupon" and (coupon := _find(contract.coupons, clause)) is not None:
        table = words.as_table(coupon.rate)  # issue 14: a coupon's rate by outcome
    else:
        return None
    if table is not None:  # the value column is the defined term itself
        table["headers"][1] = words.label(clause.name)
    return table


def _per(s, words, series: str | None, key: str) -> str:
    """", for each period of “Year”", or for two series (issue 15) ", for each period of “Cohort”
    in each period of “School year”"."""
    if not series:
        return ""
    if SEP in series:
        first, second = series.split(SEP)
        return s[key + "_cells"].format(first=words.label(first), second=words.label(second))
    return s[key].format(series=words.label(series))
