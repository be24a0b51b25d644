"""Highlighting: the Pygments lexer and the TextMate grammar know the grammar's keywords and
tokenise every contract and documented example without an error token."""

from __future__ import annotations

import json
import re

import lark
import pytest
from lark.lexer import PatternStr
from pygments.lexers import get_lexer_by_name
from pygments.token import Error

from sibdsl.parser import grammar_path
from sibdsl.pygments_lexer import CONSTANTS, DECLARATIONS, FUNCTIONS, OPERATORS, OPTIONS

from .conftest import ROOT
from .test_docs_examples import SIB_BLOCKS

GRAMMAR_WORDS = {t.pattern.value for t in lark.Lark(grammar_path().read_text(encoding="utf-8"), parser="lalr").terminals
                 if isinstance(t.pattern, PatternStr) and re.fullmatch(r"[a-z]+", t.pattern.value)}
LEXER_WORDS = set(DECLARATIONS + OPTIONS + OPERATORS + FUNCTIONS + CONSTANTS)
TEXTS = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "contracts").rglob("*.sib"))] + \
    [b.body for b in SIB_BLOCKS]


def test_the_lexers_know_every_keyword_of_the_grammar():
    # min, max, abs and sum are names to the grammar (functions), keywords to the highlighter
    assert GRAMMAR_WORDS <= LEXER_WORDS
    assert LEXER_WORDS - GRAMMAR_WORDS == {"min", "max", "abs", "sum", "previous", "to_date", "cumulative",
                                           "period_index", "period_start", "period_end", "contract_year"}


def test_pygments_finds_the_lexer_by_name_and_by_entry_point():
    assert type(get_lexer_by_name("sib")).__name__ == "SibLexer"


@pytest.mark.parametrize("index", range(len(TEXTS)))
def test_no_error_tokens(index):
    lexer = get_lexer_by_name("sib")
    tokens = list(lexer.get_tokens(TEXTS[index]))
    assert not [value for kind, value in tokens if kind in Error]
    assert "".join(value for _, value in tokens).rstrip("\n") == TEXTS[index].rstrip("\n")


def test_textmate_grammar_and_vscode_manifest():
    grammar = json.loads((ROOT / "editors" / "vscode" / "syntaxes" / "sib.tmLanguage.json").read_text())
    assert grammar["scopeName"] == "source.sib"
    words = set()
    for pattern in grammar["patterns"]:
        if "match" in pattern:
            re.compile(pattern["match"].replace("\\b", "\\b"))  # every pattern is a valid regular expression
            found = re.fullmatch(r"\\b\(\?:([a-z_|]+)\)\\b", pattern["match"])
            if found:
                words |= set(found.group(1).split("|"))
    assert words == LEXER_WORDS
    manifest = json.loads((ROOT / "editors" / "vscode" / "package.json").read_text())
    assert manifest["contributes"]["grammars"][0]["path"] == "./syntaxes/sib.tmLanguage.json"
    assert manifest["contributes"]["languages"][0]["extensions"] == [".sib"]


def test_the_studio_knows_every_keyword_of_the_grammar():
    # the studio's editor colours words with its own lists (sibdsl/serve/static/studio.js): a word
    # the grammar gained and the studio lacked was shown as a plain name (`accrued`, issue 14)
    script = (ROOT / "sibdsl" / "serve" / "static" / "studio.js").read_text(encoding="utf-8")
    studio = set()
    for name in ("KEYWORDS", "FUNCTIONS", "LITERALS"):
        found = re.search(rf"const {name} = new Set\(\(?(.*?)\)?\.split\(\" \"\)\);", script, re.S)
        assert found, name
        studio |= set("".join(re.findall(r'"([^"]*)"', found.group(1))).split())
    assert GRAMMAR_WORDS - studio == set()
    assert LEXER_WORDS - studio == set()
