"""Data where users keep it: Swedish and English numbers, real .xlsx workbooks (written by
openpyxl here and read back), CSV from Swedish Excel (Windows-1252, CR line ends, a runaway
quote), the settlement as a workbook."""

from __future__ import annotations

import datetime
import io
import json
import re
from decimal import Decimal
from fractions import Fraction

import openpyxl
import pytest

from sibdsl import SibError, load_outcomes
from sibdsl.diagnostics import render_gnu
from sibdsl.numbers import NumberFormatError, parse_date, parse_quantity
from sibdsl.scenarios import load_scenarios, scenario_path

from .test_scenarios import CONTRACT

OUTCOMES_CONTRACT = '''contract "Utfall"
  currency SEK
  rounding 1 SEK half up
party city "Staden": payer
party fund "Fonden": investor
measure costs: money
measure rate: percentage
measure started: date
measure done: boolean
payment p = costs * rate from city to fund when done
'''


# ---------------------------------------------------------------- one number parser
@pytest.mark.parametrize("text, number, unit", [
    ("61 000 000,50", "61000000.50", None),
    ("61,000,000.50", "61000000.50", None),
    ("61000000.5", "61000000.5", None),
    ("61\u00a0000\u00a0000,50", "61000000.50", None),   # no-break spaces, as Word and CLDR write them
    ("61\u202f000\u2009000", "61000000", None),         # narrow no-break and thin spaces
    ("−5 000", "-5000", None),                         # U+2212, the Swedish minus sign
    ("5 000 kr", "5000", "SEK"),
    ("5 000 kr.", "5000", "SEK"),
    ("50 000 000 SEK", "50000000", "SEK"),
    ("SEK 5,000.00", "5000.00", "SEK"),
    ("€ 12", "12", "EUR"),
    ("12,5 %", "12.5", "%"),
    ("12.5%", "12.5", "%"),
    ("12,5 procent", "12.5", "%"),
    ("0,125", "0.125", None),
    ("1 234.5", "1234.5", None),
])
def test_swedish_and_english_forms_read_the_same(text, number, unit):
    assert parse_quantity(text, currency="SEK") == parse_quantity(text, currency="SEK")
    got = parse_quantity(text, currency="SEK")
    assert (got.number, got.unit) == (Decimal(number), unit)
    assert str(got.number) == number  # exact digits, never a float


@pytest.mark.parametrize("text, reason, hint", [
    ("1_000", "`_` does not group digits", "1 000"),
    ("1,000", "ambiguous", "1 000 for thousands or 1.000 for decimals"),
    ("1.234,5", "groups digits with `.`", "1 234,5"),
    ("1.234.567", "more than one decimal point", "1 234 567"),
    ("1 00", "not a number in a form", "1 00"[0:0] + "100"),
    ("1e6", "not a number", "61 000 000,50"),
    ("–5", "dash", "minus sign"),
    ("0x10", "not a number", "61 000 000,50"),
])
def test_refused_forms_say_why_and_show_the_accepted_form(text, reason, hint):
    with pytest.raises(NumberFormatError) as info:
        parse_quantity(text, currency="SEK")
    assert reason in info.value.reason and hint in info.value.hint


def test_dates_in_both_languages_and_refused_ambiguous_ones():
    assert parse_date("2018-12-31") == parse_date("31 december 2018") == parse_date("31 Dec 2018") \
        == parse_date("31 dec. 2018") == parse_date("2018-12-31 00:00:00") == datetime.date(2018, 12, 31)
    with pytest.raises(NumberFormatError, match="day/month or month/day"):
        parse_date("12/11/2018")


def test_kronor_in_a_sek_contract_and_the_decimal_comma_in_outcomes():
    contract = load_contract_text(OUTCOMES_CONTRACT)
    got = load_outcomes(contract, text='{"costs": "50 000 000 kr", "rate": "12,5 %", "started": '
                        '"1 juli 2016", "done": "ja"}', name="o.json")
    assert got == {"costs": 50_000_000, "rate": Fraction(1, 8), "started": datetime.date(2016, 7, 1), "done": True}
    got = load_outcomes(contract, text="measure;value\ncosts;61 000 000,50\nrate;12,5 %\nstarted;2016-07-01\n"
                        "done;ja\n", name="o.csv")
    assert got["costs"] == Fraction(122_000_001, 2)


