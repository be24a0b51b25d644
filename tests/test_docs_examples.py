"""Every example in the documentation is run: a page cannot show a contract that does not check
or output that sibc does not print.

Conventions for fenced blocks in README.md and docs/*.md (docs/diagnostics/ has its own test,
tests/test_docs_diagnostics.py). The words after the fence's language are options:

  ```sib                     a complete contract: it must check without errors
  ```sib fragment            declarations only: checked after FRAGMENT_HEADER below (parties
                             city/fund/ngo, a term, periods `year`, an investment `loan`, a cohort)
  ```sib error=E303          (with or without `fragment`) must be refused with that code
  ```sib excerpt=PATH        must appear, verbatim, in the file PATH of the repository
  ```sib file=NAME           (also json, csv) written to NAME for the page's console examples;
                             a later block with the same name replaces it, as in a tutorial
  ```python                  run from the repository root; the test_* functions it defines must pass
  ```python sketch           compiled but not run (it needs a library sibc does not install)
  ```console                 lines `$ sibc …` are run, in order, in a directory holding the files
                             of the page's file= blocks (a file defined twice has its earlier
                             text until the later block; the files of contracts/ are there too,
                             as in a checkout); the lines after each
                             command are exactly what sibc prints (stdout and stderr as they
                             interleave in a terminal), followed by `[exit N]` when N is not 0;
                             durations such as `0.31s` are shown as `0.00s`

`SIB_REGEN=1 .venv/bin/python -m pytest tests/test_docs_examples.py` rewrites the output in
console blocks (and only that); read the diff before committing.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from sibdsl import Source, check_source
from sibdsl.cli import main

from .conftest import REGEN, ROOT

FRAGMENT_HEADER = '''contract "Exempel" @en "Example"
  languages sv, en
  currency SEK
  rounding 1 SEK half up
party city "Staden": payer
party fund "Fonden": investor
party ngo "Utföraren": provider
term 2020-01-01 to 2024-12-31
periods year "År": y2021 2021-01-01 to 2021-12-31, y2022 2022-01-01 to 2022-12-31
investment loan "Lånet": 1 000 000 SEK from fund on 2020-01-01
cohort people "Deltagare": size 50
'''

PAGES = sorted([ROOT / "README.md", *(p for p in (ROOT / "docs").rglob("*.md")
                                      if "diagnostics" not in p.relative_to(ROOT / "docs").parts
                                      and p.name != "diagnostics.md")])

_FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


class Block:
    def __init__(self, page: Path, match: re.Match):
        info = match.group(1).split()
        self.page, self.lang = page, (info[0] if info else "")
        self.options = dict(word.partition("=")[::2] for word in info[1:])
        self.body = match.group(2)
        self.start, self.end = match.span(2)
        self.line = page.read_text(encoding="utf-8").count("\n", 0, match.start()) + 1

    def __repr__(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks(page: Path) -> list[Block]:
    return [Block(page, m) for m in _FENCE.finditer(page.read_text(encoding="utf-8"))]


SIB_BLOCKS = [b for page in PAGES for b in blocks(page) if b.lang == "sib"]


def test_the_reference_pages_exist():
    names = {p.relative_to(ROOT).as_posix() for p in PAGES}
    for page in ("docs/language.md", "docs/tutorial.md", "docs/outcomes.md", "docs/cli.md"):
        assert page in names



# Every construct of the grammar, as it is written; the reference must show each in a checked example.
CONSTRUCTS = [
    "contract", "id", "version", "languages", "currency", "rounding", "signed", "§", "clause", '"""', "@en",
    "party", "payer", "investor", "provider", "intermediary", "evaluator", "term", "periods", "cohort",
    "eligibility", "investment", "measure", "money", "percentage", "count", "number", "days", "date",
    "boolean", "better higher", "better lower", "between", "source", "description", "define", "baseline",
    "indexed", "payment", "from", "to", "due", "days after end", "per year", "when", "gate", "requires",
    "total above", "floor", "cap", "per participant", "return limit", "simple", "compound", "in total",
    "guarantee", "nondecreasing", "if", "then", "else", "and", "or", "not", "of", "min(", "max(", "abs(",
    "sum(", "tiers(", "below:", "interpolate(", "<=", ">=", "==", "#",
    "in proportion", "requires stable during",  # issue 15: a card's cap pro rata; a gate in a range of periods
]


def test_the_language_reference_shows_every_construct():
    shown = "\n".join(b.body for b in SIB_BLOCKS if b.page.name == "language.md" and "error" not in b.options)
    missing = [c for c in CONSTRUCTS if not re.search(rf"(?<![\w]){re.escape(c)}(?![\w])" if c[-1].isalnum()
                                                         else re.escape(c), shown)]
    assert not missing, f"docs/language.md has no checked example of: {missing}"


