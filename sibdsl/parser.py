"""Text → syntax tree. The only module that imports lark; no lark type leaves it.

`parse(source)` returns a `syntax.Contract` or raises `SibError` with every syntax
error it could find (after an error it skips to the next declaration and goes on).

The syntax nodes are built while lark's LALR parser runs: it calls one method of `_Syntax` per
grammar rule as it reduces it (lark's `transformer=` option), so no lark tree is built and walked
again. Each method receives the span of its rule's text, taken from the first and last token
under it (keywords and parentheses included), and the rule's values: its named tokens (NAME,
NUMBER, STRING, …) and what the methods of its sub-rules returned.

Three lark parsers share grammar/sib.lark:
  * the builder with lark's contextual lexer (in each parser state only the terminals that state
    accepts, so a keyword where only a name can stand is a name: `measure version: number`). It
    is run from its tables shipped with sibc, without importing lark (sibdsl/prebuilt.py:
    `_prebuilt()`; it reads with the basic lexer's one expression and asks the state's terminals
    only where their reading may differ), unless they were not made from this grammar; then
    lark's builder with the basic lexer (`_builder("basic")`: one expression, cheap to set up)
    parses, and a text it cannot parse goes on as below;
  * lark's builder with the contextual lexer (`_builder("contextual")`), for a text the basic
    lexer could not parse and the tree parser found no error in (a keyword used as a name, when
    the prebuilt parser is not used);
  * `_lark()`, which builds a lark tree with the contextual lexer and positions. It is used only
    for a text with a syntax error — to report every error with the exact set of what could come
    next — and to locate nesting deeper than MAX_DEPTH.
When the basic lexer's parse succeeds, the contextual lexer would have read the same tokens: each
token it read was acceptable where it stood, and the contextual lexer tries the same terminals
in the same order, only fewer of them (tests/test_parser_pinned.py compares the two on every
contract text in the repository; tests/test_prebuilt.py the prebuilt parser with the contextual
builder).
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import os
import re
import sys
import threading
from decimal import Decimal
from typing import TYPE_CHECKING

from . import syntax as s
from .diagnostics import Diagnostic, SibError, did_you_mean
from .gcpause import paused
from .limits import MAX_DEPTH, MAX_DIGITS, MAX_ERRORS, MAX_HEIGHT, MAX_SOURCE_CHARS
from .prebuilt import Token as _PrebuiltToken
from .source import NO_SPAN, Source, Span, lone_cr_to_lf
from .syntax import SEP

if TYPE_CHECKING:
    from pathlib import Path

    import lark
    from lark import Token

    from .prebuilt import Prebuilt

# Words that begin a declaration; error recovery resumes at a line starting with one.
DECLARATION_KEYWORDS = (
    "contract", "party", "term", "periods", "cohort", "investment", "measure", "define",
    "baseline", "payment", "gate", "floor", "cap", "return", "guarantee", "clause", "cover",
    "assume", "parameter",  # issue 17
    "waterfall",
)
# Words that begin a declaration but are not reserved (a payment may be called `table`): issue 15's
NEW_DECLARATION_WORDS = ("table", "ratecard", "coupon", "repayment", "redemption")  # issue 14: instruments
_RESUME = r"^[ \t]*(?:§|(?:" + "|".join(DECLARATION_KEYWORDS + NEW_DECLARATION_WORDS) + r")\b)"  # compiled on the first error


def grammar_path() -> Path:
    """The grammar shipped in the package (wheel), or the checkout's grammar/sib.lark."""
    from pathlib import Path

    return Path(_grammar_file())


def grammar_text() -> str:
    with open(_grammar_file(), encoding="utf-8") as handle:
        return handle.read()


def _grammar_file() -> str:
    # os.path rather than pathlib, which `sibc check` does not otherwise import (≈ 9 ms)
    here = os.path.dirname(os.path.realpath(__file__))
    shipped = os.path.join(here, "grammar", "sib.lark")
    if os.path.isfile(shipped):
        return shipped
    return os.path.join(os.path.dirname(here), "grammar", "sib.lark")


@functools.cache
def _lark() -> lark.Lark:
    """The tree parser: syntax errors and nesting depth (see the module docstring)."""
    return _tables(
        "tree",
        grammar_text(),
        parser="lalr",
        lexer="contextual",
        propagate_positions=True,
        maybe_placeholders=False,
    )


@functools.cache
def _builder(lexer: str) -> lark.Lark:
    """A parser that returns the `_Part` of the whole contract, built while it parses.

    keep_all_tokens hands the methods every token of their rule, so that a span can start at a
    keyword; `_reduce` passes on only the named ones, as lark would have."""
    grammar = grammar_text()
    return _tables(
        f"builder-{lexer}",
        grammar,
        parser="lalr",
        lexer=lexer,
        keep_all_tokens=True,
        maybe_placeholders=False,
        transformer=_callbacks(frozenset(_NAMED_TERMINAL.findall(grammar))),
    )


def tables_path(name: str, grammar: str, options: dict) -> str:
    """Where the LALR tables of one of the parsers above are kept: sibc's cache directory
    (cache.cache_dir(): $SIBDSL_CACHE_DIR, else $XDG_CACHE_HOME/sibdsl, else ~/.cache/sibdsl), in a
    file named by a SHA-256 of the grammar's text, the parser's options, lark's version and
    Python's. A changed grammar, option or lark is a new file; the old one goes once no sibc has
    read it for cache.UNUSED_DAYS (cache.trim: two installations sharing the directory keep both)."""
    import hashlib
    import sys

    import lark

    from .cache import cache_dir

    hashable = sorted((k, repr(v)) for k, v in options.items() if k != "transformer")
    digest = hashlib.sha256(repr((grammar, hashable, lark.__version__, sys.version_info[:2])).encode())
    return os.path.join(cache_dir(), "lark", f"{name}-{digest.hexdigest()[:40]}.lark")


