"""The word tables shipped as data (sibdsl/texts/*.json) load, and every language has every word."""

from __future__ import annotations

import re

import pytest

from sibdsl.lang import LANGUAGES, texts
from sibdsl.render import view, words

from .conftest import ROOT


@pytest.mark.parametrize("name", ["contract_words", "document", "reports", "clauses", "interim", "diff"])
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


@pytest.mark.parametrize("name", sorted(p.stem for p in (ROOT / "sibdsl" / "texts").glob("*.json")))
def test_a_table_is_parsed_once_equals_its_file_and_cannot_be_changed_by_a_caller(name):
    """texts() parsed its file on every call, and interim._words was a cached wrapper for the trail,
    which reads the words per line. It is cached itself now, and what it returns is read-only all
    the way down: a caller that changed its words would have changed every later caller's."""
    import json
    from collections.abc import Mapping

    def thawed(value):
        if isinstance(value, Mapping):
            return {k: thawed(v) for k, v in value.items()}
        return [thawed(v) for v in value] if isinstance(value, tuple) else value

    table = texts(name)
    assert texts(name) is table  # the file is read once
    assert thawed(table) == json.loads((ROOT / "sibdsl" / "texts" / f"{name}.json").read_text(encoding="utf-8"))
    key = next(iter(table))
    with pytest.raises(TypeError):
        table[key] = "changed"
    nested = next((v for v in table.values() if isinstance(v, Mapping)), None)
    if nested is not None:
        with pytest.raises(TypeError):
            nested[next(iter(nested))] = "changed"
    assert thawed(texts(name)) == thawed(table)


def test_a_list_in_a_table_is_a_tuple_nobody_can_append_to():
    columns = texts("interim")["sv"]["columns"]
    assert columns[0] == "betalning" and isinstance(columns, tuple)
    with pytest.raises(AttributeError):
        columns.append("mer")  # type: ignore[attr-defined]


def test_a_table_read_beside_the_module_is_the_one_importlib_resources_reads(monkeypatch):
    """lang.texts reads sibdsl/texts/NAME.json beside the module (importlib.resources costs a cold
    `sibc check` pathlib and zipfile), and through importlib.resources where no file is there (the
    package in a zip archive): the same table either way."""
    import builtins

    from sibdsl import lang

    beside = lang.texts.__wrapped__("reports")
    real_open = builtins.open
    tried = []

    def no_file(path, *args, **kwargs):
        if str(path).endswith("reports.json"):
            tried.append(path)
            raise FileNotFoundError(path)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", no_file)
    through = lang.texts.__wrapped__("reports")
    assert tried and through == beside and beside["en"]
