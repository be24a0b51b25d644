"""Start-up (issue 21, docs/performance.md): `sibc check` imports nothing it does not use.

Each test runs the real command in a fresh interpreter under `python -X importtime`, reads every
module it imported from the report on stderr, and fails naming the heavy ones it finds, with the
milliseconds each cost. No time is asserted (that is benchmarks/bench.py's job): only which
modules are loaded, which does not depend on the machine's load.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# what no plain `check` needs: arrays and statistics (simulate), templates and typesetting (render),
# servers (serve, studio, lsp), workbooks and Word files, property testing, Dask
HEAVY = ("numpy", "scipy", "jinja2", "typst", "starlette", "uvicorn", "pygls", "openpyxl", "docx",
         "python_calamine", "hypothesis", "dask", "distributed", "pygments", "sibdsl.vector", "sibdsl.simulate",
         "sibdsl.render", "sibdsl.serve", "sibdsl.lsp")


def imported(*args: str, cache_dir: Path, command: str = "check", contract: str = "contracts/norrkoping.sib",
             expect: str | None = None) -> dict[str, int]:
    """Module → cumulative import time in µs, for `sibc check ARGS CONTRACT` (or `sibc COMMAND ARGS`)."""
    env = {**os.environ, "SIBDSL_CACHE_DIR": str(cache_dir), "PYTHONPATH": str(ROOT)}
    target = [contract] if command == "check" else []
    expect = f"{contract}: ok" if expect is None else expect
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "sibdsl.cli", command, *args, *target],
                            cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.startswith(expect), result.stdout
    modules = {}
    for row in result.stderr.splitlines():
        if row.startswith("import time:") and "|" in row and "imported package" not in row:
            _, cumulative, name = row.split("|")
            modules[name.strip()] = int(cumulative)
    assert "sibdsl.cli" in modules and "click" in modules, "the report was not read"  # the test can fail
    return modules


def offenders(modules: dict[str, int], heavy: tuple[str, ...]) -> list[str]:
    return sorted(f"{name} ({us / 1000:.1f} ms)" for name, us in modules.items()
                  if any(name == h or name.startswith(h + ".") for h in heavy))


# what a plain `check --no-cache --no-verify` does not use, each costing instructions at start-up
# (docs/performance.md, issue 21's fifth round): the incremental check's memo (the language server's),
# hashlib (OpenSSL: the model's digest is CPython's own SHA-256), json (no JSON is printed unless
# asked), the other commands' modules, the cache and the proofs' cache, the evaluator's generated
# function and what settles or reads outcomes
UNUSED_BY_CHECK = ("sibdsl.check.memo", "hashlib", "_hashlib", "json", "sibdsl.cli.eval",
                   "sibdsl.cli.explain", "sibdsl.cli.verify", "sibdsl.cli.render", "sibdsl.cache",
                   "sibdsl.proofcache", "sibdsl.generated", "sibdsl.outcomes", "sibdsl.report",
                   "sibdsl.settlement", "sibdsl.incremental")


def test_check_without_proofs_imports_no_heavy_module(tmp_path):
    modules = imported("--no-cache", "--no-verify", cache_dir=tmp_path)
    # nor lark: a contract without syntax errors is parsed by the prebuilt parser (sibdsl/prebuilt.py)
    assert offenders(modules, (*HEAVY, "z3", "babel", "sibdsl.verify", "sibdsl.evaluate", "lark", "pickle")) == []


def test_check_without_proofs_imports_nothing_it_does_not_use(tmp_path):
    modules = imported("--no-cache", "--no-verify", cache_dir=tmp_path)
    assert offenders(modules, UNUSED_BY_CHECK) == []


def test_the_unused_list_catches_a_command_that_uses_them(tmp_path):
    """The list above is not vacuous: `sibc explain --format json` loads its module and json."""
    modules = imported("E201", "--format", "json", cache_dir=tmp_path, command="explain", expect="{")
    assert {"json", "sibdsl.cli.explain"} <= set(modules)


def test_check_with_proofs_imports_nothing_heavy(tmp_path):
    modules = imported("--no-cache", cache_dir=tmp_path, contract="contracts/massachusetts_jj.sib")
    assert "z3" in modules  # it proves with the solver, which is the only heavy thing it loads
    assert offenders(modules, HEAVY) == []


# contracts whose every property is decided by intervals or by structure and every clause shown to act
# by a witness settlement or dead by intervals (docs/verify.md): a cold check with proofs needs no solver
DECIDED_WITHOUT_THE_SOLVER = ("contracts/care_leavers_apollo.sib", "contracts/care_leavers_i_aspire.sib",
                              "contracts/care_leavers_reboot_west.sib", "contracts/cameroon_hcv_dib.sib",
                              "contracts/norrkoping.sib")


@pytest.mark.parametrize("contract", DECIDED_WITHOUT_THE_SOLVER)
def test_check_with_proofs_imports_the_solver_only_when_a_question_needs_it(tmp_path, contract):
    """verify.py, verify_checks.py and counterexample.py import z3 on first use (lazyz3.py): a cold
    check whose questions are all decided without the solver never loads it (docs/performance.md,
    issue 21's sixth round), and its proofs are still reported."""
    modules = imported("--no-cache", cache_dir=tmp_path, contract=contract)
    assert "sibdsl.verify" in modules and "sibdsl.verify_checks" in modules  # it did prove
    assert offenders(modules, ("z3",)) == []


def test_check_with_proofs_imports_the_solver_when_a_question_needs_it(tmp_path):
    """The test above is not vacuous: Massachusetts' "never negative" lines run through the waterfall's
    rounding, which neither intervals nor structure decide, so the solver is loaded."""
    modules = imported("--no-cache", cache_dir=tmp_path, contract="contracts/massachusetts_jj.sib")
    assert "z3" in modules


def test_the_heavy_list_catches_a_heavy_import():
    """The check above is not vacuous: the same reading finds numpy when a command loads it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-X", "importtime", "-c", "import sibdsl.parser, numpy"],
                            cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    modules = {row.split("|")[2].strip(): int(row.split("|")[1]) for row in result.stderr.splitlines()
               if row.startswith("import time:") and "imported package" not in row}
    assert any(o.startswith("numpy ") for o in offenders(modules, HEAVY))


def test_the_models_digest_is_hashlibs_sha256():
    """check/__init__.py takes CPython's own SHA-256 (no OpenSSL at start-up): the same digest,
    also of a text an editor sent with a lone surrogate."""
    import hashlib

    from sibdsl import check_source
    from sibdsl.source import Source

    for text in ((ROOT / "contracts" / "norrkoping.sib").read_text(encoding="utf-8"),
                 (ROOT / "contracts" / "norrkoping.sib").read_text(encoding="utf-8") + "# \ud800 kvar\n"):
        contract, diagnostics = check_source(Source("n.sib", text))
        assert contract is not None, diagnostics
        assert contract.source_sha256 == hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def test_check_leaves_the_exit_collection_out_once_per_process():
    """`sibc check` registers `gc.freeze` at exit (the interpreter's full collections at exit free
    nothing a short-lived command needs: docs/performance.md, fifth round), once however many
    checks a process runs, and its output and exit status stay what they were."""
    import subprocess
    import sys

    script = (
        "import atexit, gc, sys\n"
        "from sibdsl import cli\n"
        "calls = []\n"
        "real = atexit.register\n"
        "atexit.register = lambda f, *a, **k: (calls.append(f), real(f, *a, **k))[1]\n"
        "for _ in range(3):\n"
        "    try:\n"
        "        cli.main(['check', '--no-verify', '--no-cache', 'contracts/norrkoping.sib'])\n"
        "    except SystemExit as done:\n"
        "        assert done.code in (0, None), done.code\n"
        "print('freezes', sum(f is gc.freeze for f in calls))\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("contracts/norrkoping.sib: ok") == 3
    assert result.stdout.strip().endswith("freezes 1"), result.stdout


def test_a_cold_check_does_not_word_the_clauses_it_does_not_show(tmp_path):
    """Norrköping's four dead clauses are acknowledged (`# sibc: allow W410`): their reasons are
    never shown, so their amounts are not formatted and babel's locale data is not loaded — with
    the proofs' cache written (a plain check in an empty cache directory) and without it
    (verify_checks._Unread; docs/performance.md, issue 21's seventh round)."""
    for args in ((), ("--no-cache",)):
        modules = imported(*args, cache_dir=tmp_path / "-".join(("cache", *args)))
        assert "sibdsl.verify_checks" in modules  # it did look for dead clauses
        assert offenders(modules, ("babel",)) == []


def test_a_cold_check_words_the_clauses_it_shows(tmp_path):
    """The test above is not vacuous: without its allow comments Norrköping's four warnings are
    shown, with their amounts in words, which loads babel."""
    text = (ROOT / "contracts" / "norrkoping.sib").read_text(encoding="utf-8")
    bare = tmp_path / "norrkoping.sib"
    bare.write_text("\n".join(line for line in text.splitlines() if "sibc: allow" not in line) + "\n",
                    encoding="utf-8")
    modules = imported("--no-cache", cache_dir=tmp_path / "cache", contract=str(bare))
    assert "babel" in modules


def test_a_cold_check_with_proofs_imports_only_what_the_proofs_use(tmp_path):
    """Norrköping's proofs need the evaluator, the intervals and the words, not the outcome files'
    reader (a counterexample's file is read only when the solver finds one), the scenarios', the
    caches' SHA-256 (hashlib loads OpenSSL) nor importlib.resources (pathlib, zipfile: the word
    tables are read beside the module) — docs/performance.md, issue 21's seventh round."""
    modules = imported("--no-cache", cache_dir=tmp_path / "none")
    assert "sibdsl.verify_checks" in modules and "sibdsl.evaluate" in modules  # it did prove, with settlements
    assert offenders(modules, ("sibdsl.outcomes", "sibdsl.xlsx", "sibdsl.scenarios", "sibdsl.cache", "hashlib",
                               "_hashlib", "importlib.resources", "zipfile", "pathlib")) == []
    # not vacuous: with the cache, the same check takes its key with hashlib
    assert {"sibdsl.cache", "hashlib"} <= set(imported(cache_dir=tmp_path / "cache"))
