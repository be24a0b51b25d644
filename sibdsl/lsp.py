"""`sibc lsp`: the language server (pygls) for editors.

- Diagnostics as the author types: the same codes, messages and hints as `sibc check`, with their
  "first defined here" labels as related information; on save, the contract's properties are
  proved too (E701/W701), as `sibc check` does.
- Hover (kind, label, type and unit, formula, the value fixed when the contract is signed), go to
  definition, references, highlights and rename of every kind of name (parties, series, periods,
  cohorts, investments, measures, definitions, baselines, payments, named gates, floors, caps,
  return limits and guarantees); the outline; folding; semantic tokens; completion that fits the
  context; quick fixes that apply the diagnostics' hints; formatting through `sibc fmt`.
- All of it keeps working around a syntax error (`lsp_analysis`: the broken declaration is left
  out, the rest is analysed).

Positions are converted exactly in the encoding negotiated at `initialize` (UTF-8, UTF-16 or
UTF-32; `lsp_text`), with the protocol's lines ("\\n", "\\r\\n", a lone "\\r"). Documents are kept
here, not in pygls' workspace, whose lines also break at form feeds and U+2028.

Analyses run one at a time in a worker thread, so the server keeps reading messages while one
runs. Edits are debounced (`debounceMs`, 250 by default): ten keystrokes in a row give one
analysis of the text as it stands after the last of them, and diagnostics are published only
for the current version of a document, never for one it no longer has.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from typing import Any

from lsprotocol import types as t
from pygls.exceptions import (
    JsonRpcContentModified,
    JsonRpcException,
    JsonRpcInternalError,
    JsonRpcInvalidParams,
)
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol, lsp_method

from . import __version__
from . import lsp_features as f
from .incremental import Parser
from .lsp_analysis import Analysis, analyse
from .lsp_text import UTF16, Lines, apply_change

log = logging.getLogger(__name__)


class _OneLine(logging.Filter):
    """pygls logs a traceback for every message it cannot read; SibProtocol answers or drops those
    messages itself, so the log gets the reason in one line, not a traceback an editor user reports."""

    def filter(self, record: logging.LogRecord) -> bool:
        from pygls.exceptions import JsonRpcException

        if record.getMessage().startswith("Unable to deserialize message"):
            record.msg, record.args = "sibc lsp: a message did not fit the protocol (answered or dropped)", ()
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, ValueError) and type(error).__name__ in ("JSONDecodeError", "UnicodeDecodeError"):
            record.msg, record.args = f"sibc lsp: a message that is not JSON was dropped: {error}", ()
            record.exc_info = record.exc_text = None
        if isinstance(error, JsonRpcException) and not isinstance(error, JsonRpcInternalError):
            # an answer sibc chose (ContentModified: the text changed; RequestFailed): not a bug
            record.msg, record.args = f"sibc lsp: {record.getMessage()}: answered {error.message}", ()
            record.exc_info = record.exc_text = None
        return True


logging.getLogger("pygls.protocol.json_rpc").addFilter(_OneLine())
logging.getLogger("pygls.io_").addFilter(_OneLine())
logging.getLogger("pygls.server").addFilter(_OneLine())
REQUEST_FAILED = -32803  # LSP's RequestFailed: the request was valid but cannot be carried out
DEBOUNCE_SECONDS = 0.25


class _Answered:
    """A request the protocol layer has already answered with an error (it could not be read)."""

    jsonrpc = None


class SibProtocol(LanguageServerProtocol):
    """pygls' protocol, with documents kept by the server and every request answered."""

    def structure_message(self, data: dict[str, Any]):
        try:
            return super().structure_message(data)
        except (JsonRpcInvalidParams, JsonRpcInternalError) as error:
            # A request whose parameters do not fit the protocol (a position at line -1) still gets
            # an answer, an error with the request's id; pygls would only show a message.
            if isinstance(data, dict) and "id" in data and "method" in data:
                error.message = f"invalid parameters for {data['method']}: {_why(error)}"[:500]
                self._send_response(data["id"], error=error.to_response_error())
                return _Answered()
            # a response to no request of ours, or a notification that does not fit: there is no one
            # to answer, so it is dropped with one line in the log (pygls would log a traceback)
            log.warning("sibc lsp: ignored a malformed message: %s", _why(error)[:300])
            return _Answered()

    def handle_message(self, message):
        if isinstance(message, _Answered):
            return
        if not hasattr(message, "jsonrpc"):  # `null`, `[]`, `5`: JSON, but no JSON-RPC message
            log.warning("sibc lsp: dropped a message that is not a JSON-RPC object: %.100r", message)
            return
        super().handle_message(message)

    # The documents live in SibServer.documents (see the module docstring); these three only
    # hand the notification to the server's handlers.
    @lsp_method(t.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: t.DidOpenTextDocumentParams):
        yield self.fm.features[t.TEXT_DOCUMENT_DID_OPEN], (params,), None

    @lsp_method(t.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: t.DidChangeTextDocumentParams):
        yield self.fm.features[t.TEXT_DOCUMENT_DID_CHANGE], (params,), None

    @lsp_method(t.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: t.DidCloseTextDocumentParams):
        yield self.fm.features[t.TEXT_DOCUMENT_DID_CLOSE], (params,), None


