"""The parser `sibc check` uses, prebuilt: lark's LALR tables and basic lexer for grammar/sib.lark
as data shipped with sibc (sibdsl/parser_tables.py), run here without importing lark.

In: the grammar's text and the callbacks parser.py builds syntax nodes with. Out: `Prebuilt`,
whose `parse(text)` calls the callbacks exactly as lark's basic-lexer LALR parser with
`keep_all_tokens` would (the same tokens, positions, reductions and callback wrappers), or raises
`Unexpected` where lark would raise UnexpectedInput; parser.py then asks lark for the diagnostics.

Why (issue 21, docs/performance.md): importing lark and reading its pickled tables cost ≈ 225 M
instructions of a `sibc check` that needs neither lark's grammar compiler nor its error
machinery, and a fully cold run made the tables (≈ 0.3 s). The tables are made by lark when
they are generated, never by hand:

    python -m sibdsl.prebuilt          # rewrites sibdsl/parser_tables.py from grammar/sib.lark

tests/test_prebuilt.py fails when the shipped file is not what lark makes of the grammar today
(the grammar or lark changed: run the command), and compares the prebuilt parser with lark's on
every pinned text. At run time a file made from another grammar (an edited grammar not
regenerated) is not used: `load` returns None and parser.py builds lark's parser as before.
The file is a Python module holding one literal, `TABLES` (ints, strings, lists and dicts written
with `repr`, nothing else), because a module's literals load from its cached bytecode ≈ 3× cheaper
than the same data from JSON (docs/performance.md); it is the package's own module, generated from
the package's grammar: nothing a user gives is ever read or run here.
"""

from __future__ import annotations

import os
import re

FORMAT = 1  # the layout of TABLES; a module of another layout is not used
TABLES_MODULE = "sibdsl.parser_tables"
TABLES_FILE = os.path.join(os.path.dirname(os.path.realpath(__file__)), "parser_tables.py")
START = "start"


class Unexpected(Exception):
    """The text is not in the grammar (or has a character no terminal matches) at `pos`: where
    lark's UnexpectedInput says (`pos_in_stream`; at the end of the text, the start of its last
    token, as lark's end token borrows it)."""

    def __init__(self, pos: int):
        super().__init__(pos)
        self.pos = pos


class Token(str):
    """A token as lark's `Token`: the text, its terminal's name and its place (lines and columns
    1-based, as lark and Source count them)."""

    # type, start_pos, end_pos, line, column, end_line, end_column: set by Prebuilt.parse (a str
    # subclass cannot have slots)

    @property
    def value(self) -> str:
        return str(self)


class _Tree:
    """What lark makes of a rule the callbacks have no method for (an inlined `_rule`): its
    parent splices its children."""

    __slots__ = ("children", "data")

    def __init__(self, data: str, children: list):
        self.data = data
        self.children = children


# ---------------------------------------------------------------- generating (lark needed)
def generate(grammar: str) -> dict:
    """The tables lark makes of `grammar` for the builder with the basic lexer (parser.py's
    `_builder("basic")`: LALR, keep_all_tokens, no placeholders), as data."""
    import lark
    from lark.parse_tree_builder import ChildFilterLALR_NoPlaceholders, maybe_create_child_filter
    from lark.parsers.lalr_analysis import Shift

    made = lark.Lark(grammar, parser="lalr", lexer="basic", keep_all_tokens=True, maybe_placeholders=False)
    table = made.parser.parser._parse_table
    number = {id(rule): i for i, rule in enumerate(made.rules)}
    rules = []
    for rule in made.rules:
        chooser = maybe_create_child_filter(rule.expansion, rule.options.keep_all_tokens, False, None)
        include = None
        if chooser is not None:
            assert chooser.func is ChildFilterLALR_NoPlaceholders, chooser
            include = [[i, bool(expand)] for i, expand in chooser.args[0]]
        name = rule.alias or rule.options.template_source or rule.origin.name
        rules.append([str(rule.origin.name), len(rule.expansion), str(name), bool(rule.options.expand1 and not rule.alias),
                      include])
    # lark numbers its states in an order that depends on the hash seed: number them again, in
    # the order a walk from the start state meets them (symbols in sorted order), so that one
    # grammar gives one file
    order = [table.start_states[START]]
    renumbered = {order[0]: 0}
    for state in order:
        for symbol, (action, arg) in sorted(table.states[state].items()):
            if action is Shift and arg not in renumbered:
                renumbered[arg] = len(order)
                order.append(arg)
    assert len(order) == len(table.states), "every state is reached from the start"
    states = []
    for state in order:
        row = {}
        for symbol, (action, arg) in sorted(table.states[state].items()):
            row[str(symbol)] = renumbered[arg] if action is Shift else -1 - number[id(arg)]
        states.append(row)
    lexer = made.parser.lexer
    scanner = lexer.scanner  # made as on lark's first parse: its `_create_unless` decides the keywords
    unless = {}
    for terminal, callback in sorted(lexer.callback.items()):
        words = {}
        for word in callback.scanner.terminals:
            # a keyword lark tells from a NAME by a whole match of its literal: a lookup here
            assert word.pattern.type == "str" and not word.pattern.flags, word
            words[str(word.pattern.value)] = str(word.name)
        unless[str(terminal)] = words
    return {
        "format": FORMAT,
        "lark": lark.__version__,
        # the grammar itself, not a digest: comparing texts needs no hashlib (≈ 12 M instructions
        # to import), and a module made from another grammar is never taken for this one's
        "grammar": grammar,
        "start_state": 0,
        "end_state": renumbered[table.end_states[START]],
        "lexer": {"patterns": [str(mre.pattern) for mre in scanner._mres], "flags": int(lexer.g_regex_flags),
                  "ignore": sorted(map(str, lexer.ignore_types)), "newline": sorted(map(str, lexer.newline_types)),
                  "unless": unless},
        "rules": rules,
        "states": states,
    }


