"""The broken-input corpus: one or more inputs per diagnostic code, each with its golden output.

tests/corpus/broken/<CODE>_<name>.sib is a contract that produces <CODE>; when a file
<CODE>_<name>.outcomes.json (or .csv) sits next to it, the pair is evaluated instead of
checked; when <CODE>_<name>.scenarios.csv sits next to it, its scenarios are run with
`sibc test FILE --diagnostics gnu`; a file <CODE>_<name>.args adds its arguments to `eval` (an interim
settlement's `--as-of DATE --paid FILE`). <CODE>_<name>.expected holds the exact stdout (then, after a `--- stderr ---`
line, the stderr, where `eval` writes its diagnostics so that its stdout stays JSON) of

    sibc check FILE --format gnu                                            (contracts)
    sibc eval FILE --outcomes OUTCOMES --diagnostics gnu --format json      (pairs)
    sibc simulate FILE --scenarios SPEC -n 10 --diagnostics gnu --format json
                                    (with <CODE>_<name>.scenarios.json or .toml next to it)

run from the repository root with relative paths. When a message changes on purpose,
refresh the golden files with

    SIB_REGEN=1 .venv/bin/pytest tests/test_diagnostics_corpus.py

and review the diff before committing.
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from sibdsl.cli import main
from sibdsl.codes import CODES

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus" / "broken"
REGEN = os.environ.get("SIB_REGEN") == "1"

# Codes with no corpus file, and why. Keep this list exact: the test fails if a listed code
# gains a corpus file or an unlisted code lacks one.
NOT_IN_CORPUS = {
    # A bug in sibc by definition: there is no input that should produce it.
    "E900",
    # sibc fmt's own safety check (its result must parse to the same tree): no input should produce it.
    "E741",
    # cannot write a file: a command's output, not a contract (tests/test_hostile_files.py).
    "E002",
    # sibc render's warning (the corpus runs check, eval, test, simulate, fmt): tests/test_render.py has it.
    "W720", "W721",
    # issue 17: sibc render's refusal of a draft with open parameters, and a `--param` the contract
    # does not have (an option of sibc eval): tests/test_parameters.py produces each
    "E477", "E478",
    # issue 17: sibc diff's refusal of two drafts in different currencies (two files, one command):
    # tests/test_diff.py and its page's example (tests/test_docs_diagnostics.py) produce it
    "E761",
    # a missing extra: the test environment has every extra (tests/test_cli_conventions.py and, for
    # .ods files, tests/test_ods.py fake one)
    "E901", "E520",
    # answers to HTTP requests (sibc serve, sibc studio), not to files: tests/test_serve_api.py and
    # tests/test_studio_api.py produce each over a running server
    "E860", "E861", "E862", "E863", "E864", "E865", "E866", "E867",
    # INDIGO files read by `sibc new --from-indigo`, not contracts: tests/fixtures/indigo/bad/ holds
    # a file per code and tests/test_indigo.py checks each one's exact output
    "E570", "E571", "E572", "E573", "E574", "E575", "E576",
    # a Dask scheduler that cannot be reached (sibc simulate --dask): tests/test_cluster.py
    "E920",
    # issue 15: sibc diff's warning on two drafts with a rate card cut in proportion (two files, one
    # command): tests/test_diff.py and its page's example produce it
    "W582",
    # issue 17: sibc diff's work budget spent (two files, one command, --budget): tests/test_diff.py and
    # its page's example produce it
    "W586",
    # no longer produced (issue 14: a waterfall's lines are settled in parts); its page says so
    "E557",
}

CONTRACTS = sorted(CORPUS.glob("*.sib"))


def _code(path: Path) -> str:
    return path.name.split("_", 1)[0]


def _outcomes(contract: Path) -> Path | None:
    for suffix in (".outcomes.json", ".outcomes.csv"):
        candidate = contract.with_name(contract.stem + suffix)
        if candidate.exists():
            return candidate
    return None


def _args(contract: Path) -> list[str]:
    relative = contract.relative_to(ROOT).as_posix()
    if contract.stem.startswith("E74"):
        return ["fmt", "--check", relative, "--diagnostics", "gnu"]
    if contract.with_name(contract.stem + ".scenarios.csv").exists():
        return ["test", relative, "--diagnostics", "gnu"]
    for suffix in (".scenarios.json", ".scenarios.toml"):  # E801–E829: sibc simulate
        spec = contract.with_name(contract.stem + suffix)
        if spec.exists():
            return ["simulate", relative, "--scenarios", spec.relative_to(ROOT).as_posix(), "-n", "10",
                    "--diagnostics", "gnu", "--format", "json"]
    outcomes = _outcomes(contract)
    if outcomes is None:
        return ["check", relative, "--format", "gnu"]
    extra = contract.with_name(contract.stem + ".args")  # issue 15: e.g. --as-of DATE --paid FILE
    more = shlex.split(extra.read_text(encoding="utf-8")) if extra.exists() else []
    return ["eval", relative, "--outcomes", outcomes.relative_to(ROOT).as_posix(),
            "--diagnostics", "gnu", "--format", "json", *more]


def test_corpus_is_not_empty():
    assert len(CONTRACTS) >= len(CODES) - len(NOT_IN_CORPUS)


@pytest.mark.parametrize("contract", CONTRACTS, ids=[p.stem for p in CONTRACTS])
def test_corpus_file(contract: Path, monkeypatch):
    code = _code(contract)
    assert code in CODES, f"{contract.name}: the file name must start with a registered code"
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(main, _args(contract), catch_exceptions=False)
    actual = result.stdout + (f"--- stderr ---\n{result.stderr}" if result.stderr else "")

    expected_path = contract.with_suffix(".expected")
    if REGEN:
        expected_path.write_text(actual, encoding="utf-8")
    else:
        assert expected_path.exists(), (
            f"no golden file {expected_path.relative_to(ROOT)}; run with SIB_REGEN=1 to write it")
        assert actual == expected_path.read_text(encoding="utf-8"), (
            f"output differs from {expected_path.relative_to(ROOT)} (SIB_REGEN=1 rewrites it)")

    found = set(re.findall(r"\b(?:error|warning)\[([EW]\d{3})\]", actual))
    assert code in found, f"{contract.name} should produce {code}; it produced {sorted(found) or 'nothing'}"
    assert "E900" not in found, f"{contract.name} crashes sibc"
    only_warnings = code.startswith("W") and all(c.startswith("W") for c in found)
    assert result.exit_code == (0 if only_warnings else 1), result.output


def test_every_code_has_a_corpus_file():
    covered = {_code(p) for p in CONTRACTS}
    missing = set(CODES) - covered - NOT_IN_CORPUS
    assert not missing, f"codes without a file in tests/corpus/broken: {sorted(missing)}"
    unexpected = NOT_IN_CORPUS & covered
    assert not unexpected, f"now in the corpus, remove from NOT_IN_CORPUS: {sorted(unexpected)}"


def test_no_stray_files():
    """Every outcome file and golden file belongs to a contract of the corpus."""
    stems = {p.stem for p in CONTRACTS}
    for path in CORPUS.iterdir():
        if path.suffix == ".sib":
            continue
        stem = path.name.split(".", 1)[0]
        assert stem in stems, f"{path.name} has no contract {stem}.sib next to it"
