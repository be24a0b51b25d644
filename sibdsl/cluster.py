"""`sibc simulate --dask ADDRESS`: the chunks of a simulation settled on a Dask cluster (issue 21).

A simulation is a list of chunks (`simulate.chunk_part`), each drawn from its own random stream
and reduced to a small picklable `Part`; `simulate.run` maps them over any executor with
`concurrent.futures`' `map` and merges the parts in chunk order. Here the executor is Dask's:
`Client.get_executor()` on the scheduler at ADDRESS, or on a `LocalCluster` of N worker processes
started for the run (`local:N`). The report is the same as without a cluster, bit for bit.

Dask is an optional extra (`pip install 'sibdsl[dask]'`); it is imported only here.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

from .diagnostics import Diagnostic, SibError

LOCAL = re.compile(r"local:([1-9][0-9]{0,3})")
CONNECT_TIMEOUT = 20.0  # seconds to reach a scheduler before E920 (Dask retries within it)
MODULES = ("dask", "distributed")


def parse_address(address: str) -> tuple[str, int | None]:
    """("local", N) for `local:N`, else ("remote", None); a ValueError says what is wrong."""
    address = address.strip()
    if address.startswith("local"):
        match = LOCAL.fullmatch(address)
        if not match:
            raise ValueError("`local:N` starts a local cluster of N worker processes (1 to 9999), e.g. local:4")
        return "local", int(match.group(1))
    if not address:
        raise ValueError("give the scheduler's address, e.g. tcp://scheduler:8786, or local:N")
    return "remote", None


def missing() -> list[str]:
    import importlib.util

    return [m for m in MODULES if importlib.util.find_spec(m) is None]


@contextlib.contextmanager
def connect(address: str, processes: bool = True) -> Iterator[object]:
    """A Dask `Client` of the cluster at `address` (see the module docstring), closed afterwards; a
    cluster started here (`local:N`; `processes=False`: threads in this process) is shut down too.
    `client.get_executor()` is the executor `simulate.run` takes. A scheduler that cannot be reached
    is E920."""
    from distributed import Client, LocalCluster

    kind, workers = parse_address(address)
    with contextlib.ExitStack() as stack:
        if kind == "local":
            cluster = stack.enter_context(LocalCluster(n_workers=workers, threads_per_worker=1,
                                                       processes=processes, dashboard_address=None))
            client = stack.enter_context(Client(cluster))
        else:
            try:
                client = stack.enter_context(Client(address, timeout=CONNECT_TIMEOUT))
            except (OSError, TimeoutError, ValueError) as err:  # refused, unknown host, timed out, bad scheme
                from .source import Source

                option = Source("<command line>", f"--dask {address}")  # the caret under the address
                raise SibError([Diagnostic(
                    "E920", f"cannot reach the Dask scheduler at `{address}`: {err}".rstrip(": "), option,
                    option.span(len("--dask "), len(option.text)), label="no scheduler answered here",
                    hint="start one (`dask scheduler`, and `dask worker ADDRESS` on each machine) and give its "
                    "address, e.g. --dask tcp://scheduler:8786; or run here with --dask local:N or --workers N",
                )]) from None
        yield client
