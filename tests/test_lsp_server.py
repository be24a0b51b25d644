"""The language server in process: an analysis skipped because the text changed before it started
is never served later for the same text (an edit, then an undo); completion in each context."""

from __future__ import annotations

import asyncio
import threading

import pytest

from sibdsl.lsp import Document, SibServer
from sibdsl.lsp_analysis import analyse
from sibdsl.lsp_features import completion

TEXT = 'contract "X" currency SEK rounding 1 SEK half up\nparty p "P": payer\n'


def test_an_undo_after_a_skipped_analysis_is_analysed():
    server = SibServer()
    document = Document("file:///x.sib", TEXT, 1)

    async def scenario():
        gate = threading.Event()
        blocker = asyncio.get_running_loop().run_in_executor(server.worker, gate.wait)  # the worker is busy
        first = server.analysis(document)  # queued for TEXT
        document.text = TEXT + "# edit\n"  # an edit before it starts …
        gate.set()
        await blocker
        assert await first is None  # … so it is skipped
        document.text = TEXT[:]  # … and an undo brings the same text back
        again = await server.analysis(document)
        assert again is not None and again.text == TEXT and again.index.declared["p"].kind == "party"
        return server.analyses_run

    assert asyncio.run(scenario()) == 1
    server.worker.shutdown()


CONTRACT = (TEXT + 'party f "F": investor\nperiods år: y1 2024-01-01 to 2024-12-31\ncohort unga: size 60\n'
            'investment lån: 100 SEK from f on 2024-01-01\nmeasure m: money\nmeasure n: count\n'
            'define d = 10 % of m\npayment q = d from p to f\n')


@pytest.mark.parametrize("typed, expected", [
    ("cap ", ["q", "total", "payments", "per"]),  # issue 15: `cap payments from P at …`
    ('gate g "G": ', ["q", "total"]),
    ("party x: ", ["payer", "investor", "provider", "evaluator", "intermediary"]),
    ("measure k: ", ["money", "share", "percentage", "count", "number", "days", "date", "boolean", "yesno"]),
    ("measure k: money per ", ["unga", "år"]),
    ("measure k: money better ", ["higher", "lower"]),
    ("payment r = 1 SEK from ", ["f", "p"]),
    ("payment r = 5 % of ", ["d", "lån", "m", "abs", "cumulative", "max", "min", "previous", "sum",
                             "to_date"]),  # money first; never the count `n`
    ("guarantee g: q nondecreasing in ", ["m", "n"]),
])
def test_completion_in_each_context(typed, expected):
    analysis = analyse("x.sib", CONTRACT)
    text = CONTRACT + typed
    assert [c.label for c in completion(analysis, text, len(text))] == expected


def test_a_byte_order_mark_is_read_as_sibc_check_reads_a_file():
    text = "\ufeff" + CONTRACT.replace("define d = 10 % of m", "define d = 10 % of mm")
    analysis = analyse("x.sib", text)
    (d,) = analysis.diagnostics
    assert d.code == "E201" and analysis.lines.excerpt(d.span) == "mm"  # offsets are the editor's
    assert analysis.text == text and analysis.index.declared["m"].kind == "measure"


def test_every_declaration_that_parses_is_kept_around_several_errors():
    broken = (CONTRACT.replace("measure n: count", "measure n: count )")
              .replace("define d = 10 % of m", "define d = 10 % of")
              + 'contract "A second header"\nmeasure sist: money\n')  # valid alone, not in context
    analysis = analyse("x.sib", broken)
    assert analysis.diagnostics and all(d.code.startswith("E10") for d in analysis.diagnostics)
    assert set(analysis.index.declared) == {"p", "f", "år", "y1", "unga", "lån", "m", "q", "sist"}
    # the blanked regions are exactly the broken declarations and the misplaced header
    assert sorted(broken[a:b].split()[0] for a, b in analysis.blanked) == ["contract", "define", "measure"]


@pytest.mark.parametrize("before, after, title", [
    ("payment q = d from", "payment q = 500 from", "write `500 SEK`"),  # E306: an amount needs its currency
    ("measure m: money", "measure m: money per år", "pay it per `år`"),  # E307
    ("measure m: money", "measure m: money per år", "add it up with sum(…)"),
    ("from p to f\n", "from p to f from p\n", "remove the second `from`"),  # E402
])
def test_more_hints_are_quick_fixes(before, after, title):
    from sibdsl.lsp_features import fixes

    broken = CONTRACT.replace(before, after)
    analysis = analyse("x.sib", broken)
    assert analysis.diagnostics[0].is_error
    fix = next(f for f in fixes(analysis, 0, len(broken)) if f.title == title)
    fixed = broken
    for start, end, new in sorted(fix.edits, reverse=True):
        fixed = fixed[:start] + new + fixed[end:]
    assert [d.code for d in analyse("x.sib", fixed).diagnostics] == ["W401"]  # as CONTRACT: `n` is unused
