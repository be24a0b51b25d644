"""Syntax tree → checked model: names, types and units, contract rules, one table row per rule."""

from __future__ import annotations

from fractions import Fraction

import pytest

from sibdsl.diagnostics import render_gnu
from sibdsl.units import MONEY, SHARE

from .conftest import contract, model

CASES = [
    pytest.param(
        'measure m: money\ndefine x = m + 40 %\npayment p = x from city to fund',
        [
            'test.sib:8:12: error[E301]: cannot add a share (percentage) to money (SEK) (hint: to take a percentage of an amount, write `40 % of amount`)',
        ],
        id='money_plus_share',
    ),
    pytest.param(
        'measure n: count\ndefine x = 40 % of n\npayment p = 1 SEK from city to fund',
        [
            'test.sib:8:12: error[E303]: a percentage of a count is not a number of people or events (hint: compare ratios instead, e.g. `events / baseline_events <= 90 %`)',
        ],
        id='percentage_of_count',
    ),
    pytest.param(
        'measure costs: money\npayment p = 60 % of cost from city to fund',
        [
            'test.sib:8:21: error[E201]: no value is called `cost` (hint: did you mean `costs`?)',
        ],
        id='undefined_with_suggestion',
    ),
    pytest.param(
        'measure m: money\ndefine m = 3\npayment p = m from city to fund',
        [
            'test.sib:8:8: error[E202]: `m` is defined twice (hint: give each party, measure, definition, payment and clause its own name)',
        ],
        id='duplicate',
    ),
    pytest.param(
        'term 2020-01-01 to 2021-12-31\nperiods year: y1 2020-01-01 to 2020-12-31\n'
        'measure n: count per year\npayment p = 1 SEK from city to fund\n'
        'guarantee g: total <= 1 SEK when n > 3',
        [
            'test.sib:11:34: error[E307]: the condition depends on values per `year` (hint: a guarantee is about the whole settlement: add the periods up with sum(…), e.g. `sum(if met then 1 else 0) == 0` for "no period met")',
        ],
        id='guarantee_condition_per_period',
    ),
    pytest.param(
        'term 2020-01-01 to 2021-12-31\nperiods year: y1 2020-01-01 to 2020-12-31\n'
        'measure n: count per year\npayment p = 1 SEK from city to fund\n'
        'guarantee g: n < 3',
        [
            'test.sib:11:14: error[E307]: the guarantee depends on values per `year` (hint: a guarantee is about the whole settlement: add the periods up with sum(…), e.g. `sum(if met then 1 else 0) == 0` for "no period met")',
        ],
        id='guarantee_per_period',
    ),
    pytest.param(
        'define a = b + 1\ndefine b = a * 2\npayment p = 1 SEK from city to fund',
        [
            'test.sib:7:8: error[E203]: `a` depends on itself: a → b → a (hint: a definition cannot use its own value, directly or through others)',
        ],
        id='cycle',
    ),
    pytest.param(
        'payment p = 1 SEK from city to fund\nfloor total at 5 000 SEK\ncap total at 4 000 SEK',
        [
            'test.sib:8:16: error[E403]: the floor (5 000 SEK) is above the cap (4 000 SEK) (hint: a floor above a cap cannot both hold; lower the floor or raise the cap)',
        ],
        id='floor_above_cap',
    ),
    pytest.param(
        'payment p = 1 SEK from city to fund\nreturn limit r: 8 % in total',
        [
            'test.sib:8:1: error[E404]: a return limit needs an investment to measure the return on (hint: declare it: `investment loan: 10 000 000 SEK from investor on 2016-08-01`)',
        ],
        id='return_limit_without_investment',
    ),
    pytest.param(
        'periods q: a 2017-01-01 to 2017-06-30, b 2017-06-01 to 2017-12-31\npayment p = 1 SEK from city to fund',
        [
            'test.sib:7:40: error[E405]: period `b` overlaps period `a` (hint: periods of one series must not share a day; declare overlapping periods in separate series)',
        ],
        id='overlapping_periods',
    ),
    pytest.param(
        'party ev "Ev": evaluator\npayment p = 1 SEK from city to ev',
        [
            'test.sib:8:32: error[E406]: `ev` receives payments, but its roles (evaluator) do not allow it (hint: a party that receives needs one of the roles: investor, provider, intermediary)',
        ],
        id='evaluator_cannot_receive',
    ),
    pytest.param(
        'payment p = 1 SEK from fund to city',
        [
            'test.sib:7:24: error[E407]: `fund` pays, but its roles (investor) do not allow it (hint: a party that pays needs one of the roles: payer)',
            'test.sib:7:32: error[E406]: `city` receives payments, but its roles (payer) do not allow it (hint: a party that receives needs one of the roles: investor, provider, intermediary)',
        ],
        id='investor_cannot_pay',
    ),
    pytest.param(
        'payment p = 1 SEK',
        [
            "test.sib:7:9: error[E408]: the payment `p` does not say who pays and who receives it (hint: add e.g. `from municipality to investor` with the parties' names)",
        ],
        id='payment_without_parties',
    ),
    pytest.param(
        'payment p = 1 SEK from city to fund\ngate g: p requires school_ok',
        [
            'test.sib:8:20: error[E201]: no value is called `school_ok` (hint: declare it first, e.g. `measure school_ok: boolean` for a measured outcome or `define school_ok = …` for a derived value)',
        ],
        id='gate_on_unknown_measure',
    ),
    pytest.param(
        'payment p = 1 EUR from city to fund',
        [
            "test.sib:7:15: error[E302]: `EUR` is not the contract's currency (SEK) (hint: write amounts in SEK, as the header says)",
        ],
        id='foreign_currency',
    ),
    pytest.param(
        'payment p = 1 SKE from city to fund',
        [
            "test.sib:7:15: error[E302]: `SKE` is not the contract's currency (SEK) (hint: did you mean `SEK`?)",
        ],
        id='currency_typo',
    ),
    pytest.param(
        'payment p = 1 kronor from city to fund',
        [
            "test.sib:7:15: error[E207]: unknown unit `kronor` (hint: write kronor as the contract's currency code: `1 SEK`)",
        ],
        id='unknown_unit',
    ),
    pytest.param(
        'measure m: mony\npayment p = 1 SEK from city to fund',
        [
            'test.sib:7:12: error[E206]: unknown measure type `mony` (hint: did you mean `money`?)',
        ],
        id='unknown_type',
    ),
    pytest.param(
        'party x "X": investr\npayment p = 1 SEK from city to fund',
        [
            'test.sib:7:14: error[E205]: unknown role `investr` (hint: did you mean `investor`?)',
        ],
        id='unknown_role',
    ),
    pytest.param(
        'measure m: money\npayment p = 1 SEK from city to fund when m',
        [
            'test.sib:8:42: error[E304]: expected a yes/no condition, found money (SEK) (hint: compare it, e.g. `savings > 0 SEK`, or use a yes/no measure)',
        ],
        id='condition_not_boolean',
    ),
    pytest.param(
        'define t = total\npayment p = 1 SEK from city to fund',
        [
            'test.sib:7:12: error[E309]: `total` (the settled payout) can only be used in a guarantee (hint: caps, floors and gates on the total are written `cap total at …`)',
        ],
        id='total_outside_guarantee',
    ),
    pytest.param(
        'payment p = 1 SEK from city to fund\ndefine q = p',
        [
            'test.sib:8:12: error[E309]: the payment `p` can only be referred to in a guarantee (hint: compute shared amounts with `define` and use them in both payments)',
        ],
        id='payment_outside_guarantee',
    ),
    pytest.param(
        'periods y: y1 2017-01-01 to 2017-12-31\nmeasure e: count per y\npayment p = e * 1 SEK from city to fund',
        [
            'test.sib:9:13: error[E307]: the payment `p` depends on values per `y` (hint: add `per y` to the payment, or add up with sum(…))',
        ],
        id='per_period_without_per',
    ),
    pytest.param(
        'measure r: share\npayment p = tiers(r) { below: 0 SEK, from 10 %: 5 SEK, from 5 %: 7 SEK } from city to fund',
        [
            'test.sib:8:61: error[E308]: table thresholds must increase from row to row (hint: order the `from` rows from the lowest threshold to the highest)',
        ],
        id='tiers_not_increasing',
    ),
    pytest.param(
        'measure r: share\nmeasure k: share\npayment p = interpolate(r) { 0 %: 0 SEK, k: 5 SEK } from city to fund',
        [
            'test.sib:9:42: error[E310]: an interpolation point must be fixed when the contract is signed, but it depends on the measure `k` (hint: use numbers, dates and definitions that do not depend on measures)',
        ],
        id='interpolation_point_not_fixed',
    ),
    pytest.param(
        'payment p = maximum(1 SEK, 2 SEK) from city to fund',
        [
            'test.sib:7:13: error[E209]: unknown function `maximum` (hint: did you mean `max`?)',
        ],
        id='unknown_function',
    ),
    pytest.param(
        'payment p "P" @sv "Q" = 1 SEK from city to fund',
        [
            'test.sib:7:16: error[E208]: a translation to `sv`, which is not a further language of the contract (hint: the header declares `languages en`; the first one is the language of the main text)',
        ],
        id='translation_to_undeclared_language',
    ),
    pytest.param(
        'measure m: money\npayment p = 1 SEK from city to fund',
        [
            'test.sib:7:9: warning[W401]: the measure `m` is never used (hint: use it in a definition, payment, gate or guarantee, or remove it)',
        ],
        id='unused_measure_warns',
    ),
    pytest.param(
        'measure m: money\npayment p = min(m, 5) from city to fund',
        [
            'test.sib:8:20: error[E305]: `min` of money (SEK) and a number (hint: all values in `min(…)` must be of one kind — did you forget a currency?)',
        ],
        id='min_of_money_and_number',
    ),
    pytest.param(
        'measure m: money\npayment p = 1 SEK from city to fund when m > 0',
        [
            'test.sib:8:42: error[E305]: cannot compare money (SEK) with a number (hint: write the amount with its currency, e.g. `0 SEK`)',
        ],
        id='compare_money_with_number',
    ),
    pytest.param(
        'payment p = 1 SEK from city to fund\nguarantee g: total',
        [
            'test.sib:8:14: error[E304]: a guarantee states a yes/no property, found money (SEK) (hint: e.g. `guarantee never_above: total <= 12 000 000 SEK`)',
        ],
        id='guarantee_not_boolean',
    ),
    pytest.param(
        'payment p = 1 SEK from city to fund\ncap per participant at 5 SEK',
        [
            'test.sib:8:5: error[E411]: a cap per participant needs exactly one cohort (this contract has 0) (hint: declare the cohort: `cohort youths: size 60`)',
        ],
        id='cap_per_participant_needs_cohort',
    ),
    pytest.param(
        'periods q: a 2017-06-01 to 2017-01-01\npayment p = 1 SEK from city to fund',
        [
            'test.sib:7:12: error[E409]: period `a` ends before it starts (hint: periods are written `name START to END`)',
        ],
        id='period_ends_before_start',
    ),
    pytest.param(
        'measure r: share\npayment p = r from city to fund',
        [
            'test.sib:8:13: error[E306]: the payment `p` must be an amount of money, not a share (percentage) (hint: write amounts with the currency, e.g. `5 000 000 SEK`)',
        ],
        id='payment_not_money',
    ),
    pytest.param(
        'measure b: boolean\npayment p = if b then 1 SEK else 2 from city to fund',
        [
            'test.sib:8:13: error[E305]: the two branches differ: money (SEK) and a number (hint: both branches of `if … then … else …` must give the same kind of value)',
        ],
        id='if_branches_differ',
    ),
    pytest.param(
        'periods y: y1 2017-01-01 to 2017-12-31\nperiods h: h1 2017-01-01 to 2017-12-31\nmeasure a: count per y\nmeasure c: count per h\ndefine x = a + c\npayment p = 1 SEK from city to fund',
        [
            'test.sib:11:12: error[E307]: values per `y` and per `h` cannot be combined (hint: combine values of the same period series, or sum one of them with sum(…))',
        ],
        id='series_mixing',
    ),
    pytest.param(
        'measure m: money\nguarantee g: m >= 0 SEK',
        [
            'test.sib:1:1: warning[W402]: the contract has no payments (hint: declare one: `payment outcome = … from PAYER to INVESTOR`)',
        ],
        id='no_payments_warns',
    ),
    pytest.param(
        'payment p = 1 EUR from city to nobody\ndefine d = 40 % of 3 SEK + 2\nmeasure n: count\ndefine e = 10 % of n',
        [
            "test.sib:7:15: error[E302]: `EUR` is not the contract's currency (SEK) (hint: write amounts in SEK, as the header says)",
            'test.sib:7:32: error[E201]: no party is called `nobody` (hint: the parties are: city, fund)',
            'test.sib:8:12: error[E301]: cannot add a number to money (SEK) (hint: write the amount with its currency, e.g. `5 000 SEK`)',
            'test.sib:10:12: error[E303]: a percentage of a count is not a number of people or events (hint: compare ratios instead, e.g. `events / baseline_events <= 90 %`)',
        ],
        id='all_errors_at_once',
    ),
]


