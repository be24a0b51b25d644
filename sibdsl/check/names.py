"""Stage 1, names: every declaration in the table of names, lookups with "did you mean", and the
order in which definitions are checked (dependencies first, cycles reported where entered)."""

from __future__ import annotations

from .. import model as m
from .. import syntax as s
from ..diagnostics import did_you_mean
from .common import Entry

_UNNAMED = (s.Gate, s.Floor, s.Cap, s.Assume)  # clauses that may be written without a name
_DEFINITIONS = ("define", "baseline")  # the kinds `definition_order` orders


class Names:
    """The table of names (a mixin of `Checker`)."""

    # ------------------------------------------------------------ names
    def collect_names(self) -> None:
        """The table of names, the clause of every declaration, and the names of each kind (one
        scan of the items). With a memo (check/memo.py), a declaration's kind, name, clause and
        entry (frozen) are the last check's when it is the very object it was, under the same
        heading: after a keystroke every other declaration's clause is the same `ClauseRef`
        object, which a kept definition's check compares first by identity."""
        memo = self.memo
        last = memo.declarations if memo is not None else {}
        now: dict[int, tuple] = {}
        table, clauses, by_kind, definitions = self.names, self.clauses, self.by_kind, self.definition_names
        counters: dict[str, int] = {}  # unnamed clauses get a stable name from their kind and position
        heading = ""
        for item in self.tree.items:
            cls = type(item)
            if cls is s.Heading:
                heading = f"§ {item.number} {item.title.text}"
                self.check_text(item.title)
                continue
            if cls is s.Prose:
                self.check_text(item.text)
                continue
            kept = last.get(id(item))
            if kept is None or kept[0] is not item or kept[1] != heading:
                kind, ident, label = declaration_of(item)
                clause = entry = None
                if ident is not None:
                    clause = m.ClauseRef(kind, ident.name, label, heading, item.span.line)
                    entry = Entry(kind, item, ident.span, clause)
                kept = (item, heading, kind, ident, label, clause, entry)
            if memo is not None:
                now[id(item)] = kept
            _, _, kind, ident, label, clause, entry = kept
            if label is not None and label.translations:
                self.check_text(label)
            if ident is None:
                if cls in _UNNAMED:  # a gate, floor, cap or assumption without a name
                    unnamed = "assumption" if cls is s.Assume else cls.__name__.lower()
                    counters[unnamed] = counters.get(unnamed, 0) + 1
                    clauses[id(item)] = m.ClauseRef(unnamed, f"{unnamed}_{counters[unnamed]}", None, heading,
                                                    item.span.line)
                elif cls is s.Term:  # unnamed too, but its section must say the term (§ Avtalstid)
                    clauses[id(item)] = m.ClauseRef("term", "term", None, heading, item.span.line)
                continue
            clauses[id(item)] = clause
            name = ident.name
            first = dict.get(table, name)
            if first is not None:
                self.error("E202", f"`{name}` is defined twice", ident.span,
                           label="defined again here",
                           labels=(self.also(first.span, f"first defined here (as a {first.kind})"),),
                           hint="give each party, measure, definition, payment and clause its own name")
                continue
            dict.__setitem__(table, name, entry)
            by_kind.setdefault(kind, []).append((name, entry))
            if kind in _DEFINITIONS:
                definitions.append(name)
        if memo is not None:
            memo.declarations = now  # one assignment; the declarations of this tree only

    def lookup(self, ident: s.Ident | s.Ref, wanted: tuple[str, ...], what: str) -> Entry | None:
        entry = self.names.get(ident.name)
        if entry is None:
            self.error("E201", f"no {what} is called `{ident.name}`", ident.span, label="not defined",
                       hint=self.missing_hint(ident.name, wanted, what))
            return None
        if entry.kind not in wanted:
            self.error("E204", f"`{ident.name}` is a {entry.kind}, not a {what}", ident.span,
                       labels=(self.also(entry.span, f"the {entry.kind} is declared here"),),
                       hint=kind_hint(entry.kind, what))
            return None
        return entry

    def missing_hint(self, name: str, wanted: tuple[str, ...], what: str) -> str:
        """The hint for a name nobody declared. Remembered per name: "did you mean" compares it with
        every declared name, and a name used in thousands of places made checking quadratic."""
        key = (name, wanted, what)
        if self.frames:  # the hint depends on every name there is (check/memo.py)
            self.frames[-1].names_wide = True
        if key not in self.hints:
            candidates = [n for n, e in self.names.items() if e.kind in wanted]
            hint = did_you_mean(name, candidates)
            if not hint and what == "value":
                hint = (f"declare it first, e.g. `measure {name}: boolean` for a measured outcome "
                        f"or `define {name} = …` for a derived value")
            elif not hint:
                plural = {"party": "parties", "period series": "period series"}.get(what, what + "s")
                hint = (f"the {plural} are: {', '.join(sorted(candidates)[:8])}" if candidates
                        else f"declare the {what} first")
            self.hints[key] = hint
        return self.hints[key]

    def definition_order(self) -> list[str]:
        """The definitions and baselines in the order in which `definition`, called for each in
        declaration order, would finish them: every one after those it refers to, depth first, in
        the order its formulas name them. Called in this order, each finds what it needs already
        checked, so a chain of thousands of definitions written top-down is checked without
        recursing through the chain (which ran out of stack at ≈ 140). With a cycle: declaration
        order, and `definition` reports the cycle as before."""
        declared = self.definition_names
        nodes = [dict.__getitem__(self.names, name).node for name in declared]
        found = [definition_refs(node) for node in nodes] if self.memo is None else self.memo.definition_refs(nodes)
        if self.memo is not None:
            # the last check's order, when the same names in the same order refer to the same names:
            # the order is a function of these alone (the comparison is mostly by identity:
            # memo.definition_refs gives a declaration's kept list while it is the same object)
            kept_declared, kept_found, kept_order = self.memo.order
            if kept_declared == declared and kept_found == found:
                return list(kept_order)
        order = self._definition_order(declared, found)
        if self.memo is not None:
            self.memo.order = (list(declared), list(found), tuple(order))
        return order

    @staticmethod
    def _definition_order(declared: list[str], found: list[list[str]]) -> list[str]:
        declared_set = set(declared)
        refers = {name: [r for r in refs if r in declared_set] for name, refs in zip(declared, found, strict=True)}
        order: list[str] = []
        state: dict[str, bool] = {}  # False while its references are being visited, True when done
        for root in declared:
            if root in state:
                continue
            state[root] = False
            stack = [(root, iter(refers[root]))]
            while stack:
                name, references = stack[-1]
                for ref in references:
                    if ref not in state:
                        state[ref] = False
                        stack.append((ref, iter(refers[ref])))
                        break
                    if state[ref] is False:
                        return declared  # a cycle
                else:
                    stack.pop()
                    state[name] = True
                    order.append(name)
        return order


