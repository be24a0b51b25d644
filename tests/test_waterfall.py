"""issue 14: waterfalls — the order they promise, proved by `sibc verify`, held on generated
contracts by an independent check, and shown in `sibc eval`."""

from __future__ import annotations

import datetime
import json
from fractions import Fraction

import attrs
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sibdsl import Source, check_source, compile_contract
from sibdsl.cli import main
from sibdsl.evaluate import EvaluationError
from sibdsl.returns import irr
from sibdsl.semantics import run as driver
from sibdsl.semantics.waterfalls import order_breaches
from sibdsl.testing import outcomes
from sibdsl.verify import verify_contract

from .contractgen import generated

CONTRACT = """contract "Waterfall"
  languages en
  currency SEK
  rounding 1 SEK half up
party city "City": payer
party vehicle "Fund": intermediary
party bank "Bank": investor
party foundation "Foundation": investor
term 2020-01-01 to 2024-12-31
investment senior_loan: 1 000 000 SEK from bank on 2020-01-01
  class senior
investment junior_loan: 500 000 SEK from foundation on 2020-01-01
  class junior
measure savings: money between 0 SEK and 5 000 000 SEK
payment outcome = savings from city to vehicle due 2023-06-30
payment bonus = 10 % of savings from city to vehicle due 2024-06-30
waterfall repayment: outcome, bonus
  1. to class senior until drawn plus 5 % per year
  2. 80 % to class senior, 20 % to class junior until class senior drawn plus 8 % per year
  3. rest to class junior
"""


def checked(text: str):
    contract, diagnostics = check_source(Source("waterfall.sib", text))
    assert contract is not None and not [d for d in diagnostics if d.is_error], [d.message for d in diagnostics]
    return contract


def test_the_senior_class_is_paid_its_rate_first_then_the_split_then_the_rest():
    s = compile_contract(checked(CONTRACT)).evaluate({"savings": Fraction(1_500_000)})
    paid = {(w.step, r): a for w in s.waterfalls for r, a in w.paid}
    # 1 000 000 × 1.05^(1276/365), rounded up; then 8 % for the senior: 80/20 until it is whole
    assert paid[("repayment.1", "bank")] == 1_185_975
    assert paid[("repayment.2", "bank")] == 122_743 and paid[("repayment.2", "foundation")] == 30_686
    assert paid[("repayment.3", "foundation")] == 1_500_000 + 150_000 - 1_185_975 - 122_743 - 30_686
    bank = next(r for r in s.returns if r.investor == "bank")
    assert Fraction(0.08) <= Fraction(bank.irr) < Fraction(0.0801)  # whole at 8 %, not a krona more than needed
    assert bank.waterfall_steps == ("repayment.1", "repayment.2")
    assert s.total == 1_650_000 and s.by_payer == {"city": 1_650_000}  # the payer pays what it paid
    assert s.by_recipient.get("vehicle", 0) == 0  # `rest`: the vehicle keeps nothing


def test_a_small_payment_goes_to_the_senior_class_only():
    s = compile_contract(checked(CONTRACT)).evaluate({"savings": Fraction(600_000)})
    assert {r for w in s.waterfalls for r, a in w.paid if a} == {"bank"}
    assert not order_breaches(checked(CONTRACT), s)


def test_verify_proves_the_order():
    verdict = next(v for v in verify_contract(checked(CONTRACT)) if v.key == "waterfall:repayment")
    assert verdict.status == "proved", verdict


