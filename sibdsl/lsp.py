"""`sibc lsp`: the language server (pygls) for editors.

- Diagnostics as the author types: the same codes, messages and hints as `sibc check`; on save,
  the contract's properties are proved too (E701/W701), as `sibc check` does.
- Hover on a name: what it is (party, measure, definition, payment…), its label, its type and
  unit, its formula, and its value when it is fixed when the contract is signed.
- Go to definition of a name; document symbols (headings and declarations).
- Completion of the declared names and the language's keywords.
- Formatting through `sibc fmt` (refused, with no edit, when the file cannot be formatted losslessly).

Positions: LSP counts UTF-16 code units; sibc counts characters. They agree for every character
of Swedish, English and the other Latin alphabets; outside the Basic Multilingual Plane (emoji)
a column may be off by one.
"""

from __future__ import annotations

import re

from lsprotocol import types as t
from pygls.lsp.server import LanguageServer

from . import __version__
from . import syntax as s
from .diagnostics import SibError
from .source import Source

KEYWORDS = sorted({
    "contract", "id", "version", "languages", "currency", "rounding", "signed", "party", "payer", "investor",
    "provider", "intermediary", "evaluator", "term", "periods", "cohort", "size", "eligibility", "investment",
    "measure", "money", "share", "percentage", "count", "number", "days", "date", "boolean", "per", "better",
    "higher", "lower", "between", "source", "description", "define", "baseline", "indexed", "payment", "from",
    "to", "due", "after", "end", "when", "gate", "requires", "total", "above", "floor", "cap", "at",
    "participant", "return", "limit", "simple", "compound", "in", "guarantee", "nondecreasing",
    "nonincreasing", "if", "then", "else", "and", "or", "not", "of", "min", "max", "abs", "sum", "tiers",
    "below", "interpolate", "true", "false", "clause",
})
_WORD = re.compile(r"[^\W\d]\w*")

server = LanguageServer("sibc", __version__)


def _range(span) -> t.Range:
    return t.Range(t.Position(span.line - 1, span.column - 1), t.Position(span.end_line - 1, span.end_column - 1))


def _analyse(uri: str, text: str, prove: bool = False):
    """(syntax tree or None, checked model or None, diagnostics) for a document's text."""
    from . import check_source
    from .parser import parse

    source = Source(uri.rsplit("/", 1)[-1], text)
    contract, diagnostics = check_source(source)
    try:
        tree = parse(source)
    except SibError:
        tree = None
    if contract is not None and prove:
        from .proofcache import diagnostic, verify_cached

        diagnostics = diagnostics + [d for d in (diagnostic(r, source) for r in verify_cached(contract, source)) if d]
    return tree, contract, diagnostics


def lsp_diagnostics(diagnostics) -> list[t.Diagnostic]:
    out = []
    for d in diagnostics:
        span = d.span
        rng = _range(span) if span is not None else t.Range(t.Position(0, 0), t.Position(0, 0))
        message = d.message + (f" (hint: {d.hint})" if d.hint else "")
        out.append(t.Diagnostic(range=rng, message=message, code=d.code, source="sibc",
                                severity=t.DiagnosticSeverity.Error if d.is_error else t.DiagnosticSeverity.Warning))
    return out


def _publish(ls: LanguageServer, uri: str, prove: bool = False) -> None:
    document = ls.workspace.get_text_document(uri)
    _, _, diagnostics = _analyse(uri, document.source, prove)
    ls.text_document_publish_diagnostics(t.PublishDiagnosticsParams(uri=uri, diagnostics=lsp_diagnostics(diagnostics),
                                                                    version=document.version))


@server.feature(t.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: LanguageServer, params: t.DidOpenTextDocumentParams) -> None:
    _publish(ls, params.text_document.uri)


@server.feature(t.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: LanguageServer, params: t.DidChangeTextDocumentParams) -> None:
    _publish(ls, params.text_document.uri)


@server.feature(t.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: LanguageServer, params: t.DidSaveTextDocumentParams) -> None:
    _publish(ls, params.text_document.uri, prove=True)


def _declarations(tree: s.Contract) -> dict[str, tuple[object, s.Ident]]:
    """Every declared name → (the declaration, its name token)."""
    names: dict[str, tuple[object, s.Ident]] = {}
    for item in tree.items:
        ident = getattr(item, "name", None)
        if not isinstance(ident, s.Ident):
            decl = getattr(item, "decl", None)
            ident = decl.name if decl is not None else None
        if isinstance(ident, s.Ident):
            names.setdefault(ident.name, (item, ident))
        if isinstance(item, s.Periods):
            for p in item.periods:
                names.setdefault(p.name.name, (item, p.name))
    return names


def _word_at(text: str, position: t.Position) -> str | None:
    lines = text.split("\n")
    if position.line >= len(lines):
        return None
    line = lines[position.line]
    for m in _WORD.finditer(line):
        if m.start() <= position.character <= m.end():
            return m.group()
    return None


