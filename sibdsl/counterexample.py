"""Counterexamples a lawyer can read: round numbers, only the outcomes that matter, and a sentence
saying which promise broke and by how much, in Swedish and English.

In: the solver holding a property's negation (satisfiable) and the symbolic inputs; later the
concrete outcomes and settlements the evaluator produced from them. Out: a model whose inputs are
as round as the solver can make them, and words. Also the plain words for a verdict that could not
be decided (`unknown`), without solver jargon.

Readability is a search under z3's deterministic resource limit (never wall time), so the same
contract gives the same counterexample on every machine:
1. every input that does not matter is set to its neutral value (0, the lower bound, `no`) when
   the property still breaks with it;
2. every other number is made as round as possible: a multiple of 1 000 000, 100 000, 10 000,
   1 000, 100, 10, 1 (money in whole kronor first; shares in whole per cent; counts whole), the
   first that still breaks the property.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

import attrs

from . import model as m
from .lang import money  # the one definition of an amount in a verdict (verify_checks reads it here)
from .units import BOOL, COUNT, DATE, DAYS, MONEY, SHARE
from .lazyz3 import LazyZ3

z3 = LazyZ3(globals())  # imported when a verdict needs the solver (lazyz3.py)

# rlimit units per attempt: about 0.05 s of z3 on the reference machine (verify.RLIMIT_PER_SECOND)
ATTEMPT_RLIMIT = 150_000
_SCALES = (1_000_000, 100_000, 10_000, 1_000, 100, 10, 1)
_SHARE_SCALES = (Fraction(1, 10), Fraction(1, 20), Fraction(1, 100), Fraction(1, 1000), Fraction(1, 10000))


def _real(value: Fraction, ctx=None) -> z3.ArithRef:
    return z3.RealVal(f"{value.numerator}/{value.denominator}", ctx)


def _neutral(measure: m.Measure):
    kind = measure.ty.kind
    if kind == BOOL:
        return None  # a yes/no keeps the value the solver chose: both are as readable
    if kind == DATE:
        return None
    if measure.lower is not None:
        return measure.lower
    return Fraction(0)


def _scales(measure: m.Measure) -> tuple[Fraction, ...]:
    kind = measure.ty.kind
    if kind == SHARE:
        return _SHARE_SCALES
    if kind in (COUNT, DAYS):
        return tuple(Fraction(s) for s in _SCALES)
    if kind == MONEY:
        return (*(Fraction(s) for s in _SCALES), Fraction(1, 100))
    return (*(Fraction(s) for s in _SCALES), Fraction(1, 10), Fraction(1, 100))


def readable_model(solver: z3.Solver, inputs: Sequence[tuple[m.Measure, z3.ExprRef]],
                   rlimit: int = ATTEMPT_RLIMIT, first_rlimit: int = 0) -> PinnedModel | None:
    """A model of `solver` (already satisfiable, the property's negation asserted) with its inputs
    neutral where they do not matter and round where they do; None if the search did not succeed
    (the caller keeps the solver's first model). The search runs on a copy of the assertions in a
    z3 context of its own, so the counterexample depends on the contract only, not on what the
    process asked z3 before; the result is given as the inputs' values in `solver`'s context."""
    ctx = z3.Context()
    copy = z3.Solver(ctx=ctx)
    copy.set("rlimit", first_rlimit or rlimit)
    copy.add(*(a.translate(ctx) for a in solver.assertions()))
    if copy.check() != z3.sat:
        return None
    start = copy.model()
    copy.set("rlimit", rlimit)
    seen: set = set()
    todo, terms = [], []
    for measure, term in inputs:
        if term.get_id() in seen:
            continue
        seen.add(term.get_id())
        terms.append((term, term.translate(ctx)))
        if not z3.is_bool(term) and measure.ty.kind != DATE:
            todo.append((measure, terms[-1][1]))
    found = start
    fixed: set = set()
    for measure, term in todo:  # 1. what does not matter is neutral
        neutral = _neutral(measure)
        if neutral is None:
            continue
        copy.push()
        copy.add(term == _real(neutral, ctx))
        if copy.check() == z3.sat:
            found = copy.model()
            fixed.add(term.get_id())
            copy.pop()
            copy.add(term == _real(neutral, ctx))
        else:
            copy.pop()
    for measure, term in todo:  # 2. the rest as round as it can be, near the value found so far
        if term.get_id() in fixed:
            continue
        for candidate in _round_near(_value_of(found, term), _scales(measure)):
            copy.push()
            copy.add(term == _real(candidate, ctx))
            if copy.check() == z3.sat:
                found = copy.model()
                copy.pop()
                copy.add(term == _real(candidate, ctx))  # keep it: the next input is made round around it
                break
            copy.pop()
    # the same outcomes as values of the caller's context, read from this search's model: no second
    # solve in the caller's context, whose answer within an rlimit could depend on the process's history
    pinned: dict[int, z3.ExprRef] = {}
    for term, there in terms:
        value = found.eval(there, model_completion=True)
        if z3.is_true(value) or z3.is_false(value):
            pinned[term.get_id()] = z3.BoolVal(z3.is_true(value), term.ctx)
        else:
            number = _value_of(found, there)
            if number is None:
                return None
            pinned[term.get_id()] = _real(number, term.ctx)
    return PinnedModel(pinned)


@attrs.frozen
class PinnedModel:
    """A counterexample's input values, answering `eval(term)` as a z3 model does for those inputs."""

    values: dict

    def eval(self, term, model_completion: bool = True):
        return self.values[term.get_id()]


def _value_of(model: z3.ModelRef, term) -> Fraction | None:
    value = model.eval(term, model_completion=True)
    if z3.is_int_value(value):
        return Fraction(value.as_long())
    if z3.is_rational_value(value):
        return Fraction(value.numerator_as_long(), value.denominator_as_long())
    return None


def _round_near(value: Fraction | None, scales) -> list[Fraction]:
    """Round values near `value`, roundest first: the multiples of each scale just above and just
    below it (above first: a violation that grows with a measure stays one a little further on)."""
    if value is None:
        return []
    result: list[Fraction] = []
    for scale in scales:
        units = value / scale
        for n in (-((-units.numerator) // units.denominator), units.numerator // units.denominator):
            candidate = n * scale
            if candidate not in result:
                result.append(candidate)
    return result


def that_matter(contract: m.Contract, files: Sequence[dict]) -> list[dict]:
    """The outcomes of each file that are not at their neutral value (or that differ between the
    two files of a monotonicity counterexample): what a reader needs to see."""
    result = []
    for data in files:
        shown = {}
        for name, value in data.items():
            measure = contract.measures.get(name) or contract.parameters.get(name)
            differs = len(files) == 2 and any(other.get(name) != value for other in files)
            if measure is None or differs or not _is_neutral(measure, value):
                shown[name] = value
        result.append(shown)
    return result


def _is_neutral(measure: m.Measure, value) -> bool:
    if isinstance(value, dict):
        return all(_is_neutral(measure, v) for v in value.values())
    if isinstance(value, bool):
        return False
    neutral = _neutral(measure)
    if neutral is None:
        return False
    text = str(value).removesuffix(" %").split(" ")[0]
    try:
        number = Fraction(text)
    except ValueError:
        return False
    if measure.ty.kind == SHARE:
        number /= 100
    return number == neutral


# ---------------------------------------------------------------- words
def unknown_words(cause: str, timeout: float) -> dict[str, str]:
    """Plain words for a property sibc could not decide, and what the user can do."""
    limit = f"{timeout:g}"
    if cause == "limit":
        return {
            "en": f"sibc could not decide this within its work limit (--timeout {limit}, the same on every "
                  "machine): it found neither a proof nor outcomes that break the promise. Give the measures "
                  "realistic ranges with `between`, report a product of two measures as one measure, or allow "
                  f"more work with `sibc verify --timeout {max(60, int(timeout) * 6)}`.",
            "sv": f"sibc kunde inte avgöra detta inom sin arbetsgräns (--timeout {limit}, densamma på varje "
                  "dator): varken ett bevis eller utfall som bryter löftet hittades. Ge måtten rimliga intervall "
                  "med `between`, rapportera en produkt av två mått som ett mått, eller tillåt mer arbete med "
                  f"`sibc verify --timeout {max(60, int(timeout) * 6)}`.",
        }
    if cause == "decimals":
        return {
            "en": "the promise breaks only for outcomes that cannot be written as decimal numbers (such as "
                  "exactly one third); no outcome file can hold them. State the promise for measurable values, "
                  "for example with a bound.",
            "sv": "löftet bryts bara för utfall som inte kan skrivas som decimaltal (till exempel exakt en "
                  "tredjedel); ingen utfallsfil kan innehålla dem. Formulera löftet för mätbara värden, till "
                  "exempel med en gräns.",
        }
    if cause == "encoding":
        return {
            "en": "sibc cannot yet translate a construct of this promise into a proof. The promise is not known "
                  "to hold: check it with scenarios (`sibc test`) and report the contract to sibc's maintainers.",
            "sv": "sibc kan ännu inte översätta en konstruktion i detta löfte till ett bevis. Löftet är inte känt "
                  "att gälla: pröva det med scenarier (`sibc test`) och rapportera avtalet till sibc:s förvaltare.",
        }
    return {  # the evaluator did not confirm the solver's outcomes
        "en": "sibc found outcomes that seemed to break the promise, but the ordinary evaluation of those "
              "outcomes keeps it, so nothing is decided. Please report the contract to sibc's maintainers.",
        "sv": "sibc hittade utfall som såg ut att bryta löftet, men den vanliga beräkningen av dessa utfall "
              "håller det, så inget är avgjort. Rapportera gärna avtalet till sibc:s förvaltare.",
    }


def both(en: str, sv: str) -> dict[str, str]:
    return {"en": en, "sv": sv}


def by_how_much(actual, limit, currency: str, above: bool) -> dict[str, str]:
    """`12 500 000 SEK, 500 000 SEK above the cap of 12 000 000 SEK` style phrases."""
    gap = abs(Fraction(actual) - Fraction(limit))
    return both(f"{money(gap, currency, 'en')} {'above' if above else 'below'}",
                f"{money(gap, currency, 'sv')} {'över' if above else 'under'}")


__all__ = ["readable_model", "that_matter", "unknown_words", "money", "both", "by_how_much"]
