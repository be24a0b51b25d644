"""Work with a time budget: verify and simulate run in a forked child process that is killed when
its budget is spent, so a request can never hold a core past its limit (a thread cannot be stopped),
or as soon as its `Job` is cancelled (a newer request for the same document made it stale).

The child inherits the checked contract (fork: nothing is pickled on the way in) and sends back
plain JSON-ready data through a pipe."""

from __future__ import annotations

import multiprocessing
import threading
import traceback
from collections.abc import Callable
from multiprocessing.connection import wait


class BudgetExceeded(Exception):
    """The work did not finish within its budget; the child was killed."""


class ChildFailed(Exception):
    """The child raised an unexpected exception (a bug in sibc): its traceback as text."""


class Cancelled(Exception):
    """The work's job was cancelled before it finished; the child was killed."""


class Job:
    """A handle on a run that another thread can stop: `cancel()` wakes `run_limited`, which kills
    the child at once instead of leaving it to use a core until its budget ends. What the child
    computes is not changed: its own limits (z3's deterministic rlimit) stay; only the job ends."""

    def __init__(self):
        self._signal, self._wake = multiprocessing.Pipe(duplex=False)
        self._lock = threading.Lock()
        self.cancelled = False

    def cancel(self) -> None:
        with self._lock:
            if self.cancelled or self._wake.closed:
                self.cancelled = True
                return
            self.cancelled = True
            self._wake.send_bytes(b"")

    def close(self) -> None:
        with self._lock:
            self._wake.close()
            self._signal.close()


def _child(conn, fn: Callable, args: tuple) -> None:
    import gc

    from ..diagnostics import SibError, to_json

    # forked from a request that holds the cyclic collector off until its answer is sent (app.py):
    # the child's work, a proof or a simulation of any length, runs with it as Python runs it
    gc.enable()
    try:
        conn.send(("ok", fn(*args)))
    except SibError as err:
        conn.send(("diagnostics", [to_json(d) for d in err.diagnostics]))
    except BaseException:  # noqa: BLE001 — reported to the parent as a bug, never swallowed
        conn.send(("bug", traceback.format_exc()))
    finally:
        conn.close()


def _inline(fn: Callable, args: tuple):
    """Where processes cannot be forked (Windows), the work runs in the request's thread: the
    answer is the same, but past its budget it can only be abandoned by the caller, not stopped."""
    from ..diagnostics import SibError, to_json

    try:
        return "ok", fn(*args)
    except SibError as err:
        return "diagnostics", [to_json(d) for d in err.diagnostics]


def run_limited(fn: Callable, args: tuple, seconds: float, job: Job | None = None):
    """fn(*args) in a child process; ("ok", value) or ("diagnostics", [json…]).
    Raises BudgetExceeded after `seconds`, Cancelled as soon as `job` is cancelled (or when it
    already was), ChildFailed when the child crashes."""
    if job is not None and job.cancelled:
        raise Cancelled("cancelled before it started")
    if "fork" not in multiprocessing.get_all_start_methods():
        return _inline(fn, args)
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(send, fn, args), daemon=True)
    process.start()
    send.close()
    try:
        ready = wait([receive] if job is None else [receive, job._signal], seconds)
        if receive not in ready:
            process.kill()
            if job is not None and job.cancelled:
                raise Cancelled("cancelled while it ran")
            raise BudgetExceeded(f"not finished within {seconds:g} s")
        try:
            kind, value = receive.recv()
        except EOFError:
            raise ChildFailed(f"the worker process ended with exit code {process.exitcode}") from None
        if kind == "bug":
            raise ChildFailed(value)
        return kind, value
    finally:
        receive.close()
        process.join(5)
        if process.is_alive():
            process.kill()
            process.join()
