"""The scalar back end's settlement as one Python function per contract, built as an `ast` tree.

In: the settling operations the stager left (evaluate._Stager: a straight list over registers, each
operation told what it computes, `op.shape`), with the expression closures they call (compiler.py,
each told its shape too). Out: one function `settle(ctx, inputs, written)` that computes the same
registers in the same order — registers and definitions as local variables, the expressions,
`values.whole` and the contract's rounding written inline — makes the settlement's lines, and
returns them with the registers the audit trail is written from later (evaluate._Later). What a
settlement computes is still the staged program's: this is the same program without a call per
operation (issue 21, docs/architecture.md "The generated settlement function").

No text of the contract becomes code. The tree is built node by node here, never parsed from a
string; every identifier in it is made here (`r12` a register, `d3` a definition, `t5` a temporary,
`k7` a constant, `f2` a function, and the fixed names of `_HELPERS`); every constant the contract
gives — amounts, rates, dates, measure names, periods, Fractions — is a `k` name bound in the
function's globals, never an `ast.Constant` (the only constants in the tree are None, True and
False). The globals' `__builtins__` hold only the five builtins the code uses. The tree is
compiled with `compile(tree, "<sibc generated: DIGEST>", "exec")` and the function made from its
code object (`types.FunctionType`): nothing is `eval`'ed or `exec`'ed.

An operation or expression the generator does not know raises `Unsupported` (an expression closure
without a shape is called as it is, with the context, which is the staged program's own call):
the contract then settles by the staged program, with identical results (`generate` returns None).
"""

from __future__ import annotations

import ast
import types
from collections.abc import Callable
from fractions import Fraction

from .compiler import EvaluationError, Failed
from .gcpause import paused

__all__ = ["generate", "Unsupported"]


def _fields() -> tuple[str, str]:
    """The names the generated code reads a Fraction's numerator and denominator by: its slots
    (`_numerator`, `_denominator`), where this Python's `fractions` keeps them there, rather than
    the public properties, each a Python call (≈ 670 instructions against ≈ 80: a settlement of
    Norrköping reads a dozen); the properties on a Python that does not."""
    half = Fraction(1, 2)
    if getattr(half, "_numerator", None) == 1 and getattr(half, "_denominator", None) == 2 and \
            "_numerator" in getattr(Fraction, "__slots__", ()):
        return "_numerator", "_denominator"
    return "numerator", "denominator"


NUMERATOR, DENOMINATOR = _fields()


class Unsupported(Exception):
    """An operation the generator does not write: the contract settles by the staged program."""


def _reraise(value: Failed):
    raise value.error


# the fixed names of the generated code's globals besides its `k` and `f` names
_HELPERS = {"Fraction": Fraction, "Failed": Failed, "EvaluationError": EvaluationError,
            "reraise": _reraise, "new": object.__new__}
_BUILTINS = {"type": type, "min": min, "max": max, "abs": abs, "int": int}
_LOCALS = ("ctx", "inputs", "written")  # the function's arguments
GENERATED_NAME = r"[rdtkfe]\d+"  # every other name in the tree (tests/test_generated.py)


class _At:
    """Every node at line 1, column 0 (compile() asks each statement and expression for a position;
    the code has no source lines): class attributes, not `ast.fix_missing_locations`, which walked
    every node of the tree again."""

    lineno = end_lineno = 1
    col_offset = end_col_offset = 0


# the node classes the generator makes, each with its position (`_At`)
N = types.SimpleNamespace(**{c: type(c, (_At, getattr(ast, c)), {}) for c in (
    "Name", "Call", "BinOp", "UnaryOp", "BoolOp", "Compare", "IfExp", "NamedExpr", "Attribute", "Subscript",
    "Tuple", "List", "Constant", "Slice", "Assign", "If", "Try", "ExceptHandler", "Return", "FunctionDef", "arg",
    "AugAssign", "Expr")})


def _name(id_: str, store: bool = False) -> ast.Name:
    return N.Name(id_, ast.Store() if store else ast.Load())