def _tables(name: str, grammar: str, **options) -> lark.Lark:
    """`lark.Lark(grammar, **options)`, read from the cache (tables_path) when it is there; else
    made, and stored for the next process: written to a file of this process's own, then renamed
    over the entry, so a reader never sees half a file (two processes that both miss each write a
    whole one). The entry starts with its own key, checked on reading; one that cannot be read is
    made again and replaced. A cache directory that cannot be made or written only costs the time
    of making the tables (≈ 0.3 s) in every process. Reading an entry marks it used (cache.renew);
    writing one lets cache.trim remove what no sibc has used for a week.

    The entry is the parser itself, pickled: its grammar, lexer and LALR table as lark made them,
    without the callbacks (code: the transformer's methods), which are made again on reading as
    lark's own `Lark.load` makes them. Reading it is ≈ 2× cheaper than lark's `save`/`load`
    format, which rebuilds every table entry in Python (≈ 100 M fewer instructions a `sibc check`,
    docs/performance.md). tests/test_parser_cache.py proves the parsers read back give the trees
    and diagnostics of fresh ones on every pinned text."""
    import pickle

    import lark

    from . import cache

    pickler, unpickler = _picklers()
    path = tables_path(name, grammar, options)
    key = os.path.basename(path).encode()
    try:
        with open(path, "rb") as handle:
            if handle.readline().rstrip(b"\n") == key:
                revived = _revived(unpickler(handle).load(), options.get("transformer"))
                cache.renew(handle)
                return revived
    except FileNotFoundError:
        pass  # the first run with this grammar, options and lark: made below
    except (OSError, EOFError, pickle.UnpicklingError, ValueError, LookupError, TypeError, AttributeError,
            ImportError, lark.exceptions.LarkError):
        pass  # a damaged entry (half a disk's write, an edit): made below, and replaced
    made = lark.Lark(grammar, **options)
    partial = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(partial, "wb") as handle:
            handle.write(key + b"\n")
            pickler(handle, made).dump(made)
        os.replace(partial, path)
    except (OSError, pickle.PicklingError, TypeError, AttributeError):
        # unwritable, or a lark whose parser does not pickle: this process keeps the parser it made
        with contextlib.suppress(OSError):
            os.remove(partial)
        return made
    cache.trim()
    return made


CACHED = "<sibc cache>"  # the source_path of a parser read from the cache (the tests look)


@functools.cache
def _picklers():
    """The pickler and unpickler of lark's parsers (made on first use: `sibc check` with the
    prebuilt parser imports neither pickle nor lark)."""
    import pickle

    class Pickler(pickle.Pickler):
        """Pickles a lark parser, leaving out by name what is code or must stay one object: the
        callbacks and the transformer, and the `re` module the lexer is configured with; and the
        grammar before analysis, which parsing does not use (lark's `save` leaves it out too).
        lark's Shift and Reduce (the parser compares actions by identity) are pickled as the module
        globals they are."""

        def __init__(self, handle, made: lark.Lark):
            super().__init__(handle, protocol=pickle.HIGHEST_PROTOCOL)
            self._named = {id(re): "re", id(made._callbacks): "callbacks"}
            if made.options.transformer is not None:
                self._named[id(made.options.transformer)] = "transformer"
            if getattr(made, "grammar", None) is not None:
                self._named[id(made.grammar)] = "grammar"

        def persistent_id(self, obj):
            return self._named.get(id(obj))

        def reducer_override(self, obj):
            from lark.parsers.lalr_analysis import Reduce, Shift

            if obj is Shift or obj is Reduce:
                return obj.name  # a global of lark.parsers.lalr_analysis, read back as that very object
            return NotImplemented

    class Unpickler(pickle.Unpickler):
        def persistent_load(self, pid):
            # the callbacks and the transformer are made again by _revived; the grammar stays out
            return re if pid == "re" else None

    return Pickler, Unpickler


def _revived(parser: lark.Lark, transformer) -> lark.Lark:
    """The callbacks of a parser read from the cache, made as lark's `_load` makes them."""
    import lark

    if not isinstance(parser, lark.Lark):
        raise TypeError(f"the cache holds a {type(parser).__name__}, not a parser")
    parser.options.transformer = transformer
    parser._prepare_callbacks()
    parser.parser.parser_conf.callbacks = parser._callbacks
    parser.parser.parser.parser.callbacks = parser._callbacks
    parser.source_path = CACHED
    return parser


# ---------------------------------------------------------------- public entry points
@paused()
def parse(source: Source) -> s.Contract:
    """Parse a contract; raise SibError with all syntax errors found."""
    if len(source.text) > MAX_SOURCE_CHARS:
        raise SibError([Diagnostic(
            "E106", f"the file has {len(source.text):,} characters; the limit is {MAX_SOURCE_CHARS:,}",
            source, source.span(0, 0),
            hint="split the contract or remove pasted data; contracts are rarely over 100 KB",
        )])
    if "\x00" in source.text:
        at = source.text.index("\x00")
        raise SibError([Diagnostic(
            "E101", "the file contains a NUL byte: it is probably not a text file",
            source, source.span(at, at + 1), hint="save the contract as plain UTF-8 text",
        )])
    # a lone CR is a line break (source.LINE_BREAK): the lexer reads it as one, at the same offset
    text = lone_cr_to_lf(source.text)
    _problems.found = problems = []
    try:
        try:
            whole = _basic_parse(text)
        except _NotInGrammar:
            diagnostics = _syntax_errors(source, text)
            if diagnostics:
                raise SibError(diagnostics) from None
            _problems.found = problems = []  # a keyword used as a name, tables not shipped: see the docstring
            whole = _builder("contextual").parse(text)
    except _TooHigh as too_high:  # found while parsing: the parse stops there (linear time)
        span = too_high.span
        raise SibError([Diagnostic(
            "E106", f"an expression with more than {MAX_HEIGHT} operators in a row (a sum of that many terms, "
            "say); the checker takes at most that many",
            source, source.span(source.offset(span.line, span.column), source.offset(span.line, span.column) + 1),
            hint="add the terms up in parts, each with its own `define`, and add those up",
        )]) from None
    if whole.depth > MAX_DEPTH:
        # Rare: where lark's tree first gets too deep, as the tree parser has always reported it.
        deep = _too_deep(_lark().parse(text))
        raise SibError([Diagnostic(
            "E106", f"expressions are nested more than {MAX_DEPTH} levels deep",
            source, source.span(deep, deep + 1),
            hint="name intermediate results with `define` to keep each formula readable",
        )])
    too_long = [token for code, token in problems if code == "E110"]
    if too_long:  # the first one only: a number this long is pasted data, not a contract
        token = too_long[0]
        raise SibError([Diagnostic(
            "E110", f"a number with more than {MAX_DIGITS} digits", source,
            source.span(token.start_pos, token.end_pos),
            hint="amounts in a contract need at most 30 digits; check for pasted data")])
    if problems:
        raise SibError([Diagnostic(
            "E105", f"`{token}` is not a date in the calendar", source,
            source.span(token.start_pos, token.end_pos),
            hint="write dates as YYYY-MM-DD, e.g. 2016-08-01") for _, token in problems])
    return whole.value


