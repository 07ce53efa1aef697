from __future__ import annotations

import pytest

from pos_app.domain.inventory import (
    Channel,
    StockLevel,
    Thresholds,
    available,
    public_available,
    sellable,
    stock_level,
)


def test_available_is_capacity_less_sold_and_held() -> None:
    assert available(capacity=35, sold=20, held=5) == 10


def test_available_never_goes_negative_after_a_capacity_cut() -> None:
    assert available(capacity=10, sold=8, held=4) == 0


def test_online_channel_only_sees_the_public_limit() -> None:
    # 800 seats, 750 public: the door may sell the hidden 50.
    assert public_available(capacity=800, public_limit=750, sold=740, held=0) == 10
    assert available(capacity=800, sold=740, held=0) == 60


def test_public_limit_above_capacity_is_capped_by_capacity() -> None:
    assert public_available(capacity=100, public_limit=150, sold=90, held=5) == 5


def test_without_a_public_limit_online_sees_everything() -> None:
    assert public_available(capacity=100, public_limit=None, sold=10, held=0) == 90


def test_each_channel_sells_against_its_own_number() -> None:
    assert sellable(Channel.BOX_OFFICE, 800, 750, 750, 0) == 50
    assert sellable(Channel.ONLINE, 800, 750, 750, 0) == 0


@pytest.mark.parametrize(("remaining", "level"), [
    (0, StockLevel.SOLD_OUT), (1, StockLevel.CRITICAL), (5, StockLevel.CRITICAL),
    (6, StockLevel.LOW), (25, StockLevel.LOW), (26, StockLevel.IN_STOCK),
])
def test_stock_level_follows_the_thresholds(remaining: int, level: StockLevel) -> None:
    assert stock_level(remaining, Thresholds(low=25, critical=5)) is level


def test_thresholds_must_be_ordered() -> None:
    with pytest.raises(ValueError):
        Thresholds(low=3, critical=5)
