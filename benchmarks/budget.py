"""What the payer's budget by year costs the council document (issue 15).

    .venv/bin/python benchmarks/budget.py [--runs N] [CONTRACT.sib ...]

For each contract (default: every shipped one, contracts/*.sib and contracts/*/*.sib, and the test
corpus's all_constructs.sib, which spends its whole question budget):

- the proofs alone (`budget.proved_maxima`): the questions asked and the solver's resource units
  spent — counts, the same on every machine and under any load — and the time, best of N (CPU);
- the figures and their kinds: `max X` (the largest possible, proved by the solver), `≤ X` (a
  proved upper bound, bounds.py, where the solver's work ran out) or `open` (no upper limit);
- unless --no-render, `sibc render CONTRACT --format md` as a whole command in a fresh process, cold (an empty cache
  directory: nothing proved or checked before) and warm (the same directory again: the figures
  come from sibc's cache), best of N each. Cold minus warm is what the figures cost a first
  render; a render of the same contract text after that pays nothing for them. With --baseline,
  the cold render of another checkout (before this work) in the same run, alternately.

The render's times are the CPU seconds of the command's process (user + system), which a
shared machine's load stretches far less than wall time; still take the best of several runs.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--baseline", type=Path, help="another checkout of sibdsl (e.g. before this work): "
                        "its cold render of each contract is timed too, in the same run, alternately")
    parser.add_argument("--no-render", action="store_true", help="the proofs only, not the render command")
    parser.add_argument("contracts", nargs="*", type=Path)
    args = parser.parse_args()
    paths = args.contracts or [*sorted((ROOT / "contracts").glob("*.sib")), *sorted((ROOT / "contracts").glob("*/*.sib")),
                               ROOT / "tests" / "corpus" / "valid" / "all_constructs.sib"]
    from sibdsl import budget, check_source, read_source

    print(f"{'contract':28} {'questions':>9} {'units':>10} {'proofs':>8} {'render cold':>12} {'warm':>8}"
          + (f" {'baseline':>9}" if args.baseline else "") + "  figures")
    for path in paths:
        contract, diagnostics = check_source(read_source(path))
        if contract is None:
            raise SystemExit(f"{path}: does not check: {diagnostics[0]}")
        best, questions, figures = None, None, None
        for _ in range(args.runs):
            questions = budget.Questions()
            started = time.process_time()
            figures = budget.proved_maxima(contract, questions)
            took = time.process_time() - started
            best = took if best is None else min(best, took)
        cold, warm, before = (0.0, 0.0, None) if args.no_render else _render(path, args.runs, args.baseline)
        shown = "; ".join(f"{payer} " + ", ".join(f"{year} {_figure(budget, v)}" for year, v in years.items())
                          for payer, years in figures.items())
        print(f"{path.stem:28} {questions.asked:9} {budget.RESOURCES - questions.resources:10} {best:7.2f}s "
              f"{cold:11.2f}s {warm:7.2f}s" + (f" {before:8.2f}s" if before is not None else "") + f"  {shown}",
              flush=True)


def _figure(budget, figure) -> str:
    if figure.kind == budget.UNBOUNDED:
        return "open"
    return ("max " if figure.kind == budget.MAXIMUM else "≤ ") + _amount(figure.amount)


def _amount(value) -> str:
    return f"{value.numerator}" if value.denominator == 1 else f"{float(value):.2f}"  # display only


def _render(path: Path, runs: int, baseline: Path | None) -> tuple[float, float, float | None]:
    colds, warms, befores = [], [], []
    command = [sys.executable, "-m", "sibdsl.cli", "render", str(path), "--format", "md", "-q"]
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="sibdsl-bench-cache-") as cache:
            env = {**os.environ, "SIBDSL_CACHE_DIR": cache, "PYTHONPATH": str(ROOT)}
            for into in (colds, warms):
                into.append(_run(command, env))
        if baseline is not None:
            with tempfile.TemporaryDirectory(prefix="sibdsl-bench-cache-") as cache:
                befores.append(_run(command, {**os.environ, "SIBDSL_CACHE_DIR": cache, "PYTHONPATH": str(baseline)}))
    return min(colds), min(warms), min(befores) if befores else None


def _run(command: list[str], env: dict) -> float:
    """The CPU seconds (user + system) the command used: a loaded machine stretches its wall time,
    hardly its CPU time."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


if __name__ == "__main__":
    main()
