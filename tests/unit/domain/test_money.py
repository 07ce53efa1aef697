from __future__ import annotations

from decimal import Decimal

import pytest

from pos_app.domain.money import InvalidAmount, format_money, minor_exponent, parse_major, to_major


def test_formats_dollars_with_symbol_and_cents() -> None:
    assert format_money(4500, "USD") == "$45.00"
    assert format_money(123456, "USD") == "$1,234.56"


def test_formats_currencies_without_minor_units() -> None:
    assert minor_exponent("JPY") == 0
    assert format_money(4500, "JPY") == "¥4,500"


def test_formats_in_the_venues_locale() -> None:
    assert format_money(4500, "EUR", locale="de_DE") == "45,00\xa0€"


def test_major_units_are_exact_decimals() -> None:
    assert to_major(1, "USD") == Decimal("0.01")
    assert to_major(19900, "USD") == Decimal("199.00")


@pytest.mark.parametrize(("typed", "minor"), [
    ("45", 4500), ("45.5", 4550), ("45.50", 4550), ("$1,000", 100000), (" 0.01 ", 1), ("0", 0),
])
def test_parses_amounts_typed_by_a_cashier(typed: str, minor: int) -> None:
    assert parse_major(typed, "USD") == minor


@pytest.mark.parametrize("typed", ["", "abc", "-5", "1.005", "NaN", "Infinity"])
def test_refuses_amounts_that_are_not_money(typed: str) -> None:
    with pytest.raises(InvalidAmount):
        parse_major(typed, "USD")


@pytest.mark.parametrize("typed", ["1e3", "1E3", "1e-2", "+5", "1_000", "inf", "-inf", "nan",
                                   "-0.5", "0x10", "1.2.3", "."])
def test_refuses_exponents_signs_and_other_decimal_spellings(typed: str) -> None:
    with pytest.raises(InvalidAmount, match=r"not an amount|negative"):
        parse_major(typed, "USD")


def test_refuses_a_currency_code_that_is_not_iso_4217_shaped() -> None:
    with pytest.raises(InvalidAmount):
        format_money(100, "DOLLARS")
