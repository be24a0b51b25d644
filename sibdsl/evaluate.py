"""The scalar back end: measured outcomes in, a Settlement with its audit trail out.

`compile_contract(model)` builds the evaluation function once: the contract is lowered to its
settlement program (semantics/program.py), every expression a step reads becomes a closure
(compiler.py; no text is ever eval'ed), and everything that does not depend on the outcomes is
worked out then. The driver (semantics/run.py) runs then too, once, over staged values
(`_Stager`): it leaves a straight list of operations on exact Python numbers, and
`Evaluator.evaluate(outcomes)`, which is pure, runs only those — written out as one Python
function made from an `ast` tree (generated.py) on the first evaluation. Each line's audit trail is written
when it is first read, from the values the settlement left, and the guarantees are checked when
first read where none can fail (issue 21). The order of application is the program's, documented
in docs/language.md; nothing here repeats it.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction

from . import model as m
from .check.coupon import trail_terms
from .compiler import Compiler, Ctx, EvaluationError, Failed, Outcomes, shaped
from .diagnostics import Diagnostic
from .report import format_amount, group
from .semantics.program import Program, Step, StepKind, lower, principals, return_limit_amount
from .semantics import run as driver
from .semantics.run import cut, run
from .settlement import Detail, GuaranteeCheck, Investor, Line, Settlement, Trails, decimal
from .source import Source
from .values import Rounding, exact, rounder, to_decimal, whole

__all__ = ["Evaluator", "compile_contract", "principals", "return_limit_amount", "EvaluationError"]

_COMPARE = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
            "==": operator.eq, "!=": operator.ne}
K = StepKind
_NOT_YET = object()  # an Evaluator's generated function before its first evaluation


def rounded_text(raw, mode: str) -> str:
    return f"exact {to_decimal(raw, 6)}, rounded {mode}"


def _instrument_words(words: dict | None) -> dict:
    """The words of a coupon's and a redemption's trail: English (sibdsl/texts/interim.json, which
    the interim settlement's Swedish sits beside), unless the caller gives another language's."""
    if words is not None:
        return words
    from .lang import texts  # parsed once per process (functools.cache)

    return texts("interim")["en"]["coupon"]


def coupon_text(raw, after, mode: str, currency: str, terms: tuple, *, words: dict | None = None,
                rounded=None, money=None) -> str:
    """A coupon's line in the audit trail (issue 14): the rate of the period (and the minimum, when
    it is what was paid) × the capital accrued, each drawdown × its days in the day count — the
    figures a reader recomputes the amount from (check/coupon.trail_terms). `words`, `rounded`
    (the rounding's text from the raw amount and the mode) and `money` (an amount and the currency
    in words): another language's (interim.py, explain_text.py)."""
    minimum, base, parts, day_count = terms
    w = _instrument_words(words)
    said_money = money or (lambda x, cur: format_amount(exact(x), cur))

    def money(x) -> str:
        return said_money(x, currency)

    def pct(x) -> str:  # 2 %, 2.5 %, 100 %
        return format(to_decimal(x * 100, 6).normalize(), "f")

    if not parts:
        return w["nothing"]
    rate = Fraction(raw) / base
    said = w["rate"].format(rate=pct(rate))
    if minimum is not None and rate == minimum:
        said += w["minimum"].format(minimum=pct(minimum))
    accrued = " + ".join(w["part"].format(amount=money(amount), days=days, year=a_year, start=start)
                         for amount, start, days, a_year in parts)
    # the capital accrued to the cent (≈ where the days make it longer): the drawdowns × days are exact
    cents = Fraction(round(Fraction(base) * 100), 100)
    text = w["accrued"].format(said=said, capital=money(cents), to_cent="" if cents == base else w["to_cent"],
                               parts=accrued, day_count=day_count)
    return text + ("" if after == raw else f"; {(rounded or rounded_text)(raw, mode)}")


def redemption_text(raw, after, mode: str, currency: str, terms: tuple, *, words: dict | None = None,
                    rounded=None, money=None) -> str:
    """An early redemption `plus accrued COUPON` in the audit trail (issue 14): the share of the
    capital drawn, and the rest of the amount, the interest accrued to the date — at the rates the
    cancelled coupon lines' own trails show. `words`, `rounded`, `money`: as coupon_text's."""
    share, drawn, coupon, date = terms
    w = _instrument_words(words)
    money = money or (lambda x, cur: format_amount(exact(x), cur))
    if raw == 0:
        return w["redemption_nothing"]
    principal = share * drawn
    pct = format(to_decimal(share * 100, 6).normalize(), "f")
    interest = Fraction(raw) - principal
    cents = Fraction(round(interest * 100), 100)
    text = w["redemption"].format(share=pct, drawn=money(drawn, currency), interest=money(cents, currency),
                                  to_cent="" if cents == interest else w["redemption_to_cent"],
                                  coupon=coupon, date=date)
    return text + ("" if after == raw else f"; {(rounded or rounded_text)(raw, mode)}")


def _instrument(ev: Evaluator, step: Step) -> tuple[Callable, tuple] | None:
    """The words and terms of a coupon's or a redemption-with-accrued-interest's computed line
    (check/coupon.trail_terms), or None for any other formula: decided once, when compiling."""
    kind = step.clause.kind
    terms = ev.coupon_terms.get((step.clause, step.period_name)) if kind in ("coupon", "redemption") else None
    return None if terms is None else (coupon_text if kind == "coupon" else redemption_text, terms)


def _computed(ev: Evaluator, step: Step, raw, after) -> str | Detail:
    """What a formula's line says it was computed from: a coupon its rate × capital × days, a
    redemption with accrued interest its two parts, any other payment its rounding, when it rounded."""
    instrument = _instrument(ev, step)
    if instrument is not None:
        return Detail(instrument[0], raw, after, ev.rounding.mode, ev.contract.currency, instrument[1])
    return "" if after == raw else Detail(rounded_text, raw, ev.rounding.mode)


