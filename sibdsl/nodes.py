"""`node`: how the syntax tree's and the checked model's classes are made (syntax.py, model.py).

A node class is what `attrs.frozen` would make of the class — frozen, slotted, its fields in
`__attrs_attrs__` as attrs' own `Attribute`s, so `attrs.fields`, `attrs.has` and `attrs.evolve`
work on it as on any attrs class — but made without writing and compiling source for each class.
attrs writes every method of a class as text and compiles it when the module is imported; a cold
`sibc check` creates the ≈ 100 node classes before it reads a byte of the contract, and that was
≈ 170 M of its ≈ 790 M instructions (docs/performance.md, issue 21). Here every method is a shared
function, except `__init__`, which must take the fields by name: it is one of a few code templates
(one per number of positional and keyword-only fields, compiled once) whose parameters are renamed
to the class's fields with `CodeType.replace`, each field stored by its slot's own descriptor.

What is kept of attrs, field for field: the `__init__` signature (fields in order, the base
classes' first, `kw_only` fields after the others, defaults and factories), the frozen instance
(`FrozenInstanceError` on assignment and deletion), `__match_args__`, `__weakref__`, pickling and
copying, the repr (`Binary(op='+', left=Ref(name='x'), right=…)`, `repr=False` fields left out),
and equality and hash over the fields with eq=True (spans are eq=False), another class comparing
NotImplemented. What the node classes do not use is refused when the class is made, not silently
dropped: validators, converters, `on_setattr`, `init=False`, an alias, an `eq` key function,
`__attrs_post_init__` (tests/test_nodes.py).
"""

from __future__ import annotations

import builtins
import operator
import types

import attrs
from attrs import NOTHING, Attribute, Factory
from attrs.exceptions import FrozenInstanceError

_CountingAttr = type(attrs.field())  # what `attrs.field()` returns, read by Attribute.from_counting_attr


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


def _frozen_setattr(self, name, value):
    raise FrozenInstanceError


def _frozen_delattr(self, name):
    raise FrozenInstanceError


def _getstate(self) -> tuple:
    """The fields' values in order: what pickle and copy keep (the slots have no `__dict__`)."""
    return tuple(getattr(self, a.name) for a in self.__attrs_attrs__)


def _setstate(self, state: tuple) -> None:
    for a, value in zip(self.__attrs_attrs__, state, strict=True):
        object.__setattr__(self, a.name, value)


class _Fields(tuple):
    """A class's fields, each also by its name (`attrs.fields(C).span`), as attrs' tuples are."""

    __slots__ = ()

    def __getattr__(self, name: str):
        for a in self:
            if a.name == name:
                return a
        raise AttributeError(f"no field {name!r}")


_TEMPLATES: dict[tuple[int, int], types.CodeType] = {}


def _template(positional: int, keywords: int) -> types.CodeType:
    """The code of an `__init__` of `positional` then `keywords` keyword-only parameters, each
    stored by the setter named `_s<i>` in the function's globals. Parameters are renamed per class."""
    shape = (positional, keywords)
    if shape not in _TEMPLATES:
        names = [f"_a{i}" for i in range(positional + keywords)]
        params = ["self", *names[:positional]] + (["*", *names[positional:]] if keywords else [])
        body = "".join(f"    _s{i}(self, {name})\n" for i, name in enumerate(names)) or "    pass\n"
        namespace: dict = {}
        text = f"def __init__({', '.join(params)}):\n{body}"
        exec(compile(text, "<sibdsl.nodes template>", "exec"), namespace)  # noqa: S102 — made of two counts, no user text
        _TEMPLATES[shape] = namespace["__init__"].__code__
    return _TEMPLATES[shape]


def _own_fields(cls) -> list[Attribute]:
    """The fields the class itself declares (annotated, in order), as attrs would read them."""
    found = []
    for name, annotation in vars(cls).get("__annotations__", {}).items():  # its own, not its bases' (as attrs)
        if isinstance(annotation, str) and annotation.startswith(("ClassVar", "typing.ClassVar")):
            continue
        value = cls.__dict__.get(name, NOTHING)
        if isinstance(value, _CountingAttr):
            a = Attribute.from_counting_attr(name, value, False, annotation)
            refused = [what for what, used in (
                ("a validator", a.validator is not None), ("a converter", a.converter is not None),
                ("on_setattr", a.on_setattr is not None), ("init=False", not a.init),
                ("an alias", not a.alias_is_default), ("an eq key", a.eq_key is not None)) if used]
            if isinstance(a.default, Factory) and a.default.takes_self:
                refused.append("a factory that takes self")
            if refused:
                raise TypeError(f"{cls.__qualname__}.{name}: a node field takes no {', '.join(refused)} "
                                "(sibdsl/nodes.py makes only what the node classes use)")
            object.__setattr__(a, "alias", name.lstrip("_"))  # attrs' default alias; `a` is ours alone
        else:
            a = Attribute(name=name, default=value, validator=None, repr=True, cmp=None, hash=None, init=True,
                          inherited=False, type=annotation, alias=name.lstrip("_"), alias_is_default=True)
        found.append(a)
    return found


