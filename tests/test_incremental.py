"""Incremental parsing (sibdsl/incremental.py) gives exactly what parsing the whole text gives: the
same tree, every span included, and the same diagnostics of `check` — under random edits of shipped
contracts and of a generated large one (insertions, deletions, a syntax error made and undone)."""

from __future__ import annotations

import glob
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sibdsl import check_source as whole_check
from sibdsl.diagnostics import SibError
from sibdsl.incremental import Parser, check_source, chunks
from sibdsl.lsp_analysis import analyse
from sibdsl.parser import parse
from sibdsl.source import Source

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted(glob.glob(str(ROOT / "contracts" / "*.sib")) + glob.glob(str(ROOT / "contracts" / "variants" / "*.sib"))
                 + glob.glob(str(ROOT / "tests" / "corpus" / "valid" / "*.sib")))
HEAD = ('contract "Generated"\n  languages en\n  currency SEK\n  rounding 1 SEK half up\n'
        'party city "City": payer\nparty fund "Fund": investor\nterm 2020-01-01 to 2023-12-31\n'
        'measure x "X": money\n')


def large(clauses: int) -> str:
    """As benchmarks/bench.py's `generated`: a chain of definitions and one payment."""
    body = [HEAD, "define d0 = x * 2 / 3\n"]
    body += [f"define d{i} = max(d{i - 1} - 1 000 SEK, {i} SEK)\n" for i in range(1, clauses - 1)]
    body.append(f"payment p = min(d{clauses - 2}, 5 000 000 SEK) from city to fund\n")
    return "".join(body)


def differences(a, b) -> str | None:
    """Where two syntax trees or checked models differ, every field compared (spans too, which `==`
    leaves out), without recursion (a chain of 5,000 definitions is a model 5,000 deep)."""
    stack = [(a, b, "tree")]
    while stack:
        x, y, where = stack.pop()
        if type(x) is not type(y):
            return f"{where}: {type(x).__name__} vs {type(y).__name__}"
        if isinstance(x, dict):
            if list(x) != list(y):
                return f"{where}: keys {list(x)[:5]}… vs {list(y)[:5]}…"
            stack.extend((x[k], y[k], f"{where}[{k!r}]") for k in x)
        elif isinstance(x, tuple):
            if len(x) != len(y):
                return f"{where}: {len(x)} vs {len(y)} items"
            stack.extend((u, v, f"{where}[{i}]") for i, (u, v) in enumerate(zip(x, y, strict=True)))
        elif attrs.has(type(x)):
            stack.extend((getattr(x, f.name), getattr(y, f.name), f"{where}.{f.name}") for f in attrs.fields(type(x)))
        elif x != y:
            return f"{where}: {x!r} vs {y!r}"
    return None


def outcome(parser_parse, source: Source):
    try:
        return parser_parse(source), None
    except SibError as err:
        return None, err.diagnostics


def assert_same(parser: Parser, text: str, name: str = "c.sib", *, models: bool = True) -> tuple[int, int, bool]:
    """Parse and check `text` with `parser` and as a whole, assert the same; (chunks parsed, chunks
    reused, whether the whole text was parsed) of the incremental parse."""
    source = Source(name, text)
    tree, errors = outcome(parser.parse, source)
    stats = parser.parsed, parser.reused, parser.whole
    expected, expected_errors = outcome(parse, source)
    assert errors == expected_errors
    if expected is not None:
        assert differences(tree, expected) is None, differences(tree, expected)
        assert tree.items and tree.items[0] is not None
    (model, diagnostics), (expected_model, expected_diagnostics) = check_source(source, parser), whole_check(source)
    assert diagnostics == expected_diagnostics
    assert (model is None) == (expected_model is None)
    if models:  # attrs' `==` recurses once per level: not for a chain thousands deep
        assert model == expected_model
    assert differences(model, expected_model) is None, differences(model, expected_model)  # spans, clause lines
    return stats


# ---------------------------------------------------------------- edits
SNIPPETS = ["z", " ", "\n", "\n\n", "# note\n", "define extra = 1 SEK\n", "cap total at 5 SEK\n", "§ 9 \"New\"\n",
            '"prose"\n', '"""\ndefine hidden = 1\n"""\n', "(", ")", "= =", "max(", "payment", "\r\n", "\r",
            "contract \"Twice\"\n", "x + ", "table t: step { below: 0, from 1: 2 }\n", "2021-02-30", "\ufeff", "\t"]


