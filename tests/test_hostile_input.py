"""Hostile contract text (issue 22): one definition of a line, flat sums, lone surrogates."""

from __future__ import annotations

import sys
from decimal import Decimal

import pytest
from click.testing import CliRunner

from sibdsl import Source, check_source, compile_contract, parse
from sibdsl.cli import main
from sibdsl.diagnostics import render_human
from sibdsl.fmt import format_file_text, format_text
from sibdsl.limits import MAX_HEIGHT, MAX_SOURCE_CHARS

HEAD = """contract "Radbrytning"
  currency SEK
  rounding 1 SEK half up
party city "Staden": payer
party fund "Fonden": investor
payment p = 1 500 000 SEK from city to fund
"""
CAP_AFTER_CR = HEAD + "# reviewed by legal\rcap total at 1 000 000 SEK\n"


def _total(text: str) -> Decimal:
    contract, diagnostics = check_source(Source("cr.sib", text))
    assert contract is not None, [d.message for d in diagnostics]
    return compile_contract(contract).evaluate({}).total


# ---------------------------------------------------------------- item 1: a lone CR is a line break
def test_a_lone_cr_ends_a_comment_so_the_cap_after_it_is_live():
    assert _total(CAP_AFTER_CR) == 1_000_000  # what a terminal and an editor show: the cap


@pytest.mark.parametrize("brk", ["\n", "\r\n", "\r"])
def test_every_line_break_gives_the_same_tree_and_positions(brk):
    text = CAP_AFTER_CR.replace("\r", "\n").replace("\n", brk)
    tree = parse(Source("cr.sib", text))
    assert tree == parse(Source("lf.sib", CAP_AFTER_CR.replace("\r", "\n")))
    cap = tree.items[-1]
    assert (cap.span.line, cap.span.column) == (8, 1)
    source = Source("cr.sib", text)
    assert source.line_count == 9
    assert source.line_text(7) == "# reviewed by legal"
    assert source.line_text(8) == "cap total at 1 000 000 SEK"


def test_a_diagnostic_after_a_lone_cr_points_at_the_line_a_reader_sees():
    text = HEAD + "# note\rcap total at 1 000 000 SEK\rpayment q = 1 SEK from city to nobody\n"
    _, diagnostics = check_source(Source("cr.sib", text))
    (error,) = [d for d in diagnostics if d.is_error]
    assert (error.span.line, error.span.column) == (9, 32)
    shown = render_human(error)
    assert "9 | payment q = 1 SEK from city to nobody\n" in shown
    assert "\r" not in shown


def test_fmt_keeps_the_meaning_a_lone_cr_gives():
    before = _total(CAP_AFTER_CR)
    formatted = format_file_text(Source("cr.sib", CAP_AFTER_CR), CAP_AFTER_CR.encode())
    assert b"\r" not in formatted
    assert formatted.decode().endswith("# reviewed by legal\ncap total at 1 000 000 SEK\n")
    assert _total(formatted.decode()) == before == 1_000_000


def test_fmt_compares_with_the_tree_of_the_original_text(monkeypatch):
    """The "same meaning" check must see the original bytes' tree: if the printer's result differs
    from it (simulated here by a parser that reads the result differently), fmt refuses."""
    from sibdsl import fmt as fmt_module

    real = fmt_module.parse
    seen = []

    def spy(source):
        seen.append(source.text)
        return real(source)

    monkeypatch.setattr(fmt_module, "parse", spy)
    format_text(Source("cr.sib", CAP_AFTER_CR))
    assert seen[0] == CAP_AFTER_CR  # the original text is parsed first, as it is, CR included


def test_crlf_inside_a_triple_quoted_text_is_a_line_break():
    lf = HEAD + '"""two\nlines"""\n'
    for text in (lf.replace("\n", "\r\n"), lf.replace("\n", "\r")):
        assert parse(Source("t.sib", text)) == parse(Source("t.sib", lf))
        assert format_text(Source("t.sib", text)) == format_text(Source("t.sib", lf))


def test_check_and_fmt_cli_agree_on_a_lone_cr(tmp_path, monkeypatch):
    path = tmp_path / "cr.sib"
    path.write_bytes(CAP_AFTER_CR.encode())
    monkeypatch.chdir(tmp_path)
    out = CliRunner().invoke(main, ["fmt", "cr.sib"], catch_exceptions=False)
    assert out.exit_code == 0, out.output
    assert _total(path.read_text(encoding="utf-8")) == 1_000_000


