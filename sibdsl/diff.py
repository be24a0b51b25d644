"""What changed between two drafts of a contract: in clauses, and in money.

`clause_changes` compares the declarations of the two drafts by what they are (a party, a
measure, a payment… and its name; a gate, floor or cap by its name or its target), ignoring
layout, comments and order, and prints each changed declaration canonically, old and new.
`money_effect` decides with z3 where the drafts pay differently: both drafts' settlement programs
run on the same outcome variables, and for the total, each payer and each payment the largest
increase and the largest decrease are found by search under a deterministic work limit
(optimum.py), with readable outcomes that produce them (counterexample.py), checked by settling
both drafts with the real evaluator; for the total also the region where the drafts can differ,
measure by measure (outside it they are proved to pay the same). What the revision does to the
money, for every outcome, not a sample.
"""

from __future__ import annotations

import json
from fractions import Fraction

import attrs
import z3

from . import model as m
from . import syntax as s
from .diagnostics import SibError
from .evaluate import EvaluationError, compile_contract
from .units import BOOL, COUNT, DATE, DAYS, MONEY, SHARE
from .unparse import declaration, header


@attrs.frozen
class Change:
    kind: str  # "added", "removed", "changed"
    what: str  # "payment bonus", "header", "gate on total" (the English of `parts`)
    old: str | None
    new: str | None
    # what the declaration is, for its words in each language (`change_words`): its kind ("payment",
    # "cap", "header", "prose"), its name or its target's, the words of its target (a key of _TARGETS'
    # values, "" for a declaration named by its own name), the level above which it acts ("" for none)
    # and the marks that tell apart two unnamed rules on the same target ("'")
    parts: tuple[str, str, str, str, str] = attrs.field(default=("", "", "", "", ""), eq=False)


#: a rule's target kind (syntax.Target.kind) → the key of its words in texts/diff.json
_TARGETS = {"payment": "target_payment", "total": "target_total", "total above": "target_total",
            "series": "target_series", "participant": "target_participant",
            "per period": "target_period", "stream": "target_stream",  # issue 15
            "payer": "target_payer", "recipient": "target_recipient"}


def _key(item) -> tuple[str, str, str, str] | None:
    """A declaration's identity: (kind, name, target, level), as `Change.parts` without the marks
    (targets `total` and `total above` share their words, and so their key, as they always did)."""
    kind = type(item).__name__.lower()
    if isinstance(item, (s.Heading, s.Prose)):
        return None  # headings and prose are compared as text below
    if isinstance(item, s.Term):
        return ("term", "", "", "")
    name = getattr(item, "name", None)
    if isinstance(name, s.Ident):
        return (kind, name.name, "", "")
    decl = getattr(item, "decl", None)
    if decl is not None:
        return (kind, decl.name.name, "", "")
    target = getattr(item, "target", None)
    if target is not None:
        level = declaration_text(target.level) if getattr(target, "level", None) is not None else ""
        names = (", ".join(n.name for n in target.names) if target.kind == "stream" else
                 target.name.name if target.name is not None else "")
        return (kind, names, _TARGETS[target.kind], level)
    return (kind, "", "", "")


def declaration_text(e) -> str:
    from .unparse import expr

    return expr(e)


def _items(tree: s.Contract) -> dict[tuple[str, str, str, str, str], str]:
    result: dict[tuple[str, str, str, str, str], str] = {}
    for item in tree.items:
        key = _key(item)
        if key is None:
            continue
        marks = ""
        while (*key, marks) in result:  # two unnamed rules on the same target: keep both
            marks += "'"
        result[(*key, marks)] = declaration(item).strip()
    return result


def clause_changes(old: s.Contract, new: s.Contract) -> list[Change]:
    changes: list[Change] = []
    if old.header != new.header:
        before = header(old.header).split("\n") if old.header else []
        after = header(new.header).split("\n") if new.header else []
        changes.append(Change("changed", "header",  # only the lines that differ
                              "\n".join(x.strip() for x in before if x not in after) or None,
                              "\n".join(x.strip() for x in after if x not in before) or None,
                              ("header", "", "", "", "")))
    a, b = _items(old), _items(new)
    for key in list(a) + [k for k in b if k not in a]:
        what = what_words(key, "en")
        if key not in b:
            changes.append(Change("removed", what, a[key], None, key))
        elif key not in a:
            changes.append(Change("added", what, None, b[key], key))
        elif a[key] != b[key]:
            changes.append(Change("changed", what, a[key], b[key], key))
    texts = [[declaration(i).strip() for i in t.items if isinstance(i, (s.Heading, s.Prose))] for t in (old, new)]
    if texts[0] != texts[1]:
        removed = [t for t in texts[0] if t not in texts[1]]
        added = [t for t in texts[1] if t not in texts[0]]
        changes.append(Change("changed", "headings and prose", "\n".join(removed) or None, "\n".join(added) or None,
                              ("prose", "", "", "", "")))
    return changes


def what_words(parts: tuple[str, str, str, str, str], lang: str) -> str:
    """What a change is about, in `lang` (`Change.parts`): `cap ceiling`, `gate on total above loan`;
    in Swedish `tak ceiling`, `villkor på totalen över loan`. Names and levels are the contract's."""
    from .lang import texts

    t = texts("diff")[lang]
    kind, name, target, level, marks = parts
    if kind in ("header", "prose"):
        return t[kind]
    label = t[target].format(name=name) + (t["above"].format(level=level) if level else "") if target else name
    return f"{t['clause_kinds'].get(kind, kind)} {label + marks}".strip()


def change_words(change: Change, lang: str = "en") -> str:
    """A change's heading in `lang`: `changed cap ceiling`; in Swedish `ändrad: tak ceiling`."""
    from .lang import texts

    t = texts("diff")[lang]
    return t["change"].format(change=t[change.kind], what=what_words(change.parts, lang))


def changes_json(changes: list[Change], languages: tuple[str, ...] = ()) -> list[dict]:
    """The changes as `sibc diff --format json` writes them; with `languages`, also each change's
    heading in each (`words`: what the studio shows, POST /v1/diff)."""
    return [{"kind": c.kind, "what": c.what, "old": c.old, "new": c.new,
             **({"words": {lang: change_words(c, lang) for lang in languages}} if languages else {})}
            for c in changes]