def test_a_waterfall_that_pays_the_junior_class_early_is_caught(monkeypatch):
    # the target rounded down instead of up: the senior class is short of its 5 % by under 1 SEK
    # when the junior one is paid — verify finds outcomes where it happens, and they replay
    monkeypatch.setattr(driver, "round_up", lambda b, x: b.round_down(x))
    contract = checked(CONTRACT.replace("\n  2. 80 % to class senior, 20 % to class junior until class senior drawn "
                                        "plus 8 % per year\n  3. rest", "\n  2. rest"))
    verdict = next(v for v in verify_contract(contract) if v.key == "waterfall:repayment")
    assert verdict.status == "violated", verdict


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_generated_waterfalls_never_pay_a_later_step_before_an_earlier_target(data):
    text = data.draw(generated(), label="contract")
    contract = checked(text)
    if not contract.waterfalls:
        return
    evaluator = compile_contract(contract)
    for row in data.draw(st.lists(outcomes(contract), min_size=1, max_size=4), label="outcomes"):
        try:
            s = evaluator.evaluate(row)
        except EvaluationError:  # a division by zero in a generated formula: not the waterfall's
            continue
        assert not order_breaches(contract, s), text
        first = contract.waterfalls[0].tiers[0]
        target = first.recipients[0]
        parties = {p for p, _ in target.members}
        held_back = any(t[0] == "return limit" for ln in s.lines if ln.recipient in parties
                        and ln.clause.name.endswith(".1") for t in ln.trail)
        if first.target == "drawn" and first.rate is not None and not held_back and any(
                a > 0 for w in s.waterfalls if w.step.endswith(".2") or w.step.endswith(".3") for _, a in w.paid):
            # a later step paid: the first target's IRR, recomputed from its dated flows, reached the rate
            # (unless a return limit held back what the first step paid its party: that passes on to the
            # later steps by design, docs/language.md "A return limit on a party a waterfall pays")
            invs = [i for i in contract.investments.values()
                    if (i.klass == target.name if target.klass else i.investor == target.name)]
            flows = [(d, -a) for i in invs for d, a in i.flows]
            flows += [(ln.due, Fraction(ln.trail[0][3])) for ln in s.lines
                      if ln.recipient in parties and ln.trail and ln.trail[0][0] == "waterfall"
                      and ln.clause.name.endswith(".1")]
            rate = irr(tuple(flows))
            assert rate is None or rate >= first.rate - Fraction(1, 10**6), (text, rate)


HELD_BACK = """contract "Held back"
  languages en
  currency SEK
  rounding 1 SEK half up
party city "City": payer
party fund "Fund": investor
party bank "Bank": investor
party ngo "Provider": provider
term 2020-01-01 to 2023-12-31
investment loan_a: 400 000 SEK from fund on 2020-01-01
investment loan_b: 250 000 SEK from bank on 2020-06-01
measure claims: count between 0 and 100 000
payment direct = claims * 220 SEK
  from city to fund due 2022-01-30
payment pr = 1 000 SEK
  from city to ngo due 2023-06-30
waterfall w: pr
  1. to fund until drawn plus 5 % per year
  2. 70 % to fund, 30 % to bank until fund drawn plus 9 % per year
return limit r1: 8 % per year compound from 2020-01-01 to 2023-06-30
"""


def test_what_a_return_limit_holds_back_from_the_first_step_passes_to_the_next():
    """Found by the generated-waterfall test (hypothesis): a fund paid far past its return limit
    directly (`direct`) is held back on the waterfall's first step, and the next step pays the bank
    its share although the fund's first target is not met through the waterfall — as documented;
    the fund's share of step 2 is held back too and stays with the vehicle."""
    contract = checked(HELD_BACK)
    s = compile_contract(contract).evaluate({"claims": Fraction(29_558)})
    lines = {(ln.clause.name, ln.recipient): ln for ln in s.lines}
    assert lines[("w.1", "fund")].amount == 0 and lines[("w.2", "fund")].amount == 0
    assert [t[0] for t in lines[("w.1", "fund")].trail] == ["waterfall", "return limit"]
    assert lines[("w.2", "bank")].amount == 300
    assert sum(ln.amount for ln in s.lines if ln.payment == "pr") == 1000  # nothing made, nothing lost
    assert lines[("pr", "ngo")].amount == 700


def test_eval_shows_the_waterfall_in_text_and_json(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "w.sib").write_text(CONTRACT, encoding="utf-8")
    (tmp_path / "o.json").write_text('{"savings": "1 500 000 SEK"}', encoding="utf-8")
    text = CliRunner().invoke(main, ["eval", "w.sib", "--outcomes", "o.json", "--no-trace"]).output
    assert "repayment.1 (to class senior until drawn plus 5 % per year): 1 185 975 SEK to bank" in text
    assert "paid by waterfall steps repayment.1, repayment.2" in text
    data = json.loads(CliRunner().invoke(main, ["eval", "w.sib", "--outcomes", "o.json", "--format", "json"]).output)
    assert data["waterfalls"][1] == {"step": "repayment.2", "terms": "80 % to class senior, 20 % to class junior "
                                     "until class senior drawn plus 8 % per year", "vehicle": "vehicle",
                                     "paid": {"bank": "122743", "foundation": "30686"}}
    trail = CliRunner().invoke(main, ["eval", "w.sib", "--outcomes", "o.json"]).output
    assert "outcome → bank: 1 185 975 SEK" in trail


