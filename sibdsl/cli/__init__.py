"""`sibc`: the command line. Thin: parse arguments, call the library, print, map to exit codes.

Exit codes: 0 ok (warnings allowed), 1 the contract or data is wrong, 2 usage error,
3 internal error in sibc (a bug: please report it).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from functools import cache, wraps
from typing import NoReturn

import click

from .. import __version__
from ..diagnostics import Diagnostic, SibError, render_gnu, render_human, render_json, sort_key

EXIT_OK, EXIT_ERRORS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


class FormatChoice(click.Choice):
    """`--format` and `--diagnostics` with one set of names on every command: `text` for people,
    `json` for machines, `gnu` for editors, and `junit`/`xlsx` where a command writes them. The
    names earlier versions used (`human`, `table`) are still accepted and mean `text`."""

    ALIASES = {"human": "text", "table": "text"}

    def convert(self, value, param, ctx):
        if isinstance(value, str) and value.lower() in self.ALIASES:
            value = self.ALIASES[value.lower()]
        return super().convert(value, param, ctx)


FORMATS = FormatChoice(["text", "gnu", "json"])


def formats(*names: str) -> FormatChoice:
    return FormatChoice(list(names))


# ---------------------------------------------------------------- colour and verbosity
#: set by --color, -q and -v on the group or on a command (ruff and mypy take them in both places)
SETTINGS: dict[str, object] = {"color": "auto", "verbosity": 0}


def use_color(err: bool = False) -> bool:
    """Colour on a terminal; none when piped, with NO_COLOR set (no-color.org) or --color never;
    always with --color always (or FORCE_COLOR)."""
    import os

    mode = SETTINGS["color"]
    if mode in ("always", "never"):
        return mode == "always"
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    stream = sys.stderr if err else sys.stdout
    return bool(getattr(stream, "isatty", lambda: False)())


def echo(text: str = "", *, err: bool = False, nl: bool = True) -> None:
    """click.echo with the colour decision above (ANSI styles are stripped when it says no)."""
    click.echo(text, err=err, nl=nl, color=use_color(err))


def summary(text: str, *, ok: bool = True, err: bool = False) -> None:
    """The one-line summary a command ends with (`ok — …`, `2 errors`); -q leaves it out."""
    if SETTINGS["verbosity"] < 0:
        return
    echo(click.style(text, fg="green" if ok else "red", bold=True if not ok else None), err=err)


def verbose(text: str) -> None:
    """What -v adds: which files were read and how long it took, on stderr."""
    if SETTINGS["verbosity"] > 0:
        echo(click.style(text, dim=True), err=True)


def _set(key: str):
    def callback(ctx: click.Context, param: click.Parameter, value):
        if key == "verbosity":
            if param.name == "quiet" and value:
                SETTINGS["verbosity"] = -int(value)
            elif param.name == "verbose" and value:
                SETTINGS["verbosity"] = int(value)
        elif value is not None:
            SETTINGS[key] = value
        return value

    return callback


def common_options(command: Callable) -> Callable:
    """--color, -q and -v on a command (they are also options of `sibc` itself)."""
    command = click.option("--color", type=click.Choice(["auto", "always", "never"]), default=None,
                           expose_value=False, is_eager=True, callback=_set("color"),
                           help="Colour: auto (on a terminal, unless NO_COLOR is set), always or never.")(command)
    command = click.option("-q", "--quiet", count=True, expose_value=False, is_eager=True,
                           callback=_set("verbosity"),
                           help="Print only the results and problems, no summary line.")(command)
    command = click.option("-v", "--verbose", count=True, expose_value=False, is_eager=True,
                           callback=_set("verbosity"), help="Also say which files were read and how long it took.")(command)
    return command


_SEVERITY_COLOUR = {"error": "red", "warning": "yellow"}


def _colour_human(text: str) -> str:
    """A human diagnostic with the colours rustc and ruff use: severity and carets red (yellow for a
    warning), the location and gutter blue, `help` cyan. The words are unchanged."""
    import re

    head, _, rest = text.partition("\n")
    match = re.match(r"^(error|warning)(\[[A-Z]\d{3}\])(:.*)$", head)
    colour = _SEVERITY_COLOUR.get(match.group(1), "red") if match else "red"
    if match:
        head = click.style(match.group(1) + match.group(2), fg=colour, bold=True) + click.style(match.group(3),
                                                                                               bold=True)
    lines = [head]
    for line in rest.split("\n") if rest else []:
        gutter = re.match(r"^(\s*(?:\d+\s*)?\|)(.*)$", line)
        if re.match(r"^\s*(-->|:::)", line):
            lines.append(click.style(line, fg="blue"))
        elif gutter:
            body = gutter.group(2)
            if body.strip() and set(body.strip().split(" ")[0]) <= {"^"}:
                body = click.style(body, fg=colour, bold=True)
            lines.append(click.style(gutter.group(1), fg="blue") + body)
        elif line.lstrip().startswith("= help:"):
            indent, _, hint = line.partition("= help:")
            lines.append(indent + click.style("= help:", fg="cyan", bold=True) + hint)
        else:
            lines.append(line)
    return "\n".join(lines)


def print_diagnostics(diagnostics: Sequence[Diagnostic], fmt: str, *, to_stderr: bool = False) -> None:
    """gnu and json go to stdout (they are the output of `check`), human to stderr; `eval` sends
    every format to stderr so that its stdout stays a settlement a machine can read."""
    if not diagnostics:
        if fmt == "json" and not to_stderr:  # `check --format json` always prints a JSON list
            click.echo("[]")
        return
    ordered = sorted(diagnostics, key=sort_key)
    if fmt == "json":
        click.echo(render_json(ordered), err=to_stderr)
    elif fmt == "gnu":
        for d in ordered:
            click.echo(render_gnu(d), err=to_stderr)
    else:
        for d in ordered:
            echo(_colour_human(render_human(d)) + "\n", err=True)


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

    def make_context(self, *args, **kwargs) -> click.Context:
        SETTINGS.update(color="auto", verbosity=0)  # each run starts from the defaults
        return super().make_context(*args, **kwargs)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in EXTRAS:
            missing = _missing(EXTRAS[name][1])
            if missing:
                return _needs_extra(name, EXTRAS[name][0], missing)
        if name in LAZY_COMMANDS:
            module, _, attribute = LAZY_COMMANDS[name].partition(":")
            __import__(module)  # not importlib.import_module, which `python -X importtime` does not report
            return getattr(sys.modules[module], attribute)
        return super().get_command(ctx, name)


# name → "module:attribute"; each module holds one click command (see LazyGroup).
LAZY_COMMANDS: dict[str, str] = {
    "eval": "sibdsl.cli.eval:eval_",
    "explain": "sibdsl.cli.explain:explain",
    "verify": "sibdsl.cli.verify:verify",
    "test": "sibdsl.cli.test:test",
    "render": "sibdsl.cli.render:render",
    "fingerprint": "sibdsl.cli.render:fingerprint",
    "fmt": "sibdsl.cli.fmt:fmt",
    "diff": "sibdsl.cli.diff:diff",
    "new": "sibdsl.cli.new:new",
    "export": "sibdsl.cli.export:export",
    "lsp": "sibdsl.cli.lsp:lsp",
    "simulate": "sibdsl.cli.simulate:simulate",
    "serve": "sibdsl.serve.cli:serve",
    "studio": "sibdsl.serve.cli:studio",
}


# command → (the extra that installs what it needs, the modules it imports)
EXTRAS: dict[str, tuple[str, tuple[str, ...]]] = {
    "simulate": ("simulate", ("numpy", "scipy")),
    "lsp": ("lsp", ("pygls",)),
    "serve": ("serve", ("starlette", "uvicorn")),
    "studio": ("serve", ("starlette", "uvicorn")),
}


def _missing(modules: Sequence[str]) -> list[str]:
    import importlib.util

    return [m for m in modules if importlib.util.find_spec(m) is None]


def _needs_extra(name: str, extra: str, missing: list[str]) -> click.Command:
    """A stand-in for a command whose extra is not installed: E901 naming the extra, exit 2."""

    def run(args: tuple[str, ...]) -> None:
        click.echo(f"error[E901]: `sibc {name}` needs {', '.join(missing)}, which this installation of sibc "
                   f"does not have\n  = help: install the extra: pip install 'sibdsl[{extra}]'", err=True)
        sys.exit(EXIT_USAGE)

    return click.Command(name, callback=run, params=[click.Argument(["args"], nargs=-1)],
                         context_settings={"ignore_unknown_options": True, "allow_extra_args": True,
                                           "help_option_names": []},
                         help=f"(not installed: pip install 'sibdsl[{extra}]')",
                         short_help=f"(not installed: pip install 'sibdsl[{extra}]')")


@cache  # its body runs once per process; later calls return the cached None
def _no_collection_at_exit() -> None:
    """At exit the interpreter runs full collections over every object of the process (the node
    classes, the modules, the model): ≈ 26 M instructions, 6 % of a `check --no-cache`, that free
    nothing a short-lived command needs freed. `gc.freeze()` at exit moves them out of the
    collector's reach (docs/performance.md, "Issue 21, fifth round"); the operating system takes the
    memory back. Files are closed and output flushed before: nothing sibc writes waits on a
    finaliser. Registered once per process."""
    import atexit
    import gc

    atexit.register(gc.freeze)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sibc")
@common_options
def main() -> None:
    """sibc: check and evaluate outcome contracts written in sibdsl.

    Exit codes: 0 ok, 1 the contract or data has errors (or, for `diff` and `fmt --check`, the
    files differ), 2 usage error (or a missing extra, E901), 3 internal error.
    """


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=True))
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True,
              help="text: source line and caret; gnu: file:line:col one-liners; json: for machines.")
@click.option("--verify/--no-verify", "run_verify", default=True, show_default=True,
              help="Also prove the contract's properties for every possible outcome (see `sibc verify`).")
@click.option("--cache/--no-cache", "use_cache", default=True, show_default=True,
              help="Reuse the result for a file whose bytes (and sibc) have not changed since it was checked.")
@common_options
@guard
def check(files: tuple[str, ...], fmt: str, run_verify: bool, use_cache: bool) -> None:
    """Parse, resolve, type- and unit-check contracts and prove their properties; report every problem."""
    all_diagnostics: list[Diagnostic] = []
    failed = False
    summaries = []
    import time

    for path in files:
        started = time.perf_counter()
        if path == "-":
            diagnostics, line = _check_stdin(run_verify, use_cache)
        else:
            diagnostics, line = _check_one(path, run_verify, use_cache)
        verbose(f"{path}: checked in {(time.perf_counter() - started) * 1000:.0f} ms")
        all_diagnostics += diagnostics
        bad = any(d.is_error for d in diagnostics)
        failed = failed or bad
        summaries.append((line, not bad))
    print_diagnostics(all_diagnostics, fmt)
    _no_collection_at_exit()
    if fmt == "text":
        for line, ok in summaries:
            summary(line, ok=ok)
    sys.exit(EXIT_ERRORS if failed else EXIT_OK)


def _check_stdin(run_verify: bool, use_cache: bool) -> tuple[list[Diagnostic], str]:
    """`sibc check -`: the contract on standard input (its result is not cached: it has no file to
    key on; its proofs are, unless --no-cache). Read while counting, like a file."""
    from .. import check_source
    from ..fileio import read_stream
    from ..source import Source

    try:
        source = Source("<stdin>", read_stream(sys.stdin.buffer, "<stdin>").decode("utf-8-sig"))
    except (OSError, UnicodeDecodeError) as err:
        from ..outcomes import read_error

        return [read_error("<stdin>", err)], "1 error"
    contract, diagnostics = check_source(source)
    if contract is not None and run_verify:
        from ..proofcache import diagnostic, verify_cached

        records = verify_cached(contract, source, use_cache=use_cache)
        diagnostics = diagnostics + [d for d in (diagnostic(r, source) for r in records) if d]
    errors = sum(d.is_error for d in diagnostics)
    warnings = len(diagnostics) - errors
    if not errors:
        return diagnostics, ("<stdin>: ok — " + count_of(len(contract.payments), "payment")
                             + (f", {count_of(warnings, 'warning')}" if warnings else ""))
    return diagnostics, f"<stdin>: {count_of(errors, 'error')}" + (f", {count_of(warnings, 'warning')}"
                                                                     if warnings else "")


def _check_one(path: str, run_verify: bool, use_cache: bool) -> tuple[list[Diagnostic], str]:
    """The diagnostics and summary line of one file: from the cache when its bytes are unchanged
    (the result does not depend on the file's name: the name is added when it is shown)."""
    from ..fileio import read_bounded
    from ..source import Source

    if use_cache:  # not with --no-cache: the cache's key is a SHA-256, and hashlib's import ≈ 12 M instructions
        from .. import cache
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
    from .. import check_file
    from ..gcpause import paused

    with paused():
        source, contract, diagnostics = check_file(path)
    proved = None
    if contract is not None and run_verify:
        from ..proofcache import diagnostic, verify_cached

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
                             # issue 17: what the proofs rest on, and a draft's terms still open
                             + (f", {count_of(len(contract.assumptions), 'assumption')}" if contract.assumptions
                                else "")
                             + (f", {count_of(len(contract.parameters), 'open parameter')}" if contract.parameters
                                else "")
                             + (f", {count_of(proved, 'property', 'properties')} proved" if proved is not None
                                else "")
                             + (f", {count_of(warnings, 'warning')}" if warnings else ""))
    return diagnostics, (f"{count_of(errors, 'error')}"
                         + (f", {count_of(warnings, 'warning')}" if warnings else ""))


