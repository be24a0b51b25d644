"""`sibc fmt`: canonical, idempotent, lossless (syntax tree and comments unchanged), atomic."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sibdsl import Source, SibError, parse
from sibdsl.fmt import comments, format_file_text, format_text

from .conftest import ROOT
from .test_fuzz_grammar import derivation

FILES = sorted([*(ROOT / "contracts").rglob("*.sib"), *(ROOT / "tests" / "corpus" / "valid").glob("*.sib")])


def fmt(text: str) -> str:
    return format_text(Source("f.sib", text))


def same_meaning(before: str, after: str) -> None:
    assert parse(Source("a.sib", after)) == parse(Source("b.sib", before))
    assert [c.text for c in comments(after)] == [c.text.rstrip() for c in comments(before)]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_shipped_contracts_are_formatted(path, run):
    result = run("fmt", "--check", str(path))
    assert result.exit_code == 0, result.output


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(FILES), st.data())
def test_any_layout_of_a_contract_formats_to_the_same_text(path, data):
    original = path.read_text(encoding="utf-8")
    # the same tokens with other whitespace: spaces doubled, lines joined, tabs, CRLF
    lines = original.split("\n")
    for old, new in data.draw(st.lists(st.sampled_from([(" = ", "  =  "), (": ", ":\t"), ("  ", "        ")]),
                                       max_size=3)):
        lines = [line if "#" in line or '"' in line else line.replace(old, new) for line in lines]
    messy = "\r\n".join(lines) if data.draw(st.booleans()) else "\n".join(lines)
    formatted = fmt(messy)
    same_meaning(original, formatted)
    assert formatted == fmt(original) == fmt(formatted)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(derivation())
def test_generated_contracts_format_losslessly_and_idempotently(text):
    try:
        formatted = fmt(text)
    except SibError as err:  # a comment inside a multi-line declaration: refused, not lost
        assert {d.code for d in err.diagnostics} == {"E740"}
        return
    same_meaning(text, formatted)
    assert fmt(formatted) == formatted


HEADER = 'contract "T" currency SEK rounding 1 SEK half up\n'


@pytest.mark.parametrize("text", [
    "# before the header\n" + HEADER + "party a \"A\": payer  # trailing\n\n# between\nparty b \"B\": investor\n# at the end",
    HEADER + "party a \"A\": payer # no space\n§ 1 \"Rubrik\"  # after a heading\n# above a clause\nparty b \"B\": investor\n",
    HEADER + 'party a "A # not a comment": payer\n"""prose with # inside\nover lines"""\n',
    HEADER.replace(" currency", "  # in the header\n  currency") + "party a \"A\": payer\n",
    "\t" + HEADER + "party\ta\t\"A\":\tpayer\n",
])
def test_odd_comments_are_kept(text):
    formatted = fmt(text)
    same_meaning(text, formatted)
    assert fmt(formatted) == formatted


def test_line_endings_and_byte_order_mark_are_kept():
    text = HEADER + "party a \"A\": payer\n"
    crlf = ("\ufeff" + text.replace("\n", "\r\n")).encode("utf-8")
    out = format_file_text(Source("f.sib", crlf.decode("utf-8-sig")), crlf)
    assert out.startswith(b"\xef\xbb\xbf") and b"\r\n" in out and b"\r\r" not in out


def test_a_comment_inside_a_declaration_is_refused_and_the_file_left_alone(tmp_path, run):
    path = tmp_path / "c.sib"
    text = HEADER + "party a \"A\": payer\nparty b \"B\": investor\npayment p = 1 SEK  # why\n  from a to b\n"
    path.write_text(text, encoding="utf-8")
    result = run("fmt", str(path))
    assert result.exit_code == 1 and "error[E740]" in result.stderr
    assert path.read_text(encoding="utf-8") == text


def test_a_broken_contract_is_refused_and_left_alone(tmp_path, run):
    path = tmp_path / "c.sib"
    path.write_text(HEADER + "payment p = \n", encoding="utf-8")
    before = path.read_bytes()
    assert run("fmt", str(path)).exit_code == 1
    assert path.read_bytes() == before


def test_check_diff_and_write(tmp_path, run):
    path = tmp_path / "c.sib"
    path.write_text(HEADER + "party a \"A\":payer\nparty b \"B\": investor\npayment p=12000000 SEK from a to b\n",
                    encoding="utf-8")
    check = run("fmt", "--check", str(path))
    assert check.exit_code == 1
    assert "+payment p = 12 000 000 SEK\n+  from a to b" in check.stdout and "would be reformatted" in check.stderr
    assert run("fmt", str(path)).exit_code == 0
    assert "payment p = 12 000 000 SEK\n  from a to b\n" in path.read_text(encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.sib"]  # atomic: no temporary file left
    assert run("fmt", "--check", str(path)).exit_code == 0
