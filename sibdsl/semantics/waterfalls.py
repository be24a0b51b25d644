"""issue 14: a waterfall's order, checked on a settlement independently of the cut that made it.

`order_breaches(contract, settlement)` recomputes, from the settlement's own lines (what each
waterfall step paid, the first record of each line it made) and the investments, whether any step
paid on a line the vehicle was paid before every earlier step's target was met — with the discount
factors themselves (50 digits), not the rational bounds the step used — beyond what a return limit
held back from a party and passed on to the later steps (the vehicle's line's `limit released`). `sibc verify` replays its
counterexamples with it; the Hypothesis tests hold the three back ends to it.
"""

from __future__ import annotations

from decimal import Decimal, localcontext
from fractions import Fraction

from .. import model as m
from .program import lower, stream_lines, tier_clause
from .returnlimits import true_discount

_SLACK = Decimal("1e-30")


def _dec(x) -> Decimal:
    x = Fraction(x)
    return Decimal(x.numerator) / Decimal(x.denominator)


def order_breaches(contract: m.Contract, settlement) -> list[str]:
    """`NAME.N` for each waterfall step whose target was not met on a line where a later step paid."""
    if not contract.waterfalls:
        return []
    program = lower(contract)
    paid: dict[tuple, Fraction] = {}  # (step clause, payment, period, recipient) → what the step paid
    vehicle: dict[tuple, tuple] = {}  # (payment, period) → the vehicle's line's trail
    for ln in settlement.lines:
        if ln.trail and ln.trail[0][0] == "waterfall":
            key = (ln.clause.name, ln.payment, ln.period, ln.recipient)
            paid[key] = paid.get(key, Fraction(0)) + Fraction(ln.trail[0][3])
        elif ln.clause.name == ln.payment:
            vehicle[(ln.payment, ln.period, ln.recipient)] = ln.trail
    found = []
    with localcontext() as ctx:
        ctx.prec = 50
        for wf in contract.waterfalls:
            received: dict[str, list] = {}  # party → [(due, amount)] through this waterfall so far
            by_step: dict[int, Fraction] = {}
            # the lines the vehicle is paid: the waterfall's own lines are of the same payment, and
            # must not be read as more of them (that counted each step's payments twice)
            for source in stream_lines([ln for ln in program.lines if ln.key[0] != "waterfall"], wf.payments):
                src = program.lines[source]
                now = {t.number: {} for t in wf.tiers}
                for t in wf.tiers:
                    name = tier_clause(wf, t).name
                    for r in t.recipients:
                        for party, _ in r.members:
                            now[t.number][party] = paid.get((name, src.payment, src.period, party), Fraction(0))
                released = _released(vehicle.get((src.payment, src.period, src.recipient), ()), wf)
                for k, t in enumerate(wf.tiers):
                    for party, a in now[t.number].items():
                        received.setdefault(party, []).append((src.due, a))
                    by_step[t.number] = by_step.get(t.number, Fraction(0)) + sum(now[t.number].values(), Fraction(0))
                    later = sum((a for u in wf.tiers[k + 1:] for a in now[u.number].values()), Fraction(0))
                    passed = sum((r for after, r in released if after >= t.number), Fraction(0))
                    if later > 0 and t.target != "rest" and not _met(contract, t, received, by_step[t.number]) \
                            and later > passed:
                        found.append(tier_clause(wf, t).name)
    return list(dict.fromkeys(found))


def _released(trail, wf: m.Waterfall) -> list[tuple[int, Fraction]]:
    """What return limits passed on to a waterfall's later steps on one line the vehicle is paid
    (its `limit released` records), each with the number of the last step that paid on the line
    before it."""
    out, last = [], 0
    prefix = wf.clause.name + "."
    for kind, clause, before, after, _ in trail:
        if kind == "waterfall" and clause.name.startswith(prefix):
            last = int(clause.name[len(prefix):])
        elif kind == "limit released":
            out.append((last, Fraction(after) - Fraction(before)))
    return out


def _met(contract: m.Contract, t: m.WaterfallTier, received: dict, paid_by_step: Fraction) -> bool:
    if t.target == "amount":
        return paid_by_step >= t.amount
    target = t.recipients[t.target_of]
    parties = {p for p, _ in target.members}
    flows = [f for i in contract.investments.values()
             if (i.klass == target.name if target.klass else i.investor == target.name) for f in i.flows]
    receipts = [(d, a) for p in parties for d, a in received.get(p, [])]
    if t.rate is None:
        return sum((a for _, a in receipts), Fraction(0)) >= sum((a for _, a in flows), Fraction(0))
    limit = m.ReturnLimit(m.ClauseRef("waterfall", ""), t.rate, t.compounding, None, None)
    start = min(d for d, _ in flows)
    drawn = sum((_dec(a) * true_discount(limit, start, d) for d, a in flows), Decimal(0))
    worth = sum((_dec(a) * (true_discount(limit, start, d) if d is not None else 1) for d, a in receipts), Decimal(0))
    return worth + _SLACK >= drawn
