"""CLI conventions (ruff and mypy as the reference): one set of --format names, colour only on a
terminal (NO_COLOR, --color), -q/-v, `-` for stdin, a summary line, workbooks out, the missing
extra named, and docs/cli.md listing every command, option and exit code of each `--help`."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import click
import openpyxl
import pytest
from click.testing import CliRunner

from sibdsl.cli import main

from .conftest import ROOT

NORRKOPING = str(ROOT / "contracts" / "norrkoping.sib")
ESC = "\x1b["

CONTRACT = '''contract "Exempel"
  languages sv, en
  currency SEK
  rounding 1 SEK half up
party kommun "Kommunen": payer
party fond "Fonden": investor
measure savings: money
measure unused: count
payment p "Utfallsersättning" = 50 % of savings from kommun to fond due 2025-06-30
cap total at 1 000 000 SEK
'''


@pytest.fixture
def files(tmp_path):
    (tmp_path / "c.sib").write_text(CONTRACT, encoding="utf-8")
    (tmp_path / "o.json").write_text('{"savings": "3 000 000 kr", "unused": 1}', encoding="utf-8")
    return tmp_path


def invoke(*args, env=None, input=None):
    return CliRunner().invoke(main, list(args), catch_exceptions=False, env=env, input=input)


# ---------------------------------------------------------------- colour
def test_no_colour_when_piped_colour_with_always_and_never_with_no_color(files):
    args = ["check", str(files / "c.sib"), "--no-verify"]
    piped = invoke(*args)
    assert "warning[W401]" in piped.stderr and ESC not in piped.output
    always = invoke(*args, "--color", "always")
    assert f"{ESC}33m{ESC}1mwarning[W401]" in always.stderr  # yellow, bold
    assert f"{ESC}36m{ESC}1m= help:" in always.stderr and f"{ESC}32m" in always.stdout  # green summary
    assert invoke("--color", "always", *args).stderr == always.stderr  # on the group too
    assert ESC not in invoke(*args, "--color", "never").output
    forced = invoke(*args, env={"FORCE_COLOR": "1"})
    assert ESC in forced.stderr
    assert ESC not in invoke(*args, env={"FORCE_COLOR": "1", "NO_COLOR": "1"}).output
    # and the words are the same with and without colour
    assert re.sub(r"\x1b\[[0-9;]*m", "", always.stderr) == piped.stderr


def test_colour_on_a_real_terminal_and_none_with_no_color(files):
    pty = pytest.importorskip("pty")
    import os

    def run_on_terminal(env_extra):
        code = ("import sys; from sibdsl.cli import main; "
                f"sys.argv = ['sibc', 'check', {str(files / 'c.sib')!r}, '--no-verify']; main()")
        env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")} | env_extra
        main_fd, child_fd = pty.openpty()
        proc = subprocess.Popen([sys.executable, "-c", code], stdin=child_fd, stdout=child_fd, stderr=child_fd,
                                env=env, cwd=ROOT)
        os.close(child_fd)
        out = b""
        while True:
            try:
                chunk = os.read(main_fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        proc.wait(timeout=60)
        os.close(main_fd)
        return out.decode()

    assert ESC in run_on_terminal({})
    plain = run_on_terminal({"NO_COLOR": "1"})
    assert "warning[W401]" in plain and ESC not in plain


# ---------------------------------------------------------------- quiet, verbose, summaries
def test_quiet_leaves_out_the_summary_and_verbose_adds_timing(files):
    args = ["check", str(files / "c.sib"), "--no-verify"]
    normal = invoke(*args)
    assert normal.stdout.startswith(f"{files / 'c.sib'}: ok — 1 payment")
    quiet = invoke(*args, "-q")
    assert quiet.stdout == "" and "warning[W401]" in quiet.stderr and quiet.exit_code == 0
    loud = invoke("-v", *args)
    assert re.search(r"c\.sib: checked in \d+ ms", loud.stderr)


def test_fmt_check_ends_with_a_summary_line(files):
    formatted = files / "f.sib"
    invoke("fmt", str(files / "c.sib"))
    formatted.write_bytes((files / "c.sib").read_bytes())
    result = invoke("fmt", "--check", str(formatted), str(files / "c.sib"))
    assert result.exit_code == 0 and result.stdout == "2 files already formatted\n"
    assert invoke("fmt", "--check", "-q", str(formatted)).stdout == ""


# ---------------------------------------------------------------- format names
@pytest.mark.parametrize("old, new", [("human", "text"), ("table", "text")])
def test_earlier_format_names_still_mean_text(files, old, new):
    eval_args = ["eval", str(files / "c.sib"), "--outcomes", str(files / "o.json")]
    assert invoke(*eval_args, "--format", old).stdout == invoke(*eval_args, "--format", new).stdout
    check_args = ["check", str(files / "c.sib"), "--no-verify"]
    assert invoke(*check_args, "--format", old).output == invoke(*check_args, "--format", new).output


def test_every_command_that_prints_results_offers_text_and_json():
    ctx = click.Context(main)
    for name in ("check", "eval", "verify", "test", "diff", "simulate", "explain"):
        options = {p.name: p for p in main.get_command(ctx, name).params}
        choices = list(options["fmt"].type.choices)
        assert choices[0] == "text" and "json" in choices, (name, choices)
        if "diag_fmt" in options:
            assert list(options["diag_fmt"].type.choices) == ["text", "gnu", "json"]


# ---------------------------------------------------------------- stdin
def test_dash_reads_the_contract_or_the_outcomes_from_stdin(files):
    checked = invoke("check", "-", "--no-verify", input=CONTRACT.encode())
    assert checked.exit_code == 0 and checked.stdout.startswith("<stdin>: ok — 1 payment")
    broken = invoke("check", "-", "--format", "gnu", input=b'contract "x"\n  currency SEK\npayment p = 1 SEK from a to b\n')
    assert broken.exit_code == 1 and broken.stdout.startswith("<stdin>:")
    from_stdin = invoke("eval", str(files / "c.sib"), "--outcomes", "-", "--format", "json",
                        input=b'{"savings": "3 000 000 kr", "unused": 1}')
    assert json.loads(from_stdin.stdout)["total"] == "1000000"
    csv = invoke("eval", str(files / "c.sib"), "--outcomes", "-", "--format", "json",
                 input="measure;value\nsavings;3 000 000,00 kr\nunused;1\n".encode())
    assert json.loads(csv.stdout)["total"] == "1000000"
    contract = invoke("eval", "-", "--outcomes", str(files / "o.json"), "--format", "json", input=CONTRACT.encode())
    assert json.loads(contract.stdout)["total"] == "1000000"
    both = invoke("eval", "-", "--outcomes", "-")
    assert both.exit_code == 2


def test_standard_input_is_read_while_counting():
    """`sibc check -` stops at the read limit of a file (issue 22: /dev/zero as a contract)."""
    from sibdsl.fileio import MAX_READ_BYTES

    result = invoke("check", "-", "--no-verify", input=b" " * (MAX_READ_BYTES + 1))
    assert result.exit_code == 1
    assert "E001" in result.stderr and "larger than 20,000,000 bytes" in result.stderr


# ---------------------------------------------------------------- the contract first (cli.checked_or_exit)
BROKEN = 'contract "X"\n  currency SEK\n  rounding 1 SEK half up\npayment p = nothing from a to b\n'


def starts(files, name: str) -> dict[str, list[str]]:
    """The commands that read and check a contract before anything else, on contract `name`."""
    contract, outcomes = str(files / name), str(files / "o.json")
    return {"eval": ["eval", contract, "--outcomes", outcomes],
            "eval --as-of": ["eval", contract, "--outcomes", outcomes, "--as-of", "2025-12-31"],
            "simulate": ["simulate", contract, "--scenarios", str(files / "none.json")],
            "export": ["export", "--indigo", contract]}


def test_every_command_that_starts_from_a_contract_stops_the_same_way_on_a_bad_one(files):
    """eval, its interim form, simulate and export read and check the contract with one helper: an
    unreadable file or a contract with errors prints its diagnostics to stderr in --diagnostics'
    format, writes nothing to stdout and exits 1, before the outcomes or scenarios are looked at."""
    (files / "x.sib").write_text(BROKEN, encoding="utf-8")
    for name, code in (("missing.sib", "E001"), ("x.sib", "E201")):
        for command, args in starts(files, name).items():
            result = invoke(*args, "--diagnostics", "gnu")
            assert result.exit_code == 1, (command, result.output)
            assert result.stdout == "", command
            assert result.stderr.startswith(f"{files / name}:") and f"error[{code}]" in result.stderr, command


def test_a_contracts_warnings_are_printed_and_the_command_goes_on(files):
    for command in ("eval", "eval --as-of", "export"):
        result = invoke(*starts(files, "c.sib")[command], "--diagnostics", "gnu")
        assert result.exit_code == 0, (command, result.output)
        assert "warning[W401]" in result.stderr and result.stdout, command


def test_simulate_reads_no_contract_from_standard_input_and_export_does():
    """`-` is standard input for eval and export; simulate's FILE is a path (unchanged by the helper)."""
    assert invoke("simulate", "-", "--scenarios", "s.json", input=BROKEN.encode()).stderr.count("E001") == 1
    assert "<stdin>:4:" in invoke("export", "--indigo", "-", "--diagnostics", "gnu", input=BROKEN.encode()).stderr


