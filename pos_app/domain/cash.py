"""Cash tender: change due, quick-cash suggestions and the notes to hand back.

All amounts are integer minor units of one currency.
"""

from __future__ import annotations

__all__ = [
    "DENOMINATIONS",
    "USD_DENOMINATIONS",
    "InsufficientTender",
    "change_due",
    "count_total",
    "denominations_for",
    "denominations_of",
    "quick_tenders",
]

# US notes and coins in cents, largest first (Federal Reserve / US Mint circulating set).
USD_DENOMINATIONS: tuple[int, ...] = (10000, 5000, 2000, 1000, 500, 100, 25, 10, 5, 1)

DENOMINATIONS: dict[str, tuple[int, ...]] = {
    "USD": USD_DENOMINATIONS,
    # Euro notes (ECB; the 500 is no longer issued) and the eight euro coins, in cents.
    "EUR": (20000, 10000, 5000, 2000, 1000, 500, 200, 100, 50, 20, 10, 5, 2, 1),
    # Bank of England notes and the Royal Mint's circulating coins, in pence.
    "GBP": (5000, 2000, 1000, 500, 200, 100, 50, 20, 10, 5, 2, 1),
    # Bank of Canada notes and circulating coins (no cent since 2013), in cents.
    "CAD": (10000, 5000, 2000, 1000, 500, 200, 100, 25, 10, 5),
}
"""Notes and coins a cashier counts, per ISO 4217 currency, largest first (minor units)."""


def denominations_of(currency: str) -> tuple[int, ...]:
    """The notes and coins of ``currency`` (ISO 4217 code, any case), largest first.

    Raises:
        KeyError: a currency whose cash is not listed in :data:`DENOMINATIONS`.
    """
    return DENOMINATIONS[currency.upper()]


def count_total(counts: dict[int, int]) -> int:
    """Total in minor units of a cash count ``{denomination: how many}``.

    Raises:
        ValueError: a negative count or a denomination that is not positive.
    """
    total = 0
    for value, count in counts.items():
        if value <= 0 or count < 0:
            raise ValueError(f"cannot count {count} of {value}")
        total += value * count
    return total


class InsufficientTender(ValueError):
    """Cash tendered is less than the total due."""

    def __init__(self, total: int, tendered: int) -> None:
        super().__init__(f"tendered {tendered} is less than the total {total}")
        self.total = total
        self.tendered = tendered


def change_due(total: int, tendered: int) -> int:
    """Change to hand back, ``tendered - total``.

    Raises:
        ValueError: a negative total or tender.
        InsufficientTender: ``tendered < total``.
    """
    if total < 0 or tendered < 0:
        raise ValueError("amounts cannot be negative")
    if tendered < total:
        raise InsufficientTender(total, tendered)
    return tendered - total


def denominations_for(amount: int, denominations: tuple[int, ...] = USD_DENOMINATIONS) -> list[
    tuple[int, int]
]:
    """Greedy breakdown of ``amount`` into ``[(denomination, count), ...]``, largest first.

    Greedy is optimal for canonical coin systems such as USD and EUR.
    """
    if amount < 0:
        raise ValueError("amount cannot be negative")
    result: list[tuple[int, int]] = []
    for value in denominations:
        count, amount = divmod(amount, value)
        if count:
            result.append((value, count))
    return result


def quick_tenders(total: int, notes: tuple[int, ...] = (500, 1000, 2000, 5000, 10000), *,
                  most: int = 4) -> list[int]:
    """Likely cash amounts a customer hands over for ``total``: the exact amount, then the
    next multiples of common notes above it (e.g. 4500 -> [4500, 5000, 6000, 10000]).
    """
    if total <= 0:
        return []
    suggestions = [total]
    for note in notes:
        rounded = -(-total // note) * note
        if rounded not in suggestions:
            suggestions.append(rounded)
    return sorted(suggestions)[:most]
