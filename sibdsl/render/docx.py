"""The council document as Word (.docx), for lawyers to redline: the same View as the other formats
(text, headings, the worked-examples table and the chart), written with python-docx.

Reproducible: the core properties carry the document's creation time (SOURCE_DATE_EPOCH or the
signing date, as in the PDF), and the zip is rewritten with fixed entry dates, so the same source
gives the same bytes. Every text goes through `visible` (XML 1.0 forbids control characters);
python-docx escapes the rest, so no contract text becomes markup.
"""

from __future__ import annotations

import datetime
import io
import zipfile

from ..source import visible
from . import chart
from .view import View


def _t(text) -> str:
    return visible(str(text))


def _core(text) -> str:
    """A core property of the .docx (title, author): visible, and shortened to Word's 255 characters."""
    shown = _t(text)
    return shown if len(shown) <= 255 else shown[:254] + "…"


def _field(paragraph, instruction: str) -> None:
    """A Word field (PAGE, NUMPAGES): Word fills in the number when it lays out the page."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    run = paragraph.add_run()
    for kind, text in (("begin", None), (None, instruction), ("separate", None), (None, "1"), ("end", None)):
        if kind is not None:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        elif text == instruction:
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = f" {instruction} "
        else:
            element = OxmlElement("w:t")
            element.text = text
        run._r.append(element)


def _repeat_header(row) -> None:
    """The header row repeats on every page the table runs over, and no row is split."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    properties = row._tr.get_or_add_trPr()
    for tag in ("w:tblHeader", "w:cantSplit"):
        element = OxmlElement(tag)
        element.set(qn("w:val"), "true")
        properties.append(element)


def _language(document, lang: str) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tag = {"sv": "sv-SE", "en": "en-GB"}[lang]
    for style in ("Normal", "Title", "Heading 1", "Heading 2"):
        rpr = document.styles[style].element.get_or_add_rPr()
        element = OxmlElement("w:lang")
        element.set(qn("w:val"), tag)
        rpr.append(element)


def _fixed_zip(data: bytes, when: datetime.datetime) -> bytes:
    """The same zip with every entry dated `when` (zip dates start in 1980), in the same order."""
    stamp = max(when, datetime.datetime(1980, 1, 1)).timetuple()[:6]
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=stamp)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            target.writestr(entry, source.read(info.filename))
    return out.getvalue()


def _table(document, headers: list[str], rows: list) -> None:
    """A table with a bold header row repeated on every page; the first column left, amounts right."""
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    table = document.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _repeat_header(table.rows[0])
    for cell, text in zip(table.rows[0].cells, headers):
        cell.paragraphs[0].add_run(_t(text)).bold = True
    for row in rows:
        cells = table.add_row().cells
        for i, text in enumerate(row):
            cells[i].paragraphs[0].add_run(_t(text))
            if i:
                cells[i].paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT


