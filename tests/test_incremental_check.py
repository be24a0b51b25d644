"""Incremental checking (sibdsl/check/memo.py): after an edit, a definition whose declaration and
inputs are unchanged is replayed from the last check, and the result is exactly the whole check's —
the same diagnostics (spans, hints, labels, order) and the same model — under random edits of
shipped contracts and of a generated 5,000-clause one: characters, lines and whole declarations
inserted and deleted, and renames that break references and fix them again."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sibdsl import check_source as whole_check
from sibdsl.incremental import Parser, check_source
from sibdsl.lsp_analysis import analyse
from sibdsl.source import Source

from .test_incremental import HEAD, TEXTS, differences, edits, keystrokes, large

DECLARED = re.compile(r"^(?:define|baseline|measure|payment|party|investment|cohort|parameter)\s+([A-Za-z_][A-Za-z0-9_]*)",
                      re.MULTILINE)


def assert_same(parser: Parser, text: str, name: str = "c.sib", *, models: bool = True) -> tuple[int, int]:
    """Check `text` incrementally with `parser` and as a whole, assert the same; (definitions
    replayed, definitions checked) of the incremental check."""
    source = Source(name, text)
    (model, diagnostics), (expected_model, expected) = check_source(source, parser), whole_check(source)
    assert diagnostics == expected
    assert [d.source for d in diagnostics] == [source] * len(diagnostics)
    assert [label.source for d in diagnostics for label in d.labels] == [source] * sum(len(d.labels) for d in diagnostics)
    assert (model is None) == (expected_model is None)
    if models and model is not None:
        assert model == expected_model
        assert list(model.definitions) == list(expected_model.definitions)
    # every span and clause line too (a definition replayed below a line break has them moved)
    assert differences(model, expected_model) is None, differences(model, expected_model)
    return parser.memo.reused, parser.memo.checked


@st.composite
def renames(draw, text: str):
    """Versions of `text`: edits as in test_incremental, and renames of a declared name — one use of
    it (a reference broken), all of its uses (a rename), or back (fixed again)."""
    versions = draw(edits(text))
    for _ in range(draw(st.integers(1, 4))):
        current = versions[-1]
        declared = sorted(set(DECLARED.findall(current)))
        if not declared or draw(st.booleans()) and len(versions) > 1:
            versions.append(versions[-2])  # undo: a reference broken is fixed, a rename is taken back
            continue
        old = draw(st.sampled_from(declared))
        new = draw(st.sampled_from([old + "x", old[:-1] or "y", *declared]))
        uses = [m.start() for m in re.finditer(rf"\b{re.escape(old)}\b", current)]
        if draw(st.booleans()):
            at = draw(st.sampled_from(uses))
            versions.append(current[:at] + new + current[at + len(old):])
        else:
            versions.append(re.sub(rf"\b{re.escape(old)}\b", new, current))
    return versions


CHECKS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@CHECKS
@given(st.data())
def test_random_edits_and_renames_of_shipped_contracts_check_as_the_whole_text(data):
    name = data.draw(st.sampled_from(sorted(TEXTS)))
    parser = Parser()
    # renames and edits of any size, or keystrokes: within a line (nothing moves) and across lines
    for version in data.draw(st.one_of(renames(TEXTS[name]), keystrokes(TEXTS[name]))):
        assert_same(parser, version, name)


LARGE = large(5_000)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_random_edits_and_renames_of_a_5000_clause_contract(data):
    parser = Parser()
    check_source(Source("large.sib", LARGE), parser)
    for version in data.draw(st.one_of(renames(LARGE), keystrokes(LARGE))):
        assert_same(parser, version, "large.sib", models=False)  # a chain 5,000 deep: attrs' == recurses


# ---------------------------------------------------------------- what is replayed, and what is not
def test_an_edit_rechecks_the_edited_definition_and_those_that_read_what_changed():
    parser = Parser()
    text = large(300)
    assert assert_same(parser, text) == (0, 299)
    at = text.index("define d150 = max(d149") + len("define d150 = max(d149")
    # d0 … d149 and d151 … d298 stand where they stood (a character moves no line); d150 is edited
    # and has no value now (E201), so d151 … d298, which read it in a chain, have none either
    assert assert_same(parser, text[:at] + "z" + text[at:]) == (150, 149)
    # the character deleted, typed again: the parser gives back d150 as it was two versions ago
    # (incremental.Parser keeps the chunks of the version before the last), and its check and those
    # of d151 … d298 are replayed from the check before the last
    assert assert_same(parser, text) == (299, 0)
    assert assert_same(parser, text[:at] + "z" + text[at:]) == (299, 0)
    # typed on: d150 is new, d151 looks its name up in it (the declaring node changed); d152 … d298
    # read a definition without a value, as last time
    assert assert_same(parser, text[:at] + "zz" + text[at:]) == (297, 2)


def test_a_keystroke_in_a_number_rechecks_that_definition_only():
    """A definition checked again to the same type leaves those that read it replayed (memo.reading)."""
    parser = Parser()
    text = large(300)
    assert_same(parser, text)
    at = text.index("define d150 = max(d149 - 1 000 SEK, 150") + len("define d150 = max(d149 - 1 000 SEK, 150")
    for typed in ("0", "00", "000"):  # d150 checked again, and d151, which looks its name up there
        assert assert_same(parser, text[:at] + typed + text[at:]) == (297, 2)
    # an empty line above it joins d149's text and moves d150 … d298 a line down: d149 (a new
    # text), d150 (its text again, parsed anew: the last two versions had it typed into) and d151
    # (which looks d150 up) checked again, d152 … d298 replayed with their lines moved (memo.moved)
    at = text.index("define d150 ")
    assert assert_same(parser, text[:at] + "\n" + text[at:]) == (296, 3)


def test_a_definition_that_reads_another_s_value_is_checked_again_when_it_changes():
    """An exponent is a constant: its check reads the value of the definitions it names, through
    any number of them — more than their type, so such a check is never replayed (memo.values_read)."""
    parser = Parser()
    text = (HEAD + "define k = 1 - 1\ndefine n = k * 1\ndefine y = 2 ^ (2 / n)\n"
            "payment p = x + y * 1 SEK from city to fund\n")
    first = assert_same(parser, text)
    codes = [d.code for d in whole_check(Source("c.sib", text))[1]]
    assert "E602" in codes, codes  # the exponent divides by zero through n and k
    fixed = text.replace("define k = 1 - 1", "define k = 2 - 1")
    assert assert_same(parser, fixed)[1] >= 2  # k and y: y read k's value through n
    assert "E602" not in [d.code for d in whole_check(Source("c.sib", fixed))[1]]
    assert first[1] == 3


def test_an_edit_below_every_definition_replays_them_all():
    parser = Parser()
    text = large(300)
    assert_same(parser, text)
    assert assert_same(parser, text + "# a note\n") == (299, 0)
    assert assert_same(parser, text.replace("5 000 000 SEK", "4 000 000 SEK")) == (299, 0)


def test_a_dependency_rechecked_rechecks_what_reads_it():
    parser = Parser()
    text = HEAD + "define a = x * 2\ndefine b = a + 1 SEK\ndefine c = 3 SEK\npayment p = b + c from city to fund\n"
    assert_same(parser, text)
    # `a` is edited in place (same length: nothing moves); `b` reads it, `c` does not
    assert assert_same(parser, text.replace("x * 2", "x * 3")) == (1, 2)
    # `a` becomes a share: `b` adds money to it, an error found again in `b`
    assert assert_same(parser, text.replace("x * 2", "2 %  ")) == (1, 2)


def test_a_declaration_added_below_fixes_a_reference_above():
    parser = Parser()
    text = HEAD + "define a = later + 1 SEK\ndefine c = 3 SEK\npayment p = a + c from city to fund\n"
    _, diagnostics = whole_check(Source("c.sib", text))
    assert [d.code for d in diagnostics if d.is_error] == ["E201"]
    assert_same(parser, text)
    fixed = text + "define later = 2 SEK\n"
    assert assert_same(parser, fixed)[1] >= 2  # `a` looked `later` up and found nothing: checked again
    assert not [d for d in whole_check(Source("c.sib", fixed))[1] if d.is_error]
    assert_same(parser, text)  # and broken again


def test_a_did_you_mean_hint_follows_the_names_declared_below():
    parser = Parser()
    text = HEAD + "define a = savngs + 1 SEK\ndefine c = 3 SEK\npayment p = a + c from city to fund\n"
    assert_same(parser, text)
    with_candidate = text + "define savings = 2 SEK\n"  # now there is a name to suggest
    assert_same(parser, with_candidate)
    hint = next(d.hint for d in whole_check(Source("c.sib", with_candidate))[1] if d.code == "E201")
    assert "savings" in hint
    renamed = with_candidate.replace("define c = 3 SEK", "define cc = 3 SEK").replace("a + c ", "a + cc ")
    assert_same(parser, renamed)


def test_a_measure_changed_rechecks_every_definition():
    parser = Parser()
    text = large(50)
    assert_same(parser, text)
    assert assert_same(parser, text.replace('measure x "X": money', 'measure x "X": count')) == (0, 49)


def test_a_duplicate_and_a_cycle_are_reported_as_the_whole_check_reports_them():
    parser = Parser()
    text = HEAD + "define a = x * 2\ndefine b = a + 1 SEK\npayment p = b from city to fund\n"
    assert_same(parser, text)
    for version in (text + "define a = 5 SEK\n", text.replace("x * 2", "b * 2"), text):
        assert_same(parser, version)


def test_a_rate_card_read_by_a_definition_is_never_replayed():
    text = TEXTS["care_leavers_apollo.sib"]
    parser = Parser()
    assert_same(parser, text)
    assert_same(parser, text + "\n# a note\n")
    assert_same(parser, text)


def test_the_language_server_checks_incrementally_too():
    parser = Parser()
    text = large(300)
    at = text.index("define d150 = max(d149") + len("define d150 = max(d149")
    replayed = []
    for version in (text, text[:at] + "z" + text[at:], text + "define = \n", text):
        incremental, whole = analyse("g.sib", version, parser), analyse("g.sib", version)
        assert incremental.diagnostics == whole.diagnostics
        assert incremental.blanked == whole.blanked and incremental.index == whole.index
        replayed.append(parser.memo.reused)
    # the edit: d0 … d149 and d151 … d298 replayed, d150 and those reading it (a chain) checked;
    # the edit undone and a broken declaration added below (blanked): every definition replayed,
    # from the check before the last and the parser's chunks of the version before the last;
    # then without it: every definition, replayed
    assert replayed == [0, 150, 299, 299]


# ---------------------------------------------------------------- what the table of names and the order keep
def test_a_heading_retitled_above_unmoved_declarations_gives_their_clauses_the_new_heading():
    """names.collect_names keeps a declaration's clause only while it stands under the same heading:
    a heading's title edited within its line moves nothing below it (the very objects come back)."""
    parser = Parser()
    text = large(40)
    at = text.index("define d20 ")
    text = text[:at] + '§ 1 "Payments"\n' + text[at:]
    retitled = text.replace('"Payments"', '"Paymentz"')
    for version, heading in ((text, "§ 1 Payments"), (retitled, "§ 1 Paymentz"), (text, "§ 1 Payments")):
        assert_same(parser, version)
        model, _ = check_source(Source("c.sib", version), parser)
        assert model.definitions["d30"].clause.heading == heading
        assert model.definitions["d10"].clause.heading == ""


