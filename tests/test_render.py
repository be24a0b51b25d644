"""The council document: golden Markdown and HTML for every contract in both languages, the PDF's
text, fingerprint and reproducibility, and that no text in a contract becomes markup or code."""

from __future__ import annotations

import hashlib
import io
import re
from fractions import Fraction

import pytest
from pypdf import PdfReader

from sibdsl import Source, check_source, load_contract
from sibdsl.render import View, render

from .conftest import ROOT, golden

CONTRACTS = sorted((ROOT / "contracts").glob("*.sib"))
GOLDEN = ROOT / "tests" / "golden" / "render"


@pytest.mark.parametrize("fmt", ["md", "html"])
@pytest.mark.parametrize("lang", ["sv", "en"])
@pytest.mark.parametrize("path", CONTRACTS, ids=lambda p: p.stem)
def test_golden_documents(path, lang, fmt):
    data = render(load_contract(path), path.read_bytes(), lang, fmt, path=path)
    golden(GOLDEN / f"{path.stem}.{lang}.{fmt}", data.decode("utf-8"))


def _pdf_text(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


@pytest.fixture(scope="module")
def norrkoping_pdf():
    path = ROOT / "contracts" / "norrkoping.sib"
    return render(load_contract(path), path.read_bytes(), "sv", "pdf", path=path)


def test_pdf_carries_the_clauses_amounts_and_fingerprint(norrkoping_pdf):
    pages = _pdf_text(norrkoping_pdf)
    text = re.sub(r"\s+", " ", " ".join(pages))
    digest = hashlib.sha256((ROOT / "contracts" / "norrkoping.sib").read_bytes()).hexdigest()
    assert len(pages) >= 3
    for number, page in enumerate(pages, start=1):
        assert digest in page.replace("\n", ""), f"page {number} has no fingerprint"
        assert f"Sida {number} av {len(pages)}" in page
        assert "Socialt utfallskontrakt – Norrköping · SE-NKPG-SIB-2016 · Version 1.0" in page  # running header
    for phrase in ["Socialt utfallskontrakt – Norrköping", "Innehåll",
                   "Leksell Social Ventures AB investerar 10 000 000 kr den 1 augusti 2016",
                   "Den sammanlagda ersättningen är högst 12 000 000 kr",
                   "40 procent av ”Lånet”", "internräntan är högst 8 procent per år", "20 procent totalt", "det som tillåter minst avgör",
                   "Ordning för beräkningen", "Räkneexempel", "Publicerat utfall"]:
        assert phrase in text, phrase


def test_pdf_is_byte_identical_on_two_runs(norrkoping_pdf):
    path = ROOT / "contracts" / "norrkoping.sib"
    assert render(load_contract(path), path.read_bytes(), "sv", "pdf", path=path) == norrkoping_pdf


HOSTILE = {
    "party": '<script>alert(1)</script> & *fet* _kursiv_ [länk](http://x) # rubrik',
    "heading": "#set text(red) #panic('typst') $x$ `kod` @ref <lbl>",
    "prose": '{{ 7*7 }} {% raw %}x{% endraw %} \\\\ ; rm -rf / `whoami` $(id) | tee\n- inte en lista\n1. inte numrerad',
}
HOSTILE_CONTRACT = f'''contract "Avtal"
  currency SEK
  rounding 1 SEK half up
§ 1 "{HOSTILE["heading"].replace('"', "'")}"
"""{HOSTILE["prose"]}"""
party city "{HOSTILE["party"]}": payer
party fund "Fonden": investor
measure savings: money better higher
payment p = 10 % of savings from city to fund
'''


@pytest.fixture(scope="module")
def hostile():
    contract, diagnostics = check_source(Source("hostile.sib", HOSTILE_CONTRACT))
    assert contract is not None, diagnostics
    return contract


def test_markdown_shows_contract_text_literally(hostile):
    md = render(hostile, HOSTILE_CONTRACT.encode(), "sv", "md").decode()
    assert "<script>" not in md and "&lt;script\\>" in md
    assert "\\*fet\\*" in md and "\\[länk\\](http://x)" in md and "\\# rubrik" in md
    assert "{{ 7\\*7 }}" in md and " 49 " not in md
    assert "\n\\- inte en lista" in md and "\n\\1. inte numrerad" in md


def test_html_escapes_every_value(hostile):
    html = render(hostile, HOSTILE_CONTRACT.encode(), "en", "html").decode()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; *fet*" in html
    assert "{{ 7*7 }}" in html and ">49<" not in html and " 49 " not in html


def test_pdf_typesets_contract_text_literally(hostile):
    data = render(hostile, HOSTILE_CONTRACT.encode(), "sv", "pdf")  # a #panic would fail here
    text = " ".join(_pdf_text(data))
    flat = re.sub(r"\s+", "", text)
    for value in HOSTILE.values():
        for word in ("#set", "#panic('typst')", "$x$", "`kod`", "<script>alert(1)</script>", "{{7*7}}", "$(id)"):
            if word.replace(" ", "") in re.sub(r"\s+", "", value):
                assert word.replace(" ", "") in flat, word


def test_fingerprint_and_render_commands(run, tmp_path):
    path = ROOT / "contracts" / "norrkoping.sib"
    result = run("fingerprint", str(path))
    assert result.exit_code == 0
    assert result.stdout == f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path}\n"
    out = tmp_path / "rådet.html"
    made = run("render", str(path), "-o", str(out), "--lang", "en")
    assert made.exit_code == 0 and out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert list(tmp_path.iterdir()) == [out]  # written atomically: no temporary file left
    copy = tmp_path / "c.sib"
    copy.write_bytes(path.read_bytes())
    refused = run("render", str(copy), "-o", str(copy), "--format", "md")
    assert refused.exit_code == 1 and "input" in refused.stderr
    assert copy.read_bytes() == path.read_bytes()
    assert run("render", str(path), "--format", "pdf").exit_code == 2  # a PDF needs -o