def render_docx(view: View, timestamp: int) -> bytes:
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    when = datetime.datetime.fromtimestamp(timestamp, datetime.timezone.utc).replace(tzinfo=None)
    document = docx.Document()
    _language(document, view.lang)
    document.styles["Normal"].font.name = "Libertinus Serif"
    document.styles["Normal"].font.size = Pt(11)
    for style in ("Heading 1", "Heading 2"):
        document.styles[style].paragraph_format.keep_with_next = True  # no heading alone at a page foot
    core = document.core_properties
    # Word's core properties hold at most 255 characters each (python-docx raises past that: a
    # contract with many or long party names ended `render --format docx` in E900; found by the
    # fuzz campaign); the full names are in the document itself
    core.title, core.author, core.language = _core(view.title), _core(view.author), view.lang
    core.created = core.modified = when
    core.last_printed = when
    core.revision = 1
    core.last_modified_by = "sibc"
    core.comments = f"{view.t['fingerprint']}: {view.fingerprint}"

    section = document.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    section.left_margin = section.right_margin = section.top_margin = section.bottom_margin = Cm(2.5)
    header = section.header.paragraphs[0]
    header.text = _t(" · ".join([view.title, *view.running]))
    header.runs[0].font.size = Pt(8)
    footer = section.footer.paragraphs[0]
    footer.add_run(_t(f"{view.t['fingerprint']}: {view.fingerprint}")).font.size = Pt(8)
    footer = section.footer.add_paragraph()
    footer.add_run(f"{view.t['compiler']} {view.version}\t{view.t['page']} ").font.size = Pt(8)
    _field(footer, "PAGE")
    footer.add_run(f" {view.t['of']} ").font.size = Pt(8)
    _field(footer, "NUMPAGES")

    document.add_heading(_t(view.title), level=0)
    document.add_paragraph(_t(view.t["doc"]))
    for key, value in view.meta:
        document.add_paragraph(_t(f"{key}: {value}"), style="List Bullet")
    document.add_paragraph(_t(f"{view.t['fingerprint']}: {view.fingerprint}"), style="List Bullet")
    for label, digest in view.side_files:
        document.add_paragraph(_t(f"{label}: {digest}"), style="List Bullet")
    document.add_paragraph(_t(f"{view.t['compiler']} {view.version}"), style="List Bullet")

    for part in view.sections:
        if part["heading"]:
            document.add_heading(_t(part["heading"]), level=1)
        for prose in part["prose"]:
            document.add_paragraph(_t(prose))
        for clause in part["clauses"]:
            paragraph = document.add_paragraph()
            if clause["label"]:
                paragraph.add_run(_t(clause["label"]) + ". ").bold = True
            paragraph.add_run(_t(clause["text"]))
            if clause["table"]:
                _table(document, clause["table"]["headers"], clause["table"]["rows"])

    document.add_heading(_t(view.t["order"]), level=1)
    document.add_paragraph(_t(view.t["order_intro"]))
    for step in view.order:
        document.add_paragraph(_t(step), style="List Number")
    if view.order_cuts:
        document.add_paragraph(_t(view.order_cuts))

    if view.budget:  # issue 15: what the payer may pay each year
        document.add_heading(_t(view.t["budget"]), level=1)
        document.add_paragraph(_t(view.budget["intro"]))
        _table(document, view.budget["headers"], view.budget["rows"])

    if view.examples:
        examples = view.examples
        document.add_heading(_t(view.t["examples"]), level=1)
        document.add_paragraph(_t(examples["intro"]))
        document.add_picture(io.BytesIO(chart.png(examples["svg"])), width=Cm(16))
        picture = document.inline_shapes[-1]._inline
        picture.docPr.set("descr", _t(examples["alt"]))  # the alt text Word reads out
        picture.docPr.set("title", _t(view.t["chart"]))
        caption = document.add_paragraph(_t(view.t["chart"]), style="Caption")
        caption.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _table(document, [examples["measure"], *examples["headers"], view.t["total"]],
               [[row["outcome"], *row["amounts"], row["total"]] for row in examples["rows"]])
        if examples["note"]:
            document.add_paragraph(_t(examples["note"]))

    if view.scenarios:
        document.add_heading(_t(view.t["scenarios"]), level=1)
        document.add_paragraph(_t(" ".join(filter(None, [view.t["scenarios_intro"], view.scenarios_note]))))
        for scenario in view.scenarios:
            document.add_heading(_t(scenario["name"]), level=2)
            if scenario["description"]:
                document.add_paragraph(_t(scenario["description"]))
            document.add_paragraph(_t(f"{view.t['outcomes']}: {scenario['outcomes']}"), style="List Bullet")
            for line in scenario["lines"]:
                document.add_paragraph(_t(line), style="List Bullet")
            document.add_paragraph(_t(f"{view.t['total']}: {scenario['total']}"), style="List Bullet")

    buffer = io.BytesIO()
    document.save(buffer)
    return _fixed_zip(buffer.getvalue(), when)
