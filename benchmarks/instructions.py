"""Instruction counts for docs/performance.md: deterministic figures a loaded machine cannot blur.

    PYTHONHASHSEED=0 valgrind --tool=callgrind --callgrind-out-file=/dev/null \
        .venv/bin/python benchmarks/instructions.py settle N      # N settlements of Norrköping
    PYTHONHASHSEED=0 valgrind --tool=callgrind --callgrind-out-file=/dev/null \
        .venv/bin/python benchmarks/instructions.py settle N contracts/chicago_cpc.sib  # any contract
    PYTHONHASHSEED=0 valgrind --tool=callgrind --callgrind-out-file=/dev/null \
        .venv/bin/python benchmarks/instructions.py reference N   # the same N by bench.py's hand-written function
    PYTHONHASHSEED=0 valgrind --tool=callgrind --callgrind-out-file=/dev/null \
        .venv/bin/python benchmarks/instructions.py check N       # `check` of an N-clause contract
    PYTHONHASHSEED=0 valgrind --tool=callgrind --callgrind-out-file=/dev/null \
        .venv/bin/python benchmarks/instructions.py edit N before|parsed|after  # N keystrokes, 5,000 clauses
    .venv/bin/python benchmarks/instructions.py cold [CONTRACT ...]   # fully cold `check`, proofs included

    .venv/bin/python benchmarks/instructions.py standalone     # lark's standalone parser vs sibc's cache

The figure per settlement is (I(2000) − I(0)) / 2000: the difference removes start-up, the
compile of the contract and the drawing of the outcomes (drawn in both runs alike).
`benchmarks/instructions.py measure` runs them under callgrind and prints the figures, with the
honest reference of bench.py counted the same way and start-up against the import floor
(`benchmarks/instructions.py startup` alone).
"""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _samples():
    from sibdsl import compile_contract, load_contract, load_outcomes

    contract = load_contract(ROOT / "contracts" / "norrkoping.sib")
    outcomes = load_outcomes(contract, ROOT / "contracts" / "norrkoping.outcomes.json")
    evaluator = compile_contract(contract)
    rng = random.Random(2016)
    samples = [dict(outcomes, actual_costs=Fraction(rng.randrange(0, 10**10), 100),
                    reference_costs=Fraction(rng.randrange(0, 10**10), 100),
                    school_improved=rng.random() < 0.5, completed=rng.random() < 0.9) for _ in range(2000)]
    evaluator.evaluate(samples[0])  # warm
    return evaluator, samples


def _drawn(path: str):
    """2 000 random outcomes of any contract, drawn around its shipped outcome file (each number
    between 0 and twice its value, whole for counts; each yes/no at random), and its evaluator."""
    from sibdsl import compile_contract, load_contract, load_outcomes

    contract = load_contract(ROOT / path)
    outcomes = load_outcomes(contract, (ROOT / path).with_suffix(".outcomes.json"))
    evaluator = compile_contract(contract)
    rng = random.Random(2016)

    def draw(name, value):
        if isinstance(value, dict):
            return {period: draw(name, v) for period, v in value.items()}
        if isinstance(value, bool):
            return rng.random() < 0.5
        if contract.measures[name].ty.kind == "count":
            return Fraction(rng.randrange(0, 2 * int(value) + 2))
        return Fraction(rng.randrange(0, int(2 * value * 100) + 2), 100)
    samples = [{name: draw(name, value) for name, value in outcomes.items()} for _ in range(2000)]
    evaluator.evaluate(samples[0])  # warm
    return evaluator, samples


def settle(n: int, contract: str | None = None) -> None:
    """`n` settlements of Norrköping (the outcomes bench.py's scalar line times), or of `contract`."""
    evaluator, samples = _samples() if contract is None else _drawn(contract)
    for sample in samples[:n]:
        evaluator.evaluate(sample)


def reference(n: int) -> None:
    """bench.py's honest reference (a plain exact function) on the same outcomes: the ratio of the
    two counts is the scalar line of bench.py in units a loaded machine cannot blur."""
    sys.argv = [sys.argv[0], "--quick"]
    from benchmarks.bench import norrkoping_python

    _, samples = _samples()
    args = [(s["actual_costs"], s["reference_costs"], s["school_improved"], s["completed"]) for s in samples]
    norrkoping_python(*args[0])
    for a in args[:n]:
        norrkoping_python(*a)


