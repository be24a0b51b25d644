"""Evaluation requests per second of `sibc serve` (issue 20: at least 200 a second on one core).

    .venv/bin/python benchmarks/serve.py [--rounds 7] [--requests 400] [--clients 1]

Starts `sibc serve contracts/` as a subprocess pinned to one core (when the machine has two or
more, the client runs on another), and measures POST /v1/eval of Norrköping with its published
outcomes over keep-alive connections. Each round is paired and interleaved: the same number of
settlements through HTTP, then in this process through the library (load_outcomes + evaluate, the
work the server does per request), so machine load shared by both halves of a pair cancels out of
their ratio. Prints each round, then the medians: requests per second, the library's settlements
per second and HTTP's overhead per request.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET = 200.0  # evaluation requests per second on one core


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int) -> subprocess.Popen:
    cores = sorted(os.sched_getaffinity(0))
    process = subprocess.Popen([sys.executable, "-m", "sibdsl.cli", "serve", str(ROOT / "contracts"),
                                "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.sched_setaffinity(process.pid, {cores[0]})  # the server on one core (its threads start later)
    if len(cores) > 1:
        os.sched_setaffinity(0, set(cores[1:]))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("the server did not start")


def http_round(port: int, body: bytes, requests: int, clients: int) -> float:
    """Seconds for `requests` POST /v1/eval spread over `clients` keep-alive connections."""
    share = [requests // clients + (i < requests % clients) for i in range(clients)]
    failures = []

    def client(count: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for _ in range(count):
            conn.request("POST", "/v1/eval", body=body, headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            data = response.read()
            if response.status != 200:
                failures.append(data[:200])
        conn.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in share]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise SystemExit(f"{len(failures)} requests failed: {failures[0]!r}")
    return elapsed


def library_round(contract, compiled, text: str, requests: int) -> float:
    from sibdsl.outcomes import load_outcomes
    from sibdsl.report import settlement_json

    started = time.perf_counter()
    for _ in range(requests):
        settlement_json(compiled.evaluate(load_outcomes(contract, text=text, name="outcomes.json")))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--clients", type=int, default=1)
    args = parser.parse_args()

    from sibdsl import load_contract, read_source
    from sibdsl.evaluate import compile_contract

    path = ROOT / "contracts" / "norrkoping.sib"
    contract = load_contract(path)
    compiled = compile_contract(contract, read_source(path))
    outcomes = json.loads((ROOT / "contracts" / "norrkoping.outcomes.json").read_text(encoding="utf-8"))
    body = json.dumps({"contract": "norrkoping", "outcomes": outcomes}).encode()
    text = json.dumps(outcomes, ensure_ascii=False, indent=2)

    port = free_port()
    server = start_server(port)
    try:
        http_round(port, body, 50, 1)  # warm-up: the contract is checked and compiled once
        library_round(contract, compiled, text, 50)
        rates, library_rates, overheads = [], [], []
        print(f"{args.rounds} paired rounds of {args.requests} settlements, {args.clients} client(s); "
              f"server on core {sorted(os.sched_getaffinity(server.pid))}")
        for i in range(args.rounds):
            web = http_round(port, body, args.requests, args.clients)
            lib = library_round(contract, compiled, text, args.requests)
            rates.append(args.requests / web)
            library_rates.append(args.requests / lib)
            overheads.append((web - lib) / args.requests * 1000)
            print(f"  round {i + 1}: HTTP {rates[-1]:7.1f} req/s   library {library_rates[-1]:7.1f}/s   "
                  f"HTTP overhead {overheads[-1]:.2f} ms/request")
        rate = statistics.median(rates)
        print(f"median: {rate:.1f} evaluation requests/s on one core ({rate / TARGET:.2f} × the target of "
              f"{TARGET:.0f}); library {statistics.median(library_rates):.1f}/s; "
              f"HTTP adds {statistics.median(overheads):.2f} ms per request")
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
