"""Hostile paths (issue 22, items 7, 9, 10, 16, 17, 19): real files, links, devices, FIFOs and a
real SIGKILL; what sibc reads is bounded while streaming, what it writes is a regular file."""

from __future__ import annotations

import errno
import os
import re
import signal
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from sibdsl import fileio
from sibdsl.cli import main
from sibdsl.fileio import OutputError, read_bounded, write_atomic

from .conftest import ROOT

UNFORMATTED = """contract "Länkar"
  currency SEK
  rounding 1 SEK half up
party city "Staden": payer
party fund "Fonden": investor
payment p = 1000000 SEK from city to fund
"""
FORMATTED_LINE = "payment p = 1 000 000 SEK\n  from city to fund"


def sibc(*args: str, cwd: Path):
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(main, list(args), catch_exceptions=False)
    finally:
        os.chdir(old)


def _names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


# ---------------------------------------------------------------- item 7: links and owners
def test_fmt_follows_a_symlink_and_formats_its_target(tmp_path):
    real = tmp_path / "real.sib"
    real.write_text(UNFORMATTED, encoding="utf-8")
    (tmp_path / "link.sib").symlink_to("real.sib")
    result = sibc("fmt", "link.sib", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "link.sib").is_symlink()
    assert FORMATTED_LINE in real.read_text(encoding="utf-8")
    assert _names(tmp_path) == ["link.sib", "real.sib"]


def test_fmt_keeps_hard_links_mode_and_inode(tmp_path):
    first = tmp_path / "a.sib"
    first.write_text(UNFORMATTED, encoding="utf-8")
    os.link(first, tmp_path / "b.sib")
    os.chmod(first, 0o640)
    inode = first.stat().st_ino
    assert sibc("fmt", "a.sib", cwd=tmp_path).exit_code == 0
    assert first.stat().st_ino == inode and first.stat().st_nlink == 2
    assert FORMATTED_LINE in (tmp_path / "b.sib").read_text(encoding="utf-8")
    assert stat.S_IMODE(first.stat().st_mode) == 0o640
    assert _names(tmp_path) == ["a.sib", "b.sib"]  # the backup copy is gone once written


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another owner needs root")
def test_fmt_keeps_the_owner_of_someone_elses_file(tmp_path):
    path = tmp_path / "theirs.sib"
    path.write_text(UNFORMATTED, encoding="utf-8")
    os.chown(path, 65534, 65534)
    assert sibc("fmt", "theirs.sib", cwd=tmp_path).exit_code == 0
    assert (path.stat().st_uid, path.stat().st_gid) == (65534, 65534)
    assert FORMATTED_LINE in path.read_text(encoding="utf-8")


def test_an_owner_that_cannot_be_kept_by_a_new_file_is_kept_by_writing_in_place(tmp_path, monkeypatch):
    path = tmp_path / "theirs.sib"
    path.write_text("old\n")
    inode = path.stat().st_ino
    real_stat = os.stat

    class Other:  # the file as another user's: chown of the new file is refused
        def __init__(self, info):
            self._info = info

        def __getattr__(self, name):
            return getattr(self._info, name)

        st_uid = 12345

    monkeypatch.setattr(fileio.os, "stat", lambda p, *a, **k: Other(real_stat(p, *a, **k)) if Path(p) == path
                        else real_stat(p, *a, **k))

    def refuse(*args):
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(fileio.os, "chown", refuse)
    write_atomic(path, "new\n")
    assert path.read_text() == "new\n" and path.stat().st_ino == inode
    assert _names(tmp_path) == ["theirs.sib"]