@st.composite
def edits(draw, text: str):
    """A few versions of `text`, each an edit of the one before: an insertion of a snippet (a
    character, a declaration, a broken fragment), a deletion of a range, or the undo of the edit
    before (a syntax error made and removed)."""
    versions = [text]
    for _ in range(draw(st.integers(1, 6))):
        current = versions[-1]
        kind = draw(st.sampled_from(["insert", "insert", "delete", "undo"]))
        if kind == "undo" and len(versions) > 1:
            versions.append(versions[-2])
            continue
        at = draw(st.integers(0, len(current)))
        if kind == "delete":
            end = min(len(current), at + draw(st.integers(1, 40)))
            versions.append(current[:at] + current[end:])
        else:
            # at a line start half of the time: where declarations begin and end
            if draw(st.booleans()):
                at = current.rfind("\n", 0, at) + 1
            versions.append(current[:at] + draw(st.sampled_from(SNIPPETS)) + current[at:])
    return versions


@st.composite
def keystrokes(draw, text: str):
    """Versions of `text` as an author types them, one keystroke each: a character typed or deleted
    within a line (no line moves: every declaration below is given back as it is), or a line
    break typed or deleted (Enter, or Backspace at a line start: the declarations below move)."""
    versions = [text]
    for _ in range(draw(st.integers(1, 8))):
        current = versions[-1]
        lines = current.split("\n")
        row = draw(st.integers(0, len(lines) - 1))
        start = sum(len(line) + 1 for line in lines[:row])
        column = draw(st.integers(0, len(lines[row])))
        at = start + column
        kind = draw(st.sampled_from(["type", "type", "type", "delete", "delete", "enter", "join"]))
        if kind == "type":
            versions.append(current[:at] + draw(st.sampled_from("az0 ,.(+=%_§\"")) + current[at:])
        elif kind == "delete" and column:  # Backspace within the line
            versions.append(current[:at - 1] + current[at:])
        elif kind == "enter":
            versions.append(current[:at] + "\n" + current[at:])
        elif kind == "join" and start:  # Backspace at a line start: the line joins the one above
            versions.append(current[:start - 1] + current[start:])
    return versions


EDITS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
TEXTS = {Path(p).name: Path(p).read_text(encoding="utf-8-sig") for p in SHIPPED}


@EDITS
@given(st.data())
def test_random_edits_of_shipped_contracts_parse_and_check_as_the_whole_text(data):
    name = data.draw(st.sampled_from(sorted(TEXTS)))
    parser = Parser()
    # edits of any size, or keystrokes: within a line (nothing moves) and across lines
    for i, version in enumerate(data.draw(st.one_of(edits(TEXTS[name]), keystrokes(TEXTS[name])))):
        whole = assert_same(parser, version, name)[2]
        assert i or not whole  # every shipped contract is cut into declarations


LARGE = large(400)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_random_edits_of_a_large_generated_contract(data):
    typed_over(LARGE, data.draw(st.one_of(edits(LARGE), keystrokes(LARGE))))


def typed_over(text: str, versions: list[str], models: bool = True) -> None:
    """Each version parsed and checked with one parser that has seen `text`, as the whole text."""
    parser = Parser()
    parser.parse(Source("large.sib", text))
    for version in versions:
        assert_same(parser, version, "large.sib", models=models)


# ---------------------------------------------------------------- what is reused, and where it is not cut
def test_an_edit_of_one_declaration_parses_that_declaration_only():
    parser = Parser()
    text = large(300)
    parser.parse(Source("g.sib", text))
    assert parser.parsed == 305 and not parser.whole  # the header, 2 parties, the term, the measure, 300 clauses
    at = text.index("define d150 = max(d149") + len("define d150 = max(d149")
    edited = text[:at] + "z" + text[at:]
    assert assert_same(parser, edited) == (1, 304, False)


