"""docs/simulate.md: its scenario files are valid and its console examples print what is shown."""

from __future__ import annotations

import os
import re
import shlex
import shutil
from pathlib import Path

from click.testing import CliRunner

from sibdsl.cli import main

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "simulate.md"
REGEN = os.environ.get("SIB_REGEN") == "1"
_FILE = re.compile(r"^```\w+ file=(\S+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
_CONSOLE = re.compile(r"^```console\n\$ (sibc [^\n]+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def _workdir(tmp_path: Path) -> Path:
    for name in ("norrkoping.sib", "peterborough.sib", "peterborough.outcomes.json", "massachusetts_jj.sib"):  # as in a checkout
        shutil.copy(ROOT / "contracts" / name, tmp_path / name)
    for name, body in _FILE.findall(DOC.read_text(encoding="utf-8")):
        (tmp_path / name).write_text(body, encoding="utf-8")
    return tmp_path


def test_console_examples_print_what_the_page_shows(tmp_path, monkeypatch):
    monkeypatch.chdir(_workdir(tmp_path))
    text = DOC.read_text(encoding="utf-8")
    examples = _CONSOLE.findall(text)
    assert len(examples) >= 3
    outputs = {}
    for command, shown in examples:
        result = CliRunner().invoke(main, shlex.split(command)[1:], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        outputs[command] = result.stdout
        if shown and REGEN:
            text = text.replace(f"$ {command}\n{shown}", f"$ {command}\n{result.stdout}", 1)
        elif shown:
            assert result.stdout == shown, command
    if REGEN:
        DOC.write_text(text, encoding="utf-8")


def test_the_toml_file_gives_the_same_report_as_the_json_file(tmp_path, monkeypatch):
    monkeypatch.chdir(_workdir(tmp_path))
    runs = [CliRunner().invoke(main, ["simulate", "norrkoping.sib", "--scenarios", f"norrkoping.scenarios.{ext}",
                                      "-n", "3000", "--format", "json"], catch_exceptions=False).stdout
            for ext in ("json", "toml")]
    assert runs[0] == runs[1] and '"scenarios": 3000' in runs[0]
