"""Monte Carlo over a contract: a scenario spec → N exact settlements → a risk report.

The spec (JSON or TOML; docs/simulate.md) declares one distribution per measure and,
optionally, correlations between measures. Sampling is a Gaussian copula: correlated
standard normals (Cholesky of the correlation matrix) → uniforms → each measure's inverse
CDF, restricted to the measure's bounds (truncation: the uniform is mapped into
[F(lower), F(upper)], so the draw follows the distribution conditioned on the bounds).
Drawn values are quantised to the outcome grid — money to öre, shares and numbers to 10⁻⁶,
counts and days to whole numbers — and from there on everything is exact: each chunk of
scenarios is settled by `vector.compile_vector`, which equals the scalar evaluator exactly.

Reproducibility: chunk i draws from `SeedSequence(seed, spawn_key=(i,))` and the chunk size
is fixed (`CHUNK`), so a seed gives bit-identical results, and chunks are independent — the
unit a distributed engine (Dask) can schedule (docs/performance.md).
"""

from __future__ import annotations

import csv
import datetime
import json
import math
import re
import tomllib
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np

from . import model as m
from .diagnostics import Diagnostic, SibError, did_you_mean
from .limits import MAX_SIMULATED_UNITS
from .returns import irr_many
from .source import Source, Span
from .units import BOOL, COUNT, DATE, DAYS, MONEY, SHARE
from .values import to_decimal, year_fraction
from .vector import R, VectorSettlement, add, compile_vector
from .vector.settle import ASSUMPTION_EVENT

CHUNK = 100_000
PERCENTILES = (1, 5, 10, 25, 50, 75, 90, 95, 99)
DISTRIBUTIONS = {
    "normal": ("mean", "sd"),
    "uniform": ("low", "high"),
    "beta": ("alpha", "beta"),
    "poisson": ("lambda",),
    "bernoulli": ("p",),
    "empirical": ("csv", "column"),
    "constant": ("value",),
}
_OPTIONAL = ("lower", "upper")
_SCALE = {MONEY: 100, SHARE: 10**6, COUNT: 1, DAYS: 1}  # the outcome grid per kind; others 10⁻⁶


# ---------------------------------------------------------------- the spec
class Marginal:
    """One measure's distribution, validated; `ppf(u)` maps uniforms in (0, 1) to values."""

    def __init__(self, measure: m.Measure, kind: str, params: dict, lower, upper, sample=None):
        self.measure, self.kind, self.params = measure, kind, params
        self.lower, self.upper = lower, upper
        self.sample = sample  # sorted values of an empirical distribution

    @property
    def random(self) -> bool:
        return self.kind != "constant"

    def _dist(self):
        from scipy import stats

        p = self.params
        if self.kind == "normal":
            return stats.norm(p["mean"], p["sd"])
        if self.kind == "uniform":
            return stats.uniform(p["low"], p["high"] - p["low"])
        if self.kind == "beta":
            return stats.beta(p["alpha"], p["beta"])
        if self.kind == "poisson":
            return stats.poisson(p["lambda"])
        return None

    # The normal and the uniform distribution without scipy.stats, whose import alone took about a
    # third of `sibc simulate -n 1000000` (issue 21): the same arithmetic as scipy.stats.norm and
    # .uniform (x * scale + loc over the standard distribution's ppf, the cdf of (x − loc) / scale),
    # so the draws are the same floats bit for bit (tests/test_simulate.py compares them).
    def _ppf(self, q):
        p = self.params
        if self.kind == "normal":
            from scipy.special import ndtri

            return ndtri(q) * float(p["sd"]) + float(p["mean"])
        return np.asarray(q, dtype=float) * float(p["high"] - p["low"]) + float(p["low"])

    def _cdf(self, x: float) -> float:
        p = self.params
        if self.kind == "normal":
            from scipy.special import ndtr

            return ndtr((x - float(p["mean"])) / float(p["sd"]))
        z = (x - float(p["low"])) / float(p["high"] - p["low"])
        return 0.0 if not z > 0 else 1.0 if z >= 1 else z

    def cdf_range(self) -> tuple[float, float]:
        """F(lower), F(upper): the part of the distribution that the bounds keep."""
        if self.kind in ("bernoulli", "empirical"):
            return 0.0, 1.0
        lo = -math.inf if self.lower is None else float(self.lower)
        hi = math.inf if self.upper is None else float(self.upper)
        if self.kind in ("normal", "uniform"):
            return float(self._cdf(lo)), float(self._cdf(hi))
        dist = self._dist()
        if self.kind == "poisson":
            return (float(dist.cdf(math.ceil(lo) - 1)) if lo > -math.inf else 0.0,
                    float(dist.cdf(math.floor(hi))) if hi < math.inf else 1.0)
        return float(dist.cdf(lo)), float(dist.cdf(hi))

    def ppf(self, u: np.ndarray) -> np.ndarray:
        if self.kind == "bernoulli":  # true at the top of the range: a positive rho means "together"
            return u >= 1 - self.params["p"]
        if self.kind == "empirical":
            s = self.sample
            return s[np.minimum((u * len(s)).astype(np.int64), len(s) - 1)]
        lo, hi = self.cdf_range()
        q = lo + u * (hi - lo)
        x = self._ppf(q) if self.kind in ("normal", "uniform") else self._dist().ppf(q)
        if self.lower is not None:  # ppf at the very edge may step a rounding error outside
            x = np.maximum(x, float(self.lower))
        if self.upper is not None:
            x = np.minimum(x, float(self.upper))
        return x


class Spec:
    def __init__(self, source: Source, marginals: dict[str, Marginal], correlations: dict, seed: int | None):
        self.source, self.marginals, self.correlations, self.seed = source, marginals, correlations, seed


