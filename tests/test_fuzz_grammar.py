"""Contracts generated from the grammar itself: every derivation ends in a checked contract or in
coded diagnostics, through parse, check, settlement, reports and the council document.

hypothesis.extra.lark.from_lark joins tokens without separators, which glues keywords and names
together (`paymentp=1SEK`), so derivations are generated here from lark's own rule table, with
whitespace between tokens and realistic samples for the regular-expression terminals.
"""

from __future__ import annotations

import lark
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lark.grammar import NonTerminal, Terminal
from lark.lexer import PatternStr

from sibdsl import Source, check_source
from sibdsl.parser import grammar_path

from .test_hostile import pipeline

_LARK = lark.Lark(grammar_path().read_text(encoding="utf-8"), parser="lalr", start="start",
                  keep_all_tokens=True)
RULES: dict[str, list[list]] = {}
for rule in _LARK.rules:
    RULES.setdefault(rule.origin.name, []).append(list(rule.expansion))
PATTERNS = {t.name: t.pattern for t in _LARK.terminals}
SAMPLES = {
    "NAME": ["a", "b", "savings", "loan", "city", "fund", "x1", "besparing_år", "SEK", "days", "year", "en"],
    "NUMBER": ["0", "1", "2", "12 000 000", "7.5", "60", "100"],
    "STRING": ['"T"', '"Taket"', '"""två\nrader"""', '"åäö <b>"'],
    "DATE": ["2020-01-01", "2019-06-30", "2024-12-31"],
    "HEADING": ["§ 1", "§ 4.2a"],
    "COMPARE": ["<=", ">=", "==", "≠", "<"],
    "COMMENT": ["# note"],
}


def _min_depth() -> dict[str, int]:
    depth: dict[str, int] = {}
    changed = True
    while changed:
        changed = False
        for name, expansions in RULES.items():
            for expansion in expansions:
                children = [depth.get(s.name) for s in expansion if isinstance(s, NonTerminal)]
                if None in children:
                    continue
                d = 1 + max(children, default=0)
                if d < depth.get(name, 10**9):
                    depth[name] = d
                    changed = True
    return depth


MIN_DEPTH = _min_depth()


@st.composite
def derivation(draw, symbol: str = "start", budget: int = 14) -> str:
    out: list[str] = []
    stack: list[tuple[object, int]] = [(NonTerminal(symbol), budget)]
    while stack:
        sym, left = stack.pop()
        if isinstance(sym, Terminal):
            pattern = PATTERNS[sym.name]
            out.append(pattern.value if isinstance(pattern, PatternStr) else draw(st.sampled_from(SAMPLES[sym.name])))
            continue
        expansions = RULES[sym.name]
        if left <= MIN_DEPTH[sym.name]:  # out of budget: the shallowest way to finish
            expansions = [min(expansions, key=lambda e: max([MIN_DEPTH[s.name] for s in e
                                                             if isinstance(s, NonTerminal)], default=0))]
        expansion = draw(st.sampled_from(expansions))
        stack.extend((s, left - 1) for s in reversed(expansion))
    separators = st.sampled_from([" ", " ", " ", "\n", "\n  "])
    return "".join(token + draw(separators) for token in out)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_generated_contracts_go_through_the_whole_pipeline(data):
    text = data.draw(derivation())
    pipeline(text, data.draw)


def test_most_generated_texts_parse():
    """The generator is only useful if its output gets past the parser: measure it."""
    parsed = 0
    total = 100

    @settings(max_examples=total, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    @given(derivation())
    def count(text):
        nonlocal parsed
        contract, diagnostics = check_source(Source("g.sib", text))
        parsed += contract is not None or all(d.code[:2] not in ("E1",) for d in diagnostics)

    count()
    print(f"{parsed} of {total} generated texts parse")
    assert parsed >= total * 0.9, f"only {parsed} of {total} generated texts parse"
