"""Built-in checks a reviewer needs beyond `verify.properties`, and the words for their answers.

In: a checked contract (and, for words, the counterexample's outcomes and settlements). Out:
- `extra_properties`: properties `verify` proves with the others —
  `leak:GATE`, a gate on a payment that does not withhold everything growing with the gated
  amount (non-interference: with the condition failing, more of the gated amount never brings
  more money through another payment); `floor-below-cap:FLOOR:CAP` across levels (a floor on a
  payment against a cap per period, per participant or on the total; a floor on the total
  against a cap per participant);
- `dead_clauses`: every gate, floor, cap, limit (any step of the settlement program other than a
  payment's formula, read generically by its StepKind) that no outcome can make act, and every
  `if` branch and table row no outcome can reach, with the proof's reason in one line (W410);
- `words`: the sentence that says which promise a counterexample breaks and by how much, in
  Swedish and English, and where (the table row, the sub-expression that goes negative).
"""

from __future__ import annotations

import functools
from fractions import Fraction

import attrs

from . import model as m
from .compiler import EvaluationError
from .counterexample import both, money
from .semantics.program import StepKind
from .semantics.program import lower as lower_program
from .verify import (Property, concrete_value, dependencies, name_of, where_of)
from .lazyz3 import LazyZ3

z3 = LazyZ3(globals())  # imported when a question needs the solver (lazyz3.py)


# ---------------------------------------------------------------- leaking gates
def _measures_of(contract: m.Contract, expr: m.Expr) -> set[str]:
    found: set[str] = set()
    for node in m.walk(expr):
        if isinstance(node, m.Input):
            found.add(node.name)
        elif isinstance(node, m.Var) and node.name in contract.definitions:
            found |= dependencies(contract, node.name)
    return found


def _periods(contract: m.Contract, payment: m.Payment) -> list[dict]:
    if payment.series:
        return [{payment.series: p.name} for p in contract.series[payment.series].periods]
    return [{}]


def leak_property(contract: m.Contract, gate: m.Gate) -> Property | None:
    """`leak:GATE` for a gate on a payment whose amount depends on some measure: for any two
    outcomes where the condition fails, if the gated payment's own amount (before the gate) is
    positive and grows, the total does not grow. None when the payment depends on no measure.
    A gate `during` some periods (issue 15) is read on the payment's lines in those periods: the
    lines of other periods are the same in both outcomes (they are paid whatever the condition).
    A redemption `plus accrued` (issue 14) pays, by design, the interest its gate withholds from the
    coupon: its own lines are left out of the total compared, any other payment's are not."""
    payment = contract.payments[gate.target]
    # the redemption whose gate this is, when it pays the gated coupon's accrued interest
    accrues = {r.payment for r in contract.redemptions if r.clause == gate.clause and r.accrued == gate.target}
    fresh = _measures_of(contract, payment.expr)
    if not fresh:
        return None
    rnd = contract.rounding.apply

    def parts(s):
        gate_lines = {v.step.line for v in s.values if v.step.kind is StepKind.GATE and v.step.clause == gate.clause}
        computed = [v for v in s.values if v.step.kind is StepKind.COMPUTE and v.step.clause == payment.clause]
        gated = [v.level for v in computed if not gate.during or v.step.line in gate_lines]
        others = [v.level for v in computed if gate.during and v.step.line not in gate_lines]
        fails = [z3.Not(v.condition) for v in s.values
                 if v.step.kind is StepKind.GATE and v.step.clause == gate.clause]
        total = z3.Sum(gated) if len(gated) > 1 else gated[0] if gated else z3.RealVal(0)
        return total, fails, others

    def claim(c):
        a, b = c
        ea, fa, oa = parts(a)
        eb, fb, ob = parts(b)
        same = [x == y for x, y in zip(oa, ob)]  # the periods the gate does not apply in: unchanged
        if accrues:
            def rest(s):
                return s.total - z3.Sum([z3.RealVal(0), *(ln.amount for ln in s.lines if ln.payment in accrues)])
            return z3.And(*fa, *fb, *same, ea > 0, eb > ea), rest(b) <= rest(a)
        return z3.And(*fa, *fb, *same, ea > 0, eb > ea), b.total <= a.total

    def gated(outcomes) -> tuple[Fraction, list] | None:
        total, others = Fraction(0), []
        for period in _periods(contract, payment):
            if payment.during and period and next(iter(period.values())) not in payment.during:
                continue  # the payment has no line then
            amount = rnd(concrete_value(contract, payment.expr, outcomes, None, period))
            if gate.during and next(iter(period.values()), None) not in gate.during:
                others.append(amount)  # the gate does not apply then: paid whatever the condition
                continue
            if concrete_value(contract, gate.condition, outcomes, None, period):
                return None
            total += amount
        return total, others

    def holds(outcomes, settlements):
        a, b = gated(outcomes[0]), gated(outcomes[1])
        if a is None or b is None or a[1] != b[1] or not (0 < a[0] < b[0]):
            return True
        def rest(s) -> Fraction:
            return Fraction(s.total) - sum((Fraction(ln.amount) for ln in s.lines if ln.payment in accrues), Fraction(0))
        return rest(settlements[1]) <= rest(settlements[0])

    return Property(f"leak:{name_of(gate.clause)}",
                    f"when the gate{where_of(gate.clause)} fails, nothing that grows with `{payment.name}` is paid "
                    "through another payment", claim, copies=2, fresh=tuple(sorted(fresh)),
                    concrete=holds, clause=gate.clause)


# ---------------------------------------------------------------- floors and caps across levels
def _crosses(contract: m.Contract, floor: m.Floor, cap: m.Cap) -> bool:
    """A floor and a cap on different levels where the cap's group holds the floor's amount."""
    if floor.target == "total":
        return cap.kind == "participant"
    if floor.target == m.STREAM:  # a stream floor: its own property (floor:…) covers it, not this check
        return False
    if cap.kind in ("total", "participant"):
        return True
    return cap.kind == "series" and contract.payments[floor.target].series == cap.target


def _cap_level(contract: m.Contract, cap: m.Cap, outcomes, period: dict) -> Fraction:
    rnd = contract.rounding.apply
    if cap.kind == "participant":
        return rnd(concrete_value(contract, cap.amount, outcomes, None) * contract.cohorts[cap.target].size)
    if cap.kind == "series":
        return rnd(concrete_value(contract, cap.amount, outcomes, None, {cap.target: period[cap.target]}))
    return rnd(concrete_value(contract, cap.amount, outcomes, None))


def _conflicts(contract: m.Contract, floor: m.Floor, cap: m.Cap, outcomes) -> list[tuple]:
    """(floor level, cap level, period) where the floor applies and lies above the cap."""
    rnd = contract.rounding.apply
    payment = contract.payments.get(floor.target)
    periods = _periods(contract, payment) if payment is not None else [{}]
    found = []
    for period in periods:
        if floor.when is not None and not concrete_value(contract, floor.when, outcomes, None, period):
            continue
        low = rnd(concrete_value(contract, floor.amount, outcomes, None, period))
        high = _cap_level(contract, cap, outcomes, period)
        if low > high:
            found.append((low, high, next(iter(period.values()), None)))
    return found


def conflict_property(contract: m.Contract, floor: m.Floor, cap: m.Cap) -> Property:
    def claim(c, floor=floor, cap=cap):
        s = c[0]
        fs = [v for v in s.steps_of(floor.clause)]
        ks = [v for v in s.steps_of(cap.clause)]
        pairs = [z3.Implies(f.condition, f.level <= k.level) for f in fs for k in ks
                 if f.step.kind is StepKind.TOTAL_FLOOR or f.step.line in k.step.group]
        return z3.BoolVal(True), z3.And(pairs) if pairs else z3.BoolVal(True)

    def holds(outcomes, settlements):
        return not _conflicts(contract, floor, cap, outcomes[0])

    return Property(f"floor-below-cap:{name_of(floor.clause)}:{name_of(cap.clause)}",
                    f"the floor{where_of(floor.clause)} is never above {_cap_words(cap)['en']}"
                    f"{where_of(cap.clause)}", claim, concrete=holds, clause=floor.clause)


