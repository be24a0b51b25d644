"""Bad requests are normal requests: any JSON a caller can send gets an answer or a coded refusal
(ApiError with a registered code and an HTTP status), never another exception (which the server
would have to turn into E900). The operations are called in-process here, with Hypothesis
generating the requests; tests/test_serve_api.py calls the same functions over HTTP."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sibdsl.codes import CODES
from sibdsl.serve import api

from .conftest import ROOT

WS = api.Workspace(ROOT / "contracts")
NORRKOPING = (ROOT / "contracts" / "norrkoping.sib").read_text(encoding="utf-8")

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True),
                    st.text(max_size=30), st.sampled_from(["49 000 000 SEK", "0 %", "ja", "1,5", "-1", "1e400"]))
json_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)), max_leaves=12)
contract_refs = st.one_of(
    st.sampled_from(["norrkoping", "peterborough", "nyc_rikers", "../contracts/norrkoping", "nope", "", "a/b",
                     "norrkoping.sib"]),
    st.builds(lambda v: {"name": "norrkoping", "version": v}, st.text(max_size=64)),
    st.builds(lambda cut: {"source": NORRKOPING[:cut]}, st.integers(0, len(NORRKOPING))),
    json_values)
measures = st.sampled_from(["actual_costs", "reference_costs", "school_improved", "completed", "x"])
outcomes = st.one_of(json_values, st.dictionaries(measures, scalars, max_size=5))
requests = st.fixed_dictionaries({"contract": contract_refs}, optional={
    "outcomes": outcomes, "outcomes_csv": st.one_of(st.text(max_size=60), json_values),
    "measure": st.one_of(measures, json_values), "points": json_values, "from": json_values, "to": json_values,
    "explain": json_values, "lang": json_values, "scenarios_csv": st.one_of(st.text(max_size=80), json_values),
    "grid": json_values, "old": contract_refs, "new": contract_refs, "format": json_values,
    "vary": st.one_of(measures, json_values), "verify": json_values, "timeout": json_values})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operation=st.sampled_from(["check", "eval", "curve", "test", "diff", "render"]), request=requests)
def test_any_request_gets_an_answer_or_a_coded_refusal(operation, request):
    if operation == "check":
        request["verify"] = False  # the proofs run in a child process: tested over HTTP
    if operation == "render" and request.get("format") == "pdf":
        request["format"] = "md"
    function = api.render if operation == "render" else api.OPERATIONS[operation]
    try:
        result = function(WS, request)
    except api.ApiError as err:
        assert 400 <= err.status < 600 and err.status != 500
        assert err.diagnostics and all(d["code"] in CODES and d["code"] != "E900" for d in err.diagnostics)
        json.dumps(err.body())
        return
    if operation != "render":
        status, body = result
        assert status in (200, 422)
        json.dumps(body)


@settings(max_examples=200, deadline=None)
@given(body=st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode()))
def test_any_body_decodes_or_is_refused_with_e860(body):
    try:
        data = api.decode_json(body)
    except api.ApiError as err:
        assert err.status == 400 and [d["code"] for d in err.diagnostics] == ["E860"]
        return
    assert isinstance(data, dict)


ROUTES = ["/v1/check", "/v1/eval", "/v1/curve", "/v1/verify", "/v1/test", "/v1/render", "/v1/diff",
          "/v1/simulate", "/studio/api/format", "/studio/api/save", "/studio/api/new"]


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    from .test_serve_api import Server, served_copy

    s = Server(served_copy(tmp_path_factory), "--budget", "2", command="studio")
    yield s
    s.stop()


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(route=st.sampled_from(ROUTES), request=requests, name=st.one_of(st.none(), st.text(max_size=12)))
def test_any_request_over_http_is_answered_without_e900(studio, route, request, name):
    """Over a running studio (every route, proofs and simulations in their child processes): whatever
    is posted, the answer is JSON or a document, with a status that is not 500."""
    if name is not None:
        request["name"] = name  # save and new take a name: anything but a plain name is refused
    if route == "/studio/api/save":
        request["source"] = NORRKOPING  # what a save would write is a real contract
        request["name"] = "fuzz_" + "".join(c for c in (name or "x") if c.isalnum())[:8]
    status, headers, data = studio.request("POST", route, request)
    assert status != 500, data[:300]
    if headers.get("content-type", "").startswith("application/json"):
        body = json.loads(data)
        if not body.get("ok", True):
            assert all(d["code"] in CODES and d["code"] != "E900" for d in body["diagnostics"])
