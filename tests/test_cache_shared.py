"""One cache directory shared by several sibc installations (sibdsl/cache.py, docs/cli.md).

Two virtual environments of different sibc versions, or a checkout and a release, use the same
~/.cache/sibdsl. Each keeps its check, proof and budget entries in a folder named by its
generation (a digest of sibc's version, modules and grammar), and none removes the other's: what
goes is what no sibc has read or written for cache.UNUSED_DAYS, looked for at most once a day by
a process that writes. The processes below are real sibc processes, each made another generation
by replacing `cache.code_digest` before it runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from sibdsl import cache as sibcache
from sibdsl import proofcache

from .conftest import ROOT

DAY = 86400
CONTRACT = ROOT / "contracts" / "cameroon_hcv_dib.sib"  # small: its proofs take a moment
OTHER = ROOT / "contracts" / "koto_sib.sib"
A, B, OLD = "a1" * 32, "b2" * 32, "c3" * 32  # three sibc's code digests; generations a1a1…, b2b2…, c3c3…

# a sibc of the given generation running `sibc check ARGS`; "cold" on stderr when it checked the
# file itself, nothing when the result came from the cache
RUN = """
import sys
from sibdsl import cache, cli
cache.code_digest = lambda: bytes.fromhex(sys.argv[1])
uncached = cli._check_uncached
def cold(*args, **kwargs):
    print("cold", file=sys.stderr)
    return uncached(*args, **kwargs)
cli._check_uncached = cold
cli.main(sys.argv[2:], prog_name="sibc")
"""


def sibc(directory, digest: str, *args: str, wait: bool = True):
    env = {**os.environ, "SIBDSL_CACHE_DIR": str(directory), "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-c", RUN, digest, "check", *args]
    if not wait:
        return subprocess.Popen(command, env=env, cwd=ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return subprocess.run(command, env=env, cwd=ROOT, text=True, capture_output=True, timeout=600)


def was_cold(result) -> bool:
    assert result.returncode == 0, result.stdout + result.stderr
    return "cold" in result.stderr.split()


def files(directory) -> list[str]:
    return sorted(os.listdir(directory)) if os.path.isdir(directory) else []


def kinds(folder) -> list[str]:
    return sorted(name.split("-", 1)[0] for name in files(folder))


def age(path, days: float) -> None:
    then = time.time() - days * DAY
    os.utime(path, (then, then))


def test_two_installations_keep_each_others_entries(tmp_path):
    """A checks, B checks, A and B check again: both find their entries (check and proofs), where
    each used to remove the other's on writing and both checked cold every time. A third
    generation's entries, not used for eight days, go when A next writes an entry."""
    directory = tmp_path / "cache"
    assert was_cold(sibc(directory, A, str(CONTRACT)))
    assert was_cold(sibc(directory, B, str(CONTRACT)))
    assert not was_cold(sibc(directory, A, str(CONTRACT)))
    assert not was_cold(sibc(directory, B, str(CONTRACT)))
    assert files(directory) == [A[:12], B[:12], sibcache.TRIMMED]
    assert kinds(directory / A[:12]) == kinds(directory / B[:12]) == ["check", "proofs"]

    old = directory / OLD[:12]
    old.mkdir()
    for name in (f"check-{OLD[:12]}-{'ab' * 32}.json", f"proofs-{OLD[:12]}-{'cd' * 32}.json"):
        (old / name).write_text("{}", encoding="utf-8")
        age(old / name, 8)
    age(directory / sibcache.TRIMMED, 2)  # last looked through two days ago
    assert was_cold(sibc(directory, A, "--no-verify", str(OTHER)))  # a new entry: A writes, and trims
    assert files(directory) == [A[:12], B[:12], sibcache.TRIMMED]
    assert not was_cold(sibc(directory, B, str(CONTRACT)))
    assert not was_cold(sibc(directory, A, str(CONTRACT)))


def test_installations_writing_at_once_each_keep_one_whole_entry(tmp_path):
    """Six processes of two generations check one file at the same moment on an empty directory:
    each reports the same, each generation keeps one whole entry, and no partial file is left."""
    directory = tmp_path / "cache"
    runs = [sibc(directory, digest, "--no-verify", str(CONTRACT), wait=False) for digest in (A, B) * 3]
    outputs = [run.communicate(timeout=600) for run in runs]
    assert [run.returncode for run in runs] == [0] * 6, outputs
    assert len({stdout for stdout, _ in outputs}) == 1 and "ok" in outputs[0][0]
    assert files(directory) == [A[:12], B[:12], sibcache.TRIMMED]
    for digest in (A, B):
        (entry,) = files(directory / digest[:12])
        assert entry.startswith(f"check-{digest[:12]}-") and entry.endswith(".json")
        assert not was_cold(sibc(directory, digest, "--no-verify", str(CONTRACT)))