class SpecReader:
    """Reads a JSON or TOML spec and collects E801–E807 with the place in the file."""

    def __init__(self, contract: m.Contract, source: Source):
        self.contract, self.source = contract, source
        self.diagnostics: list[Diagnostic] = []
        self.toml = source.name.lower().endswith(".toml")

    def error(self, code: str, message: str, span: Span | None, hint: str = "") -> None:
        self.diagnostics.append(Diagnostic(code, message, self.source, span, hint=hint))

    def locate(self, *keys: str) -> Span:
        """The span of the last key in the path of keys (searched in order through the text)."""
        text, at = self.source.text, 0
        found = None
        for key in keys:
            patterns = ([rf"\[\s*measures\.{re.escape(key)}\s*\]", rf"(?m)^\s*\"?{re.escape(key)}\"?\s*="]
                        if self.toml else [re.escape(json.dumps(key, ensure_ascii=False))])
            best = None
            for pattern in patterns:
                match = re.compile(pattern).search(text, at)
                if match and (best is None or match.start() < best.start()):
                    best = match
            if best is None:
                break
            start = best.start() + (len(best.group(0)) - len(best.group(0).lstrip()))
            found = (start, start + len(key) + (0 if self.toml else 2))
            at = best.end()
        if found is None:
            return self.source.span(0, min(1, len(text)))
        return self.source.span(*found)

    def read(self) -> dict | None:
        text = self.source.text
        try:
            if self.toml:
                return tomllib.loads(text)
            data = json.loads(text)
        except json.JSONDecodeError as err:
            self.error("E801", f"the scenario file is not valid JSON: {err.msg}",
                       self.source.span(err.pos, min(err.pos + 1, len(text))),
                       "check for a missing comma, quote or brace near here")
            return None
        except tomllib.TOMLDecodeError as err:
            match = re.search(r"\(at line (\d+), column (\d+)\)", str(err))
            offset = 0
            if match:
                line, col = int(match.group(1)), int(match.group(2))
                offset = sum(len(ln) + 1 for ln in text.split("\n")[: line - 1]) + col - 1
            message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(err))
            self.error("E801", f"the scenario file is not valid TOML: {message}",
                       self.source.span(offset, min(offset + 1, len(text))), "check the TOML syntax near here")
            return None
        if not isinstance(data, dict):
            self.error("E801", "the scenario file must be an object with a `measures` table",
                       self.source.span(0, min(1, len(text))), 'start from {"measures": {…}}')
            return None
        return data

    def number(self, value, where: tuple[str, ...], name: str):
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            self.error("E804", f"`{name}` must be a number, not {json.dumps(value)}", self.locate(*where))
            return None
        try:
            number = float(Decimal(str(value).replace(" ", "").replace("\u00a0", "")))
        except (ArithmeticError, OverflowError):
            number = math.nan
        if not math.isfinite(number):  # "NaN", "Infinity", 1e999: no distribution has them
            self.error("E804", f"`{name}` must be a finite number, not {json.dumps(value)}", self.locate(*where))
            return None
        return number

    def spec(self) -> Spec | None:
        data = self.read()
        if data is None:
            return None
        unknown = set(data) - {"seed", "measures", "correlations"}
        for key in sorted(unknown):
            self.error("E801", f"unknown key `{key}` in the scenario file", self.locate(key),
                       "the file has `seed`, `measures` and `correlations`")
        seed = data.get("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
            self.error("E801", "`seed` must be a whole number ≥ 0", self.locate("seed"))
            seed = None
        measures = data.get("measures")
        if not isinstance(measures, dict):
            self.error("E801", "the scenario file needs a `measures` table: one distribution per measure",
                       self.locate("measures") if "measures" in data else self.source.span(0, 1),
                       'e.g. "measures": {"costs": {"distribution": "normal", "mean": 50000000, "sd": 5000000}}')
            return None
        marginals: dict[str, Marginal] = {}
        meant: set[str] = set()  # measures a misspelt name stands for: not reported missing as well
        for name, entry in measures.items():
            # issue 17: a draft's parameter is given as a constant (or drawn, to compare the values open)
            measure = self.contract.measures.get(name) or self.contract.parameters.get(name)
            if measure is None:
                hint = did_you_mean(name, [n for n in self.contract.measures if n not in measures])
                if hint:
                    meant.add(hint.split("`")[1])
                self.error("E802", f"`{name}` is not a measure of the contract", self.locate("measures", name),
                           hint or "the measures are: " + ", ".join(self.contract.measures))
                continue
            marginal = self.marginal(measure, entry)
            if marginal is not None:
                marginals[name] = marginal
        missing = [n for n in self.contract.measures if n not in measures and n not in meant]
        for name in missing:
            self.error("E805", f"measure `{name}` has no distribution in the scenario file",
                       self.locate("measures"),
                       f'add e.g. "{name}": {{"distribution": …}} or a constant: "{name}": {{"value": …}}')
        for name in self.contract.parameters:
            if name not in measures:
                self.error("E476", f"no value for the parameter `{name}`: the contract is a draft whose terms are "
                           "not fixed yet", self.locate("measures"),
                           f'simulate it for a value the parties may agree on: "{name}": {{"value": …}} '
                           "(or a distribution over the values still open)")
        correlations = self.correlations(data.get("correlations", []), marginals)
        if self.diagnostics:
            return None
        return Spec(self.source, marginals, correlations, seed)

    def marginal(self, measure: m.Measure, entry) -> Marginal | None:
        name, kind = measure.name, measure.ty.kind
        where = ("measures", name)
        if not isinstance(entry, dict):
            self.error("E801", f"`{name}` needs a table with a `distribution` and its parameters",
                       self.locate(*where))
            return None
        dist = entry.get("distribution", "constant" if "value" in entry else None)
        if dist not in DISTRIBUTIONS:
            self.error("E803", f"unknown distribution {json.dumps(dist)} for `{name}`",
                       self.locate(*where, "distribution") if "distribution" in entry else self.locate(*where),
                       (did_you_mean(str(dist), DISTRIBUTIONS) + " " if isinstance(dist, str) else "")
                       + "the distributions are: " + ", ".join(DISTRIBUTIONS))
            return None
        fits = {
            "normal": kind in (MONEY, COUNT, DAYS, SHARE) or kind == "number",
            "uniform": kind != BOOL and kind != DATE, "beta": kind == SHARE, "poisson": kind in (COUNT, DAYS),
            "bernoulli": kind == BOOL, "empirical": kind not in (BOOL, DATE), "constant": True,
        }
        if not fits[dist]:
            suggestion = {BOOL: "bernoulli", SHARE: "beta", COUNT: "poisson", DAYS: "poisson",
                          MONEY: "normal", DATE: "constant"}.get(kind, "normal")
            self.error("E803", f"a {dist} distribution does not fit `{name}` ({measure.ty.describe()})",
                       self.locate(*where, "distribution"), f"use `{suggestion}` for {measure.ty.describe()}")
            return None
        wanted = DISTRIBUTIONS[dist]
        for key in entry:
            if key not in (*wanted, *_OPTIONAL, "distribution"):
                self.error("E804", f"`{key}` is not a parameter of the {dist} distribution",
                           self.locate(*where, key), f"{dist} takes {', '.join(wanted)} (and optional lower, upper)")
        params: dict = {}
        for key in wanted:
            if key not in entry:
                self.error("E804", f"the {dist} distribution of `{name}` needs `{key}`", self.locate(*where),
                           f"{dist} takes {', '.join(wanted)}")
                return None
        if self.diagnostics and any(d.code == "E804" for d in self.diagnostics):
            return None
        if dist == "constant":
            return self.constant(measure, entry["value"], where)
        if dist == "empirical":
            return self.empirical(measure, entry, where)
        for key in wanted:
            value = self.number(entry[key], (*where, key), key)
            if value is None:
                return None
            if key in _LOCATION_PARAMETERS and _beyond(kind, value):
                self.error("E804", f"`{key}` of `{name}` is {value:g}: beyond the largest value a simulation "
                           f"settles exactly ({_largest(kind)})", self.locate(*where, key),
                           "a value this large is a typing error; give the amount in the measure's unit")
                return None
            params[key] = value
        bad = {
            "normal": params.get("sd", 1) <= 0 and ("sd", "the standard deviation must be > 0"),
            "uniform": params.get("low", 0) >= params.get("high", 1) and ("high", "`high` must be above `low`"),
            "beta": (params.get("alpha", 1) <= 0 and ("alpha", "`alpha` must be > 0"))
            or (params.get("beta", 1) <= 0 and ("beta", "`beta` must be > 0")),
            "poisson": params.get("lambda", 1) <= 0 and ("lambda", "`lambda` (the mean count) must be > 0"),
            "bernoulli": not 0 <= params.get("p", 0) <= 1 and ("p", "`p`, a probability, must be in 0..1"),
        }.get(dist)
        if bad:
            key, message = bad
            self.error("E804", f"bad {dist} parameters for `{name}`: {message}", self.locate(*where, key),
                       f"{dist} takes {', '.join(wanted)}; docs/simulate.md lists what each may be")
            return None
        if kind == SHARE and dist == "uniform" and (params["low"] < 0 or params["high"] > 1):
            key = "low" if params["low"] < 0 else "high"
            self.error("E804", f"`{name}` is a share: its distribution must lie in 0..1",
                       self.locate(*where, key), "write shares as fractions: 0.25 for 25 %")
            return None
        lower, upper = self.bounds(measure, entry, where)
        if lower is False:
            return None
        marginal = Marginal(measure, dist, params, lower, upper)
        if dist != "bernoulli":
            lo, hi = marginal.cdf_range()
            if not hi - lo > 1e-12:
                self.error("E804", f"the {dist} distribution of `{name}` has no probability within its bounds "
                           f"({_show(lower)} to {_show(upper)})", self.locate(*where, "distribution"),
                           "move the distribution into the measure's range, or widen `lower`/`upper`")
                return None
        return marginal

    def bounds(self, measure: m.Measure, entry: dict, where):
        kind = measure.ty.kind
        lower = measure.lower if measure.lower is not None else (Fraction(0) if kind in (SHARE, COUNT, DAYS) else None)
        upper = measure.upper if measure.upper is not None else (Fraction(1) if kind == SHARE else None)
        for key in _OPTIONAL:
            if key in entry:
                value = self.number(entry[key], (*where, key), key)
                if value is None:
                    return False, False
                value = Fraction(Decimal(str(value)))
                if key == "lower":
                    if lower is not None and value < lower:
                        self.error("E804", f"`lower` {_show(value)} is below the measure's own lower bound "
                                   f"{_show(lower)}", self.locate(*where, key))
                        return False, False
                    lower = value
                else:
                    if upper is not None and value > upper:
                        self.error("E804", f"`upper` {_show(value)} is above the measure's own upper bound "
                                   f"{_show(upper)}", self.locate(*where, key))
                        return False, False
                    upper = value
        if lower is not None and upper is not None and lower > upper:
            self.error("E804", f"the bounds of `{measure.name}` are empty ({_show(lower)} to {_show(upper)})",
                       self.locate(*where))
            return False, False
        return lower, upper

    def constant(self, measure: m.Measure, value, where) -> Marginal | None:
        kind = measure.ty.kind
        if kind == BOOL:
            if not isinstance(value, bool):
                self.error("E804", f"`{measure.name}` is yes/no: its constant must be true or false",
                           self.locate(*where, "value"))
                return None
            return Marginal(measure, "constant", {"value": value}, None, None)
        if kind == DATE:
            try:
                day = value if isinstance(value, datetime.date) else datetime.date.fromisoformat(str(value))
            except ValueError:
                self.error("E804", f"`{measure.name}` is a date: write it as \"2019-06-30\"",
                           self.locate(*where, "value"))
                return None
            return Marginal(measure, "constant", {"value": day}, None, None)
        number = self.number(value, (*where, "value"), "value")
        if number is None:
            return None
        exact = Fraction(Decimal(str(value).replace(" ", "").replace("\u00a0", "")))
        lower, upper = self.bounds(measure, {}, where)
        if (lower is not None and exact < lower) or (upper is not None and exact > upper):
            self.error("E804", f"the constant {_show(exact)} for `{measure.name}` is outside its bounds "
                       f"({_show(lower)} to {_show(upper)})", self.locate(*where, "value"))
            return None
        return Marginal(measure, "constant", {"value": exact}, None, None)

    def empirical(self, measure: m.Measure, entry: dict, where) -> Marginal | None:
        path = Path(self.source.name).parent / str(entry["csv"])
        column = str(entry["column"])
        try:
            with path.open(encoding="utf-8-sig", newline="") as f:
                rows = list(csv.DictReader(f))
        except (OSError, UnicodeDecodeError) as err:
            self.error("E807", f"cannot read the empirical data {entry['csv']}: "
                       f"{getattr(err, 'strerror', None) or type(err).__name__}", self.locate(*where, "csv"),
                       "give the CSV path relative to the scenario file")
            return None
        if not rows or column not in rows[0]:
            names = list(rows[0]) if rows else []
            self.error("E807", f"the empirical data {entry['csv']} has no column `{column}`",
                       self.locate(*where, "column"),
                       did_you_mean(column, names) or ("its columns are: " + ", ".join(names) if names else
                                                       "the file has no header line"))
            return None
        values = []
        for i, row in enumerate(rows, start=2):
            text = (row.get(column) or "").replace(" ", "").replace("\u00a0", "")
            try:
                values.append(float(Decimal(text)))
                if not math.isfinite(values[-1]) or _beyond(measure.ty.kind, values[-1]):
                    raise ArithmeticError(text)
            except ArithmeticError:
                self.error("E807", f"line {i} of {entry['csv']}: `{row.get(column)}` in column `{column}` "
                           "is not a number", self.locate(*where, "csv"), "clean the column or drop the line")
                return None
        lower, upper = self.bounds(measure, entry, where)
        if lower is False:
            return None
        sample = np.array(values, dtype=float)
        if lower is not None:
            sample = sample[sample >= float(lower)]
        if upper is not None:
            sample = sample[sample <= float(upper)]
        if sample.size == 0:
            self.error("E807", f"no value in column `{column}` of {entry['csv']} lies within the bounds of "
                       f"`{measure.name}`", self.locate(*where, "column"))
            return None
        return Marginal(measure, "empirical", {"csv": str(entry["csv"]), "column": column}, lower, upper,
                        np.sort(sample))

    def correlations(self, entries, marginals: dict[str, Marginal]) -> dict:
        out: dict[tuple[str, str], float] = {}
        if not isinstance(entries, list):
            self.error("E806", "`correlations` must be a list of {measures = [a, b], rho = …}",
                       self.locate("correlations"))
            return out
        for i, entry in enumerate(entries):
            names = entry.get("measures") if isinstance(entry, dict) else None
            if not (isinstance(names, list) and len(names) == 2 and all(isinstance(n, str) for n in names)):
                self.error("E806", f"correlation {i + 1} needs `measures`: a list of two measure names",
                           self.locate("correlations"))
                continue
            for n in names:
                if n not in self.contract.measures:
                    self.error("E806", f"correlation {i + 1} names `{n}`, which is not a measure of the contract",
                               self.locate("correlations", n), did_you_mean(n, self.contract.measures))
                elif n in marginals and not marginals[n].random:
                    self.error("E806", f"correlation {i + 1} names `{n}`, which is constant",
                               self.locate("correlations", n), "give it a distribution or drop the correlation")
            rho = entry.get("rho")
            if isinstance(rho, bool) or not isinstance(rho, (int, float)) or not -1 < rho < 1 or names[0] == names[1]:
                self.error("E806", f"correlation {i + 1}: `rho` must be a number strictly between -1 and 1 "
                           "between two different measures", self.locate("correlations", "rho"),
                           "e.g. -0.5: when one is high the other tends to be low")
                continue
            out[(names[0], names[1])] = float(rho)
        return out


def _show(value) -> str:
    return "–" if value is None else str(to_decimal(Fraction(value), 6).normalize())


def load_spec(contract: m.Contract, path: str | Path) -> Spec:
    """Read and validate a scenario file; raise SibError (E801–E807) with every problem found."""
    from .outcomes import read_error

    try:
        source = Source.from_path(path)
    except (OSError, UnicodeDecodeError) as err:
        raise SibError([read_error(str(path), err)]) from None
    reader = SpecReader(contract, source)
    spec = reader.spec()
    if spec is None or reader.diagnostics:
        raise SibError(reader.diagnostics)
    return spec


# ---------------------------------------------------------------- sampling
class Sampler:
    """Draws chunks of outcomes for the vectorised evaluator (a Gaussian copula over the columns)."""

    def __init__(self, contract: m.Contract, spec: Spec, seed: int):
        self.contract, self.spec, self.seed = contract, spec, seed
        self.columns: list[tuple[str, str | None]] = []  # (measure, period) of each random column
        for name, marginal in spec.marginals.items():
            if not marginal.random:
                continue
            series = marginal.measure.ty.series
            periods = [p.name for p in contract.series[series].periods] if series else [None]
            self.columns += [(name, p) for p in periods]
        k = len(self.columns)
        corr = np.eye(k)
        for (a, b), rho in spec.correlations.items():
            for i, (ma, pa) in enumerate(self.columns):
                for j, (mb, pb) in enumerate(self.columns):
                    if ma == a and mb == b and (pa == pb or pa is None or pb is None):
                        corr[i, j] = corr[j, i] = rho
        try:
            self.chol = np.linalg.cholesky(corr) if k else None
        except np.linalg.LinAlgError:
            problem = Diagnostic("E806", "the correlations cannot all hold at once (the correlation "
                                 "matrix is not positive definite)", spec.source,
                                 SpecReader(contract, spec.source).locate("correlations"),
                                 hint="weaken some of them: e.g. a~b 0.9 and b~c 0.9 need a~c well above 0")
            raise SibError([problem]) from None

    def draw(self, chunk_index: int, size: int) -> tuple[dict, dict]:
        """Outcomes for one chunk ({measure: array or {period: array}}), and the float draws."""
        from scipy.special import ndtr

        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(self.seed, spawn_key=(chunk_index,))))
        k = len(self.columns)
        u = ndtr(rng.standard_normal((size, k)) @ self.chol.T) if k else np.zeros((size, 0))
        u = np.clip(u, 1e-16, 1 - 1e-16)
        inputs: dict = {}
        floats: dict = {}
        for j, (name, period) in enumerate(self.columns):
            marginal = self.spec.marginals[name]
            x = marginal.ppf(u[:, j])
            value = x if marginal.measure.ty.kind == BOOL else _quantise(x, marginal.measure.ty.kind)
            if period is None:
                inputs[name] = value
                floats[name] = x
            else:
                inputs.setdefault(name, {})[period] = value
        for name, marginal in self.spec.marginals.items():
            if not marginal.random:
                inputs[name] = _constant(marginal, self.contract, size)
        return inputs, floats