EN = "1. to class senior until class senior has received what it drew plus 5 per cent a year"
SV = "1. till klassen senior tills klassen senior har fått tillbaka det utbetalda kapitalet med 5 procent per år"


@pytest.mark.parametrize("lang, words", [("en", EN), ("sv", SV)])
def test_the_document_states_the_waterfall(lang, words, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "w.sib").write_text(CONTRACT.replace("languages en", "languages en, sv"), encoding="utf-8")
    out = CliRunner().invoke(main, ["render", "w.sib", "--lang", lang]).output
    assert words in " ".join(out.split())  # the document wraps its lines


def test_fmt_keeps_the_waterfall(tmp_path, monkeypatch):
    from sibdsl.parser import parse
    from sibdsl.syntax import same
    from sibdsl.unparse import unparse

    tree = parse(Source("w.sib", CONTRACT))
    assert same(parse(Source("w.sib", unparse(tree))), tree)
    assert "  2. 80 % to class senior, 20 % to class junior until class senior drawn plus 8 % per year" in unparse(tree)


# ---------------------------------------------------------------- a return limit within a waterfall
LIMITED = CONTRACT + "return limit senior_cap: 3 % per year for class senior\n"


def test_a_senior_return_limit_releases_the_excess_to_the_next_class():
    """issue 14: the senior class's limit (3 % a year, below its 5 % target) cuts its lines right after
    each step that pays it, and what it cuts passes on to the later steps: the junior class gets it,
    the payer pays what its payments say, and the vehicle keeps nothing."""
    contract = checked(LIMITED)
    s = compile_contract(contract).evaluate({"savings": Fraction(1_500_000)})
    bank = next(r for r in s.returns if r.investor == "bank")
    assert Fraction(0.0299) < Fraction(bank.irr) <= Fraction(0.03)  # held at its limit, not below it
    received = {r: Fraction(a) for r, a in s.by_recipient.items()}
    assert s.total == 1_650_000 and s.by_payer == {"city": 1_650_000}  # nothing stays with the payer
    assert received.get("vehicle", 0) == 0
    assert received["bank"] + received["foundation"] == 1_650_000
    unlimited = compile_contract(checked(CONTRACT)).evaluate({"savings": Fraction(1_500_000)})
    held_back = Fraction(unlimited.by_recipient["bank"]) - received["bank"]
    assert held_back > 0 and received["foundation"] == Fraction(unlimited.by_recipient["foundation"]) + held_back
    # the trail: the cut on the senior line, and the release on the vehicle's line
    vehicle = [ln for ln in s.lines if ln.recipient == "vehicle"]
    released = [st for ln in vehicle for st in ln.steps if st.kind == "limit released"]
    assert released and all("passes on to the waterfall's later steps" in st.detail for st in released)
    assert any(st.kind == "return limit" for ln in s.lines if ln.recipient == "bank" for st in ln.steps)
    assert not order_breaches(contract, s)
    from sibdsl.semantics.returnlimits import breaches

    assert not breaches(contract, contract.return_limits[0], s)


@pytest.mark.parametrize("savings", [0, 300_000, 1_000_000, 1_500_000, 4_999_999])
def test_the_back_ends_agree_on_a_limit_within_a_waterfall(savings):
    from .test_semantics import assert_z3_same
    from .test_vector import assert_same

    contract = checked(LIMITED)
    rows = [{"savings": Fraction(savings)}]
    assert_same(contract, rows)
    assert_z3_same(contract, rows)


def test_verify_proves_the_order_and_the_limit_within_a_waterfall():
    verdicts = {v.key: v for v in verify_contract(checked(LIMITED))}
    assert verdicts["waterfall:repayment"].status == "proved", verdicts["waterfall:repayment"]
    assert verdicts["return:senior_cap"].status == "proved", verdicts["return:senior_cap"]