def check(n: int) -> None:
    sys.argv = [sys.argv[0], "--quick"]
    from benchmarks.bench import generated
    from sibdsl import check_source
    from sibdsl.source import Source

    text = generated(1000)
    check_source(Source("warm.sib", generated(3)))  # lark's tables loaded, the lexer compiled
    if n:
        check_source(Source("generated.sib", text))


def edit(n: int, how: str = "after", clauses: int = 5_000) -> None:
    """`n` keystrokes into the middle of a `clauses`-clause contract, each followed by what `sibc
    lsp` runs before publishing its diagnostics: `before` the whole text parsed and checked and the
    index of names built (as before issue 20's incremental parse), `parsed` the incremental parse
    and the whole check (sibdsl/incremental.py without its memo), `after` the incremental parse
    and the incremental check (check/memo.py)."""
    clauses = int(clauses)  # from the command line: `edit N after 1000`
    sys.argv = [sys.argv[0], "--quick"]
    from benchmarks.bench import generated
    from sibdsl.incremental import Parser
    from sibdsl.lsp_analysis import analyse

    text = generated(clauses)
    at = text.index(f"define d{clauses // 2} = max(d{clauses // 2 - 1}") + len(f"define d{clauses // 2} = max(d{clauses // 2 - 1}")
    versions = [text[:at] + "z" + text[at:], text]
    parser = Parser(memo=how != "parsed")
    analyse("warm.sib", text, parser)  # the chunks of the text as opened, as the editor's first analysis made them
    for i in range(n):
        if how == "before":
            _ = analyse("warm.sib", versions[i % 2]).index
        else:
            analyse("warm.sib", versions[i % 2], parser)


def _instructions(*args: str, script: str | None = __file__, extra: dict | None = None) -> int:
    env = dict(os.environ, PYTHONHASHSEED="0", **(extra or {}))
    if script is None:  # a whole command, as a user runs it: bytecode cached (this sandbox turns that off)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
        subprocess.run([sys.executable, *args], env=env, capture_output=True, cwd=ROOT, check=False)  # warm
    cmd = [sys.executable, *args] if script is None else [sys.executable, script, *args]
    if script is not None:  # warm: the first run after a change of the code checks the contract afresh and
        # writes the cache; counted in one of a difference's two runs only, it would be subtracted
        # from the other's settlements (`measure` once printed 40.7 k for 102.9 k a settlement)
        subprocess.run(cmd, env=env, capture_output=True, cwd=ROOT, check=False)
    out = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *cmd], env=env,
                         capture_output=True, text=True, check=False, cwd=ROOT).stderr
    return int(re.search(r"Collected : (\d+)", out).group(1))


SETTLED = ("contracts/chicago_cpc.sib",  # a waterfall (issue 14)
           "contracts/care_leavers_reboot_west.sib")  # a rate card of 23 outcomes with a cap (issue 15)


def startup() -> None:
    """Start-up in instructions: `sibc check --no-cache --no-verify` (parse and check, in a fresh
    interpreter) against the import floor `python -c "import lark, click, attrs"`."""
    floor = _instructions("-c", "import lark, click, attrs", script=None)
    check = _instructions("-m", "sibdsl.cli", "check", "--no-cache", "--no-verify", "contracts/norrkoping.sib",
                          script=None)
    bare = _instructions("-c", "pass", script=None)
    print(f"start-up: check --no-cache --no-verify {check / 1e6:.1f} M instructions, the import floor "
          f"{floor / 1e6:.1f} M, ratio {check / floor:.2f}× (target ≤ 1.2×); python -c pass {bare / 1e6:.1f} M")


def cold(*contracts: str) -> None:
    """Fully cold in instructions: `sibc check` with proofs and an empty cache directory (each run
    its own, the warm-up's too; the bytecode stays cached, as after an install), the solver's C++
    work included, against the import floor."""
    import tempfile

    floor = _instructions("-c", "import lark, click, attrs", script=None)
    for contract in contracts or ("contracts/norrkoping.sib",):
        with tempfile.TemporaryDirectory() as tmp:
            empty = {"SIBDSL_CACHE_DIR": tmp, "XDG_CACHE_HOME": tmp}
            count = _instructions("-m", "sibdsl.cli", "check", "--no-cache", contract, script=None, extra=empty)
        print(f"fully cold: check {contract} {count / 1e6:.1f} M instructions, the import floor {floor / 1e6:.1f} M, "
              f"ratio {count / floor:.2f}× (target ≤ 2×)")