def _why(error: Exception) -> str:
    """What cattrs found wrong in a message, as `invalid value … @ $.params.position.line`."""
    from cattrs import transform_error
    from cattrs.errors import ClassValidationError

    cause = error.__cause__
    if isinstance(cause, ClassValidationError):
        return "; ".join(transform_error(cause, path="$"))
    return str(cause or error)


class Document:
    def __init__(self, uri: str, text: str, version: int | None):
        self.uri, self.text, self.version = uri, text, version
        self.timer: asyncio.TimerHandle | None = None
        self.analysis: tuple[str, asyncio.Future] | None = None  # (text, future of its Analysis)
        self.published: str | None = None  # the text whose diagnostics the client has
        self.latest: Analysis | None = None  # the newest finished analysis, maybe of an older text
        self.proofs: tuple[str, list] | None = None  # (text, proof diagnostics) after a save
        self.parser = Parser()  # parses only the declarations an edit changed (sibdsl/incremental.py)

    @property
    def name(self) -> str:
        return self.uri.rsplit("/", 1)[-1] or "untitled.sib"


class SibServer(LanguageServer):
    def __init__(self):
        super().__init__("sibc", __version__, protocol_cls=SibProtocol)
        self.documents: dict[str, Document] = {}
        self.debounce = DEBOUNCE_SECONDS
        self.analyses_run = 0  # how many analyses ran, for `sibc/status`
        # one analysis at a time: the machine's other core stays with the editor
        self.worker = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="sibc-analysis")

    @property
    def encoding(self) -> str:
        encoding = self.workspace.position_encoding if self.protocol._workspace is not None else UTF16
        return str(getattr(encoding, "value", encoding) or UTF16)

    def lines(self, text: str) -> Lines:
        return Lines(text, self.encoding)

    def document(self, uri: str) -> Document:
        document = self.documents.get(uri)
        if document is None:
            raise JsonRpcException(message=f"{uri} is not open in the editor", code=REQUEST_FAILED)
        return document

    def _run(self, document: Document, text: str) -> Analysis | None:
        if document.text is not text and document.text != text:
            return None  # edited again before this analysis started: no one needs it any more
        self.analyses_run += 1
        return analyse(document.name, text, document.parser)

    def analysis(self, document: Document) -> asyncio.Future:
        """The analysis of the document's current text: the one running or done if it is for this
        text, else a new one (queued behind the one running)."""
        text = document.text
        cached = document.analysis
        skipped = cached is not None and cached[1].done() and not cached[1].cancelled() and (
            cached[1].exception() is None and cached[1].result() is None)  # an edit came first, then an undo
        if cached is None or cached[0] != text or skipped:
            loop = asyncio.get_running_loop()
            future = loop.run_in_executor(self.worker, self._run, document, text)
            document.analysis = (text, future)

            def keep(done: asyncio.Future) -> None:
                if not done.cancelled() and done.exception() is None and done.result() is not None:
                    document.latest = done.result()

            future.add_done_callback(keep)
        return document.analysis[1]

    async def publish(self, document: Document, prove: bool = False) -> None:
        analysis = await self.analysis(document)
        if analysis is None:
            return  # superseded by an edit: the analysis of the new text will publish
        diagnostics = list(analysis.diagnostics)
        if prove and analysis.model is not None:
            loop = asyncio.get_running_loop()
            proofs = await loop.run_in_executor(self.worker, _prove, document.name, analysis)
            document.proofs = (analysis.text, proofs)
        if document.proofs is not None and document.proofs[0] == analysis.text:
            diagnostics += document.proofs[1]
        if document.text != analysis.text or self.documents.get(document.uri) is not document:
            return  # edited (or closed) meanwhile: the analysis of the new text will publish
        document.published = analysis.text
        lines = self.lines(analysis.text)
        self.text_document_publish_diagnostics(t.PublishDiagnosticsParams(
            uri=document.uri, version=document.version,
            diagnostics=[_diagnostic(d, lines, document.uri) for d in diagnostics]))

    def indexed(self, analysis: Analysis) -> asyncio.Future:
        """The analysis's index of names, made in the worker (not on the loop) when a request first needs
        it: hover, references, rename … need it, the diagnostics do not (and a queued index would keep
        the worker, and the server's exit, waiting)."""
        if "index" in vars(analysis):
            future = asyncio.get_running_loop().create_future()
            future.set_result(analysis.index)
            return future
        return asyncio.get_running_loop().run_in_executor(self.worker, lambda: analysis.index)

    def schedule(self, document: Document, delay: float) -> None:
        if document.timer is not None:
            document.timer.cancel()
        loop = asyncio.get_running_loop()

        def start() -> None:
            document.timer = None
            loop.create_task(self.publish(document)).add_done_callback(self._report)

        document.timer = loop.call_later(delay, start) if delay > 0 else None
        if delay <= 0:
            start()

    def _report(self, task: asyncio.Task) -> None:
        """A failed analysis is a bug in sibc: its traceback goes to the editor's log for the report,
        and the server goes on with the next edit."""
        if task.cancelled() or task.exception() is None:
            return
        import traceback

        error = task.exception()
        self.window_log_message(t.LogMessageParams(type=t.MessageType.Error, message="sibc lsp: analysis failed "
                                                   "(a bug; please report it)\n" + "".join(
                                                       traceback.format_exception(error))))


