"""`sibc serve` and spreadsheets and Word: an .xlsx outcome file sent to /v1/eval (base64 in the
JSON body), the settlement as a workbook (/v1/eval with "format": "xlsx") and the council document
as DOCX (/v1/render). A real server over HTTP; the files it sends are read back with openpyxl and
python-docx."""

from __future__ import annotations

import base64
import io
import json
import zipfile

import docx
import openpyxl
import pytest

from sibdsl.serve import api

from .test_serve_api import CONTRACTS, NORRKOPING_OUTCOMES, Server, codes, served_copy

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return served_copy(tmp_path_factory)


@pytest.fixture(scope="module")
def server(folder):
    s = Server(folder)
    yield s
    s.stop()


def workbook(rows, title="Utfall") -> bytes:
    wb = openpyxl.Workbook()
    sheet = wb.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


GOOD = [["measure", "value"], ["actual_costs", 49_000_000], ["reference_costs", "61 000 000 SEK"],
        ["school_improved", True], ["completed", "ja"]]


def test_an_xlsx_outcome_file_settles_like_the_same_values_in_json(server):
    status, by_json = server.post("/v1/eval", {"contract": "norrkoping", "outcomes": NORRKOPING_OUTCOMES})
    assert status == 200, by_json
    status, by_xlsx = server.post("/v1/eval", {"contract": "norrkoping",
                                               "outcomes_xlsx": b64(workbook(GOOD))})
    assert status == 200, by_xlsx
    assert by_xlsx["settlement"]["total"] == by_json["settlement"]["total"] == "11000000"
    assert by_xlsx["settlement"]["lines"] == by_json["settlement"]["lines"]
    # what the workbook was read as, written as an outcome .json file writes it
    assert by_xlsx["outcomes"] == {"actual_costs": "49000000 SEK", "reference_costs": "61000000 SEK",
                                   "school_improved": True, "completed": True}
    # base64 as `base64` (76-column lines) writes it: the line breaks are not part of the data
    wrapped = base64.encodebytes(workbook(GOOD)).decode("ascii")
    assert "\n" in wrapped
    status, body = server.post("/v1/eval", {"contract": "norrkoping", "outcomes_xlsx": wrapped})
    assert status == 200 and body["settlement"]["total"] == "11000000"


def test_xlsx_problems_name_the_sheet_and_cell_and_the_upload_not_a_temporary_file(server):
    rows = [["measure", "value"], ["actual_costs", "1,000"], ["reference_costs", "61 000 000 SEK"],
            ["school_improved", "kanske"], ["completed", True]]
    status, body = server.post("/v1/eval", {"contract": "norrkoping", "outcomes_xlsx": b64(workbook(rows)),
                                            "outcomes_filename": "utfall 2024.xlsx"})
    assert status == 422 and codes(body) == ["E504", "E504"], body
    first, second = body["diagnostics"]
    assert first["message"].startswith("Utfall!B2: `actual_costs`") and second["message"].startswith("Utfall!B4:")
    assert first["hint"] and first["span"]["line"] == 2
    assert {d["file"] for d in body["diagnostics"]} == {"utfall 2024.xlsx"}
    assert "sibc-upload" not in json.dumps(body) and "/tmp" not in json.dumps(body)

    status, body = server.post("/v1/eval", {"contract": "norrkoping",
                                            "outcomes_xlsx": b64(workbook(GOOD[:2], title="Mätningar 2024"))})
    assert status == 422 and body["diagnostics"][0]["file"] == "outcomes.xlsx"
    assert set(codes(body)) == {"E502"}, body  # the three measures the sheet leaves out


