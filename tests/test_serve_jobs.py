"""Stale runs are stopped (issue 20): a request that names its run (`job`) cancels the older run of
the same job still going — the studio names each page's proofs of a document so, and an edit makes
them stale. Tested over HTTP on a running server: the old request answers 409 (E867) at once, its
worker process is gone, the new one answers as usual, and requests without a job or with other
jobs are never stopped. docs/diagnostics/E867.md's example is run here too."""

from __future__ import annotations

import json
import os
import re
import threading
import time
from pathlib import Path

import pytest

from sibdsl.serve import api

from .conftest import ROOT
from .test_serve_api import SPEC, Server, codes, served_copy


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return served_copy(tmp_path_factory)


@pytest.fixture(scope="module")
def server(folder):
    s = Server(folder, "--budget", "600")
    yield s
    s.stop()


def workers(server) -> set[int]:
    """The server's child processes (the forked workers that run proofs and simulations)."""
    pid = server.process.pid
    children = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text()
        children |= {int(c) for c in text.split()}
    return children


def in_background(server, body: dict) -> dict:
    """POST /v1/simulate in a thread; the result (status, body, seconds) lands in the dict returned."""
    result: dict = {}

    def go():
        started = time.monotonic()
        result["status"], result["body"] = server.post("/v1/simulate", body)
        result["seconds"] = time.monotonic() - started

    result["thread"] = threading.Thread(target=go, daemon=True)
    result["thread"].start()
    return result


