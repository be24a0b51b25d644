"""Incremental parsing for the studio and the language server: after an edit, parse only the
declarations whose text changed, and give exactly the tree `parser.parse` would.

A contract is a sequence of top-level declarations, and each starts on its own line with a
declaration keyword (`define`, `payment`, …, `table`, `ratecard`) or a `§` heading
(parser.DECLARATION_KEYWORDS; the grammar needs no separators because every declaration starts
with a keyword). `chunks` cuts the text at the start of each such line, except inside a text in
triple quotes: comments, prose and continuation lines stay with the declaration above them.

Each chunk is parsed on its own (as a text that starts at line 1) and kept, keyed by its text; a
chunk met again on another line gets its spans moved by the change in line count (`_moved`; a
chunk starts at a line start, so no column moves). A span holds no character offset (source.Span),
so a chunk met again on the same line — every declaration below a keystroke that added or removed
no line break — is given back as it is: the same objects, which the check's memo replays. The result is the tree of the whole text when

  * every chunk parses on its own, without a diagnostic (a syntax error, E105, E106, E110), and
  * only the first chunk with any declaration may hold the header (`contract …`).

Why that is exact: no token crosses a cut (a cut is at a line start, and only a text in triple
quotes spans lines; cuts inside one are not made), so the whole text's tokens are the chunks'
tokens one after another; the chunks' items, one after another, are then a derivation of the
grammar's `start: header? _item*` for them, and an LALR grammar has one derivation per token
sequence: the one the whole parse finds. Every other text — a syntax error anywhere, a date
that is no date, a keyword used where the cut would split a declaration (`cap` inside a rate
card's braces: that chunk does not parse alone) — goes to `parser.parse` of the whole text, so its
diagnostics are exactly the full parse's. tests/test_incremental.py holds the two to the same
trees, spans included, and the same diagnostics under random edits.
"""

from __future__ import annotations

import bisect
import itertools
import re
import threading

from . import syntax as s
from .diagnostics import SibError
from .gcpause import paused
from .limits import MAX_SOURCE_CHARS
from .source import Source, Span, lone_cr_to_lf

# A line that starts a declaration or a heading: parser._RESUME, compiled once.
_STARTS: re.Pattern | None = None
# What the lexer reads as one token that may contain a `"` or a `#`: texts (a triple-quoted one
# may span lines) and comments, in the grammar's own patterns (grammar/sib.lark STRING, COMMENT).
_QUOTED = re.compile(r'"""(?:[^"\\]|\\.|"(?!""))*"""|"(?:[^"\\\n\r]|\\.)*"|#[^\r\n]*')


def _starts() -> re.Pattern:
    global _STARTS
    if _STARTS is None:
        from .parser import _RESUME

        _STARTS = re.compile(_RESUME, re.MULTILINE)
    return _STARTS


def chunks(text: str) -> list[int]:
    """The offsets where the text's top-level declarations start (0 first), never inside a text in
    triple quotes. `text` has its lone CRs as LF (source.lone_cr_to_lf)."""
    cuts = [0]
    starts = [m.start() for m in _starts().finditer(text)]
    if not starts:
        return cuts
    # triple-quoted texts that span a line break: no cut inside them
    spans = [(m.start(), m.end()) for m in _QUOTED.finditer(text, starts[0]) if "\n" in m.group()] \
        if '"""' in text else []
    k = 0
    for at in starts:
        while k < len(spans) and spans[k][1] <= at:
            k += 1
        if k < len(spans) and spans[k][0] < at:
            continue
        if at > cuts[-1]:
            cuts.append(at)
    return cuts


class _Parsed:
    """One chunk's parse, placed at `line`: its header (or None), its items, the span of its
    text from its first token to its last (None when it has none), and `origins`: its items as
    first parsed, the same objects wherever the chunk is moved (what the checker keeps per
    declaration whatever its place, check/memo.py)."""

    __slots__ = ("header", "items", "line", "origins", "span")

    def __init__(self, line: int, header, items: tuple, span: Span | None, origins: tuple | None = None):
        self.line, self.header, self.items, self.span = line, header, items, span
        self.origins = items if origins is None else origins


