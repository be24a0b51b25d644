"""The documentation of each diagnostic code, read from docs/diagnostics/<CODE>.md.

The pages ship inside the package (sibdsl/docs/diagnostics, see pyproject.toml) and are
read from the checkout when running from source.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def docs_dir() -> Path:
    shipped = resources.files("sibdsl") / "docs" / "diagnostics"
    if shipped.is_dir():
        return Path(str(shipped))
    return Path(__file__).resolve().parent.parent / "docs" / "diagnostics"


def page(code: str) -> str:
    path = docs_dir() / f"{code}.md"
    return path.read_text(encoding="utf-8")