def test_the_order_of_the_definitions_is_kept_while_no_definition_s_references_change(monkeypatch):
    """names.definition_order is computed again only when a definition's references (or the names
    declared) change; the model's definitions come in the whole check's order either way."""
    from sibdsl.check import names

    own, calls = names.Names._definition_order, []
    monkeypatch.setattr(names.Names, "_definition_order", staticmethod(lambda *args: calls.append(1) or own(*args)))
    parser = Parser()

    def orders(version: str) -> tuple[int, list[str]]:
        """(times the order was computed by the incremental check, the model's definitions)"""
        before = len(calls)
        model, diagnostics = check_source(Source("c.sib", version), parser)
        computed = len(calls) - before
        expected_model, expected = whole_check(Source("c.sib", version))
        assert diagnostics == expected and model == expected_model
        assert list(model.definitions) == list(expected_model.definitions)
        return computed, list(model.definitions)

    text = (HEAD + "define top = a + b\ndefine a = 1 SEK\ndefine b = 2 SEK\n"
            "payment p = top from city to fund\n")
    assert orders(text) == (1, ["a", "b", "top"])
    assert orders(text.replace("2 SEK", "25 SEK")) == (0, ["a", "b", "top"])  # a number typed: the same references
    swapped = text.replace("top = a + b", "top = b + a")  # b is now checked first
    assert orders(swapped) == (1, ["b", "a", "top"])
    assert orders(swapped) == (0, ["b", "a", "top"])
    assert orders(text) == (1, ["a", "b", "top"])  # undone: the first text's order, not the last one's
    assert orders(text.replace("define b = 2 SEK", "define c = 2 SEK").replace("a + b", "a + c")) == (1, ["a", "c", "top"])