# ---------------------------------------------------------------- the effect on money, proved
DEFAULT_TIMEOUT = 3.0  # the work limit of each question to the solver, in verify's "seconds" (rlimit)
# issue 17: the questions one diff may ask in all; a line is started only while fewer were asked, and
# a line asks at most ~250 (two searches of ~110 and the region's), so the work is at most about
# (BUDGET + 250) × the work limit. The shipped contracts' diffs ask under 200.
BUDGET = 1000
# the work the region (`Range`) may take, in verify's seconds of z3's deterministic resource count:
# outcome by outcome in the order declared, then the definitions, each a search of ~20 questions.
# Reboot West's 23 outcomes took 65 M units (70 % of a diff's CPU, 13 s) for ranges such as "at most
# 10 219"; Norrköping's whole region takes 5–8 M. Those not reached get no range (wider, never wrong),
# and the text and JSON say which
REGION = 4.0


@attrs.frozen
class Extreme:
    """The largest change of one line in one direction, and outcomes that produce it."""

    amount: Fraction  # new − old at `outcomes`, as the real evaluator settles both drafts there
    status: str  # optimum.EXACT (proved the largest), WITHIN, UNBOUNDED, PARTIAL (the work limit ended the search)
    bound: Fraction | None  # proved: no outcome changes the line by more than this (None: no bound proved)
    outcomes: dict  # an outcome file both drafts read (the measures of both)
    shown: dict  # the outcomes that matter: those away from the published (or neutral) ones
    old: Fraction  # what the old draft pays on the line there
    new: Fraction
    confirmed: bool  # the evaluator's change equals the solver's


@attrs.frozen
class Effect:
    line: str  # "total", a payer or a payment
    kind: str  # "total", "payer", "payment"
    differs: bool | None  # proved different for some outcome / proved equal for all / undecided
    increase: Extreme | None  # the largest new − old > 0
    decrease: Extreme | None  # the most negative new − old < 0 (amount < 0)


@attrs.frozen
class Range:
    """Where the totals can differ, in one measure: outside it they are equal (proved)."""

    measure: str
    low: Fraction | None = None  # proved: below this value of the measure the totals are equal
    high: Fraction | None = None  # proved: above it they are equal
    values: tuple[bool, ...] = ()  # a yes/no: the values at which they can differ
    kind: str | None = None  # the measure's or definition's kind (money, share, count…), to write its values
    currency: str | None = None


@attrs.frozen
class MoneyEffect:
    only_old: tuple[str, ...]  # measures in one draft only (any value: the proof covers all)
    only_new: tuple[str, ...]
    effects: tuple[Effect, ...]
    region: tuple[Range, ...]  # where the totals can differ, measure by measure (only the restrictions)
    decided: bool  # every question about the lines had an answer within the work limit (the region
    #                is wider than it could be where one about it had none: never wrong)
    checks: int = 0  # the questions asked to the solver
    # issue 15: the lines whose extremes were found by settling both drafts on `samples` sampled
    # outcomes, because a cut in proportion (a rate card's cap `in proportion`) left the solver
    # undecided: examples, not proofs (W582)
    sampled: tuple[str, ...] = ()
    samples: int = 0
    # issue 17: the lines not asked to the solver because the diff's work budget (`budget` questions)
    # was spent before them: sampled as above, W586
    spent: tuple[str, ...] = ()
    budget: int = 0
    # issue 17: the lines of drafts with a cut in proportion whose largest change is not proved exactly
    # (an example within a proved bound, or sampled): W582
    inexact: tuple[str, ...] = ()
    # issue 17: the outcomes and definitions the region did not bound (its REGION work was spent before
    # them): no restriction is claimed for them
    unexamined: tuple[str, ...] = ()


class _Drafts:
    """Both drafts' settlement programs run on z3 terms over the same outcome variables.

    `relaxed` (issue 17): each cut in proportion's `part` (a × level ÷ total, rounded down: a
    division by a sum of the outcomes) is a fresh whole number of steps held only by linear facts
    that the exact part satisfies (`_RelaxedSettlement`). The questions are then linear, and the
    relaxation contains every real settlement, so "no outcome changes the line by more than B"
    and "the line never changes" stay proofs; a value the relaxation reaches is not a settlement
    until the evaluator settles both drafts there. `exact` is the condition under which the
    relaxation is the settlement: no cut in proportion acts in either draft."""

    def __init__(self, old: m.Contract, new: m.Contract, relaxed: bool = False):
        from .semantics.program import lower
        from .verify import _Sym, _SymSettlement, solver_of_its_own

        self.old, self.new = old, new
        self.a = _Sym(old, "old!")
        fresh = [n for n, measure in new.measures.items()
                 if n not in old.measures or old.measures[n].ty.kind != measure.ty.kind
                 or old.measures[n].ty.series != measure.ty.series]
        self.b = _Sym(new, "new!", shared=self.a.inputs, fresh=fresh)
        self.shared = [n for n in new.measures if n not in fresh]
        programs = lower(old), lower(new)
        settlement = _relaxed_settlement() if relaxed else _SymSettlement
        self.sa = settlement(old, self.a, programs[0])
        self.sb = settlement(new, self.b, programs[1])
        # the questions are asked in a z3 context of their own, so the answers within each work limit
        # depend on the two drafts only, not on what the process asked z3 before (counterexample.py)
        self.solver = solver_of_its_own(*self.a.domain, *self.b.domain, self.sa.all_defined, self.sb.all_defined)
        self.ctx = self.solver.ctx
        acting = [acted for s in (self.sa, self.sb) for acted in getattr(s, "cuts", [])]
        self.exact = z3.And([z3.Not(acted) for acted in acting]).translate(self.ctx) if acting else None
        self.here = {id(sym): {key: term.translate(self.ctx) for key, term in sym.inputs.items()}
                     for sym in (self.a, self.b)}
        self.lines: dict[tuple[str, str], tuple[z3.ArithRef, z3.ArithRef]] = {("total", "total"): (
            self.sa.total, self.sb.total)}
        payers = list(dict.fromkeys([ln.payer for p in programs for ln in p.lines]))
        if len(payers) > 1:
            for payer in payers:
                self.lines[("payer", payer)] = tuple(  # type: ignore[assignment]
                    _sum([s.lines[i].amount for i, ln in enumerate(p.lines) if ln.payer == payer])
                    for s, p in ((self.sa, programs[0]), (self.sb, programs[1])))
        names = list(dict.fromkeys([ln.payment for p in programs for ln in p.lines]))
        for name in names:
            self.lines[("payment", name)] = tuple(  # type: ignore[assignment]
                _sum([s.lines[i].amount for i, ln in enumerate(p.lines) if ln.payment == name])
                for s, p in ((self.sa, programs[0]), (self.sb, programs[1])))
        self.lines = {key: (a.translate(self.ctx), b.translate(self.ctx)) for key, (a, b) in self.lines.items()}
        # issue 17 follow-up: each relaxed part of both drafts as (payment, a, level, total, o), for `pair_facts`
        self.parts = tuple([(None if line is None else p.lines[line].payment, *(term.translate(self.ctx) for term in terms))
                            for line, *terms in getattr(s, "parts", [])]
                           for s, p in ((self.sa, programs[0]), (self.sb, programs[1])))
        self.step = min(Fraction(old.rounding.step), Fraction(new.rounding.step))

    def input(self, sym, key) -> z3.ExprRef:
        return self.here[id(sym)][key]

    def inputs(self) -> list[tuple[m.Measure, z3.ExprRef]]:
        seen, result = set(), []
        for contract, sym in ((self.old, self.a), (self.new, self.b)):
            for (name, _), term in self.here[id(sym)].items():
                if term.get_id() not in seen:
                    seen.add(term.get_id())
                    result.append((contract.input(name), term))
        return result

    def files(self, model) -> tuple[dict, dict]:
        from .verify import _format_input, _model_value

        result = []
        for contract, sym in ((self.old, self.a), (self.new, self.b)):
            data: dict = {}
            for (name, period), term in self.here[id(sym)].items():
                text = _format_input(contract.input(name), _model_value(model, term), contract.currency)
                if period is None:
                    data[name] = text
                else:
                    data.setdefault(name, {})[period] = text
            result.append(data)
        return result[0], result[1]


