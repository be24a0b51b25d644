"""`sibc`: the command line. Thin: parse arguments, call the library, print, map to exit codes.

Exit codes: 0 ok (warnings allowed), 1 the contract or data is wrong, 2 usage error,
3 internal error in sibc (a bug: please report it).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from functools import wraps

import click

from . import __version__
from .codes import CODES
from .diagnostics import Diagnostic, SibError, render_gnu, render_human, sort_key, to_json

EXIT_OK, EXIT_ERRORS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
FORMATS = click.Choice(["human", "gnu", "json"])


def print_diagnostics(diagnostics: Sequence[Diagnostic], fmt: str, *, to_stderr: bool = False) -> None:
    """gnu and json go to stdout (they are the output of `check`), human to stderr; `eval` sends
    every format to stderr so that its stdout stays a settlement a machine can read."""
    if not diagnostics:
        if fmt == "json" and not to_stderr:  # `check --format json` always prints a JSON list
            click.echo("[]")
        return
    ordered = sorted(diagnostics, key=sort_key)
    if fmt == "json":
        click.echo(json.dumps([to_json(d) for d in ordered], ensure_ascii=False, indent=2), err=to_stderr)
    elif fmt == "gnu":
        for d in ordered:
            click.echo(render_gnu(d), err=to_stderr)
    else:
        for d in ordered:
            click.echo(render_human(d) + "\n", err=True)


def count_of(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else plural or word + 's'}"


def guard(command: Callable) -> Callable:
    """No traceback reaches a user: an unexpected exception becomes E900 and exit 3."""

    @wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException, SystemExit):
            raise
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except RecursionError:
            click.echo("error[E106]: input too deeply nested to process", err=True)
            sys.exit(EXIT_ERRORS)
        except Exception as err:  # noqa: BLE001 — the last line of defence
            click.echo(f"error[E900]: internal error in sibc {__version__}: {type(err).__name__}: {err}\n"
                       "  = help: this is a bug in sibc, not in your contract; please report it "
                       "with the file that caused it", err=True)
            sys.exit(EXIT_INTERNAL)

    return wrapper


class LazyGroup(click.Group):
    """A group whose heavier commands live in their own modules and are imported only when run
    (or when `--help` lists them), so `sibc check` does not pay for z3, numpy or the renderers.

    `LAZY_COMMANDS` maps a command name to "module:attribute" of a click command. Those modules
    import what they share with this one (guard, print_diagnostics, exit codes) from here.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in LAZY_COMMANDS:
            import importlib

            module, _, attribute = LAZY_COMMANDS[name].partition(":")
            return getattr(importlib.import_module(module), attribute)
        return super().get_command(ctx, name)


# name → "module:attribute"; each module holds one click command (see LazyGroup).
LAZY_COMMANDS: dict[str, str] = {
    "verify": "sibdsl.verify_cli:verify",
    "test": "sibdsl.scenario_cli:test",
    "render": "sibdsl.render_cli:render",
    "fingerprint": "sibdsl.render_cli:fingerprint",
    "fmt": "sibdsl.fmt_cli:fmt",
    "diff": "sibdsl.diff_cli:diff",
    "new": "sibdsl.new_cli:new",
    "lsp": "sibdsl.lsp_cli:lsp",
    "simulate": "sibdsl.simulate_cli:simulate",
}


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sibc")
def main() -> None:
    """sibc: check and evaluate outcome contracts written in sibdsl.

    Exit codes: 0 ok, 1 the contract or data has errors, 2 usage error, 3 internal error.
    """


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=True))
@click.option("--format", "fmt", type=FORMATS, default="human", show_default=True,
              help="human: source line and caret; gnu: file:line:col one-liners; json: for machines.")
@click.option("--verify/--no-verify", "run_verify", default=True, show_default=True,
              help="Also prove the contract's properties for every possible outcome (see `sibc verify`).")
@click.option("--cache/--no-cache", "use_cache", default=True, show_default=True,
              help="Reuse the result for a file whose bytes (and sibc) have not changed since it was checked.")
@guard
def check(files: tuple[str, ...], fmt: str, run_verify: bool, use_cache: bool) -> None:
    """Parse, resolve, type- and unit-check contracts and prove their properties; report every problem."""
    all_diagnostics: list[Diagnostic] = []
    failed = False
    summaries = []
    for path in files:
        diagnostics, summary = _check_one(path, run_verify, use_cache)
        all_diagnostics += diagnostics
        failed = failed or any(d.is_error for d in diagnostics)
        summaries.append(summary)
    print_diagnostics(all_diagnostics, fmt)
    if fmt == "human":
        for line in summaries:
            click.echo(line)
    sys.exit(EXIT_ERRORS if failed else EXIT_OK)