def test_two_documents_keep_their_own_tables_and_orders():
    """The table of names' entries and the order are kept per memo (one a document): two documents
    whose declarations are written alike do not share them."""
    first, second = Parser(), Parser()
    a = HEAD + "define top = a + b\ndefine a = 1 SEK\ndefine b = 2 SEK\npayment p = top from city to fund\n"
    b = a.replace("top = a + b", "top = b + a").replace('"Generated"', '"Other"')
    for _ in range(2):
        assert_same(first, a)
        assert_same(second, b)
    assert list(check_source(Source("c.sib", a), first)[0].definitions) == ["a", "b", "top"]
    assert list(check_source(Source("c.sib", b), second)[0].definitions) == ["b", "a", "top"]


# ---------------------------------------------------------------- a line break: the declarations below move
def test_a_line_break_typed_again_and_again_replays_the_definitions_it_moves():
    """Enter pressed again and again above a run of definitions, each text new: the definitions below
    are new objects a line further down, the same first parse (incremental._Parsed.origins), and
    their checks are replayed with their spans, diagnostics and clause lines moved (memo.moved);
    diagnostics, spans and lines are the whole check's (assert_same compares every span)."""
    parser = Parser()
    text = large(300).replace("define d200 = max(d199", "define d200 = max(nosuch")  # an E201 below the break
    assert_same(parser, text)
    at = text.index("define d150 ")
    for breaks in range(1, 4):
        version = text[:at] + "\n" * breaks + text[at:]
        replayed, checked = assert_same(parser, version)
        # d149 (its text gained the empty lines) checked again, and d150, which looks it up
        assert (replayed, checked) == (297, 2)
        model, diagnostics = check_source(Source("c.sib", version), parser)
        assert [(d.code, d.span.line) for d in diagnostics] == [("E201", 9 + 200 + breaks)]
        assert model is None  # an error: no model; the clause lines are compared below


