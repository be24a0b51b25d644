"""`sibc diff`: clause changes by name, the money effect where the drafts differ, exit codes."""

from __future__ import annotations

import json
from fractions import Fraction

from sibdsl import load_contract, parse, read_source
from sibdsl.diff import clause_changes, money_effect

from .conftest import ROOT


def load_contract_text(text: str):
    from sibdsl import check_source
    from sibdsl.source import Source

    contract, diagnostics = check_source(Source("draft.sib", text))
    assert contract is not None, diagnostics
    return contract

NK, INDIGO = ROOT / "contracts" / "norrkoping.sib", ROOT / "contracts" / "variants" / "norrkoping_indigo.sib"


def test_clause_changes_between_the_two_readings_of_norrkoping():
    changes = {(c.kind, c.what) for c in clause_changes(parse(read_source(NK)), parse(read_source(INDIGO)))}
    assert changes == {("changed", "header"), ("removed", "payment activity"), ("changed", "payment outcome")}


def test_the_money_effect_is_proved_for_every_outcome():
    """Issue 17: not a grid — the largest increase and decrease are proved the largest, and the
    outcomes shown produce them when both drafts are settled by the evaluator."""
    effect = money_effect(load_contract(NK), load_contract(INDIGO))
    assert effect.decided
    total = next(e for e in effect.effects if e.line == "total")
    assert total.differs is True
    # INDIGO's reading pays the whole loan where RISE's pays 60 % of it: 4 000 000 SEK more, at most
    up, down = total.increase, total.decrease
    assert (up.amount, up.status, up.bound, up.confirmed) == (4_000_000, "exact", 4_000_000, True)
    assert up.new - up.old == 4_000_000
    # RISE's 60 % sharing pays more between zero savings and break-even: 2 400 000 SEK at most
    assert (down.amount, down.status, down.bound, down.confirmed) == (-2_400_000, "exact", -2_400_000, True)
    # round, readable outcomes: whole kronor
    for x in (up, down):
        for value in x.outcomes.values():
            assert isinstance(value, bool) or value.endswith(" SEK") and "." not in value
    # the activity payment is gone in INDIGO's reading: each payment on request
    each = money_effect(load_contract(NK), load_contract(INDIGO), lines="all")
    activity = next(e for e in each.effects if e.line == "activity")
    assert activity.increase is None and activity.decrease.amount == -4_000_000


def test_drafts_that_pay_the_same_are_proved_equal():
    """A reworded formula that pays the same for every outcome: no increase, no decrease, proved."""
    text = (ROOT / "contracts" / "nyc_rikers.sib").read_text(encoding="utf-8")
    old = load_contract_text(text)
    new = load_contract_text(text.replace("payment success \"Success payment\" = city_amount",
                                          "payment success \"Success payment\" = city_amount + 0 USD"))
    effect = money_effect(old, new)
    assert [e.differs for e in effect.effects] == [False] * len(effect.effects) and effect.decided


def test_the_region_where_the_drafts_differ_is_proved():
    """A lower cap on Rikers only matters from the 11 % tier (10 080 000 USD > 10 000 000 USD)."""
    text = (ROOT / "contracts" / "nyc_rikers.sib").read_text(encoding="utf-8")
    effect = money_effect(load_contract_text(text),
                          load_contract_text(text.replace("total at 11 712 000 USD", "total at 10 000 000 USD")))
    region = {r.measure: r for r in effect.region}
    assert region["bed_day_reduction"].low == Fraction(11, 100) and region["bed_day_reduction"].high is None


def test_only_layout_and_comments_mean_the_same(tmp_path, run):
    old = tmp_path / "old.sib"
    new = tmp_path / "new.sib"
    old.write_bytes((ROOT / "contracts" / "nyc_rikers.sib").read_bytes())
    new.write_text("# a new comment\n" + old.read_text(encoding="utf-8").replace("  from city", "    from city"),
                   encoding="utf-8")
    result = run("diff", str(old), str(new))
    assert result.exit_code == 0 and "mean the same" in result.stdout


def test_a_changed_cap_shows_old_new_and_money(tmp_path, run):
    old = tmp_path / "old.sib"
    new = tmp_path / "new.sib"
    text = (ROOT / "contracts" / "nyc_rikers.sib").read_text(encoding="utf-8")
    old.write_text(text, encoding="utf-8")
    new.write_text(text.replace("total at 11 712 000 USD", "total at 10 000 000 USD"), encoding="utf-8")
    result = run("diff", str(old), str(new))
    assert result.exit_code == 1
    assert "  changed cap overall" in result.stdout
    assert "    + cap overall \"Most the investor receives\": total at 10 000 000 USD" in result.stdout
    assert ("largest decrease 1 712 000 USD (proved the largest), for example at bed_day_reduction = 20 %: "
            "11 712 000 USD → 10 000 000 USD") in result.stdout
    assert "paid by bloomberg: the same for every outcome (proved)" in result.stdout
    assert "the totals can differ only where bed_day_reduction is at least 11 %" in result.stdout
    data = json.loads(run("diff", str(old), str(new), "--format", "json").stdout)
    total = next(line for line in data["money"]["lines"] if line["line"] == "total")
    assert total["largest_decrease"]["amount"] == "-1712000" and total["largest_increase"] is None
    assert total["largest_decrease"]["status"] == "exact" and total["largest_decrease"]["confirmed"] is True
    assert total["largest_decrease"]["outcomes"] == {"bed_day_reduction": "20 %"}
    assert data["money"]["method"] == "proved" and data["money"]["decided"] is True