def until(condition, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


LONG = {"contract": "norrkoping", "scenarios": SPEC, "n": api.MAX_SIMULATE_N, "seed": 1}
SHORT = {"contract": "norrkoping", "scenarios": SPEC, "n": 50, "seed": 1}


def test_a_newer_request_of_the_same_job_stops_the_older_run(server):
    before = workers(server)
    old = in_background(server, {**LONG, "job": "page1:norrkoping:proofs"})
    until(lambda: workers(server) - before)  # its worker is running
    running = workers(server) - before
    status, body = server.post("/v1/simulate", {**SHORT, "job": "page1:norrkoping:proofs"})
    assert status == 200 and body["report"]["scenarios"] == 50
    old["thread"].join(60)
    assert old["status"] == 409 and codes(old["body"]) == ["E867"], old["body"]
    assert "newer request of the same job (`page1:norrkoping:proofs`)" in old["body"]["diagnostics"][0]["message"]
    until(lambda: not (workers(server) & running), 10)  # the stale worker was killed, not left to its budget


def test_the_example_of_e867s_page(server):
    """docs/diagnostics/E867.md: its first request, superseded by the same with 10 000 scenarios,
    answers exactly the JSON the page shows."""
    page = (ROOT / "docs" / "diagnostics" / "E867.md").read_text(encoding="utf-8")
    request, answer = (json.loads(block) for block in re.findall(r"^```json\n(.*?)^```$", page, re.MULTILINE | re.DOTALL))
    before = workers(server)
    old = in_background(server, request)
    until(lambda: workers(server) - before)
    status, body = server.post("/v1/simulate", {**request, "n": 10_000})
    assert status == 200 and body["report"]["scenarios"] == 10_000
    old["thread"].join(60)
    assert (old["status"], old["body"]) == (409, answer)


def test_a_check_without_proofs_stops_the_proofs_of_its_job(server):
    """The studio's keystroke: its check (`verify: false`) names the page's proofs job, so the proofs
    of the text before the keystroke, still running, stop at once (E867) rather than at their end."""
    before = workers(server)
    old = in_background(server, {**LONG, "job": "page3:norrkoping:proofs"})
    until(lambda: workers(server) - before)
    running = workers(server) - before
    status, body = server.post("/v1/check", {"contract": "norrkoping", "verify": False, "job": "page3:norrkoping:proofs"})
    assert status == 200 and body["ok"]
    old["thread"].join(60)
    assert old["status"] == 409 and codes(old["body"]) == ["E867"], old["body"]
    until(lambda: not (workers(server) & running), 10)
    # a check without the job, or with another page's, stops nothing
    other = in_background(server, {**SHORT, "n": 200_000, "job": "page4:norrkoping:proofs"})
    until(lambda: workers(server) - before or "status" in other)
    for request in ({"contract": "norrkoping", "verify": False},
                    {"contract": "norrkoping", "verify": False, "job": "page5:norrkoping:proofs"}):
        assert server.post("/v1/check", request)[0] == 200
    other["thread"].join(120)
    assert other["status"] == 200, other["body"]


def test_other_jobs_and_runs_without_a_job_are_not_stopped(server):
    """Another page's job, or none: both runs finish with their answers (the same report as alone)."""
    alone = server.post("/v1/simulate", {**SHORT, "n": 20_000})
    first = in_background(server, {**SHORT, "n": 20_000, "job": "page1:norrkoping:proofs"})
    second = in_background(server, {**SHORT, "n": 20_000})
    third = in_background(server, {**SHORT, "n": 20_000, "job": "page2:norrkoping:proofs"})
    for run in (first, second, third):
        run["thread"].join(120)
        assert (run["status"], run["body"]["report"]) == (200, alone[1]["report"])


@pytest.mark.parametrize("job", ["", 7, "x" * (api.MAX_JOB + 1), ["a"]])
def test_a_job_is_a_short_name(server, job):
    status, body = server.post("/v1/verify", {"contract": "norrkoping", "job": job})
    assert status == 400 and codes(body) == ["E860"]


def _sleep(seconds: float) -> str:
    time.sleep(seconds)
    return "done"


def test_run_limited_ends_when_its_job_is_cancelled():
    """The mechanism alone: a cancelled job ends the wait at once and kills the child; a job cancelled
    before its run starts never starts it; an uncancelled job changes nothing."""
    from sibdsl.serve.limited import Cancelled, Job, run_limited

    job, outcome = Job(), {}

    def go():
        started = time.monotonic()
        try:
            run_limited(_sleep, (60,), 120, job)
        except Cancelled:
            outcome["cancelled after"] = time.monotonic() - started

    thread = threading.Thread(target=go)
    thread.start()
    time.sleep(0.3)
    job.cancel()
    thread.join(30)
    assert outcome["cancelled after"] < 30  # not the 60 s the child would have slept
    job.close()
    with pytest.raises(Cancelled):
        run_limited(_sleep, (60,), 120, job)  # already cancelled: not started
    fresh = Job()
    assert run_limited(_sleep, (0,), 30, fresh) == ("ok", "done")
    fresh.close()
    fresh.cancel()  # after the run, and closed: harmless


def test_a_run_has_the_collector_running_though_its_request_holds_it():
    """A run is forked from a request that holds the cyclic collector off (app.py): the run itself,
    a proof or a simulation of any length, has it running, as Python runs it."""
    import gc

    from sibdsl.serve.limited import run_limited

    gc.disable()
    try:
        assert run_limited(gc.isenabled, (), 60) == ("ok", True)
    finally:
        gc.enable()


# ---------------------------------------------------------------- a settlement and its compile
def generated(clauses: int, marker: str) -> str:
    """A contract of `clauses` clauses, a chain of definitions (as benchmarks/bench.py's): its
    compile takes ≈ 1 s at 5,000, all of it in the request's thread; it pays x + clauses − 2 SEK.
    `marker` makes it a text of its own."""
    body = [f'contract "{marker}"\n  currency SEK\n  rounding 1 SEK half up\nparty city "City": payer\n'
            'party fund "Fund": investor\nmeasure x: money\n', "define d0 = x * 2 / 3\n"]
    body += [f"define d{i} = max(d{i - 1} - 1 000 SEK, {i} SEK)\n" for i in range(1, clauses - 1)]
    body.append(f"payment p = min(d{clauses - 2} + x, 5 000 000 SEK) from city to fund\n")
    return "".join(body)


def processor_seconds(server) -> float:
    """The server's processor time so far (every thread): how far its work has gone, whatever the load."""
    fields = Path(f"/proc/{server.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def settle_in_background(server, body: dict) -> dict:
    result: dict = {}

    def go():
        result["status"], result["body"] = server.post("/v1/eval", body)

    result["thread"] = threading.Thread(target=go, daemon=True)
    result["thread"].start()
    return result


def compiling(server, body: dict) -> dict:
    """/v1/eval of `body` in the background, returned once the server is well into its compile: the
    text was checked before (a /v1/check, as the studio's keystroke does), so after 0.2 s of the
    server's processor time the request is compiling (≈ 1 s of it at 5,000 clauses)."""
    assert server.post("/v1/check", {"contract": body["contract"], "verify": False})[0] == 200
    start = processor_seconds(server)
    old = settle_in_background(server, body)
    until(lambda: processor_seconds(server) - start > 0.2 or "status" in old)
    return old


def alone(tmp_path, request: dict) -> dict:
    """The settlement `request` gets from a workspace of its own, in this process: nothing superseded."""
    status, body = api.evaluate(api.Workspace(tmp_path), {k: v for k, v in request.items() if k != "job"})
    assert status == 200, body
    return body["settlement"]


def test_a_newer_settlement_of_the_same_job_stops_the_compile_of_the_older(server, tmp_path):
    """The studio's settlement of a new large text: a newer request of its job (another text)
    arrives during the compile. The older answers 409 (E867), the newer its settlement."""
    job = "page6:draft:settle"
    old = compiling(server, {"contract": {"source": generated(5_000, "old")}, "outcomes": {"x": "900 SEK"}, "job": job})
    newer = {"contract": {"source": generated(50, "newer")}, "outcomes": {"x": "3 000 SEK"}, "job": job}
    status, body = server.post("/v1/eval", newer)
    assert status == 200 and body["settlement"] == alone(tmp_path, newer), body
    old["thread"].join(120)
    assert old["status"] == 409 and codes(old["body"]) == ["E867"], old["body"]
    assert "newer request of the same job (`page6:draft:settle`)" in old["body"]["diagnostics"][0]["message"]


def test_a_newer_settlement_that_needs_the_same_compile_gets_it(server, tmp_path):
    """New outcomes for the same large text: the compile goes on for the newer request, which
    answers with its settlement; the older answers E867. Requests without a job stop nothing."""
    text = generated(5_000, "same")
    job = "page7:draft:settle"
    old = compiling(server, {"contract": {"source": text}, "outcomes": {"x": "900 SEK"}, "job": job})
    newer = {"contract": {"source": text}, "outcomes": {"x": "3 000 SEK"}, "job": job}
    status, body = server.post("/v1/eval", newer)
    expected = alone(tmp_path, newer)
    assert status == 200 and body["settlement"] == expected, body
    old["thread"].join(120)
    assert old["status"] == 409 and codes(old["body"]) == ["E867"], old["body"]
    first = {"contract": {"source": generated(5_000, "no job")}, "outcomes": {"x": "900 SEK"}}
    first_run = compiling(server, first)
    second = {**first, "outcomes": {"x": "3 000 SEK"}}
    assert server.post("/v1/eval", second) == (200, server.post("/v1/eval", second)[1])
    first_run["thread"].join(120)
    assert first_run["status"] == 200 and first_run["body"]["settlement"] == alone(tmp_path / "first", first)
    assert first_run["body"]["settlement"] != expected


class Counting:
    """A limited.Job whose `cancelled` turns true at its `at`-th reading: a newer request arriving
    at a chosen cancellation point, deterministically."""

    def __init__(self, at: int):
        self.at, self.read = at, 0

    @property
    def cancelled(self) -> bool:
        self.read += 1
        return self.read >= self.at


def test_the_compile_stops_at_its_cancellation_points(tmp_path):
    """One point before each definition and each step: a request superseded at the 1 000th point
    of 5,000 stops there (Cancelled), and the next request compiles from the start; a compile
    another request still wants is not stopped by one that was superseded."""
    from sibdsl.report import settlement_json
    from sibdsl.serve.limited import Cancelled

    text = generated(5_000, "points")
    loaded = api.Workspace(tmp_path).load({"source": text})
    superseded = Counting(1_000)
    with pytest.raises(Cancelled):
        loaded.compiled_for(superseded)
    assert superseded.read == 1_000 and loaded._compiled is None and loaded._waiting == []
    whole = Counting(10**9)
    compiled = loaded.compiled_for(whole)
    assert whole.read == 5_000 - 1 + len(compiled.program.steps)  # each definition, each step
    outcomes = api._outcomes(loaded, {"outcomes": {"x": "900 SEK"}})
    fresh = api.Workspace(tmp_path).load({"source": text})
    assert settlement_json(compiled.evaluate(outcomes), None) == settlement_json(fresh.compiled.evaluate(outcomes), None)
    # the stopped compile left nothing half done behind it
    assert loaded.compiled_for(Counting(1)) is compiled  # compiled already: nothing to stop
    with pytest.raises(Cancelled):  # …but the request, superseded meanwhile, answers E867
        api._settle(loaded, {}, Counting(1))

    again = api.Workspace(tmp_path).load({"source": text})
    wanted = Counting(10**9)
    again._waiting.append(wanted)  # another request waits for this compile, and is not superseded
    assert again.compiled_for(Counting(1)) is not None and wanted.read == whole.read
