"""An interim settlement of the 50 outcomes × 20 periods rate card (benchmarks/ratecard.py) with
half its periods measured: what `sibc eval --as-of` adds to a settlement — the dependency run of
the settlement program on sets of unmeasured values (semantics/pending.py) and the interim
settlement as a whole — against one plain evaluation. Medians of the rounds.

    .venv/bin/python benchmarks/interim.py [--outcomes 50] [--periods 20] [--rounds 7]

Measured on the shared 2-core machine (other sessions running), 2026-12-07, 7 rounds:
    50 × 20: 1000 lines, 500 values not yet measured
      evaluate (all measured)          59.3 ms
      waiting() (dependencies)         65.0 ms
      interim settlement (--as-of)    263.4 ms   450 lines settled
"""

from __future__ import annotations

import argparse
import statistics
import time
from fractions import Fraction


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--outcomes", type=int, default=50)
    ap.add_argument("--periods", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    from ratecard import contract as card

    from sibdsl import check_source, compile_contract
    from sibdsl.interim import settle
    from sibdsl.semantics.pending import waiting
    from sibdsl.source import Source

    model, diagnostics = check_source(Source("card.sib", card(args.outcomes, args.periods)))
    assert model is not None, [d.message for d in diagnostics if d.is_error]
    evaluator = compile_contract(model)
    periods = [p.name for p in model.series["quarters"].periods]
    half = periods[: len(periods) // 2]
    full = {name: {p: Fraction((k * 7 + j) % 13) for j, p in enumerate(periods)}
            for k, name in enumerate(model.measures)}
    partial = {name: {p: v for p, v in values.items() if p in half} for name, values in full.items()}
    pending = {(name, p) for name in model.measures for p in periods if p not in half}
    as_of = model.series["quarters"].periods[len(half)].start

    def timed(fn) -> float:
        times = []
        for _ in range(args.rounds):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        return statistics.median(times)

    plain = timed(lambda: evaluator.evaluate(full))
    deps = timed(lambda: waiting(evaluator.program, pending))
    interim = timed(lambda: settle(evaluator, partial, pending, as_of))
    result = settle(evaluator, partial, pending, as_of)
    settled = len(result.by_status("settled"))
    print(f"{args.outcomes} × {args.periods}: {len(evaluator.program.lines)} lines, {len(pending)} values not yet measured")
    print(f"  evaluate (all measured)       {plain * 1000:8.1f} ms")
    print(f"  waiting() (dependencies)      {deps * 1000:8.1f} ms")
    print(f"  interim settlement (--as-of)  {interim * 1000:8.1f} ms   {settled} lines settled")


if __name__ == "__main__":
    main()
