"""`sibc diff OLD.sib NEW.sib`: what a revision changes, in clauses and in money."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from . import EXIT_ERRORS, EXIT_OK, EXIT_USAGE, FORMATS, common_options, formats, guard, print_diagnostics, summary


@click.command("diff")
@click.argument("old", type=click.Path(dir_okay=True))
@click.argument("new", type=click.Path(dir_okay=True))
@click.option("--format", "fmt", type=formats("text", "json"), default="text", show_default=True,
              help="text: for people; json: for machines.")
@click.option("--grid", type=click.IntRange(3, 101), default=11, show_default=True,
              help="Values per measure in the grid of outcomes both drafts are settled on.")
@click.option("--chart", "chart_path", type=click.Path(dir_okay=False), default=None,
              help="Also write the payout of both drafts against the main outcome as an SVG chart.")
@click.option("--diagnostics", "diag_fmt", type=FORMATS, default="text", show_default=True)
@common_options
@guard
def diff(old: str, new: str, fmt: str, grid: int, chart_path: str | None, diag_fmt: str) -> None:
    """Compare two drafts: clauses added, removed and changed (old → new), and where the payout
    differs over a grid of outcomes. Exit 0 when they mean the same, 1 when they differ, 2 on error."""
    from .. import check_file
    from ..diagnostics import SibError
    from ..diff import clause_changes, money_effect
    from ..parser import parse
    from ..report import format_amount
    from ..source import visible

    drafts = []
    for path in (old, new):
        source, contract, diagnostics = check_file(path)
        if contract is None:
            print_diagnostics(diagnostics, diag_fmt, to_stderr=True)
            click.echo(f"{path}: has errors; fix them before comparing", err=True)
            sys.exit(EXIT_USAGE)
        drafts.append((parse(source), contract))
    (old_tree, old_model), (new_tree, new_model) = drafts
    changes = clause_changes(old_tree, new_tree)
    effect = money_effect(old_model, new_model, steps=grid)
    currency = new_model.currency
    differs = bool(changes) or any(e.differing for e in effect.effects)
    if chart_path:
        from ..diff import curve_chart
        from ..fileio import OutputError, refuse_overwriting_inputs, write_atomic

        try:
            refuse_overwriting_inputs(chart_path, [old, new])
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
            write_atomic(chart_path, curve_chart(old_model, new_model, old, new, base=base))
        except OutputError as err:
            raise click.ClickException(str(err)) from None
    if fmt == "json":
        def extreme(x):
            return None if x is None else {"amount": str(x.amount), "outcomes": {
                k: (v if isinstance(v, bool) else str(v)) for k, v in x.outcomes.items()}}
        click.echo(json.dumps({
            "old": old, "new": new, "same_meaning": not differs,
            "changes": [{"kind": c.kind, "what": c.what, "old": c.old, "new": c.new} for c in changes],
            "money": {"points": effect.points, "failed": effect.failed, "only_in_old": list(effect.only_old),
                      "only_in_new": list(effect.only_new),
                      "lines": [{"line": e.line, "differing_points": e.differing, "largest_increase": extreme(e.increase),
                                 "largest_decrease": extreme(e.decrease)} for e in effect.effects]},
        }, ensure_ascii=False, indent=2))
        sys.exit(EXIT_ERRORS if differs else EXIT_OK)

    def show(text: str = "") -> None:
        click.echo(visible(text))

    from ..report import format_value

    def where(outcomes: dict) -> str:
        return ", ".join(f"{k} = {format_value(v, new_model.input(k).ty.plain())}" for k, v in outcomes.items())

    if not differs:
        summary(f"{old} and {new} mean the same: no clause changed and every settled amount is equal.")
        sys.exit(EXIT_OK)
    show(f"Clauses ({len(changes)} changed):" if changes else "Clauses: none changed (only layout or comments)")
    for c in changes:
        show(f"  {c.kind} {c.what}")
        if c.old:
            show("    - " + c.old.replace("\n", "\n    - "))
        if c.new:
            show("    + " + c.new.replace("\n", "\n    + "))
    show("")
    show(f"Money: both drafts settled on {effect.points} sets of outcomes"
         + (f" ({effect.failed} could not be settled by one of them)" if effect.failed else ""))
    if effect.only_old or effect.only_new:
        show(f"  measures only in the old draft: {', '.join(effect.only_old) or 'none'}; "
             f"only in the new: {', '.join(effect.only_new) or 'none'} (held at defaults)")
    for e in effect.effects:
        if not e.differing:
            continue
        show(f"  {e.line}: differs at {e.differing} of {effect.points}")
        if e.increase:
            show(f"    largest increase {format_amount(e.increase.amount, currency)} at {where(e.increase.outcomes)}")
        if e.decrease:
            show(f"    largest decrease {format_amount(-e.decrease.amount, currency)} at {where(e.decrease.outcomes)}")
    if not any(e.differing for e in effect.effects):
        show("  the payout is the same at every point")
    sys.exit(EXIT_ERRORS)