_STEP_TEXT = {
    K.FLOOR: "raised to the floor of {level}",
    K.CAP: "limited to {level}",
    K.TOTAL_FLOOR: "the total is raised to the floor of {level}",
    K.PERIOD_CAP: "at most {level} in period {period}",
    K.PARTICIPANT_CAP: "at most {level} for {scale} participants",
    K.TOTAL_GATE: "the part above {level} is not paid",
    K.TOTAL_CAP: "the total is limited to {level}",
    K.RETURN_LIMIT: "{investor} receives at most {limit} ({basis})",
    # issue 15
    K.STREAM_FLOOR: "raised so that the stream over all its periods reaches the floor of {level}",
    K.STREAM_CAP: "the stream over all its periods is limited to {level} (the period paid last gives first)",
    K.PARTY_CAP: "what {investor} {basis} is limited to {level}",
    K.CARD_CAP: "the rate card pays at most {level} ({basis})",
    # issue 14
    K.COVER: "pays {investor}'s loss on {basis} (drawn {limit} less what it received), {level}",
}


def step_text(kind: StepKind, level, currency: str, period, scale, investor, limit, basis) -> str:
    """What a floor, a cap or a cut says in the audit trail of a line it changed. (Plain values, not
    the step: a Detail compares and hashes its arguments, and a step holds whole expressions.)"""
    if kind is K.RETURN_LIMIT and limit is None:  # a rate of return (semantics/returnlimits.py)
        return (f"{investor}'s receipts, discounted at the limit's rate to the drawdowns, may not exceed "
                f"what was drawn ({basis})")
    if kind is K.PARTY_CAP:  # its basis says which side: "payer" pays, "recipient" receives
        basis = {"payer": "pays", "recipient": "receives"}.get(basis, basis)
    return _STEP_TEXT[kind].format(
        level=format_amount(exact(level), currency), period=period, scale=scale, investor=investor,
        limit=format_amount(exact(limit), currency) if limit is not None else "", basis=basis)


class _Concrete:
    """semantics.run.Backend's arithmetic over exact Python numbers (a whole value stays an int:
    values.whole). The staged back end (`_Stager`) folds with these at compile time, and its cut
    runs `cut` at settle time."""

    ZERO = 0
    TRUE = True
    KEEP = False
    after = event = None

    const = staticmethod(lambda value: value if isinstance(value, bool) else whole(value))
    sub = staticmethod(lambda a, b: whole(a - b))
    mul = staticmethod(lambda a, b: whole(a * b))
    extreme = staticmethod(lambda op, values: min(values) if op == "min" else max(values))
    compare = staticmethod(lambda op, a, b: _COMPARE[op](a, b))
    select = staticmethod(lambda c, t, o: t if c else o)
    band = staticmethod(lambda a, b: a and b)
    bnot = never = staticmethod(operator.not_)
    total = staticmethod(lambda amounts, everyone: whole(sum(amounts)))

    @staticmethod
    def linear(terms):
        acc = 0
        for sign, value in terms:
            acc = acc + value if sign > 0 else acc - value
        return whole(acc)

    def cut(self, step, amounts, excess):
        """The reference cut (semantics.run.cut) on numbers; an excess that is not positive takes
        nothing, so the reference's answer is known without running it."""
        if not excess > 0:
            return list(amounts), False
        return cut(self, amounts, excess)

    def pro_rata(self, step, amounts, excess):
        """The reference cut in proportion (semantics.run.pro_rata) on numbers (issue 15)."""
        if not excess > 0:
            return list(amounts), False
        return driver.pro_rata(self, amounts, excess)

    def part(self, a, level, total):
        return whole(self.round_down(Fraction(a) * level / total)) if total > 0 else a

    # the driver's cut each runs where the excess is positive (generated.py writes it out)
    cut.reference = driver.cut
    pro_rata.reference = driver.pro_rata


def released_text(investor: str, basis: str, currency: str, amount, kept: str | None = None) -> str:
    """On the vehicle's line: what a return limit held back from a waterfall step's line to a party
    it binds, passed on to the waterfall's later steps (issue 14) — or, after its last step, kept by
    the vehicle `kept` (no step is left to pay it)."""
    held = f"{format_amount(exact(amount), currency)} that {investor}'s return limit held back ({basis})"
    if kept is not None:
        return f"{held} stays with {kept}: no later step of the waterfall is left to pay it"
    return f"{held} passes on to the waterfall's later steps"


def waterfall_text(waterfall: str, basis: str, vehicle: str, level, currency: str, source: bool) -> str:
    """A waterfall step's words in the audit trail: on the vehicle's line, and on a line it pays."""
    name, number = waterfall.rsplit(".", 1)
    if source:
        return f"waterfall {name}, step {number} ({basis}): {format_amount(exact(level), currency)} paid on from {vehicle}"
    return f"waterfall {name}, step {number} ({basis}): paid through {vehicle}"


def _acts(before, after, acted) -> bool:
    """Whether a floor, a cap or a cut writes a record on a line: where it says it acted, or, where
    it does not say (a cut, on each line it passes), where it changed the line."""
    return acted if acted is not None else after != before


def _factor(amounts, excess) -> tuple | None:
    """A cut in proportion's level and the lines' total (semantics.run.pro_rata), whose quotient is
    the factor every line is scaled by; None where it does not cut (nothing in the lines)."""
    total = sum(amounts)
    return (max(total - excess, 0), total) if total > 0 else None


def pro_rata_text(text: Detail, level, total) -> str:
    """A cut in proportion's audit text: the cap's words, then its factor exactly and as a percentage."""
    return f"{text}; {factor_text(level, total)}"


def factor_text(level, total, word: str = "factor", number=None) -> str:
    """`factor 50 000 ÷ 50 160 = 625/627 ≈ 99.6810 %` (`word` and `number`, a number in words:
    another language's, interim.py)."""
    number = number or (lambda x: group(x if isinstance(x, Decimal) else to_decimal(x)))
    factor = Fraction(level) / total
    percent = to_decimal(factor * 100, 4)
    return (f"{word} {number(level)} ÷ {number(total)} = "
            f"{factor.numerator}/{factor.denominator} ≈ {number(percent)} %")


