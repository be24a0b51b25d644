"""lsp_text: offsets ↔ LSP positions in UTF-8, UTF-16 and UTF-32, against an independent count
(the encoded bytes of each line), on generated text with å/ä/ö, emoji, lone surrogates and every
kind of line end."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sibdsl.lsp_text import Lines, apply_change

ALPHABET = st.sampled_from(["a", "å", "Ä", "ö", "😀", "\ud800", "\n", "\r\n", "\r", "\x0c", "\u2028", " ", "§"])
TEXTS = st.lists(ALPHABET, max_size=40).map("".join)
WIDTH = {"utf-8": lambda s: len(s.encode("utf-8", "surrogatepass")),
         "utf-16": lambda s: len(s.encode("utf-16-le", "surrogatepass")) // 2,
         "utf-32": len}


def reference(text: str, offset: int, encoding: str) -> tuple[int, int]:
    """The protocol's definition, spelt out: lines end at \\n, \\r\\n or \\r; columns count code units."""
    lines = re.split(r"\r\n|\r|\n", text[:offset])
    return len(lines) - 1, WIDTH[encoding](lines[-1])


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-32"])
@given(text=TEXTS, data=st.data())
def test_positions_round_trip(encoding, text, data):
    lines = Lines(text, encoding)
    offset = data.draw(st.integers(0, len(text)))
    if text[offset - 1:offset + 1] == "\r\n":
        offset -= 1  # between \r and \n is no position of its own
    assert lines.position(offset) == reference(text, offset, encoding)
    assert lines.offset(*lines.position(offset)) == offset


def test_columns_past_the_end_and_inside_a_character():
    lines = Lines("å😀b\nx", "utf-16")
    assert lines.offset(0, 99) == 3 and lines.offset(9, 0) == 5  # end of the line; end of the text
    assert lines.offset(0, 2) == 1  # half of the emoji's surrogate pair: the emoji's start
    assert Lines("å😀b", "utf-8").offset(0, 4) == 1  # inside the emoji's four bytes
    with pytest.raises(ValueError):
        lines.offset(-1, 0)


def test_incremental_changes_in_each_encoding():
    text = "ö😀 lånn\r\nslut"
    assert apply_change(text, (0, 10, 0, 11), "", "utf-8") == "ö😀 lån\r\nslut"
    assert apply_change(text, (0, 7, 0, 8), "", "utf-16") == "ö😀 lån\r\nslut"
    assert apply_change(text, (0, 6, 0, 7), "", "utf-32") == "ö😀 lån\r\nslut"
    assert apply_change(text, (1, 0, 1, 0), "ny ", "utf-16") == "ö😀 lånn\r\nny slut"
    assert apply_change(text, None, "allt", "utf-16") == "allt"


def test_a_range_that_ends_before_it_starts_is_refused():
    with pytest.raises(ValueError, match="ends before it starts"):
        apply_change("abc\ndef", (1, 0, 0, 1), "x", "utf-16")
