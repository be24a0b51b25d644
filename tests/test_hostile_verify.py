"""The solver on hostile ground (issue 22, items 15 and 18): counterexamples its own loader reads,
verdicts that do not depend on machine load, and `--no-cache` that means no cache."""

from __future__ import annotations

import json
import re
from fractions import Fraction

import pytest
import z3
from click.testing import CliRunner

from sibdsl import Source, load_contract
from sibdsl import proofcache
from sibdsl.cli import main
from sibdsl.outcomes import load_outcomes
from sibdsl.verify import RLIMIT_PER_SECOND, _format_input, verify_contract

TINY = """contract "Liten"
  currency SEK
  rounding 1 SEK half up
party city "Staden": payer
party fund "Fonden": investor
measure x "Andel": number
measure m "Belopp": money
measure s "Andel": share
payment p = (if x > 0 and x < 0.0000001 then 100 SEK else 0 SEK) from city to fund
guarantee never "Aldrig": total == 0 SEK
"""


@pytest.fixture
def tiny(tmp_path):
    path = tmp_path / "tiny.sib"
    path.write_text(TINY, encoding="utf-8")
    return path


# ---------------------------------------------------------------- item 15
@pytest.mark.parametrize("value", [Fraction(1, 10**8), Fraction(5, 10**8), Fraction(7, 10**20), Fraction(123456789, 10**12)])
def test_counterexample_values_are_written_as_the_loader_reads_them(tiny, value):
    contract = load_contract(tiny)
    data = {name: _format_input(contract.measures[name], value, "SEK") for name in ("x", "m", "s")}
    assert not any(re.search(r"\dE[+-]?\d", str(v)) for v in data.values()), data
    loaded = load_outcomes(contract, text=json.dumps(data), name="cex.json")
    assert loaded["x"] == value and loaded["m"] == value and loaded["s"] == value


def test_check_reports_a_counterexample_with_tiny_values_instead_of_e900(tiny, monkeypatch):
    monkeypatch.chdir(tiny.parent)
    result = CliRunner().invoke(main, ["check", "--no-cache", "tiny.sib"], catch_exceptions=False)
    assert "E900" not in result.output
    assert result.exit_code == 1
    assert "error[E701]" in result.output and '"x": "0.0000000' in result.output


# ---------------------------------------------------------------- item 18: deterministic limits
def test_the_solver_is_bounded_by_rlimit_not_wall_time(tiny, monkeypatch):
    settings = []
    real = z3.Solver.set

    def spy(self, *args, **kwargs):
        settings.append(args[0] if args else next(iter(kwargs)))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(z3.Solver, "set", spy)
    verify_contract(load_contract(tiny), timeout=2.0)
    assert "rlimit" in settings
    assert "timeout" not in settings


def test_a_tight_limit_gives_the_same_verdicts_every_time(tmp_path):
    """With a limit too small to finish, the verdicts are `unknown` — the same ones on every run
    (a wall-time limit gave different verdicts on a busy and a quiet machine)."""
    contract = load_contract("contracts/norrkoping.sib")
    runs = {tuple((v.key, v.status) for v in verify_contract(contract, timeout=0.001)) for _ in range(3)}
    assert len(runs) == 1
    assert RLIMIT_PER_SECOND > 0


def test_no_cache_neither_reads_nor_writes_the_proof_cache(tiny, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("SIBDSL_CACHE_DIR", str(cache))
    monkeypatch.chdir(tiny.parent)
    # a proof cache that says everything was proved: only a run that uses the cache may believe it
    proofcache.store(TINY, [{"key": "guarantee:never", "description": "x", "status": "proved", "line": 10,
                             "seconds": 0.0, "reason": "", "counterexample": []}])
    planted = sorted(cache.rglob("*.json"))
    cached = CliRunner().invoke(main, ["check", "tiny.sib"], catch_exceptions=False)
    assert cached.exit_code == 0, cached.output  # what the (planted) cache says
    uncached = CliRunner().invoke(main, ["check", "--no-cache", "tiny.sib"], catch_exceptions=False)
    assert uncached.exit_code == 1 and "error[E701]" in uncached.output  # what the solver says
    assert len(list(cache.rglob("*.json"))) == len(planted) + 1  # the first run's check entry; --no-cache wrote none
    assert Source("tiny.sib", TINY).text == tiny.read_text(encoding="utf-8")