def _record(ev: Evaluator, step: Step, before, after, acted, level, line=None, factor: tuple | None = None):
    """The audit trail's record of what a step did to a line, in the words of settlement.Step (the
    words are written when the trail is first read: `Detail`), or None when it did nothing. `factor`:
    a cut in proportion's (issue 15), shown in its words and kept on the record for JSON."""
    kind, clause = step.kind, step.clause
    if kind is K.COMPUTE:
        return ("computed", clause, None, after, _computed(ev, step, level, after))
    if kind is K.GATE:
        return ("gate failed", clause, before, after, "the condition does not hold") if acted else \
            ("gate passed", clause, before, after, "")
    if not _acts(before, after, acted):
        return None
    if kind is K.RETURN_LIMIT and step.takes and line == step.line:  # released to the waterfall's later steps
        lines = ev.program.lines
        _, name, number, *_ = lines[step.takes[0]].key  # ("waterfall", NAME, N, ...): the step it cut
        last = next(wf for wf in ev.contract.waterfalls if wf.clause.name == name).tiers[-1].number
        return ("limit released", clause, before, after, Detail(released_text, step.investor, step.basis,
                                                                 ev.contract.currency, after - before,
                                                                 lines[line].recipient if number == last else None))
    if kind is K.WATERFALL:
        return (kind.trail, clause, before, after, Detail(waterfall_text, clause.name, step.basis, step.investor,
                                                          level, ev.contract.currency, line == step.line))
    text = Detail(step_text, kind, level, ev.contract.currency, step.period_name, step.scale, step.investor,
                  None if step.weights else step.limit, step.basis)
    if factor is not None:  # (level, total) of a cut in proportion
        return (kind.trail, clause, before, after,
                Detail(pro_rata_text, text, *factor, factor=Fraction(factor[0]) / factor[1]))
    return (kind.trail, clause, before, after, text)


def optional(line) -> bool:
    """A line of the program that is in the settlement only if a step wrote to its audit trail: a
    floor's top-up where the floor lifted the total, a waterfall step's line where it paid."""
    return line.top_up or line.key[0] == "waterfall"


