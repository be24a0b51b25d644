"""Incremental checking: a definition's check, kept from the last check of the same document and
replayed when nothing it read has changed (issues 20/21: diagnostics after a keystroke).

The studio and `sibc lsp` check a document again after every pause in typing, and most of a large
contract's check is its definitions (`define`, `baseline`): typing and lowering each formula, one
after another. `incremental.Parser` gives the declarations an edit did not touch back as the same
objects (the same text at the same place, spans included), so a definition whose node is the very
object checked last time, and whose every input is too, checks to the very same result.

What a definition's check reads, recorded while it runs (a `Frame`):

  * the entries of the table of names it looked up, by name (a name it did not find as well: a
    declaration added under that name changes it), compared by identity of the declaring node
    and by kind;
  * of the definitions it refers to, what it read of their results (`reading`: whether there is one,
    and its type): a definition re-checked to the same type leaves those that read it replayed; a
    definition's check that reads other definitions' values (a constant: `types.constant`) is not
    kept (`values_read`);
  * the whole table of names (its names and kinds, in order) when it walked the table: the "did you
    mean" hint of an unknown name lists the names there are;
  * its own clause (`ClauseRef`: the heading above it and its line; a keystroke within a line
    moves no line, and spans hold no offsets (source.Span), so a declaration below it is the very
    object it was and is replayed). A line break typed or deleted above it moves its declaration:
    a new object, the same first parse (`Memo.origin`), so the check is replayed moved (`moved`:
    its result's and diagnostics' spans and its clause's line follow the declaration), unless a
    span in it lies outside the declaration's own lines (a label at another declaration), when it
    is checked again. The entries it read are compared by their first parse too, for the same
    reason;
  * everything the stages before the definitions read (the header, parties, the term, series,
    measures, parameters, cohorts, investments, and any declaration not known to come later):
    the memo is used only when every one of those is the object it was last time.

The checks of the last check and of the one before it are kept (the second when both saw the same
declarations before the definitions): typing a character and deleting it, or breaking a name and
fixing it, brings back a text whose definitions the check before the last saw.

What it does, replayed on reuse: its diagnostics (with the new `Source`), the names it marked used,
its result. A definition whose check computed another definition's (a cycle, or an order other
than `definition_order`'s), or read a rate card or a table (checked after the definitions), is not
kept. Everything else the checker does (names, duplicates, cycles, payments and the rules over
them) runs whole as before, so the result is the whole check's: tests/test_incremental.py holds
the two to the same diagnostics and models under random edits.
"""

from __future__ import annotations

import attrs

from .. import syntax as s

# The declarations checked after the definitions: a definition's check cannot read what they give.
# Every other kind of item (a header, a party, a measure, …, and any kind added later) must be the
# same object as last time for the memo to be used.
LATER = (s.Define, s.Baseline, s.Payment, s.Gate, s.Floor, s.Cap, s.ReturnLimit, s.Guarantee, s.Cover,
         s.Assume, s.Waterfall, s.Heading, s.Prose)
# Entries a definition's check may not read and still be kept (their checks come after it).
UNKEPT_KINDS = frozenset({"ratecard", "table"})


class Frame:
    """What one definition's check read and did, recorded as it runs."""

    __slots__ = ("dependencies", "diagnostics", "keep", "lookups", "names_wide", "used")

    def __init__(self) -> None:
        self.lookups: dict[str, object] = {}  # name → its Entry (None: not declared)
        self.dependencies: dict[str, object] = {}  # name → what it read of the definition's result (`reading`)
        self.used: list[str] = []
        self.names_wide = False  # the whole table of names was read
        self.keep = True
        self.diagnostics: int = 0  # where its diagnostics start in the checker's list


@attrs.frozen
class Kept:
    """A definition's check as it was: its node, clause, inputs, and what it did."""

    node: object
    origin: object  # the node as first parsed: the same object wherever its declaration has moved
    clause: object
    lookups: tuple[tuple[str, object, object, str | None], ...]  # name, declaring node, its origin, kind
    dependencies: tuple[tuple[str, object], ...]  # name, `reading` of its result
    names: tuple | None  # the table's (name, kind) pairs, when it read the whole table
    result: object
    diagnostics: tuple
    used: tuple[str, ...]