_ROUNDING = ("half up", "half down", "half even", "up", "down")  # values.ROUNDING_MODES, written out by `rounded`
_CMP = {"<": ast.Lt, "<=": ast.LtE, ">": ast.Gt, ">=": ast.GtE, "==": ast.Eq, "!=": ast.NotEq}


class _Writer:
    def __init__(self, known: dict, template: list, folded: dict):
        self.known, self.template, self.folded = known, template, folded
        self.env: dict = {"__builtins__": dict(_BUILTINS), **_HELPERS}
        self.consts: dict = {}  # (type, value) or ("id", id) → its `k` name
        self.funcs: dict[int, str] = {}  # id(fn) → its `f` name
        self.held: list = []  # what `funcs` is keyed by, kept alive while writing
        self.prelude: list[ast.stmt] = []  # the definitions, in dependency order
        self.body: list[ast.stmt] = []
        self.defs: dict = {}  # let key → (local name, whether reading it may raise)
        self.assigned: set[int] = set()
        self.temps = 0
        self.raising = False  # whether the expression being written may raise (a definition's try)
        self.ints: set[str] = set()  # the names known to hold an int (`integral`)
        self.reads_ctx = False  # whether a closure is called with the context (the evaluator makes one then)
        self.marked: set[int] = set()  # the `optional` lines whose record `mark` may say exists (`e` names)

    # ------------------------------------------------------------ names
    def const(self, value) -> ast.expr:
        if value is None or type(value) is bool:
            return N.Constant(value)
        try:
            key = (type(value), value)
            hash(key)
        except TypeError:
            key = ("id", id(value))
            self.held.append(value)
        name = self.consts.get(key)
        if name is None:
            name = self.consts[key] = f"k{len(self.consts)}"
            self.env[name] = value
            if type(value) is int:
                self.ints.add(name)
        return _name(name)

    def func(self, fn: Callable) -> ast.expr:
        name = self.funcs.get(id(fn))
        if name is None:
            name = self.funcs[id(fn)] = f"f{len(self.funcs)}"
            self.env[name] = fn
            self.held.append(fn)
        return _name(name)

    def temp(self) -> str:
        self.temps += 1
        return f"t{self.temps}"

    def reg(self, i: int) -> ast.expr:
        if i in self.assigned:
            return _name(f"r{i}")
        if i in self.known:
            return self.const(self.known[i])
        return self.const(self.template[i])

    def call(self, fn: ast.expr, *args: ast.expr) -> ast.expr:
        return N.Call(fn, list(args), [])

    def whole(self, value: ast.expr) -> ast.expr:
        """values.whole inline: `t.numerator if type(t := value) is Fraction and t.denominator == 1 else t`
        (the slots, `NUMERATOR` and `DENOMINATOR`)."""
        t = self.temp()
        test = N.BoolOp(ast.And(), [
            N.Compare(self.call(_name("type"), N.NamedExpr(_name(t, True), value)), [ast.Is()],
                        [_name("Fraction")]),
            N.Compare(N.Attribute(_name(t), DENOMINATOR, ast.Load()), [ast.Eq()], [self.const(1)])])
        return N.IfExp(test, N.Attribute(_name(t), NUMERATOR, ast.Load()), _name(t))

    def divide(self, x: ast.expr, y: ast.expr, known=None) -> ast.expr:
        """values.divide inline (`y` a name or a constant, not zero): two ints give their quotient
        where it is whole, else a Fraction; anything else `whole(x / y)`. Never a float. `known`: y's
        value where it is a constant (a Fraction divisor needs no int case)."""
        if known is not None and type(known) is not int:
            return self.whole(N.BinOp(x, ast.Div(), y))
        t = self.temp()
        both = N.Compare(self.call(_name("type"), N.NamedExpr(_name(t, True), x)), [ast.Is()], [_name("int")])
        if known is None:
            both = N.BoolOp(ast.And(), [both, N.Compare(self.call(_name("type"), y), [ast.Is()], [_name("int")])])
        ints = N.IfExp(N.Compare(N.BinOp(_name(t), ast.Mod(), y), [ast.Eq()], [self.const(0)]),
                         N.BinOp(_name(t), ast.FloorDiv(), y), self.call(_name("Fraction"), _name(t), y))
        return N.IfExp(both, ints, self.whole(N.BinOp(_name(t), ast.Div(), y)))

    def linear(self, base, terms: list[tuple[int, ast.expr]]) -> ast.expr:
        """whole(base ± term ± …), evaluated left to right as the staged sums are; without `whole`
        where every term is an int (`integral`)."""
        acc = None if type(base) is int and base == 0 else self.const(base)
        for sign, term in terms:
            if acc is None:
                acc = term if sign > 0 else N.BinOp(self.const(0), ast.Sub(), term)
            else:
                acc = N.BinOp(acc, ast.Add() if sign > 0 else ast.Sub(), term)
        acc = acc if acc is not None else self.const(0)
        return acc if self.integral(self.const(base), *[t for _, t in terms]) else self.whole(acc)

    def integral(self, *values: ast.expr) -> bool:
        """Whether each of these is known to be an int: a constant int, or a local that only ever
        holds one (ints stay ints under +, −, ×, min, max; a rounding to a whole step gives one)."""
        return all(type(v) is N.Name and v.id in self.ints for v in values)

    def rounded(self, value: ast.expr, rnd: Callable, out: list[ast.stmt], target: str) -> None:
        """`target = rnd(value)`, appended to `out`: a rounding made by `values.rounder` (its `rule`:
        the step p/q and the mode) written out as its `apply` computes it, without a call — an int
        already on the grid is itself; otherwise the floor of numerator × q ÷ (denominator × p),
        one step more where the remainder and the mode say so, times the step. A rounding without
        a rule is called (tests/test_generated.py holds the two to each other)."""
        rule = getattr(rnd, "rule", None)
        if rule is None or rule[2] not in _ROUNDING:
            out.append(N.Assign([_name(target, True)], self.call(self.func(rnd), value)))
            return
        p, q, mode = rule
        if type(value) is N.Name:
            x = value
        else:
            x = _name(self.temp())
            out.append(N.Assign([_name(x.id, True)], value))
        n, d, w = (self.temp() for _ in range(3))
        is_int = N.Compare(self.call(_name("type"), x), [ast.Is()], [_name("int")])

        def times(v: ast.expr, k: int) -> ast.expr:
            return v if k == 1 else N.BinOp(v, ast.Mult(), self.const(k))

        fraction = [N.Assign([_name(n, True)], times(N.Attribute(x, NUMERATOR, ast.Load()), q)),
                    N.Assign([_name(d, True)], times(N.Attribute(x, DENOMINATOR, ast.Load()), p))]
        on_grid = None  # apply's shortcut: an int on a grid of whole steps is itself
        if q == 1:
            on_grid = is_int if p == 1 else N.BoolOp(ast.And(), [is_int, N.Compare(
                N.BinOp(x, ast.Mod(), self.const(p)), [ast.Eq()], [self.const(0)])])
        if not (q == 1 and p == 1):  # an int off the grid (or any int, on a grid of fractions) is divided too
            fraction = [N.If(is_int, [N.Assign([_name(n, True)], times(x, q)),
                                      N.Assign([_name(d, True)], self.const(p))], fraction)]
        body = fraction + [N.Assign([_name(w, True)], N.BinOp(_name(n), ast.FloorDiv(), _name(d)))]
        if mode == "down":
            result = _name(w)
        else:
            h = self.temp()  # twice the remainder (0 ≤ remainder < d), against d
            body.append(N.Assign([_name(h, True)], N.BinOp(N.BinOp(_name(n), ast.Mod(), _name(d)), ast.Mult(),
                                                           self.const(2))))
            if mode == "up":
                more = N.Compare(_name(h), [ast.NotEq()], [self.const(0)])
            else:
                tie = {"half up": N.Compare(_name(n), [ast.GtE()], [self.const(0)]),
                       "half down": N.Compare(_name(n), [ast.Lt()], [self.const(0)]),
                       "half even": N.Compare(N.BinOp(_name(w), ast.Mod(), self.const(2)), [ast.NotEq()],
                                              [self.const(0)])}[mode]
                more = N.BoolOp(ast.Or(), [N.Compare(_name(h), [ast.Gt()], [_name(d)]), N.BoolOp(ast.And(), [
                    N.Compare(_name(h), [ast.Eq()], [_name(d)]), tie])])
            result = N.IfExp(more, N.BinOp(_name(w), ast.Add(), self.const(1)), _name(w))
        if q == 1:
            result = times(result, p)
        else:
            result = self.whole(self.call(_name("Fraction"), times(result, p), self.const(q)))
        body.append(N.Assign([_name(target, True)], result))
        if on_grid is None:
            out.extend(body)
        else:
            out.append(N.If(on_grid, [N.Assign([_name(target, True)], x)], body))

    # ------------------------------------------------------------ expressions (compiler.py's closures)
    def expr(self, fn: Callable) -> ast.expr:
        if fn in self.folded:
            return self.const(self.folded[fn])
        shape = getattr(fn, "shape", None)
        if shape is None:  # not written inline: the closure itself, called as the staged program calls it
            self.raising = self.reads_ctx = True
            return self.call(self.func(fn), _name("ctx"))
        kind, *a = shape
        if kind == "input":
            name, period, boolean = a
            value = N.Subscript(_name("inputs"), self.const(name), ast.Load())
            if period is not None:
                value = N.Subscript(value, self.const(period), ast.Load())
            return value if boolean else self.whole(value)
        if kind == "let":
            return self.let(*a)
        if kind == "linear":
            k, terms = a
            return self.linear(k, [(sign, self.expr(f)) for sign, f in terms])
        if kind == "mul":
            x, y = a
            return self.whole(N.BinOp(self.expr(x), ast.Mult(), self.expr(y)))
        if kind == "div":
            x, y, zero = a
            if zero is None:  # a divisor known not to be zero
                return self.divide(self.expr(x), self.expr(y), self.folded.get(y))
            # the divisor first, then the dividend, as the staged quotient reads them
            self.raising = True
            t = self.temp()

            def raised():
                raise zero()
            test = N.Compare(N.NamedExpr(_name(t, True), self.expr(y)), [ast.NotEq()], [self.const(0)])
            return N.IfExp(test, self.divide(self.expr(x), _name(t)), self.call(self.func(raised)))
        if kind == "neg":
            return N.UnaryOp(ast.USub(), self.expr(a[0]))
        if kind == "abs":
            return self.call(_name("abs"), self.expr(a[0]))
        if kind == "extreme":
            op, values = a
            args = [self.expr(v) for v in values]
            return self.call(_name(op), *(args if len(args) == 2 else [N.List(args, ast.Load())]))
        if kind == "compare":
            op, x, y = a
            return N.Compare(self.expr(x), [_CMP[op]()], [self.expr(y)])
        if kind == "not":
            return N.UnaryOp(ast.Not(), self.expr(a[0]))
        if kind in ("and", "or"):
            return N.BoolOp(ast.And() if kind == "and" else ast.Or(), [self.expr(v) for v in a[0]])
        if kind in ("all", "any"):  # all()/any() answer True or False, whatever the values
            test = N.BoolOp(ast.And() if kind == "all" else ast.Or(), [self.expr(v) for v in a[0]])
            return N.IfExp(test, N.Constant(True), N.Constant(False))
        if kind == "first":
            pairs, default = a
            out = self.expr(default)
            conditions = [(self.expr(c), self.expr(v)) for c, v in pairs]  # written in reading order
            for c, v in reversed(conditions):
                out = N.IfExp(c, v, out)
            return out
        raise Unsupported(kind)

    def let(self, key, body: Callable) -> ast.expr:
        """A definition: computed once, at the top, in dependency order (as evaluate's prelude); one
        that may fail keeps its error (`Failed`), raised where it is read."""
        if key not in self.defs:
            saved, self.raising = self.raising, False
            value = self.expr(body)
            fallible, self.raising = self.raising, saved
            local = f"d{len(self.defs)}"
            if fallible:
                err = self.temp()
                self.prelude.append(N.Try(
                    [N.Assign([_name(local, True)], value)],
                    [N.ExceptHandler(_name("EvaluationError"), err, [
                        N.Assign([_name(local, True)], self.call(_name("Failed"), _name(err)))])], [], []))
            else:
                self.prelude.append(N.Assign([_name(local, True)], value))
            self.defs[key] = (local, fallible)
        local, fallible = self.defs[key]
        if not fallible:
            return _name(local)
        self.raising = True
        return N.IfExp(N.Compare(self.call(_name("type"), _name(local)), [ast.Is()], [_name("Failed")]),
                         self.call(_name("reraise"), _name(local)), _name(local))

    # ------------------------------------------------------------ operations (evaluate._Stager's)
    def assign(self, k: int, value: ast.expr, integral: bool = False) -> None:
        self.assigned.add(k)
        if integral:
            self.ints.add(f"r{k}")
        self.body.append(N.Assign([_name(f"r{k}", True)], value))

    def op(self, op: Callable) -> None:
        shape = getattr(op, "shape", None)
        if shape is None:
            raise Unsupported(getattr(op, "__qualname__", "an operation"))
        kind, *a = shape
        if kind == "expr":
            k, fn, guard = a
            value = self.expr(fn)
            if guard is not None:
                value = N.IfExp(N.Compare(self.reg(guard), [ast.Is()], [N.Constant(False)]),
                                  self.const(0), value)
            self.assign(k, value)
        elif kind == "round":
            k, rnd, x, ints = a
            self.assigned.add(k)
            if ints:
                self.ints.add(f"r{k}")
            self.rounded(self.reg(x), rnd, self.body, f"r{k}")
        elif kind == "linear":
            k, signs, regs = a
            self.assign(k, self.linear(0, [(s, self.reg(v)) for s, v in zip(signs, regs)]),
                        self.integral(*map(self.reg, regs)))
        elif kind == "total":
            k, base, regs = a
            self.assign(k, self.linear(base, [(1, self.reg(v)) for v in regs]),
                        self.integral(self.const(base), *map(self.reg, regs)))
        elif kind == "mul":
            k, x, y = a
            product = N.BinOp(self.reg(x), ast.Mult(), self.reg(y))
            ints = self.integral(self.reg(x), self.reg(y))
            self.assign(k, product if ints else self.whole(product), ints)
        elif kind == "extreme":
            k, name, values = a
            args = [self.reg(v) for v in values]  # min(a, b), or min([a, b, c]) as the staged operation
            self.assign(k, self.call(_name(name), *(args if len(args) == 2 else [N.List(args, ast.Load())])),
                        self.integral(*args))
        elif kind == "compare":
            k, name, x, y = a
            self.assign(k, N.Compare(self.reg(x), [_CMP[name]()], [self.reg(y)]))
        elif kind == "select":
            k, c, t, o = a
            self.assign(k, N.IfExp(self.reg(c), self.reg(t), self.reg(o)), self.integral(self.reg(t), self.reg(o)))
        elif kind == "band":
            k, x, y = a
            self.assign(k, N.BoolOp(ast.And(), [self.reg(x), self.reg(y)]))
        elif kind == "bnot":
            k, x = a
            self.assign(k, N.UnaryOp(ast.Not(), self.reg(x)))
        elif kind == "call":
            k, fn, regs = a
            self.assign(k, self.call(self.func(fn), *[self.reg(v) for v in regs]))
        elif kind == "cut":
            self.cut(*a)
        elif kind == "mark":
            self.body.append(self.mark(*a))
        else:
            raise Unsupported(kind)

    def mark(self, line: int, before, after, acted) -> ast.stmt:
        """evaluate._Stager.trace's `mark`: whether an `optional` line has a record (`e` and the
        line's index, a local set from the evaluator's template at the top)."""
        self.marked.add(line)
        # evaluate._acts inline: `acted if acted is not None else after != before`
        b, a = (N.Constant(None) if x is None else self.reg(x) for x in (before, after))
        test = N.Compare(a, [ast.NotEq()], [b])
        if acted is not None:
            c = self.reg(acted)
            test = N.IfExp(N.Compare(c, [ast.IsNot()], [N.Constant(None)]), c, test)
        return N.If(test, [N.Assign([_name(f"e{line}", True)], N.Constant(True))], [])

    def cut(self, out, acted, regs, compute, step, kernel, excess, fused, marks) -> None:
        """evaluate._Stager._cut's operation: the excess (computed here where it is a total less a
        level), then the lines passed through where it is not positive, else the driver's cut
        itself: the driver's cut that `compute` says it runs (`compute.reference`: semantics.run.cut,
        pro_rata or weighted_cut), written out by running it once on primitives that write
        statements (`_Written`); a `compute` that does not say is called as the staged cut calls it."""
        e = self.temp()
        if fused is None:
            value = self.reg(excess)
        else:
            base, summed, level, unless = fused
            value = self.linear(base, [(1, self.reg(v)) for v in summed] + [(-1, self.reg(level))])
            if unless is not None:
                value = N.IfExp(self.reg(unless), self.const(0), value)
        self.body.append(N.Assign([_name(e, True)], value))
        if (fused is None and self.integral(value)) or (fused is not None and self.integral(
                self.const(fused[0]), *[self.reg(v) for v in fused[1]], self.reg(fused[2]))):
            self.ints.add(e)
        amounts = [self.reg(v) for v in regs]
        passed = [N.Assign([_name(f"r{k}", True)], v) for k, v in zip(out, amounts)]
        passed.append(N.Assign([_name(f"r{acted}", True)], N.Constant(False)))
        cutting: list[ast.stmt] = []
        reference = getattr(compute, "reference", None)
        if reference is not None:
            news, cuts = reference(_Written(self, cutting, kernel), amounts, _name(e))
        else:
            t = self.temp()
            cutting.append(N.Assign([_name(t, True)], self.call(self.func(compute), self.const(step),
                                                                N.List(amounts, ast.Load()), _name(e))))
            news = [N.Subscript(N.Subscript(_name(t), self.const(0), ast.Load()), self.const(i), ast.Load())
                    for i in range(len(out))]
            cuts = N.Subscript(_name(t), self.const(1), ast.Load())
        cutting += [N.Assign([_name(f"r{k}", True)], v) for k, v in zip(out, news)]
        # a line is an int after the cut where it was one before and the cut leaves an int
        self.ints.update(f"r{k}" for k, before, v in zip(out, amounts, news) if self.integral(before, v))
        cutting.append(N.Assign([_name(f"r{acted}", True)], cuts))
        self.assigned.update(out)
        self.assigned.add(acted)
        if marks:
            cutting.append(N.If(_name(f"r{acted}"), [self.mark(*self._shape(m, "mark")) for m in marks], []))
        test = N.UnaryOp(ast.Not(), N.Compare(_name(e), [ast.Gt()], [self.const(0)]))
        self.body.append(N.If(test, passed, cutting))

    @staticmethod
    def _shape(fn, kind: str) -> tuple:
        shape = getattr(fn, "shape", None)
        if shape is None or shape[0] != kind:
            raise Unsupported(kind)
        return shape[1:]