def _cap_words(cap: m.Cap) -> dict[str, str]:
    return {"total": both("the cap on the total", "taket för summan"),
            "participant": both("the cap per participant", "taket per deltagare"),
            "series": both(f"the cap per period of `{cap.target}`", f"taket per period i `{cap.target}`"),
            "payment": both(f"the cap on `{cap.target}`", f"taket för `{cap.target}`")}[cap.kind]


def extra_properties(contract: m.Contract) -> list[Property]:
    result = []
    for gate in contract.gates:
        if gate.target != "total":
            prop = leak_property(contract, gate)
            if prop is not None:
                result.append(prop)
    for floor in contract.floors:
        for cap in contract.caps:
            if _crosses(contract, floor, cap):
                result.append(conflict_property(contract, floor, cap))
    return result


# ---------------------------------------------------------------- words for a counterexample
@attrs.frozen
class Words:
    text: dict[str, str]  # language → sentence
    line: int = 0  # where the mistake shows, when it is not the property's clause (a table row)


def _clause(contract: m.Contract, key: str):
    """The declaration a property key names (its clause's name)."""
    name = key.split(":")[1]
    for item in (*contract.gates, *contract.floors, *contract.caps, *contract.return_limits):
        if name_of(item.clause) == name:
            return item
    return None


def _where(clause: m.ClauseRef, lang: str) -> str:
    return f" ({'rad' if lang == 'sv' else 'line'} {clause.line})" if clause.line else ""


def _lines_by(settlement) -> dict:
    return {(ln.payment, ln.period): Fraction(ln.amount) for ln in settlement.lines}


def words(contract: m.Contract, key: str, outcomes: list, settlements: list) -> Words | None:
    """Which promise broke and by how much, in sv and en; None where no sentence is written."""
    cur = contract.currency
    kind = key.split(":")[0]
    s0 = settlements[0]
    total = Fraction(s0.total)
    if kind == "leak":
        return _leak_words(contract, key, outcomes, settlements)
    if kind == "monotone":
        return _monotone_words(contract, key.split(":", 1)[1], outcomes, settlements)
    if kind == "guarantee" and len(settlements) == 2:
        return _monotone_guarantee_words(contract, key.split(":", 1)[1], outcomes, settlements)
    if kind == "guarantee":
        return _guarantee_words(contract, key.split(":", 1)[1], s0)
    if kind == "nonnegative":
        return _negative_words(contract, key.split(":", 1)[1], outcomes[0], s0)
    item = _clause(contract, key) if kind in ("cap", "floor", "gate", "floor-below-cap") else None
    if kind == "floor-below-cap" and isinstance(item, m.Floor):
        cap = next(c for c in contract.caps if name_of(c.clause) == key.split(":")[2])
        found = _conflicts(contract, item, cap, outcomes[0])
        if not found:
            return None
        low, high, period = found[0]
        at = {"en": f" for {period}" if period else "", "sv": f" för {period}" if period else ""}
        cw = _cap_words(cap)
        return Words({lang: (f"{'golvet' if lang == 'sv' else 'the floor'} `{name_of(item.clause)}`"
                             f"{_where(item.clause, lang)} {'är' if lang == 'sv' else 'is'} {money(low, cur, lang)}"
                             f"{at[lang]}, {'men' if lang == 'sv' else 'but'} {cw[lang]} `{name_of(cap.clause)}`"
                             f"{_where(cap.clause, lang)} "
                             f"{'tillåter högst' if lang == 'sv' else 'allows at most'} {money(high, cur, lang)}: "
                             f"{'båda kan inte gälla; golvet ligger' if lang == 'sv' else 'both cannot hold; the floor is'} "
                             f"{money(low - high, cur, lang)} {'över taket' if lang == 'sv' else 'above the cap'}")
                      for lang in ("en", "sv")})
    rnd = contract.rounding.apply
    if kind == "cap" and isinstance(item, m.Cap):
        if item.kind in ("total", "participant"):
            limit = _cap_level(contract, item, outcomes[0], {})
            return _over(cur, both("the total", "summan"), total, limit, _cap_words(item), item.clause, above=True)
        if item.kind == "payment":
            return _line_broken(contract, s0, item, outcomes[0], cur, both("its cap", "dess tak"), above=True)
        return None
    if kind == "floor" and isinstance(item, m.Floor):
        if item.target == "total":
            limit = rnd(concrete_value(contract, item.amount, outcomes[0], None))
            return _over(cur, both("the total", "summan"), total, limit,
                         both("the floor", "golvet"), item.clause, above=False)
        return _line_broken(contract, s0, item, outcomes[0], cur, both("its floor", "dess golv"), above=False)
    if kind == "gate" and isinstance(item, m.Gate):
        if item.target == "total":
            level = rnd(concrete_value(contract, item.level, outcomes[0], None))
            w = _over(cur, both("the total", "summan"), total, level,
                      both("the gate's level", "villkorets nivå"), item.clause, above=True)
            return Words({lang: (("villkoret är inte uppfyllt, ändå är " if lang == "sv"
                                  else "the condition is not met, yet ") + w.text[lang]) for lang in ("en", "sv")})
        paid = [ln for ln in s0.lines if ln.payment == item.target and ln.amount]
        if not paid:
            return None
        ln = paid[0]
        return Words({
            "en": f"the condition of the gate{_where(item.clause, 'en')} is not met, yet `{ln.payment}` is "
                  f"{money(ln.amount, cur, 'en')} instead of {money(0, cur, 'en')}",
            "sv": f"villkoret{_where(item.clause, 'sv')} är inte uppfyllt, ändå är `{ln.payment}` "
                  f"{money(ln.amount, cur, 'sv')} i stället för {money(0, cur, 'sv')}"})
    return None


def _over(cur, subject, actual, limit, what, clause, above: bool) -> Words:
    gap = abs(actual - limit)
    return Words({
        "en": f"{subject['en']} is {money(actual, cur, 'en')}, {money(gap, cur, 'en')} "
              f"{'above' if above else 'below'} {what['en']} of {money(limit, cur, 'en')}{_where(clause, 'en')}",
        "sv": f"{subject['sv']} är {money(actual, cur, 'sv')}, {money(gap, cur, 'sv')} "
              f"{'över' if above else 'under'} {what['sv']} på {money(limit, cur, 'sv')}{_where(clause, 'sv')}"})


