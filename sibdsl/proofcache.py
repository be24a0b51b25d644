"""A cache of verification results, so that `sibc check` of an unchanged contract does not prove
everything again (and does not even import the solver).

The key is the SHA-256 of the contract's exact text together with the sibc version, the z3
version and the text of the modules whose meaning a proof depends on; any change to one of them
is a different key. Only complete results are kept: a run with an `unknown` verdict (a time-out
may go the other way with more time) is not cached. Entries are written atomically. The cache
lives in $SIBDSL_CACHE_DIR, else $XDG_CACHE_HOME/sibdsl, else ~/.cache/sibdsl; it is safe to delete.
"""

from __future__ import annotations

import hashlib
import json
import os
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__

if TYPE_CHECKING:
    from .diagnostics import Diagnostic

_MODULES = ("verify.py", "evaluate.py", "check.py", "values.py", "units.py", "model.py", "parser.py")


def cache_dir() -> Path:
    if os.environ.get("SIBDSL_CACHE_DIR"):
        return Path(os.environ["SIBDSL_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "sibdsl"


def key(text: str) -> str:
    digest = hashlib.sha256()
    digest.update(text.encode("utf-8"))
    digest.update(__version__.encode())
    try:
        digest.update(metadata.version("z3-solver").encode())
    except metadata.PackageNotFoundError:
        digest.update(b"no-z3")
    here = Path(__file__).parent
    for name in _MODULES:
        digest.update((here / name).read_bytes())
    return digest.hexdigest()


def load(text: str) -> list[dict] | None:
    path = cache_dir() / f"{key(text)}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, list) else None


def store(text: str, verdicts: list[dict]) -> None:
    from .fileio import OutputError, write_atomic

    directory = cache_dir()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        write_atomic(directory / f"{key(text)}.json", json.dumps(verdicts, ensure_ascii=False))
    except (OSError, OutputError):
        pass  # a cache that cannot be written only costs time


def diagnostic(record: dict, source) -> Diagnostic | None:
    """E701 for a violated property, W701 for one that could not be proved, at its clause."""
    from .diagnostics import Diagnostic

    if record["status"] == "proved":
        return None
    line = record.get("line") or 1
    text = source.line_text(line)
    start = sum(len(x) + 1 for x in source.text.split("\n")[: line - 1])
    indent = len(text) - len(text.lstrip())
    span = source.span(start + indent, start + len(text.rstrip()))
    if record["status"] == "violated":
        examples = [json.dumps(c, ensure_ascii=False) for c in record["counterexample"]]
        notes = tuple(f"{label}: {e}" for label, e in zip(
            ("outcomes before", "outcomes after") if len(examples) == 2 else ("outcomes",), examples))
        return Diagnostic("E701", f"not for every outcome: {record['description']}; {record['reason']}",
                          source, span,
                          label="violated", notes=notes,
                          hint="`sibc verify --counterexamples DIR` writes the outcomes as files for `sibc eval`")
    return Diagnostic("W701", f"not proved: {record['description']}; {record['reason']}", source,
                      span, label="not proved",
                      hint="give the measures bounds with `between` or simplify the formula; "
                      "`sibc verify --timeout` gives the solver more time")


def verify_cached(contract, source) -> list[dict]:
    """The verdicts for a checked contract: from the cache, or proved now and cached if complete."""
    records = load(source.text)
    if records is not None:
        return records
    from .verify import verdict_record, verify_contract

    records = [verdict_record(v) for v in verify_contract(contract)]
    if all(r["status"] != "unknown" for r in records):
        store(source.text, records)
    return records