class Memo:
    """The kept checks of one document's definitions, from its last check (`check(…, memo=)`).

    The statistics of the last check: `reused` definitions replayed, `checked` checked anew."""

    def __init__(self) -> None:
        # the header and the items the definitions' checks may read, and the definitions' checks
        # (and the checks of the one before it, made with the same header and items: an edit undone
        # — a character typed and deleted, a name broken and fixed — finds its definitions there)
        self.last: tuple[tuple, dict[str, Kept], dict[str, Kept]] = ((), {}, {})
        # from incremental.Parser, for the tree it gave last: id(item) → (item, the item as first
        # parsed); the second is the same object wherever its declaration has moved since
        self.origins: dict[int, tuple] = {}
        # the names a definition's formulas refer to (names.definition_refs), by its first parse:
        # id → (the item as first parsed, the names)
        self.refs: dict[int, tuple] = {}
        # names.collect_names: id(item) → (item, its heading, kind, name, label, clause, entry), the
        # declarations of the last check's tree
        self.declarations: dict[int, tuple] = {}
        # names.definition_order: (the definitions' names, their definition_refs lists, the order)
        self.order: tuple = ([], [], ())

    def origin(self, node) -> object:
        """The item as first parsed of an item of the tree this memo's parser gave last (the same
        object wherever its declaration has moved since: incremental._Parsed); else the item."""
        pair = self.origins.get(id(node))
        return pair[1] if pair is not None and pair[0] is node else node

    def definition_refs(self, nodes: list) -> list[list[str]]:
        """names.definition_refs of each node, kept by the node's first parse: the same names
        wherever the declaration has moved. Keeps those of these nodes only."""
        from .names import definition_refs

        origins, last, now, result = self.origins, self.refs, {}, []
        for node in nodes:
            pair = origins.get(id(node))
            if pair is None or pair[0] is not node:  # not from the tree this memo's parser gave last
                result.append(definition_refs(node))
                continue
            origin = pair[1]
            kept = last.get(id(origin))
            if kept is None or kept[0] is not origin:
                kept = (origin, definition_refs(node))
            now[id(origin)] = kept
            result.append(kept[1])
        self.refs = now
        return result


def reading(result) -> object:
    """What a definition's check reads of another definition's result: whether it has one (None: it
    did not check, its error reported there) and its type — `types.expr_Ref`, the only reader
    inside a definition's check. A definition checked again to the same type therefore leaves those
    that refer to it replayed (a keystroke in a number does not re-check the chain below it). A
    check that reads definitions' values (`types.constant`: a table's threshold, an exponent, an
    indexation rate written with a definition's name) is not kept at all (`values_read`)."""
    return None if result is None else result.ty


def values_read(frames: list[Frame]) -> None:
    """The definitions being checked read other definitions' values, through any number of them:
    more than `reading` records, so none of them is kept."""
    for frame in frames:
        frame.keep = False


def before_items(tree: s.Contract) -> tuple:
    return (tree.header, *(item for item in tree.items if not isinstance(item, LATER)))


def same(a: tuple, b: tuple) -> bool:
    return len(a) == len(b) and all(x is y for x, y in zip(a, b, strict=True))


class Names(dict):
    """The checker's table of names, recording reads into the definition frame being checked."""

    __slots__ = ("frames",)

    def __init__(self, frames: list[Frame]):
        super().__init__()
        self.frames = frames

    def _read(self, name, entry) -> None:
        if self.frames:
            frame = self.frames[-1]
            frame.lookups.setdefault(name, entry)
            if entry is not None and entry.kind in UNKEPT_KINDS:
                frame.keep = False

    def __getitem__(self, name):
        entry = dict.__getitem__(self, name)
        self._read(name, entry)
        return entry

    def get(self, name, default=None):
        entry = dict.get(self, name)
        self._read(name, entry)
        return default if entry is None else entry

    def __contains__(self, name) -> bool:
        entry = dict.get(self, name)
        self._read(name, entry)
        return entry is not None

    def _wide(self) -> None:
        if self.frames:
            self.frames[-1].names_wide = True

    def items(self):
        self._wide()
        return dict.items(self)

    def values(self):
        self._wide()
        return dict.values(self)

    def keys(self):
        self._wide()
        return dict.keys(self)

    def __iter__(self):
        self._wide()
        return dict.__iter__(self)

    def __len__(self) -> int:
        self._wide()
        return dict.__len__(self)

    def key(self) -> tuple:
        return tuple((name, entry.kind) for name, entry in dict.items(self))


