"""A seeded slice of the standing fuzzing campaign (benchmarks/fuzz_campaign.py): mutated and
grammar-generated contracts and hostile outcome files through every command, in-process."""

from __future__ import annotations

import importlib.util

import pytest

from .conftest import ROOT


@pytest.fixture(scope="module")
def campaign_module():
    spec = importlib.util.spec_from_file_location("fuzz_campaign", ROOT / "benchmarks" / "fuzz_campaign.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.CSV_EDGES = True  # CR-only CSV and huge cells (items 5 and 4) are fixed on main: in the slice too
    return module


@pytest.mark.parametrize("seed", [3, 11])
def test_a_seeded_slice_of_the_campaign_finds_nothing(campaign_module, seed, monkeypatch):
    monkeypatch.chdir(ROOT)
    tally = campaign_module.campaign(24, seed, timeout=20.0, heavy_every=12, quiet=True)
    assert tally.failures == []
    assert (tally.internal, tally.hangs, tally.lost) == (0, 0, 0)
    assert tally.inputs == 24 and tally.contracts > 0 and tally.refused > 0
    assert {"check", "fmt", "render", "fingerprint", "test", "eval", "verify", "simulate"} <= set(tally.by_command)


def test_the_campaign_counts_an_internal_error(campaign_module, monkeypatch):
    """The campaign's own detector: a command that crashes is counted, with its input."""
    monkeypatch.chdir(ROOT)

    def broken(*args, **kwargs):
        raise RuntimeError("planted")

    monkeypatch.setattr("sibdsl.render.view.fingerprint", broken)
    tally = campaign_module.Tally()
    campaign_module.run_commands({"contract.sib": b'contract "T"\n'}, None, tally, None, timeout=20.0, heavy=False)
    assert tally.internal >= 1
    assert any("fingerprint" in f for f in tally.failures)


def test_diff_of_a_contract_with_a_date_measure(run):
    """Found by the campaign (issue 22): sibc diff held a date measure at 0 and compared it with a date."""
    result = run("diff", "tests/corpus/valid/all_constructs.sib", "tests/corpus/valid/all_constructs.sib")
    assert "E900" not in result.output


def test_every_known_finding_names_its_command(campaign_module):
    for name, (command, text) in campaign_module.KNOWN.items():
        assert command in {"diff", "eval", "render", "fmt", "check", "verify", "simulate", "test"} and text