def declaration_of(item) -> tuple[str, s.Ident | None, s.Text | None]:
    """(kind, name, label) of a named declaration."""
    kinds = {s.Party: "party", s.Periods: "series", s.Cohort: "cohort", s.Investment: "investment",
             s.Measure: "measure", s.Define: "define", s.Baseline: "baseline", s.Payment: "payment",
             s.Table: "table", s.RateCard: "ratecard", s.Parameter: "parameter", s.Coupon: "coupon",
             s.Repayment: "repayment", s.Redemption: "redemption"}
    for cls, kind in kinds.items():
        if isinstance(item, cls):
            return kind, item.name, item.label
    if isinstance(item, (s.Gate, s.Floor, s.Cap, s.ReturnLimit, s.Guarantee, s.Cover, s.Assume, s.Waterfall)):
        kind = {s.Gate: "gate", s.Floor: "floor", s.Cap: "cap", s.ReturnLimit: "return limit",
                s.Guarantee: "guarantee", s.Cover: "cover", s.Assume: "assumption",
                s.Waterfall: "waterfall"}[type(item)]
        if item.decl is None:
            return kind, None, None
        return kind, item.decl.name, item.decl.label
    return "term", None, None


def definition_refs(node: s.Define | s.Baseline) -> list[str]:
    """The names a definition's formulas refer to, in the order the checker meets them."""
    roots = [node.expr] + [o.value.rate for o in getattr(node, "options", ()) if o.key == "indexed"]
    return [e.name for e in s.walk(*roots) if isinstance(e, s.Ref)]


def kind_hint(kind: str, wanted: str) -> str:
    if wanted == "value" and kind == "party":
        return "parties are named in `from` and `to`; amounts come from measures, definitions and investments"
    if wanted == "payment":
        return "gates, floors and caps apply to a payment by its name, or to `total`"
    if wanted == "party":
        return "`from` and `to` name parties declared with `party`"
    return f"use a {wanted} here"
