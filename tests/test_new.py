"""`sibc new`: every template with any answers gives a contract that checks (and proves) at once."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sibdsl import Source, check_source
from sibdsl.new import TEMPLATES, Answers, render

names = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(TEMPLATES)), names, names, names, st.sampled_from(["SEK", "EUR", "GBP"]),
       st.decimals(min_value=1, max_value=10**9, places=2), st.dates(datetime.date(2000, 1, 1), datetime.date(2090, 1, 1)),
       st.integers(1, 10))
def test_every_template_checks_with_any_answers(template, title, payer, investor, currency, amount, start, years):
    text = render(template, Answers(title, payer, investor, "Utföraren", currency, Decimal(amount), start, years))
    contract, diagnostics = check_source(Source("new.sib", text))
    assert contract is not None and not diagnostics, [d.message for d in diagnostics]
    assert contract.title.text == title and contract.parties["payer"].label.text == payer


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_the_command_writes_a_contract_that_passes_check(template, tmp_path, run):
    out = tmp_path / "new.sib"
    result = run("new", "--template", template, "--title", 'Avtal "med" citat', "--payer", "Malmö stad",
                 "--investment", "5 000 000", "-o", str(out))
    assert result.exit_code == 0, result.output
    checked = run("check", str(out))
    assert checked.exit_code == 0 and "properties proved" in checked.stdout and "warning" not in checked.output
    again = run("new", "--template", template, "-o", str(out))
    assert again.exit_code == 1 and "exists" in again.output  # never overwrites without --force


def test_new_takes_the_file_name_as_an_argument(tmp_path, run):
    out = tmp_path / "avtal.sib"
    result = run("new", str(out), "--template", "rate-card", "--investment", "10 000 000 kr")
    assert result.exit_code == 0, result.output
    assert out.exists() and f"{out}: a rate-card contract; next: sibc check {out}" in result.output
    assert run("new", "--template", "rate-card").exit_code == 2  # no name at all: a usage error
    bad = run("new", str(tmp_path / "b.sib"), "--template", "rate-card", "--investment", "1_000")
    assert bad.exit_code == 2 and "group digits with spaces: 1 000" in bad.output


@pytest.mark.parametrize("template", sorted(TEMPLATES))
@pytest.mark.parametrize("start, years, end", [
    ("2016-07-01", 4, "2020-06-30"), ("2020-01-01", 1, "2020-12-31"), ("2024-02-29", 4, "2028-02-28"),
    ("2024-02-29", 1, "2025-02-28"),
])
def test_years_gives_a_term_of_exactly_that_many_years(template, start, years, end):
    text = render(template, Answers(start=datetime.date.fromisoformat(start), years=years))
    assert f"term {start} to {end}\n" in text
    contract, diagnostics = check_source(Source("new.sib", text))
    assert contract is not None and not diagnostics, [d.message for d in diagnostics]
