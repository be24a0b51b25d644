"""`sibc lsp` over stdio, as an editor drives it, with a JSON-RPC client written on subprocess pipes:
position encodings (UTF-8/16/32 on å/ä/ö and emoji), hostile messages, debouncing, error-tolerant
features, references and rename of every kind of name, quick fixes, semantic tokens, folding."""

from __future__ import annotations

import hashlib
import json
import queue
import re
import subprocess
import sys
import threading
import time

import pytest

from sibdsl import check_source
from sibdsl.source import Source

from .conftest import ROOT

URI = "file:///tmp/utkast.sib"
TIMEOUT = 60  # seconds for one answer on a loaded two-core machine

TEXT = '''contract "Utkast" currency SEK rounding 1 SEK half up
party kommun "Kommunen": payer
party fond "Fonden": investor
investment lån "Lånet": 1 000 000 SEK from fond on 2024-01-01
measure besparing "Besparing": money
define halva "äö😀" = 50 % of lån
payment utfall = min(50 % of besparing, halva) from kommun to fond
'''
LINE = 5  # `define halva "äö😀" = 50 % of lån`


class Client:
    """A language client: Content-Length framing over the server's stdin/stdout, a reader thread,
    requests matched to their answers by id, notifications kept in order."""

    def __init__(self, encodings=None, options=None, capabilities=None):
        self.proc = subprocess.Popen([sys.executable, "-m", "sibdsl.cli", "lsp"], cwd=ROOT, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.next_id = 0
        self.messages: queue.Queue = queue.Queue()
        self.notifications: list[dict] = []
        threading.Thread(target=self._read, daemon=True).start()
        caps = dict(capabilities or {})
        if encodings is not None:
            caps["general"] = {"positionEncodings": encodings}
        self.initialized = self.request("initialize", {"processId": None, "rootUri": None, "capabilities": caps,
                                                       "initializationOptions": options or {}})["result"]
        self.notify("initialized", {})

    def _read(self):
        stdout = self.proc.stdout
        while True:
            length = None
            while True:
                line = stdout.readline()
                if not line:
                    return
                if line in (b"\r\n", b"\n"):
                    break
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            self.messages.put(json.loads(stdout.read(length)))

    def write(self, body: bytes):
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def notify(self, method, params):
        self.write(json.dumps({"jsonrpc": "2.0", "method": method, "params": params}).encode())

    def _next(self, deadline) -> dict:
        try:
            return self.messages.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            raise AssertionError("the server did not answer in time") from None

    def request(self, method, params) -> dict:
        self.next_id += 1
        wanted = self.next_id
        self.write(json.dumps({"jsonrpc": "2.0", "id": wanted, "method": method, "params": params}).encode())
        deadline = time.monotonic() + TIMEOUT
        while True:
            message = self._next(deadline)
            if message.get("id") == wanted and "method" not in message:
                return message
            if "method" in message:
                self.notifications.append(message)

    def diagnostics(self, uri=URI, version=None) -> list[dict]:
        """The next diagnostics published for uri (for `version`, if given)."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            for i, message in enumerate(self.notifications):
                params = message.get("params", {})
                if message.get("method") == "textDocument/publishDiagnostics" and params.get("uri") == uri and (
                        version is None or params.get("version") == version):
                    del self.notifications[: i + 1]
                    return params["diagnostics"]
            self.notifications.append(self._next(deadline))

    def open(self, text, uri=URI, version=1) -> list[dict]:
        self.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "sib", "version": version,
                                                              "text": text}})
        return self.diagnostics(uri, version)

    def change(self, text=None, version=2, uri=URI, changes=None):
        self.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version},
                                               "contentChanges": changes if changes is not None else [{"text": text}]})

    def at(self, method, line, character, uri=URI, **extra):
        return self.request(method, {"textDocument": {"uri": uri}, "position": {"line": line, "character": character},
                                     **extra})

    def close(self):
        try:
            self.request("shutdown", None)
            self.notify("exit", None)
            self.proc.wait(timeout=10)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()


@pytest.fixture
def client_factory():
    clients = []

    def make(**kwargs):
        clients.append(Client(**kwargs))
        return clients[-1]

    yield make
    for c in clients:
        c.close()


def apply(text: str, edits: list[dict]) -> str:
    """Apply LSP text edits (UTF-32 positions: the client below negotiates utf-32 for this)."""
    lines = re.split(r"(?<=\n)", text)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(p):
        return starts[p["line"]] + p["character"] if p["line"] < len(lines) else len(text)

    for e in sorted(edits, key=lambda e: offset(e["range"]["start"]), reverse=True):
        text = text[:offset(e["range"]["start"])] + e["newText"] + text[offset(e["range"]["end"]):]
    return text


# ---------------------------------------------------------------- positions
# `define halva "äö😀" = 50 % of lånn`: `lånn` starts after 29 code points; before it, ä and ö are 2
# UTF-8 bytes and 1 UTF-16 unit each, 😀 4 bytes and 2 units; `lånn` itself is 5 bytes and 4 units.
EXPECTED = {"utf-8": (34, 39), "utf-16": (30, 34), "utf-32": (29, 33)}


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-32"])
def test_positions_in_the_negotiated_encoding(client_factory, encoding):
    client = client_factory(encodings=[encoding])
    assert client.initialized["capabilities"]["positionEncoding"] == encoding
    (d,) = client.open(TEXT.replace("of lån\n", "of lånn\n"))
    start, end = EXPECTED[encoding]
    assert d["code"] == "E201" and d["range"] == {"start": {"line": LINE, "character": start},
                                                  "end": {"line": LINE, "character": end}}
    # an incremental edit in the same units: delete the last `n` of `lånn`
    client.change(changes=[{"range": {"start": {"line": LINE, "character": end - 1},
                                      "end": {"line": LINE, "character": end}}, "text": ""}])
    assert client.diagnostics(version=2) == []
    # hover and definition on `lån` after the emoji, and the ranges they answer with
    hover = client.at("textDocument/hover", LINE, start + 1)["result"]
    assert hover["contents"]["value"].startswith("**investment** `lån` “Lånet”")
    assert hover["range"] == {"start": {"line": LINE, "character": start}, "end": {"line": LINE, "character": end - 1}}
    target = client.at("textDocument/definition", LINE, start)["result"]
    assert target["range"]["start"] == {"line": 3, "character": 11}
    # semantic tokens: `lån` is a variable (readonly), at its column and length in these units
    data = client.request("textDocument/semanticTokens/full", {"textDocument": {"uri": URI}})["result"]["data"]
    tokens, line, column = [], 0, 0
    for i in range(0, len(data), 5):
        dl, dc, length, kind, mods = data[i:i + 5]
        line, column = line + dl, (column + dc if dl == 0 else dc)
        tokens.append((line, column, length, kind, mods))
    legend = client.initialized["capabilities"]["semanticTokensProvider"]["legend"]
    named = [(c, n, legend["tokenTypes"][k]) for (ln, c, n, k, _) in tokens if ln == LINE]
    assert (start, end - 1 - start, "variable") in named
    assert (13, {"utf-8": 10, "utf-16": 6, "utf-32": 5}[encoding], "string") in named  # "äö😀"


@pytest.mark.parametrize("offered, chosen", [(["latin-1", "utf-32", "utf-8"], "utf-32"), ([], "utf-16"),
                                             (None, "utf-16")])
def test_the_first_encoding_the_client_offers_that_the_server_knows(client_factory, offered, chosen):
    client = client_factory(encodings=offered)
    assert client.initialized["capabilities"]["positionEncoding"] == chosen
    assert client.request("sibc/status", None)["result"]["encoding"] == chosen


def test_lines_end_where_the_protocol_says(client_factory):
    # CRLF line ends, a form feed and a U+2028 inside a label: the editor shows one line for each of
    # the latter; pygls' document model (str.splitlines) would have counted two.
    text = TEXT.replace("\n", "\r\n").replace('"Fonden"', '"Fon\x0cden\u2028"').replace("of lån", "of lånn")
    client = client_factory(encodings=["utf-16"])
    (d,) = client.open(text)
    assert d["range"]["start"] == {"line": LINE, "character": 30}
    # an edit at the end of a CRLF line, in UTF-16 units: `lånn` → `lån`
    client.change(changes=[{"range": {"start": {"line": LINE, "character": 33},
                                      "end": {"line": LINE, "character": 34}}, "text": ""}])
    assert client.diagnostics(version=2) == []


def test_a_lone_surrogate_gives_diagnostics(client_factory):
    client = client_factory()
    client.open(TEXT)
    # JSON may carry a lone surrogate (\ud83d without its pair); Python decodes it as one
    broken = json.dumps(TEXT.replace("Utkast", "Ut\ud83dkast")).encode()  # in a text: the contract is valid
    body = b'{"jsonrpc":"2.0","method":"textDocument/didChange","params":{"textDocument":{"uri":"%s","version":2},' \
           b'"contentChanges":[{"text":%s}]}}' % (URI.encode(), broken)
    client.write(body)
    assert client.diagnostics(version=2) == []
    client.write(body.replace(b'"version":2', b'"version":3').replace(b'Ut\\ud83dkast', b'Utkast\\" \\ud83d'))
    (d,) = client.diagnostics(version=3)
    assert d["code"].startswith("E1") and d["range"]["start"]["line"] == 0
    assert client.at("textDocument/hover", 6, 33)["result"]["contents"]["value"].startswith("**measure**")


def test_check_source_hashes_a_lone_surrogate():
    contract, diagnostics = check_source(Source("x.sib", TEXT.replace("Utkast", "Ut\ud800kast")))
    assert diagnostics == [] and contract is not None and len(contract.source_sha256) == 64


def test_every_request_is_answered(client_factory):
    client = client_factory()
    client.open(TEXT)
    answer = client.at("textDocument/hover", -1, 0)
    assert answer["error"]["code"] == -32602 and "textDocument/hover" in answer["error"]["message"]
    assert client.at("textDocument/hover", 10_000, 10_000)["result"] is None  # past the end: nothing there
    # past the end of a line means its end (the protocol's rule): just after `fond`
    assert client.at("textDocument/hover", 6, 10_000)["result"]["contents"]["value"].startswith("**party** `fond`")
    answer = client.at("textDocument/hover", 0, 0, uri="file:///not/open.sib")
    assert answer["error"]["code"] == -32803 and "not open" in answer["error"]["message"]
    assert client.at("textDocument/hover", 6, 33)["result"]["contents"]["value"].startswith("**measure**")


def test_hostile_messages_are_answered_or_refused(client_factory):
    client = client_factory()
    client.open(TEXT)
    for body in [b"{not json", b"[1, 2, 3]", b'{"jsonrpc":"2.0","method":"no/such/notification","params":{}}']:
        client.write(body)
    answer = client.request("no/such/method", {})
    assert answer["error"]["code"] == -32601
    answer = client.request("textDocument/hover", None)
    assert answer["error"]["code"] == -32602 and "HoverParams" in answer["error"]["message"]
    # a change whose range ends before it starts is refused whole, and the editor's log says so
    client.change(changes=[{"range": {"start": {"line": 9, "character": 0}, "end": {"line": 0, "character": 0}},
                            "text": "x"}, {"text": "whole"}], version=2)
    status = client.request("sibc/status", None)["result"]["documents"][URI]
    assert status == {"version": 1, "sha256": hashlib.sha256(TEXT.encode()).hexdigest()}
    logged = [m["params"]["message"] for m in client.notifications if m.get("method") == "window/logMessage"]
    assert any("ignored version 2" in m and "ends before it starts" in m for m in logged)
    assert client.at("textDocument/hover", 6, 33)["result"]["contents"]["value"].startswith("**measure**")


def test_keystrokes_are_debounced(client_factory):
    """A 400 KB document and ten keystrokes: one analysis of the last text, not ten."""
    big = TEXT + "".join(f'define d{i} "Värde {i}" = {i % 100} % of lån\n' for i in range(11_000))
    assert len(big) > 400_000
    client = client_factory(options={"debounceMs": 300})
    assert client.open(big) == []
    text = big
    for version in range(2, 12):
        text = text + f"define extra{version} = {version} %\n"
        client.change(text, version=version)
        time.sleep(0.02)
    assert client.diagnostics(version=11) == []
    published = [m["params"]["version"] for m in client.notifications if m.get("method") == "textDocument/publishDiagnostics"]
    assert published == []  # nothing was published for versions 2–10
    status = client.request("sibc/status", None)["result"]
    assert status["analyses"] <= 3 and status["documents"][URI]["version"] == 11


# ---------------------------------------------------------------- error tolerance
def test_features_keep_working_around_a_syntax_error(client_factory):
    client = client_factory(encodings=["utf-32"])
    broken = TEXT.replace("measure besparing", "measure besparing )").replace(
        "payment utfall", "define trasig = halva +\npayment utfall")
    diagnostics = client.open(broken)
    assert [d["code"] for d in diagnostics] == ["E102", "E102"]  # as `sibc check`: syntax errors only
    hover = client.at("textDocument/hover", LINE, 8)["result"]["contents"]["value"]  # `halva`'s declaration
    assert hover.startswith("**define** `halva`") and "50 % of lån" in hover
    assert hover.endswith("_the file has a syntax error: types and values are shown once it is fixed_")
    target = client.at("textDocument/definition", 7, 42)["result"]  # `halva` in the payment
    assert target["range"]["start"] == {"line": LINE, "character": 7}
    refs = client.at("textDocument/references", 3, 12, context={"includeDeclaration": True})["result"]
    assert sorted(r["range"]["start"]["line"] for r in refs) == [3, LINE]
    names = [s["name"] for s in client.request("textDocument/documentSymbol", {"textDocument": {"uri": URI}})["result"]]
    assert names == ["kommun", "fond", "lån", "halva", "utfall"]
    labels = [i["label"] for i in client.at("textDocument/completion", 7, 29)["result"]["items"]]
    assert labels[:2] == ["lån", "halva"]  # money first: `halva`'s type is unknown while the file is broken
    # rename refuses when a use may hide in the broken declaration, and says where
    assert "error" not in client.at("textDocument/rename", 3, 12, newName="lånet")
    answer = client.at("textDocument/rename", LINE, 8, newName="hälften")
    assert answer["error"]["code"] == -32803 and "syntax error (line 7)" in answer["error"]["message"]


# ---------------------------------------------------------------- names
ALL = (ROOT / "tests" / "corpus" / "valid" / "all_constructs.sib").read_text(encoding="utf-8")


def _declared(text):
    from sibdsl.lsp_analysis import analyse

    return analyse("all.sib", text).index


def test_rename_every_kind_of_name(client_factory):
    client = client_factory(encodings=["utf-32"], capabilities={"workspace": {"workspaceEdit": {"documentChanges": True}}})
    assert client.open(ALL, uri="file:///tmp/all.sib") == []
    index = _declared(ALL)
    kinds = {d.kind for d in index.declared.values()}
    assert kinds >= {"party", "periods", "period", "cohort", "investment", "measure", "definition", "baseline",
                     "payment", "gate", "floor", "cap", "return limit", "guarantee"}
    lines = ALL.split("\n")
    for name, declared in index.declared.items():
        line = ALL.count("\n", 0, declared.start)
        column = declared.start - (ALL.rfind("\n", 0, declared.start) + 1)
        answer = client.at("textDocument/rename", line, column, uri="file:///tmp/all.sib", newName=f"{name}_ny")
        (change,) = answer["result"]["documentChanges"]
        assert change["textDocument"]["version"] == 1
        renamed = apply(ALL, change["edits"])
        uses = len(index.of(name))
        assert len(change["edits"]) == uses
        # the renamed contract checks as cleanly, and the old name is gone from every declaration
        assert check_source(Source("all.sib", renamed))[1] == [], name
        code = re.sub(r'"""(?:.|\n)*?"""|"[^"\n]*"|#[^\n]*', "", renamed)
        assert not re.search(rf"(?<!\w){re.escape(name)}(?!\w)", code) or name in ("year",), name
        assert lines  # unchanged input
    refs = client.at("textDocument/references", 21, 9, uri="file:///tmp/all.sib",
                     context={"includeDeclaration": False})["result"]  # the series `year`
    assert sorted(r["range"]["start"]["line"] for r in refs) == [30, 39, 53, 69]


def test_rename_refuses_what_would_break_the_contract(client_factory):
    client = client_factory(encodings=["utf-32"])
    client.open(TEXT)
    for new, words in [("kommun", "already the name of a party"), ("payment", "reserved"), ("2x", "not a name"),
                       ("if", "reserved")]:
        answer = client.at("textDocument/rename", LINE, 8, newName=new)
        assert answer["error"]["code"] == -32803 and words in answer["error"]["message"], new
    prepared = client.at("textDocument/prepareRename", LINE, 8)["result"]
    assert prepared == {"range": {"start": {"line": LINE, "character": 7}, "end": {"line": LINE, "character": 12}},
                        "placeholder": "halva"}
    assert client.at("textDocument/prepareRename", LINE, 1)["error"]["code"] == -32803  # on a keyword


# ---------------------------------------------------------------- quick fixes
@pytest.mark.parametrize("before, after, title", [
    ("of besparing", "of bespraing", "replace `bespraing` with `besparing`"),
    ("currency SEK rounding 1 SEK", "currency SEK rounding 1 EUR", "round in SEK"),
    ('party kommun "Kommunen": payer', 'party kommun "Kommunen": payer\nterm 2026-01-01 to 2025-01-01',
     "swap the dates of the term"),
    ('"Besparing": money', '"Besparing": money better highr', "write `better higher`"),
    ('"Fonden": investor', '"Fonden": investr', "replace `investr` with `investor`"),
    ("payment utfall = min(", "payment utfall = mni(", "replace `mni` with `min`"),
    ('"Besparing": money', '"Besparing": mony', "replace `mony` with `money`"),
    ("payment utfall =", "paymnt utfall =", "replace `paymnt` with `payment`"),
])
def test_quick_fixes_apply_the_hints(client_factory, before, after, title):
    client = client_factory(encodings=["utf-32"])
    broken = TEXT.replace(before, after)
    assert broken != TEXT
    diagnostics = client.open(broken)
    assert diagnostics, after
    d = diagnostics[0]
    actions = client.request("textDocument/codeAction", {"textDocument": {"uri": URI}, "range": d["range"],
                                                          "context": {"diagnostics": [d]}})["result"]
    action = next(a for a in actions if a["title"] == title)
    assert action["kind"] == "quickfix" and action["diagnostics"][0]["code"] == d["code"]
    fixed = apply(broken, action["edit"]["changes"][URI])
    assert check_source(Source("x.sib", fixed))[1] == [] or d["code"] == "E409"
    if d["code"] == "E409":
        assert "term 2025-01-01 to 2026-01-01" in fixed


def test_quick_fix_removes_an_unused_measure(client_factory):
    client = client_factory(encodings=["utf-32"])
    text = TEXT.replace("measure besparing", 'measure oanvänd: count\nmeasure besparing')
    (d,) = client.open(text)
    assert d["code"] == "W401"
    (action,) = client.request("textDocument/codeAction", {"textDocument": {"uri": URI}, "range": d["range"],
                                                            "context": {"diagnostics": [d]}})["result"]
    assert apply(text, action["edit"]["changes"][URI]) == TEXT


def test_unclosed_text_is_closed(client_factory):
    client = client_factory(encodings=["utf-32"])
    text = TEXT.replace('"Fonden": investor', '"Fonden: investor')
    diagnostics = client.open(text)
    d = next(d for d in diagnostics if d["code"] == "E104")
    actions = client.request("textDocument/codeAction", {"textDocument": {"uri": URI}, "range": d["range"],
                                                          "context": {"diagnostics": [d]}})["result"]
    fixed = apply(text, next(a for a in actions if a["title"].startswith("close"))["edit"]["changes"][URI])
    assert '"Fonden: investor"' in fixed


# ---------------------------------------------------------------- completion, folding, highlights
def test_completion_is_sorted_and_fits_the_context(client_factory):
    client = client_factory(encodings=["utf-32"])
    text = TEXT + "measure antal: count\nguarantee g: utfall <= 10 SEK\n    \npayment p2 = 10 % of \n"
    client.open(text)

    def labels(line, character):
        return [i["label"] for i in client.at("textDocument/completion", line, character)["result"]["items"]]

    start = labels(9, 4)
    assert start[:3] == ["assume", "baseline", "cap"] and "besparing" not in start  # declaration keywords, sorted
    of = labels(10, 21)
    assert of[:2] == ["besparing", "halva"] and "antal" not in of and "kommun" not in of and "utfall" not in of
    assert labels(6, 57)[:2] == ["fond", "kommun"]  # after `from`: parties only
    assert "utfall" in labels(8, 13)  # a guarantee may name a payment


def test_folding_and_outline_of_a_real_contract(client_factory):
    client = client_factory(encodings=["utf-32"])
    client.open(ALL, uri="file:///tmp/all.sib")
    ranges = client.request("textDocument/foldingRange", {"textDocument": {"uri": "file:///tmp/all.sib"}})["result"]
    spans = {(r["startLine"], r["endLine"], r.get("kind")) for r in ranges}
    assert (0, 1, "comment") in spans  # the two comment lines at the top
    assert (2, 8, "region") in spans  # the header
    assert (21, 23, "region") in spans  # periods over three lines
    assert any(a == 10 and b >= 16 for a, b, _ in spans)  # § 1 to the end of its clause
    outline = client.request("textDocument/documentSymbol", {"textDocument": {"uri": "file:///tmp/all.sib"}})["result"]
    assert [s["name"] for s in outline][:2] == ["§ 1 Parter", "§ 2.1a Tid"]
    assert [c["name"] for c in outline[0]["children"]] == ["city", "fund", "ngo", "hub", "eval"]
    periods = next(c for c in outline[1]["children"] if c["name"] == "year")
    assert [c["name"] for c in periods["children"]] == ["y2018", "y2019"]
    highlights = client.at("textDocument/documentHighlight", 21, 9, uri="file:///tmp/all.sib")["result"]
    assert [h["kind"] for h in highlights].count(3) == 1 and len(highlights) == 5  # one write, four reads


def test_saving_proves_the_guarantees(client_factory):
    client = client_factory(encodings=["utf-32"])
    assert client.open(TEXT + "guarantee liten: utfall <= 10 SEK\n") == []
    client.notify("textDocument/didSave", {"textDocument": {"uri": URI}})
    (d,) = client.diagnostics(version=1)
    assert d["code"] == "E701" and "`liten`" in d["message"] and d["range"]["start"] == {"line": 7, "character": 0}
    client.notify("textDocument/didClose", {"textDocument": {"uri": URI}})
    assert client.diagnostics() == []  # closing clears what the editor shows


# ---------------------------------------------------------------- never drifts
def _utf16_offset(text: str, line: int, character: int) -> int:
    """The client's side, written independently of the server: lines by the protocol's breaks,
    columns by counting UTF-16 code units character by character."""
    pieces = re.split(r"(\r\n|\r|\n)", text)
    rows = ["".join(pieces[i:i + 2]) for i in range(0, len(pieces), 2)]
    if line >= len(rows):
        return len(text)
    start = sum(len(r) for r in rows[:line])
    content = re.sub(r"(\r\n|\r|\n)$", "", rows[line])
    units = 0
    for i, char in enumerate(content):
        if units >= character:
            return start + i
        units += 2 if ord(char) > 0xFFFF else 1
    return start + len(content)


def _utf16_position(text: str, offset: int) -> dict:
    before = re.split(r"\r\n|\r|\n", text[:offset])
    return {"line": len(before) - 1, "character": sum(2 if ord(c) > 0xFFFF else 1 for c in before[-1])}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_edits_and_requests_never_drift(client_factory, seed):
    """Random incremental edits (å, emoji, lone surrogates, CR, CRLF, deletions across lines) and
    random requests, some at impossible positions. Every request is answered, and the diagnostics
    published for the last version are those of `sibc check` on the text as the client has it."""
    import random

    rng = random.Random(seed)
    client = client_factory(options={"debounceMs": 0})
    text = TEXT
    client.open(text)
    pieces = ["å", "ö", "😀", "\ud800", "\r\n", "\r", "\n", " ", "x", "lån", "(", '"', "%", "besparing", "50 % of "]
    methods = ["textDocument/hover", "textDocument/definition", "textDocument/references", "textDocument/completion",
               "textDocument/documentHighlight", "textDocument/prepareRename"]
    for version in range(2, 42):
        a, b = sorted(rng.randrange(len(text) + 1) for _ in range(2))
        b = min(b, a + rng.choice([0, 0, 1, 3, 20]))
        new = "".join(rng.choice(pieces) for _ in range(rng.randrange(4)))
        start, end = _utf16_position(text, a), _utf16_position(text, b)
        # an edit never splits a "\r\n" or an emoji's surrogate pair: positions are between characters
        if _utf16_offset(text, **start) != a or _utf16_offset(text, **end) != b:
            continue
        text = text[:a] + new + text[b:]
        client.change(changes=[{"range": {"start": start, "end": end}, "text": new}], version=version)
        if rng.random() < 0.2:  # the server's text is the client's, byte for byte
            (document,) = client.request("sibc/status", None)["result"]["documents"].values()
            assert document == {"version": version, "sha256": hashlib.sha256(
                text.encode("utf-8", "surrogatepass")).hexdigest()}
        if rng.random() < 0.3:
            line, method = rng.choice([-1, 0, 3, 6, 10_000]), rng.choice(methods)
            extra = {"context": {"includeDeclaration": True}} if method.endswith("references") else {}
            answer = client.at(method, line, rng.choice([0, 5, 30, 10_000]), **extra)
            code = answer.get("error", {}).get("code")
            if line < 0:
                assert code == -32602, answer
            else:  # a changed document, or no name to rename here; never an internal error
                assert code in (None, -32801) or (code == -32803 and method.endswith("prepareRename")), answer
    final = version
    client.change(changes=[{"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
                            "text": ""}], version=final + 1)
    published = client.diagnostics(version=final + 1)
    source = Source("utkast.sib", text)
    expected = [{"code": d.code, "range": {"start": _utf16_position(text, source.offsets(d.span)[0]),
                                           "end": _utf16_position(text, source.offsets(d.span)[1])}}
                for d in check_source(source)[1] if d.span is not None]
    assert [{"code": d["code"], "range": d["range"]} for d in published] == expected


def test_highlighting_shows_a_lone_cr_as_sibc_reads_it(client_factory):
    """Issue 22 item 1: `# reviewed\\rcap total at …` — the editor shows the cap on a line of its own.
    Whatever sibc makes of the lone CR, the highlighting says the same: the cap is coloured as a
    comment exactly when the checker ignored it."""
    text = TEXT + "# granskad av juristen\rcap total at 100 000 SEK\n"
    client = client_factory(encodings=["utf-16"])
    diagnostics = client.open(text)
    contract, found = check_source(Source("utkast.sib", text))
    data = client.request("textDocument/semanticTokens/full", {"textDocument": {"uri": URI}})["result"]["data"]
    legend = client.initialized["capabilities"]["semanticTokensProvider"]["legend"]["tokenTypes"]
    line, kinds = 0, {}
    for i in range(0, len(data), 5):
        line += data[i]
        kinds.setdefault(line, []).append(legend[data[i + 3]])
    cap_line = 8  # the protocol's line after the CR
    if found:  # sibc refuses the lone CR: the editor shows that diagnostic
        assert [d["code"] for d in diagnostics] == [d.code for d in found]
    elif contract.caps:  # the cap is live: it is highlighted as code
        assert kinds[cap_line][0] == "keyword"
    else:  # the cap is part of the comment to sibc, and to the highlighting
        assert kinds[cap_line] == ["comment"]
