"""`sibc verify FILE...`: prove every contract's properties; one line per property."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from . import EXIT_ERRORS, EXIT_OK, FORMATS, common_options, echo, formats, guard, print_diagnostics, summary


def verify_sources(files, timeout: float):
    """(path, source, contract, diagnostics, verdicts) per file; verdicts None when the contract has errors."""
    from .. import check_file
    from ..verify import verify_contract

    for path in files:
        source, contract, diagnostics = check_file(path)
        verdicts = verify_contract(contract, timeout) if contract is not None else None
        yield path, source, contract, diagnostics, verdicts


@click.command("verify")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=True))
@click.option("--format", "fmt", type=formats("text", "json"), default="text", show_default=True,
              help="text: a verdict per property; json: for machines.")
@click.option("--timeout", type=click.FloatRange(min=0.01), default=10.0, show_default=True,
              help="The solver's work on one property before the verdict is `unknown`, in seconds of a "
                   "reference machine: a deterministic count (z3's rlimit), so every machine gives the "
                   "same verdict whatever its load.")
@click.option("--counterexamples", "cex_dir", type=click.Path(file_okay=False), default=None,
              help="Write each counterexample as an outcome file in this directory, for `sibc eval`.")
@click.option("--lang", type=click.Choice(["en", "sv"]), default="en", show_default=True,
              help="Language of the sentences that say what broke (or what could not be decided).")
@click.option("--strict", is_flag=True, hidden=True,
              help="Deprecated: a property that could not be decided always makes the run fail now.")
@click.option("--diagnostics", "diag_fmt", type=FORMATS, default="text", show_default=True,
              help="How to print problems with the contract itself.")
@common_options
@guard
def verify(files, fmt: str, timeout: float, cex_dir: str | None, lang: str, strict: bool, diag_fmt: str) -> None:
    """Prove, for every possible set of outcomes, the contract's caps, floors, gates (and that nothing
    leaks past them), return limits, non-negative payments, monotonicity and declared guarantees; show
    a counterexample where one fails. Exit 1 when a property is violated or could not be decided."""
    from ..fileio import OutputError, write_atomic
    from ..verify import PROVED, UNKNOWN, VIOLATED, verdict_json, z3_version

    failed = unproved = False
    report = []
    for path, source, contract, diagnostics, verdicts in verify_sources(files, timeout):
        print_diagnostics(diagnostics, diag_fmt, to_stderr=True)
        if verdicts is None:
            failed = True
            report.append({"file": path, "error": "the contract has errors", "properties": []})
            continue
        entries = []
        for v in verdicts:
            failed = failed or v.status == VIOLATED
            unproved = unproved or v.status == UNKNOWN
            written = []
            if v.counterexample and cex_dir:
                stem = Path(path).stem
                safe = v.key.replace(":", "-")
                names = [f"{stem}.{safe}.json"] if len(v.counterexample) == 1 else \
                        [f"{stem}.{safe}.before.json", f"{stem}.{safe}.after.json"]
                Path(cex_dir).mkdir(parents=True, exist_ok=True)
                for name, data in zip(names, v.counterexample):
                    target = Path(cex_dir) / name
                    try:
                        write_atomic(target, json.dumps(data, ensure_ascii=False, indent=2) + "\n")
                    except OutputError as err:
                        raise click.ClickException(str(err)) from None
                    written.append(str(target))
            entries.append((v, written))
        basis = _basis(contract, source)  # issue 17: what the proofs rest on and range over
        if fmt == "json":
            report.append({"file": path, **{k: v for k, v in basis.items() if v}, "properties": [
                {**verdict_json(v), "files": written} for v, written in entries]})
            continue
        click.echo(f"{path}:")
        if basis["assumptions"]:
            click.echo(("  under the assumptions: " if lang == "en" else "  under antagandena: ") + "; ".join(
                f"`{a['condition']}` ({'line' if lang == 'en' else 'rad'} {a['line']})" for a in basis["assumptions"]))
        if basis["parameters"]:
            click.echo(("  for every value of: " if lang == "en" else "  för varje värde på: ") + "; ".join(
                f"`{p['name']}` {p['range'][lang]} ({'line' if lang == 'en' else 'rad'} {p['line']})"
                for p in basis["parameters"]))
        for v, written in entries:
            colour = {PROVED: "green", VIOLATED: "red"}.get(v.status, "yellow")
            echo(f"  {click.style(f'{v.status:<8}', fg=colour, bold=v.status == VIOLATED or None)} "
                 f"{v.seconds:6.2f}s  {v.key}: {v.description}")
            if v.status != PROVED:
                click.echo(f"           {v.words.get(lang) or v.reason}")
            if v.status == VIOLATED:
                if written:
                    for target in written:
                        click.echo(f"           reproduce: sibc eval {path} --outcomes {target}")
                else:
                    _show_outcomes(v, lang)
        counts = {s: sum(v.status == s for v, _ in entries) for s in (PROVED, VIOLATED, UNKNOWN)}
        summary(f"  {counts[PROVED]} proved, {counts[VIOLATED]} violated, {counts[UNKNOWN]} unknown",
                ok=not counts[VIOLATED] and not counts[UNKNOWN])
    if fmt == "json":
        click.echo(json.dumps({"z3": z3_version(), "files": report}, ensure_ascii=False, indent=2))
    # a property that could not be decided is not known to hold: it fails the run (issue 17)
    sys.exit(EXIT_ERRORS if failed or unproved else EXIT_OK)


def _basis(contract, source) -> dict:
    """issue 17: the assumptions every proof rests on (their conditions as written) and the draft's
    parameters the proofs range over, for the report."""
    from ..verify_checks import _fmt

    def written(expr) -> str:
        span = getattr(expr, "span", None)
        text = source.excerpt(span) if span is not None and not span.empty else ""
        return " ".join(text.split())

    def span_of(p, lang: str) -> str:
        if p.lower is None:
            return {"en": "(yes or no)", "sv": "(ja eller nej)"}[lang]
        return f"{_fmt(p.lower, p.ty, contract.currency, lang)}–{_fmt(p.upper, p.ty, contract.currency, lang)}"

    return {
        "assumptions": [{"name": a.clause.name, "line": a.clause.line, "condition": written(a.expr)}
                        for a in contract.assumptions],
        "parameters": [{"name": p.name, "line": p.clause.line, "range": {lang: span_of(p, lang) for lang in ("en", "sv")}}
                       for p in contract.parameters.values()],
    }


def _show_outcomes(v, lang: str) -> None:
    """The counterexample's outcomes; only those that matter when the others are at 0 or their
    lowest value (the outcome file written with --counterexamples has them all)."""
    for data, shown in zip(v.counterexample, v.shown or v.counterexample):
        if shown == data:
            click.echo(f"           outcomes: {json.dumps(data, ensure_ascii=False)}")
        elif not shown:
            every = "every outcome 0 or its lowest value" if lang == "en" else "varje utfall 0 eller sitt lägsta värde"
            click.echo(f"           outcomes: {every}")
        else:
            rest = "the others 0 or their lowest value" if lang == "en" else "övriga 0 eller sitt lägsta värde"
            click.echo(f"           outcomes that matter: {json.dumps(shown, ensure_ascii=False)} ({rest})")