def exit_with(diagnostics: Sequence[Diagnostic], fmt: str) -> NoReturn:
    """Print the diagnostics that stop a command (to stderr, in `--diagnostics` format) and exit 1."""
    print_diagnostics(diagnostics, fmt, to_stderr=True)
    sys.exit(EXIT_ERRORS)


def checked_or_exit(path: str, fmt: str, *, stdin: bool = True):
    """(source, contract) of the contract at `path` (standard input for `-` when `stdin`), its
    warnings printed; when it cannot be read or has errors, print them and exit 1. What `eval`,
    `simulate` and `export` do first. `check_source` is imported here, not at the top, so that
    `sibc check`'s start-up does not change (tests/test_startup.py)."""
    from .. import check_source, read_source

    try:
        source = read_contract(path) if stdin else read_source(path)
        contract, diagnostics = check_source(source)
    except SibError as err:
        exit_with(err.diagnostics, fmt)
    if contract is None:
        exit_with(diagnostics, fmt)
    print_diagnostics(diagnostics, fmt, to_stderr=True)  # the contract's warnings
    return source, contract


def read_contract(path: str):
    """The contract at `path`, or on standard input for `-`."""
    from .. import read_source
    from ..source import Source

    if path != "-":
        return read_source(path)
    data = sys.stdin.buffer.read()
    try:
        return Source("<stdin>", data.decode("utf-8-sig"))
    except UnicodeDecodeError as err:
        from ..outcomes import read_error

        raise SibError([read_error("<stdin>", err)]) from None