def _prove(name: str, analysis: Analysis) -> list:
    from .proofcache import diagnostic, verify_cached
    from .source import Source

    source = Source(name, analysis.text)
    return [d for d in (diagnostic(r, source) for r in verify_cached(analysis.model, source)) if d]


server = SibServer()


# ---------------------------------------------------------------- conversions
def _range(lines: Lines, start: int, end: int) -> t.Range:
    (l1, c1), (l2, c2) = lines.position(start), lines.position(end)
    return t.Range(t.Position(l1, c1), t.Position(l2, c2))


def _offset(lines: Lines, position: t.Position) -> int:
    return lines.offset(position.line, position.character)


def _diagnostic(d, lines: Lines, uri: str) -> t.Diagnostic:
    rng = _range(lines, *lines.offsets(d.span)) if d.span is not None else t.Range(t.Position(0, 0),
                                                                                   t.Position(0, 0))
    related = [t.DiagnosticRelatedInformation(location=t.Location(uri=uri, range=_range(lines,
                                                                                        *lines.offsets(label.span))),
                                              message=label.message)
               for label in d.labels if label.span is not None
               and (label.source is None or d.source is None or label.source.name == d.source.name)]
    message = d.message + (f" (hint: {d.hint})" if d.hint else "")
    return t.Diagnostic(range=rng, message=message, code=d.code, source="sibc", related_information=related or None,
                        severity=t.DiagnosticSeverity.Error if d.is_error else t.DiagnosticSeverity.Warning)


async def _current(ls: SibServer, uri: str) -> tuple[Document, Analysis, Lines]:
    document = ls.document(uri)
    analysis = await ls.analysis(document)
    if analysis is None:  # the document was edited before its analysis started
        raise JsonRpcContentModified(message=f"{uri} changed; ask again")
    await ls.indexed(analysis)
    return document, analysis, ls.lines(analysis.text)


