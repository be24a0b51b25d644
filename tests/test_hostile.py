"""Hostile input: mutated and malformed contracts through the whole pipeline, terminal escapes,
limits, and byte-identical output whatever the hash seed."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sibdsl import Source, SibError, check_source, compile_contract, limits
from sibdsl.diagnostics import render_gnu, render_human
from sibdsl.report import settlement_json_text, settlement_text
from sibdsl.testing import outcomes

from .conftest import ROOT

SEEDS = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "contracts").rglob("*.sib"))]


def pipeline(text: str, draw) -> None:
    """Parse, check, settle for a few outcomes, report and render; only SibError-free paths may
    produce output, and nothing may raise anything else."""
    contract, diagnostics = check_source(Source("fuzz.sib", text))
    for d in diagnostics:
        assert d.code in {c for c in __import__("sibdsl.codes", fromlist=["CODES"]).CODES}
        render_human(d)
        render_gnu(d)
    if contract is None:
        assert any(d.is_error for d in diagnostics)
        return
    from sibdsl.evaluate import EvaluationError
    from sibdsl.render import render

    evaluator = compile_contract(contract)
    try:
        values = draw(outcomes(contract))
        settlement = evaluator.evaluate(values)
    except EvaluationError:
        return
    settlement_text(settlement)
    settlement_json_text(settlement)
    render(contract, text.encode("utf-8"), "sv", "md")


def _mutate(data, text: str) -> str:
    kind = data.draw(st.sampled_from(["flip", "truncate", "delete_line", "duplicate_line", "insert", "swap"]))
    if not text:
        return text
    at = data.draw(st.integers(0, len(text) - 1))
    lines = text.splitlines(keepends=True)
    if kind == "flip":
        return text[:at] + data.draw(st.characters()) + text[at + 1:]
    if kind == "truncate":
        return text[:at]
    if kind == "delete_line":
        i = data.draw(st.integers(0, len(lines) - 1))
        return "".join(lines[:i] + lines[i + 1:])
    if kind == "duplicate_line":
        i = data.draw(st.integers(0, len(lines) - 1))
        return "".join(lines[:i + 1] + lines[i:])
    if kind == "insert":
        junk = data.draw(st.sampled_from(["(" * 300, "9" * 1000, "\x00", "\ufeff", "\r", "\r\n", "\u202e", "\x1b[2J",
                                          "§", '"""', "#", "tiers(", "{", "}", "%", " of ", "--", "1e999"]))
        return text[:at] + junk + text[at:]
    i, j = sorted(data.draw(st.lists(st.integers(0, len(lines) - 1), min_size=2, max_size=2)))
    lines[i], lines[j] = lines[j], lines[i]
    return "".join(lines)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_contracts_through_the_whole_pipeline(data):
    text = data.draw(st.sampled_from(SEEDS))
    for _ in range(data.draw(st.integers(1, 3))):
        text = _mutate(data, text)
    pipeline(text, data.draw)


HEADER = 'contract "T" currency SEK rounding 1 SEK half up\nparty a "A": payer\nparty b "B": investor\n'


@pytest.mark.parametrize("body, code", [
    ("payment p = " + "(" * 10_000 + "1 SEK" + ")" * 10_000 + " from a to b\n", None),
    ("payment p = " + "+".join(["1 SEK"] * 1_000) + " from a to b\n", None),  # a long sum is no nesting
    ("payment p = " + "+".join(["1 SEK"] * 100_001) + " from a to b\n", "E106"),
    ("payment p = " + "9" * 1_000 + " SEK from a to b\n", "E110"),
    ("baseline x = 1 SEK indexed 2 % per year for 100000000 years\npayment p = x from a to b\n", "E111"),
    ("payment p = 1 SEK from a to b\x00\n", "E101"),
    ("payment p = 1 SEK\r\nfrom a to b\rdue 2020-01-01\n", None),
])
def test_extreme_inputs_end_in_a_contract_or_a_code(body, code):
    contract, diagnostics = check_source(Source("x.sib", HEADER + body))
    if code is None:
        assert contract is not None, [d.message for d in diagnostics]
    else:
        assert code in {d.code for d in diagnostics}


