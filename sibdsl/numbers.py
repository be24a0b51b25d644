"""Reading numbers, money, percentages and dates as people write them, in Swedish or English.

The one parser behind outcome files, scenario tables and spreadsheets (text in → exact
`Decimal` and a unit, or a `NumberFormatError` whose hint shows the accepted form). The
symbols come from Babel's CLDR data for sv_SE and en_GB (decimal mark, group separator, minus
sign, currency symbols, month names), so `61 000 000,50 kr` and `SEK 61,000,000.50` read the
same. What it accepts:

    61 000 000,50   61,000,000.50   61000000.5   −5 000   -5,000
    5 000 kr   5 000 SEK   SEK 5,000   € 12   12,5 %   12.5 %   12,5 procent
    2018-12-31   31 december 2018   31 December 2018   31 dec. 2018

Group separators may be spaces, no-break spaces (U+00A0, as Word and CLDR write them), narrow
no-break or thin spaces, always in groups of three digits. Refused, with the reason and the
accepted form: `1_000` (a programmer's separator, not a writer's), `1.234,5` (German), `1,000`
(one thousand in English, one in Swedish: ambiguous), `1e6`, `31/12/2018` (day or month first?).
Nothing here goes through `float`.
"""

from __future__ import annotations

import datetime
import functools
import re
from decimal import Decimal, InvalidOperation

import attrs

#: the languages whose CLDR forms are read, and their Babel locales
LOCALES = {"sv": "sv_SE", "en": "en_GB"}
#: every kind of space that separates digit groups or a number from its unit
SPACES = " \u00a0\u202f\u2009\u2007"
_PERCENT_WORDS = ("%", "procent", "percent", "per cent")
_COMMON_CURRENCIES = ("SEK", "EUR", "NOK", "DKK", "USD", "GBP", "CHF")

FORMS = "61 000 000,50 or 61,000,000.50 or 61000000.50"


class NumberFormatError(ValueError):
    """Text that is not a number in a form sibc reads: `reason` says why, `hint` what to write."""

    def __init__(self, reason: str, hint: str):
        super().__init__(reason)
        self.reason, self.hint = reason, hint


@attrs.frozen
class Quantity:
    """A number and what followed or preceded it: "%", an ISO currency code, or a word ("days")."""

    number: Decimal
    unit: str | None


@functools.cache
def _symbols() -> dict:
    """Decimal marks, group separators, minus signs, currency symbols and month names of the
    locales, from CLDR (Babel is imported here, on first use, not at start-up)."""
    from babel import Locale
    from babel.numbers import get_currency_symbol, get_decimal_symbol, get_group_symbol, get_minus_sign_symbol

    decimal, group, minus, currency, months = {}, {}, set(), {}, {}
    for lang, loc in LOCALES.items():
        decimal[lang] = get_decimal_symbol(loc)
        group[lang] = get_group_symbol(loc)
        minus.add(get_minus_sign_symbol(loc))
        for code in _COMMON_CURRENCIES:
            currency.setdefault(get_currency_symbol(code, loc).lower(), set()).add(code)
        locale = Locale.parse(loc)
        for width in ("wide", "abbreviated"):
            for number, name in locale.months["format"][width].items():
                months[name.lower().rstrip(".")] = number
    minus.add("-")
    for code in _COMMON_CURRENCIES:
        currency.setdefault(code.lower(), set()).add(code)
    currency["kr."] = currency["kr"]
    return {"decimal": decimal, "group": group, "minus": minus, "currency": currency, "months": months}


def currency_symbols(code: str) -> list[str]:
    """How `code` may be written in a value: its ISO code and its CLDR symbols (SEK: kr)."""
    return [code] + sorted(s for s, codes in _symbols()["currency"].items() if code in codes and s != code.lower())


def _unit(word: str, currency: str | None) -> str:
    low = word.lower()
    if low in _PERCENT_WORDS:
        return "%"
    codes = _symbols()["currency"].get(low)
    if codes:
        if currency in codes:
            return currency
        if len(codes) == 1:
            return next(iter(codes))
        return word  # `kr` in a EUR contract: NOK, DKK or SEK? the caller says it is not EUR
    return word


