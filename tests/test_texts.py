"""The word tables shipped as data (sibdsl/texts/*.json) load, and every language has every word."""

from __future__ import annotations

import re

import pytest

from sibdsl.lang import LANGUAGES, texts
from sibdsl.render import view, words

from .conftest import ROOT


@pytest.mark.parametrize("name", ["contract_words", "document", "reports", "clauses", "interim"])
def test_every_language_has_every_word_with_the_same_blanks(name):
    table = texts(name)
    assert set(table) == set(LANGUAGES)
    sv, en = table["sv"], table["en"]
    assert list(sv) == list(en)
    for key, phrase in en.items():
        if isinstance(phrase, str):
            assert sorted(re.findall(r"\{(\w+)\}", sv[key])) == sorted(re.findall(r"\{(\w+)\}", phrase)), key
        else:
            assert type(sv[key]) is type(phrase) and len(sv[key]) == len(phrase), key


def test_the_modules_read_the_tables():
    assert words.W["sv"]["quote"] == ("”", "”") and words.W["en"]["quote"] == ("“", "”")
    assert words.W["sv"]["kinds"]["money"] == "belopp i {cur}"
    assert view.T["sv"]["doc"] == "Avtal om sociala utfall"
    assert texts("coverage_sv")["branches"]["the cap is not reached"] == "taket nås inte"


def test_no_text_file_says_a_key_twice():
    """json.load keeps the last of two equal keys: a merge that left a second `card_basis` in
    interim.json silently emptied the Swedish words of the first. Every key once per object."""
    import json

    def once(pairs):
        keys = [k for k, _ in pairs]
        assert len(keys) == len(set(keys)), sorted({k for k in keys if keys.count(k) > 1})
        return dict(pairs)

    files = sorted((ROOT / "sibdsl" / "texts").glob("*.json"))
    assert files
    for path in files:
        json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=once)