# ---------------------------------------------------------------- workbooks out
def test_eval_writes_the_settlement_as_a_workbook_with_amounts_as_numbers(files):
    out = files / "settlement.xlsx"
    result = invoke("eval", str(files / "c.sib"), "--outcomes", str(files / "o.json"), "--format", "xlsx",
                    "-o", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{out}: the settlement, 1 line, total 1000000 SEK\n"
    workbook = openpyxl.load_workbook(out)
    assert workbook.sheetnames == ["Settlement", "Parties", "Audit trail"]
    sheet = workbook["Settlement"]
    assert [c.value for c in sheet[1]] == ["payment", "clause", "period", "from", "to", "due", "amount"]
    amount = sheet["G2"]
    assert amount.value == 1_000_000 and amount.data_type == "n" and amount.number_format == '#,##0 "SEK"'
    assert sheet["A3"].value == "total" and sheet["G3"].value == 1_000_000
    trail = workbook["Audit trail"]
    assert [trail.cell(row=r, column=6).value for r in (2, 3)] == [1_500_000, 1_000_000]
    assert invoke("eval", str(files / "c.sib"), "--outcomes", str(files / "o.json"), "--format", "xlsx").exit_code == 2


def test_eval_writes_the_workbook_in_swedish_with_lang_sv(tmp_path):
    """Review of issue 20: the workbook of a settlement (`sibc eval --format xlsx`, the studio's
    download) was written in English whatever the language asked for. With `--lang sv` its sheets,
    headings, clauses, the steps of the audit trail and their details are Swedish, and kronor are
    formatted as `kr`; the amounts stay numbers, the same as in English. Read back from the file."""
    contract = tmp_path / "n.sib"  # Norrköping with a lower cap, which savings of 21 MSEK reach: its trail says so
    contract.write_text(Path(NORRKOPING).read_text(encoding="utf-8").replace(
        "total at 12 000 000 SEK\n", "total at 9 000 000 SEK\n"), encoding="utf-8")
    outcomes = tmp_path / "o.json"
    outcomes.write_text(json.dumps({"actual_costs": "40 000 000 SEK", "reference_costs": "61 000 000 SEK",
                                    "school_improved": True, "completed": True}), encoding="utf-8")
    books = {}
    for lang in ("sv", "en"):
        out = tmp_path / f"{lang}.xlsx"
        result = invoke("eval", str(contract), "--outcomes", str(outcomes), "--format", "xlsx", "-o", str(out),
                        "--lang", lang)
        assert result.exit_code == 0, result.output
        books[lang] = openpyxl.load_workbook(out)
    sv, en = books["sv"], books["en"]
    assert sv.sheetnames == ["Avräkning", "Parter", "Revisionsspår"]
    assert en.sheetnames == ["Settlement", "Parties", "Audit trail"]
    lines = sv["Avräkning"]
    assert [c.value for c in lines[1]] == ["betalning", "klausul", "period", "från", "till", "förfaller", "belopp"]
    assert [c.value for c in sv["Parter"][1]] == ["part", "tar emot", "betalar"]
    assert [c.value for c in sv["Revisionsspår"][1]] == ["betalning", "period", "steg", "klausul", "före", "efter",
                                                         "detalj"]
    last = lines.max_row
    assert lines.cell(row=last, column=1).value == "summa"
    for row in range(2, last + 1):  # amounts are numbers, formatted as kronor, equal to the English ones
        cell = lines.cell(row=row, column=7)
        assert cell.data_type == "n" and cell.number_format in ('#,##0 "kr"', '#,##0.00 "kr"'), cell.number_format
        assert cell.value == en["Settlement"].cell(row=row, column=7).value
        assert en["Settlement"].cell(row=row, column=7).number_format.endswith('"SEK"')
    assert "(rad " in lines.cell(row=2, column=2).value and "(line " not in lines.cell(row=2, column=2).value
    trail = [[c.value for c in row] for row in sv["Revisionsspår"].iter_rows(min_row=2)]
    english = [[c.value for c in row] for row in en["Audit trail"].iter_rows(min_row=2)]
    assert len(trail) == len(english) and [r[4:6] for r in trail] == [r[4:6] for r in english]
    steps = {r[2] for r in trail}
    assert "beräknat" in steps and not steps & {"computed", "cap", "floor", "gate passed"}, steps
    details = " ".join(r[6] for r in trail if r[6])
    assert "summan begränsas till 9 000 000 kr" in details and "SEK" not in details, details
    for word in (" the ", "limited", "raised", "rounded", "(line "):
        assert word not in " ".join(str(c) for r in trail for c in r if c), word
    assert sv["Revisionsspår"].cell(row=2, column=6).number_format.endswith('"kr"')


def test_a_workbook_of_a_waterfall_says_the_vehicle_pays_in_both_languages(tmp_path):
    contract = str(ROOT / "contracts" / "chicago_cpc.sib")
    outcomes = str(ROOT / "contracts" / "chicago_cpc.outcomes.json")
    details = {}
    for lang, sheet, step in (("sv", "Avräkning", "vattenfall"), ("en", "Settlement", "waterfall")):
        out = tmp_path / f"{lang}.xlsx"
        assert invoke("eval", contract, "--outcomes", outcomes, "--format", "xlsx", "-o", str(out),
                      "--lang", lang).exit_code == 0
        book = openpyxl.load_workbook(out)
        rows = [[c.value for c in r] for r in book[sheet].iter_rows(min_row=2)]
        assert {(r[3], r[4]) for r in rows[:-1]} == {("city", "iff"), ("cps", "iff"), ("iff", "goldman"),
                                                     ("iff", "northern_trust")}
        assert all(r[6].endswith('"USD"') for r in [[c.number_format for c in row]
                                                    for row in book[sheet].iter_rows(min_row=2)])
        trail = [[c.value for c in r] for r in book.worksheets[2].iter_rows(min_row=2)]
        assert any(r[2] == step for r in trail)
        details[lang] = " | ".join(r[6] for r in trail if r[6])
    assert "498 800 USD förs vidare från iff" in details["sv"] and "betalas genom iff" in details["sv"]
    assert "498 800 USD paid on from iff" in details["en"] and "paid through iff" in details["en"]


def test_a_workbook_keeps_decimals_exact_and_labels_as_text(tmp_path):
    from sibdsl.xlsx import write_workbook

    write_workbook(tmp_path / "x.xlsx", [("S", [["label", "amount"], ["=HYPERLINK(\"x\")", Decimal("1234567.05")]],
                                          {"money": {1}, "currency": "SEK"})])
    sheet = openpyxl.load_workbook(tmp_path / "x.xlsx").active
    assert sheet["A2"].data_type == "s" and sheet["A2"].value == '=HYPERLINK("x")'  # never a formula
    assert sheet["B2"].number_format == '#,##0.00 "SEK"' and Decimal(repr(sheet["B2"].value)) == Decimal("1234567.05")


def test_simulate_report_as_a_workbook_and_in_swedish(tmp_path):
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"seed": 1, "measures": {
        "actual_costs": {"distribution": "normal", "mean": 60000000, "sd": 5000000, "lower": 0},
        "reference_costs": {"distribution": "constant", "value": 61000000},
        "school_improved": {"distribution": "bernoulli", "p": 0.5},
        "completed": {"distribution": "bernoulli", "p": 0.95}}}), encoding="utf-8")
    out = tmp_path / "r.xlsx"
    result = invoke("simulate", NORRKOPING, "--scenarios", str(spec), "-n", "200", "--format", "xlsx", "-o", str(out),
                    "--lang", "sv")
    assert result.exit_code == 0, result.output
    workbook = openpyxl.load_workbook(out)
    first = workbook.worksheets[0]
    assert first["A1"].value in (None, "") and first["B1"].value == "medel" and first["A2"].value == "total utbetalning"
    assert isinstance(first["B2"].value, int | float) and first["B2"].number_format.endswith('"SEK"')
    text = invoke("simulate", NORRKOPING, "--scenarios", str(spec), "-n", "200", "--lang", "sv")
    assert text.stdout.startswith("Simulering: ") and "200 scenarier, frö 1" in text.stdout
    for english in ("Simulation", "scenarios", "seed", "mean", "total payout", "Probability", "Investor",
                    "probability of a loss", "Expected cost", "95th percentile"):
        assert english not in text.stdout, english


