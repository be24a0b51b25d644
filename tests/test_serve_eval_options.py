"""POST /v1/eval with the options of `sibc eval` beyond the outcomes (issue 20, round 2): a draft's
`params` (`--param`), an interim settlement `as_of` a date with what was `paid` before (`--as-of`,
`--paid`), and `why` a line was not paid (`--why`) — over HTTP against a running `sibc serve`,
each refusal with the CLI's code and the right status."""

from __future__ import annotations

import json

import pytest

from .test_serve_api import NORRKOPING_OUTCOMES, Server, served_copy

DRAFT = """contract "Utkast" @en "Draft"
  languages sv, en
  currency SEK
  rounding 1 SEK half up
party city "Staden": payer
party fund "Fonden": investor
parameter price "Pris per plats" @en "Price per place": money between 10 000 SEK and 30 000 SEK
measure avoided "Undvikna platser" @en "Avoided places": count between 0 and 200
measure served "Deltagare" @en "Participants": count between 0 and 500
assume at_most_all: avoided <= served
payment outcome "Ersättning" @en "Outcome payment" = price * avoided from city to fund
"""

# Peterborough, mid-2014: cohort 1 measured, cohort 2 (ending 2014-06-30) not yet
PARTIAL = {"pilot_events": {"cohort_1": 1300, "cohort_2": None},
           "comparison_events": {"cohort_1": 1550, "cohort_2": None}}
FINAL = {"pilot_events": {"cohort_1": 1300, "cohort_2": 1400},
         "comparison_events": {"cohort_1": 1550, "cohort_2": 1550}}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = Server(served_copy(tmp_path_factory))
    yield s
    s.stop()


def codes(body: dict) -> list[str]:
    return [d["code"] for d in body["diagnostics"]]


def line(body: dict, payment: str, period: str | None = None) -> dict:
    return next(x for x in body["interim"]["lines"] if x["payment"] == payment and x["period"] == period)


# ---------------------------------------------------------------- params (--param)
def test_a_draft_is_settled_for_the_parameters_sent(server):
    status, body = server.post("/v1/eval", {"contract": {"source": DRAFT}, "params": {"price": "15 000 SEK"},
                                            "outcomes": {"avoided": 12, "served": 40}})
    assert status == 200 and body["ok"], body
    assert body["settlement"]["total"] == "180000"
    # a number is read as the parameter's type, as `--param price=20000`
    status, body = server.post("/v1/eval", {"contract": {"source": DRAFT}, "params": {"price": 20000},
                                            "outcomes": {"avoided": 12, "served": 40}})
    assert status == 200 and body["settlement"]["total"] == "240000"


def test_the_check_describes_a_drafts_parameters_with_their_ranges(server):
    status, body = server.post("/v1/check", {"contract": {"source": DRAFT}, "verify": False})
    assert status == 200, body
    (price,) = body["summary"]["parameters"]
    assert price == {"name": "price", "label": {"default": "Pris per plats", "en": "Price per place"},
                     "kind": "money", "currency": "SEK", "lower": "10000", "upper": "30000",
                     "description": None, "line": 7}
    assert [m["name"] for m in body["summary"]["measures"]] == ["avoided", "served"]


@pytest.mark.parametrize("params, code, where", [
    (None, "E476", None),                            # no value for the parameter
    ({"prise": "15 000 SEK"}, "E478", "--param"),     # not a parameter of the contract (did you mean…)
    ({"price": "45 000 SEK"}, "E505", "--param"),     # outside its range
    ({"price": "lots"}, "E504", "--param"),           # not an amount
])
def test_bad_parameters_get_the_clis_diagnostics(server, params, code, where):
    request = {"contract": {"source": DRAFT}, "outcomes": {"avoided": 12, "served": 40}}
    if params is not None:
        request["params"] = params
    status, body = server.post("/v1/eval", request)
    assert status == 422 and code in codes(body), body
    found = next(d for d in body["diagnostics"] if d["code"] == code)
    if where:
        assert found["file"] == where
    if code == "E478":
        assert "price" in found["hint"]


@pytest.mark.parametrize("params", [["price=1"], {"price": None}, {"price": ""}, {"price": {"x": 1}}])
def test_malformed_params_are_refused(server, params):
    status, body = server.post("/v1/eval", {"contract": {"source": DRAFT}, "params": params,
                                            "outcomes": {"avoided": 1, "served": 1}})
    assert status == 400 and codes(body) == ["E860"], body
    assert "params" in body["diagnostics"][0]["message"]