@pytest.mark.parametrize("body, expected", CASES)
def test_diagnostics(body, expected):
    assert [render_gnu(d) for d in contract(body)[1]] == expected


def test_errors_give_no_model_but_warnings_do():
    assert contract("payment p = 1 EUR from city to fund")[0] is None
    result, diagnostics = contract("measure m: money\npayment p = 1 SEK from city to fund")
    assert result is not None and [d.code for d in diagnostics] == ["W401"]


def test_model_types_and_constants():
    m = model(
        "measure costs: money better lower between 0 SEK and 9 000 000 SEK\n"
        "measure ratio: share\n"
        "investment loan: 10 000 000 SEK from fund on 2016-08-01\n"
        "define savings = max(5 000 000 SEK - costs, 0 SEK)\n"
        "baseline ref = 1 000 SEK indexed 2 % per year for 2 years\n"
        "payment p = 40 % of loan + savings * ratio + ref from city to fund\n"
    )
    costs = m.measures["costs"]
    assert costs.ty.kind == MONEY and costs.ty.currency == "SEK" and costs.better == "lower"
    assert (costs.lower, costs.upper) == (0, 9_000_000)
    assert m.measures["ratio"].ty.kind == SHARE
    assert m.investments["loan"].amount == Fraction(10_000_000)
    assert m.definitions["ref"].indexation.rate == Fraction(2, 100)
    assert list(m.payments) == ["p"] and m.payments["p"].payer == "city"