def _sum(terms):
    return z3.Sum(terms) if terms else z3.RealVal(0)


_RELAXED: list = []


def _relaxed_settlement():
    """verify._SymSettlement with each cut in proportion's `part` relaxed to linear facts (see
    `_Drafts`); made once, on first use (verify.py is imported lazily, as everywhere in this module)."""
    if _RELAXED:
        return _RELAXED[0]
    from .verify import _real, _SymSettlement

    class _RelaxedSettlement(_SymSettlement):
        def pro_rata(self, step, amounts, excess):
            from .semantics.run import giving_order

            self.__dict__["order"] = list(giving_order(step.takes or step.group))  # the lines `part` reads, in turn
            out, acted = super().pro_rata(step, amounts, excess)
            if not z3.is_false(acted):
                self.__dict__.setdefault("cuts", []).append(acted)
            return out, acted

        def part(self, a, level, total):
            """floor(a × level ÷ (total × step)) × step where it is read (the cut acts: total > 0,
            0 <= level < total), so for a line a >= 0 a whole number of steps in [0, a], and for
            a < 0 one in [a − step, 0]; the cut's sum (pro_rata_lemmas) ties the lines together.
            Facts of the exact part, not assumptions: tests/test_diff.py checks them on the
            evaluator's cut."""
            step = Fraction(self.contract.rounding.step)
            n = len(self.sym.domain)
            o = z3.Real(f"{self.sym.tag}part!{n}")
            zero = z3.RealVal(0)
            self.sym.domain.append(z3.Implies(
                z3.And(total > 0, level >= zero, level <= total),
                z3.If(a >= zero, z3.And(o >= zero, o <= a), z3.And(o >= a - _real(step), o <= zero))))
            order = self.__dict__.get("order") or [None]
            self.__dict__.setdefault("parts", []).append((order.pop(0), a, level, total, o))
            return z3.If(total > 0, o, a)

    _RELAXED.append(_RelaxedSettlement)
    return _RelaxedSettlement


# issue 17 follow-up: where `pair_facts` splits a line's share a ÷ S of its draft's total (SHARES) and
# the ratio of the drafts' totals S ÷ S' (RATIOS, fine near 1: a small change of the drafts). Each pair
# of points is one fact per line and direction, stated only while that line is asked.
SHARES = tuple(Fraction(k, 8) for k in range(1, 9))
RATIOS = tuple(sorted({Fraction(k, 8) for k in range(0, 8)} | {1 - Fraction(1, 2 ** k) for k in range(4, 9)}))


def pair_facts(drafts: _Drafts, payment: str | None = None) -> list:
    """Facts relating the two drafts' parts of a line cut in proportion, where both drafts cut the
    same line amount a at the same level L (a price elsewhere on the card changed, a line added):
    each part is o = floor(a × L ÷ (S × step)) × step with its draft's total S, so where both cut
    (S, S' > 0, 0 <= L <= S, S') and a >= 0, the draft with the larger total pays the line no more
    (o' <= o when S <= S'). Without `payment`, only that. With it, for the parts of that payment,
    also by how much at most: o − o' < (a ÷ S) × L × (1 − S ÷ S') + step, which is at most
    h × (1 − r) × L + step where a <= h × S and S >= r × S' (SHARES × RATIOS). The relaxation alone
    lets one draft's part fall to 0 while the other's stays at a (a bound of the whole cap on each
    line); these hold the two together. Identities of the exact cut, not assumptions:
    tests/test_diff.py checks them on the evaluator's cut."""
    ctx = drafts.ctx

    def const(x: Fraction):
        return optimum_real(x, ctx)

    zero, step, facts = z3.RealVal(0, ctx), const(drafts.step), []
    # the same amount and level as z3 simplifies them (a level is the cap where the cut acts: the
    # drafts' `total − excess` terms differ, their simplified forms do not)
    new: dict = {}
    for name, a, level, total, o in drafts.parts[1]:
        new.setdefault((name, z3.simplify(a).get_id(), z3.simplify(level).get_id()), []).append((total, o))
    for name, a, level, total, o in drafts.parts[0]:
        if payment is not None and name != payment:
            continue
        for total2, o2 in new.get((name, z3.simplify(a).get_id(), z3.simplify(level).get_id()), []):
            both = z3.And(total > 0, total2 > 0, level >= zero, level <= total, level <= total2, a >= zero)
            for (small, so), (large, lo) in (((total, o), (total2, o2)), ((total2, o2), (total, o))):
                grows = z3.And(both, small <= large)  # the draft with the smaller total pays so, the other lo
                if payment is None:
                    facts.append(z3.Implies(grows, lo <= so))
                    continue
                for h in SHARES:
                    for r in RATIOS:
                        facts.append(z3.Implies(z3.And(grows, a <= const(h) * small, small >= const(r) * large),
                                                so - lo < const(h * (1 - r)) * level + step))
    return facts


def _prefer(drafts: _Drafts, base: dict | None) -> dict:
    """The values a readable example is first tried at: the published outcomes, where given."""
    if not base:
        return {}
    result = {}
    for sym in (drafts.a, drafts.b):
        for (name, period), term in drafts.here[id(sym)].items():
            value = base.get(name)
            if isinstance(value, dict):
                value = value.get(period)
            if isinstance(value, (bool, Fraction, int)):
                result[term.get_id()] = value if isinstance(value, bool) else Fraction(value)
    return result