class Used(set):
    """The checker's set of used names, recording additions into the frame being checked."""

    __slots__ = ("frames",)

    def __init__(self, frames: list[Frame]):
        super().__init__()
        self.frames = frames

    def add(self, name) -> None:
        if self.frames:
            self.frames[-1].used.append(name)
        set.add(self, name)


def with_source(diagnostic, source):
    labels = tuple(attrs.evolve(label, source=source) if label.source is diagnostic.source else label
                   for label in diagnostic.labels)
    return attrs.evolve(diagnostic, source=source, labels=labels)


class _Far(Exception):
    """A span outside the lines of the declaration a kept check is moved with."""


_MOVERS: dict | None = None


def moved(kept: Kept, node, clause, lookups: tuple) -> Kept | None:
    """`kept`, the check of a declaration whose text is now `node`'s `delta` lines further
    (the same first parse: a line break typed or deleted above it), as checking `node` gives it:
    its result and diagnostics with their spans moved by `delta` and its clause `clause` (the
    same but for the line). None where that is not exact: a span outside the declaration's own
    lines (a label at another declaration, which may have moved otherwise: `x` is a payment,
    declared there), a clause that differs otherwise (a heading retitled above), or another
    clause in the result; the caller checks the definition again. `lookups`: the entries it read,
    as they are now (their declarations moved with it or not, the same first parse)."""
    global _MOVERS
    old, was = kept.node.span, kept.clause
    delta = node.span.line - old.line
    if (clause.line - was.line != delta or clause.kind != was.kind or clause.name != was.name
            or clause.heading != was.heading or clause.label != was.label):
        return None
    if _MOVERS is None:
        from .. import model
        from ..incremental import movers

        found = movers(model, base=movers(s))
        found[model.ClauseRef] = _far  # another declaration's clause: it may have moved otherwise
        _MOVERS = found
    low, high = old.line, old.end_line

    def span(value, new=object.__new__, put=object.__setattr__):
        if value.end_line == 1 and value.end_column == 1:
            return value  # NO_SPAN: no token gave it (incremental._unplaced)
        if value.line < low or value.end_line > high:
            raise _Far
        if not delta:
            return value
        moved = new(value.__class__)
        put(moved, "line", value.line + delta)
        put(moved, "column", value.column)
        put(moved, "end_line", value.end_line + delta)
        put(moved, "end_column", value.end_column)
        return moved

    try:
        result = kept.result
        if result is not None:
            if result.clause is not was:
                raise _Far
            result = _copy(result, span, {"clause": clause})
        diagnostics = tuple(attrs.evolve(d, span=None if d.span is None else span(d.span),
                                         labels=tuple(attrs.evolve(label, span=span(label.span)) for label in d.labels))
                            for d in kept.diagnostics)
    except (_Far, RecursionError):  # (a formula thousands deep: checked again, without recursion)
        return None
    return Kept(node, kept.origin, clause, lookups, kept.dependencies, kept.names, result, diagnostics, kept.used)


def _far(value, span):
    raise _Far


def _copy(value, span, given: dict):
    """A copy of the node `value` with its fields moved (`_MOVERS`), but those `given`."""
    get, copy = _MOVERS.get, object.__new__(value.__class__)
    for field in attrs.fields(value.__class__):
        x = given[field.name] if field.name in given else getattr(value, field.name)
        object.__setattr__(copy, field.name, x if field.name in given else get(x.__class__, _same)(x, span))
    return copy


def _same(value, span):
    return value
