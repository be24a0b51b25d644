"""sibc's cache: results that depend only on a file's exact bytes and on sibc itself.

Two kinds of entry, both keyed by SHA-256 over the input's bytes, the sibc version and the text of
every module of the installed sibdsl package and its grammar (so any change to sibc is a new key):
  * proofs (proofcache.py): the verdicts of `sibc verify` for a contract, with the z3 version;
  * checks: what `sibc check` reports for a file, so checking an unchanged contract in review, a
    pre-commit hook or CI neither parses nor proves it again, and does not import the compiler.
Verdicts are deterministic (z3 rlimit), `unknown` included. Entries are written atomically. The cache
lives in $SIBDSL_CACHE_DIR, else $XDG_CACHE_HOME/sibdsl, else ~/.cache/sibdsl; it is safe to delete,
and `--no-cache` bypasses it.

One directory may serve several sibc installations at once (two virtual environments, a checkout
and a release, ~/.cache shared by every project of a user). Each keeps its entries in a folder of
its own, named by its GENERATION (the first hex digits of `code_digest()`), as
`GENERATION/KIND-GENERATION-DIGEST.json`; lark's parsers are in `lark/` (parser.py). No sibc removes
an entry because another one wrote: what goes is what no sibc has used for UNUSED_DAYS, as Go's
build cache does. Reading an entry renews its modification time (at most once an hour, so a cached
`sibc check` seldom writes), and a process that writes an entry looks through the directory at most
once a day (the modification time of `trimmed` says when it was last done) and removes the entries,
lark's parsers and temporary files not used since, then the emptied folders of other generations.
Only names of exactly these forms are removed, and every removal another process got to first, or
that a read-only directory refuses, is passed over. Entries from before generations had folders
(`KIND-[GENERATION-]DIGEST.json` at the top) are never read again and go the same way (issue 21's
earlier rule removed the entries of every other generation on each write, so two installations
sharing the directory removed each other's and both checked cold every time).
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


UNUSED_DAYS = 7  # an entry no sibc has read or written for a week goes: a weekly CI run keeps its own
_RENEW_AFTER = 3600  # seconds: reading an entry older than this renews its modification time
_TRIM_EVERY = 86400  # seconds: the directory is looked through at most once a day
TRIMMED = "trimmed"  # the file whose modification time says when it last was

# the names trim removes, compiled when it runs (≈ 0.4 M instructions each, on every `sibc check`
# if compiled on import): a generation's folder; an entry, KIND-[GENERATION-]DIGEST.json, or
# fileio.write_atomic's file before it is renamed to one; lark's parser (parser.tables_path) or its
# file before it is renamed
_GENERATION = r"[0-9a-f]{12}"
_ENTRY = r"[a-z]+-(?:[0-9a-f]{12}-)?[0-9a-f]{64}\.json"
_ENTRY_OR_PARTIAL = rf"(?:{_ENTRY}|\.{_ENTRY}\.sibc-\d+\.tmp)"
_TABLES = r"[a-z]+(?:-[a-z]+)*-[0-9a-f]{40}\.lark(?:\.\d+\.\d+\.tmp)?"


def _path(name: str) -> str:
    return os.path.join(cache_dir(), generation(), f"{name}.json")


def load(name: str):
    try:
        with open(_path(name), encoding="utf-8") as handle:
            value = json.loads(handle.read())
            renew(handle)
    except (OSError, ValueError):
        return None
    return value


def renew(handle) -> None:
    """Mark the entry open in `handle` as used now, unless it was less than an hour ago: its
    modification time is what the daily trim goes by. A directory this user may not write in
    keeps the old time (the entry may then go while still read; it is made again)."""
    import time

    now = time.time()
    if now - os.fstat(handle.fileno()).st_mtime > _RENEW_AFTER:
        with contextlib.suppress(OSError):
            os.utime(handle.name, (now, now))


def store(name: str, value) -> None:
    from .fileio import OutputError, write_atomic

    path = _path(name)
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        write_atomic(path, json.dumps(value, ensure_ascii=False))
    except (OSError, OutputError):
        return  # a cache that cannot be written only costs time (and is not trimmed by this process)
    trim()


_TRIMMED: set[str] = set()  # the cache directories this process has considered trimming


def trim() -> None:
    """Remove from the cache directory what no sibc has used for UNUSED_DAYS (see the module
    docstring), if that was last done a day or more ago; considered once per process, so
    `sibc check` of many files looks at the directory's clock once."""
    import time

    directory = cache_dir()
    if directory in _TRIMMED:
        return
    _TRIMMED.add(directory)
    stamp = os.path.join(directory, TRIMMED)
    now = time.time()
    try:
        if now - os.stat(stamp).st_mtime < _TRIM_EVERY:
            return
    except FileNotFoundError:
        pass  # never trimmed: a new directory, or one from before trimming (below)
    except OSError:
        return
    try:
        with open(stamp, "ab"):  # created if missing; a concurrent process then finds it new and leaves
            pass
        os.utime(stamp, (now, now))
    except OSError:
        return  # a directory this user may not write in: nothing could be removed from it either
    _remove_unused(directory, now - UNUSED_DAYS * 86400)


def _remove_unused(directory: str, before: float) -> None:
    """Remove the entries, parsers and partial files in `directory` last used before `before`,
    then the folders of other generations left empty. A symbolic link is never followed."""
    current = generation()
    generation_folder, entry, tables = (re.compile(p).fullmatch for p in (_GENERATION, _ENTRY_OR_PARTIAL, _TABLES))
    try:
        with os.scandir(directory) as listing:
            found = [(item.name, item.path, item.is_dir(follow_symlinks=False)) for item in listing]
    except OSError:
        return  # not readable (made unreadable since the stamp was written)
    for name, path, folder in found:
        if folder and generation_folder(name):
            _remove_older(path, before, entry)
            if name != current:  # this generation's folder is written in next: it stays
                with contextlib.suppress(OSError):
                    os.rmdir(path)  # only if empty: a file of another form stays, and so does its folder
        elif folder and name == "lark":
            _remove_older(path, before, tables)
        elif not folder and entry(name):  # from before generations had folders
            _remove_if_older(path, before)


def _remove_older(directory: str, before: float, matches) -> None:
    """Remove the files of `directory` whose names `matches` accepts, last modified before `before`."""
    try:
        names = os.listdir(directory)
    except OSError:
        return  # removed by another process meanwhile, or not readable
    for name in names:
        if matches(name):
            _remove_if_older(os.path.join(directory, name), before)


def _remove_if_older(path: str, before: float) -> None:
    """A file another process removed or renewed first, or that cannot be removed, stays."""
    with contextlib.suppress(OSError):
        if os.lstat(path).st_mtime < before:
            os.remove(path)


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