def _step(measure, money_step: Fraction) -> Fraction:
    kind = measure.ty.kind
    if kind == MONEY:
        return money_step
    if kind == SHARE:
        return Fraction(1, 10000)
    if kind in (COUNT, DATE):
        return Fraction(1)
    return Fraction(1, 100)


def money_effect(old: m.Contract, new: m.Contract, timeout: float = DEFAULT_TIMEOUT,
                 base: dict | None = None, lines: str = "all", budget: int = BUDGET) -> MoneyEffect:
    """Where the two drafts pay differently, decided by z3 for every outcome within the measures'
    types and ranges: for the total (each payer, each payment: `lines="all"`) the largest increase
    and decrease with readable outcomes that produce them, and, for the total, the region where
    the drafts can differ (outside it they are proved to pay the same). `base`: the published
    outcomes; examples are made as close to them as the extreme allows. `budget`: the questions
    the whole diff may ask (each within `timeout`'s work limit, so the work is bounded by a sum of
    rlimits, never by the clock); a line reached after it is spent is sampled (W586)."""
    from .optimum import EXACT, PARTIAL, WITHIN, maximise, round_model
    from .outcomes import load_outcomes
    from .verify import _rlimit, _Undefined

    relaxed = bool(in_proportion(old) or in_proportion(new))
    drafts = _Drafts(old, new, relaxed=relaxed)
    solver = drafts.solver
    rlimit = _rlimit(timeout)
    solver.set("rlimit", rlimit)
    step = min(Fraction(old.rounding.step), Fraction(new.rounding.step))
    prefer = _prefer(drafts, base)
    evaluators = compile_contract(old), compile_contract(new)
    decided, checks = True, 0

    def settle(files) -> tuple | None:
        amounts = []
        for contract, evaluator, data in zip((old, new), evaluators, files):
            try:
                values = load_outcomes(contract, text=json.dumps(data, ensure_ascii=False), name="diff.json")
                amounts.append(evaluator.evaluate(values))
            except (EvaluationError, SibError):
                return None
        return tuple(amounts)

    def on_line(settlement, kind: str, name: str) -> Fraction:
        if kind == "total":
            return Fraction(settlement.total)
        return sum((Fraction(ln.amount) for ln in settlement.lines
                    if (ln.payer if kind == "payer" else ln.payment) == name), Fraction(0))

    def search(signed, within=None, seed=None):
        """The largest value of `signed` > 0 (under `within` too), and the outcome files of a
        readable model that reaches it (None: no outcome reaches a positive value). `seed`: a model
        of the assertions with `signed` > 0, the search's start."""
        nonlocal checks
        solver.push()
        try:
            solver.add(signed > 0)
            if within is not None:
                solver.add(within)
            best = maximise(solver, signed, step, rlimit, seed)
            if best is None:
                checks += 1
                return None, None
            checks += best.checks
            solver.push()
            solver.add(signed >= optimum_real(best.value, drafts.ctx))
            model = round_model(solver, drafts.inputs(), prefer, rlimit, best.model)
            solver.pop()
            return best, drafts.files(model)
        finally:
            solver.pop()

    def extreme(kind: str, name: str, delta, sign: int) -> Extreme | None:
        nonlocal decided
        signed = delta if sign > 0 else -delta  # not delta * -1: a product z3 may treat as non-linear
        if relaxed:
            return relaxed_extreme(kind, name, signed, sign)
        best, files = search(signed)
        if best is None:
            return None
        if best.status not in (EXACT, WITHIN):
            decided = False
        merged = {**files[0], **files[1]}
        settled = settle(files)
        if settled is None:
            decided = False
            return Extreme(best.value * sign, best.status, None if best.bound is None else best.bound * sign,
                           merged, merged, Fraction(0), Fraction(0), False)
        before, after = on_line(settled[0], kind, name), on_line(settled[1], kind, name)
        amount = after - before
        from .counterexample import that_matter

        shown = {}
        for contract, data in zip((old, new), files):
            shown.update(that_matter(contract, [data])[0] if not prefer else _away(contract, data, base))
        confirmed = amount * sign >= best.value and (best.bound is None or amount * sign <= best.bound)
        return Extreme(amount, best.status, None if best.bound is None else best.bound * sign,
                       merged, shown, before, after, confirmed)

    def example(kind: str, name: str, files, status: str, bound, sign: int) -> Extreme | None:
        """The change of the line where the evaluator settles both drafts on `files`, as an
        Extreme in direction `sign` (None: no change that way there)."""
        settled = settle(files)
        if settled is None:
            return None
        before, after = on_line(settled[0], kind, name), on_line(settled[1], kind, name)
        if (after - before) * sign <= 0:
            return None
        from .counterexample import that_matter

        shown = {}
        for contract, data in zip((old, new), files):
            shown.update(that_matter(contract, [data])[0] if not prefer else _away(contract, data, base))
        return Extreme(after - before, status, bound, {**files[0], **files[1]}, shown, before, after, True)

    def relaxed_extreme(kind: str, name: str, signed, sign: int) -> Extreme | None:
        """issue 17: a line of drafts with a cut in proportion, asked of the relaxation (`_Drafts`).
        First where no cut in proportion acts in either draft: the relaxation is the settlement
        there, a linear question, so its largest value is reached (an example). Then everywhere,
        from that example up: the relaxation's largest value is a proved bound, not a settlement;
        its outcomes are settled by the evaluator as a second example. The line's largest change is
        EXACT when an example reaches the bound, WITHIN [example, bound] otherwise, BOUNDED when no
        example changes the line that way (none can by more than the bound); None: no outcome can."""
        nonlocal decided
        found, seed = [], None
        if drafts.exact is not None:
            linear, files = search(signed, drafts.exact)
            if linear is not None:
                found.append(example(kind, name, files, WITHIN, None, sign))
                seed = linear.model
        best, files = search(signed, seed=seed)
        if best is None:
            return None
        bound = best.bound if best.status in (EXACT, WITHIN, PARTIAL) else None
        if bound is None or not found or found[0] is None or found[0].amount * sign < bound:
            found.append(example(kind, name, files, WITHIN, None, sign))
        found = [x for x in found if x is not None]
        if not found:  # every question answered: BOUNDED says what is known
            return Extreme(Fraction(0), BOUNDED, None if bound is None else bound * sign, {}, {},
                           Fraction(0), Fraction(0), True)
        top = max(found, key=lambda x: x.amount * sign)
        if bound is None:
            decided = False
            status = PARTIAL
        else:
            status = EXACT if top.amount * sign >= bound else WITHIN
        return attrs.evolve(top, status=status, bound=None if bound is None else bound * sign)

    effects = []
    spent: list[str] = []  # the lines not asked: the diff's work budget was spent before them (W586)
    paired = False
    for (kind, name), (a, b) in drafts.lines.items():
        if (lines == "total" and kind != "total") or (lines == "payers" and kind == "payment"):
            continue
        if checks >= budget:
            decided = False
            spent.append(name)
            effects.append(Effect(name, kind, None, None, None))
            continue
        if relaxed and kind != "total" and not paired:  # the total needs none (its bounds are tight)
            solver.add(*pair_facts(drafts))  # identities: they hold under every later question
            paired = True
        own = relaxed and kind == "payment"  # the line's own facts, while it is asked (stated for all
        if own:                               # lines, they slow every question)
            solver.push()
            solver.add(*pair_facts(drafts, name))
        delta = b - a
        solver.push()
        solver.add(delta != 0)
        checks += 1
        answer = solver.check()
        solver.pop()
        if answer == z3.unsat:
            if own:
                solver.pop()
            effects.append(Effect(name, kind, False, None, None))
            continue
        if answer == z3.unknown:
            decided = False
        up, down = extreme(kind, name, delta, 1), extreme(kind, name, delta, -1)
        if own:
            solver.pop()
        shown = [x for x in (up, down) if x is not None and x.status != BOUNDED]  # a settled example
        differs = True if shown else (None if answer == z3.unknown or up or down else False)
        effects.append(Effect(name, kind, differs, up, down))
    region: list[Range] = []

    def extent(term, grain: Fraction, lowest, highest) -> tuple | None:
        """The proved least and greatest value of `term` under the solver's assertions, each None
        where it is no restriction (at the measure's own bound, unbounded or undecided: the region
        is then wider than it could be, never wrong)."""
        nonlocal checks
        found = []
        for sign, edge in ((1, highest), (-1, lowest)):
            if edge is not None:  # issue 17: reaches its own bound: no restriction, in one question, not
                solver.push()     # a search of ~50 (the search's bound would be beyond the edge: left out)
                solver.add(term >= optimum_real(edge, drafts.ctx) if sign > 0 else term <= optimum_real(edge, drafts.ctx))
                checks += 1
                reached = solver.check() == z3.sat
                solver.pop()
                if reached:
                    found.append(None)
                    continue
            best = maximise(solver, term if sign > 0 else -term, grain, rlimit)
            checks += best.checks if best is not None else 1
            found.append(None if best is None or best.bound is None else best.bound * sign)
        high, low = found
        fine = grain / 100  # written outward to a hundredth of the grain: the region only widens
        if low is not None:
            low = (low / fine).__floor__() * fine
        if high is not None:
            high = -((-high / fine).__floor__()) * fine
        low = low if low is not None and (lowest is None or low > lowest) else None
        high = high if high is not None and (highest is None or high < highest) else None
        return None if low is None and high is None else (low, high)

    total = next(e for e in effects if e.kind == "total")
    unexamined: list[str] = []  # outcomes and definitions the region's questions did not reach
    if total.differs and checks < budget:  # past the budget: no region (none is claimed)
        delta = drafts.lines[("total", "total")][1] - drafts.lines[("total", "total")][0]
        solver.push()
        solver.add(delta != 0)
        start = _work(solver)
        for name in drafts.shared:
            measure = new.measures[name]
            if measure.ty.series:
                continue
            if _work(solver) - start >= _rlimit(REGION):  # issue 17: the region's share of the work
                unexamined.append(name)
                continue
            term = drafts.input(drafts.b, (name, None))
            if measure.ty.kind == BOOL:
                can = []
                for value in (True, False):
                    solver.push()
                    solver.add(term == z3.BoolVal(value, drafts.ctx))
                    checks += 1
                    answer = solver.check()
                    solver.pop()
                    if answer != z3.unsat:
                        can.append(value)
                if len(can) == 1:
                    region.append(Range(name, values=tuple(can), kind=BOOL))
                continue
            if measure.ty.kind == DATE:
                continue
            lowest = min((x for x in (measure.lower, old.measures[name].lower) if x is not None), default=None)
            highest = max((x for x in (measure.upper, old.measures[name].upper) if x is not None), default=None)
            if lowest is None and measure.ty.kind in (MONEY, COUNT, SHARE):
                lowest = Fraction(0)
            if highest is None and measure.ty.kind == SHARE:
                highest = Fraction(1)
            found = extent(term, _step(measure, step), lowest, highest)
            if found is not None:
                region.append(Range(name, *found, kind=measure.ty.kind, currency=measure.ty.currency))
        for name, definition in new.definitions.items():  # savings, a rate: what the drafts are written in
            if name not in old.definitions or definition.ty.series or definition.ty.kind in (BOOL, DATE):
                continue
            if _work(solver) - start >= _rlimit(REGION):
                unexamined.append(name)
                continue
            try:
                term, _ = drafts.b.var(name, {})
            except _Undefined:  # a definition the z3 encoding cannot read is left out
                continue
            term = term.translate(drafts.ctx)
            if z3.is_bool(term):
                continue
            found = extent(term, _step(definition, step), None, None)
            if found is None:
                continue
            solver.pop()  # its own range over every outcome: only a restriction of it says something
            whole = extent(term, _step(definition, step), None, None)
            solver.push()
            solver.add(delta != 0)
            low, high = found
            if whole is not None:
                low = None if low is not None and whole[0] is not None and low <= whole[0] else low
                high = None if high is not None and whole[1] is not None and high >= whole[1] else high
            if low is not None or high is not None:
                region.append(Range(name, low, high, kind=definition.ty.kind, currency=definition.ty.currency))
        solver.pop()
    sampled: list[str] = []
    rows = None
    for k, e in enumerate(effects):  # issue 15/17: more examples, settled on sampled outcomes
        if e.line in spent or relaxed and (e.differs is None or any(
                x is not None and x.status != EXACT for x in (e.increase, e.decrease))):
            rows = rows if rows is not None else [(files, settle(files)) for files in _samples(drafts, SAMPLES)]
            effects[k] = _sampled(e, rows, on_line, old, new)
            if e.line not in spent and any(x is not None and x.status == SAMPLED
                                           for x in (effects[k].increase, effects[k].decrease)):
                sampled.append(e.line)
    return MoneyEffect(tuple(n for n in old.measures if n not in new.measures),
                       tuple(n for n in new.measures if n not in old.measures), tuple(effects), tuple(region),
                       decided, checks, tuple(sampled), SAMPLES if sampled or spent else 0, tuple(spent), budget,
                       tuple(e.line for e in effects if relaxed and e.line not in spent and (e.differs is None or any(
                           x is not None and x.status != EXACT for x in (e.increase, e.decrease)))),
                       tuple(unexamined))