# ---------------------------------------------------------------- completeness and words (issue 18)
def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u00a0", " "))


@pytest.mark.parametrize("lang", ["sv", "en"])
@pytest.mark.parametrize("path", CONTRACTS + sorted((ROOT / "tests" / "corpus" / "valid").glob("*.sib")),
                         ids=lambda p: p.stem)
def test_every_declaration_appears_in_words(path, lang):
    """Walk the model: every text it holds is printed in the document's language, every clause under
    a heading gives a sentence, and no identifier that has a label is printed."""
    from sibdsl.render.clauses import sentence
    from sibdsl.render.complete import texts

    contract = load_contract(path)
    md = _flat(render(contract, path.read_bytes(), lang, "md", path=path).decode())
    plain = md.replace("\\", "")
    for what, text in texts(contract):
        assert _flat(text.get(lang)) in plain, f"{what}: {text.get(lang)!r} missing"
    for section in contract.sections:
        for clause in section.clauses:
            assert sentence(contract, clause, lang), f"{clause.kind} {clause.name} has no sentence"
    labelled = [n for table in (contract.measures, contract.definitions, contract.payments, contract.series,
                                contract.investments) for n, item in table.items() if item.label is not None]
    labelled += [p.name for s in contract.series.values() for p in s.periods]
    for name in [n for n in labelled if re.search(r"[_\d]", n)]:  # not an ordinary word of the text
        assert not re.search(rf"(?<![\w.-]){re.escape(name)}(?![\w.-])", plain.replace(name.replace("_", "\\_"), name)), \
            f"the identifier {name} is printed"


@pytest.mark.parametrize("lang, term, period, ident", [
    ("sv", "Avtalet gäller från och med 1 augusti 2016 till och med 31 december 2020.",
     "”Uppföljningsperiod” är perioden 1 januari 2017 – 31 december 2018.", "- Avtalsbeteckning: SE-NKPG-SIB-2016"),
    ("en", "The contract runs from 1 August 2016 to 31 December 2020, both days included.",
     "“Follow-up period” is the period 1 January 2017 – 31 December 2018.", "- Contract identifier: SE-NKPG-SIB-2016"),
])
def test_term_periods_and_identifier_in_words(lang, term, period, ident):
    path = ROOT / "contracts" / "norrkoping.sib"
    md = render(load_contract(path), path.read_bytes(), lang, "md", path=path).decode().replace("\u00a0", " ")
    section = md.split("## § 2")[1].split("## § 3")[0]
    assert term in section and period in section
    assert ident in md and "Diarienummer" not in md and "followup_2017_2018" not in md


PER_PERIOD = '''contract "Avtal" @en "Contract"
  languages sv, en
  currency SEK
  rounding 1 SEK half up
party city "Staden": payer
party fund "Fonden": investor
periods years "Mätår" @en "Measurement years":
  y2017 2017-01-01 to 2017-12-31,
  y2018 2018-01-01 to 2018-12-31
measure jobs "Jobb" @en "Jobs": count better higher
  per years
measure done "Genomförd" @en "Carried out": boolean
payment p "Jobbpeng" @en "Job payment" = jobs * 1 000 SEK
  from city to fund per years
  when not done
cap total at 5 000 000 SEK
'''


