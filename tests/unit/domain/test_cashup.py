"""Cash-up arithmetic (pos_app.domain.cashup)."""

from __future__ import annotations

import pytest

from pos_app.domain.cashup import DrawerTotals, expected_cash, variance


def test_expected_cash_adds_float_sales_and_pay_ins_and_takes_off_refunds_pay_outs_drops(
) -> None:
    totals = DrawerTotals(opening_float=20_000, cash_sales=12_500, cash_refunds=2_500,
                          pay_ins=5_000, pay_outs=1_200, drops=10_000)
    assert expected_cash(totals) == 20_000 + 12_500 - 2_500 + 5_000 - 1_200 - 10_000 == 23_800


def test_a_shift_with_no_activity_expects_its_float() -> None:
    assert expected_cash(DrawerTotals(opening_float=15_000)) == 15_000


def test_variance_is_counted_minus_expected_short_is_negative() -> None:
    assert variance(23_500, 23_800) == -300
    assert variance(24_000, 23_800) == 200
    assert variance(23_800, 23_800) == 0


def test_a_negative_count_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        variance(-1, 0)
