"""sibdsl: a declarative language for outcome contracts (social impact bonds).

The pipeline, one module per stage:
    source.py   text and spans           parser.py   text → syntax tree (syntax.py)
    check.py    syntax → checked model (model.py, units.py)
    evaluate.py model → evaluation function → Settlement (settlement.py, values.py)
    outcomes.py outcome files → validated outcomes     report.py   tables and JSON
    diagnostics.py / codes.py   diagnostics and their registry      cli.py  `sibc`

The names below are imported on first use (PEP 562), so `sibc` starts without loading the
parser, the checker or the evaluator when it does not need them (a cached `sibc check`).
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING

__version__ = "0.1.0"

_LAZY = {
    "check": "check", "Diagnostic": "diagnostics", "SibError": "diagnostics", "Evaluator": "evaluate",
    "compile_contract": "evaluate", "Contract": "model", "load_outcomes": "outcomes", "read_error": "outcomes",
    "parse": "parser", "Line": "settlement", "Settlement": "settlement", "Step": "settlement",
    "Source": "source", "Span": "source",
}

__all__ = [
    "Contract", "Diagnostic", "Evaluator", "Line", "Settlement", "SibError", "Source", "Span", "Step",
    "check", "check_file", "check_source", "compile_contract", "evaluate", "load_contract", "load_outcomes", "parse",
    "read_source", "__version__",
]

if TYPE_CHECKING:
    from pathlib import Path

    from .check import check
    from .diagnostics import Diagnostic, SibError
    from .evaluate import Evaluator, compile_contract
    from .model import Contract
    from .outcomes import load_outcomes, read_error  # noqa: F401
    from .parser import parse
    from .settlement import Line, Settlement, Step
    from .source import Source, Span


class _Package(types.ModuleType):
    """Two public functions share their names with modules (`sibdsl.check`, `sibdsl.evaluate`).
    Importing such a module lazily must not replace the function on the package: the modules
    stay reachable in sys.modules and by `from sibdsl.check import …`."""

    def __setattr__(self, name: str, value) -> None:
        if name in ("check", "evaluate") and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'sibdsl' has no attribute {name!r}")


def read_source(path: str | Path) -> Source:
    """Read a contract file; raise SibError(E001) if it cannot be read as UTF-8 text."""
    from .diagnostics import SibError
    from .source import Source

    try:
        return Source.from_path(path)
    except (OSError, UnicodeDecodeError) as err:
        from .outcomes import read_error  # not imported by a `check` that reads its file

        raise SibError([read_error(str(path), err)]) from None


def check_source(source: Source) -> tuple[Contract | None, list[Diagnostic]]:
    """Parse and check; the model is None when there are errors. Never raises for bad contracts."""
    from .check import check
    from .diagnostics import SibError
    from .parser import parse

    try:
        tree = parse(source)
    except SibError as err:
        return None, list(err.diagnostics)
    return check(tree, source)


def check_file(path: str | Path) -> tuple[Source | None, Contract | None, list[Diagnostic]]:
    """Read and check a contract file: (source, model or None, diagnostics). Never raises for a bad
    or unreadable file (E001 is a diagnostic like any other); the one way every command starts."""
    from .diagnostics import SibError

    try:
        source = read_source(path)
    except SibError as err:
        return None, None, list(err.diagnostics)
    contract, diagnostics = check_source(source)
    return source, contract, diagnostics


def load_contract(path: str | Path) -> Contract:
    """Read, parse and check a contract file; raise SibError if it has errors."""
    from .diagnostics import SibError

    source = read_source(path)
    contract, diagnostics = check_source(source)
    if contract is None:
        raise SibError([d for d in diagnostics if d.is_error])
    return contract


def evaluate(contract: Contract, outcomes, source: Source | None = None) -> Settlement:
    """Settle a contract for validated outcomes (a mapping from `load_outcomes`)."""
    from .evaluate import compile_contract

    return compile_contract(contract, source).evaluate(outcomes)