def node(cls):
    """Class decorator: the frozen slotted class `attrs.frozen(cls)` would be, made from shared
    methods (the module docstring), with equality and hash comparing a tuple taken by one
    `operator.attrgetter` made for the class."""
    if "__attrs_post_init__" in cls.__dict__:
        raise TypeError(f"{cls.__qualname__}: a node has no __attrs_post_init__ (sibdsl/nodes.py)")
    bases = [b for b in cls.__mro__[1:] if "__attrs_attrs__" in b.__dict__]
    inherited = [a.evolve(inherited=True) for a in (bases[0].__attrs_attrs__ if bases else ())]
    own = _own_fields(cls)
    names = {a.name for a in own}
    fields = tuple([a for a in inherited if a.name not in names] + own)

    positional = [a for a in fields if not a.kw_only]
    keywords = [a for a in fields if a.kw_only]
    defaults = []
    for a in positional:
        if a.default is NOTHING and defaults:
            raise ValueError(f"{cls.__qualname__}: no mandatory field after a field with a default "
                             f"({a.name})")  # attrs' own rule, which Python's signatures share
        if a.default is not NOTHING:
            defaults.append(a.default)

    namespace = {k: v for k, v in cls.__dict__.items()
                 if k not in names and k not in ("__dict__", "__weakref__")}
    slotted = any("__weakref__" in getattr(b, "__slots__", ()) for b in cls.__mro__[1:])
    namespace["__slots__"] = tuple(a.name for a in own if a.name not in
                                   {x.name for x in inherited}) + (() if slotted else ("__weakref__",))
    namespace.update(
        __attrs_attrs__=_Fields(fields), __match_args__=tuple(a.name for a in positional),
        __repr__=_repr, __eq__=_eq, __hash__=_hash, __setattr__=_frozen_setattr,
        __delattr__=_frozen_delattr, __getstate__=_getstate, __setstate__=_setstate,
        __node_key__=(operator.attrgetter(*[a.name for a in fields if a.eq]) if any(a.eq for a in fields)
                      else staticmethod(_no_fields)))
    made = type(cls)(cls.__name__, cls.__bases__, namespace)
    for value in namespace.values():  # zero-argument super() in a method refers to the class made here
        function = getattr(value, "__func__", value)
        closure = getattr(function, "__closure__", None)
        if closure and "__class__" in function.__code__.co_freevars:
            closure[function.__code__.co_freevars.index("__class__")].cell_contents = made

    ordered = positional + keywords
    scope = {"__builtins__": builtins}
    for i, a in enumerate(ordered):
        setter = _slot_of(made, a.name).__set__
        if isinstance(a.default, Factory):
            setter = _with_factory(setter, a.default)
        scope[f"_s{i}"] = setter
    code = _template(len(positional), len(keywords)).replace(
        co_varnames=("self", *(a.alias for a in ordered)), co_name="__init__",
        co_qualname=f"{cls.__qualname__}.__init__")
    init = types.FunctionType(code, scope, "__init__", tuple(
        NOTHING if isinstance(d, Factory) else d for d in defaults) or None)
    init.__kwdefaults__ = {a.alias: NOTHING if isinstance(a.default, Factory) else a.default
                           for a in keywords if a.default is not NOTHING} or None
    init.__qualname__ = code.co_qualname
    init.__annotations__ = {**{a.alias: a.type for a in ordered if a.type is not None}, "return": None}
    init.__module__ = cls.__module__
    made.__init__ = init  # after the class: the setters are its slots' descriptors
    return made


def _slot_of(cls, name: str):
    for klass in cls.__mro__:
        if name in klass.__dict__:
            return klass.__dict__[name]
    raise AttributeError(name)


def _with_factory(setter, factory: Factory):
    make = factory.factory

    def store(self, value):
        setter(self, make() if value is NOTHING else value)

    return store
