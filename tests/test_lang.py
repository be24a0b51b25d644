"""Formatting for people: Swedish municipal conventions and English, exact values only."""

from __future__ import annotations

import datetime
from decimal import Decimal
from fractions import Fraction

import pytest

from sibdsl.lang import format_date, format_money, format_number, format_percent

NB = "\u00a0"


@pytest.mark.parametrize("value, currency, lang, expected", [
    (Decimal("12000000"), "SEK", "sv", f"12{NB}000{NB}000{NB}kr"),
    (Decimal("1234.5"), "SEK", "sv", f"1{NB}234,50{NB}kr"),
    (Fraction(1, 3), "SEK", "sv", f"0,33{NB}kr"),
    (Decimal("12000000"), "SEK", "en", f"SEK{NB}12,000,000"),
    (Decimal("5000000"), "GBP", "sv", f"5{NB}000{NB}000{NB}GBP"),
    (-400, "SEK", "sv", f"-400{NB}kr"),
])
def test_money(value, currency, lang, expected):
    assert format_money(value, currency, lang) == expected


def test_plain_uses_ordinary_spaces():
    assert format_money(Decimal("12000000"), "SEK", "sv", plain=True) == "12 000 000 kr"


@pytest.mark.parametrize("share, lang, expected", [
    (Fraction(8, 100), "sv", f"8{NB}procent"),
    (Fraction(75, 1000), "sv", f"7,5{NB}procent"),
    (Decimal("0.4"), "en", f"40{NB}per cent"),
])
def test_percent(share, lang, expected):
    assert format_percent(share, lang) == expected


def test_dates_and_numbers():
    assert format_date(datetime.date(2016, 1, 1), "sv") == "1 januari 2016"
    assert format_date(datetime.date(2016, 1, 1), "en") == "1 January 2016"
    assert format_number(Fraction(3, 40), "sv") == "0,075"
    assert format_number(Decimal("1234.5"), "en") == "1,234.5"
    with pytest.raises(ValueError):
        format_number(1, "de")


def test_money_is_to_the_cent_with_no_written_zeros_and_no_minus_on_zero():
    from decimal import Decimal

    from sibdsl.lang import money

    # "1.00" is a whole amount in both languages (English kept the written zeros), and what rounds
    # to zero at the cent carries no minus (Swedish wrote "-0,00 kr", English "0.00 SEK")
    assert [money(Decimal(t), "SEK", "en") for t in ("1.00", "-0.001", "-0", "12.999", "-1234.505")] == [
        "1 SEK", "0 SEK", "0 SEK", "13 SEK", "-1 234.50 SEK"]
    assert [money(Decimal(t), "SEK", "sv") for t in ("1.00", "-0.001", "-0", "12.999", "-1234.505")] == [
        "1 kr", "0 kr", "0 kr", "13 kr", "-1 234,50 kr"]