# ---------------------------------------------------------------- documents
@server.feature(t.INITIALIZE)
def initialize(ls: SibServer, params: t.InitializeParams) -> None:
    options = params.initialization_options
    if isinstance(options, dict) and isinstance(options.get("debounceMs"), (int, float)):
        ls.debounce = max(0.0, min(float(options["debounceMs"]), 5000.0)) / 1000


@server.feature(t.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: SibServer, params: t.DidOpenTextDocumentParams) -> None:
    item = params.text_document
    document = ls.documents[item.uri] = Document(item.uri, item.text, item.version)
    ls.schedule(document, 0)


@server.feature(t.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: SibServer, params: t.DidChangeTextDocumentParams) -> None:
    document = ls.documents.get(params.text_document.uri)
    if document is None:
        return
    text = document.text
    try:
        for change in params.content_changes:
            rng = getattr(change, "range", None)
            where = None if rng is None else (rng.start.line, rng.start.character, rng.end.line, rng.end.character)
            text = apply_change(text, where, change.text, ls.encoding)
    except ValueError as error:  # the whole notification is refused, not half applied
        ls.window_log_message(t.LogMessageParams(type=t.MessageType.Error, message=(
            f"sibc lsp: ignored version {params.text_document.version} of {document.uri}: {error}; the server "
            "keeps the previous text (reopen the file to resynchronise)")))
        return
    document.text, document.version = text, params.text_document.version
    ls.schedule(document, ls.debounce)


@server.feature(t.TEXT_DOCUMENT_DID_SAVE)
async def did_save(ls: SibServer, params: t.DidSaveTextDocumentParams) -> None:
    document = ls.documents.get(params.text_document.uri)
    if document is not None:
        if document.timer is not None:
            document.timer.cancel()
            document.timer = None
        await ls.publish(document, prove=True)  # a failure is answered by pygls' own error report


@server.feature(t.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: SibServer, params: t.DidCloseTextDocumentParams) -> None:
    document = ls.documents.pop(params.text_document.uri, None)
    if document is not None and document.timer is not None:
        document.timer.cancel()
    ls.text_document_publish_diagnostics(t.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[]))


@server.feature("sibc/status")
def status(ls: SibServer, params) -> dict:
    """How many analyses ran, and the version and SHA-256 of each open document's text as the server
    has it (UTF-8, a lone surrogate as its three bytes): for tests and for bug reports ("is the
    server's text the editor's?")."""
    import hashlib

    return {"analyses": ls.analyses_run, "encoding": ls.encoding,
            "documents": {uri: {"version": d.version,
                                "sha256": hashlib.sha256(d.text.encode("utf-8", "surrogatepass")).hexdigest()}
                          for uri, d in ls.documents.items()}}


# ---------------------------------------------------------------- names
async def _at(ls: SibServer, params) -> tuple[Document, Analysis, Lines, object]:
    """The current analysis of the request's document, and the name at the request's position (or None)."""
    document, analysis, lines = await _current(ls, params.text_document.uri)
    return document, analysis, lines, analysis.index.at(_offset(lines, params.position))


@server.feature(t.TEXT_DOCUMENT_HOVER)
async def hover(ls: SibServer, params: t.HoverParams) -> t.Hover | None:
    _, analysis, lines, occurrence = await _at(ls, params)
    text = f.hover(analysis, occurrence.name) if occurrence else None
    if text is None:
        return None
    return t.Hover(contents=t.MarkupContent(kind=t.MarkupKind.Markdown, value=text),
                   range=_range(lines, occurrence.start, occurrence.end))


@server.feature(t.TEXT_DOCUMENT_DEFINITION)
async def definition(ls: SibServer, params: t.DefinitionParams) -> t.Location | None:
    _, analysis, lines, occurrence = await _at(ls, params)
    if occurrence is None:
        return None
    d = analysis.index.declared[occurrence.name]
    return t.Location(uri=params.text_document.uri, range=_range(lines, d.start, d.end))


