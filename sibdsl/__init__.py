"""sibdsl: a declarative language for outcome contracts (social impact bonds).

The pipeline, one module per stage:
    source.py   text and spans           parser.py   text → syntax tree (syntax.py)
    check.py    syntax → checked model (model.py, units.py)
    evaluate.py model → evaluation function → Settlement (settlement.py, values.py)
    outcomes.py outcome files → validated outcomes     report.py   tables and JSON
    diagnostics.py / codes.py   diagnostics and their registry      cli.py  `sibc`
"""

from __future__ import annotations

from pathlib import Path

from .check import check
from .diagnostics import Diagnostic, SibError
from .evaluate import Evaluator, compile_contract
from .model import Contract
from .outcomes import load_outcomes, read_error
from .parser import parse
from .settlement import Line, Settlement, Step
from .source import Source, Span

__version__ = "0.1.0"

__all__ = [
    "Contract", "Diagnostic", "Evaluator", "Line", "Settlement", "SibError", "Source", "Span", "Step",
    "check", "check_source", "compile_contract", "evaluate", "load_contract", "load_outcomes", "parse",
    "read_source", "__version__",
]


def read_source(path: str | Path) -> Source:
    """Read a contract file; raise SibError(E001) if it cannot be read as UTF-8 text."""
    try:
        return Source.from_path(path)
    except (OSError, UnicodeDecodeError) as err:
        raise SibError([read_error(str(path), err)]) from None


def check_source(source: Source) -> tuple[Contract | None, list[Diagnostic]]:
    """Parse and check; the model is None when there are errors. Never raises for bad contracts."""
    try:
        tree = parse(source)
    except SibError as err:
        return None, list(err.diagnostics)
    return check(tree, source)


def load_contract(path: str | Path) -> Contract:
    """Read, parse and check a contract file; raise SibError if it has errors."""
    source = read_source(path)
    contract, diagnostics = check_source(source)
    if contract is None:
        raise SibError([d for d in diagnostics if d.is_error])
    return contract


def evaluate(contract: Contract, outcomes, source: Source | None = None) -> Settlement:
    """Settle a contract for validated outcomes (a mapping from `load_outcomes`)."""
    return compile_contract(contract, source).evaluate(outcomes)