def _leak_words(contract, key, outcomes, settlements) -> Words | None:
    cur = contract.currency
    gate = _clause(contract, key)
    if not isinstance(gate, m.Gate):
        return None
    rnd = contract.rounding.apply
    payment = contract.payments[gate.target]
    gated = [sum((rnd(concrete_value(contract, payment.expr, o, None, p)) for p in _periods(contract, payment)),
                 Fraction(0)) for o in outcomes]
    before, after = _lines_by(settlements[0]), _lines_by(settlements[1])
    grown = [(k, before.get(k, Fraction(0)), v) for k, v in after.items()
             if k[0] != payment.name and v > before.get(k, Fraction(0))]
    if not grown:
        return None
    (pay, period), a, b = grown[0]
    named = f"`{pay}`" + (f" ({period})" if period else "")
    rise = Fraction(settlements[1].total) - Fraction(settlements[0].total)
    return Words({
        "en": f"with the condition of the gate{_where(gate.clause, 'en')} not met, `{payment.name}` would grow "
              f"from {money(gated[0], cur, 'en')} to {money(gated[1], cur, 'en')} and the gate withholds it, but "
              f"{named} grows from {money(a, cur, 'en')} to {money(b, cur, 'en')}: the total rises by "
              f"{money(rise, cur, 'en')}. Gate {named} on the same condition, or gate the total instead",
        "sv": f"när villkoret{_where(gate.clause, 'sv')} inte är uppfyllt skulle `{payment.name}` växa från "
              f"{money(gated[0], cur, 'sv')} till {money(gated[1], cur, 'sv')} och villkoret håller inne det, men "
              f"{named} växer från {money(a, cur, 'sv')} till {money(b, cur, 'sv')}: summan ökar med "
              f"{money(rise, cur, 'sv')}. Villkora {named} på samma sätt, eller villkora summan i stället"})


def _show(measure: m.Measure, value) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    return str(value)


def _monotone_words(contract, name, outcomes, settlements) -> Words | None:
    """The direction stated as it is: the better outcome, and the total that falls with it; and
    the table row that pays less for it."""
    measure = contract.measures.get(name)
    if measure is None or measure.better is None:
        return None
    cur = contract.currency
    # the second copy has the measure higher: the better one when higher is better
    better, worse = (1, 0) if measure.better == "higher" else (0, 1)
    tb, tw = Fraction(settlements[better].total), Fraction(settlements[worse].total)
    row = _row_that_pays_less(contract, outcomes[worse], outcomes[better])
    vb, vw = outcomes[better][name], outcomes[worse][name]
    text = {
        "en": f"when `{name}` improves from {_plain(vw, contract, name)} to {_plain(vb, contract, name)} "
              f"({measure.better} is better), the total falls from {money(tw, cur, 'en')} to {money(tb, cur, 'en')}: "
              f"{money(tw - tb, cur, 'en')} less for a better outcome",
        "sv": f"när `{name}` förbättras från {_plain(vw, contract, name)} till {_plain(vb, contract, name)} "
              f"({'högre' if measure.better == 'higher' else 'lägre'} är bättre), minskar summan från "
              f"{money(tw, cur, 'sv')} till {money(tb, cur, 'sv')}: {money(tw - tb, cur, 'sv')} mindre för ett "
              "bättre utfall"}
    line = 0
    if row is not None:
        line, en, sv = row
        text = {"en": text["en"] + "; " + en, "sv": text["sv"] + "; " + sv}
    return Words(text, line)


def _monotone_guarantee_words(contract, name, outcomes, settlements) -> Words | None:
    """`total nondecreasing in savings` broken: the quantity grows, the total moves the wrong way."""
    guarantee = next((g for g in contract.guarantees if name_of(g.clause) == name and g.monotone), None)
    if guarantee is None:
        return None
    cur = contract.currency
    var = guarantee.monotone_in

    def value_of(expr_or_name, i):
        if isinstance(expr_or_name, str):
            ty = contract.definitions[expr_or_name].ty if expr_or_name in contract.definitions else None
            return concrete_value(contract, m.Var(expr_or_name, ty) if ty is not None
                                  else m.Input(expr_or_name, contract.input(expr_or_name).ty), outcomes[i], None)
        return concrete_value(contract, expr_or_name, outcomes[i], settlements[i])

    try:
        x0, x1 = value_of(var, 0), value_of(var, 1)
        y0, y1 = value_of(guarantee.expr, 0), value_of(guarantee.expr, 1)
    except EvaluationError:
        return None
    if any(isinstance(v, bool) or not isinstance(v, int | Fraction) for v in (x0, x1, y0, y1)):
        return None

    xty = (contract.definitions[var].ty if var in contract.definitions else contract.input(var).ty)

    def show(v, lang, ty=guarantee.expr.ty):
        return _fmt(v, ty, cur, lang)
    rising = guarantee.monotone == "nondecreasing"
    return Words({
        "en": f"when `{var}` grows from {show(x0, 'en', xty)} to {show(x1, 'en', xty)}, the guaranteed quantity "
              f"{'falls' if rising else 'rises'} from {show(y0, 'en')} to {show(y1, 'en')}: "
              f"{show(abs(y1 - y0), 'en')} {'less' if rising else 'more'}, although the guarantee"
              f"{_where(guarantee.clause, 'en')} says it never {'falls' if rising else 'rises'}",
        "sv": f"när `{var}` växer från {show(x0, 'sv', xty)} till {show(x1, 'sv', xty)} "
              f"{'minskar' if rising else 'ökar'} den garanterade storheten från {show(y0, 'sv')} till "
              f"{show(y1, 'sv')}: {show(abs(y1 - y0), 'sv')} {'mindre' if rising else 'mer'}, fast utfästelsen"
              f"{_where(guarantee.clause, 'sv')} säger att den aldrig {'minskar' if rising else 'ökar'}"})


def _plain(value, contract, name) -> str:
    from .report import format_value

    if isinstance(value, dict | list):
        return str(value)
    return format_value(value, contract.input(name).ty)


def _guarantee_words(contract, name, settlement) -> Words | None:
    """A guarantee that fails: which one, and what the settlement pays for these outcomes."""
    guarantee = next((g for g in contract.guarantees if name_of(g.clause) == name), None)
    if guarantee is None:
        return None
    cur = contract.currency
    paid = [ln for ln in settlement.lines if ln.amount]
    total = Fraction(settlement.total)

    def detail(lang):
        parts = ", ".join(f"`{ln.payment}`" + (f" ({ln.period})" if ln.period else "") + f" {money(ln.amount, cur, lang)}"
                          for ln in paid)
        return f" ({parts})" if parts else ""
    title = {lang: f" “{guarantee.clause.label.text}”" if guarantee.clause.label else "" for lang in ("en", "sv")}
    return Words({
        "en": f"the guarantee `{name}`{title['en']}{_where(guarantee.clause, 'en')} does not hold for these outcomes: "
              f"the total is {money(total, cur, 'en')}{detail('en')}",
        "sv": f"utfästelsen `{name}`{title['sv']}{_where(guarantee.clause, 'sv')} gäller inte för dessa utfall: "
              f"summan är {money(total, cur, 'sv')}{detail('sv')}"})


def _fmt(value, ty, cur: str, lang: str) -> str:
    """A value of type `ty` in `lang`: money as an amount, a share in per cent, else a number."""
    from .lang import format_number
    from .values import to_decimal

    kind = ty.kind if ty is not None else None
    if kind == "money":
        return money(value, ty.currency or cur, lang)
    if kind == "share":
        number = Fraction(value) * 100
        return (f"{to_decimal(number)} %" if lang == "en" else f"{format_number(number, lang, plain=True)} %")
    return str(to_decimal(Fraction(value))) if lang == "en" else format_number(Fraction(value), lang, plain=True)


def _row_that_pays_less(contract: m.Contract, worse: dict, better: dict):
    """(line, en, sv) of the table row (or `if` branch) the better outcome takes instead of the
    worse one's, when their values differ."""
    from .evaluate import Evaluator

    taken: list[dict] = []

    def record(node, index):
        taken[-1].setdefault(id(node), (node, index))

    evaluator = Evaluator(contract, recorder=record)
    for values in (worse, better):
        taken.append({})
        evaluator.evaluate(values)
    for key, (node, index) in taken[1].items():
        if key in taken[0] and taken[0][key][1] != index and isinstance(node, (m.Steps, m.Interp)):
            labels = _row_labels(contract, node)
            row_line = node.span.line
            if isinstance(node, m.Steps):
                # the evaluator's index counts rows from the last; row values carry their own spans
                values = (node.below, *node.values)
                expr = values[index] if index < len(values) else None
                if expr is not None and expr.span.line:
                    row_line = expr.span.line
            bad, good = labels[taken[0][key][1]], labels[index]
            return (row_line,
                    f"the table at line {node.span.line} pays less in its row `{good}` (line {row_line}) "
                    f"than in the row `{bad}`",
                    f"tabellen på rad {node.span.line} betalar mindre i raden `{good}` (rad {row_line}) "
                    f"än i raden `{bad}`")
    return None


