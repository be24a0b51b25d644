"""Escaping every value for its output format, so contract text never becomes markup or code.

Templates are rendered with `finalize` set to the format's escaper (jinja2 applies it to every
`{{ … }}`), or with autoescaping for HTML. Text from the contract (party names, headings, prose)
thus always comes out literally, whatever characters it holds.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

from ..source import visible

_MD_SPECIAL = re.compile(r"([\\`*_\[\]#|~>$])")
_MD_LINE_START = re.compile(r"(?<=\n)([ \t]*)([-+=]|\d+[.)])")
_MD_FIRST = re.compile(r"^([ \t]*)([-+=]|\d+[.)])")
_TYPST_SPECIAL = re.compile(r"([\\#$*_`<>@\[\]=\-+/~\"'.:()^&|!%;,{}])")


def markdown(value) -> str:
    if isinstance(value, Markup):
        return str(value)
    text = visible(str(value))
    text = text.replace("&", "&amp;").replace("<", "&lt;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return _MD_LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), text)


def markdown_block(value) -> Markup:
    """A value that starts a line in the document (a paragraph, a heading): its first line is
    escaped too, so prose starting with `1.` or `-` stays a paragraph."""
    return Markup(_MD_FIRST.sub(lambda m: m.group(1) + "\\" + m.group(2), markdown(value)))


# The PDF's fonts (bundled with Typst, system fonts ignored) have no control pictures (␋, ␛):
# a control character shows as the replacement character, which they do have, so the PDF stays PDF/A.
_NO_GLYPH = {c: 0xFFFD for c in range(0x2400, 0x2422)}


def pdf_text(text: str) -> str:
    """Plain text for the PDF (markup, metadata, the chart): control characters visible as �."""
    return visible(text).translate(_NO_GLYPH)


def typst(value) -> str:
    if isinstance(value, Markup):
        return str(value)
    return _TYPST_SPECIAL.sub(r"\\\1", pdf_text(str(value)))


def html(value) -> Markup:
    if isinstance(value, Markup):
        return value
    return escape(visible(str(value)))


def visible_text(value) -> str:
    """PDF metadata and other data that is not markup: control characters visible, as in `pdf_text`."""
    return pdf_text(str(value))