_SPLIT = re.compile(r"^(?P<pre>[^\W\d]{1,3}\.?|€|\$|£)?\s*(?P<number>[-−+–]?\s*[\d.,_' \u00a0\u202f\u2009\u2007]*\d"
                    r"[\d.,_' \u00a0\u202f\u2009\u2007]*)\s*(?P<unit>%|€|\$|£|[^\W\d]+(?: cent)?\.?)?$")


def parse_quantity(text: str, *, currency: str | None = None) -> Quantity:
    """A number with an optional unit before or after it. `currency` is the contract's: its
    local symbols (kr for SEK) are read as its ISO code."""
    clean = text.strip(SPACES + "\t\r\n")
    for space in SPACES[1:]:
        clean = clean.replace(space, " ")
    match = _SPLIT.match(clean)
    if not match or (match.group("pre") and match.group("unit")):
        raise NumberFormatError(f"`{_short(text)}` is not a number", f"write e.g. {FORMS}")
    unit = match.group("pre") or match.group("unit")
    if unit is not None:
        unit = _unit(unit, currency)
    if match.group("pre") and unit not in set().union(*_symbols()["currency"].values()):
        raise NumberFormatError(f"`{_short(text)}` is not a number", f"write e.g. {FORMS}")
    return Quantity(parse_number(match.group("number"), original=text), unit)


def parse_number(text: str, *, original: str | None = None) -> Decimal:
    """A number in the Swedish or English form (see the module's docstring), exactly."""
    shown = _short(original if original is not None else text)
    body = text.strip(SPACES)
    for space in SPACES[1:]:
        body = body.replace(space, " ")
    negative, sign = False, ""
    if body[:1] in _symbols()["minus"] or body[:1] == "−":
        negative, sign, body = True, "-", body[1:].lstrip()
    elif body[:1] == "+":
        body = body[1:].lstrip()
    elif body[:1] == "–":
        raise NumberFormatError(f"`{shown}` starts with a dash (–), not a minus sign",
                                "write the minus sign as - (or −)")
    if "_" in body:
        raise NumberFormatError(f"`{shown}`: `_` does not group digits in data",
                                f"group digits with spaces: {_regroup(body.replace('_', ''))}")
    if "'" in body:
        raise NumberFormatError(f"`{shown}`: `'` does not group digits here",
                                f"group digits with spaces: {_regroup(body.replace(chr(39), ''))}")
    if not body or not body[0].isdigit():
        raise NumberFormatError(f"`{shown}` is not a number", f"write e.g. {FORMS}")
    commas, dots = body.count(","), body.count(".")
    if commas and dots:
        if body.rfind(".") < body.rfind(","):
            raise NumberFormatError(f"`{shown}` groups digits with `.` and marks decimals with `,`",
                                    f"write {_regroup(body.replace('.', '').replace(',', '.'), ',')} "
                                    "(Swedish) or with a comma between groups and a point before decimals")
        whole, _, fraction = body.rpartition(".")
        whole = _grouped(whole, ",", shown)
    elif dots:
        if dots > 1:
            raise NumberFormatError(f"`{shown}` has more than one decimal point",
                                    f"group digits with spaces: {_regroup(body.replace('.', ''))}")
        whole, _, fraction = body.partition(".")
        whole = _grouped(whole, " ", shown)
    elif commas > 1 or (commas == 1 and " " not in body and re.fullmatch(r"[1-9]\d{0,2},\d{3}", body)):
        if commas == 1:
            raise NumberFormatError(
                f"`{shown}` is ambiguous: thousands in English, a decimal in Swedish",
                f"write {sign}{_regroup(body.replace(',', ''))} for thousands or {sign}{body.replace(',', '.')} "
                "for decimals")
        whole, fraction = _grouped(body, ",", shown), ""
    elif commas:
        whole, _, fraction = body.partition(",")
        whole = _grouped(whole, " ", shown)
    else:
        whole, fraction = _grouped(body, " ", shown), ""
    if fraction and not fraction.isdigit() or body.endswith((".", ",")):
        raise NumberFormatError(f"`{shown}` is not a number", f"write e.g. {FORMS}")
    try:
        number = Decimal(whole + ("." + fraction if fraction else ""))
    except InvalidOperation:
        raise NumberFormatError(f"`{shown}` is not a number", f"write e.g. {FORMS}") from None
    return -number if negative else number


