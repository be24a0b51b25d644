"""`node`: how the syntax tree's and the checked model's classes are made (syntax.py, model.py).

It is `attrs.frozen` with one shared `__repr__` instead of one generated for each class. attrs
writes the source of every method of a class and compiles it when the module is imported; a cold
`sibc check` creates the ≈ 70 node classes before it reads a byte of the contract, and compiling
their `__repr__`s was ≈ 30 % of that time (≈ 17 ms, docs/performance.md). The text is attrs' own,
field for field: `Binary(op='+', left=Ref(name='x'), right=…)`, leaving out `repr=False` fields.
Nodes are never cyclic, so attrs' guard against repr recursion is not needed.
"""

from __future__ import annotations

import operator

import attrs


def _repr(self) -> str:
    fields = ", ".join(f"{a.name}={getattr(self, a.name)!r}" for a in self.__attrs_attrs__ if a.repr)
    return f"{type(self).__qualname__}({fields})"


def _eq(self, other):
    if other.__class__ is not self.__class__:
        return NotImplemented
    key = self.__node_key__
    return key(self) == key(other)


def _hash(self):
    return hash((self.__class__, self.__node_key__(self)))


def _no_fields(_):
    return ()


def node(cls):
    """Class decorator: a frozen attrs class with slots, the shared repr, and equality and hash as
    attrs would write them (the fields with eq=True, in order; another class is NotImplemented),
    shared too: each compares a tuple taken by one `operator.attrgetter` made for the class."""
    cls.__repr__ = _repr
    cls.__eq__ = _eq
    cls.__hash__ = _hash
    made = attrs.frozen(cls, repr=False, eq=False)
    names = [a.name for a in made.__attrs_attrs__ if a.eq]
    made.__node_key__ = operator.attrgetter(*names) if names else staticmethod(_no_fields)
    return made
