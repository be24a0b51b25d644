"""Positions for the language server: character offsets ↔ LSP (line, column in code units).

sibc counts code points from the start of the text (a span's offsets, `Lines.offsets`); an LSP client counts
lines and, within a line, the code units of the position encoding it negotiated (UTF-16 unless
the client offers UTF-8 or UTF-32). `Lines` converts between the two, exactly, for every
character: å/ä/ö are 1 UTF-16 unit and 2 UTF-8 bytes, an emoji 2 UTF-16 units and 4 UTF-8 bytes,
a lone surrogate (which a client may send) 1 UTF-16 unit and 3 bytes.

A line ends at "\n", "\r\n" or a lone "\r", as the protocol defines it — not at the other breaks
`str.splitlines` knows (form feed, U+2028 …), which an editor shows inside a line.
"""

from __future__ import annotations

import bisect
import re

UTF8, UTF16, UTF32 = "utf-8", "utf-16", "utf-32"
_BREAK = re.compile(r"\r\n|\r|\n")


def units(text: str, encoding: str) -> int:
    """The number of code units of `text` in a position encoding."""
    if encoding == UTF32 or text.isascii():
        return len(text)
    if encoding == UTF8:
        return len(text.encode("utf-8", "surrogatepass"))
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _unit(char: str, encoding: str) -> int:
    code = ord(char)
    if encoding == UTF8:
        return 1 if code < 0x80 else 2 if code < 0x800 else 3 if code < 0x10000 else 4
    return 2 if code > 0xFFFF else 1


class Lines:
    """A text's line starts, and conversions between offsets and LSP positions."""

    def __init__(self, text: str, encoding: str = UTF16):
        self.text = text
        self.encoding = encoding
        self.starts = [0, *(m.end() for m in _BREAK.finditer(text))]

    def __len__(self) -> int:
        return len(self.starts)

    def content_end(self, line: int) -> int:
        """The offset where a 0-based line's text ends (before its line break)."""
        if line + 1 < len(self.starts):
            end = self.starts[line + 1] - 1
            if self.text[end] == "\n" and end > self.starts[line] and self.text[end - 1] == "\r":
                end -= 1
            return end
        return len(self.text)

    def line_text(self, line: int) -> str:
        return self.text[self.starts[line]:self.content_end(line)]

    def offset(self, line: int, character: int) -> int:
        """The offset of an LSP position. Past the end of a line means its end, past the last line
        the end of the text (as the protocol asks); a column inside a character (half of a
        surrogate pair, a byte inside a UTF-8 sequence) means that character's start."""
        if line < 0 or character < 0:
            raise ValueError(f"a position cannot be negative: line {line}, character {character}")
        if line >= len(self.starts):
            return len(self.text)
        start, end = self.starts[line], self.content_end(line)
        if self.encoding == UTF32 or self.text[start:end].isascii():
            return min(start + character, end)
        count = 0
        for i in range(start, end):
            count += _unit(self.text[i], self.encoding)
            if count > character:
                return i
        return end

    def offsets(self, span) -> tuple[int, int]:
        """The character offsets [start, end) of a sibc span (1-based lines and code-point columns)."""
        def at(line: int, column: int) -> int:
            return (self.starts[line - 1] if line <= len(self.starts) else len(self.text)) + column - 1
        return at(span.line, span.column), at(span.end_line, span.end_column)

    def line_of(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, max(0, offset)) - 1

    def position(self, offset: int) -> tuple[int, int]:
        """The LSP (line, character) of an offset."""
        offset = max(0, min(offset, len(self.text)))
        line = self.line_of(offset)
        start = self.starts[line]
        offset = min(offset, self.content_end(line))  # inside a "\r\n": the end of the line
        return line, units(self.text[start:offset], self.encoding)


def apply_change(text: str, change_range: tuple[int, int, int, int] | None, new_text: str,
                 encoding: str) -> str:
    """The text after one content change of didChange: the whole text when it has no range.
    A range that ends before it starts is refused (ValueError): guessing would edit the wrong text."""
    if change_range is None:
        return new_text
    lines = Lines(text, encoding)
    start = lines.offset(change_range[0], change_range[1])
    end = lines.offset(change_range[2], change_range[3])
    if end < start:
        raise ValueError(f"the range {change_range[0]}:{change_range[1]}–{change_range[2]}:{change_range[3]} "
                         "ends before it starts")
    return text[:start] + new_text + text[end:]