def test_a_50_mb_file_is_refused_quickly(tmp_path, run):
    path = tmp_path / "big.sib"
    path.write_text("# " + "x" * (50 * 1024 * 1024) + "\n", encoding="utf-8")
    result = run("check", str(path), "--format", "gnu")
    # cut off while reading (fileio.read_bounded), before it is all in memory
    assert result.exit_code == 1 and "error[E001]" in result.stdout
    assert "it is larger than 20,000,000 bytes, the limit for one input file" in result.stdout
    path.write_text("# " + "x" * (6 * 1000 * 1000) + "\n", encoding="utf-8")  # read whole, too long to parse
    result = run("check", str(path), "--format", "gnu")
    assert result.exit_code == 1 and f"the limit is {limits.MAX_SOURCE_CHARS:,}" in result.stdout


def test_terminal_control_sequences_are_shown_not_obeyed(tmp_path, run):
    path = tmp_path / "ansi.sib"
    path.write_text(HEADER.replace('"A"', '"A\x1b]0;pwned\x07"') +
                    "payment p = 1 SEK from a to c # \x1b[2J\x1b[31m red \u202e\n", encoding="utf-8")
    result = run("check", str(path))
    assert result.exit_code == 1
    assert "\x1b" not in result.stderr and "\u202e" not in result.stderr
    assert "# ␛[2J␛[31m red �" in result.stderr
    snippet = [line for line in result.stderr.splitlines() if line.startswith("4 |")][0]
    marker = [line for line in result.stderr.splitlines() if "^" in line][0]
    assert snippet.index("c #") == marker.index("^")  # the caret still points at `c`


def test_limits_page_matches_the_constants():
    page = (ROOT / "docs" / "limits.md").read_text(encoding="utf-8")
    shown = dict(re.findall(r"^\| `(M(?:AX|IN)_\w+)`[^|]*\| (\d+) \|", page, flags=re.MULTILINE))
    constants = {k: str(v) for k, v in vars(limits).items() if k.startswith(("MAX_", "MIN_"))}
    assert shown == constants


def test_outputs_are_identical_whatever_the_hash_seed(tmp_path):
    runs = set()
    for seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "SIBDSL_CACHE_DIR": str(tmp_path / seed)}
        out = subprocess.run(
            [sys.executable, "-m", "sibdsl.cli", "eval", "contracts/peterborough.sib", "--outcomes",
             "contracts/peterborough.outcomes.json", "--format", "json"],
            cwd=ROOT, env=env, capture_output=True, check=True).stdout
        check = subprocess.run([sys.executable, "-m", "sibdsl.cli", "check", "--format", "json",
                                "tests/corpus/broken/E201_undefined.sib"],
                               cwd=ROOT, env=env, capture_output=True).stdout
        runs.add((out, check))
    assert len(runs) == 1


def test_sib_errors_carry_diagnostics():
    with pytest.raises(SibError) as info:
        from sibdsl import parse
        parse(Source("x.sib", "contract ("))
    assert info.value.diagnostics


BROKEN = sorted((ROOT / "tests" / "corpus" / "broken").glob("*.sib"))[::4] + \
    sorted((ROOT / "tests" / "corpus" / "wrong").glob("*.sib"))[:3]


@pytest.mark.parametrize("path", BROKEN, ids=lambda p: p.stem)
def test_every_command_answers_a_broken_contract_with_a_diagnostic(path, run, tmp_path):
    """A broken or wrong contract given to any command: an exit code and diagnostics, never a
    traceback or an internal error, and nothing written over the input."""
    before = path.read_bytes()
    for args in (["check", str(path)], ["test", str(path)], ["render", str(path), "--format", "md"],
                 ["fmt", "--check", str(path)], ["diff", "contracts/norrkoping.sib", str(path)],
                 ["fingerprint", str(path)], ["eval", str(path), "--outcomes", "contracts/norrkoping.outcomes.json"],
                 ["render", str(path), "-o", str(tmp_path / "out.html")]):
        result = run(*args)
        assert result.exit_code in (0, 1, 2), (args, result.output)
        assert "Traceback" not in result.output and "E900" not in result.output, (args, result.output)
    assert path.read_bytes() == before


def test_the_document_docs_say_what_the_fingerprint_does_not_seal():
    """Issue 22, item 19: two documents with the same fingerprint may differ in their worked
    examples, which come from files beside the contract; the documentation says so."""
    page = (ROOT / "docs" / "council-document.md").read_text(encoding="utf-8")
    section = page[page.index("**What the fingerprint does not seal.**"):]
    assert "NAME.outcomes.json" in section and "NAME.scenarios.csv" in section
    assert "not part\nof the fingerprint" in section
