"""The diagnostic pages: one per registered code, each with a working example, and the index.

Each page docs/diagnostics/<CODE>.md has the title `# <CODE>: <title>`, the severity, and the
sections What, Why, Example (except E900) and Fix. The Example section holds a contract in a
```sib block (and, for outcome-file codes, an outcome file in a ```json or ```csv block; another
data file, such as the file of what was paid, in a block ```json file=NAME), the
command in a line "`sibc …` reports:", and the output in a ```text block. This test writes the
files to a temporary directory as example.sib / outcomes.json / outcomes.csv, runs the command
there (a second contract for `sibc diff`, E761–E778, in a block ```sib file=NAME), and checks that
it produces the page's code and exactly the output shown — what a user
sees in a terminal (stderr and stdout as they interleave; for `check`, the diagnostics on stderr
come first and the summary line on stdout last).

When messages change on purpose, `SIB_REGEN=1 .venv/bin/pytest tests/test_docs_diagnostics.py`
rewrites the ```text blocks of the pages (and only those); review the diff before committing.
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from sibdsl.cli import main
from sibdsl.codes import CODES

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "diagnostics"
INDEX = ROOT / "docs" / "diagnostics.md"
REGEN = os.environ.get("SIB_REGEN") == "1"

# E900: a bug in sibc, no input should produce it; E112: an example would be a thousand rows long
# (tests/corpus/broken/E112_huge_table.sib is its example)
# E741: sibc fmt's own safety check; no contract should produce it
# W501: needs a file that is not UTF-8, and the examples are written as UTF-8 (tests/test_data_files.py)
# E901: needs an installation without an extra (tests/test_cli_conventions.py)
# E860–E866: answers to HTTP requests; tests/test_serve_api.py produces each over a running server
# E520: needs an installation without the extra `ods` (tests/test_ods.py)
# E920: needs a scheduler that does not answer, which takes the connect timeout (tests/test_cluster.py)
# E557: no longer produced (issue 14: interim settlements of contracts with waterfalls); its page says so
NO_EXAMPLE = {"E900", "E112", "E741", "W501", "E901", "E860", "E861", "E862", "E863", "E864", "E865", "E866",
              "E520", "E920", "E557"}
# E867: an answer to HTTP requests whose example is two requests and an answer, not a command:
# tests/test_serve_jobs.py sends the page's requests to a running server and compares the answer
HTTP_EXAMPLE = {"E867"}

_BLOCK = re.compile(r"^```(\w+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
# a data file with its own name (issue 15: the file of what was paid, `--paid paid.json`)
_NAMED = re.compile(r"^```(\w+) file=(\S+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
_COMMAND = re.compile(r"^`(sibc [^`]+)` reports:\n```text\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def _page(code: str) -> str:
    return (DOCS / f"{code}.md").read_text(encoding="utf-8")


def _sections(text: str) -> dict[str, str]:
    parts = re.split(r"^## (.+)$", text, flags=re.MULTILINE)
    return {title.strip(): body for title, body in zip(parts[1::2], parts[2::2])}


@pytest.mark.parametrize("code", sorted(CODES))
def test_page_shape(code):
    path = DOCS / f"{code}.md"
    assert path.exists(), f"no page {path.relative_to(ROOT)}"
    text = _page(code)
    entry = CODES[code]
    assert text.splitlines()[0] == f"# {code}: {entry.title}"
    assert f"\n**Severity:** {entry.severity.value}\n" in text
    sections = _sections(text)
    for name in ("What", "Why", "Fix"):
        assert sections.get(name, "").strip(), f"{code}: no `## {name}` section"
    if code in NO_EXAMPLE:
        assert "Example" not in sections
    else:
        assert list(sections) == ["What", "Why", "Example", "Fix"], f"{code}: sections {list(sections)}"


@pytest.mark.parametrize("code", sorted(set(CODES) - NO_EXAMPLE - HTTP_EXAMPLE))
def test_page_example_produces_its_code(code, tmp_path, monkeypatch):
    path = DOCS / f"{code}.md"
    text = _page(code)
    example = _sections(text)["Example"]
    blocks = {lang: body for lang, body in _BLOCK.findall(example) if lang in ("sib", "json", "csv")}
    if "sib" in blocks:
        (tmp_path / "example.sib").write_text(blocks["sib"], encoding="utf-8")
    for ext in ("json", "csv"):
        if ext in blocks:
            name = "example.scenarios.csv" if code.startswith("E83") else f"outcomes.{ext}"
            if code.startswith("E57"):  # INDIGO interchange: the dataset's pricings table
                name = "original_projects_outcome_pricings.csv"
            (tmp_path / name).write_text(blocks[ext], encoding="utf-8")
    for _, name, body in _NAMED.findall(example):
        (tmp_path / name).write_text(body, encoding="utf-8")
    match = _COMMAND.search(example)
    assert match, f"{code}: the example needs a line \"`sibc …` reports:\" followed by a ```text block"
    command, shown = match.group(1), match.group(2)
    args = shlex.split(command)[1:]
    if code.startswith("E74"):
        assert args[0] == "fmt" and "sib" in blocks
    elif code.startswith("E83"):
        assert args[0] == "test" and "csv" in blocks, f"{code}: run the scenarios of example.sib"
    elif code.startswith("E57"):
        assert args[0] == "new" and "--from-indigo" in args and "csv" in blocks, f"{code}: draft from INDIGO rows"
    elif code.startswith(("E58", "E59")) and code != "E582":  # issue 15: the checker's (gates and caps in a range of periods; two-dimensional periods), not an outcome file's
        assert args[0] == "check" and "sib" in blocks, f"{code}: check example.sib"
    elif code.startswith(("E5", "E6", "W55")) or code in ("E473", "E476", "E478"):  # issue 17: settling a contract (E582: a cell's value, issue 15)
        assert args[0] == "eval" and ("json" in blocks or "csv" in blocks), f"{code}: evaluate an outcome file"
    elif "E801" <= code <= "E829":
        assert args[0] == "simulate" and "json" in blocks, f"{code}: simulate with a scenario file"
    elif "E761" <= code <= "E778" or code in ("W582", "W586"):  # issue 17: comparing two drafts, the second in a block ```sib file=NAME
        assert args[0] == "diff" and len(args) >= 3 and "sib" in blocks and (tmp_path / args[2]).exists(), \
            f"{code}: compare example.sib with a second draft"
    elif code in ("W720", "W721", "E477"):  # a council document's warning: render to a file, so only the diagnostics print
        assert args[0] == "render" and "sib" in blocks
    elif code not in ("E001", "E002") and not code.startswith("E74"):  # E002: a command that writes
        assert args[0] == "check" and "sib" in blocks

    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    # result.output: stdout and stderr interleaved as in a terminal (click >= 8.2)
    actual = result.output.rstrip("\n") + "\n"
    found = set(re.findall(r"\b(?:error|warning)\[([EW]\d{3})\]", actual))
    assert code in found, f"{code}: the example produces {sorted(found) or 'nothing'}"
    assert found <= {code}, f"{code}: the example should produce only {code}, not {sorted(found - {code})}"
    # a draft sibc diff cannot compare exits 2, like one with errors
    # W582 and W586 come with drafts that pay differently: sibc diff's exit status 1 (docs/cli.md)
    assert result.exit_code == (0 if code.startswith("W") and code not in ("W582", "W586") else 2 if "E761" <= code <= "E778" else 1)

    if REGEN:
        start, end = match.span(2)
        index = text.index(example)
        new = text[: index + start] + actual + text[index + end :]
        path.write_text(new, encoding="utf-8")
    else:
        assert shown == actual, f"{code}: the output shown differs (SIB_REGEN=1 rewrites it)"


def test_index_lists_every_code():
    index = INDEX.read_text(encoding="utf-8")
    headings = re.findall(r"^## (\S+): (.+)$", index, flags=re.MULTILINE)
    assert [code for code, _ in headings] == list(CODES), "one section per code, in registry order"
    for code, title in headings:
        assert title == CODES[code].title
        assert f"(diagnostics/{code}.md)" in index, f"no link to diagnostics/{code}.md"
        assert (DOCS / f"{code}.md").exists()


@pytest.mark.parametrize("code", ["E201", "e303", "W401", "E900"])
def test_explain_prints_the_page(code, monkeypatch):
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(main, ["explain", code], catch_exceptions=False)
    assert result.exit_code == 0
    assert result.stdout == _page(code.upper()) + "\n"


def test_explain_unknown_code_is_a_usage_error(monkeypatch):
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(main, ["explain", "E999"], catch_exceptions=False)
    assert result.exit_code == 2
    assert "no diagnostic code 'E999'" in result.stderr