class _Stager:
    """semantics.run.Backend whose values are *staged*: `run(program, _Stager(...))` is called once,
    when the contract is compiled, and leaves a straight list of operations that settle it.

    A value is a register: a slot of the list an evaluation works in (`r`). Registers whose value
    is known at compile time hold constants (`known`), and a primitive over known values is
    computed then, with `_Concrete`'s arithmetic. Any other primitive appends an operation
    `op(r)` that computes its register from the registers it reads. Nothing decides at compile
    time what only the outcomes can decide: `never` is True only for a known false condition,
    so the staged program takes every path the driver would take on numbers. Operations whose
    value nothing reads are dropped, except the expressions (a division by zero there is an
    error of the settlement) and the audit trail, which appends to the lines' trails (`r[1]`)
    exactly what `_record` says the step did. `r[0]` is the evaluation's `Ctx`.

    The audit trail is written when it is first read (issue 21): `program` splits the operations
    into those that settle (every register's value; a cut records only whether it cut) and those
    that write the records from the registers the settlement left, in the same order. Each
    register is written once, by one operation, so the records written later are those the steps
    would have written as they acted. Whether a line that exists only if its trail is not empty (a
    floor's top-up, a waterfall step's line: `optional`) has a record is said while settling, by
    an operation (`mark`) that asks what `_record` asks."""

    ZERO = TRUE = None  # registers, set in __init__
    KEEP = False
    after = None

    def __init__(self, ev: Evaluator):
        self.ev = ev
        self.values: list = [None, None]  # r[0]: the context, r[1]: the trails
        self.known: dict[int, object] = {}
        # (op, out, reads, keep, role): role is the line an audit record is for, a cut's `replay`
        # (its records, written when the trail is read), or None
        self.ops: list[tuple[Callable, tuple[int, ...], list[int], bool, object]] = []
        self.optional = {ln.index for ln in ev.program.lines if optional(ln)}
        # while settling, each `optional` line's entry says whether a record was written on it
        self.exists = [False if ln.index in self.optional else None for ln in ev.program.lines]
        self.prefix: list[list] = [[] for _ in ev.program.lines]  # known records before any staged one
        self.staged_lines: set[int] = set()
        self.negations: dict[int, int] = {}  # register of `not c` → register of c
        self.cut_traces: dict[int, list] = {}  # a line's register after a cut → that cut's traces
        # what a cut's excess is made of, so that the cut computes it itself (one operation, not
        # three): a total's register → (base, registers); an excess's → (base, registers, level,
        # the condition of a gate that takes nothing where it holds, or None)
        self.sums: dict[int, tuple] = {}
        self.excesses: dict[int, tuple] = {}
        self.shares: dict[int, tuple] = {}  # a cut in proportion (id of its step) → (its lines, its excess)
        self.ZERO, self.TRUE, self.FALSE = self.const(0), self.const(True), self.const(False)
        self.kernel = _Concrete()
        self.kernel.round_down = rounder(ev.rounding.step, "down")  # the weighted cut's
        self.lines: list | None = None  # see `live`
        self.index: dict | None = None
        if ev.on_step is None:
            self.event = None

    # ------------------------------------------------------------ registers and operations
    def const(self, value) -> int:
        k = len(self.values)
        value = _Concrete.const(value)
        self.values.append(value)
        self.known[k] = value
        return k

    def _new(self) -> int:
        self.values.append(None)
        return len(self.values) - 1

    def _emit(self, op: Callable, out: tuple[int, ...], reads: tuple[int, ...], keep: bool = False,
              role=None) -> None:
        self.ops.append((op, out, [x for x in reads if x not in self.known], keep, role))

    def _apply(self, fold: Callable, make: Callable, *args: int) -> int:
        """The register of an operation: `make(k)` is the operation that computes register k;
        `fold(*values)` computes it now when every argument is known."""
        known = self.known
        if all(a in known for a in args):
            return self.const(fold(*[known[a] for a in args]))
        k = self._new()
        self._emit(make(k), (k,), args)
        return k

    def program(self, final) -> tuple[list, list[Callable], list[Callable], list[list], list]:
        """The register template; the operations that `final` (the lines' amounts) and the audit
        trail need, in order, split into those that settle (and say whether an `optional` line
        has a record) and those that write the audit trail afterwards; each line's known records;
        and the template of what the settling operations say about `optional` lines."""
        live: set[int] = set(final)
        kept = []
        for op, out, reads, keep, role in reversed(self.ops):
            if keep or any(o in live for o in out):
                live.update(reads)
                kept.append((op, role))
        kept.reverse()
        settle = [op for op, role in kept if type(role) is not int]
        write = [op if type(role) is int else role for op, role in kept if role is not None]
        # the registers read after settling (by the audit trail, and each line's amount): what a
        # generated settlement function (generated.py) hands back in its register list
        self.needed = set(final)
        for _op, out, reads, _keep, role in self.ops:
            if role is not None:
                self.needed.update(reads, out)
        exists = [e or (e is not None and bool(known)) for e, known in zip(self.exists, self.prefix)]
        return self.values, settle, write, self.prefix, exists

    # ------------------------------------------------------------ expressions
    def expr(self, step: Step, which: str, guard=None) -> int:
        fn = (self.ev._amount if which == "amount" else self.ev._condition)[id(step)]
        folded = self.ev._c.folded
        if fn in folded:
            return self.const(folded[fn])
        if guard is not None and guard in self.known:
            if self.known[guard] is False:  # not read: the guard says the step does not use it here
                return self.const(0)
            guard = None
        k = self._new()
        reads = () if guard is None else (guard,)
        if self.lines is not None:  # it may read the lines as they stand at this step: see `live`
            value, reads = self._reading_lines(fn), reads + tuple(a for a in self.lines if a is not None)
            if guard is None:
                def op(r):
                    r[k] = value(r)
            else:
                def op(r):
                    r[k] = 0 if r[guard] is False else value(r)
        elif guard is None:
            def op(r):
                r[k] = fn(r[0])
            shaped(op, "expr", k, fn, None)
        else:
            def op(r):
                r[k] = 0 if r[guard] is False else fn(r[0])
            shaped(op, "expr", k, fn, guard)
        self._emit(op, (k,), reads, keep=True)
        return k

    def live(self, index: dict, amounts: list) -> None:
        """The driver's lines as they stand (`amounts`, changed as it runs) and where each payment's
        lines are (`index`), for expressions that read what was paid so far: each such expression
        is given, in `Ctx.lines` and `Ctx.index`, the lines' values at its own step. (Only if one
        does: every expression is compiled by now, and handing the lines costs a list per read.)"""
        if self.ev._c.reads_lines:
            self.lines, self.index = amounts, index

    def _reading_lines(self, fn: Callable) -> Callable:
        at = tuple(self.lines)  # the registers of the lines at this step (None: not set yet)
        index = self.index

        def reading(r):
            ctx = r[0]
            ctx.lines, ctx.index = [None if a is None else r[a] for a in at], index
            return fn(ctx)
        return reading

    def round(self, x: int) -> int:
        return self._round(self.ev.round, x)

    def round_down(self, x: int) -> int:
        """To the contract's step, toward −∞ (what a cut in weighted units leaves a line)."""
        return self._round(rounder(self.ev.rounding.step, "down"), x)

    def _round(self, rnd: Callable, x: int) -> int:
        ints = Fraction(self.ev.rounding.step).denominator == 1  # a whole step: rnd always gives an int

        def make(k):
            def op(r):
                r[k] = rnd(r[x])
            return shaped(op, "round", k, rnd, x, ints)
        return self._apply(rnd, make, x)

    def linear(self, terms) -> int:
        signs = tuple(s for s, _ in terms)
        regs = tuple(v for _, v in terms)
        fold = lambda *vs: _Concrete.linear(zip(signs, vs))  # noqa: E731

        def make(k):
            def op(r):
                r[k] = fold(*[r[v] for v in regs])
            return shaped(op, "linear", k, signs, regs)
        return self._apply(fold, make, *regs)

    def sub(self, a: int, b: int) -> int:
        def make(k):
            def op(r):
                v = r[a] - r[b]
                r[k] = v.numerator if type(v) is Fraction and v.denominator == 1 else v  # values.whole
            return shaped(op, "linear", k, (1, -1), (a, b))
        k = self._apply(_Concrete.sub, make, a, b)
        if k not in self.known and a in self.sums:
            self.excesses[k] = (*self.sums[a], b, None)
        return k

    def mul(self, a: int, b: int) -> int:
        def make(k):
            def op(r):
                r[k] = whole(r[a] * r[b])
            return shaped(op, "mul", k, a, b)
        return self._apply(_Concrete.mul, make, a, b)

    def extreme(self, name: str, values) -> int:
        f = min if name == "min" else max
        values = tuple(values)
        if len(values) == 2:
            a, b = values

            def make(k):
                def op(r):
                    r[k] = f(r[a], r[b])
                return shaped(op, "extreme", k, name, values)
        else:
            def make(k):
                def op(r):
                    r[k] = f([r[v] for v in values])
                return shaped(op, "extreme", k, name, values)
        return self._apply(lambda *vs: f(vs), make, *values)

    def compare(self, name: str, a: int, b: int) -> int:
        cmp = _COMPARE[name]

        def make(k):
            def op(r):
                r[k] = cmp(r[a], r[b])
            return shaped(op, "compare", k, name, a, b)
        return self._apply(cmp, make, a, b)

    def select(self, c: int, t: int, o: int) -> int:
        if c in self.known:
            return t if self.known[c] else o

        def make(k):
            def op(r):
                r[k] = r[t] if r[c] else r[o]
            return shaped(op, "select", k, c, t, o)
        k = self._apply(_Concrete.select, make, c, t, o)
        if k not in self.known and t == self.ZERO and o in self.excesses and self.excesses[o][3] is None:
            self.excesses[k] = (*self.excesses[o][:3], c)  # a gate's excess: 0 where its condition holds
        return k

    def band(self, a: int, b: int) -> int:
        if a in self.known:
            return b if self.known[a] else a

        def make(k):
            def op(r):
                r[k] = r[a] and r[b]
            return shaped(op, "band", k, a, b)
        return self._apply(_Concrete.band, make, a, b)

    def bnot(self, a: int) -> int:
        def make(k):
            def op(r):
                r[k] = not r[a]
            return shaped(op, "bnot", k, a)
        k = self._apply(operator.not_, make, a)
        if k not in self.known:
            self.negations[k] = a
        return k

    def never(self, c: int) -> bool:
        return c in self.known and not self.known[c]  # False unless known: a shortcut, never a meaning

    def total(self, amounts, everyone: bool) -> int:
        regs = tuple(a for a in amounts if a not in self.known)
        base = whole(sum(self.known[a] for a in amounts if a in self.known))
        if not regs:
            return self.const(base)

        def make(k):
            def op(r):
                v = base
                for a in regs:
                    v += r[a]
                r[k] = v.numerator if type(v) is Fraction and v.denominator == 1 else v  # values.whole
            return shaped(op, "total", k, base, regs)
        k = self._apply(None, make, *regs)
        self.sums[k] = (base, regs)
        return k

    def cut(self, step: Step, amounts, excess: int):
        return self._cut(step, amounts, excess, self.kernel.cut)

    def pro_rata(self, step: Step, amounts, excess: int):
        """The reference cut in proportion (semantics.run.pro_rata) on numbers, at settle time. Its
        lines and excess are kept for the audit trail, which shows the factor (`trace`)."""
        self.shares[id(step)] = (tuple(amounts), excess)
        return self._cut(step, amounts, excess, self.kernel.pro_rata)

    def part(self, a: int, level: int, total: int) -> int:
        """round_down(a × level ÷ total) (the primitive of run.pro_rata; `pro_rata` above runs the
        whole cut at settle time, so only a back end driving the reference staged reads this)."""
        fold = self.kernel.part

        def make(k):
            def op(r):
                r[k] = fold(r[a], r[level], r[total])
            return shaped(op, "call", k, fold, (a, level, total))
        return self._apply(fold, make, a, level, total)

    def weighted_cut(self, step: Step, amounts, weights, excess: int):
        """The reference weighted cut (semantics.run.weighted_cut) on numbers, at settle time; an
        excess that is not positive takes nothing."""
        kernel = self.kernel

        def weighted(step, values, excess):
            if not excess > 0:
                return list(values), False
            return driver.weighted_cut(kernel, values, weights, excess)
        weighted.reference = lambda b, values, excess: driver.weighted_cut(b, values, weights, excess)
        return self._cut(step, amounts, excess, weighted)

    def _cut(self, step: Step, amounts, excess: int, compute: Callable):
        """`compute(step, values, excess)` cuts at settle time. Where it says which of the driver's
        cuts it runs where the excess is positive (`compute.reference(backend, values, excess)`),
        generated.py writes that cut out; otherwise it calls `compute`."""
        regs = tuple(amounts)
        if excess in self.known and all(a in self.known for a in regs):
            news, acted = compute(step, [self.known[a] for a in regs], self.known[excess])
            return [self.const(v) for v in news], self.const(acted)
        out = tuple(self._new() for _ in regs)
        moves = tuple(zip(out, regs))
        acted = self._new()
        traces: list[Callable] = []  # the audit trail of the lines it cuts: written only if it cut
        marks: list[Callable] = []  # whether it writes on `optional` lines, said as it cuts

        # an excess that is (total of the lines − level) (`excesses`) is computed here: one operation, not three
        fused, base, summed, level, unless = excess in self.excesses, *self.excesses.get(excess, (0, (), 0, None))
        reads = summed + (level,) + (() if unless is None else (unless,)) if fused else (excess,)

        def op(r):
            if not fused:
                e = r[excess]
            elif unless is not None and r[unless]:
                e = 0
            else:
                e = base
                for a in summed:
                    e += r[a]
                e -= r[level]
                if type(e) is Fraction and e.denominator == 1:  # values.whole
                    e = e.numerator
            if not e > 0:  # takes nothing (both cuts say so first): the lines pass through
                for k, a in moves:
                    r[k] = r[a]
                r[acted] = False
                return
            news, cuts = compute(step, [r[a] for a in regs], e)
            r[acted] = cuts
            for k, v in zip(out, news):
                r[k] = v
            if cuts:
                for t in marks:
                    t(r)

        shaped(op, "cut", out, acted, regs, compute, step, self.kernel, excess if not fused else None,
               (base, summed, level, unless) if fused else None, marks)

        def replay(r):  # its records, when the audit trail is read: it cut where `acted` says so
            if r[acted]:
                for t in traces:
                    t(r)
        self._emit(op, out + (acted,), regs + reads, keep=True, role=replay)  # it writes the audit trail
        for k in out:
            self.cut_traces[k] = (traces, marks, self.ops[-1][2])
        return list(out), acted

    # ------------------------------------------------------------ observers
    def trace(self, step: Step, line: int, before, after, acted, level) -> None:
        ev, known = self.ev, self.known
        args = (before, after, acted, level)
        shares = self.shares.get(id(step)) if step.pro_rata else None
        if shares is not None and not all(a in known for a in (*shares[0], shares[1])):
            self.staged_lines.add(line)  # the factor is known only when the lines are
        if all(a is None or a in known for a in args) and line not in self.staged_lines:
            factor = _factor([known[a] for a in shares[0]], known[shares[1]]) if shares is not None else None
            record = _record(ev, step, *[None if a is None else known[a] for a in args], line=line, factor=factor)
            if record is not None:
                self.prefix[line].append(record)
            return
        self.staged_lines.add(line)
        kind, clause = step.kind, step.clause
        value = lambda a: (lambda r: None) if a is None else (lambda r: r[a])  # noqa: E731
        mark = None  # on an `optional` line, while settling: whether the step writes a record
        shares_read = (*shares[0], shares[1]) if shares is not None else ()
        if kind is K.COMPUTE and _instrument(ev, step) is not None:  # issue 14: a coupon's words
            def op(r):
                amount, raw = r[after], r[level]
                r[1][line].append(("computed", clause, None, amount, _computed(ev, step, raw, amount)))
        elif kind is K.COMPUTE:  # (the hot path of every other payment's line, as it was)
            mode = ev.rounding.mode

            def op(r):
                amount, raw = r[after], r[level]
                r[1][line].append(("computed", clause, None, amount,
                                   "" if amount == raw else Detail(rounded_text, raw, mode)))
        elif kind is K.GATE:
            failed, condition = (acted, False) if acted not in self.negations else (self.negations[acted], True)
            b = value(before)

            def op(r):
                if bool(r[failed]) is not condition:
                    r[1][line].append(("gate failed", clause, b(r), r[after], "the condition does not hold"))
                else:
                    r[1][line].append(("gate passed", clause, b(r), r[after], ""))
            acted = failed
        else:
            b, c, lv = value(before), value(acted), value(level)
            regs, excess = shares if shares is not None else ((), None)

            def op(r):
                factor = _factor([r[a] for a in regs], r[excess]) if excess is not None else None
                record = _record(ev, step, b(r), r[after], c(r), lv(r), line=line, factor=factor)
                if record is not None:
                    r[1][line].append(record)

            def mark(r):
                if _acts(b(r), r[after], c(r)):
                    r[1][line] = True
            shaped(mark, "mark", line, before, after, acted)
            if acted is None and after in self.cut_traces:  # run by the cut, when it cuts
                traces, marks, reads = self.cut_traces[after]
                traces.append(op)
                if line in self.optional:
                    marks.append(mark)
                # a cut in proportion's factor reads its lines and excess (kept for it when fused)
                reads += [a for a in (before, level, *shares_read) if a is not None and a not in known]
                return
        reads = tuple(a for a in (before, after, acted, level, *shares_read) if a is not None)
        self._emit(op, (), reads, keep=True, role=line)
        if line in self.optional:
            if mark is None:  # a computation or a gate writes a record whatever it finds
                self.exists[line] = True
            else:
                self._emit(mark, (), reads, keep=True)

    def event(self, step: Step, acted: int, condition: int | None = None) -> None:
        on_step = self.ev.on_step  # a gate is told by its condition

        def op(r):
            on_step(step, bool(r[acted]) if condition is None else not r[condition])
        self._emit(op, (), (acted,) if condition is None else (condition,), keep=True)


