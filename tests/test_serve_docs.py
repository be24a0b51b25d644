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
