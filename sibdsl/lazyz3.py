"""The z3 module, imported the first time a question needs the solver (issue 21, docs/performance.md).

In: the globals of a module that writes `z3 = LazyZ3(globals())` in place of `import z3`. Out: its
name `z3` stands for the solver's module. Importing z3 costs a cold `sibc check` about a third of
its proofs' work, and many contracts need none of it (every property decided by intervals or by
structure, every clause shown to act by a witness settlement, docs/verify.md). The first attribute
read imports z3 and puts the real module in the globals in place of this stand-in, so each later
`z3.X` in that module is a plain global lookup, as after `import z3`.

A z3 value must not be built at import time nor in a class body of such a module (that would
import the solver with the module): `solver_value` builds one on first use and keeps it.
"""

from __future__ import annotations

from collections.abc import Callable


class LazyZ3:
    """Stands for the z3 module in one module's globals until an attribute of it is first read."""

    __slots__ = ("_namespace",)

    def __init__(self, namespace: dict) -> None:
        self._namespace = namespace

    def __getattr__(self, name: str):
        import z3

        self._namespace["z3"] = z3
        return getattr(z3, name)


class solver_value:  # a lower-case name: used like a constant in a class body, `ZERO = solver_value(...)`
    """A class attribute holding a z3 value built on first read (z3 imported then), kept after."""

    __slots__ = ("_build", "_value")

    def __init__(self, build: Callable[[], object]) -> None:
        self._build = build
        self._value = None

    def __get__(self, instance, owner):
        if self._value is None:
            self._value = self._build()
        return self._value