def test_lang_words_exist_in_both_languages():
    from sibdsl.lang import WORDS

    assert set(WORDS["sv"]) == set(WORDS["en"])
    for key in WORDS["en"]:
        assert re.findall(r"\{(\w+)\}", WORDS["sv"][key]) == re.findall(r"\{(\w+)\}", WORDS["en"][key]) or \
            sorted(re.findall(r"\{(\w+)\}", WORDS["sv"][key])) == sorted(re.findall(r"\{(\w+)\}", WORDS["en"][key]))


# ---------------------------------------------------------------- extras
def test_a_command_whose_extra_is_missing_names_the_extra(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "scipy" else real(name, *a))
    result = invoke("simulate", NORRKOPING, "--scenarios", "x.json")
    assert result.exit_code == 2
    assert result.stderr == ("error[E901]: `sibc simulate` needs scipy, which this installation of sibc does not have\n"
                             "  = help: install the extra: pip install 'sibdsl[simulate]'\n")
    assert "(not installed: pip install 'sibdsl[simulate]')" in invoke("--help").stdout


def test_the_extras_are_declared_and_dev_installs_them():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    core = " ".join(project["dependencies"])
    for heavy in ("numpy", "scipy", "matplotlib", "pygls", "hypothesis", "starlette", "uvicorn", "dask"):
        assert heavy not in core
    extras = project["optional-dependencies"]
    assert {"simulate", "serve", "lsp", "testing", "dask", "dev"} <= set(extras)
    assert "sibdsl[simulate,serve,lsp,testing,ods,dask]" in extras["dev"]