@server.feature(t.TEXT_DOCUMENT_REFERENCES)
async def references(ls: SibServer, params: t.ReferenceParams) -> list[t.Location] | None:
    _, analysis, lines, occurrence = await _at(ls, params)
    if occurrence is None:
        return None
    include = params.context.include_declaration if params.context else True
    return [t.Location(uri=params.text_document.uri, range=_range(lines, o.start, o.end))
            for o in analysis.index.of(occurrence.name) if include or not o.declaration]


@server.feature(t.TEXT_DOCUMENT_DOCUMENT_HIGHLIGHT)
async def highlight(ls: SibServer, params: t.DocumentHighlightParams) -> list[t.DocumentHighlight] | None:
    _, analysis, lines, occurrence = await _at(ls, params)
    if occurrence is None:
        return None
    return [t.DocumentHighlight(range=_range(lines, o.start, o.end),
                                kind=t.DocumentHighlightKind.Write if o.declaration else t.DocumentHighlightKind.Read)
            for o in analysis.index.of(occurrence.name)]


@server.feature(t.TEXT_DOCUMENT_PREPARE_RENAME)
async def prepare_rename(ls: SibServer, params: t.PrepareRenameParams):
    _, analysis, lines, occurrence = await _at(ls, params)
    if occurrence is None:
        raise JsonRpcException(message="only a declared name can be renamed", code=REQUEST_FAILED)
    return t.PrepareRenamePlaceholder(range=_range(lines, occurrence.start, occurrence.end),
                                      placeholder=occurrence.name)


@server.feature(t.TEXT_DOCUMENT_RENAME)
async def rename(ls: SibServer, params: t.RenameParams) -> t.WorkspaceEdit | None:
    document, analysis, lines, occurrence = await _at(ls, params)
    if occurrence is None:
        raise JsonRpcException(message="only a declared name can be renamed", code=REQUEST_FAILED)
    try:
        f.check_rename(analysis, occurrence.name, params.new_name)
    except f.RenameError as error:
        raise JsonRpcException(message=str(error), code=REQUEST_FAILED) from None
    edits = [t.TextEdit(range=_range(lines, o.start, o.end), new_text=params.new_name)
             for o in analysis.index.of(occurrence.name)]
    return _workspace_edit(ls, document, edits)


def _workspace_edit(ls: SibServer, document: Document, edits: list[t.TextEdit]) -> t.WorkspaceEdit:
    capabilities = ls.client_capabilities
    workspace = capabilities.workspace if capabilities else None
    edit_caps = workspace.workspace_edit if workspace else None
    if edit_caps is not None and edit_caps.document_changes:
        return t.WorkspaceEdit(document_changes=[t.TextDocumentEdit(
            text_document=t.OptionalVersionedTextDocumentIdentifier(uri=document.uri, version=document.version),
            edits=edits)])
    return t.WorkspaceEdit(changes={document.uri: edits})


