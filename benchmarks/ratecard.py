"""A rate card of 50 outcomes × 20 periods: `check` and `verify` times (issue 15's targets: < 1 s and
< 10 s). Paired runs: each round times check and verify of the same text, in alternation, and the
median of the rounds is reported with the ratio to the target.

    .venv/bin/python benchmarks/ratecard.py [--outcomes 50] [--periods 20] [--rounds 3] [--no-verify]
                                            [--solver-only] [--order claim|declaration|proportion]

`--order proportion` caps the card pro rata (`total cap … in proportion`, issue 15): every line
scaled by cap ÷ total, rounded down; the default is `claim`.

`--solver-only` sends every property to z3 (no proofs by bounds, sibdsl/bounds.py): the path
before issue 15's verify work, for comparison.

Before (commit 319c5a5, every property to z3), measured on the shared 2-core machine (other
sessions running), 2026-12-07, one round each:
    50 × 20  check 0.145–0.16 s cold, 0.016 s warm (5 rounds)   verify: not finished in 12 min
    20 × 4   check 0.15 s   verify 2.4–3.2 s, 22 proved (70 s with one unknown before verify.cut_lemmas)
    20 × 8   check 0.13 s   verify 10.8–13.3 s, 22 proved
    30 × 10  check 0.16 s   verify 21.8–27.3 s, 31 proved, 1 unknown (the card's total cap guarantee)
Each of the 50 "never negative" properties re-solved the whole card.

After (proofs by bounds: the settlement program run on intervals proves "defined", every "never
negative" and the total-cap guarantee without the solver), same machine and day, 3 rounds
(1 round for 20 × 8 and 30 × 10 paired with the "before" run above):
    50 × 20  check 0.026–0.035 s   verify 0.59–0.96 s, 52 proved (by bounds), no unknown
    30 × 10  verify 0.05–0.24 s, 32 proved, no unknown
    20 × 8   verify 0.11–0.31 s, 22 proved
    20 × 4   verify 0.035–0.06 s, 22 proved
Most of what is left at 50 × 20 is lowering the program and compiling the evaluator (the
Verifier's set-up), not proving.
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import time


def _n(x: int) -> str:
    return f"{x:,}".replace(",", " ")


def contract(outcomes: int, periods: int, order: str = "claim") -> str:
    start = datetime.date(2020, 1, 1)
    spans = []
    for k in range(periods):
        a = start + datetime.timedelta(days=91 * k)
        b = a + datetime.timedelta(days=90)
        spans.append(f"  q{k + 1} {a} to {b}")
    end = start + datetime.timedelta(days=91 * periods + 90)
    lines = ['contract "Rate card benchmark"', "  currency GBP", "  rounding 1 GBP half up",
             'party council "Council": payer', 'party fund "Fund": investor',
             f"term {start} to {end}", "periods quarters:\n" + ",\n".join(spans),
             'cohort young_people "Care leavers": size 300',
             'ratecard care "Rate card" per quarters from council to fund due 30 days after end: {']
    prices = [220, 1760, 4730, 660, 2750]
    for k in range(outcomes):
        cap = f" cap {_n(prices[k % 5] * 40)} GBP" if k % 3 == 0 else ""
        lines.append(f"  o{k + 1}: {_n(prices[k % 5])} GBP{cap},")
    lines.append("  cap per participant 8 200 GBP,")
    lines.append("  total cap 2 000 000 GBP " + ("in proportion" if order == "proportion" else f"in {order} order"))
    lines.append("}")
    lines.append('guarantee capped: total <= 2 000 000 GBP')
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--outcomes", type=int, default=50)
    ap.add_argument("--periods", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-verify", action="store_true", help="time check only")
    ap.add_argument("--solver-only", action="store_true", help="every property to z3 (no proofs by bounds)")
    ap.add_argument("--order", choices=("claim", "declaration", "proportion"), default="claim",
                    help="the order of the card's caps (proportion: pro rata)")
    args = ap.parse_args()
    from sibdsl import check_source
    from sibdsl.source import Source
    from sibdsl.verify import Verifier

    def verify(model):
        return Verifier(model, bounds=not args.solver_only).verify()

    text = contract(args.outcomes, args.periods, args.order)
    checks, verifies, verdicts = [], [], None
    for _ in range(args.rounds):
        t0 = time.perf_counter()
        model, diagnostics = check_source(Source("ratecard.sib", text))
        t1 = time.perf_counter()
        assert model is not None, [d.message for d in diagnostics]
        print(f"check {t1 - t0:.3f} s", flush=True)
        if args.no_verify:
            checks.append(t1 - t0)
            continue
        verdicts = verify(model)
        t2 = time.perf_counter()
        print(f"verify {t2 - t1:.3f} s", flush=True)
        checks.append(t1 - t0)
        verifies.append(t2 - t1)
    check = statistics.median(checks)
    ver = statistics.median(verifies) if verifies else float("nan")
    states = {}
    for v in verdicts or ():
        states[v.status] = states.get(v.status, 0) + 1
    print(f"rate card: {args.outcomes} outcomes × {args.periods} periods = {args.outcomes * args.periods} lines, "
          f"caps {args.order}, "
          f"{len(text.splitlines())} lines of .sib")
    print(f"check   median {check:.3f} s over {args.rounds} rounds (target 1 s: {check / 1:.2f} of it)")
    print(f"verify  median {ver:.3f} s over {args.rounds} rounds (target 10 s: {ver / 10:.2f} of it); "
          f"verdicts {states}")


if __name__ == "__main__":
    main()