def _copied(outcomes):
    """The outcomes with every dict in them (per period, per cohort) copied; the values, numbers,
    booleans and dates, are immutable."""
    return {k: _copied(v) if type(v) is dict else v for k, v in outcomes.items()}


class _Later:
    """What one settlement by the generated function leaves its reader (issue 21): the outcomes
    it settled and the registers it kept (`kept`, those `fn.kept` names), from which the lines'
    audit trails (`line`, as `settlement.Trails`), the definitions' values (`values`) and the
    guarantees' verdicts (`_Verdicts`) are computed when first read, in one context (`ctx`: the
    one the function read, or one made then). It does not hold the lines, which hold it."""

    __slots__ = ("ev", "fn", "outcomes", "ctx", "kept", "made")

    def line(self, index: int) -> tuple:
        made = self.made
        if made is None:
            made = self.made = self.ev._trails_kept(self)
        return made[index]

    def context(self) -> Ctx:
        ctx = self.ctx
        if ctx is None:
            ctx = self.ctx = Ctx(self.outcomes, {}, {})
        return ctx

    def values(self) -> dict[str, object]:
        return self.ev._values(self.context())


class _Verdicts:
    """A settlement's guarantees, checked when first read (`Settlement.guarantees` calls it)."""

    __slots__ = ("later", "lines")  # set by `evaluate` (an `__init__` would cost a Python call more)

    def __call__(self) -> tuple[GuaranteeCheck, ...]:
        return self.later.ev._check_guarantees(self.later.context(), self.lines)