def test_check_does_not_import_an_extra():
    code = ("import sys\nfrom sibdsl.cli import main\nsys.argv = ['sibc', 'check', '--no-cache', "
            f"{NORRKOPING!r}]\ntry:\n    main()\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('numpy', 'scipy', 'matplotlib', 'pygls', 'hypothesis', 'openpyxl', 'python_calamine', "
            "'starlette', 'uvicorn') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stderr


# ---------------------------------------------------------------- docs/cli.md
CLI_DOC = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
COMMON = {"--color", "-q", "--quiet", "-v", "--verbose", "-h", "--help"}


def _section(command: str) -> str:
    match = re.search(rf"^## `sibc {command}\b.*?$(.*?)(?=^## |\Z)", CLI_DOC, flags=re.MULTILINE | re.DOTALL)
    assert match, f"docs/cli.md has no section `## `sibc {command} …``"
    return match.group(1)


@pytest.mark.parametrize("command", main.list_commands(click.Context(main)))
def test_docs_cli_lists_every_option_of_each_help(command):
    help_text = invoke(command, "--help").stdout
    options = set(re.findall(r"(?<![\w-])(--?[a-zA-Z][\w-]*)", help_text.split("Options:", 1)[-1]))
    options = {o for o in options if o.startswith("--") or len(o) == 2}
    section = _section(command)
    missing = [o for o in sorted(options - COMMON) if f"`{o}" not in section and f"/ `{o}" not in section
               and f", `{o}" not in section]
    assert not missing, f"docs/cli.md, `sibc {command}`: {missing}"
    assert f"sibc {command}" in CLI_DOC.split("## Exit codes")[0]  # in the list of commands


def test_docs_cli_lists_the_common_options_and_every_exit_code():
    common = _section_named("Options of every command")
    for option in ("`--color auto`", "`-q`, `--quiet`", "`-v`, `--verbose`", "NO_COLOR"):
        assert option in common
    codes = _section_named("Exit codes")
    for code in ("| 0 |", "| 1 |", "| 2 |", "| 3 |", "sibc diff", "sibc fmt --check", "E901"):
        assert code in codes
    assert "Exit codes: 0 ok, 1" in invoke("--help").stdout


def _section_named(title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}$(.*?)(?=^## |\Z)", CLI_DOC, flags=re.MULTILINE | re.DOTALL)
    assert match, title
    return match.group(1)


def test_an_amount_a_spreadsheet_number_cannot_hold_is_written_as_exact_text(tmp_path):
    from sibdsl.xlsx import write_workbook

    big = Decimal("12345678901234567.89")
    write_workbook(tmp_path / "x.xlsx", [("S", [["amount"], [big], [Decimal("999999999999999")]],
                                          {"money": {0}, "currency": "SEK"})])
    sheet = openpyxl.load_workbook(tmp_path / "x.xlsx").active
    assert sheet["A2"].value == "12345678901234567.89" and sheet["A2"].data_type == "s"
    assert sheet["A3"].value == 999999999999999 and sheet["A3"].data_type == "n"  # 15 digits: a number


def test_test_and_verify_colour_their_verdicts_only_when_asked(tmp_path):
    scenarios = ROOT / "contracts" / "norrkoping.scenarios.csv"
    plain = invoke("test", NORRKOPING, "--lang", "en")
    coloured = invoke("test", NORRKOPING, "--lang", "en", "--color", "always")
    assert plain.exit_code == coloured.exit_code == 0 and scenarios.exists()
    assert ESC not in plain.stdout and f"{ESC}32mPASS{ESC}0m" in coloured.stdout
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured.stdout) == plain.stdout
    proved = invoke("verify", NORRKOPING, "--color", "always")
    assert f"{ESC}32mproved  {ESC}0m" in proved.stdout


@pytest.mark.parametrize("contract", sorted((ROOT / "contracts").glob("*.sib")), ids=lambda p: p.name)
def test_test_coverage_in_swedish_has_no_english_words(contract):
    from sibdsl.lang import branch_words, clause_words

    result = invoke("test", str(contract), "--coverage", "--lang", "sv")
    assert result.exit_code == 0, result.output
    body = result.stdout.replace(str(contract.with_suffix("")) + ".scenarios.csv", "").replace(str(contract), "")
    for english in ("the condition", "the floor", "the cap", "the limit", " at line ", "at or below", "between ",
                    "above ", "from ", ": then", ": else", ": below", "  gate ", "  cap ", "  floor ", "  return limit ",
                    "passed", "failed", "scenarios", "clause coverage", "reachable", " row "):
        assert english not in body, (english, body)
    assert branch_words("between 8.5 % and 10 %", "sv") == "mellan 8,5 % och 10 %"
    assert clause_words("cap ceiling “Taket”, `if` at line 12", "sv") == "tak ceiling “Taket”, `if` på rad 12"


# ---------------------------------------------------------------- issue 19 leftovers: stdin, fingerprint, languages
def test_fmt_dash_formats_standard_input_to_standard_output(files):
    messy = CONTRACT.replace("payment p \"Utfallsersättning\" = 50 % of savings from kommun to fond due 2025-06-30",
                             "payment p \"Utfallsersättning\"   =   50 % of savings from kommun to fond due 2025-06-30")
    expected = invoke("fmt", "--diff", str(files / "c.sib"))  # the file's own canonical layout, for comparison
    assert expected.exit_code == 0
    formatted = invoke("fmt", "-", input=messy.encode())
    assert formatted.exit_code == 0 and formatted.stderr == ""
    (files / "m.sib").write_text(messy, encoding="utf-8")
    assert invoke("fmt", str(files / "m.sib")).exit_code == 0
    assert formatted.stdout == (files / "m.sib").read_text(encoding="utf-8")  # what fmt FILE writes
    check = invoke("fmt", "-", "--check", input=messy.encode())
    assert check.exit_code == 1 and check.stdout.startswith("--- <stdin>") and "would be reformatted" in check.stderr
    clean = invoke("fmt", "-", "--check", input=formatted.stdout.encode())
    assert clean.exit_code == 0 and clean.stdout == "<stdin>: already formatted\n"
    broken = invoke("fmt", "-", input=b'contract (\n')
    assert broken.exit_code == 1 and broken.stdout == "" and "error[E102]" in broken.stderr
    assert invoke("fmt", "-", str(files / "c.sib")).exit_code == 2  # stdin alone


def test_render_dash_renders_standard_input_with_its_fingerprint(files):
    from sibdsl.render.view import fingerprint

    data = CONTRACT.encode()
    markdown = invoke("render", "-", input=data)
    assert markdown.exit_code == 0 and markdown.stdout.startswith("# Exempel")
    assert fingerprint(data)[:16] in markdown.stdout.replace(" ", "")
    out = files / "x.html"
    written = invoke("render", "-", "-o", str(out), input=data)
    assert written.exit_code == 0 and out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    bad = invoke("render", "-", input=b"contract (")
    assert bad.exit_code == 1 and "<stdin>:1:10" in bad.stderr


def test_fingerprint_as_json_and_of_standard_input(files):
    from sibdsl.render.view import fingerprint

    data = (files / "c.sib").read_bytes()
    result = invoke("fingerprint", str(files / "c.sib"), "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == [{"file": str(files / "c.sib"), "sha256": fingerprint(data), "bytes": len(data)}]
    piped = invoke("fingerprint", "-", input=data)
    assert piped.stdout == f"{fingerprint(data)}  -\n"
    missing = invoke("fingerprint", str(files / "c.sib"), str(files / "nope.sib"), "--format", "json",
                     "--diagnostics", "json")
    assert missing.exit_code == 1 and len(json.loads(missing.stdout)) == 1
    assert json.loads(missing.stderr)[0]["code"] == "E001"


def _spec(tmp_path):
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"seed": 1, "measures": {
        "actual_costs": {"distribution": "normal", "mean": 60000000, "sd": 5000000, "lower": 0},
        "reference_costs": {"distribution": "constant", "value": 61000000},
        "school_improved": {"distribution": "bernoulli", "p": 0.5},
        "completed": {"distribution": "bernoulli", "p": 0.95}}}), encoding="utf-8")
    return spec