def test_a_definition_below_a_line_break_cites_its_new_line():
    """The clause a replayed definition cites (its `ClauseRef.line`, in the audit trail) is the line it
    stands on now, as the whole check gives it, and so is the settlement's text."""
    import json

    from sibdsl import evaluate, load_outcomes
    from sibdsl.report import settlement_text

    parser = Parser()
    text = large(60)
    assert_same(parser, text)
    at = text.index("define d30 ")
    for version in (text[:at] + "\n" + text[at:], text[:at] + "\n\n" + text[at:], text):
        replayed, checked = assert_same(parser, version)
        assert checked <= 2
        model, _ = check_source(Source("c.sib", version), parser)
        expected, _ = whole_check(Source("c.sib", version))
        assert model.definitions["d40"].clause.line == expected.definitions["d40"].clause.line \
            == 1 + version[:version.index("define d40 ")].count("\n")
        outcomes = load_outcomes(model, text=json.dumps({"x": 100000}), name="o.json")
        assert settlement_text(evaluate(model, outcomes)) == settlement_text(evaluate(expected, outcomes))


def test_a_moved_definition_whose_diagnostic_points_at_another_declaration_is_checked_again():
    """A kept check is moved only when every span in it lies in its own declaration: a label at
    another declaration (`city` is a party, declared there) may not have moved with it."""
    parser = Parser()
    text = large(40).replace("define d30 = max(d29", "define d30 = max(city")  # E204, labelled at the party
    assert_same(parser, text)
    at = text.index("define d20 ")
    replayed, checked = assert_same(parser, text[:at] + "\n" + text[at:])
    # d19 (its text changed), d20 (which looks it up) and d30 (its label lies outside its lines);
    # d31 … d38 read d30 and find no value, as before: replayed, moved
    assert checked == 3
    _, diagnostics = check_source(Source("c.sib", text[:at] + "\n" + text[at:]), parser)
    assert [(d.code, [label.span.line for label in d.labels]) for d in diagnostics] == [("E204", [5])]


def test_enter_then_backspace_gives_back_the_objects_of_the_version_before():
    """A line break typed and deleted (Enter, then Backspace): the parser takes the chunks of the
    version before the last, already at their lines, rather than moving the last version's; the same
    objects, so every definition's check is replayed as it was."""
    parser = Parser()
    text = large(300)
    at = text.index("define d150 ")
    entered = text[:at] + "\n" + text[at:]
    first = parser.parse(Source("c.sib", text))
    model, _ = check_source(Source("c.sib", text), parser)
    assert_same(parser, entered)
    for version in (text, entered, text):
        assert assert_same(parser, version) == (299, 0)
    again = parser.parse(Source("c.sib", text))
    assert all(a is b for a, b in zip(first.items, again.items, strict=True))
    # the checks of two keystrokes ago, as they were (not the last check's moved back a line)
    assert check_source(Source("c.sib", text), parser)[0].definitions["d200"] is model.definitions["d200"]
