"""The language server's features, as plain functions of an `Analysis` and code-point offsets:
hover text, completion, semantic tokens, folding, the outline, quick fixes and rename checks.
`lsp.py` turns their offsets into the client's positions and their results into LSP messages."""

from __future__ import annotations

import re
from typing import NamedTuple

import attrs

from . import syntax as s
from .lsp_analysis import DECLARATION_KEYWORDS, KIND_OF, Analysis, declared_name
from .lsp_text import Lines, units

# ---------------------------------------------------------------- vocabulary
EXPRESSION_KEYWORDS = ("if", "then", "else", "and", "or", "not", "of", "total", "true", "false", "tiers",
                       "interpolate", "below", "from",
                       # issue 15: the period's own values
                       "period_index", "period_start", "period_end", "contract_year")
OPTION_KEYWORDS = ("per", "better", "between", "source", "description", "indexed", "from", "to", "due",
                   "when", "requires", "at", "above", "limit", "in", "nondecreasing", "nonincreasing",
                   "simple", "compound", "year", "after", "end", "on", "size", "eligibility",
                   "drawn", "committed", "class", "times", "day", "count",  # investments and returns (issue 14)
                   # issue 15: streams, parties, ranges of periods
                   "during", "through", "over", "by", "all", "period", "payments",
                   "step", "linear", "claim", "declaration", "order", "proportion",  # issue 15: tables and rate cards
                   "loss", "the",  # issue 14: first-loss cover
                   "rest", "until", "plus",  # issue 14: waterfalls
                   "least", "principal", "full", "otherwise", "accrued")  # issue 14: coupons, repayments
HEADER_KEYWORDS = ("id", "version", "languages", "currency", "rounding", "signed")
FUNCTIONS = ("min", "max", "abs", "sum", "previous", "to_date", "cumulative")
ROLES = ("payer", "investor", "provider", "evaluator", "intermediary")
MEASURE_TYPE_NAMES = ("money", "share", "percentage", "count", "number", "days", "date", "boolean", "yesno")
RESERVED = frozenset(DECLARATION_KEYWORDS)
# words a name may not be: reserved everywhere, or read as the keyword where a value stands
NOT_A_NAME = RESERVED | frozenset({"if", "then", "else", "and", "or", "not", "of", "total", "true", "false",
                                  "tiers", "interpolate"})
NAME = re.compile(r"[^\W\d]\w*")
_KIND_ORDER = ("measure", "definition", "baseline", "investment", "payment", "cohort", "party", "periods",
               "period", "gate", "floor", "cap", "return limit", "guarantee", "cover", "assumption",
               "parameter", "waterfall", "coupon", "repayment", "redemption")


def _label(node) -> s.Text | None:
    label = getattr(node, "label", None)
    if label is None and getattr(node, "decl", None) is not None:
        label = node.decl.label
    return label if isinstance(label, s.Text) else None


def value_type(analysis: Analysis, name: str):
    """The checked type of a value name (units.Type), from the model when there is one."""
    model = analysis.model
    if model is None:
        return None
    for table in ("measures", "definitions"):
        entry = getattr(model, table, {}).get(name)
        if entry is not None:
            return entry.ty
    return None


def _kind_of_value(analysis: Analysis, name: str) -> str | None:
    """money/share/count/number/days/date/bool of a value name, from the model or the syntax."""
    from .units import COUNT, MEASURE_TYPES, MONEY

    d = analysis.index.declared.get(name)
    if d is not None and d.kind in ("investment", "payment", "cohort"):
        return COUNT if d.kind == "cohort" else MONEY  # as the checker types them
    ty = value_type(analysis, name)
    if ty is not None:
        return ty.kind
    if d is not None and d.kind == "measure":
        return MEASURE_TYPES.get(d.node.type.name)
    return None  # a definition while the contract does not check: offered, its type unknown