def test_underscores_are_refused_in_outcome_files():
    with pytest.raises(SibError) as info:
        load_outcomes(load_contract_text(OUTCOMES_CONTRACT), text='{"costs": "1_000", "rate": 0, "started": '
                      '"2016-07-01", "done": true}', name="o.json")
    (d,) = info.value.diagnostics
    assert d.code == "E504" and "write" not in d.message and d.hint == "group digits with spaces: 1 000"


def load_contract_text(text: str):
    from sibdsl import Source, check_source

    contract, diagnostics = check_source(Source("c.sib", text))
    assert contract is not None, diagnostics
    return contract


# ---------------------------------------------------------------- .xlsx in
def _workbook(path, rows, title="Utfall"):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = title
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def test_an_xlsx_outcome_file_with_number_date_and_yes_no_cells(tmp_path):
    path = _workbook(tmp_path / "utfall.xlsx", [
        ["measure", "value"], ["costs", 61000000.5], ["rate", 0.1],
        ["started", datetime.datetime(2016, 7, 1)], ["done", True]])
    got = load_outcomes(load_contract_text(OUTCOMES_CONTRACT), path)
    # 0.1 is the double nearest 0.1 in the file; read as the 0.1 Excel shows, exactly
    assert got == {"costs": Fraction(122_000_001, 2), "rate": Fraction(1, 10),
                   "started": datetime.date(2016, 7, 1), "done": True}


def test_xlsx_text_cells_read_like_csv_and_problems_name_the_cell(tmp_path):
    path = _workbook(tmp_path / "utfall.xlsx", [
        ["measure", "value"], ["costs", "1,000"], ["rate", "12,5 %"], ["started", "31/12/2018"],
        ["done", "kanske"]])
    with pytest.raises(SibError) as info:
        load_outcomes(load_contract_text(OUTCOMES_CONTRACT), path)
    got = sorted(render_gnu(d).replace(str(path), "u.xlsx") for d in info.value.diagnostics)
    assert got == [
        "u.xlsx:2:7: error[E504]: Utfall!B2: `costs`: `1,000` is ambiguous: thousands in English, a decimal "
        "in Swedish (hint: write 1 000 for thousands or 1.000 for decimals)",
        "u.xlsx:4:9: error[E504]: Utfall!B4: `started` must be a date: `31/12/2018` could be day/month or "
        "month/day (hint: write the date as YYYY-MM-DD, e.g. 2018-12-31, or as 31 december 2018)",
        "u.xlsx:5:6: error[E504]: Utfall!B5: `done` must be yes or no, not `kanske` (hint: write true or false)",
    ]


def test_a_cell_with_more_digits_than_a_spreadsheet_keeps_is_refused(tmp_path):
    path = _workbook(tmp_path / "u.xlsx", [["measure", "value"], ["costs", 1 / 3]])
    with pytest.raises(SibError) as info:
        load_outcomes(load_contract_text(OUTCOMES_CONTRACT), path)
    (d,) = info.value.diagnostics
    assert d.code == "E501" and d.message.startswith("Utfall!B2: the cell holds 0.3333333333333333")


def test_a_damaged_workbook_is_a_coded_error(tmp_path):
    path = tmp_path / "u.xlsx"
    path.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(SibError) as info:
        load_outcomes(load_contract_text(OUTCOMES_CONTRACT), path)
    assert [d.code for d in info.value.diagnostics] == ["E001"]


def test_sibc_test_finds_a_scenarios_xlsx_beside_the_contract(tmp_path, run):
    (tmp_path / "c.sib").write_text(CONTRACT, encoding="utf-8")
    _workbook(tmp_path / "c.scenarios.xlsx", [
        ["scenario", "description", "savings", "rate", "events[y2021]", "events[y2022]", "expect total"],
        ["Hälften", "Särskilt stöd", "1 000 000 kr", 0.125, 3, 12, 507000],
        ["Tal", "", 2000000, "12,5 %", 10, 10, "1 000 000 kr"]], title="Scenarier")
    assert scenario_path(tmp_path / "c.sib").name == "c.scenarios.xlsx"
    result = run("test", str(tmp_path / "c.sib"))
    assert result.exit_code == 0, result.output
    assert "2 passed" in result.stdout


