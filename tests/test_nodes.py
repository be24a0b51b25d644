"""The node classes' shared equality and hash (sibdsl/nodes.py) are attrs' own, field for field.

`node` gives every class of syntax.py and model.py one `__eq__` and one `__hash__` instead of the
ones attrs would write and compile for each class at import (issue 21: start-up). Here they are
compared with what attrs' generated methods do, on every node of every shipped contract's syntax
tree and checked model: equal exactly when of the same class with equal eq-fields (spans left
out), equal nodes hash alike, another class compares NotImplemented.

Since `node` makes the classes without attrs' per-class code generation (issue 21), the classes are
also compared with what `attrs.frozen` makes of the same source in a process of its own (signature,
fields, match args, slots), and what attrs gives and the code base uses is exercised: defaults,
factories, keyword-only fields, inheritance, `super()`, frozen instances, pickling and copying;
what `node` does not make (validators, converters, …) is refused when the class is made.
"""

from __future__ import annotations

import copy
import itertools
import os
import pickle
import weakref
from pathlib import Path

import attrs
import pytest

from sibdsl import check_source, model, syntax
from sibdsl.nodes import node
from sibdsl.source import NO_SPAN, Source, Span

ROOT = Path(__file__).resolve().parent.parent
CONTRACTS = sorted(ROOT.glob("contracts/*.sib"))


def _attrs_key(node) -> tuple:
    return tuple(getattr(node, a.name) for a in attrs.fields(type(node)) if a.eq)


def _nodes_of(value, out: list) -> None:
    stack = [value]
    seen = set()
    while stack:
        item = stack.pop()
        if isinstance(item, (tuple, list)):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif attrs.has(type(item)) and id(item) not in seen:
            seen.add(id(item))
            out.append(item)
            stack.extend(getattr(item, a.name) for a in attrs.fields(type(item)))


@pytest.fixture(scope="module")
def nodes() -> list:
    found: list = []
    for path in CONTRACTS:
        text = path.read_text(encoding="utf-8")
        contract, _ = check_source(Source(path.name, text))
        _nodes_of(contract, found)
        found.extend(syntax.walk(syntax_of(path.name, text)))
    return found


def syntax_of(name: str, text: str):
    from sibdsl.parser import parse

    return parse(Source(name, text))


def test_equality_and_hash_are_attrs_own(nodes):
    node_classes = [n for n in nodes if type(n).__module__ in ("sibdsl.syntax", "sibdsl.model")]
    assert len({type(n) for n in node_classes}) > 40  # most classes of both modules are exercised
    by_class = {}
    for n in node_classes:
        by_class.setdefault(type(n), []).append(n)
    for group in by_class.values():
        for a, b in itertools.islice(itertools.product(group[:40], repeat=2), 1600):
            assert (a == b) is (_attrs_key(a) == _attrs_key(b)), (a, b)
            assert (a != b) is (_attrs_key(a) != _attrs_key(b))
            try:
                hash(_attrs_key(a))
            except TypeError:  # a field holds a dict: attrs' hash raises, and so does ours
                with pytest.raises(TypeError):
                    hash(a)
                continue
            if a == b:
                assert hash(a) == hash(b)
    first, second = node_classes[0], next(n for n in node_classes if type(n) is not type(node_classes[0]))
    assert first.__eq__(second) is NotImplemented and first != second


def test_spans_are_left_out_and_fields_are_not():
    a = syntax.Binary(op="+", left=syntax.Ref(name="x"), right=syntax.Ref(name="y"), span=Span(1, 1, 1, 6))
    moved = attrs.evolve(a, span=Span(2, 3, 2, 8), op_span=Span(2, 5, 2, 6))
    assert a == moved and hash(a) == hash(moved) and {a: 1}[moved] == 1
    assert a != attrs.evolve(a, op="-") and a != attrs.evolve(a, right=syntax.Ref(name="z"))
    assert syntax.TotalRef() == syntax.TotalRef() and hash(syntax.TotalRef()) == hash(syntax.TotalRef())
    assert syntax.Ref(name="x") != syntax.Ident(name="x")  # same fields, another class


def test_every_node_class_still_has_slots_and_is_frozen():
    for module in (syntax, model):
        for cls in vars(module).values():
            if isinstance(cls, type) and attrs.has(cls) and cls.__module__ == module.__name__:
                assert "__slots__" in cls.__dict__, cls
                fields = attrs.fields(cls)
                if fields:
                    instance = cls.__new__(cls)
                    with pytest.raises(attrs.exceptions.FrozenInstanceError):
                        setattr(instance, fields[0].name, None)