def test_per_period_payment_names_its_series_by_label_and_conditions_read_as_clauses():
    contract, diagnostics = check_source(Source("p.sib", PER_PERIOD))
    assert contract is not None, diagnostics
    sv = _flat(render(contract, PER_PERIOD.encode(), "sv", "md").decode())
    en = _flat(render(contract, PER_PERIOD.encode(), "en", "md").decode())
    assert "för varje period i ”Mätår”" in sv and "for each period of “Measurement years”" in en
    assert "”Mätår” omfattar perioderna 2017 och 2018." in sv
    assert "“Measurement years” comprises the periods 2017 and 2018." in en
    assert "endast om villkoret ”Genomförd” inte är uppfyllt" in sv
    assert "only if the condition “Carried out” is not met" in en
    assert "years" not in sv.replace("Measurement years", "") and "y2017" not in sv


def test_nested_min_max_read_as_bounds():
    path = ROOT / "contracts" / "norrkoping.sib"
    contract = load_contract(path)
    sv = _flat(render(contract, path.read_bytes(), "sv", "md").decode())
    en = _flat(render(contract, path.read_bytes(), "en", "md").decode())
    assert "”Besparing” minus ”Lånet”, dock lägst 0 kr och högst 20 procent av ”Lånet”." in sv
    assert "“Savings” minus “The loan”, but at least SEK 0 and at most 20 per cent of “The loan”." in en
    assert "det minsta av" not in sv and "the smallest of" not in en
    assert "Norrköpings kommun is the payer and the service provider under the contract." in en


def test_bounds_that_may_cross_say_which_applies_last():
    source = '''contract "Avtal"
  currency SEK
  rounding 1 SEK half up
party city "Staden": payer
party fund "Fonden": investor
measure a "A": money
measure b "B": money
payment p = min(max(a, b), 100 SEK) from city to fund
'''
    contract, diagnostics = check_source(Source("c.sib", source))
    assert contract is not None, diagnostics
    sv = _flat(render(contract, source.encode(), "sv", "md").decode())
    assert "”A”, dock lägst ”B”, och det beloppet dock högst 100 kr." in sv


def test_amounts_dates_and_percentages_keep_together():
    path = ROOT / "contracts" / "norrkoping.sib"
    md = render(load_contract(path), path.read_bytes(), "sv", "md", path=path).decode()
    for phrase in ("12\u00a0000\u00a0000\u00a0kr", "30\u00a0juni\u00a02019", "60\u00a0procent", "1\u00a0augusti\u00a02016"):
        assert phrase in md, phrase
    assert not re.search(r"\d (kr|procent|januari|juni|augusti|december)\b", md)


def test_untranslated_text_is_a_warning_at_the_text(run, tmp_path):
    path = tmp_path / "half.sib"
    path.write_text(PER_PERIOD.replace(' @en "Jobs"', ""), encoding="utf-8")
    out = tmp_path / "half.md"
    result = run("render", str(path), "--lang", "en", "-o", str(out))
    assert result.exit_code == 0
    assert "warning[W720]: the label of the measure `jobs` has no `en` translation" in result.stderr
    assert f"{path}:10:14" in result.stderr and "^^^^^^" in result.stderr
    assert result.stderr.count("W720") == 1
    assert "“Jobb”" in out.read_text(encoding="utf-8")
    swedish = run("render", str(path), "--lang", "sv", "-o", str(tmp_path / "sv.md"))
    assert swedish.exit_code == 0 and "W720" not in swedish.stderr


# ---------------------------------------------------------------- the archival PDF (issue 18)
def _struct_types(reader) -> tuple[dict[str, int], list[str]]:
    counts: dict[str, int] = {}
    alts: list[str] = []

    def walk(node):
        node = node.get_object()
        if not isinstance(node, dict):
            return
        kind = node.get("/S")
        if kind:
            counts[kind] = counts.get(kind, 0) + 1
        if kind == "/Figure":
            alts.append(str(node.get("/Alt", "")))
        kids = node.get("/K")
        for kid in (kids if isinstance(kids, list) else [kids] if kids is not None else []):
            walk(kid)

    walk(reader.trailer["/Root"]["/StructTreeRoot"])
    return counts, alts