# ---------------------------------------------------------------- item 9: devices and /proc
# Never the machine's own /dev/null in a test: run as root against a regressed sibc (or today's
# main), that test would replace the device for everyone. A device of our own, made with mknod in
# the test's directory, and names under /dev and /proc that nothing else uses, show the same.
@pytest.mark.skipif(os.geteuid() != 0, reason="making a character device needs root")
def test_render_refuses_a_character_device_and_leaves_it_alone(tmp_path):
    (tmp_path / "c.sib").write_text(UNFORMATTED, encoding="utf-8")
    os.mknod(tmp_path / "null", 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    before = os.stat(tmp_path / "null")
    result = sibc("render", "c.sib", "-o", "null", cwd=tmp_path)
    assert result.exit_code == 1, result.output
    assert "error[E002]: cannot write null: it is not a regular file" in result.output
    after = os.stat(tmp_path / "null")
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev and after.st_ino == before.st_ino
    assert _names(tmp_path) == ["c.sib", "null"]


@pytest.mark.parametrize("target", ["/proc/self/fd/1", "/dev/sibc-hostile-test.md", "/proc/sibc-hostile-test.md"])
def test_render_refuses_proc_and_dev_paths(target, tmp_path):
    (tmp_path / "c.sib").write_text(UNFORMATTED, encoding="utf-8")
    try:
        result = sibc("render", "c.sib", "-o", target, cwd=tmp_path)
        assert result.exit_code == 1, result.output
        assert "error[E002]: cannot write" in result.output and "E900" not in result.output
        assert "it is a device or a system file" in result.output
    finally:
        if target.startswith("/dev/") and os.path.lexists(target):
            os.unlink(target)  # a regressed sibc wrote there: leave /dev as it was
    assert not os.path.lexists("/dev/sibc-hostile-test.md")


def test_render_to_standard_output_with_a_dash(tmp_path):
    (tmp_path / "c.sib").write_text(UNFORMATTED, encoding="utf-8")
    result = sibc("render", "c.sib", "-o", "-", cwd=tmp_path)
    assert result.exit_code == 0
    assert "Länkar" in result.output
    pdf = sibc("render", "c.sib", "--format", "pdf", "-o", "-", cwd=tmp_path)
    assert pdf.exit_code == 0 and pdf.stdout_bytes.startswith(b"%PDF")
    assert _names(tmp_path) == ["c.sib"]


def test_a_fifo_as_output_is_refused_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "out.md")
    (tmp_path / "c.sib").write_text(UNFORMATTED, encoding="utf-8")
    result = sibc("render", "c.sib", "-o", "out.md", cwd=tmp_path)
    assert result.exit_code == 1 and "error[E002]" in result.output and "not a regular file" in result.output
    assert stat.S_ISFIFO(os.stat(tmp_path / "out.md").st_mode)


# ---------------------------------------------------------------- item 10: every OS error is E002
def test_a_directory_that_may_not_be_written_is_e002_for_render_and_fmt(tmp_path, monkeypatch):
    (tmp_path / "c.sib").write_text(UNFORMATTED, encoding="utf-8")
    real_open = os.open

    def closed(path, flags, *args):  # as a non-root user in a directory without write permission
        if str(path).endswith(".tmp") or str(path).endswith(".sibc-backup"):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr(fileio.os, "open", closed)
    real_access = os.access
    monkeypatch.setattr(fileio.os, "access",  # and a file that may not be written
                        lambda path, mode, **k: False if Path(path).name == "c.sib" and mode == os.W_OK else real_access(path, mode, **k))
    result = sibc("render", "c.sib", "-o", "out.md", cwd=tmp_path)
    assert result.exit_code == 1
    assert "error[E002]: cannot write out.md: permission denied" in result.output
    result = sibc("fmt", "c.sib", cwd=tmp_path)
    assert result.exit_code == 1
    assert "error[E002]: cannot write c.sib: permission denied" in result.output
    assert "c.sib: not formatted (left as it was)" in result.output
    assert (tmp_path / "c.sib").read_text(encoding="utf-8") == UNFORMATTED
    assert _names(tmp_path) == ["c.sib"]


@pytest.mark.parametrize("failing", ["write", "fsync", "chmod", "replace"])
def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path, monkeypatch, failing):
    target = tmp_path / "out.md"
    target.write_text("old\n")

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    if failing == "write":
        monkeypatch.setattr(fileio.os, "fdopen", lambda fd, mode: _FullFile(fd))
    else:
        monkeypatch.setattr(fileio.os, failing, full)
    with pytest.raises(OutputError) as info:
        write_atomic(target, "new\n")
    assert info.value.diagnostic.code == "E002"
    assert "cannot write" in info.value.diagnostic.message
    assert target.read_text() == "old\n"
    assert _names(tmp_path) == ["out.md"]