def test_a_curve_of_a_draft_takes_its_parameters(server):
    status, body = server.post("/v1/curve", {"contract": {"source": DRAFT}, "params": {"price": "10 000 SEK"},
                                             "outcomes": {"avoided": 10, "served": 200}, "measure": "avoided",
                                             "from": "0", "to": "100", "points": 3})
    assert status == 200, body
    assert [p["total"] for p in body["points"]] == ["0", "500000", "1000000"]


def test_outcomes_that_break_an_assumption_are_refused_with_e473(server):
    status, body = server.post("/v1/eval", {"contract": {"source": DRAFT}, "params": {"price": "15 000 SEK"},
                                            "outcomes": {"avoided": 50, "served": 40}})
    assert status == 422 and codes(body) == ["E473"], body
    d = body["diagnostics"][0]
    assert "at_most_all" in d["message"] and "`avoided` = 50" in d["message"] and d["span"]["line"] == 10


# ---------------------------------------------------------------- as_of and paid (--as-of, --paid)
def test_an_interim_settlement_says_what_each_line_waits_for(server):
    status, body = server.post("/v1/eval", {"contract": "peterborough", "outcomes": PARTIAL, "as_of": "2014-07-01"})
    assert status == 200 and body["ok"], body
    interim = body["interim"]
    assert interim["as_of"] == "2014-07-01" and "settlement" not in body
    first, second = line(body, "cohort_payment", "cohort_1"), line(body, "cohort_payment", "cohort_2")
    assert (first["status"], first["amount"], first["pay_now"]) == ("settled", "5000000", "5000000")
    assert first["steps"] and first["waits_for"] == []
    assert second["status"] == "not due" and second["amount"] is None
    cohort_2 = {"period": "cohort_2", "periods": {"cohorts": "cohort_2"}}  # its name, and per series
    assert second["waits_for"] == [{"measure": "pilot_events", **cohort_2}, {"measure": "comparison_events", **cohort_2}]
    assert line(body, "final_payment")["status"] == "not due"
    assert interim["pay_now"] == "5000000"
    assert {"measure": "pilot_events", **cohort_2} in interim["not_yet_measured"]


def test_the_interim_answer_is_what_to_send_as_paid_next_time(server):
    _, first = server.post("/v1/eval", {"contract": "peterborough", "outcomes": PARTIAL, "as_of": "2014-07-01"})
    status, body = server.post("/v1/eval", {"contract": "peterborough", "outcomes": FINAL,
                                            "paid": first["interim"]})
    assert status == 200 and body["ok"], body
    again = line(body, "cohort_payment", "cohort_1")
    assert (again["paid_before"], again["pay_now"], again["paid_to_date"]) == ("5000000", "0", "5000000")
    assert body["interim"]["as_of"] is None and body["interim"]["paid_before"] == "5000000"


def test_a_ledger_as_csv_and_an_overpayment(server):
    ledger = "payment;period;paid\ncohort_payment;cohort_1;6 000 000\n"
    status, body = server.post("/v1/eval", {"contract": "peterborough", "outcomes": FINAL, "paid_csv": ledger})
    assert status == 200 and body["ok"], body
    over = line(body, "cohort_payment", "cohort_1")
    assert (over["amount"], over["pay_now"], over["overpaid"]) == ("5000000", "0", "1000000")
    (warning,) = body["diagnostics"]
    assert warning["code"] == "W550" and warning["file"] == "paid.csv" and warning["span"]["line"] == 2


@pytest.mark.parametrize("extra, status, code", [
    ({"as_of": "2014-13-01"}, 422, "E552"),
    ({"as_of": "2001-01-01"}, 422, "E551"),
    ({"as_of": 20140701}, 400, "E860"),
    ({"as_of": "2013-01-01"}, 422, "E553"),   # a value for cohort 2, which ends after the date
    ({"paid_csv": "payment;period;paid\nbonus;;1\n"}, 422, "E555"),
    ({"paid_csv": "what;ever\n"}, 422, "E554"),
    ({"paid": {"lines": [{"payment": "cohort_payment", "period": "cohort_1", "paid_to_date": "x"}]}}, 422, "E556"),
    ({"paid": ["not", "an", "object"]}, 400, "E860"),
    ({"paid": {"lines": []}, "paid_csv": "payment;period;paid\n"}, 400, "E860"),
    ({"as_of": "2014-07-01", "why": True}, 400, "E860"),
    ({"as_of": "2014-07-01", "explain": "sv"}, 400, "E860"),
])
def test_bad_interim_requests_get_the_clis_diagnostics(server, extra, status, code):
    outcomes = FINAL if extra.get("as_of") != "2014-07-01" else PARTIAL
    got, body = server.post("/v1/eval", {"contract": "peterborough", "outcomes": outcomes, **extra})
    assert got == status and code in codes(body), body


