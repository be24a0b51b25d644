"""A standing fuzzing campaign: hostile contracts and outcome files through every command of sibc.

    .venv/bin/python benchmarks/fuzz_campaign.py [--n 100000] [--seed 1] [--timeout 5] [--heavy 50]

Each input is one of
  * a shipped or corpus contract mutated one to three times (characters replaced, truncation,
    lines deleted, duplicated or swapped, and insertions of hostile fragments: 300 open
    parentheses, 1 000-digit numbers, NUL, BOM, lone CR, bidirectional overrides, terminal
    escapes, unbalanced quotes, lone surrogates, far dates, flat 500-term sums);
  * a contract generated from the grammar itself (grammar/sib.lark's rule table, as
    tests/test_fuzz_grammar.py does), whitespace and line breaks (LF, CRLF, CR) between tokens;
  * a valid contract with a generated outcome file, JSON or CSV (comma, semicolon, CRLF or CR-only
    lines, a byte-order mark), its values mutated (1E-8, NaN, 1_000, 40-digit numbers, huge
    cells, unclosed quotes, wrong units, missing and extra measures).
It then runs, in-process through the click CLI exactly as a user would (each in a fresh
directory): check --no-verify, fmt --check, fmt (on a copy), render -o x.md and -o x.html,
fingerprint, diff against the unmutated seed, eval --outcomes (JSON and CSV) and test; and for one
input in --heavy: verify --timeout 0.05 (allowed 12 × --timeout: it proves every property in
turn), render -o x.pdf and simulate.

For every command it counts an internal error (exit status 3, E900, a traceback or an exception
escaping the command), a hang (over --timeout seconds, by SIGALRM), and a file lost or half
written: every input file must keep its bytes (fmt's may change only into text that parses to
the same syntax tree) and no temporary file may be left in the directory. Each failure is printed
with the input's repr so it can be replayed. Prints the figures docs/limits.md reports; exit
status 1 if any failure. tests/test_hostile_campaign.py runs a small seeded slice on every test run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

JUNK = ["(" * 300, "9" * 1000, "\x00", "\ufeff", "\r", "\r\n", "\u202e", "\x1b[2J", "§", '"""', "#",
        "tiers(", "{", "}", "%", " of ", "--", "1e999", "if ", " then ", "payment ", "cap total at ", "\t",
        "\ud800", "9999-12-31", "0001-01-01", " + ".join(["1"] * 500), "\x0b", "\u2028", "# note\r",
        "due 36500 days after end", "-" * 250]
VALUE_JUNK = ["1E-8", "NaN", "Infinity", "1_000", "9" * 40, "1e999", "", " ", "-1", "12,5 %", "1 000 000 000 EUR",
              '"', "x" * 140_000, "\x00", "ja", "nej", "2019-02-30", "\r", "\ufeff1", "0x10", "1/3", "½",
              "１２", "-0", "+5", "5 SEK SEK", "true", None, [], {}, 1e308, -1e308, 10**40]


# Failures found by this campaign and reported, owned by another part of sibc: counted apart (as
# `known`) so a run shows what is new; each has a strict xfail test in tests/test_hostile_campaign.py
# that fails as soon as it is fixed, to take it off this list.
KNOWN: dict[str, tuple[str, str]] = {}  # none open (the first, a date measure held at 0 by diff, is fixed)


class Hang(BaseException):
    """Raised by SIGALRM; a BaseException, so that no `except Exception` in sibc (the CLI's guard
    turns those into E900) mistakes the campaign's clock for a bug."""


# ---------------------------------------------------------------- inputs
def mutate(rng: random.Random, text: str) -> str:
    for _ in range(rng.randint(1, 3)):
        if not text:
            return text
        at = rng.randrange(len(text))
        kind = rng.choice(["flip", "truncate", "delete", "duplicate", "insert", "swap"])
        lines = text.splitlines(keepends=True)
        if kind == "flip":
            text = text[:at] + chr(rng.choice([rng.randrange(32, 127), rng.randrange(0, 0x3000)])) + text[at + 1:]
        elif kind == "truncate":
            text = text[:at]
        elif kind == "delete":
            i = rng.randrange(len(lines))
            text = "".join(lines[:i] + lines[i + 1:])
        elif kind == "duplicate":
            i = rng.randrange(len(lines))
            text = "".join(lines[:i + 1] + lines[i:])
        elif kind == "insert":
            text = text[:at] + rng.choice(JUNK) + text[at:]
        else:
            i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
            text = "".join(lines)
    return text


_GRAMMAR = None


