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


# ---------------------------------------------------------------- completeness and words (issue 18)
def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u00a0", " "))


@pytest.mark.parametrize("lang", ["sv", "en"])
@pytest.mark.parametrize("path", CONTRACTS, ids=lambda p: p.stem)
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
