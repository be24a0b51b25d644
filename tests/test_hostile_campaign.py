"""A seeded slice of the standing fuzzing campaign (benchmarks/fuzz_campaign.py): mutated and
grammar-generated contracts and hostile outcome files through every command, in-process."""

from __future__ import annotations

import importlib.util
import json

import pytest

from .conftest import ROOT


@pytest.fixture(scope="module")
def campaign_module():
    spec = importlib.util.spec_from_file_location("fuzz_campaign", ROOT / "benchmarks" / "fuzz_campaign.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.CSV_EDGES = True  # CR-only CSV and huge cells (items 5 and 4) are fixed on main: in the slice too
    return module


def test_every_terminal_the_grammar_can_need_has_a_sample(campaign_module):
    """The campaign writes a sample for each terminal that is a pattern; a terminal added to the grammar
    without one would stop the campaign with a KeyError at the first rule that uses it."""
    from lark import Lark
    from lark.lexer import PatternStr

    grammar = Lark.open(str(ROOT / "grammar" / "sib.lark"), parser="lalr")
    ignored = set(grammar.ignore_tokens)
    patterns = {t.name for t in grammar.terminals if not isinstance(t.pattern, PatternStr)}
    assert patterns - ignored - set(campaign_module.SAMPLES) == set()


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
    for command, text in campaign_module.KNOWN.values():
        assert command in {"diff", "eval", "render", "fmt", "check", "verify", "simulate", "test"} and text


def test_a_seeded_slice_of_every_family_finds_nothing(campaign_module, monkeypatch, tmp_path):
    """The families of the standing campaign — the library pipeline, XLSX/ODS workbooks in and XLSX/
    DOCX out, LSP message sequences to `sibc lsp`, HTTP requests to `sibc serve` — a few inputs
    each, with the state file a campaign resumes from."""
    monkeypatch.chdir(ROOT)
    state = tmp_path / "state.json"
    campaign = campaign_module.Campaign(5, campaign_module.FAMILIES, timeout=20.0, heavy_every=0, state=state,
                                        quiet=True)
    campaign.TURN = {"cli": 1, "library": 3, "workbook": 3, "lsp": 1, "http": 6}
    tally = campaign.run(40)
    assert tally.failures == []
    saved = json.loads(state.read_text())
    assert all(saved["inputs"][family] > 0 for family in campaign_module.FAMILIES), saved["inputs"]
    assert {"library", "lsp", "http", "eval", "test"} <= set(saved["runs"])
    resumed = campaign_module.Campaign(5, ["library"], timeout=20.0, heavy_every=0, state=state, quiet=True)
    assert resumed.state["next"] == saved["next"]  # resumable: it goes on where it stopped
    resumed.run(2)
    assert json.loads(state.read_text())["next"]["library"] == saved["next"]["library"] + 2


def test_an_input_is_the_same_whenever_it_is_drawn(campaign_module):
    """Input i of a family depends on (seed, family, i) alone: a replay gives the same input."""
    corpus = campaign_module.Corpus()
    first = campaign_module.http_request(campaign_module._rng(1, "http", 17), corpus)
    again = campaign_module.http_request(campaign_module._rng(1, "http", 17), corpus)
    assert first == again and first != campaign_module.http_request(campaign_module._rng(1, "http", 18), corpus)


def test_the_lsp_family_detects_a_server_that_does_not_answer(campaign_module, monkeypatch):
    """The campaign's own detector for the LSP family: a request with no answer is a hang."""
    monkeypatch.chdir(ROOT)
    server = campaign_module.LspServer("utf-16")
    try:
        server.send_request = lambda method, params: 10**9  # an id the server never answers
        tally = campaign_module.Tally()
        campaign_module.lsp_session(campaign_module._rng(1, "lsp", 3), campaign_module.Corpus(), server, tally, 3,
                                    timeout=1.0)
        assert tally.hangs >= 1 and "no answer" in tally.failures[0]
    finally:
        server.stop()