def _quantise(x: np.ndarray, kind: str) -> R:
    scale = _SCALE.get(kind, 10**6)
    scaled = np.rint(np.asarray(x, dtype=float) * scale)
    # never a silent int64 wrap-around (a mean of 1e29 gave the same wrong payout in every scenario):
    # the parameters are limited (_beyond), so this holds unless a distribution misbehaves
    if not np.all(np.abs(scaled) < 2.0**62):
        raise SibError([Diagnostic("E804", "a drawn value is too large to be settled exactly; "
                                   f"the limit is {_largest(kind)}", None, None)])
    return R(scaled.astype(np.int64), scale)


# Distribution parameters that set where the draws lie, and their limit: |value| × the kind's
# grid (_SCALE) at most MAX_SIMULATED_UNITS, so a draw (at most ≈ 8.3 standard deviations from
# the mean: the uniforms are clipped to 1e-16) stays far inside int64 once quantised.
_LOCATION_PARAMETERS = {"mean", "sd", "low", "high", "lambda"}


def _beyond(kind: str, value: float) -> bool:
    return abs(value) * _SCALE.get(kind, 10**6) > MAX_SIMULATED_UNITS


def _largest(kind: str) -> str:
    largest = Fraction(MAX_SIMULATED_UNITS, _SCALE.get(kind, 10**6))
    return f"{int(largest):,}".replace(",", " ")


