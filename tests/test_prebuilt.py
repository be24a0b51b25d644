"""The prebuilt parser (issue 21; sibdsl/prebuilt.py, docs/performance.md): lark's LALR tables and
basic lexer for grammar/sib.lark shipped as data (sibdsl/parser_tables.py) and run without lark.

The shipped file must be what lark makes of the grammar today; the prebuilt parser must call the
callbacks exactly as lark's contextual-lexer builder does (same trees, spans, problems and
failures) on every pinned text, every shipped contract, every keyword of the grammar used as a
name (where a name can stand and where it cannot) and on generated and mangled texts; a file made from another grammar is not
used, and then lark's parser is built and cached as before.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import lark
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sibdsl import Source, parser, prebuilt
from sibdsl.diagnostics import SibError
from sibdsl.limits import MAX_DEPTH
from sibdsl.source import lone_cr_to_lf

from .conftest import ROOT
from .test_fuzz_grammar import derivation
from .test_parser_pinned import TEXTS, _fields, dump

NORRKOPING = (ROOT / "contracts" / "norrkoping.sib").read_text(encoding="utf-8")
REGENERATE = "python -m sibdsl.prebuilt"


def test_the_shipped_tables_are_what_lark_makes_of_the_grammar_today():
    """Fails when grammar/sib.lark or lark changed and the file was not made again."""
    made = prebuilt.generate(parser.grammar_text())
    with open(prebuilt.TABLES_FILE, encoding="utf-8") as handle:
        shipped = handle.read()
    from sibdsl.parser_tables import TABLES

    assert TABLES["lark"] == lark.__version__, f"made with another lark: run `{REGENERATE}`"
    assert TABLES["grammar"] == parser.grammar_text(), f"made from another grammar: run `{REGENERATE}`"
    assert shipped == prebuilt.dumps(made), f"not what lark makes of the grammar: run `{REGENERATE}`"


def test_one_grammar_gives_one_file_whatever_the_hash_seed():
    """lark numbers LALR states in an order that depends on the hash seed; `generate` numbers them
    again, so the shipped file does not change from one run of the command to the next."""
    code = ("import hashlib; from sibdsl import prebuilt, parser; "
            "print(hashlib.sha256(prebuilt.dumps(prebuilt.generate(parser.grammar_text())).encode()).hexdigest())")
    digests = {subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": seed}).stdout
               for seed in ("1", "2")}
    assert len(digests) == 1 and len(next(iter(digests))) == 65


def _both(text: str):
    """(what lark's contextual-lexer builder gives, what the prebuilt parser gives) for `text`: the
    tree's span, depth and every field, and the problems its tokens raised; or where it failed."""
    results = []
    for run in (parser._builder("contextual").parse, parser._prebuilt().parse):
        parser._problems.found = []
        try:
            whole = run(text)
        except (lark.exceptions.UnexpectedInput, prebuilt.Unexpected) as error:
            results.append(("fails at", error.pos_in_stream if hasattr(error, "pos_in_stream") else error.pos))
            continue
        except parser._TooHigh as error:
            results.append(("too high", error.span))
            continue
        problems = [(code, str(token), token.start_pos, token.line, token.column) for code, token in
                    parser._problems.found]
        fields = _fields(whole.value) if whole.depth <= MAX_DEPTH else "too deep"
        results.append((whole.span, whole.depth, whole.height, fields, problems))
    return results


def test_the_prebuilt_parser_is_lark_on_every_pinned_text():
    assert parser._prebuilt() is not None  # the shipped file is the grammar's: it is used
    failed = 0
    for name, text in TEXTS.items():
        text = lone_cr_to_lf(text)  # as parser.parse hands it on
        lark_result, prebuilt_result = _both(text)
        assert prebuilt_result == lark_result, name
        failed += lark_result[0] == "fails at"
    assert len(TEXTS) > 100 and 5 < failed < len(TEXTS) - 50  # both kinds of text were compared


def test_the_prebuilt_parser_is_lark_on_every_shipped_contract_and_needs_no_lark():
    """Seven of them use keywords as names (`count`, `version`, `year`, `repayment`, …), which the
    basic lexer read as keywords: they went to lark's error parse and contextual builder."""
    paths = sorted((ROOT / "contracts").rglob("*.sib"))
    assert len(paths) >= 13
    for path in paths:
        text = lone_cr_to_lf(path.read_text(encoding="utf-8"))
        lark_result, prebuilt_result = _both(text)
        assert lark_result[0] != "fails at" and prebuilt_result == lark_result, path.name
        parser._basic_parse(text)  # the prebuilt parser's own parse: no _NotInGrammar, so no lark


def _keywords() -> list[str]:
    from sibdsl.parser_tables import TABLES

    words = sorted(word for word in TABLES["lexer"]["literals"].values() if word.isidentifier())
    assert {"version", "count", "year", "measure", "payment", "define", "when", "per"} <= set(words)
    return words


# a keyword where a name can stand (a measure's, a definition's, a payment's name, a reference)
# and where it cannot (a keyword in a keyword's place, a name where a number must be)
_AS_NAME = [
    'measure {w} "x": number\n',
    'measure {w}: count\n  per year\n',
    'define {w} = 1 + {w}\n',
    'define d = {w} * 2\n',
    'payment {w} "p" = 1 SEK\n',
    'measure m: {w}\n',
    'define d = 1 {w} 2\n',
    '{w} d = 1\n',
    'define {w}{w} = {w}_x\n',
]


def test_every_keyword_used_as_a_name_is_read_as_lark_reads_it():
    texts = [NORRKOPING + "\n" + form.format(w=word) for word in _keywords() for form in _AS_NAME]
    results = [_both(lone_cr_to_lf(text)) for text in texts]
    for text, (lark_result, prebuilt_result) in zip(texts, results):
        assert prebuilt_result == lark_result, text[len(NORRKOPING):]
    parsed = sum(lark_result[0] != "fails at" for lark_result, _ in results)
    assert 100 < parsed < len(texts) - 100  # both parses and failures were compared


def test_a_real_syntax_error_still_gets_lark_diagnostics():
    text = NORRKOPING + "\nmeasure version: number number\n"
    with pytest.raises(SibError) as raised:
        parser.parse(Source("v.sib", text))
    expected = parser._syntax_errors(Source("v.sib", text), lone_cr_to_lf(text))  # lark's error parse
    assert expected and [(d.code, d.message) for d in raised.value.diagnostics] == \
        [(d.code, d.message) for d in expected]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(derivation())
def test_the_prebuilt_parser_is_lark_on_generated_texts(text):
    lark_result, prebuilt_result = _both(text)
    assert prebuilt_result == lark_result


_PIECES = ["\n", " ", "\u00a0", '"', '"""', "#", "§ 2", "2016-02-30", "1 000", "12 000 000.5", "é", "(", ")",
           "when", "whenever", "savings", "of", "%", "≤", "- ", "define", "drawn", "committed", "act/365", "\t",
           "version", "count", "year", "repayment", "measure", "per", "table", "coupon"]  # keywords as names


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.floats(0, 1), st.integers(0, 12), st.sampled_from(_PIECES)), max_size=4))
def test_the_prebuilt_parser_is_lark_on_mangled_contracts(edits):
    """Norrköping with pieces cut out and tokens pasted in: the lexer's corners (keywords inside
    names, line breaks inside texts, spaces in numbers) and failures at every kind of place."""
    text = NORRKOPING
    for where, cut, piece in edits:
        at = int(where * len(text))
        text = text[:at] + piece + text[at + cut:]
    lark_result, prebuilt_result = _both(text)
    assert prebuilt_result == lark_result


