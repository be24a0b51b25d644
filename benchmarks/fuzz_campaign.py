"""A long fuzzing campaign over the whole pipeline: parse, check, settle, report, render.

    .venv/bin/python benchmarks/fuzz_campaign.py [--n 100000] [--seed 1] [--timeout 5]

Each input is a shipped contract mutated one to three times (characters replaced, truncation,
lines deleted, duplicated or swapped, and insertions of hostile fragments: 300 open parentheses,
1 000-digit numbers, NUL, BOM, CR, bidirectional overrides, terminal escapes, unbalanced quotes).
Prints the number of inputs, how many became contracts and how many were refused with diagnostics,
and the number of crashes (any exception other than a diagnostic) and hangs (over --timeout s);
each crash is printed with its input's repr so it can be replayed. Exit status 1 if any.
The test suite runs a short version of the same idea (tests/test_hostile.py).
"""

from __future__ import annotations

import argparse
import random
import signal
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

JUNK = ["(" * 300, "9" * 1000, "\x00", "\ufeff", "\r", "\r\n", "\u202e", "\x1b[2J", "§", '"""', "#",
        "tiers(", "{", "}", "%", " of ", "--", "1e999", "if ", " then ", "payment ", "cap total at ", "\t"]


class Hang(Exception):
    pass


def mutate(rng: random.Random, text: str) -> str:
    for _ in range(rng.randint(1, 3)):
        if not text:
            return text
        at = rng.randrange(len(text))
        kind = rng.choice(["flip", "truncate", "delete", "duplicate", "insert", "swap"])
        lines = text.splitlines(keepends=True)
        if kind == "flip":
            text = text[:at] + chr(rng.choice([rng.randrange(32, 127), rng.randrange(0, 0x3000)])) + text[at + 1:]
        elif kind == "truncate":
            text = text[:at]
        elif kind == "delete":
            i = rng.randrange(len(lines))
            text = "".join(lines[:i] + lines[i + 1:])
        elif kind == "duplicate":
            i = rng.randrange(len(lines))
            text = "".join(lines[:i + 1] + lines[i:])
        elif kind == "insert":
            text = text[:at] + rng.choice(JUNK) + text[at:]
        else:
            i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
            text = "".join(lines)
    return text


def run_one(text: str, rng: random.Random) -> str:
    from hypothesis import strategies as st  # noqa: F401  (imported once, outside the timing)

    from sibdsl import Source, check_source, compile_contract
    from sibdsl.diagnostics import render_gnu, render_human
    from sibdsl.evaluate import EvaluationError
    from sibdsl.render import render
    from sibdsl.report import settlement_json_text, settlement_text
    from sibdsl.testing import value

    contract, diagnostics = check_source(Source("fuzz.sib", text))
    for d in diagnostics:
        render_human(d)
        render_gnu(d)
    if contract is None:
        return "refused"
    values = {}
    for name, measure in contract.measures.items():
        strategy = value(measure)
        example = strategy.example()
        if measure.ty.series:
            values[name] = {p.name: example for p in contract.series[measure.ty.series].periods}
        else:
            values[name] = example
    try:
        settlement = compile_contract(contract).evaluate(values)
    except EvaluationError:
        return "contract"
    settlement_text(settlement)
    settlement_json_text(settlement)
    render(contract, text.encode("utf-8", "surrogatepass"), "sv", "md")
    return "contract"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=int, default=5)
    args = parser.parse_args()
    import warnings

    warnings.filterwarnings("ignore")
    seeds = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "contracts").rglob("*.sib"))]
    rng = random.Random(args.seed)

    def alarm(signum, frame):
        raise Hang()

    signal.signal(signal.SIGALRM, alarm)
    counts = {"contract": 0, "refused": 0, "crash": 0, "hang": 0}
    started = time.perf_counter()
    for i in range(args.n):
        text = mutate(rng, rng.choice(seeds))
        signal.alarm(args.timeout)
        try:
            counts[run_one(text, rng)] += 1
        except Hang:
            counts["hang"] += 1
            print(f"HANG #{i}: {text!r}"[:2000])
        except Exception:  # noqa: BLE001 — counting crashes is the point
            counts["crash"] += 1
            print(f"CRASH #{i}: {text!r}"[:2000])
            traceback.print_exc()
        finally:
            signal.alarm(0)
    elapsed = time.perf_counter() - started
    print(f"{args.n} inputs in {elapsed:.1f} s: {counts['contract']} contracts, {counts['refused']} refused "
          f"with diagnostics, {counts['crash']} crashes, {counts['hang']} hangs")
    return 1 if counts["crash"] or counts["hang"] else 0


if __name__ == "__main__":
    sys.exit(main())