class _Written:
    """semantics.run's primitives over `ast` expressions, each appending the statement that computes
    it (`evaluate._Concrete`'s arithmetic written out): the driver's cut, run once on these, leaves
    its straight-line code. `never` is False (nothing here is known), so every line's take is written:
    where the concrete cut stops early, the lines after take nothing, the same amounts."""

    def __init__(self, writer: _Writer, out: list[ast.stmt], kernel):
        self.w, self.out, self.kernel = writer, out, kernel
        self.ZERO = writer.const(0)

    def _let(self, value: ast.expr, integral: bool = False) -> ast.expr:
        t = self.w.temp()
        self.out.append(N.Assign([_name(t, True)], value))
        if integral:
            self.w.ints.add(t)
        return _name(t)

    def const(self, value) -> ast.expr:
        return N.Constant(value) if type(value) is bool else self.w.const(value)

    def never(self, c) -> bool:
        return False

    def band(self, a, b):
        return self._let(N.BoolOp(ast.And(), [a, b]))

    def compare(self, op: str, a, b):
        return self._let(N.Compare(a, [_CMP[op]()], [b]))

    def extreme(self, op: str, values):
        args = list(values)
        return self._let(self.w.call(_name(op), *(args if len(args) == 2 else [N.List(args, ast.Load())])),
                         self.w.integral(*args))

    def select(self, c, t, o):
        return self._let(N.IfExp(c, t, o), self.w.integral(t, o))

    def sub(self, a, b):
        return self._let(self.w.linear(0, [(1, a), (-1, b)]), self.w.integral(a, b))

    def mul(self, a, b):
        ints = self.w.integral(a, b)
        product = N.BinOp(a, ast.Mult(), b)
        return self._let(product if ints else self.w.whole(product), ints)

    def linear(self, terms):
        terms = list(terms)
        return self._let(self.w.linear(0, terms), self.w.integral(*[t for _, t in terms]))

    def round_down(self, x):
        t = self.w.temp()
        self.w.rounded(x, self.kernel.round_down, self.out, t)
        if getattr(self.kernel.round_down, "rule", (1, None))[1] == 1:  # to a whole step: an int
            self.w.ints.add(t)
        return _name(t)

    def part(self, a, level, total):
        return self._let(self.w.call(self.w.func(self.kernel.part), a, level, total))

    def __getattr__(self, name: str):  # a primitive a cut of the future reads: not written (yet)
        raise Unsupported(name)


