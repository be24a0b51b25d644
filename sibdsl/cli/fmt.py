"""`sibc fmt FILE...`: lay contracts out canonically, keeping every word and comment."""

from __future__ import annotations

import difflib
import sys

import click

from . import EXIT_ERRORS, EXIT_OK, FORMATS, common_options, count_of, guard, print_diagnostics, summary


@click.command("fmt")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=True))
@click.option("--check", "check_only", is_flag=True,
              help="Change nothing; exit 1 if a file is not formatted, and show how it would change.")
@click.option("--diff", "show_diff", is_flag=True, help="Show the changes as a unified diff.")
@click.option("--diagnostics", "diag_fmt", type=FORMATS, default="text", show_default=True)
@common_options
@guard
def fmt(files, check_only: bool, show_diff: bool, diag_fmt: str) -> None:
    """Format contracts: canonical layout, numbers grouped, comments and prose kept. A file is
    written (atomically) only if it changes and only if its meaning is provably unchanged."""
    from ..diagnostics import SibError
    from ..fileio import OutputError, read_bounded, write_atomic
    from ..fmt import format_file_text
    from ..outcomes import read_error
    from ..source import Source

    failed = changed = False
    for path in files:
        try:
            original = read_bounded(path)
            source = Source(path, original.decode("utf-8-sig"))
        except (OSError, UnicodeDecodeError) as err:
            print_diagnostics([read_error(path, err)], diag_fmt, to_stderr=True)
            failed = True
            continue
        try:
            formatted = format_file_text(source, original)
        except SibError as err:
            print_diagnostics(err.diagnostics, diag_fmt, to_stderr=True)
            click.echo(f"{path}: not formatted (left as it was)", err=True)
            failed = True
            continue
        if formatted == original:
            if not check_only:
                click.echo(f"{path}: unchanged")
            continue
        changed = True
        if check_only or show_diff:
            old = original.decode("utf-8-sig").splitlines(keepends=True)
            new = formatted.decode("utf-8-sig").splitlines(keepends=True)
            click.echo("".join(difflib.unified_diff(old, new, f"{path}", f"{path} (formatted)")), nl=False)
        if check_only:
            click.echo(f"{path}: would be reformatted", err=True)
            continue
        try:
            write_atomic(path, formatted)
        except OutputError as err:
            print_diagnostics([err.diagnostic], diag_fmt, to_stderr=True)
            click.echo(f"{path}: not formatted (left as it was)", err=True)
            failed = True
            continue
        click.echo(f"{path}: reformatted")
    if check_only and not failed and not changed:  # the one-line summary every command ends with
        summary(f"{count_of(len(files), 'file')} already formatted")
    sys.exit(EXIT_ERRORS if failed or (check_only and changed) else EXIT_OK)