class _NotInGrammar(Exception):
    """The basic-lexer parse failed (prebuilt.Unexpected or lark's UnexpectedInput)."""


def _basic_parse(text: str) -> _Part:
    """The first parse: the prebuilt parser (sibdsl/prebuilt.py, no lark: lark's contextual-lexer
    builder's parse), or lark's basic-lexer builder's when the shipped tables were not made from
    this grammar. _NotInGrammar: the text goes to lark's error parse."""
    fast = _prebuilt()
    if fast is not None:
        from .prebuilt import Unexpected

        try:
            return fast.parse(text)
        except Unexpected:
            raise _NotInGrammar from None
    import lark

    try:
        return _builder("basic").parse(text)
    except lark.exceptions.UnexpectedInput:
        raise _NotInGrammar from None


@functools.cache
def _prebuilt() -> Prebuilt | None:
    """The prebuilt contextual-lexer builder, or None when sibdsl/parser_tables.py is not the
    grammar's (then `_builder("basic")`, lark's, is used as before: see prebuilt.py)."""
    from . import prebuilt

    grammar = grammar_text()
    return prebuilt.load(grammar, _callbacks(frozenset(_NAMED_TERMINAL.findall(grammar))))


def parse_text(text: str, name: str = "<string>") -> s.Contract:
    return parse(Source(name, text))


def _syntax_errors(source: Source, text: str) -> list[Diagnostic]:
    """Every syntax error of a text that does not parse, found with the tree parser (`text` is
    the source's text with lone CRs as LF)."""
    return _unique(_recover(source, text, MAX_ERRORS)[0])


def _recover(source: Source, text: str, limit: int, end: int | None = None) -> tuple[list[Diagnostic], str, str]:
    """The loop of `_syntax_errors` on `text` (the source's text, or a piece of it with the
    source's offsets, incremental.syntax_errors): parse, report the first error, blank its
    declaration, parse again — at most `limit` errors. Also why it stopped: "parsed" (the rest
    parses), "last" (no declaration starts after the error's), "unchanged" (blanking changed
    nothing) or "limit"; and the text as last blanked. `end`: where the declaration after the last
    one ends, for a piece that stops before its text does (see `_skip_declaration`)."""
    import lark

    diagnostics: list[Diagnostic] = []
    while len(diagnostics) < limit:
        # Drive the parser interactively: on an error, `accepts()` gives the exact set of
        # what could come next (lark's own sets merge LALR states and list too much).
        interactive = _lark().parse_interactive(text)
        try:
            for _ in interactive.iter_parse():
                pass
            interactive.feed_eof()
            return diagnostics, "parsed", text
        except lark.exceptions.UnexpectedInput as error:
            diagnostics.append(_diagnose(source, error, interactive.accepts()))
            blanked = _skip_declaration(text, getattr(error, "pos_in_stream", None) or 0, end)
            if blanked is None:
                return diagnostics, "last", text
            if blanked == text:
                return diagnostics, "unchanged", text
            text = blanked
    return diagnostics, "limit", text


# ---------------------------------------------------------------- errors
_TERMINAL_NAMES = {
    "NAME": "a name",
    "NUMBER": "a number",
    "STRING": 'a text in quotes ("…")',
    "DATE": "a date (YYYY-MM-DD)",
    "HEADING": "a clause heading (§ 1)",
    "COMPARE": "a comparison (<, <=, ==, …)",
    "PERCENT": "`%`",
    "$END": "the end of the file",
}


def _describe(terminal: str) -> str:
    import lark

    if terminal in _TERMINAL_NAMES:
        return _TERMINAL_NAMES[terminal]
    try:
        pattern = _lark().get_terminal(terminal).pattern
    except KeyError:
        return terminal
    if isinstance(pattern, lark.lexer.PatternStr):
        return f"`{pattern.value}`"
    return terminal.lower()


_VALUE_START = {"NAME", "NUMBER", "LPAR"}
_VALUE_TERMINALS = _VALUE_START | {"MINUS", "DATE", "TRUE", "FALSE", "TOTAL", "TIERS", "INTERPOLATE", "IF", "NOT"}


def _expected_phrase(expected: set[str]) -> tuple[str, list[str]]:
    keywords = sorted(str(_describe(t)).strip("`") for t in expected if _describe(t).startswith("`"))
    if _VALUE_START <= expected:  # where a value may start, say so instead of listing its first tokens
        rest = sorted({_describe(t) for t in expected - _VALUE_TERMINALS})
        phrase = "a value (a number or amount, a name, a date, `(`…)"
        return (phrase if not rest else phrase + " or " + ", ".join(rest)), keywords
    words = sorted({_describe(t) for t in expected})
    statement_words = [k for k in keywords if k in DECLARATION_KEYWORDS + NEW_DECLARATION_WORDS]
    if len(statement_words) >= 8:
        # after a complete declaration: a new one may start, or the current one may go on
        options = [f"`{k}`" for k in keywords if k not in DECLARATION_KEYWORDS + NEW_DECLARATION_WORDS and k != "§"]
        phrase = "a declaration (party, measure, define, payment, cap, …), a heading or prose"
        if options:
            phrase += ", or " + ", ".join(options) + " to continue the one above"
        return phrase, keywords
    if len(words) > 10:
        words = words[:10] + ["…"]
    return (", ".join(words[:-1]) + " or " + words[-1]) if len(words) > 1 else words[0], keywords