# ---------------------------------------------------------------- the whole document
@server.feature(t.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
async def symbols(ls: SibServer, params: t.DocumentSymbolParams) -> list[t.DocumentSymbol]:
    _, analysis, lines = await _current(ls, params.text_document.uri)
    kinds = {"heading": t.SymbolKind.Namespace, "party": t.SymbolKind.Class, "periods": t.SymbolKind.Enum,
             "period": t.SymbolKind.EnumMember, "cohort": t.SymbolKind.Struct, "investment": t.SymbolKind.Constant,
             "measure": t.SymbolKind.Field, "definition": t.SymbolKind.Constant, "baseline": t.SymbolKind.Constant,
             "payment": t.SymbolKind.Function}

    def convert(sym: f.Symbol) -> t.DocumentSymbol:
        full = _range(lines, sym.start, sym.end)
        return t.DocumentSymbol(name=sym.name, detail=sym.detail, kind=kinds.get(sym.kind, t.SymbolKind.Property),
                                range=full, selection_range=_range(lines, sym.name_start, sym.name_end),
                                children=[convert(c) for c in sym.children] or None)

    return [convert(sym) for sym in f.outline(analysis)]


@server.feature(t.TEXT_DOCUMENT_FOLDING_RANGE)
async def folding(ls: SibServer, params: t.FoldingRangeParams) -> list[t.FoldingRange]:
    _, analysis, lines = await _current(ls, params.text_document.uri)
    return [t.FoldingRange(start_line=a, end_line=b,
                           kind=t.FoldingRangeKind.Comment if kind == "comment" else t.FoldingRangeKind.Region)
            for a, b, kind in f.folding(analysis, lines)]


@server.feature(t.TEXT_DOCUMENT_SEMANTIC_TOKENS_FULL,
                t.SemanticTokensLegend(token_types=list(f.TOKEN_TYPES), token_modifiers=list(f.TOKEN_MODIFIERS)))
async def semantic_tokens(ls: SibServer, params: t.SemanticTokensParams) -> t.SemanticTokens:
    _, analysis, lines = await _current(ls, params.text_document.uri)
    return t.SemanticTokens(data=f.semantic_tokens(analysis, lines))


_COMPLETION_KIND = {
    "keyword": t.CompletionItemKind.Keyword, "function": t.CompletionItemKind.Function,
    "type": t.CompletionItemKind.TypeParameter, "role": t.CompletionItemKind.EnumMember,
    "party": t.CompletionItemKind.Class, "periods": t.CompletionItemKind.Enum,
    "period": t.CompletionItemKind.EnumMember, "cohort": t.CompletionItemKind.Struct,
    "measure": t.CompletionItemKind.Field, "payment": t.CompletionItemKind.Method,
}


@server.feature(t.TEXT_DOCUMENT_COMPLETION)
async def completion(ls: SibServer, params: t.CompletionParams) -> t.CompletionList:
    document = ls.document(params.text_document.uri)
    text = document.text
    # Completion is asked for at nearly every keystroke: the names of the newest finished analysis
    # serve (the context is read from the current text), so typing never queues analyses.
    analysis = document.latest if document.latest is not None else await ls.analysis(document)
    if analysis is None:
        raise JsonRpcContentModified(message=f"{document.uri} changed; ask again")
    offset = Lines(text, ls.encoding).offset(params.position.line, params.position.character)
    candidates = f.completion(analysis, text, offset)
    width = len(str(len(candidates)))
    return t.CompletionList(is_incomplete=False, items=[
        t.CompletionItem(label=c.label, kind=_COMPLETION_KIND.get(c.kind, t.CompletionItemKind.Variable),
                         detail=c.detail or None, sort_text=f"{i:0{width}d}")
        for i, c in enumerate(candidates)])


@server.feature(t.TEXT_DOCUMENT_CODE_ACTION,
                t.CodeActionOptions(code_action_kinds=[t.CodeActionKind.QuickFix]))
async def code_action(ls: SibServer, params: t.CodeActionParams) -> list[t.CodeAction]:
    document, analysis, lines = await _current(ls, params.text_document.uri)
    start, end = _offset(lines, params.range.start), _offset(lines, params.range.end)
    actions = []
    for fix in f.fixes(analysis, start, end):
        diagnostic = _diagnostic(fix.diagnostic, lines, document.uri)
        edits = [t.TextEdit(range=_range(lines, a, b), new_text=new) for a, b, new in fix.edits]
        actions.append(t.CodeAction(title=fix.title, kind=t.CodeActionKind.QuickFix, diagnostics=[diagnostic],
                                    is_preferred=fix.preferred, edit=_workspace_edit(ls, document, edits)))
    return actions


@server.feature(t.TEXT_DOCUMENT_FORMATTING)
async def formatting(ls: SibServer, params: t.DocumentFormattingParams) -> list[t.TextEdit] | None:
    from .diagnostics import SibError
    from .fmt import format_text
    from .source import Source

    document = ls.document(params.text_document.uri)
    text = document.text
    loop = asyncio.get_running_loop()
    try:  # in the worker, like an analysis: a large file does not stop the server answering
        formatted = await loop.run_in_executor(ls.worker, format_text, Source(document.name, text))
    except SibError:
        return None  # not formattable losslessly: no edit; the diagnostics say why
    if formatted == text:
        return []
    lines = Lines(text, ls.encoding)
    return [t.TextEdit(range=_range(lines, 0, len(text)), new_text=formatted)]


def main() -> None:
    server.start_io()