def test_what_no_later_step_takes_stays_with_the_vehicle():
    """A limit on the party of the last step: what it holds back has nowhere to go in the waterfall,
    so it stays with the vehicle, like anything the steps do not pay (W451) — the payer pays what its
    payment says; a limit meant to protect the payer is a cap on the payment or the total."""
    text = CONTRACT + "return limit junior_cap: 20 % in total for class junior\n"
    s = compile_contract(checked(text)).evaluate({"savings": Fraction(3_000_000)})
    assert Fraction(s.by_recipient["foundation"]) == 600_000
    assert s.total == 3_300_000 and Fraction(s.by_recipient["vehicle"]) > 0
    # the trail says so: the release after the last step is kept, not passed on
    released = [st.detail for ln in s.lines if ln.recipient == "vehicle" for st in ln.steps
                if st.kind == "limit released"]
    assert released and all(d.endswith("stays with vehicle: no later step of the waterfall is left to pay it")
                            for d in released)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_generated_limits_within_waterfalls_hold_and_release(data):
    """On generated contracts with a waterfall and return limits: every limit holds on the settled
    flows (recomputed independently), the order holds, and a limit within the waterfall never lowers
    what the payers pay for the waterfall's payments below what the steps after it can take."""
    from sibdsl.semantics.returnlimits import breaches

    text = data.draw(generated(waterfall=True), label="contract")
    contract = checked(text)
    evaluator = compile_contract(contract)
    row = data.draw(outcomes(contract), label="outcomes")
    try:
        s = evaluator.evaluate(row)
    except EvaluationError:
        return
    assert not order_breaches(contract, s), text
    for limit in contract.return_limits:
        assert not breaches(contract, limit, s), (text, limit.clause.name)
    for ln in s.lines:  # a release never makes the vehicle's line more than the payment paid it
        if ln.recipient == "ngo" and any(st.kind == "limit released" for st in ln.steps):
            computed = [st.after for st in ln.steps if st.kind not in ("waterfall", "limit released")][-1]
            assert ln.amount <= computed, text


@pytest.mark.parametrize("lang, words", [("en", "what it holds back passes on to the waterfall's later steps"),
                                         ("sv", "går vidare till fördelningsordningens senare steg")])
def test_the_document_says_a_limit_releases_within_the_waterfall(lang, words):
    from sibdsl.render.clauses import order_of_application

    with_limit, _ = order_of_application(checked(LIMITED.replace("languages en", "languages sv, en")), lang)
    without, _ = order_of_application(checked(CONTRACT.replace("languages en", "languages sv, en")), lang)
    assert any(words in item for item in with_limit) and not any(words in item for item in without)


