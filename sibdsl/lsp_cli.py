"""`sibc lsp`: run the language server on standard input and output (for editors)."""

from __future__ import annotations

import click


@click.command("lsp")
def lsp() -> None:
    """Run the sibdsl language server over stdio: diagnostics, hover, go to definition, completion,
    symbols and formatting, for any LSP-capable editor (see docs/editors.md)."""
    from .lsp import main

    main()
