"""What the extended fuzz campaign (benchmarks/fuzz_campaign.py: the library, workbook, LSP and
HTTP families) found, each pinned by a test that failed before its fix."""

from __future__ import annotations

import importlib.util
import io
import json
import subprocess
import sys
import time
import zipfile

import pytest
from click.testing import CliRunner

from sibdsl.cli import main
from sibdsl.diagnostics import SibError
from sibdsl.source import Source

from .conftest import ROOT

NORRKOPING = (ROOT / "contracts" / "norrkoping.sib").read_text(encoding="utf-8")
# a lone surrogate inside a text: the parser keeps it there (only an editor or an API can send one)
SURROGATE = NORRKOPING.replace('"Avtal', '"\ud800Avtal', 1)


@pytest.fixture(scope="module")
def fuzz():
    spec = importlib.util.spec_from_file_location("fuzz_campaign", ROOT / "benchmarks" / "fuzz_campaign.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------- a lone surrogate (library:92, http:482)
def test_fmt_refuses_a_lone_surrogate_with_e101_not_a_crash():
    from sibdsl.fmt import format_file_text

    assert "\ud800" in SURROGATE
    with pytest.raises(SibError) as caught:
        format_file_text(Source("x.sib", SURROGATE), b"")
    assert [d.code for d in caught.value.diagnostics] == ["E101"]
    assert caught.value.diagnostics[0].span is not None


@pytest.mark.parametrize("operation", ["check", "eval", "verify", "curve", "test"])
def test_the_api_answers_a_source_with_a_lone_surrogate(operation):
    """POST /v1/verify with such a source ended in HTTP 500, E900 UnicodeEncodeError (hashing the text)."""
    from sibdsl.serve import api

    ws = api.Workspace(ROOT / "contracts")
    request = {"contract": {"source": SURROGATE}, "verify": False, "outcomes": {}, "measure": "actual_costs",
               "scenarios_csv": "scenario;expect total\nx;0 kr\n", "timeout": 0.05}
    try:
        status, body = api.OPERATIONS[operation](ws, request)
    except api.ApiError as err:
        assert err.status < 500 and "E900" not in json.dumps(err.body())
        return
    assert status in (200, 422)


def test_the_api_refuses_to_render_a_lone_surrogate_with_e101():
    from sibdsl.serve import api

    with pytest.raises(api.ApiError) as caught:
        api.render(api.Workspace(ROOT / "contracts"), {"contract": {"source": SURROGATE}, "format": "md"})
    assert caught.value.status == 422 and [d["code"] for d in caught.value.diagnostics] == ["E101"]


def test_the_studio_formatter_and_a_save_refuse_a_lone_surrogate(tmp_path):
    from sibdsl.fileio import OutputError, write_atomic
    from sibdsl.serve import api, studio

    with pytest.raises(api.ApiError) as caught:
        studio._format(SURROGATE)
    assert caught.value.status == 422 and [d["code"] for d in caught.value.diagnostics] == ["E101"]
    target = tmp_path / "x.sib"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(OutputError) as refused:
        write_atomic(target, SURROGATE)
    assert refused.value.diagnostic.code == "E002" and "surrogate" in refused.value.hint
    assert target.read_text(encoding="utf-8") == "old" and [p.name for p in tmp_path.iterdir()] == ["x.sib"]


# ---------------------------------------------------------------- a damaged workbook (workbook:82)
def _damaged(data: bytes) -> bytes:
    """The workbook with one compressed member's deflate stream corrupted: the zip's directory is
    intact, so only inflating the member fails (zlib.error)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            target.writestr(info, source.read(info.filename))
    raw = bytearray(out.getvalue())
    victim = max(source.infolist(), key=lambda i: i.compress_size)  # xlsx: the theme; ods: content.xml
    with zipfile.ZipFile(io.BytesIO(bytes(raw))) as again:
        info = again.getinfo(victim.filename)
        start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for k in range(start + 2, start + min(info.compress_size, 40)):
        raw[k] ^= 0x5A
    return bytes(raw)


@pytest.mark.parametrize("suffix", [".xlsx", ".ods"])
def test_a_damaged_workbook_is_e001_not_e900(tmp_path, fuzz, suffix):
    import random

    rows = [["measure", "value"], ["actual_costs", 49_000_000], ["reference_costs", 61_000_000],
            ["school_improved", True], ["completed", True]]
    data = fuzz.xlsx_bytes(random.Random(0), rows) if suffix == ".xlsx" else fuzz.ods_bytes(rows)
    path = tmp_path / ("o" + suffix)
    path.write_bytes(_damaged(data))
    result = CliRunner().invoke(main, ["eval", str(ROOT / "contracts" / "norrkoping.sib"), "--outcomes", str(path)])
    assert result.exit_code == 1, result.output
    assert "error[E001]" in result.stderr and "E900" not in result.output


# ---------------------------------------------------------------- the language server (lsp:0 … lsp:12)
def _frame(body: bytes) -> bytes:
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def test_the_language_server_logs_no_traceback_for_messages_it_refuses(tmp_path):
    """`null`, `[]`, a response to nothing, a body that is not JSON, a position at line -1 and a
    request answered with ContentModified each made pygls log a traceback (and `null` crashed
    handle_message); now each is one line in the log, and the server goes on answering."""
    stderr = tmp_path / "stderr"
    messages = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": None, "rootUri": None,
                                                                       "capabilities": {}}},
        {"jsonrpc": "2.0", "method": "initialized", "params": {}},
        {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
            "uri": "file:///x.sib", "languageId": "sib", "version": 1, "text": NORRKOPING}}},
    ]
    raw = [b"null", b"[]", b"{", b'{"jsonrpc":"2.0","id":77}', b'\xff\xfe{}']
    hover = {"jsonrpc": "2.0", "id": 2, "method": "textDocument/hover",
             "params": {"textDocument": {"uri": "file:///x.sib"}, "position": {"line": -1, "character": 0}}}
    last = {"jsonrpc": "2.0", "id": 3, "method": "textDocument/documentSymbol",
            "params": {"textDocument": {"uri": "file:///x.sib"}}}
    payload = b"".join(_frame(json.dumps(m).encode()) for m in messages) + b"".join(_frame(r) for r in raw) + \
        _frame(json.dumps(hover).encode()) + _frame(json.dumps(last).encode())
    with open(stderr, "wb") as err:
        process = subprocess.Popen([sys.executable, "-m", "sibdsl.cli", "lsp"], cwd=ROOT, stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, stderr=err)
        process.stdin.write(payload)
        process.stdin.flush()
        answers: dict = {}
        deadline = time.monotonic() + 60
        while 3 not in answers and time.monotonic() < deadline:
            length = None
            while True:
                line = process.stdout.readline()
                if line in (b"\r\n", b"\n", b""):
                    break
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            if not length:
                break
            message = json.loads(process.stdout.read(length))
            if "id" in message and "method" not in message:
                answers[message["id"]] = message
        process.stdin.write(_frame(json.dumps({"jsonrpc": "2.0", "id": 4, "method": "shutdown"}).encode())
                            + _frame(json.dumps({"jsonrpc": "2.0", "method": "exit"}).encode()))
        process.stdin.close()
        process.wait(30)
    assert answers[2]["error"]["code"] == -32602  # line -1: invalid parameters, answered
    assert isinstance(answers[3]["result"], list) and answers[3]["result"]  # still serving the document
    log = stderr.read_text(encoding="utf-8", errors="replace")
    assert "Traceback" not in log, log[-3000:]
    assert "not a JSON-RPC object" in log and "not JSON" in log


# ---------------------------------------------------------------- an answer that echoes a lone surrogate (http:1511)
def test_an_answer_that_echoes_a_lone_surrogate_is_valid_json_in_utf8():
    """POST /v1/diff with {"old": "\\ud800"} answered HTTP 500: the 404's message names the contract,
    and Starlette could not encode it. Now it is escaped, and decodes to the name that was sent."""
    import asyncio

    from sibdsl.serve.app import create_app

    app = create_app(ROOT / "contracts")
    body = json.dumps({"old": "\ud800", "new": "norrkoping"}).encode()
    sent: list = []

    async def receive():
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/v1/diff", "raw_path": b"/v1/diff", "query_string": b"",
             "headers": [(b"host", b"127.0.0.1"), (b"content-type", b"application/json")], "http_version": "1.1",
             "scheme": "http", "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 1), "root_path": ""}
    asyncio.run(app(scope, receive, send))
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    answer = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    assert status == 404, answer
    decoded = json.loads(answer.decode("utf-8"))
    assert decoded["diagnostics"][0]["code"] == "E861" and "\ud800" in decoded["diagnostics"][0]["message"]


# ---------------------------------------------------------------- an option sent as null (http:3903)
@pytest.mark.parametrize("operation, field", [("verify", "timeout"), ("check", "verify"), ("diff", "timeout"),
                                              ("curve", "points"), ("simulate", "n")])
def test_an_option_sent_as_null_means_its_default(operation, field):
    """POST /v1/verify with {"timeout": null} reached z3 as None: HTTP 500, E900 ChildFailed."""
    from sibdsl.serve import api

    ws = api.Workspace(ROOT / "contracts")
    request = {"contract": "norrkoping", "old": "norrkoping", "new": "nyc_rikers", "measure": "actual_costs",
               "outcomes": {"actual_costs": "50 000 000 SEK", "reference_costs": "61 000 000 SEK",
                            "school_improved": True, "completed": True},
               "scenarios": {"measures": {"actual_costs": {"distribution": "constant", "value": 50_000_000},
                                          "reference_costs": {"distribution": "constant", "value": 61_000_000},
                                          "school_improved": {"distribution": "constant", "value": True},
                                          "completed": {"distribution": "constant", "value": True}}},
               field: None}
    if operation == "verify":
        request["only"] = None
    try:
        status, body = api.OPERATIONS[operation](ws, request)
    except api.ApiError as err:  # a coded refusal of something else in the request is fine; never a crash
        assert err.status < 500 and f"`{field}`" not in json.dumps(err.body()), err.body()
        return
    assert status in (200, 422), body


# ---------------------------------------------------------------- a curve over a date measure (http:5267)
def test_a_curve_over_a_date_measure_is_refused_not_a_crash():
    """POST /v1/curve with "measure": "started_on" (a date) ended in HTTP 500, E900 TypeError."""
    from sibdsl.serve import api

    source = (ROOT / "tests" / "corpus" / "valid" / "all_constructs.sib").read_text(encoding="utf-8")
    with pytest.raises(api.ApiError) as caught:
        api.curve(api.Workspace(ROOT / "contracts"), {"contract": {"source": source}, "measure": "started_on"})
    assert caught.value.status == 400 and [d["code"] for d in caught.value.diagnostics] == ["E860"]
    assert "`started_on`" not in caught.value.diagnostics[0]["hint"]  # not offered as usable either


# ---------------------------------------------------------------- a long author in a .docx (http:7714)
def test_a_word_document_of_a_contract_with_long_party_names(tmp_path):
    """Word's core properties hold 255 characters: party names longer than that together ended
    `render --format docx` in E900 (python-docx's ValueError)."""
    import docx

    names = "".join(f'party p{i} "{"Förvaltningen för utbildning och arbetsmarknad " * 2}{i}": investor\n'
                    for i in range(4))
    text = NORRKOPING.replace('party lsv ', names + 'party lsv ', 1)
    assert len(text) > len(NORRKOPING)
    (tmp_path / "c.sib").write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["render", str(tmp_path / "c.sib"), "-o", str(tmp_path / "c.docx")])
    assert result.exit_code == 0, result.output
    core = docx.Document(str(tmp_path / "c.docx")).core_properties
    assert len(core.author) == 255 and core.author.endswith("…") and core.author.startswith("Norrköpings")