@pytest.mark.parametrize("extra, status, code", [
    ({"outcomes_xlsx": "this is not base64!"}, 400, "E860"),
    ({"outcomes_xlsx": 12}, 400, "E860"),
    ({"outcomes_xlsx": b64(b"measure;value\nactual_costs;1\n")}, 422, "E001"),
    ({"outcomes_xlsx": b64(b"PK\x03\x04 not really a zip")}, 422, "E001"),
    ({"outcomes_xlsx": b64(workbook(GOOD)), "outcomes_filename": "../../etc/passwd.xlsx"}, 400, "E860"),
    ({"outcomes_xlsx": b64(workbook(GOOD)), "outcomes_filename": "utfall.csv"}, 400, "E860"),
    ({"outcomes_xlsx": b64(workbook(GOOD)), "outcomes": NORRKOPING_OUTCOMES}, 400, "E860"),
])
def test_bad_uploads_are_coded_diagnostics(server, extra, status, code):
    got, body = server.post("/v1/eval", {"contract": "norrkoping", **extra})
    assert (got, codes(body)[0]) == (status, code), body
    assert body["diagnostics"][0]["hint"]
    assert "sibc-upload" not in json.dumps(body), "the temporary file is never named"


def test_a_zip_bomb_upload_is_refused_before_it_is_unpacked(server):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (300 * 1024 * 1024))
    assert out.tell() < api.MAX_REQUEST_BYTES * 3 // 4
    status, body = server.post("/v1/eval", {"contract": "norrkoping", "outcomes_xlsx": b64(out.getvalue())})
    assert status == 422 and codes(body) == ["E501"] and "unpacks to" in body["diagnostics"][0]["message"]
    assert body["diagnostics"][0]["file"] == "outcomes.xlsx" and "sibc-upload" not in json.dumps(body)


def read_workbook(data: bytes):
    return openpyxl.load_workbook(io.BytesIO(data), data_only=True)


def test_the_settlement_as_a_workbook(server):
    status, headers, data = server.request("POST", "/v1/eval", {"contract": "norrkoping", "format": "xlsx",
                                                                "outcomes": NORRKOPING_OUTCOMES})
    assert status == 200 and headers["content-type"] == XLSX
    assert headers["content-disposition"] == 'attachment; filename="norrkoping.settlement.xlsx"'
    assert headers["cache-control"] == "no-store" and headers["x-content-type-options"] == "nosniff"
    book = read_workbook(data)
    assert book.sheetnames == ["Settlement", "Parties", "Audit trail"]
    rows = list(book["Settlement"].iter_rows(values_only=True))
    assert rows[0][0] == "payment" and rows[-1][0] == "total"
    status, body = server.post("/v1/eval", {"contract": "norrkoping", "outcomes": NORRKOPING_OUTCOMES})
    assert rows[-1][6] == int(body["settlement"]["total"]) == 11_000_000
    assert [r[6] for r in rows[1:-1]] == [int(ln["amount"]) for ln in body["settlement"]["lines"]]
    assert book["Settlement"].cell(row=len(rows), column=7).number_format == '#,##0 "SEK"'

    # in Swedish (the studio in Swedish sends its language): Swedish sheets, words and kronor
    status, headers, data = server.request("POST", "/v1/eval", {"contract": "norrkoping", "format": "xlsx",
                                                                "outcomes": NORRKOPING_OUTCOMES, "lang": "sv"})
    assert status == 200 and headers["content-type"] == XLSX
    swedish = read_workbook(data)
    assert swedish.sheetnames == ["Avräkning", "Parter", "Revisionsspår"]
    svrows = list(swedish["Avräkning"].iter_rows(values_only=True))
    assert svrows[0][0] == "betalning" and svrows[-1][0] == "summa" and [r[6] for r in svrows][1:] == [r[6] for r in rows][1:]
    assert swedish["Avräkning"].cell(row=len(rows), column=7).number_format == '#,##0 "kr"'
    assert "beräknat" in {r[2] for r in swedish["Revisionsspår"].iter_rows(min_row=2, values_only=True)}
    status, body = server.post("/v1/eval", {"contract": "norrkoping", "format": "xlsx", "lang": "de",
                                            "outcomes": NORRKOPING_OUTCOMES})
    assert status == 400 and "lang" in json.dumps(body)

    # an uploaded workbook in, a workbook out
    status, headers, data = server.request("POST", "/v1/eval", {"contract": "norrkoping", "format": "xlsx",
                                                                "outcomes_xlsx": b64(workbook(GOOD))})
    assert status == 200 and list(read_workbook(data)["Settlement"].iter_rows(values_only=True)) == rows

    # a draft sent as text is named after the draft
    draft = {"source": (CONTRACTS / "norrkoping.sib").read_text(encoding="utf-8")}
    status, headers, data = server.request("POST", "/v1/eval", {"contract": draft, "format": "xlsx",
                                                                "outcomes": NORRKOPING_OUTCOMES})
    assert status == 200 and 'filename="source.settlement.xlsx"' in headers["content-disposition"]
    assert read_workbook(data)["Settlement"].cell(row=len(rows), column=7).value == 11_000_000


