"""Instructions per call of `lang.texts("interim")` as the audit trail calls it (per line), for
docs/performance.md ("Words read once"): the cached read-only view it returns, a deep copy of
the table (the alternative that also keeps callers from changing it) and parsing the file (what
`texts` did before it was cached).

    for how in view copy parse; do for n in 0 1000; do PYTHONHASHSEED=0 valgrind --tool=callgrind \
        --callgrind-out-file=/dev/null .venv/bin/python benchmarks/texts_cost.py $how $n; done; done

The figure per call is (I(1000) − I(0)) / 1000.
"""

from __future__ import annotations

import copy
import json
import sys
from importlib import resources
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sibdsl.lang import texts


def main(how: str, n: int) -> None:
    file = resources.files("sibdsl") / "texts" / "interim.json"
    plain = json.loads(file.read_text(encoding="utf-8"))
    texts("interim")
    for _ in range(n):
        if how == "view":
            texts("interim")["sv"]["coupon"]
        elif how == "copy":
            copy.deepcopy(plain)["sv"]["coupon"]
        elif how == "parse":
            json.loads(file.read_text(encoding="utf-8"))["sv"]["coupon"]
        else:
            raise SystemExit(f"unknown {how!r}: view, copy or parse")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
