"""Syntax tree → canonical sib text (no comments). `parse(unparse(tree)) == tree` for every tree.

The basis of `sibc fmt`; the round-trip tests use it to prove the grammar and the syntax
tree agree on every construct.
"""

from __future__ import annotations

import re
from decimal import Decimal

from . import syntax as s

# Loosest to tightest, as in grammar/sib.lark.
_PRECEDENCE = {"if": 0, "or": 1, "and": 2, "not": 3, "compare": 4, "+": 5, "-": 5, "*": 6, "/": 6,
               "of": 6, "neg": 7, "pow": 7.5, "atom": 8}
_COMPARE = {"<", "<=", ">", ">=", "==", "!="}


def number(value: Decimal) -> str:
    """12000000 → '12 000 000'; decimals kept exactly as written."""
    sign = "-" if value < 0 else ""
    text = format(abs(value), "f")
    whole, _, frac = text.partition(".")
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    return sign + " ".join(groups) + (f".{frac}" if frac else "")


def string(value: str) -> str:
    if "\n" in value or '"' in value:
        body = value.replace("\\", "\\\\").replace('"""', '\\"""')
        if body.endswith('"'):
            body = body[:-1] + '\\"'
        return f'"""{body}"""'
    return '"' + value.replace("\\", "\\\\") + '"'


def text(t: s.Text, indent: str = "  ") -> str:
    """A text and its translations; a long or multi-line text puts each translation on a line of
    its own, indented under it, as contracts are usually written."""
    out = string(t.text)
    apart = len(t.text) > 40 or "\n" in t.text
    for tag, value in t.translations:
        out += (f"\n{indent}" if apart else " ") + f"@{tag} {string(value)}"
    return out


def _level(e: s.Expr) -> int:
    if isinstance(e, s.If):
        return 0
    if isinstance(e, s.Binary):
        return _PRECEDENCE["compare" if e.op in _COMPARE else e.op]
    if isinstance(e, s.Unary):
        return _PRECEDENCE["not" if e.op == "not" else "neg"]
    if isinstance(e, s.Power):
        return _PRECEDENCE["pow"]
    return _PRECEDENCE["atom"]


def expr(e: s.Expr, context: int = 0) -> str:
    out = _expr(e)
    return f"({out})" if _level(e) < context else out


def _expr(e: s.Expr) -> str:
    if isinstance(e, s.Quantity):
        unit = "" if e.unit is None else (" %" if e.unit == "%" else f" {e.unit}")
        return number(e.value) + unit
    if isinstance(e, s.DateLit):
        return e.value.isoformat()
    if isinstance(e, s.BoolLit):
        return "true" if e.value else "false"
    if isinstance(e, s.Ref):
        return e.name
    if isinstance(e, s.TotalRef):
        return "total"
    if isinstance(e, s.Call):
        return f"{e.func.name}({', '.join(expr(a) for a in e.args)})"
    if isinstance(e, s.Index):  # issue 15: binds as tightly as a name
        return f"{expr(e.operand, _PRECEDENCE['atom'])}[{e.period.name}]"
    if isinstance(e, s.SumOver):  # issue 15
        return f"{e.func.name}({expr(e.operand)} over {e.over.name})"
    if isinstance(e, s.Unary):
        if e.op == "not":
            return f"not {expr(e.operand, _PRECEDENCE['not'])}"
        return f"-{expr(e.operand, _PRECEDENCE['neg'])}"
    if isinstance(e, s.If):
        return f"if {expr(e.cond)} then {expr(e.then)} else {expr(e.otherwise)}"
    if isinstance(e, s.Tiers):
        rows = [f"below: {expr(e.below)}"] + [f"from {expr(r.threshold)}: {expr(r.value)}" for r in e.rows]
        return f"tiers({expr(e.subject)}) {_table(rows)}"
    if isinstance(e, s.Interpolate):
        points = [f"{expr(p.x)}: {expr(p.y)}" for p in e.points]
        return f"interpolate({expr(e.subject)}) {_table(points)}"
    if isinstance(e, s.Power):  # binds tighter than a sign, to the right: 2 ^ 3 ^ 2 is 2 ^ (3 ^ 2)
        return f"{expr(e.base, _PRECEDENCE['atom'])} ^ {expr(e.exponent, _PRECEDENCE['neg'])}"
    assert isinstance(e, s.Binary), e
    level = _level(e)
    if e.op in _COMPARE:  # non-associative: both sides one level tighter
        return f"{expr(e.left, level + 1)} {e.op} {expr(e.right, level + 1)}"
    # left-associative: the right operand needs brackets at the same level. A left-leaning chain
    # at one level (a flat sum, as long as it is) is written in a loop, not by recursion.
    rights, node = [], e
    while isinstance(node, s.Binary) and node.op not in _COMPARE and _level(node) == level:
        rights.append(f"{node.op} {expr(node.right, level + 1)}")
        node = node.left
    return " ".join([expr(node, level), *reversed(rights)])