def _constant(marginal: Marginal, contract: m.Contract, size: int):
    value = marginal.params["value"]
    ty = marginal.measure.ty
    if ty.kind == BOOL:
        column = np.full(size, value, dtype=bool)
    elif ty.kind == DATE:
        column = np.full(size, np.datetime64(value.isoformat(), "D"))
    else:
        column = R(value.numerator, value.denominator, abs(value.numerator))
        column = R(np.full(size, column.num, dtype=np.int64), column.den) if abs(value.numerator) < 2**62 else column
    if ty.series:
        return {p.name: column for p in contract.series[ty.series].periods}
    return column


# ---------------------------------------------------------------- the run and its report
class Part:
    """What one chunk contributes to the report: per scenario that settled, the exact öre of the
    total and of each component, the investors' IRRs and the curve's x values; counts of events,
    failures and negative lines. Plain arrays and ints: what a worker process sends back."""

    def __init__(self, failed: int, negative: int, division, arrays: dict, events: dict, irr: dict, curve):
        self.failed, self.negative, self.division = failed, negative, division
        self.arrays, self.events, self.irr, self.curve = arrays, events, irr, curve


def contribution(contract: m.Contract, s: VectorSettlement, floats: dict, curve_measure: str | None) -> Part:
    """A settled chunk reduced to its `Part`."""
    ok = ~s.failed
    keep = lambda a: np.asarray(a)[ok]  # noqa: E731
    arrays: dict[str, np.ndarray] = {"total": keep(s.minor(s.total))}
    for name, r in _payments(s).items():
        arrays[f"payment {name}"] = keep(s.minor(r))
    for (name, part), r in _distributed(s).items():  # issue 14: how a waterfall distributed a payment
        arrays[f"distributed {name}\t{part}"] = keep(s.minor(r))
    tops: dict[str, R] = {}
    for ln in s.lines:
        if ln.key[0] == "floor":
            tops[ln.payment] = ln.amount
    for name, r in tops.items():
        arrays[f"floor {name}"] = keep(s.minor(r))
    for payer in sorted({ln.payer for ln in s.lines}):
        total = R.const(0)
        for ln in s.lines:
            if ln.payer == payer:
                total = add(total, ln.amount)
        arrays[f"payer {payer}"] = keep(s.minor(total))
    for name, total in _waterfall_steps(s).items():  # issue 14: what each waterfall step paid
        arrays[f"wfstep {name}"] = keep(s.minor(total))
    for (payer, year), total in _payer_years(s).items():  # issue 15: the payer's budget by fiscal year
        arrays[f"budget {payer}\t{year}"] = keep(s.minor(total))
    events = {name: int((mask & ok).sum()) for name, mask in s.events.items()}
    irr = {}
    for investor, (times, invested, dates) in _investor_flows(contract, s).items():
        received = np.zeros((int(ok.sum()), len(times)))
        by_date: dict = {}
        for ln in s.lines:
            if ln.recipient == investor and ln.due is not None:
                by_date[ln.due] = add(by_date.get(ln.due, R.const(0)), ln.amount)
        for j, day in enumerate(dates):
            if day in by_date:
                received[:, j] = keep(s.minor(by_date[day])) / 100
        arrays[f"received {investor}"] = keep(s.minor(s.received(investor)))
        irr[investor] = irr_many(times, invested, received)
    curve = np.asarray(floats[curve_measure])[ok] if curve_measure and curve_measure in floats else None
    return Part(int(s.failed.sum()), int((s.negative & ok).sum()), s.divisions[0] if s.divisions else None,
                arrays, events, irr, curve)