def test_tables_of_another_grammar_are_not_used_and_lark_parses_as_before(tmp_path, monkeypatch):
    """An edited grammar not made again (or a module of another layout, or none): the prebuilt
    parser is not used, lark's is built and kept in the cache directory as before the prebuilt
    parser, and the trees are the same."""
    from sibdsl.parser_tables import TABLES

    monkeypatch.setenv("SIBDSL_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.syspath_prepend(str(tmp_path))
    expected = dump(NORRKOPING)
    cases = [("other_grammar", {**TABLES, "grammar": TABLES["grammar"] + "\n// edited\n"}),
             ("other_layout", {**TABLES, "format": prebuilt.FORMAT + 1}),
             ("no_tables", None), ("missing", "")]
    for name, tables in cases:
        if tables != "":
            text = "TABLES = None\n" if tables is None else prebuilt.dumps(tables)
            (tmp_path / f"tables_{name}.py").write_text(text, encoding="utf-8")
        monkeypatch.setattr(prebuilt, "TABLES_MODULE", f"tables_{name}")
        parser._prebuilt.cache_clear()
        parser._builder.cache_clear()
        try:
            assert parser._prebuilt() is None, name
            assert dump(NORRKOPING) == expected, name
            assert [f.split("-")[:2] for f in os.listdir(tmp_path / "cache" / "lark")] == [["builder", "basic"]]
        finally:
            parser._prebuilt.cache_clear()
            parser._builder.cache_clear()
    monkeypatch.undo()
    assert parser._prebuilt() is not None


def test_a_valid_contract_is_parsed_without_lark_and_makes_no_tables(tmp_path):
    """`sibc check` of a contract without errors, fully cold: lark is not imported and no table is
    made or written; a syntax error still gets lark's diagnostics."""
    env = {**os.environ, "SIBDSL_CACHE_DIR": str(tmp_path / "cache"), "PYTHONPATH": str(ROOT)}
    code = ("import sys; from sibdsl import Source, check_source; "
            "model, diagnostics = check_source(Source('n.sib', sys.stdin.read())); "
            "print(model is not None, [d.code for d in diagnostics], 'lark' in sys.modules)")
    ok = subprocess.run([sys.executable, "-c", code], input=NORRKOPING, env=env, cwd=ROOT, capture_output=True,
                        text=True, check=True).stdout
    assert ok.split() == ["True", "[]", "False"]
    assert not (tmp_path / "cache" / "lark").exists()
    broken = NORRKOPING.replace("= max(baseline_costs", "= = max(baseline_costs", 1)
    assert broken != NORRKOPING
    bad = subprocess.run([sys.executable, "-c", code], input=broken, env=env, cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    from sibdsl import check_source

    codes = [d.code for d in check_source(Source("n.sib", broken))[1]]
    assert codes and codes[0].startswith("E1")  # a syntax error, found by lark's tree parser
    assert bad.split("[")[0].strip() == "False" and bad.strip().endswith(f"{codes} True")


def test_the_prebuilt_tokens_are_what_the_syntax_methods_take_as_tokens():
    """parser._is_token tells a token from a node for either parser (cover and waterfall read it)."""
    grammar = parser.grammar_text()
    fast = prebuilt.load(grammar, parser._callbacks(frozenset(parser._NAMED_TERMINAL.findall(grammar))))
    token = prebuilt.Token("x")
    assert parser._is_token(token) and parser._is_token(lark.Token("NAME", "x"))
    assert not parser._is_token("x") and not parser._is_token(fast)


def test_the_cache_key_reads_the_grammar_not_the_tables_made_from_it():
    """cache.code_digest (every cached `sibc check` computes it) hashes the grammar and leaves out
    parser_tables.py, which is made from it (270 kB: ≈ 9 M instructions a cached check)."""
    code = ("import sys\nopened = []\n"
            "sys.addaudithook(lambda event, args: opened.append(str(args[0])) if event == 'open' else None)\n"
            "from sibdsl import cache\ncache.code_digest()\n"
            "print(any(p.endswith('parser_tables.py') for p in opened), any(p.endswith('sib.lark') for p in opened),"
            " any(p.endswith('prebuilt.py') for p in opened))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}).stdout
    assert out.split() == ["False", "True", "True"]


def test_the_first_characters_of_a_terminal_are_every_character_its_matches_begin_with():
    """The prebuilt parser skips asking a terminal at a place whose character is not among the
    ones its matches can begin with (prebuilt._first_characters): never one too few."""
    first = prebuilt._first_characters
    assert first("[0-9]{4}-[0-9]{2}", 0) == "0123456789"
    assert first('"""(?:[^"\\\\])*"""|"x"', 0) == '"'
    assert first("(?:a|b)?c", 0) == "abc"  # an optional start: what follows can begin too
    assert first("(?!x)[^\\W\\d]\\w*", 0) is None  # a class of its own: not a short list
    assert first("a*", 0) is None  # can match nothing
    assert first("[a-z]", 2) is None  # re.I: letters change
    from sibdsl.parser_tables import TABLES

    firsts = {name: chars for name, chars in TABLES["lexer"]["firsts"].items() if chars is not None}
    assert {"STRING", "WS", "COMMENT", "NUMBER"} <= set(firsts)
    matchers = {name: re.compile(TABLES["lexer"]["regexps"][name]).match for name in firsts}
    text = "".join(path.read_text(encoding="utf-8") for path in sorted((ROOT / "contracts").rglob("*.sib")))
    text += "".join(_PIECES)
    matched = 0
    for pos in range(len(text)):
        for name, match in matchers.items():
            if match(text, pos):
                matched += 1
                assert text[pos] in firsts[name], (name, text[pos:pos + 20])
    assert matched > 10_000