def _grouped(text: str, separator: str, shown: str) -> str:
    """Digits grouped by threes with `separator` (or not grouped at all) → the digits."""
    if text.isdigit():
        return text
    groups = text.split(separator)
    if (not all(g.isdigit() for g in groups) or not 1 <= len(groups[0]) <= 3
            or any(len(g) != 3 for g in groups[1:])):
        digits = re.sub(r"\D", "", text)
        hint = f"group digits by threes: {_regroup(digits)}" if digits else f"write e.g. {FORMS}"
        raise NumberFormatError(f"`{shown}` is not a number in a form sibc reads", hint)
    return "".join(groups)


def _regroup(number: str, decimal: str = ",") -> str:
    """`1234567.5` → `1 234 567,5`: the Swedish form, for hints."""
    whole, _, fraction = number.partition(".")
    digits = re.sub(r"\D", "", whole)
    groups = []
    while digits:
        groups.insert(0, digits[-3:])
        digits = digits[:-3]
    return " ".join(groups or ["0"]) + (decimal + fraction if fraction else "")


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:39] + "…"


_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T]00:00(?::00(?:\.0+)?)?)?$")
_LONG = re.compile(r"^(\d{1,2})\.?\s+([^\W\d]+\.?)\s+(\d{4})$")


def parse_date(text: str) -> datetime.date:
    """A date: ISO 8601 (2018-12-31, as Excel's text export may add 00:00:00) or the long
    form of either language (31 december 2018, 31 Dec 2018)."""
    clean = text.strip(SPACES + "\t\r\n")
    for space in SPACES[1:]:
        clean = clean.replace(space, " ")
    hint = "write the date as YYYY-MM-DD, e.g. 2018-12-31, or as 31 december 2018"
    match = _ISO.match(clean)
    if match:
        year, month, day = map(int, match.groups())
    else:
        match = _LONG.match(clean)
        if not match:
            reason = (f"`{_short(text)}` could be day/month or month/day" if re.fullmatch(
                r"\d{1,2}[/.]\d{1,2}[/.]\d{2,4}", clean) else f"`{_short(text)}` is not a date")
            raise NumberFormatError(reason, hint)
        month = _symbols()["months"].get(match.group(2).lower().rstrip("."))
        if month is None:
            raise NumberFormatError(f"`{match.group(2)}` is not the name of a month", hint)
        day, year = int(match.group(1)), int(match.group(3))
    try:
        return datetime.date(year, month, day)
    except ValueError as err:
        raise NumberFormatError(f"`{_short(text)}` is not a date: {err}", hint) from None


def decimal_of_cell(value: int | float) -> Decimal:
    """A spreadsheet's number cell (a binary double in the file) as the decimal Excel shows:
    the shortest decimal that reads back to the same double (0.1, not 0.1000000000000000055…).
    Excel keeps 15 significant digits; a cell with more was not typed by a person and is refused."""
    if isinstance(value, bool):
        raise NumberFormatError("a yes/no cell is not a number", f"write e.g. {FORMS}")
    if isinstance(value, int):
        return Decimal(value)
    number = Decimal(repr(value))  # repr: the shortest round-trip decimal, never the binary expansion
    if not number.is_finite():
        raise NumberFormatError("the cell is not a finite number", f"write e.g. {FORMS}")
    if len(number.normalize().as_tuple().digits) > 15:
        raise NumberFormatError(f"the cell holds {repr(value)}, more digits than a spreadsheet keeps",
                                "type the value as text (e.g. '61 000 000,50) or round it to 15 digits")
    return number
