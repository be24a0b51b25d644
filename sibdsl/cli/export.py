"""`sibc export`: a contract's terms in another data standard (today: INDIGO's pricing shape)."""

from __future__ import annotations

import sys

import click

from . import (
    EXIT_ERRORS,
    EXIT_OK,
    FORMATS,
    checked_or_exit,
    common_options,
    formats,
    guard,
    print_diagnostics,
    summary,
)


@click.command("export")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--indigo", "standard", flag_value="indigo", required=True,
              help="The INDIGO data standard: outcome metrics, prices per unit, maximum payments, investments.")
@click.option("--format", "fmt", type=formats("json", "csv"), default="json", show_default=True,
              help="json: a project object (schema/project.json); csv: rows of the dataset's outcome pricings table.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True), default=None,
              help="Write here (atomically); without it, to standard output.")
@click.option("--diagnostics", "diag_fmt", type=FORMATS, default="text", show_default=True,
              help="How problems in the contract are printed.")
@common_options
@guard
def export(file: str, standard: str, fmt: str, output: str | None, diag_fmt: str) -> None:
    """Write the pricing of contract FILE in a data standard's shape (`sibc export --indigo c.sib`)."""
    from ..fileio import OutputError, refuse_overwriting_inputs, write_atomic
    from ..indigo import dumps, export_csv, export_project

    source, contract = checked_or_exit(file, diag_fmt)
    text = export_csv(contract, source) if fmt == "csv" else dumps(export_project(contract, source))
    if output in (None, "-"):
        click.echo(text, nl=False)
    else:
        try:
            refuse_overwriting_inputs(output, [file])
            write_atomic(output, text)
        except OutputError as err:
            print_diagnostics([err.diagnostic], diag_fmt, to_stderr=True)
            sys.exit(EXIT_ERRORS)
        summary(f"{output}: the pricing of {file} in INDIGO's shape ({len(contract.payments)} outcome pricings)",
                err=True)
    sys.exit(EXIT_OK)