def _table(rows: list[str]) -> str:
    """A short table on one line; a longer one with a row per line, as people lay out a grid."""
    if len(rows) <= 3:
        return f"{{ {', '.join(rows)} }}"
    return "{\n" + ",\n".join(f"  {row}" for row in rows) + "\n}"


def _name(ident: s.Ident, label: s.Text | None) -> str:
    return ident.name + (f" {text(label)}" if label else "")


WIDTH = 100  # the line length the printer aims for


def _decl(d: s.DeclName | None) -> str:
    return "" if d is None else f"{_name(d.name, d.label)}: "


def _fit(head: str, body: str, tail: str = "") -> str:
    """`head body tail` on one line when it fits; else the head alone and `body tail` indented
    below it; else the tail on a line of its own."""
    line = f"{head}{body}{tail}"
    if len(line) <= WIDTH and "\n" not in line:
        return line
    rest = f"  {body}{tail}"
    if head.endswith(": ") and len(rest) <= WIDTH and "\n" not in rest:
        return f"{head.rstrip()}\n{rest}"
    if head.endswith(": ") and len(head) > 30:
        return f"{head.rstrip()}\n  {body}" + (f"\n  {tail.strip()}" if tail else "")
    return f"{head}{body}" + (f"\n  {tail.strip()}" if tail else "")


def _target(t: s.Target) -> str:
    return {"payment": lambda: t.name.name, "total": lambda: "total",
            "total above": lambda: f"total above {expr(t.level)}",
            "series": lambda: f"per {t.name.name}", "participant": lambda: "per participant",
            # issue 15
            "per period": lambda: f"{t.name.name} per period",
            "stream": lambda: f"{', '.join(n.name for n in t.names)} over all periods",
            "payer": lambda: f"payments from {t.name.name}",
            "recipient": lambda: f"payments to {t.name.name}"}[t.kind]()


def _option(o: s.Option) -> str:
    v = o.value
    if o.key in ("per", "from", "to", "better"):
        return f"{o.key} {v.name}"
    if o.key == "between":
        return f"between {expr(v[0], _PRECEDENCE['+'])} and {expr(v[1], _PRECEDENCE['+'])}"
    if o.key in ("source", "description"):
        return f"{o.key} {text(v, '    ')}"
    if o.key == "when":
        return f"when {expr(v)}"
    if o.key == "due":
        if isinstance(v, s.DueDate):
            return f"due {v.date.value.isoformat()}"
        return f"due {number(v.amount.value)} {v.unit.name} after end"
    if o.key == "during":  # issue 15
        return "during " + " through ".join(i.name for i in v)
    if o.key == "at least":  # issue 14: a coupon's minimum rate
        return f"at least {expr(v[0], _PRECEDENCE['+'])}" + (f" {_option(v[1])}" if v[1] is not None else "")
    if o.key == "day count":
        return f"day count {v}"
    if o.key == "full":  # issue 14: a repayment's condition for repayment in full
        return f"in full when {expr(v)}"
    if o.key == "otherwise":
        return f"otherwise {expr(v, _PRECEDENCE['+'])}"
    if o.key == "accrued":  # issue 14: a redemption pays the coupon accrued to its date
        return f"plus accrued {v.name}"
    if o.key == "indexed":
        return f"indexed {expr(v.rate)} per year for {number(v.years.value)} {v.unit.name}"
    raise AssertionError(o.key)


def _options(options) -> str:
    """One option per line, except that neighbouring `from`, `to`, `per` and `due` read as one
    phrase on one line: `from city to fund per year due 90 days after end`. The order is kept."""
    lines: list[str] = []
    phrase = False
    for o in options:
        joins = o.key in ("from", "to", "per", "due")
        if joins and phrase:
            lines[-1] += " " + _option(o)
        else:
            lines.append(_option(o))
        phrase = joins
    return "".join(f"\n  {line}" for line in lines)


