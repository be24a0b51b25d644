"""`sibc explain CODE`: the documentation page of a diagnostic code. In a module of its own, imported
when the command runs (cli.LazyGroup)."""

from __future__ import annotations

import sys

import click

from ..codes import CODES
from . import common_options, echo, formats, guard


@click.command("explain")
@click.argument("code")
@click.option("--format", "fmt", type=formats("text", "markdown", "json"), default=None,
              help="text: rendered for a terminal (the default on one); markdown: the page as written (the "
              "default when piped); json: code, severity, title and sections.")
@common_options
@guard
def explain(code: str, fmt: str) -> None:
    """Print the documentation of a diagnostic code (e.g. `sibc explain E201`)."""
    import json

    from ..explain import page, page_json, page_text

    key = code.strip().upper()
    if key not in CODES:
        from ..diagnostics import did_you_mean

        hint = did_you_mean(key, CODES)
        raise click.UsageError(f"no diagnostic code {code!r}" + (f"; {hint}" if hint else
                               "; codes look like E201 or W401"))
    if fmt is None:
        fmt = "text" if sys.stdout.isatty() else "markdown"
    if fmt == "json":
        click.echo(json.dumps(page_json(key), ensure_ascii=False, indent=2))
    elif fmt == "markdown":
        click.echo(page(key))
    else:
        echo(page_text(key))