def test_simulate_speaks_the_contracts_first_language_by_default_charts_included(tmp_path):
    """Norrköping is written `languages sv, en`: without --lang the table and the charts are Swedish."""
    spec = _spec(tmp_path)
    default = invoke("simulate", NORRKOPING, "--scenarios", str(spec), "-n", "200", "--chart-dir", str(tmp_path / "sv"))
    assert default.exit_code == 0, default.output
    assert default.stdout == invoke("simulate", NORRKOPING, "--scenarios", str(spec), "-n", "200", "--lang", "sv").stdout
    assert default.stdout.startswith("Simulering: ")
    charts = {p.name: p.read_text(encoding="utf-8") for p in (tmp_path / "sv").iterdir()}
    assert set(charts) == {"payout.svg", "returns.svg", "curve.svg", "budget-norrkoping.svg"}
    assert "Fördelning av den totala utbetalningen" in charts["payout.svg"]
    assert "Vad norrkoping kan behöva betala varje år" in charts["budget-norrkoping.svg"]
    assert "internränta" in charts["returns.svg"] and "Utbetalningskurva" in charts["curve.svg"]
    for svg in charts.values():
        for english in ("Distribution", "payout", "scenarios", "Histogram of", "mean total"):
            assert english not in svg.replace("payout.svg", ""), english
    english = invoke("simulate", NORRKOPING, "--scenarios", str(spec), "-n", "200", "--lang", "en",
                     "--chart-dir", str(tmp_path / "en"))
    assert english.stdout.startswith("Simulation: ")
    assert "Distribution of the total payout" in (tmp_path / "en" / "payout.svg").read_text(encoding="utf-8")


