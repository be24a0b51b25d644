"""The council document: the contract as a readable text in Swedish or English, as Markdown,
HTML or PDF, generated from the `.sib` source by jinja2 templates shipped in the package.

Templates only format: they receive a `View` (render/view.py) computed from the checked model,
and every value they print is escaped for the format (render/escape.py). The PDF is typeset by
Typst from the `typst` wheel (pip alone, no TeX or browser), with fonts shipped in the wheel and
system fonts ignored, so the same source gives the same bytes on any machine.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from .. import model as m
from . import escape
from .view import View, fingerprint

FORMATS = ("md", "html", "pdf", "docx")
_TEMPLATES = {"md": "council.md.j2", "html": "council.html.j2", "pdf": "council.typ.j2"}


def _environment(fmt: str):
    import jinja2
    from markupsafe import Markup

    loader = jinja2.PackageLoader("sibdsl", "templates")
    if fmt == "html":
        env = jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined,
                                 finalize=escape.html, keep_trailing_newline=True)
        env.filters["block"] = escape.html
    else:
        finalize = escape.markdown if fmt == "md" else escape.typst
        env = jinja2.Environment(loader=loader, autoescape=False, undefined=jinja2.StrictUndefined,
                                 finalize=finalize, keep_trailing_newline=True, trim_blocks=False)
        env.filters["block"] = escape.markdown_block if fmt == "md" else escape.typst
    env.globals["Markup"] = Markup
    return env


def render_text(view: View, fmt: str) -> str:
    """Markdown, HTML, or the Typst source of the PDF."""
    from markupsafe import Markup

    env = _environment(fmt)
    svg = Markup(view.examples["svg"]) if view.examples else Markup("")
    return env.get_template(_TEMPLATES[fmt]).render(v=view, lang=view.lang, svg=svg)


def creation_time(contract: m.Contract) -> int:
    """The PDF's CreationDate, as seconds since 1970: SOURCE_DATE_EPOCH when set (reproducible builds),
    else midnight UTC of the day the contract was signed, else of the start of its term, else 0.
    Never the clock: the same source gives the same bytes."""
    import datetime
    import os

    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit() and int(epoch) < 253402300800:  # before year 10000, as PDF dates must be
        return int(epoch)
    day = contract.signed or (contract.term[0] if contract.term else None)
    if day is None:
        return 0
    return int(datetime.datetime(day.year, day.month, day.day, tzinfo=datetime.timezone.utc).timestamp())


# PDF/A-2a (archival, tagged) and PDF/UA-1 (accessible): the chart has alt text, table headers are
# tagged as headers, the language is set; Typst refuses to write a file that breaks either standard.
PDF_STANDARDS = ["a-2a", "ua-1"]


def render(contract: m.Contract, source_bytes: bytes, lang: str, fmt: str, *, path: str | Path | None = None,
           vary: str | None = None, warnings: list | None = None) -> bytes:
    """The council document in `lang` and `fmt` as bytes. `warnings` collects W721 (a PDF that could
    not be PDF/A) as (code, message) pairs for the CLI to report."""
    view = View(contract, source_bytes, lang, contract_path=path, vary=vary)
    if fmt == "docx":
        from .docx import render_docx

        return render_docx(view, creation_time(contract))
    if fmt != "pdf":
        return render_text(view, fmt).encode("utf-8")
    import typst

    source = render_text(view, "pdf")
    with tempfile.TemporaryDirectory(prefix="sibc-render-") as tmp:
        main = Path(tmp) / "main.typ"
        main.write_text(source, encoding="utf-8")
        svg = view.examples["svg"] if view.examples else '<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>'
        (Path(tmp) / "chart.svg").write_text(svg.translate(escape._NO_GLYPH), encoding="utf-8")
        # metadata goes in as data, not as Typst source: the Title shows the text, not its escapes
        inputs = {"title": escape.visible_text(view.title), "author": escape.visible_text(view.author),
                  "alt": escape.visible_text(view.examples["alt"] if view.examples else view.t["chart"])}
        options = dict(root=tmp, ignore_system_fonts=True, timestamp=creation_time(contract), sys_inputs=inputs)
        try:
            return typst.compile(str(main), pdf_standards=PDF_STANDARDS, **options)
        except typst.TypstError as err:
            # a character no bundled font has (e.g. Chinese in a party's name): PDF/A forbids a missing
            # glyph, so the document is written as a plain tagged PDF, and the user is told why
            missing = re.search(r"the text `(.*?)` could not be displayed", str(err))
            if missing is None:
                raise
            if warnings is not None:
                warnings.append(("W721", f"the PDF is not PDF/A-2a: the text {missing.group(1)} has no glyph "
                                         "in the fonts sibc embeds, so it shows as a box"))
            return typst.compile(str(main), **options)


__all__ = ["FORMATS", "View", "creation_time", "fingerprint", "render", "render_text"]
