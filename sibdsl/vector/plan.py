"""A compiled plan and how it runs: the settlement of a block of scenarios as a fixed list of steps.

In: a `Plan` (made by settle.compile_plan) and the columns of a call (per measure and
period: int64 numerators, a bool array, or an `R` on the general path). Out: per result of the
plan an exact `R`, a bool array or a flag, for the package (__init__.py) to build the `VectorSettlement`.

`Plan.run` evaluates the steps on blocks of scenarios: slot 0 of a block's frame holds its size,
the inputs' slots their slices, every step writes new arrays into its slots, and a value is
dropped after its last use, so that the arrays a block works on stay in the CPU cache and
freed memory is reused by the next block. One block is exactly a call on that many scenarios:
blocks, chunks and whole calls give the same results.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Mapping

import attrs
import numpy as np

from .. import model as m
from . import rarray as ra

SIZE = 0  # slot 0 holds the number of scenarios in the block


@attrs.frozen
class Out:
    """One result of a plan. kind: "num" (int64 numerators over den, |num| ≤ bound), "general"
    (an R per block), "bool" (a bool array), "any" (true if the array is true in some scenario).
    A constant result has no slot."""

    kind: str
    slot: int | None = None
    den: int = 1
    bound: int = 0
    const: object = None


@attrs.frozen
class PlanLine:
    key: tuple
    payment: str
    payer: str
    recipient: str
    period: str | None
    due: datetime.date | None
    amount: int  # index into Plan.outs


@attrs.frozen
class Plan:
    """The settlement as steps over a block: `program` is a tuple of (step, slots it frees)."""

    program: tuple
    nslots: int
    inputs: tuple[tuple[int, tuple], ...]  # (slot, (measure, period))
    outs: tuple[Out, ...]
    lines: tuple[PlanLine, ...]
    total: int
    events: tuple[tuple[str, int], ...]
    failed: int
    negative: int
    divisions: tuple[tuple[m.Op, int], ...]  # divisions that may meet a zero divisor, in order
    listing: tuple[str, ...] = ()  # one line per step, for reading a plan: "s9 = min(s8)"

    @property
    def steps(self) -> int:
        return len(self.program)

    def run(self, columns: Mapping[tuple, object], n: int, block: int) -> list:
        """Evaluate n scenarios, `block` at a time: per output an R, a bool array or a flag."""
        single = n <= block
        store: list = [None] * len(self.outs)
        if not single:
            # the arrays of all results as rows of one buffer per dtype, not one allocation each:
            # glibc keeps one large buffer mapped from call to call, while several smaller ones
            # are given back and fault in again (a call of 100,000 scenarios took 7 ms, 5 of them
            # filling fresh result arrays; now 3 ms)
            for dtype in (np.int64, bool):
                kind = "num" if dtype is np.int64 else "bool"
                mine = [i for i, out in enumerate(self.outs) if out.slot is not None and out.kind == kind]
                rows = np.empty((len(mine), n), dtype=dtype)
                for i, row in zip(mine, rows):
                    store[i] = row
            for i, out in enumerate(self.outs):
                if out.slot is not None and out.kind in ("general", "any"):
                    store[i] = [] if out.kind == "general" else False
        for start in range(0, n, block):
            stop = min(n, start + block)
            f: list = [None] * self.nslots
            f[SIZE] = stop - start
            for slot, key in self.inputs:
                col = columns[key]
                f[slot] = ra.R(col.num[start:stop], col.den) if isinstance(col, ra.R) else col[start:stop]
            for run, free in self.program:
                run(f)
                for s in free:
                    f[s] = None
            for i, out in enumerate(self.outs):
                if out.slot is None:
                    continue
                value = f[out.slot]
                if out.kind == "any":
                    store[i] = store[i] or bool(np.any(value))
                elif out.kind == "general":
                    if single:
                        store[i] = value
                    else:
                        store[i].append((value, stop - start))
                elif single:
                    store[i] = _full(value, n, out.kind)
                else:
                    store[i][start:stop] = value
        return [self._result(out, store[i], n) for i, out in enumerate(self.outs)]

    @staticmethod
    def _result(out: Out, value, n: int):
        if out.kind == "any":
            return bool(out.const) if out.slot is None else bool(value)
        if out.kind == "bool":
            if out.slot is None:
                return np.zeros(n, dtype=bool) if not out.const else np.ones(n, dtype=bool)
            return value if value is not None else np.zeros(0, dtype=bool)
        if out.slot is None:
            return ra.R.const(out.const)
        if out.kind == "num":
            return ra.R(value if value is not None else np.zeros(0, dtype=np.int64), out.den, out.bound)
        if value is None or isinstance(value, ra.R):
            return value if value is not None else ra.R(np.zeros(0, dtype=np.int64), 1, 0)
        return _concat(value)


def _full(value, n: int, kind: str):
    if isinstance(value, np.ndarray) and value.shape == (n,):
        return value
    return np.full(n, value, dtype=np.int64 if kind == "num" else bool)


def _concat(parts: list[tuple[ra.R, int]]) -> ra.R:
    """General values of several blocks as one R (blocks may differ in dtype or denominator)."""
    den = 1
    for r, _ in parts:
        den = math.lcm(den, r.den)
    nums = [np.broadcast_to(np.asarray(r.scaled(den // r.den).num), (size,)) for r, size in parts]
    if any(x.dtype == object for x in nums):
        nums = [x.astype(object) for x in nums]
    return ra.R(np.concatenate(nums), den)