class Accumulator:
    """Keeps, per scenario, the exact öre of the total and of each component, the event flags,
    the investors' received amounts and IRRs. Memory: a few int64/float64 per scenario."""

    def __init__(self, contract: m.Contract, n: int, curve_measure: str | None):
        self.contract, self.n = contract, n
        self.curve_measure = curve_measure
        self.parts: dict[str, list[np.ndarray]] = {}
        self.events: dict[str, int] = {}
        self.failed = self.negative = 0
        self.irr: dict[str, list[np.ndarray]] = {}
        self.curve: list[np.ndarray] = []
        self.division = None  # the first division by zero met (a model expression with a span)

    def add(self, s: VectorSettlement, floats: dict) -> None:
        self.merge(contribution(self.contract, s, floats, self.curve_measure))

    def merge(self, part: Part) -> None:
        """Add a chunk's part; parts merged in chunk order give the same report wherever they ran."""
        self.failed += part.failed
        self.negative += part.negative
        if self.division is None:
            self.division = part.division
        for name, values in part.arrays.items():
            self.parts.setdefault(name, []).append(values)
        for name, count in part.events.items():
            self.events[name] = self.events.get(name, 0) + count
        for investor, rates in part.irr.items():
            self.irr.setdefault(investor, []).append(rates)
        if part.curve is not None:
            self.curve.append(part.curve)

    def report(self, spec: Spec, seed: int, chunk: int) -> dict:
        cur = self.contract.currency
        done = self.n - self.failed

        def money(oere: int | Fraction) -> str:
            return str(to_decimal(Fraction(oere) / 100, 2))

        def summary(values: np.ndarray) -> dict:
            s = np.sort(values)
            count = len(s)
            pct = {f"p{q}": money(int(s[max(math.ceil(q / 100 * count) - 1, 0)])) for q in PERCENTILES} \
                if count else {}
            return {"mean": money(Fraction(int(s.sum(dtype=object)), count)) if count else None,
                    "min": money(int(s[0])) if count else None, "max": money(int(s[-1])) if count else None,
                    **pct}

        joined = {k: np.concatenate(v) if v else np.zeros(0, dtype=np.int64) for k, v in self.parts.items()}
        out: dict = {
            "contract": self.contract.title.text, "currency": cur, "scenarios": self.n, "seed": seed,
            "chunk": chunk, "evaluated": done, "failed": self.failed, "negative": self.negative,
            "total": summary(joined["total"]),
            "components": {k.split(" ", 1)[1]: summary(v) for k, v in joined.items()
                           if k.startswith(("payment ", "floor "))},
            "events": {k: _prob(v, done) for k, v in sorted(self.events.items()) if not k.startswith(ASSUMPTION_EVENT)},
            "payers": {k.split(" ", 1)[1]: {"expected_cost": s["mean"], "p95": s.get("p95")}
                       for k, v in joined.items() if k.startswith("payer ") for s in [summary(v)]},
            "investors": {},
            "budget": _budget(self.contract, joined, money),
        }
        if self.contract.waterfalls:  # issue 14: how often each step pays and is filled; classes' shortfalls
            out["distributed"] = _distribution(joined, summary)
            out["waterfalls"] = _waterfalls(self.contract, joined, summary, done)
            out["classes"] = _class_shortfalls(self.contract, joined, summary, money, done)
        broken = {k[len(ASSUMPTION_EVENT):]: v for k, v in sorted(self.events.items())
                  if k.startswith(ASSUMPTION_EVENT) and v}
        if broken:  # issue 17: drawn scenarios the contract declares impossible (cli/simulate.py: E473)
            out["assumptions_broken"] = broken
        invested = {}
        for inv in self.contract.investments.values():
            invested[inv.investor] = invested.get(inv.investor, Fraction(0)) + inv.amount
        for investor, chunks_ in self.irr.items():
            rates = np.concatenate(chunks_)
            received = joined[f"received {investor}"]
            finite = np.sort(rates[~np.isnan(rates)])
            count = len(finite)
            principal = int(invested[investor] * 100)
            out["investors"][investor] = {
                "invested": money(principal),
                "received": summary(received),
                "multiple": _multiples(received, principal),  # received ÷ drawn, exact (issue 14)
                "class": next((i.klass for i in self.contract.investments.values()
                               if i.investor == investor and i.klass), None),
                "p_loss": _prob(int((received < principal).sum()), done),
                "irr": {"mean": _rate(float(finite.mean())) if count else None,
                        **{f"p{q}": _rate(float(finite[max(math.ceil(q / 100 * count) - 1, 0)]))
                           for q in PERCENTILES if count}},
            }
        return out

    def total_oere(self) -> np.ndarray:
        return np.concatenate(self.parts["total"]) if self.parts.get("total") else np.zeros(0, dtype=np.int64)

    def irr_values(self) -> dict[str, np.ndarray]:
        return {k: np.concatenate(v) for k, v in self.irr.items()}


