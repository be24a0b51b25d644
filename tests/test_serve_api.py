"""`sibc serve`: a real server (uvicorn in a subprocess on a free loopback port) called over HTTP.

Every operation, every refusal (E860–E866 with its HTTP status), the limits, the security headers
and the OpenAPI description are checked against what the running server answers."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from sibdsl.serve import api

from .conftest import ROOT

CONTRACTS = ROOT / "contracts"
NORRKOPING_OUTCOMES = {"actual_costs": "49 000 000 SEK", "reference_costs": "61 000 000 SEK",
                       "school_improved": True, "completed": True}


SPEC = {  # docs/simulate.md's distributions for Norrköping
    "seed": 2016,
    "measures": {
        "actual_costs": {"distribution": "normal", "mean": 50000000, "sd": 10000000, "lower": 0},
        "reference_costs": {"distribution": "uniform", "low": 58000000, "high": 64000000},
        "school_improved": {"distribution": "bernoulli", "p": 0.6},
        "completed": {"distribution": "bernoulli", "p": 0.95},
    },
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`sibc serve|studio FOLDER …` as a subprocess; stopped (by its own pid) when the test ends."""

    def __init__(self, folder: Path, *args: str, command: str = "serve", env: dict | None = None):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        extra = ["--no-browser"] if command == "studio" else []
        if "--budget" not in args:  # the default 20 s of wall time: a proof or a diff outlasts it on a loaded
            extra += ["--budget", "600"]  # machine, and a test's answer must not depend on the load
        self.process = subprocess.Popen(
            [sys.executable, "-m", "sibdsl.cli", command, str(folder), "--port", str(self.port), *extra, *args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, **(env or {})})
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    break
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError(f"the server did not start: {self.process.stdout.read()}") from None
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("the server did not start within 30 s") from None
                time.sleep(0.05)

    def request(self, method: str, path: str, body=None, headers: dict | None = None,
                raw: bytes | None = None) -> tuple[int, dict, bytes]:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        hdrs = {"Content-Type": "application/json"} if data is not None else {}
        hdrs.update(headers or {})
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(req, timeout=120) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as err:
            return err.code, dict(err.headers), err.read()

    def post(self, path: str, body=None, **kwargs) -> tuple[int, dict]:
        status, _headers, data = self.request("POST", path, body, **kwargs)
        return status, json.loads(data)

    def get(self, path: str, **kwargs) -> tuple[int, dict]:
        status, _headers, data = self.request("GET", path, **kwargs)
        return status, json.loads(data)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def served_copy(tmp_path_factory) -> Path:
    """A copy of contracts/ to serve: tests may change or add files in it."""
    target = tmp_path_factory.mktemp("served")
    for path in CONTRACTS.glob("*"):
        if path.is_file():
            shutil.copy(path, target / path.name)
    return target


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return served_copy(tmp_path_factory)


@pytest.fixture(scope="module")
def server(folder):
    s = Server(folder)
    yield s
    s.stop()


def codes(body: dict) -> list[str]:
    return [d["code"] for d in body["diagnostics"]]


# ---------------------------------------------------------------- the operations
def test_eval_by_name_settles_like_the_cli(server, folder):
    status, body = server.post("/v1/eval", {"contract": "norrkoping", "outcomes": NORRKOPING_OUTCOMES})
    assert status == 200 and body["ok"]
    s = body["settlement"]
    # baseline 61 MSEK · 60/61 = 60 MSEK, savings 11 MSEK: 4 MSEK guarantee + min(6.6, 6) MSEK + bonus min(1, 2) MSEK
    assert s["total"] == "11000000"
    assert {ln["payment"]: ln["amount"] for ln in s["lines"]} == {"activity": "4000000", "outcome": "6000000",
                                                                   "bonus": "1000000"}
    assert all(ln["steps"] and ln["clause"]["line"] for ln in s["lines"])  # the audit trail
    assert body["version"] == api.fingerprint((folder / "norrkoping.sib").read_text(encoding="utf-8"))
    # the same JSON as `sibc eval --format json` for the contract's own outcome file
    published = json.loads((folder / "norrkoping.outcomes.json").read_text(encoding="utf-8"))
    status, body = server.post("/v1/eval", {"contract": "norrkoping", "outcomes": published})
    expected = json.loads((CONTRACTS / "norrkoping.settlement.json").read_text(encoding="utf-8"))
    assert status == 200 and body["settlement"] == expected