# ---------------------------------------------------------------- item 11: flat sums
def _sum(n: int) -> str:
    return HEAD.replace("payment p = 1 500 000 SEK", "payment p = total_x * 1 SEK") + \
        "define total_x = " + " + ".join(["1"] * n) + "\n"


def test_a_flat_sum_of_250_terms_is_no_nesting():
    # the parser and the checker's side (issue 22, item 11), and the evaluation core's since main
    # settles a long chain without recursion
    text = _sum(250)
    contract, diagnostics = check_source(Source("sum.sib", text))
    assert [d.code for d in diagnostics] == []
    assert compile_contract(contract).evaluate({}).total == 250
    expr, terms = parse(Source("sum.sib", text)).items[-1].expr, 1
    while getattr(expr, "op", None) == "+":  # left-nested, as `a + b + c` is ((a + b) + c)
        expr, terms = expr.left, terms + 1
    assert terms == 250


def test_a_sum_of_1_2_million_terms_is_refused_where_it_reaches_the_limit():
    """The parse stops at the MAX_HEIGHT-th operator (it was 82 s and 2 GB: the whole text through
    lark's tree). Past the limit the text ends in a syntax error: were the rest read, the error
    would be reported (by the tree parser, over the whole text); E106 alone shows it is never read.
    How long it takes is measured by `benchmarks/bench.py hostile`, not here."""
    text = _sum(1_200_000).replace(" + 1\n", " + )\n")
    assert len(text) < MAX_SOURCE_CHARS and text.endswith(" + 1 + )\n")
    _, diagnostics = check_source(Source("sum.sib", text))
    (error,) = diagnostics
    assert error.code == "E106"
    assert "operators in a row" in error.message and "nested" not in error.message
    assert (error.span.line, error.span.column) == (7, 18)


