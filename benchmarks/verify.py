"""Verification time per contract and per property (issue: under 2 s per shipped contract).

    .venv/bin/python benchmarks/verify.py [FILES...]

Prints, for each contract, every property's verdict and time, the total, and the ratio to the
2-second budget; also the time to import z3. Runs without the proof cache (it proves each time).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BUDGET = 2.0


def main(paths: list[str]) -> None:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import z3"], check=True)
    bare = time.perf_counter() - started
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    python = time.perf_counter() - started
    print(f"import z3: {bare - python:.3f} s (a fresh interpreter with it: {bare:.3f} s, without: {python:.3f} s)")

    from sibdsl import load_contract
    from sibdsl.verify import verify_contract

    files = paths or sorted(str(p.relative_to(ROOT)) for p in (ROOT / "contracts").rglob("*.sib"))
    for path in files:
        contract = load_contract(ROOT / path)
        started = time.perf_counter()
        verdicts = verify_contract(contract)
        total = time.perf_counter() - started
        print(f"\n{path}: {len(verdicts)} properties in {total:.3f} s "
              f"({total / BUDGET:.2f} × the {BUDGET:.0f} s budget)")
        for v in verdicts:
            print(f"  {v.status:<8} {v.seconds:7.3f} s  {v.key}")


if __name__ == "__main__":
    main(sys.argv[1:])