def test_eval_csv_outcomes_and_an_explanation(server):
    csv = "measure,value\nbed_day_reduction,0 %\n"
    status, body = server.post("/v1/eval", {"contract": "nyc_rikers", "outcomes_csv": csv, "explain": "en"})
    assert status == 200, body
    published = json.loads((CONTRACTS / "nyc_rikers.settlement.json").read_text(encoding="utf-8"))
    assert body["settlement"]["total"] == published["total"] == "6000000"  # the same as the outcome .json
    assert "In total USD 6,000,000 is paid." in body["explanation"]


def test_eval_words_the_audit_trail_in_the_requested_language(server, folder):
    # issue 20: the studio in Swedish shows what each gate, rounding and waterfall step did in Swedish,
    # in the interim settlement's words (sibdsl/texts/interim.json); English stays the evaluator's text
    failed = {**NORRKOPING_OUTCOMES, "actual_costs": "49 000 000,5 SEK", "school_improved": False}

    def details(body: dict, key: str = "settlement") -> list[tuple[str, str, str]]:
        return [(ln["payment"], st["kind"], st["detail"]) for ln in body[key]["lines"] for st in ln["steps"]
                if st["detail"]]

    answers = {}
    for lang in (None, "en", "sv"):
        status, body = server.post("/v1/eval", {"contract": "norrkoping", "outcomes": failed,
                                                **({"lang": lang} if lang else {})})
        assert status == 200, body
        answers[lang] = body
    assert answers[None] == answers["en"]  # `lang: en` and no `lang` answer the same, byte for byte
    assert details(answers["en"]) == [("bonus", "computed", "exact 999999.500000, rounded half up"),
                                      ("bonus", "gate failed", "the part above 10 000 000 SEK is not paid")]
    assert details(answers["sv"]) == [("bonus", "computed", "exakt 999 999,5, avrundat hälften uppåt"),
                                      ("bonus", "gate failed", "det som överstiger 10 000 000 kr betalas inte")]
    # only the words differ: the amounts, the steps and their clauses are the same
    english, swedish = answers["en"]["settlement"], answers["sv"]["settlement"]
    for ln in (*english["lines"], *swedish["lines"]):
        for st in ln["steps"]:
            st["detail"] = None
    assert english == swedish
    # Chicago's waterfall: each step said in Swedish; English as the published settlement
    published = json.loads((folder / "chicago_cpc.outcomes.json").read_text(encoding="utf-8"))
    status, body = server.post("/v1/eval", {"contract": "chicago_cpc", "outcomes": published, "lang": "en"})
    expected = json.loads((CONTRACTS / "chicago_cpc.settlement.json").read_text(encoding="utf-8"))
    assert status == 200 and body["settlement"] == expected
    status, body = server.post("/v1/eval", {"contract": "chicago_cpc", "outcomes": published, "lang": "sv"})
    assert status == 200
    words = [detail for _, kind, detail in details(body) if kind == "waterfall"]
    assert words and all(w.startswith("vattenfallet repayment, steg 1") for w in words)
    assert "498 800 USD förs vidare från iff" in words[0] and "betalas genom iff" in words[1]
    # an interim settlement (`as_of`) words its trail the same way
    status, body = server.post("/v1/eval", {"contract": "norrkoping", "outcomes": failed, "lang": "sv",
                                            "paid": {"lines": []}})
    assert status == 200, body
    assert ("bonus", "gate failed", "det som överstiger 10 000 000 kr betalas inte") in details(body, "interim")
    # a language the words are not written in is a bad request, coded like any other
    status, body = server.post("/v1/eval", {"contract": "norrkoping", "outcomes": failed, "lang": "de"})
    assert status == 400 and codes(body)