# ---------------------------------------------------------------- trimming, in this process
@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty cache directory of the test's own, not yet considered for trimming by this process."""
    monkeypatch.setenv("SIBDSL_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(sibcache, "_TRIMMED", set())
    return tmp_path / "cache"


def put(path, days: float, text: str = "{}") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    age(path, days)


def test_what_no_sibc_used_for_a_week_goes_and_nothing_else(cache):
    """Entries, lark's parsers and partial files of every generation, and entries from before
    generations had folders, go once unused for UNUSED_DAYS; a folder of another generation goes
    once empty; this generation's folder, what was used within the week, files of any other form
    and whatever a symbolic link points at stay."""
    this, other, digest = sibcache.generation(), "0" * 12, "ab" * 32
    gone = [f"{other}/proofs-{other}-{digest}.json", f"{other}/.check-{other}-{digest}.json.sibc-77.tmp",
            f"{this}/check-{this}-{digest}.json", f"budget-{other}-{digest}.json", f"proofs-{digest}.json",
            f"lark/tree-{'0' * 40}.lark", f"lark/tree-{'0' * 40}.lark.77.1.tmp", "1" * 12 + f"/check-{other}-{digest}.json"]
    recent = [f"{'2' * 12}/proofs-{'2' * 12}-{digest}.json", f"check-{other}-{'cd' * 32}.json", f"lark/tree-{'1' * 40}.lark"]
    foreign = [f"{'3' * 12}/notes.txt", "notes.json", "README", "lark/README", f"proofs-{'1' * 12}.json",
               f"other/proofs-{other}-{digest}.json", f"target/check-{other}-{digest}.json"]
    for name in gone + foreign:
        put(cache / name, sibcache.UNUSED_DAYS + 1)
    for name in recent:
        put(cache / name, sibcache.UNUSED_DAYS - 1)
    (cache / ("4" * 12)).symlink_to(cache / "target")  # a generation's name, leading elsewhere
    proofcache.store("a contract", [{"status": "proved"}])
    left = {os.path.relpath(os.path.join(folder, name), cache)
            for folder, _, names in os.walk(cache) for name in names}  # not into the symbolic link
    (written,) = {name for name in left if name.startswith(f"{this}/proofs-{this}-")}
    assert left == {*recent, *foreign, sibcache.TRIMMED, written}
    assert not (cache / other).exists() and not (cache / ("1" * 12)).exists()  # emptied folders of other generations
    assert (cache / ("4" * 12)).is_symlink()


def test_reading_an_entry_renews_it_at_most_once_an_hour(cache):
    proofcache.store("a contract", [{"status": "proved"}])
    (name,) = files(cache / sibcache.generation())
    entry = cache / sibcache.generation() / name
    age(entry, 30 / (24 * 60))  # read half an hour ago: reading it again writes nothing
    before = entry.stat().st_mtime
    assert proofcache.load("a contract") == [{"status": "proved"}]
    assert entry.stat().st_mtime == before
    age(entry, sibcache.UNUSED_DAYS + 1)  # last read eight days ago (by a process of this sibc)
    assert proofcache.load("a contract") == [{"status": "proved"}]
    assert time.time() - entry.stat().st_mtime < 60
    sibcache._TRIMMED.clear()
    age(cache / sibcache.TRIMMED, 2)
    proofcache.store("another contract", [])  # looks through the directory: the renewed entry stays
    assert len(files(cache / sibcache.generation())) == 2
    assert time.time() - (cache / sibcache.TRIMMED).stat().st_mtime < 60


def test_the_directory_is_looked_through_at_most_once_a_day_and_once_a_process(cache):
    old = cache / ("0" * 12) / f"check-{'0' * 12}-{'ab' * 32}.json"
    put(old, sibcache.UNUSED_DAYS + 1)
    put(cache / sibcache.TRIMMED, 23 / 24, "")  # looked through 23 hours ago
    sibcache.store("check-" + sibcache.key("check", b"first"), {})
    assert old.exists()
    age(cache / sibcache.TRIMMED, 25 / 24)  # 25 hours ago, but this process has already considered it
    sibcache.store("check-" + sibcache.key("check", b"second"), {})
    assert old.exists()
    sibcache._TRIMMED.clear()  # the next process
    sibcache.store("check-" + sibcache.key("check", b"third"), {})
    assert not old.exists()


def test_an_entry_that_cannot_be_written_removes_nothing(cache, monkeypatch):
    """A full disk: the entry is not written, the directory is not looked through, the old entries
    stay; the same store, written, trims."""
    from sibdsl import fileio

    old = cache / ("0" * 12) / f"proofs-{'0' * 12}-{'ab' * 32}.json"
    put(old, sibcache.UNUSED_DAYS + 1)

    def full(path, data, **_):
        raise OSError(28, "No space left on device", path)

    with monkeypatch.context() as patched:
        patched.setattr(fileio, "write_atomic", full)
        sibcache.store("proofs-" + sibcache.key("proofs", b"x"), [])
    assert files(cache) == ["0" * 12, sibcache.generation()] and old.exists()
    assert sibcache.load("proofs-" + sibcache.key("proofs", b"x")) is None
    sibcache.store("proofs-" + sibcache.key("proofs", b"x"), [])
    assert sibcache.load("proofs-" + sibcache.key("proofs", b"x")) == [] and not old.exists()


def test_a_cache_directory_that_is_a_file_only_costs_time(cache, tmp_path, monkeypatch):
    blocked = tmp_path / "a file"
    blocked.write_text("not a directory", encoding="utf-8")
    monkeypatch.setenv("SIBDSL_CACHE_DIR", str(blocked))
    sibcache.store("check-" + sibcache.key("check", b"x"), {})
    sibcache.trim()
    assert sibcache.load("check-" + sibcache.key("check", b"x")) is None
    assert blocked.read_text(encoding="utf-8") == "not a directory"
