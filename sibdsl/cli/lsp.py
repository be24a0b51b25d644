"""`sibc lsp`: run the language server on standard input and output (for editors)."""

from __future__ import annotations

import click


@click.command("lsp")
def lsp() -> None:
    """Run the sibdsl language server over stdio, for any LSP-capable editor: diagnostics, hover,
    definition, references, rename, quick fixes, semantic tokens, folding, outline, completion and
    formatting (see docs/editors.md)."""
    from ..lsp import main

    main()
