"""Bad outcome data: every kind in docs/bad-outcomes.md gets a coded diagnostic naming the file,
the place and the expected form, exit status 1, and never a settlement computed on a guess."""

from __future__ import annotations

import json
import re

import pytest

from .conftest import ROOT

CONTRACT = '''contract "Utfall" currency SEK rounding 1 SEK half up
party city "Staden": payer
party fund "Fonden": investor
term 2020-01-01 to 2022-12-31
periods year: y2021 2021-01-01 to 2021-12-31, y2022 2022-01-01 to 2022-12-31
measure costs: money better lower
measure rate: percentage
measure people: count
measure events: count per year better lower
measure started: date
measure done: boolean
payment p = 10 % of costs + rate * 1 000 SEK + people * 1 SEK + sum(events) * 1 SEK
  from city to fund when done and started > 2020-01-01
'''
GOOD = {"costs": "1 000 SEK", "rate": "10 %", "people": 3, "events": {"y2021": 1, "y2022": 2},
        "started": "2021-01-01", "done": True}


def changed(**values) -> str:
    data = dict(GOOD)
    for key, value in values.items():
        if value is None:
            data.pop(key)
        else:
            data[key] = value
    return json.dumps(data, ensure_ascii=False)


CSV_GOOD = "measure;period;value\ncosts;;1 000 SEK\nrate;;10 %\npeople;;3\nevents;y2021;1\nevents;y2022;2\n" \
           "started;;2021-01-01\ndone;;ja\n"

# (kind as in docs/bad-outcomes.md, file name, content, code, words the message or hint must contain)
CASES = [
    ("missing measure", "o.json", changed(people=None), "E502", "people"),
    ("unknown measure", "o.json", changed(peeple=3), "E503", "did you mean `people`"),
    ("money in another currency", "o.json", changed(costs="1 000 EUR"), "E506", "EUR"),
    ("money with a unit that is not a currency", "o.json", changed(costs="1 000 kg"), "E504", "kg"),
    ("negative count", "o.json", changed(people=-1), "E505", "outside"),
    ("share above 100 %", "o.json", changed(rate="150 %"), "E505", "100 %"),
    ("share written as a whole percentage", "o.json", changed(rate=85), "E505", '"85 %" or 0.85'),
    ("fractional count", "o.json", changed(people=2.5), "E504", "whole number"),
    ("NaN", "o.json", changed(costs="X").replace('"X"', "NaN"), "E504", "NaN"),
    ("Infinity", "o.json", changed(costs="X").replace('"X"', "Infinity"), "E504", "Infinity"),
    ("number too large", "o.json", changed(people=10 ** 40), "E505", "30 digits"),
    ("1e999", "o.json", changed(costs="1e999"), "E504", "not a number"),
    ("hexadecimal number", "o.json", changed(people="0x10"), "E504", "not a number"),
    ("German digit grouping", "o.json", changed(costs="1.000,50"), "E504", "1 000,50"),
    ("ambiguous comma", "o.json", changed(costs="1,000"), "E504", "1 000 for thousands"),
    ("yes/no that is neither", "o.json", changed(done="maybe"), "E504", "true or false"),
    ("null value", "o.json", changed(people="X").replace('"X"', "null"), "E550", "not yet measured"),
    ("date in another format", "o.json", changed(started="1/6/2021"), "E504", "YYYY-MM-DD"),
    ("period not in the contract", "o.json", changed(events={"y2021": 1, "y2022": 2, "y2030": 3}), "E507",
     "y2030"),
    ("period missing", "o.json", changed(events={"y2021": 1}), "E507", "y2022"),
    ("one value where periods are needed", "o.json", changed(events=3), "E504", "one value per period"),
    ("duplicate key", "o.json", changed().replace('"people": 3', '"people": 3, "people": 4'), "E508", "twice"),
    ("empty file", "o.json", "", "E501", "empty"),
    ("not JSON", "o.json", "costs = 1000", "E501", "not valid JSON"),
    ("trailing garbage after the JSON", "o.json", changed() + " extra", "E501", "not valid JSON"),
    ("a list instead of an object", "o.json", "[1, 2, 3]", "E501", "JSON object"),
    ("deeply nested JSON", "o.json", "[" * 100_000 + "]" * 100_000, "E501", "nested too deeply"),
    ("UTF-16 file", "o.json", changed().encode("utf-16"), "E001", "UTF-16"),
    ("Latin-1 file", "o.csv", CSV_GOOD.replace("ja", "jä").encode("latin-1"), "E504", "Windows-1252"),
    ("damaged Excel workbook", "o.xlsx", b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(200)), "E001",
     "not an Excel workbook"),
    ("CSV without a header", "o.csv", "costs;1000\n", "E501", "columns"),
    ("CSV row with a missing cell (merged cells)", "o.csv", CSV_GOOD.replace("people;;3", "people;3"), "E501",
     "columns"),
    ("spreadsheet formula in a cell", "o.csv", CSV_GOOD.replace("people;;3", "people;;=SUM(A1:A2)"), "E504",
     "not a number"),
    ("CSV value given twice", "o.csv", CSV_GOOD + "people;;4\n", "E508", "twice"),
    ("missing file", None, None, "E001", "does not exist"),
]


def test_the_page_lists_every_kind():
    page = (ROOT / "docs" / "bad-outcomes.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (.+?) \| .*?\| (E\d{3}) \|$", page, flags=re.MULTILINE)
    assert sorted(rows) == sorted((kind, code) for kind, _, _, code, _ in CASES)
    assert len(CASES) >= 20


@pytest.mark.parametrize("kind, name, content, code, words", CASES, ids=[c[0] for c in CASES])
def test_bad_outcome_file(kind, name, content, code, words, tmp_path, run):
    contract = tmp_path / "c.sib"
    contract.write_text(CONTRACT, encoding="utf-8")
    path = tmp_path / (name or "nope.json")
    if content is not None:
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    result = run("eval", str(contract), "--outcomes", str(path), "--diagnostics", "gnu")
    assert result.exit_code == 1
    assert result.stdout == ""  # no settlement on a guess
    lines = result.stderr.splitlines()
    assert any(f"error[{code}]" in line and line.startswith(str(path)) for line in lines), result.stderr
    assert words in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and "E900" not in result.stderr


def test_the_good_files_settle(tmp_path, run):
    contract = tmp_path / "c.sib"
    contract.write_text(CONTRACT, encoding="utf-8")
    for name, text in (("o.json", changed()), ("o.csv", CSV_GOOD)):
        (tmp_path / name).write_text(text, encoding="utf-8")
        result = run("eval", str(contract), "--outcomes", str(tmp_path / name), "--no-trace")
        assert result.exit_code == 0, result.stderr
        assert "total" in result.stdout