# ------------------------------------------- a limited investor paid by two steps of one waterfall
# Hypothesis found it (tests/test_waterfall.py::test_generated_limits_within_waterfalls_hold_and_release):
# `fund` is paid by step 1 and by step 2 (`rest`), and a rate card pays it almost to its limit first.
# The settlement was right — step 1's payment is cut to the limit, what it cut passes to step 2, which
# pays the same investor, whose limit cuts it again, so the vehicle keeps it — but the independent
# check read the waterfall's own lines (of the same payment) as more lines the vehicle is paid.
GENERATED_SAME_INVESTOR = """contract "Generated"
  languages en
  currency SEK
  rounding 1 SEK half up
party city "City": payer
party fund "Fund": investor
party bank "Bank": investor
party ngo "Provider": provider
term 2020-01-01 to 2023-12-31
periods year:
  y1 2021-01-01 to 2021-12-31,
  y2 2022-01-01 to 2022-12-31
cohort group: size 40
investment loan_a: 400 000 SEK from fund on 2020-01-01
  class senior
measure spent: money between 0 SEK and 2 000 000 SEK
measure base: money between 0 SEK and 2 000 000 SEK
measure rate: share
measure ok: boolean
measure people: count between 0 and 200
measure visits: count per year between 0 and 60
measure started: date between 2020-01-01 and 2023-12-31
measure waited: days between 0 days and 400 days
define saved = max(base - spent, 0 SEK)
define per_visit = if visits > 0 then 12 000 SEK / visits else 0 SEK
baseline indexed_base = base
  indexed 2 % per year for 3 years
table coupon "Coupon": step { below 40 %: 0 %, from 40 %: 2 %, from 75 %: 3.5 % }
table bonus: linear { below: 0 SEK, 20 %: 10 000 SEK, 60 %: 90 000 SEK, above: 120 000 SEK }
payment p0 = visits * 1 000 SEK
  from city to ngo per year due 2023-06-30
payment p1 = visits * 1 000 SEK
  from city to fund per year due 2023-06-30
payment p2 = spent
  from city to fund due 2023-06-30
payment p3 = spent
  from city to fund due 2023-06-30
payment pr = if to_date(p0) > 20 000 SEK then 10 % of previous(p0) else 1 000 SEK
  from city to ngo per year due 2023-06-30
ratecard card from city to fund per year due 30 days after end: {
  o0: 220 SEK,
  o1: 220 SEK,
  o2: 220 SEK,
  indexed 2 % per year from 2020-07-01,
}
floor f_p0: p0 at 1 000 SEK
gate g_p1: p1 requires ok during y1
floor f_p1: p1 at 1 000 SEK
cap c_p1: p1 at 90 000 SEK during y1
gate g_p2: p2 requires ok
floor f_p2: p2 at 1 000 SEK
cap c_p2: p2 at 200 000 SEK
gate g_p3: p3 requires ok
floor f_p3: p3 at 1 000 SEK
cap c_p3: p3 at 200 000 SEK
gate g_pr: pr requires ok during y1
floor f_pr: pr at 1 000 SEK
waterfall w: p0
  1. to fund until drawn
  2. rest to fund
return limit r1: 8 % per year compound from 2020-01-01 to 2023-06-30
return limit r2: 15 % in total
"""
GENERATED_SAME_INVESTOR_OUTCOMES = {
    "spent": Fraction(0), "base": Fraction(0), "rate": Fraction(0), "ok": False, "people": Fraction(0),
    "visits": {"y1": Fraction(0), "y2": Fraction(0)}, "started": datetime.date(2000, 1, 1), "waited": Fraction(0),
    "card.o0": {"y1": Fraction(0), "y2": Fraction(0)}, "card.o1": {"y1": Fraction(0), "y2": Fraction(0)},
    "card.o2": {"y1": Fraction(0), "y2": Fraction(2024)}}


def test_the_generated_case_of_one_investor_in_two_steps_holds_its_order_and_its_limits():
    """The case Hypothesis found, replayed: the order holds (a later step paid only what the limit
    released), both limits hold, and `fund` receives exactly its 15 % in total (460 000 SEK)."""
    from sibdsl.semantics.returnlimits import breaches

    contract = checked(GENERATED_SAME_INVESTOR)
    s = compile_contract(contract).evaluate(GENERATED_SAME_INVESTOR_OUTCOMES)
    assert not order_breaches(contract, s)
    assert not [limit.clause.name for limit in contract.return_limits if breaches(contract, limit, s)]
    assert s.by_recipient["fund"] == 460_000  # the card 454 186, p1–p3 4 000, the waterfall 1 814
    step2 = [ln for ln in s.lines if ln.clause.name == "w.2" and ln.period == "y2"]
    assert [ln.amount for ln in step2] == [0] and step2[0].trail[0][3] == 186  # paid 186, cut back to 0
    vehicle = next(ln for ln in s.lines if ln.clause.name == "p0" and ln.period == "y2")
    assert vehicle.amount == 186  # what no step could pay stays with the vehicle, and the trail says so
    assert [st.detail.split(") ", 1)[1] for st in vehicle.steps if st.kind == "limit released"] == [
        "passes on to the waterfall's later steps", "stays with ngo: no later step of the waterfall is left to pay it"]


