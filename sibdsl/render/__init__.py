"""The council document: the contract as a readable text in Swedish or English, as Markdown,
HTML or PDF, generated from the `.sib` source by jinja2 templates shipped in the package.

Templates only format: they receive a `View` (render/view.py) computed from the checked model,
and every value they print is escaped for the format (render/escape.py). The PDF is typeset by
Typst from the `typst` wheel (pip alone, no TeX or browser), with fonts shipped in the wheel and
system fonts ignored, so the same source gives the same bytes on any machine.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from .. import model as m
from . import escape
from .view import View, fingerprint

FORMATS = ("md", "html", "pdf")
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


def render(contract: m.Contract, source_bytes: bytes, lang: str, fmt: str, *, path: str | Path | None = None,
           vary: str | None = None) -> bytes:
    """The council document in `lang` and `fmt` as bytes."""
    view = View(contract, source_bytes, lang, contract_path=path, vary=vary)
    if fmt != "pdf":
        return render_text(view, fmt).encode("utf-8")
    import typst

    source = render_text(view, "pdf")
    with tempfile.TemporaryDirectory(prefix="sibc-render-") as tmp:
        main = Path(tmp) / "main.typ"
        main.write_text(source, encoding="utf-8")
        (Path(tmp) / "chart.svg").write_text(view.examples["svg"] if view.examples else
                                             '<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>',
                                             encoding="utf-8")
        return typst.compile(str(main), root=tmp, ignore_system_fonts=True, timestamp=0)


__all__ = ["FORMATS", "View", "fingerprint", "render", "render_text"]
