"""The parser `sibc check` uses, prebuilt: lark's LALR tables and contextual lexer for
grammar/sib.lark as data shipped with sibc (sibdsl/parser_tables.py), run here without importing
lark.

In: the grammar's text and the callbacks parser.py builds syntax nodes with. Out: `Prebuilt`,
whose `parse(text)` calls the callbacks exactly as lark's contextual-lexer LALR parser with
`keep_all_tokens` would (the same tokens, positions, reductions and callback wrappers), or raises
`Unexpected` where lark would raise UnexpectedInput; parser.py then asks lark for the diagnostics.
A keyword where only a name can stand (`measure version: number`) is a NAME, as lark's
contextual lexer reads it (before issue 21's fifth round the basic lexer read it as a keyword,
and 7 of the 13 shipped contracts went to lark: docs/performance.md).

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

FORMAT = 2  # the layout of TABLES; a module of another layout is not used
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

    made = lark.Lark(grammar, parser="lalr", lexer="contextual", keep_all_tokens=True, maybe_placeholders=False)
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
        for _symbol, (action, arg) in sorted(table.states[state].items()):  # in the symbols' order
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
    contextual = made.parser.lexer
    lexer = contextual.root_lexer  # the basic lexer: every terminal of the grammar in one expression
    scanner = lexer.scanner  # made as on lark's first parse: its `_create_unless` decides the keywords
    unless = {}
    for terminal, callback in sorted(lexer.callback.items()):
        words = {}
        for word in callback.scanner.terminals:
            # a keyword lark tells from a NAME by a whole match of its literal: a lookup here
            assert word.pattern.type == "str" and not word.pattern.flags, word
            assert str(word.pattern.value) not in words, word  # one keyword a spelling: a lookup is lark's scan
            words[str(word.pattern.value)] = str(word.name)
        unless[str(terminal)] = words
    # The contextual lexer (lark's ContextualLexer): in each parser state a scanner over only the
    # terminals the state accepts (and the ignored ones), in lark's order. Shipped as the ordered
    # names of each distinct scanner's terminals and, per state, which scanner it uses; the run
    # joins the names' expressions as lark does, when a state first needs its scanner.
    regexps = {str(t.name): str(t.pattern.to_regexp()) for t in lexer.terminals}
    literals = {str(t.name): str(t.pattern.value) for t in lexer.terminals if t.pattern.type == "str"}
    firsts = {name: _first_characters(regexps[name], int(lexer.g_regex_flags))
              for name in sorted(regexps) if name not in literals}
    basic_names = {str(t.name) for t in scanner.terminals}
    assert basic_names == set(regexps).difference(*(words.values() for words in unless.values())), \
        "Prebuilt._basic"
    scanners, scanner_of, state_scanner = [], {}, []
    for state in order:
        context = contextual.lexers[state]
        names = [str(t.name) for t in context.scanner.terminals]
        assert len(context.scanner._mres) == 1 and context.scanner._mres[0].pattern == "|".join(
            f"(?P<{name}>{regexps[name]})" for name in names), state  # what the run will join
        assert all(name in basic_names or name in literals for name in names), state  # see Prebuilt._context
        accepts = set(table.states[state]) | set(lexer.ignore_types)
        for name in names:  # a name's keywords here: the basic lexer's, those this state accepts
            callback = context.callback.get(name)
            assert ({} if callback is None else {str(w.pattern.value): str(w.name) for w in callback.scanner.terminals}) \
                == {value: word for value, word in unless.get(name, {}).items() if word in accepts}, state
        if tuple(names) not in scanner_of:
            scanner_of[tuple(names)] = len(scanners)
            scanners.append(names)
        state_scanner.append(scanner_of[tuple(names)])
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
                  "unless": unless, "regexps": regexps, "literals": literals,
                  "firsts": firsts},
        "contexts": scanners,
        "state_context": state_scanner,
        "rules": rules,
        "states": states,
    }


def _first_characters(regexp: str, flags: int) -> str | None:
    """Every character a match of `regexp` can begin with, sorted; None when that is not a short
    list (a class such as \\w, a negated one, a wide range, a flag that changes letters) or the
    expression can match nothing at all. More characters than it can begin with is harmless (the
    run then asks the expression itself), fewer never happens: a lookahead is read as matching."""
    import re._parser as sre  # only when generating

    def sequence(items) -> tuple[set, bool] | None:
        chars: set = set()
        for op, av in items:
            found = item(op, av)
            if found is None:
                return None
            chars |= found[0]
            if not found[1]:
                return chars, False
        return chars, True

    def item(op, av) -> tuple[set, bool] | None:
        if op is sre.LITERAL:
            return {chr(av)}, False
        if op is sre.IN:
            chars = set()
            for kind, value in av:
                if kind is sre.LITERAL:
                    chars.add(chr(value))
                elif kind is sre.RANGE and value[1] - value[0] < 256:
                    chars.update(map(chr, range(value[0], value[1] + 1)))
                else:
                    return None
            return chars, False
        if op is sre.SUBPATTERN:
            return None if av[1] or av[2] else sequence(av[3])
        if op is sre.BRANCH:
            found = [sequence(branch) for branch in av[1]]
            if None in found:
                return None
            return set().union(*(f[0] for f in found)), any(f[1] for f in found)
        if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
            found = sequence(av[2])
            return None if found is None else (found[0], av[0] == 0 or found[1])
        if op in (sre.ASSERT, sre.ASSERT_NOT, sre.AT):
            return set(), True
        return None

    if flags & ~re.UNICODE:
        return None
    found = sequence(sre.parse(regexp, flags))
    return None if found is None or found[1] else "".join(sorted(found[0]))


def dumps(tables: dict) -> str:
    """The module's text: `TABLES = {…}`, one rule and one state a line, so that a grammar change
    reads as a diff."""
    lines = ['"""lark\'s tables for grammar/sib.lark, generated by `python -m sibdsl.prebuilt`: do not edit',
             '(sibdsl/prebuilt.py says what they are; tests/test_prebuilt.py that they are the grammar\'s)."""',
             "# ruff: noqa", "", "TABLES = {"]
    lines += [f"    {key!r}: {tables[key]!r}," for key in sorted(tables) if key not in ("grammar", "rules", "states", "contexts")]
    for key in ("contexts", "rules", "states"):
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
    """lark's `Lark(grammar, parser="lalr", lexer="contextual", keep_all_tokens=True,
    maybe_placeholders=False, transformer=callbacks).parse`, from the tables `generate` made.

    The contextual lexer reads, in each parser state, with a scanner over only the terminals the
    state accepts (a keyword where only a name can stand is a NAME: `measure version: number`).
    Compiling a scanner for each state a text passes through would cost more than the parse, so
    each token is first read by the basic lexer (one expression, every terminal) and taken as it
    is when the state's scanner would read the same: when its terminal is one of the scanner's,
    its type (a keyword, if the basic lexer made it one) is acceptable in the state, and no
    keyword the scanner tries before that terminal (one the basic lexer folds into NAME, so never
    tries on its own) starts there. Then the scanner, which tries its terminals in the same order
    as the basic lexer, fewer of them, finds the same match and gives it the same type. Otherwise
    the state's scanner reads the token: compiled when a state first needs it, kept for the next.
    """

    def __init__(self, tables: dict, callbacks):
        lexer = tables["lexer"]
        self._flags = lexer["flags"]
        self._matchers = [re.compile(p, self._flags).match for p in lexer["patterns"]]
        self._ignore = frozenset(lexer["ignore"])
        self._newline = frozenset(lexer["newline"])
        self._unless = lexer["unless"]
        self._regexps, self._literals, self._firsts = lexer["regexps"], lexer["literals"], lexer["firsts"]
        self._rank = {name: rank for rank, name in enumerate(  # the basic lexer's order of its terminals
            name for match in self._matchers for name in sorted(match.__self__.groupindex,
                                                                 key=match.__self__.groupindex.get))}
        self._contexts = tables["contexts"]
        self._state_context = tables["state_context"]
        self._before: list = [None] * len(self._contexts)  # per scanner: see _context
        self._alone: dict = {}  # a terminal's own expression, compiled: see _read
        self._states = tables["states"]
        self._start, self._end = tables["start_state"], tables["end_state"]
        self._rules = [(origin, size, _wrapped(callbacks, name, expand1, include))
                       for origin, size, name, expand1, include in tables["rules"]]

    def _context(self, state: int) -> dict:
        """For the state's scanner: each of its terminals → (the basic lexer's rank of the last of
        its other terminals before that one, how many of the keywords the basic lexer never tries
        on their own (it folds them into NAME) the scanner tries before that one, how many of its
        other terminals, what the scanner's terminals are: see _tried). A token the basic lexer
        read as terminal A at rank r is what the scanner reads as `target` (A, or the keyword A's
        text is) when no terminal the scanner tries before `target` may match there: those the
        basic lexer tried before A did not (rank below r), the others are asked by _tried."""
        index = self._state_context[state]
        entries = self._before[index]
        if entries is None:
            entries, basics, rank, last = {}, [], self._rank, -1
            by_first: dict = {}  # a keyword's first character → (its place among the keywords, it)
            shared = (basics, by_first)
            for name in self._contexts[index]:
                entries[name] = (last, len(entries) - len(basics), len(basics), shared)
                if name in rank:
                    last = max(last, rank[name])
                    basics.append(name)
                else:
                    word = self._literals[name]
                    by_first.setdefault(word[0], []).append((len(entries) - 1 - len(basics), word))
            self._before[index] = entries
        return entries

    def _tried(self, entry: tuple, after: int, text: str, pos: int) -> bool:
        """Whether a terminal the state's scanner tries before the entry's may match at `pos`: a
        keyword the basic lexer folds into NAME that starts there, or a terminal the basic lexer
        tries after the token's (rank > `after`) that can begin with the character there (by the
        characters its matches begin with, generate's `_first_characters`; None when unknown)."""
        _, keywords, count, (basics, by_first) = entry
        first = text[pos]
        if keywords:
            for place, word in by_first.get(first, ()):
                if place < keywords and text.startswith(word, pos):
                    return True
        if entry[0] > after:
            rank, firsts = self._rank, self._firsts
            for name in basics[:count]:
                if rank[name] > after:
                    chars = firsts.get(name)
                    if chars is None or first in chars:
                        return True
        return False

    def _read(self, state: int, text: str, pos: int):
        """The token the state's scanner reads at `pos`: (its text, its terminal, its type), as
        lark's contextual lexer reads it; or Unexpected(pos) where it reads none. lark's scanner is
        one expression, `(?P<A>…)|(?P<B>…)|…`, whose match is that of the first alternative that
        matches: its terminals are tried here one by one in that order (a keyword by comparing
        its text, a pattern by its own expression, compiled on first use), which compiles nothing
        per state (compiling each state's expression cost more than the whole parse)."""
        literals, alone = self._literals, self._alone
        for name in self._contexts[self._state_context[state]]:
            literal = literals.get(name)
            if literal is not None and not self._flags:
                if text.startswith(literal, pos):
                    value = literal
                    break
                continue
            match = alone.get(name)
            if match is None:
                match = alone[name] = re.compile(f"(?:{self._regexps[name]})", self._flags).match
            found = match(text, pos)
            if found:
                value = found.group(0)
                break
        else:
            raise Unexpected(pos)
        kind = name
        words = self._unless.get(name)
        if words is not None:
            word = words.get(value)
            if word is not None and word in self._states[state]:  # a keyword this state accepts
                kind = word
        return value, name, kind

    def parse(self, text: str):
        states, rules, unless = self._states, self._rules, self._unless
        ignore, newline = self._ignore, self._newline
        matchers = self._matchers
        single = matchers[0] if len(matchers) == 1 else None
        state_context, befores, rank = self._state_context, self._before, self._rank
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
                state = state_stack[-1]
                entries = befores[state_context[state]]
                if entries is None:
                    entries = self._context(state)
                if found:
                    value = found.group(0)
                    raw = kind = target = found.lastgroup
                    words = unless.get(kind)
                    if words is not None:  # a keyword, where this state accepts it
                        word = words.get(value)
                        if word is not None and word in states[state]:
                            kind = word
                            if target not in entries:  # the scanner has the keyword, not the name
                                target = word
                    entry = entries.get(target)
                    if entry is None or ((entry[1] or entry[0] > rank[raw]) and self._tried(entry, rank[raw], text, pos)):
                        value, raw, kind = self._read(state, text, pos)
                else:
                    value, raw, kind = self._read(state, text, pos)
                start, start_line, column = pos, line, pos - line_start + 1
                pos += len(value)
                if raw in newline:
                    count = value.count("\n")
                    if count:
                        line += count
                        line_start = start + value.rindex("\n") + 1
                if raw in ignore:
                    continue
                token = new(Token, value)
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

    made = dumps(generate(grammar_text()))  # before the file is opened: a failed check leaves it as it was
    with open(TABLES_FILE, "w", encoding="utf-8", newline="\n") as out:
        out.write(made)
    print(f"wrote {TABLES_FILE}")
