"""Warnings an author acknowledges in the contract's own text: `# sibc: allow W410 …` comments.

In: the source text and a dead-clause record (verify_checks.dead_clauses). Out: whether the author
said the clause is there on purpose. A belt-and-braces cap that the contract's own words state, but
that the payments as written never reach, is such a clause: the warning is right, and the author
keeps it knowingly. Read without the solver (a cached check never imports z3).

    # sibc: allow W410: why            on the comment lines directly above the clause
    # sibc: allow W410 for ceiling, max_return: why      anywhere in the file, naming the clauses
"""

from __future__ import annotations

ACKNOWLEDGE = "sibc: allow"


def acknowledged(source, record: dict) -> bool:
    """A clause the author keeps on purpose (a belt-and-braces cap the contract's own words state):
    a comment `# sibc: allow W410 …` among the comment lines directly above it, or anywhere in the
    file `# sibc: allow W410 for ceiling, max_return: why` naming it."""
    code, name = record.get("code", ""), record.get("name", "")
    number = (record.get("line") or 1) - 1
    while number >= 1:  # the comments directly above the clause
        said = _allowance(source.line_text(number))
        if said is None:
            break
        if code in said[0] and not said[1]:
            return True
        number -= 1
    if not name:
        return False
    for text in source.text.splitlines():
        said = _allowance(text)
        if said is not None and code in said[0] and name in said[1]:
            return True
    return False


def _allowance(text: str) -> tuple[set[str], set[str]] | None:
    """(codes, clause names) of a `# sibc: allow CODE, CODE for NAME, NAME: why` comment; None for
    a line that is not a comment, empty sets for a comment that allows nothing."""
    text = text.strip()
    if not text.startswith("#"):
        return None
    words = text.lstrip("#").strip()
    if not words.startswith(ACKNOWLEDGE):
        return set(), set()
    words = words[len(ACKNOWLEDGE):].split(":", 1)[0].replace(",", " ")
    head, _, names = words.partition(" for ")
    return set(head.split()), set(names.split())