def test_a_new_line_moves_the_lines_of_every_declaration_below():
    parser = Parser()
    text = large(50)
    parser.parse(Source("g.sib", text))
    at = text.index("define d20 ")
    parsed, _, whole = assert_same(parser, text[:at] + "\n\n# a comment\n" + text[at:])
    assert (parsed, whole) == (1, False)  # the comment joins the declaration above; everything else is moved


def test_no_cut_inside_a_text_in_triple_quotes():
    text = 'contract "T"\n"""\ndefine inside = 1\n§ 4 "not a heading"\n"""\nparty a "A": payer\n'
    cuts = chunks(text)
    assert [text[c:].split("\n", 1)[0] for c in cuts] == ["contract \"T\"", 'party a "A": payer']
    assert_same(Parser(), text)


def test_a_keyword_inside_a_declaration_falls_back_to_the_whole_parse():
    # `cap` starts a line inside a rate card's braces: the cut there does not parse alone
    text = TEXTS["care_leavers_apollo.sib"].replace('  feels_safe "Feels safe": 220 GBP,',
                                                    '  feels_safe "Feels safe": 220 GBP,\n  cap per participant 9 000 GBP,')
    assert assert_same(Parser(), text)[2]


def test_a_second_header_is_reported_as_the_whole_parse_reports_it():
    parser = Parser()
    text = TEXTS["norrkoping.sib"]
    assert_same(parser, text)
    assert assert_same(parser, text + '\ncontract "Again"\n')[2]


def test_a_syntax_error_keeps_the_cache_and_its_fix_is_incremental_again():
    parser = Parser()
    text = large(200)
    parser.parse(Source("g.sib", text))
    at = text.index("define d100 = ") + len("define d100 = ")
    # the broken declaration is parsed alone and in its window (incremental.syntax_errors): no
    # chunk parsed into the cache, the whole text not parsed
    assert assert_same(parser, text[:at] + "= " + text[at:]) == (0, 204, False)
    assert assert_same(parser, text) == (0, 205, False)


# ---------------------------------------------------------------- syntax errors from the broken declarations alone
BROKEN = ["= ", "(", ")", "max(", "x + ", "@", '"open', ";", "payment", "define", "cap", "1,5", "\u2018",
          "2016-01-01 ", "contract", "§", "\ndefine = ", "\npayment p = ", "\ncap", "\n= =", "\n)\n"]


@st.composite
def broken(draw, text: str) -> str:
    """`text` with one to five broken fragments typed at random places: in a formula, at a line's
    start (a declaration left unfinished, or one that starts in the middle of another), at the end."""
    for _ in range(draw(st.integers(1, 5))):
        at = draw(st.integers(0, len(text)))
        if draw(st.booleans()):
            at = text.rfind("\n", 0, at) + 1
        text = text[:at] + draw(st.sampled_from(BROKEN)) + text[at:]
    return text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_syntax_errors_from_the_broken_declarations_are_the_whole_text_s(data):
    """incremental.syntax_errors against parser.parse over random broken edits of every shipped
    contract: the same diagnostics (codes, messages, hints, spans, order), and the whole text parsed
    only where the reasoning does not hold."""
    name = data.draw(st.sampled_from(sorted(TEXTS)))
    parser = Parser()
    parser.parse(Source(name, TEXTS[name]))
    text = data.draw(broken(TEXTS[name]))
    source = Source(name, text)
    assert outcome(parser.parse, source)[1] == outcome(parse, source)[1]


def test_a_syntax_error_in_the_middle_is_found_without_the_whole_text(monkeypatch):
    from sibdsl import incremental

    parser = Parser()
    text = large(400)
    parser.parse(Source("g.sib", text))
    edits = [("define d200 = ", "define d200 = = "), ("define d300 = ", "define d300 = \ndefine = "),
             ("define d10 = ", "define d10 = max("), ("define d5 = ", "define d5 = x +\npayment ")]
    monkeypatch.setattr(incremental, "syntax_errors", _counting(incremental.syntax_errors))
    for old, new in edits:
        edited = text.replace(old, new, 1)
        _counting.calls = []
        assert outcome(parser.parse, Source("c.sib", edited))[1] == outcome(parse, Source("c.sib", edited))[1]
        assert _counting.calls == [True] and parser.whole is False  # answered here, no fallback to the whole text
    # several broken declarations at once, and one unfinished at the very end (E103)
    several = text.replace("define d7 = ", "define d7 = (").replace("define d9 = ", "define d9 = )") + "payment q ="
    assert assert_same(parser, several)[2] is False
    assert [d.code for d in outcome(parser.parse, Source("c.sib", several))[1]] == ["E102", "E102", "E103"]


