"""The cost of the proved money diff and of "why not paid" (issue 17), per shipped contract.

    .venv/bin/python benchmarks/diffwhy.py

For `sibc diff`: each shipped contract against a revision of it (every `total at` cap lowered by a
tenth; Norrköping also against INDIGO's reading), and for `sibc eval --why`: each shipped contract
with its published outcomes. Prints the process CPU time (not wall time: the machine is shared),
the questions asked to the solver, and whether every question was decided. The answers themselves
do not depend on the time taken: each question is bounded by z3's deterministic rlimit.
"""

from __future__ import annotations

import json
import re
import sys
import time
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def lowered(text: str) -> str:
    """Every cap `total at N CUR` lowered by a tenth."""
    def lower(match: re.Match) -> str:
        amount = Fraction(match.group(1).replace(" ", "").replace("\u00a0", ""))
        return f"total at {int(amount * 9 / 10)} {match.group(2)}"

    return re.sub(r"total at ([0-9][0-9 ]*) ([A-Z]{3})", lower, text)


def main() -> None:
    from sibdsl import check_source, load_contract, load_outcomes
    from sibdsl.diff import money_effect
    from sibdsl.evaluate import compile_contract
    from sibdsl.source import Source
    from sibdsl.why import why_not_paid

    pairs = [("contracts/norrkoping.sib", "contracts/variants/norrkoping_indigo.sib")]
    for path in sorted((ROOT / "contracts").glob("*.sib")):
        pairs.append((str(path.relative_to(ROOT)), None))
    print("sibc diff (money effect, total and payers):")
    for old_path, new_path in pairs:
        old = load_contract(ROOT / old_path)
        if new_path is None:
            text = lowered((ROOT / old_path).read_text(encoding="utf-8"))
            new, _ = check_source(Source("revision.sib", text))
            if new is None:
                continue
            label = f"{old_path} vs its caps lowered by 10 %"
        else:
            new, label = load_contract(ROOT / new_path), f"{old_path} vs {new_path}"
        started = time.process_time()
        effect = money_effect(old, new)
        cpu = time.process_time() - started
        total = next(e for e in effect.effects if e.kind == "total")
        print(f"  {label}: {cpu:.2f} s CPU, {effect.checks} questions, decided {effect.decided}, "
              f"total +{total.increase.amount if total.increase else 0} / "
              f"{total.decrease.amount if total.decrease else 0}")
    print("sibc eval --why (published outcomes):")
    for path in sorted((ROOT / "contracts").glob("*.sib")):
        outcomes = path.with_name(path.stem + ".outcomes.json")
        if not outcomes.exists():
            continue
        contract = load_contract(path)
        values = load_outcomes(contract, outcomes)
        settlement = compile_contract(contract).evaluate(values)
        started = time.process_time()
        found = why_not_paid(contract, values, settlement)
        cpu = time.process_time() - started
        print(f"  {path.relative_to(ROOT)}: {cpu:.2f} s CPU, {len(found)} lines explained, "
              f"all smallest proved {all(w.exact for w in found)}, "
              + json.dumps({w.payment + (f'@{w.period}' if w.period else ''): w.status for w in found}))


if __name__ == "__main__":
    main()