@pytest.mark.parametrize("block", SIB_BLOCKS, ids=repr)
def test_sib_block(block):
    if "excerpt" in block.options:
        target = ROOT / block.options["excerpt"]
        assert block.body in target.read_text(encoding="utf-8"), f"{block} is not an excerpt of {target}"
        return
    text = FRAGMENT_HEADER + block.body if "fragment" in block.options else block.body
    contract, diagnostics = check_source(Source(block.options.get("file", "example.sib"), text))
    errors = [d for d in diagnostics if d.is_error]
    expected = block.options.get("error")
    if expected:
        assert expected in {d.code for d in diagnostics}, \
            f"{block}: expected {expected}, got {[(d.code, d.message) for d in diagnostics]}"
    else:
        assert contract is not None and not errors, f"{block}: {[(d.code, d.message) for d in errors]}"


def _console_cases():
    for page in PAGES:
        page_blocks = blocks(page)
        if any(b.lang == "console" for b in page_blocks):
            yield pytest.param(page, id=page.relative_to(ROOT).as_posix())


_COMMAND = re.compile(r"^\$ (.*)$", re.MULTILINE)
_TIMES = re.compile(r"(?<![\d.])\d+\.\d\ds\b")


def _run(command: str) -> str:
    args = shlex.split(command)
    assert args[0] == "sibc", f"console examples run sibc, not {args[0]}"
    result = CliRunner().invoke(main, args[1:], prog_name="sibc", catch_exceptions=False)
    output = _TIMES.sub("0.00s", result.output)  # how long a proof took varies from run to run
    if output and not output.endswith("\n"):
        output += "\n"
    assert "Traceback" not in output and "E900" not in output
    return output + (f"[exit {result.exit_code}]\n" if result.exit_code else "")


@pytest.mark.parametrize("page", list(_console_cases()))
def test_console_examples(page, tmp_path, monkeypatch):
    for shipped in (ROOT / "contracts").glob("*.*"):  # the shipped contracts are at hand, as in a checkout
        (tmp_path / shipped.name).write_bytes(shipped.read_bytes())
    monkeypatch.chdir(tmp_path)
    text = page.read_text(encoding="utf-8")
    replacements = []
    for block in reversed(blocks(page)):  # a page may run a command before it shows the file it uses
        if "file" in block.options:
            (tmp_path / block.options["file"]).write_text(block.body, encoding="utf-8")
    for block in blocks(page):
        if "file" in block.options:
            (tmp_path / block.options["file"]).write_text(block.body, encoding="utf-8")
        if block.lang != "console":
            continue
        commands = list(_COMMAND.finditer(block.body))
        assert commands, f"{block}: a console block starts with `$ sibc …`"
        rebuilt = []
        for i, command in enumerate(commands):
            shown = block.body[command.end() + 1: commands[i + 1].start() if i + 1 < len(commands) else None]
            actual = _run(command.group(1))
            rebuilt.append(f"$ {command.group(1)}\n{actual}")
            if not REGEN:
                assert shown == actual, f"{block}: `{command.group(1)}` prints something else " \
                                        f"(SIB_REGEN=1 rewrites it)\n--- shown\n{shown}--- actual\n{actual}"
        replacements.append((block.start, block.end, "".join(rebuilt)))
    if REGEN:
        for start, end, new in reversed(replacements):
            text = text[:start] + new + text[end:]
        page.write_text(text, encoding="utf-8")


PYTHON_BLOCKS = [b for page in PAGES for b in blocks(page) if b.lang == "python"]


@pytest.mark.parametrize("block", PYTHON_BLOCKS, ids=repr)
def test_python_block(block, monkeypatch):
    """Python examples (our own documentation, not user input) run from the repository root, and
    every test function they define passes."""
    code = compile(block.body, str(block), "exec")  # every block is valid Python
    if "sketch" in block.options:  # needs a library sibc does not install (e.g. Dask): compiled only
        return
    monkeypatch.chdir(ROOT)
    namespace: dict = {"__name__": "docs_example"}
    exec(code, namespace)  # noqa: S102
    tests = [f for name, f in namespace.items() if name.startswith("test_") and callable(f)]
    for test in tests:
        test()


_LINK = re.compile(r"\]\(([^)\s]+)\)")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_links_between_pages_resolve(page):
    """Relative links (and #anchors to headings) between the pages point somewhere."""
    text = page.read_text(encoding="utf-8")
    for target in _LINK.findall(text):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        assert file.exists(), f"{page.name}: link to missing {target}"
        if anchor and file.suffix == ".md":
            headings = re.findall(r"^#+ (.+)$", file.read_text(encoding="utf-8"), flags=re.MULTILINE)
            slugs = {re.sub(r"[^\w\- ]", "", h.lower()).strip().replace(" ", "-") for h in headings}
            assert anchor in slugs, f"{page.name}: no heading for #{anchor} in {file.name}"