def test_floor_without_parties_takes_the_only_pair():
    m = model("payment p = 1 SEK from city to fund\nfloor total at 5 SEK")
    assert (m.floors[0].payer, m.floors[0].recipient) == ("city", "fund")


def test_unnamed_clauses_get_stable_names_and_headings():
    m = model('§ 3 "Tak"\npayment p = 1 SEK from city to fund\ncap total at 5 SEK\ncap p at 3 SEK')
    assert [c.clause.name for c in m.caps] == ["cap_1", "cap_2"]
    assert m.caps[0].clause.heading == "§ 3 Tak"
    assert m.payments["p"].clause.cite() == "§ 3 Tak, payment p (line 8)"


@pytest.mark.parametrize("unit, hint", [
    ("kronor", "write kronor as the contract's currency code: `10 SEK`"),
    ("MSEK", "write the whole amount in SEK, e.g. `10 000 000 SEK` (there are no million or thousand suffixes)"),
    ("Sek", "currency codes are written in capitals: `SEK`"),
    ("procent", "write percentages with `%`, e.g. `40 %`"),
    ("dagar", "write durations in `days`, e.g. `90 days`"),
    ("dyas", "did you mean `days`?"),
])
def test_unit_hints(unit, hint):
    (d,) = contract(f"payment p = 10 {unit} from city to fund")[1]
    assert (d.code, d.hint) == ("E207", hint)


