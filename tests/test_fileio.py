"""Atomic writes: a failed write leaves the old file intact and no temporary files behind."""

from __future__ import annotations

import os

import pytest

from sibdsl.fileio import OutputError, refuse_overwriting_inputs, write_atomic


def test_write_replaces_content_and_keeps_mode(tmp_path):
    target = tmp_path / "contract.sib"
    target.write_text("old\n")
    os.chmod(target, 0o640)
    write_atomic(target, "new åäö\n")
    assert target.read_text(encoding="utf-8") == "new åäö\n"
    assert target.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["contract.sib"]


def test_interrupted_write_leaves_old_file(tmp_path, monkeypatch):
    target = tmp_path / "contract.sib"
    target.write_text("old\n")

    def boom(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, "new\n")
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["contract.sib"]


def test_missing_directory_is_a_user_error(tmp_path):
    with pytest.raises(OutputError, match="does not exist"):
        write_atomic(tmp_path / "nope" / "x.md", "x")


def test_output_over_input_is_refused(tmp_path):
    source = tmp_path / "a.sib"
    source.write_text("x")
    with pytest.raises(OutputError, match="input"):
        refuse_overwriting_inputs(tmp_path / "." / "a.sib", [source])
    refuse_overwriting_inputs(tmp_path / "b.md", [source])
