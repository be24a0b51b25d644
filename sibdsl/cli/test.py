"""`sibc test FILE...`: run each contract's scenarios; optionally report clause coverage."""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path

import click

from . import EXIT_ERRORS, EXIT_OK, FORMATS, common_options, echo, formats, guard, print_diagnostics, summary
from ..source import visible


def _money(value: Fraction | None, currency: str, lang: str = "en") -> str:
    from ..lang import format_money, word
    from ..report import format_amount

    if value is None:
        return word(lang, "no_such_line")
    return format_money(value, currency, lang, plain=True) if lang == "sv" else format_amount(value, currency)


def _expected_name(e, lang: str = "en") -> str:
    from ..lang import word

    if e.kind == "total":
        return word(lang, "total")
    if e.kind == "party":
        return f"{word(lang, 'to')} {e.target}"
    return e.target + (f"[{e.period}]" if e.period else "")


@click.command("test")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=True))
@click.option("--scenarios", "scenario_file", type=click.Path(dir_okay=False), default=None,
              help="The scenario file, .csv or .xlsx (default: NAME.scenarios.xlsx or NAME.scenarios.csv beside "
              "NAME.sib). Only with one contract.")
@click.option("--format", "fmt", type=formats("text", "json", "junit"), default="text", show_default=True,
              help="text: for people; json: for machines; junit: JUnit XML for CI systems.")
@click.option("--coverage", is_flag=True, help="Report which clauses and branches the scenarios exercise.")
@click.option("--min-coverage", type=click.FloatRange(0, 100), default=None,
              help="Fail when fewer than this percentage of branches are exercised (implies --coverage).")
@click.option("--lang", type=click.Choice(["sv", "en"]), default=None,
              help="Language of the report and of the explanation of a failure (default: the contract's first).")