def test_pdf_is_pdf_a_2a_and_pdf_ua_1(norrkoping_pdf):
    reader = PdfReader(io.BytesIO(norrkoping_pdf))
    root = reader.trailer["/Root"]
    xmp = root["/Metadata"].get_object().get_data().decode("utf-8")
    assert re.search(r"<pdfaid:part>2</pdfaid:part>", xmp) and re.search(r"<pdfaid:conformance>A<", xmp)
    assert "<pdfuaid:part>1</pdfuaid:part>" in xmp
    intent = root["/OutputIntents"][0].get_object()
    assert intent["/S"] == "/GTS_PDFA1" and "/DestOutputProfile" in intent
    assert root["/Lang"] == "sv" and root["/MarkInfo"]["/Marked"]
    for page in reader.pages:  # every font embedded
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendants = font.get("/DescendantFonts")
            descriptor = (descendants[0].get_object() if descendants else font)["/FontDescriptor"].get_object()
            assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")), font["/BaseFont"]
    counts, alts = _struct_types(reader)
    assert counts.get("/TH", 0) >= 3 and counts.get("/TD", 0) > counts["/TH"] and counts.get("/THead") == 2  # examples, budget
    assert counts.get("/H1", 0) >= 9
    assert len(alts) == 1 and alts[0].startswith("Diagram över den sammanlagda ersättningen")
    assert "Taket 12 000 000 kr; Garantin: 40 procent av ”Lånet”, 4 000 000 kr" in alts[0].replace("\u00a0", " ")


def test_pdf_dates_come_from_the_signing_date_or_source_date_epoch(norrkoping_pdf, monkeypatch):
    meta = PdfReader(io.BytesIO(norrkoping_pdf)).metadata
    assert meta["/CreationDate"] == "D:20160701000000Z"  # signed 2016-07-01
    path = ROOT / "contracts" / "norrkoping.sib"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    first = render(load_contract(path), path.read_bytes(), "sv", "pdf", path=path)
    assert PdfReader(io.BytesIO(first)).metadata["/CreationDate"] == "D:20231114221320Z"
    assert render(load_contract(path), path.read_bytes(), "sv", "pdf", path=path) == first


HOSTILE_TITLE = 'Avtal nr. 12-3, del (a): 2024'


def test_pdf_title_metadata_shows_the_text_not_typst_escapes():
    source = HOSTILE_CONTRACT.replace('contract "Avtal"', f'contract "{HOSTILE_TITLE}"')
    contract, diagnostics = check_source(Source("t.sib", source))
    assert contract is not None, diagnostics
    meta = PdfReader(io.BytesIO(render(contract, source.encode(), "sv", "pdf"))).metadata
    assert meta["/Title"] == HOSTILE_TITLE


CONTROL = 'contract "Avtal"\n  currency SEK\n  rounding 1 SEK half up\nparty city "Sta\x0bden\x01 \x1b[31m": payer\n' \
          'party fund "Fonden": investor\nmeasure savings "Bespa\x0bring\x1b": money better higher\n' \
          'payment p = 10 % of savings from city to fund\n'


def test_control_characters_in_labels_neither_break_the_pdf_nor_reach_the_svg(run, tmp_path):
    path = tmp_path / "ctl.sib"
    path.write_text(CONTROL, encoding="utf-8")
    result = run("render", str(path), "-o", str(tmp_path / "x.pdf"))
    assert result.exit_code == 0, result.output
    pdf = (tmp_path / "x.pdf").read_bytes()
    assert "Bespa\ufffdring\ufffd" in re.sub(r"\s+", "", " ".join(_pdf_text(pdf)))  # the fonts have no ␋
    assert "<pdfaid:part>2</pdfaid:part>" in PdfReader(io.BytesIO(pdf)).trailer["/Root"]["/Metadata"].get_object() \
        .get_data().decode()
    html = run("render", str(path), "--format", "html").stdout
    assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", html)
    svg = html[html.index("<svg"):html.index("</svg>")]
    assert "Bespa\u240bring\u241b" in svg


BIG = 'contract "Avtal"\n  currency SEK\n  rounding 1 SEK half up\nparty city "Staden": payer\n' \
      'party fund "Fonden": investor\nmeasure savings "Besparing": money better higher\n' \
      'payment p = min(10 % of savings, 123456789012345678901234567890 SEK) from city to fund\n'


@pytest.mark.parametrize("fmt", ["md", "pdf"])
def test_a_30_digit_constant_renders(fmt):
    contract, diagnostics = check_source(Source("big.sib", BIG))
    assert contract is not None, diagnostics
    data = render(contract, BIG.encode(), "sv", fmt)
    text = data.decode() if fmt == "md" else " ".join(_pdf_text(data))
    assert "123\u00a0456\u00a0789\u00a0012\u00a0345\u00a0678\u00a0901\u00a0234\u00a0567\u00a0890\u00a0kr" in text \
        or "123 456 789 012 345 678 901 234 567 890 kr" in text.replace("\u00a0", " ")