def hover_text(text: str, word: str, uri: str = "file:///x.sib") -> str | None:
    """What a hover on `word` shows, as Markdown."""
    from .unparse import declaration

    tree, contract, _ = _analyse(uri, text)
    if tree is None or word not in _declarations(tree):
        return None
    item, _ = _declarations(tree)[word]
    kind = type(item).__name__.lower()
    lines = [f"**{kind}** `{word}`"]
    label = getattr(item, "label", None) or getattr(getattr(item, "decl", None), "label", None)
    if isinstance(label, s.Text):
        lines[0] += f" “{label.text}”"
    if contract is not None:
        if word in contract.measures:
            lines.append(f"type: {contract.measures[word].ty.describe()}")
        elif word in contract.definitions:
            d = contract.definitions[word]
            lines.append(f"type: {d.ty.describe()}")
            value = _fixed(contract, d.expr)
            if value is not None:
                lines.append(f"value: {value}")
        elif word in contract.investments:
            from .report import format_amount

            lines.append(f"amount: {format_amount(contract.investments[word].amount, contract.currency)}")
        elif word in contract.parties:
            lines.append(f"roles: {', '.join(contract.parties[word].roles)}")
    lines.append("```sib\n" + declaration(item).strip() + "\n```")
    return "\n\n".join(lines)


def _fixed(contract, expr) -> str | None:
    from .compiler import NotConstant, constant_value
    from .report import format_value

    try:
        value = constant_value(expr, contract.definitions, {n: i.amount for n, i in contract.investments.items()})
    except (NotConstant, ZeroDivisionError, Exception):  # noqa: BLE001 — a hover never fails
        return None
    return format_value(value, expr.ty)


@server.feature(t.TEXT_DOCUMENT_HOVER)
def hover(ls: LanguageServer, params: t.HoverParams) -> t.Hover | None:
    document = ls.workspace.get_text_document(params.text_document.uri)
    word = _word_at(document.source, params.position)
    text = hover_text(document.source, word, params.text_document.uri) if word else None
    return t.Hover(contents=t.MarkupContent(kind=t.MarkupKind.Markdown, value=text)) if text else None


@server.feature(t.TEXT_DOCUMENT_DEFINITION)
def definition(ls: LanguageServer, params: t.DefinitionParams) -> t.Location | None:
    document = ls.workspace.get_text_document(params.text_document.uri)
    word = _word_at(document.source, params.position)
    tree, _, _ = _analyse(params.text_document.uri, document.source)
    if word is None or tree is None or word not in _declarations(tree):
        return None
    _, ident = _declarations(tree)[word]
    return t.Location(uri=params.text_document.uri, range=_range(ident.span))


@server.feature(t.TEXT_DOCUMENT_COMPLETION)
def completion(ls: LanguageServer, params: t.CompletionParams) -> t.CompletionList:
    document = ls.workspace.get_text_document(params.text_document.uri)
    items = [t.CompletionItem(label=k, kind=t.CompletionItemKind.Keyword) for k in KEYWORDS]
    names = set(re.findall(r"^\s*(?:party|measure|define|baseline|payment|investment|cohort|periods)\s+([^\W\d]\w*)",
                           document.source, flags=re.MULTILINE))
    items += [t.CompletionItem(label=n, kind=t.CompletionItemKind.Variable) for n in sorted(names)]
    return t.CompletionList(is_incomplete=False, items=items)


@server.feature(t.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
def symbols(ls: LanguageServer, params: t.DocumentSymbolParams) -> list[t.DocumentSymbol]:
    document = ls.workspace.get_text_document(params.text_document.uri)
    tree, _, _ = _analyse(params.text_document.uri, document.source)
    if tree is None:
        return []
    out = []
    for item in tree.items:
        if isinstance(item, s.Heading):
            name, kind = f"§ {item.number} {item.title.text}", t.SymbolKind.Namespace
        else:
            found = [n for n, (i, _) in _declarations(tree).items() if i is item]
            if not found:
                continue
            name, kind = f"{type(item).__name__.lower()} {found[0]}", t.SymbolKind.Variable
        out.append(t.DocumentSymbol(name=name, kind=kind, range=_range(item.span), selection_range=_range(item.span)))
    return out


@server.feature(t.TEXT_DOCUMENT_FORMATTING)
def formatting(ls: LanguageServer, params: t.DocumentFormattingParams) -> list[t.TextEdit] | None:
    from .fmt import format_text

    document = ls.workspace.get_text_document(params.text_document.uri)
    try:
        formatted = format_text(Source("x.sib", document.source))
    except SibError:
        return None  # not formattable losslessly: no edit; the diagnostics say why
    lines = document.source.split("\n")
    end = t.Position(len(lines) - 1, len(lines[-1]))
    return [t.TextEdit(range=t.Range(t.Position(0, 0), end), new_text=formatted)]


def main() -> None:
    server.start_io()
