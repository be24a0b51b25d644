"""`sibc new`: start a contract from a template."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import EXIT_OK, common_options, guard, summary


@click.command("new")
@click.option("--template", type=click.Choice(["savings-floor-cap", "rate-card", "tiered-grid"]), default=None,
              help="The kind of contract (asked for when not given on a terminal).")
@click.option("--title", default=None, help="The contract's title.")
@click.option("--payer", default=None, help="The public payer's name.")
@click.option("--investor", default=None, help="The investor's name.")
@click.option("--provider", default=None, help="The service provider's name.")
@click.option("--currency", default=None, help="A three-letter currency code (SEK).")
@click.option("--investment", default=None, help="The amount invested, e.g. 10000000.")
@click.option("--start", "start", type=click.DateTime(["%Y-%m-%d"]), default=None, help="The start date.")
@click.option("--years", type=click.IntRange(1, 30), default=None, help="The programme's length in years.")
@click.argument("file", type=click.Path(dir_okay=False), required=False)
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="The new contract file (the same as giving FILE).")
@click.option("--force", is_flag=True, help="Overwrite the file if it exists.")
@click.option("--from-indigo", "indigo", type=click.Path(), default=None,
              help="Draft from an INDIGO project's outcome pricings: the dataset's folder, its pricings CSV, "
                   "or a project JSON (with --project).")
@click.option("--project", default=None, help="The INDIGO project to draft from (INDIGO-POJ-0123).")
@click.option("--diagnostics", "diag_fmt", type=click.Choice(["text", "gnu", "json"]), default="text",
              help="How problems in the INDIGO file are printed.")
@common_options
@guard
def new(file, template, title, payer, investor, provider, currency, investment, start, years, output,
        force, indigo, project, diag_fmt) -> None:
    """Start a contract FILE from a template (`sibc new avtal.sib`); the essentials are asked for (or
    given as options) and the result passes `sibc check` at once."""
    from ..fileio import OutputError, write_atomic
    from ..new import TEMPLATES, Answers, render

    if file and output and file != output:
        raise click.UsageError(f"two file names: {file} and -o {output}; give one")
    output = file or output
    if not output:
        raise click.UsageError("name the new contract: sibc new avtal.sib")
    if Path(output).exists() and not force:
        raise click.ClickException(f"{output} exists; choose another name or use --force")
    if indigo is not None or project is not None:
        if template is not None or investment is not None or provider is not None:
            raise click.UsageError("--from-indigo takes its payments and investment from INDIGO: "
                                   "leave out --template, --investment and --provider")
        _from_indigo(output, indigo, project, currency, start, years, diag_fmt, title, payer, investor)
    defaults = Answers()
    interactive = sys.stdin.isatty()

    def ask(value, text, default, **kw):
        if value is not None:
            return value
        return click.prompt(text, default=default, **kw) if interactive else default

    if template is None:
        template = ask(None, "Template (" + ", ".join(TEMPLATES) + ")", "savings-floor-cap",
                       type=click.Choice(list(TEMPLATES)))
    currency = ask(currency, "Currency", defaults.currency).strip().upper()
    if len(currency) != 3 or not currency.isalpha():
        raise click.BadParameter("a three-letter code such as SEK", param_hint="--currency")
    from ..numbers import NumberFormatError, parse_quantity

    try:
        quantity = parse_quantity(str(ask(investment, "Investment", str(defaults.investment))), currency=currency)
    except NumberFormatError as err:
        raise click.BadParameter(f"{err.reason}; {err.hint}", param_hint="--investment") from None
    if quantity.unit not in (None, currency):
        raise click.BadParameter(f"an amount in {currency}, not {quantity.unit}", param_hint="--investment")
    amount = quantity.number
    if amount <= 0 or amount.as_tuple().exponent < -2:
        raise click.BadParameter("a positive amount with at most two decimals", param_hint="--investment")
    answers = Answers(
        title=ask(title, "Title", defaults.title), payer=ask(payer, "Payer", defaults.payer),
        investor=ask(investor, "Investor", defaults.investor), provider=ask(provider, "Provider", defaults.provider),
        currency=currency, investment=amount,
        start=start.date() if start else defaults.start, years=ask(years, "Years", defaults.years, type=int))
    try:
        write_atomic(output, render(template, answers))
    except OutputError as err:
        raise click.ClickException(str(err)) from None
    summary(f"{output}: a {template} contract; next: sibc check {output}")
    sys.exit(EXIT_OK)


def _from_indigo(output, indigo, project, currency, start, years, diag_fmt, title, payer, investor) -> None:
    """`sibc new FILE --from-indigo PATH --project ID`: a draft from INDIGO's outcome pricings."""
    from ..diagnostics import SibError
    from ..fileio import OutputError, write_atomic
    from ..indigo import draft, read_project, summary_of
    from . import EXIT_ERRORS, print_diagnostics

    if indigo is None or project is None:
        raise click.UsageError("--from-indigo PATH and --project INDIGO-POJ-0000 go together")
    if currency is not None and (len(currency.strip()) != 3 or not currency.strip().isalpha()):
        raise click.BadParameter("a three-letter code such as SEK", param_hint="--currency")
    try:
        found = read_project(indigo, project, currency.strip().upper() if currency else None)
    except SibError as err:
        print_diagnostics(err.diagnostics, diag_fmt, to_stderr=True)
        sys.exit(EXIT_ERRORS)
    try:
        write_atomic(output, draft(found, start=start.date() if start else None, years=years, title=title,
                                   payer=payer, investor=investor))
    except OutputError as err:
        raise click.ClickException(str(err)) from None
    summary(f"{output}: a draft from {project} ({summary_of(found)}); next: sibc check {output}")
    sys.exit(EXIT_OK)