def test_a_draft_with_errors_is_not_compared(tmp_path, run):
    bad = tmp_path / "bad.sib"
    bad.write_text('contract "T" currency SEK rounding 1 SEK half up\npayment p = 1 SEK from a to b\n')
    result = run("diff", str(NK), str(bad))
    assert result.exit_code == 2 and "error[E201]" in result.stderr


def test_chart_of_both_drafts(tmp_path, run):
    out = tmp_path / "diff.svg"
    result = run("diff", str(NK), str(INDIGO), "--chart", str(out))
    assert result.exit_code == 1
    svg = out.read_text(encoding="utf-8")
    assert svg.startswith("<svg") and svg.count("<polyline") == 2 and "norrkoping_indigo.sib (dashed)" in svg
    # the real breakpoints against the target group's costs (the reference group's as published:
    # a baseline of 60 000 000 SEK): savings start at 60 MSEK; INDIGO's 4 MSEK floor is passed at
    # 56 MSEK; RISE's outcome payment reaches its 6 MSEK at break-even (50 MSEK); the bonus is full at 48 MSEK
    for x in ("60 000 000 SEK", "56 000 000 SEK", "50 000 000 SEK", "48 000 000 SEK"):
        assert f'fill="#06c">{x}</text>' in svg, x
    refused = run("diff", str(NK), str(INDIGO), "--chart", str(NK))
    assert refused.exit_code == 1 and "input" in refused.output


def test_drafts_in_different_currencies_are_refused(tmp_path, monkeypatch):
    # issue 17: 1 000 000 SEK is not 1 000 000 USD — E761 at both `currency` lines, exit 2, no comparison
    from click.testing import CliRunner

    from sibdsl.cli import main

    text = ('contract "Utkast"\n  currency SEK\n  rounding 1 SEK half up\nparty city "Staden": payer\n'
            'party fund "Fonden": investor\nmeasure avoided: count between 0 and 200\n'
            'payment outcome = 20 000 SEK * avoided from city to fund\n')
    (tmp_path / "old.sib").write_text(text, encoding="utf-8")
    (tmp_path / "new.sib").write_text(text.replace("SEK", "USD"), encoding="utf-8")
    (tmp_path / "same.sib").write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["diff", "old.sib", "new.sib"], catch_exceptions=False)
    assert result.exit_code == 2
    assert "error[E761]: the drafts pay in different currencies (SEK in old.sib, USD in new.sib)" in result.output
    assert "new.sib:2:3" in result.output and "old.sib:2:3" in result.output
    assert "largest" not in result.output  # nothing compared
    same = CliRunner().invoke(main, ["diff", "old.sib", "same.sib"], catch_exceptions=False)
    assert same.exit_code == 0 and "E761" not in same.output


def test_a_card_cut_in_proportion_is_sampled_and_says_so():
    """issue 15: a rate card's cap `in proportion` divides by the lines' total, which the solver cannot
    decide; the diff settles both drafts on sampled outcomes (a fixed seed), marks the answer as
    not proved (W582), and every example it shows is the evaluator's own figures."""
    from sibdsl.diff import SAMPLED, SAMPLES, _Drafts, _samples
    from sibdsl.evaluate import compile_contract
    from sibdsl.outcomes import load_outcomes

    from .test_ratecard import CARD

    text = (CARD % ("%s", "claim", "50 000")).replace("in claim order", "in proportion")
    old, new = load_contract_text(text % "20 000"), load_contract_text(text % "15 000")
    effect = money_effect(old, new, lines="total")
    (total,) = effect.effects
    assert effect.sampled == ("total",) and effect.samples == SAMPLES
    assert total.differs is True and total.increase is None  # a lower cap never pays more
    down = total.decrease
    assert down.status == SAMPLED and down.bound is None and down.confirmed
    # at most the 5 000 GBP the cap fell by, and the rounding remainder of at most 1 GBP a line
    assert -5_000 - 6 <= down.amount < -4_990
    settled = [Fraction(compile_contract(c).evaluate(load_outcomes(
        c, text=json.dumps(down.outcomes), name="o.json")).total) for c in (old, new)]
    assert settled == [down.old, down.new] and down.new - down.old == down.amount
    # the samples are the same on every run and machine (a fixed seed, no clock)
    drafts = _Drafts(old, new)
    assert _samples(drafts, 5) == _samples(drafts, 5)
    # the same drafts cut in claim order are decided by the solver: nothing sampled
    ordered = CARD % ("%s", "claim", "50 000")
    effect = money_effect(load_contract_text(ordered % "20 000"), load_contract_text(ordered % "15 000"),
                          lines="total")
    assert effect.sampled == () and effect.effects[0].decrease.status != SAMPLED
