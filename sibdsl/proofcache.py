"""A cache of verification results, so that `sibc check` of an unchanged contract does not prove
everything again (and does not even import the solver).

The key is the SHA-256 of the contract's exact text together with sibc itself (cache.py, which
includes the solver's resource limit) and the z3 version. The solver is bounded by z3's
deterministic rlimit, not by wall time, so a verdict — `unknown` included — is the same on every
machine and is cached like any other. `use_cache=False` (`sibc check --no-cache`) neither reads
nor writes the cache.
"""

from __future__ import annotations

import json
import os
from importlib.util import find_spec
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .diagnostics import Diagnostic


def _z3_version() -> str:
    """The version of the z3-solver that `import z3` would load, from the name of the .dist-info
    directory beside it; importlib.metadata says the same but cost a cold `sibc check` ≈ 15 ms
    to import, and is the fallback for any other layout."""
    spec = find_spec("z3")
    if spec is None or not spec.origin:
        return "no-z3"
    site = os.path.dirname(os.path.dirname(spec.origin))
    try:
        found = [n for n in os.listdir(site) if n.startswith("z3_solver-") and n.endswith(".dist-info")]
    except OSError:
        found = []
    if len(found) == 1:
        return found[0].removeprefix("z3_solver-").removesuffix(".dist-info")
    from importlib import metadata

    try:
        return metadata.version("z3-solver")
    except metadata.PackageNotFoundError:
        return "no-z3"


def _key(text: str) -> str:
    from . import cache  # not with --no-cache: its key is a SHA-256, and hashlib's import loads OpenSSL

    return "proofs-" + cache.key("proofs", text.encode("utf-8"), _z3_version())


def load(text: str) -> list[dict] | None:
    from . import cache

    data = cache.load(_key(text))
    return data if isinstance(data, list) else None


def store(text: str, verdicts: list[dict]) -> None:
    from . import cache

    cache.store(_key(text), verdicts)


def diagnostic(record: dict, source) -> Diagnostic | None:
    """E701 for a violated property, W701 for one that could not be proved, at its clause."""
    from .diagnostics import Diagnostic

    if record["status"] == "proved":
        return None
    if record["status"] == "dead":  # a clause no outcome can make act (verify_checks.dead_clauses)
        return _dead(record, source)
    line = record.get("line") or 1
    text = source.line_text(line)
    start = source.line_start(line)  # lines as the parser counts them (a lone CR ends one too)
    indent = len(text) - len(text.lstrip())
    span = source.span(start + indent, start + len(text.rstrip()))
    if record["status"] == "violated" and record.get("key") == "assumptions":  # issue 17: verify.contradiction
        return Diagnostic("E702", record["reason"], source, span, label="cannot hold with the others"
                          if "contradict" in record["reason"] else "cannot hold",
                          hint="an assumption states what can be measured; correct the one that is wrong, "
                          "or widen a measure's `between` range")
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
                      "`sibc verify --timeout` gives the solver more work")


def _dead(record: dict, source) -> Diagnostic | None:
    """W410/W411 at the clause or row, unless the author acknowledged it (`# sibc: allow W410`)."""
    from .diagnostics import Diagnostic
    from .allowances import acknowledged

    if acknowledged(source, record):
        return None
    line = record.get("line") or 1
    text = source.line_text(line)
    start = source.line_start(line)
    indent = len(text) - len(text.lstrip())
    span = source.span(start + indent, start + len(text.rstrip()))
    hint = ("remove it, or, if it is there on purpose (a safeguard the contract's own words state), say so "
            f"with a comment `# sibc: allow {record['code']}: why` on the line above it")
    if record["code"] == "W702":  # issue 17: an assumption the measures' ranges already guarantee
        hint = ("if it was meant to say more, correct it (a tighter bound, the right measure); otherwise remove "
                "it, or keep it with a comment `# sibc: allow W702: why` on the line above it")
    label = {"W410": "never acts", "W702": "always holds"}.get(record["code"], "never reached")
    return Diagnostic(record["code"], record["reason"], source, span, label=label, hint=hint)


def verify_cached(contract, source, *, use_cache: bool = True) -> list[dict]:
    """The verdicts for a checked contract: from the cache, or proved now (and cached)."""
    records = load(source.text) if use_cache else None
    if records is not None:
        return records
    from .verify import verdict_record, verify_contract

    from .verify_checks import assumptions_the_ranges_guarantee, dead_clauses

    records = [verdict_record(v) for v in verify_contract(contract)]
    if not any(r.get("key") == "assumptions" for r in records):  # contradictory assumptions: everything is dead
        # W410/W411: what no outcome can make act (issue 17). A warning the author acknowledged is
        # never shown (`_dead`: not by the CLI, the LSP, the studio nor --format json), so its reason
        # is not worked out with the solver: a record keeps words that need none
        from .allowances import acknowledged

        records += dead_clauses(contract, shown=lambda record: not acknowledged(source, record))
        records += assumptions_the_ranges_guarantee(contract)  # W702: an assumption the ranges already make true
    if use_cache:
        store(source.text, records)
    return records
