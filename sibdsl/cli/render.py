"""`sibc render` (the council document) and `sibc fingerprint` (tie a printed copy to its source)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import EXIT_ERRORS, EXIT_OK, FORMATS, common_options, formats, guard, print_diagnostics


@click.command("render")
@click.argument("file", type=click.Path(dir_okay=True, allow_dash=True))
@click.option("--lang", type=click.Choice(["sv", "en"]), default=None,
              help="Language of the document (default: the contract's first language).")
@click.option("--format", "fmt", type=click.Choice(["md", "html", "pdf", "docx"]), default=None,
              help="Output format (default: from the extension of -o, else md).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write the document here (atomically); without it Markdown/HTML go to standard output.")
@click.option("--vary", default=None, help="The measure the payment curve and the worked examples vary.")
@click.option("--diagnostics", "diag_fmt", type=FORMATS, default="text", show_default=True)
@common_options
@guard
def render(file: str, lang: str | None, fmt: str | None, output: str | None, vary: str | None, diag_fmt: str) -> None:
    """Generate the council document: the contract in plain legal language, its order of calculation,
    a payment curve and worked examples, with the source's SHA-256 fingerprint on every page."""
    from .. import check_file
    from ..diagnostics import Diagnostic
    from ..fileio import OutputError, read_bounded, refuse_overwriting_inputs, write_atomic
    from ..render import render as render_document

    to_stdout = output == "-"  # standard output, written in place (what `-o /dev/stdout` means)
    if to_stdout:
        output = None
    if fmt is None:
        suffix = Path(output).suffix.lower().lstrip(".") if output else ""
        fmt = {"md": "md", "markdown": "md", "html": "html", "htm": "html", "pdf": "pdf", "docx": "docx"}.get(suffix, "md")
    if fmt in ("pdf", "docx") and output is None and not to_stdout:
        raise click.UsageError(f"a {fmt.upper()} file needs -o FILE.{fmt} (or -o - for standard output)")
    if file == "-":  # the contract on standard input: its bytes are what the fingerprint seals
        source, contract, diagnostics, data = _check_stdin()
    else:
        source, contract, diagnostics = check_file(file)
        data = None
    print_diagnostics(diagnostics, diag_fmt, to_stderr=True)
    if contract is None:
        sys.exit(EXIT_ERRORS)
    from ..render.complete import open_parameters

    if (draft := open_parameters(contract, source)) is not None:  # issue 17: a council votes on fixed terms
        print_diagnostics([draft], diag_fmt, to_stderr=True)
        sys.exit(EXIT_ERRORS)
    if vary is not None and vary not in contract.measures:
        raise click.UsageError(f"--vary: the contract has no measure {vary!r}")
    language = lang or (contract.languages[0] if contract.languages and contract.languages[0] in ("sv", "en")
                        else "en")
    from ..render.complete import untranslated

    print_diagnostics(untranslated(contract, source, language), diag_fmt, to_stderr=True)
    if lang is not None and contract.languages and lang not in contract.languages:
        click.echo(f"note: the contract is written in {', '.join(contract.languages)}; texts without an "
                   f"{lang} translation are shown in {contract.languages[0]}", err=True)
    warnings: list[tuple[str, str]] = []
    data = render_document(contract, read_bounded(file) if data is None else data, language, fmt,
                           path=None if file == "-" else file, vary=vary, warnings=warnings)
    print_diagnostics([Diagnostic(code, message, source, None, hint="use characters of the Latin, Greek or "
                                  "Cyrillic alphabets, or render HTML, whose fonts are the reader's")
                       for code, message in warnings], diag_fmt, to_stderr=True)
    if output is None and fmt in ("pdf", "docx"):
        click.echo(data, nl=False)  # bytes: written to the binary stream
    elif output is None:
        click.echo(data.decode("utf-8"), nl=False)
    else:
        try:
            refuse_overwriting_inputs(output, [file] if file != "-" else [])
            write_atomic(output, data)
        except OutputError as err:
            print_diagnostics([err.diagnostic], diag_fmt, to_stderr=True)
            sys.exit(EXIT_ERRORS)
    sys.exit(EXIT_OK)


def _check_stdin():
    """(source, contract, diagnostics, bytes) of the contract on standard input, read while counting."""
    from .. import check_source
    from ..fileio import read_stream
    from ..outcomes import read_error
    from ..source import Source

    try:
        data = read_stream(sys.stdin.buffer, "<stdin>")
        source = Source("<stdin>", data.decode("utf-8-sig"))
    except (OSError, UnicodeDecodeError) as err:
        return None, None, [read_error("<stdin>", err)], None
    contract, diagnostics = check_source(source)
    return source, contract, diagnostics, data


@click.command("fingerprint")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=True, allow_dash=True))
@click.option("--format", "fmt", type=formats("text", "json"), default="text", show_default=True,
              help="text: `SHA-256  FILE` lines (as sha256sum prints them); json: a list of {file, sha256, bytes}.")
@click.option("--diagnostics", "diag_fmt", type=FORMATS, default="text", show_default=True,
              help="How to print a file that cannot be read.")
@common_options
@guard
def fingerprint(files, fmt: str, diag_fmt: str) -> None:
    """Print the SHA-256 of each contract file's exact bytes: the value on every page of its document
    (`-` reads standard input)."""
    import json

    from ..fileio import read_bounded, read_stream
    from ..outcomes import read_error
    from ..render.view import fingerprint as sha256

    failed = False
    results = []
    for file in files:
        try:
            data = read_stream(sys.stdin.buffer, "<stdin>") if file == "-" else read_bounded(file)
        except OSError as err:
            print_diagnostics([read_error(file, err)], diag_fmt, to_stderr=True)
            failed = True
            continue
        results.append({"file": "<stdin>" if file == "-" else file, "sha256": sha256(data), "bytes": len(data)})
        if fmt == "text":
            click.echo(f"{sha256(data)}  {file}")
    if fmt == "json":
        click.echo(json.dumps(results, ensure_ascii=False, indent=2))
    sys.exit(EXIT_ERRORS if failed else EXIT_OK)