def test_a_character_without_a_glyph_gives_a_plain_pdf_and_w721(run, tmp_path):
    path = tmp_path / "cjk.sib"
    path.write_text(BIG.replace('"Staden"', '"北京市"'), encoding="utf-8")
    result = run("render", str(path), "-o", str(tmp_path / "x.pdf"))
    assert result.exit_code == 0 and "warning[W721]" in result.stderr and '"北"' in result.stderr
    reader = PdfReader(tmp_path / "x.pdf")
    assert "pdfaid" not in reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert "/StructTreeRoot" in reader.trailer["/Root"]  # still tagged


# ---------------------------------------------------------------- the chart and the worked examples (issue 18)
@pytest.mark.parametrize("lo, hi, most, expected", [
    (0, 11_712_000, 6, (0, 12_000_000, 2_000_000)),  # the axis reaches past the highest value
    (0, 12_000_000, 6, (0, 12_000_000, 2_000_000)),
    (45_000_000, 63_000_000, 5, (45_000_000, 65_000_000, 5_000_000)),
    (0, 7, 6, (0, 8, 2)),
    (Fraction(-1), Fraction(1), 6, (-1, 1, Fraction(1, 2))),
    (0, Fraction(3, 100), 6, (0, Fraction(3, 100), Fraction(1, 200))),
    (5, 5, 6, (5, 10, 1)),
    (0, 123456789012345678901234567890, 6, (0, 125 * 10**27, 25 * 10**27)),
])
def test_ticks_are_round_and_cover_the_data(lo, hi, most, expected):
    from sibdsl.render.chart import ticks

    start, end, values = ticks(lo, hi, most)
    assert (start, end, values[1] - values[0]) == expected
    assert start <= min(lo, hi) and end >= max(lo, hi) and len(values) - 1 <= most
    assert values[0] == start and values[-1] == end


