"""Shared helpers: the repository root, a contract builder, an in-process CLI runner and the shipped
contracts as a fixture."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from sibdsl import Source, check_source
from sibdsl.cli import main

ROOT = Path(__file__).resolve().parent.parent

# Proof results are cached per contract text (sibdsl/proofcache.py); tests use a fresh cache of their own.
os.environ["SIBDSL_CACHE_DIR"] = tempfile.mkdtemp(prefix="sibdsl-test-cache-")
REGEN = os.environ.get("SIB_REGEN") == "1"

HEADER = """contract "Test"
  languages en
  currency SEK
  rounding 1 SEK half up
party city "City": payer
party fund "Fund": investor
"""


def contract(body: str, header: str = HEADER):
    """Check HEADER + body; return (model, diagnostics)."""
    return check_source(Source("test.sib", header + body))


def codes(body: str, header: str = HEADER) -> list[str]:
    return [d.code for d in contract(body, header)[1]]


def model(body: str, header: str = HEADER):
    result, diagnostics = contract(body, header)
    assert result is not None, [d.message for d in diagnostics]
    return result


@pytest.fixture
def run(monkeypatch):
    """Run sibc in-process from the repository root: run("check", "contracts/x.sib")."""
    monkeypatch.chdir(ROOT)

    def invoke(*args: str):
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    return invoke


#: every contract in contracts/, variants included
SHIPPED = sorted((ROOT / "contracts").glob("**/*.sib"))


@pytest.fixture(scope="module", params=SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def shipped(request):
    """(contract, evaluator) of each shipped contract, built once per test module that asks for it
    (tests/test_lazy_trail.py, tests/test_generated.py)."""
    from sibdsl import compile_contract, load_contract

    contract = load_contract(request.param)
    return contract, compile_contract(contract)


def golden(path: Path, actual: str) -> None:
    """Compare with a golden file, or rewrite it when SIB_REGEN=1."""
    if REGEN or not path.exists():
        path.write_text(actual, encoding="utf-8")
        if not REGEN:
            pytest.fail(f"golden file {path.relative_to(ROOT)} was missing and has been written; rerun")
    assert actual == path.read_text(encoding="utf-8"), f"differs from {path.relative_to(ROOT)}"
