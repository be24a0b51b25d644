"""`sibc test FILE...`: run each contract's scenarios; optionally report clause coverage."""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path

import click

from .cli import EXIT_ERRORS, EXIT_OK, FORMATS, count_of, guard, print_diagnostics
from .source import visible


def _money(value: Fraction | None, currency: str) -> str:
    from .report import format_amount

    return "no such line" if value is None else format_amount(value, currency)


def _expected_name(e) -> str:
    if e.kind == "total":
        return "total"
    if e.kind == "party":
        return f"to {e.target}"
    return e.target + (f"[{e.period}]" if e.period else "")


@click.command("test")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=True))
@click.option("--scenarios", "scenario_file", type=click.Path(dir_okay=False), default=None,
              help="The scenario file (default: NAME.scenarios.csv beside NAME.sib). Only with one contract.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "junit"]), default="text", show_default=True)
@click.option("--coverage", is_flag=True, help="Report which clauses and branches the scenarios exercise.")
@click.option("--min-coverage", type=click.FloatRange(0, 100), default=None,
              help="Fail when fewer than this percentage of branches are exercised (implies --coverage).")
@click.option("--lang", type=click.Choice(["sv", "en"]), default=None,
              help="Language of the step-by-step explanation of a failure.")
@click.option("--diagnostics", "diag_fmt", type=FORMATS, default="human", show_default=True)
@guard
def test(files, scenario_file, fmt, coverage, min_coverage, lang, diag_fmt) -> None:
    """Run the scenarios written beside each contract: every expected amount against the settlement."""
    from . import check_file
    from .coverage import measure
    from .diagnostics import SibError
    from .explain_text import explain_line
    from .scenarios import load_scenarios, run_scenarios, scenario_path

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
            click.echo(f"error: {path}: no scenario file {spath}", err=True)
            failed = True
            continue
        try:
            scenarios = load_scenarios(contract, spath)
        except SibError as err:
            print_diagnostics(err.diagnostics, diag_fmt, to_stderr=True)
            failed = True
            continue
        results = run_scenarios(contract, scenarios, source)
        failed = failed or not all(r.passed for r in results)
        cov = measure(contract, scenarios, results) if coverage else None
        if cov is not None and min_coverage is not None and cov.percent < Fraction(str(min_coverage)):
            failed = True
        report.append((path, spath, contract, results, cov))

    language = lang
    if fmt == "json":
        click.echo(json.dumps([_json(p, s, c, r, cov) for p, s, c, r, cov in report], ensure_ascii=False, indent=2))
    elif fmt == "junit":
        click.echo(_junit(report))
    else:
        def show(text: str = "") -> None:  # scenario names and labels are file text: shown, never acted on
            click.echo(visible(text))

        for path, spath, contract, results, cov in report:
            lang_of = language or next((x for x in contract.languages if x in ("sv", "en")), "en")
            show(f"{path}: {count_of(len(results), 'scenario')} from {spath}")
            for r in results:
                show(f"  {'PASS' if r.passed else 'FAIL'}  {r.scenario.name} (row {r.scenario.row})")
                if r.error is not None:
                    show(f"        error[{r.error.code}]: {r.error.message}")
                for c in r.checks:
                    if not c.ok:
                        show(f"        {_expected_name(c.expectation)}: expected "
                                   f"{_money(c.expectation.amount, contract.currency)}, "
                                   f"actual {_money(c.actual, contract.currency)}")
                if not r.passed and r.settlement is not None:
                    wrong = {c.expectation.target for c in r.checks if not c.ok and c.expectation.kind == "line"}
                    shown = [ln for ln in r.settlement.lines if ln.payment in wrong] or list(r.settlement.lines)
                    show("        how the actual amounts arise:")
                    for ln in shown:
                        for text in explain_line(contract, ln, lang_of):
                            show(f"          {text}")
            passed = sum(r.passed for r in results)
            show(f"  {passed} passed, {len(results) - passed} failed")
            if cov is not None:
                unreachable = len(cov.branches) - len(cov.reachable)
                show(f"  clause coverage: {len(cov.covered)} of {len(cov.reachable)} reachable branches "
                           f"({float(round(cov.percent, 1))} %)"
                           + (f"; {unreachable} cannot be reached by any outcome" if unreachable else ""))
                for b in cov.branches:
                    names = cov.hits.get(b.key, [])
                    if names:
                        mark, note = "✓", f"  ({', '.join(names)})"
                    elif b.key in cov.unreachable:
                        mark, note = "-", "  — no outcome can do this (proved)"
                    else:
                        mark, note = "✗", "  — no scenario"
                    show(f"    {mark} line {b.line:>3}  {b.clause}: {b.label}{note}")
                if min_coverage is not None and cov.percent < Fraction(str(min_coverage)):
                    show(f"  coverage {float(round(cov.percent, 1))} % is below --min-coverage {min_coverage} %")
    sys.exit(EXIT_ERRORS if failed else EXIT_OK)


def _json(path, spath, contract, results, cov) -> dict:
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
