"""Writing files without losing work: every command that writes goes through `write_atomic`.

The new content goes to a temporary file in the target's directory, is flushed and synced,
and then replaces the target with `os.replace` (atomic on POSIX and Windows). A crash, a
Ctrl-C or a full disk leaves either the old file or the new one, never half of each. The
temporary file is removed on failure. `refuse_overwriting_inputs` stops a command from
writing its output over one of its own input files by accident.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path


class OutputError(Exception):
    """The output cannot be written where asked; the message says why, for a user."""


def write_atomic(path: str | Path, data: str | bytes, *, encoding: str = "utf-8") -> None:
    """Replace `path` with `data` atomically, keeping the old file's permission bits."""
    target = Path(path)
    payload = data.encode(encoding) if isinstance(data, str) else data
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise OutputError(f"cannot write {target}: directory {directory} does not exist")
    if target.is_dir():
        raise OutputError(f"cannot write {target}: it is a directory")
    try:
        mode = target.stat().st_mode & 0o7777 if target.exists() else None
    except OSError:
        mode = None
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(temp, mode)
        os.replace(temp, target)
    except BaseException as err:
        try:
            os.unlink(temp)
        except OSError:
            pass
        if isinstance(err, OSError):
            raise OutputError(f"cannot write {target}: {err.strerror or err}") from None
        raise


def refuse_overwriting_inputs(output: str | Path, inputs: Iterable[str | Path]) -> None:
    """Raise OutputError if `output` is the same file as one of `inputs`."""
    out = Path(output)
    for item in inputs:
        source = Path(item)
        try:
            same = out.exists() and source.exists() and os.path.samefile(out, source)
        except OSError:
            same = False
        if same or out.resolve() == source.resolve():
            raise OutputError(f"refusing to write {out}: it is an input of this command ({source})")
