"""Numbers, money, percentages and dates as people read them, in Swedish or English.

One place for the formatting that the council document (`sibc render`), the plain-language
explanation (`sibc eval --explain`) and scenario reports share, so the same amount is written
the same way everywhere. Built on Babel's CLDR data rather than hand-written rules:

    sv: 12 000 000 kr · 8 procent · 1 januari 2016 · 0,075
    en: SEK 12,000,000 · 8 per cent · 1 January 2016 · 0.075

Amounts are exact (`Decimal` or `Fraction`) and are never passed through `float`. Group
separators are no-break spaces in Swedish (U+00A0), as CLDR prescribes, so a number is never
split over two lines; `plain=True` gives ordinary spaces for plain-text files people edit.
Babel is imported lazily: only commands that write for people pay for it.
"""

from __future__ import annotations

import datetime
import functools
import json
import os
from collections.abc import Mapping
from decimal import Decimal, localcontext
from fractions import Fraction
from types import MappingProxyType

LANGUAGES = ("sv", "en")
_LOCALES = {"sv": "sv_SE", "en": "en_GB"}
_PERCENT_WORD = {"sv": "procent", "en": "per cent"}


@functools.cache
def texts(name: str) -> Mapping:
    """A table of words shipped as data, `sibdsl/texts/NAME.json` (per language, or per phrase):
    translations are data, not code, and a translator edits them without reading Python.

    Read and parsed once per process (the files are package data, read-only), and returned as a
    read-only view — mappings as `MappingProxyType`, lists as tuples — so that a caller which
    changes what it was given raises TypeError instead of changing every later caller's words. A
    view costs nothing per call, where a copy would copy the whole table each time; the evaluator
    and the trail read these per line (docs/performance.md, "Words read once").

    Read beside this module where the package is a directory (importlib.resources imports pathlib
    and zipfile, ≈ 34 M instructions of a cold `sibc check`), through importlib.resources where it
    is not (a zip archive)."""
    try:
        with open(os.path.join(os.path.dirname(__file__), "texts", f"{name}.json"), encoding="utf-8") as file:
            data = file.read()
    except OSError:
        from importlib import resources

        data = (resources.files("sibdsl") / "texts" / f"{name}.json").read_text(encoding="utf-8")
    return _frozen(json.loads(data))


def _frozen(value: object) -> object:
    """JSON data made read-only all the way down: dicts as MappingProxyType, lists as tuples."""
    if isinstance(value, dict):
        return MappingProxyType({key: _frozen(item) for key, item in value.items()})
    if isinstance(value, list):
        return tuple(_frozen(item) for item in value)
    return value


def locale_of(lang: str) -> str:
    if lang not in _LOCALES:
        raise ValueError(f"unsupported language {lang!r}; expected one of {', '.join(LANGUAGES)}")
    return _LOCALES[lang]


def to_decimal(value: Decimal | Fraction | int, places: int = 28) -> Decimal:
    """An exact Decimal for a terminating Fraction; otherwise rounded to `places` digits."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    with localcontext() as ctx:
        ctx.prec = 60
        result = Decimal(value.numerator) / Decimal(value.denominator)
        if result == result.to_integral_value():
            return result.to_integral_value()
        return result.quantize(Decimal(1).scaleb(-places)).normalize()


def _plain(text: str, plain: bool) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ") if plain else text


def format_number(value: Decimal | Fraction | int, lang: str, *, max_decimals: int = 6,
                  plain: bool = False) -> str:
    """A number with the language's grouping and decimal mark: sv `1 234,5`, en `1,234.5`."""
    from babel.numbers import format_decimal

    number = to_decimal(value)
    pattern = "#,##0" + ("." + "#" * max_decimals if max_decimals else "")
    return _plain(format_decimal(number, format=pattern, locale=locale_of(lang),
                                 decimal_quantization=True), plain)


def format_money(value: Decimal | Fraction | int, currency: str, lang: str, *, plain: bool = False) -> str:
    """Money: whole amounts without decimals, others with two (sv `12 000 000 kr`,
    `1 234,50 kr`; en `SEK 12,000,000`). Swedish kronor are written `kr`, as in Swedish
    municipal documents; other currencies by their ISO code."""
    number = to_decimal(value)
    whole = number == number.to_integral_value()
    from babel.numbers import format_decimal

    pattern = "#,##0" if whole else "#,##0.00"
    digits = _plain(format_decimal(number, format=pattern, locale=locale_of(lang),
                                   decimal_quantization=True), plain)
    if lang == "sv":
        unit = "kr" if currency == "SEK" else currency
        return f"{digits}{' ' if plain else chr(0xA0)}{unit}"
    return f"{currency}{' ' if plain else chr(0xA0)}{digits}"


