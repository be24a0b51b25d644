"""`node`: how the syntax tree's and the checked model's classes are made (syntax.py, model.py).

It is `attrs.frozen` with one shared `__repr__` instead of one generated for each class. attrs
writes the source of every method of a class and compiles it when the module is imported; a cold
`sibc check` creates the ≈ 70 node classes before it reads a byte of the contract, and compiling
their `__repr__`s was ≈ 30 % of that time (≈ 17 ms, docs/performance.md). The text is attrs' own,
field for field: `Binary(op='+', left=Ref(name='x'), right=…)`, leaving out `repr=False` fields.
Nodes are never cyclic, so attrs' guard against repr recursion is not needed.
"""

from __future__ import annotations

import attrs


def _repr(self) -> str:
    fields = ", ".join(f"{a.name}={getattr(self, a.name)!r}" for a in self.__attrs_attrs__ if a.repr)
    return f"{type(self).__qualname__}({fields})"


def node(cls):
    """Class decorator: a frozen attrs class with slots, equality and hash, and the shared repr."""
    cls.__repr__ = _repr
    return attrs.frozen(cls, repr=False)
