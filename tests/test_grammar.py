"""The grammar: conflict-free LALR, loaded from the checkout and from an installed wheel."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import lark
import pytest

from sibdsl import parser

from .conftest import ROOT


def test_grammar_is_lalr_without_conflicts():
    # strict mode raises on any shift/reduce conflict and on colliding terminals
    lark.Lark(parser.grammar_text(), parser="lalr", propagate_positions=True, strict=True)


def test_checkout_loads_grammar_from_grammar_dir():
    assert parser.grammar_path().resolve() == (ROOT / "grammar" / "sib.lark").resolve()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    from hatchling.builders.wheel import WheelBuilder

    out = tmp_path_factory.mktemp("wheel")
    builder = WheelBuilder(str(ROOT))
    return next(iter(builder.build(directory=str(out), versions=["standard"])))


def test_wheel_ships_the_same_grammar_and_diagnostic_pages(wheel):
    with zipfile.ZipFile(wheel) as zf:
        shipped = zf.read("sibdsl/grammar/sib.lark")
        assert shipped == (ROOT / "grammar" / "sib.lark").read_bytes()
        pages = {n for n in zf.namelist() if n.startswith("sibdsl/docs/diagnostics/")}
    expected = {f"sibdsl/docs/diagnostics/{p.name}" for p in (ROOT / "docs" / "diagnostics").glob("*.md")}
    assert expected and expected <= pages


def test_wheel_ships_the_document_templates(wheel):
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        for template in (ROOT / "sibdsl" / "templates").glob("*.j2"):
            assert f"sibdsl/templates/{template.name}" in names
            assert zf.read(f"sibdsl/templates/{template.name}") == template.read_bytes()


def test_installed_wheel_parses_with_its_own_grammar(wheel, tmp_path):
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(tmp_path / "site")
    code = (
        "import sys, sibdsl, sibdsl.parser as p;"
        "print(p.grammar_path());"
        "sibdsl.parse(sibdsl.Source('x.sib', 'contract \"T\" currency SEK'));"
        "print(p._prebuilt() is not None, 'lark' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], env={"PYTHONPATH": str(tmp_path / "site")},
                         capture_output=True, text=True, cwd=tmp_path, check=True).stdout
    assert str(tmp_path / "site") in out
    # the prebuilt parser's tables are shipped, made from the grammar shipped beside them: no lark
    assert out.splitlines()[-1] == "True False"
    with zipfile.ZipFile(wheel) as zf:
        assert zf.read("sibdsl/parser_tables.py") == (ROOT / "sibdsl" / "parser_tables.py").read_bytes()


def test_the_builder_passes_on_the_tokens_lark_would_keep():
    """parser._reduce keeps a rule's tokens of the terminals the grammar defines by name and drops
    its keywords and punctuation, except in `!` rules: exactly lark's own filter, for every rule."""
    grammar = parser.grammar_text()
    named = set(parser._NAMED_TERMINAL.findall(grammar))
    assert {"NAME", "NUMBER", "STRING", "DATE", "HEADING", "COMPARE", "PERCENT"} <= named
    word_rules = set()
    for rule in lark.Lark(grammar, parser="lalr").rules:
        for symbol in rule.expansion:
            if not symbol.is_term:
                continue
            if rule.options.keep_all_tokens:
                word_rules.add(rule.origin.name)
            else:
                assert symbol.filter_out == (symbol.name not in named), (rule, symbol)
    assert word_rules == set(parser._WORD_RULES)


def test_the_parsers_share_one_grammar_and_its_terminals():
    """The builders' callbacks never see a lark rule they were not written for."""
    rules = {rule.alias or rule.origin.name for rule in lark.Lark(parser.grammar_text(), parser="lalr").rules}
    methods = {name for name in dir(parser._Syntax) if not name.startswith("_")}
    assert methods <= rules, methods - rules
    assert "atom" in rules


def test_wheel_ships_the_word_tables(wheel, tmp_path):
    """The translations are data (sibdsl/texts/*.json): shipped in the wheel, byte for byte, and
    loaded from the installed package."""
    tables = sorted((ROOT / "sibdsl" / "texts").glob("*.json"))
    assert {t.stem for t in tables} >= {"contract_words", "document", "reports", "coverage_sv", "clauses"}
    with zipfile.ZipFile(wheel) as zf:
        for table in tables:
            assert zf.read(f"sibdsl/texts/{table.name}") == table.read_bytes()
        zf.extractall(tmp_path / "site")
    code = "import sibdsl.lang as l; print(l.word('sv', 'pass'), l.texts('document')['en']['doc'])"
    out = subprocess.run([sys.executable, "-c", code], env={"PYTHONPATH": str(tmp_path / "site")},
                         capture_output=True, text=True, cwd=tmp_path, check=True).stdout
    assert out == "OK Social outcome contract\n"
