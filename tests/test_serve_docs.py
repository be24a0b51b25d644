"""Every request on docs/api.md is sent to a running `sibc serve contracts/` and its answer must
contain what the page shows.

A ```http block (a request line, headers, a blank line, a JSON body) is followed by a
```json status=N block: the answer's status must be N, and its JSON must contain the block's: an
object's keys shown must be there with values that contain the shown ones (keys left out are not
compared), a list must have the shown length with each item containing the shown item, anything
else must be equal."""

from __future__ import annotations

import itertools
import json
import re

import pytest

from .conftest import ROOT
from .test_serve_api import Server, served_copy

PAGE = ROOT / "docs" / "api.md"
_FENCE = re.compile(r"^```(\w+)([^\n]*)\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


def examples() -> list[tuple[int, str, str, int, str]]:
    text = PAGE.read_text(encoding="utf-8")
    found = list(_FENCE.finditer(text))
    pairs = []
    for block, answer in itertools.pairwise(found):
        if block.group(1) != "http":
            continue
        assert answer.group(1) == "json" and "status=" in answer.group(2), \
            f"docs/api.md:{text.count(chr(10), 0, block.start()) + 1}: a request needs a ```json status=N answer"
        status = int(answer.group(2).split("status=")[1].split()[0])
        pairs.append((text.count("\n", 0, block.start()) + 1, block.group(3), answer.group(3), status))
    return pairs


EXAMPLES = examples()


def contains(actual, shown, where="answer") -> None:
    if isinstance(shown, dict):
        assert isinstance(actual, dict), f"{where}: {actual!r} is not an object"
        for key, value in shown.items():
            assert key in actual, f"{where}: no `{key}` in {sorted(actual)}"
            contains(actual[key], value, f"{where}.{key}")
    elif isinstance(shown, list):
        assert isinstance(actual, list) and len(actual) == len(shown), f"{where}: {actual!r} vs {shown!r}"
        for i, (a, s) in enumerate(zip(actual, shown)):
            contains(a, s, f"{where}[{i}]")
    else:
        assert actual == shown, f"{where}: {actual!r}, the page shows {shown!r}"


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return served_copy(tmp_path_factory)


@pytest.fixture(scope="module")
def server(folder):
    s = Server(folder)
    yield s
    s.stop()


def test_the_page_has_examples():
    assert len(EXAMPLES) >= 8
    assert {"/v1/eval", "/v1/check", "/v1/curve", "/v1/test", "/v1/verify", "/v1/diff"} <= {
        request.split()[1] for _line, request, _answer, _status in EXAMPLES}


@pytest.mark.parametrize("line, request_text, answer, status", EXAMPLES, ids=[f"api.md:{e[0]}" for e in EXAMPLES])
def test_example(server, line, request_text, answer, status):
    head, _, body = request_text.partition("\n\n")
    method, path = head.splitlines()[0].split()
    headers = dict(h.split(": ", 1) for h in head.splitlines()[1:])
    got, _headers, data = server.request(method, path, raw=body.encode("utf-8") if body.strip() else None,
                                         headers=headers)
    result = json.loads(data)
    assert got == status, result
    contains(result, json.loads(answer))


# ---------------------------------------------------------------- the shell and Python examples
# docs/api.md's ```sh test and ```python test blocks are run as written (the port changed to the
# test server's) in a folder holding the workbooks the page describes; a ```json output block
# after one is compared with what it prints, and a `# → FILE` line names the file it must save.
# A Python block is also marked `sketch`, so that tests/test_docs_examples.py, which runs every
# Python block of the docs from the repository root, only compiles it: it needs the server here.
WORKBOOKS = {
    "utfall.xlsx": [["measure", "value"], ["actual_costs", 49_000_000], ["reference_costs", "61 000 000 SEK"],
                    ["school_improved", True], ["completed", "ja"]],
    "fel.xlsx": [["measure", "value"], ["actual_costs", "lots"], ["reference_costs", "61 000 000 SEK"],
                 ["school_improved", True], ["completed", "ja"]],
}


def run_examples() -> list[tuple[int, str, str, str | None]]:
    text = PAGE.read_text(encoding="utf-8")
    found = list(_FENCE.finditer(text)) + [None]
    out = []
    for block, after in itertools.pairwise(found):
        options = block.group(2).split()
        if block.group(1) in ("sh", "python") and "test" in options and \
                (block.group(1) == "sh" or "sketch" in options):
            output = after.group(3) if after is not None and after.group(1) == "json" \
                and after.group(2).split() == ["output"] else None
            out.append((text.count("\n", 0, block.start()) + 1, block.group(1), block.group(3), output))
    return out


RUN_EXAMPLES = run_examples()


def test_the_page_shows_the_workbooks_the_examples_use():
    import openpyxl  # noqa: F401 - the examples' workbooks are written with it

    text = PAGE.read_text(encoding="utf-8")
    for i, (measure, value) in enumerate(WORKBOOKS["utfall.xlsx"], start=1):
        shown = {True: "TRUE"}.get(value, value)
        assert f"| {i} | {measure} | {shown} |" in text, f"docs/api.md does not show row {i} of utfall.xlsx"
    assert len(RUN_EXAMPLES) >= 4 and {kind for _l, kind, _c, _o in RUN_EXAMPLES} == {"sh", "python"}


@pytest.mark.parametrize("line, kind, code, output", RUN_EXAMPLES,
                         ids=[f"api.md:{e[0]}" for e in RUN_EXAMPLES])
def test_run_example(server, tmp_path, line, kind, code, output):
    import io
    import subprocess
    import sys

    import docx
    import openpyxl

    for name, rows in WORKBOOKS.items():
        book = openpyxl.Workbook()
        book.active.title = "Utfall"
        for row in rows:
            book.active.append(row)
        book.save(tmp_path / name)
    code = code.replace("127.0.0.1:8321", f"127.0.0.1:{server.port}")
    command = ["bash", "-euo", "pipefail", "-c", code] if kind == "sh" else [sys.executable, "-c", code]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"docs/api.md:{line}: {done.stderr}{done.stdout}"
    if output is not None:
        contains(json.loads(done.stdout), json.loads(output))
    saved = re.findall(r"# → (\S+)", code)
    if kind == "python":
        saved = re.findall(r'open\("([^"]+)", "wb"\)', code)
    for name in saved:
        data = (tmp_path / name).read_bytes()
        if name.endswith(".xlsx"):
            rows = list(openpyxl.load_workbook(io.BytesIO(data))["Settlement"].iter_rows(values_only=True))
            assert rows[-1][0] == "total" and rows[-1][6] == 11_000_000
        else:
            assert "Norrköping" in docx.Document(io.BytesIO(data)).paragraphs[0].text
    assert saved or output is not None, f"docs/api.md:{line}: the example shows neither an answer nor a file"