def _as_of(text: str, contract, Source, option: str = "--as-of"):
    """The date of `--as-of` (`option`: how the caller names it, e.g. the API's `as_of`): E552 when
    it is not a date, E551 before the contract's term."""
    from ..numbers import NumberFormatError, parse_date

    where = Source(option, text)
    named = option if option.startswith("-") else f"`{option}`"
    try:
        as_of = parse_date(text)
    except NumberFormatError as err:
        raise SibError([Diagnostic("E552", f"{named} `{text[:40]}` is not a date: {err.reason}", where,
                                   where.span(0, len(text)), hint=err.hint)]) from None
    if contract.term and as_of < contract.term[0]:
        raise SibError([Diagnostic(
            "E551", f"{named} {as_of.isoformat()} is before the contract's term, which starts "
            f"{contract.term[0].isoformat()}", where, where.span(0, len(text)),
            hint="nothing can be due before the term starts; settle as of a date in the term")])
    return as_of


def parse_params(params: Sequence[str]) -> dict[str, str]:
    """issue 17: `--param NAME=VALUE` options as {name: value text} (read as the parameter's type)."""
    result: dict[str, str] = {}
    for item in params:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise click.UsageError(f"--param {item!r}: write NAME=VALUE, e.g. --param price=1500")
        if name.strip() in result:
            raise click.UsageError(f"--param {name.strip()} is given twice")
        result[name.strip()] = value.strip()
    return result


def write_output(output: str, write, inputs: Sequence[str]) -> None:
    """Write through `write(stream)`: to stdout for `-`, else atomically to the file (never over an input)."""
    import io

    buffer = io.BytesIO()
    write(buffer)
    if output == "-":
        sys.stdout.buffer.write(buffer.getvalue()) if hasattr(sys.stdout, "buffer") else click.echo(
            buffer.getvalue(), nl=False)
        return
    from ..fileio import OutputError, refuse_overwriting_inputs, write_atomic

    try:
        refuse_overwriting_inputs(output, [i for i in inputs if i != "-"])
        write_atomic(output, buffer.getvalue())
    except OutputError as err:
        raise click.ClickException(str(err)) from None