# ---------------------------------------------------------------- hover
def hover(analysis: Analysis, name: str) -> str | None:
    """Markdown: what the name is, its label, type and unit, its fixed value and its declaration."""
    from .unparse import declaration

    d = analysis.index.declared.get(name)
    if d is None:
        return None
    keyword = {"definition": "define", "return limit": "return limit"}.get(d.kind, d.kind)  # as written
    lines = [f"**{keyword}** `{name}`"]
    label = _label(d.node)
    if label is not None:
        lines[0] += f" “{label.text}”"
    model = analysis.model
    if model is not None:
        if name in model.measures:
            lines.append(f"type: {model.measures[name].ty.describe()}")
        elif name in model.parameters:  # issue 17: a draft's negotiable term and the values still open
            from .report import format_value

            p = model.parameters[name]
            lines.append(f"type: {p.ty.describe()}" + (
                f", open between {format_value(p.lower, p.ty)} and {format_value(p.upper, p.ty)}"
                if p.lower is not None else ", open: yes or no"))
        elif name in model.definitions and model.definitions[name] is not None:
            definition = model.definitions[name]
            lines.append(f"type: {definition.ty.describe()}")
            value = _fixed(model, definition.expr)
            if value is not None:
                lines.append(f"value: {value}")
        elif name in model.investments:
            from .report import format_amount

            lines.append(f"amount: {format_amount(model.investments[name].amount, model.currency)}")
        elif name in model.parties:
            lines.append(f"roles: {', '.join(model.parties[name].roles)}")
    elif d.kind == "measure":
        lines.append(f"type: {d.node.type.name}")
    if d.kind == "period":
        lines.append(f"from {d.node.start.value} to {d.node.end.value}")
    else:
        lines.append("```sib\n" + declaration(d.node).strip() + "\n```")
    if analysis.blanked and model is None:
        lines.append("_the file has a syntax error: types and values are shown once it is fixed_")
    return "\n\n".join(lines)


def _fixed(model, expr) -> str | None:
    from .compiler import NotConstant, constant_value
    from .report import format_value

    try:
        value = constant_value(expr, model.definitions, {n: i.amount for n, i in model.investments.items()})
    except (NotConstant, ZeroDivisionError, ArithmeticError):
        return None  # not fixed when the contract is signed (or not computable): no value shown
    return format_value(value, expr.ty)


# ---------------------------------------------------------------- completion
@attrs.frozen
class Candidate:
    label: str
    kind: str  # keyword, function, a declaration kind (measure, party, …), type, role
    detail: str = ""
    rank: int = 5  # lower comes first


_DECL_LINE = re.compile(r"^[ \t]*(" + "|".join(DECLARATION_KEYWORDS) + r")\b", re.MULTILINE)


def _context(text: str, offset: int) -> tuple[str, str, str]:
    """(declaration keyword the cursor is in, the line before the word being typed, that word)."""
    line_start = max(text.rfind("\n", 0, offset), text.rfind("\r", 0, offset)) + 1
    before = text[line_start:offset]
    word = re.search(r"[^\W\d]\w*$", before)
    typed = word.group() if word else ""
    prefix = before[:len(before) - len(typed)]
    decl = ""
    for m in _DECL_LINE.finditer(text, 0, offset):
        decl = m.group(1)
    return decl, prefix, typed


