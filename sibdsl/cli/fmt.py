"""`sibc fmt FILE...`: lay contracts out canonically, keeping every word and comment."""

from __future__ import annotations

import difflib
import sys

import click

from . import EXIT_ERRORS, EXIT_OK, FORMATS, common_options, count_of, guard, print_diagnostics, summary


@click.command("fmt")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=True, allow_dash=True))
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

    if "-" in files:
        if len(files) > 1:
            raise click.UsageError("- (standard input) cannot be formatted together with files; give it alone")
        _fmt_stdin(check_only, show_diff, diag_fmt)
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


def _fmt_stdin(check_only: bool, show_diff: bool, diag_fmt: str) -> None:
    """`sibc fmt -`: the contract on standard input, formatted to standard output (as an editor's
    format-on-save runs ruff or black); with --check or --diff, nothing but the verdict and the diff.
    A contract that cannot be formatted gives its diagnostics and no output, exit 1."""
    from ..diagnostics import SibError
    from ..fileio import read_stream
    from ..fmt import format_file_text
    from ..outcomes import read_error
    from ..source import Source

    name = "<stdin>"
    try:
        original = read_stream(sys.stdin.buffer, name)
        source = Source(name, original.decode("utf-8-sig"))
    except (OSError, UnicodeDecodeError) as err:
        print_diagnostics([read_error(name, err)], diag_fmt, to_stderr=True)
        sys.exit(EXIT_ERRORS)
    try:
        formatted = format_file_text(source, original)
    except SibError as err:
        print_diagnostics(err.diagnostics, diag_fmt, to_stderr=True)
        click.echo(f"{name}: not formatted", err=True)
        sys.exit(EXIT_ERRORS)
    if check_only or show_diff:
        if formatted != original:
            old = original.decode("utf-8-sig").splitlines(keepends=True)
            new = formatted.decode("utf-8-sig").splitlines(keepends=True)
            click.echo("".join(difflib.unified_diff(old, new, name, f"{name} (formatted)")), nl=False)
        if check_only:
            if formatted != original:
                click.echo(f"{name}: would be reformatted", err=True)
                sys.exit(EXIT_ERRORS)
            summary(f"{name}: already formatted")
        sys.exit(EXIT_OK)
    stream = getattr(sys.stdout, "buffer", None)
    if stream is not None:
        stream.write(formatted)
        stream.flush()
    else:  # pragma: no cover - a stdout without a binary buffer (some embedders)
        click.echo(formatted.decode("utf-8"), nl=False)
    sys.exit(EXIT_OK)