# ---------------------------------------------------------------- a cut in proportion: sampled (issue 15)
BOUNDED = "bounded"  # issue 17: no outcome found that changes the line that way; none can by more than `bound`
SAMPLED = "sampled"  # an extreme found by settling both drafts on sampled outcomes: an example, not a bound
SAMPLES = 200  # how many: a fixed number from a fixed seed, so the answer never depends on the machine


def in_proportion(contract: m.Contract) -> list[m.RateCard]:
    """The rate cards whose caps cut in proportion: a × cap ÷ total, rounded down, divides by a sum
    of the outcomes, which the solver's linear arithmetic cannot bound (`sibc diff` samples them)."""
    return [card for card in contract.rate_cards.values() if card.order == "proportion"]


def _samples(drafts: _Drafts, n: int) -> list[tuple[dict, dict]]:
    """`n` outcome files for both drafts (a measure both have reads the same value in both), drawn
    from a generator with a fixed seed within each measure's range (docs/verify.md): the first with
    every value at its lowest, then each value at a random share of its range, the share squared
    half the time so that small outcomes (under a cap) are drawn as often as large ones."""
    import datetime
    import random

    from .verify import _format_input

    rng = random.Random(582)
    scale = max([Fraction(1_000_000)] + money_constants(drafts.old) + money_constants(drafts.new))
    result = []
    for k in range(n):
        shared: dict[int, object] = {}
        files = []
        for contract, sym in ((drafts.old, drafts.a), (drafts.new, drafts.b)):
            data: dict = {}
            for (name, period), term in drafts.here[id(sym)].items():
                measure = contract.input(name)
                if term.get_id() not in shared:
                    shared[term.get_id()] = _draw(measure, rng, scale, k, contract)
                value = shared[term.get_id()]
                if isinstance(value, datetime.date):
                    value = value.toordinal()
                text = _format_input(measure, value, contract.currency)
                if period is None:
                    data[name] = text
                else:
                    data.setdefault(name, {})[period] = text
            files.append(data)
        result.append((files[0], files[1]))
    return result


