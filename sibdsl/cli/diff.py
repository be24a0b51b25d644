"""`sibc diff OLD.sib NEW.sib`: what a revision changes, in clauses and in money."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from . import (
    EXIT_ERRORS,
    EXIT_OK,
    EXIT_USAGE,
    FORMATS,
    common_options,
    formats,
    guard,
    print_diagnostics,
    summary,
)


@click.command("diff")
@click.argument("old", type=click.Path(dir_okay=True))
@click.argument("new", type=click.Path(dir_okay=True))
@click.option("--format", "fmt", type=formats("text", "json"), default="text", show_default=True,
              help="text: for people; json: for machines.")
@click.option("--timeout", type=click.FloatRange(min=0.01), default=3.0, show_default=True,
              help="The solver's work limit per question, in seconds of work on a reference machine (a "
              "deterministic limit: the same answers on every machine).")
@click.option("--each-payment", is_flag=True, help="Also the largest increase and decrease of each payment.")
@click.option("--budget", type=click.IntRange(min=1), default=None,
              help="The questions the whole diff may ask the solver (each within --timeout's work limit); "
              "lines reached after it is spent are sampled, not proved (W586). Default: 1000.")
@click.option("--chart", "chart_path", type=click.Path(dir_okay=False), default=None,
              help="Also write the payout of both drafts against the main outcome as an SVG chart.")
@click.option("--lang", type=click.Choice(["en", "sv"]), default="en", show_default=True,
              help="The language of the text (clauses, money, amounts as `sibc eval --lang` writes them); "
              "names and clauses of the contracts stay as written, the JSON is the same in both.")
@click.option("--diagnostics", "diag_fmt", type=FORMATS, default="text", show_default=True)
@common_options
@guard
def diff(old: str, new: str, fmt: str, timeout: float, each_payment: bool, budget: int | None,
         chart_path: str | None, lang: str, diag_fmt: str) -> None:
    """Compare two drafts: clauses added, removed and changed (old → new), and where they pay
    differently, decided by the solver for every outcome: the largest increase and decrease of the
    total and of each payer, with outcomes that produce them, and where the drafts pay the same.
    Exit 0 when they mean the same, 1 when they differ, 2 on error."""
    from .. import check_file
    from ..diagnostics import SibError
    from ..diff import (
        BUDGET,
        budget_warning,
        change_words,
        changes_json,
        clause_changes,
        currency_mismatch,
        effect_json,
        extreme_words,
        money_effect,
        region_words,
    )
    from ..lang import texts
    from ..parser import parse
    from ..source import visible

    t = texts("diff")[lang]

    drafts, sources = [], []
    for path in (old, new):
        source, contract, diagnostics = check_file(path)
        if contract is None:
            print_diagnostics(diagnostics, diag_fmt, to_stderr=True)
            click.echo(t["has_errors"].format(file=path), err=True)
            sys.exit(EXIT_USAGE)
        drafts.append((parse(source), contract))
        sources.append(source)
    (old_tree, old_model), (new_tree, new_model) = drafts
    mismatch = currency_mismatch(sources[0], old_model, sources[1], new_model)
    if mismatch is not None:  # issue 17 (E761): amounts in two currencies are not comparable numbers
        print_diagnostics([mismatch], diag_fmt, to_stderr=True)
        sys.exit(EXIT_USAGE)
    changes = clause_changes(old_tree, new_tree)
    base = None
    beside = Path(new).with_name(Path(new).stem + ".outcomes.json")
    if not beside.exists():
        beside = Path(old).with_name(Path(old).stem + ".outcomes.json")
    if beside.exists():
        from ..outcomes import load_outcomes

        try:
            base = load_outcomes(new_model, beside)
        except SibError:
            base = None
    effect = money_effect(old_model, new_model, timeout=timeout, base=base,
                          lines="all" if each_payment else "payers", budget=budget or BUDGET)
    currency = new_model.currency
    differs = bool(changes) or any(e.differs is not False for e in effect.effects)
    if effect.inexact:  # issue 15/17 (W582): a cut in proportion, bounded (or sampled), not proved exactly
        from ..diff import in_proportion, sampling_warning

        source, model = (sources[1], new_model) if in_proportion(new_model) else (sources[0], old_model)
        print_diagnostics([sampling_warning(source, model, effect)], diag_fmt, to_stderr=True)
    if effect.spent:  # issue 17 (W586): the lines past the diff's work budget were sampled
        print_diagnostics([budget_warning(sources[1], effect)], diag_fmt, to_stderr=True)
    if chart_path:
        from ..diff import curve_chart
        from ..fileio import OutputError, refuse_overwriting_inputs, write_atomic

        try:
            refuse_overwriting_inputs(chart_path, [old, new])
            write_atomic(chart_path, curve_chart(old_model, new_model, old, new, base=base))
        except OutputError as err:
            raise click.ClickException(str(err)) from None
    if fmt == "json":
        click.echo(json.dumps({
            "old": old, "new": new, "same_meaning": not differs,
            "changes": changes_json(changes),
            "money": effect_json(effect),
        }, ensure_ascii=False, indent=2))
        sys.exit(EXIT_ERRORS if differs else EXIT_OK)

    def show(text: str = "") -> None:
        click.echo(visible(text))

    if not differs:
        summary(t["same_meaning"].format(old=old, new=new))
        sys.exit(EXIT_OK)
    show(t["clauses"].format(n=len(changes)) if changes else t["clauses_none"])
    for c in changes:
        show(f"  {change_words(c, lang)}")
        if c.old:
            show("    - " + c.old.replace("\n", "\n    - "))
        if c.new:
            show("    + " + c.new.replace("\n", "\n    + "))
    show("")
    show(t["money"] + (
        t["money_spent"].format(n=effect.budget, questions=t["question" if effect.budget == 1 else "questions"])
        if effect.spent else "" if effect.decided else t["money_undecided"].format(timeout=f"{timeout:g}")))
    if base is not None:
        show("  " + t["published"].format(file=beside))
    if effect.only_old or effect.only_new:
        show("  " + t["only"].format(old=", ".join(effect.only_old) or t["none"],
                                     new=", ".join(effect.only_new) or t["none"]))
    for e in effect.effects:
        name = {"total": t["total"], "payer": t["paid_by"].format(name=e.line), "payment": e.line}[e.kind]
        if e.differs is False:
            show(f"  {name}: {t['same']}")
            continue
        if e.differs is None and not (e.increase or e.decrease):
            show(f"  {name}: {t['undecided_budget' if e.line in effect.spent else 'undecided']}")
            continue
        note = (t["sampled_line"].format(n=effect.samples) if e.line in effect.sampled else
                t["spent_line"].format(n=effect.samples) if e.line in effect.spent else
                t["not_exact"] if e.line in effect.inexact else None)
        show(f"  {name}:" + (f" ({note})" if note else ""))
        if e.increase:
            show(f"    {extreme_words(e.increase, currency, True, lang)}")
        if e.decrease:
            show(f"    {extreme_words(e.decrease, currency, False, lang)}")
    where = region_words(effect, {**old_model.measures, **new_model.measures, **_definitions(new_model)}, currency,
                         lang)
    if where:
        show(f"  {where}")
    sys.exit(EXIT_ERRORS)


def _definitions(contract) -> dict:
    return {name: d for name, d in contract.definitions.items()}