def test_definitions_come_after_what_they_refer_to_in_the_order_formulas_name_it():
    diamond = model("measure x: money\ndefine top = left + right\ndefine left = base * 2\n"
                    "define right = base + left\ndefine base = x\npayment p = top from city to fund\n")
    assert list(diamond.definitions) == ["base", "left", "right", "top"]
    tables = model("measure x: money\n"
                   "define t = tiers(x) { below: lo, from 1 000 SEK: mid, from 2 000 SEK: hi }\n"
                   "define lo = 0 SEK\ndefine mid = lo + 1 SEK\ndefine hi = k * 2\ndefine k = 5 SEK\n"
                   "define i = interpolate(x) { 0 SEK: lo, 10 SEK: hi }\n"
                   "baseline bl = x indexed r per year for 2 years\ndefine r = 2 %\n"
                   "payment p = t + i + bl from city to fund\n")
    assert list(tables.definitions) == ["lo", "mid", "k", "hi", "t", "i", "r", "bl"]


def test_a_long_chain_of_definitions_written_top_down_is_checked():
    """Each definition refers to the next one below it: checking them in declaration order used to
    recurse through the whole chain and ran out of stack after ≈ 140 (a RecursionError)."""
    chain = "".join(f"define d{i} = d{i + 1} + 1 SEK\n" for i in range(3000))
    result = model("measure x: money\n" + chain + "define d3000 = x\npayment p = d0 from city to fund\n")
    assert list(result.definitions)[:2] == ["d3000", "d2999"] and len(result.definitions) == 3001