def completion(analysis: Analysis, text: str, offset: int) -> list[Candidate]:
    """Candidates for the word at offset, those that fit the context only, best first."""
    from .units import BOOL, COUNT, DATE, MONEY

    decl, prefix, _ = _context(text, offset)
    declared = analysis.index.declared
    words = prefix.split()
    previous = words[-1] if words else ""

    def names(kinds, rank=1, accept=None):
        out = []
        for n, d in declared.items():
            if d.kind in kinds and (accept is None or accept(n)):
                label = _label(d.node)
                out.append(Candidate(n, d.kind, (label.text if label else d.kind), rank))
        return out

    if not prefix.strip():  # at the start of a line: what may start one
        out = [Candidate(k, "keyword", "declaration", 1) for k in DECLARATION_KEYWORDS if k != "contract"]
        if not analysis.tree or analysis.tree.header is None:
            out.append(Candidate("contract", "keyword", "header", 0))
        if decl == "contract" or decl == "":
            out += [Candidate(k, "keyword", "header field", 2) for k in HEADER_KEYWORDS]
        if decl in ("payment", "floor"):
            out += [Candidate(k, "keyword", "option", 0) for k in ("from", "to", "due", "per", "when")]
        if decl in ("payment", "floor"):  # issue 15: a range of periods (a floor's since it has options)
            out.append(Candidate("during", "keyword", "option", 0))
        if decl == "measure":
            out += [Candidate(k, "keyword", "option", 0)
                    for k in ("per", "better", "between", "source", "description")]
        return _sorted(out)
    # payments are values only in a guarantee (E309); a declaration never uses its own name
    value_kinds = ("measure", "definition", "baseline", "investment", "cohort") + (
        ("payment",) if decl == "guarantee" else ())
    own = {d.name for d in declared.values() if _holds(analysis.offsets(d.node.span), offset)}

    def names(kinds, rank=1, accept=None, _names=names):
        return [c for c in _names(kinds, rank, accept) if c.label not in own]
    if previous == "of":  # a share of an amount: money first, never a count, a date or a yes/no
        def fits(n):
            return _kind_of_value(analysis, n) not in (COUNT, DATE, BOOL)

        out = [attrs.evolve(c, rank=0 if _kind_of_value(analysis, c.label) == MONEY else 1)
               for c in names(value_kinds, accept=fits)]
        return _sorted(out + [Candidate(f, "function", "function", 3) for f in FUNCTIONS])
    if previous in ("from", "to") and decl in ("payment", "floor", "investment"):
        return _sorted(names(("party",), rank=0))
    if previous == "per" and decl in ("measure", "payment", "cap"):
        return _sorted(names(("periods", "cohort"), rank=0) + ([Candidate("participant", "keyword", "", 1)]
                                                                if decl == "cap" else []))
    if previous in ("×", "by") and decl in ("measure", "payment"):  # issue 15: the second of two series
        return _sorted(names(("periods",), rank=0))
    if previous == "over" and decl not in ("cap", "floor"):  # issue 15: `sum(x over SERIES)`
        return _sorted(names(("periods",), rank=0))
    if previous in ("during", "through") and decl in ("payment", "gate", "floor", "cap"):  # issue 15: a range of periods
        return _sorted(names(("period",), rank=0))
    if previous == "better":
        return [Candidate("higher", "keyword", "", 0), Candidate("lower", "keyword", "", 0)]
    if previous == "in" and decl == "guarantee":
        return _sorted(names(("measure",), rank=0))
    if previous.endswith(":") and decl == "measure":
        return [Candidate(t, "type", "measure type", 0) for t in MEASURE_TYPE_NAMES]
    if decl == "party" and previous.endswith((":", ",")):
        return [Candidate(r, "role", "role", 0) for r in ROLES]
    if decl in ("gate", "floor", "cap") and (previous == decl or previous.endswith(":")):  # its target
        extra = [Candidate("per", "keyword", "per series or participant", 2),
                 Candidate("payments", "keyword", "payments from or to a party", 2)] if decl == "cap" else []
        return _sorted(names(("payment",), rank=0) + [Candidate("total", "keyword", "", 1)] + extra)
    out = names(value_kinds)
    out += [Candidate(f, "function", "function", 3) for f in FUNCTIONS]
    out += [Candidate(k, "keyword", "", 4) for k in EXPRESSION_KEYWORDS + OPTION_KEYWORDS]
    return _sorted(out)


def _sorted(candidates: list[Candidate]) -> list[Candidate]:
    seen: dict[str, Candidate] = {}
    for c in candidates:
        if c.label not in seen or c.rank < seen[c.label].rank:
            seen[c.label] = c
    return sorted(seen.values(), key=lambda c: (c.rank, c.label.casefold(), c.label))


# ---------------------------------------------------------------- semantic tokens
TOKEN_TYPES = ("keyword", "string", "comment", "number", "operator", "type", "function", "variable",
               "parameter", "property", "enum", "enumMember", "class", "struct", "namespace")
TOKEN_MODIFIERS = ("declaration", "readonly")
_TYPE_OF_KIND = {
    "party": "class", "periods": "enum", "period": "enumMember", "cohort": "struct", "investment": "variable",
    "measure": "parameter", "definition": "variable", "baseline": "variable", "payment": "function",
    "gate": "property", "floor": "property", "cap": "property", "return limit": "property",
    "guarantee": "property", "cover": "property", "assumption": "property", "parameter": "parameter",
    "waterfall": "property", "coupon": "function", "repayment": "function", "redemption": "function",
}
_READONLY = {"investment", "definition", "baseline", "parameter"}