# ---------------------------------------------------------------- classes made without attrs' code generation
_DUMP = """
import inspect, json, sys
import attrs
if sys.argv[1] == "attrs":  # the classes as attrs.frozen makes them, writing and compiling their methods
    import sibdsl.nodes
    sibdsl.nodes.node = attrs.frozen
from sibdsl import model, syntax
out = {}
for module in (syntax, model):
    for name, cls in sorted(vars(module).items()):
        if isinstance(cls, type) and attrs.has(cls) and cls.__module__ == module.__name__:
            out[module.__name__ + "." + name] = {
                "init": str(inspect.signature(cls.__init__)), "fields": [repr(a) for a in attrs.fields(cls)],
                "names": [a.name for a in attrs.fields(cls)] == [getattr(attrs.fields(cls), a.name).name
                                                               for a in attrs.fields(cls)],
                "match": list(cls.__match_args__), "slots": [list(getattr(k, "__slots__", ())) for k in cls.__mro__],
                "module": cls.__init__.__module__, "qualname": cls.__qualname__}
print(json.dumps(out))
"""


def test_node_classes_are_what_attrs_frozen_would_make():
    """Every class of syntax.py and model.py, made by `node` and by attrs.frozen in a process of its
    own: the same `__init__` signature (names, order, kw_only, defaults, annotations), the same
    `attrs.fields` (every Attribute's every property, inherited ones marked), named access to them,
    `__match_args__`, and the same slots along the class's MRO (`__weakref__` included)."""
    import json
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    made = {how: json.loads(subprocess.run([sys.executable, "-c", _DUMP, how], cwd=ROOT, env=env, check=True,
                                           capture_output=True, text=True).stdout) for how in ("node", "attrs")}
    assert len(made["node"]) > 90
    assert made["node"] == made["attrs"]


@node
class _Base:
    name: str
    tags: dict = attrs.field(factory=dict, repr=False)
    count: int = 3
    span: Span = attrs.field(default=NO_SPAN, eq=False, repr=False, kw_only=True)

    def describe(self) -> str:
        return f"{self.name}:{self.count}"


@node
class _Derived(_Base):
    extra: tuple = ()

    def describe(self) -> str:
        return "derived " + super().describe()  # the zero-argument super() of the class node made


def test_defaults_factories_inheritance_and_super():
    a, b = _Base("x"), _Base("x")
    assert a.tags == {} and a.tags is not b.tags  # a factory makes a new value for each node
    given = {"k": 1}
    assert _Base("x", given).tags is given and _Base("x", tags=given, count=5).count == 5
    assert a == b and repr(a) == "_Base(name='x', count=3)" and a != _Base("x", {"k": 1})
    with pytest.raises(TypeError):
        hash(a)  # a field holds a dict: unhashable, as attrs' own hash is
    d = _Derived("y", extra=(1,), span=Span(1, 2, 1, 3))
    assert [f.name for f in attrs.fields(_Derived)] == ["name", "tags", "count", "span", "extra"]
    assert [f.inherited for f in attrs.fields(_Derived)] == [True, True, True, True, False]
    assert d.describe() == "derived y:3" and isinstance(d, _Base) and d != _Base("y")
    assert attrs.evolve(d, count=4) == _Derived("y", count=4, extra=(1,))
    assert attrs.evolve(d, count=4).span == d.span
    with pytest.raises(TypeError):
        _Base()  # a mandatory field
    with pytest.raises(TypeError):
        _Base("x", {}, 3, NO_SPAN)  # span is keyword-only, as attrs makes it
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        d.count = 1
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        del d.count
    assert not hasattr(d, "__dict__") and weakref.ref(d)() is d


def test_every_node_pickles_and_copies_whole(nodes):
    """The parser's and proofs' caches, Dask and `copy` see the same node back, spans included."""
    for n in [*nodes[:3000], _Derived("y", {"k": 1}, extra=(2,), span=Span(1, 2, 1, 3))]:
        for again in (pickle.loads(pickle.dumps(n)), copy.copy(n), copy.deepcopy(n)):
            assert type(again) is type(n) and again == n
            assert all(getattr(again, f.name) == getattr(n, f.name) for f in attrs.fields(type(n)))


@pytest.mark.parametrize("field, refused", [
    (attrs.field(validator=lambda *_: None), "a validator"),
    (attrs.field(converter=int), "a converter"),
    (attrs.field(init=False, default=0), "init=False"),
    (attrs.field(alias="other"), "an alias"),
    (attrs.field(default=attrs.Factory(list, takes_self=True)), "a factory that takes self")])
def test_what_node_does_not_make_is_refused_not_dropped(field, refused):
    namespace = {"__annotations__": {"value": "int"}, "value": field}
    with pytest.raises(TypeError, match=refused):
        node(type("Refused", (), namespace))
    with pytest.raises(TypeError, match="__attrs_post_init__"):
        node(type("Refused", (), {"__annotations__": {"value": "int"}, "__attrs_post_init__": lambda self: None}))
    with pytest.raises(ValueError, match="no mandatory field after a field with a default"):
        node(type("Refused", (), {"__annotations__": {"a": "int", "b": "int"}, "a": 1}))
