"""Source texts and spans: where in which file a piece of a contract came from."""

from __future__ import annotations

import bisect
import itertools
import re
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from pathlib import Path


@attrs.frozen
class Span:
    """A character range in one source: the 1-based line and column of its first character and of
    the position just past its last (half-open, like an offset range).

    No offset is stored (issue 21). A keystroke within a line changes the offsets of everything
    below it but no line or column there, so the syntax nodes and checked definitions of every
    declaration below the edit stay valid as they are: `incremental.Parser` hands them back
    unchanged and the check's memo replays them. A reader that needs character offsets computes
    them from the line table of the text it holds (`Source.offsets(span)`; the language server's
    `lsp_text.Lines`), never from a shared anchor that another parse could move."""

    line: int
    column: int
    end_line: int
    end_column: int

    def to(self, other: Span) -> Span:
        """The span from the start of self to the end of other."""
        return Span(self.line, self.column, other.end_line, other.end_column)

    @property
    def empty(self) -> bool:
        return self.line == self.end_line and self.column == self.end_column


# No token gave it (an empty span at the very start of the text: where `NO_SPAN` is read as a place)
NO_SPAN = Span(1, 1, 1, 1)

# The one definition of a line break in sibc: LF, CRLF, or a lone CR (old Mac files; what a
# terminal and every editor show as a new line). The lexer, the positions of diagnostics and the
# formatter all use it, so a `# comment\rcap total at …` is a comment followed by a live cap
# everywhere, never a comment to the checker and a cap to the reader. Form feeds, vertical tabs
# and U+2028/U+2029/NEL are not line breaks; `visible` shows them as symbols.
LINE_BREAK = re.compile(r"\r\n?|\n")


def lone_cr_to_lf(text: str) -> str:
    """`text` with each lone CR replaced by LF: the same offsets, lines counted as LINE_BREAK does."""
    return re.sub(r"\r(?!\n)", "\n", text) if "\r" in text else text


@attrs.frozen
class Source:
    """The text of one contract or data file, and the name to show for it."""

    name: str
    text: str
    _line_starts: tuple[int, ...] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        if "\r" in self.text:  # a line ends at LF, CRLF or a lone CR (see LINE_BREAK)
            starts = (0, *(m.end() for m in LINE_BREAK.finditer(self.text)))
        else:
            # the offset after each "\n", counted by str.split in C (a Python loop over the
            # characters took ≈ 5 % of checking a 1 MB contract)
            lengths = (len(line) + 1 for line in self.text.split("\n")[:-1])
            starts = tuple(itertools.accumulate(lengths, initial=0))
        object.__setattr__(self, "_line_starts", tuple(starts))

    @classmethod
    def from_path(cls, path: str | Path, limit: int | None = None) -> Source:
        """Read a UTF-8 file, at most `limit` bytes of it (fileio.MAX_READ_BYTES by default; a
        device or a pipe is cut off while streaming, whatever its size claims); raises OSError /
        UnicodeDecodeError for the caller to report."""
        from .fileio import read_bounded

        text = read_bounded(path, limit).decode("utf-8-sig")
        return cls(str(path), text)

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a character offset."""
        offset = max(0, min(offset, len(self.text)))
        index = bisect.bisect_right(self._line_starts, offset) - 1
        return index + 1, offset - self._line_starts[index] + 1

    def span(self, start: int, end: int) -> Span:
        """The span of the character offsets [start, end)."""
        line, column = self.position(start)
        end_line, end_column = self.position(end)
        return Span(line, column, end_line, end_column)

    def offset(self, line: int, column: int) -> int:
        """The character offset of a 1-based (line, column) of this text (`position`'s inverse)."""
        return self.line_start(line) + column - 1

    def offsets(self, span: Span) -> tuple[int, int]:
        """The character offsets [start, end) of a span of this text."""
        return self.line_start(span.line) + span.column - 1, self.line_start(span.end_line) + span.end_column - 1

    def excerpt(self, span: Span) -> str:
        """The text a span of this text covers."""
        start, end = self.offsets(span)
        return self.text[start:end]

    def line_start(self, line: int) -> int:
        """The offset where a 1-based line starts (LINE_BREAK's lines; the end of the text past the last)."""
        if line < 1:
            return 0
        return self._line_starts[line - 1] if line <= len(self._line_starts) else len(self.text)

    def line_text(self, line: int) -> str:
        """The text of a 1-based line, without its line break."""
        if line < 1 or line > len(self._line_starts):
            return ""
        start = self._line_starts[line - 1]
        end = self._line_starts[line] - 1 if line < len(self._line_starts) else len(self.text)
        return self.text[start:end].rstrip("\r")

    @property
    def line_count(self) -> int:
        return len(self._line_starts)


_INVISIBLE = {**{c: 0x2400 + c for c in range(0x20) if c not in (0x09, 0x0A)}, 0x7F: 0x2421,
              **{c: 0xFFFD for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F)},
              0x85: 0x2424, 0x2028: 0x2424, 0x2029: 0x2424,
              **{c: 0xFFFD for c in range(0xD800, 0xE000)}}  # lone surrogates (from an editor, E101)


def visible(text: str) -> str:
    """Text from a contract or data file, safe to print on a terminal: control characters become
    their visible symbols (ESC → ␛, NUL → ␀) and bidirectional overrides become �, one column each,
    so a caret under the line still points at the right character and nothing in a file can move
    the cursor, recolour the terminal or reorder what a reviewer reads."""
    return text.translate(_INVISIBLE)