def _grammar_comment() -> str:
    """The grammar's own COMMENT pattern, so a comment is coloured exactly as far as the lexer
    reads it (today to "\n" only: a lone CR does not end it, and the text after it shows as the
    comment it is to sibc)."""
    from .parser import grammar_text

    found = re.search(r"^COMMENT(?:\.\d+)?:\s*/(.+)/\s*$", grammar_text(), re.MULTILINE)
    return found.group(1) if found else r"#[^\n]*"


_LEX = re.compile(
    r'(?P<string>"""(?:[^"\\]|\\.|"(?!""))*(?:"""|\Z)|"(?:[^"\\\n\r]|\\.)*"?)'
    rf"|(?P<comment>{_grammar_comment()})"
    r"|(?P<namespace>§[ \t]*[0-9]+(?:\.[0-9]+)*[a-z]?)"
    r"|(?P<number>[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{1,3}(?:[ _][0-9]{3})+(?:\.[0-9]+)?|[0-9]+(?:\.[0-9]+)?)"
    r"|(?P<word>[^\W\d]\w*)"
    r"|(?P<operator><=|>=|==|!=|[-+*/<>=≤≥≠%])"
)
_KEYWORDS = frozenset(DECLARATION_KEYWORDS + EXPRESSION_KEYWORDS + OPTION_KEYWORDS + HEADER_KEYWORDS
                      + ("half", "up", "down", "even", "higher", "lower", "participant", "clause", "for"))


def semantic_tokens(analysis: Analysis, lines: Lines) -> list[int]:
    """The LSP encoding of every token: (Δline, Δstart, length, type, modifiers) per token, one
    line per token (a multi-line text is split), lengths in the client's code units."""
    text = analysis.text
    occurrences = {o.start: o for o in analysis.index.occurrences}
    declared = analysis.index.declared
    data: list[int] = []
    last_line = last_start = 0
    for m in _LEX.finditer(text):
        kind = m.lastgroup
        modifiers = 0
        if kind == "word":
            word = m.group()
            o = occurrences.get(m.start())
            if o is not None:
                d = declared[o.name]
                kind = _TYPE_OF_KIND[d.kind]
                modifiers = (1 if o.declaration else 0) | (2 if d.kind in _READONLY else 0)
            elif word in FUNCTIONS and text.startswith("(", m.end()):
                kind = "function"
            elif word in _KEYWORDS:
                kind = "keyword"
            elif word in ROLES or word in MEASURE_TYPE_NAMES:
                kind = "type"
            else:
                continue  # an unknown name, a unit, a language tag: left to the editor's grammar
        type_index = TOKEN_TYPES.index(kind)
        start, end = m.start(), m.end()
        line = lines.line_of(start)
        while start < end:  # one token per line
            line_end = min(end, lines.content_end(line))
            if line_end > start:
                column = units(text[lines.starts[line]:start], lines.encoding)
                length = units(text[start:line_end], lines.encoding)
                data += [line - last_line, column - (last_start if line == last_line else 0), length, type_index,
                         modifiers]
                last_line, last_start = line, column
            line += 1
            if line >= len(lines.starts):
                break
            start = lines.starts[line]
    return data


def _holds(offsets: tuple[int, int], offset: int) -> bool:
    return offsets[0] <= offset <= offsets[1]