class Evaluator:
    """The compiled contract. `evaluate(outcomes)` is pure: same outcomes, same Settlement.

    Everything that does not depend on the outcomes is worked out here, once: the settlement
    program, the closures of every expression a step reads (constants folded), the definitions
    in dependency order, return-limit amounts, what each investor put in. `on_step(step, acted)`
    is told, for each step an evaluation runs, whether the step acted (coverage). `stop()`, if
    given, is called before each definition and each step is compiled: the compile's cancellation
    points, fixed by the contract (not by time), where it may raise to abandon the compile (the
    server does when a newer request of the same job arrives, serve/api.py)."""

    def __init__(self, contract: m.Contract, source: Source | None = None,
                 recorder: Callable[[m.Expr, int], None] | None = None,
                 on_step: Callable[[Step, bool], None] | None = None, program: Program | None = None,
                 stop: Callable[[], None] | None = None):
        stop = stop or _go_on
        self.contract = contract
        self.source = source
        self.on_step = on_step
        self.rounding: Rounding = contract.rounding
        self.round = rounder(contract.rounding.step, contract.rounding.mode)
        self.round_down = rounder(contract.rounding.step, "down")
        self.program: Program = program or lower(contract)
        self.coupon_terms = trail_terms(contract)  # issue 14: what a coupon's audit trail shows
        comp = self._c = Compiler(contract, contract.definitions, source, recorder=recorder)
        # issue 17: the assumptions, per period of their series, checked before anything is settled
        # (a compiler of their own: they are no branch of the settlement's coverage)
        plain = Compiler(contract, contract.definitions, source) if contract.assumptions else None
        self._assumptions = [
            (a, period, plain.compile(a.expr, {a.series: period} if period else None))
            for a in contract.assumptions
            for period in ([p.name for p in contract.series[a.series].periods] if a.series else [None])]
        # every definition, per period of its series, in dependency order: computed first, so
        # that reading one is never deeper than one definition (a chain of 5,000 is fine)
        self._defs: list[tuple[str, list[tuple[str | None, Callable]]]] = []
        self._prelude: list[tuple[tuple, Callable]] = []
        for name, definition in contract.definitions.items():
            stop()
            series = definition.ty.series
            periods = [p.name for p in contract.series[series].periods] if series else [None]
            fns = [(p, comp.var(name, {series: p} if series else None)) for p in periods]
            self._defs.append((name, fns))
            self._prelude += [((name, p), fn) for p, fn in fns if fn not in comp.folded]
        self._amount: dict[int, Callable] = {}  # id(step) → the closure of what it reads
        self._condition: dict[int, Callable] = {}
        for step in self.program.steps:
            stop()
            period = dict(step.period)
            if step.amount is not None:
                self._amount[id(step)] = comp.compile(step.amount, period)
            if step.condition is not None:
                self._condition[id(step)] = comp.compile(step.condition, period)
        # the driver, run once on staged values: what is left is a straight list of operations
        stager = _Stager(self)
        settled = run(self.program, stager)
        self._registers, self._ops, self._write, self._prefix, self._exists = stager.program(settled.amounts)
        # the settling operations as one generated function (generated.py), made on the first
        # evaluation: `check` never pays for it; None where the staged program settles instead
        self._generated = _NOT_YET if recorder is None and on_step is None and not comp.reads_lines else None
        self._known, self._needed = stager.known, stager.needed
        self._final = settled.amounts
        # each line: its fixed fields, the register of its amount, whether it is `optional`
        self._lines = [({"payment": ln.payment, "clause": ln.clause, "payer": ln.payer, "recipient": ln.recipient,
                         "period": ln.period, "due": ln.due}, amount, optional(ln))
                       for ln, amount in zip(self.program.lines, settled.amounts)]
        self.guarantees = [(g, comp.compile(g.expr), comp.compile(g.when) if g.when else None)
                           for g in contract.guarantees]
        # the guarantees are checked when a settlement's are first read, unless one may fail for some
        # outcomes (a division in it): that error is the evaluation's, raised by `evaluate`; or
        # unless a recorder is told the branches each evaluation takes (theirs too, as it runs)
        self._checked_later = recorder is None and not any(
            _divides(contract, g.expr, g.when) for g in contract.guarantees)
        self._verdicts = [
            (None, None, GuaranteeCheck(g.clause, None, "monotone")) if g.monotone else
            (fn, when, (GuaranteeCheck(g.clause, False), GuaranteeCheck(g.clause, True),
                        GuaranteeCheck(g.clause, None, "condition")))
            for g, fn, when in self.guarantees]
        allowed: dict[str, Fraction] = {}
        for step in self.program.steps:
            if step.kind is K.RETURN_LIMIT and not step.weights:  # a ceiling in money
                allowed[step.investor] = min(allowed.get(step.investor, step.limit), step.limit)
        self._investors = tuple(
            Investor(investor, tuple((d, -whole(a)) for i in investments for d, a in i.flows),
                     whole(sum(i.amount for i in investments)), min(i.date for i in investments),
                     allowed.get(investor),
                     whole(sum(i.committed if i.committed is not None else i.amount for i in investments))
                     if any(i.committed is not None for i in investments) else None,
                     next((i.klass for i in investments if i.klass), None))
            for investor, investments in self._invested().items())
        self._series = {name: x.series for name, x in contract.payments.items() if x.series} | {
            name: x.ty.series for name, x in contract.measures.items() if x.ty.series}
        self._not_applicable = tuple((name, cell.name) for name, x in contract.payments.items() if x.series
                                     for cell in contract.series[x.series].not_applicable)
        # no measure per period or per cohort, no parameters: the outcomes hold no dict the
        # contract reads, and a shallow copy of them is `_copied`'s
        self._flat = not any(x.ty.series for x in contract.measures.values()) and not contract.parameters
        # what every settlement of the contract says alike (`Settlement.made`)
        self._settled = Settlement.prototype({"contract": self.contract.title.text, "currency": self.contract.currency,
                                              "investors": self._investors, "series": self._series,
                                              "not_applicable": self._not_applicable})

    def evaluate(self, outcomes: Outcomes) -> Settlement:
        """Settle the contract for validated outcomes (see `outcomes.load_outcomes`)."""
        # what a reader of the settlement is given later (the trail, the definitions' values, the
        # guarantees' verdicts) is computed from these outcomes as they are now, not as a caller
        # may change its dict afterwards
        outcomes = dict(outcomes) if self._flat else _copied(outcomes)
        if self._assumptions:
            broken = self.broken_assumption(outcomes)
            if broken is not None:
                raise EvaluationError(broken)
        settle = self._generated
        if settle is _NOT_YET:
            settle = self._generate()
        if settle is None:
            return self._evaluate_staged(outcomes)
        # the lines made, and the registers the audit trail reads (generated.py); the context the
        # readers compute in is made when one first needs it, unless the function reads it itself
        later = _Later()
        later.ev, later.fn, later.outcomes, later.made = self, settle, outcomes, None
        later.ctx = Ctx(outcomes, {}, {}) if settle.reads_ctx else None
        lines, negative, later.kept = settle(later.ctx, outcomes, later)
        if type(lines) is list:  # (many `optional` lines: appended to a list)
            lines = tuple(lines)
        diagnostics = tuple(self._negative(line) for line in lines if line.exact < 0) if negative else ()
        # what only a reader of the settlement needs is made when first read (issue 21): the
        # definitions' values (`Settlement.values`), and the guarantees' verdicts where none can fail
        if self._checked_later:
            guarantees = _Verdicts()
            guarantees.later, guarantees.lines = later, lines
        else:
            guarantees = self._check_guarantees(later.context(), lines)
        return Settlement.made(self._settled, lines, later.values, guarantees, diagnostics)

    def _evaluate_staged(self, outcomes: Outcomes) -> Settlement:
        """`evaluate` by the staged program (`_staged`), where no function is generated."""
        ctx = Ctx(outcomes, {}, {})
        exists = self._exists[:]  # whether an `optional` line has a record: the records are written later
        r = self._staged(ctx, exists)
        written = Trails(self._trails, r)
        lines, diagnostics = [], ()
        for i, (fields, amount, maybe) in enumerate(self._lines):
            if maybe and not exists[i]:
                continue  # the floor did not lift the total (a waterfall's step paid nothing): no line
            line = Line.made(fields, r[amount], written, i)
            lines.append(line)
            if line.exact < 0:
                diagnostics += (self._negative(line),)
        lines = tuple(lines)
        guarantees = (lambda: self._check_guarantees(ctx, lines)) if self._checked_later else \
            self._check_guarantees(ctx, lines)
        return Settlement.made(self._settled, lines, lambda: self._values(ctx), guarantees, diagnostics)

    def _staged(self, ctx: Ctx, exists: list) -> list:
        """The settling operations run one by one (`_Stager`): the registers they leave."""
        cache = ctx.cache
        for key, fn in self._prelude:
            if key not in cache:
                try:
                    fn(ctx)
                except EvaluationError as err:
                    cache[key] = Failed(err)
        r = self._registers[:]
        r[0], r[1] = ctx, exists
        for op in self._ops:
            op(r)
        return r

    def _generate(self):
        """The settling operations as one Python function (generated.py), or None where the
        generator does not write one of them: made once, on the first evaluation."""
        from .generated import generate

        if not self.contract.source_sha256:  # a model made without a source (hashlib loads OpenSSL: only then)
            import hashlib
        digest = self.contract.source_sha256 or hashlib.sha256(repr(self.contract).encode()).hexdigest()
        self._generated = generate(self._ops, self._known, self._registers, self._c.folded, self._needed,
                                   self._lines, self._exists, Line, digest[:16])
        return self._generated

    def _trails_kept(self, later: _Later) -> list[tuple]:
        """`_trails` of what a generated function returned: the registers the trail reads, put back
        in their places in the register list."""
        r = self._registers[:]
        r[0] = later.context()
        for k, value in zip(later.fn.kept, later.kept):
            r[k] = value
        return self._trails(r)

    def __getstate__(self) -> dict:  # (cloudpickle, Dask) the generated function is made again after unpickling
        state = dict(self.__dict__)
        if state.get("_generated") is not None:
            state["_generated"] = "again"
        return state

    def __setstate__(self, state: dict) -> None:
        if state.get("_generated") == "again":
            state["_generated"] = _NOT_YET
        self.__dict__.update(state)

    def _trails(self, r: list) -> list[tuple]:
        """Every line's audit trail, written from the registers `r` an evaluation left (`_Stager`),
        on a copy of them (`r` is not changed)."""
        r = r[:]
        r[1] = trails = [list(known) for known in self._prefix]
        for op in self._write:
            op(r)
        return [tuple(trail) for trail in trails]

    def broken_assumption(self, outcomes: Outcomes) -> Diagnostic | None:
        """issue 17: E473 for the first assumption these outcomes break (in declaration order, each
        period in order), None when they satisfy every assumption."""
        for assumption, period, fn in self._assumptions:
            if not fn(Ctx(outcomes, {}, {})):
                return self._broken(assumption, period, outcomes)
        return None

    def _broken(self, assumption: m.Assumption, period: str | None, outcomes: Outcomes) -> Diagnostic:
        """E473: the outcomes break an assumption; the measures it reads, with their values."""
        from .report import format_value

        names: list[str] = []
        stack, seen = [assumption.expr], set()
        while stack:
            for node in m.walk(stack.pop()):
                if isinstance(node, m.Input) and node.name not in names:
                    names.append(node.name)
                elif isinstance(node, m.Var) and node.name in self.contract.definitions and node.name not in seen:
                    seen.add(node.name)
                    stack.append(self.contract.definitions[node.name].expr)
        values = []
        for name in names:
            value = outcomes.get(name)
            if isinstance(value, dict):
                value = value.get(period) if period else None
            if value is not None:
                values.append(f"`{name}` = {format_value(value, self.contract.input(name).ty)}")
        clause = assumption.clause
        named = "" if clause.name.startswith("assumption_") else f" `{clause.name}`"
        when = f" for period {period}" if period else ""
        return Diagnostic(
            "E473", f"the outcomes break the assumption{named} (line {clause.line}){when}: "
            + ", ".join(values), self.source, getattr(assumption.expr, "span", None) or self._decl_span(clause),
            label="does not hold for these outcomes",
            hint="the contract takes this as given, so it is not settled on data that breaks it: "
            "correct the outcome file, or amend the assumption if it was wrong")

    def _negative(self, line: Line) -> Diagnostic:
        currency = self.contract.currency
        return Diagnostic(
            "E601", f"payment `{line.payment}`"
            + (f" for period {line.period}" if line.period else "")
            + f" is negative ({format_amount(exact(line.exact), currency)}) for these outcomes",
            self.source, getattr(line.clause, "span", None) or self._decl_span(line.clause),
            hint="bound the formula, e.g. `max(…, 0 " + currency + ")`, "
            "or add a floor of 0 on the payment")

    def _decl_span(self, clause: m.ClauseRef):
        if self.source is None or not clause.line:
            return None
        start = self.source.line_start(clause.line)  # lines as the parser counts them (a lone CR too)
        return self.source.span(start, start + len(self.source.line_text(clause.line)))

    def _invested(self) -> dict[str, list[m.Investment]]:
        invested: dict[str, list[m.Investment]] = {}
        for inv in self.contract.investments.values():
            invested.setdefault(inv.investor, []).append(inv)
        return invested

    def _check_guarantees(self, ctx: Ctx, lines: tuple[Line, ...]) -> tuple[GuaranteeCheck, ...]:
        # what a guarantee reads: the settled amount of each payment, and the total
        by_payment: dict[str, int | Fraction] = {}
        total = 0
        for line in lines:
            if line.payment in self.contract.payments:
                by_payment[line.payment] = by_payment.get(line.payment, 0) + line.exact
            total += line.exact
        ctx.payments = {name: whole(v) for name, v in by_payment.items()}
        ctx.total = whole(total)
        # a guarantee has three possible verdicts (or one: monotone), made once (they are immutable)
        checks = []
        for fn, when, verdicts in self._verdicts:
            if fn is None:
                checks.append(verdicts)
            elif when is not None and not when(ctx):
                checks.append(verdicts[2])
            else:
                checks.append(verdicts[1] if fn(ctx) else verdicts[0])
        return tuple(checks)

    def _values(self, ctx: Ctx) -> dict[str, object]:
        """Every definition's value for the audit trail. A definition the payout did not need may
        be undefined for these outcomes (a division guarded by an `if`): it is shown, not fatal."""

        def value(fn):
            try:
                return _public(fn(ctx))
            except EvaluationError as err:
                return f"undefined ({err.diagnostic.message})"

        values: dict[str, object] = {}
        for name, fns in self._defs:
            if fns[0][0] is None:
                values[name] = value(fns[0][1])
            else:
                values[name] = {p: value(fn) for p, fn in fns}
        return values


def _divides(contract: m.Contract, *roots) -> bool:
    """Whether these expressions, or a definition they read, divide (the one operation whose
    evaluation can fail: a division by zero, E602)."""
    stack, seen = [r for r in roots if r is not None], set()
    while stack:
        for node in m.walk(stack.pop()):
            if isinstance(node, m.Op) and node.op == "/":
                return True
            if isinstance(node, m.Var) and node.name in contract.definitions and node.name not in seen:
                seen.add(node.name)
                stack.append(contract.definitions[node.name].expr)
    return False


def _public(value: object) -> object:
    return decimal(value) if type(value) is int or isinstance(value, Fraction) else value


def _go_on() -> None:
    """The cancellation point of a compile nobody can cancel."""


def compile_contract(contract: m.Contract, source: Source | None = None,
                     stop: Callable[[], None] | None = None) -> Evaluator:
    return Evaluator(contract, source, stop=stop)