def header(h: s.Header) -> str:
    lines = [f"contract {text(h.title)}"]
    for f in h.fields:
        v = f.value
        if f.key in ("id", "version"):
            lines.append(f"  {f.key} {string(v)}")
        elif f.key == "languages":
            lines.append(f"  languages {', '.join(i.name for i in v)}")
        elif f.key == "currency":
            lines.append(f"  currency {v.name}")
        elif f.key == "rounding":
            lines.append(f"  rounding {number(v.step)} {v.currency.name} {v.mode}")
        elif f.key == "signed":
            lines.append(f"  signed {v.value.isoformat()}")
    return "\n".join(lines)


def declaration(d: s.Decl) -> str:
    if isinstance(d, s.Heading):
        if re.fullmatch(r"[0-9]+(?:\.[0-9]+)*[a-z]?", d.number):
            return f"\n§ {d.number} {text(d.title)}"
        return f"\nclause {d.number} {text(d.title)}"  # `clause 12 000` has no § form
    if isinstance(d, s.Prose):
        return text(d.text)
    if isinstance(d, s.Party):
        return f"party {_name(d.name, d.label)}: {', '.join(r.name for r in d.roles)}"
    if isinstance(d, s.Term):
        return f"term {d.start.value.isoformat()} to {d.end.value.isoformat()}"
    if isinstance(d, s.Periods):
        periods = ",\n  ".join(f"{p.name.name} {p.start.value.isoformat()} to {p.end.value.isoformat()}"
                               for p in d.periods)
        return f"periods {_name(d.name, d.label)}:\n  {periods}"
    if isinstance(d, s.Cohort):
        out = f"cohort {_name(d.name, d.label)}: size {number(d.size.value)}"
        return out + (f"\n  eligibility {text(d.eligibility, '    ')}" if d.eligibility else "")
    if isinstance(d, s.Investment):
        when = (f"on {d.date.value.isoformat()}" if d.date is not None else "drawn " + ", ".join(
            f"{expr(dd.amount)} on {dd.date.value.isoformat()}" for dd in d.drawdowns))
        options = (f"\n  committed {expr(d.committed)}" if d.committed is not None else "") + (
            f"\n  class {d.klass.name}" if d.klass is not None else "")
        return f"investment {_name(d.name, d.label)}: {expr(d.amount)} from {d.investor.name} {when}{options}"
    if isinstance(d, s.Measure | s.Define | s.Baseline | s.Payment | s.Parameter):  # KEYWORD name: type, or = formula
        keyword = type(d).__name__.lower()
        body = f": {d.type.name}" if isinstance(d, s.Measure | s.Parameter) else f" = {expr(d.expr)}"
        return f"{keyword} {_name(d.name, d.label)}{body}{_options(getattr(d, 'options', ()))}"
    if isinstance(d, s.Gate):
        return f"gate {_decl(d.decl)}{_target(d.target)} requires {expr(d.condition)}" + _during(d.during)
    if isinstance(d, s.Floor):
        options = _options(d.options)
        if options.count("\n") == 1 and len(options) < 40:  # a single short `when`: on the line if it fits
            return _fit(f"floor {_decl(d.decl)}", f"{_target(d.target)} at {expr(d.amount)}", " " + options.strip())
        return f"floor {_decl(d.decl)}{_target(d.target)} at {expr(d.amount)}{options}"
    if isinstance(d, s.Cap):
        return f"cap {_decl(d.decl)}{_target(d.target)} at {expr(d.amount)}" + _during(d.during)
    if isinstance(d, s.ReturnLimit):
        if d.kind == "total":
            basis = "in total"
        elif d.kind == "multiple":
            basis = f"times {d.capital}"
        else:
            basis = "per year" + ("" if d.kind == "annual" else f" {d.kind}") + (
                f" from {d.start.value.isoformat()} to {d.end.value.isoformat()}" if d.start is not None else "")
        tail = (f" for {d.investor.name}" if d.investor is not None else "") + (
            f" for class {d.klass.name}" if d.klass is not None else "") + (
            f" day count {d.day_count}" if d.day_count is not None else "")
        return _fit(f"return limit {_decl(d.decl)}", f"{expr(d.rate)} {basis}", tail)
    if isinstance(d, s.Guarantee):
        tail = ""
        if d.when is not None:
            tail = f" when {expr(d.when)}"
        if d.monotone:
            tail = f" {d.monotone} in {d.monotone_in.name}"
        return _fit(f"guarantee {_decl(d.decl)}", expr(d.expr), tail)
    if isinstance(d, s.Assume):  # issue 17
        return _fit(f"assume {_decl(d.decl)}", expr(d.expr), "")
    if isinstance(d, (s.Table, s.RateCard)):
        return _issue15(d)
    if isinstance(d, s.Cover):  # issue 14
        share = f"{number(d.share.value)} % of the " if d.share is not None else ""
        ceiling = f" up to {expr(d.ceiling)}" if d.ceiling is not None else ""
        due = " " + _option(s.Option("due", d.due)) if d.due is not None else ""
        return _fit(f"cover {_decl(d.decl)}", f"{share}loss of {d.investment.name}{ceiling}",
                    f" from {d.guarantor.name}{due}")
    if isinstance(d, s.Coupon):  # issue 14
        return f"coupon {_name(d.name, d.label)}: {expr(d.rate)} per year on {d.investment.name}{_options(d.options)}"
    if isinstance(d, s.Repayment):  # issue 14
        return f"repayment {_name(d.name, d.label)}: principal of {d.investment.name}{_options(d.options)}"
    if isinstance(d, s.Redemption):  # issue 14
        return f"redemption {_name(d.name, d.label)}: {expr(d.amount, _PRECEDENCE['+'])}{_options(d.options)}"
    if isinstance(d, s.Waterfall):  # issue 14
        return "\n".join([f"waterfall {_decl(d.decl)}{', '.join(p.name for p in d.payments)}",
                          *(f"  {_tier(t)}" for t in d.tiers)])
    raise AssertionError(type(d))