def _draw(measure: m.Measure, rng, scale: Fraction, k: int, contract: m.Contract):
    """One value of a measure for the k-th sample (see `_samples`), on the grid an outcome file holds."""
    import datetime

    kind = measure.ty.kind
    if kind == BOOL:
        return k > 0 and rng.random() < 0.5
    if kind == DATE:  # a date is not what a rate card's cut turns on: the earliest the measure allows
        return measure.lower or (contract.term[0] if contract.term else datetime.date(2000, 1, 1))
    lo, hi = _span(measure, scale)
    share = Fraction(0) if k == 0 else Fraction(rng.randrange(10_001), 10_000)
    if k % 2:
        share *= share
    grain = {COUNT: Fraction(1), SHARE: Fraction(1, 10_000), MONEY: Fraction(contract.rounding.step)}.get(
        kind, Fraction(1, 100))
    return lo + ((hi - lo) * share / grain).__floor__() * grain


def _sampled(effect: Effect, rows, on_line, old: m.Contract, new: m.Contract) -> Effect:
    """The line's largest increase and decrease with the sampled outcomes as further examples (settled
    by the real evaluator: both drafts' figures, confirmed by construction). A sample larger than the
    example found replaces it; what was proved of the line is kept: with a proved bound the change is
    EXACT when the sample reaches it, WITHIN otherwise; without one it is SAMPLED (an example, W582)."""
    from .counterexample import that_matter
    from .optimum import EXACT, WITHIN

    best: dict[int, tuple] = {}
    for files, settled in rows:
        if settled is None:
            continue
        before, after = (on_line(x, effect.kind, effect.line) for x in settled)
        for sign in (1, -1):
            if (after - before) * sign > 0 and (sign not in best or (after - before) * sign > best[sign][0]):
                best[sign] = ((after - before) * sign, files, before, after)
    extremes = []
    for sign, known in ((1, effect.increase), (-1, effect.decrease)):
        bound = None if known is None or known.bound is None else known.bound * sign
        if sign not in best or (known is not None and known.status != BOUNDED and known.amount * sign >= best[sign][0]):
            extremes.append(known)
            continue
        size, files, before, after = best[sign]
        shown: dict = {}
        for contract, data in zip((old, new), files):
            shown.update(that_matter(contract, [data])[0])
        status = SAMPLED if bound is None else (EXACT if size >= bound else WITHIN)
        extremes.append(Extreme(after - before, status, None if bound is None else bound * sign,
                                {**files[0], **files[1]}, shown, before, after, True))
    shown_any = any(x is not None and x.status != BOUNDED for x in extremes)
    return Effect(effect.line, effect.kind, True if shown_any else effect.differs, *extremes)


def sampling_warning(source, contract: m.Contract, effect: MoneyEffect):
    """W582 at the first card of `contract` cut in proportion, for the lines whose largest changes
    `sibc diff` did not prove exactly (`effect.inexact`; those it sampled with no bound among them)."""
    import re

    from .diagnostics import Diagnostic

    card = in_proportion(contract)[0]
    start = source.line_start(card.clause.line)
    found = re.compile(r"\bin[ \t]+proportion\b").search(source.text, start)
    span = source.span(found.start(), found.end()) if found else source.span(start, start)
    return Diagnostic(
        "W582", f"the money effect on {', '.join(effect.inexact)} is not proved exactly: the rate card "
        f"`{card.name}` cuts in proportion (a line × the cap ÷ the lines' total), which the solver reads only "
        f"through linear bounds; the largest changes shown are examples both drafts were settled on, within "
        f"the bounds the solver proved where one is shown", source, span,
        hint="a larger change than the example may exist, up to the proved bound: check the drafts' settlements "
             "on the outcomes you expect (sibc eval), or compare the drafts with the cap in claim or declaration "
             "order, which the solver decides exactly")


def budget_warning(source, effect: MoneyEffect):
    """W586 at the new draft's `contract` line: the diff's work budget was spent before the lines
    `effect.spent`, which were sampled, not proved."""
    import re

    from .diagnostics import Diagnostic

    found = re.search(r"^[ \t]*(contract)\b", source.text, re.MULTILINE)
    span = source.span(found.start(1), found.end(1)) if found else source.span(0, 0)
    return Diagnostic(
        "W586", f"the money effect on {', '.join(effect.spent)} is not proved: the diff's work budget of "
        f"{effect.budget} question{'' if effect.budget == 1 else 's'} to the solver was spent before {'it' if len(effect.spent) == 1 else 'them'}; "
        f"the largest changes shown were found by settling both drafts on {effect.samples} sampled outcomes",
        source, span,
        hint="raise the budget (sibc diff --budget N: the work stays bounded, the same on every machine), or "
             "compare fewer lines (without --each-payment)")


