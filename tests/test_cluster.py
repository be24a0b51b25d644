"""`sibc simulate --dask` (issue 21): the chunks of a simulation on a real Dask cluster give the
report of a run in one process, bit for bit; a cluster that cannot be reached is E920, a missing
extra E901."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from sibdsl import load_contract
from sibdsl.cli import main
from sibdsl.simulate import load_spec, run

ROOT = Path(__file__).resolve().parent.parent
NORRKOPING = ROOT / "contracts" / "norrkoping.sib"
SPEC = {"seed": 2016, "measures": {
    "actual_costs": {"distribution": "normal", "mean": 50_000_000, "sd": 10_000_000, "lower": 0},
    "reference_costs": {"distribution": "uniform", "low": 58_000_000, "high": 64_000_000},
    "school_improved": {"distribution": "bernoulli", "p": 0.6},
    "completed": {"distribution": "bernoulli", "p": 0.95}},
    "correlations": [{"measures": ["actual_costs", "school_improved"], "rho": -0.5}]}


@pytest.fixture
def spec_file(tmp_path):
    path = tmp_path / "norrkoping.scenarios.json"
    path.write_text(json.dumps(SPEC), encoding="utf-8")
    return path


def test_the_cli_on_a_local_cluster_of_two_worker_processes_gives_the_same_report(spec_file):
    """A real LocalCluster with two worker processes (`--dask local:2`), the whole command in a
    fresh interpreter, against the same command without Dask: the JSON reports are identical."""
    args = [sys.executable, "-m", "sibdsl.cli", "simulate", str(NORRKOPING), "--scenarios", str(spec_file),
            "-n", "60000", "--chunk", "10000", "--format", "json"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    here = subprocess.run(args, capture_output=True, text=True, env=env, check=True, timeout=300)
    there = subprocess.run([*args, "--dask", "local:2"], capture_output=True, text=True, env=env, check=True,
                           timeout=300)
    assert json.loads(here.stdout)["scenarios"] == 60_000
    assert there.stdout == here.stdout


def test_every_chunk_runs_on_the_cluster_and_the_merge_is_the_same(spec_file):
    """The library path the CLI takes, on a LocalCluster of two workers (threads, to keep the test
    quick: the processes are tested above): Dask's task stream shows one task per chunk, spread
    over both workers, and the result equals the one of a run in this process."""
    from distributed import get_task_stream

    from sibdsl import cluster

    contract = load_contract(NORRKOPING)
    spec = load_spec(contract, spec_file)
    with cluster.connect("local:2", processes=False) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        with get_task_stream(client) as stream:
            there = run(contract, spec, 50_000, chunk=5_000, executor=client.get_executor())
    here = run(contract, spec, 50_000, chunk=5_000)
    assert len(stream.data) == 10 and all(t["status"] == "OK" for t in stream.data)
    assert there.report(spec, 2016, 5_000) == here.report(spec, 2016, 5_000)


def test_a_scheduler_that_does_not_answer_is_E920(spec_file, monkeypatch):
    from sibdsl import cluster

    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", 1.0)
    result = CliRunner().invoke(main, ["simulate", str(NORRKOPING), "--scenarios", str(spec_file), "-n", "100",
                                       "--dask", "tcp://127.0.0.1:1"])
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("error[E920]: cannot reach the Dask scheduler at `tcp://127.0.0.1:1`: ")
    assert " --> <command line>:1:8\n  |\n1 | --dask tcp://127.0.0.1:1\n  |        ^^^^^^^^^^^^^^^^^ no scheduler" \
        in result.stderr
    assert "help: start one (`dask scheduler`" in result.stderr
    assert "Traceback" not in result.stderr and "E900" not in result.stderr


def test_without_the_extra_it_is_E901_naming_it(spec_file, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "distributed" else real(name, *a))
    result = CliRunner().invoke(main, ["simulate", str(NORRKOPING), "--scenarios", str(spec_file),
                                       "--dask", "local:2"])
    assert result.exit_code == 2
    assert result.stderr == ("error[E901]: `sibc simulate --dask` needs distributed, which this installation of "
                             "sibc does not have\n  = help: install the extra: pip install 'sibdsl[dask]'\n")


@pytest.mark.parametrize("address, words", [
    ("local:0", "`local:N` starts a local cluster"), ("local:x", "`local:N` starts a local cluster"),
    ("", "give the scheduler's address"),
])
def test_a_malformed_address_is_a_usage_error(spec_file, address, words):
    result = CliRunner().invoke(main, ["simulate", str(NORRKOPING), "--scenarios", str(spec_file), "--dask", address])
    assert result.exit_code == 2 and words in result.stderr, result.stderr


def test_dask_and_workers_together_are_refused(spec_file):
    result = CliRunner().invoke(main, ["simulate", str(NORRKOPING), "--scenarios", str(spec_file),
                                       "--dask", "local:2", "--workers", "2"])
    assert result.exit_code == 2 and "give one of them" in result.stderr
