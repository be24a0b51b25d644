"""The linter: ruff, with the rules pyproject.toml's [tool.ruff.lint] chooses (and says why), over
every file of sibdsl/, tests/ and benchmarks/. Any finding fails the suite, so an unused import, an
undefined name, a closure reading a loop's variable late or an `except Exception: pass` is caught
before review. ruff is in the `dev` extra: it is installed wherever the suite runs."""

from __future__ import annotations

import subprocess
import sys

from .conftest import ROOT

LINTED = ("sibdsl", "tests", "benchmarks")


def ruff(*args: str, text: str | None = None) -> subprocess.CompletedProcess:
    """`ruff check` from the repository root, so that pyproject.toml is its configuration; no cache
    directory is written into the tree."""
    return subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", *args],
                          cwd=ROOT, input=text, capture_output=True, text=True, timeout=300, check=False)


def test_ruff_finds_nothing_in_the_library_the_tests_and_the_benchmarks():
    result = ruff(*LINTED)
    assert "No module named ruff" not in result.stderr, "install the dev extra: pip install -e '.[dev]'"
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All checks passed!" in result.stdout


SAMPLE = '''import json


def total(amounts=[]):
    try:
        return sum(amounts)
    except Exception:
        pass


def parse(text):
    try:
        return int(text)
    except ValueError:
        raise TypeError(text)


def later(names):
    return [lambda: name for name in names]
'''


def test_the_configured_rules_catch_what_they_are_chosen_for():
    """The same command on a file that breaks five of the rules, read as if it were in sibdsl/:
    the configuration is the one in force, and the test above is not passing by linting nothing."""
    result = ruff("--stdin-filename", "sibdsl/sample.py", "-", text=SAMPLE)
    found = sorted({line.split(" ")[1] for line in result.stdout.splitlines() if line.startswith("sibdsl/sample.py:")})
    assert found == ["B006", "B023", "B904", "BLE001", "F401", "S110"], result.stdout + result.stderr
    assert result.returncode == 1


def test_ruff_is_installed_with_the_dev_extra_and_listed_in_the_readme():
    import tomllib

    dev = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]["dev"]
    assert [d for d in dev if d.startswith("ruff")] == ["ruff~=0.17.6"]
    assert "| dev: ruff |" in (ROOT / "README.md").read_text(encoding="utf-8")
