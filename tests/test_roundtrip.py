"""The grammar round-trip: printing a syntax tree and parsing it again gives the same tree."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sibdsl import SibError, Source, parse
from sibdsl.unparse import unparse

from .conftest import ROOT

SOURCES = sorted((ROOT / "contracts").rglob("*.sib")) + sorted((ROOT / "tests" / "corpus" / "valid").glob("*.sib"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_contract_round_trips(path):
    tree = parse(Source(str(path), path.read_text(encoding="utf-8")))
    printed = unparse(tree)
    assert parse(Source("printed.sib", printed)) == tree
    assert unparse(parse(Source("printed.sib", printed))) == printed  # printing is idempotent


NAMES = st.sampled_from(["a", "b", "savings", "loan", "x_1", "år"])
LEAVES = st.one_of(
    NAMES,
    st.integers(0, 10**9).map(str),
    st.sampled_from(["40 %", "12 000 000 SEK", "0.5", "90 days", "2016-08-01", "true", "false"]),
)


def _compound(children):
    return st.one_of(
        st.tuples(children, st.sampled_from(["+", "-", "*", "/", "of", "<", "<=", "==", "and", "or"]), children)
        .map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
        children.map(lambda c: f"({c})"),
        children.map(lambda c: f"-{c}"),
        children.map(lambda c: f"not {c}"),
        st.tuples(children, children).map(lambda t: f"min({t[0]}, {t[1]})"),
        st.tuples(children, children, children).map(lambda t: f"if {t[0]} then {t[1]} else {t[2]}"),
    )


EXPRESSIONS = st.recursive(LEAVES, _compound, max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(EXPRESSIONS)
def test_generated_expressions_round_trip(text):
    source = f"define x = {text}\n"
    try:
        tree = parse(Source("gen.sib", source))
    except SibError:  # not every generated string is a valid expression (`a < b < c`)
        return
    assert parse(Source("printed.sib", unparse(tree))) == tree


def test_the_all_constructs_corpus_checks_cleanly():
    from sibdsl import check_source, read_source

    for path in (ROOT / "tests" / "corpus" / "valid").glob("*.sib"):
        contract, diagnostics = check_source(read_source(path))
        assert contract is not None and diagnostics == [], [d.message for d in diagnostics]
