"""What the language server knows about one version of a document: text → `Analysis`.

- `diagnostics`: exactly those of `sibc check` (parse, then check), never more, never fewer.
- `tree`: a syntax tree even when the text has syntax errors. Each declaration with an error is
  blanked (spaces, line breaks kept, so every offset stays where it was) and the rest is parsed
  again: hover, definition, references, rename, the outline, folding, semantic tokens and
  completion keep working on every other declaration while the author is mid-edit.
- `model`: the checked model when the (error-tolerant) tree checks without errors.
- `index`: every occurrence of every declared name, with its kind: what references, rename,
  highlighting and completion are built on.

Offsets are code-point offsets into the text (a span's, from the text's line table:
`Analysis.offsets`); `lsp_text.Lines` turns them into the client's positions.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterator

import attrs

from . import syntax as s
from .diagnostics import Diagnostic, SibError
from .source import Source

# Words that begin a declaration (as parser.DECLARATION_KEYWORDS): recovery resumes at a line
# that starts with one, or with a § heading.
DECLARATION_KEYWORDS = (
    "contract", "party", "term", "periods", "cohort", "investment", "measure", "define",
    "baseline", "payment", "gate", "floor", "cap", "return", "guarantee", "clause",
    "table", "ratecard",  # issue 15
    "cover", "waterfall", "coupon", "repayment", "redemption",  # issue 14
    "assume", "parameter",  # issue 17
)
_RESUME = re.compile(r"^[ \t]*(?:§|(?:" + "|".join(DECLARATION_KEYWORDS) + r")\b)", re.MULTILINE)
_MAX_ROUNDS = 8  # parses of a text with errors before the tolerant tree gives up

KIND_OF = {
    s.Party: "party", s.Periods: "periods", s.Cohort: "cohort", s.Investment: "investment",
    s.Measure: "measure", s.Define: "definition", s.Baseline: "baseline", s.Payment: "payment",
    s.Gate: "gate", s.Floor: "floor", s.Cap: "cap", s.ReturnLimit: "return limit",
    s.Guarantee: "guarantee", s.Table: "table", s.RateCard: "rate card",  # issue 15
    s.Cover: "cover", s.Assume: "assumption", s.Parameter: "parameter", s.Waterfall: "waterfall",
    s.Coupon: "coupon", s.Repayment: "repayment", s.Redemption: "redemption",  # issue 14
}


@attrs.frozen
class Occurrence:
    """One place a name is written: where it is declared, or where it is used."""

    name: str
    start: int
    end: int
    declaration: bool


@attrs.frozen
class Declared:
    """A declared name: its kind, the node that declares it and where its name is written."""

    name: str
    kind: str  # party, periods, period, cohort, investment, measure, definition, …
    node: object
    start: int
    end: int


@attrs.frozen
class Index:
    declared: dict[str, Declared]
    occurrences: tuple[Occurrence, ...]  # in text order

    def at(self, offset: int) -> Occurrence | None:
        """The occurrence under an offset (its end included: a cursor just after a name)."""
        for o in self.occurrences:
            if o.start <= offset <= o.end:
                return o
            if o.start > offset:
                break
        return None

    def of(self, name: str) -> list[Occurrence]:
        return [o for o in self.occurrences if o.name == name]


@attrs.frozen(slots=False)
class Analysis:
    text: str
    diagnostics: tuple[Diagnostic, ...]
    tree: s.Contract | None
    model: object | None  # model.Contract
    blanked: tuple[tuple[int, int], ...] = ()  # regions left out of the tolerant tree

    @functools.cached_property
    def index(self) -> Index:
        """Made when a request first asks for it (in the server's worker), not before the diagnostics
        are published: on a 5,000-clause contract it took longer than parsing the edit and checking."""
        return index(self.tree, self.lines) if self.tree else EMPTY_INDEX

    @functools.cached_property
    def lines(self) -> Source:
        """The text's line table, for the character offsets of its spans."""
        return Source("", self.text)

    def offsets(self, span) -> tuple[int, int]:
        """The character offsets [start, end) of a span of this text."""
        return self.lines.offsets(span)


EMPTY_INDEX = Index({}, ())


def analyse(name: str, text: str, parser=None) -> Analysis:
    """Parse and check a document's text the way `sibc check` does, and tolerate syntax errors.

    `parser`, an `incremental.Parser` kept for the document, parses only the declarations changed
    since its last text (the same tree, spans included)."""
    from .check import check
    from .parser import parse

    if parser is not None:
        parse = parser.parse
    # A byte order mark, which `sibc check` drops when it reads a file, may reach the server from
    # an editor that keeps it: read it as a space, so every offset stays the editor's.
    checked = " " + text[1:] if text.startswith("\ufeff") else text
    source = Source(name, checked)
    try:
        tree = parse(source)
    except SibError as err:
        diagnostics = tuple(err.diagnostics)
        tree, blanked, model = _tolerant(name, checked, diagnostics, parser)
        return Analysis(text, diagnostics, tree, model, blanked)
    model, diagnostics = check(tree, source, getattr(parser, "memo", None))
    return Analysis(text, tuple(diagnostics), tree, model)


def _tolerant(name: str, text: str, diagnostics, parser=None) -> tuple[s.Contract | None, tuple, object | None]:
    """A tree of every declaration that parses, with those that do not blanked out.

    Each declaration (from a line that starts one to the next) is parsed on its own first: a
    valid one is cheap to parse, and only the broken ones pay for error reporting, so a 400 KB
    contract with thirty errors costs seconds, not a full parse per error. What still fails in
    context is then blanked where the whole text's parse reports it.

    With the document's `incremental.Parser`: a declaration whose text is one the parser last
    parsed on its own without an error is not parsed again (the same text gives the same
    outcome), the blanked text is parsed incrementally (the blank joins the declaration above;
    every other is reused) and checked with the parser's memo of definitions (check/memo.py)."""
    from .check import check
    from .diagnostics import has_errors
    from .parser import parse

    whole = parse
    parses_alone = parser.parses_alone if parser is not None else lambda piece: False
    if parser is not None:
        parse = parser.parse

    if any(d.code == "E106" and d.span is not None and d.span.line == d.span.column == 1 and "characters" in d.message
           for d in diagnostics):
        return None, (), None  # over the size limit: nothing is parsed at all
    current = text.replace("\x00", " ")
    starts = [m.start() for m in _RESUME.finditer(current)]
    blanked: list[tuple[int, int]] = []

    def blank(start: int, end: int) -> None:
        nonlocal current
        current = current[:start] + re.sub(r"[^\r\n]", " ", current[start:end]) + current[end:]
        blanked.append((start, end))

    bounds = sorted({0, *starts, len(current)})
    for start, end in itertools.pairwise(bounds):
        if current[start:end].strip() and not parses_alone(current[start:end]):
            try:
                whole(Source(name, current[start:end]))
            except SibError:
                blank(start, end)
    for _ in range(_MAX_ROUNDS):
        source = Source(name, current)
        try:
            tree = parse(source)
        except SibError as err:
            # every declaration here parsed on its own: the one the error is in is misplaced (a
            # second header); if it is blank already, the one before it
            regions = [next((r for r in _regions(current, starts, source.offset(d.span.line, d.span.column)) if current[r[0]:r[1]].strip()), None)
                       for d in err.diagnostics if d.span is not None]
            regions = sorted({r for r in regions if r is not None})
            if not regions:
                return None, tuple(sorted(blanked)), None
            for start, end in regions:
                blank(start, end)
            continue
        model, semantic = check(tree, source, getattr(parser, "memo", None))
        return tree, tuple(sorted(blanked)), (None if has_errors(semantic) else model)
    return None, tuple(sorted(blanked)), None


def _regions(text: str, starts: list[int], pos: int) -> list[tuple[int, int]]:
    """The declarations to blank for an error at pos, best first (from the line that starts one to
    the line that starts the next): the one the error is in, then, for an error at its very start,
    the one before it."""
    import bisect

    i = bisect.bisect_right(starts, pos) - 1
    own = ((starts[i] if i >= 0 else 0), (starts[i + 1] if i + 1 < len(starts) else len(text)))
    line_start = text.rfind("\n", 0, pos) + 1
    if line_start in starts and not text[line_start:pos].strip():
        k = starts.index(line_start) - 1
        return [own, ((starts[k] if k >= 0 else 0), line_start)]
    return [own]


# ---------------------------------------------------------------- names
def _refs(value) -> Iterator[s.Ref]:
    """Every Ref under a node (an explicit stack: expressions nest up to 200 levels)."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, s.Ref):
            yield v
        elif isinstance(v, tuple):
            stack.extend(reversed(v))
        elif attrs.has(type(v)) and not isinstance(v, (s.Ident, s.Text, s.DateLit, s.Quantity)):
            stack.extend(getattr(v, a.name) for a in reversed(type(v).__attrs_attrs__))


def declared_name(item) -> s.Ident | None:
    """The name token a declaration gives, directly or through its clause declaration (`gate g: …`)."""
    ident = getattr(item, "name", None)
    if not isinstance(ident, s.Ident):
        decl = getattr(item, "decl", None)
        ident = decl.name if decl is not None else None
    return ident if isinstance(ident, s.Ident) else None


def declarations(tree: s.Contract) -> Iterator[tuple[str, s.Ident, object]]:
    """(kind, name token, declaring node) of every declaration, in text order."""
    for item in tree.items:
        kind = KIND_OF.get(type(item))
        if kind is not None and (ident := declared_name(item)) is not None:
            yield kind, ident, item
        if isinstance(item, s.Periods):
            for p in item.periods:
                yield "period", p.name, p


def _name_uses(item) -> Iterator[s.Ident | s.Ref]:
    """The names a declaration uses: in its expressions and in its name-taking options."""
    if isinstance(item, s.Investment):
        yield item.investor
    for option in getattr(item, "options", ()):
        if option.key == "per" and isinstance(option.value, s.Ident):
            yield from s.series_names(option.value)  # issue 15: both series of `per A × B`
        elif option.key in ("from", "to") and isinstance(option.value, s.Ident):
            yield option.value
    target = getattr(item, "target", None)
    if isinstance(target, s.Target) and target.names:  # issue 15: every payment of a stream
        yield from target.names
    elif isinstance(target, s.Target) and target.name is not None:
        yield target.name
    for option in getattr(item, "options", ()):  # issue 15: `during y1 through y3`
        if option.key == "during":
            yield from option.value
    if isinstance(item, s.Guarantee) and item.monotone_in is not None:
        yield item.monotone_in
    yield from _refs(item)
    yield from (c.func for c in s.walk(item) if isinstance(c, s.Call))  # a named table's uses (issue 15)
    yield from (c.over for c in s.walk(item) if isinstance(c, s.SumOver))  # `sum(x over years)`
    yield from (c.period for c in s.walk(item) if isinstance(c, s.Index))  # `ready[c2014]`


def index(tree: s.Contract, lines: Source) -> Index:
    """The names of a tree of the text `lines` holds."""
    declared: dict[str, Declared] = {}
    found: list[Occurrence] = []
    for kind, ident, node in declarations(tree):
        start, end = lines.offsets(ident.span)
        declared.setdefault(ident.name, Declared(ident.name, kind, node, start, end))
        found.append(Occurrence(ident.name, start, end, True))
    for item in tree.items:
        for use in _name_uses(item):
            if use.name in declared:
                found.append(Occurrence(use.name, *lines.offsets(use.span), False))
    found.sort(key=lambda o: o.start)
    return Index(declared, tuple(found))