class Parser:
    """The parse of successive versions of one document; keeps the chunks of the last version.

    `parse(source)` returns what `parser.parse(source)` returns or raises what it raises. Safe to
    call from several threads (one parse at a time)."""

    def __init__(self, *, memo: bool = True) -> None:
        self._last: dict[str, list[_Parsed]] = {}
        # the chunks of the version before the last, for those the last did not have: an edit undone
        # (a character typed and deleted) gives back the very objects, which the check's memo replays
        self._older: dict[str, list[_Parsed]] = {}
        self._lock = threading.Lock()
        self.reused = self.parsed = 0  # chunks of the last parse taken from the cache / parsed anew
        self.whole = False  # whether the last parse was of the whole text
        from .check.memo import Memo

        # the last check's definitions, for `check(…, memo=)` (check/memo.py); without (memo=False),
        # only the parse is incremental (benchmarks/bench.py compares the two)
        self.memo = Memo() if memo else None

    @paused()
    def parse(self, source: Source) -> s.Contract:
        from .parser import parse

        with self._lock:
            text = source.text
            tree = None
            if len(text) <= MAX_SOURCE_CHARS and "\x00" not in text:  # else parse() reports it
                tree = self._incremental(source, lone_cr_to_lf(text))
            if tree is None:
                self.whole, self.reused, self.parsed = True, 0, 0
                if self.memo is not None:
                    self.memo.origins = {}
                return parse(source)
            self.whole = False
            return tree

    def parses_alone(self, piece: str) -> bool:
        """Whether `parser.parse` of `piece` alone is known to succeed: it is the text of a chunk of
        the last two versions parsed (every chunk of which parsed alone without a diagnostic). The text
        has its lone CRs as LF."""
        return piece in self._last or piece in self._older

    def _incremental(self, source: Source, text: str) -> s.Contract | None:
        from .parser import parse

        name = source.name

        cuts = chunks(text)
        cuts.append(len(text))
        last, older, taken = self._last, self._older, {}
        # each chunk's parse where it was last (moved below once the text is known to parse), None
        # for a chunk that does not parse alone: a syntax error (E101–E104)
        placed: list[_Parsed | None] = []
        reused = parsed = 0
        headed = spanned = False
        lines = []  # each chunk's first line
        line = 1
        for start, end in itertools.pairwise(cuts):
            piece = text[start:end]
            lines.append(line)
            line += piece.count("\n")
            previous = last.get(piece) or older.get(piece)
            k = taken.get(piece, 0)
            if previous and k < len(previous):
                taken[piece] = k + 1
                chunk = previous[k]
                if chunk.line != lines[-1]:
                    # a line break typed and deleted again: the version before the last has the chunk
                    # at this very line, the same objects (nothing to move, and the check's memo
                    # replays them: check/memo.py keeps the checks of the last two versions too)
                    other = older.get(piece)
                    if other and k < len(other) and other[k].line == lines[-1]:
                        chunk = other[k]
                reused += 1
            else:
                try:
                    tree = parse(Source(name, piece))
                except SibError as err:
                    if not all(d.code in _SYNTAX for d in err.diagnostics):
                        return None  # the whole text's parse reports it; the last version's chunks are kept
                    placed.append(None)  # a header after it: syntax_errors' windows take it in
                    continue
                chunk = _Parsed(1, tree.header, tree.items, None if _unplaced(tree.span) else tree.span)
                parsed += 1
            placed.append(chunk)
            if chunk.header is not None:
                if spanned or headed:
                    return None  # a second header, or one after a declaration: the full parse says so
                headed = True
            spanned = spanned or chunk.span is not None  # (a broken chunk is not: see syntax_errors)
        self.reused, self.parsed = reused, parsed
        if None in placed:
            found = syntax_errors(source, text, cuts, placed)
            if found is None:
                return None
            raise SibError(found)  # the last version's chunks are kept
        now: dict[str, list[_Parsed]] = {}
        header, items, first, final = None, [], None, None
        origins: dict[int, tuple] = {}  # id(item) → (item, the item as first parsed)
        for (start, end), unmoved, line in zip(itertools.pairwise(cuts), placed, lines, strict=True):
            piece = text[start:end]
            chunk = _moved(unmoved, line)
            now.setdefault(piece, []).append(chunk)
            header = header or chunk.header
            items.extend(chunk.items)
            for item, origin in zip(chunk.items, chunk.origins, strict=True):
                origins[id(item)] = (item, origin)
            if chunk.span is not None:
                first = first or chunk.span
                final = chunk.span
        self._older, self._last = last, now
        if self.memo is not None:
            self.memo.origins = origins
        span = first.to(final) if first is not None else s.Contract(None, ()).span
        return s.Contract(header, tuple(items), span=span)


# What `parser.parse` reports when the grammar does not take a text (parser._syntax_errors).
_SYNTAX = frozenset({"E101", "E102", "E103", "E104"})


