"""What the parser returns for every contract text in the repository is pinned, spans included.

Spans are excluded from node equality, so the other tests would not notice a span that moved by
a character; the golden diagnostics only see spans that end up in a diagnostic. Here each text's
whole syntax tree — every field of every node, `span`, `op_span`, `unit_span` and `tag_spans`
included — or, for a text that does not parse, every diagnostic with its span, is reduced to a
digest in tests/golden/parser_pinned.json. The digests were written by the parser that built a
lark tree and transformed it afterwards (before the parse-time builder replaced it), so they prove
that the two agree on every shipped contract, every corpus file and every example in the docs.

`SIB_REGEN=1` rewrites the file; a changed digest is a change in what the parser produces: find
the node with `dump(text)` before and after, and say why in the commit.
"""

from __future__ import annotations

import hashlib
import json
import re

import attrs
import pytest

from sibdsl import SibError, Source
from sibdsl.limits import MAX_DEPTH
from sibdsl.parser import parse
from sibdsl.source import Span

from .conftest import REGEN, ROOT
from .test_docs_examples import FRAGMENT_HEADER, PAGES

PINNED = ROOT / "tests" / "golden" / "parser_pinned.json"
_FENCE = re.compile(r"^```sib([^\n`]*)\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


def _texts() -> dict[str, str]:
    texts = {}
    for path in sorted(ROOT.glob("contracts/**/*.sib")) + sorted(ROOT.glob("tests/corpus/**/*.sib")):
        data = path.read_bytes()
        try:
            texts[str(path.relative_to(ROOT))] = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            continue  # E001 is the reader's, not the parser's
    for page in PAGES:
        for i, match in enumerate(_FENCE.finditer(page.read_text(encoding="utf-8"))):
            options, body = match.groups()
            text = FRAGMENT_HEADER + body if "fragment" in options.split() else body
            texts[f"{page.relative_to(ROOT)}#{i}"] = text
    texts.update(EDGES)
    return texts


_H = 'contract "T" currency SEK rounding 1 SEK half up\nparty a "A": payer\nparty b "B": investor\n'
EDGES = {  # what the files above do not show: limits, keywords as names, line ends, parentheses
    "edge:empty": "",
    "edge:comment only": "# nothing here\n",
    "edge:parentheses last": _H + "define x = (1 SEK + 2 SEK)\npayment p = -(x) * (2) from a to b\n",
    "edge:keywords as names": _H + "measure version: number\nmeasure source: money\n"
                              "define per = source * version\npayment total_paid = per from a to b\n",
    "edge:crlf": _H.replace("\n", "\r\n") + '"""two\r\nlines"""\r\npayment p = 1 SEK from a to b\r\n',
    "edge:many parentheses": _H + "payment p = " + "(" * 300 + "1 SEK" + ")" * 300 + " from a to b\n",
    "edge:deep sum": "define x = " + "+".join(["1"] * 1000),
    "edge:deep negation": "define x = " + "-" * 5000 + "1",
    "edge:deep and unfinished": "define x = " + "-" * 500 + "1\ndefine y =",
    "edge:bad dates": _H + "term 2016-02-30 to 2017-13-01\npayment p = 1 SEK from a to b due 2016-00-10\n",
    "edge:long number": _H + "payment p = " + "9" * 40 + " SEK from a to b\nterm 2016-02-30 to 2017-01-01\n",
    "edge:long number quoted before": _H + '"' + "1" * 40 + '0"\ndefine x = ' + "1" * 40 + "\n",
    "edge:long number then syntax error": _H + "define x = " + "1" * 40 + "\ndefine y = )\n",
}


def dump(text: str) -> str:
    """Every field of every node (spans included), or every diagnostic with its span."""
    source = Source("pinned.sib", text)
    try:
        tree = parse(source)
    except SibError as err:
        def at(span):
            return None if span is None else _Lit(_span(span, source))

        return "\n".join(repr((d.code, d.message, at(d.span), d.label, d.hint,
                               tuple((at(x.span), x.message) for x in d.labels), d.notes))
                         for d in err.diagnostics)
    return _fields(tree, source)


def _span(span: Span, source: Source) -> str:
    """A span as it was written when spans held their character offsets too (issue 21 took them
    out: source.Span): the digests pinned before still hold, which shows that the offsets read
    from the line table are the ones the parser stored, on every text here."""
    start, end = source.offsets(span)
    return (f"Span(start={start}, end={end}, line={span.line}, column={span.column}, "
            f"end_line={span.end_line}, end_column={span.end_column})")


class _Lit(str):
    """Text of the dump itself, as opposed to a value still to be dumped."""

    def __repr__(self) -> str:
        return str(self)


def _fields(value, source: Source | None = None) -> str:
    """Like repr, with every field (those left out of repr and equality too); without recursion, so
    a sum of thousands of terms is dumped too."""
    out, stack = [], [value]
    while stack:
        item = stack.pop()
        if isinstance(item, _Lit):
            out.append(item)
            continue
        if type(item) is Span and source is not None:
            out.append(_span(item, source))
        elif attrs.has(type(item)):
            parts = [_Lit(f"{type(item).__name__}(")]
            for k, f in enumerate(attrs.fields(type(item))):
                parts += [_Lit(", " if k else ""), _Lit(f"{f.name}="), getattr(item, f.name)]
            stack.extend(reversed([*parts, _Lit(")")]))
        elif isinstance(item, tuple):
            parts = [_Lit("(")]
            for k, x in enumerate(item):
                parts += [_Lit(", " if k else ""), x]
            stack.extend(reversed([*parts, _Lit(",)")]))
        else:
            out.append(repr(item))
    return "".join(out)


def _digest(text: str) -> str:
    return hashlib.sha256(dump(text).encode("utf-8")).hexdigest()


TEXTS = _texts()


def test_every_text_is_pinned():
    actual = {name: _digest(text) for name, text in TEXTS.items()}
    if REGEN or not PINNED.exists():
        PINNED.write_text(json.dumps(actual, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    expected = json.loads(PINNED.read_text(encoding="utf-8"))
    assert sorted(actual) == sorted(expected), "texts added or removed: SIB_REGEN=1 to pin them"
    changed = [name for name in actual if actual[name] != expected[name]]
    assert not changed, f"the parser's output changed for: {changed}"


@pytest.mark.parametrize("name", [n for n in TEXTS if n.startswith("contracts/")])
def test_spans_agree_with_the_source_positions(name):
    """Line and column of every span are those of its offsets in the text."""
    source = Source(name, TEXTS[name])
    tree = parse(source)

    def walk(value):
        if isinstance(value, Span):
            yield value
        elif attrs.has(type(value)):
            for field in attrs.fields(type(value)):
                yield from walk(getattr(value, field.name))
        elif isinstance(value, tuple):
            for item in value:
                yield from walk(item)

    found = list(walk(tree))
    assert len(found) > 100
    for span in found:
        assert span == source.span(*source.offsets(span)), span


def test_the_basic_lexer_reads_what_the_contextual_lexer_reads():
    """Where the basic lexer's parse succeeds, the contextual lexer's builds the same tree, spans
    included (the reasoning is in sibdsl/parser.py's docstring); where it fails on a correct text,
    the contextual one is used."""
    from lark.exceptions import UnexpectedInput

    from sibdsl.parser import _builder, _problems

    both = fallback = 0
    for name, text in TEXTS.items():
        _problems.found = []
        try:
            fast = _builder("basic").parse(text)
        except UnexpectedInput:  # syntax errors; the texts with a keyword as a name
            fast = None
        try:
            slow = _builder("contextual").parse(text)
        except UnexpectedInput:
            assert fast is None, name
            continue
        if fast is None:
            fallback += 1
            continue
        both += 1
        assert (fast.span, fast.depth) == (slow.span, slow.depth), name
        if fast.depth <= MAX_DEPTH:  # deeper ones are refused (E106) and too deep to print
            assert _fields(fast.value) == _fields(slow.value), name
    assert both > 50 and fallback >= 2