def _wf_party(p: s.WaterfallParty) -> str:
    return f"class {p.name.name}" if p.klass else p.name.name


def _tier(t: s.WaterfallTier) -> str:
    """One step of a waterfall (issue 14): `N. SPLIT until TARGET`, `N. rest SPLIT`."""
    split = ", ".join((f"{number(x.share.value)} % " if x.share is not None else "") + f"to {_wf_party(x.party)}"
                      for x in t.shares)
    if t.rest:
        return f"{number(t.number.value)}. rest {split}"
    g = t.target
    if g.kind == "amount":
        target = expr(g.amount)
    else:
        target = (f"{_wf_party(g.who)} " if g.who is not None else "") + "drawn"
        if g.rate is not None:
            target += f" plus {number(g.rate.value)} % per year" + (f" {g.compounding}" if g.compounding else "")
    return f"{number(t.number.value)}. {split} until {target}"


def _bound(word: str, b: s.TableBound) -> str:
    return f"{word}{'' if b.threshold is None else ' ' + expr(b.threshold)}: {expr(b.value)}"


def _issue15(d: s.Table | s.RateCard) -> str:
    """A named table or a rate card (issue 15)."""
    if isinstance(d, s.Table):
        rows = [_bound("below", d.below)] if d.below is not None else []
        if d.kind == "step":
            rows += [f"from {expr(r.threshold)}: {expr(r.value)}" for r in d.rows]
        else:
            rows += [f"{expr(p.x)}: {expr(p.y)}" for p in d.rows]
        if d.above is not None:
            rows.append(_bound("above", d.above))
        return f"table {_name(d.name, d.label)}: {d.kind} {_table(rows)}"
    head = f"ratecard {_name(d.name, d.label)}" + _options(d.options).replace("\n  ", " ") + ":"
    rows = [f"{_name(o.name, o.label)}: {expr(o.price)}" + (f" cap {expr(o.up_to)}" if o.up_to is not None else "")
            for o in d.outcomes]
    for t in d.terms:
        if t.key == "participant":
            rows.append(f"cap per participant {expr(t.value)}")
        elif t.key == "indexed":
            rows.append(f"indexed {expr(t.value[0])} per year from {t.value[1].value.isoformat()}")
        else:
            rows.append(f"total cap {expr(t.value[0])} in {t.value[1]}" + ("" if t.value[1] == "proportion" else " order"))
    lines = [f"{head} {{", *(f"  {row}," for row in rows), "}"]
    return "\n".join(lines)


def unparse(tree: s.Contract) -> str:
    parts = [header(tree.header)] if tree.header else []
    parts += [declaration(d) for d in tree.items]
    return "\n".join(parts) + "\n"


def _during(option) -> str:
    """A gate's or a cap's `during` (issue 15), on a line of its own as a payment's options are."""
    return "" if option is None else "\n  during " + " through ".join(i.name for i in option.value)
