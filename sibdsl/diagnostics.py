"""Diagnostics as data (code, severity, spans, message, hint) and their three presentations:
human (source line with a caret), gnu one-line (for editors), and JSON (for machines)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import attrs

from .codes import Severity, lookup
from .source import Source, Span, visible


@attrs.frozen
class Label:
    """A secondary span with a short message: `first defined here`."""

    source: Source | None
    span: Span
    message: str


@attrs.frozen
class Diagnostic:
    code: str
    message: str
    source: Source | None = None
    span: Span | None = None
    label: str = ""
    hint: str = ""
    labels: tuple[Label, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def severity(self) -> Severity:
        return lookup(self.code).severity

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    @property
    def file(self) -> str:
        return self.source.name if self.source is not None else "<input>"


class SibError(Exception):
    """Raised by a stage that found errors; carries every diagnostic the stage collected."""

    def __init__(self, diagnostics: Sequence[Diagnostic]):
        self.diagnostics = tuple(diagnostics)
        first = self.diagnostics[0] if self.diagnostics else None
        super().__init__(render_gnu(first) if first else "sibdsl error")

    def __reduce__(self):  # raised in a worker process, it arrives whole (Exception pickles its message)
        return (type(self), (self.diagnostics,))


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.is_error for d in diagnostics)


def sort_key(d: Diagnostic) -> tuple:
    span = d.span
    return (d.file, (span.line, span.column) if span else (0, 0), d.code)


# ---------------------------------------------------------------- presentations
def render_gnu(d: Diagnostic) -> str:
    """`file:line:col: error[E201]: message (hint)` — the GNU format editors understand."""
    where = d.file
    if d.span is not None:
        where += f":{d.span.line}:{d.span.column}"
    text = f"{where}: {d.severity.value}[{d.code}]: {d.message}"
    if d.hint:
        text += f" (hint: {d.hint})"
    return visible(text).replace("\n", " ")


SNIPPET_WIDTH = 100


def _snippet(source: Source, span: Span, label: str, gutter: int) -> list[str]:
    line_text = visible(source.line_text(span.line).expandtabs(1))
    start = span.column - 1
    if span.end_line == span.line:
        width = max(1, span.end_column - span.column)
    else:
        width = max(1, len(line_text) - start)
    if len(line_text) > SNIPPET_WIDTH:  # show a window around the span, not a 50 KB line
        left = max(0, start - SNIPPET_WIDTH // 3)
        window = line_text[left : left + SNIPPET_WIDTH]
        prefix = "…" if left else ""
        suffix = "…" if left + SNIPPET_WIDTH < len(line_text) else ""
        line_text = prefix + window + suffix
        start = start - left + len(prefix)
        width = max(1, min(width, SNIPPET_WIDTH - (start - len(prefix))))
    pad = " " * gutter
    marker = " " * start + "^" * width
    out = [f"{pad} |", f"{str(span.line).rjust(gutter)} | {line_text}", f"{pad} | {marker}"]
    if label:
        out[-1] += f" {label}"
    return out


def render_human(d: Diagnostic) -> str:
    """rustc/Catala-style: headline, location, the offending line with a caret, help."""
    return visible(_render_human(d))


def _render_human(d: Diagnostic) -> str:
    lines = [f"{d.severity.value}[{d.code}]: {d.message}"]
    spans = [s.span.line for s in d.labels] + ([d.span.line] if d.span else [])
    gutter = len(str(max(spans))) if spans else 1
    if d.span is not None:
        lines.append(f"{' ' * gutter}--> {d.file}:{d.span.line}:{d.span.column}")
        if d.source is not None:
            lines += _snippet(d.source, d.span, d.label, gutter)
    else:
        lines.append(f"{' ' * gutter}--> {d.file}")
    for extra in d.labels:
        if extra.source is not None:
            where = f"{extra.source.name}:{extra.span.line}:{extra.span.column}"
            lines.append(f"{' ' * gutter}::: {where}")
            lines += _snippet(extra.source, extra.span, extra.message, gutter)
    for note in d.notes:
        lines.append(f"{' ' * gutter} = note: {note}")
    if d.hint:
        lines.append(f"{' ' * gutter} = help: {d.hint}")
    return "\n".join(lines)


def to_json(d: Diagnostic) -> dict:
    def loc(span: Span | None) -> dict | None:
        if span is None:
            return None
        return {
            "line": span.line,
            "column": span.column,
            "end_line": span.end_line,
            "end_column": span.end_column,
        }

    return {
        "code": d.code,
        "severity": d.severity.value,
        "message": d.message,
        "file": d.file,
        "span": loc(d.span),
        "label": d.label,
        "hint": d.hint,
        "labels": [
            {"file": x.source.name if x.source else None, "span": loc(x.span), "message": x.message}
            for x in d.labels
        ],
        "notes": list(d.notes),
    }


def render_json(diagnostics: Iterable[Diagnostic]) -> str:
    import json  # here: `sibc check` prints no JSON unless asked (json's import ≈ 5 M instructions)

    return json.dumps([to_json(d) for d in diagnostics], ensure_ascii=False, indent=2)


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """A hint naming the closest candidate, or '' when nothing is close."""
    import difflib

    close = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in candidates}
        if name.lower() in lowered:
            close = [lowered[name.lower()]]
    return f"did you mean `{close[0]}`?" if close else ""