def test_chart_words_exist_in_both_languages():
    from sibdsl.charts import WORDS

    assert set(WORDS["sv"]) == set(WORDS["en"])
    for key in WORDS["en"]:
        assert sorted(re.findall(r"\{(\w+)\}", WORDS["sv"][key])) == sorted(re.findall(r"\{(\w+)\}", WORDS["en"][key]))


def test_test_speaks_the_contracts_first_language_by_default(tmp_path):
    """`sibc test` of two Swedish contracts: the closing summary is Swedish too."""
    import shutil

    for name in ("a", "b"):
        shutil.copy(ROOT / "contracts" / "norrkoping.sib", tmp_path / f"{name}.sib")
        shutil.copy(ROOT / "contracts" / "norrkoping.scenarios.csv", tmp_path / f"{name}.scenarios.csv")
    result = invoke("test", str(tmp_path / "a.sib"), str(tmp_path / "b.sib"))
    assert result.exit_code == 0, result.output
    assert "scenarier godkända i 2 avtal" in result.stdout and "passed" not in result.stdout


@pytest.mark.parametrize("command", [c for c in main.list_commands(click.Context(main)) if c != "explain"])
def test_docs_cli_says_when_each_command_exits_non_zero(command):
    """Every command's section names its own exit codes beyond the table (1, or 2 for a missing extra)."""
    section = _section(command)
    assert re.search(r"[Ee]xit[^.]{0,80}?\b[12]\b", section), command