SAME_INVESTOR = """contract "One investor, two steps"
  languages en
  currency SEK
  rounding 1 SEK half up
party city "City": payer
party vehicle "Fund": intermediary
party fund "Lender": investor
term 2020-01-01 to 2023-12-31
investment loan: 400 000 SEK from fund on 2020-01-01
measure fees: money between 0 SEK and 1 000 000 SEK
measure savings: money between 0 SEK and 1 000 000 SEK
payment fee = fees from city to fund due 2023-01-30
payment outcome = savings from city to vehicle due 2023-06-30
waterfall w: outcome
  1. to fund until drawn
  2. rest to fund
return limit r: 15 % in total
"""


@pytest.mark.parametrize("fees, savings, fund, vehicle", [
    (459_000, 2_000, 460_000, 1_000),  # the limit cuts step 1; step 2 pays the release, which is cut again
    (460_000, 50_000, 460_000, 50_000),  # at its limit already: the waterfall pays it nothing in the end
    (0, 500_000, 460_000, 40_000),  # step 1 to the drawn 400 000, step 2 to the limit, the vehicle the rest
    (0, 300_000, 300_000, 0),  # below the limit: every krona to the lender
])
def test_a_limited_investor_paid_by_two_steps_is_never_paid_past_its_limit(fees, savings, fund, vehicle):
    """A lawyer's reading: what the limit holds back from step 1 passes on to step 2, but step 2 pays
    the same lender, so its limit cuts that too — the lender never receives more than its 15 %, the
    payer pays what its payments say, and what no step can pay stays with the vehicle. The order holds
    (step 2 pays no more than the limit released after step 1)."""
    from sibdsl.semantics.returnlimits import breaches

    contract = checked(SAME_INVESTOR)
    s = compile_contract(contract).evaluate({"fees": Fraction(fees), "savings": Fraction(savings)})
    assert s.by_recipient.get("fund", 0) == fund and s.by_recipient.get("vehicle", 0) == vehicle
    assert s.by_payer == {"city": fees + savings}
    assert not order_breaches(contract, s) and not breaches(contract, contract.return_limits[0], s)


def test_order_breaches_reads_each_line_the_vehicle_is_paid_once():
    """The independent check itself, on a settlement made wrong by hand: the vehicle is paid twice;
    step 1 pays the lender 250 000, then 99 000 of the second 100 000 and step 2 the other 1 000,
    though the lender has had 349 000 of its 400 000. The check names step 1 — it did not when it
    read the waterfall's own lines as more lines the vehicle is paid (the first 250 000 counted twice)."""
    text = SAME_INVESTOR.replace("return limit r: 15 % in total\n", "").replace(
        "waterfall w: outcome", "payment bonus = savings from city to vehicle due 2023-12-31\nwaterfall w: outcome, bonus")
    contract = checked(text)
    s = compile_contract(contract).evaluate({"fees": Fraction(0), "savings": Fraction(250_000)})
    assert not order_breaches(contract, s)
    lines, wrong = [ln for ln in s.lines if ln.clause.name == "w.1"], []
    assert [ln.due for ln in lines] == [datetime.date(2023, 6, 30), datetime.date(2023, 12, 31)]
    kind, clause, before, _, detail = lines[1].trail[0]
    step1 = attrs.evolve(lines[1], exact=99_000, trail=((kind, clause, before, 99_000, detail),))
    step2 = attrs.evolve(lines[1], clause=attrs.evolve(clause, name="w.2"), exact=1_000,
                         trail=((kind, attrs.evolve(clause, name="w.2"), before, 1_000, detail),))
    wrong = [step1 if ln is lines[1] else ln for ln in s.lines] + [step2]
    assert order_breaches(contract, attrs.evolve(s, lines=tuple(wrong))) == ["w.1"]


def test_verify_proves_the_order_and_the_limit_of_one_investor_in_two_steps():
    verdicts = {v.key: v for v in verify_contract(checked(SAME_INVESTOR))}
    assert verdicts["waterfall:w"].status == "proved", verdicts["waterfall:w"]
    assert verdicts["return:r"].status == "proved", verdicts["return:r"]


@pytest.mark.parametrize("fees, savings", [(0, 0), (459_000, 2_000), (460_000, 50_000), (0, 500_000)])
def test_the_back_ends_agree_on_one_investor_in_two_steps(fees, savings):
    from .test_semantics import assert_z3_same
    from .test_vector import assert_same

    contract = checked(SAME_INVESTOR)
    rows = [{"fees": Fraction(fees), "savings": Fraction(savings)}]
    assert_same(contract, rows)
    assert_z3_same(contract, rows)


