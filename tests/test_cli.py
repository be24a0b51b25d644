"""`sibc`: exit codes, output formats, explain, and what `check` imports at start-up."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from .conftest import ROOT


def test_check_ok(run):
    result = run("check", "contracts/norrkoping.sib")
    assert result.exit_code == 0
    assert result.stdout == "contracts/norrkoping.sib: ok — 3 payments, 4 measures, 4 guarantees, " \
        "16 properties proved\n"
    quick = run("check", "--no-verify", "contracts/norrkoping.sib")
    assert quick.stdout == "contracts/norrkoping.sib: ok — 3 payments, 4 measures, 4 guarantees\n"


def test_check_errors_exit_1_in_every_format(run, tmp_path):
    bad = tmp_path / "bad.sib"
    bad.write_text('contract "T" currency SEK rounding 1 SEK half up\npayment p = 1 EUR from a to b\n')
    human = run("check", str(bad))
    assert human.exit_code == 1
    assert "error[E302]" in human.stderr and "^^^" in human.stderr
    gnu = run("check", "--format", "gnu", str(bad))
    assert gnu.stdout.splitlines()[0] == f"{bad}:2:15: error[E302]: `EUR` is not the contract's currency (SEK)" \
        " (hint: write amounts in SEK, as the header says)"
    data = json.loads(run("check", "--format", "json", str(bad)).stdout)
    assert {d["code"] for d in data} == {"E302", "E201"}
    assert data[0]["span"]["line"] == 2


def test_missing_file_and_usage_errors(run):
    missing = run("check", "nope.sib")
    assert missing.exit_code == 1 and "error[E001]: cannot read nope.sib: it does not exist" in missing.stderr
    assert run("check").exit_code == 2
    assert run("check", "--format", "xml", "contracts/norrkoping.sib").exit_code == 2
    assert run("frobnicate").exit_code == 2


def test_eval_table_and_json(run):
    table = run("eval", "contracts/norrkoping.sib", "--outcomes", "contracts/norrkoping.outcomes.json")
    assert table.exit_code == 0
    assert "total                                          4 000 000 SEK" in table.stdout
    data = json.loads(run("eval", "contracts/norrkoping.sib", "--outcomes",
                          "contracts/norrkoping.outcomes.json", "--format", "json").stdout)
    assert data["total"] == "4000000"
    assert data["lines"][0]["clause"]["name"] == "activity"


def test_eval_bad_outcomes_exit_1(run, tmp_path):
    outcomes = tmp_path / "o.json"
    outcomes.write_text('{"actual_costs": -5}')
    result = run("eval", "contracts/norrkoping.sib", "--outcomes", str(outcomes), "--diagnostics", "gnu")
    assert result.exit_code == 1 and result.stdout == ""  # stdout is kept for the settlement
    assert {line.split("[")[1][:4] for line in result.stderr.splitlines()} == {"E505", "E502"}


def test_eval_json_stays_valid_json_when_there_are_diagnostics(run, tmp_path):
    contract = tmp_path / "c.sib"
    contract.write_text('contract "T" currency SEK rounding 1 SEK half up\nparty a "A": payer\n'
                        'party b "B": investor\nmeasure v: money\npayment p = 100 SEK - v from a to b\n')
    outcomes = tmp_path / "o.json"
    outcomes.write_text('{"v": "300 SEK"}')
    result = run("eval", str(contract), "--outcomes", str(outcomes), "--format", "json", "--diagnostics", "gnu")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["total"] == "-200"
    assert "error[E601]: payment `p` is negative (-200 SEK)" in result.stderr


def test_eval_shows_the_contract_warnings(run, tmp_path):
    contract = tmp_path / "c.sib"
    contract.write_text('contract "T" currency SEK rounding 1 SEK half up\nparty a "A": payer\n'
                        'party b "B": investor\nmeasure v: money\nmeasure unused: money\n'
                        'payment p = v from a to b\n')
    outcomes = tmp_path / "o.json"
    outcomes.write_text('{"v": "300 SEK", "unused": 0}')
    result = run("eval", str(contract), "--outcomes", str(outcomes), "--diagnostics", "gnu")
    assert result.exit_code == 0
    assert "warning[W401]: the measure `unused` is never used" in result.stderr


def test_explain(run):
    result = run("explain", "e201")
    assert result.exit_code == 0 and result.stdout.startswith("# E201: undefined name")
    unknown = run("explain", "E999")
    assert unknown.exit_code == 2 and "no diagnostic code 'E999'" in unknown.stderr


def test_explain_for_a_terminal_and_as_json(run):
    text = run("explain", "E201", "--format", "text")
    assert text.exit_code == 0
    assert text.stdout.startswith("E201: undefined name\n\nSeverity: error\n\nWhat\n")
    assert "**" not in text.stdout and "```" not in text.stdout and "\x1b[" not in text.stdout  # piped: no colour
    assert "\n    contract " in text.stdout  # the example, indented
    coloured = run("--color", "always", "explain", "E201", "--format", "text")
    assert "\x1b[1m\x1b[4mE201: undefined name" in coloured.stdout
    data = json.loads(run("explain", "W501", "--format", "json").stdout)
    assert data["code"] == "W501" and data["severity"] == "warning"
    assert list(data["sections"]) == ["what", "why", "fix"] and "Windows-1252" in data["sections"]["what"]


def _imports_after_check(*args: str, env: dict | None = None) -> str:
    code = (
        "import sys\nfrom sibdsl.cli import main\n"
        f"try:\n    main(['check', *{list(args)!r}, 'contracts/norrkoping.sib'])\nexcept SystemExit:\n    pass\n"
        "heavy = {'hypothesis', 'jinja2', 'numpy', 'z3', 'lark', 'sibdsl.check', 'sibdsl.evaluate'}\n"
        "print(sorted(heavy & ({m.split('.')[0] for m in sys.modules} | set(sys.modules))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                         env=env)
    return out.stdout.strip().splitlines()[-1]


def test_check_imports_no_heavy_modules(tmp_path):
    env = {**os.environ, "SIBDSL_CACHE_DIR": str(tmp_path)}
    # checking needs the expression compiler (constants fixed at signing), not the evaluator; and
    # a contract without syntax errors is parsed by the prebuilt parser, not lark (issue 21)
    assert _imports_after_check("--no-verify", "--no-cache", env=env) == "['sibdsl.check']"


def test_check_with_cached_proofs_imports_only_what_checking_needs(tmp_path):
    """Start-up (docs/performance.md): reading, parsing and checking a file, with its proofs in the
    proof cache, does not import the solver, pathlib, importlib.metadata or the outcome reader."""
    env = {**os.environ, "SIBDSL_CACHE_DIR": str(tmp_path)}
    _imports_after_check(env=env)  # proves the contract and caches the proofs (and the check)
    (entry,) = tmp_path.glob("*/check-*.json")  # in its generation's folder (sibdsl/cache.py)
    entry.unlink()  # keep only the proofs (`--no-cache` bypasses them too, issue 22), so that the file is read,
    # parsed and checked again
    code = (
        "import sys\nfrom sibdsl.cli import main\n"
        "try:\n    main(['check', 'contracts/norrkoping.sib'])\nexcept SystemExit:\n    pass\n"
        "lazy = {'z3', 'pathlib', 'importlib.metadata', 'importlib.resources', 'sibdsl.outcomes', 'csv', 'numpy',"
        " 'jinja2', 'hypothesis'}\n"
        "print(sorted(lazy & set(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                         env=env).stdout.strip().splitlines()
    assert out == ["contracts/norrkoping.sib: ok — 3 payments, 4 measures, 4 guarantees, 16 properties proved",
                   "[]"]


def test_the_z3_version_in_the_proof_cache_key_is_the_installed_one():
    from importlib import metadata

    from sibdsl.proofcache import _z3_version

    assert _z3_version() == metadata.version("z3-solver")


def test_check_of_an_unchanged_contract_reuses_its_result(tmp_path, run):
    env = {**os.environ, "SIBDSL_CACHE_DIR": str(tmp_path)}
    first = _imports_after_check(env=env)  # checked and proved now, and cached
    # no lark: the prebuilt parser; no z3: Norrköping's questions are all decided without it (issue 21)
    assert first == "['sibdsl.check', 'sibdsl.evaluate']"
    assert sorted(p.name.split("-")[0] for p in tmp_path.glob("*/*.json")) == ["check", "proofs"]
    # the cached result: neither the compiler nor the solver is loaded, and the output is the same
    assert _imports_after_check(env=env) == "[]"
    fresh = run("check", "--no-cache", "contracts/norrkoping.sib", "tests/corpus/broken/E201_undefined.sib")
    cached = run("check", "contracts/norrkoping.sib", "tests/corpus/broken/E201_undefined.sib")
    again = run("check", "contracts/norrkoping.sib", "tests/corpus/broken/E201_undefined.sib")
    assert fresh.output == cached.output == again.output and fresh.exit_code == again.exit_code == 1


def test_a_changed_file_is_checked_again(tmp_path, run):
    path = tmp_path / "c.sib"
    path.write_text('contract "T" currency SEK rounding 1 SEK half up\nparty a "A": payer\n'
                    'party b "B": investor\npayment p = 1 SEK from a to b\n')
    assert run("check", str(path)).exit_code == 0
    path.write_text(path.read_text().replace("to b", "to c"))
    assert run("check", str(path)).exit_code == 1


def test_check_json_of_a_clean_contract_is_an_empty_list(run):
    result = run("check", "--format", "json", "contracts/nyc_rikers.sib")
    assert result.exit_code == 0 and json.loads(result.stdout) == []
