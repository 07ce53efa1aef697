"""Cash-up: how much cash a shift's drawer should hold, and how far the count is off.

All amounts are integer minor units of the shift's currency.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DrawerTotals", "expected_cash", "variance"]


@dataclass(frozen=True, slots=True)
class DrawerTotals:
    """Cash that went into or out of one drawer during a shift (all >= 0, minor units).

    Attributes:
        opening_float: cash in the drawer when the shift opened.
        cash_sales: cash taken for sales (totals, not the tendered notes: change went back).
        cash_refunds: cash paid back for refunds.
        pay_ins: cash added (e.g. more change from the safe).
        pay_outs: cash paid out (e.g. a delivery paid from the drawer).
        drops: cash moved from the drawer to the safe.
    """

    opening_float: int
    cash_sales: int = 0
    cash_refunds: int = 0
    pay_ins: int = 0
    pay_outs: int = 0
    drops: int = 0


def expected_cash(totals: DrawerTotals) -> int:
    """Cash the drawer should hold: float + cash sales - cash refunds + pay-ins - pay-outs -
    drops (``shared/API.md``, Shifts). May be negative when more was paid out than came in.

    >>> expected_cash(DrawerTotals(opening_float=20000, cash_sales=5000, drops=10000))
    15000
    """
    return (totals.opening_float + totals.cash_sales - totals.cash_refunds + totals.pay_ins
            - totals.pay_outs - totals.drops)


def variance(counted: int, expected: int) -> int:
    """``counted - expected``: positive when the drawer holds more than it should (over),
    negative when cash is missing (short).

    Raises:
        ValueError: a negative ``counted`` (a drawer cannot hold less than nothing).
    """
    if counted < 0:
        raise ValueError("counted cash cannot be negative")
    return counted - expected
