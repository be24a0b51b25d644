"""The node classes' shared equality and hash (sibdsl/nodes.py) are attrs' own, field for field.

`node` gives every class of syntax.py and model.py one `__eq__` and one `__hash__` instead of the
ones attrs would write and compile for each class at import (issue 21: start-up). Here they are
compared with what attrs' generated methods do, on every node of every shipped contract's syntax
tree and checked model: equal exactly when of the same class with equal eq-fields (spans left
out), equal nodes hash alike, another class compares NotImplemented.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import attrs
import pytest

from sibdsl import check_source, model, syntax
from sibdsl.source import Source, Span

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
    a = syntax.Binary(op="+", left=syntax.Ref(name="x"), right=syntax.Ref(name="y"), span=Span(0, 5, 1, 1, 1, 6))
    moved = attrs.evolve(a, span=Span(10, 15, 2, 3, 2, 8), op_span=Span(12, 13, 2, 5, 2, 6))
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
