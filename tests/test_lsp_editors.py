"""Editors: the Vim/Neovim syntax file in a real Vim, its and the language server's keywords
against the grammar's, and the VS Code extension's files that `editors/build-vsix.sh` packages."""

from __future__ import annotations

import json
import os
import re
import subprocess

import lark
from lark.lexer import PatternStr

from sibdsl.lsp_features import _KEYWORDS, FUNCTIONS
from sibdsl.parser import grammar_path

from .conftest import ROOT

EDITORS = ROOT / "editors"
GRAMMAR_WORDS = {t.pattern.value for t in lark.Lark(grammar_path().read_text(encoding="utf-8"), parser="lalr").terminals
                 if isinstance(t.pattern, PatternStr) and re.fullmatch(r"[a-z]+", t.pattern.value)}


# issue 15: functions and period values, names to the grammar
TIME_NAMES = {"previous", "to_date", "cumulative", "period_index", "period_start", "period_end", "contract_year"}


def test_vim_syntax_knows_every_keyword_of_the_grammar():
    text = (EDITORS / "vim" / "syntax" / "sib.vim").read_text(encoding="utf-8")
    words = set()
    for line in text.splitlines():
        if line.startswith("syn keyword "):
            words |= set(line.split()[3:])
    assert words - {"min", "max", "abs", "sum"} - TIME_NAMES == GRAMMAR_WORDS


def test_semantic_tokens_know_every_keyword_of_the_grammar():
    assert GRAMMAR_WORDS <= _KEYWORDS | {"tiers", "interpolate"}
    assert set(FUNCTIONS) == {"min", "max", "abs", "sum", "previous", "to_date", "cumulative"}


def test_vim_highlights_a_contract(tmp_path):
    """Vim itself, headless, with only editors/vim on its runtime path: the group under each position."""
    contract = ROOT / "tests" / "corpus" / "valid" / "all_constructs.sib"
    lines = contract.read_text(encoding="utf-8").split("\n")
    expected = [("# Every", "sibComment"), ('contract "Alla', "sibDeclaration"), ('"Alla', "sibText"), ("@en", "sibLanguageTag"),
                ("2017-01-15", "sibDate"), ("§ 1", "sibHeading"), ("två rader", "sibText"), ("per year", "sibOption"),
                ("and 10", "sibOperatorWord"), ("10 000", "sibNumber"), ("interpolate(", "sibFunction"),
                ("<=", "sibOperator"), ("cap c_total", "sibDeclaration")]
    probes = []
    for needle, _ in expected:
        line = next(n for n, text in enumerate(lines) if needle in text)
        probes.append((line + 1, len(lines[line][:lines[line].index(needle)].encode("utf-8")) + 1))  # Vim: byte columns
    out = tmp_path / "groups.txt"
    script = tmp_path / "probe.vim"
    script.write_text(
        f"syntax on\nedit {contract}\n"
        "let out = [&filetype]\n"
        f"for [l, c] in {json.dumps(probes)}\n"
        '  call add(out, synIDattr(synID(l, c, 1), "name"))\nendfor\n'
        f"call writefile(out, '{out}')\nqa!\n", encoding="utf-8")
    subprocess.run(["vim", "-Nu", "NONE", "-i", "NONE", "-es", "--cmd", f"set rtp^={EDITORS / 'vim'}",
                    "--cmd", "filetype plugin on", "-S", str(script)], check=True, timeout=60,
                   env={**os.environ, "HOME": str(tmp_path)}, stdin=subprocess.DEVNULL)
    filetype, *groups = out.read_text(encoding="utf-8").splitlines()
    assert filetype == "sib"
    assert groups == [group for _, group in expected]


def test_vscode_extension_is_ready_to_package():
    vscode = EDITORS / "vscode"
    manifest = json.loads((vscode / "package.json").read_text(encoding="utf-8"))
    lock = json.loads((vscode / "package-lock.json").read_text(encoding="utf-8"))
    assert (vscode / manifest["main"]).is_file() and (vscode / "LICENSE").is_file() and (vscode / "README.md").is_file()
    # the one runtime dependency is pinned, and locked at that version
    (name, version), = manifest["dependencies"].items()
    assert lock["packages"][f"node_modules/{name}"]["version"] == version
    assert manifest["contributes"]["configuration"]["properties"]["sibdsl.server.args"]["default"] == ["lsp"]
    script = EDITORS / "build-vsix.sh"
    assert os.access(script, os.X_OK)
    text = script.read_text(encoding="utf-8")
    assert "npm ci" in text and re.search(r"@vscode/vsce@\d+\.\d+\.\d+ package", text)
    ignored = (vscode / ".vscodeignore").read_text(encoding="utf-8").split()
    assert "dist/**" in ignored  # a packaged .vsix never contains an older one