def test_the_same_sum_ending_in_a_syntax_error_but_below_the_limit_reports_it():
    """The other side of the test above: the same ending below the limit is a syntax error."""
    text = _sum(MAX_HEIGHT // 2).replace(" + 1\n", " + )\n")
    _, diagnostics = check_source(Source("sum.sib", text))
    assert [d.code for d in diagnostics] != ["E106"] and diagnostics
    assert all(d.span.line == 7 and d.span.column > 2 * (MAX_HEIGHT // 2) for d in diagnostics)


def test_real_nesting_is_still_reported_as_nesting():
    text = HEAD + "define x = " + "-" * 250 + "1 SEK\n"
    _, diagnostics = check_source(Source("deep.sib", text))
    assert [d.code for d in diagnostics] == ["E106"]
    assert "nested more than 200 levels" in diagnostics[0].message


# ---------------------------------------------------------------- item 13: a lone surrogate
def test_a_lone_surrogate_in_a_text_is_kept_and_outside_one_is_e101():
    """Only an editor or an API can send one (a file is decoded strictly). Inside a text it is the
    author's text (the language server keeps it, tests/test_lsp_protocol.py); elsewhere it is an
    unexpected character, shown as � so that the diagnostic can be printed."""
    contract, diagnostics = check_source(Source("s.sib", HEAD + 'define x "Etikett \ud800" = 1 SEK\n'))
    assert contract is not None and diagnostics == []
    contract, diagnostics = check_source(Source("s.sib", HEAD + "define x\ud800 = 1 SEK\n"))
    assert contract is None
    (error,) = diagnostics
    assert error.code == "E101" and (error.span.line, error.span.column) == (7, 9)
    shown = render_human(error)
    shown.encode("utf-8")  # what a terminal receives can be encoded
    assert "define x� = 1 SEK" in shown


# ---------------------------------------------------------------- item 6: dates at the calendar's edge
FAR = HEAD.replace("from city to fund", "from city to fund due 1 days after end") + "term 2016-01-01 to 9999-12-31\n"


@pytest.mark.parametrize("command", [["check"], ["eval", "--outcomes", "o.json"], ["render"], ["verify"],
                                     ["fingerprint"], ["test"]])
def test_a_date_at_the_end_of_the_calendar_is_e111_for_every_command(command, tmp_path, monkeypatch):
    (tmp_path / "far.sib").write_text(FAR, encoding="utf-8")
    (tmp_path / "o.json").write_text("{}", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, [command[0], "far.sib", *command[1:]], catch_exceptions=False)
    assert "E900" not in result.output and "Traceback" not in result.output
    if command[0] != "fingerprint":  # the fingerprint of the bytes needs no check
        assert result.exit_code == 1, result.output
        assert "error[E111]: the date 9999-12-31 is outside the years a contract may use (1900–2999)" \
            in result.output


@pytest.mark.parametrize(("date", "ok"), [("1899-12-31", False), ("1900-01-01", True), ("2999-12-31", True),
                                          ("3000-01-01", False), ("0001-01-01", False)])
def test_the_years_a_contract_may_use(date, ok):
    text = HEAD + f"term 2016-01-01 to 2020-12-31\ninvestment loan: 1 SEK from fund on {date}\n"
    _, diagnostics = check_source(Source("d.sib", text))
    far = [d for d in diagnostics if d.code == "E111"]
    assert (not far) == ok
    if far:
        assert (far[0].span.line, far[0].span.column) == (8, 37)


def test_a_proof_diagnostic_after_a_lone_cr_underlines_its_own_line():
    from sibdsl.proofcache import diagnostic

    text = HEAD + "# note\rguarantee small: total <= 10 SEK\n"
    source = Source("cr.sib", text)
    record = {"status": "violated", "line": 8, "description": "the guarantee `small`", "reason": "the total is 1 500 000 SEK",
              "counterexample": [{}]}
    shown = diagnostic(record, source)
    assert (shown.span.line, shown.span.column) == (8, 1)
    assert source.excerpt(shown.span) == "guarantee small: total <= 10 SEK"


# ---------------------------------------------------------------- item 19: fmt linear in comments
def _commented(n: int) -> str:
    return HEAD + "".join(f"# note {i}\ndefine d{i} = {i} SEK\n" for i in range(n))


def _work_of_fmt(n: int) -> int:
    """The Python-level work of formatting a text of `n` commented lines, counted, not timed: every
    line executed and every call made (Python or C) while `format_text` runs, seen by
    sys.settrace and sys.setprofile. The same text gives the same count on any machine under any load."""
    source = Source("c.sib", _commented(n))
    events = 0

    def count(frame, event, arg):
        nonlocal events
        events += 1
        return count if event == "call" else None  # settrace: follow every line of the called function

    sys.settrace(count)
    sys.setprofile(count)
    try:
        format_text(source)
    finally:
        sys.settrace(None)
        sys.setprofile(None)
    return events


def _growth() -> float:
    """How the work per comment grows from 300 to 1 200 commented lines: 4 if linear, 16 if quadratic."""
    _work_of_fmt(3)  # the parser's tables and the lexer made once, outside what is counted
    empty = _work_of_fmt(0)
    return (_work_of_fmt(1200) - empty) / (_work_of_fmt(300) - empty)


def test_fmt_work_grows_linearly_with_comments():
    """4 000 commented lines took 2.3 s against 0.48 s without comments: a scan of the text per comment
    to find its line. fmt finds lines by bisection (Source.position) and comments' places by bisection
    over the blocks; four times the comments is four times the work (4.00 today), where the old
    wall-clock test compared best-of-three times on a loaded machine. What the count cannot see: one
    C call is one event however much it scans (the old `text.count("\\n", 0, offset)`); its time is
    benchmarks/bench.py's. The test below shows a lookup written as a walk over the lines is caught."""
    assert _growth() < 4.4


def test_the_work_count_sees_a_line_lookup_that_walks_the_lines(monkeypatch):
    from sibdsl.source import Source as Src

    def walking(self, offset):  # the line found by walking the line starts from the first
        line = 0
        for start in self._line_starts:
            if start > offset:
                break
            line += 1
        return line, offset - self._line_starts[line - 1] + 1

    monkeypatch.setattr(Src, "position", walking)
    assert _growth() > 6  # 7.6: well above the linear bound, and growing with n


def test_check_of_a_tree_whose_source_holds_a_surrogate_does_not_raise():
    """check() hashes its source's text: a tree parsed from clean text, checked against a source an
    editor sent with a lone surrogate, gives a model or diagnostics, never UnicodeEncodeError."""
    from sibdsl.check import check

    tree = parse(Source("s.sib", HEAD))
    contract, _ = check(tree, Source("s.sib", HEAD + "# \ud800\n"))
    assert contract is not None