def _diagnose(source: Source, error: lark.exceptions.UnexpectedInput, accepts: set[str]) -> Diagnostic:
    import lark
    from lark import Token

    pos = getattr(error, "pos_in_stream", None) or 0
    if isinstance(error, lark.exceptions.UnexpectedCharacters):
        char = source.text[pos] if pos < len(source.text) else ""
        if char == '"':
            return Diagnostic(
                "E104", "this text has no closing quote", source, source.span(pos, pos + 1),
                label="opened here",
                hint='close it with `"` on the same line, or use """…""" for text over several lines',
            )
        shown = repr(char) if not char.isprintable() or char.isspace() else f"`{char}`"
        hint = ""
        if char in "‘’“”":
            hint = 'use straight quotes (") around texts'
        elif char == ";":
            hint = "declarations need no separator; start the next one on a new line"
        elif char == "=" and source.text[pos : pos + 2] != "==":
            hint = "compare with `==`; `=` only follows the name in `define`, `baseline` and `payment`"
        else:
            expected, _ = _expected_phrase(accepts)
            hint = f"expected {expected}" if accepts else ""
        return Diagnostic(
            "E101", f"unexpected character {shown}", source, source.span(pos, pos + 1), hint=hint
        )
    if isinstance(error, lark.exceptions.UnexpectedToken) and error.token.type != "$END":
        token = error.token
        start = token.start_pos if token.start_pos is not None else pos
        end = token.end_pos if token.end_pos is not None else start + len(str(token))
        expected, keywords = _expected_phrase(accepts)
        word = re.match(r"\w+", source.text[start:])
        if word and str(token).isalpha() and word.group() != str(token):
            token = Token(token.type, word.group(), start_pos=start)
            end = start + len(word.group())
        hint = ""
        line_start = source.text.rfind("\n", 0, start) + 1
        if str(token) in DECLARATION_KEYWORDS and source.text[line_start:start].strip():
            # a reserved word in the middle of a line is almost always meant as a name
            return Diagnostic(
                "E102", f"`{token}` is a reserved word and cannot be used here; expected {expected}",
                source, source.span(start, end), label="reserved word",
                hint=f"choose another name; the reserved words are {', '.join(DECLARATION_KEYWORDS)}",
            )
        if str(token) in DECLARATION_KEYWORDS and re.compile(_RESUME, re.M).match(source.text, line_start):
            return Diagnostic(
                "E102", f"`{token}` starts a new declaration, but the one before it is not finished;"
                f" expected {expected}", source, source.span(start, end),
                label="new declaration starts here",
                hint="complete the line above, or remove its unfinished part",
            )
        if token.type == "NAME":
            hint = did_you_mean(str(token), keywords)
        if str(token) == "," and re.match(r"\d,\d", source.text[max(start - 1, 0):end + 1]):
            whole = re.search(r"[0-9](?:[0-9 _\u00a0\u202f\u2009]*[0-9])?$", source.text[line_start:start]).group()
            hint = (f"write decimals with a point: `{whole}.{re.match(r'[0-9]+', source.text[end:]).group()}`;"
                    " in a contract a comma separates arguments, as in `max(a, b)`")
        if not hint and token.type == "DATE" and "NUMBER" in accepts:
            hint = "write dates as 2016-08-01 where a date belongs; arithmetic needs spaces around `-`"
        return Diagnostic(
            "E102", f"unexpected {_describe_token(token)}; expected {expected}",
            source, source.span(start, end), label="not expected here", hint=hint,
        )
    phrase = _expected_phrase(accepts - {"$END"})[0] if accepts - {"$END"} else "more"
    end = len(source.text.rstrip())
    return Diagnostic(
        "E103", f"the file ends in the middle of a declaration; expected {phrase}",
        source, source.span(end, end), hint="finish the declaration or remove it",
    )


def _describe_token(token: Token) -> str:
    text = str(token)
    if len(text) > 30:
        text = text[:27] + "…"
    kind = _describe(token.type)
    if kind.startswith("`"):
        return f"word `{text}`" if text.isalpha() else f"`{text}`"
    return f"{kind.removeprefix('a ').removeprefix('an ')} `{text}`"


def _skip_declaration(text: str, pos: int, end: int | None = None) -> str | None:
    """Blank out (keeping line breaks) the declaration around pos, so parsing can go on. After the
    last declaration: None, or, given `end` (a piece of a longer text whose next declaration starts
    there), the blanked text up to `end`."""
    starts = [m.start() for m in re.finditer(_RESUME, text, re.M)]
    # An error at the very start of a declaration belongs to the unfinished one before it.
    line_start = text.rfind("\n", 0, pos) + 1
    at_start = line_start in starts and not text[line_start:pos].strip()
    before = [p for p in starts if (p < line_start if at_start else p <= pos)]
    after = [p for p in starts if p > pos]
    start = before[-1] if before else text.rfind("\n", 0, pos) + 1
    if after:
        end = after[0]
    elif end is None:
        return None
    region = re.sub(r"[^\n]", " ", text[start:end])
    return text[:start] + region + text[end:]