def optimum_real(value: Fraction, ctx) -> z3.ArithRef:
    from .optimum import real

    return real(value, ctx)


def _away(contract: m.Contract, data: dict, base: dict | None) -> dict:
    """The outcomes of `data` that are not as published in `base`."""
    from .outcomes import load_outcomes

    values = load_outcomes(contract, text=json.dumps(data, ensure_ascii=False), name="diff.json")
    return {k: v for k, v in data.items() if base is None or values.get(k) != base.get(k)}


def money_constants(contract: m.Contract) -> list[Fraction]:
    from .render.view import money_constants as constants

    return [abs(Fraction(v)) for v in constants(contract)]


def _span(measure: m.Measure, scale: Fraction) -> tuple[Fraction, Fraction]:
    kind = measure.ty.kind
    lo = measure.lower if measure.lower is not None else Fraction(0)
    if measure.upper is not None:
        hi = measure.upper
    elif kind == SHARE:
        hi = Fraction(1)
    elif kind == MONEY:
        hi = scale
    else:
        hi = max(lo + 100, Fraction(100))
    return lo, hi


def curve_chart(old: m.Contract, new: m.Contract, old_name: str, new_name: str,
                base: dict | None = None) -> str:
    """The total payout of both drafts against the new draft's main outcome (the first measure with
    `better`), other outcomes as in `base` (e.g. the published result) or at defaults, as SVG. The
    curves are drawn through their real breakpoints — the thresholds, tier edges, caps and floors
    of both contracts, found by settling them (render/breakpoints.py) — with each breakpoint marked."""
    from .render import chart
    from .render.breakpoints import breakpoints
    from .report import format_amount, format_value

    shared = [n for n in new.measures if n in old.measures and new.measures[n].ty.kind not in (BOOL, DATE)]
    main = next((n for n in shared if new.measures[n].better), shared[0] if shared else None)
    if main is None:
        return chart.svg([], "", "", [], [], [])
    scale = money_constants(old) + money_constants(new)
    if base is not None:  # the reported outcomes set the scale too (costs of 61 MSEK, not the 12 MSEK cap)
        scale += [abs(Fraction(v)) for v in base.values() if isinstance(v, Fraction)]
    lo, hi = _span(new.measures[main], max(scale, default=Fraction(1)) * 3 / 2)
    integer = new.measures[main].ty.kind == COUNT
    evaluators = compile_contract(old), compile_contract(new)

    def outcomes_for(contract: m.Contract, x: Fraction) -> dict:
        outcomes = {}
        for name, measure in (*contract.measures.items(), *contract.parameters.items()):
            if name != main and base is not None and name in base:
                outcomes[name] = base[name]
                continue
            value = x if name == main else (True if measure.ty.kind == BOOL else
                                            (contract.term[0] if measure.ty.kind == DATE and contract.term else
                                             measure.lower if measure.lower is not None and measure.lower > 0
                                             else Fraction(0)))
            outcomes[name] = {p.name: value for p in contract.series[measure.ty.series].periods} \
                if measure.ty.series else value
        return outcomes

    seen: dict[Fraction, tuple | None] = {}

    def course(x: Fraction):
        if x not in seen:
            try:
                seen[x] = tuple(Fraction(e.evaluate(outcomes_for(c, x)).total) for c, e in zip((old, new), evaluators))
            except EvaluationError:
                seen[x] = None
        return seen[x]

    tolerance = max(Fraction(old.rounding.step), Fraction(new.rounding.step)) * (
        len(old.payments) + len(new.payments) + len(old.floors) + len(new.floors) + 2)
    found = breakpoints(course, lo, hi, tolerance, integer=integer)
    delta = (hi - lo) / 10 ** 6 if not integer else Fraction(1)
    xs = sorted({lo, hi, *found, *(x - delta for x in found if x - delta >= lo)})
    curves: list[list] = [[], []]
    for x in xs:
        values = course(x)
        if values is None:
            continue
        for i in (0, 1):
            curves[i].append((x, values[i]))
    top = max([y for points in curves for _, y in points] + [Fraction(1)])
    kind = new.measures[main].ty.plain()
    _, _, x_values = chart.ticks(lo, hi, 5)
    marks = [("v", x, format_value(x, kind)) for x in found[:8]]
    title = f"{old_name} and {new_name}: the total against {main}"
    desc = (f"The total of {old_name} (solid) and {new_name} (dashed) for {main} from {format_value(lo, kind)} "
            f"to {format_value(hi, kind)}; the curves change course at "
            + (", ".join(format_value(x, kind) for x in found) or "no point") + ".")
    return chart.svg(curves[0], main, "total", [(x, format_value(x, kind)) for x in x_values if lo <= x <= hi],
                     [(top * i / 4, format_amount(top * i / 4, new.currency)) for i in range(5)], marks,
                     others=[(f"{new_name} (dashed) vs {old_name}", curves[1], "#c60")], title=title, desc=desc)


# ---------------------------------------------------------------- words and data
def _money(value, currency: str, lang: str) -> str:
    """An amount of the diff: in English as sibc's English tables write it (`11 000 000.5 SEK`, exact),
    in Swedish as `lang.money` (`11 000 000,50 kr`), as the studio writes both."""
    from .report import format_amount

    if lang == "en":
        return format_amount(value, currency)
    from .lang import money

    return money(value, currency, lang)


def _number(text: str, lang: str) -> str:
    """`12 000.5` (report.group's grouping) with the language's decimal mark."""
    return text.replace(".", ",") if lang == "sv" else text


def shown_value(value, lang: str = "en") -> str:
    """An outcome-file value as people read it: `yes`, `11 000 000 SEK`, `12.5 %`."""
    from .lang import texts
    from .report import group
    from .values import to_decimal

    if isinstance(value, bool):
        return texts("diff")[lang]["yes" if value else "no"]
    if isinstance(value, dict):
        return ", ".join(f"{k}: {shown_value(v, lang)}" for k, v in value.items())
    if isinstance(value, str) and " " in value:
        number, unit = value.rsplit(" ", 1)
        try:
            amount = Fraction(number)
        except ValueError:
            return value
        return f"{_number(group(to_decimal(amount)), lang)} %" if unit == "%" else _money(amount, unit, lang)
    return str(value)


