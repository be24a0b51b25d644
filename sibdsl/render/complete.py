"""Every text of a contract that the council document prints, and the ones missing in a language.

`texts` walks the checked model once (title, headings, prose, labels, sources, descriptions,
eligibility); `untranslated` turns each text without a translation into the document's language
into a W720 warning at the text, so a half-translated document is never produced silently.
"""

from __future__ import annotations

from collections.abc import Iterator

from .. import model as m
from ..diagnostics import Diagnostic
from ..source import Source, visible
from ..syntax import Text


def texts(contract: m.Contract) -> Iterator[tuple[str, Text]]:
    """(what the text is, the text) for every text of the contract, in source order where it matters."""
    yield "the title", contract.title
    for section in contract.sections:
        if section.title is not None:
            yield f"the heading § {section.number}", section.title
        for prose in section.prose:
            yield f"the prose under § {section.number}", prose
    for kind, table in (("party", contract.parties), ("periods", contract.series), ("cohort", contract.cohorts),
                        ("investment", contract.investments), ("measure", contract.measures),
                        ("definition", contract.definitions), ("payment", contract.payments)):
        for name, item in table.items():
            if item.label is not None:
                yield f"the label of the {kind} `{name}`", item.label
            for field in ("eligibility", "source", "description"):
                value = getattr(item, field, None)
                if value is not None:
                    yield f"the {field} of the {kind} `{name}`", value
    for item in (*contract.gates, *contract.floors, *contract.caps, *contract.return_limits, *contract.guarantees,
                 *contract.covers, *contract.waterfalls):
        if item.clause.label is not None:
            yield f"the label of the {item.clause.kind} `{item.clause.name}`", item.clause.label


def open_parameters(contract: m.Contract, source: Source | None) -> Diagnostic | None:
    """issue 17: E477 for a draft whose parameters are still open — a council document states the
    terms the council votes on, so it is not made for a range of them (None for a fixed contract)."""
    if not contract.parameters:
        return None
    open_terms = list(contract.parameters.values())
    first = open_terms[0]
    span = None
    if source is not None and first.clause.line:
        start = source.line_start(first.clause.line)
        span = source.span(start, start + len(source.line_text(first.clause.line)))
    names = ", ".join(f"`{p.name}`" for p in open_terms)
    many = len(open_terms) > 1
    return Diagnostic(
        "E477", f"the contract is a draft: its parameter{'s' if many else ''} {names} {'are' if many else 'is'} "
        "still open, and a council document states fixed terms", source, span, label="not fixed yet",
        hint=f"once the term is agreed, write it as a value (`define {first.name} = …`); until then "
        "`sibc verify` proves the promises for every value still open")


def untranslated(contract: m.Contract, source: Source | None, lang: str) -> list[Diagnostic]:
    """W720 for each text with no translation into `lang`, a further language the contract declares.
    The first language is the main text itself; an undeclared language gets one note from the CLI.
    Party names are proper names ("Norrköpings kommun"), the same in every language: not reported."""
    if not contract.languages or lang == contract.languages[0] or lang not in contract.languages:
        return []
    first = contract.languages[0]
    out, seen = [], set()
    for what, text in texts(contract):
        if what.startswith("the label of the party") or any(tag == lang for tag, _ in text.translations) \
                or id(text) in seen:
            continue
        seen.add(id(text))
        out.append(Diagnostic(
            "W720", f"{what} has no `{lang}` translation; the document shows it in `{first}`",
            source, None if text.span.empty else text.span, label=f"no @{lang} here",
            hint=f"add the translation after the text: \"{visible(text.text[:40])}\" @{lang} \"…\""))
    return out
