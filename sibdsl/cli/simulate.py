"""`sibc simulate`: Monte Carlo over a contract's outcome distributions (docs/simulate.md)."""

from __future__ import annotations

import json
import sys

import click

from . import (
    EXIT_ERRORS,
    EXIT_OK,
    EXIT_USAGE,
    FORMATS,
    checked_or_exit,
    common_options,
    exit_with,
    formats,
    guard,
    print_diagnostics,
)
from ..diagnostics import Diagnostic, SibError


@click.command("simulate")
@click.argument("file", type=click.Path(dir_okay=True))
@click.option("--scenarios", "spec_path", required=True, type=click.Path(dir_okay=True),
              help="Distributions per measure: a .json or .toml file (see docs/simulate.md).")
@click.option("-n", "n", type=click.IntRange(min=1), default=10_000, show_default=True,
              help="Number of scenarios.")
@click.option("--seed", type=click.IntRange(min=0), default=None,
              help="Random seed (overrides the file's `seed`; default 0). Same seed, same results.")
@click.option("--format", "fmt", type=formats("text", "json", "xlsx"), default="text", show_default=True,
              help="text: a table; json: for machines; xlsx: a workbook (needs -o).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True), default=None,
              help="Write the report to this file instead of standard output.")
@click.option("--lang", type=click.Choice(["en", "sv"]), default=None,
              help="Language of every word and number of the report and the charts (default: the contract's first "
              "language, if sv or en).")
@click.option("--chart-dir", type=click.Path(file_okay=False), default=None,
              help="Write payout, return and payout-curve charts into this directory.")
@click.option("--chart-format", type=click.Choice(["svg", "png"]), default="svg", show_default=True)
@click.option("--curve", "curve_measure", default=None,
              help="The measure on the payout curve's x axis (default: the first random numeric one).")
@click.option("--chunk", type=click.IntRange(min=1), default=None,
              help="Scenarios per chunk (memory bound; results depend on it). Default 100 000.")
@click.option("--progress/--no-progress", default=None,
              help="Progress bar on stderr (default: when stderr is a terminal).")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Processes settling chunks side by side; the results are the same for any number.")
@click.option("--dask", "dask_address", default=None, metavar="ADDRESS",
              help="Settle the chunks on a Dask cluster: its scheduler's address (tcp://scheduler:8786), or "
              "local:N to start N local worker processes for this run. The results are the same. Needs the "
              "extra dask.")