def test_a_scenarios_xlsx_problem_names_sheet_and_cell(tmp_path, run):
    (tmp_path / "c.sib").write_text(CONTRACT, encoding="utf-8")
    _workbook(tmp_path / "c.scenarios.xlsx", [
        ["scenario", "savings", "rate", "events[y2021]", "events[y2022]", "expect total"],
        ["A", "5 EUR", 0.125, 3, 12, "tusen"]], title="Mina scenarier")
    result = run("test", str(tmp_path / "c.sib"), "--diagnostics", "gnu")
    assert result.exit_code == 1
    assert "error[E506]: 'Mina scenarier'!B2: `savings` is in EUR, the contract in SEK" in result.stderr
    assert "error[E833]: 'Mina scenarier'!F2: `tusen` is not an amount" in result.stderr
    assert "E900" not in result.output


# ---------------------------------------------------------------- CSV as Excel writes it
def test_windows_1252_csv_is_read_with_a_warning_naming_the_encoding(tmp_path):
    path = tmp_path / "s.csv"
    path.write_bytes("scenario;description;savings;rate;events[y2021];events[y2022];expect total\r\n"
                     "Hälften;Särskilt stöd – åtgärd;1 000 000 kr;12,5 %;3;12;507 000 kr\r\n".encode("cp1252"))
    warnings = []
    (scenario,) = load_scenarios(load_contract_text(CONTRACT), path, warnings=warnings)
    assert (scenario.name, scenario.description) == ("Hälften", "Särskilt stöd – åtgärd")  # never mojibake
    (w,) = warnings
    assert w.code == "W501" and "read as Windows-1252" in w.message and "0xE4 on line 2" in w.hint


def test_utf8_is_never_guessed_as_anything_else(tmp_path):
    path = tmp_path / "s.csv"
    path.write_bytes("\ufeffscenario;description;savings;rate;events[y2021];events[y2022];expect total\n"
                     "Hälften;Särskilt stöd;1 000 000 kr;12,5 %;3;12;507 000 kr\n".encode("utf-8"))
    warnings = []
    (scenario,) = load_scenarios(load_contract_text(CONTRACT), path, warnings=warnings)
    assert scenario.description == "Särskilt stöd" and warnings == []


def test_latin1_outcomes_through_eval_warn_and_settle(tmp_path, run):
    (tmp_path / "c.sib").write_text(OUTCOMES_CONTRACT, encoding="utf-8")
    (tmp_path / "p.csv").write_bytes("measure;value\ncosts;1 000 kr\nrate;10 %\nstarted;1 juli 2016\n"
                                     "done;ja\n\"note\";\"för\"\n".encode("cp1252"))
    result = run("eval", str(tmp_path / "c.sib"), "--outcomes", str(tmp_path / "p.csv"), "--diagnostics", "gnu")
    assert "warning[W501]: the outcome file is not UTF-8; it was read as Windows-1252" in result.stderr
    assert "error[E503]: the contract has no measure `note`" in result.stderr  # and the rest was read


