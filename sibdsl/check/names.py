"""Stage 1, names: every declaration in the table of names, lookups with "did you mean", and the
order in which definitions are checked (dependencies first, cycles reported where entered)."""

from __future__ import annotations

from .. import model as m
from .. import syntax as s
from ..diagnostics import did_you_mean
from .common import Entry


class Names:
    """The table of names (a mixin of `Checker`)."""

    # ------------------------------------------------------------ names
    def collect_names(self) -> None:
        heading = ""
        for item in self.tree.items:
            if isinstance(item, s.Heading):
                heading = f"§ {item.number} {item.title.text}"
                self.check_text(item.title)
                continue
            if isinstance(item, s.Prose):
                self.check_text(item.text)
                continue
            kind, ident, label = declaration_of(item)
            self.check_text(label)
            if ident is None:
                continue
            clause = m.ClauseRef(kind, ident.name, label, heading, item.span.line)
            self.clauses[id(item)] = clause
            if ident.name in self.names:
                first = self.names[ident.name]
                self.error("E202", f"`{ident.name}` is defined twice", ident.span,
                           label="defined again here",
                           labels=(self.also(first.span, f"first defined here (as a {first.kind})"),),
                           hint="give each party, measure, definition, payment and clause its own name")
                continue
            self.names[ident.name] = Entry(kind, item, ident.span, clause)
        # unnamed clauses get a stable name from their kind and position
        counters: dict[str, int] = {}
        heading = ""
        for item in self.tree.items:
            if isinstance(item, s.Heading):
                heading = f"§ {item.number} {item.title.text}"
            elif isinstance(item, (s.Gate, s.Floor, s.Cap, s.Assume)) and item.decl is None:
                kind = "assumption" if isinstance(item, s.Assume) else type(item).__name__.lower()
                counters[kind] = counters.get(kind, 0) + 1
                clause = m.ClauseRef(kind, f"{kind}_{counters[kind]}", None, heading, item.span.line)
                self.clauses[id(item)] = clause
            elif isinstance(item, s.Term):  # unnamed too, but its section must say the term (§ Avtalstid)
                self.clauses[id(item)] = m.ClauseRef("term", "term", None, heading, item.span.line)

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
        kinds = ("define", "baseline")
        declared = [name for name, entry in self.names.items() if entry.kind in kinds]
        declared_set = set(declared)
        nodes = [self.names[name].node for name in declared]
        found = [definition_refs(node) for node in nodes] if self.memo is None else self.memo.definition_refs(nodes)
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
