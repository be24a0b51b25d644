"""The council document: golden Markdown and HTML for every contract in both languages, the PDF's
text, fingerprint and reproducibility, and that no text in a contract becomes markup or code."""

from __future__ import annotations

import hashlib
import io
import re

import pytest
from pypdf import PdfReader

from sibdsl import Source, check_source, load_contract
from sibdsl.render import render

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
        assert f"Sida {number}" in page
    for phrase in ["Socialt utfallskontrakt – Norrköping", "Innehåll",
                   "Leksell Social Ventures AB investerar 10 000 000 kr den 1 augusti 2016",
                   "Den sammanlagda ersättningen är högst 12 000 000 kr",
                   "40 procent av ”Lånet”", "8 procent per år (enkel ränta)",
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