def _unique(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    seen, out = set(), []
    for d in diagnostics:
        key = (d.code, d.span)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


def _too_deep(tree: lark.Tree) -> int | None:
    import lark

    """Offset of a node nested deeper than MAX_DEPTH, found without recursion."""
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            return getattr(node.meta, "start_pos", 0) if isinstance(node, lark.Tree) else 0
        if isinstance(node, lark.Tree):
            children = node.children
            if node.data in _CHAINS and children:  # as _reduce counts: a chain is one level
                stack.append((children[0], depth))
                children = children[1:]
            stack.extend((child, depth + 1) for child in children)
    return None


# ---------------------------------------------------------------- building while parsing
# Terminals the grammar defines by name (NAME, NUMBER, …): the tokens a rule's method receives.
# The grammar's other tokens are its keywords and punctuation, written in quotes in the rules.
_NAMED_TERMINAL = re.compile(r"^([A-Z][A-Z0-9_]*)(?:\.\d+)?\s*:", re.M)
# Rules marked `!` in the grammar: their keywords are their value (`half up`, `compound`).
_WORD_RULES = ("rounding_mode", "return_kind", "monotone", "rate_order")

# Problems a method finds in a token (E105, E110), reported once the text has parsed: a syntax
# error elsewhere is reported instead, as if the nodes had been built after the whole parse.
_problems = threading.local()


class _TooHigh(Exception):
    """Raised from a rule's callback when an expression exceeds MAX_HEIGHT, to stop the parse."""

    def __init__(self, span: Span):
        super().__init__(span)
        self.span = span


class _Part:
    """What the parser holds for a rule it has reduced: the value its method returned, the span of
    the text it covers, its nesting depth (what MAX_DEPTH limits: a chain `a + b + c` is one level)
    and its height (operators in a row, chains included: what MAX_HEIGHT limits)."""

    __slots__ = ("value", "span", "depth", "height")

    def __init__(self, value, span: Span, depth: int, height: int = 1):
        self.value = value
        self.span = span
        self.depth = depth
        self.height = height


def _callbacks(named: frozenset[str]):
    """The object lark asks for a callback per rule name: `_Syntax`'s methods, wrapped by `_reduce`.

    Rules without a method are lark's: `_item` and the other inlined rules are spliced into
    their parent, and a `?rule` with one child passes the child on."""
    syntax = _Syntax()
    callbacks = {name: _reduce(getattr(syntax, name), None if name in _WORD_RULES else named,
                               chain=name in _CHAINS, top=name == "start")
                 for name in dir(_Syntax) if not name.startswith("_")}
    callbacks["atom"] = _parenthesized  # ?atom: "(" expr ")"
    return type("_Callbacks", (), callbacks)


# Left-associative operators: `a + b + c + …` is a flat chain to a reader, however long, and a
# chain does not count as nesting (a 250-term sum is no deeper than `a + b`); only what stands
# on an operator's right (a parenthesised or higher-precedence operand) adds a level.
_CHAINS = frozenset({"add", "sub", "mul", "div", "of_op", "and_op", "or_op"})


def _reduce(method, named: frozenset[str] | None, *, chain: bool = False, top: bool = False):
    """Call a rule's method with its span and values; hand the result on as a _Part."""

    def callback(children: list) -> _Part:
        if not children:  # an empty contract
            return _Part(method(NO_SPAN, []), NO_SPAN, 1)
        values = []
        depth = height = 0
        flat = chain and children[0].__class__ is _Part
        for child in children[1:] if flat else children:
            if child.__class__ is _Part:
                values.append(child.value)
                if child.depth > depth:
                    depth = child.depth
                if child.height > height:
                    height = child.height
            elif named is None or child.type in named:
                values.append(child)
                depth = depth or 1
        if flat:  # the left operand: the chain goes on at its level
            left = children[0]
            values.insert(0, left.value)
            if left.depth - 1 > depth:
                depth = left.depth - 1
            if left.height > height:
                height = left.height
        first, last = children[0], children[-1]
        if first.__class__ is _Part:
            first = first.span
        line, column = first.line, first.column
        if last.__class__ is _Part:
            last = last.span
        span = Span(line, column, last.end_line, last.end_column)
        if height >= MAX_HEIGHT and depth < MAX_DEPTH and not top:
            # a chain too long for what comes after the parser: stop here (linear time, whatever
            # the length); nesting too deep is reported as such once the parse is done
            raise _TooHigh(span)
        return _Part(method(span, values), span, depth + 1, height + 1)

    return callback


def _parenthesized(children: list) -> _Part:
    """A parenthesised expression is the expression; its text, for the rule around it, includes
    the parentheses (it is no level of lark's tree)."""
    opening, inner, closing = children
    span = Span(opening.line, opening.column, closing.end_line, closing.end_column)
    return _Part(inner.value, span, inner.depth, inner.height)


def _is_token(value) -> bool:
    """A token of either parser: the prebuilt one's, or lark's (which exist only once lark is
    imported: `sibc check` of a valid contract never imports it)."""
    if isinstance(value, _PrebuiltToken):
        return True
    lark = sys.modules.get("lark")
    return lark is not None and isinstance(value, lark.Token)


def _token_span(token: Token) -> Span:
    # lark counts lines and columns as Source does: 1-based, a line ends at "\n"
    return Span(token.line, token.column, token.end_line, token.end_column)


def _ident(token: Token) -> s.Ident:
    return s.Ident(str(token), span=_token_span(token))


def _date(token: Token) -> s.DateLit:
    try:
        value = datetime.date.fromisoformat(str(token))
    except ValueError:
        _problems.found.append(("E105", token))
        value = datetime.date.min
    return s.DateLit(value, span=_token_span(token))


def _string(token: Token) -> str:
    raw = str(token)
    body = raw[3:-3] if raw.startswith('"""') else raw[1:-1]
    if "\r" in body:  # a CRLF inside a text is a line break like any other: "\n"
        body = body.replace("\r\n", "\n")
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)


def _number(token: Token) -> Decimal:
    digits = re.sub(r"[ _\u00a0\u202f\u2009]", "", str(token))
    if len(digits) - ("." in digits) > MAX_DIGITS:  # NUMBER is digits with one `.` at most
        _problems.found.append(("E110", token))
        return Decimal(0)
    return Decimal(digits)


def _field(key, span, value):
    return s.HeaderField(key, value, span=span)


def _per(c) -> s.Ident:
    """The series of `per NAME`, or of `per A × B` (issue 15: two dimensions, `A × B` by name, the
    span covering both): `model.SEP` joins the names, as it joins the names of a cell's periods."""
    if len(c) == 1:
        return _ident(c[0])
    first, second = _ident(c[0]), _ident(c[1])
    return s.Ident(f"{first.name}{SEP}{second.name}", span=first.span.to(second.span))