def _value(value, ty, lang: str) -> str:
    """A value of a measure or definition of type `ty` (the region's bounds), as report.format_value
    writes it in English."""
    from .lang import texts
    from .report import format_value, group
    from .values import to_decimal

    if lang == "en":
        return format_value(value, ty)
    if isinstance(value, bool):
        return texts("diff")[lang]["yes" if value else "no"]
    if ty is not None and ty.kind == MONEY and isinstance(value, Fraction):
        return _money(value, ty.currency or "", lang)
    if ty is not None and ty.kind == DAYS and isinstance(value, Fraction):
        return texts("diff")[lang]["days"].format(n=_number(group(to_decimal(value)), lang))
    return _number(format_value(value, ty), lang)


def extreme_words(x: Extreme, currency: str, increase: bool, lang: str = "en") -> str:
    """A line's largest increase or decrease, how much of it is proved, and outcomes that give it."""
    from .lang import texts

    t = texts("diff")[lang]
    way = t["increase" if increase else "decrease"]
    bound = None if x.bound is None else _money(abs(x.bound), currency, lang)
    if x.status == BOUNDED:  # issue 17: a cut in proportion's relaxation allows one; no outcome tried gives one
        return t["bounded"].format(way=way, bound=bound)
    if x.status == "within":
        how = t["within"].format(bound=bound)
    elif x.status == "partial":
        how = t["partial"] if bound is None else t["partial_bound"].format(bound=bound)
    else:
        how = t[x.status]  # exact, unbounded, sampled
    at = ", ".join(f"{k} = {shown_value(v, lang)}" for k, v in x.shown.items()) or t["neutral"]
    return (t["extreme"].format(way=way, amount=_money(abs(x.amount), currency, lang), how=how, at=at,
                                old=_money(x.old, currency, lang), new=_money(x.new, currency, lang))
            + ("" if x.confirmed else t["unconfirmed"]))


def region_words(effect: MoneyEffect, measures: dict, currency: str, lang: str = "en") -> str | None:
    """`outside these ranges the totals are proved equal: completed = yes; savings between 0 SEK and …`."""
    from .lang import texts

    t = texts("diff")[lang]
    if not effect.region:
        return None if not effect.unexamined else t["region_none"].format(names=_few(effect.unexamined, lang))
    parts = []
    for r in effect.region:
        ty = measures[r.measure].ty.plain() if r.measure in measures else None
        if r.values:
            parts.append(t["range_value"].format(measure=r.measure, value=t["yes" if r.values[0] else "no"]))
        elif r.low is not None and r.high is not None:
            parts.append(t["range_between"].format(measure=r.measure, low=_value(r.low, ty, lang),
                                                   high=_value(r.high, ty, lang)))
        elif r.low is not None:
            parts.append(t["range_at_least"].format(measure=r.measure, low=_value(r.low, ty, lang)))
        else:
            parts.append(t["range_at_most"].format(measure=r.measure, high=_value(r.high, ty, lang)))
    # issue 17: each range is a projection of the set where the totals can differ: they need not differ
    # everywhere inside, and the ranges together are not that set, so only the outside is claimed
    return (t["region_one" if len(parts) == 1 else "region_many"].format(ranges="; ".join(parts))
            + (t["region_unexamined"].format(names=_few(effect.unexamined, lang)) if effect.unexamined else ""))


def _few(names, lang: str) -> str:
    from .lang import texts

    if len(names) <= 4:
        return ", ".join(names)
    return texts("diff")[lang]["and_more"].format(names=", ".join(names[:4]), n=len(names) - 4)


def effect_json(effect: MoneyEffect) -> dict:
    def extreme(x: Extreme | None):
        return None if x is None else {
            "amount": str(x.amount), "status": x.status, "bound": None if x.bound is None else str(x.bound),
            "outcomes": x.outcomes, "outcomes_that_matter": x.shown, "old": str(x.old), "new": str(x.new),
            "confirmed": x.confirmed}

    return {
        "method": "proved", "decided": effect.decided, "checks": effect.checks,
        # the lines sampled for W582, and how many outcomes were sampled (for them and for W586's lines)
        "sampled": {"lines": list(effect.sampled), "outcomes": effect.samples} if effect.sampled or effect.spent else None,
        # issue 17: the lines past the diff's work budget (sampled, W586), and the budget in questions
        "budget": {"questions": effect.budget, "spent_before": list(effect.spent)},
        "not_exact": list(effect.inexact),
        "region_not_examined": list(effect.unexamined),  # no range claimed for these (REGION's work)  # a cut in proportion: examples within proved bounds (W582)
        "only_in_old": list(effect.only_old), "only_in_new": list(effect.only_new),
        "lines": [{"line": e.line, "kind": e.kind, "differs": e.differs, "largest_increase": extreme(e.increase),
                   "largest_decrease": extreme(e.decrease)} for e in effect.effects],
        "differ_only_where": [{"measure": r.measure, "from": None if r.low is None else str(r.low),
                               "to": None if r.high is None else str(r.high),
                               "values": list(r.values) or None, "kind": r.kind, "currency": r.currency}
                              for r in effect.region],
    }


def currency_mismatch(old_source, old_model, new_source, new_model):
    """issue 17, E761: two drafts in different currencies pay amounts that cannot be compared as
    numbers (1 000 000 SEK is not 1 000 000 USD); `sibc diff` refuses them, pointing at both
    `currency` lines. None when both are in the same currency."""
    import re

    from .diagnostics import Diagnostic, Label

    if old_model.currency == new_model.currency:
        return None

    def where(source):
        found = re.search(r"^[ \t]*(currency[ \t]+\S+)", source.text, re.MULTILINE)
        return source.span(found.start(1), found.end(1)) if found else None

    old_span, new_span = where(old_source), where(new_source)
    labels = (Label(old_source, old_span, f"the old draft pays in {old_model.currency}"),) if old_span else ()
    return Diagnostic(
        "E761", f"the drafts pay in different currencies ({old_model.currency} in {old_source.name}, "
        f"{new_model.currency} in {new_source.name}): their amounts cannot be compared as numbers",
        new_source, new_span, label=f"the new draft pays in {new_model.currency}", labels=labels,
        hint="compare drafts in one currency: convert one draft's amounts at an agreed rate and "
             "declare the same `currency`, then run `sibc diff` again")


def _work(solver) -> int:
    """z3's resource count so far (deterministic: the same questions count the same on every machine)."""
    stats = solver.statistics()
    return int(stats.get_key_value("rlimit count")) if "rlimit count" in stats.keys() else 0
