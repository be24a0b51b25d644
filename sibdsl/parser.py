"""Text → syntax tree. The only module that imports lark; no lark type leaves it.

`parse(source)` returns a `syntax.Contract` or raises `SibError` with every syntax
error it could find (after an error it skips to the next declaration and goes on).
"""

from __future__ import annotations

import datetime
import functools
import re
from decimal import Decimal
from importlib import resources
from pathlib import Path

import lark
from lark import Token, Transformer, v_args

from . import syntax as s
from .diagnostics import Diagnostic, SibError, did_you_mean
from .limits import MAX_DEPTH, MAX_DIGITS, MAX_ERRORS, MAX_SOURCE_CHARS
from .source import Source, Span

# Words that begin a declaration; error recovery resumes at a line starting with one.
DECLARATION_KEYWORDS = (
    "contract", "party", "term", "periods", "cohort", "investment", "measure", "define",
    "baseline", "payment", "gate", "floor", "cap", "return", "guarantee", "clause",
)
_RESUME = re.compile(r"^[ \t]*(?:§|(?:" + "|".join(DECLARATION_KEYWORDS) + r")\b)", re.M)


def grammar_path() -> Path:
    """The grammar shipped in the package (wheel), or the checkout's grammar/sib.lark."""
    shipped = resources.files("sibdsl") / "grammar" / "sib.lark"
    if shipped.is_file():
        return Path(str(shipped))
    return Path(__file__).resolve().parent.parent / "grammar" / "sib.lark"


def grammar_text() -> str:
    return grammar_path().read_text(encoding="utf-8")


@functools.cache
def _lark() -> lark.Lark:
    return lark.Lark(
        grammar_text(),
        parser="lalr",
        lexer="contextual",
        propagate_positions=True,
        maybe_placeholders=False,
        cache=True,
    )


# ---------------------------------------------------------------- public entry points
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
    diagnostics: list[Diagnostic] = []
    text = source.text
    tree = None
    for _ in range(MAX_ERRORS):
        # Drive the parser interactively: on an error, `accepts()` gives the exact set of
        # what could come next (lark's own sets merge LALR states and list too much).
        interactive = _lark().parse_interactive(text)
        try:
            for _ in interactive.iter_parse():
                pass
            tree = interactive.feed_eof()
            break
        except lark.exceptions.UnexpectedInput as error:
            diagnostics.append(_diagnose(source, error, interactive.accepts()))
            blanked = _skip_declaration(text, getattr(error, "pos_in_stream", None) or 0)
            if blanked is None or blanked == text:
                break
            text = blanked
    if diagnostics:
        raise SibError(_unique(diagnostics))
    assert tree is not None
    deep = _too_deep(tree)
    if deep is not None:
        raise SibError([Diagnostic(
            "E106", f"expressions are nested more than {MAX_DEPTH} levels deep",
            source, source.span(deep, deep + 1),
            hint="name intermediate results with `define` to keep each formula readable",
        )])
    builder = _ToSyntax(source)
    try:
        contract = builder.transform(tree)
    except lark.exceptions.VisitError as error:  # a bug in a rule method: never show lark's wrapper
        if isinstance(error.orig_exc, _TooManyDigits):
            text = error.orig_exc.text
            at = max(source.text.find(text), 0)
            raise SibError([Diagnostic(
                "E110", f"a number with more than {MAX_DIGITS} digits", source, source.span(at, at + len(text)),
                hint="amounts in a contract need at most 30 digits; check for pasted data")]) from None
        raise error.orig_exc from None
    if builder.errors:
        raise SibError(builder.errors)
    return contract


def parse_text(text: str, name: str = "<string>") -> s.Contract:
    return parse(Source(name, text))


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
    statement_words = [k for k in keywords if k in DECLARATION_KEYWORDS]
    if len(statement_words) >= 8:
        # after a complete declaration: a new one may start, or the current one may go on
        options = [f"`{k}`" for k in keywords if k not in DECLARATION_KEYWORDS and k != "§"]
        phrase = "a declaration (party, measure, define, payment, cap, …), a heading or prose"
        if options:
            phrase += ", or " + ", ".join(options) + " to continue the one above"
        return phrase, keywords
    if len(words) > 10:
        words = words[:10] + ["…"]
    return (", ".join(words[:-1]) + " or " + words[-1]) if len(words) > 1 else words[0], keywords