def test_eval_of_a_draft_sent_as_text(server, folder):
    text = (folder / "norrkoping.sib").read_text(encoding="utf-8").replace("12 000 000 SEK", "10 500 000 SEK")
    status, body = server.post("/v1/eval", {"contract": {"source": text}, "outcomes": NORRKOPING_OUTCOMES})
    assert status == 200 and body["settlement"]["total"] == "10500000"
    assert body["contract"] == "<source>"


def test_check_reports_the_cli_diagnostics_with_200(server, folder):
    text = (folder / "norrkoping.sib").read_text(encoding="utf-8").replace("min(60 % of savings", "min(60 % of savingz")
    status, body = server.post("/v1/check", {"contract": {"source": text, "name": "draft"}, "verify": False})
    assert status == 200 and body["ok"] is False
    [d] = body["diagnostics"]
    from sibdsl import Source, check_source
    from sibdsl.diagnostics import to_json

    _, expected = check_source(Source("draft.sib", text))
    assert d == to_json(expected[0])  # exactly `sibc check --format json`'s object
    assert d["code"] == "E201" and d["span"]["line"] > 1 and "savings" in d["hint"]


def test_check_describes_the_measures_for_a_form_and_proves(server):
    status, body = server.post("/v1/check", {"contract": "peterborough"})
    assert status == 200 and body["ok"] and body["proved"] > 0
    measures = {m["name"]: m for m in body["summary"]["measures"]}
    assert measures["pilot_events"]["kind"] == "count"
    assert measures["pilot_events"]["periods"] == ["cohort_1", "cohort_2"]


def test_verify_test_diff_render_simulate_curve(server, folder):
    status, body = server.post("/v1/verify", {"contract": "norrkoping", "timeout": 5})
    assert status == 200 and body["ok"] and {p["verdict"] for p in body["properties"]} == {"proved"}

    status, body = server.post("/v1/test", {"contract": "norrkoping"})
    assert status == 200 and body["ok"] and body["passed"] >= 1 and body["failed"] == 0
    bad = ("scenario;actual_costs;reference_costs;school_improved;completed;expect total\n"
           "wrong;62 000 000 kr;61 000 000 kr;ja;ja;5 000 000 kr\n")
    status, body = server.post("/v1/test", {"contract": "norrkoping", "scenarios_csv": bad})
    assert status == 200 and not body["ok"] and body["failed"] == 1, body
    assert body["scenarios"][0]["explanation"], "a failure is explained step by step"

    variant = (folder / "norrkoping.sib").read_text(encoding="utf-8").replace("12 000 000 SEK", "11 000 000 SEK")
    status, body = server.post("/v1/diff", {"old": "norrkoping", "new": {"source": variant}})
    assert status == 200 and not body["same_meaning"]
    # each change worded in both languages, from texts/diff.json as `sibc diff --lang` words it (issue 20)
    assert [(c["kind"], c["what"], c["words"]) for c in body["changes"]] == [
        ("changed", "cap ceiling", {"sv": "ändrad: tak ceiling", "en": "changed cap ceiling"}),
        ("changed", "guarantee never_above_cap", {"sv": "ändrad: utfästelse never_above_cap",
                                                  "en": "changed guarantee never_above_cap"})]
    total = next(line for line in body["money"]["lines"] if line["line"] == "total")
    # the lower cap takes up to 1 000 000 SEK, proved the largest; it never pays more
    assert total["differs"] is True and total["largest_increase"] is None
    assert total["largest_decrease"]["amount"] == "-1000000" and total["largest_decrease"]["status"] == "exact"
    dollars = (folder / "norrkoping.sib").read_text(encoding="utf-8").replace("SEK", "USD")
    status, body = server.post("/v1/diff", {"old": "norrkoping", "new": {"source": dollars}})
    assert status == 422 and [d["code"] for d in body["diagnostics"]] == ["E761"]  # issue 17: not comparable

    status, headers, data = server.request("POST", "/v1/render", {"contract": "norrkoping", "lang": "en"})
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert "sandbox" in headers["content-security-policy"] and b"Norrk" in data
    status, headers, data = server.request("POST", "/v1/render", {"contract": "norrkoping", "format": "pdf"})
    assert status == 200 and data.startswith(b"%PDF") and "attachment" in headers["content-disposition"]

    status, body = server.post("/v1/simulate", {"contract": "norrkoping", "scenarios": SPEC, "n": 2000})
    assert status == 200, body
    report = body["report"]
    assert report["scenarios"] == 2000 and "total" in report

    status, body = server.post("/v1/curve", {"contract": "norrkoping", "outcomes": NORRKOPING_OUTCOMES,
                                             "measure": "actual_costs", "points": 5, "from": "0", "to": "100000000"})
    assert status == 200
    assert [p["x"] for p in body["points"]] == ["0", "25000000", "50000000", "75000000", "100000000"]
    assert body["points"][2]["total"] == "10000000" and body["points"][-1]["total"] == "4000000"