def test_breakpoints_find_kinks_and_steps_exactly():
    from sibdsl.render.breakpoints import breakpoints, simplest_between

    def curve(x):  # a kink at 7/3, a step at 8.5, a flat cap from 12
        y = min(3 * x, 7) + (100 if x >= Fraction(17, 2) else 0)
        return (y, Fraction(0))

    assert breakpoints(curve, Fraction(0), Fraction(20), Fraction(0)) == [Fraction(7, 3), Fraction(17, 2)]
    assert breakpoints(lambda x: (abs(x - 1000) // 1,), Fraction(0), Fraction(2000), Fraction(2),
                       integer=True) == [1000]
    assert simplest_between(Fraction(84999, 10000), Fraction(85001, 10000)) == Fraction(17, 2)


def test_worked_examples_sit_at_the_breakpoints_and_leave_out_dead_columns():
    path = ROOT / "contracts" / "norrkoping.sib"
    md = render(load_contract(path), path.read_bytes(), "sv", "md", path=path).decode().replace("\u00a0", " ")
    table = md.split("## Räkneexempel\n")[1].split("\n## ")[0]
    outcomes = re.findall(r"^\| ([\d ]+) kr \|", table, flags=re.MULTILINE)
    # the outcome payment stops at a saving of 10 MSEK (costs 50 MSEK), the bonus at 12 MSEK (48 MSEK),
    # savings start below costs of 60 MSEK (the baseline: 61 MSEK scaled to 60 people)
    assert {"48 000 000", "50 000 000", "60 000 000"} <= set(outcomes) and len(outcomes) == 5
    assert "”Garantin” |" not in table and "Tabellen visar inte ”Garantin”: 0 kr i alla exempel." in table
    peterborough = ROOT / "contracts" / "peterborough.sib"
    en = render(load_contract(peterborough), peterborough.read_bytes(), "en", "md", path=peterborough).decode()
    rows = re.findall(r"^\| ([\d,]+) \|", en, flags=re.MULTILINE)
    assert {"1,350", "1,395", "1,396", "1,433", "1,434"} <= set(rows)  # the cap, the cohort and overall thresholds


def test_chart_has_full_axes_labelled_thresholds_and_a_description():
    path = ROOT / "contracts" / "norrkoping.sib"
    svg = View(load_contract(path), path.read_bytes(), "sv", contract_path=path).examples["svg"].replace("\u00a0", " ")
    assert 'role="img"' in svg and "<title id=\"chart-title\">Ersättningskurva</title>" in svg
    assert "<desc id=\"chart-desc\">Diagram över den sammanlagda ersättningen" in svg
    assert ">12 000 000 kr</text>" in svg  # the y axis reaches the cap, which the curve touches
    assert ">Taket 12 000 000 kr</text>" in svg and ">Skolvillkoret: ”Lånet”, 10 000 000 kr</text>" in svg
    assert "villkor 10" not in svg


def test_simulate_charts_use_the_same_chart_module(tmp_path):
    """One chart stack: simulate's histograms and curve come from sibdsl/render/chart.py, SVG or PNG
    (rasterised by Typst), deterministic, with the scenarios all counted."""
    import subprocess
    import sys

    import numpy as np

    from sibdsl.charts import _histogram, write_charts

    rng = np.random.default_rng(7)
    total = rng.integers(4_000_000, 12_000_001, 3000).astype(np.int64) * 100
    irr = {"lsv": rng.normal(0.04, 0.02, 3000)}
    curve = ("savings", rng.normal(1e7, 3e6, 3000))
    svgs = [write_charts(tmp_path / d, total, irr, curve, "SEK") for d in ("a", "b")]
    for first, second in zip(*svgs):
        assert first.read_bytes() == second.read_bytes() and b'role="img"' in first.read_bytes()
    counts, edges = _histogram(total, Fraction(4_000_000), Fraction(12_000_000), 100)
    assert sum(counts) == 3000 and edges[0] == 4_000_000 and edges[-1] == 12_000_000
    assert counts[0] == int(((total >= 400_000_000) & (total < 413_333_334)).sum())
    huge = np.array([10**30, 2 * 10**30], dtype=object)  # beyond int64: still binned exactly
    assert sum(_histogram(huge, Fraction(10**28), Fraction(2 * 10**28), 100)[0]) == 2
    pngs = write_charts(tmp_path / "p", total, irr, curve, "SEK", "png")
    assert all(p.read_bytes().startswith(b"\x89PNG\r\n\x1a\n") for p in pngs)
    code = "import sys, numpy as np; from sibdsl.charts import write_charts; " \
           f"write_charts({str(tmp_path / 'q')!r}, np.array([100, 200]), {{}}, None, 'SEK'); " \
           "print('matplotlib' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False\n"


# ---------------------------------------------------------------- Word (issue 18)
def test_docx_has_the_text_headings_table_and_chart(run, tmp_path):
    import time
    import zipfile

    import docx

    path = ROOT / "contracts" / "norrkoping.sib"
    out = tmp_path / "rådet.docx"
    assert run("render", str(path), "-o", str(out), "--lang", "en").exit_code == 0
    document = docx.Document(str(out))
    md = render(load_contract(path), path.read_bytes(), "en", "md", path=path).decode()
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert headings[:3] == ["§ 1 Parties", "§ 2 Term", "§ 3 Target group"]
    assert headings == [line[3:].replace("\\", "") for line in md.splitlines() if line.startswith("## ")]
    assert [p.text for p in document.paragraphs if p.style.name == "Heading 2"] == \
        [line[4:].replace("\\", "") for line in md.splitlines() if line.startswith("### ")]
    body = "\n".join(p.text for p in document.paragraphs)
    assert "The contract runs from 1\u00a0August\u00a02016 to 31\u00a0December\u00a02020, both days included." in body
    assert "“Savings” minus “The loan”, but at least SEK\u00a00 and at most 20\u00a0per cent of “The loan”" in body
    budget, table = document.tables  # what the payer may pay each year (issue 15), the worked examples
    assert [[c.text for c in row.cells] for row in budget.rows] == [
        ["Payer", "Year", "Worst case (proved)"], ["Norrköpings kommun", "2019", "SEK\u00a012,000,000 (largest possible, proved)"],
        ["Norrköpings kommun", "Whole contract", "SEK\u00a012,000,000 (largest possible, proved)"]]
    assert [c.text for c in table.rows[0].cells][0] == "“Costs of the target group”"
    assert table.rows[0]._tr.trPr.xpath("./w:tblHeader")  # repeated on every page
    assert len(table.rows) == 6 and table.rows[-1].cells[-1].text == "SEK\u00a04,000,000"
    (shape,) = document.inline_shapes
    assert shape._inline.docPr.get("descr").startswith("Chart of the total payout")
    footer = document.sections[0].footer._element.xml
    assert "NUMPAGES" in footer and " PAGE " in footer
    assert "SE-NKPG-SIB-2016 · Version 1.0" in document.sections[0].header.paragraphs[0].text
    core = document.core_properties
    assert core.title == "Social outcome contract – Norrköping" and core.created.year == 2016
    with zipfile.ZipFile(out) as z:
        assert {i.date_time for i in z.infolist()} == {(2016, 7, 1, 0, 0, 0)}
    time.sleep(1.1)  # a clock anywhere in the file would change the bytes
    again = tmp_path / "again.docx"
    assert run("render", str(path), "-o", str(again), "--lang", "en").exit_code == 0
    assert again.read_bytes() == out.read_bytes()
    assert run("render", str(path), "--format", "docx").exit_code == 2  # a binary file needs -o


def test_docx_takes_hostile_text_literally(tmp_path):
    import docx

    contract, _ = check_source(Source("ctl.sib", CONTROL))
    data = render(contract, CONTROL.encode(), "sv", "docx")
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(data)).paragraphs)
    assert "Sta\u240bden\u2401 \u241b[31m" in text
    contract, _ = check_source(Source("hostile.sib", HOSTILE_CONTRACT))
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(render(contract, HOSTILE_CONTRACT.encode(), "sv",
                                                                      "docx"))).paragraphs)
    assert HOSTILE["party"] in text and "{{ 7*7 }}" in text


