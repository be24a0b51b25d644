"""OpenDocument spreadsheets (.ods, LibreOffice's own format) as outcome and scenario files, read
with python-calamine into the same rows, diagnostics and Sheet!cell positions as .xlsx; without the
extra `ods`, E520 names it. The files are written here by the fuzz campaign's minimal ODS writer
(benchmarks/fuzz_campaign.py: ods_bytes), the XML LibreOffice itself writes for these cell types."""

from __future__ import annotations

import datetime
import importlib.util
import sys
from fractions import Fraction

import pytest

from sibdsl import SibError, load_outcomes
from sibdsl.diagnostics import render_gnu
from sibdsl.scenarios import load_scenarios, scenario_path

from .conftest import ROOT
from .test_data_files import CONTRACT, OUTCOMES_CONTRACT, load_contract_text


@pytest.fixture(scope="module")
def ods():
    spec = importlib.util.spec_from_file_location("fuzz_campaign", ROOT / "benchmarks" / "fuzz_campaign.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.ods_bytes


def test_an_ods_outcome_file_reads_as_the_same_xlsx_does(tmp_path, ods):
    path = tmp_path / "utfall.ods"
    path.write_bytes(ods([["measure", "value"], ["costs", 61000000.5], ["rate", 0.1],
                          ["started", datetime.date(2016, 7, 1)], ["done", True]]))
    got = load_outcomes(load_contract_text(OUTCOMES_CONTRACT), path)
    assert got == {"costs": Fraction(122_000_001, 2), "rate": Fraction(1, 10),
                   "started": datetime.date(2016, 7, 1), "done": True}


def test_ods_text_cells_read_like_csv_and_problems_name_the_cell(tmp_path, ods):
    path = tmp_path / "utfall.ods"
    path.write_bytes(ods([["measure", "value"], ["costs", "61 000 000,50 kr"], ["rate", "12,5 %"],
                          ["started", "31/12/2018"], ["done", "kanske"]], sheet="Utfall"))
    with pytest.raises(SibError) as info:
        load_outcomes(load_contract_text(OUTCOMES_CONTRACT), path)
    got = sorted(render_gnu(d).replace(str(path), "u.ods") for d in info.value.diagnostics)
    assert got == [
        "u.ods:4:9: error[E504]: Utfall!B4: `started` must be a date: `31/12/2018` could be day/month or "
        "month/day (hint: write the date as YYYY-MM-DD, e.g. 2018-12-31, or as 31 december 2018)",
        "u.ods:5:6: error[E504]: Utfall!B5: `done` must be yes or no, not `kanske` (hint: write true or false)",
    ]


def test_empty_leading_rows_and_columns_keep_the_cell_references(tmp_path, ods):
    """calamine drops an empty leading area unless asked not to: a table that starts at C3 is not
    silently moved to A1 (as in an .xlsx, the first row must name the columns), and B3 stays B3."""
    path = tmp_path / "u.ods"
    path.write_bytes(ods([[], [], ["", "", "measure", "value"], ["", "", "costs", "mycket"]], sheet="Blad1"))
    with pytest.raises(SibError) as info:
        load_outcomes(load_contract_text(OUTCOMES_CONTRACT), path)
    assert [d.message for d in info.value.diagnostics] == [
        "Blad1!1:1: the first row must name the columns `measure` and `value` (and `period` for values per period)"]
    path.write_bytes(ods([["measure", "value"], [], ["costs", "mycket"]], sheet="Blad1"))
    with pytest.raises(SibError) as info:
        load_outcomes(load_contract_text(OUTCOMES_CONTRACT), path)
    assert any(d.message.startswith("Blad1!B3: ") for d in info.value.diagnostics), info.value.diagnostics


def test_sibc_test_finds_a_scenarios_ods_beside_the_contract(tmp_path, run, ods):
    (tmp_path / "c.sib").write_text(CONTRACT, encoding="utf-8")
    (tmp_path / "c.scenarios.ods").write_bytes(ods([
        ["scenario", "description", "savings", "rate", "events[y2021]", "events[y2022]", "expect total"],
        ["Hälften", "Särskilt stöd", "1 000 000 kr", 0.125, 3, 12, 507000],
        ["Tal", "", 2000000, "12,5 %", 10, 10, "1 000 000 kr"]], sheet="Scenarier"))
    assert scenario_path(tmp_path / "c.sib").name == "c.scenarios.ods"
    result = run("test", str(tmp_path / "c.sib"))
    assert result.exit_code == 0, result.output
    assert "2 passed" in result.stdout
    scenarios = load_scenarios(load_contract_text(CONTRACT), tmp_path / "c.scenarios.ods")
    assert [s.name for s in scenarios] == ["Hälften", "Tal"]


def test_an_xlsx_beside_the_contract_wins_over_an_ods(tmp_path, ods):
    (tmp_path / "c.scenarios.ods").write_bytes(ods([["scenario"]]))
    assert scenario_path(tmp_path / "c.sib").name == "c.scenarios.ods"
    (tmp_path / "c.scenarios.xlsx").write_bytes(b"")
    assert scenario_path(tmp_path / "c.sib").name == "c.scenarios.xlsx"


@pytest.mark.parametrize("data", [b"not a zip", b"PK\x03\x04 truncated", b""])
def test_a_file_that_is_no_ods_is_e001(tmp_path, data):
    path = tmp_path / "u.ods"
    path.write_bytes(data)
    with pytest.raises(SibError) as info:
        load_outcomes(load_contract_text(OUTCOMES_CONTRACT), path)
    assert [d.code for d in info.value.diagnostics] == ["E001"]
    assert "OpenDocument" in info.value.diagnostics[0].message


def test_without_the_extra_an_ods_is_e520_naming_it(tmp_path, ods, monkeypatch, run):
    path = tmp_path / "u.ods"
    path.write_bytes(ods([["measure", "value"], ["costs", 1]]))
    monkeypatch.setitem(sys.modules, "python_calamine", None)  # what an install without the extra has
    with pytest.raises(SibError) as info:
        load_outcomes(load_contract_text(OUTCOMES_CONTRACT), path)
    (d,) = info.value.diagnostics
    assert d.code == "E520" and "python-calamine" in d.message and "pip install 'sibdsl[ods]'" in d.hint
    (tmp_path / "c.sib").write_text(OUTCOMES_CONTRACT, encoding="utf-8")
    result = run("eval", str(tmp_path / "c.sib"), "--outcomes", str(path))
    assert result.exit_code == 1 and "error[E520]" in result.stderr and "E900" not in result.output


def test_the_ods_extra_is_declared_and_in_all():
    import tomllib

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    assert any(d.startswith("python-calamine") for d in extras["ods"])
    assert "ods" in extras["all"][0] and "ods" in extras["dev"][0]
    assert "python-calamine" not in " ".join(
        tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"])