def _row_labels(contract: m.Contract, node) -> list[str]:
    """A table's row labels (coverage's), with money thresholds written as amounts: `from 1 000 000 SEK`."""
    from .coverage import row_labels  # the one definition of a row's label
    from .report import format_amount

    labels = row_labels(node)
    ty = node.subject.ty
    if ty is None or ty.kind != "money":
        return labels
    cur = ty.currency or contract.currency
    xs = node.thresholds if isinstance(node, m.Steps) else node.xs
    shown = [format_amount(Fraction(x), cur) for x in xs]
    if isinstance(node, m.Steps):
        return ["below", *(f"from {x}" for x in shown)]
    return [f"at or below {shown[0]}", *(f"between {a} and {b}" for a, b in zip(shown, shown[1:])),
            f"above {shown[-1]}"]


def _negative_words(contract, name, outcomes, settlement) -> Words | None:
    cur = contract.currency
    payment = contract.payments.get(name)
    lines = [ln for ln in settlement.lines if ln.payment == name and ln.amount < 0]
    if payment is None or not lines:
        return None
    ln = lines[0]
    period = {payment.series: ln.period} if payment.series else {}
    at = {"en": f" for {ln.period}" if ln.period else "", "sv": f" för {ln.period}" if ln.period else ""}
    found = _negative_part(contract, payment.expr, outcomes, period)
    text = {"en": f"`{name}`{at['en']} is {money(ln.amount, cur, 'en')}, {money(-Fraction(ln.amount), cur, 'en')} "
                  "below zero",
            "sv": f"`{name}`{at['sv']} är {money(ln.amount, cur, 'sv')}, {money(-Fraction(ln.amount), cur, 'sv')} "
                  "under noll"}
    line = 0
    if found is not None:
        node, value, inside = found
        line = node.span.line
        shown = _text(node)
        where_en = f" in the definition `{inside}`" if inside else ""
        where_sv = f" i definitionen `{inside}`" if inside else ""
        text["en"] += (f": `{shown}`{where_en} (line {node.span.line}, column {node.span.column}) is "
                       f"{_amount(value, node, cur, 'en')}; bound it, e.g. max({shown}, 0 {cur})")
        text["sv"] += (f": `{shown}`{where_sv} (rad {node.span.line}, kolumn {node.span.column}) är "
                       f"{_amount(value, node, cur, 'sv')}; begränsa det, t.ex. max({shown}, 0 {cur})")
    return Words(text, line)


def _amount(value, node, cur, lang) -> str:
    if node.ty is not None and node.ty.kind == "money":
        return money(value, cur, lang)
    from .lang import format_number

    return format_number(Fraction(value), lang, plain=True)


def _negative_part(contract, expr, outcomes, period):
    """The outermost subtraction (or negation) on the payment's formula, or in a definition it
    reads, whose value is negative for these outcomes: what needs a bound."""
    stack = [(expr, None)]
    seen = set()
    while stack:
        node, inside = stack.pop(0)
        if isinstance(node, m.Op) and node.op in ("-", "neg"):
            try:
                value = concrete_value(contract, node, outcomes, None, period)
            except EvaluationError:  # a division by zero off the path taken: nothing to show here
                value = None
            if isinstance(value, int | Fraction) and not isinstance(value, bool) and value < 0:
                return node, value, inside
        if isinstance(node, m.Var) and node.name in contract.definitions and node.name not in seen:
            seen.add(node.name)
            stack.append((contract.definitions[node.name].expr, node.name))
            continue
        if isinstance(node, (m.Op, m.Cond, m.Sum, m.Steps, m.Interp)):
            stack.extend((child, inside) for child in node.children())
    return None


def _text(node) -> str:
    """A short rendering of a simple expression for a message."""
    if isinstance(node, (m.Input, m.Var, m.PaymentRef)):
        return node.name
    if isinstance(node, m.Const):
        from .values import to_decimal

        return str(to_decimal(Fraction(node.value))) if not isinstance(node.value, bool) else str(node.value)
    if isinstance(node, m.Op) and node.op in ("-", "+", "*", "/") and len(node.args) == 2:
        return f"{_text(node.args[0])} {node.op} {_text(node.args[1])}"
    if isinstance(node, m.Op) and node.op == "neg":
        return f"-{_text(node.args[0])}"
    return "…"


__all__ = ["extra_properties", "leak_property", "conflict_property", "words", "Words"]


# ---------------------------------------------------------------- dead clauses (W410, W411)
# The work one dead-clause question may take (z3's deterministic rlimit, never wall time): about a
# second on the reference machine, for the proof and for the optimisation that gives its reason.
# (10M since the cuts carry their lemmas (verify.cut_lemmas): at 3M the bisection behind Norrköping's
# reasons ran out and the warnings fell back to "no outcome makes the payments exceed it".)
DEAD_RLIMIT = 10_000_000


class _RowSym:
    """Builds the symbolic settlement with the interpreter recording which `if` branch, table row
    or segment each evaluation takes, and the lines' amounts before each step."""

    def __new__(cls, contract: m.Contract):
        from .semantics.expr import Interpreter
        from .verify import SymbolicInputs

        sym = SymbolicInputs(contract, "d!")
        rows: dict[tuple, list] = {}
        nodes: dict[int, object] = {}
        plain_first = sym.first

        def first(conds, values, default, record=None):
            if record is not None:
                node, indices, default_index = record
                nodes[id(node)] = node
                earlier = []
                for cond, index in zip(conds, indices):
                    rows.setdefault((id(node), index), []).append(z3.And(*earlier, cond))
                    earlier.append(z3.Not(cond))
                rows.setdefault((id(node), default_index), []).append(z3.And(*earlier) if earlier else z3.BoolVal(True))
            return plain_first(conds, values, default)

        sym.first = first
        sym.interp = Interpreter(contract, sym, record=True)
        return sym, rows, nodes


