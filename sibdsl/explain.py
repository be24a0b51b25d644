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
    """The page for a registered code; a short registry entry if the page is missing."""
    from .codes import lookup

    path = docs_dir() / f"{code}.md"
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        entry = lookup(code)
        return f"# {code}: {entry.title}\n\n**Severity:** {entry.severity.value}\n\n(no page found at {path})\n"
