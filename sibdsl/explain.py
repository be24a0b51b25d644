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


def sections(code: str) -> tuple[str, dict[str, str]]:
    """The page's title line and its `## ` sections, in order."""
    import re

    text = page(code)
    parts = re.split(r"^## (.+)$", text, flags=re.MULTILINE)
    return parts[0], {title.strip(): body.strip("\n") for title, body in zip(parts[1::2], parts[2::2])}


def page_json(code: str) -> dict:
    """`sibc explain CODE --format json`: the registry entry and the page's sections as Markdown."""
    from .codes import lookup

    entry = lookup(code)
    _, parts = sections(code)
    return {"code": code, "severity": entry.severity.value, "title": entry.title,
            "sections": {name.lower(): body for name, body in parts.items()}}


def page_text(code: str) -> str:
    """The page for a terminal, as `rustc --explain` and `ruff rule` show theirs: headings in
    bold, code blocks indented and set off, Markdown's markers (`#`, `**`, backticks) turned into
    styles. The styles are ANSI codes that the CLI strips when colour is off."""
    import re

    import click

    out: list[str] = []
    in_block = False
    for line in page(code).splitlines():
        if line.startswith("```"):
            in_block = not in_block
            continue
        if in_block:
            out.append("    " + click.style(line, fg="cyan"))
            continue
        if line.startswith("# "):
            out.append(click.style(line[2:], bold=True, underline=True))
            continue
        if line.startswith("## "):
            out.append(click.style(line[3:], bold=True))
            continue
        line = re.sub(r"\*\*(.+?)\*\*", lambda m: click.style(m.group(1), bold=True), line)
        line = re.sub(r"`([^`]+)`", lambda m: click.style(m.group(0), fg="cyan"), line)
        line = re.sub(r"\[([^\]]+)\]\(([^)]+)\)", r"\1 (\2)", line)
        out.append(line)
    return "\n".join(out).rstrip() + "\n"
