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
    "DAY_COUNT": ["act/365", "act/360", "30e/360"],
    "CAPITAL": ["drawn", "committed"],
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


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_both_lexers_build_the_same_tree_with_spans_at_their_offsets(data):
    """sibdsl/parser.py parses with the basic lexer and falls back to the contextual one: where the
    basic lexer's parse succeeds, both build the same tree, spans included; every span's line and
    column are those of its offsets."""
    import attrs

    from sibdsl.limits import MAX_DEPTH
    from sibdsl.parser import _builder, _problems
    from sibdsl.source import Span

    from .test_parser_pinned import _fields

    text = data.draw(derivation())
    parts = []
    for lexer in ("basic", "contextual"):
        _problems.found = []
        try:
            parts.append(_builder(lexer).parse(text))
        except lark.exceptions.UnexpectedInput:
            parts.append(None)
    fast, slow = parts
    assert slow is not None or fast is None
    if fast is None or fast.depth > MAX_DEPTH:
        return
    assert _fields(fast.value) == _fields(slow.value)
    source = Source("g.sib", text)
    stack = [fast.value]
    while stack:
        value = stack.pop()
        if isinstance(value, Span):
            assert value == source.span(*source.offsets(value))
        elif attrs.has(type(value)):
            stack.extend(getattr(value, f.name) for f in attrs.fields(type(value)))
        elif isinstance(value, tuple):
            stack.extend(value)
