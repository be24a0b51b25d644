"""Outcome files → validated outcomes; every problem is a coded diagnostic naming the file and line."""

from __future__ import annotations

from fractions import Fraction

import pytest

from sibdsl import SibError, load_outcomes
from sibdsl.diagnostics import render_gnu

from .conftest import model

BODY = ("periods year: y1 2017-01-01 to 2017-12-31, y2 2018-01-01 to 2018-12-31\n"
        "measure costs: money\nmeasure rate: share\nmeasure n: count per year\nmeasure ok: boolean\n"
        "payment p = costs * rate + sum(n) * 1 SEK from city to fund when ok\n")


def load(text: str, name: str = "o.json"):
    return load_outcomes(model(BODY), text=text, name=name)


def problems(text: str, name: str = "o.json") -> list[str]:
    with pytest.raises(SibError) as info:
        load(text, name)
    return [render_gnu(d) for d in info.value.diagnostics]


def test_json_values_with_units_and_periods():
    got = load('{"_comment": "x", "costs": "1 000 SEK", "rate": "12.5 %", "n": {"y1": 3, "y2": 4}, "ok": true}')
    assert got == {"costs": 1000, "rate": Fraction(1, 8), "n": {"y1": 3, "y2": 4}, "ok": True}


def test_csv_with_semicolons_and_periods():
    text = "measure;period;value\ncosts;;1 000\nrate;;0.5\nn;y1;3\nn;y2;4\nok;;ja\n"
    assert load(text, "o.csv") == {"costs": 1000, "rate": Fraction(1, 2), "n": {"y1": 3, "y2": 4}, "ok": True}


def test_every_problem_is_reported_at_once():
    text = '{"costs": "5 EUR", "rate": "150 %", "n": {"y1": -1, "y9": 2}, "ok": "maybe", "cost": 1}'
    assert problems(text) == [
        "o.json:1:78: error[E503]: the contract has no measure `cost` (hint: did you mean `costs`?)",
        "o.json:1:2: error[E506]: `costs` is in EUR, the contract in SEK (hint: convert the amount to SEK"
        " before evaluating)",
        "o.json:1:20: error[E505]: `rate` is `150 %`, outside 0 % to 100 % (hint: negative counts, amounts and"
        " days are impossible; shares lie between 0 % and 100 %)",
        "o.json:1:43: error[E505]: `n for y1` is `-1`, outside 0 to ∞ (hint: negative counts, amounts and days"
        " are impossible; shares lie between 0 % and 100 %)",
        "o.json:1:53: error[E507]: `year` has no period `y9` (hint: periods: y1, y2)",
        "o.json:1:37: error[E507]: no value of `n` for period `y2` (hint: give a value for every period of"
        " `year`)",
        "o.json:1:63: error[E504]: `ok` must be yes or no, not `maybe` (hint: write true or false)",
    ]


@pytest.mark.parametrize("text, code", [
    ("", "E501"), ("{", "E501"), ("[1, 2]", "E501"), ('{"costs": NaN}', "E504"),
    ('{"costs": 1, "costs": 2}', "E508"), ('{"costs": "1,000"}', "E504"), ('{"costs": "1_000"}', "E504"), ('{"costs": "12 kronor"}', "E504"),
    ('{"costs": 1, "rate": 0.1, "ok": true}', "E502"), ('{"costs": 1, "rate": 0.1, "n": 5, "ok": true}', "E504"),
])
def test_bad_json(text, code):
    assert code in {p.split("[")[1].split("]")[0] for p in problems(text)}


def test_bad_csv():
    assert problems("name,amount\ncosts,1\n", "o.csv")[0].startswith("o.csv:1:1: error[E501]")
    assert "E508" in problems("measure,value\ncosts,1\ncosts,2\n", "o.csv")[0]


def test_unreadable_file(tmp_path):
    path = tmp_path / "o.json"
    path.write_bytes(b"\x80\x00bad")
    with pytest.raises(SibError) as info:
        load_outcomes(model(BODY), path)
    assert info.value.diagnostics[0].code == "E001"
    assert "not UTF-8" in info.value.diagnostics[0].message


def test_a_share_written_as_a_whole_percentage_gets_a_hint():
    (message,) = problems('{"costs": "1 SEK", "rate": 85, "n": {"y1": 1, "y2": 1}, "ok": true}')
    assert message.endswith('(hint: a share without `%` is a fraction of 1: write "85 %" or 0.85)')