def test_an_unfinished_declaration_that_takes_the_next_one_s_first_word_as_its_name():
    """Found by the random broken edits: `payment` typed before a comment, then `ratecard …` — not
    reserved, so the whole parse reads it as the payment's name, blanks the rate card only, and the
    unfinished `payment` meets the heading after it (E102 at `§ 4`), not the end of the window."""
    text = TEXTS["care_leavers_apollo.sib"].replace("\n# qualifications and higher", "\npayment# qualifications and higher")
    parser = Parser()
    parser.parse(Source("c.sib", TEXTS["care_leavers_apollo.sib"]))
    assert assert_same(parser, text)[2] is False
    assert [d.code for d in outcome(parse, Source("c.sib", text))[1]] == ["E102", "E102"]


def test_a_broken_declaration_above_the_header():
    """A declaration keyword typed into the comments above `contract "…"`: the header then follows
    a broken chunk, which its window takes in (a declaration that parses above it still makes the
    whole text parsed: a header after a declaration is an error no chunk shows)."""
    text = TEXTS["cambodia_sanitation_dib.sib"]
    at = text.index("#   * USAID")
    parser = Parser()
    parser.parse(Source("c.sib", text))
    for typed in ("§", "define", "payment x =\n", "cap"):
        assert assert_same(parser, text[:at] + typed + text[at:])[2] is False
    assert assert_same(parser, text[:at] + 'define x = 1 SEK\n§' + text[at:])[2] is True


def test_a_text_in_triple_quotes_opened_above_the_first_declaration():
    """Found by the random broken edits: `\"\"\"` typed at the very top opens a text that the next
    `\"\"\"` (a prose block far below) closes — one token over many cuts, which `chunks` (looking
    from the first declaration on) does not see: the whole text is parsed."""
    text = TEXTS["cambodia_sanitation_dib.sib"]
    parser = Parser()
    parser.parse(Source("c.sib", text))
    assert assert_same(parser, '"""' + text)[2] is True


def test_more_broken_declarations_than_the_parser_reports():
    parser = Parser()
    text = large(300)
    parser.parse(Source("g.sib", text))
    many = "".join(line.replace(" = ", " = = ") if i % 7 == 0 else line for i, line in enumerate(text.splitlines(True)))
    assert assert_same(parser, many)[2] is False
    from sibdsl.limits import MAX_ERRORS

    assert len(outcome(parse, Source("c.sib", many))[1]) == MAX_ERRORS


def test_a_declaration_keyword_inside_a_text_in_triple_quotes_is_parsed_whole():
    parser = Parser()
    text = large(50).replace("define d20 ", '"""\ndefine inside\n"""\ndefine d20 ')
    parser.parse(Source("g.sib", text))
    assert assert_same(parser, text.replace("define d30 = ", "define d30 = = "))[2] is True


def _counting(function):
    _counting.calls = []

    def counted(*args):
        found = function(*args)
        _counting.calls.append(found is not None)
        return found
    return counted


def test_a_chain_too_deep_for_python_s_stack_is_moved():
    text = HEAD + "define big = " + " + ".join(["x"] * 3000) + "\npayment p = big from city to fund\n"
    parser = Parser()
    parser.parse(Source("c.sib", text))
    assert assert_same(parser, "# moved\n" + text, models=False)[:1] == (1,)


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_other_line_breaks(newline):
    parser = Parser()
    text = TEXTS["norrkoping.sib"].replace("\n", newline)
    assert_same(parser, text)
    assert assert_same(parser, "# top" + newline + text)[::2] == (1, False)


def test_the_language_server_analysis_is_the_same_with_the_incremental_parser():
    parser = Parser()
    text = TEXTS["norrkoping.sib"]
    for version in (text, text.replace("min(60 % of savings", "min(60 % of savingz"), text + "\ndefine = \n", text):
        incremental, whole = analyse("n.sib", version, parser), analyse("n.sib", version)
        assert incremental.diagnostics == whole.diagnostics
        assert differences(incremental.tree, whole.tree) is None
        assert incremental.index == whole.index and incremental.blanked == whole.blanked