# ---------------------------------------------------------------- refusals, each with its code and status
@pytest.mark.parametrize("request_body, status, code", [
    ({"contract": "norrkopping", "outcomes": {}}, 404, "E861"),
    ({"contract": "../contracts/norrkoping", "outcomes": {}}, 404, "E861"),
    ({"contract": "/etc/passwd", "outcomes": {}}, 404, "E861"),
    ({"contract": "norrkoping.sib", "outcomes": {}}, 404, "E861"),
    ({"contract": "norrkoping"}, 400, "E860"),
    ({"contract": 7, "outcomes": {}}, 400, "E860"),
    ({"contract": {"name": "norrkoping", "path": "/etc"}, "outcomes": {}}, 400, "E860"),
    ({"contract": {"name": "norrkoping", "version": "0" * 64}, "outcomes": {}}, 409, "E865"),
    ({"contract": "norrkoping", "outcomes": {"actual_costs": "many"}}, 422, "E504"),
    ({"contract": {"source": "contract oops"}, "outcomes": {}}, 422, "E102"),
])
def test_bad_requests_get_coded_diagnostics(server, request_body, status, code):
    got, body = server.post("/v1/eval", request_body)
    assert got == status and body["ok"] is False
    assert code in codes(body), body
    for d in body["diagnostics"]:
        assert set(d) >= {"code", "severity", "message", "file", "span", "hint"}


@pytest.mark.parametrize("vary", [["actual_costs"], {"a": 1}, "no_such_measure", 7])
def test_render_refuses_a_bad_vary(server, vary):
    status, body = server.post("/v1/render", {"contract": "norrkoping", "vary": vary})
    assert status == 400 and codes(body) == ["E860"]


def test_unknown_name_suggests_the_closest(server):
    _, body = server.post("/v1/eval", {"contract": "norrkopin", "outcomes": {}})
    assert "norrkoping" in body["diagnostics"][0]["hint"]


def test_malformed_bodies(server):
    status, _h, data = server.request("POST", "/v1/eval", raw=b"{not json")
    assert status == 400 and codes(json.loads(data)) == ["E860"]
    status, _h, data = server.request("POST", "/v1/eval", raw=b"[1, 2]")
    assert status == 400 and codes(json.loads(data)) == ["E860"]
    deep = b"[" * 100_000 + b"]" * 100_000
    status, _h, data = server.request("POST", "/v1/eval", raw=deep)
    assert status == 400 and "nested" in json.loads(data)["diagnostics"][0]["message"]
    status, _h, data = server.request("POST", "/v1/eval", raw=b"{}", headers={"Content-Type": "text/plain"})
    assert status == 415 and codes(json.loads(data)) == ["E860"]
    status, body = server.get("/v1/eval")
    assert status == 405 and codes(body) == ["E860"]
    status, body = server.get("/v1/nothing-here")
    assert status == 404 and codes(body) == ["E860"]