def syntax_errors(source: Source, text: str, cuts: list[int], placed: list) -> list | None:
    """`parser.parse`'s syntax errors of a text whose chunks all parse alone but those in `broken`
    (`placed`: each chunk's parse, None for a broken one), found without parsing the whole text:
    None where that would not be exact.

    `parser._syntax_errors` parses the whole text, reports the first error, blanks the
    declaration around it (from the start of the last declaration at or before it, to the start of
    the next) and parses again. Each parse goes through the chunks that parse alone without an
    error (an LALR parser has one derivation for them, see the module's docstring), so its errors
    lie in the broken chunks, or at the first token of the chunk after one (a declaration left
    unfinished). Here the same loop (`parser._recover`) runs on each window of the text — a run of
    broken chunks and the chunk after it — preceded by the chunk that holds the header and the last
    chunk before the window that is still there (not blanked): what the parser's state at the
    window depends on (after a header, after a declaration, or at the start), and where a blanking
    may start. The window's errors are the whole loop's at the same offsets, with the same budget
    (limits.MAX_ERRORS in all). tests/test_incremental.py compares the two over random broken edits
    of every shipped contract. A header may follow broken chunks (not a chunk that parses: the
    caller parses that text whole): the window of the first takes it in, as the whole parse meets
    it after blanking them. Exact only where the chunks are the declarations `_skip_declaration`
    sees (no declaration keyword at a line start inside a text in triple quotes, no such text over
    a cut): else None."""
    from .parser import MAX_ERRORS, _recover, _unique

    inner = cuts[1:-1]
    if [m.start() for m in _starts().finditer(text) if m.start()] != inner:
        return None
    if '"""' in text:  # a text in triple quotes over a cut (`chunks` looks from the first cut on)
        for m in _QUOTED.finditer(text):
            k = bisect.bisect_right(inner, m.start())
            if k < len(inner) and inner[k] < m.end():
                return None
    n = len(placed)
    lines = [1]
    for start, end in itertools.pairwise(cuts):
        lines.append(lines[-1] + text.count("\n", start, end))
    header = next((i for i, chunk in enumerate(placed) if chunk is not None and chunk.header is not None), None)
    alive = [True] * n
    found: list = []
    low = placed.index(None)
    while low < n:
        high = low + 1
        while True:
            while high < n and placed[high - 1] is None:
                high += 1  # the broken run and the chunk after it
            # the last declaration still standing: where a blanking may start (a broken one too,
            # taken into a declaration after it; the prefix then errs and the whole text is parsed)
            keep = next((k for k in range(low - 1, -1, -1)
                         if alive[k] and (placed[k] is None or placed[k].span is not None)), None)
            prefix = [k for k in dict.fromkeys((header, keep)) if k is not None and k < low and alive[k]]
            pieces = [(k, k + 1) for k in prefix] + [(low, high)]
            compact = "".join(text[cuts[a]:cuts[b]] for a, b in pieces)
            at = len(compact) - (cuts[high] - cuts[low])  # where the window starts in `compact`
            end = None if high == n else len(compact)
            diagnostics, why, blanked = _recover(Source(source.name, compact), compact, MAX_ERRORS - len(found), end)
            if high < n and any(d.code == "E103" for d in diagnostics):
                # a declaration still unfinished at the window's end (its first error was past its
                # start): the whole text's parse goes on into the next chunk, so the window does
                high += 1
                continue
            break
        first = 1 + compact.count("\n", 0, at)  # the window's first line in `compact` (it starts a line)
        if any(d.span is None or d.span.line < first for d in diagnostics):
            return None  # an error before the window: not the case the reasoning above covers
        found += [_placed(d, source, lines[low] - first) for d in diagnostics]
        offset = 0
        for a, b in pieces:
            for k in range(a, b):
                size = cuts[k + 1] - cuts[k]
                now, was = blanked[offset:offset + size], text[cuts[k]:cuts[k + 1]]
                if now != was:
                    if now.strip():
                        return None  # blanked in part: not a declaration's cut
                    alive[k] = False
                offset += size
        if why in ("last", "unchanged", "limit"):
            break
        low = next((k for k in range(high, n) if placed[k] is None), n)
    return _unique(found) or None


def _placed(diagnostic, source: Source, down: int):
    import attrs

    span = diagnostic.span
    moved = Span(span.line + down, span.column, span.end_line + down, span.end_column)
    return attrs.evolve(diagnostic, source=source, span=moved)


def _unplaced(span: Span) -> bool:
    """Whether a span of a chunk parsed alone is NO_SPAN (no token gave it): it ends at the chunk's
    very start, where nothing real ends once the chunk is not the first."""
    return span.end_line == 1 and span.end_column == 1