@click.option("--diagnostics", "diag_fmt", type=FORMATS, default="text", show_default=True)
@common_options
@guard
def simulate(file, spec_path, n, seed, fmt, output, lang, chart_dir, chart_format, curve_measure, chunk,
             progress, workers, dask_address, diag_fmt) -> None:
    """Simulate N scenarios: payout percentiles, floor/cap/gate probabilities, investor IRR."""
    from ..simulate import CHUNK, load_spec, run
    from ..units import BOOL

    if dask_address is not None:
        from .. import cluster

        try:
            cluster.parse_address(dask_address)
        except ValueError as err:
            raise click.BadParameter(str(err), param_hint="--dask") from None
        if workers != 1:
            raise click.UsageError("--dask and --workers both say where the chunks run: give one of them")
        absent = cluster.missing()
        if absent:
            click.echo(f"error[E901]: `sibc simulate --dask` needs {', '.join(absent)}, which this installation "
                       "of sibc does not have\n  = help: install the extra: pip install 'sibdsl[dask]'", err=True)
            sys.exit(EXIT_USAGE)

    source, contract = checked_or_exit(file, diag_fmt, stdin=False)
    try:
        spec = load_spec(contract, spec_path)
    except SibError as err:
        exit_with(err.diagnostics, diag_fmt)
    if lang is None:
        lang = next((x for x in contract.languages if x in ("sv", "en")), "en")
    if curve_measure is None:
        curve_measure = next((name for name, mg in spec.marginals.items()
                              if mg.random and mg.measure.ty.kind != BOOL and not mg.measure.ty.series), None)
    elif curve_measure not in spec.marginals or not spec.marginals[curve_measure].random:
        raise click.BadParameter(f"`{curve_measure}` is not a random measure of the scenario file",
                                 param_hint="--curve")
    chunk = chunk or CHUNK
    show = sys.stderr.isatty() if progress is None else progress

    def simulate_all(progress_to=None):
        if dask_address is not None:
            with cluster.connect(dask_address) as client:
                return run(contract, spec, n, seed=seed, chunk=chunk, progress=progress_to,
                           curve_measure=curve_measure, executor=client.get_executor())
        if workers == 1:
            return run(contract, spec, n, seed=seed, chunk=chunk, progress=progress_to, curve_measure=curve_measure)
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(workers) as pool:
            return run(contract, spec, n, seed=seed, chunk=chunk, progress=progress_to,
                       curve_measure=curve_measure, executor=pool)

    try:
        if show:
            with click.progressbar(length=n, label="simulerar" if lang == "sv" else "simulating", file=sys.stderr) as bar:
                acc = simulate_all(bar.update)
        else:
            acc = simulate_all()
    except SibError as err:
        exit_with(err.diagnostics, diag_fmt)
    used_seed = seed if seed is not None else (spec.seed if spec.seed is not None else 0)
    report = acc.report(spec, used_seed, chunk)
    if chart_dir:
        import numpy as np

        from ..charts import write_charts

        curve = (curve_measure, np.concatenate(acc.curve)) if acc.curve else None
        write_charts(chart_dir, acc.total_oere(), acc.irr_values(), curve, contract.currency, chart_format, lang)
        from ..charts import write_budget_charts  # issue 15: the payer's budget by year

        write_budget_charts(chart_dir, report["budget"], contract.currency, report["evaluated"], chart_format, lang)
    if fmt == "xlsx" or output:  # sibdsl/cli.py writes a file (or - for stdout) the same way for every command
        from . import write_output, summary
        from ..report import simulation_xlsx

        if output is None:
            raise click.UsageError("--format xlsx writes a workbook: name it with -o report.xlsx")
        payload = (json.dumps(report, ensure_ascii=False, indent=2) + "\n").encode() if fmt == "json" else \
            report_text(report, lang).encode() if fmt == "text" else None
        write_output(output, (lambda stream: stream.write(payload)) if payload is not None else
                      (lambda stream: simulation_xlsx(report, stream, lang)), [file, spec_path])
        if output != "-":
            summary(f"{output}: the simulation report, {report['scenarios']} scenarios")
    elif fmt == "json":
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        click.echo(report_text(report, lang), nl=False)
    if report.get("assumptions_broken"):  # issue 17: the distributions allow outcomes declared impossible
        problems = []
        for name, count in report["assumptions_broken"].items():
            assumption = next(a for a in contract.assumptions if a.clause.name == name)
            named = "" if name.startswith("assumption_") else f" `{name}`"
            problems.append(Diagnostic(
                "E473", f"{count} of {report['scenarios']} simulated scenarios break the assumption{named} "
                f"(line {assumption.clause.line}); the figures include them", source,
                getattr(assumption.expr, "span", None), label="does not hold in every scenario",
                hint="the scenario file's distributions allow outcomes the contract declares impossible: "
                "narrow them, or correlate the measures, so that every scenario satisfies the assumption"))
        print_diagnostics(problems, diag_fmt, to_stderr=True)
        sys.exit(EXIT_ERRORS)
    if report["failed"]:
        print_diagnostics([Diagnostic(
            "E602", f"division by zero in {report['failed']} of {report['scenarios']} scenarios; "
            "they are left out of the figures", source, getattr(acc.division, "span", None),
            hint="guard the division, e.g. `if n > 0 then … / n else 0 SEK`")], diag_fmt, to_stderr=True)
        sys.exit(EXIT_ERRORS)
    sys.exit(EXIT_OK)


def report_text(report: dict, lang: str = "en") -> str:
    """The report as a plain-text table, every word in `lang` (sibdsl/report.py)."""
    from ..report import simulation_text

    return simulation_text(report, lang)