class _FullFile:
    def __init__(self, fd):
        self._handle = open(fd, "wb")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._handle.close()

    def write(self, data):
        raise OSError(errno.ENOSPC, "No space left on device")


# ---------------------------------------------------------------- item 16: bounded reads
def _sibc_limited(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """sibc in a process that may use at most 3 GB of address space (an unbounded read fails)."""
    import resource

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))

    return subprocess.run([sys.executable, "-c", "from sibdsl.cli import main; main()", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120, preexec_fn=limit,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_an_endless_device_as_contract_or_outcomes_is_cut_off_at_the_limit(device, tmp_path):
    result = _sibc_limited("check", device, cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert f"error[E001]: cannot read {device}: it is larger than 20,000,000 bytes" in result.stderr
    (tmp_path / "c.sib").write_text(UNFORMATTED, encoding="utf-8")
    result = _sibc_limited("eval", "c.sib", "--outcomes", device, cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    # the outcome reader says it in its own words (E501) or the file reader's (E001): cut off at 20 MB
    assert re.search(rf"error\[E(001|501)\]: (cannot read )?{device}:? (it )?is larger than 20,000,000 bytes",
                     result.stderr), result.stderr


def test_a_fifo_fed_forever_is_read_to_the_limit_only(tmp_path):
    fifo = tmp_path / "feed.sib"
    os.mkfifo(fifo)
    stop = threading.Event()

    def feed():
        try:
            with open(fifo, "wb") as pipe:
                while not stop.is_set():
                    pipe.write(b"# " + b"x" * 65_000 + b"\n")
        except BrokenPipeError:
            pass

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    with pytest.raises(OSError) as info:
        read_bounded(fifo, limit=1_000_000)
    stop.set()
    assert info.value.errno == errno.EFBIG
    writer.join(timeout=10)
    assert not writer.is_alive()


def test_a_regular_file_under_the_limit_reads_whole(tmp_path):
    path = tmp_path / "x"
    path.write_bytes(b"a" * 3_000_000)
    assert read_bounded(path) == b"a" * 3_000_000
    with pytest.raises(OSError):
        read_bounded(path, limit=2_999_999)


# ---------------------------------------------------------------- item 17: the umask
@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_new_files_honour_the_umask(tmp_path, umask, mode):
    (tmp_path / "c.sib").write_text(UNFORMATTED, encoding="utf-8")
    old = os.umask(umask)
    try:
        assert sibc("render", "c.sib", "-o", "out.md", cwd=tmp_path).exit_code == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "out.md").stat().st_mode) == mode


# ---------------------------------------------------------------- item 19: SIGKILL during fmt
_KILLED_WRITER = """
import os, sys, time
sys.path.insert(0, {root!r})
from sibdsl import fileio
real = os.fsync
def slow(fd):
    print("writing", flush=True)
    time.sleep(60)
fileio.os.fsync = slow
fileio.write_atomic({path!r}, "half" * 1000)
"""


def test_a_temporary_file_left_by_a_sigkill_is_removed_by_the_next_fmt(tmp_path):
    path = tmp_path / "c.sib"
    path.write_text(UNFORMATTED, encoding="utf-8")
    process = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER.format(root=str(ROOT), path=str(path))],
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline() == "writing\n"
    leftover = [n for n in _names(tmp_path) if n.endswith(".tmp")]
    assert leftover == [f".c.sib.sibc-{process.pid}.tmp"]
    process.send_signal(signal.SIGKILL)
    process.wait()
    process.stdout.close()
    assert path.read_text(encoding="utf-8") == UNFORMATTED  # the old file, whole
    result = sibc("fmt", "c.sib", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    assert _names(tmp_path) == ["c.sib"]
    assert FORMATTED_LINE in path.read_text(encoding="utf-8")


def test_a_running_writers_temporary_file_is_left_alone(tmp_path):
    (tmp_path / "c.sib").write_text("x")
    mine = tmp_path / f".c.sib.sibc-{os.getppid()}.tmp"  # a live process (our parent)
    mine.write_text("in progress")
    write_atomic(tmp_path / "c.sib", "y")
    assert mine.exists()