def generate(ops: list[Callable], known: dict, template: list, folded: dict, needed, lines: list[tuple],
             exists: list, line: type, digest: str):
    """The settlement function of these staged operations, or None where the generator does not
    write one of them (the caller keeps the staged program).

    `settle(ctx, inputs, written)` returns the settlement's lines — `line.made(fields, amount,
    written, i)`'s instance for each of `lines` (its fields, the register of its amount, whether it
    is there only where its record exists: `exists[i]` at first, then as the operations mark it),
    in order, a tuple (a
    list where more than `_SEGMENTS` lines are `optional`) —, whether any line's amount is
    negative, and, for the audit trail written later, the registers of `needed` it computed
    (`settle.kept` says which). `ctx` is read only where `settle.reads_ctx` (a closure called as it is)."""
    with paused():  # thousands of acyclic nodes: the cyclic collector would only walk them
        return _generate(ops, known, template, folded, needed, lines, exists, line, digest)


_SEGMENTS = 8  # up to this many `optional` lines, the lines are a sum of tuples; more, a list appended to


def _lines(writer: _Writer, lines: list[tuple], line: type) -> tuple[list[ast.stmt], ast.expr, ast.expr]:
    """The statements that make the lines, the lines (a tuple, or a list where many are
    `optional`), and whether one of them is negative (evaluate's E601, worded by the caller).

    A line is `line.made`'s instance made without the call: `new(line)`, its dict filled from the
    line's `prototype` and its amount and trail set (`written`, the settlement's)."""
    negative: list[ast.expr] = []
    made: list[tuple[list[ast.stmt], str, int | None]] = []  # each line's statements, its name, its `e` index
    for i, (fields, amount, maybe) in enumerate(lines):
        t, d = writer.temp(), writer.temp()
        statements = [
            N.Assign([_name(t, True)], writer.call(_name("new"), writer.const(line))),
            N.Assign([_name(d, True)], N.Attribute(_name(t), "__dict__", ast.Load())),
            N.Expr(writer.call(N.Attribute(_name(d), "update", ast.Load()), writer.const(line.prototype(fields, i)))),
            N.Assign([N.Subscript(_name(d), writer.const("exact"), ast.Store())], writer.reg(amount)),
            N.Assign([N.Subscript(_name(d), writer.const("_trail"), ast.Store())], _name("written"))]
        if not (amount in writer.known and writer.known[amount] >= 0):
            negative.append(N.Compare(writer.reg(amount), [ast.Lt()], [writer.const(0)]))
        made.append((statements, t, i if maybe else None))
    any_negative = N.BoolOp(ast.Or(), negative) if len(negative) > 1 else \
        negative[0] if negative else N.Constant(False)
    out: list[ast.stmt] = []
    for statements, _, i in made:  # an `optional` line is made only where it exists
        out += statements if i is None else [N.If(_name(f"e{i}"), statements, [])]
    run: list[ast.expr] = []  # consecutive lines that are always there: one tuple (or added at once)
    if sum(i is not None for _, _, i in made) <= _SEGMENTS:
        # (a, b) + ((c,) if e2 else ()) + (d,): the lines that exist, a tuple
        parts: list[ast.expr] = []
        for _, t, i in made:
            if i is None:
                run.append(_name(t))
                continue
            if run:
                parts.append(N.Tuple(run, ast.Load()))
                run = []
            parts.append(N.IfExp(_name(f"e{i}"), N.Tuple([_name(t)], ast.Load()), N.Tuple([], ast.Load())))
        if run or not parts:
            parts.append(N.Tuple(run, ast.Load()))
        result = parts[0]
        for part in parts[1:]:
            result = N.BinOp(result, ast.Add(), part)
        return out, result, any_negative
    listed = writer.temp()
    out.append(N.Assign([_name(listed, True)], N.List([], ast.Load())))
    for _, t, i in made:
        if i is None:
            run.append(_name(t))
            continue
        if run:
            out.append(N.AugAssign(_name(listed, True), ast.Add(), N.List(run, ast.Load())))
            run = []
        out.append(N.If(_name(f"e{i}"), [
            N.Expr(writer.call(N.Attribute(_name(listed), "append", ast.Load()), _name(t)))], []))
    if run:
        out.append(N.AugAssign(_name(listed, True), ast.Add(), N.List(run, ast.Load())))
    return out, _name(listed), any_negative