@click.option("--diagnostics", "diag_fmt", type=FORMATS, default="text", show_default=True)
@common_options
@guard
def test(files, scenario_file, fmt, coverage, min_coverage, lang, diag_fmt) -> None:
    """Run the scenarios written beside each contract: every expected amount against the settlement."""
    from .. import check_file
    from ..coverage import measure
    from ..diagnostics import SibError
    from ..explain_text import explain_line
    from ..scenarios import load_scenarios, run_scenarios, scenario_path

    if scenario_file and len(files) != 1:
        raise click.UsageError("--scenarios names the scenarios of one contract; give one FILE")
    coverage = coverage or min_coverage is not None
    failed = False
    report = []
    for path in files:
        source, contract, diagnostics = check_file(path)
        if contract is None:
            print_diagnostics(diagnostics, diag_fmt, to_stderr=True)
            failed = True
            continue
        spath = Path(scenario_file) if scenario_file else scenario_path(path)
        if not spath.exists():
            from ..diagnostics import Diagnostic
            from ..source import Source

            beside = "" if scenario_file else (f"write the scenarios in {spath.with_suffix('.xlsx').name} or "
                                               f"{spath.name} beside the contract, or ")
            print_diagnostics([Diagnostic("E001", f"cannot read {spath}: it does not exist", Source(str(spath), ""),
                                          None, hint=f"{beside}name the file with --scenarios")],
                              diag_fmt, to_stderr=True)
            failed = True
            continue
        warnings: list = []
        try:
            scenarios = load_scenarios(contract, spath, warnings=warnings)
        except SibError as err:
            print_diagnostics(warnings + list(err.diagnostics), diag_fmt, to_stderr=True)
            failed = True
            continue
        print_diagnostics(warnings, diag_fmt, to_stderr=True)
        results = run_scenarios(contract, scenarios, source)
        failed = failed or not all(r.passed for r in results)
        cov = measure(contract, scenarios, results) if coverage else None
        if cov is not None and min_coverage is not None and cov.percent < Fraction(str(min_coverage)):
            failed = True
        report.append((path, spath, contract, results, cov))

    language = lang
    if fmt == "json":
        click.echo(json.dumps([json_report(p, s, c, r, cov) for p, s, c, r, cov in report], ensure_ascii=False, indent=2))
    elif fmt == "junit":
        click.echo(_junit(report))
    else:
        def show(text: str = "") -> None:  # scenario names and labels are file text: shown, never acted on
            click.echo(visible(text))

        from functools import partial

        from ..lang import branch_words, clause_words, word

        total_passed = total = 0
        for path, spath, contract, results, cov in report:
            lang_of = language or next((x for x in contract.languages if x in ("sv", "en")), "en")

            # bound now, not read from the loop's variables when called
            w = partial(word, lang_of)
            money = partial(_money, currency=contract.currency, lang=lang_of)

            n = f"{len(results)} {w('scenario') if len(results) == 1 else w('scenarios')}"
            show(w("scenarios_from", path=path, n=n, source=spath))
            for r in results:
                status = (click.style(w("pass"), fg="green") if r.passed
                          else click.style(w("fail"), fg="red", bold=True))
                echo(f"  {status}  {visible(r.scenario.name)} ({w('row')} {r.scenario.row})")
                if r.error is not None:
                    show(f"        error[{r.error.code}]: {r.error.message}")
                for c in r.checks:
                    if not c.ok:
                        show(f"        {_expected_name(c.expectation, lang_of)}: {w('expected')} "
                             f"{money(c.expectation.amount)}, {w('actual')} {money(c.actual)}")
                if not r.passed and r.settlement is not None:
                    wrong = {c.expectation.target for c in r.checks if not c.ok and c.expectation.kind == "line"}
                    shown = [ln for ln in r.settlement.lines if ln.payment in wrong] or list(r.settlement.lines)
                    show(f"        {w('how')}")
                    for ln in shown:
                        for text in explain_line(contract, ln, lang_of):
                            show(f"          {text}")
            passed = sum(r.passed for r in results)
            total_passed, total = total_passed + passed, total + len(results)
            show("  " + w("passed_failed", passed=passed, failed=len(results) - passed))
            if cov is not None:
                unreachable = len(cov.branches) - len(cov.reachable)
                percent = str(float(round(cov.percent, 1)))
                percent = percent.replace(".", ",") if lang_of == "sv" else percent
                show("  " + w("coverage", covered=len(cov.covered), reachable=len(cov.reachable), percent=percent)
                     + (w("unreachable", n=unreachable) if unreachable else ""))
                for b in cov.branches:
                    names = cov.hits.get(b.key, [])
                    if names:
                        mark, note = "✓", f"  ({', '.join(names)})"
                    elif b.key in cov.unreachable:
                        mark, note = "-", f"  — {w('proved_unreachable')}"
                    else:
                        mark, note = "✗", f"  — {w('no_scenario')}"
                    show(f"    {mark} {w('line')} {b.line:>3}  {clause_words(b.clause, lang_of)}: "
                         f"{branch_words(b.label, lang_of)}{note}")
                if min_coverage is not None and cov.percent < Fraction(str(min_coverage)):
                    show("  " + w("below_min", percent=percent, minimum=min_coverage))
        if len(report) > 1:
            first = language or next((x for x in report[0][2].languages if x in ("sv", "en")), "en")
            line = (f"{total_passed} av {total} scenarier godkända i {len(report)} avtal" if first == "sv" else
                    f"{total_passed} of {total} scenarios passed in {len(report)} contracts")
            summary(line, ok=total_passed == total and not failed)
    sys.exit(EXIT_ERRORS if failed else EXIT_OK)


def json_report(path, spath, contract, results, cov) -> dict:
    data = {"file": path, "scenarios_file": str(spath), "scenarios": [{
        "name": r.scenario.name, "row": r.scenario.row, "passed": r.passed,
        "error": r.error.message if r.error else None,
        "checks": [{"expected": _expected_name(c.expectation), "amount": str(c.expectation.amount),
                    "actual": None if c.actual is None else str(c.actual), "ok": c.ok} for c in r.checks],
    } for r in results]}
    if cov is not None:
        data["coverage"] = {"percent": float(round(cov.percent, 2)), "branches": [
            {"clause": b.clause, "line": b.line, "branch": b.label, "scenarios": cov.hits.get(b.key, []),
             "reachable": b.key not in cov.unreachable}
            for b in cov.branches]}
    return data


def _junit(report) -> str:
    """JUnit XML for CI systems; ElementTree escapes every text and attribute."""
    suites = ET.Element("testsuites")
    for path, _spath, contract, results, _cov in report:
        suite = ET.SubElement(suites, "testsuite", name=str(path), tests=str(len(results)),
                              failures=str(sum(not r.passed for r in results)))
        for r in results:
            case = ET.SubElement(suite, "testcase", classname=str(path), name=r.scenario.name)
            if not r.passed:
                lines = [f"{_expected_name(c.expectation)}: expected {_money(c.expectation.amount, contract.currency)}"
                         f", actual {_money(c.actual, contract.currency)}" for c in r.checks if not c.ok]
                if r.error is not None:
                    lines.append(f"{r.error.code}: {r.error.message}")
                failure = ET.SubElement(case, "failure", message="; ".join(lines))
                failure.text = "\n".join(lines)
    return ET.tostring(suites, encoding="unicode")