def _grammar():
    global _GRAMMAR
    if _GRAMMAR is None:
        import lark
        from lark.grammar import NonTerminal

        from sibdsl.parser import grammar_text

        parser = lark.Lark(grammar_text(), parser="lalr", start="start", keep_all_tokens=True)
        rules: dict[str, list[list]] = {}
        for rule in parser.rules:
            rules.setdefault(rule.origin.name, []).append(list(rule.expansion))
        depth: dict[str, int] = {}
        changed = True
        while changed:  # the shallowest derivation of each rule, to finish within a budget
            changed = False
            for name, expansions in rules.items():
                for expansion in expansions:
                    children = [depth.get(s.name) for s in expansion if isinstance(s, NonTerminal)]
                    if None not in children and 1 + max(children, default=0) < depth.get(name, 10**9):
                        depth[name] = 1 + max(children, default=0)
                        changed = True
        _GRAMMAR = rules, {t.name: t.pattern for t in parser.terminals}, depth
    return _GRAMMAR


SAMPLES = {
    "NAME": ["a", "b", "savings", "loan", "city", "fund", "x1", "besparing_år", "SEK", "days", "year", "en",
             "payer", "investor", "number", "money", "share", "count"],
    "NUMBER": ["0", "1", "2", "12 000 000", "7.5", "60", "100", "0.0000001", "9" * 30],
    "STRING": ['"T"', '"Taket"', '"""två\nrader"""', '"åäö <b>"', '"\\"quoted\\""', '"#not a comment"'],
    "DATE": ["2020-01-01", "2019-06-30", "2024-12-31", "1900-01-01", "2999-12-31"],
    "HEADING": ["§ 1", "§ 4.2a"],
    "COMPARE": ["<=", ">=", "==", "≠", "<"],
    "COMMENT": ["# note"],
}


def generate(rng: random.Random, budget: int = 14) -> str:
    """A contract derived from the grammar's rules, with realistic samples for the terminals."""
    from lark.grammar import NonTerminal, Terminal
    from lark.lexer import PatternStr

    rules, patterns, depth = _grammar()
    out: list[str] = []
    stack: list[tuple[object, int]] = [(NonTerminal("start"), budget)]
    while stack:
        sym, left = stack.pop()
        if isinstance(sym, Terminal):
            pattern = patterns[sym.name]
            out.append(pattern.value if isinstance(pattern, PatternStr) else rng.choice(SAMPLES[sym.name]))
            continue
        expansions = rules[sym.name]
        if left <= depth[sym.name]:
            expansions = [min(expansions, key=lambda e: max([depth[s.name] for s in e if isinstance(s, NonTerminal)],
                                                            default=0))]
        stack.extend((s, left - 1) for s in reversed(rng.choice(expansions)))
    breaks = rng.choice(["\n", "\r\n", "\r"])
    return "".join(token + rng.choice([" ", " ", breaks, breaks + "  "]) for token in out)


def _value(rng: random.Random, measure, currency: str):
    from sibdsl.units import BOOL, COUNT, DATE, MONEY, SHARE

    kind = measure.ty.kind
    if kind == BOOL:
        return rng.choice([True, False, "ja", "nej"])
    if kind == DATE:
        return f"20{rng.randint(10, 30)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    if kind == COUNT:
        return rng.randint(0, 1000)
    number = f"{rng.randint(0, 10**rng.randint(1, 9))}.{rng.randint(0, 99):02d}"
    if kind == MONEY:
        return f"{number} {currency}"
    if kind == SHARE:
        return f"{rng.randint(0, 100)} %"
    return number


# CR-only CSV lines and cells over 131 072 characters (issue 22 items 5 and 4, fixed in the CSV
# reader); `--no-csv-edges` leaves them out, to compare with a sibc from before that fix
CSV_EDGES = True


