"""`sibc diff`: clause changes by name, the money effect where the drafts differ, exit codes."""

from __future__ import annotations

import json

from sibdsl import load_contract, parse, read_source
from sibdsl.diff import clause_changes, money_effect

from .conftest import ROOT

NK, INDIGO = ROOT / "contracts" / "norrkoping.sib", ROOT / "contracts" / "variants" / "norrkoping_indigo.sib"


def test_clause_changes_between_the_two_readings_of_norrkoping():
    changes = {(c.kind, c.what) for c in clause_changes(parse(read_source(NK)), parse(read_source(INDIGO)))}
    assert changes == {("changed", "header"), ("removed", "payment activity"), ("changed", "payment outcome")}


def test_the_money_effect_finds_where_the_readings_differ():
    effect = money_effect(load_contract(NK), load_contract(INDIGO))
    total = next(e for e in effect.effects if e.line == "total")
    assert total.differing > 0 and total.increase is not None and total.decrease is not None
    # RISE's 60 % sharing pays more than INDIGO's reading between zero savings and break-even
    assert total.decrease.amount < 0 and total.decrease.outcomes["completed"] is True


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
    assert "largest decrease 1 712 000 USD at bed_day_reduction = 20 %" in result.stdout
    data = json.loads(run("diff", str(old), str(new), "--format", "json").stdout)
    total = next(line for line in data["money"]["lines"] if line["line"] == "total")
    assert total["largest_decrease"]["amount"] == "-1712000" and total["largest_increase"] is None


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
    refused = run("diff", str(NK), str(INDIGO), "--chart", str(NK))
    assert refused.exit_code == 1 and "input" in refused.output
