"""Reading and writing files without losing work: every command reads through `read_bounded`
and writes through `write_atomic`.

Reads are bounded while streaming: at most MAX_READ_BYTES (or the caller's limit) are read,
whatever the file's size claims, so /dev/zero, /dev/urandom or a FIFO fed forever is refused
after the limit, not after it has filled the memory.

Writes go to a regular file only. A symbolic link is followed and its target written (the link
stays a link). The new content goes to a temporary file beside the target, is flushed and synced,
gets the old file's permission bits and owner (a new file gets 0666 less the umask, as any other
tool would create it), and then replaces the target with `os.replace` (atomic on POSIX): a crash,
a Ctrl-C or a full disk leaves either the old file or the new one, never half of each. The
temporary file is removed on every error path; one left behind by a process killed with SIGKILL
is named after that process (`.NAME.sibc-PID.tmp`) and removed by the next write to the same
file once that process is gone.

A file with several hard links, or whose owner this user cannot give to a new file, or in a
directory this user may not create files in, is written in place instead (as editors do), so the
links, the owner and the inode stay: a copy of the old content is kept beside it as
`NAME.sibc-backup` until the new content is synced, and named in the error if writing fails.

Devices, FIFOs, sockets and anything under /dev, /proc or /sys are refused (`-o -` writes to
standard output where a command offers it). Every OS error is an OutputError carrying an E002
diagnostic. `refuse_overwriting_inputs` stops a command from writing its output over one of its
own input files by accident.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

# the most a command reads from one input file: above the limits of a contract (5 M characters,
# up to 20 MB of UTF-8) and of an outcome file (MAX_OUTCOME_BYTES)
MAX_READ_BYTES = 20_000_000
_CHUNK = 1 << 20
_SYSTEM = ("/dev", "/proc", "/sys")


class InputTooLarge(OSError):
    """A file (or device, or pipe) that goes on beyond the read limit."""

    def __init__(self, path: str, limit: int):
        super().__init__(errno.EFBIG, f"it is larger than {limit:,} bytes, the limit for one input file", path)


class OutputError(Exception):
    """The output cannot be written where asked; carries an E002 diagnostic saying why."""

    def __init__(self, path: str | Path, reason: str, hint: str = ""):
        self.path, self.reason, self.hint = str(path), reason, hint
        super().__init__(f"error[E002]: cannot write {path}: {reason}" + (f" ({hint})" if hint else ""))

    @property
    def diagnostic(self):
        from .diagnostics import Diagnostic
        from .source import Source

        return Diagnostic("E002", f"cannot write {self.path}: {self.reason}", Source(self.path, ""), None,
                          hint=self.hint)


def read_bounded(path: str | Path, limit: int | None = None) -> bytes:
    """The bytes of a file, device or pipe; InputTooLarge (an OSError) past `limit` bytes."""
    with open(path, "rb", buffering=0) as handle:
        return read_stream(handle, str(path), limit)


def read_stream(handle, name: str, limit: int | None = None) -> bytes:
    """The bytes of an open binary stream (standard input, say), read while counting: InputTooLarge
    (an OSError) past `limit` bytes, whatever the stream claims its size is."""
    limit = MAX_READ_BYTES if limit is None else limit
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = handle.read(min(_CHUNK, limit + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
        if total > limit:
            raise InputTooLarge(name, limit)
    return b"".join(chunks)


def _reason(err: OSError) -> tuple[str, str]:
    if isinstance(err, PermissionError):
        return "permission denied", "check the permissions of the file and its directory, or write elsewhere with -o"
    if err.errno == errno.ENOSPC:
        return "the disk is full", "free some space; the old file was left as it was"
    if err.errno == errno.EROFS:
        return "the file system is read-only", "write elsewhere with -o"
    if err.errno == errno.ENAMETOOLONG:
        return "the name is too long", "choose a shorter name"
    return (err.strerror or str(err)).lower(), ""


def _umask() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # the portable way: set and restore
    os.umask(mask)
    return mask


def _resolve(path: str | Path) -> str:
    """The file a write to `path` must change: symbolic links followed, whatever their depth."""
    target = os.fspath(path)
    return os.path.realpath(target) if os.path.islink(target) else target


def _clean_stale(directory: str, name: str) -> None:
    """Remove temporary files of earlier writes to `name` whose process no longer runs."""
    pattern = re.compile(rf"\.{re.escape(name)}\.sibc-(\d+)\.tmp\Z")
    try:
        entries = os.listdir(directory)
    except OSError:
        return
    for entry in entries:
        match = pattern.match(entry)
        if match is None:
            continue
        pid = int(match.group(1))
        if pid != os.getpid():
            try:
                os.kill(pid, 0)
                continue  # still running: its own write may be under way
            except ProcessLookupError:
                pass
            except PermissionError:
                continue  # another user's process
        try:
            os.unlink(os.path.join(directory, entry))
        except OSError:
            pass


def write_atomic(path: str | Path, data: str | bytes, *, encoding: str = "utf-8") -> None:
    """Replace the regular file `path` with `data` (see the module docstring); OutputError if not."""
    # os.path, not pathlib: `sibc check` writes its cache through here and does not import pathlib
    shown = os.fspath(path)
    target = _resolve(path)
    try:
        payload = data.encode(encoding) if isinstance(data, str) else data
    except UnicodeEncodeError as err:  # a lone surrogate from an editor or an API: nothing is written
        raise OutputError(shown, f"the text has a character {encoding} cannot hold "
                          f"({err.object[err.start:err.end]!a} at character {err.start + 1})",
                          "delete the character, or type it again: a lone surrogate is half of an emoji") from None
    named = {os.path.abspath(shown), os.path.abspath(target)}  # /dev/stdout and what it points at
    if any(a == d or a.startswith(d + "/") for a in named for d in _SYSTEM):
        raise OutputError(shown, "it is a device or a system file, not a regular file",
                          "name a regular file, or write to standard output with -o - where offered")
    try:
        info = os.stat(target)
    except FileNotFoundError:
        info = None
    except OSError as err:
        raise OutputError(shown, *_reason(err)) from None
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise OutputError(shown, "it is a directory", "name a file inside it")
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise OutputError(shown, "it is not a regular file (a device, a FIFO or a socket)",
                          "name a regular file, or write to standard output with -o - where offered")
    directory, name = os.path.split(target)
    directory = directory or "."
    if not os.path.isdir(directory):
        raise OutputError(shown, f"directory {directory} does not exist", "create the directory first")
    if info is not None and info.st_nlink > 1:
        return _write_in_place(shown, target, payload)
    _clean_stale(directory, name)
    temp = os.path.join(directory, f".{name}.sibc-{os.getpid()}.tmp")
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
    except FileExistsError:
        os.unlink(temp)  # ours, from an earlier write in this process that was interrupted
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except PermissionError as err:
        if info is not None and os.access(target, os.W_OK):
            return _write_in_place(shown, target, payload)  # a writable file in a closed directory
        raise OutputError(shown, *_reason(err)) from None
    except OSError as err:
        raise OutputError(shown, *_reason(err)) from None
    try:
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            if info is None:
                os.chmod(temp, 0o666 & ~_umask())
            else:
                os.chmod(temp, stat.S_IMODE(info.st_mode))
                if (info.st_uid, info.st_gid) != (os.getuid(), os.getgid()):
                    try:
                        os.chown(temp, info.st_uid, info.st_gid)
                    except PermissionError:
                        os.unlink(temp)  # the owner cannot be kept by a new file: keep the inode
                        return _write_in_place(shown, target, payload)
            os.replace(temp, target)
        except OSError as err:
            raise OutputError(shown, *_reason(err)) from None
    finally:
        try:
            os.unlink(temp)
        except FileNotFoundError:
            pass
        except OSError:
            pass  # nothing more can be done; the name says which process left it


def _write_in_place(shown: str, target: str, payload: bytes) -> None:
    """Overwrite the file itself (same inode: hard links, owner, mode, ACLs stay), with a backup."""
    backup = target + ".sibc-backup"
    try:
        old = read_bounded(target, max(MAX_READ_BYTES, os.stat(target).st_size))
    except OSError as err:
        raise OutputError(shown, *_reason(err)) from None
    made_backup = False
    try:
        fd = os.open(backup, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(old)
            handle.flush()
            os.fsync(handle.fileno())
        made_backup = True
    except OSError:
        pass  # a directory we may not create files in: write without a backup copy
    try:
        with open(target, "r+b") as handle:
            handle.write(payload)
            handle.truncate(len(payload))
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as err:
        reason, hint = _reason(err)
        if made_backup:
            hint = f"the old content is in {backup}"
        raise OutputError(shown, reason, hint) from None
    if made_backup:
        try:
            os.unlink(backup)
        except OSError:
            pass


def refuse_overwriting_inputs(output: str | Path, inputs: Iterable[str | Path]) -> None:
    """Raise OutputError if `output` is the same file as one of `inputs`."""
    from pathlib import Path  # not at import: `sibc check` reads through this module

    out = Path(output)
    for item in inputs:
        source = Path(item)
        try:
            same = out.exists() and source.exists() and os.path.samefile(out, source)
        except OSError:
            same = False
        if same or out.resolve() == source.resolve():
            raise OutputError(out, f"it is an input of this command ({source})",
                              "choose another output file")