def outcome_file(rng: random.Random, contract) -> tuple[str, bytes]:
    """(name, bytes) of a JSON or CSV outcome file for `contract`, mutated half of the time."""
    rows: list[tuple[str, str, object]] = []
    for name, measure in contract.measures.items():
        if rng.random() < 0.05:
            continue  # missing
        if measure.ty.series:
            for p in contract.series[measure.ty.series].periods:
                rows.append((name, p.name, _value(rng, measure, contract.currency)))
        else:
            rows.append((name, "", _value(rng, measure, contract.currency)))
    if rng.random() < 0.1:
        rows.append(("no_such_measure", "", "1"))
    if rows and rng.random() < 0.5:
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(len(rows))
            rows[i] = (rows[i][0], rows[i][1], rng.choice(VALUE_JUNK))
    if rng.random() < 0.5:
        data: dict = {}
        for name, period, v in rows:
            if period:
                data.setdefault(name, {})
                if isinstance(data[name], dict):
                    data[name][period] = v
            else:
                data[name] = v
        text = json.dumps(data, ensure_ascii=rng.random() < 0.5)
        if rng.random() < 0.2:
            text = mutate(rng, text)
        return "outcomes.json", text.encode("utf-8", "surrogatepass")
    sep = rng.choice([",", ";"])
    end = rng.choice(["\n", "\r\n", "\r"] if CSV_EDGES else ["\n", "\r\n"])
    lines = [sep.join(["measure", "period", "value"])]
    for name, period, v in rows:
        cell = "" if v is None else str(v)
        if not CSV_EDGES:
            cell = cell[:1000].replace("\r", "")
        if sep in cell or '"' in cell or rng.random() < 0.1:
            cell = '"' + cell.replace('"', '""') + ('"' if rng.random() < 0.9 or not CSV_EDGES else "")
        lines.append(sep.join([name, period, cell]))
    text = end.join(lines) + end
    if rng.random() < 0.2 and CSV_EDGES:
        text = mutate(rng, text)
    bom = b"\xef\xbb\xbf" if rng.random() < 0.1 else b""
    return "outcomes.csv", bom + text.encode("utf-8", "surrogatepass")


# ---------------------------------------------------------------- running the commands
class Tally:
    def __init__(self):
        self.inputs = self.runs = self.contracts = self.refused = 0
        self.internal = self.hangs = self.lost = 0
        self.known: dict[str, int] = {}
        self.by_command: dict[str, int] = {}
        self.failures: list[str] = []
        self.cases: list[dict[str, bytes]] = []  # the whole input of each failure, to replay it

    def fail(self, kind: str, command: list[str], files: dict[str, bytes], detail: str) -> None:
        setattr(self, kind, getattr(self, kind) + 1)
        self.cases.append(dict(files))
        shown = {name: data[:1500] for name, data in files.items()}
        self.failures.append(f"{kind.upper()} {command}: {detail}\n  files (first 1 500 bytes): {shown!r}")


def _invoke(args: list[str], timeout: float):
    from click.testing import CliRunner

    from sibdsl.cli import main

    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        return CliRunner().invoke(main, args, catch_exceptions=True)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def run_commands(files: dict[str, bytes], seed_text: str | None, tally: Tally, rng: random.Random, *,
                 timeout: float, heavy: bool) -> None:
    """Every command on the files (contract.sib and maybe an outcome file) in a fresh directory."""
    from sibdsl import Source, parse
    from sibdsl.diagnostics import SibError

    commands = [["check", "--no-verify", "contract.sib"], ["fmt", "--check", "contract.sib"],
                ["fmt", "copy.sib"], ["render", "contract.sib", "-o", "out.md"],
                ["render", "contract.sib", "-o", "out.html", "--lang", "en"], ["fingerprint", "contract.sib"],
                ["test", "contract.sib"]]
    if seed_text is not None:
        commands.append(["diff", "seed.sib", "contract.sib"])
    for name in files:
        if name.startswith("outcomes."):
            commands.append(["eval", "contract.sib", "--outcomes", name])
    if heavy:
        commands += [["verify", "--timeout", "0.05", "contract.sib"], ["render", "contract.sib", "-o", "out.pdf"],
                     ["simulate", "contract.sib", "-n", "50"]]
    with tempfile.TemporaryDirectory(prefix="sibc-fuzz-") as work:
        old = os.getcwd()
        os.chdir(work)
        try:
            every = dict(files, **({"seed.sib": seed_text.encode("utf-8")} if seed_text is not None else {}))
            every["copy.sib"] = every["contract.sib"]
            for name, data in every.items():
                with open(name, "wb") as handle:
                    handle.write(data)
            for args in commands:
                tally.runs += 1
                tally.by_command[args[0]] = tally.by_command.get(args[0], 0) + 1
                try:  # verify proves every property one after the other: its budget is the solver's
                    result = _invoke(args, timeout * 12 if args[0] == "verify" else timeout)
                except Hang:
                    tally.fail("hangs", args, files, f"over {timeout} s")
                    continue
                if isinstance(result.exception, Hang):
                    tally.fail("hangs", args, files, f"over {timeout} s")
                    continue
                output = result.output if result.stdout_bytes is not None else ""
                escaped = result.exception is not None and not isinstance(result.exception, SystemExit)
                if escaped or result.exit_code == 3 or "E900" in output or "Traceback" in output:
                    detail = "".join(traceback.format_exception(result.exception)) if escaped else output[-1500:]
                    known = [k for k, (command, text) in KNOWN.items() if args[0] == command and text in detail]
                    if known:
                        tally.known[known[0]] = tally.known.get(known[0], 0) + 1
                    else:
                        tally.fail("internal", args, files, detail)
                for name, data in every.items():
                    now = Path(name).read_bytes()
                    if now == data:
                        continue
                    if name == "copy.sib" and args[:1] == ["fmt"]:
                        try:  # fmt may change the file only into the same syntax tree
                            same = parse(Source("a", now.decode("utf-8-sig"))) == \
                                parse(Source("b", data.decode("utf-8-sig")))
                        except (SibError, UnicodeDecodeError):
                            same = False
                        if same:
                            every[name] = now
                            continue
                    tally.fail("lost", args, files, f"{name} changed")
                    every[name] = now
                stray = [n for n in os.listdir(".") if n.endswith((".tmp", ".sibc-backup"))]
                if stray:
                    tally.fail("lost", args, files, f"left behind: {stray}")
                    for n in stray:
                        os.unlink(n)
        finally:
            os.chdir(old)