def _moved(chunk: _Parsed, line: int) -> _Parsed:
    if chunk.line == line:
        return chunk  # the same lines: its spans hold (they have no offsets), so the same objects
    lines = line - chunk.line

    def span(old: Span, new=object.__new__, put=object.__setattr__) -> Span:
        if _unplaced(old):
            return old
        moved = new(Span)
        put(moved, "line", old.line + lines)
        put(moved, "column", old.column)  # a chunk starts at a line start: columns stay
        put(moved, "end_line", old.end_line + lines)
        put(moved, "end_column", old.end_column)
        return moved

    def move(value):
        try:
            return _MOVERS.get(value.__class__, _same)(value, span)
        except RecursionError:  # a chain of thousands of `+` is a tree thousands deep
            return _deep(value, span)

    return _Parsed(line, move(chunk.header), move(chunk.items),
                   None if chunk.span is None else span(chunk.span), chunk.origins)


def _same(value, span):
    return value


def _span(value, span):
    return span(value)


def movers(*modules, base: dict | None = None) -> dict:
    """For each node class of `modules`, a function that copies a node with its spans moved
    (`mover(node, span)`, `span` a function of the old span): generated, one assignment per field,
    because a keystroke near the top of a 5,000-clause contract moves ≈ 40,000 nodes and a generic
    walk took 7 µs a node. `base`: the movers of the classes the nodes may hold (check/memo.py moves
    the checked model's nodes, which hold the syntax's `Text`)."""
    import attrs

    found: dict = dict(base) if base else {Span: _span}

    def tuple_(value, span, get=found.get):
        return tuple([get(v.__class__, _same)(v, span) for v in value])

    found[tuple] = tuple_
    lines, scope = [], {"new": object.__new__, "put": object.__setattr__, "same": _same, "MOVERS": found}
    classes = {f"{module.__name__.rpartition('.')[2]}_{name}": cls for module in modules
               for name, cls in vars(module).items()
               if isinstance(cls, type) and attrs.has(cls) and cls.__module__ == module.__name__}
    for name, cls in classes.items():
        scope[f"cls_{name}"] = cls
        lines.append(f"def move_{name}(v, span, get=MOVERS.get):")
        lines.append(f"    n = new(cls_{name})")
        for field in attrs.fields(cls):
            lines.append(f"    x = v.{field.name}")
            lines.append(f"    put(n, {field.name!r}, get(x.__class__, same)(x, span))")
        lines.append("    return n")
    exec("\n".join(lines), scope)  # noqa: S102 — the text above, made from the node classes' own fields
    for name, cls in classes.items():
        found[cls] = scope[f"move_{name}"]
    return found


_MOVERS = movers(s)


def _deep(root, span):
    """`_MOVERS` without recursion, for a tree too deep for Python's stack: post-order, a node's
    values are moved before it is rebuilt from them."""
    done: list = []
    stack: list = [(root, False)]
    while stack:
        value, ready = stack.pop()
        cls = value.__class__
        if cls is Span:
            done.append(span(value))
            continue
        names = _fields(cls) if cls is not tuple else ()
        if cls is not tuple and names is None:
            done.append(value)
            continue
        if not ready:
            stack.append((value, True))
            children = value if cls is tuple else [getattr(value, f) for f in names]
            stack.extend((v, False) for v in reversed(children))
            continue
        n = len(value) if cls is tuple else len(names)
        values = done[len(done) - n:]
        del done[len(done) - n:]
        if cls is tuple:
            done.append(tuple(values))
            continue
        node = object.__new__(cls)
        for field, v in zip(names, values):
            object.__setattr__(node, field, v)
        done.append(node)
    return done[0]


_FIELDS: dict[type, tuple[str, ...] | None] = {}


def _fields(cls: type) -> tuple[str, ...] | None:
    """Every field of a syntax node class (spans included), in order; None for a plain value."""
    try:
        return _FIELDS[cls]
    except KeyError:
        import attrs

        names = tuple(f.name for f in attrs.fields(cls)) if attrs.has(cls) and cls is not Span else None
        _FIELDS[cls] = names
        return names


def check_source(source: Source, parser: Parser | None):
    """`sibdsl.check_source` with the parse incremental: (model or None, diagnostics), identical."""
    from .check import check

    if parser is None:
        from . import check_source as whole

        return whole(source)
    try:
        tree = parser.parse(source)
    except SibError as err:
        return None, list(err.diagnostics)
    return check(tree, source, parser.memo)


class Documents:
    """A `Parser` per document name, for a server with many: the most recently used `size` are kept."""

    def __init__(self, size: int = 8):
        from collections import OrderedDict

        self.size = size
        self._parsers: OrderedDict[str, Parser] = OrderedDict()
        self._lock = threading.Lock()

    def __getitem__(self, name: str) -> Parser:
        with self._lock:
            parser = self._parsers.pop(name, None) or Parser()
            self._parsers[name] = parser
            while len(self._parsers) > self.size:
                self._parsers.popitem(last=False)
            return parser