def _generate(ops, known, template, folded, needed, lines, exists, line, digest):
    writer = _Writer(known, template, folded)
    try:
        for op in ops:
            writer.op(op)
        kept = [k for k in sorted(writer.assigned) if k in needed]
        making, made_lines, negative = _lines(writer, lines, line)
        # whether each `optional` line has a record: its template's answer, until an operation marks it
        optional = sorted(writer.marked | {i for i, (_, _, maybe) in enumerate(lines) if maybe})
        marks = [N.Assign([_name(f"e{i}", True)], N.Constant(bool(exists[i]))) for i in optional]
        tree = tree_of(marks + writer.prelude + writer.body + making + [N.Return(N.Tuple([
            made_lines, negative, N.Tuple([_name(f"r{k}") for k in kept], ast.Load())], ast.Load()))])
        code = compile(tree, f"<sibc generated: {digest}>", "exec")
    except (Unsupported, RecursionError):  # (a chain of thousands of definitions: the staged program)
        return None
    function = next(c for c in code.co_consts if isinstance(c, types.CodeType))
    settle = types.FunctionType(function, writer.env, "settle")
    settle.tree = tree  # for tests/test_generated.py, which walks it
    settle.kept = tuple(kept)
    settle.reads_ctx = writer.reads_ctx
    return settle


def tree_of(body: list[ast.stmt]) -> ast.Module:
    args = ast.arguments([], [N.arg(x) for x in _LOCALS], None, [], [], None, [])
    function = N.FunctionDef(name="settle", args=args, body=body, decorator_list=[], returns=None)
    return ast.Module([function], [])