def test_no_workbook_of_a_settlement_that_cannot_be_made(server):
    status, headers, data = server.request("POST", "/v1/eval", {"contract": "norrkoping", "format": "xlsx",
                                                                "outcomes": {"actual_costs": "many"}})
    assert status == 422 and headers["content-type"] == "application/json"
    assert "E504" in codes(json.loads(data))
    status, body = server.post("/v1/eval", {"contract": "norrkoping", "format": "ods",
                                            "outcomes": NORRKOPING_OUTCOMES})
    assert status == 400 and codes(body) == ["E860"] and "json, xlsx" in body["diagnostics"][0]["message"]


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_the_council_document_as_docx(server, lang):
    status, headers, data = server.request("POST", "/v1/render", {"contract": "norrkoping", "format": "docx",
                                                                  "lang": lang})
    assert status == 200 and headers["content-type"] == DOCX
    assert headers["content-disposition"] == f'attachment; filename="norrkoping.{lang}.docx"'
    document = docx.Document(io.BytesIO(data))
    text = "\n".join(p.text for p in document.paragraphs)
    cells = " ".join(c.text for t in document.tables for row in t.rows for c in row.cells)
    assert "Norrköping" in text and "SE-NKPG-SIB-2016" in text, text[:300]
    assert document.tables and "4\xa0000\xa0000" in cells.replace(",", "\xa0")
    # the very document `sibc render --format docx` writes (its timestamp is the contract's, not now)
    from sibdsl import Source, check_source
    from sibdsl.render import render

    text = (CONTRACTS / "norrkoping.sib").read_text(encoding="utf-8")
    contract, _ = check_source(Source("norrkoping.sib", text))
    assert data == render(contract, text.encode("utf-8"), lang, "docx", path="norrkoping.sib")


def test_openapi_describes_the_files(server):
    status, doc = server.get("/v1/openapi.json")
    assert status == 200
    evaluate = doc["paths"]["/v1/eval"]["post"]
    properties = evaluate["requestBody"]["content"]["application/json"]["schema"]["properties"]
    assert {"outcomes_xlsx", "outcomes_filename", "format"} <= set(properties)
    assert properties["outcomes_xlsx"]["contentEncoding"] == "base64"
    assert properties["format"]["enum"] == ["json", "xlsx"]
    assert XLSX in evaluate["responses"]["200"]["content"]
    answer = evaluate["responses"]["200"]["content"]["application/json"]["schema"]["properties"]
    assert {"settlement", "diagnostics", "outcomes"} <= set(answer)
    render = doc["paths"]["/v1/render"]["post"]
    assert DOCX in render["responses"]["200"]["content"]
    assert "docx" in render["requestBody"]["content"]["application/json"]["schema"]["properties"]["format"]["enum"]


@pytest.mark.parametrize("name", ["norrkoping", "nyc_rikers", "peterborough"])
def test_the_outcomes_written_back_settle_the_same(server, name):
    published = json.loads((CONTRACTS / f"{name}.outcomes.json").read_text(encoding="utf-8"))
    status, first = server.post("/v1/eval", {"contract": name, "outcomes": published})
    assert status == 200, first
    status, again = server.post("/v1/eval", {"contract": name, "outcomes": first["outcomes"]})
    assert status == 200 and again["settlement"] == first["settlement"] and again["outcomes"] == first["outcomes"]
    assert set(first["outcomes"]) == {k for k in published if not k.startswith("_")}