def test_cr_only_line_ends_from_old_mac_excel_are_line_breaks(tmp_path, run):
    (tmp_path / "c.sib").write_text(OUTCOMES_CONTRACT, encoding="utf-8")
    (tmp_path / "o.csv").write_bytes(b"measure;value\rcosts;1 000 kr\rrate;10 %\rstarted;2016-07-01\rdone;ja\r")
    result = run("eval", str(tmp_path / "c.sib"), "--outcomes", str(tmp_path / "o.csv"), "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["total"] == "100"


@pytest.mark.parametrize("command", ["eval", "test"])
def test_a_runaway_quote_is_a_coded_error_not_e900(tmp_path, run, command):
    (tmp_path / "c.sib").write_text(CONTRACT if command == "test" else OUTCOMES_CONTRACT, encoding="utf-8")
    body = 'x' * 140_000
    if command == "eval":
        (tmp_path / "o.csv").write_text(f'measure;value\ncosts;"1 000 kr\nrate;{body}\n', encoding="utf-8")
        result = run("eval", str(tmp_path / "c.sib"), "--outcomes", str(tmp_path / "o.csv"), "--diagnostics", "gnu")
        code = "E501"
    else:
        (tmp_path / "c.scenarios.csv").write_text(f'scenario;savings\nA;"1\nB;{body}\n', encoding="utf-8")
        result = run("test", str(tmp_path / "c.sib"), "--diagnostics", "gnu")
        code = "E831"
    assert result.exit_code == 1
    assert ":2:" in result.stderr and f"error[{code}]: a cell starting on line 2 is longer than 131,072" \
        in result.stderr
    assert "E900" not in result.output


def test_a_workbook_under_a_csv_name_is_refused_with_the_fix(tmp_path):
    buffer = io.BytesIO()
    wb = openpyxl.Workbook()
    wb.save(buffer)
    path = tmp_path / "o.csv"
    path.write_bytes(buffer.getvalue())
    with pytest.raises(SibError) as info:
        load_outcomes(load_contract_text(OUTCOMES_CONTRACT), path)
    (d,) = info.value.diagnostics
    assert d.code == "E001" and ".xlsx" in d.hint


# ---------------------------------------------------------------- numbers in a contract
CONTRACT_HEAD = ('contract "x"\n  currency SEK\n  rounding 1 SEK half up\nparty a "A": payer\n'
                 'party b "B": investor\nmeasure s: money\n')


def test_no_break_and_thin_spaces_from_word_read_as_spaces_in_a_contract():
    from sibdsl import Source, check_source

    plain, _ = check_source(Source("c.sib", CONTRACT_HEAD + "payment p = min(s, 5 000 000 SEK) from a to b\n"))
    for space in ("\u00a0", "\u202f", "\u2009"):
        text = CONTRACT_HEAD + f"payment p = min(s,{space}5{space}000{space}000{space}SEK) from a to b\n"
        contract, diagnostics = check_source(Source("c.sib", text))
        assert contract is not None and not [d for d in diagnostics if d.is_error], diagnostics
        assert contract.payments["p"] == plain.payments["p"]


def test_a_decimal_comma_in_a_contract_gets_a_precise_hint():
    from sibdsl import Source, check_source

    _, diagnostics = check_source(Source("c.sib", CONTRACT_HEAD + "payment p = 12,5 % of s from a to b\n"))
    (d,) = diagnostics
    assert (d.code, d.span.line, d.span.column) == ("E102", 7, 15)
    assert d.hint == "write decimals with a point: `12.5`; in a contract a comma separates arguments, as in `max(a, b)`"
    _, diagnostics = check_source(Source("c.sib", CONTRACT_HEAD + "define d = 1 000,5 SEK\n"))
    assert diagnostics[0].hint.startswith("write decimals with a point: `1 000.5`")
    # inside an argument list `min(s, 1 000,5 SEK)` is three arguments: why a contract cannot take
    # the decimal comma (an outcome file can: a cell holds one value)


def test_an_opendocument_file_without_a_sheet_is_refused_with_the_fix(tmp_path):
    """.ods files are read (tests/test_ods.py); one with no content is E001 with the way out."""
    import zipfile

    path = tmp_path / "utfall.ods"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet\x00\xff")
    with pytest.raises(SibError) as info:
        load_outcomes(load_contract_text(OUTCOMES_CONTRACT), path)
    (d,) = info.value.diagnostics
    assert d.code == "E001" and "OpenDocument" in d.message and ".xlsx" in d.hint


def test_a_settlement_workbook_to_stdout(tmp_path, run):
    (tmp_path / "c.sib").write_text(OUTCOMES_CONTRACT, encoding="utf-8")
    (tmp_path / "o.csv").write_text("measure;value\ncosts;1 000 kr\nrate;10 %\nstarted;2016-07-01\ndone;ja\n",
                                    encoding="utf-8")
    result = run("eval", str(tmp_path / "c.sib"), "--outcomes", str(tmp_path / "o.csv"), "--format", "xlsx",
                 "-o", "-")
    assert result.exit_code == 0
    sheet = openpyxl.load_workbook(io.BytesIO(result.stdout_bytes))["Settlement"]
    assert sheet["G2"].value == 100 and sheet["G2"].number_format == '#,##0 "SEK"'


def test_a_missing_scenario_file_is_a_coded_error(tmp_path, run):
    (tmp_path / "c.sib").write_text(CONTRACT, encoding="utf-8")
    result = run("test", str(tmp_path / "c.sib"), "--diagnostics", "gnu")
    assert result.exit_code == 1
    assert result.stderr == (f"{tmp_path / 'c.scenarios.csv'}: error[E001]: cannot read {tmp_path / 'c.scenarios.csv'}: "
                             "it does not exist (hint: write the scenarios in c.scenarios.xlsx or c.scenarios.csv beside "
                             "the contract, or name the file with --scenarios)\n")


# ---------------------------------------------------------------- the parser against CLDR's own formatting
from hypothesis import given, settings
from hypothesis import strategies as st


@settings(max_examples=300, deadline=None)
@given(st.decimals(min_value=-10**12, max_value=10**12, places=2, allow_nan=False, allow_infinity=False),
       st.sampled_from(["sv_SE", "en_GB"]), st.booleans())
def test_what_babel_writes_the_parser_reads(value, locale, whole):
    """Every number Babel formats for sv_SE or en_GB reads back exactly — except an English
    number with one group and no decimals (1,234), which is refused as ambiguous, with a hint
    that gives both readings."""
    from babel.numbers import format_decimal

    if whole:
        value = value.to_integral_value()
    text = format_decimal(value, format="#,##0.##" if not whole else "#,##0", locale=locale)
    if locale == "en_GB" and re.fullmatch(r"[-−]?[1-9]\d{0,2},\d{3}", text):
        with pytest.raises(NumberFormatError, match="ambiguous") as info:
            parse_quantity(text)
        assert "for thousands or" in info.value.hint
        return
    assert parse_quantity(text).number == value.normalize() or parse_quantity(text).number == value


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789 ,.-_%krSEK\u00a0\u2212e", max_size=14))
def test_any_text_is_a_number_or_a_reason_never_a_crash(text):
    try:
        quantity = parse_quantity(text, currency="SEK")
    except NumberFormatError as err:
        assert err.reason and err.hint
    else:
        assert quantity.number.is_finite()


def test_a_value_beyond_the_headed_columns_of_a_scenario_sheet_names_its_cell(tmp_path):
    path = _workbook(tmp_path / "s.xlsx", [
        ["scenario", "savings", "rate", "events[y2021]", "events[y2022]", "expect total"],
        ["A", "1 000 000 kr", 0.125, 3, 12, 507000, "glömd anteckning"]], title="Blad1")
    with pytest.raises(SibError) as info:
        load_scenarios(load_contract_text(CONTRACT), path)
    (d,) = info.value.diagnostics
    assert d.code == "E831" and d.message == "Blad1!G2: row 2 has a value beyond the last column with a heading"


@pytest.mark.parametrize("declared", [True, False], ids=["dimension declared", "dimension removed"])
def test_a_sparse_workbook_reaching_the_last_cell_is_refused_quickly(tmp_path, declared):
    import time
    import zipfile

    path = _workbook(tmp_path / "far.xlsx", [["measure", "value"], ["costs", "1 000 kr"]])
    wb = openpyxl.load_workbook(path)
    wb.active["XFD1048576"] = "x"
    wb.save(path)
    if not declared:  # a file that does not say how far it reaches: the reading itself must be bounded
        data = {i.filename: zipfile.ZipFile(path).read(i.filename) for i in zipfile.ZipFile(path).infolist()}
        sheet = "xl/worksheets/sheet1.xml"
        data[sheet] = re.sub(rb"<dimension ref=\"[^\"]*\"\s*/>", b"", data[sheet])
        assert b"<dimension" not in data[sheet]
        with zipfile.ZipFile(path, "w") as z:
            for name, content in data.items():
                z.writestr(name, content)
    started = time.perf_counter()
    with pytest.raises(SibError) as info:
        load_outcomes(load_contract_text(OUTCOMES_CONTRACT), path)
    assert time.perf_counter() - started < 20  # 127 s before the bounds (a cell at XFD1048576)
    (d,) = info.value.diagnostics
    assert d.code == "E501" and ("XFD1048576" in d.message if declared else "100,000 rows" in d.message)


def test_a_zip_bomb_named_xlsx_is_refused_before_it_is_unpacked(tmp_path):
    import zipfile

    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        with z.open("xl/sharedStrings.xml", "w", force_zip64=True) as member:  # streamed: 1 MB in memory
            for _ in range(210):
                member.write(b"a" * (1024 * 1024))
    assert path.stat().st_size < 1024 * 1024
    with pytest.raises(SibError) as info:
        load_outcomes(load_contract_text(OUTCOMES_CONTRACT), path)
    (d,) = info.value.diagnostics
    assert d.code == "E501" and "unpacks to 220,200," in d.message