def _check_one(path: str, run_verify: bool, use_cache: bool) -> tuple[list[Diagnostic], str]:
    """The diagnostics and summary line of one file: from the cache when its bytes are unchanged
    (the result does not depend on the file's name: the name is added when it is shown)."""
    from . import cache
    from .source import Source

    from .fileio import read_bounded

    try:
        data = read_bounded(path)  # bounded while streaming: /dev/zero or a FIFO cannot fill the memory
        text = data.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError):
        data = text = None
    name = "check-" + cache.key("check", data, str(run_verify)) if data is not None and use_cache else None
    if name is not None:
        entry = cache.load(name)
        if isinstance(entry, dict):
            return cache.check_result(entry, Source(path, text)), f"{path}: {entry['summary']}"
    diagnostics, summary = _check_uncached(path, run_verify, use_cache)
    if name is not None and not any(d.code == "W701" for d in diagnostics):  # an `unknown` may change
        entry = cache.check_entry(diagnostics, summary)
        if entry is not None:
            cache.store(name, entry)
    return diagnostics, f"{path}: {summary}"


def _check_uncached(path: str, run_verify: bool, use_cache: bool = True) -> tuple[list[Diagnostic], str]:
    from . import check_file

    source, contract, diagnostics = check_file(path)
    proved = None
    if contract is not None and run_verify:
        from .proofcache import diagnostic, verify_cached

        records = verify_cached(contract, source, use_cache=use_cache)  # --no-cache: no proof cache either
        proved = sum(r["status"] == "proved" for r in records)
        diagnostics = diagnostics + [d for d in (diagnostic(r, source) for r in records) if d]
        if any(d.is_error for d in diagnostics):
            contract = None
    errors = sum(d.is_error for d in diagnostics)
    warnings = len(diagnostics) - errors
    if contract is not None:
        return diagnostics, (f"ok — {count_of(len(contract.payments), 'payment')}, "
                             f"{count_of(len(contract.measures), 'measure')}, "
                             f"{count_of(len(contract.guarantees), 'guarantee')}"
                             + (f", {count_of(proved, 'property', 'properties')} proved" if proved is not None
                                else "")
                             + (f", {count_of(warnings, 'warning')}" if warnings else ""))
    return diagnostics, (f"{count_of(errors, 'error')}"
                         + (f", {count_of(warnings, 'warning')}" if warnings else ""))


@main.command("eval")
@click.argument("file", type=click.Path(dir_okay=True))
@click.option("--outcomes", "outcomes_path", required=True, type=click.Path(dir_okay=True),
              help="Measured outcomes: a .json or .csv file (see docs/outcomes.md).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--trace/--no-trace", default=True, show_default=True, help="Show the audit trail.")
@click.option("--diagnostics", "diag_fmt", type=FORMATS, default="human", show_default=True,
              help="How to print problems with the contract or the outcome file.")
@click.option("--explain", is_flag=True, help="Explain the computation step by step in plain language "
              "(instead of the audit trail), citing the clauses.")
@click.option("--lang", type=click.Choice(["sv", "en"]), default=None,
              help="Language of --explain (default: the contract's first language, if sv or en).")
@guard
def eval_(file: str, outcomes_path: str, fmt: str, trace: bool, diag_fmt: str, explain: bool,
          lang: str | None) -> None:
    """Settle a contract for measured outcomes: every payment line with its clause and steps."""
    from . import check_source, compile_contract, load_outcomes, read_source
    from .evaluate import EvaluationError
    from .report import settlement_json_text, settlement_text

    def fail(diagnostics: Sequence[Diagnostic]) -> None:
        print_diagnostics(diagnostics, diag_fmt, to_stderr=True)
        sys.exit(EXIT_ERRORS)

    try:
        source = read_source(file)
        contract, diagnostics = check_source(source)
        if contract is None:
            fail(diagnostics)
        print_diagnostics(diagnostics, diag_fmt, to_stderr=True)  # the contract's warnings
        outcomes = load_outcomes(contract, outcomes_path)
        settlement = compile_contract(contract, source).evaluate(outcomes)
    except SibError as err:
        fail(err.diagnostics)
    except EvaluationError as err:
        fail([err.diagnostic])
    if fmt == "json":
        click.echo(settlement_json_text(settlement), nl=False)
    else:
        click.echo(settlement_text(settlement, trace=trace and not explain), nl=False)
        if explain:
            from .explain_text import explain_settlement

            language = lang or next((x for x in contract.languages if x in ("sv", "en")), "en")
            click.echo("\n" + explain_settlement(contract, settlement, language), nl=False)
    if settlement.diagnostics:
        fail(settlement.diagnostics)
    sys.exit(EXIT_OK)


@main.command()
@click.argument("code")
@guard
def explain(code: str) -> None:
    """Print the documentation of a diagnostic code (e.g. `sibc explain E201`)."""
    from .explain import page

    key = code.strip().upper()
    if key not in CODES:
        from .diagnostics import did_you_mean

        hint = did_you_mean(key, CODES)
        raise click.UsageError(f"no diagnostic code {code!r}" + (f"; {hint}" if hint else
                               "; codes look like E201 or W401"))
    click.echo(page(key))


if __name__ == "__main__":  # `python -m sibdsl.cli …`, as the console script `sibc` does
    main()
