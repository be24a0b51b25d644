"""Stale runs are stopped (issue 20): a request that names its run (`job`) cancels the older run of
the same job still going — the studio names each page's proofs of a document so, and an edit makes
them stale. Tested over HTTP on a running server: the old request answers 409 (E867) at once, its
worker process is gone, the new one answers as usual, and requests without a job or with other
jobs are never stopped. docs/diagnostics/E867.md's example is run here too."""

from __future__ import annotations

import json
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