def test_the_files_behind_the_worked_examples_are_sealed_too(tmp_path):
    """Two documents with the same contract fingerprint can differ by the outcome and scenario files
    beside the contract: the document prints their fingerprints as well (issue 22, item 19)."""
    for name in ("norrkoping.sib", "norrkoping.outcomes.json", "norrkoping.scenarios.csv"):
        (tmp_path / name).write_bytes((ROOT / "contracts" / name).read_bytes())
    path = tmp_path / "norrkoping.sib"
    first = render(load_contract(path), path.read_bytes(), "sv", "md", path=path).decode()
    digest = hashlib.sha256((tmp_path / "norrkoping.outcomes.json").read_bytes()).hexdigest()
    assert f"norrkoping.outcomes.json, som räkneexemplen bygger på: `{digest}`" in first.replace("\\", "")
    outcomes = (tmp_path / "norrkoping.outcomes.json")
    outcomes.write_text(outcomes.read_text(encoding="utf-8").replace("61 000 000 SEK", "61 000 001 SEK"), encoding="utf-8")
    second = render(load_contract(path), path.read_bytes(), "sv", "md", path=path).decode()
    assert second != first and digest not in second


# ---------------------------------------------------------------- every contract, language and format; page images
@pytest.mark.parametrize("lang", ["sv", "en"])
@pytest.mark.parametrize("path", CONTRACTS + sorted((ROOT / "contracts" / "variants").glob("*.sib")),
                         ids=lambda p: p.stem)
def test_every_contract_renders_in_every_format(path, lang):
    import docx

    contract = load_contract(path)
    pdf = render(contract, path.read_bytes(), lang, "pdf", path=path)
    reader = PdfReader(io.BytesIO(pdf))
    assert "<pdfaid:part>2</pdfaid:part>" in reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert reader.trailer["/Root"]["/Lang"] == lang
    text = _flat(" ".join(_pdf_text(pdf)))
    assert _flat(contract.title.get(lang)) in text
    word = docx.Document(io.BytesIO(render(contract, path.read_bytes(), lang, "docx", path=path)))
    assert word.paragraphs[0].text == contract.title.get(lang)
    html = render(contract, path.read_bytes(), lang, "html", path=path).decode()
    assert f'<html lang="{lang}">' in html and "<th scope=\"col\">" in html