def _option(key, span, value):
    return s.Option(key, value, span=span)


class _Syntax:
    """One method per grammar rule (or alias): (span of the rule's text, its values) → its node."""

    # header
    def start(self, span, children):
        header = children[0] if children and isinstance(children[0], s.Header) else None
        items = tuple(children[1:] if header else children)
        return s.Contract(header, items, span=span)

    def header(self, span, children):
        return s.Header(children[0], tuple(children[1:]), span=span)

    def id_field(self, span, c):
        return _field("id", span, _string(c[0]))

    def version_field(self, span, c):
        return _field("version", span, _string(c[0]))

    def languages_field(self, span, c):
        return _field("languages", span, tuple(_ident(t) for t in c))

    def currency_field(self, span, c):
        return _field("currency", span, _ident(c[0]))

    def rounding_field(self, span, c):
        rounding = s.Rounding(_number(c[0]), _ident(c[1]), c[2], span=span)
        return _field("rounding", span, rounding)

    def rounding_mode(self, span, c):
        return " ".join(str(t) for t in c)

    def signed_field(self, span, c):
        return _field("signed", span, _date(c[0]))

    # texts
    def ltext(self, span, c):
        translations = tuple(c[1:])
        return s.Text(
            _string(c[0]),
            tuple((tag.name, text) for tag, text in translations),
            span=span,
            tag_spans=tuple(tag.span for tag, _ in translations),
        )

    def translation(self, span, c):
        return (_ident(c[0]), _string(c[1]))

    def heading(self, span, c):
        number = str(c[0])
        number = re.sub(r"^§\s*", "", number)
        return s.Heading(number, c[1], span=span)

    def prose(self, span, c):
        return s.Prose(c[0], span=span)

    def decl_name(self, span, c):
        return s.DeclName(_ident(c[0]), c[1] if len(c) > 1 else None)

    def _name_label(self, c):
        """Split `NAME ltext? …` children into (ident, label, rest)."""
        name = _ident(c[0])
        if len(c) > 1 and isinstance(c[1], s.Text):
            return name, c[1], c[2:]
        return name, None, c[1:]

    # who, when, whom
    def party(self, span, c):
        return s.Party(_ident(c[0]), c[1], tuple(_ident(t) for t in c[2:]),
                       span=span)

    def term(self, span, c):
        return s.Term(_date(c[0]), _date(c[1]), span=span)

    def periods(self, span, c):
        name, label, rest = self._name_label(c)
        return s.Periods(name, label, tuple(rest), span=span)

    def period_def(self, span, c):
        return s.PeriodDef(_ident(c[0]), _date(c[1]), _date(c[2]),
                           span=span)

    def cohort(self, span, c):
        name, label, rest = self._name_label(c)
        size = s.Quantity(_number(rest[0]), None, span=_token_span(rest[0]))
        eligibility = rest[1] if len(rest) > 1 else None
        return s.Cohort(name, label, size, eligibility, span=span)

    def investment(self, span, c):
        name, label, rest = self._name_label(c)
        when, options = rest[2], dict(rest[3:])
        date, drawdowns = (when, ()) if isinstance(when, s.DateLit) else (None, when)
        return s.Investment(name, label, rest[0], _ident(rest[1]), date, span=span, drawdowns=drawdowns,
                            committed=options.get("committed"), klass=options.get("class"))

    def invest_on(self, span, c):
        return _date(c[0])

    def invest_drawn(self, span, c):
        return tuple(c)

    def drawdown(self, span, c):
        return s.Drawdown(c[0], _date(c[1]), span=span)

    def invest_committed(self, span, c):
        return ("committed", c[0])

    def invest_class(self, span, c):
        return ("class", _ident(c[0]))

    # inputs and definitions
    def measure(self, span, c):
        name, label, rest = self._name_label(c)
        return s.Measure(name, label, _ident(rest[0]), tuple(rest[1:]), span=span)

    def measure_per(self, span, c):
        return _option("per", span, _per(c))

    def measure_better(self, span, c):
        return _option("better", span, _ident(c[0]))

    def measure_range(self, span, c):
        return _option("between", span, (c[0], c[1]))

    def measure_source(self, span, c):
        return _option("source", span, c[0])

    def measure_description(self, span, c):
        return _option("description", span, c[0])

    def define(self, span, c):
        name, label, rest = self._name_label(c)
        return s.Define(name, label, rest[0], span=span)

    def baseline(self, span, c):
        name, label, rest = self._name_label(c)
        return s.Baseline(name, label, rest[0], tuple(rest[1:]), span=span)

    def baseline_indexed(self, span, c):
        years = s.Quantity(_number(c[1]), None, span=_token_span(c[1]))
        index = s.Indexation(c[0], years, _ident(c[2]), span=span)
        return _option("indexed", span, index)

    # money
    def payment(self, span, c):
        name, label, rest = self._name_label(c)
        return s.Payment(name, label, rest[0], tuple(rest[1:]), span=span)

    def opt_from(self, span, c):
        return _option("from", span, _ident(c[0]))

    def opt_to(self, span, c):
        return _option("to", span, _ident(c[0]))

    def opt_due(self, span, c):
        return _option("due", span, c[0])

    def opt_per(self, span, c):
        return _option("per", span, _per(c))

    def opt_when(self, span, c):
        return _option("when", span, c[0])

    def due_date(self, span, c):
        return s.DueDate(_date(c[0]), span=span)

    def due_after_end(self, span, c):
        amount = s.Quantity(_number(c[0]), None, span=_token_span(c[0]))
        return s.DueAfterEnd(amount, _ident(c[1]), span=span)

    def _split_decl(self, c):
        if c and isinstance(c[0], s.DeclName):
            return c[0], c[1:]
        return None, c

    def gate(self, span, c):
        decl, (target, condition, *during) = self._split_decl(c)
        return s.Gate(decl, target, condition, span=span, during=during[0] if during else None)

    def floor(self, span, c):
        decl, rest = self._split_decl(c)
        return s.Floor(decl, rest[0], rest[1], tuple(rest[2:]), span=span)

    def cap(self, span, c):
        decl, (target, amount, *during) = self._split_decl(c)
        return s.Cap(decl, target, amount, span=span, during=during[0] if during else None)

    def target_payment(self, span, c):
        return s.Target("payment", name=_ident(c[0]), span=span)

    def target_total(self, span, c):
        return s.Target("total", span=span)

    def target_total_above(self, span, c):
        return s.Target("total above", level=c[0], span=span)

    def target_series(self, span, c):
        return s.Target("series", name=_ident(c[0]), span=span)

    def target_participant(self, span, c):
        return s.Target("participant", span=span)

    # issue 15: streams, payers and periods
    def target_per_period(self, span, c):
        return s.Target("per period", name=_ident(c[0]), span=span)

    def target_stream(self, span, c):
        names = tuple(_ident(t) for t in c)
        return s.Target("stream", name=names[0], names=names, span=span)

    def target_payer(self, span, c):
        return s.Target("payer", name=_ident(c[0]), span=span)

    def target_recipient(self, span, c):
        return s.Target("recipient", name=_ident(c[0]), span=span)

    def opt_during(self, span, c):
        return _option("during", span, tuple(_ident(t) for t in c))

    def return_limit(self, span, c):
        decl, rate, basis = c[:3]
        kind, start, end, capital = basis
        options = dict(c[3:])
        return s.ReturnLimit(decl, rate, kind, start, end, span=span, capital=capital,
                             investor=options.get("for"), klass=options.get("class"),
                             day_count=options.get("day count"))

    def annual_return(self, span, c):
        kind = next((x for x in c if isinstance(x, str)), "annual")
        window = next((x for x in c if isinstance(x, tuple)), (None, None))
        return (kind, window[0], window[1], None)

    def return_window(self, span, c):
        return (_date(c[0]), _date(c[1]))

    def total_return(self, span, c):
        return ("total", None, None, None)

    def multiple_return(self, span, c):
        return ("multiple", None, None, str(c[0]))

    def return_for(self, span, c):
        return ("for", _ident(c[0]))

    def return_for_class(self, span, c):
        return ("class", _ident(c[0]))

    def return_day_count(self, span, c):
        return ("day count", str(c[0]).lower())

    def return_kind(self, span, c):
        return str(c[0])

    def guarantee(self, span, c):
        decl, expr = c[0], c[1]
        tail = c[2] if len(c) > 2 else None
        when = monotone = monotone_in = None
        if tail is not None and tail[0] == "when":
            when = tail[1]
        elif tail is not None:
            monotone, monotone_in = tail[1], tail[2]
        return s.Guarantee(decl, expr, when, monotone, monotone_in, span=span)

    def cover(self, span, c):
        decl, rest = c[0], list(c[1:])
        share = rest.pop(0) if isinstance(rest[0], s.Quantity) and rest[0].unit == "%" and \
            _is_token(rest[1]) else None
        investment, rest = _ident(rest[0]), rest[1:]
        ceiling = rest.pop(0) if not _is_token(rest[0]) else None
        guarantor = _ident(rest[0])
        due = next((o.value for o in rest[1:] if isinstance(o, s.Option) and o.key == "due"), None)
        return s.Cover(decl, share, investment, ceiling, guarantor, due, span=span)

    def assume(self, span, c):  # issue 17
        decl, rest = self._split_decl(c)
        return s.Assume(decl, rest[0], span=span)

    def parameter(self, span, c):  # issue 17
        name, label, rest = self._name_label(c)
        return s.Parameter(name, label, _ident(rest[0]), tuple(rest[1:]), span=span)

    def assume_name(self, span, c):
        return s.DeclName(_ident(c[0]), None)

    def cover_share(self, span, c):
        return s.Quantity(_number(c[0]), "%", span=_token_span(c[0]).to(_token_span(c[1])))

    def cover_ceiling(self, span, c):
        return c[0]

    # issue 14: coupons
    def coupon(self, span, c):
        name, label, rest = self._name_label(c)
        return s.Coupon(name, label, rest[0], _ident(rest[1]), tuple(rest[2:]), span=span)

    def coupon_minimum(self, span, c):
        rate = s.Quantity(_number(c[0]), "%", span=_token_span(c[0]).to(_token_span(c[1])))
        return _option("at least", span, (rate, c[2] if len(c) > 2 else None))

    def coupon_day_count(self, span, c):
        return _option("day count", span, str(c[0]).lower())

    def repayment(self, span, c):
        name, label, rest = self._name_label(c)
        return s.Repayment(name, label, _ident(rest[0]), tuple(rest[1:]), span=span)

    def repayment_full(self, span, c):
        return _option("full", span, c[0])

    def repayment_otherwise(self, span, c):
        return _option("otherwise", span, c[0])

    def redemption_accrued(self, span, c):  # the coupon whose interest accrued to the date is paid too
        return _option("accrued", span, _ident(c[0]))

    def repayment_minimum(self, span, c):  # as a coupon's `at least`, without `during`
        rate = s.Quantity(_number(c[0]), "%", span=_token_span(c[0]).to(_token_span(c[1])))
        return _option("at least", span, (rate, None))

    def redemption(self, span, c):
        name, label, rest = self._name_label(c)
        return s.Redemption(name, label, rest[0], tuple(rest[1:]), span=span)

    # issue 14: waterfalls
    def waterfall(self, span, c):
        return s.Waterfall(c[0], tuple(_ident(t) for t in c[1:] if _is_token(t)),
                           tuple(x for x in c[1:] if isinstance(x, s.WaterfallTier)), span=span)

    def wf_until(self, span, c):
        return s.WaterfallTier(s.Quantity(_number(c[0]), None, span=_token_span(c[0])), False, c[1], c[2], span=span)

    def wf_rest(self, span, c):
        return s.WaterfallTier(s.Quantity(_number(c[0]), None, span=_token_span(c[0])), True, c[1], None, span=span)

    def wf_to(self, span, c):
        return (s.WaterfallShare(None, c[0], span=span),)

    def wf_shares(self, span, c):
        return tuple(c)

    def wf_share(self, span, c):
        share = s.Quantity(_number(c[0]), "%", span=_token_span(c[0]).to(_token_span(c[1])))
        return s.WaterfallShare(share, c[2], span=span)

    def wf_investor(self, span, c):
        return s.WaterfallParty(_ident(c[0]), False, span=span)

    def wf_class(self, span, c):
        return s.WaterfallParty(_ident(c[0]), True, span=span)

    def wf_drawn(self, span, c):
        who = next((x for x in c if isinstance(x, s.WaterfallParty)), None)
        rate = next((x for x in c if isinstance(x, tuple)), (None, None))
        return s.WaterfallTarget("drawn", who, rate[0], rate[1], span=span)

    def wf_amount(self, span, c):
        return s.WaterfallTarget("amount", amount=c[0], span=span)

    def wf_rate(self, span, c):
        rate = s.Quantity(_number(c[0]), "%", span=_token_span(c[0]).to(_token_span(c[1])))
        return (rate, c[2] if len(c) > 2 else None)

    def guarantee_when(self, span, c):
        return ("when", c[0])

    def guarantee_monotone(self, span, c):
        return ("monotone", c[0], _ident(c[1]))

    def monotone(self, span, c):
        return str(c[0])

    # expressions
    def if_expr(self, span, c):
        return s.If(c[0], c[1], c[2], span=span)

    def _binary(self, op, span, c, op_token=None):
        op_span = _token_span(op_token) if op_token is not None else span
        return s.Binary(op, c[0], c[-1], span=span, op_span=op_span)

    def or_op(self, span, c):
        return self._binary("or", span, c)

    def and_op(self, span, c):
        return self._binary("and", span, c)

    def not_op(self, span, c):
        return s.Unary("not", c[0], span=span)

    def compare(self, span, c):
        op = {"≤": "<=", "≥": ">=", "≠": "!="}.get(str(c[1]), str(c[1]))
        return self._binary(op, span, c, c[1])

    def add(self, span, c):
        return self._binary("+", span, c)

    def sub(self, span, c):
        return self._binary("-", span, c)

    def mul(self, span, c):
        return self._binary("*", span, c)

    def div(self, span, c):
        return self._binary("/", span, c)

    def of_op(self, span, c):
        return self._binary("of", span, c)

    def neg(self, span, c):
        return s.Unary("-", c[0], span=span)

    def quantity(self, span, c):
        unit = str(c[1]) if len(c) > 1 else None
        unit_span = _token_span(c[1]) if len(c) > 1 else None
        return s.Quantity(_number(c[0]), unit, span=span, unit_span=unit_span)

    def date_lit(self, span, c):
        return _date(c[0])

    def true_lit(self, span, c):
        return s.BoolLit(True, span=span)

    def false_lit(self, span, c):
        return s.BoolLit(False, span=span)

    def total_ref(self, span, c):
        return s.TotalRef(span=span)

    def ref(self, span, c):
        return s.Ref(str(c[0]), span=span)

    def call(self, span, c):
        return s.Call(_ident(c[0]), tuple(c[1:]), span=span)

    def index(self, span, c):  # issue 15: `ready[c2014]`
        return s.Index(c[0], _ident(c[1]), span=span)

    def call_over(self, span, c):  # issue 15: `sum(m over years)`
        return s.SumOver(_ident(c[0]), c[1], _ident(c[2]), span=span)

    def tiers(self, span, c):
        return s.Tiers(c[0], c[1], tuple(c[2:]), span=span)

    def tier_below(self, span, c):
        return c[0]

    def tier_from(self, span, c):
        return s.Tier(c[0], c[1], span=span)

    def interpolate(self, span, c):
        return s.Interpolate(c[0], tuple(c[1:]), span=span)

    def point(self, span, c):
        return s.Point(c[0], c[1], span=span)

    # named tables, powers and rate cards (issue 15)
    def pow(self, span, c):
        return s.Power(c[0], c[1], span=span)

    def table(self, span, c):
        name, label, rest = self._name_label(c)
        kind, below, rows, above = rest[0]
        return s.Table(name, label, kind, below, rows, above, span=span)

    def step_table(self, span, c):
        return ("step", c[0], tuple(c[1:]), None)

    def linear_table(self, span, c):
        # the bounds stand around the points: `below` first, `above` last
        below = c[0] if isinstance(c[0], s.TableBound) else None
        above = c[-1] if isinstance(c[-1], s.TableBound) and c[-1] is not below else None
        return ("linear", below, tuple(x for x in c if isinstance(x, s.Point)), above)

    def table_below(self, span, c):
        return s.TableBound(c[0] if len(c) > 1 else None, c[-1], span=span)

    table_above = table_below

    def ratecard(self, span, c):
        name, label, rest = self._name_label(c)
        options = tuple(x for x in rest if isinstance(x, s.Option) and x.key in ("from", "to", "due", "per"))
        outcomes = tuple(x for x in rest if isinstance(x, s.RateOutcome))
        terms = tuple(x for x in rest if isinstance(x, s.Option) and x.key in ("participant", "total", "indexed"))
        return s.RateCard(name, label, options, outcomes, terms, span=span)

    def rate_outcome(self, span, c):
        name, label, rest = self._name_label(c)
        return s.RateOutcome(name, label, rest[0], rest[1] if len(rest) > 1 else None, span=span)

    def rate_up_to(self, span, c):
        return c[0]

    def rate_participant(self, span, c):
        return _option("participant", span, c[0])

    def rate_total(self, span, c):
        return _option("total", span, (c[0], c[1] if len(c) > 1 else "declaration"))

    def rate_indexed(self, span, c):
        return _option("indexed", span, (c[0], _date(c[1])))

    def rate_order(self, span, c):
        return str(c[1])  # in claim order / in declaration order / in proportion
