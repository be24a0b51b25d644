"""The document's words for named tables and rate cards (issue 15), in Swedish and English.

In: the checked contract, the clause of a `table` or `ratecard`, a language. Out: one paragraph,
as render/clauses.sentence gives for every other declaration.
"""

from __future__ import annotations

from .. import model as m
from .words import Words, listing, percent

S = {
    "sv": {
        "step": "Tabellen {label} ger, för ett värde, {below} under {first} och därefter: {rows}.",
        "row_from": "{value} från och med {at}",
        "linear": "Tabellen {label} följer räta linjer mellan punkterna {points}; {below}, {above}.",
        "below_jump": "under {at} ger den {value}",
        "below_flat": "under {at} ger den den första punktens värde",
        "above_jump": "över {at} ger den {value}",
        "above_flat": "över {at} ger den den sista punktens värde",
        "card": "Prislistan {label}: {payer} betalar {recipient}{per}, för varje uppnått utfall, utfallets "
                "pris gånger antalet uppnådda utfall enligt utvärderingen: {rows}.",
        "per": " per {series}",
        "row": "{label} {price}",
        "row_cap": "{label} {price} (sammanlagt högst {cap})",
        "participant": " Prislistan betalar sammanlagt högst {amount} per deltagare, det vill säga {total} för "
                       "{size} deltagare.",
        "total": " Prislistan betalar sammanlagt högst {amount}.",
        "order_claim": " Överskrids ett tak minskas de senaste anspråken först, så att tidigare anspråk betalas fullt ut.",
        "order_declaration": " Överskrids ett tak minskas det sist uppräknade utfallet först.",
        "order_proportion": " Överskrids ett tak för hela prislistan minskas varje utbetalning i samma proportion "
                            "(pro rata): den multipliceras med taket delat med värdet av alla utfall och avrundas "
                            "nedåt till en multipel av {step}; det som avrundningen lämnar betalas inte ut.",
        "indexed": " Priserna räknas upp med {rate} per år för varje helt år från {date} till periodens början.",
    },
    "en": {
        "step": "The table {label} gives, for a value, {below} below {first} and then: {rows}.",
        "row_from": "{value} from {at}",
        "linear": "The table {label} follows straight lines between the points {points}; {below}, {above}.",
        "below_jump": "below {at} it gives {value}",
        "below_flat": "below {at} it gives the first point's value",
        "above_jump": "above {at} it gives {value}",
        "above_flat": "above {at} it gives the last point's value",
        "card": "The rate card {label}: {payer} pays {recipient}{per}, for each outcome achieved, the outcome's "
                "price times the number of outcomes achieved as evaluated: {rows}.",
        "per": " per {series}",
        "row": "{label} {price}",
        "row_cap": "{label} {price} (at most {cap} in all)",
        "participant": " The rate card pays at most {amount} per participant in all, that is {total} for "
                       "{size} participants.",
        "total": " The rate card pays at most {amount} in all.",
        "order_claim": " Where a cap is exceeded, the latest claims are reduced first, so that earlier claims are "
                       "paid in full.",
        "order_declaration": " Where a cap is exceeded, the outcome listed last is reduced first.",
        "order_proportion": " Where a cap on the whole rate card is exceeded, every payment is reduced in the same "
                            "proportion (pro rata): it is multiplied by the cap divided by the value of all "
                            "outcomes and rounded down to a multiple of {step}; what the rounding leaves is not paid.",
        "indexed": " The prices rise by {rate} a year for each whole year from {date} to the start of the period.",
    },
}


def sentence(contract: m.Contract, clause: m.ClauseRef, lang: str) -> str | None:
    words, s = Words(contract, lang), S[lang]
    if clause.kind == "table":
        table = contract.tables.get(clause.name)
        return _table(words, s, table, lang) if table is not None else None
    card = contract.rate_cards.get(clause.name)
    if card is None:
        return None
    rows = []
    for o in card.outcomes:
        label = words.quoted(o.label.get(lang)) if o.label else o.name
        key = "row_cap" if o.cap is not None else "row"
        rows.append(s[key].format(label=label, price=words.money(o.price),
                                  cap=words.money(o.cap) if o.cap is not None else ""))
    payment = contract.payments[card.outcomes[0].payment]
    text = s["card"].format(label=_label(words, card, lang), payer=words.party(payment.payer),
                            recipient=words.party(payment.recipient),
                            per=s["per"].format(series=words.label(card.series)) if card.series else "",
                            rows="; ".join(rows))
    if card.index_rate is not None:
        text += s["indexed"].format(rate=percent(card.index_rate, lang), date=words.date(card.index_from))
    if card.participant_cap is not None:
        text += s["participant"].format(amount=words.money(card.participant_cap),
                                        total=words.money(card.participant_cap * card.cohort_size),
                                        size=card.cohort_size)
    if card.total_cap is not None:
        text += s["total"].format(amount=words.money(card.total_cap))
    if card.total_cap is not None or card.participant_cap is not None or any(o.cap for o in card.outcomes):
        text += s[f"order_{card.order}"].format(step=words.money(contract.rounding.step))
    return text


def _label(words: Words, item, lang: str) -> str:
    return words.quoted(item.label.get(lang)) if item.label else item.name


def _table(words: Words, s: dict, table: m.Table, lang: str) -> str:
    def key(v):
        return words.value(v, table.key.kind)

    def val(v):
        return words.value(v, table.ty.kind)

    label = _label(words, table, lang)
    if table.kind == "step":
        rows = listing([s["row_from"].format(value=val(v), at=key(t)) for t, v in zip(table.thresholds, table.values)],
                       lang)
        return s["step"].format(label=label, below=val(table.below), first=key(table.thresholds[0]), rows=rows)
    points = listing([f"({key(x)}, {val(y)})" for x, y in zip(table.thresholds, table.values)], lang)
    first, last = key(table.thresholds[0]), key(table.thresholds[-1])
    below = (s["below_jump"].format(at=first, value=val(table.below)) if table.below is not None
             else s["below_flat"].format(at=first))
    above = (s["above_jump"].format(at=last, value=val(table.above)) if table.above is not None
             else s["above_flat"].format(at=last))
    return s["linear"].format(label=label, points=points, below=below, above=above)
