"""lark's tables in sibc's cache directory (issue 21; sibdsl/parser.py `_tables`, docs/performance.md).

Making the LALR tables of grammar/sib.lark takes ≈ 0.3 s; loading them ≈ 20 ms. They are kept in
the user's cache directory, keyed by grammar, options, lark and Python, written atomically, and a
cache that cannot be written or read only costs time. The parsers loaded from the cache give the
same trees, spans included, as parsers made fresh from the grammar, on every text the parser is
pinned on (every shipped contract, the parser corpus, the examples in the docs, the edge cases).
Reading an entry marks it used; the tables of another grammar, lark or Python go once no sibc
has read them for a week (cache.trim; the proof and check entries: tests/test_cache_shared.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import lark
import pytest

from sibdsl import Source, parser
from sibdsl.parser import CACHED, parse

from .conftest import ROOT
from .test_parser_pinned import TEXTS, dump

NORRKOPING = (ROOT / "contracts" / "norrkoping.sib").read_text(encoding="utf-8")


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty cache directory of the test's own, and parsers made again (not the process's).
    The prebuilt parser is left out: these tests are about lark's, which parses in its stead when
    the shipped tables are not the grammar's (tests/test_prebuilt.py)."""
    monkeypatch.setenv("SIBDSL_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(parser, "_prebuilt", lambda: None)
    parser._builder.cache_clear()
    parser._lark.cache_clear()
    yield tmp_path / "cache"
    parser._builder.cache_clear()  # the other tests get parsers from their own cache again
    parser._lark.cache_clear()


NORRKOPING_DUMP = dump(NORRKOPING)  # made when the module is collected, by the process's own parsers


def _files(directory) -> list[str]:
    return sorted(os.listdir(directory)) if os.path.isdir(directory) else []


def test_the_tables_are_kept_in_the_cache_directory_under_a_key(cache):
    parse(Source("n.sib", NORRKOPING))
    (entry,) = _files(cache / "lark")  # the basic-lexer builder: all a valid contract needs
    assert entry.startswith("builder-basic-") and entry.endswith(".lark")
    assert parser._builder("basic").source_path != CACHED  # this process made them
    parser._builder.cache_clear()
    assert parser._builder("basic").source_path == CACHED  # the next one reads them
    grammar = parser.grammar_text()
    options = {"parser": "lalr", "lexer": "basic"}
    path = parser.tables_path("builder-basic", grammar, options)
    assert os.path.dirname(path) == str(cache / "lark")
    # a changed grammar or option is another file, never the old tables
    assert parser.tables_path("builder-basic", grammar + "\n// edited\n", options) != path
    assert parser.tables_path("builder-basic", grammar, {**options, "lexer": "contextual"}) != path


def test_without_sibdsl_cache_dir_the_tables_go_to_xdg_cache_home(cache, tmp_path, monkeypatch):
    monkeypatch.delenv("SIBDSL_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    parse(Source("n.sib", NORRKOPING))
    assert [f.split("-")[:2] for f in _files(tmp_path / "xdg" / "sibdsl" / "lark")] == [["builder", "basic"]]


def _fresh(name: str, grammar: str, **options) -> lark.Lark:
    return lark.Lark(grammar, **options)  # no cache of any kind: the tables made from the grammar


def _dumps(texts) -> tuple[dict[str, str], set[str]]:
    used = set()
    builder, tree = parser._builder, parser._lark

    def spy_builder(lexer):
        used.add(f"builder-{lexer}")
        return builder(lexer)

    def spy_tree():
        used.add("tree")
        return tree()

    parser._builder, parser._lark = spy_builder, spy_tree
    try:
        return {name: dump(text) for name, text in texts.items()}, used
    finally:
        parser._builder, parser._lark = builder, tree


def test_cached_tables_parse_every_pinned_text_as_fresh_ones(cache, monkeypatch):
    made, _ = _dumps(TEXTS)  # the first pass makes and stores the tables of the three parsers
    assert len(_files(cache / "lark")) == 3
    parser._builder.cache_clear()
    parser._lark.cache_clear()
    cached, used = _dumps(TEXTS)  # this pass reads them back
    assert used == {"builder-basic", "builder-contextual", "tree"}  # every parser was exercised
    assert {parser._builder("basic").source_path, parser._builder("contextual").source_path,
            parser._lark().source_path} == {CACHED}
    monkeypatch.setattr(parser, "_tables", _fresh)
    parser._builder.cache_clear()
    parser._lark.cache_clear()
    fresh, _ = _dumps(TEXTS)
    assert parser._builder("basic").source_path != CACHED
    assert len(TEXTS) > 100
    different = [name for name in TEXTS if not cached[name] == made[name] == fresh[name]]
    assert different == []


def test_a_cache_directory_that_cannot_be_made_only_costs_time(cache, tmp_path, monkeypatch):
    blocked = tmp_path / "a file"
    blocked.write_text("not a directory", encoding="utf-8")
    monkeypatch.setenv("SIBDSL_CACHE_DIR", str(blocked))
    assert dump(NORRKOPING) == NORRKOPING_DUMP
    assert blocked.read_text(encoding="utf-8") == "not a directory"


def test_a_damaged_entry_is_made_again(cache):
    parse(Source("n.sib", NORRKOPING))
    (entry,) = _files(cache / "lark")
    whole = (cache / "lark" / entry).read_bytes()
    (cache / "lark" / entry).write_bytes(whole[:len(whole) // 2])  # its key line, half the tables
    parser._builder.cache_clear()
    assert dump(NORRKOPING) == NORRKOPING_DUMP
    assert parser._builder("basic").source_path != CACHED  # made from the grammar
    assert len((cache / "lark" / entry).read_bytes()) > len(whole) // 2  # stored again (read below)
    parser._builder.cache_clear()
    parse(Source("n.sib", NORRKOPING))
    assert parser._builder("basic").source_path == CACHED


def test_processes_that_miss_at_once_each_write_a_whole_entry(cache):
    """Four processes start on an empty cache at the same moment: each one parses, one entry is
    left, whole (it loads), and no process's partial file is left behind."""
    env = {**os.environ, "SIBDSL_CACHE_DIR": str(cache), "PYTHONPATH": str(ROOT)}
    code = ("import sys; from sibdsl import Source, parser; parser._prebuilt = lambda: None; "  # lark's parser
            "print(len(parser.parse(Source('n.sib', sys.stdin.read())).items))")
    runs = [subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             env=env, cwd=ROOT, text=True) for _ in range(4)]
    outputs = [run.communicate(NORRKOPING)[0] for run in runs]
    assert [run.returncode for run in runs] == [0] * 4
    assert len(set(outputs)) == 1 and int(outputs[0]) > 10
    (entry,) = _files(cache / "lark")
    assert not entry.endswith(".tmp")
    parse(Source("n.sib", NORRKOPING))
    assert parser._builder("basic").source_path == CACHED


# ---------------------------------------------------------------- old tables go once unused (issue 21)
def test_tables_of_another_grammar_go_once_no_sibc_has_read_them_for_a_week(cache):
    """A new grammar, lark or Python writes new tables. Another parser's tables, or another
    installation's that it read within the week, stay; those unused for longer go, and so does
    a partial file as old; whatever else is in the directory stays. Reading tables renews them."""
    from sibdsl import cache as sibcache

    (cache / "lark").mkdir(parents=True)
    week = sibcache.UNUSED_DAYS * 86400
    gone = ["builder-basic-" + "0" * 40 + ".lark", "builder-basic-" + "0" * 40 + ".lark.77.1.tmp"]
    recent = ["builder-basic-" + "1" * 40 + ".lark", "tree-" + "0" * 40 + ".lark"]
    foreign = ["builder-basic-notes.lark", "README"]
    for name in gone + foreign + recent:
        (cache / "lark" / name).write_bytes(b"x")
        _age(cache / "lark" / name, week - 3600 if name in recent else week + 3600)
    parse(Source("n.sib", NORRKOPING))
    (new,) = set(_files(cache / "lark")) - set(recent + foreign)
    assert new.startswith("builder-basic-") and sorted(_files(cache / "lark")) == sorted([new, *recent, *foreign])
    assert sibcache.TRIMMED in _files(cache)
    entry = cache / "lark" / new
    _age(entry, week + 3600)  # as if last read eight days ago
    parser._builder.cache_clear()
    assert parse(Source("n.sib", NORRKOPING)) and parser._builder("basic").source_path == CACHED
    assert time.time() - entry.stat().st_mtime < 60  # read now: renewed


def _age(path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))