def _multiples(received: np.ndarray, principal: int) -> dict:
    """The distribution of received ÷ drawn (both in öre, exact rationals), to 4 places."""
    if not principal or not len(received):
        return {}
    ordered = np.sort(received)
    n = len(ordered)
    out = {"mean": str(to_decimal(Fraction(int(ordered.sum()), n * principal), 4))}
    for q in PERCENTILES:
        out[f"p{q}"] = str(to_decimal(Fraction(int(ordered[max(math.ceil(q / 100 * n) - 1, 0)]), principal), 4))
    return out


def _prob(count: int, n: int) -> str:
    return str(to_decimal(Fraction(count, n), 6)) if n else "0"


def _rate(value: float) -> str:
    return f"{value:.6f}"


def _investor_flows(contract: m.Contract, s: VectorSettlement) -> dict:
    """Per investor: the cash-flow times in years (actual/365), the amounts invested at them, the dates."""
    out = {}
    for investor in sorted({i.investor for i in contract.investments.values()}):
        investments = [i for i in contract.investments.values() if i.investor == investor]
        drawdowns = [f for i in investments for f in i.flows]  # each drawdown at its date (issue 14)
        dates = sorted({d for d, _ in drawdowns} | {ln.due for ln in s.lines
                                                    if ln.recipient == investor and ln.due is not None})
        start = dates[0]
        times = [float(year_fraction(start, d)) for d in dates]
        invested = [float(sum((a for dd, a in drawdowns if dd == d), Fraction(0))) for d in dates]
        out[investor] = (times, invested, dates)
    return out