# ---------------------------------------------------------------- a party once in a step (E464)
def diagnostics(text: str):
    return check_source(Source("waterfall.sib", text))[1]


@pytest.mark.parametrize("step, message, hint", [
    # step 1 paid everything to bank (1 500 000 SEK) though its target was bank's 1 000 000 SEK drawn:
    # the target counted one of its two shares
    ("1. 60 % to bank, 40 % to bank until bank drawn", "step 1 pays `bank` twice",
     "name `bank` once in the step, with one share (the two together: `100 % to bank`)"),
    ("1. 30 % to class senior, 70 % to class senior until 100 000 SEK", "step 1 pays `class senior` twice",
     "name `class senior` once in the step, with one share (the two together: `100 % to class senior`)"),
    ("1. 50 % to class senior, 50 % to bank until 100 000 SEK",
     "step 1 pays `bank` twice: as an investor of class `senior` and by name",
     ("a class is paid to its investors pro rata to what they drew: in one step, pay the class or its "
     "investors by name, not both; or pay `bank` in a step of its own")),
])
def test_a_step_that_pays_a_party_twice_is_refused_at_the_second_mention(step, message, hint):
    text = CONTRACT.replace("  1. to class senior until drawn plus 5 % per year", "  " + step)
    assert text != CONTRACT
    (d,) = [d for d in diagnostics(text) if d.is_error]
    assert (d.code, d.message, d.hint) == ("E464", message, hint)
    second = step.rindex("to ") + 3
    assert d.source.excerpt(d.span) == step[second:].split(" until")[0]
    assert text.index(step) + second == d.source.offsets(d.span)[0]  # the second mention, not the first
    assert d.labels and d.source.excerpt(d.labels[0].span) == step[step.index("to ") + 3:].split(",")[0]


def test_a_party_in_two_steps_is_not_twice_in_a_step():
    assert not [d for d in diagnostics(CONTRACT) if d.code == "E464"]  # class senior in steps 1 and 2


# ---------------------------------------------------------------- a waterfall over an instrument (E465)
INSTRUMENTS = CONTRACT.replace("term 2020-01-01 to 2024-12-31\n", """term 2020-01-01 to 2024-12-31
periods year: y2020 2020-01-01 to 2020-12-31, y2021 2021-01-01 to 2021-12-31
measure ended: boolean
""").replace("measure savings", """coupon interest: 5 % per year on senior_loan per year from vehicle
repayment back: principal of junior_loan from vehicle due 2024-06-30
redemption early: 50 % of senior_loan from vehicle when ended due 2021-06-30
measure savings""")


@pytest.mark.parametrize("kind, name, recipient", [("coupon", "interest", "bank"), ("repayment", "back", "foundation"),
                                                   ("redemption", "early", "bank")])
def test_a_waterfall_over_a_coupon_repayment_or_redemption_is_refused_with_what_to_write(kind, name, recipient):
    text = INSTRUMENTS.replace("waterfall repayment: outcome, bonus", f"waterfall repayment: outcome, {name}")
    errors = [d for d in diagnostics(text) if d.is_error]
    assert [d.code for d in errors] == ["E465"]
    (d,) = errors
    assert d.message == (f"the waterfall distributes the {kind} `{name}`, which is paid to `{recipient}`, the "
                         "investor of its investment, not to a vehicle")
    assert d.hint.endswith(f"and let the vehicle pay the {kind} (`from vehicle`)")
    assert d.source.excerpt(d.span) == name