def dumps(tables: dict) -> str:
    """The module's text: `TABLES = {…}`, one rule and one state a line, so that a grammar change
    reads as a diff."""
    lines = ['"""lark\'s tables for grammar/sib.lark, generated by `python -m sibdsl.prebuilt`: do not edit',
             '(sibdsl/prebuilt.py says what they are; tests/test_prebuilt.py that they are the grammar\'s)."""',
             "# ruff: noqa", "", "TABLES = {"]
    lines += [f"    {key!r}: {tables[key]!r}," for key in sorted(tables) if key not in ("grammar", "rules", "states")]
    for key in ("rules", "states"):
        lines.append(f"    {key!r}: [")
        lines += [f"        {item!r}," for item in tables[key]]
        lines.append("    ],")
    lines.append("    'grammar': (")  # the grammar last, a line of it a line here
    lines += [f"        {line!r}" for line in tables["grammar"].splitlines(keepends=True)]
    lines.append("    ),")
    lines.append("}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- running (no lark)
def load(grammar: str, callbacks) -> Prebuilt | None:
    """The prebuilt parser, if the shipped module (TABLES_MODULE) is there, of this layout and
    made from `grammar`; else None."""
    import importlib

    try:
        tables = importlib.import_module(TABLES_MODULE).TABLES
    except (ImportError, AttributeError, SyntaxError):
        return None
    if not isinstance(tables, dict) or tables.get("format") != FORMAT or \
            tables.get("grammar") != grammar:
        return None
    return Prebuilt(tables, callbacks)


class Prebuilt:
    """lark's `Lark(grammar, parser="lalr", lexer="basic", keep_all_tokens=True,
    maybe_placeholders=False, transformer=callbacks).parse`, from the tables `generate` made."""

    def __init__(self, tables: dict, callbacks):
        lexer = tables["lexer"]
        self._matchers = [re.compile(p, lexer["flags"]).match for p in lexer["patterns"]]
        self._ignore = frozenset(lexer["ignore"])
        self._newline = frozenset(lexer["newline"])
        self._unless = lexer["unless"]
        self._states = tables["states"]
        self._start, self._end = tables["start_state"], tables["end_state"]
        self._rules = [(origin, size, _wrapped(callbacks, name, expand1, include))
                       for origin, size, name, expand1, include in tables["rules"]]

    def parse(self, text: str):
        states, rules, unless = self._states, self._rules, self._unless
        ignore, newline = self._ignore, self._newline
        matchers = self._matchers
        single = matchers[0] if len(matchers) == 1 else None
        state_stack = [self._start]
        value_stack: list = []
        end_state = self._end
        pos, line, line_start, end = 0, 1, 0, len(text)
        token = None
        new = str.__new__
        while True:
            if pos < end:
                if single is not None:
                    found = single(text, pos)
                else:
                    found = None
                    for match in matchers:
                        found = match(text, pos)
                        if found:
                            break
                if not found:
                    raise Unexpected(pos)
                value = found.group(0)
                kind = found.lastgroup
                start, start_line, column = pos, line, pos - line_start + 1
                pos += len(value)
                if kind in newline:
                    count = value.count("\n")
                    if count:
                        line += count
                        line_start = start + value.rindex("\n") + 1
                if kind in ignore:
                    continue
                token = new(Token, value)
                words = unless.get(kind)
                if words is not None:
                    kind = words.get(value, kind)
                token.type = kind
                token.start_pos, token.line, token.column = start, start_line, column
                token.end_pos, token.end_line, token.end_column = pos, line, pos - line_start + 1
                at_end = False
            else:
                kind, at_end = "$END", True
            while True:
                action = states[state_stack[-1]].get(kind)
                if action is None:
                    raise Unexpected(token.start_pos if token is not None else 0)
                if action >= 0:
                    if at_end:  # lark asserts this never happens
                        raise Unexpected(token.start_pos if token is not None else 0)
                    state_stack.append(action)
                    value_stack.append(token)
                    break
                origin, size, callback = rules[-1 - action]
                if size:
                    children = value_stack[-size:]
                    del state_stack[-size:]
                    del value_stack[-size:]
                else:
                    children = []
                result = callback(children)
                state_stack.append(states[state_stack[-1]][origin])
                value_stack.append(result)
                if at_end and state_stack[-1] == end_state:
                    return result


def _wrapped(callbacks, name: str, expand1: bool, include):
    """A rule's callback as lark's ParseTreeBuilder wraps it (parse_tree_builder.py): the method
    of `callbacks` named after the rule (or a _Tree), a `?rule` with one child passing it on, and
    the children of inlined `_rules` spliced in."""
    function = getattr(callbacks, name, None)
    if function is None:
        def function(children, name=name):
            return _Tree(name, children)
    if expand1:
        inner = function

        def function(children):
            return children[0] if len(children) == 1 else inner(children)
    if include is not None:
        chosen = [(i, expand) for i, expand in include]
        builder = function

        def function(children):
            filtered = []
            for i, expand in chosen:
                if expand:
                    if filtered:
                        filtered += children[i].children
                    else:  # as lark does: the left-recursive case takes the child's list itself
                        filtered = children[i].children
                else:
                    filtered.append(children[i])
            return builder(filtered)
    return function


if __name__ == "__main__":
    from .parser import grammar_text

    with open(TABLES_FILE, "w", encoding="utf-8", newline="\n") as out:
        out.write(dumps(generate(grammar_text())))
    print(f"wrote {TABLES_FILE}")