def _diagnose(source: Source, error: lark.exceptions.UnexpectedInput, accepts: set[str]) -> Diagnostic:
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
        if str(token) in DECLARATION_KEYWORDS and _RESUME.match(source.text, line_start):
            return Diagnostic(
                "E102", f"`{token}` starts a new declaration, but the one before it is not finished;"
                f" expected {expected}", source, source.span(start, end),
                label="new declaration starts here",
                hint="complete the line above, or remove its unfinished part",
            )
        if token.type == "NAME":
            hint = did_you_mean(str(token), keywords)
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


def _skip_declaration(text: str, pos: int) -> str | None:
    """Blank out (keeping line breaks) the declaration around pos, so parsing can go on."""
    starts = [m.start() for m in _RESUME.finditer(text)]
    # An error at the very start of a declaration belongs to the unfinished one before it.
    line_start = text.rfind("\n", 0, pos) + 1
    at_start = line_start in starts and not text[line_start:pos].strip()
    before = [p for p in starts if (p < line_start if at_start else p <= pos)]
    after = [p for p in starts if p > pos]
    start = before[-1] if before else text.rfind("\n", 0, pos) + 1
    if after:
        end = after[0]
    else:
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
    """Offset of a node nested deeper than MAX_DEPTH, found without recursion."""
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            return getattr(node.meta, "start_pos", 0) if isinstance(node, lark.Tree) else 0
        if isinstance(node, lark.Tree):
            stack.extend((child, depth + 1) for child in node.children)
    return None


# ---------------------------------------------------------------- lark tree → syntax nodes
class _TooManyDigits(Exception):
    def __init__(self, text: str):
        super().__init__(text)
        self.text = text


def _number(text: str) -> Decimal:
    digits = text.replace(" ", "").replace("_", "")
    if sum(ch.isdigit() for ch in digits) > MAX_DIGITS:
        raise _TooManyDigits(text)
    return Decimal(digits)