def settle_chunk(contract: m.Contract, spec: Spec, seed: int, index: int, size: int,
                 sampler: Sampler | None = None, vc=None) -> tuple[VectorSettlement, dict]:
    """Draw and settle chunk number `index` (`size` scenarios): the unit of work. `run` calls it
    chunk after chunk; a distributed engine can call it for many chunks at once (each chunk's
    random stream depends only on the seed and the index)."""
    sampler = sampler or Sampler(contract, spec, seed)
    vc = vc or compile_vector(contract)
    inputs, floats = sampler.draw(index, size)
    return vc(inputs, size), floats


_COMPILED: dict[tuple[str, str], object] = {}  # per process: a contract compiled once for all its chunks


def chunk_part(job: tuple) -> Part:
    """`(contract, spec, seed, index, size, curve_measure)` → the chunk's `Part`. A module-level
    function of picklable arguments, so any `concurrent.futures.Executor` can run it: a process
    pool here, Dask's `Client.get_executor()` on a cluster (docs/performance.md)."""
    contract, spec, seed, index, size, curve_measure = job
    key = (contract.source_name, contract.source_sha256)
    vc = _COMPILED.get(key) if key[1] else None
    if vc is None:
        vc = compile_vector(contract)
        if key[1]:
            _COMPILED.clear()  # one contract at a time: a long-lived worker does not collect them all
            _COMPILED[key] = vc
    settled, floats = settle_chunk(contract, spec, seed, index, size, vc=vc)
    return contribution(contract, settled, floats, curve_measure)


def run(contract: m.Contract, spec: Spec, n: int, *, seed: int | None = None, chunk: int = CHUNK,
        progress: Callable[[int], None] | None = None, curve_measure: str | None = None,
        executor=None) -> Accumulator:
    """Simulate n scenarios in fixed chunks; `progress(k)` is told after each chunk of k scenarios.

    With an `executor` (`concurrent.futures.Executor`, or anything with its `map`) the chunks
    run there, and are merged in chunk order as they come back: the result is the same as
    without one, bit for bit."""
    seed = spec.seed if seed is None else seed
    seed = 0 if seed is None else seed
    Sampler(contract, spec, seed)  # refuses impossible correlations here, before any work is sent out
    acc = Accumulator(contract, n, curve_measure)
    jobs = [(contract, spec, seed, index, min(chunk, n - start), curve_measure)
            for index, start in enumerate(range(0, n, chunk))]
    parts = executor.map(chunk_part, jobs) if executor is not None else map(chunk_part, jobs)
    for (*_, size, _), part in zip(jobs, parts):
        acc.merge(part)
        if progress:
            progress(size)
    return acc


def _payments(s: VectorSettlement) -> dict[str, R]:
    """A payment → the exact sum of what its payer pays on it, over its periods: its own line and,
    where a waterfall distributes it, every line a step pays from it (issue 14: the payment's own
    line is then only what the vehicle keeps, 0 where a step takes the rest)."""
    out: dict[str, R] = {}
    for ln in s.lines:
        if ln.key[0] in ("payment", "waterfall"):
            out[ln.payment] = add(out.get(ln.payment, R.const(0)), ln.amount)
    return out


def _distributed(s: VectorSettlement) -> dict[tuple[str, str], R]:
    """For each payment a waterfall distributes: (payment, step `NAME.N`) → what the step paid from it,
    and (payment, "") → what the vehicle kept (its own line), in the program's order."""
    sources = {ln.key[5] for ln in s.lines if ln.key[0] == "waterfall"}
    out: dict[tuple[str, str], R] = {}
    for k, ln in enumerate(s.lines):
        if ln.key[0] == "waterfall":
            part = f"{ln.key[1]}.{ln.key[2]}"
        elif ln.key[0] == "payment" and k in sources:
            part = ""
        else:
            continue
        out[ln.payment, part] = add(out.get((ln.payment, part), R.const(0)), ln.amount)
    return out