def test_the_vehicle_pays_the_coupon_beside_the_waterfall_it_distributes():
    """What E465 says to write instead settles: the waterfall shares out what the city pays the fund,
    and the fund pays the senior lender its coupon, a receipt of the lender's beside the steps."""
    contract = checked(INSTRUMENTS)
    s = compile_contract(contract).evaluate({"savings": Fraction(1_500_000), "ended": False})
    interest = {ln.period: ln.exact for ln in s.lines if ln.payment == "interest"}
    assert interest == {"y2020": 50_137, "y2021": 50_000}  # 5 % of 1 000 000 × 366/365, then a whole year
    assert {ln.payer for ln in s.lines if ln.payment == "interest"} == {"vehicle"}
    assert all(ln.trail[0][1].kind == "coupon" for ln in s.lines if ln.payment == "interest")
    # the waterfall's steps are as without the coupon: it does not distribute it
    plain = compile_contract(checked(CONTRACT)).evaluate({"savings": Fraction(1_500_000)})
    steps = {(ln.clause.name, ln.recipient, ln.exact) for ln in s.lines if ln.clause.kind == "waterfall"}
    assert steps and steps == {(ln.clause.name, ln.recipient, ln.exact) for ln in plain.lines
                               if ln.clause.kind == "waterfall"}
    (bank,) = [r for r in s.returns if r.investor == "bank"]
    assert bank.received == sum(ln.exact for ln in s.lines if ln.recipient == "bank")


def test_a_class_with_the_vehicle_among_its_investors_is_refused():
    """E457 named the vehicle when a step paid it by name; paid as an investor of a class it went
    through: the vehicle paid itself its share of what it distributes."""
    text = CONTRACT.replace("from city to vehicle", "from city to foundation")
    assert text != CONTRACT
    found = [d for d in diagnostics(text) if d.code == "E457"]
    assert [d.message for d in found] == ["the waterfall pays class `junior`, whose investor `foundation` is the "
                                          "vehicle the waterfall distributes from"] * 2  # steps 2 and 3
    assert all(d.source.excerpt(d.span) == "class junior" for d in found)


def test_a_step_line_is_paid_from_the_vehicle_in_every_view_and_still_counts_as_the_payers():
    """Review of issue 14: the `from` of a line a waterfall's step paid showed the payer (`city`),
    where the money the step pays comes from the vehicle the payer paid. Every view now shows the
    vehicle — the settlement's text and JSON, the interim settlement in both languages and its JSON,
    `--explain` in both languages — and the JSON keeps the payer; the payer's totals are unchanged."""
    import re

    from sibdsl.explain_text import explain_settlement
    from sibdsl.interim import interim_json, interim_text, settle
    from sibdsl.report import settlement_json, settlement_text

    contract = checked(CONTRACT)
    evaluator = compile_contract(contract)
    s = evaluator.evaluate({"savings": Fraction(1_500_000)})
    steps = [ln for ln in s.lines if ln.clause.kind == "waterfall"]
    assert steps and all(ln.payer == "city" for ln in steps)  # the model: still the payer's line
    assert s.by_payer == {"city": 1_650_000}
    text = settlement_text(s, trace=False)
    assert re.search(r"^outcome +vehicle +bank +2023-06-30 +1 185 975 SEK$", text, re.M), text
    assert re.search(r"^outcome +city +vehicle +2023-06-30 +0 SEK$", text, re.M), text  # the payer pays the vehicle
    assert not re.search(r"^\w+ +city +(bank|foundation) ", text, re.M), text
    data = settlement_json(s)
    for line in data["lines"]:
        paid_on = line["clause"]["kind"] == "waterfall"
        assert (line["from"], line.get("payer")) == (("vehicle", "city") if paid_on else ("city", None)), line
    assert data["by_payer"] == {"city": "1650000"}
    interim = settle(evaluator, {"savings": Fraction(1_500_000)})
    for lang, header in (("en", "from"), ("sv", "från")):
        said = interim_text(interim, lang=lang, trace=False)
        assert header in said.splitlines()[2]
        assert re.search(r"^outcome +repayment\.1 +vehicle +bank ", said, re.M), said
        assert not re.search(r"repayment\.\d +city ", said), said
    assert {(ln["from"], ln.get("payer")) for ln in interim_json(interim)["lines"]} == {
        ("city", None), ("vehicle", "city")}
    english, swedish = explain_settlement(contract, s, "en"), explain_settlement(contract, s, "sv")
    assert "The Fund pays SEK 1,185,975 to Bank." in english or "Fund pays SEK 1,185,975 to Bank." in english, english
    assert "Fund betalar 1 185 975 kr till Bank." in swedish, swedish
    assert "City pays SEK 1,185,975" not in english and "City betalar 1 185 975" not in swedish
