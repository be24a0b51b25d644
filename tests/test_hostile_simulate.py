"""sibc simulate with hostile distributions (issue 22, item 14): a huge mean is a diagnostic, never
an int64 wrap-around with exit 0."""

from __future__ import annotations

import json
import warnings

import pytest
from click.testing import CliRunner

from sibdsl.cli import main
from sibdsl.limits import MAX_SIMULATED_UNITS

from .conftest import ROOT

NORRKOPING = ROOT / "contracts" / "norrkoping.sib"
BASE = {
    "seed": 2016,
    "measures": {
        "actual_costs": {"distribution": "normal", "mean": 50000000, "sd": 10000000, "lower": 0},
        "reference_costs": {"distribution": "uniform", "low": 58000000, "high": 64000000},
        "school_improved": {"distribution": "bernoulli", "p": 0.6},
        "completed": {"distribution": "bernoulli", "p": 0.95},
    },
}


def simulate(tmp_path, measure: str, entry: dict):
    data = json.loads(json.dumps(BASE))
    data["measures"][measure] = entry
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(data), encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a numpy RuntimeWarning (overflow) fails the test
        return CliRunner().invoke(main, ["simulate", str(NORRKOPING), "--scenarios", str(spec), "-n", "200"],
                                  catch_exceptions=False)


@pytest.mark.parametrize(("measure", "entry", "key"), [
    ("actual_costs", {"distribution": "normal", "mean": 1e29, "sd": 1}, "mean"),
    ("actual_costs", {"distribution": "normal", "mean": 0, "sd": 1e20}, "sd"),
    ("reference_costs", {"distribution": "uniform", "low": 0, "high": "1e400"}, "high"),
    ("actual_costs", {"distribution": "normal", "mean": "NaN", "sd": 1}, "mean"),
    ("actual_costs", {"distribution": "normal", "mean": "Infinity", "sd": 1}, "mean"),
])
def test_a_huge_or_infinite_parameter_is_e804(tmp_path, measure, entry, key):
    out = simulate(tmp_path, measure, entry)
    assert out.exit_code == 1, out.output
    assert "error[E804]" in out.stderr and f"`{key}`" in out.stderr
    assert "E900" not in out.output and "Traceback" not in out.output


def test_the_largest_allowed_mean_settles_exactly_without_overflow(tmp_path):
    largest = MAX_SIMULATED_UNITS // 100  # SEK, on the öre grid
    out = simulate(tmp_path, "reference_costs", {"distribution": "normal", "mean": largest, "sd": largest // 10})
    assert out.exit_code == 0, out.output
    assert "E804" not in out.output


def test_just_over_the_limit_is_refused(tmp_path):
    over = MAX_SIMULATED_UNITS // 100 + 1
    out = simulate(tmp_path, "reference_costs", {"distribution": "normal", "mean": over, "sd": 1})
    assert out.exit_code == 1 and "error[E804]" in out.stderr
    assert "beyond the largest value a simulation settles exactly (1 000 000 000 000 000)" in out.stderr