def dead_clauses(contract: m.Contract, rlimit: int = DEAD_RLIMIT, shown=None) -> list[dict]:
    """Every clause of the settlement program that no outcome can make act (W410), and every `if`
    branch and table row no outcome reaches (W411), as records for `sibc check` (proofcache.py):
    {"key", "status": "dead", "code", "description", "reason", "words", "line"}. A question the solver
    cannot settle within `rlimit` is not reported (never a false warning).

    Each clause and row is decided by the cheapest means that can: a settlement of some outcome
    that shows it act or reached (`_witnesses`: it is not dead, nothing to ask), the settlement run
    on intervals (bounds.py) that shows it can never act or be reached, and only then z3. Nothing is
    concluded dead but by the intervals or the solver (tests/test_verify_dead.py compares the
    intervals' verdicts with the solver's on every shipped and on generated contracts).

    `shown(record)` says whether a record's reason will be read (proofcache passes "not acknowledged
    with `# sibc: allow`"): a record nobody reads gets its reason in words that need no solver —
    the bisection of z3 questions behind "the payments it limits add up to at most X" was most of
    a cold `sibc check` of Norrköping, whose four dead clauses are all acknowledged — and only when
    read (`_Unread`: formatting their amounts loaded babel's locale data)."""
    from .coverage import row_labels  # the one definition of a row's label

    fast = FastPath(contract)
    z = _Symbolic(contract, fast.program, rlimit)  # the solver's side, made when first asked
    records: list[dict] = []
    for clause, values in fast.by_clause.items():
        if clause in fast.acting:  # a settlement showed it act: not dead, nothing to ask
            continue
        if not fast.dead(clause) and not z.dead(clause):
            continue
        record = {"key": f"dead:{name_of(clause)}", "name": name_of(clause), "status": "dead", "code": "W410",
                  "line": clause.line}
        if shown is not None and not shown(record):  # its words are worked out only if someone reads them
            records.append(_Unread({**record, "counterexample": []},
                                   lambda values=values: _dead_reason(contract, fast.program, values, fast.runs, None)))
            continue
        said = _dead_reason(contract, fast.program, values, fast.runs, z)
        records.append({**record, "description": said["en"], "reason": said["en"], "words": said,
                        "counterexample": []})
    b = fast.runs[0]
    for key in b.prims.rows:
        if key in fast.reached or (not fast.unreached(key) and not z.unreached(key)):
            continue
        node, index = b.prims.nodes[key[0]], key[1]
        kind = {m.Cond: "if", m.Steps: "tiers", m.Interp: "interpolate"}[type(node)]
        label = row_labels(node)[index]
        line = node.span.line
        if isinstance(node, m.Steps):
            expr = (node.below, *node.values)[index]
            line = expr.span.line or line
        what = both(f"the branch `{label}` of the `if` at line {node.span.line}" if kind == "if"
                    else f"the row `{label}` of the `{kind}` table at line {node.span.line}",
                    f"grenen `{label}` i `if` på rad {node.span.line}" if kind == "if"
                    else f"raden `{label}` i tabellen `{kind}` på rad {node.span.line}")
        said = {lang: f"{what[lang]} " + ("can never be reached: no outcome within the measures' ranges leads there"
                                          if lang == "en" else
                                          "kan aldrig nås: inget utfall inom måttens intervall leder dit")
                for lang in ("en", "sv")}
        records.append({"key": f"dead-row:{node.span.line}:{index}", "name": "", "status": "dead", "code": "W411",
                        "description": said["en"], "reason": said["en"], "words": said,
                        "counterexample": [], "line": line})
    return records


class _Unread(dict):
    """A dead-clause record nobody reads the reason of (an acknowledged clause: `dead_clauses`'
    `shown`). Its words format amounts, and formatting the first amount loads babel's locale data
    (≈ 1/5 of the proofs of a cold `sibc check` of Norrköping, whose four dead clauses are all
    acknowledged), so "description", "reason" and "words" are worked out when first read, by `[]`
    or `get`, and are then the words an eager record has. Until then they are not among its items:
    the proof cache stores the record without them, which is safe because the cache's key is the
    contract's whole text (proofcache._key), allow comments included — a stored record read back is
    acknowledged again, and `proofcache._dead` reads nothing of an acknowledged record but its
    code, name and line."""

    __slots__ = ("_say",)
    _WORDS = frozenset({"description", "reason", "words"})

    def __init__(self, record: dict, say) -> None:
        super().__init__(record)
        self._say = say

    def __missing__(self, key):
        if key not in self._WORDS:
            raise KeyError(key)
        said = self._say()
        self.update(description=said["en"], reason=said["en"], words=said)
        return self[key]

    def get(self, key, default=None):
        return self[key] if key in self._WORDS else super().get(key, default)

    def __reduce__(self):
        """Pickled (the server sends a check's records from its worker process) as the eager record
        it stands for, words worked out: the closure that works them out is not picklable, and the
        process that receives the record may read them."""
        self["words"]
        return (dict, (dict(self),))


class FastPath:
    """What `dead_clauses` decides without the solver, for one contract: the clauses it asks about
    (`by_clause`: each one's steps, as the intervals computed them), those a settlement shows acting
    and the rows one shows reached (`_witnesses`: never dead), and, on intervals (bounds.cases,
    which together cover every outcome), `dead(clause)` — every step's `acted` is False in every
    case — and `unreached(row)` — no evaluation may take it in any case. tests/test_verify_dead.py
    holds each of these to z3's answer on every shipped and on generated contracts."""

    def __init__(self, contract: m.Contract) -> None:
        from .bounds import recorded_cases

        # the runs the properties' proofs read too (verify.Verifier._bounds): made once per contract
        program, self.runs = recorded_cases(contract)
        self.program = program
        after_rest = {f"{w.clause.name}.{t.number}" for w in contract.waterfalls for t in w.tiers
                      if any(r.target == "rest" and r.number < t.number for r in w.tiers)}
        self.by_clause: dict[m.ClauseRef, list] = {}
        for v in self.runs[0].values:
            if v.step.kind.cuts and not v.step.group:  # it limits no line: the checker says so (W442)
                continue
            if v.step.clause.name in after_rest:  # a waterfall step after `rest`: the checker says so (W450)
                continue
            if v.step.kind is not StepKind.COMPUTE and v.acted is not None:
                self.by_clause.setdefault(v.step.clause, []).append(v)
        self.rows = set(self.runs[0].prims.rows)
        self.acting, self.reached = _witnesses(contract, program, (set(self.by_clause), self.rows))

    def dead(self, clause: m.ClauseRef) -> bool:
        return all(v.acted is False for r in self.runs for v in r.values if v.step.clause == clause
                   and v.step.kind is not StepKind.COMPUTE and v.acted is not None)

    def unreached(self, key: tuple) -> bool:
        return all(key in r.prims.rows and all(x is False for x in r.prims.rows[key]) for r in self.runs)


class _Symbolic:
    """The dead-clause questions z3 is asked: the symbolic settlement (recording which row each
    evaluation takes and the lines before each step) and a solver holding the measures' domains,
    made when the first question comes — a contract whose clauses and rows the witnesses and the
    intervals decide never builds it."""

    def __init__(self, contract: m.Contract, program, rlimit: int) -> None:
        self.contract, self.program, self.rlimit = contract, program, rlimit
        self.made = False

    def _make(self) -> None:
        if self.made:
            return
        from .verify import SymbolicSettlement

        sym, self.rows, self.nodes = _RowSym(self.contract)
        before: dict[int, list] = {}

        class Recording(SymbolicSettlement):
            def trace(self, step, line, old, new, acted, level):
                if old is not None:
                    before.setdefault(id(step), []).append(old)

        self.before = before
        self.settlement = Recording(self.contract, sym, self.program)
        self.by_step = {id(v.step): v for v in self.settlement.values}
        # every question is asked in a context of its own, so the answers depend on the contract
        # only, not on what the process asked z3 before (z3's heuristics follow its context's history)
        ctx = z3.Context()
        self.solver = z3.Solver(ctx=ctx)
        self.solver.set("rlimit", self.rlimit)
        self.base = [t.translate(ctx) for t in (*sym.domain, self.settlement.all_defined)]
        self.solver.add(*self.base)
        self.ctx = ctx
        self.made = True

    def answer(self, condition):
        """z3's answer (sat, unsat or unknown) whether some outcome meets `condition`."""
        self._make()
        self.solver.push()
        self.solver.add(condition.translate(self.ctx))
        result = self.solver.check()
        self.solver.pop()
        return result

    def acts(self, clause: m.ClauseRef):
        """z3's answer whether some outcome makes a step of `clause` act."""
        return self.answer(z3.Or([z3.BoolVal(v.acted) if isinstance(v.acted, bool) else v.acted
                                  for v in self.values(clause)]))

    def reaches(self, key: tuple):
        """z3's answer whether some outcome takes the row `key` (id of its node, its index)."""
        self._make()
        if key not in self.rows:  # never evaluated symbolically: nothing to conclude from
            return z3.unknown
        return self.answer(z3.Or(self.rows[key]))

    def by_step_value(self, step):
        """What `step` computed, in z3 terms (semantics.run.StepValues)."""
        self._make()
        return self.by_step[id(step)]

    def values(self, clause: m.ClauseRef) -> list:
        self._make()
        return [v for v in self.settlement.values if v.step.clause == clause and v.step.kind is not StepKind.COMPUTE
                and v.acted is not None]

    def dead(self, clause: m.ClauseRef) -> bool:
        return self.acts(clause) == z3.unsat

    def unreached(self, key: tuple) -> bool:
        return self.reaches(key) == z3.unsat


