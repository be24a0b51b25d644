"""`sibc eval --explain` (sibdsl/explain_text.py) on waterfalls: a waterfall's steps and a return
limit's release are told as what really happens, in Swedish and English (issue 14)."""

from __future__ import annotations

from fractions import Fraction

import pytest

from sibdsl import compile_contract
from sibdsl.explain_text import explain_settlement

from .test_semantics import checked
from .test_waterfall import CONTRACT, SAME_INVESTOR

PASSES_ON = {
    "en": "the amount of SEK 0 is raised to SEK 1,000: what Lender's return limit held back passes on to the "
          "waterfall's later steps.",
    "sv": "beloppet 0 kr höjs till 1 000 kr: det som avkastningstaket för Lender höll inne går vidare till "
          "vattenfallets senare steg.",
}
KEPT = {
    "en": "the amount of SEK 0 is raised to SEK 1,000: what Lender's return limit held back stays with Fund, as "
          "no later step of the waterfall is left to pay it.",
    "sv": "beloppet 0 kr höjs till 1 000 kr: det som avkastningstaket för Lender höll inne stannar hos Fund, "
          "eftersom inget senare steg i vattenfallet finns kvar som kan betala det.",
}


def _explained(text: str, outcomes: dict, lang: str) -> list[str]:
    contract = checked(text)
    return explain_settlement(contract, compile_contract(contract).evaluate(outcomes), lang).splitlines()


@pytest.mark.parametrize("lang", ["en", "sv"])
def test_a_release_before_the_last_step_passes_on_and_after_it_stays_with_the_vehicle(lang):
    """One lender paid by steps 1 and 2: its limit cuts step 1, and what that holds back passes on to
    step 2; step 2 pays the same lender and is cut too, and with no step left, the vehicle keeps it.
    The text said 'passes on to the later steps' in both places."""
    lines = _explained(SAME_INVESTOR, {"fees": Fraction(459_000), "savings": Fraction(2_000)}, lang)
    released = [ln.removeprefix("  - r: ") for ln in lines
                if ln.startswith("  - r: ") and ("raised to" in ln or "höjs till" in ln)]
    assert released == [PASSES_ON[lang], KEPT[lang]]


@pytest.mark.parametrize("lang, words", [
    ("en", ["  - repayment.1: of SEK 3,000,000, the waterfall's step pays SEK 1,185,975 on; SEK 1,814,025 remains.",
            ("  - junior_cap: the amount of SEK 0 is raised to SEK 1,091,282: what class junior's return limit held "
            "back stays with Fund, as no later step of the waterfall is left to pay it."),
            "  - repayment.1: the waterfall's step pays SEK 1,185,975."]),
    ("sv", ["  - repayment.1: av 3 000 000 kr betalar vattenfallets steg 1 185 975 kr vidare; 1 814 025 kr återstår.",
            ("  - junior_cap: beloppet 0 kr höjs till 1 091 282 kr: det som avkastningstaket för klassen junior höll "
            "inne stannar hos Fund, eftersom inget senare steg i vattenfallet finns kvar som kan betala det."),
            "  - repayment.1: vattenfallets steg betalar 1 185 975 kr."]),
])
def test_a_limit_on_the_last_steps_class_keeps_its_cut_with_the_vehicle(lang, words):
    """A limit on the class the last step pays: nothing is left to pass its cut on to; the text says
    the vehicle keeps it (and names the class as the document does), and no release says 'passes on'."""
    text = CONTRACT + "return limit junior_cap: 20 % in total for class junior\n"
    lines = _explained(text, {"savings": Fraction(3_000_000)}, lang)
    for line in words:
        assert line in lines, line
    assert not any("passes on" in ln or "går vidare" in ln for ln in lines)