def _distribution(joined: dict, summary) -> dict:
    """Per payment a waterfall distributes: per step (`NAME.N`) what it paid from the payment, and
    under "kept" what the vehicle kept of it — they add up to the payment's component."""
    out: dict[str, dict] = {}
    for key, values in joined.items():
        if key.startswith("distributed "):
            payment, part = key[len("distributed "):].split("\t", 1)
            out.setdefault(payment, {})[part or "kept"] = summary(values)
    return {payment: {**{k: v for k, v in parts.items() if k != "kept"}, "kept": parts["kept"]}  # kept last
            for payment, parts in out.items()}


def _waterfall_steps(s: VectorSettlement) -> dict[str, R]:
    """A waterfall step's clause (`NAME.N`) → the exact sum of the lines it paid, over every line the
    vehicle was paid."""
    out: dict[str, R] = {}
    for ln in s.lines:
        if ln.key[0] == "waterfall":  # ("waterfall", NAME, N, recipient, party, the vehicle's line)
            name = f"{ln.key[1]}.{ln.key[2]}"
            out[name] = add(out.get(name, R.const(0)), ln.amount)
    return out


def _waterfalls(contract: m.Contract, joined: dict, summary, done: int) -> dict:
    """Per waterfall, per step: what it paid (a summary), the probability that it pays something and,
    but for the last step and `rest`, that its target is met — that money passed it to a later step
    (`sibc verify` proves a later step pays only when the earlier targets are met, or from what a
    return limit held back and passed on)."""
    from .semantics.program import tier_text

    out = {}
    for wf in contract.waterfalls:
        steps = {}
        names = [f"{wf.clause.name}.{t.number}" for t in wf.tiers]
        paid = [joined.get(f"wfstep {name}", np.zeros(done, dtype=np.int64)) for name in names]
        for k, (t, name) in enumerate(zip(wf.tiers, names)):
            later = sum(paid[k + 1:], np.zeros(len(paid[k]), dtype=np.int64)) if k + 1 < len(names) else None
            steps[name] = {
                "terms": tier_text(t, contract.currency),
                "paid": summary(paid[k]),
                "p_paid": _prob(int((paid[k] > 0).sum()), done),
                "p_filled": None if later is None or t.target == "rest" else _prob(int((later > 0).sum()), done),
            }
        out[wf.clause.name] = steps
    return out


def _class_shortfalls(contract: m.Contract, joined: dict, summary, money, done: int) -> dict:
    """Per class of investments: what it drew, and the distribution of its shortfall — drawn less
    received (through every line, cover included), where positive. A class is reported when each
    of its investors has investments in it only (what an investor receives is not split by class)."""
    classes: dict[str, list] = {}
    for inv in contract.investments.values():
        if inv.klass:
            classes.setdefault(inv.klass, []).append(inv)
    out = {}
    for name, invs in classes.items():
        investors = {i.investor for i in invs}
        if any(i.investor in investors and i.klass != name for i in contract.investments.values()):
            continue
        drawn = sum((a for i in invs for _, a in i.flows), Fraction(0))
        received = sum((joined[f"received {who}"] for who in sorted(investors) if f"received {who}" in joined),
                       np.zeros(done, dtype=np.int64))
        short = np.maximum(int(drawn * 100) - received, 0)
        out[name] = {"drawn": money(int(drawn * 100)), "p_short": _prob(int((short > 0).sum()), done),
                     "shortfall": summary(short)}
    return out


def _payer_years(s: VectorSettlement) -> dict[tuple[str, str], R]:
    """(payer, fiscal year) → the exact sum of the lines due then (budget.fiscal_year), in order."""
    from .budget import _order, fiscal_year

    out: dict[tuple[str, str], R] = {}
    for ln in s.lines:
        key = (ln.payer, fiscal_year(ln.due))
        out[key] = add(out.get(key, R.const(0)), ln.amount)
    return dict(sorted(out.items(), key=lambda kv: (kv[0][0], _order(kv[0][1]))))


def _budget(contract: m.Contract, joined: dict, money) -> dict:
    """Per payer and fiscal year (and over the contract, "total"): the expected amount, the 90th
    percentile and the worst scenario seen (exact, from the scenarios' minor units), and what is
    proved about the most any outcome can make the payer pay (budget.proved_maxima), with its kind:
    `proved` is "maximum" (the largest possible: `proved_max` and `proved_bound` both give it),
    "bound" (a proved upper bound, which no outcome passes but none may reach: `proved_bound` only,
    `proved_max` null) or "unbounded" (both null; `unbounded_by` names the measures without an
    upper limit that leave it so)."""
    from .budget import proved as proved_

    proved = proved_(contract)
    out: dict[str, dict] = {}

    def stats(values: np.ndarray, figure) -> dict:
        s = np.sort(values)
        count = len(s)
        amount = None if figure is None or figure.amount is None else str(to_decimal(Fraction(figure.amount), 2))
        return {"expected": money(Fraction(int(s.sum(dtype=object)), count)) if count else None,
                "p90": money(int(s[max(math.ceil(90 / 100 * count) - 1, 0)])) if count else None,
                "worst": money(int(s[-1])) if count else None,
                "proved": None if figure is None else figure.kind,
                "proved_max": amount if figure is not None and figure.maximum is not None else None,
                "proved_bound": amount,
                "unbounded_by": [] if figure is None else list(figure.unbounded_by)}

    for key, values in joined.items():
        if key.startswith("budget "):
            payer, year = key[len("budget "):].split("\t", 1)
            out.setdefault(payer, {})[year] = stats(values, proved.get(payer, {}).get(year))
    for payer, years in out.items():
        years["total"] = stats(joined[f"payer {payer}"], proved.get(payer, {}).get("total"))
    return out