_FAR = Fraction(100_000_000)  # a measure without an upper limit, at its "upper end": this far above its lower
_RANDOM = 16  # outcomes drawn at random (a fixed seed: the same on every run) when the others leave some unshown


def _acting(contract: m.Contract) -> set[m.ClauseRef]:
    """The clauses that act in the settlement of some outcome (`_witnesses`)."""
    return _witnesses(contract)[0]


def _witnesses(contract: m.Contract, program=None, wanted: tuple[set, set] | None = None,
               ) -> tuple[set[m.ClauseRef], set[tuple]]:
    """The clauses that act, and the rows (id of the `if`/`tiers`/`interpolate` node, index) that
    are taken, in the settlement of some outcome: first every measure at its upper end (or far
    above its lower end when it has none), every measure at its lower end, every measure at its
    better end and every one at its worse (where some measure is better lower); then, for what is
    still unshown, each measure at each value the contract compares it with (a table's thresholds,
    a constant it is compared to, and one step either side), the others at either end; then a few
    outcomes drawn at random with a fixed seed. Each is a witness, within the measures' ranges, the
    assumptions and with no division failing — just what `dead_clauses` would ask the solver to
    find — so the solver is not asked about those clauses and rows (a cap over 64 cohort × year
    cells took z3 its whole budget to answer "unknown"; the settlement shows it act in a
    millisecond; the rows of South Carolina's four step tables took it minutes). Nothing is ever
    concluded dead from a witness. `wanted`: (clauses, rows) to show; the search stops when every
    one is shown (None: every outcome above is settled)."""
    import random

    from .evaluate import Evaluator
    from .units import BOOL, COUNT, DATE, DAYS, MONEY, SHARE

    if contract.parameters:  # a draft's parameters range too: leave it to the solver
        return set(), set()
    domains: dict[str, tuple] = {}
    for name, measure in contract.measures.items():
        kind = measure.ty.kind
        if kind == BOOL:
            continue
        lower, upper = measure.lower, measure.upper
        if lower is None and upper is None:
            lower = Fraction(0) if kind in (MONEY, COUNT, DAYS, SHARE) else None
            upper = Fraction(1) if kind == SHARE else None
        if kind == DATE and (lower is None or upper is None):
            return set(), set()  # no date to take: the solver decides
        if lower is None and upper is None:
            lower = Fraction(0)
        domains[name] = (lower, upper)

    def fit(name, value):
        """`value` as the measure can hold it (whole for counts and days), or None outside its range."""
        measure = contract.measures[name]
        if measure.ty.kind in (COUNT, DAYS):
            value = Fraction(value // 1) if isinstance(value, Fraction) else value
        lower, upper = domains[name]
        if (lower is not None and value < lower) or (upper is not None and value > upper):
            return None
        return value

    def outcome(values: dict) -> dict:
        found = {}
        for name, measure in contract.measures.items():
            value = values[name]
            found[name] = ({p.name: value for p in contract.series[measure.ty.series].periods}
                           if measure.ty.series else value)
        return found

    ends: list[dict] = [{}, {}]
    for name, measure in contract.measures.items():
        if measure.ty.kind == BOOL:
            values = [True, False]
        else:
            lower, upper = domains[name]
            values = [fit(name, upper if upper is not None else lower + _FAR),
                      fit(name, lower if lower is not None else upper - _FAR)]
        for end, value in zip(ends, values):
            end[name] = value
    # each measure at its better end, and at its worse: the payments at their most and their least
    # where they grow with the outcomes, which is where caps and floors act
    flip = {name for name, measure in contract.measures.items() if measure.better == "lower"}
    if flip:
        ends += [{name: ends[name in flip][name] for name in ends[0]},
                 {name: ends[name not in flip][name] for name in ends[0]}]
    acted: set[m.ClauseRef] = set()
    reached: set[tuple] = set()
    seen: set[m.ClauseRef] = set()
    taken: set[tuple] = set()
    # a gate on the total is told by its condition (coverage's branches: holds, fails), but it acts
    # only where it cuts: the condition failing and the total above its level — not a witness
    evaluator = Evaluator(contract, recorder=lambda node, index: taken.add((id(node), index)),
                          on_step=lambda step, did: did and step.kind is not StepKind.TOTAL_GATE
                          and seen.add(step.clause), program=program)

    # ... where it cuts shows on the lines' trails: a step of its clause that left a line lower
    total_gates = {step.clause for step in (program or lower_program(contract)).steps if step.kind is StepKind.TOTAL_GATE}

    def settle(values: dict) -> None:
        seen.clear()
        taken.clear()
        if None in values.values():
            return
        values = outcome(values)
        try:
            if evaluator.broken_assumption(values) is not None:
                return
            settlement = evaluator.evaluate(values)
        except (EvaluationError, ArithmeticError):
            return  # no witness here (a division failed): the solver decides
        acted.update(seen)
        reached.update(taken)
        if total_gates - acted:
            acted.update(st.clause for ln in settlement.lines for st in ln.steps if st.clause in total_gates
                         and st.before is not None and st.after is not None and st.after < st.before)

    for end in ends:
        settle(end)

    def done() -> bool:
        return wanted is not None and wanted[0] <= acted and wanted[1] <= reached

    for name, value in _compared_values(contract, domains):
        if done():
            return acted, reached
        held = fit(name, value)
        for end in ends:
            if held is not None and held != end[name]:
                settle({**end, name: held})
    draw = random.Random(21)  # fixed: the same witnesses, so the same questions, on every run
    for _ in range(_RANDOM):
        if done():
            break
        values = {}
        for name, measure in contract.measures.items():
            if measure.ty.kind in (BOOL, DATE):  # a date: one of its ends
                values[name] = ends[draw.random() < 0.5][name]
                continue
            lower, upper = domains[name]
            lower = lower if lower is not None else upper - _FAR
            upper = upper if upper is not None else lower + _FAR
            values[name] = fit(name, lower + (upper - lower) * Fraction(draw.randrange(10_001), 10_000))
        settle(values)
    return acted, reached


def _compared_values(contract: m.Contract, domains: dict) -> list[tuple[str, Fraction]]:
    """(measure, value) for each value the contract compares a measure with directly — a `tiers`
    table's thresholds, an `interpolate` table's points, a constant in `<`, `>=`, … — and the
    values one step either side of it (a whole unit; 0.01 % of a share), in the contract's order."""
    from .units import COUNT, DATE, DAYS, MONEY, SHARE

    found: list[tuple[str, Fraction]] = []

    def add(name, value):
        if name not in domains or isinstance(value, bool) or not isinstance(value, (int, Fraction)):
            return
        kind = contract.measures[name].ty.kind
        if kind == DATE:
            return
        step = Fraction(1, 10_000) if kind == SHARE else Fraction(1) if kind in (MONEY, COUNT, DAYS) else Fraction(1, 100)
        for v in (Fraction(value), Fraction(value) + step, Fraction(value) - step):
            if (name, v) not in found:
                found.append((name, v))

    for expr, _ in m.expressions(contract):
        for node in m.walk(expr):
            if isinstance(node, (m.Steps, m.Interp)) and isinstance(node.subject, m.Input):
                for t in (node.thresholds if isinstance(node, m.Steps) else node.xs):
                    add(node.subject.name, t)
            elif isinstance(node, m.Op) and node.op in ("<", "<=", ">", ">=", "==", "!=") and len(node.args) == 2:
                a, c = node.args
                if isinstance(c, m.Input):
                    a, c = c, a
                if isinstance(a, m.Input) and isinstance(c, m.Const):
                    add(a.name, c.value)
    return found


def _number(term) -> Fraction | None:
    value = z3.simplify(term)
    if z3.is_int_value(value):
        return Fraction(value.as_long())
    if z3.is_rational_value(value):
        return Fraction(value.numerator_as_long(), value.denominator_as_long())
    return None


def _optimum(base, extra, term, maximize: bool, rlimit: int, bound: Fraction | None = None,
             step: Fraction = Fraction(1), guess: Fraction | None = None) -> Fraction | None:
    """The largest (smallest) value of `term` over every outcome, to `step` (amounts are whole
    rounding steps), or None if the solver cannot say within `rlimit` per question. `guess` first
    (the interval bounds' end, bounds.py: most often the answer): two questions — some outcome
    reaches it, none passes it — settle it. Otherwise a bisection of yes/no questions between a
    value some outcome gives and `bound` (the clause's level, which the term never passes when the
    clause is dead): z3's optimiser gets lost in the integer floors of rounding, a solver answers
    each question quickly."""
    ctx = base[0].ctx if base else z3.main_ctx()
    solver = z3.Solver(ctx=ctx)
    solver.set("rlimit", rlimit)
    solver.add(*base, *(e.translate(ctx) for e in extra))
    term = term.translate(ctx)
    sign = 1 if maximize else -1
    if guess is not None:
        solver.push()
        solver.add(sign * term > _const(sign * guess, ctx))
        passed = solver.check()
        solver.pop()
        if passed == z3.unsat:
            solver.push()
            solver.add(sign * term >= _const(sign * guess, ctx))
            reached = solver.check()
            solver.pop()
            if reached == z3.sat:
                return guess
            if bound is None or (sign * guess < sign * bound and reached == z3.unsat):
                bound = guess  # none passes it: the bisection starts below it
    if solver.check() != z3.sat:
        return None
    best = _number(solver.model().eval(term, model_completion=True))
    if best is None:
        return None
    if bound is None:
        return None
    low, high = sign * best, sign * bound  # some outcome reaches `low`; none passes `high`
    for _ in range(100):
        if high <= low:
            break
        middle = low + -((-(high - low) / 2) // step) * step  # on the grid, above `low`
        solver.push()
        solver.add(sign * term >= _const(middle, ctx))
        result = solver.check()
        found = _number(solver.model().eval(term, model_completion=True)) if result == z3.sat else None
        solver.pop()
        if result == z3.sat and found is not None:
            low = max(middle, sign * found)
        elif result == z3.unsat:
            high = middle - step
        else:
            return None
    solver.push()
    solver.add(sign * term > _const(low, ctx))
    result = solver.check()
    solver.pop()
    return sign * low if result == z3.unsat else None


def _const(value: Fraction, ctx) -> z3.ArithRef:
    return z3.RealVal(f"{value.numerator}/{value.denominator}", ctx)


def _point(value) -> Fraction | None:
    """The number an interval (bounds.py) holds when it holds one."""
    lo = getattr(value, "lo", None)
    return lo if lo is not None and lo == value.hi else None


def _span_of(lists: list[list]) -> list:
    """Each position's interval over every case (bounds.cases): the join of the cases' intervals."""
    if not lists or any(len(x) != len(lists[0]) for x in lists):
        return []
    return [functools.reduce(lambda a, c: a.join(c), column) for column in zip(*lists)]


def _sum_interval(intervals) -> tuple[Fraction | None, Fraction | None]:
    los, his = [i.lo for i in intervals], [i.hi for i in intervals]
    return (None if None in los else sum(los, Fraction(0)), None if None in his else sum(his, Fraction(0)))


def _dead_reason(contract, program, values, runs, z) -> dict[str, str]:
    """The one-line reason a dead clause never acts. `values`: what its steps computed on intervals
    (bounds.py), in the first of `runs` (bounds.cases); `z`: the solver's side (`_Symbolic`), or None when nobody will read the
    reason (an acknowledged clause) — then the words need no solver: the level, and that no outcome
    makes the payments pass it."""
    cur = contract.currency
    step = values[0].step
    kind = step.kind
    clause = step.clause
    label = f"`{name_of(clause)}`" + (f" “{clause.label.text}”" if clause.label else "")
    if z is not None:
        v = z.by_step_value(step)
        level = _number(v.level) if v.level is not None and not isinstance(v.level, bool) else None
        olds = z.before.get(id(step))
    else:
        v = values[0]
        levels = {_point(next(x for x in r.values if x.step is step).level) for r in runs} \
            if v.level is not None and not isinstance(v.level, bool) else {None}
        level = levels.pop() if len(levels) == 1 else None
        olds = None
    bolds = _span_of([r.before.get(id(step)) or [] for r in runs])  # the same lines, as intervals
    finals = _span_of([r.lines for r in runs])
    # what the step read, as the solver's settlement recorded it (the intervals' run skips a cut it
    # knows takes nothing, and records nothing then): which subject the words are about
    read = bool(olds) if z is not None else bool(bolds)
    if len(bolds) != len(olds or bolds):
        bolds = []

    def amount(x, lang):
        return money(x, cur, lang)

    rounding = Fraction(contract.rounding.step)
    if kind is StepKind.WATERFALL:  # issue 14
        return both(f"the waterfall step {label} (line {clause.line}) can never pay: for every outcome the steps "
                    "before it take everything the vehicle is paid",
                    f"vattenfallets steg {label} (rad {clause.line}) kan aldrig betala: för varje utfall tar stegen "
                    "före det allt som mellanhanden får")
    if kind is StepKind.GATE:
        return both(f"the gate {label} (line {clause.line}) can never act: its condition holds for every outcome",
                    f"villkoret {label} (rad {clause.line}) kan aldrig verka: det är uppfyllt för varje utfall")
    if kind in (StepKind.FLOOR, StepKind.TOTAL_FLOOR):
        if kind is StepKind.FLOOR and read:
            subject = olds[0] if olds else None
            lowest = bolds[0].lo if bolds else None
            payment = program.lines[step.line].payment
            who = both(f"`{payment}` is", f"`{payment}` är")
        else:
            subject = (z3.Sum([z.settlement.lines[j].amount for j in step.group]) if step.group else z3.RealVal(0)) \
                if z is not None else None
            lowest = _sum_interval([finals[j] for j in step.group])[0]
            who = both("the payments add up to", "betalningarna uppgår till")  # sv: "… minst X när golvet gäller"
        low = None
        if z is not None:
            condition = [v.condition] if v.condition is not None and not z3.is_true(v.condition) else []
            guess = level if lowest is None or level is None else max(lowest, level)
            low = _optimum(z.base, condition, subject, False, z.rlimit, level, rounding, guess)
        floor = both(f"the floor {label}" + (f" of {amount(level, 'en')}" if level is not None else ""),
                     f"golvet {label}" + (f" på {amount(level, 'sv')}" if level is not None else ""))
        if low is not None:
            return both(f"{floor['en']} (line {clause.line}) can never act: whenever it applies, {who['en']} at "
                        f"least {amount(low, 'en')}",
                        f"{floor['sv']} (rad {clause.line}) kan aldrig verka: {who['sv']} minst "
                        f"{amount(low, 'sv')} när golvet gäller")
        return both(f"{floor['en']} (line {clause.line}) can never act: whenever it applies, the amount is already "
                    "at least the floor",
                    f"{floor['sv']} (rad {clause.line}) kan aldrig verka: när det gäller är beloppet redan minst golvet")
    # caps, limits, gates on the total and any step that cuts: the most the lines it limits reach
    if read and kind is StepKind.CAP:
        subject, highest = (olds[0] if olds else None), (bolds[0].hi if bolds else None)
    elif read and kind.cuts:
        subject = z3.Sum(olds) if olds else None
        ends = [r.read_hi(step) for r in runs]  # with the facts earlier cuts left (a cap on the same lines)
        highest = None if None in ends else max(ends)
    elif step.group:
        subject = z3.Sum([z.settlement.lines[j].amount for j in step.group]) if z is not None else None
        highest = _sum_interval([finals[j] for j in step.group])[1]
    elif step.line is not None:
        subject = z.settlement.lines[step.line].amount if z is not None else None
        highest = finals[step.line].hi
    else:
        subject = highest = None
    bound = Fraction(step.limit) if kind is StepKind.RETURN_LIMIT and step.limit is not None else level
    high = None
    extra = kind is StepKind.TOTAL_GATE and v.condition is not None
    if z is not None and subject is not None:
        guess = bound if highest is None or bound is None else min(highest, bound)
        high = _optimum(z.base, [z3.Not(v.condition)] if extra else [], subject, True, z.rlimit, bound, rounding,
                        guess)
    noun = {StepKind.RETURN_LIMIT: both("the return limit", "avkastningsgränsen"),
            StepKind.TOTAL_GATE: both("the gate", "villkoret")}.get(kind, both("the cap", "taket"))
    if kind is StepKind.RETURN_LIMIT and step.investor and step.weights:
        # a rate of return on the dated flows: its level is what the receipts may be worth in present
        # value at the first drawdown, an exact fraction — shown to the cent below it (never more)
        at = _present_value_date(contract, clause, step.investor)
        cents = Fraction(int(step.limit * 100), 100)
        on = both(f" on {at}" if at else "", f" per {at}" if at else "")
        allows = both(f" (for `{step.investor}`, at most {amount(cents, 'en')} in present value{on['en']})",
                      f" (för `{step.investor}`, högst {amount(cents, 'sv')} i nuvärde{on['sv']})")
    elif kind is StepKind.RETURN_LIMIT and step.investor:
        allows = both(f" (for `{step.investor}`, at most {amount(step.limit, 'en')})",
                      f" (för `{step.investor}`, högst {amount(step.limit, 'sv')})")
    elif level is not None:
        allows = both(f" of {amount(level, 'en')}", f" på {amount(level, 'sv')}")
    else:
        allows = both("", "")
    when = both(" when its condition fails", " när villkoret inte är uppfyllt") if extra else both("", "")
    if high is not None:
        return both(f"{noun['en']} {label}{allows['en']} (line {clause.line}) can never act: the payments it limits "
                    f"add up to at most {amount(high, 'en')}{when['en']}",
                    f"{noun['sv']} {label}{allows['sv']} (rad {clause.line}) kan aldrig verka: betalningarna det "
                    f"begränsar uppgår till högst {amount(high, 'sv')}{when['sv']}")
    return both(f"{noun['en']} {label}{allows['en']} (line {clause.line}) can never act: no outcome makes the "
                f"payments it limits exceed it{when['en']}",
                f"{noun['sv']} {label}{allows['sv']} (rad {clause.line}) kan aldrig verka: inget utfall får "
                f"betalningarna det begränsar att överskrida det{when['sv']}")


def _present_value_date(contract: m.Contract, clause: m.ClauseRef, who: str):
    """The date a rate-of-return limit takes `who`'s present values at (its first drawdown), or None."""
    from .semantics.returnlimits import bounds

    limit = next((x for x in contract.return_limits if x.clause == clause), None)
    return next((b.start for b in bounds(contract, limit) if b.who == who), None) if limit is not None else None


def _line_broken(contract, s0, item, outcome, cur, words, *, above: bool):
    """The first line of `item`'s payment that is above its cap (`above`) or below its floor, in the
    words of `_over`, or None: each line's level is the clause's amount read in the line's period."""
    payment = contract.payments[item.target]
    rnd = contract.rounding.apply
    for ln in s0.lines:
        if ln.payment != payment.name:
            continue
        period = {payment.series: ln.period} if payment.series else {}
        limit = rnd(concrete_value(contract, item.amount, outcome, None, period))
        if (Fraction(ln.amount) > limit) if above else (Fraction(ln.amount) < limit):
            name = f"`{ln.payment}`"
            return _over(cur, {"en": name, "sv": name}, Fraction(ln.amount), limit, words, item.clause, above=above)
    return None


def assumptions_the_ranges_guarantee(contract: m.Contract) -> list[dict]:
    """issue 17, W702: an assumption the measures' own types and `between` ranges already make
    true for every outcome — it adds nothing to any proof, and may be a mistake (a bound meant to
    be tighter, the wrong measure). Decided by bounds.py's intervals (the measures' domains, the
    assumption's condition read on them), so the reason is one line: the range of each measure it
    reads. An assumption no outcome satisfies is E702 (verify.Verifier.contradiction)."""
    from .bounds import bounds

    if not contract.assumptions:
        return []
    b = bounds(contract)
    records = []
    for assumption in contract.assumptions:
        series = assumption.series
        periods = [{series: p.name} for p in contract.series[series].periods] if series else [{}]
        if not all(b.value(assumption.expr, period)[0] is True for period in periods):
            continue
        read = []
        for node in m.walk(assumption.expr):
            if isinstance(node, m.Input) and node.name not in read:
                read.append(node.name)
        said = {}
        for lang in ("en", "sv"):
            ranges = []
            for name in read:
                measure = contract.input(name)
                lo, hi = b.prims.domains[name].lo, b.prims.domains[name].hi
                if lo is not None and hi is not None:
                    span = (f"between {_fmt(lo, measure.ty, contract.currency, lang)} and "
                            f"{_fmt(hi, measure.ty, contract.currency, lang)}" if lang == "en" else
                            f"mellan {_fmt(lo, measure.ty, contract.currency, lang)} och "
                            f"{_fmt(hi, measure.ty, contract.currency, lang)}")
                elif lo is not None:
                    span = (f"at least {_fmt(lo, measure.ty, contract.currency, lang)}" if lang == "en" else
                            f"minst {_fmt(lo, measure.ty, contract.currency, lang)}")
                elif hi is not None:
                    span = (f"at most {_fmt(hi, measure.ty, contract.currency, lang)}" if lang == "en" else
                            f"högst {_fmt(hi, measure.ty, contract.currency, lang)}")
                else:
                    continue
                ranges.append(f"`{name}` " + ("is " if lang == "en" else "är ") + span)
            joined = ", ".join(ranges) if ranges else ("its measures' types" if lang == "en" else "måttens typer")
            line = assumption.clause.line
            said[lang] = (f"the assumption on line {line} always holds: {joined}, so it adds nothing the ranges "
                          "do not already say" if lang == "en" else
                          f"antagandet på rad {line} gäller alltid: {joined}, så det tillför inget som "
                          "intervallen inte redan säger")
        records.append({"key": f"assumed:{assumption.clause.name}", "name": assumption.clause.name,
                        "status": "dead", "code": "W702", "description": said["en"], "reason": said["en"],
                        "words": said, "counterexample": [], "line": assumption.clause.line})
    return records