def test_the_studio_checks_a_draft_incrementally():
    from sibdsl.serve.api import Workspace, check

    ws = Workspace(None)
    text = TEXTS["norrkoping.sib"]
    _, first = check(ws, {"contract": {"name": "n", "source": text}, "verify": False})
    edited = text.replace("min(60 % of savings", "min(60 % of savingz")
    _, second = check(ws, {"contract": {"name": "n", "source": edited}, "verify": False})
    assert first["ok"] and not second["ok"]
    assert [d["code"] for d in second["diagnostics"]] == ["E201"]
    parser = ws._parsers["n.sib"]
    assert (parser.parsed, parser.whole) == (1, False)


# ---------------------------------------------------------------- keystrokes: within a line, across lines
LARGE_5000 = large(5_000)


@settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_keystrokes_within_and_across_lines_of_a_5000_clause_contract(data):
    typed_over(LARGE_5000, data.draw(keystrokes(LARGE_5000)), models=False)  # a chain 5,000 deep: attrs' == recurses


def test_a_keystroke_within_a_line_gives_back_every_other_declaration_as_it_is():
    """Spans hold lines and columns, no offsets (source.Span): a character typed in the middle moves
    no declaration below it, so they are the very objects of the last parse, spans included."""
    parser = Parser()
    text = large(300)
    before = parser.parse(Source("g.sib", text))
    at = text.index("define d150 = max(d149") + len("define d150 = max(d149")
    edited = text[:at] + "z" + text[at:]
    assert assert_same(parser, edited) == (1, 304, False)
    after = parser.parse(Source("g.sib", edited))
    edited_item = [getattr(getattr(i, "name", None), "name", None) for i in before.items].index("d150")
    assert all(a is b for k, (a, b) in enumerate(zip(before.items, after.items, strict=True)) if k != edited_item)
    assert after.items[edited_item] is not before.items[edited_item]
    # Enter in the same place moves every declaration below by a line: new objects, one line down
    entered = parser.parse(Source("g.sib", text[:at] + "\n" + text[at:]))
    assert all(a is b for a, b in zip(before.items[:edited_item], entered.items, strict=False))
    below = entered.items[edited_item + 1]
    assert below is not before.items[edited_item + 1]
    assert below.span.line == before.items[edited_item + 1].span.line + 1
    assert below.span.column == before.items[edited_item + 1].span.column


def test_a_span_s_offsets_come_from_the_line_table_of_its_text():
    text = 'contract "T"\r\n  currency SEK\rparty a "Å": payer\n\tdefine x = 1\n'
    source = Source("t.sib", text)
    for start in range(len(text) + 1):
        for end in range(start, min(len(text), start + 6) + 1):
            span = source.span(start, end)
            assert source.offsets(span) == (start, end)
            assert source.excerpt(span) == text[start:end]


def test_the_objects_of_old_texts_are_freed():
    """The parser keeps the chunks of the last two versions and the memo the checks of the last two
    checks: the objects of a text older than that are freed — by reference counting alone (the
    collector paused: no reference cycle holds them)."""
    import gc
    import weakref

    parser = Parser()
    text = large(200)
    at = text.index("define d100 = max(d99") + len("define d100 = max(d99")
    first = analyse("g.sib", text, parser)
    old_item = next(i for i in first.tree.items if getattr(getattr(i, "name", None), "name", None) == "d100")
    watched = [weakref.ref(first), weakref.ref(old_item), weakref.ref(first.model),
               weakref.ref(first.model.definitions["d100"])]
    kept_item = weakref.ref(first.tree.items[-1])  # the payment: unchanged, given back by the parser
    del first, old_item
    gc.disable()
    try:
        for typed in ("1", "12", "123"):  # three new texts
            analysis = analyse("g.sib", text[:at] + typed + text[at:], parser)
        assert analysis.tree.items[-1] is kept_item()
        del analysis
        assert [ref() is None for ref in watched] == [True] * len(watched)
    finally:
        gc.enable()