@v_args(meta=True)
class _ToSyntax(Transformer):
    """One method per grammar rule; each returns a frozen syntax node with its span."""

    def __init__(self, source: Source):
        super().__init__()
        self.source = source
        self.errors: list[Diagnostic] = []

    # helpers
    def _span(self, meta) -> Span:
        if getattr(meta, "empty", True):
            return self.source.span(0, 0)
        return self.source.span(meta.start_pos, meta.end_pos)

    def _tok_span(self, token: Token) -> Span:
        return self.source.span(token.start_pos, token.end_pos)

    def _ident(self, token: Token) -> s.Ident:
        return s.Ident(str(token), span=self._tok_span(token))

    def _date(self, token: Token) -> s.DateLit:
        try:
            value = datetime.date.fromisoformat(str(token))
        except ValueError:
            self.errors.append(Diagnostic(
                "E105", f"`{token}` is not a date in the calendar", self.source,
                self._tok_span(token), hint="write dates as YYYY-MM-DD, e.g. 2016-08-01",
            ))
            value = datetime.date.min
        return s.DateLit(value, span=self._tok_span(token))

    def _string(self, token: Token) -> str:
        raw = str(token)
        body = raw[3:-3] if raw.startswith('"""') else raw[1:-1]
        return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)

    # header
    def start(self, meta, children):
        header = children[0] if children and isinstance(children[0], s.Header) else None
        items = tuple(children[1:] if header else children)
        return s.Contract(header, items, span=self._span(meta))

    def header(self, meta, children):
        return s.Header(children[0], tuple(children[1:]), span=self._span(meta))

    def _field(self, key, meta, value):
        return s.HeaderField(key, value, span=self._span(meta))

    def id_field(self, meta, c):
        return self._field("id", meta, self._string(c[0]))

    def version_field(self, meta, c):
        return self._field("version", meta, self._string(c[0]))

    def languages_field(self, meta, c):
        return self._field("languages", meta, tuple(self._ident(t) for t in c))

    def currency_field(self, meta, c):
        return self._field("currency", meta, self._ident(c[0]))

    def rounding_field(self, meta, c):
        rounding = s.Rounding(_number(c[0]), self._ident(c[1]), c[2], span=self._span(meta))
        return self._field("rounding", meta, rounding)

    def rounding_mode(self, meta, c):
        return " ".join(str(t) for t in c)

    def signed_field(self, meta, c):
        return self._field("signed", meta, self._date(c[0]))

    # texts
    def ltext(self, meta, c):
        translations = tuple(c[1:])
        return s.Text(
            self._string(c[0]),
            tuple((tag.name, text) for tag, text in translations),
            span=self._span(meta),
            tag_spans=tuple(tag.span for tag, _ in translations),
        )

    def translation(self, meta, c):
        return (self._ident(c[0]), self._string(c[1]))

    def heading(self, meta, c):
        number = str(c[0])
        number = re.sub(r"^§\s*", "", number)
        return s.Heading(number, c[1], span=self._span(meta))

    def prose(self, meta, c):
        return s.Prose(c[0], span=self._span(meta))

    def decl_name(self, meta, c):
        return s.DeclName(self._ident(c[0]), c[1] if len(c) > 1 else None)

    def _name_label(self, c):
        """Split `NAME ltext? …` children into (ident, label, rest)."""
        name = self._ident(c[0])
        if len(c) > 1 and isinstance(c[1], s.Text):
            return name, c[1], c[2:]
        return name, None, c[1:]

    # who, when, whom
    def party(self, meta, c):
        return s.Party(self._ident(c[0]), c[1], tuple(self._ident(t) for t in c[2:]),
                       span=self._span(meta))

    def term(self, meta, c):
        return s.Term(self._date(c[0]), self._date(c[1]), span=self._span(meta))

    def periods(self, meta, c):
        name, label, rest = self._name_label(c)
        return s.Periods(name, label, tuple(rest), span=self._span(meta))

    def period_def(self, meta, c):
        return s.PeriodDef(self._ident(c[0]), self._date(c[1]), self._date(c[2]),
                           span=self._span(meta))

    def cohort(self, meta, c):
        name, label, rest = self._name_label(c)
        size = s.Quantity(_number(rest[0]), None, span=self._tok_span(rest[0]))
        eligibility = rest[1] if len(rest) > 1 else None
        return s.Cohort(name, label, size, eligibility, span=self._span(meta))

    def investment(self, meta, c):
        name, label, rest = self._name_label(c)
        return s.Investment(name, label, rest[0], self._ident(rest[1]), self._date(rest[2]),
                            span=self._span(meta))

    # inputs and definitions
    def measure(self, meta, c):
        name, label, rest = self._name_label(c)
        return s.Measure(name, label, self._ident(rest[0]), tuple(rest[1:]), span=self._span(meta))

    def _option(self, key, meta, value):
        return s.Option(key, value, span=self._span(meta))

    def measure_per(self, meta, c):
        return self._option("per", meta, self._ident(c[0]))

    def measure_better(self, meta, c):
        return self._option("better", meta, self._ident(c[0]))

    def measure_range(self, meta, c):
        return self._option("between", meta, (c[0], c[1]))

    def measure_source(self, meta, c):
        return self._option("source", meta, c[0])

    def measure_description(self, meta, c):
        return self._option("description", meta, c[0])

    def define(self, meta, c):
        name, label, rest = self._name_label(c)
        return s.Define(name, label, rest[0], span=self._span(meta))

    def baseline(self, meta, c):
        name, label, rest = self._name_label(c)
        return s.Baseline(name, label, rest[0], tuple(rest[1:]), span=self._span(meta))

    def baseline_indexed(self, meta, c):
        years = s.Quantity(_number(c[1]), None, span=self._tok_span(c[1]))
        index = s.Indexation(c[0], years, self._ident(c[2]), span=self._span(meta))
        return self._option("indexed", meta, index)

    # money
    def payment(self, meta, c):
        name, label, rest = self._name_label(c)
        return s.Payment(name, label, rest[0], tuple(rest[1:]), span=self._span(meta))

    def opt_from(self, meta, c):
        return self._option("from", meta, self._ident(c[0]))

    def opt_to(self, meta, c):
        return self._option("to", meta, self._ident(c[0]))

    def opt_due(self, meta, c):
        return self._option("due", meta, c[0])

    def opt_per(self, meta, c):
        return self._option("per", meta, self._ident(c[0]))

    def opt_when(self, meta, c):
        return self._option("when", meta, c[0])

    def due_date(self, meta, c):
        return s.DueDate(self._date(c[0]), span=self._span(meta))

    def due_after_end(self, meta, c):
        amount = s.Quantity(_number(c[0]), None, span=self._tok_span(c[0]))
        return s.DueAfterEnd(amount, self._ident(c[1]), span=self._span(meta))

    def _split_decl(self, c):
        if c and isinstance(c[0], s.DeclName):
            return c[0], c[1:]
        return None, c

    def gate(self, meta, c):
        decl, (target, condition) = self._split_decl(c)
        return s.Gate(decl, target, condition, span=self._span(meta))

    def floor(self, meta, c):
        decl, rest = self._split_decl(c)
        return s.Floor(decl, rest[0], rest[1], tuple(rest[2:]), span=self._span(meta))

    def cap(self, meta, c):
        decl, (target, amount) = self._split_decl(c)
        return s.Cap(decl, target, amount, span=self._span(meta))

    def target_payment(self, meta, c):
        return s.Target("payment", name=self._ident(c[0]), span=self._span(meta))

    def target_total(self, meta, c):
        return s.Target("total", span=self._span(meta))

    def target_total_above(self, meta, c):
        return s.Target("total above", level=c[0], span=self._span(meta))

    def target_series(self, meta, c):
        return s.Target("series", name=self._ident(c[0]), span=self._span(meta))

    def target_participant(self, meta, c):
        return s.Target("participant", span=self._span(meta))

    def return_limit(self, meta, c):
        decl, rate, basis = c
        kind, start, end = basis
        return s.ReturnLimit(decl, rate, kind, start, end, span=self._span(meta))

    def annual_return(self, meta, c):
        return (c[0], self._date(c[1]), self._date(c[2]))

    def total_return(self, meta, c):
        return ("total", None, None)

    def return_kind(self, meta, c):
        return str(c[0])

    def guarantee(self, meta, c):
        decl, expr = c[0], c[1]
        tail = c[2] if len(c) > 2 else None
        when = monotone = monotone_in = None
        if tail is not None and tail[0] == "when":
            when = tail[1]
        elif tail is not None:
            monotone, monotone_in = tail[1], tail[2]
        return s.Guarantee(decl, expr, when, monotone, monotone_in, span=self._span(meta))

    def guarantee_when(self, meta, c):
        return ("when", c[0])

    def guarantee_monotone(self, meta, c):
        return ("monotone", c[0], self._ident(c[1]))

    def monotone(self, meta, c):
        return str(c[0])

    # expressions
    def if_expr(self, meta, c):
        return s.If(c[0], c[1], c[2], span=self._span(meta))

    def _binary(self, op, meta, c, op_token=None):
        op_span = self._tok_span(op_token) if op_token is not None else self._span(meta)
        return s.Binary(op, c[0], c[-1], span=self._span(meta), op_span=op_span)

    def or_op(self, meta, c):
        return self._binary("or", meta, c)

    def and_op(self, meta, c):
        return self._binary("and", meta, c)

    def not_op(self, meta, c):
        return s.Unary("not", c[0], span=self._span(meta))

    def compare(self, meta, c):
        op = {"≤": "<=", "≥": ">=", "≠": "!="}.get(str(c[1]), str(c[1]))
        return self._binary(op, meta, c, c[1])

    def add(self, meta, c):
        return self._binary("+", meta, c)

    def sub(self, meta, c):
        return self._binary("-", meta, c)

    def mul(self, meta, c):
        return self._binary("*", meta, c)

    def div(self, meta, c):
        return self._binary("/", meta, c)

    def of_op(self, meta, c):
        return self._binary("of", meta, c)

    def neg(self, meta, c):
        return s.Unary("-", c[0], span=self._span(meta))

    def quantity(self, meta, c):
        unit = str(c[1]) if len(c) > 1 else None
        unit_span = self._tok_span(c[1]) if len(c) > 1 else None
        return s.Quantity(_number(c[0]), unit, span=self._span(meta), unit_span=unit_span)

    def date_lit(self, meta, c):
        return self._date(c[0])

    def true_lit(self, meta, c):
        return s.BoolLit(True, span=self._span(meta))

    def false_lit(self, meta, c):
        return s.BoolLit(False, span=self._span(meta))

    def total_ref(self, meta, c):
        return s.TotalRef(span=self._span(meta))

    def ref(self, meta, c):
        return s.Ref(str(c[0]), span=self._span(meta))

    def call(self, meta, c):
        return s.Call(self._ident(c[0]), tuple(c[1:]), span=self._span(meta))

    def tiers(self, meta, c):
        return s.Tiers(c[0], c[1], tuple(c[2:]), span=self._span(meta))

    def tier_below(self, meta, c):
        return c[0]

    def tier_from(self, meta, c):
        return s.Tier(c[0], c[1], span=self._span(meta))

    def interpolate(self, meta, c):
        return s.Interpolate(c[0], tuple(c[1:]), span=self._span(meta))

    def point(self, meta, c):
        return s.Point(c[0], c[1], span=self._span(meta))