def campaign(n: int, seed: int, *, timeout: float = 5.0, heavy_every: int = 50, quiet: bool = False) -> Tally:
    from sibdsl import Source, check_source

    def alarm(signum, frame):
        raise Hang()

    previous = signal.signal(signal.SIGALRM, alarm)
    rng = random.Random(seed)
    paths = sorted((ROOT / "contracts").rglob("*.sib")) + sorted((ROOT / "tests" / "corpus" / "valid").glob("*.sib"))
    seeds = [p.read_text(encoding="utf-8") for p in paths]
    valid = []
    for text in seeds:
        contract, _ = check_source(Source("seed.sib", text))
        if contract is not None:
            valid.append((text, contract))
    tally = Tally()
    try:
        for i in range(n):
            kind = rng.choice(["mutated", "mutated", "generated", "outcomes"])
            seed_text = None
            if kind == "mutated":
                seed_text = rng.choice(seeds)
                files = {"contract.sib": mutate(rng, seed_text).encode("utf-8", "surrogatepass")}
            elif kind == "generated":
                files = {"contract.sib": generate(rng).encode("utf-8")}
            else:
                seed_text, contract = rng.choice(valid)
                name, data = outcome_file(rng, contract)
                files = {"contract.sib": seed_text.encode("utf-8"), name: data}
                seed_text = None
            tally.inputs += 1
            try:
                text = files["contract.sib"].decode("utf-8")
                ok = check_source(Source("c.sib", text))[0] is not None
            except Exception:  # noqa: BLE001 — a crash here is counted by the CLI run below
                ok = False
            tally.contracts += ok
            tally.refused += not ok
            before = len(tally.failures)
            run_commands(files, seed_text, tally, rng, timeout=timeout, heavy=heavy_every > 0 and i % heavy_every == 0)
            if not quiet:
                for failure in tally.failures[before:]:
                    print(f"#{i} {failure}", flush=True)
    finally:
        signal.signal(signal.SIGALRM, previous)
    return tally


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=5)
    parser.add_argument("--heavy", type=int, default=50, help="verify, PDF and simulate for one input in this many")
    parser.add_argument("--no-csv-edges", action="store_true", help="leave out CR-only CSV and huge cells")
    args = parser.parse_args()
    global CSV_EDGES
    CSV_EDGES = not args.no_csv_edges
    import warnings

    warnings.filterwarnings("ignore")
    started = time.perf_counter()
    tally = campaign(args.n, args.seed, timeout=args.timeout, heavy_every=args.heavy)
    elapsed = time.perf_counter() - started
    commands = ", ".join(f"{k} {v}" for k, v in sorted(tally.by_command.items()))
    print(f"{tally.inputs} inputs ({tally.contracts} valid contracts, {tally.refused} refused with diagnostics), "
          f"{tally.runs} command runs ({commands}) in {elapsed:.0f} s: {tally.internal} internal errors, "
          f"{tally.hangs} hangs over {args.timeout:g} s, {tally.lost} files lost or half-written"
          + "".join(f"; known, reported elsewhere: {k} ×{v}" for k, v in tally.known.items()))
    return 1 if tally.internal or tally.hangs or tally.lost else 0


if __name__ == "__main__":
    sys.exit(main())