# ---------------------------------------------------------------- folding and the outline
def folding(analysis: Analysis, lines: Lines) -> list[tuple[int, int, str]]:
    """(first line, last line, kind) of every region an editor can fold: multi-line declarations,
    clauses (a heading to the next), tables, long texts and runs of comment lines."""
    out: list[tuple[int, int, str]] = []
    tree = analysis.tree

    def add(start: int, end: int, kind: str = "region") -> None:
        first, last = lines.line_of(start), lines.line_of(max(start, end - 1))
        if last > first:
            out.append((first, last, kind))

    if tree is not None:
        if tree.header is not None:
            add(*analysis.offsets(tree.header.span))
        headings = [i for i in tree.items if isinstance(i, s.Heading)]
        for n, h in enumerate(headings):
            end = analysis.offsets(headings[n + 1].span)[0] if n + 1 < len(headings) else len(analysis.text)
            start = analysis.offsets(h.span)[0]
            add(start, start + len(analysis.text[start:end].rstrip()))
        for item in tree.items:
            if not isinstance(item, s.Heading):
                add(*analysis.offsets(item.span))
            stack = [item]
            while stack:
                node = stack.pop()
                if isinstance(node, (s.Tiers, s.Interpolate)):
                    add(*analysis.offsets(node.span))
                if isinstance(node, tuple):
                    stack.extend(node)
                elif attrs.has(type(node)) and not isinstance(node, (s.Ident, s.Text, s.Quantity, s.DateLit)):
                    stack.extend(getattr(node, a.name) for a in type(node).__attrs_attrs__)
    run: list[int] = []
    for line in range(len(lines) + 1):
        if line < len(lines) and lines.line_text(line).lstrip().startswith("#"):
            run.append(line)
            continue
        if len(run) > 1:
            out.append((run[0], run[-1], "comment"))
        run = []
    return sorted(set(out))


@attrs.frozen
class Symbol:
    name: str
    detail: str
    kind: str  # heading, or a declaration kind
    start: int
    end: int
    name_start: int
    name_end: int
    children: tuple[Symbol, ...] = ()


def outline(analysis: Analysis) -> list[Symbol]:
    """Headings with the declarations under them; a series with its periods."""
    tree = analysis.tree
    if tree is None:
        return []
    top: list[Symbol] = []
    section: list[Symbol] | None = None
    heading: s.Heading | None = None

    def close() -> None:
        if heading is not None:
            start, own_end = analysis.offsets(heading.span)
            end = max([own_end, *(c.end for c in section)])
            top.append(Symbol(f"§ {heading.number} {heading.title.text}", "", "heading", start, end,
                              start, own_end, tuple(section)))

    for item in tree.items:
        if isinstance(item, s.Heading):
            close()
            heading, section = item, []
            continue
        kind = KIND_OF.get(type(item))
        if kind is None:
            continue
        ident = declared_name(item)
        label = _label(item)
        if ident is None:  # an unnamed gate, floor or cap
            target = getattr(item, "target", None)
            name = f"{kind} {target.name.name if target is not None and target.name else 'total'}"
            name_start = analysis.offsets(item.span)[0]
            name_end = name_start + len(kind)
        else:
            name, (name_start, name_end) = ident.name, analysis.offsets(ident.span)
        children = ()
        if isinstance(item, s.Periods):
            children = tuple(Symbol(p.name.name, f"{p.start.value} – {p.end.value}", "period",
                                    *analysis.offsets(p.span), *analysis.offsets(p.name.span)) for p in item.periods)
        symbol = Symbol(name, f"{kind}" + (f" “{label.text}”" if label else ""), kind,
                        *analysis.offsets(item.span), name_start, name_end, children)
        (section if section is not None else top).append(symbol)
    close()
    return sorted(top, key=lambda sym: sym.start)


# ---------------------------------------------------------------- quick fixes and rename
class _Offsets(NamedTuple):  # a span's character offsets
    start: int
    end: int


@attrs.frozen
class Fix:
    title: str
    diagnostic: object  # the Diagnostic it fixes
    edits: tuple[tuple[int, int, str], ...]  # (start, end, new text), offsets into the text
    preferred: bool = True


_DID_YOU_MEAN = re.compile(r"did you mean `([^`]+)`\?")


