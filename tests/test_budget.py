"""The payer's budget by fiscal year (issue 15): settled, simulated and proved per payer and year."""

from decimal import Decimal
from fractions import Fraction
from pathlib import Path

from sibdsl import budget, check_source, compile_contract, load_outcomes, read_source

CONTRACTS = Path(__file__).parent.parent / "contracts"


def _contract(name: str):
    contract, diagnostics = check_source(read_source(CONTRACTS / f"{name}.sib"))
    assert contract is not None, diagnostics
    return contract


def _settle(name: str):
    contract = _contract(name)
    return compile_contract(contract).evaluate(load_outcomes(contract, CONTRACTS / f"{name}.outcomes.json"))


def test_norrkoping_one_year_settled_and_proved():
    assert budget.settled(_settle("norrkoping")) == {"norrkoping": {"2019": Decimal("4000000")}}
    assert budget.proved_maxima(_contract("norrkoping")) == {
        "norrkoping": {"2019": Fraction(12_000_000), "total": Fraction(12_000_000)}}


def test_peterborough_several_years_total_below_sum_of_years():
    assert budget.settled(_settle("peterborough")) == {
        "moj": {"2014": Decimal("0"), "2016": Decimal("0"), "2017": Decimal("5600000")}}
    proved = budget.proved_maxima(_contract("peterborough"))
    # each year could on its own reach the contract's cap of £8m, but all years together cannot pass it
    assert proved == {"moj": {"2014": Fraction(8_000_000), "2016": Fraction(8_000_000),
                              "2017": Fraction(8_000_000), "total": Fraction(8_000_000)}}


def test_settled_years_add_up_to_the_payers_total():
    s = _settle("peterborough")
    assert sum(budget.settled(s)["moj"].values()) == s.by_payer["moj"]


def test_fiscal_year_of_an_undated_line():
    import datetime

    assert budget.fiscal_year(None) == budget.UNDATED
    assert budget.fiscal_year(datetime.date(2020, 12, 31)) == "2020"


def test_maximum_of_an_unbounded_amount_is_not_proved():
    import z3

    x = z3.Real("x")
    solver = z3.Solver()
    solver.add(x >= 0)
    assert budget.maximum(solver, x, Fraction(1, 100)) is None
    solver.add(x <= Fraction(7, 2).numerator / 2)
    assert budget.maximum(solver, x, Fraction(1, 100)) == Fraction(7, 2)
