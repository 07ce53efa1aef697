from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pos_app.domain.cash import InsufficientTender, change_due, denominations_for, quick_tenders
from pos_app.domain.clock import FixedClock


def test_change_due_is_tendered_less_total() -> None:
    assert change_due(total=9000, tendered=10000) == 1000


def test_exact_cash_gives_no_change() -> None:
    assert change_due(total=9000, tendered=9000) == 0


def test_tender_below_total_is_refused() -> None:
    with pytest.raises(InsufficientTender):
        change_due(total=9000, tendered=8999)


def test_negative_amounts_are_refused() -> None:
    with pytest.raises(ValueError):
        change_due(total=-1, tendered=0)


def test_change_is_handed_back_in_the_fewest_notes_and_coins() -> None:
    assert denominations_for(1000 + 500 + 25 + 10 + 1) == [
        (1000, 1), (500, 1), (25, 1), (10, 1), (1, 1)]
    assert denominations_for(4000) == [(2000, 2)]
    assert denominations_for(0) == []


def test_quick_tenders_offer_exact_cash_and_the_next_round_notes() -> None:
    assert quick_tenders(4500) == [4500, 5000, 6000, 10000]
    assert quick_tenders(9000) == [9000, 10000]
    assert quick_tenders(0) == []


def test_a_fixed_clock_only_moves_when_told() -> None:
    clock = FixedClock(datetime(2026, 1, 25, 15, 0, tzinfo=UTC))
    clock.advance(timedelta(hours=4))
    assert clock.now() == datetime(2026, 1, 25, 19, 0, tzinfo=UTC)


def test_a_fixed_clock_refuses_naive_times() -> None:
    with pytest.raises(ValueError):
        FixedClock(datetime(2026, 1, 25, 15, 0))


def test_a_count_by_denomination_adds_up_in_minor_units() -> None:
    from pos_app.domain.cash import count_total, denominations_of

    assert denominations_of("usd")[0] == 10000 and denominations_of("EUR")[-1] == 1
    assert count_total({2000: 3, 500: 1, 25: 4, 1: 0}) == 6600
    assert count_total({}) == 0
    with pytest.raises(ValueError):
        count_total({100: -1})
    with pytest.raises(KeyError):
        denominations_of("XXX")