def _page_images(pdf: bytes, tmp_path) -> list[tuple[int, int, bytes]]:
    """Each page as (width, height, grey pixels), by poppler's pdftoppm (installed by .ci/run)."""
    import shutil
    import subprocess

    assert shutil.which("pdftoppm"), "pdftoppm (Debian's poppler-utils) is needed: .ci/run installs it"
    (tmp_path / "doc.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "40", "-gray", str(tmp_path / "doc.pdf"), str(tmp_path / "page")], check=True)
    pages = []
    for image in sorted(tmp_path.glob("page*.pgm")):
        data = image.read_bytes()
        magic, width, height, depth, pixels = data.split(maxsplit=4)
        assert magic == b"P5" and depth == b"255"
        pages.append((int(width), int(height), pixels))
    return pages


def test_page_images_show_the_chart_and_nothing_beyond_the_margins(norrkoping_pdf, tmp_path):
    pages = _page_images(norrkoping_pdf, tmp_path)
    assert len(pages) == len(PdfReader(io.BytesIO(norrkoping_pdf)).pages)
    margin = round(2.5 / 2.54 * 40) - 4  # 2.5 cm at 40 dpi, less a little for antialiasing
    for number, (width, height, pixels) in enumerate(pages, start=1):
        rows = [pixels[y * width:(y + 1) * width] for y in range(height)]
        right = [x for row in rows for x in row[width - margin:]]
        left = [x for row in rows for x in row[:margin - 6]]
        assert min(right) > 200 and min(left) > 200, f"page {number}: ink in the side margins (text overflowing)"
        assert min(x for row in rows[:margin] for x in row) < 128, f"page {number}: no running header"
        assert min(x for row in rows[-margin:] for x in row) < 128, f"page {number}: no footer"
    chart_page = next(i for i, text in enumerate(_pdf_text(norrkoping_pdf)) if "Ersättningskurva" in text)
    width, height, pixels = pages[chart_page]
    rows = [pixels[y * width:(y + 1) * width] for y in range(height)]
    # the chart's y axis: a dark vertical line longer than any table border (a table of six rows is ~50 px)
    longest = 0
    for x in range(width):
        run = 0
        for y in range(height):
            run = run + 1 if rows[y][x] < 128 else 0
            longest = max(longest, run)
    assert longest >= 70, f"no chart axis on the chart page (longest vertical line {longest} px)"


def test_a_document_in_another_language_says_the_scenarios_are_untranslated():
    path = ROOT / "contracts" / "norrkoping.sib"
    en = render(load_contract(path), path.read_bytes(), "en", "md", path=path).decode().replace("\\", "")
    sv = render(load_contract(path), path.read_bytes(), "sv", "md", path=path).decode().replace("\\", "")
    assert "The scenarios' names and descriptions are as written in norrkoping.scenarios.csv, untranslated." in en
    assert "utan översättning" not in sv


def test_a_long_step_table_is_printed_as_a_table():
    path = ROOT / "contracts" / "nyc_rikers.sib"
    contract = load_contract(path)
    en = render(contract, path.read_bytes(), "en", "md", path=path).decode().replace("\u00a0", " ")
    assert "“Payment schedule” is by the table for “Reduction in readmission bed days” below." in en
    assert "| “Reduction in readmission bed days” | “Payment schedule” |\n|---|---:|\n" \
           "| below 8.5 per cent | USD 0 |\n| from 8.5 per cent | USD 4,800,000 |\n" in en
    html = render(contract, path.read_bytes(), "sv", "html", path=path).decode().replace("\u00a0", " ")
    assert '<tr><th scope="row">från 8,5 procent</th><td class="amount">4 800 000 USD</td></tr>' in html
    counts, _ = _struct_types(PdfReader(io.BytesIO(render(contract, path.read_bytes(), "en", "pdf", path=path))))
    assert counts["/Table"] == 3 and counts["/THead"] == 3  # the step table, the budget, the worked examples


@pytest.mark.parametrize("formula, text", [
    ("min(max(a, 10 SEK * 0 / 0), 100 SEK)", "“A”, but at least SEK 10 times 0 divided by 0, and that amount at most SEK 100."),
    ("min(max(a, b), max(b, 5 SEK))", "“A”, but at least “B”, and that amount at most (“B”, but at least SEK 5)."),
    ("max(min(a, 0 SEK), 100 SEK)", "“A”, but at most SEK 0, and that amount at least SEK 100."),
])
def test_bounds_that_cannot_be_computed_or_nest_still_read(formula, text):
    source = f'''contract "Avtal"
  currency SEK
  rounding 1 SEK half up
party city "S": payer
party fund "F": investor
measure a "A": money
measure b "B": money
payment p = {formula} from city to fund
'''
    contract, diagnostics = check_source(Source("b.sib", source))
    assert contract is not None, diagnostics
    assert text in render(contract, source.encode(), "en", "md").decode().replace("\u00a0", " ")


def test_a_straight_payment_curve_gets_round_examples():
    contract, _ = check_source(Source("s.sib", HOSTILE_CONTRACT))
    md = render(contract, HOSTILE_CONTRACT.encode(), "en", "md").decode().replace("\u00a0", " ")
    table = md.split("## Worked examples\n")[1]
    rows = re.findall(r"^\| (SEK [\d,]+) \| (SEK [\d,]+) \|", table, flags=re.MULTILINE)
    assert len(rows) >= 4 and rows[0][0] == "SEK 0"
    assert all(Fraction(p.replace("SEK ", "").replace(",", "")) * 10 ==
               Fraction(s.replace("SEK ", "").replace(",", "")) for s, p in rows)  # 10 % of savings
