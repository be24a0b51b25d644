"""Render time of the council document (issue: under 3 s for Norrköping).

    .venv/bin/python benchmarks/render.py

Prints the time of each format and language for contracts/norrkoping.sib, best of three runs, and
the ratio to the 3-second budget.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BUDGET = 3.0


def main() -> None:
    from sibdsl import load_contract
    from sibdsl.render import render

    path = ROOT / "contracts" / "norrkoping.sib"
    contract, data = load_contract(path), path.read_bytes()
    for fmt in ("md", "html", "pdf"):
        for lang in ("sv", "en"):
            best = min(_time(lambda lang=lang, fmt=fmt: render(contract, data, lang, fmt, path=path))
                       for _ in range(3))
            print(f"{fmt:4} {lang}: {best:.3f} s ({best / BUDGET:.2f} × the {BUDGET:.0f} s budget)")


def _time(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
