"""`sibc eval FILE --outcomes DATA`: settle a contract for measured outcomes (and interim settlements,
`--as-of`, `--paid`). In a module of its own, imported when the command runs (cli.LazyGroup)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from ..diagnostics import Diagnostic, SibError
from . import (
    EXIT_OK,
    FORMATS,
    _as_of,
    checked_or_exit,
    common_options,
    count_of,
    exit_with,
    formats,
    guard,
    parse_params,
    print_diagnostics,
    summary,
    verbose,
    write_output,
)


@click.command("eval")
@click.argument("file", type=click.Path(dir_okay=True, allow_dash=True))
@click.option("--outcomes", "outcomes_path", required=True, type=click.Path(dir_okay=True, allow_dash=True),
              help="Measured outcomes: a .json, .csv or .xlsx file, or - for JSON or CSV on standard input "
              "(see docs/outcomes.md).")
@click.option("--format", "fmt", type=formats("text", "json", "xlsx"), default="text", show_default=True,
              help="text: a table and the audit trail; json: for machines; xlsx: a workbook (needs -o).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True), default=None,
              help="Write the settlement to this file instead of standard output (- for stdout).")
@click.option("--trace/--no-trace", default=True, show_default=True, help="Show the audit trail.")
@click.option("--diagnostics", "diag_fmt", type=FORMATS, default="text", show_default=True,
              help="How to print problems with the contract or the outcome file.")
@click.option("--explain", is_flag=True, help="Explain the computation step by step in plain language "
              "(instead of the audit trail), citing the clauses.")
@click.option("--lang", type=click.Choice(["sv", "en"]), default=None,
              help="Language of --explain (default: the contract's first language, if sv or en), of "
              "--why (default: each of the contract's languages), of an interim settlement's text "
              "(--as-of, --paid; default: en) and of the workbook of --format xlsx (default: en).")
@click.option("--why", is_flag=True, help="For each payment not paid, cut or below what other outcomes pay: the "
              "smallest change of the measured outcomes that would have paid it more (decided by the solver).")
@click.option("--timeout", type=click.FloatRange(min=0.01), default=3.0, show_default=True,
              help="--why: the solver's work limit per question, in seconds of work on a reference machine "
              "(deterministic: the same answers on every machine).")
@click.option("--as-of", "as_of_text", default=None, metavar="DATE",
              help="An interim settlement: settle the lines due on or before DATE whose data are all "
              "measured; list the others with what they wait for (see docs/outcomes.md).")
@click.option("--paid", "paid_path", default=None, type=click.Path(dir_okay=True, allow_dash=False),
              help="What was paid before, per line: the JSON of an earlier `sibc eval --format json` "
              "(or a CSV payment,period,paid). Only the difference is paid now; nothing is clawed back.")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE",
              help="The value of a draft's negotiable parameter, e.g. --param price=1500 or "
              "--param \"price=1 500 SEK\" (repeat for each parameter).")
@click.option("--by-year", is_flag=True, help="Add what each payer pays in each fiscal year (the calendar year "
              "of each line's due date): a table in text, a \"by_payer_year\" object in JSON.")
@common_options
@guard
def eval_(file: str, outcomes_path: str, fmt: str, output: str | None, trace: bool, diag_fmt: str,
          explain: bool, lang: str | None, why: bool, timeout: float, as_of_text: str | None,
          paid_path: str | None, params: tuple[str, ...], by_year: bool = False) -> None:
    """Settle a contract for measured outcomes: every payment line with its clause and steps."""
    import json

    from .. import compile_contract, load_outcomes
    from ..evaluate import EvaluationError
    from ..report import settlement_json_text, settlement_text

    if file == "-" and outcomes_path == "-":
        raise click.UsageError("the contract and the outcomes cannot both come from standard input")
    if fmt == "xlsx" and output is None:
        raise click.UsageError("--format xlsx writes a workbook: name it with -o settlement.xlsx")
    if (as_of_text is not None or paid_path is not None) and (fmt == "xlsx" or explain or by_year or why):
        raise click.UsageError("an interim or reconciled settlement (--as-of, --paid) is written as text or json, "
                               "without --explain, --by-year or --why")
    if as_of_text is not None or paid_path is not None:
        _eval_interim(file, outcomes_path, fmt, output, trace, diag_fmt, as_of_text, paid_path, params, lang)
        return
    if fmt == "xlsx" and why:
        raise click.UsageError("--why explains in words: use it with --format text or json, not xlsx")
    source, contract = checked_or_exit(file, diag_fmt)
    try:
        warnings: list[Diagnostic] = []
        try:
            outcomes = load_outcomes(contract, outcomes_path, warnings=warnings, params=parse_params(params))
        finally:
            print_diagnostics(warnings, diag_fmt, to_stderr=True)  # W501: the encoding assumed
        verbose(f"{outcomes_path}: {count_of(len(outcomes), 'measured value')}")
        settlement = compile_contract(contract, source).evaluate(outcomes)
    except SibError as err:
        exit_with(err.diagnostics, diag_fmt)
    except EvaluationError as err:
        exit_with([err.diagnostic], diag_fmt)
    reasons = None
    if why:
        from ..why import why_not_paid

        languages = (lang,) if lang else tuple(x for x in contract.languages if x in ("sv", "en")) or ("en",)
        reasons = why_not_paid(contract, outcomes, settlement, timeout=timeout, languages=languages)
    if fmt == "xlsx":
        from ..report import settlement_xlsx

        write_output(output, lambda stream: settlement_xlsx(settlement, stream, lang or "en", contract),
                     [file, outcomes_path])
        summary(f"{output}: the settlement, {count_of(len(settlement.lines), 'line')}, total "
                f"{settlement.total} {settlement.currency}", err=output == "-")
    else:
        if fmt == "json":
            text = settlement_json_text(settlement)
            if by_year:  # issue 15: the payer's budget by year, beside the settlement (goldens unchanged)
                from ..budget import settled
                from ..report import budget_json, settlement_json

                text = json.dumps({**settlement_json(settlement), "by_payer_year": budget_json(settled(settlement))},
                                  ensure_ascii=False, indent=2) + "\n"
            if reasons is not None:
                from ..why import why_json

                data = json.loads(text)
                data["why"] = why_json(reasons, contract)
                text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
        else:
            text = settlement_text(settlement, trace=trace and not explain)
            if by_year:
                from ..budget import settled
                from ..report import budget_text

                text += "\n" + budget_text(settled(settlement), settlement.currency)
            if explain:
                from ..explain_text import explain_settlement

                language = lang or next((x for x in contract.languages if x in ("sv", "en")), "en")
                text += "\n" + explain_settlement(contract, settlement, language)
            if reasons is not None:
                from ..why import why_text

                text += "\n" + why_text(reasons, languages)
        if output is None or output == "-":
            click.echo(text, nl=False)
        else:
            write_output(output, lambda stream: stream.write(text.encode("utf-8")), [file, outcomes_path])
            summary(f"{output}: the settlement, {count_of(len(settlement.lines), 'line')}")
    if settlement.diagnostics:
        exit_with(settlement.diagnostics, diag_fmt)
    sys.exit(EXIT_OK)


def _eval_interim(file: str, outcomes_path: str, fmt: str, output: str | None, trace: bool, diag_fmt: str,
                  as_of_text: str | None, paid_path: str | None, params: Sequence[str] = (),
                  lang: str | None = None) -> None:
    """`sibc eval --as-of DATE` and/or `--paid FILE` (issue 15; sibdsl/interim.py)."""
    import json

    from .. import compile_contract, load_outcomes
    from ..evaluate import EvaluationError
    from ..interim import interim_json, interim_text, load_paid, overpayments, settle
    from ..source import Source

    source, contract = checked_or_exit(file, diag_fmt)
    try:
        as_of = None
        if as_of_text is not None:
            as_of = _as_of(as_of_text, contract, Source)
        warnings: list[Diagnostic] = []
        pending: set = set()
        try:
            outcomes = load_outcomes(contract, outcomes_path, warnings=warnings, as_of=as_of, pending=pending,
                                     params=parse_params(params))
        finally:
            print_diagnostics(warnings, diag_fmt, to_stderr=True)
        evaluator = compile_contract(contract, source)
        paid: dict = {}
        if paid_path is not None:
            notes: list[Diagnostic] = []
            try:
                paid = load_paid(contract, evaluator.program, paid_path, warnings=notes)
            finally:
                print_diagnostics(notes, diag_fmt, to_stderr=True)
        interim = settle(evaluator, outcomes, pending, as_of, paid)
    except SibError as err:
        exit_with(err.diagnostics, diag_fmt)
    except EvaluationError as err:
        exit_with([err.diagnostic], diag_fmt)
    text = (json.dumps(interim_json(interim), ensure_ascii=False, indent=2) + "\n" if fmt == "json"
            else interim_text(interim, trace=trace, lang=lang or "en"))
    if output is None or output == "-":
        click.echo(text, nl=False)
    else:
        write_output(output, lambda stream: stream.write(text.encode("utf-8")),
                     [file, outcomes_path] + ([paid_path] if paid_path else []))
        summary(f"{output}: the settlement, {count_of(len(interim.lines), 'line')}")
    print_diagnostics(overpayments(interim, paid), diag_fmt, to_stderr=True)
    negative = [evaluator._negative(ln.line) for ln in interim.lines
                if ln.line is not None and ln.line.exact < 0]
    if negative:
        exit_with(negative, diag_fmt)
    sys.exit(EXIT_OK)
