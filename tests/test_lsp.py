"""`sibc lsp`, driven over a pipe as an editor would: diagnostics, hover, definition, completion,
symbols and formatting."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from .conftest import ROOT

URI = "file:///tmp/draft.sib"
TEXT = '''contract "Utkast" currency SEK rounding 1 SEK half up
party kommun "Kommunen": payer
party fond "Fonden": investor
investment loan "Lånet": 1 000 000 SEK from fond on 2024-01-01
measure savings "Besparing": money
define half = 50 % of loan
payment outcome = min(50 % of savings, half) from kommun to fond
'''


class Client:
    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, "-m", "sibdsl.cli", "lsp"], cwd=ROOT, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.next_id = 0

    def send(self, method: str, params, request: bool = True):
        message = {"jsonrpc": "2.0", "method": method, "params": params}
        if request:
            self.next_id += 1
            message["id"] = self.next_id
        body = json.dumps(message).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()
        return self.next_id if request else None

    def receive(self) -> dict:
        length = 0
        while True:
            line = self.proc.stdout.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        return json.loads(self.proc.stdout.read(length))

    def request(self, method: str, params) -> dict:
        wanted = self.send(method, params)
        while True:
            message = self.receive()
            if message.get("id") == wanted:
                return message

    def notification(self, method: str) -> dict:
        while True:
            message = self.receive()
            if message.get("method") == method:
                return message["params"]


@pytest.fixture(scope="module")
def client():
    c = Client()
    c.request("initialize", {"processId": None, "rootUri": None, "capabilities": {}})
    c.send("initialized", {}, request=False)
    c.send("textDocument/didOpen", {"textDocument": {"uri": URI, "languageId": "sib", "version": 1, "text": TEXT}},
           request=False)
    yield c
    c.request("shutdown", None)
    c.send("exit", None, request=False)
    c.proc.wait(timeout=10)


def test_diagnostics_as_the_author_types(client):
    assert client.notification("textDocument/publishDiagnostics")["diagnostics"] == []
    broken = TEXT.replace("min(50 % of savings, half)", "min(50 % of saving, half)")
    client.send("textDocument/didChange", {"textDocument": {"uri": URI, "version": 2},
                                           "contentChanges": [{"text": broken}]}, request=False)
    (d,) = client.notification("textDocument/publishDiagnostics")["diagnostics"]
    assert d["code"] == "E201" and d["message"].startswith("no value is called `saving`")
    assert d["range"]["start"] == {"line": 6, "character": 30}
    client.send("textDocument/didChange", {"textDocument": {"uri": URI, "version": 3},
                                           "contentChanges": [{"text": TEXT}]}, request=False)
    assert client.notification("textDocument/publishDiagnostics")["diagnostics"] == []


def test_hover_shows_kind_type_and_fixed_value(client):
    result = client.request("textDocument/hover", {"textDocument": {"uri": URI}, "position": {"line": 6, "character": 41}})
    value = result["result"]["contents"]["value"]
    assert value.startswith("**define** `half`") and "type: money (SEK)" in value and "value: 500 000 SEK" in value


def test_go_to_definition(client):
    result = client.request("textDocument/definition", {"textDocument": {"uri": URI},
                                                         "position": {"line": 6, "character": 32}})
    assert result["result"]["range"]["start"] == {"line": 4, "character": 8}


def test_completion_fits_the_context(client):
    def labels(line, character):
        result = client.request("textDocument/completion", {"textDocument": {"uri": URI},
                                                             "position": {"line": line, "character": character}})
        return [item["label"] for item in result["result"]["items"]]

    at_line_start = labels(6, 0)
    assert {"payment", "guarantee", "measure", "cap"} <= set(at_line_start)
    assert not {"savings", "half", "kommun", "tiers"} & set(at_line_start)  # no names where a clause starts
    after_of = labels(6, 29)  # `min(50 % of |savings`
    assert after_of[:3] == ["half", "loan", "savings"]  # money first, sorted
    assert "kommun" not in after_of and "payment" not in after_of


def test_symbols_and_formatting(client):
    symbols = client.request("textDocument/documentSymbol", {"textDocument": {"uri": URI}})["result"]
    assert [(s["name"], s["detail"]) for s in symbols][:2] == [("kommun", "party “Kommunen”"), ("fond", "party “Fonden”")]
    assert symbols[0]["selectionRange"] == {"start": {"line": 1, "character": 6}, "end": {"line": 1, "character": 12}}
    edits = client.request("textDocument/formatting", {"textDocument": {"uri": URI},
                                                       "options": {"tabSize": 2, "insertSpaces": True}})["result"]
    (edit,) = edits
    assert edit["newText"].startswith('contract "Utkast"\n  currency SEK\n')
    assert "payment outcome = min(50 % of savings, half)\n  from kommun to fond\n" in edit["newText"]
