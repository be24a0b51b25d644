"""`sibc fmt`: the canonical layout of a contract, without losing a word of it.

The contract is parsed and printed again by the canonical printer (unparse.py: one declaration per
line or block, options indented, numbers grouped as 12 000 000, a blank line before each heading).
Comments are kept: a comment on its own line stays above the declaration that follows it, a
comment at the end of a line stays at the end of that declaration's first line, and comments at
the end of the file stay there. A comment *inside* a declaration that spans several lines has no
place the printer could keep it, so the file is refused (E740) rather than a comment lost.

Before anything is written the result is parsed again: its syntax tree must equal the original's
(spans aside) and its comments must be the original's, in order. If not, the file is refused
(E741) and left as it was: `sibc fmt` never changes what a contract means. The file's line endings
(LF or CRLF) and a byte-order mark are kept.
"""

from __future__ import annotations

import bisect
import re

import attrs

from . import syntax as s
from .diagnostics import Diagnostic, SibError
from .parser import parse
from .source import Source
from .unparse import header, declaration

# strings (which may hold `#`) and comments, in the order they appear, as the grammar defines them
_STRING_OR_COMMENT = re.compile(r'"""(?:[^"\\]|\\.|"(?!""))*"""|"(?:[^"\\\n\r]|\\.)*"|#[^\n\r]*')


@attrs.frozen
class Comment:
    start: int
    end: int
    text: str


def comments(text: str) -> list[Comment]:
    return [Comment(m.start(), m.end(), m.group().rstrip()) for m in _STRING_OR_COMMENT.finditer(text)
            if m.group().startswith("#")]


def _holds(span: tuple[int, int], offset: int) -> bool:
    return span[0] < offset < span[1]


def format_text(source: Source) -> str:
    """The canonical text of a contract; raises SibError if it cannot be formatted losslessly."""
    original = parse(source)  # raises SibError with the syntax errors
    # one definition of a line (source.LINE_BREAK): CRLF and a lone CR are line breaks, as for
    # the parser; the printer works on the text with LF only (the same tree: _same_meaning
    # compares the result with the tree of the original text, not of this one)
    text = source.text.replace("\r\n", "\n").replace("\r", "\n")
    tree = original if text == source.text else parse(Source(source.name, text))
    lines = table = Source(source.name, text)  # (`lines` is taken again for the header's lines below)

    def _line_of(_text: str, offset: int) -> int:  # 0-based, by bisection: linear in comments
        return lines.position(offset)[0] - 1

    found = comments(text)
    blocks = ([tree.header] if tree.header is not None else []) + list(tree.items)
    starts = [table.offsets(b.span)[0] for b in blocks]
    leading: dict[int, list[str]] = {}
    trailing: dict[int, str] = {}
    final: list[str] = []
    header_comments: dict[int, tuple[list[str], str | None]] = {}  # header line → (above, at the end)
    first_leading: dict[int, int] = {}  # block → offset of the first comment above it
    first_final: int | None = None
    for c in found:
        at = bisect.bisect_right(starts, c.start)  # the first block starting after the comment
        index = at if at < len(blocks) else None
        before = blocks[at - 1] if at > 0 else None  # blocks do not overlap: only this one can hold it
        inside = before if before is not None and _holds(table.offsets(before.span), c.start) else None
        if isinstance(inside, s.Header):  # the header prints one field per line: keep it by its field
            parts = [inside.title.span] + [f.span for f in inside.fields]
            line = _line_of(text, c.start)
            same = [i for i, p in enumerate(parts) if p.end_line - 1 == line and table.offsets(p)[1] <= c.start]
            above, end = header_comments.setdefault(
                same[-1] if same else next(i for i, p in enumerate(parts) if table.offsets(p)[0] > c.start), ([], None))
            if same and end is None:
                header_comments[same[-1]] = (above, c.text)
            else:
                above.append(c.text)
            continue
        if inside is not None:
            raise SibError([Diagnostic(
                "E740", "a comment inside a declaration that spans several lines cannot be kept in place",
                source, source.span(c.start, c.end),
                hint="move the comment to its own line above the declaration, then run sibc fmt again")])
        previous = index - 1 if index is not None else len(blocks) - 1
        if previous >= 0 and blocks[previous].span.end_line - 1 == _line_of(text, c.start) \
                and previous not in trailing:
            trailing[previous] = c.text
        elif index is None:
            final.append(c.text)
            first_final = c.start if first_final is None else first_final
        else:
            leading.setdefault(index, []).append(c.text)
            first_leading.setdefault(index, c.start)
    def blank_before(offset: int) -> bool:
        """Whether the author left an empty line just above the line at `offset`."""
        line_start = text.rfind("\n", 0, offset)
        previous_end = text.rfind("\n", 0, max(line_start, 0))
        return line_start > 0 and text[previous_end + 1:line_start].strip() == ""

    out: list[str] = []
    for i, block in enumerate(blocks):
        printed = header(block) if isinstance(block, s.Header) else declaration(block)
        if isinstance(block, s.Header) and header_comments:
            lines = printed.split("\n")  # the title, then one line per field
            for part, (above, end) in sorted(header_comments.items(), reverse=True):
                if end is not None:
                    lines[part] += f"  {end}"
                lines[part:part] = [("  " if part else "") + a for a in above]
            printed = "\n".join(lines)
        heading = printed.startswith("\n")
        printed = printed.lstrip("\n")
        above = leading.get(i, [])
        first_offset = first_leading.get(i, table.offsets(block.span)[0])
        if out and (heading or blank_before(first_offset)):
            out.append("")
        for comment_text in above:
            out.append(comment_text)
        if above and blank_before(table.offsets(block.span)[0]) and not heading:
            out.append("")
        if i in trailing:
            first, newline, rest = printed.partition("\n")
            printed = f"{first}  {trailing[i]}{newline}{rest}"
        out.append(printed)
    if final:
        if blank_before(first_final):
            out.append("")
        out += final
    result = "\n".join(out).lstrip("\n") + "\n"
    _same_meaning(source, original, found, result)
    return result


def _same_meaning(source: Source, tree: s.Contract, found: list[Comment], result: str) -> None:
    try:
        again = parse(Source(source.name, result))
    except SibError:
        again = None
    if again is None or not s.same(again, tree) or [c.text for c in comments(result)] != [c.text for c in found]:
        raise SibError([Diagnostic(
            "E741", "sibc fmt could not lay this contract out without changing it; the file is left as it was",
            source, source.span(0, 0),
            hint="this is a limitation of sibc fmt, not a problem in the contract; please report it")])


def format_file_text(source: Source, original: bytes) -> bytes:
    """format_text, keeping the file's line endings and byte-order mark."""
    result = format_text(source)
    crlf = original.count(b"\r\n") > original.count(b"\n") // 2 and b"\r\n" in original
    if crlf:
        result = result.replace("\n", "\r\n")
    try:
        data = result.encode("utf-8")
    except UnicodeEncodeError as err:  # a lone surrogate in a text (only an editor or an API can send one)
        at = source.text.find(err.object[err.start])
        raise SibError([Diagnostic(
            "E101", "a lone surrogate (an unpaired half of a UTF-16 character) cannot be written to a UTF-8 file",
            source, source.span(max(at, 0), max(at, 0) + 1),
            hint="delete the character, or type it again: it is probably half of an emoji")]) from None
    return (b"\xef\xbb\xbf" + data) if original.startswith(b"\xef\xbb\xbf") else data