def load(how: str) -> None:
    """The basic-lexer parser `sibc check` uses, made ready: `cache` imports lark and reads the
    tables sibc keeps in its cache (parser._tables); `standalone` imports the module
    `python -m lark.tools.standalone` generates from grammar/sib.lark (in $SIB_STANDALONE_DIR) and
    makes its parser, with the same callbacks, without importing lark."""
    from sibdsl import parser

    if how == "standalone":
        sys.path.insert(0, os.environ["SIB_STANDALONE_DIR"])
        import sib_standalone

        sib_standalone.Lark_StandAlone(transformer=parser._callbacks(frozenset(
            parser._NAMED_TERMINAL.findall(parser.grammar_text()))))
    elif how == "cache":
        assert parser._builder("basic").source_path == parser.CACHED
    elif how == "prebuilt":  # what `sibc check` uses since issue 21's fourth round (sibdsl/prebuilt.py)
        assert parser._prebuilt() is not None
    # "none": the imports of sibdsl.parser that both share, to subtract


def standalone() -> None:
    """Ways of making the parser `sibc check` uses ready (issue 21): sibc's cache of lark's tables,
    lark's standalone parser generated from the grammar, and the prebuilt parser sibc ships
    (sibdsl/prebuilt.py). Instructions of each, less sibdsl's imports they share; since the
    prebuilt parser, sibdsl.parser does not import lark, so the cache's count includes lark's
    import (which the other two leave out), also counted apart."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "lark.tools.standalone", str(ROOT / "grammar" / "sib.lark"), "-l",
                        "basic", "--keep_all_tokens", "-o", os.path.join(tmp, "sib_standalone.py")], check=True)
        os.environ["SIB_STANDALONE_DIR"] = tmp
        none, cache, alone, prebuilt = (_instructions(__file__, "load", how, script=None)
                                        for how in ("none", "cache", "standalone", "prebuilt"))
    # what leaving lark out would save: its import on top of what sibc imports anyway (click, attrs)
    lark_only = (_instructions("-c", "import lark, click, attrs", script=None)
                 - _instructions("-c", "import click, attrs", script=None))
    print(f"parser ready: from sibc's cache, lark's import included, {(cache - none) / 1e6:.1f} M instructions; "
          f"generated standalone "
          f"module {(alone - none) / 1e6:.1f} M; lark's import on top of click and attrs, which only the standalone "
          f"and the prebuilt parser leave out, {lark_only / 1e6:.1f} M; the prebuilt parser (sibdsl/prebuilt.py, "
          f"no lark) {(prebuilt - none) / 1e6:.1f} M")


def measure() -> None:
    i0, i1 = _instructions("settle", "0"), _instructions("settle", "2000")
    ours = (i1 - i0) / 2000
    print(f"scalar settlement of Norrköping: {ours / 1000:.1f} k instructions per settlement")
    r0, r1 = _instructions("reference", "0"), _instructions("reference", "2000")
    theirs = (r1 - r0) / 2000
    print(f"  the hand-written exact function (bench.py): {theirs / 1000:.1f} k; ratio {ours / theirs:.2f}× "
          "(target ≤ 1.5×)")
    for path in SETTLED:
        i0, i1 = _instructions("settle", "0", path), _instructions("settle", "2000", path)
        print(f"scalar settlement of {path}: {(i1 - i0) / 2000 / 1000:.1f} k instructions per settlement")
    c0, c1 = _instructions("check", "0"), _instructions("check", "1")
    print(f"check of 1,000 clauses: {(c1 - c0) / 1e9:.3f} G instructions")
    startup()
    for how in ("before", "parsed", "after"):
        e0, e2 = _instructions("edit", "0", how), _instructions("edit", "2", how)
        print(f"a keystroke → diagnostics in sibc lsp, 5,000 clauses, {how}: {(e2 - e0) / 2 / 1e9:.3f} G instructions")


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "measure"
    if what == "measure":
        measure()
    elif what == "startup":
        startup()
    elif what == "cold":
        cold(*sys.argv[2:])
    elif what == "standalone":
        standalone()
    elif what == "load":
        load(sys.argv[2])
    else:
        {"settle": settle, "reference": reference, "check": check, "edit": edit}[what](int(sys.argv[2]), *sys.argv[3:])