def test_request_size_limit(server):
    """A body announced larger than the limit is refused before it is read (413, E862)."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    conn.putrequest("POST", "/v1/check")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Content-Length", str(api.MAX_REQUEST_BYTES + 1))
    conn.endheaders()
    conn.send(b'{"contract": "')
    response = conn.getresponse()
    assert response.status == 413 and codes(json.loads(response.read())) == ["E862"]
    conn.close()


def test_chunked_body_over_the_limit_is_refused(server):
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    chunk = b" " * 1_000_000
    conn.request("POST", "/v1/check", body=iter([chunk] * (api.MAX_REQUEST_BYTES // len(chunk) + 2)),
                 headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
                 encode_chunked=True)
    response = conn.getresponse()
    assert response.status == 413 and codes(json.loads(response.read())) == ["E862"]
    conn.close()


def test_host_and_origin_are_checked(server):
    status, body = server.post("/v1/check", {"contract": "norrkoping"}, headers={"Host": "attacker.example"})
    assert status == 403 and codes(body) == ["E863"]
    status, body = server.post("/v1/check", {"contract": "norrkoping"},
                               headers={"Origin": "http://attacker.example"})
    assert status == 403 and codes(body) == ["E863"]
    status, body = server.post("/v1/check", {"contract": "norrkoping", "verify": False},
                               headers={"Origin": server.base})
    assert status == 200


def test_security_headers_on_every_response(server):
    for method, path, body in [("GET", "/v1/health", None), ("POST", "/v1/eval", {}), ("GET", "/nowhere", None)]:
        _status, headers, _data = server.request(method, path, body)
        lowered = {k.lower(): v for k, v in headers.items()}
        assert "default-src 'none'" in lowered["content-security-policy"]
        assert lowered["x-content-type-options"] == "nosniff"
        assert "server" not in lowered


def test_concurrent_settlements_are_each_right(server):
    """Many callers at once share one compiled contract: each gets the settlement of its own outcomes."""
    from concurrent.futures import ThreadPoolExecutor

    costs = [f"{n} 000 000 SEK" for n in range(40, 66)]

    def settle(cost: str) -> str:
        status, body = server.post("/v1/eval", {"contract": "norrkoping",
                                                "outcomes": {**NORRKOPING_OUTCOMES, "actual_costs": cost}})
        assert status == 200
        return body["settlement"]["total"]

    serial = [settle(c) for c in costs]
    with ThreadPoolExecutor(8) as pool:
        for _ in range(3):
            assert list(pool.map(settle, costs)) == serial
    assert len(set(serial)) > 3


def test_the_index_names_the_operations(server):
    status, body = server.get("/v1/")
    assert status == 200 and body["openapi"] == "/v1/openapi.json"
    assert {f"/v1/{name}" for name in api.OPERATIONS} | {"/v1/render"} == set(body["operations"])


def test_access_log(folder):
    s = Server(folder, "--access-log")
    try:
        s.get("/v1/health")
    finally:
        s.stop()
    log = s.process.stdout.read()
    assert '"GET /v1/health HTTP/1.1" 200' in log


def test_explain_and_contracts(server):
    status, body = server.get("/v1/explain/e201")
    assert status == 200 and body["code"] == "E201" and body["page"].startswith("# E201")
    status, body = server.get("/v1/explain/E999")
    assert status == 404 and codes(body) == ["E860"]
    status, body = server.get("/v1/contracts")
    assert {"norrkoping", "peterborough", "nyc_rikers"} <= {c["name"] for c in body["contracts"]}


def test_openapi_describes_every_route(server):
    status, doc = server.get("/v1/openapi.json")
    assert status == 200 and doc["openapi"].startswith("3.1")
    described = set(doc["paths"])
    assert {f"/v1/{name}" for name in api.OPERATIONS} | {"/v1/render"} <= described
    for path, item in doc["paths"].items():
        method = next(iter(item))
        probe = path.replace("{code}", "E201")
        got, _h, _d = server.request(method.upper(), probe, {} if method == "post" else None)
        assert got != 404 or path == "/v1/explain/{code}", f"{path} is described but does not answer"


# ---------------------------------------------------------------- time budget, tokens, remote binds
def test_time_budget_stops_a_simulation(folder):
    s = Server(folder, "--budget", "0.2")
    try:
        started = time.monotonic()
        status, body = s.post("/v1/simulate", {"contract": "norrkoping", "scenarios": SPEC, "n": api.MAX_SIMULATE_N})
        assert status == 503 and codes(body) == ["E864"], body
        assert time.monotonic() - started < 15
        status, _ = s.post("/v1/check", {"contract": "norrkoping", "verify": False})
        assert status == 200  # the server goes on serving
    finally:
        s.stop()


def test_token_is_required_when_set(folder, tmp_path):
    token = "t0ken-for-tests-0123456789"
    s = Server(folder, env={"SIBC_TOKEN": token})
    try:
        status, body = s.post("/v1/check", {"contract": "norrkoping", "verify": False})
        assert status == 401 and codes(body) == ["E863"]
        status, body = s.post("/v1/check", {"contract": "norrkoping", "verify": False},
                              headers={"Authorization": "Bearer wrong-token-000000000"})
        assert status == 401 and codes(body) == ["E863"]
        status, body = s.post("/v1/check", {"contract": "norrkoping", "verify": False},
                              headers={"Authorization": f"Bearer {token}"})
        assert status == 200 and body["ok"]
        assert s.get("/v1/openapi.json")[0] == 200  # the description holds nothing of the user's
    finally:
        s.stop()


def test_no_source_serves_only_named_contracts(folder):
    s = Server(folder, "--no-source")
    try:
        status, body = s.post("/v1/check", {"contract": {"source": "contract \"x\""}})
        assert status == 403 and codes(body) == ["E863"]
        assert s.post("/v1/check", {"contract": "norrkoping", "verify": False})[0] == 200
    finally:
        s.stop()


def test_non_loopback_bind_needs_a_flag_and_a_token(folder, tmp_path):
    def run(*args, env=None):
        return subprocess.run([sys.executable, "-m", "sibdsl.cli", "serve", str(folder), "--port", "0", *args],
                              check=False, capture_output=True, text=True, timeout=60, env={**os.environ, **(env or {})})

    result = run("--host", "0.0.0.0")
    assert result.returncode == 2 and "--allow-remote" in result.stderr
    result = run("--host", "0.0.0.0", "--allow-remote", env={"SIBC_TOKEN": ""})
    assert result.returncode == 2 and "access token" in result.stderr
    short = tmp_path / "token"
    short.write_text("short\n")
    result = run("--host", "0.0.0.0", "--allow-remote", "--token-file", str(short))
    assert result.returncode == 2 and "16 characters" in result.stderr


def test_listening_socket_says_it_is_tcp():
    """asyncio disables Nagle's algorithm only on sockets whose proto is TCP; with proto 0 every
    keep-alive response waited for a delayed ACK (~40 ms: 22 requests/s, benchmarks/serve.py)."""
    import socket as sockets

    from sibdsl.serve.cli import _listen

    sock = _listen("127.0.0.1", 0)
    try:
        assert sock.proto == sockets.IPPROTO_TCP
    finally:
        sock.close()


def test_studio_falls_back_to_a_free_port(folder):
    """The studio's usual port taken (by another studio): it starts on a free one and says which."""
    import re
    import socket as sockets

    from sibdsl.serve.cli import STUDIO_PORT

    blocker = sockets.socket()
    try:
        blocker.bind(("127.0.0.1", STUDIO_PORT))
        blocker.listen(1)
    except OSError:
        pass  # something on this machine holds it already: taken all the same
    process = subprocess.Popen([sys.executable, "-m", "sibdsl.cli", "studio", str(folder), "--no-browser"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = process.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)/studio/", line)
        assert match and int(match.group(1)) != STUDIO_PORT, line
    finally:
        process.terminate()
        process.wait(10)
        blocker.close()


def test_limited_work_without_fork_runs_inline(monkeypatch):
    """On a system that cannot fork (Windows) proofs still answer, in the request's thread."""
    import multiprocessing

    from sibdsl.serve import limited

    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    assert limited.run_limited(lambda x: x * 2, (21,), 1.0) == ("ok", 42)
    from sibdsl.diagnostics import Diagnostic, SibError

    def refuse():
        raise SibError([Diagnostic("E864", "stopped")])

    kind, value = limited.run_limited(refuse, (), 1.0)
    assert kind == "diagnostics" and value[0]["code"] == "E864"


def test_limited_work_is_killed_past_its_budget():
    import time as clock

    from sibdsl.serve import limited

    started = clock.monotonic()
    with pytest.raises(limited.BudgetExceeded):
        limited.run_limited(clock.sleep, (30,), 0.3)
    assert clock.monotonic() - started < 10
    assert limited.run_limited(sum, ([1, 2, 3],), 10) == ("ok", 6)


def test_every_operation_says_where_its_time_went(server):
    """Server-Timing (docs/api.md, "Performance"): reading the request, the operation's wall and
    processor time, and the whole answer, in milliseconds — on answers and on refusals alike."""
    import re

    def timing(headers: dict) -> dict[str, float]:
        value = {k.lower(): v for k, v in headers.items()}["server-timing"]
        return {name: float(dur) for name, dur in re.findall(r"(\w+);dur=([0-9.]+)", value)}

    status, headers, _ = server.request("POST", "/v1/check", {"contract": "norrkoping", "verify": False})
    said = timing(headers)
    assert status == 200 and list(said) == ["read", "work", "cpu", "total"]
    # each rounded to 0.1 ms; a thread's processor time cannot exceed the wall time it ran for
    assert said["read"] + said["work"] <= said["total"] + 0.2 and 0 <= said["cpu"] <= said["work"] + 0.1
    status, headers, _ = server.request("POST", "/v1/eval", {"contract": "no_such_contract", "outcomes": {}})
    assert status == 404 and list(timing(headers)) == ["read", "work", "cpu", "total"]


def test_the_collector_waits_until_the_answer_is_sent(monkeypatch, tmp_path):
    """The cyclic collector is held off while an operation works and runs again once its answer is
    sent — after an answer, a refusal, or a client gone mid-answer (in process, through ASGI)."""
    import asyncio
    import gc

    from sibdsl.serve import app as app_module

    seen = []
    check = api.OPERATIONS["check"]
    monkeypatch.setitem(api.OPERATIONS, "check", lambda ws, request: (seen.append(gc.isenabled()), check(ws, request))[1])
    application = app_module.create_app(CONTRACTS)

    def post(body: dict, fail_sending: bool = False) -> list[dict]:
        data = json.dumps(body).encode()
        incoming = [{"type": "http.request", "body": data, "more_body": False}]
        sent: list[dict] = []

        async def receive():
            return incoming.pop(0) if incoming else {"type": "http.disconnect"}

        async def send(message):
            if fail_sending and message["type"] == "http.response.body":
                raise OSError("the client went away")
            sent.append(message)

        scope = {"type": "http", "method": "POST", "path": "/v1/check", "raw_path": b"/v1/check", "query_string": b"",
                 "root_path": "", "scheme": "http", "http_version": "1.1", "server": ("127.0.0.1", 80),
                 "client": ("127.0.0.1", 1), "headers": [(b"content-type", b"application/json"),
                                                         (b"content-length", str(len(data)).encode())]}
        asyncio.run(application(scope, receive, send))
        return sent

    assert gc.isenabled()
    answer = post({"contract": "norrkoping", "verify": False})
    assert answer[0]["status"] == 200 and seen == [False] and gc.isenabled()
    assert post({"contract": "no_such_contract"})[0]["status"] == 404 and gc.isenabled()
    with pytest.raises(OSError):
        post({"contract": "norrkoping", "verify": False}, fail_sending=True)
    assert gc.isenabled() and app_module._COLLECTOR.held == 0