def money(value: Decimal | Fraction | int, currency: str, lang: str) -> str:
    """An amount in a settlement's tables and audit trail, a verdict or a diagnostic: in English as
    the rest of sibc's English output and the contract language write it (`12 000 000 SEK`, to the
    cent), in Swedish as a Swedish text does (`12 000 000 kr`, `1 234,50 kr`: format_money). Prose
    for people — the council document, `--explain` — uses format_money in both languages."""
    from decimal import ROUND_HALF_EVEN

    amount = to_decimal(value if isinstance(value, Decimal) else Fraction(value))
    if amount != amount.to_integral_value():  # to the cent, half to even
        amount = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    if amount == amount.to_integral_value():  # whole after that: no decimals ("1.00" is 1), no "-0"
        amount = amount.to_integral_value() + 0
    if lang == "en":
        from .report import format_amount

        return format_amount(amount, currency)
    return format_money(amount, currency, lang, plain=True)


def format_percent(share: Decimal | Fraction | int, lang: str, *, plain: bool = False) -> str:
    """A share as a percentage in words, the way contracts write it: `8 procent`, `7,5 per cent`."""
    number = to_decimal(Fraction(share) * 100 if not isinstance(share, Decimal) else share * 100)
    space = " " if plain else "\u00a0"
    return f"{format_number(number, lang, max_decimals=4, plain=plain)}{space}{_PERCENT_WORD[lang]}"


def format_date(day: datetime.date, lang: str) -> str:
    """A date in long form: `1 januari 2016`, `1 January 2016`."""
    from babel.dates import format_date as babel_date

    return babel_date(day, format="long", locale=locale_of(lang))


#: the words `sibc test` and `sibc simulate` print, in each language (`--lang`); a test checks that
#: both languages have every key and that a Swedish report has no English word left in it
WORDS: Mapping[str, Mapping[str, str]] = texts("reports")


def word(lang: str, key: str, **values: object) -> str:
    """A word or phrase of a command's report in `lang`, with its blanks filled in."""
    return WORDS[lang if lang in WORDS else "en"][key].format(**values)


#: the branches `sibc test --coverage` lists (sibdsl/coverage.py and the settlement program name
#: them in English), in Swedish: a closed set of phrases, and the patterns of table rows
_COVERAGE_SV = texts("coverage_sv")
_BRANCHES_SV: Mapping[str, str] = _COVERAGE_SV["branches"]
_CLAUSE_KINDS_SV: Mapping[str, str] = _COVERAGE_SV["clause_kinds"]


def branch_words(label: str, lang: str) -> str:
    """A coverage branch (`the cap is not reached`, `from 8.5 %`, `between 1 and 2`) in `lang`."""
    import re

    if lang != "sv":
        return label
    if label in _BRANCHES_SV:
        return _BRANCHES_SV[label]
    for pattern, words in ((r"from (.+)", "från {0}"), (r"at or below (.+)", "högst {0}"),
                           (r"between (.+) and (.+)", "mellan {0} och {1}"), (r"above (.+)", "över {0}")):
        match = re.fullmatch(pattern, label)
        if match:
            return words.format(*(g.replace(".", ",") for g in match.groups()))
    return label


def clause_kind(kind: str, lang: str) -> str:
    """A clause's kind (`ClauseRef.kind`: `cap`, `waterfall`, …) in `lang`."""
    return _CLAUSE_KINDS_SV.get(kind, kind) if lang == "sv" else kind


def clause_words(described: str, lang: str) -> str:
    """`cap ceiling “Taket”, `if` at line 12` in `lang`: the clause's kind and `at line`."""
    import re

    if lang != "sv":
        return described
    for kind, word in sorted(_CLAUSE_KINDS_SV.items(), key=lambda kv: -len(kv[0])):
        if described.startswith(kind + " "):
            described = word + described[len(kind):]
            break
    return re.sub(r", `(\w+)` at line (\d+)$", r", `\1` på rad \2", described)