def fixes(analysis: Analysis, start: int, end: int) -> list[Fix]:
    """The diagnostics' hints that are concrete edits, for the diagnostics touching [start, end]."""
    text = analysis.text
    out: list[Fix] = []
    for d in analysis.diagnostics:
        if d.span is None:
            continue
        span = _Offsets(*analysis.offsets(d.span))
        if span.end < start or span.start > end:
            continue
        written = text[span.start:span.end]
        hint = d.hint or ""
        m = _DID_YOU_MEAN.search(hint)
        if m and NAME.fullmatch(written):
            out.append(Fix(f"replace `{written}` with `{m.group(1)}`", d, ((span.start, span.end, m.group(1)),)))
        elif d.code == "E409" and (m := re.search(r"`(term [^`]+)`", hint)) and written.startswith("term"):
            out.append(Fix("swap the dates of the term", d, ((span.start, span.end, m.group(1)),)))
        elif d.code == "E302" and (m := re.search(r"`rounding \S+ (\S+) ", hint)) and NAME.fullmatch(written):
            out.append(Fix(f"round in {m.group(1)}", d, ((span.start, span.end, m.group(1)),)))
        elif d.code == "E210" and NAME.fullmatch(written):
            out += [Fix(f"write `better {w}`", d, ((span.start, span.end, w),), preferred=False)
                    for w in ("higher", "lower")]
        elif d.code == "E104":
            line_end = min((i for i in (text.find("\n", span.start), text.find("\r", span.start)) if i >= 0),
                           default=len(text))
            out.append(Fix("close the text with `\"`", d, ((line_end, line_end, '"'),)))
        elif d.code == "E306" and (m := re.search(r"`[0-9 ]+ (\S+)`", hint)) and _NUMBER.fullmatch(written):
            out.append(Fix(f"write `{written} {m.group(1)}`", d, ((span.end, span.end, f" {m.group(1)}"),)))
        elif d.code == "E307" and (m := re.search(r"`per (\S+)`", hint)):
            payment = _enclosing(analysis, span.start)
            if isinstance(payment, s.Payment) and not any(o.key == "per" for o in payment.options):
                after = analysis.offsets(payment.expr.span)[1]
                out.append(Fix(f"pay it per `{m.group(1)}`", d, ((after, after,
                                                                  f" per {m.group(1)}"),)))
            out.append(Fix("add it up with sum(…)", d, ((span.start, span.start, "sum("), (span.end, span.end, ")")),
                           preferred=False))
        elif d.code == "E402" and (m := re.fullmatch(r"keep one `(\w+)`.*", hint)) and written.startswith(m.group(1)):
            start_of_gap = len(text[:span.start].rstrip(" \t"))
            out.append(Fix(f"remove the second `{m.group(1)}`", d, ((start_of_gap, span.end, ""),)))
        elif d.code == "W401" and (m := re.search(r"`([^`]+)`", d.message)):
            declared = analysis.index.declared.get(m.group(1))
            if declared is not None:
                start_of, end_of = analysis.offsets(declared.node.span)
                first = max(text.rfind("\n", 0, start_of), -1) + 1
                last = text.find("\n", end_of)
                last = len(text) if last < 0 else last + 1
                out.append(Fix(f"remove the unused measure `{m.group(1)}`", d, ((first, last, ""),),
                               preferred=False))
    return out


_NUMBER = re.compile(r"[0-9]{1,3}(?:[ _][0-9]{3})+(?:\.[0-9]+)?|[0-9]+(?:\.[0-9]+)?")


def _enclosing(analysis: Analysis, offset: int):
    """The declaration whose text holds offset."""
    tree = analysis.tree
    for item in tree.items if tree is not None else ():
        start, end = analysis.offsets(item.span)
        if start <= offset < end:
            return item
    return None


class RenameError(ValueError):
    """A rename that would change what the contract means or would not parse."""


def check_rename(analysis: Analysis, old: str, new: str) -> None:
    if not NAME.fullmatch(new):
        raise RenameError(f"`{new}` is not a name: a name is a letter followed by letters, digits or _")
    if new in NOT_A_NAME:
        raise RenameError(f"`{new}` is a reserved word of the language")
    if new != old and new in analysis.index.declared:
        d = analysis.index.declared[new]
        raise RenameError(f"`{new}` is already the name of a {d.kind}")
    word = re.compile(r"(?<!\w)" + re.escape(old) + r"(?!\w)")
    for a, b in analysis.blanked:
        if word.search(analysis.text, a, b):
            raise RenameError(f"`{old}` is also written in a declaration with a syntax error (line "
                              f"{analysis.text.count(chr(10), 0, a) + 1}); fix it first, so that no use is missed")