def test_a_cycle_is_reported_where_it_is_entered_first():
    _, diagnostics = contract("measure x: money\ndefine c1 = c2 + x\ndefine c2 = c3 + x\ndefine c3 = c1\n"
                              "define e = f\ndefine f = x\npayment p = e from city to fund\n")
    assert [d.message for d in diagnostics if d.code == "E203"] == ["`c1` depends on itself: c1 → c2 → c3 → c1"]


def test_the_hint_for_a_name_used_many_times_is_worked_out_once(monkeypatch):
    import importlib

    checker = importlib.import_module("sibdsl.check.names")  # `sibdsl.check` is the function
    calls = []
    real = checker.did_you_mean
    monkeypatch.setattr(checker, "did_you_mean", lambda name, candidates: calls.append(name) or real(
        name, candidates))
    _, diagnostics = contract("measure savings: money\n"
                              + "".join(f"define d{i} = savigns * {i}\n" for i in range(50)))
    hints = {d.hint for d in diagnostics if d.code == "E201"}
    assert hints == {"did you mean `savings`?"} and calls == ["savigns"]


@pytest.mark.parametrize("unit", ["kr", "kronor", "Kr"])
def test_kronor_written_the_swedish_way_get_the_amount_back_in_the_contracts_currency(unit):
    _, diagnostics = contract(f"payment p = 5 000 {unit} from city to fund\n")
    (d,) = [d for d in diagnostics if d.code == "E207"]
    assert d.hint == "write kronor as the contract's currency code: `5 000 SEK`"