def test_a_pending_value_without_as_of_is_e550(server):
    status, body = server.post("/v1/eval", {"contract": "peterborough", "outcomes": PARTIAL})
    assert status == 422 and "E550" in codes(body)


def test_no_workbook_of_an_interim_settlement(server):
    status, _headers, data = server.request("POST", "/v1/eval", {"contract": "peterborough", "outcomes": PARTIAL,
                                                                 "as_of": "2014-07-01", "format": "xlsx"})
    body = json.loads(data)
    assert status == 400 and codes(body) == ["E860"] and "as_of" in body["diagnostics"][0]["message"]


# ---------------------------------------------------------------- why (--why)
def test_why_a_line_was_not_paid(server):
    outcomes = {**NORRKOPING_OUTCOMES, "actual_costs": "60 000 000 SEK", "school_improved": False}
    status, body = server.post("/v1/eval", {"contract": "norrkoping", "outcomes": outcomes, "why": True,
                                            "lang": "en"})
    assert status == 200 and body["settlement"]["total"] == "4000000", body
    by_line = {x["payment"]: x for x in body["why"]}
    assert set(by_line) == {"outcome", "bonus"}
    bonus = by_line["bonus"]
    assert bonus["status"] == "unpaid" and bonus["can_pay_more"] is True and bonus["proved_smallest"]
    assert {"measure": "school_improved", "period": None, "from": False, "to": True} in bonus["smallest_change"]
    assert set(bonus["words"]) == {"en"} and bonus["words"]["en"].startswith("“Additional payment” was not paid")
    # in each of the contract's languages when none is asked for, as `sibc eval --why`
    status, body = server.post("/v1/eval", {"contract": "norrkoping", "outcomes": outcomes, "why": True})
    assert status == 200 and set(body["why"][0]["words"]) == {"sv", "en"}
    # amounts as the settlement beside the answer writes them (lang.money), in each language (issue 20);
    # `sibc eval --why` keeps prose's `SEK 59,999,999`
    outcome = next(x for x in body["why"] if x["payment"] == "outcome")["words"]
    assert "been 59 999 999 SEK instead of 60 000 000 SEK (1 SEK lower); it would then have paid 1 SEK" in \
        outcome["en"], outcome
    assert "59 999 999 kr i stället för 60 000 000 kr (1 kr lägre)" in outcome["sv"], outcome


def test_why_of_a_settlement_that_paid_everything_is_empty(server):
    outcomes = {**NORRKOPING_OUTCOMES, "actual_costs": "40 000 000 SEK"}
    status, body = server.post("/v1/eval", {"contract": "norrkoping", "outcomes": outcomes, "why": True})
    assert status == 200 and all(x["status"] != "unpaid" for x in body["why"]), body


@pytest.mark.parametrize("extra", [{"why": "yes"}, {"why": True, "timeout": 0}, {"why": True, "timeout": 99},
                                   {"why": True, "lang": "de"}])
def test_bad_why_options(server, extra):
    status, body = server.post("/v1/eval", {"contract": "norrkoping", "outcomes": NORRKOPING_OUTCOMES, **extra})
    assert status == 400 and codes(body) == ["E860"], body


def test_the_openapi_description_names_the_new_fields(server):
    _, doc = server.get("/v1/openapi.json")
    fields = doc["paths"]["/v1/eval"]["post"]["requestBody"]["content"]["application/json"]["schema"]["properties"]
    assert {"params", "as_of", "paid", "paid_csv", "why", "lang", "timeout"} <= set(fields)
    result = doc["paths"]["/v1/eval"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert {"interim", "why"} <= set(result["properties"])
    assert "parameters" in json.dumps(doc["paths"]["/v1/check"])
