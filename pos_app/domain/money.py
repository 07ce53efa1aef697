"""Money as integer minor units of an ISO 4217 currency.

Amounts never touch ``float``: arithmetic happens on ``int`` minor units, and the only places
that convert are :func:`format_money` (for people) and :func:`parse_major` (typed by people).
Minor-unit exponents come from ISO 4217 via Babel's CLDR data.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from babel.numbers import format_currency, get_currency_precision

__all__ = ["InvalidAmount", "format_money", "minor_exponent", "parse_major", "to_major"]

DEFAULT_LOCALE = "en_US"


class InvalidAmount(ValueError):
    """A typed amount is not a valid non-negative amount of the currency."""


def minor_exponent(currency: str) -> int:
    """Number of decimal places of ``currency`` (ISO 4217 minor unit, e.g. USD 2, JPY 0).

    Raises:
        InvalidAmount: ``currency`` is not a three-letter code.
    """
    if len(currency) != 3 or not currency.isalpha():
        raise InvalidAmount(f"{currency!r} is not an ISO 4217 currency code")
    return int(get_currency_precision(currency.upper()))


def to_major(amount: int, currency: str) -> Decimal:
    """Exact decimal value of ``amount`` minor units, e.g. ``(4500, "USD") -> Decimal("45.00")``."""
    exp = minor_exponent(currency)
    return Decimal(amount).scaleb(-exp).quantize(Decimal(1).scaleb(-exp))


def format_money(amount: int, currency: str, locale: str = DEFAULT_LOCALE) -> str:
    """Human text for ``amount`` minor units of ``currency`` in ``locale``, e.g. ``$45.00``.

    This is the one function that turns money into text for people (screens, receipts).
    """
    return str(format_currency(to_major(amount, currency), currency.upper(), locale=locale))


_PLAIN_DECIMAL = re.compile(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+")


def parse_major(text: str, currency: str) -> int:
    """Minor units from an amount typed in major units (``"45"``, ``"45.5"``, ``"45.50"``).

    Plain decimal money only: digits with an optional decimal point and at most the
    currency's minor digits. A leading currency symbol, spaces and thousands commas are
    tolerated; a sign, an exponent (``1e3``), ``inf`` / ``nan`` or ``_`` are not.

    Raises:
        InvalidAmount: empty, negative, not plain decimal money, or more decimals than the
            currency has.
    """
    cleaned = text.strip().replace(",", "").lstrip("$€£¥").strip()
    if not cleaned:
        raise InvalidAmount("Enter an amount")
    if cleaned.startswith("-"):
        raise InvalidAmount(f"{text!r} is negative: an amount is 0 or more")
    # Decimal() alone would also take "1e3" (1000), "+5", "1_000", "Infinity" and "NaN".
    if not _PLAIN_DECIMAL.fullmatch(cleaned):
        raise InvalidAmount(f"{text!r} is not an amount: type digits with an optional "
                            "decimal point, e.g. 100.00")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise InvalidAmount(f"{text!r} is not an amount") from None
    scaled = value.scaleb(minor_exponent(currency))
    if scaled != scaled.to_integral_value():
        raise InvalidAmount(f"{text!r} has more decimals than {currency.upper()} allows")
    return int(scaled)
