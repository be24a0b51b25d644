"""sibc's cache: results that depend only on a file's exact bytes and on sibc itself.

Two kinds of entry, both keyed by SHA-256 over the input's bytes, the sibc version and the text of
every module of the installed sibdsl package and its grammar (so any change to sibc is a new key):
  * proofs (proofcache.py): the verdicts of `sibc verify` for a contract, with the z3 version;
  * checks: what `sibc check` reports for a file, so checking an unchanged contract in review, a
    pre-commit hook or CI neither parses nor proves it again, and does not import the compiler.
Verdicts are deterministic (z3 rlimit), `unknown` included. Entries are written atomically. The cache
lives in $SIBDSL_CACHE_DIR, else $XDG_CACHE_HOME/sibdsl, else ~/.cache/sibdsl; it is safe to delete,
and `--no-cache` bypasses it.

An entry's name is `KIND-GENERATION-DIGEST.json`, GENERATION being the first hex digits of
`code_digest()`: entries another sibc (another version, module or grammar) wrote can never be
read by this one, so writing an entry removes the entries of its kind of every other generation
and those named before generations were (`KIND-DIGEST.json`), once per directory and kind in a
process. The directory keeps one sibc's entries, not every sibc's ever installed (issue 21).
Only names of exactly that form are removed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from functools import lru_cache

from . import __version__

# os.path rather than pathlib: `sibc check` does not otherwise import pathlib (≈ 9 ms at start-up)
_HERE = os.path.dirname(os.path.realpath(__file__))


def cache_dir() -> str:
    if os.environ.get("SIBDSL_CACHE_DIR"):
        return os.environ["SIBDSL_CACHE_DIR"]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "sibdsl")


@lru_cache(maxsize=1)
def code_digest() -> bytes:
    """A digest of sibc itself: its version, every module and the grammar it parses with."""
    digest = hashlib.sha256(__version__.encode())
    top = os.path.dirname(_HERE)
    # parser_tables.py is left out: it is made from the grammar, hashed below (prebuilt.py), and
    # reading its 270 kB cost ≈ 9 M instructions on every cached `sibc check`
    modules = sorted(os.path.relpath(os.path.join(folder, name), top)
                     for folder, _, names in os.walk(_HERE) for name in names
                     if name.endswith(".py") and name != "parser_tables.py")
    grammars = [os.path.join(os.path.basename(_HERE), "grammar", "sib.lark"),  # in a wheel
                os.path.join("grammar", "sib.lark")]  # in a checkout
    for relative in modules + [g for g in grammars if os.path.exists(os.path.join(top, g))]:
        digest.update(relative.encode())
        with open(os.path.join(top, relative), "rb") as handle:
            digest.update(handle.read())
    return digest.digest()


def generation() -> str:
    """The part of every entry's name that says which sibc wrote it."""
    return code_digest().hex()[:12]


def key(kind: str, data: bytes, *extra: str) -> str:
    """`GENERATION-DIGEST`: the caller names its entry `KIND-` and this (see the module docstring)."""
    digest = hashlib.sha256(kind.encode())
    digest.update(code_digest())
    for item in extra:
        digest.update(b"\0" + item.encode())
    digest.update(b"\0" + data)
    return f"{generation()}-{digest.hexdigest()}"


_ENTRY = re.compile(r"([a-z]+)-(?:([0-9a-f]{12})-)?[0-9a-f]{64}\.json")  # KIND-[GENERATION-]DIGEST.json


def load(name: str):
    try:
        with open(os.path.join(cache_dir(), f"{name}.json"), encoding="utf-8") as handle:
            return json.loads(handle.read())
    except (OSError, ValueError):
        return None


def store(name: str, value) -> None:
    from .fileio import OutputError, write_atomic

    directory = cache_dir()
    try:
        os.makedirs(directory, exist_ok=True)
        write_atomic(os.path.join(directory, f"{name}.json"), json.dumps(value, ensure_ascii=False))
    except (OSError, OutputError):
        return  # a cache that cannot be written only costs time
    _remove_other_generations(directory, name.split("-", 1)[0])


_CLEANED: set[tuple[str, str]] = set()  # (directory, kind) already cleaned by this process


def _remove_other_generations(directory: str, kind: str) -> None:
    """Remove the entries of `kind` that another sibc wrote: no sibc reads them again. Once per
    directory and kind in a process, so that `sibc check` of many files lists the directory once."""
    if (directory, kind) in _CLEANED:
        return
    _CLEANED.add((directory, kind))
    current = generation()

    def stale(name: str) -> bool:
        found = _ENTRY.fullmatch(name)
        return found is not None and found.group(1) == kind and found.group(2) != current

    remove_entries(directory, stale)


def remove_entries(directory: str, stale) -> None:
    """Remove the files in `directory` whose names `stale` accepts (here and in parser.py's tables);
    a directory that cannot be listed, or an entry another process removed first, is left as it is."""
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        if stale(name):
            with contextlib.suppress(OSError):
                os.remove(os.path.join(directory, name))


# ---------------------------------------------------------------- `sibc check` results
def _span_json(source, span):
    # character offsets, as entries written before spans lost theirs (source.Span) hold them
    return None if span is None else list(source.offsets(span))


def check_entry(diagnostics, summary: str) -> dict | None:
    """A check result as data; None when it cannot be cached (a diagnostic about another file)."""
    items = []
    for d in diagnostics:
        if any(label.source is not d.source for label in d.labels):
            return None
        items.append({"code": d.code, "message": d.message, "span": _span_json(d.source, d.span), "label": d.label,
                      "hint": d.hint, "notes": list(d.notes),
                      "labels": [{"span": _span_json(d.source, x.span), "message": x.message} for x in d.labels]})
    return {"diagnostics": items, "summary": summary}


def check_result(entry: dict, source):
    """The diagnostics of a cached check, attached to the file's text again."""
    from .diagnostics import Diagnostic, Label

    def span(value):
        return None if value is None else source.span(*value)

    return [Diagnostic(d["code"], d["message"], source, span(d["span"]), d["label"], d["hint"],
                       tuple(Label(source, span(x["span"]), x["message"]) for x in d["labels"]),
                       tuple(d["notes"])) for d in entry["diagnostics"]]
